//! The binary as users and CI drive it: outputs, exit codes, and nothing written on bad input.

mod common;

use std::fs;

use common::{obsctl, render};
use predicates::prelude::*;

#[test]
fn render_writes_plan_values_and_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let plan = render("production", &out);
    assert_eq!(plan["profile"], "production");
    for release in plan["releases"].as_array().unwrap() {
        assert!(
            out.join(release["values"].as_str().unwrap()).is_file(),
            "{release}"
        );
    }
    for manifest in plan["manifests"].as_array().unwrap() {
        assert!(out.join(manifest.as_str().unwrap()).is_file(), "{manifest}");
    }
}

#[test]
fn render_defaults_to_dev_and_honours_obsctl_profile() {
    let dir = tempfile::tempdir().unwrap();
    obsctl()
        .args(["render", "--out"])
        .arg(dir.path().join("a"))
        .assert()
        .success();
    let plan = fs::read_to_string(dir.path().join("a/plan.json")).unwrap();
    assert!(plan.contains("\"profile\": \"dev\""), "{plan}");
    obsctl()
        .env("OBSCTL_PROFILE", "ha")
        .args(["render", "--out"])
        .arg(dir.path().join("b"))
        .assert()
        .success();
    let plan = fs::read_to_string(dir.path().join("b/plan.json")).unwrap();
    assert!(plan.contains("\"profile\": \"ha\""), "{plan}");
}

#[test]
fn a_second_render_replaces_the_first_and_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    obsctl()
        .args(["render", "--out"])
        .arg(&out)
        .assert()
        .success();
    let first = fs::read(out.join("releases/loki.values.yaml")).unwrap();
    obsctl()
        .args(["render", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        first,
        fs::read(out.join("releases/loki.values.yaml")).unwrap()
    );
}

#[test]
fn render_refuses_to_replace_a_directory_that_is_not_a_render() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    obsctl()
        .args(["render", "--out"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no previous render"));
    assert!(dir.path().join("precious.txt").is_file());
}

#[test]
fn a_bad_profile_exits_2_with_a_position_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("bad.yaml");
    fs::write(&profile, "name: bad\nmetrics:\n  retention: thirty days\n").unwrap();
    let out = dir.path().join("out");
    obsctl()
        .args(["render", "--profile"])
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("bad.yaml:3:14:")
                .and(predicate::str::contains("invalid duration")),
        );
    assert!(!out.exists(), "nothing written");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only the profile remains: {leftovers:?}"
    );
}

#[test]
fn hostile_inputs_exit_2_quickly_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let laughs = {
        let mut s = String::from("name: x\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let mut prev = 'a';
        for name in "bcdefghij".chars() {
            s.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = name;
        }
        s
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("tabs", b"name: x\nmetrics:\n\tretention: 7d\n".to_vec()),
        ("duplicate", b"name: x\nname: y\n".to_vec()),
        (
            "binary",
            vec![0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe],
        ),
        ("laughs", laughs.into_bytes()),
        ("list", b"- a\n- b\n".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(format!("{name}.yaml"));
        fs::write(&path, bytes).unwrap();
        let started = std::time::Instant::now();
        let assert = obsctl()
            .args(["profile", "validate"])
            .arg(&path)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(
            stderr.contains(&format!("{name}.yaml:")),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            started.elapsed().as_secs() < 5,
            "{name} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn plan_json_lists_releases_in_waves_with_storage() {
    let assert = obsctl()
        .args(["plan", "--profile", "production", "--output", "json"])
        .assert()
        .success();
    let plan: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let releases = plan["releases"].as_array().unwrap();
    assert_eq!(releases[0]["name"], "kube-prometheus-stack");
    assert_eq!(releases[0]["wave"], 1);
    assert_eq!(releases[1]["wave"], 2);
    assert_eq!(releases[2]["wave"], 2, "loki and tempo install together");
    assert_eq!(releases[0]["chart"]["version"], "88.5.3");
    let prometheus = &releases[0]["volumes"][0];
    assert_eq!(prometheus["component"], "prometheus");
    assert_eq!(prometheus["size"], "100Gi");
}

#[test]
fn plan_table_is_plain_when_piped() {
    obsctl().args(["plan"]).assert().success().stdout(
        predicate::str::contains("kube-prometheus-stack")
            .and(predicate::str::contains("\x1b[").not()),
    );
}

#[test]
fn profile_list_show_and_validate() {
    obsctl()
        .args(["profile", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("production"));
    obsctl()
        .args(["profile", "show", "ha"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("retention: 30d")
                .and(predicate::str::contains("mode: distributed")),
        );
    let root = env!("CARGO_MANIFEST_DIR");
    obsctl()
        .args(["profile", "validate"])
        .arg(format!("{root}/stacks/dev.yaml"))
        .arg(format!("{root}/stacks/ha.yaml"))
        .assert()
        .success();
}

#[test]
fn validate_reports_every_file_and_exits_2_if_any_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    fs::write(&bad, "name: bad\nlogs: {mode: distributed}\n").unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    obsctl()
        .args(["profile", "validate"])
        .arg(format!("{root}/stacks/dev.yaml"))
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("dev.yaml: ok"))
        .stderr(predicate::str::contains("bad.yaml:2:14:"));
}

#[test]
fn schema_describes_the_profile() {
    let assert = obsctl().arg("schema").assert().success();
    let schema: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(schema["required"], serde_json::json!(["name"]));
    assert!(schema["properties"]["metrics"].is_object());
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn completions_are_generated() {
    obsctl()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("obsctl"));
}

#[test]
fn bad_flags_exit_2() {
    obsctl().args(["plan", "--output", "xml"]).assert().code(2);
    obsctl().args(["render"]).assert().code(2);
    obsctl()
        .args(["plan", "--profile", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown profile"));
}

#[test]
fn validate_prints_slo_warnings_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("slo.yaml");
    fs::write(
        &profile,
        "name: s\nmetrics:\n  retention: 7d\nslos:\n  - name: api\n    service: api\n    objective: 99.9\n    window: 30d\n    indicator:\n      ratio:\n        errors: http_requests_total{code=~\"5..\"}\n        total: http_requests_total\n",
    )
    .unwrap();
    obsctl()
        .args(["profile", "validate"])
        .arg(&profile)
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"))
        .stderr(predicate::str::contains("warning:").and(predicate::str::contains("slo.yaml:8:")));
}
