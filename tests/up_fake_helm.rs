//! `obsctl up` end to end with the fake Helm (records argv and times, plays failures) and the fake
//! Kubernetes API: order, Loki ‖ Tempo, private values, unchanged detection, failure policy,
//! resume, destructive-change refusal, the context guard and exit codes.

mod common;
mod up_support;

use serde_json::Value;
use up_support::fake_kube::FakeKube;
use up_support::{profile, text, FakeHelm};

const ORDER: [&str; 4] = ["kube-prometheus-stack", "loki", "tempo", "otel-collector"];

fn span(call: &Value) -> (f64, f64) {
    (
        call["start"].as_f64().unwrap(),
        call["end"].as_f64().unwrap(),
    )
}

#[tokio::test]
async fn up_installs_in_order_with_loki_and_tempo_together_and_private_values() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes"])
        // Loki and Tempo each wait until the other has started: the run only succeeds if
        // they overlap.
        .env("FAKE_HELM_BARRIER", "loki,tempo")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");

    // The target is printed before anything else.
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with("target: context `fake` (http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(first.ends_with("namespace `monitoring`"), "{first}");

    // kube-prometheus-stack first, the collector after Loki and Tempo, which overlap.
    let mut upgraded = helm.upgraded();
    assert_eq!(upgraded.len(), 4, "{upgraded:?}");
    upgraded[1..3].sort();
    assert_eq!(
        upgraded,
        ["kube-prometheus-stack", "loki", "tempo", "otel-collector"]
    );
    let (kps, loki, tempo, collector) = (
        span(&helm.call("upgrade", "kube-prometheus-stack")),
        span(&helm.call("upgrade", "loki")),
        span(&helm.call("upgrade", "tempo")),
        span(&helm.call("upgrade", "otel-collector")),
    );
    assert!(
        kps.1 <= loki.0 && kps.1 <= tempo.0,
        "{kps:?} {loki:?} {tempo:?}"
    );
    assert!(
        loki.0 < tempo.1 && tempo.0 < loki.1,
        "Loki and Tempo did not overlap: {loki:?} {tempo:?}"
    );
    assert!(loki.1 <= collector.0 && tempo.1 <= collector.0);

    // Every upgrade is `upgrade --install` with the chart's repo, Helm 4 flags, the kube
    // context obsctl resolved, and values from a private directory that is gone afterwards.
    for name in ORDER {
        let call = helm.call("upgrade", name);
        let argv: Vec<&str> = call["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(&argv[1..4], ["upgrade", "--install", name]);
        for flag in [
            "--repo",
            "--version",
            "--timeout",
            "--rollback-on-failure",
            "--wait=watcher",
        ] {
            assert!(argv.contains(&flag), "{name}: {argv:?}");
        }
        let ctx = argv.iter().position(|a| *a == "--kube-context").unwrap();
        assert_eq!(argv[ctx + 1], "fake");
        assert_eq!(call["values_dir_mode"], "0o700", "{name}");
        let values = argv[argv.iter().position(|a| *a == "-f").unwrap() + 1];
        assert!(
            values.ends_with(&format!("releases/{name}.values.yaml")),
            "{values}"
        );
        assert!(
            !std::path::Path::new(values).exists(),
            "{values} was left behind"
        );
    }
    // Helm received exactly the rendered values.
    let loki_values = &helm.values("loki");
    assert_eq!(loki_values["deploymentMode"], "Monolithic");
    assert_eq!(
        loki_values["loki"]["schemaConfig"]["configs"][0]["from"],
        "2024-04-01"
    );

    // Namespace, then the Secret, then CRDs, all before the first release; manifests last.
    let calls = kube.calls().await;
    let pos = |needle: &str| {
        calls
            .iter()
            .position(|c| c.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in {calls:#?}"))
    };
    assert!(
        pos("PATCH /api/v1/namespaces/monitoring")
            < pos("POST /api/v1/namespaces/monitoring/secrets")
    );
    assert!(pos("secrets") < pos("customresourcedefinitions/prometheusrules"));

    // The Grafana admin Secret was created with both keys; the password is never printed.
    let requests = kube.requests().await;
    let post = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    let secret: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(secret["metadata"]["name"], "grafana-admin");
    assert_eq!(secret["data"]["admin-user"], "YWRtaW4="); // "admin"
    let password = secret["data"]["admin-password"].as_str().unwrap();
    assert!(password.len() >= 40, "{password}");
    assert!(!stdout.contains(password) && !stderr.contains(password));
    assert!(stdout.contains("kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d"), "{stdout}");

    // Per-step lines and the summary.
    for name in ORDER {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(name) && l.contains("done (installed)")),
            "{name}: {stdout}"
        );
    }
    assert!(
        stdout.contains("7 done, 0 failed, 0 not started"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_second_up_changes_nothing_and_force_upgrades_anyway() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    helm.obsctl(&kube, &["up", "--yes"]).assert().success();
    helm.clear_log();

    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(helm.upgraded().is_empty(), "{:?}", helm.upgraded());
    for name in ORDER {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(name) && l.ends_with("unchanged")),
            "plan of {name}: {stdout}"
        );
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(name) && l.contains("done (unchanged)")),
            "step of {name}: {stdout}"
        );
    }

    let output = helm
        .obsctl(&kube, &["up", "--yes", "--force"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(helm.upgraded().len(), 4);
    assert!(text(&output).0.contains("done (upgraded)"));
}

#[tokio::test]
async fn a_failed_release_stops_what_needs_it_and_a_second_run_resumes() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes"])
        .env("FAKE_HELM_FAIL", "loki")
        // Tempo is still running when Loki fails: it is left to finish.
        .env("FAKE_HELM_SLEEP", "tempo=1")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(helm.upgraded(), ["kube-prometheus-stack", "loki", "tempo"]);
    let summary: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("STEP"))
        .collect();
    let row = |id: &str| {
        *summary
            .iter()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or(&"")
    };
    assert!(row("kube-prometheus-stack").contains("done"), "{stdout}");
    assert!(row("tempo").contains("done"), "{stdout}");
    assert!(
        row("loki").contains("FAILED")
            && row("loki").contains("resource StatefulSet/monitoring/loki not ready")
            && row("loki").contains("(Helm uninstalled the failed first install)"),
        "{stdout}"
    );
    assert!(
        row("otel-collector").contains("not started")
            && row("otel-collector").contains("needs `loki`, which failed"),
        "{stdout}"
    );
    assert!(row("manifests").contains("not started"), "{stdout}");
    assert!(
        stdout.contains("4 done, 1 failed, 2 not started"),
        "{stdout}"
    );
    // Helm's noise is not part of the reason.
    assert!(!stdout.contains("coalesce.go"), "{stdout}");

    // Resume: what succeeded is unchanged, the rest is installed.
    helm.clear_log();
    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(helm.upgraded(), ["loki", "otel-collector"]);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("tempo") && l.ends_with("unchanged")),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_failed_crd_step_installs_no_release() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("crds.yaml");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let output = helm
        .obsctl(&kube, &["up", "--yes"])
        .env("FAKE_HELM_CRDS", &empty)
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(helm.upgraded().is_empty());
    assert!(
        stdout.contains("printed no CustomResourceDefinition"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 done, 1 failed, 5 not started"),
        "{stdout}"
    );
}

