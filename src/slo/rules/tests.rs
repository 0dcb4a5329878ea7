//! Generated SLO rules: names, windows, thresholds and alert labels for each tier.

use super::*;
use crate::profile::{load, load_file, Profile};

fn profile(slos: &str) -> Profile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(
        &path,
        format!("name: t\nmetrics:\n  retention: 30d\nslos:\n{slos}"),
    )
    .unwrap();
    load_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn records(group: &RuleGroup) -> Vec<&str> {
    group
        .rules
        .iter()
        .filter_map(|r| match r {
            Rule::Record { record, .. } => Some(record.as_str()),
            Rule::Alert { .. } => None,
        })
        .collect()
}

/// The burn-rate alerts (one per tier).
fn alerts(groups: &[RuleGroup]) -> Vec<(&BTreeMap<String, String>, &str)> {
    groups
        .iter()
        .flat_map(|g| &g.rules)
        .filter_map(|r| match r {
            Rule::Alert {
                alert,
                labels,
                expr,
                ..
            } if alert == ALERT_NAME => Some((labels, expr.as_str())),
            _ => None,
        })
        .collect()
}

/// The `SLOMetricAbsent` alert: its expression, `for` and labels.
fn absent(groups: &[RuleGroup]) -> Option<(&str, Option<&str>, &BTreeMap<String, String>)> {
    groups.iter().flat_map(|g| &g.rules).find_map(|r| match r {
        Rule::Alert {
            alert,
            expr,
            for_,
            labels,
            ..
        } if alert == ABSENT_ALERT_NAME => Some((expr.as_str(), for_.as_deref(), labels)),
        _ => None,
    })
}

const AVAIL: &str = r#"
  - name: avail
    service: shop
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="shop",code=~"5.."}
        total: http_requests_total{job="shop"}
"#;

#[test]
fn at_most_ten_recording_rules_and_one_alert_per_tier() {
    for name in ["production", "ha"] {
        let stack = load(name).unwrap().stack;
        for slo in &stack.slos {
            let groups = groups(&stack, slo);
            let recorded: usize = groups.iter().map(|g| records(g).len()).sum();
            assert!(recorded <= 10, "{}: {recorded} recording rules", slo.name);
            assert_eq!(recorded, 10);
            assert_eq!(alerts(&groups).len(), 4);
        }
    }
}

#[test]
fn short_windows_are_raw_and_long_windows_derived_from_the_base_recordings() {
    let p = profile(AVAIL);
    let slo = &p.stack.slos[0];
    let groups = groups(&p.stack, slo);
    assert_eq!(
        records(&groups[0]),
        [
            "slo:errors:increase5m",
            "slo:total:increase5m",
            "slo:error_ratio:window5m",
            "slo:error_ratio:window30m",
            "slo:error_ratio:window1h",
            "slo:error_ratio:window2h",
            "slo:error_ratio:window6h",
            "slo:error_ratio:window1d",
            "slo:error_ratio:window3d",
        ]
    );
    assert_eq!(records(&groups[1]), ["slo:error_ratio:window30d"]);
    // The derived windows count increases recorded at the scrape interval, so the group pins it.
    assert_eq!(
        groups[0].interval.as_deref(),
        Some(p.stack.metrics.scrape_interval.to_string().as_str())
    );
    assert_eq!(groups[1].interval.as_deref(), Some("2m"));
    let sources: Vec<(u64, WindowSource)> = [300, 1800, 3600, 7200, 21600, 86400, 259200, 2592000]
        .into_iter()
        .map(|s| (s, window_source(slo, s)))
        .collect();
    use WindowSource::*;
    assert_eq!(
        sources,
        [
            (300, Base),
            (1800, Raw),
            (3600, Derived),
            (7200, Raw),
            (21600, Raw),
            (86400, Derived),
            (259200, Derived),
            (2592000, Steps),
        ]
    );
    let exprs: Vec<&str> = groups
        .iter()
        .flat_map(|g| &g.rules)
        .filter_map(|r| match r {
            Rule::Record { expr, .. } => Some(expr.as_str()),
            _ => None,
        })
        .collect();
    // The source series are read by the two base rules over 5m and by the short windows.
    let raw_ranges: Vec<&str> = exprs
        .iter()
        .filter(|e| e.contains("http_requests_total"))
        .map(|e| {
            let at = e.find('[').unwrap() + 1;
            &e[at..at + e[at..].find(']').unwrap()]
        })
        .collect();
    assert_eq!(raw_ranges, ["5m", "5m", "30m", "2h", "6h"]);
    let interval = p.stack.metrics.scrape_interval.as_secs();
    let per_base = number(300.0 / interval as f64);
    assert_eq!(
        exprs[4],
        format!(
            "(slo:errors:increase5m{{slo=\"avail\"}} + (sum_over_time(slo:errors:increase5m{{slo=\"avail\"}}[55m] offset 2m30s) / {per_base} or 0 * slo:errors:increase5m{{slo=\"avail\"}})) / (slo:total:increase5m{{slo=\"avail\"}} + (sum_over_time(slo:total:increase5m{{slo=\"avail\"}}[55m] offset 2m30s) / {per_base} or 0 * slo:total:increase5m{{slo=\"avail\"}}))"
        )
    );
}

