//! The generated SLO rules under the real promtool: `promtool check rules` accepts them, and
//! `promtool test rules` proves what they do with synthetic traffic — a full outage pages within
//! minutes, a slow burn opens tickets without paging, healthy traffic never fires, and a page
//! clears shortly after recovery.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{obsctl, tool};
use serde_json::{json, Value};

/// Three SLOs on three jobs: availability from `errors`, availability from `good`, latency.
const PROFILE: &str = r#"
name: slo-test
metrics:
  retention: 30d
  scrapeInterval: 30s
slos:
  - name: avail
    service: shop
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="shop",code=~"5.."}
        total: http_requests_total{job="shop"}
    alerting:
      runbookUrl: https://runbooks.example.com/shop
      labels: {team: shop}
  - name: good-ratio
    service: cart
    objective: 99
    window: 28d
    indicator:
      ratio:
        good: http_requests_total{job="cart",code=~"2.."}
        total: http_requests_total{job="cart"}
  - name: latency
    service: search
    objective: 95
    window: 30d
    indicator:
      latency:
        metric: http_request_duration_seconds{job="search"}
        threshold: 0.5
  - name: guarded
    service: batch
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="batch",code=~"5.."}
        total: http_requests_total{job="batch"}
    alerting:
      minEvents: 100
"#;

