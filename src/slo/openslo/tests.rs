//! OpenSLO tests: the mapping in both directions, refusals at their positions, round trips.

use super::*;
use crate::profile::load;

fn import_text(text: &str) -> Result<Vec<Slo>, String> {
    let (nodes, _) =
        import(&[("in.yaml".to_string(), text.as_bytes().to_vec())]).map_err(|e| e.to_string())?;
    nodes
        .iter()
        .map(|n| from_node::<Slo>(n).map_err(|e| e.to_string()))
        .collect()
}

fn refused(text: &str) -> String {
    match import_text(text) {
        Ok(s) => panic!("expected a refusal, got {s:?}"),
        Err(e) => e,
    }
}

fn as_json(slos: &[Slo]) -> Json {
    serde_json::to_value(slos).unwrap()
}

/// Export, then import what was written: the same SLOs.
fn round_trip(slos: &[Slo]) -> Vec<Slo> {
    let mut text = String::new();
    for doc in export(slos) {
        text.push_str("---\n");
        text.push_str(&yaml_serde::to_string(&doc).unwrap());
    }
    import_text(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

const RATIO: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: api
spec:
  service: api
  indicator:
    metadata: {name: api-errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'req_total{code=~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: req_total}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
"#;

#[test]
fn a_ratio_slo_maps_exactly() {
    let slos = import_text(RATIO).unwrap();
    assert_eq!(slos.len(), 1);
    let s = &slos[0];
    assert_eq!(s.objective.to_string(), "99.9");
    assert_eq!(s.objective.error_budget().to_string(), "0.001");
    assert_eq!(s.window.to_string(), "30d");
    let Indicator::Ratio(r) = &s.indicator else {
        panic!("{s:?}")
    };
    assert_eq!(
        r.errors.as_ref().unwrap().promql(),
        r#"req_total{code=~"5.."}"#
    );
    assert!(
        !s.alerting.page && !s.alerting.ticket,
        "no policy, no alerts"
    );
}

#[test]
fn the_production_slos_round_trip() {
    let stack = load("production").unwrap().stack;
    assert_eq!(as_json(&round_trip(&stack.slos)), as_json(&stack.slos));
}

#[test]
fn calendar_windows_labels_runbooks_and_odd_windows_round_trip() {
    let mut stack = load("production").unwrap().stack;
    stack.slos[0].window = "1mo".parse().unwrap();
    stack.slos[1].window = "1w".parse().unwrap();
    stack.slos[1].alerting.page = false;
    stack.slos[0].alerting.runbook_url = Some("https://runbooks.example.com/a".into());
    stack.slos[0]
        .alerting
        .labels
        .insert("team".into(), "shop".into());
    let back = round_trip(&stack.slos);
    assert_eq!(as_json(&back), as_json(&stack.slos));
    assert_eq!(back[0].window.to_string(), "1mo");
    // 7d is exported as `7d` and a 3d tier at 7d has a burn rate of 7/30: compared exactly.
    stack.slos[1].window = "7d".parse().unwrap();
    stack.slos[1].alerting.page = true;
    assert_eq!(as_json(&round_trip(&stack.slos)), as_json(&stack.slos));
}

#[test]
fn what_does_not_map_is_refused_at_its_position() {
    let e = refused(&RATIO.replace("Occurrences", "Timeslices"));
    assert!(
        e.starts_with("in.yaml:15:20: `spec.budgetingMethod`: `Timeslices` budgeting"),
        "{e}"
    );
    let e = refused(&RATIO.replace(
        "type: Prometheus, spec: {query: req_total}",
        "type: Datadog, spec: {query: req_total}",
    ));
    assert!(
        e.contains("`spec.indicator.spec.ratioMetric.total.metricSource.type`: a `Datadog` source does not map"),
        "{e}"
    );
    assert!(e.starts_with("in.yaml:13:"), "{e}");
    let e = refused(&RATIO.replace("query: req_total}", "query: 'sum(rate(req_total[5m]))'}"));
    assert!(e.contains("function call"), "{e}");
    assert!(e.contains("one bare selector"), "{e}");
    let e = refused(&RATIO.replace(
        "{duration: 30d, isRolling: true}",
        "{duration: 1M, isRolling: true}",
    ));
    assert!(
        e.contains("`spec.timeWindow[0].duration`: a rolling `1M` has no fixed length"),
        "{e}"
    );
    let e = refused(&RATIO.replace("{duration: 30d, isRolling: true}", "{duration: 1M, isRolling: false, calendar: {startTime: '2026-01-01 00:00:00', timeZone: Europe/Paris}}"));
    assert!(
        e.contains("`spec.timeWindow[0].calendar.timeZone`: time zone `Europe/Paris`"),
        "{e}"
    );
    let e = refused(&RATIO.replace("{duration: 30d, isRolling: true}", "{duration: 1M, isRolling: false, calendar: {startTime: '2026-01-15 00:00:00', timeZone: UTC}}"));
    assert!(e.contains("the first day of a month"), "{e}");
    let e = refused(&RATIO.replace("[{target: 0.999}]", "[{target: 0.999}, {target: 0.99}]"));
    assert!(
        e.contains("`spec.objectives[1]`: a second objective"),
        "{e}"
    );
    let e = refused(&RATIO.replace("[{target: 0.999}]", "[{target: 99.9}]"));
    assert!(e.contains("targetPercent"), "{e}");
    let e = refused(&RATIO.replace("openslo/v1\n", "openslo/v1alpha\n"));
    assert!(
        e.starts_with("in.yaml:1:13: `apiVersion`: `openslo/v1alpha` is not OpenSLO v1"),
        "{e}"
    );
    let e = refused(&RATIO.replace("kind: SLO", "kind: Slo"));
    assert!(e.contains("unknown OpenSLO v1 kind `Slo`"), "{e}");
    // Unknown keys are typos, with a suggestion.
    let e = refused(&RATIO.replace("budgetingMethod", "budgetMethod"));
    assert!(e.contains("budgetingMethod"), "{e}");
    let e = refused(&RATIO.replace("counter: true", "counter: false"));
    assert!(e.contains("`counter: true`"), "{e}");
}

#[test]
fn a_burn_rate_tier_that_is_not_the_workbooks_becomes_an_own_tier() {
    let policy = r#"  alertPolicies:
    - kind: AlertPolicy
      metadata: {name: p}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: c}
            spec:
              severity: page
              condition: {kind: burnrate, op: gt, threshold: 10, lookbackWindow: 1h}
"#;
    let slos = import_text(&format!("{RATIO}{policy}")).unwrap();
    let tiers = slos[0].tiers();
    assert_eq!(tiers.len(), 1, "{tiers:?}");
    assert_eq!(tiers[0].describe(), "critical 1h/5m");
    assert_eq!(tiers[0].burn_rate(&slos[0].window).to_string(), "10");
    let e = refused(&format!(
        "{RATIO}{}",
        policy.replace("severity: page", "severity: sev1")
    ));
    assert!(e.contains("severity `sev1` does not map"), "{e}");
}

#[test]
fn empty_documents_and_several_files_are_read() {
    let text = format!("---\n{RATIO}---\n");
    assert_eq!(import_text(&text).unwrap().len(), 1);
    let e = import(&[
        ("a.yaml".into(), RATIO.as_bytes().to_vec()),
        ("b.yaml".into(), RATIO.as_bytes().to_vec()),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with(
            "b.yaml:4:9: `metadata.name`: a second SLO named `api` (the first is at a.yaml:4:9)"
        ),
        "{e}"
    );
}

#[test]
fn durations_use_one_openslo_unit() {
    assert_eq!(duration(30 * 86_400), "30d");
    assert_eq!(duration(5_400), "90m");
    assert_eq!(rolling_secs("4w"), Ok(28 * 86_400));
    assert!(rolling_secs("1Q").is_err());
}
