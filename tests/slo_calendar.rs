//! `slo report` for calendar windows against a real Prometheus: a `1mo` SLO reports January
//! (31 days) and February 2026 (28 days) exactly when asked `--at` the month's end, with the
//! budget over the month's real length, and a report mid-month covers the month so far.

mod common;
mod slo_support;

use std::fmt::Write as _;
use std::fs;

use common::obsctl;
use serde_json::Value;
use slo_support::Prometheus;

const STEP: i64 = 300;
/// 2025-12-31T00:00:00Z: a day before January, so its first increase has a sample before it.
const START: i64 = 1_767_139_200;
/// 2026-03-01T00:00:00Z.
const END: i64 = 1_772_323_200;
const JAN_1: i64 = 1_767_225_600;
const FEB_1: i64 = 1_769_904_000;
const FEB_15: i64 = 1_771_113_600;
const REQUESTS: f64 = 100.0;

/// Errors per 5 minutes at the step starting at `t`: 0.05 in January with 10 for two hours on
/// the 10th; 0.02 in February with 50 for an hour on the 20th.
fn errors_at(t: i64) -> f64 {
    let jan_incident = JAN_1 + 9 * 86_400 + 10 * 3_600;
    let feb_incident = FEB_1 + 19 * 86_400 + 14 * 3_600;
    if (jan_incident..jan_incident + 2 * 3_600).contains(&t) {
        10.0
    } else if (feb_incident..feb_incident + 3_600).contains(&t) {
        50.0
    } else if t >= FEB_1 {
        0.02
    } else {
        0.05
    }
}

fn write_data(path: &std::path::Path) {
    let mut text = String::from("# TYPE http_requests counter\n");
    let (mut ok, mut bad) = (0.0, 0.0);
    let mut lines_ok = String::new();
    let mut lines_bad = String::new();
    let mut t = START;
    while t <= END {
        writeln!(
            lines_ok,
            "http_requests_total{{job=\"pay\",code=\"200\"}} {ok} {t}"
        )
        .unwrap();
        writeln!(
            lines_bad,
            "http_requests_total{{job=\"pay\",code=\"503\"}} {bad} {t}"
        )
        .unwrap();
        let e = errors_at(t);
        ok += REQUESTS - e;
        bad += e;
        t += STEP;
    }
    // Samples of one family grouped by series is valid OpenMetrics for counters.
    text.push_str(&lines_ok);
    text.push_str(&lines_bad);
    text.push_str("# EOF\n");
    fs::write(path, text).unwrap();
}

/// The truth by hand: errors and requests in [from, to).
fn truth(from: i64, to: i64) -> (f64, f64) {
    let steps: Vec<i64> = (from..to).step_by(STEP as usize).collect();
    let errors: f64 = steps.iter().map(|&t| errors_at(t)).sum();
    (errors, steps.len() as f64 * REQUESTS)
}

const PROFILE: &str = r#"
name: calendar
metrics: {retention: 60d}
slos:
  - name: pay
    service: pay
    objective: 99.9
    window: 1mo
    indicator:
      ratio:
        errors: http_requests_total{job="pay",code=~"5.."}
        total: http_requests_total{job="pay"}
"#;

fn close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    assert!(
        (got - want).abs() <= 0.01 * want.abs().max(1e-9),
        "{what}: got {got}, want {want} (±1%)"
    );
}

fn report(url: &str, profile: &std::path::Path, at: &str) -> Value {
    let out = obsctl()
        .args([
            "slo",
            "report",
            "--output",
            "json",
            "--prometheus-url",
            url,
            "--at",
            at,
            "--profile",
        ])
        .arg(profile)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    v["report"]["slos"][0].clone()
}

#[test]
fn a_calendar_month_reports_its_exact_figures() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.om");
    write_data(&data);
    let profile = dir.path().join("calendar.yaml");
    fs::write(&profile, PROFILE).unwrap();
    let prometheus = Prometheus::start(&data, &[], "15s");
    let url = prometheus.url.clone();

    // January: 31 days, 892,800 requests, 685.2 errors; the budget is 0.1% of them, 892.8.
    let (errors, total) = truth(JAN_1, FEB_1);
    assert_eq!(total, 892_800.0);
    assert!((errors - 685.2).abs() < 1e-6, "{errors}");
    let jan = report(&url, &profile, "2026-02-01T00:00:00Z");
    assert_eq!(jan["period_start"], "2026-01-01T00:00:00Z");
    assert_eq!(jan["period_end"], "2026-02-01T00:00:00Z");
    close(&jan["total_events"], total, "January requests");
    close(&jan["bad_events"], errors, "January errors");
    let remaining = 1.0 - errors / total / 0.001;
    close(&jan["budget_remaining"], remaining, "January budget left");
    // 0.1% of 44,640 minutes is 44.64 minutes of full outage; 23.25% of it is left.
    close(
        &jan["budget_remaining_minutes"],
        remaining * 44.64,
        "January minutes left",
    );
    assert_eq!(jan["state"], "low");

    // February: 28 days, 806,400 requests, 761.04 errors of a 806.4 budget.
    let (errors, total) = truth(FEB_1, END);
    assert_eq!(total, 806_400.0);
    let feb = report(&url, &profile, "2026-03-01T00:00:00Z");
    assert_eq!(feb["period_start"], "2026-02-01T00:00:00Z");
    close(&feb["total_events"], total, "February requests");
    close(&feb["bad_events"], errors, "February errors");
    let remaining = 1.0 - errors / total / 0.001;
    close(&feb["budget_remaining"], remaining, "February budget left");
    close(
        &feb["budget_remaining_minutes"],
        remaining * 40.32,
        "February minutes left",
    );
    assert_eq!(feb["state"], "exhausted");

    // Mid-February: the month so far (14 days, before the incident), the month's whole budget.
    let mid = report(&url, &profile, "2026-02-15T00:00:00Z");
    assert_eq!(mid["period_end"], "2026-03-01T00:00:00Z");
    let (errors, total) = truth(FEB_1, FEB_15);
    close(&mid["total_events"], total, "half of February");
    close(
        &mid["budget_remaining"],
        1.0 - errors / total / 0.001,
        "mid-February budget left",
    );
    assert_eq!(mid["state"], "healthy");
}
