//! `obsctl slo explain` and `obsctl slo rules` as users and CI drive them.

mod common;

use std::fs;

use common::obsctl;
use predicates::prelude::*;
use serde_json::Value;

fn explain_json(args: &[&str]) -> Value {
    let out = obsctl()
        .args(["slo", "explain", "--output", "json"])
        .args(args)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn the_workbook_budget_figures_are_reproduced() {
    let j = explain_json(&[
        "--objective",
        "99.9",
        "--window",
        "30d",
        "--requests",
        "1500000000",
    ]);
    let slo = &j["slos"][0];
    assert_eq!(slo["objective"], 99.9);
    assert_eq!(slo["window"], "30d");
    assert_eq!(slo["error_budget_ratio"], 0.001);
    assert_eq!(slo["budget_minutes"], 43.2);
    assert_eq!(slo["allowed_bad_events"], 1_500_000);
    let tiers = slo["tiers"].as_array().unwrap();
    let summary: Vec<(String, String, String, f64, f64)> = tiers
        .iter()
        .map(|t| {
            (
                t["severity"].as_str().unwrap().to_string(),
                t["long_window"].as_str().unwrap().to_string(),
                t["short_window"].as_str().unwrap().to_string(),
                t["burn_rate"].as_f64().unwrap(),
                t["budget_consumed"].as_f64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("critical", "1h", "5m", 14.4, 0.02),
        ("critical", "6h", "30m", 6.0, 0.05),
        ("warning", "1d", "2h", 3.0, 0.1),
        ("warning", "3d", "6h", 1.0, 0.1),
    ];
    for (got, want) in summary.iter().zip(want) {
        assert_eq!(
            (got.0.as_str(), got.1.as_str(), got.2.as_str(), got.3, got.4),
            want
        );
    }
    for t in tiers {
        for key in ["detection_minutes_full_outage", "reset_minutes"] {
            assert!(t[key].as_f64().unwrap() > 0.0, "{key}: {t}");
        }
    }
    // The Workbook's detection of the 1h tier, which the rules meet: 0.0144 × 60 minutes.
    assert_eq!(tiers[0]["detection_minutes_full_outage"], 0.864);
    assert_eq!(tiers[0]["reset_minutes"], 4.928);
    assert!(tiers[0].get("workbook_detection_minutes").is_none());

    let j = explain_json(&[
        "--objective",
        "95",
        "--window",
        "30d",
        "--requests",
        "1500000000",
    ]);
    assert_eq!(j["slos"][0]["allowed_bad_events"], 75_000_000);
    let j = explain_json(&["--objective", "99.9", "--window", "28d"]);
    assert_eq!(j["slos"][0]["budget_minutes"], 40.32);
    assert_eq!(j["slos"][0]["tiers"][0]["burn_rate"], 13.44);
    assert!(j["slos"][0].get("allowed_bad_events").is_none());
}

#[test]
fn the_profile_slos_are_explained_with_their_tiers() {
    let j = explain_json(&["--profile", "production"]);
    let names: Vec<&str> = j["slos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["checkout-availability", "checkout-latency"]);
    assert_eq!(j["slos"][1]["error_budget_ratio"], 0.05);
    assert_eq!(j["slos"][1]["tiers"][0]["error_ratio_threshold"], 0.72);
}

#[test]
fn a_tier_that_can_never_fire_is_said_in_words() {
    obsctl()
        .args(["slo", "explain", "--objective", "90", "--window", "30d"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("critical 1h/5m at 14.4×: can never fire")
                .and(predicate::str::contains("never fires"))
                .and(predicate::str::contains("\x1b[").not()),
        );
    let j = explain_json(&["--objective", "90", "--window", "30d"]);
    assert_eq!(j["slos"][0]["tiers"][0]["can_fire"], false);
    assert_eq!(
        j["slos"][0]["tiers"][0]["detection_minutes_full_outage"],
        Value::Null
    );
}

#[test]
fn bad_objectives_and_windows_exit_2_naming_the_flag() {
    for (objective, window, needle) in [
        ("100", "30d", "--objective"),
        ("0", "30d", "--objective"),
        ("-1", "30d", ""),
        ("abc", "30d", "--objective"),
        ("99.9", "30x", "--window"),
        ("99.9", "1d", "--window"),
    ] {
        obsctl()
            .args(["slo", "explain", "--window", window])
            .arg(format!("--objective={objective}"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
    obsctl()
        .args(["slo", "explain", "--objective", "99.9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--window"));
}

#[test]
fn rules_default_to_prometheus_rule_objects() {
    let out = obsctl()
        .args(["slo", "rules", "--profile", "production"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let docs: Vec<yaml_serde::Value> = text
        .split("\n---\n")
        .filter(|d| d.contains("kind:"))
        .map(|d| yaml_serde::from_str(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["kind"], "PrometheusRule");
    assert_eq!(docs[1]["metadata"]["name"], "slo-checkout-latency");
    // The same objects `render` writes.
    let dir = tempfile::tempdir().unwrap();
    obsctl()
        .args(["render", "--profile", "production", "--out"])
        .arg(dir.path().join("r"))
        .assert()
        .success();
    let rendered = fs::read_to_string(dir.path().join("r/manifests/slo-rules.yaml")).unwrap();
    let body = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&rendered), body(&text));
    let dashboard = fs::read_to_string(dir.path().join("r/manifests/slo-dashboard.yaml")).unwrap();
    assert!(dashboard.contains("grafana_dashboard: '1'"));
}

#[test]
fn rules_of_a_profile_without_slos_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules.yml");
    let profile = dir.path().join("no-slos.yaml");
    fs::write(&profile, "name: no-slos\n").unwrap();
    obsctl()
        .args(["slo", "rules", "--profile"])
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no `slos:`"));
    assert!(!out.exists());
}

#[test]
fn a_bad_selector_exits_2_with_its_position_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    fs::write(
        &profile,
        "name: p\nmetrics: {retention: 30d}\nslos:\n  - name: a\n    service: s\n    objective: 99\n    window: 30d\n    indicator:\n      ratio:\n        errors: rate(e_total[5m])\n        total: e_total\n",
    )
    .unwrap();
    let out = dir.path().join("rules.yml");
    obsctl()
        .args(["slo", "rules", "--profile"])
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(
                "p.yaml:10:17: `slos[0].indicator.ratio.errors`: invalid selector",
            )
            .and(predicate::str::contains("function call")),
        );
    assert!(!out.exists());
}

#[test]
fn warnings_go_to_stderr_and_dead_tiers_leave_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    fs::write(
        &profile,
        "name: p\nmetrics: {retention: 30d}\nslos:\n  - name: lax\n    service: s\n    objective: 90\n    window: 30d\n    indicator:\n      ratio:\n        errors: e_total{code=\"500\"}\n        total: e_total\n",
    )
    .unwrap();
    let out = obsctl()
        .args(["slo", "rules", "--format", "prometheus", "--profile"])
        .arg(&profile)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("warning: ").and(predicate::str::contains(
                "`slos[0].objective`: the critical 1h/5m tier can never fire at 90%",
            )),
        );
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(text.matches("alert: SLOErrorBudgetBurn").count(), 3);
    assert!(!text.contains("long_window: 1h\n"));
}
