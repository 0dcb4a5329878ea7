//! `obsctl up --dry-run` needs no cluster and prints the steps with their full Helm argv; Helm is
//! found and checked first; `up` never changes anything without confirmation.

mod common;
mod up_support;

use common::{obsctl, tool};
use serde_json::Value;
use up_support::{text, FakeHelm};

fn dry_run_json(helm: &std::path::Path) -> Value {
    let out = obsctl()
        .args(["up", "--dry-run", "--output", "json", "--helm"])
        .arg(helm)
        // No cluster anywhere.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn dry_run_json_lists_every_step_with_its_needs_and_argv() {
    let helm = tool("helm");
    let plan = dry_run_json(&helm);
    let steps = plan["steps"].as_array().unwrap();
    let ids: Vec<&str> = steps.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "namespace",
            "crds",
            "kube-prometheus-stack",
            "loki",
            "tempo",
            "otel-collector",
            "manifests"
        ]
    );
    let actions: Vec<&str> = steps
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "namespace",
            "crds",
            "helm",
            "helm",
            "helm",
            "helm",
            "manifests"
        ]
    );
    for step in steps {
        let mut keys: Vec<&str> = step
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["action", "argv", "id", "needs"]);
    }
    assert_eq!(
        steps[3]["needs"],
        serde_json::json!(["kube-prometheus-stack"])
    );
    assert_eq!(
        steps[4]["needs"],
        serde_json::json!(["kube-prometheus-stack"])
    );
    assert_eq!(steps[5]["needs"], serde_json::json!(["loki", "tempo"]));
    let loki: Vec<&str> = steps[3]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(loki[0], helm.to_str().unwrap());
    assert_eq!(
        &loki[1..],
        [
            "upgrade",
            "--install",
            "loki",
            "loki",
            "--version",
            "18.11.0",
            "--repo",
            "https://grafana-community.github.io/helm-charts",
            "-n",
            "monitoring",
            "-f",
            "releases/loki.values.yaml",
            "--timeout",
            "600s",
            "--rollback-on-failure",
            "--wait=watcher",
        ]
    );
}

#[test]
fn dry_run_with_helm_3_uses_atomic_and_honours_timeout_and_context() {
    let out = obsctl()
        .args([
            "up",
            "--dry-run",
            "--output",
            "json",
            "--timeout",
            "90s",
            "--context",
            "kind-x",
            "--helm",
        ])
        .arg(tool("helm3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let argv = plan["steps"][2]["argv"].to_string();
    assert!(
        argv.ends_with(
            "\"--timeout\",\"90s\",\"--atomic\",\"--wait\",\"--kube-context\",\"kind-x\"]"
        ),
        "{argv}"
    );
}

#[test]
fn plain_dry_run_prints_the_same_steps_for_people() {
    let json = dry_run_json(&tool("helm"));
    let out = obsctl()
        .args(["up", "--dry-run", "--helm"])
        .arg(tool("helm"))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    for (i, step) in json["steps"].as_array().unwrap().iter().enumerate() {
        let id = step["id"].as_str().unwrap();
        assert!(
            stdout.contains(&format!("{:>2}. {id}: ", i + 1)),
            "{id}: {stdout}"
        );
        let argv: Vec<&str> = step["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        if !argv.is_empty() {
            assert!(
                stdout.contains(&format!("$ {}", argv.join(" "))),
                "{id}: {stdout}"
            );
        }
    }
    assert!(stdout.contains("(after loki, tempo)"), "{stdout}");
}

#[test]
fn an_old_helm_is_refused_with_a_clear_error() {
    let state = tempfile::tempdir().unwrap();
    let out = obsctl()
        .args(["up", "--dry-run", "--helm"])
        .arg(FakeHelm::path())
        .env("FAKE_HELM_STATE", state.path())
        .env("FAKE_HELM_VERSION", "v3.12.3+g3a31588")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is Helm v3.12.3: obsctl needs Helm ≥ 3.14 or 4.x"),
        "{stderr}"
    );
}

#[test]
fn a_missing_helm_is_named_with_the_flag() {
    let out = obsctl()
        .args(["up", "--dry-run", "--helm", "/nonexistent/helm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out)
        .1
        .contains("/nonexistent/helm (from --helm or $OBSCTL_HELM) is not a file"));
    // OBSCTL_HELM is the same setting.
    let out = obsctl()
        .args(["up", "--dry-run", "--output", "json"])
        .env("OBSCTL_HELM", tool("helm3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan["steps"][2]["argv"][0]
        .as_str()
        .unwrap()
        .ends_with("helm3"));
}

#[test]
fn up_without_a_terminal_and_without_yes_refuses_before_touching_anything() {
    let state = tempfile::tempdir().unwrap();
    let out = obsctl()
        .args(["up", "--helm"])
        .arg(FakeHelm::path())
        .env("FAKE_HELM_STATE", state.path())
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not an interactive terminal; pass --yes"),
        "{stderr}"
    );
    // Only `helm version` ran.
    let calls = std::fs::read_to_string(state.path().join("calls.jsonl")).unwrap();
    assert_eq!(calls.lines().count(), 1);
    assert!(calls.contains("\"words\": [\"version\"]"), "{calls}");
}

#[test]
fn dry_run_without_any_helm_assumes_helm_4_or_the_version_given() {
    let empty = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = obsctl()
            .args(["up", "--dry-run", "--output", "json"])
            .args(extra)
            .env("PATH", empty.path())
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        let loki = plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "loki")
            .unwrap()["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        (loki, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (argv, stderr) = run(&[]);
    assert!(
        argv.iter().any(|a| a == "--rollback-on-failure"),
        "{argv:?}"
    );
    assert!(stderr.contains("Helm 4"), "{stderr}");
    let (argv, stderr) = run(&["--helm-version", "3"]);
    assert!(argv.iter().any(|a| a == "--atomic"), "{argv:?}");
    assert!(stderr.contains("Helm 3"), "{stderr}");
}
