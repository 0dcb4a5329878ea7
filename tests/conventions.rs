//! What a newcomer expects from a kubectl/Helm-style tool: flag spellings, exit codes for bad
//! input, quiet closed pipes, output folders left as they were given.

mod common;

use std::fs;
use std::process::Stdio;

use common::{fixture, obsctl};
use predicates::prelude::*;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: kind
  cluster: {server: 'https://127.0.0.1:1'}
contexts:
- name: kind-dev
  context: {cluster: kind, user: me}
current-context: kind-dev
users:
- name: me
  user: {token: not-a-secret}
";

#[test]
fn an_empty_obsctl_profile_means_the_default() {
    let out = obsctl()
        .args(["plan", "-o", "json"])
        .env("OBSCTL_PROFILE", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["profile"], "dev");
}

#[test]
fn namespace_flag_overrides_the_profile() {
    let out = obsctl()
        .args(["plan", "-n", "observability", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["namespace"], "observability");
    obsctl()
        .args(["plan", "--namespace", "Not_A_Label"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--namespace Not_A_Label"));
}

#[test]
fn kube_context_is_accepted_as_helm_spells_it() {
    let state = tempfile::tempdir().unwrap();
    let out = obsctl()
        .args([
            "up",
            "--dry-run",
            "-o",
            "json",
            "--kube-context",
            "kind-dev",
        ])
        .env("OBSCTL_HELM", fixture("fake-helm/helm"))
        .env("FAKE_HELM_STATE", state.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"--kube-context\",\n") || text.contains("\"--kube-context\""));
    assert!(text.contains("\"kind-dev\""), "{text}");
}

#[test]
fn profile_validate_takes_built_in_names() {
    obsctl()
        .args(["profile", "validate", "production", "dev"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("production: ok").and(predicate::str::contains("dev: ok")),
        );
    obsctl()
        .args(["profile", "validate", "prodution"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown profile `prodution`; did you mean `production`? Built-in profiles:",
        ));
    obsctl()
        .args(["plan", "--profile", "zzz"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown profile `zzz`. Built-in profiles:",
        ));
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    for args in [
        &["plan"][..],
        &["schema"],
        &["slo", "rules", "--profile", "production"],
        &["completions", "bash"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_obsctl"))
            .args(args)
            .env_remove("OBSCTL_PROFILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before obsctl writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        // Quietly: the profile's warnings may be there, but no error about the pipe.
        let text = stderr(&out);
        assert!(
            text.lines().all(|l| l.starts_with("warning: ")),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn render_out_naming_a_file_or_a_foreign_folder_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "mine").unwrap();
    obsctl()
        .args(["render", "--out"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(file.display().to_string())
                .and(predicate::str::contains("not a directory")),
        );
    assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    obsctl()
        .args(["render", "--out"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no previous render"));
}

#[cfg(unix)]
#[test]
fn render_out_writes_into_the_folder_keeping_symlink_and_mode() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o750)).unwrap();
    let link = dir.path().join("link");
    symlink(&real, &link).unwrap();
    for _ in 0..2 {
        obsctl()
            .args(["render", "--out"])
            .arg(&link)
            .assert()
            .success();
    }
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(real.join("plan.json").is_file());
    assert!(real.join("releases/loki.values.yaml").is_file());
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o750
    );
    // Nothing staged is left behind.
    let names: Vec<String> = fs::read_dir(&real)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert!(
        fs::read_dir(dir.path()).unwrap().count() == 2,
        "no sibling staging folder"
    );
}

#[test]
fn kubeconfig_problems_exit_2_with_the_path_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    fs::write(&broken, "clusters: [unclosed\n").unwrap();
    let no_context = dir.path().join("no-context");
    fs::write(
        &no_context,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .unwrap();
    let missing = dir.path().join("missing");
    for (path, expected) in [
        (&missing, "No such file or directory"),
        (&broken, "broken"),
        (&no_context, "no current context"),
    ] {
        let out = obsctl()
            .args(["plan", "--diff", "--kubeconfig"])
            .arg(path)
            .env("OBSCTL_HELM", fixture("fake-helm/helm"))
            .env("FAKE_HELM_STATE", state.path())
            .output()
            .unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains(expected), "{text}");
        assert!(!text.contains("'\""), "no double quoting: {text}");
        assert_eq!(
            text.matches("No such file or directory").count(),
            usize::from(path == &missing),
            "{text}"
        );
    }
}

#[test]
fn verify_without_a_cluster_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = obsctl()
        .args(["verify", "--kubeconfig"])
        .arg(dir.path().join("none"))
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("--kubeconfig") && text.contains("--prometheus-url"),
        "{text}"
    );
}

#[test]
fn verify_honours_the_profiles_context_guard() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    fs::write(&kubeconfig, KUBECONFIG).unwrap();
    let profile = dir.path().join("guarded.yaml");
    fs::write(&profile, "name: guarded\ncluster: {context: prod-eu}\n").unwrap();
    obsctl()
        .args(["verify", "--profile"])
        .arg(&profile)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is for kube context `prod-eu`"));
}

#[test]
fn cost_catalog_prints_a_file_pricing_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = obsctl().args(["cost", "--catalog"]).output().unwrap();
    assert_eq!(catalog.status.code(), Some(0));
    let text = String::from_utf8(catalog.stdout).unwrap();
    assert!(
        text.contains("vendors:") && text.contains("source:"),
        "{text}"
    );
    let path = dir.path().join("prices.yaml");
    fs::write(&path, &text).unwrap();
    let with_file = obsctl()
        .args(["cost", "--profile", "production", "-o", "json", "--pricing"])
        .arg(&path)
        .output()
        .unwrap();
    let builtin = obsctl()
        .args(["cost", "--profile", "production", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(with_file.status.code(), Some(0), "{}", stderr(&with_file));
    // The same figures; only the named catalog differs.
    let mut from_file: serde_json::Value = serde_json::from_slice(&with_file.stdout).unwrap();
    let mut embedded: serde_json::Value = serde_json::from_slice(&builtin.stdout).unwrap();
    assert_eq!(
        from_file["prices"]["catalog"],
        path.display().to_string(),
        "the file is named as the catalog"
    );
    from_file["prices"]["catalog"] = serde_json::Value::Null;
    embedded["prices"]["catalog"] = serde_json::Value::Null;
    assert_eq!(from_file, embedded);
}

#[test]
fn the_default_profile_has_slos_of_the_stack_itself() {
    let out = obsctl()
        .args(["slo", "rules", "--format", "prometheus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rules = String::from_utf8_lossy(&out.stdout);
    assert!(rules.contains("loki-push-availability"), "{rules}");
    assert!(rules.contains("grafana-api-availability"), "{rules}");
    obsctl().args(["slo", "explain"]).assert().success();
}

#[test]
fn every_json_output_has_a_yaml_twin_and_a_short_flag() {
    for args in [
        &["plan"][..],
        &["profile", "list"],
        &["slo", "explain"],
        &["cost", "--profile", "production"],
    ] {
        let json = obsctl().args(args).args(["-o", "json"]).output().unwrap();
        let yaml = obsctl()
            .args(args)
            .args(["--output", "yaml"])
            .output()
            .unwrap();
        assert_eq!(yaml.status.code(), Some(0), "{args:?}: {}", stderr(&yaml));
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let yaml: serde_json::Value = yaml_serde::from_slice(&yaml.stdout).unwrap();
        assert_eq!(json, yaml, "{args:?}");
    }
    // Documents of their own: the same fields in YAML.
    for args in [
        &["profile", "show", "production"][..],
        &[
            "runbook",
            "--profile",
            "production",
            "--slo",
            "checkout-latency",
        ],
        &["up", "--dry-run", "--profile", "production"],
    ] {
        let json = obsctl().args(args).args(["-o", "json"]).output().unwrap();
        let yaml = obsctl().args(args).args(["-o", "yaml"]).output().unwrap();
        assert_eq!(yaml.status.code(), Some(0), "{args:?}: {}", stderr(&yaml));
        let json: serde_json::Value = serde_json::from_slice(&json.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stderr(&json)));
        let yaml: serde_json::Value = yaml_serde::from_slice(&yaml.stdout).unwrap();
        assert_eq!(json, yaml, "{args:?}");
    }
    // The event stream of `up -o yaml`: one YAML document per event, the last the error.
    let out = obsctl()
        .args([
            "up",
            "--yes",
            "-o",
            "yaml",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.rsplit("---\n").next().unwrap();
    let event: serde_json::Value =
        yaml_serde::from_str(last).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(event["event"], "error", "{text}");
    // `render` keeps `--out` for its folder: no `-o` there to confuse with `--output`.
    obsctl().args(["render", "-o", "x"]).assert().code(2);
}

#[test]
fn up_json_ends_with_an_event_on_failure_too() {
    let state = tempfile::tempdir().unwrap();
    let out = obsctl()
        .args([
            "up",
            "--yes",
            "-o",
            "json",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ])
        .env("OBSCTL_HELM", fixture("fake-helm/helm"))
        .env("FAKE_HELM_STATE", state.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "error", "{stdout}");
    assert_eq!(last["exit_code"], 2);
    assert!(last["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/kubeconfig"));
}

#[test]
fn up_and_down_json_end_with_an_event_whatever_fails() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let cases: [&[&str]; 4] = [
        &["up", "--yes", "-o", "json", "--profile"],
        &["up", "--dry-run", "-o", "json", "--profile"],
        &["down", "--yes", "-o", "json", "--profile"],
        &[
            "down",
            "--yes",
            "-o",
            "json",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
            "--profile",
        ],
    ];
    for (i, args) in cases.iter().enumerate() {
        // The last case has a good profile and no cluster; the others a missing profile.
        let profile = if i == 3 {
            "dev".into()
        } else {
            missing.display().to_string()
        };
        let out = obsctl()
            .args(*args)
            .arg(&profile)
            .env("OBSCTL_HELM", fixture("fake-helm/helm"))
            .env("FAKE_HELM_STATE", dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"));
        assert_eq!(last["event"], "error", "{args:?}: {stdout}");
        assert_eq!(last["exit_code"], 2, "{args:?}");
    }
}

#[test]
fn output_paths_that_cannot_be_written_are_bad_input_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "x").unwrap();
    // A path under a file: no such folder can exist (whoever runs the test, root included).
    let under = |name: &str| file.join(name).display().to_string();
    let cases: Vec<Vec<String>> = vec![
        vec!["render".into(), "--out".into(), under("out")],
        vec![
            "slo".into(),
            "rules".into(),
            "--profile".into(),
            "production".into(),
            "--out".into(),
            under("r.yaml"),
        ],
        vec![
            "runbook".into(),
            "--profile".into(),
            "production".into(),
            "--out".into(),
            under("rb"),
        ],
        vec![
            "cost".into(),
            "--profile".into(),
            "production".into(),
            "--chart".into(),
            under("c.svg"),
        ],
        vec![
            "cost".into(),
            "--profile".into(),
            "production".into(),
            "--chart".into(),
            under("c.png"),
        ],
    ];
    for args in &cases {
        let out = obsctl().args(args).output().unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{args:?}: {text}");
        assert!(
            errors[0].contains(&file.display().to_string()),
            "{args:?}: {text}"
        );
        assert!(!errors[0].contains("Drawing backend"), "{args:?}: {text}");
        // The cause at most once, not twice.
        assert!(
            errors[0].matches("(os error").count() <= 1,
            "{args:?}: {text}"
        );
    }
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written"
    );
}

#[test]
fn render_and_plan_print_the_warnings_validate_prints() {
    let dir = tempfile::tempdir().unwrap();
    let validate = obsctl()
        .args(["profile", "validate", "production"])
        .output()
        .unwrap();
    let warnings: Vec<String> = stderr(&validate)
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .map(str::to_string)
        .collect();
    assert!(!warnings.is_empty(), "production has warnings to print");
    let plan = obsctl()
        .args(["plan", "--profile", "production"])
        .output()
        .unwrap();
    let render = obsctl()
        .args(["render", "--profile", "production", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    for (what, out) in [("plan", &plan), ("render", &render)] {
        let text = stderr(out);
        for w in &warnings {
            assert!(text.contains(w.as_str()), "{what} lacks `{w}`:\n{text}");
        }
    }
}