#[test]
fn alerts_follow_the_multiwindow_multi_burn_rate_table() {
    let p = profile(AVAIL);
    let groups = groups(&p.stack, &p.stack.slos[0]);
    let got: Vec<(String, String, String, &str)> = alerts(&groups)
        .into_iter()
        .map(|(l, expr)| {
            (
                l["severity"].clone(),
                l["long_window"].clone(),
                l["short_window"].clone(),
                expr,
            )
        })
        .collect();
    let want = [
        ("critical", "1h", "5m", "0.0144"),
        ("critical", "6h", "30m", "0.006"),
        ("warning", "1d", "2h", "0.003"),
        ("warning", "3d", "6h", "0.001"),
    ];
    for ((severity, long, short, expr), (ws, wl, wsh, threshold)) in got.iter().zip(want) {
        assert_eq!(
            (severity.as_str(), long.as_str(), short.as_str()),
            (ws, wl, wsh)
        );
        assert_eq!(
            *expr,
            format!("(slo:error_ratio:window{long}{{slo=\"avail\"}} > {threshold} and slo:error_ratio:window{short}{{slo=\"avail\"}} > {threshold}) / 0.001")
        );
    }
    for group in &groups {
        for rule in &group.rules {
            if let Rule::Alert { alert, labels, .. } = rule {
                assert!(alert == ALERT_NAME || alert == ABSENT_ALERT_NAME, "{alert}");
                assert_eq!(labels["slo"], "avail");
                assert_eq!(labels["service"], "shop");
            }
        }
    }
}

#[test]
fn thresholds_are_exact_decimals_for_any_objective_and_window() {
    let p = profile(
        r#"
  - name: odd
    service: s
    objective: 99.95
    window: 28d
    indicator:
      ratio:
        errors: e_total
        total: t_total
"#,
    );
    let groups = groups(&p.stack, &p.stack.slos[0]);
    let exprs: Vec<&str> = alerts(&groups).into_iter().map(|(_, e)| e).collect();
    // 13.44 × 0.0005, 5.6 × 0.0005, 2.8 × 0.0005, 0.9333… × 0.0005.
    assert!(exprs[0].contains("> 0.00672 and"), "{}", exprs[0]);
    assert!(exprs[1].contains("> 0.0028 and"), "{}", exprs[1]);
    assert!(exprs[2].contains("> 0.0014 and"), "{}", exprs[2]);
    assert!(exprs[3].contains("> 0.000466666667 and"), "{}", exprs[3]);
    assert!(exprs.iter().all(|e| e.ends_with(") / 0.0005")));
    for e in exprs {
        assert!(!e.contains("0000000000001") && !e.contains("999999"), "{e}");
    }
}

#[test]
fn a_tier_that_can_never_fire_gets_no_alert_nor_windows() {
    let p = profile(
        r#"
  - name: lax
    service: s
    objective: 90
    window: 30d
    indicator:
      ratio:
        errors: e_total
        total: t_total
    alerting: {ticket: false}
"#,
    );
    let groups = groups(&p.stack, &p.stack.slos[0]);
    let tiers: Vec<String> = alerts(&groups)
        .iter()
        .map(|(l, _)| format!("{} {}", l["severity"], l["long_window"]))
        .collect();
    assert_eq!(
        tiers,
        ["critical 6h"],
        "14.4 × 10% > 100%: the 1h tier is dead"
    );
    assert_eq!(
        records(&groups[0])[2..],
        [
            "slo:error_ratio:window5m",
            "slo:error_ratio:window30m",
            "slo:error_ratio:window6h"
        ]
    );
}

