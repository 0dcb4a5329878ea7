//! `obsctl slo import` and `slo export --format openslo` on the binary: OpenSLO v1 documents
//! written in the spec's shapes (referenced and inline) become a profile's `slos:` block, they
//! validate inside a profile, what does not map is refused at its position (exit 2), and a
//! profile's SLOs survive export → import unchanged.

mod common;

use std::fs;

use common::{fixture, obsctl};
use predicates::prelude::*;

fn stdout(args: &[&str]) -> String {
    let out = obsctl().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_spec_shaped_examples_import_into_a_slos_block() {
    let payments = fixture("openslo/payments.yaml");
    let search = fixture("openslo/search-latency.yaml");
    let out = obsctl()
        .args(["slo", "import"])
        .arg(&payments)
        .arg(&search)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    let slos = doc["slos"].as_sequence().unwrap();
    assert_eq!(slos.len(), 2, "{text}");
    let p = &slos[0];
    assert_eq!(p["name"], "payments-availability");
    assert_eq!(p["objective"].as_f64(), Some(99.9));
    assert_eq!(p["window"], "28d", "4w rolling is 28 days");
    assert_eq!(
        p["indicator"]["ratio"]["errors"],
        r#"http_requests_total{job="payments",code=~"5.."}"#
    );
    assert_eq!(
        p["alerting"]["page"], true,
        "13.44× 1h and 5.6× 6h are the page tiers at 28d"
    );
    assert_eq!(p["alerting"]["ticket"], false);
    assert_eq!(p["alerting"]["labels"]["team"], "payments");
    assert_eq!(
        p["alerting"]["runbookUrl"],
        "https://runbooks.example.com/payments"
    );
    let s = &slos[1];
    assert_eq!(s["window"], "1mo");
    assert_eq!(s["objective"].as_f64(), Some(95.0));
    assert_eq!(
        s["indicator"]["latency"]["metric"],
        r#"http_request_duration_seconds{job="search"}"#
    );
    assert_eq!(s["indicator"]["latency"]["threshold"].as_f64(), Some(0.5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SLO `search-latency` has no alertPolicies"),
    );
}

#[test]
fn imported_slos_validate_inside_a_profile() {
    let payments = fixture("openslo/payments.yaml");
    obsctl()
        .args(["slo", "import", "--profile", "production"])
        .arg(&payments)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 SLOs from 1 are valid in profile `production`",
        ));
    // As if they were in it: the dev profile disables nothing, but a profile without metrics
    // cannot run SLO rules, and the refusal names the profile's key.
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    fs::write(&profile, "name: p\nmetrics:\n  scrapeInterval: 2m\n").unwrap();
    obsctl()
        .args(["slo", "import", "--profile"])
        .arg(&profile)
        .arg(&payments)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "p.yaml:3:19: `metrics.scrapeInterval`",
        ));
    // A name that the profile already has is a duplicate, at the OpenSLO document's line.
    let export = stdout(&[
        "slo",
        "export",
        "--format",
        "openslo",
        "--profile",
        "production",
    ]);
    let exported = dir.path().join("exported.yaml");
    fs::write(&exported, export).unwrap();
    obsctl()
        .args(["slo", "import", "--profile", "production"])
        .arg(&exported)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("duplicate SLO name")
                .and(predicate::str::contains("exported.yaml:")),
        );
}

#[test]
fn what_does_not_map_is_refused_with_position_and_reason() {
    let file = fixture("openslo/timeslices.yaml");
    obsctl()
        .args(["slo", "import"])
        .arg(&file)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("timeslices.yaml:27:20: `spec.budgetingMethod`: `Timeslices` budgeting")
                .and(predicate::str::contains(
                    "`spec.indicator.spec.ratioMetric.good.metricSource.type`: a `Datadog` source does not map",
                )),
        );
}

#[test]
fn a_profile_round_trips_through_openslo() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("cal.yaml");
    fs::write(
        &profile,
        r#"name: cal
metrics: {retention: 35d}
slos:
  - name: checkout
    service: checkout
    objective: 99.95
    window: 1mo
    indicator:
      ratio:
        good: http_requests_total{job="checkout",code!~"5.."}
        total: http_requests_total{job="checkout"}
    alerting:
      runbookUrl: https://runbooks.example.com/checkout
      labels: {team: shop}
      ticket: false
  - name: search
    service: search
    objective: 99
    window: 28d
    groupBy: [route, method]
    indicator:
      latency:
        metric: http_request_duration_seconds{job="search"}
        threshold: 0.25
"#,
    )
    .unwrap();
    let (imported, show) = round_trip(&profile);
    assert_eq!(imported["slos"], show["slos"]);
    assert_eq!(
        show["slos"][1]["groupBy"],
        yaml_serde::from_str::<yaml_serde::Value>("[route, method]").unwrap()
    );
}

#[test]
fn own_tiers_round_trip_through_openslo() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("own.yaml");
    fs::write(
        &profile,
        r#"name: own
metrics: {retention: 30d}
slos:
  - name: checkout
    service: checkout
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="checkout",code=~"5.."}
        total: http_requests_total{job="checkout"}
    alerting:
      tiers:
        - {severity: critical, longWindow: 30m, shortWindow: 5m, burnRate: 20}
        - {severity: warning, longWindow: 1d, shortWindow: 2h, burnRate: 2.5}
"#,
    )
    .unwrap();
    let (imported, show) = round_trip(&profile);
    assert_eq!(imported["slos"], show["slos"], "{imported:#?}");
    assert_eq!(
        imported["slos"][0]["alerting"]["tiers"][1]["burnRate"],
        yaml_serde::Value::from(2.5)
    );
}

/// The `slos:` of `profile` exported to OpenSLO and imported back, and as `profile show` prints them.
fn round_trip(profile: &std::path::Path) -> (yaml_serde::Value, yaml_serde::Value) {
    let openslo = profile.with_extension("openslo.yaml");
    obsctl()
        .args(["slo", "export", "--format", "openslo", "--profile"])
        .arg(profile)
        .arg("--out")
        .arg(&openslo)
        .assert()
        .success();
    let imported = stdout(&["slo", "import", openslo.to_str().unwrap()]);
    let show = stdout(&["profile", "show", profile.to_str().unwrap()]);
    (
        yaml_serde::from_str(&imported).unwrap(),
        yaml_serde::from_str(&show).unwrap(),
    )
}
