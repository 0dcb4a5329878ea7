//! Interrupts during `up` and `down`, with the fake Helm blocking in one step until signalled:
//! no new step starts, the running Helm gets the signal and is waited for, the summary says what
//! was done, interrupted and not started, the private values directory and the lock are gone,
//! the exit code is 130 (SIGINT) or 143 (SIGTERM), a second Ctrl-C stops at once, and a re-run
//! resumes.

mod common;
mod up_support;

use serde_json::Value;
use up_support::fake_kube::FakeKube;
use up_support::{finish, signal, text, FakeHelm};

fn values_path(call: &Value) -> String {
    let argv: Vec<&str> = call["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    argv[argv.iter().position(|a| *a == "-f").unwrap() + 1].to_string()
}

fn summary_line<'a>(stdout: &'a str, step: &str) -> &'a str {
    stdout
        .lines()
        .rev()
        .find(|l| l.starts_with(step))
        .unwrap_or_else(|| panic!("no summary line for {step} in\n{stdout}"))
}

#[tokio::test]
async fn ctrl_c_during_up_stops_new_steps_waits_for_helm_cleans_up_and_a_rerun_resumes() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let child = helm.spawn(&kube, &["up", "--yes"], &[("FAKE_HELM_BLOCK", "loki")]);
    helm.wait_blocked("loki");
    // While it runs, the stack is locked: a second `up` is refused and names this run.
    let second = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    let (_, refused) = text(&second);
    assert_eq!(second.status.code(), Some(1), "{refused}");
    assert!(
        refused.contains("is locked by ") && refused.contains("(`obsctl up --profile dev`, since "),
        "{refused}"
    );
    // Tempo (which needs nothing Loki does) may finish; wait until it has, so the summary is fixed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while helm
        .calls_of("upgrade")
        .iter()
        .all(|c| c["release"] != "tempo")
    {
        assert!(std::time::Instant::now() < deadline, "{:#?}", helm.calls());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    signal(&child, "INT");
    let (code, stdout, stderr) = finish(child, 60);
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");

    // Helm got the signal (once, from obsctl) and rolled back; nothing started afterwards.
    let loki = helm.call("upgrade", "loki");
    assert_eq!(loki["signal"], "INT", "{loki}");
    assert_eq!(loki["exit"], 1);
    assert!(helm
        .calls_of("upgrade")
        .iter()
        .all(|c| c["release"] != "otel-collector"));
    assert!(stderr.contains("SIGINT: stopping"), "{stderr}");

    // The summary: done, interrupted, not started.
    assert!(
        summary_line(&stdout, "kube-prometheus-stack").contains(" done "),
        "{stdout}"
    );
    assert!(
        summary_line(&stdout, "tempo").contains(" done "),
        "{stdout}"
    );
    let loki_line = summary_line(&stdout, "loki");
    assert!(
        loki_line.contains("INTERRUPTED") && loki_line.contains("context canceled"),
        "{stdout}"
    );
    assert!(
        summary_line(&stdout, "otel-collector").contains("not started")
            && summary_line(&stdout, "otel-collector").contains("interrupted before it started"),
        "{stdout}"
    );
    assert!(
        summary_line(&stdout, "manifests").contains("interrupted before it started"),
        "{stdout}"
    );
    assert!(
        stdout.contains(", 1 interrupted, 2 not started in "),
        "{stdout}"
    );
    assert!(
        stdout.contains("run `obsctl up` again to resume"),
        "{stdout}"
    );

    // No values directory left, the lock released, no manifests applied.
    let values = values_path(&loki);
    let dir = std::path::Path::new(&values)
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    assert!(!dir.exists(), "{} was left behind", dir.display());
    assert_eq!(kube.leases.get(), None);
    assert!(!kube
        .calls()
        .await
        .iter()
        .any(|c| c.contains("prometheusrules/")));

    // A re-run resumes: the finished releases are unchanged, the rest is installed.
    helm.clear_log();
    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let mut upgraded = helm.upgraded();
    upgraded.sort();
    assert_eq!(upgraded, ["loki", "otel-collector"], "{stdout}");
}

#[tokio::test]
async fn sigterm_during_down_exits_143_and_purges_nothing() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    helm.clear_log();

    let child = helm.spawn(
        &kube,
        &["down", "--yes", "--purge-data"],
        &[("FAKE_HELM_BLOCK", "kube-prometheus-stack")],
    );
    helm.wait_blocked("kube-prometheus-stack");
    signal(&child, "TERM");
    let (code, stdout, stderr) = finish(child, 60);
    assert_eq!(code, Some(143), "{stdout}\n{stderr}");
    assert_eq!(
        helm.call("uninstall", "kube-prometheus-stack")["signal"],
        "TERM"
    );
    assert!(
        summary_line(&stdout, "kube-prometheus-stack").contains("INTERRUPTED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("volume claims were not deleted"),
        "{stdout}"
    );
    assert!(!kube
        .calls()
        .await
        .iter()
        .any(|c| c.starts_with("DELETE") && c.contains("persistentvolumeclaims")));
    assert_eq!(kube.leases.get(), None);
}

#[tokio::test]
async fn a_second_ctrl_c_kills_helm_at_once_and_says_what_may_be_left() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    // This Helm takes its time to roll back after the first signal: the second Ctrl-C must not
    // wait for it.
    let child = helm.spawn(
        &kube,
        &["up", "--yes"],
        &[
            ("FAKE_HELM_BLOCK", "kube-prometheus-stack"),
            ("FAKE_HELM_SLOW_ROLLBACK", "1"),
        ],
    );
    helm.wait_blocked("kube-prometheus-stack");
    signal(&child, "INT");
    // The first is handled (and passed on to Helm) before the second arrives.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_to_string(helm.state.path().join("signalled")).is_ok_and(|s| !s.is_empty())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "Helm never got the first signal"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    signal(&child, "INT");
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = finish(child, 20);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("interrupted again: stopped at once"),
        "{stderr}"
    );
    assert!(
        stderr.contains("may be left: a release in `pending-install`"),
        "{stderr}"
    );
    assert!(stderr.contains("--force-unlock"), "{stderr}");
    assert!(
        stderr.contains("  killed: ") && stderr.contains("upgrade --install kube-prometheus-stack"),
        "{stderr}"
    );
}