#[test]
fn good_and_latency_indicators_count_bad_events_from_the_total() {
    let p = profile(
        r#"
  - name: good
    service: s
    objective: 99
    window: 30d
    indicator:
      ratio:
        good: rpc_total{code="OK"}
        total: rpc_total
  - name: lat
    service: s
    objective: 95
    window: 30d
    indicator:
      latency:
        metric: h_seconds{job="a"}
        threshold: 1
"#,
    );
    let good = &p.stack.slos[0];
    assert_eq!(
        errors_expr(good, "5m"),
        "clamp_min(sum(increase(rpc_total[5m])) - (sum(increase(rpc_total{code=\"OK\"}[5m])) or 0 * sum(increase(rpc_total[5m]))), 0)"
    );
    let lat = &p.stack.slos[1];
    assert_eq!(
        errors_expr(lat, "30d"),
        "clamp_min(sum(increase(h_seconds_count{job=\"a\"}[30d])) - sum(increase(h_seconds_bucket{job=\"a\",le=~\"1(\\\\.0)?\"}[30d])), 0)"
    );
    assert_eq!(
        total_expr(lat, "1h"),
        "sum(increase(h_seconds_count{job=\"a\"}[1h]))"
    );
}

#[test]
fn a_window_that_is_also_an_alert_window_is_recorded_once() {
    let p = profile(
        r#"
  - name: short
    service: s
    objective: 99
    window: 3d
    indicator:
      ratio:
        errors: e_total
        total: t_total
"#,
    );
    let groups = groups(&p.stack, &p.stack.slos[0]);
    assert_eq!(groups.len(), 1);
    let all: Vec<&str> = records(&groups[0]);
    let unique: std::collections::BTreeSet<&&str> = all.iter().collect();
    assert_eq!(all.len(), unique.len());
}

#[test]
fn user_labels_go_on_alerts_only_and_cannot_shadow_generated_ones() {
    let p = profile(
        r#"
  - name: avail
    service: shop
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: e_total
        total: t_total
    alerting: {labels: {team: shop, tier: gold}}
"#,
    );
    for group in groups(&p.stack, &p.stack.slos[0]) {
        for rule in group.rules {
            match rule {
                Rule::Record { labels, .. } => {
                    assert_eq!(labels.keys().collect::<Vec<_>>(), ["slo"])
                }
                Rule::Alert { labels, .. } => {
                    assert_eq!(labels["team"], "shop");
                    assert_eq!(labels["tier"], "gold");
                }
            }
        }
    }
}

