//! `obsctl slo report` against a real Prometheus holding a week of synthetic traffic (backfilled
//! with promtool), with the generated rules loaded: the budget figures match the hand-computed
//! truth within 1%, the policy states and the `--fail-on` gate follow, firing alerts are listed.

mod common;
mod slo_support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::obsctl;
use predicates::prelude::*;
use serde_json::Value;
use slo_support::{profile_and_rules, write_openmetrics, Prometheus, Series};

const WEEK: usize = 7 * 24 * 60;
/// One more day than the SLO window, so the window is full.
const MINUTES: usize = WEEK + 24 * 60;

const PROFILE: &str = r#"
name: report-test
metrics: {retention: 30d}
slos:
  - name: shop-availability
    service: shop
    objective: 99.9
    window: 7d
    indicator:
      ratio:
        errors: http_requests_total{job="shop",code=~"5.."}
        total: http_requests_total{job="shop"}
  - name: search-latency
    service: search
    objective: 95
    window: 7d
    indicator:
      latency:
        metric: http_request_duration_seconds{job="search"}
        threshold: 0.5
policy: {healthy: 50, low: 10}
"#;

/// 1000 requests a minute to each service. `shop` fails 0.01% of them, 2% for an hour on day 3,
/// and all of them in the last three minutes. `search` serves 0.5% slower than 0.5s, 30% for two
/// hours on day 4.
fn traffic() -> (Vec<Series>, Vec<f64>, Vec<f64>) {
    let mut shop_errors = vec![0.1; MINUTES];
    for m in shop_errors.iter_mut().skip(3 * 1440).take(60) {
        *m = 20.0;
    }
    for m in shop_errors.iter_mut().rev().take(3) {
        *m = 1000.0;
    }
    let shop_ok: Vec<f64> = shop_errors.iter().map(|e| 1000.0 - e).collect();
    let mut slow = vec![5.0; MINUTES];
    for m in slow.iter_mut().skip(4 * 1440).take(120) {
        *m = 300.0;
    }
    let all = vec![1000.0; MINUTES];
    let under = |f: fn(f64) -> f64| slow.iter().map(|&s| f(s)).collect::<Vec<f64>>();
    let h = "http_request_duration_seconds";
    let series = vec![
        Series {
            selector: r#"http_requests_total{job="shop",code="200"}"#.into(),
            per_minute: shop_ok,
        },
        Series {
            selector: r#"http_requests_total{job="shop",code="503"}"#.into(),
            per_minute: shop_errors.clone(),
        },
        Series {
            selector: format!(r#"{h}_bucket{{job="search",le="0.25"}}"#),
            per_minute: under(|s| 800.0 - s / 2.0),
        },
        Series {
            selector: format!(r#"{h}_bucket{{job="search",le="0.5"}}"#),
            per_minute: under(|s| 1000.0 - s),
        },
        Series {
            selector: format!(r#"{h}_bucket{{job="search",le="1"}}"#),
            per_minute: under(|s| 1000.0 - s / 2.0),
        },
        Series {
            selector: format!(r#"{h}_bucket{{job="search",le="+Inf"}}"#),
            per_minute: all.clone(),
        },
        Series {
            selector: format!(r#"{h}_count{{job="search"}}"#),
            per_minute: all.clone(),
        },
        Series {
            selector: format!(r#"{h}_sum{{job="search"}}"#),
            per_minute: under(|s| 100.0 + s),
        },
    ];
    (series, shop_errors, slow)
}

fn sum_last(v: &[f64], minutes: usize) -> f64 {
    v.iter().rev().take(minutes).sum()
}

fn assert_close(got: f64, want: f64, what: &str) {
    let tolerance = 0.01 * want.abs().max(1e-9);
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} (±1%)"
    );
}

fn report(url: &str, profile: &Path, extra: &[&str]) -> (Value, i32) {
    let out = obsctl()
        .args([
            "slo",
            "report",
            "--output",
            "json",
            "--prometheus-url",
            url,
            "--profile",
        ])
        .arg(profile)
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, out.status.code().unwrap_or(-1))
}

fn slo<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["report"]["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[test]
fn the_report_matches_the_hand_computed_budget_and_gates_deploys() {
    let dir = tempfile::tempdir().unwrap();
    let (profile, rules) = profile_and_rules(dir.path(), PROFILE);
    let end = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 60
        * 60;
    let (series, shop_errors, slow) = traffic();
    let data = dir.path().join("data.om");
    write_openmetrics(&data, &series, end);
    let prometheus = Prometheus::start(&data, &[rules], "1s");
    let url = prometheus.url.clone();

    // The truth, by hand: events over the last 7 days (10080 one-minute increases).
    let total = 1000.0 * WEEK as f64;
    let shop_ratio = sum_last(&shop_errors, WEEK) / total;
    let shop_remaining = 1.0 - shop_ratio / 0.001;
    let search_ratio = sum_last(&slow, WEEK) / total;
    let search_remaining = 1.0 - search_ratio / 0.05;
    assert!(
        (0.1..0.5).contains(&shop_remaining),
        "the data is built to leave shop low: {shop_remaining}"
    );
    assert!(
        search_remaining > 0.5,
        "and search healthy: {search_remaining}"
    );

    let at = end.to_string();
    let (r, code) = report(&url, &profile, &["--at", &at]);
    assert_eq!(code, 0, "{r}");
    let shop = slo(&r, "shop-availability");
    assert_close(
        shop["budget_remaining"].as_f64().unwrap(),
        shop_remaining,
        "shop budget remaining",
    );
    assert_close(shop["sli"].as_f64().unwrap(), 1.0 - shop_ratio, "shop SLI");
    assert_close(shop["total_events"].as_f64().unwrap(), total, "shop events");
    assert_eq!(shop["state"], "low");
    assert_eq!(shop["actions"], "more review; load tests for major changes");
    // The last three minutes failed completely: the 5m burn rate is 3000.2 / 5000 / 0.001.
    let burn = |s: &Value, w: &str| {
        s["burn_rates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["window"] == w)
            .and_then(|b| b["burn_rate"].as_f64())
            .unwrap_or_else(|| panic!("no {w} burn rate in {s}"))
    };
    assert_close(
        burn(shop, "5m"),
        sum_last(&shop_errors, 5) / 5000.0 / 0.001,
        "shop 5m burn",
    );
    assert_close(
        burn(shop, "1h"),
        sum_last(&shop_errors, 60) / 60000.0 / 0.001,
        "shop 1h burn",
    );
    assert_close(
        burn(shop, "3d"),
        sum_last(&shop_errors, 3 * 1440) / (3.0 * 1440.0 * 1000.0) / 0.001,
        "shop 3d burn",
    );

    let search = slo(&r, "search-latency");
    assert_close(
        search["budget_remaining"].as_f64().unwrap(),
        search_remaining,
        "search budget remaining",
    );
    assert_eq!(search["state"], "healthy");
    assert_close(burn(search, "1d"), 0.005 / 0.05, "search 1d burn");
    assert_eq!(
        r["report"]["time"].as_str().unwrap().len(),
        "2026-01-31T00:00:00Z".len()
    );

    // The deploy gate: shop is low, nothing is exhausted.
    let (r, code) = report(&url, &profile, &["--at", &at, "--fail-on", "low"]);
    assert_eq!(code, 1);
    assert_eq!(
        r["gate"]["failing"],
        serde_json::json!(["shop-availability"])
    );
    let (r, code) = report(&url, &profile, &["--at", &at, "--fail-on", "exhausted"]);
    assert_eq!(code, 0);
    assert_eq!(r["gate"]["passed"], true);

    // People's formats.
    obsctl()
        .args([
            "slo",
            "report",
            "--prometheus-url",
            &url,
            "--at",
            &at,
            "--profile",
        ])
        .arg(&profile)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("shop-availability")
                .and(predicate::str::contains("BURN RATE"))
                .and(predicate::str::contains(
                    "shop-availability: low — more review",
                ))
                .and(predicate::str::contains("\x1b[").not()),
        );
    obsctl()
        .args([
            "slo",
            "report",
            "--output",
            "markdown",
            "--prometheus-url",
            &url,
            "--at",
            &at,
            "--profile",
        ])
        .arg(&profile)
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("# SLO report · report-test").and(
                predicate::str::contains("| search-latency | search | 95% / 7d |"),
            ),
        );

    // A threshold that is no `le` boundary: no data, said plainly, and a gate cannot pass on it.
    let typo = dir.path().join("typo.yaml");
    fs::write(&typo, PROFILE.replace("threshold: 0.5", "threshold: 0.3")).unwrap();
    let (r, code) = report(&url, &typo, &["--at", &at, "--fail-on", "exhausted"]);
    assert_eq!(code, 1);
    let search = slo(&r, "search-latency");
    assert_eq!(search["state"], Value::Null);
    let notes = search["notes"].to_string();
    assert!(
        notes.contains("not one of the histogram's `le` boundaries"),
        "{notes}"
    );

    // The loaded rules see the final outage: the report lists the firing pages.
    prometheus.wait_for(
        "ALERTS{alertname=\"SLOErrorBudgetBurn\",alertstate=\"firing\",slo=\"shop-availability\",long_window=\"1h\"}",
        Duration::from_secs(90),
    );
    let (r, _) = report(&url, &profile, &[]);
    let firing: Vec<String> = slo(&r, "shop-availability")["firing_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}/{}",
                a["severity"].as_str().unwrap(),
                a["long_window"].as_str().unwrap(),
                a["short_window"].as_str().unwrap()
            )
        })
        .collect();
    assert!(firing.contains(&"critical 1h/5m".to_string()), "{firing:?}");
    let search = slo(&r, "search-latency");
    assert!(
        search["firing_alerts"].as_array().unwrap().is_empty(),
        "{search}"
    );
}

#[test]
fn an_unreachable_prometheus_fails_with_its_url_in_bounded_time() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    obsctl()
        .args([
            "slo",
            "report",
            "--profile",
            "production",
            "--timeout",
            "5s",
            "--prometheus-url",
            &url,
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!("cannot reach Prometheus at {url}"))
                // The cause, not the URL-encoded query reqwest would print.
                .and(predicate::str::contains("query=").not())
                .and(predicate::str::contains("%7B").not()),
        );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn bad_report_flags_exit_2() {
    obsctl()
        .args([
            "slo",
            "report",
            "--profile",
            "production",
            "--prometheus-url",
            "localhost:9090",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--prometheus-url"));
    obsctl()
        .args([
            "slo",
            "report",
            "--profile",
            "production",
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--at",
            "last tuesday",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--at"));
}

#[test]
fn a_per_label_slo_reports_each_group_worst_first() {
    let dir = tempfile::tempdir().unwrap();
    let (profile, rules) = profile_and_rules(
        dir.path(),
        r#"
name: groups-report
metrics: {retention: 30d}
slos:
  - name: routes
    service: shop
    objective: 99.9
    window: 7d
    groupBy: [route]
    indicator:
      ratio:
        errors: http_requests_total{job="shop",code=~"5.."}
        total: http_requests_total{job="shop"}
"#,
    );
    let end = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 60
        * 60;
    // 1000 requests a minute per route: /browse fails 0.02% (a fifth of the budget), /pay 0.2%
    // (twice it), /search never (and has no error series at all).
    let route = |route: &str, code: &str, per_minute: f64| Series {
        selector: format!(r#"http_requests_total{{job="shop",route="{route}",code="{code}"}}"#),
        per_minute: vec![per_minute; MINUTES],
    };
    let series = vec![
        route("/browse", "200", 999.8),
        route("/browse", "500", 0.2),
        route("/pay", "200", 998.0),
        route("/pay", "500", 2.0),
        route("/search", "200", 1000.0),
    ];
    let data = dir.path().join("data.om");
    write_openmetrics(&data, &series, end);
    let prometheus = Prometheus::start(&data, &[rules], "1s");
    let at = end.to_string();
    let (r, code) = report(
        &prometheus.url,
        &profile,
        &["--at", &at, "--fail-on", "exhausted"],
    );
    assert_eq!(code, 1, "{r}");
    let slos = r["report"]["slos"].as_array().unwrap();
    let groups: Vec<(&str, &str, &str)> = slos
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["group"]["route"].as_str().unwrap(),
                s["state"].as_str().unwrap_or("no data"),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("routes", "/pay", "exhausted"),
            ("routes", "/browse", "healthy"),
            ("routes", "/search", "healthy")
        ]
    );
    // By hand: 1 − ratio / 0.001 over the week's 10,080,000 requests of each route.
    assert_close(
        slos[0]["budget_remaining"].as_f64().unwrap(),
        1.0 - 0.002 / 0.001,
        "/pay",
    );
    assert_close(
        slos[1]["budget_remaining"].as_f64().unwrap(),
        1.0 - 0.0002 / 0.001,
        "/browse",
    );
    assert_eq!(slos[2]["budget_remaining"].as_f64(), Some(1.0), "/search");
    assert_close(
        slos[0]["total_events"].as_f64().unwrap(),
        1000.0 * WEEK as f64,
        "/pay events",
    );
    assert_eq!(
        r["gate"]["failing"],
        serde_json::json!(["routes{route=\"/pay\"}"])
    );
    // People's table names each group.
    obsctl()
        .args([
            "slo",
            "report",
            "--prometheus-url",
            &prometheus.url,
            "--at",
            &at,
            "--profile",
        ])
        .arg(&profile)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("routes{route=\"/pay\"}").and(predicate::str::contains(
                "routes{route=\"/browse\"}: healthy",
            )),
        );
}