struct Fixture {
    dir: tempfile::TempDir,
    /// The profile's scrape interval: the SLO groups pin it as their evaluation interval, and
    /// promtool, which evaluates every group at one interval, must use the same.
    evaluation_interval: String,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::of(PROFILE)
    }

    /// The rules of another profile.
    fn of(text: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile.yaml");
        fs::write(&profile, text).unwrap();
        obsctl()
            .args(["slo", "rules", "--format", "prometheus", "--profile"])
            .arg(&profile)
            .arg("--out")
            .arg(dir.path().join("rules.yml"))
            .assert()
            .success();
        let evaluation_interval = text
            .lines()
            .find_map(|l| l.split("scrapeInterval: ").nth(1))
            .map(|v| v.trim_end_matches('}').trim().to_string())
            // obsctl's default scrape interval.
            .unwrap_or_else(|| "30s".to_string());
        Fixture {
            dir,
            evaluation_interval,
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `promtool test rules` on one generated test file; panics with promtool's output.
    fn promtool_test(&self, name: &str, tests: Value) {
        let file = json!({
            "rule_files": ["rules.yml"],
            "evaluation_interval": self.evaluation_interval,
            "tests": tests,
        });
        let path = self.path(&format!("{name}.test.yml"));
        fs::write(&path, yaml_serde::to_string(&file).unwrap()).unwrap();
        let out = Command::new(tool("promtool"))
            .current_dir(self.dir.path())
            .args(["test", "rules"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool test rules {name} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// promtool's expanding notation for a counter sampled once a minute from 0: each segment
/// `(step, minutes)` adds `step` a minute for `minutes` minutes, continuing where the last ended.
fn counter(segments: &[(f64, usize)]) -> String {
    let mut out = String::from("0");
    let mut value = 0.0;
    for &(step, minutes) in segments {
        value += step;
        out.push_str(&format!(" {value}+{step}x{}", minutes - 1));
        // Added one step at a time, as promtool expands `a+bxn`: the next segment then starts
        // exactly where promtool's float sum ended, never a hair below (a counter reset).
        for _ in 1..minutes {
            value += step;
        }
    }
    out
}

fn series(name: &str, values: String) -> Value {
    json!({"series": name, "values": values})
}

/// Firing alerts of one SLO, by severity and long window.
fn firing(slo: &str, eval_min: u64, expected: &[(&str, &str)]) -> Value {
    json!({
        "expr": format!("count by (severity, long_window) (ALERTS{{alertname=\"SLOErrorBudgetBurn\",alertstate=\"firing\",slo=\"{slo}\"}})"),
        "eval_time": format!("{eval_min}m"),
        "exp_samples": expected.iter().map(|(severity, long)| json!({
            "labels": format!("{{long_window=\"{long}\",severity=\"{severity}\"}}"),
            "value": 1,
        })).collect::<Vec<_>>(),
    })
}

fn shop_traffic(ok: &[(f64, usize)], errors: &[(f64, usize)]) -> Vec<Value> {
    vec![
        series(r#"http_requests_total{job="shop",code="200"}"#, counter(ok)),
        series(
            r#"http_requests_total{job="shop",code="500"}"#,
            counter(errors),
        ),
    ]
}

#[test]
fn promtool_check_accepts_the_rules() {
    let f = Fixture::new();
    let out = Command::new(tool("promtool"))
        .args(["check", "rules"])
        .arg(f.path("rules.yml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 4 SLOs × (10 recording rules + 4 burn-rate alerts + 1 no-data alert).
    assert!(stdout.contains("SUCCESS: 60 rules found"), "{stdout}");
}

#[test]
fn a_full_outage_pages_within_minutes_and_the_page_clears_after_recovery() {
    let f = Fixture::new();
    // 1 req/s healthy for 2h, a 10-minute full outage, then healthy again.
    let traffic = shop_traffic(
        &[(60.0, 120), (0.0, 10), (60.0, 120)],
        &[(0.0, 120), (60.0, 10), (0.0, 120)],
    );
    f.promtool_test(
        "outage",
        json!([{
            "interval": "1m",
            "input_series": traffic,
            "promql_expr_test": [
                firing("avail", 119, &[]),
                // Five minutes into the outage both paging tiers fire (and the tickets with them).
                firing("avail", 125, &[("critical", "1h"), ("critical", "6h"), ("warning", "1d"), ("warning", "3d")]),
                firing("avail", 134, &[("critical", "1h"), ("critical", "6h"), ("warning", "1d"), ("warning", "3d")]),
                // Seven minutes after recovery the 5m short window has cleared the 1h page...
                firing("avail", 137, &[("critical", "6h"), ("warning", "1d"), ("warning", "3d")]),
                // ...and the 6h page clears with its raw 30m short window, 30m × (1 − 0.006) =
                // 29.8 minutes after recovery, as the Workbook's does.
                firing("avail", 159, &[("critical", "6h"), ("warning", "1d"), ("warning", "3d")]),
                firing("avail", 161, &[("warning", "1d"), ("warning", "3d")]),
            ],
        }]),
    );
}

#[test]
fn the_page_comes_at_the_first_evaluation_after_an_outage_begins() {
    let f = Fixture::new();
    let traffic = shop_traffic(&[(60.0, 120), (0.0, 30)], &[(0.0, 120), (60.0, 30)]);
    // The outage starts at minute 120; the 1h/5m tier needs 0.864 minutes of it (the Workbook's
    // figure) and pages at the first sample after, minute 121.
    f.promtool_test(
        "detection",
        json!([{
            "interval": "1m",
            "input_series": traffic,
            "promql_expr_test": [
                {"expr": "count(ALERTS{alertstate=\"firing\",slo=\"avail\",severity=\"critical\",long_window=\"1h\"})",
                 "eval_time": "120m", "exp_samples": []},
                {"expr": "count(ALERTS{alertstate=\"firing\",slo=\"avail\",severity=\"critical\",long_window=\"1h\"})",
                 "eval_time": "121m", "exp_samples": [{"labels": "{}", "value": 1}]},
            ],
        }]),
    );
}

#[test]
fn a_slow_burn_opens_tickets_without_paging() {
    let f = Fixture::new();
    // 0.4% errors: 4× the sustainable rate, under both paging burn rates (14.4×, 6×), over both
    // ticket burn rates (3×, 1×).
    let traffic = shop_traffic(&[(59.76, 480)], &[(0.24, 480)]);
    let alerts = |t| firing("avail", t, &[("warning", "1d"), ("warning", "3d")]);
    f.promtool_test(
        "slow-burn",
        json!([{
            "interval": "1m",
            "input_series": traffic,
            "promql_expr_test": [alerts(60), alerts(240), alerts(479)],
        }]),
    );
}

#[test]
fn healthy_traffic_never_fires() {
    let f = Fixture::new();
    // 0.09% errors: 90% of the sustainable rate, just under the slowest tier's threshold (0.1%).
    let traffic = shop_traffic(&[(59.946, 480)], &[(0.054, 480)]);
    let quiet: Vec<Value> = [10, 60, 120, 240, 360, 479]
        .iter()
        .map(|t| json!({"eval_time": format!("{t}m"), "alertname": "SLOErrorBudgetBurn", "exp_alerts": []}))
        .collect();
    f.promtool_test(
        "healthy",
        json!([{
            "interval": "1m",
            "input_series": traffic,
            "alert_rule_test": quiet,
            "promql_expr_test": [
                // The recorded ratios say the same: 0.0009 over every window.
                {"expr": "round(slo:error_ratio:window1h{slo=\"avail\"} * 1e6)", "eval_time": "240m",
                 "exp_samples": [{"labels": "{slo=\"avail\"}", "value": 900}]},
                {"expr": "round(slo:error_ratio:window30d{slo=\"avail\"} * 1e6)", "eval_time": "479m",
                 "exp_samples": [{"labels": "{slo=\"avail\"}", "value": 900}]},
            ],
        }]),
    );
}

#[test]
fn alerts_carry_the_slo_labels_runbook_and_current_burn_rate() {
    let f = Fixture::new();
    let traffic = shop_traffic(&[(60.0, 120), (0.0, 10)], &[(0.0, 120), (60.0, 10)]);
    // Worked by hand for minute 130 (ten minutes into the outage), with the 30s evaluations of
    // the SLO group on 1m samples: the latest 5m increase counts 300 errors of 300 requests; the
    // 1h window adds the 5m increases recorded from 72m30s to 127m30s (111 of them: Prometheus 2
    // counts both ends of a range), divided by the 10 a 5m holds: 307.5 errors (the increases
    // at half minutes extrapolate the ramp by 4.5/4) of 3322.5 requests. 607.5 / 3622.5 / 0.001
    // = 167.7× (exactly: 600 / 3600, 166.7×). The 6h, 1d and 3d windows hold the whole history,
    // 130 minutes. The 6h window, some tier's short window, is raw: `increase` over the counters
    // from their first sample (both start at 0, so nothing is extrapolated), 600 errors of 7800
    // requests, 76.9× exactly. The 1d and 3d windows, derived: 607.5 errors of 7808 requests (the
    // first increases of the history ramp up from its start), 77.8×.
    let tier = |severity: &str,
                long: &str,
                short: &str,
                burn: &str,
                value: &str,
                threshold: &str,
                pct: &str| {
        json!({
            "exp_labels": {"slo": "avail", "service": "shop", "team": "shop", "severity": severity,
                           "long_window": long, "short_window": short},
            "exp_annotations": {
                "summary": format!("avail (shop) is burning its 30d error budget faster than {burn}×"),
                "description": format!(
                    "The error budget of avail (99.9% over 30d) is burning at {value}× the sustainable rate over the last {long}. \
                     This {severity} alert fires when both the {long} and {short} windows burn faster than {burn}× \
                     (an error ratio above {threshold}), which spends {pct}% of the budget in {long}."),
                "runbook_url": "https://runbooks.example.com/shop",
            },
        })
    };
    f.promtool_test(
        "annotations",
        json!([{
            "interval": "1m",
            "input_series": traffic,
            "alert_rule_test": [{
                "eval_time": "130m",
                "alertname": "SLOErrorBudgetBurn",
                "exp_alerts": [
                    tier("critical", "1h", "5m", "14.4", "167.7", "0.0144", "2"),
                    tier("critical", "6h", "30m", "6", "76.9", "0.006", "5"),
                    tier("warning", "1d", "2h", "3", "77.8", "0.003", "10"),
                    tier("warning", "3d", "6h", "1", "77.8", "0.001", "10"),
                ],
            }],
        }]),
    );
}

#[test]
fn a_good_events_selector_pages_on_an_outage_too() {
    let f = Fixture::new();
    // 99% over 28d: budget 0.01; the 1h tier burns at 2% × 28d / 1h = 13.44×.
    let traffic = vec![
        series(
            r#"http_requests_total{job="cart",code="200"}"#,
            counter(&[(60.0, 120), (0.0, 20)]),
        ),
        series(
            r#"http_requests_total{job="cart",code="503"}"#,
            counter(&[(0.0, 120), (60.0, 20)]),
        ),
    ];
    f.promtool_test(
        "good-ratio",
        json!([{
            "interval": "1m",
            "input_series": traffic,
            "promql_expr_test": [
                firing("good-ratio", 110, &[]),
                // The 1h tier needs 13.44% errors over 1h: about 8 minutes of full outage.
                firing("good-ratio", 139, &[("critical", "1h"), ("critical", "6h"), ("warning", "1d"), ("warning", "3d")]),
            ],
        }]),
    );
    let rules = fs::read_to_string(f.path("rules.yml")).unwrap();
    assert!(rules.contains("> 0.1344 and"), "13.44 × 0.01, exactly");
}

/// A classic histogram of `job="search"`: `slow` of every 60 requests a minute take over 0.5s.
fn latency_series(phases: &[(f64, usize)]) -> Vec<Value> {
    let fast: Vec<(f64, usize)> = phases.iter().map(|&(slow, n)| (60.0 - slow, n)).collect();
    let all: Vec<(f64, usize)> = phases.iter().map(|&(_, n)| (60.0, n)).collect();
    let base = "http_request_duration_seconds";
    vec![
        series(
            &format!(r#"{base}_bucket{{job="search",le="0.25"}}"#),
            counter(&fast),
        ),
        series(
            &format!(r#"{base}_bucket{{job="search",le="0.5"}}"#),
            counter(&fast),
        ),
        series(
            &format!(r#"{base}_bucket{{job="search",le="1"}}"#),
            counter(&all),
        ),
        series(
            &format!(r#"{base}_bucket{{job="search",le="+Inf"}}"#),
            counter(&all),
        ),
        series(&format!(r#"{base}_count{{job="search"}}"#), counter(&all)),
    ]
}

#[test]
fn slow_requests_page_a_latency_slo() {
    let f = Fixture::new();
    // 2% slow (under the 5% budget) for 2h, then every request slow for 90 minutes. At 95% the
    // 1h tier needs 72% slow requests over 1h (43 minutes of a full slowdown), the 6h tier 30%.
    f.promtool_test(
        "latency",
        json!([{
            "interval": "1m",
            "input_series": latency_series(&[(1.2, 120), (60.0, 90)]),
            "promql_expr_test": [
                firing("latency", 119, &[]),
                {"expr": "round(slo:error_ratio:window1h{slo=\"latency\"} * 1000)", "eval_time": "100m",
                 "exp_samples": [{"labels": "{slo=\"latency\"}", "value": 20}]},
                // Half an hour in: tickets, no page yet.
                firing("latency", 150, &[("warning", "1d"), ("warning", "3d")]),
                firing("latency", 200, &[("critical", "1h"), ("critical", "6h"), ("warning", "1d"), ("warning", "3d")]),
            ],
        }]),
    );
}

#[test]
fn rules_files_are_written_whole_and_stable() {
    let f = Fixture::new();
    let first = fs::read(f.path("rules.yml")).unwrap();
    let again = Fixture::new();
    assert_eq!(first, fs::read(again.path("rules.yml")).unwrap());
    let leftovers: Vec<_> = fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(Path::new(&f.path("rules.yml")).is_file());
}

fn batch_traffic(ok: &[(f64, usize)], errors: &[(f64, usize)]) -> Vec<Value> {
    vec![
        series(
            r#"http_requests_total{job="batch",code="200"}"#,
            counter(ok),
        ),
        series(
            r#"http_requests_total{job="batch",code="500"}"#,
            counter(errors),
        ),
    ]
}

#[test]
fn a_minimum_of_events_keeps_a_single_failure_at_low_traffic_from_paging() {
    let f = Fixture::new();
    // One failure among 3 requests (a 33% error ratio, 333× the budget) at minute 100: below
    // `minEvents: 100` in every long window, nothing fires. The same ratio at 10,000 requests an
    // hour pages.
    let sparse = batch_traffic(
        &[(0.0, 100), (1.0, 2), (0.0, 30)],
        &[(0.0, 101), (1.0, 1), (0.0, 30)],
    );
    let busy = batch_traffic(&[(111.0, 100), (111.0, 30)], &[(0.0, 100), (56.0, 30)]);
    f.promtool_test(
        "min-events",
        json!([
            {
                "interval": "1m",
                "input_series": sparse,
                "promql_expr_test": [
                    // Without the guard the 5m and 1h ratios are far above 1.44% here.
                    {"expr": "slo:error_ratio:window5m{slo=\"guarded\"} > 0.0144",
                     "eval_time": "104m", "exp_samples": [{"labels": "slo:error_ratio:window5m{slo=\"guarded\"}", "value": 0.3333333333333333}]},
                    firing("guarded", 104, &[]),
                    firing("guarded", 110, &[]),
                ],
            },
            {
                "interval": "1m",
                "input_series": busy,
                "promql_expr_test": [
                    firing("guarded", 99, &[]),
                    firing("guarded", 106, &[("critical", "1h"), ("critical", "6h"), ("warning", "1d"), ("warning", "3d")]),
                ],
            },
        ]),
    );
}

#[test]
fn a_vanished_total_series_opens_a_no_data_ticket_after_its_for() {
    let f = Fixture::new();
    let absent_firing = |eval_min: u64, firing: bool| {
        json!({
            "expr": "count by (slo, severity) (ALERTS{alertname=\"SLOMetricAbsent\",alertstate=\"firing\",slo=\"avail\"})",
            "eval_time": format!("{eval_min}m"),
            "exp_samples": if firing {
                vec![json!({"labels": "{severity=\"warning\",slo=\"avail\"}", "value": 1})]
            } else {
                vec![]
            },
        })
    };
    f.promtool_test(
        "absent",
        json!([{
            "interval": "1m",
            // Scraped for an hour, then gone (the target was renamed, say): its last sample
            // leaves the 5m lookback at 64–65m, and the alert waits its 10m `for` after that.
            "input_series": [series(r#"http_requests_total{job="shop",code="200"}"#, counter(&[(1000.0, 60)]))],
            "promql_expr_test": [
                absent_firing(30, false),
                absent_firing(63, false),
                absent_firing(73, false),
                absent_firing(76, true),
                {
                    "expr": "ALERTS{alertname=\"SLOMetricAbsent\",slo=\"avail\",alertstate=\"pending\"}",
                    "eval_time": "70m",
                    "exp_samples": [{"labels": "ALERTS{alertname=\"SLOMetricAbsent\",alertstate=\"pending\",job=\"shop\",service=\"shop\",severity=\"warning\",slo=\"avail\",team=\"shop\"}", "value": 1}],
                },
            ],
        }]),
    );
}

#[test]
fn own_tiers_replace_the_workbook_table_in_what_fires() {
    // One page of its own: 30m/5m at 20× (an error ratio above 2%), and no other tier.
    let f = Fixture::of(
        r#"
name: tiers-test
metrics: {retention: 30d}
slos:
  - name: own
    service: shop
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="shop",code=~"5.."}
        total: http_requests_total{job="shop"}
    alerting:
      tiers:
        - {severity: critical, longWindow: 30m, shortWindow: 5m, burnRate: 20}
"#,
    );
    f.promtool_test(
        "own-tiers",
        json!([
            {
                // 1.8%: the Workbook's 1h/5m page (above 1.44%) would fire; this table's does not.
                "interval": "1m",
                "input_series": shop_traffic(&[(982.0, 120)], &[(18.0, 120)]),
                "promql_expr_test": [firing("own", 60, &[]), firing("own", 119, &[])],
            },
            {
                // 3% from the start: the 30m page fires, and only it.
                "interval": "1m",
                "input_series": shop_traffic(&[(970.0, 120)], &[(30.0, 120)]),
                "promql_expr_test": [firing("own", 60, &[("critical", "30m")]), firing("own", 119, &[("critical", "30m")])],
            },
        ]),
    );
}

#[test]
fn a_per_label_slo_pages_for_the_burning_group_alone() {
    // `groupBy: [route]`, with the minimum-traffic guard: each route has its own ratios, alerts
    // and guard.
    let f = Fixture::of(
        r#"
name: groups-test
metrics: {retention: 30d}
slos:
  - name: routes
    service: shop
    objective: 99.9
    window: 30d
    groupBy: [route]
    indicator:
      ratio:
        errors: http_requests_total{job="shop",code=~"5.."}
        total: http_requests_total{job="shop"}
    alerting:
      minEvents: 100
"#,
    );
    let route = |route: &str, code: &str, values: String| {
        series(
            &format!(r#"http_requests_total{{job="shop",route="{route}",code="{code}"}}"#),
            values,
        )
    };
    let input = vec![
        // /pay: 3% errors from minute 60 (30× the budget).
        route("/pay", "200", counter(&[(1000.0, 60), (970.0, 60)])),
        route("/pay", "500", counter(&[(0.0, 60), (30.0, 60)])),
        // /browse: busy and healthy, and no error series at all.
        route("/browse", "200", counter(&[(500.0, 120)])),
        // /rare: one failure among 3 requests at minute 101 — a 33% ratio, but far fewer than
        // 100 events in any long window, however busy the other routes are.
        route("/rare", "200", counter(&[(0.0, 100), (1.0, 2), (0.0, 18)])),
        route("/rare", "500", counter(&[(0.0, 101), (1.0, 1), (0.0, 18)])),
    ];
    let firing = |eval_min: u64, expected: &[(&str, &str, &str)]| {
        json!({
            "expr": "count by (route, severity, long_window) (ALERTS{alertname=\"SLOErrorBudgetBurn\",alertstate=\"firing\",slo=\"routes\"})",
            "eval_time": format!("{eval_min}m"),
            "exp_samples": expected.iter().map(|(route, severity, long)| json!({
                "labels": format!("{{long_window=\"{long}\",route=\"{route}\",severity=\"{severity}\"}}"),
                "value": 1,
            })).collect::<Vec<_>>(),
        })
    };
    let ratio5m = |route: &str, value: f64| json!({"labels": format!("slo:error_ratio:window5m{{route=\"{route}\",slo=\"routes\"}}"), "value": value});
    let pay = |long: &'static str, severity: &'static str| ("/pay", severity, long);
    f.promtool_test(
        "groups",
        json!([{
            "interval": "1m",
            "input_series": input,
            "promql_expr_test": [
                firing(50, &[]),
                // One series per route: /browse's missing error series count as zero errors.
                {"expr": "slo:error_ratio:window5m{slo=\"routes\"}", "eval_time": "104m",
                 "exp_samples": [ratio5m("/browse", 0.0), ratio5m("/pay", 0.03), ratio5m("/rare", 1.0 / 3.0)]},
                firing(104, &[pay("1h", "critical"), pay("6h", "critical"), pay("1d", "warning"), pay("3d", "warning")]),
                firing(119, &[pay("1h", "critical"), pay("6h", "critical"), pay("1d", "warning"), pay("3d", "warning")]),
            ],
        }]),
    );
}

/// The Workbook's table (ch. 5, with its 1d/2h row), written out rather than taken from obsctl:
/// long window, its minutes, the short window's minutes, and the error ratio both must exceed,
/// for 99.9% over 30d and 99% over 28d (burn rate = budget share × period / long window:
/// 14.4/6/3/1 and 13.44/5.6/2.8/0.9333…).
const WORKBOOK_WINDOWS: [(&str, u64, u64); 4] = [
    ("1h", 60, 5),
    ("6h", 360, 30),
    ("1d", 1440, 120),
    ("3d", 4320, 360),
];
const THRESHOLDS_999_30D: [f64; 4] = [0.0144, 0.006, 0.003, 0.001];
const THRESHOLDS_99_28D: [f64; 4] = [0.1344, 0.056, 0.028, 0.028 / 3.0];

/// Two SLOs at the Workbook's objectives, each on its own job, evaluated (and scraped) once a
/// minute like promtool's samples; nothing else, to keep promtool fast.
const TIERS_PROFILE: &str = r#"
name: tiers-test
metrics:
  retention: 30d
  scrapeInterval: 1m
slos:
  - name: p999
    service: a
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="a",code=~"5.."}
        total: http_requests_total{job="a"}
  - name: p99
    service: b
    objective: 99
    window: 28d
    indicator:
      ratio:
        errors: http_requests_total{job="b",code=~"5.."}
        total: http_requests_total{job="b"}
"#;

/// Whether the tier with `long` window of `slo` fires at `minute`.
fn tier_fires(slo: &str, long: &str, minute: u64, fires: bool) -> Value {
    json!({
        "expr": format!("count(ALERTS{{alertname=\"SLOErrorBudgetBurn\",alertstate=\"firing\",slo=\"{slo}\",long_window=\"{long}\"}})"),
        "eval_time": format!("{minute}m"),
        "exp_samples": if fires { json!([{"labels": "{}", "value": 1}]) } else { json!([]) },
    })
}

/// 60 requests a minute on `job`: healthy for `healthy` minutes, then `ratio` of them failing for
/// `bad` minutes, then healthy for `after` minutes.
fn phases(job: &str, healthy: usize, ratio: f64, bad: usize, after: usize) -> Vec<Value> {
    let ok = [
        (60.0, healthy),
        (60.0 * (1.0 - ratio), bad),
        (60.0, after.max(1)),
    ];
    let errors = [(0.0, healthy), (60.0 * ratio, bad), (0.0, after.max(1))];
    vec![
        series(
            &format!(r#"http_requests_total{{job="{job}",code="200"}}"#),
            counter(&ok),
        ),
        series(
            &format!(r#"http_requests_total{{job="{job}",code="500"}}"#),
            counter(&errors),
        ),
    ]
}

/// For each tier of one objective, under promtool (evaluated every minute, the profile's
/// interval), after a long window of healthy traffic:
/// - a full outage fires within the Workbook's detection time (threshold × long window) plus
///   one evaluation interval, and not earlier than one interval before it;
/// - once it stops, the alert resolves within the Workbook's reset time (short window ×
///   (1 − threshold)) plus one evaluation interval, and not earlier than one interval before it;
/// - an error ratio 5% above the tier's threshold fires within the Workbook's time for it
///   (threshold / ratio × long window) plus one evaluation interval, and not earlier than one
///   interval before it.
fn tiers_detect_and_reset_as_the_workbook_says(slo: &str, job: &str, thresholds: [f64; 4]) {
    let f = Fixture::of(TIERS_PROFILE);
    let mut groups = Vec::new();
    // The last minute at which the alert must still be in its old state, and the first at
    // which it must be in the new one, for a change the Workbook puts `t` minutes in.
    let bounds = |t: f64| {
        (
            (t - 1.0).ceil().max(1.0) as u64 - 1,
            (t + 1.0).floor() as u64,
        )
    };
    for ((long, long_min, short_min), threshold) in WORKBOOK_WINDOWS.iter().zip(thresholds) {
        let (w, s) = (*long_min as f64, *short_min as f64);
        let h = *long_min;
        // Full outage: long enough for the long window to exceed its threshold, and a little more.
        let detect = threshold * w;
        let bad = detect.ceil() as u64 + 3;
        let reset = s * (1.0 - threshold);
        let recovered = h + bad;
        let (quiet, fired) = bounds(detect);
        let (still, cleared) = bounds(reset);
        groups.push(json!({
            "name": format!("{slo} {long}: full outage"),
            "interval": "1m",
            "input_series": phases(job, h as usize, 1.0, bad as usize, reset.ceil() as usize + 3),
            "promql_expr_test": [
                tier_fires(slo, long, h, false),
                tier_fires(slo, long, h + quiet, false),
                tier_fires(slo, long, h + fired, true),
                tier_fires(slo, long, recovered + still, true),
                tier_fires(slo, long, recovered + cleared, false),
            ],
        }));
        // An error ratio just above the threshold.
        let ratio = threshold * 1.05;
        let detect = threshold / ratio * w;
        let (quiet, fired) = bounds(detect);
        groups.push(json!({
            "name": format!("{slo} {long}: 1.05 × threshold"),
            "interval": "1m",
            "input_series": phases(job, h as usize, ratio, fired as usize + 2, 1),
            "promql_expr_test": [
                tier_fires(slo, long, h + quiet, false),
                tier_fires(slo, long, h + fired, true),
            ],
        }));
    }
    f.promtool_test(&format!("tiers-{slo}"), Value::Array(groups));
}

#[test]
fn every_tier_detects_and_resets_as_the_workbook_says_at_99_9_over_30d() {
    tiers_detect_and_reset_as_the_workbook_says("p999", "a", THRESHOLDS_999_30D);
}

#[test]
fn every_tier_detects_and_resets_as_the_workbook_says_at_99_over_28d() {
    tiers_detect_and_reset_as_the_workbook_says("p99", "b", THRESHOLDS_99_28D);
}