#[test]
fn prometheus_rules_are_one_object_per_slo_in_the_profile_namespace() {
    let stack = load("production").unwrap().stack;
    let objects = prometheus_rules(&stack);
    assert_eq!(objects.len(), 2);
    let first = serde_json::to_value(&objects[0]).unwrap();
    assert_eq!(first["kind"], "PrometheusRule");
    assert_eq!(first["metadata"]["name"], "slo-checkout-availability");
    assert_eq!(first["metadata"]["namespace"], "monitoring");
    assert_eq!(
        first["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "obsctl"
    );
    assert_eq!(
        first["spec"]["groups"][0]["name"],
        "slo-checkout-availability"
    );
    let file = serde_json::to_value(rule_file(&stack)).unwrap();
    assert_eq!(file["groups"].as_array().unwrap().len(), 4);
}

#[test]
fn a_missing_total_series_gets_a_ticket_after_its_for_unless_turned_off() {
    let p = profile(AVAIL);
    let avail_groups = groups_of(&p);
    let (expr, for_, labels) = absent(&avail_groups).expect("on by default");
    assert_eq!(expr, "absent(http_requests_total{job=\"shop\"})");
    assert_eq!(for_, Some("10m"));
    assert_eq!(labels["severity"], "warning");
    assert_eq!(labels["slo"], "avail");
    assert!(!labels.contains_key("long_window"));

    let latency = profile(
        r#"
  - name: fast
    service: search
    objective: 99
    window: 30d
    indicator:
      latency:
        metric: http_request_duration_seconds{job="search"}
        threshold: 0.5
    alerting: {absentFor: 30m}
"#,
    );
    let latency_groups = groups_of(&latency);
    let (expr, for_, _) = absent(&latency_groups).unwrap();
    assert_eq!(
        expr,
        "absent(http_request_duration_seconds_count{job=\"search\"})"
    );
    assert_eq!(for_, Some("30m"));

    let off = profile(&format!("{AVAIL}    alerting: {{absent: false}}\n"));
    assert!(absent(&groups_of(&off)).is_none());
}

fn groups_of(p: &Profile) -> Vec<RuleGroup> {
    groups(&p.stack, &p.stack.slos[0])
}

#[test]
fn own_tiers_replace_the_workbook_table_and_keep_page_and_ticket() {
    let p = profile(&format!(
        "{AVAIL}    alerting:\n      tiers:\n        - {{severity: critical, longWindow: 2h, shortWindow: 10m, burnRate: 10}}\n        - {{severity: warning, longWindow: 1d, shortWindow: 2h, burnRate: 2.5}}\n"
    ));
    let g = groups_of(&p);
    let got: Vec<(String, String, String, &str)> = alerts(&g)
        .into_iter()
        .map(|(l, e)| {
            (
                l["severity"].clone(),
                l["long_window"].clone(),
                l["short_window"].clone(),
                e,
            )
        })
        .collect();
    // 10 × 0.001 and 2.5 × 0.001, both windows above it.
    assert_eq!(
        got,
        [
            (
                "critical".to_string(),
                "2h".to_string(),
                "10m".to_string(),
                "(slo:error_ratio:window2h{slo=\"avail\"} > 0.01 and slo:error_ratio:window10m{slo=\"avail\"} > 0.01) / 0.001"
            ),
            (
                "warning".to_string(),
                "1d".to_string(),
                "2h".to_string(),
                "(slo:error_ratio:window1d{slo=\"avail\"} > 0.0025 and slo:error_ratio:window2h{slo=\"avail\"} > 0.0025) / 0.001"
            ),
        ]
    );
    let windows: Vec<String> = alert_windows(&p.stack.slos[0])
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(windows, ["5m", "10m", "2h", "1d"]);

    let no_page = profile(&format!(
        "{AVAIL}    alerting:\n      page: false\n      tiers:\n        - {{severity: critical, longWindow: 2h, shortWindow: 10m, burnRate: 10}}\n        - {{severity: warning, longWindow: 1d, shortWindow: 2h, burnRate: 2.5}}\n"
    ));
    let severities: Vec<String> = alerts(&groups_of(&no_page))
        .iter()
        .map(|(l, _)| l["severity"].clone())
        .collect();
    assert_eq!(severities, ["warning"]);
}

#[test]
fn a_per_label_slo_sums_by_its_labels_and_names_the_group_in_its_alerts() {
    let p = profile(
        r#"
  - name: good
    service: s
    objective: 99
    window: 30d
    groupBy: [route, method]
    indicator:
      ratio:
        good: rpc_total{code="OK"}
        total: rpc_total
    alerting: {minEvents: 50}
"#,
    );
    let slo = &p.stack.slos[0];
    let by = "sum by (route, method)";
    assert_eq!(
        errors_expr(slo, "5m"),
        format!("clamp_min({by}(increase(rpc_total[5m])) - ({by}(increase(rpc_total{{code=\"OK\"}}[5m])) or 0 * {by}(increase(rpc_total[5m]))), 0)")
    );
    assert_eq!(
        total_expr(slo, "1h"),
        format!("{by}(increase(rpc_total[1h]))")
    );
    let groups = groups_of(&p);
    let (_, expr) = alerts(&groups)[0];
    assert!(
        expr.ends_with(&format!(
            " and on(route, method) {by}(increase(rpc_total[1h])) >= 50"
        )),
        "{expr}"
    );
    let summary = groups[0]
        .rules
        .iter()
        .find_map(|r| match r {
            Rule::Alert { annotations, .. } => Some(annotations["summary"].clone()),
            Rule::Record { .. } => None,
        })
        .unwrap();
    assert!(
        summary.starts_with(
            "good route={{ $labels.route }}, method={{ $labels.method }} (s) is burning"
        ),
        "{summary}"
    );
    // One group of it, as the reports read it: the selectors and the recorded series pinned.
    let pay = slo.group(&BTreeMap::from([
        ("method".to_string(), "POST".to_string()),
        ("route".to_string(), "/pay".to_string()),
    ]));
    assert_eq!(
        total_expr(&pay, "1h"),
        format!("{by}(increase(rpc_total{{method=\"POST\",route=\"/pay\"}}[1h]))")
    );
    assert_eq!(
        series_matcher(&pay),
        "{slo=\"good\",method=\"POST\",route=\"/pay\"}"
    );
    assert_eq!(pay.display_name(), "good{method=\"POST\",route=\"/pay\"}");
    let explained = crate::slo::explain::explain_slo(slo, None);
    assert!(explained
        .text()
        .contains("  per route, method: each group has its own SLI, error budget and alerts"));
    assert_eq!(
        serde_json::to_value(explained.to_json()).unwrap()["group_by"],
        json!(["route", "method"])
    );
}