#[tokio::test]
async fn data_losing_changes_are_refused_without_allow_destructive() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let dir = tempfile::tempdir().unwrap();
    let big = profile(
        dir.path(),
        "big",
        "logs:\n  storage: 50Gi\n  retention: 30d\n",
    );
    helm.obsctl(&kube, &["up", "--yes", "--profile", big.to_str().unwrap()])
        .assert()
        .success();
    helm.clear_log();

    // Another profile for the same namespace and releases, with less storage and retention.
    let small = profile(
        dir.path(),
        "small",
        "logs:\n  storage: 5Gi\n  retention: 7d\n",
    );
    let output = helm
        .obsctl(
            &kube,
            &["up", "--yes", "--profile", small.to_str().unwrap()],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("refusing changes that lose data"),
        "{stderr}"
    );
    assert!(
        stderr.contains("volume shrink") && stderr.contains("50Gi → 5Gi"),
        "{stderr}"
    );
    assert!(
        stderr.contains("retention cut") && stderr.contains("720h → 168h"),
        "{stderr}"
    );
    assert!(helm.upgraded().is_empty());
    // The plan shows the changed paths.
    assert!(
        stdout.contains("singleBinary.persistence.size: \"50Gi\" → \"5Gi\""),
        "{stdout}"
    );

    let output = helm
        .obsctl(
            &kube,
            &[
                "up",
                "--yes",
                "--allow-destructive",
                "--profile",
                small.to_str().unwrap(),
            ],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert_eq!(helm.upgraded(), ["loki"]);
}

#[tokio::test]
async fn another_context_than_the_profiles_is_refused_before_anything_changes() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let dir = tempfile::tempdir().unwrap();
    let pinned = profile(dir.path(), "pinned", "cluster:\n  context: prod-eu\n");
    let output = helm
        .obsctl(
            &kube,
            &["up", "--yes", "--profile", pinned.to_str().unwrap()],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("`prod-eu`") && stderr.contains("current context is `fake`"),
        "{stderr}"
    );
    assert!(kube.requests().await.is_empty());
    assert!(helm.calls_of("upgrade").is_empty() && helm.calls_of("list").is_empty());

    // Choosing a context explicitly is honoured.
    let output = helm
        .obsctl(
            &kube,
            &[
                "up",
                "--yes",
                "--context",
                "other",
                "--profile",
                pinned.to_str().unwrap(),
            ],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert!(text(&output).0.starts_with("target: context `other`"));
    let argv = helm.call("upgrade", "loki")["argv"].to_string();
    assert!(argv.contains("\"--kube-context\",\"other\""), "{argv}");
}

#[tokio::test]
async fn json_output_is_one_event_per_line() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let events: Vec<Value> = text(&output)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events[0]["event"], "target");
    assert_eq!(events[1]["event"], "plan");
    assert_eq!(events[1]["releases"][1]["release"], "loki");
    assert_eq!(events[1]["releases"][1]["action"], "install");
    let started = events
        .iter()
        .filter(|e| e["event"] == "step-started")
        .count();
    let finished: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "step-finished")
        .collect();
    assert_eq!((started, finished.len()), (7, 7));
    assert!(finished
        .iter()
        .all(|e| e["state"] == "done" && e["elapsed"].is_number()));
    let summary = events.iter().find(|e| e["event"] == "summary").unwrap();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["steps"].as_array().unwrap().len(), 7);
    assert!(events
        .iter()
        .all(|e| e["ts"].as_str().is_some_and(|t| t.ends_with('Z'))));
}

#[tokio::test]
async fn helm_3_gets_atomic_and_a_plain_wait() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes"])
        .env("FAKE_HELM_VERSION", "v3.17.3+gfake")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let argv = helm.call("upgrade", "tempo")["argv"].to_string();
    assert!(argv.contains("\"--atomic\",\"--wait\""), "{argv}");
    assert!(
        !argv.contains("watcher") && !argv.contains("rollback-on-failure"),
        "{argv}"
    );
}
