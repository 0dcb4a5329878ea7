//! The document, read as a reviewer would: a golden file from fixed facts (no Prometheus), and
//! the JSON shape the issue names.

use super::impact::*;
use super::incident::parse;
use super::*;
use crate::slo::report::BudgetState;
use crate::time::parse_instant;

const FROM: &str = "2026-11-03T14:02:00Z";
const TO: &str = "2026-11-03T14:49:00Z";

fn t(text: &str) -> f64 {
    parse_instant(text).unwrap()
}

const INCIDENT: &str = r##"
id: INC-2026-0142
title: Checkout returned errors after a gateway config push
severity: SEV2
status: review
commander: Dana Reyes
responders: [{name: Sam Okafor, role: scribe}]
services: [checkout]
summary: A gateway config change routed checkout traffic to an empty backend pool; rolling it back ended the errors.
trigger: Gateway config change 4812 rolled out to all regions at once.
resolution: Rolled the gateway config back to revision 4811.
impact: {users: "about 9,000 shoppers", revenue: "€18,000 in abandoned carts (estimate)", tickets: 140}
timeline:
  - {at: "2026-11-03T14:01:30Z", text: Gateway config change 4812 rolled out}
  - {at: "2026-11-03T14:31:00Z", text: Rollback to 4811 started}
fiveWhys:
  - why: Why did checkout fail?
    because: The gateway sent requests to a pool with no healthy members.
  - why: Why was the pool empty?
    because: The change renamed the pool and the pipeline accepted a reference to a pool that did not exist.
rootCause: The config pipeline does not validate pool references before applying a change.
contributingFactors: [The change went to every region at once.]
wentWell: [The 1h/5m page fired within minutes.]
wentWrong: [The rollback took 18 minutes to find the previous revision.]
actionItems:
  - {action: Validate pool references in the config pipeline, owner: team-edge, due: 2026-12-15, priority: P1, ticket: EDGE-231}
  - {action: Roll gateway config out region by region, owner: team-edge, priority: P2}
lessons: [A config change needs the same progressive rollout as code.]
chat: "#inc-checkout"
statusPage: status.example.com
"##;

fn checkout() -> SloImpact {
    let (from, to) = (t(FROM), t(TO));
    SloImpact {
        name: "checkout-availability".into(),
        group: Default::default(),
        service: "checkout".into(),
        kind: Kind::Availability,
        objective: 99.9,
        window: "30d".into(),
        latency_threshold_seconds: None,
        incident: IncidentWindow {
            from: At(from),
            to: At(to),
            minutes: 47.0,
        },
        events: Events {
            bad: Some(21_150.0),
            total: Some(47_000.0),
        },
        error_ratio: Some(0.45),
        budget: Budget {
            allowed_bad: Some(43_200.0),
            consumed_by_incident: Some(21_150.0 / 43_200.0),
            remaining_before: Some(0.8),
            remaining_after: Some(0.3106),
        },
        sli_window_after: Some(0.999_310_6),
        policy_state: Some(BudgetState::Low),
        policy_actions: Some(BudgetState::Low.actions()),
        peak_burn_rate: Some(450.0),
        full_outage_minutes: Some(21.15),
        alerts: vec![
            Alert {
                alertname: "SLOErrorBudgetBurn".into(),
                severity: "critical".into(),
                long_window: "1h".into(),
                short_window: "5m".into(),
                fired_at: At(from + 240.0),
                resolved_at: Some(At(to + 300.0)),
                source: AlertSource::Recorded,
            },
            Alert {
                alertname: "SLOErrorBudgetBurn".into(),
                severity: "warning".into(),
                long_window: "1d".into(),
                short_window: "2h".into(),
                fired_at: At(from + 600.0),
                resolved_at: None,
                source: AlertSource::Recorded,
            },
        ],
        time_to_detect_seconds: Some(240.0),
        time_to_resolve_seconds: to - from,
        budget_crossings: vec![Crossing {
            at: At(from + 29.0 * 60.0),
            threshold_percent: 50.0,
            state: BudgetState::Low,
        }],
        notes: vec![
            "alert times for critical 1h/5m, warning 1d/2h come from the recorded window series"
                .into(),
        ],
    }
}

fn postmortem(incident: Option<&str>) -> Postmortem {
    Postmortem {
        prometheus_url: "http://127.0.0.1:9090".into(),
        window: Window {
            from: t(FROM),
            to: t(TO),
        },
        incident: incident.map(|text| parse("incident.yaml", text.as_bytes()).unwrap().incident),
        slos: vec![checkout()],
        warnings: Vec::new(),
    }
}

#[test]
fn the_document_reads_as_a_blameless_postmortem() {
    insta::assert_snapshot!("postmortem_checkout", postmortem(Some(INCIDENT)).markdown());
}

#[test]
fn without_an_incident_file_the_human_parts_are_placeholders() {
    let md = postmortem(None).markdown();
    for placeholder in [
        "# Postmortem: <title: what users saw>",
        "| Severity | <severity> |",
        "<what happened, in two or three sentences",
        "1. <Why did users see the problem?>",
        "| 1 | <action that removes a cause or shortens detection> |",
    ] {
        assert!(md.contains(placeholder), "{placeholder}\n{md}");
    }
    // The computed facts are there all the same.
    assert!(
        md.contains("21,150 of 47,000 requests counted by checkout-availability failed (45.00%)"),
        "{md}"
    );
    assert!(
        md.contains("spending 48.96% of its 30d error budget"),
        "{md}"
    );
}

#[test]
fn the_timeline_merges_people_and_computed_events_in_time_order() {
    let md = postmortem(Some(INCIDENT)).markdown();
    let rows: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("## Timeline"))
        .filter(|l| l.starts_with("| 2026-"))
        .collect();
    let times: Vec<&str> = rows.iter().map(|r| &r[2..22]).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "{rows:#?}");
    assert!(
        rows[0].contains("Gateway config change 4812 rolled out")
            && rows[0].ends_with("| people |")
    );
    assert!(rows.iter().any(|r| r.contains("fell to 50% (policy: low)")));
}

#[test]
fn the_json_has_the_issue_s_shape() {
    let json = postmortem(Some(INCIDENT)).json();
    let slo = &json["slos"][0];
    for key in [
        "name",
        "objective",
        "window",
        "incident",
        "events",
        "error_ratio",
        "budget",
        "sli_window_after",
        "policy_state",
        "peak_burn_rate",
        "alerts",
        "time_to_detect_seconds",
    ] {
        assert!(slo.get(key).is_some(), "no `{key}` in {slo}");
    }
    assert_eq!(slo["incident"]["from"], FROM);
    assert_eq!(slo["incident"]["minutes"], 47.0);
    assert_eq!(slo["events"]["bad"], 21_150.0);
    assert_eq!(slo["budget"]["allowed_bad"], 43_200.0);
    assert!(
        slo["budget"]["consumed_by_incident"].as_f64().unwrap() < 1.0,
        "a fraction"
    );
    assert!(slo["budget"].get("remaining_after").is_some());
    assert_eq!(slo["policy_state"], "low");
    let alert = &slo["alerts"][0];
    for key in [
        "alertname",
        "severity",
        "long_window",
        "fired_at",
        "resolved_at",
    ] {
        assert!(alert.get(key).is_some(), "no `{key}` in {alert}");
    }
    assert_eq!(alert["fired_at"], "2026-11-03T14:06:00Z");
    assert_eq!(alert["source"], "recorded series");
    assert_eq!(slo["alerts"][1]["resolved_at"], serde_json::Value::Null);
    assert_eq!(
        json["title"],
        "Checkout returned errors after a gateway config push"
    );
}
