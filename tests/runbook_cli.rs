//! `obsctl runbook` and the runbooks of `obsctl render`, as users drive them.

mod common;

use std::fs;

use common::{obsctl, render};
use predicates::prelude::*;

const BAD_RUNBOOK: &str = "name: t\nmetrics: {retention: 30d}\nslos:\n  - name: a\n    service: s\n    objective: 99.9\n    window: 30d\n    indicator: {ratio: {errors: 'e{c=\"5\"}', total: e}}\n    runbook:\n      escalation:\n        - {after: 30m, to: '#a'}\n        - {after: 15m, to: '#b'}\n";

#[test]
fn render_writes_a_runbook_per_slo_and_lists_them_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let plan = render("production", &out);
    let runbooks: Vec<&str> = plan["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        runbooks,
        [
            "runbooks/checkout-availability.md",
            "runbooks/checkout-latency.md"
        ]
    );
    for r in runbooks {
        let text = fs::read_to_string(out.join(r)).unwrap();
        assert!(text.starts_with("# Runbook: checkout-"), "{r}");
    }
    assert!(out.join("manifests/runbook-dashboards.yaml").is_file());
}

#[test]
fn bad_runbook_blocks_exit_2_with_the_position_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    fs::write(&profile, BAD_RUNBOOK).unwrap();
    for cmd in ["render", "runbook"] {
        let out = dir.path().join(format!("out-{cmd}"));
        obsctl()
            .args([cmd, "--profile"])
            .arg(&profile)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "p.yaml:12:19: `slos[0].runbook.escalation[1].after`: `15m` is not after the previous step's `30m`",
            ));
        assert!(!out.exists(), "{cmd} wrote {}", out.display());
    }
    let out = dir.path().join("typo");
    fs::write(&profile, BAD_RUNBOOK.replace("      escalation:\n        - {after: 30m, to: '#a'}\n        - {after: 15m, to: '#b'}\n", "      chatt: '#a'\n")).unwrap();
    obsctl()
        .args(["runbook", "--profile"])
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("p.yaml:10:7:")
                .and(predicate::str::contains("did you mean `chat`?")),
        );
    assert!(!out.exists());
}

#[test]
fn runbook_prints_one_slo_or_writes_files() {
    obsctl()
        .args([
            "runbook",
            "--profile",
            "production",
            "--slo",
            "checkout-latency",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "# Runbook: checkout-latency (checkout)",
        ))
        .stdout(predicate::str::contains("checkout-availability").not());
    let json = obsctl()
        .args(["runbook", "--profile", "production", "--format", "json"])
        .output()
        .unwrap();
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["runbooks"].as_array().unwrap().len(), 2);
    assert_eq!(v["runbooks"][0]["alerts"][0]["anchor"], "critical-1h-5m");
    let dir = tempfile::tempdir().unwrap();
    obsctl()
        .args(["runbook", "--profile", "production", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("checkout-availability.md").is_file());
    assert!(dir.path().join("checkout-latency.md").is_file());
}

#[test]
fn an_unknown_slo_is_a_usage_error_with_a_suggestion() {
    obsctl()
        .args([
            "runbook",
            "--profile",
            "production",
            "--slo",
            "checkout-latncy",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `checkout-latency`?"));
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.yaml");
    fs::write(&bare, "name: bare\n").unwrap();
    obsctl()
        .args(["runbook", "--profile"])
        .arg(&bare)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no `slos:`"));
}
