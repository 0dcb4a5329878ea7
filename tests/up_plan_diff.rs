//! `obsctl plan --diff`: per release install / upgrade (changed paths) / unchanged against the
//! cluster, with destructive-change warnings; plain `plan` stays offline.

mod common;
mod up_support;

use common::obsctl;
use serde_json::Value;
use up_support::fake_kube::FakeKube;
use up_support::{profile, text, FakeHelm};

#[tokio::test]
async fn plan_diff_shows_what_up_would_change() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    // Before anything is installed, every release is an install.
    let out = helm
        .obsctl(&kube, &["plan", "--diff", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["target"]["context"], "fake");
    assert!(plan["releases"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["change"]["action"] == "install"));

    helm.obsctl(&kube, &["up", "--yes"]).assert().success();
    let dir = tempfile::tempdir().unwrap();
    let shorter = profile(dir.path(), "shorter", "logs:\n  retention: 2d\n");
    let out = helm
        .obsctl(
            &kube,
            &["plan", "--diff", "--profile", shorter.to_str().unwrap()],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("compared with context `fake`"), "{stdout}");
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("{name}: {stdout}"))
            .to_string()
    };
    assert!(
        row("loki").ends_with("upgrade: loki.limits_config.retention_period"),
        "{}",
        row("loki")
    );
    assert!(row("tempo").ends_with("unchanged"), "{}", row("tempo"));
    assert!(
        stdout.contains("loki loki.limits_config.retention_period: \"168h\" → \"48h\""),
        "{stdout}"
    );
    assert!(stderr.contains("warning: loki: retention cut"), "{stderr}");
    // A plan never changes anything.
    assert_eq!(helm.upgraded().len(), 4);
}

#[test]
fn plan_without_diff_needs_neither_helm_nor_a_cluster() {
    let out = obsctl()
        .args(["plan", "--output", "json"])
        .env("KUBECONFIG", "/nonexistent")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan.get("target").is_none());
    assert!(plan["releases"][0].get("change").is_none());
}
