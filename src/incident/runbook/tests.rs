//! Runbook tests: impact arithmetic, links that resolve, Explore links that decode, goldens.

use std::collections::BTreeSet;

use super::*;
use crate::profile::{load, load_file};

fn production() -> Stack {
    load("production").unwrap().stack
}

fn stack_from(text: &str) -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, text).unwrap();
    load_file(&path).unwrap().stack
}

/// Production with the link settings of `extra` added at the top level.
fn production_with(extra: &str) -> Stack {
    let text = crate::profile::builtin_source("production").unwrap();
    stack_from(&format!("{text}\n{extra}"))
}

/// Production with one line of its source replaced (the line must be there).
fn production_edited(from: &str, to: &str) -> Stack {
    let text = crate::profile::builtin_source("production").unwrap();
    assert!(text.contains(from), "production no longer has `{from}`");
    stack_from(&text.replace(from, to))
}

/// The ids of the explicit anchors of a Markdown runbook.
fn anchors(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix("<a id=\""))
        .filter_map(|l| l.split_once('"').map(|(id, _)| id.to_string()))
        .collect()
}

/// Every `runbook_url` of the generated alerts, with the SLO it belongs to.
fn runbook_urls(stack: &Stack) -> Vec<(String, String)> {
    let rules = serde_json::to_value(rules::rule_file(stack)).unwrap();
    let mut out = vec![];
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if rule.get("alert").is_some() {
                out.push((
                    rule["labels"]["slo"].as_str().unwrap().to_string(),
                    rule["annotations"]["runbook_url"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn every_runbook_url_with_a_base_url_opens_an_existing_section() {
    let stack = production_with("runbooks: {baseUrl: 'https://git.shop.internal/ops/runbooks'}\n");
    let rendered = crate::render::render_unchecked(&stack);
    let urls = runbook_urls(&stack);
    assert_eq!(
        urls.len(),
        10,
        "four tiers and the no-data alert of two SLOs"
    );
    for (slo, url) in urls {
        let (file, anchor) = url
            .strip_prefix("https://git.shop.internal/ops/runbooks/")
            .and_then(|rest| rest.split_once('#'))
            .unwrap_or_else(|| panic!("{url}"));
        let runbook = rendered
            .runbooks
            .iter()
            .find(|r| r.path == format!("runbooks/{file}"))
            .unwrap_or_else(|| panic!("{url}: no runbooks/{file} in the render"));
        assert_eq!(file, format!("{slo}.md"));
        assert!(
            anchors(&runbook.text).contains(anchor),
            "{url}: no section `{anchor}`"
        );
    }
}

/// The uids of the runbook dashboards the render provisions.
fn provisioned_dashboard_uids(stack: &Stack) -> BTreeSet<String> {
    let rendered = crate::render::render_unchecked(stack);
    let manifest = rendered
        .manifests
        .iter()
        .find(|m| m.path == "manifests/runbook-dashboards.yaml")
        .expect("runbook dashboards are rendered");
    manifest
        .objects
        .iter()
        .flat_map(|cm| {
            let cm = serde_json::to_value(cm).unwrap();
            assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
            let data = cm["data"].as_object().unwrap().clone();
            data.into_iter().map(|(_, text)| {
                let d: serde_json::Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
                d["uid"].as_str().unwrap().to_string()
            })
        })
        .collect()
}

#[test]
fn without_a_base_url_every_runbook_url_opens_a_provisioned_dashboard() {
    for (stack, base) in [
        (
            production_edited(
                "  # url: https://grafana.shop.internal",
                "  url: https://grafana.shop.internal",
            ),
            "https://grafana.shop.internal",
        ),
        (
            production(),
            "http://grafana.monitoring.svc.cluster.local:80",
        ),
    ] {
        let uids = provisioned_dashboard_uids(&stack);
        assert_eq!(uids.len(), stack.slos.len());
        for (slo, url) in runbook_urls(&stack) {
            let uid = url
                .strip_prefix(&format!("{base}/d/"))
                .unwrap_or_else(|| panic!("{url}"));
            assert!(uids.contains(uid), "{url}: no dashboard {uid}");
            assert_eq!(
                uid,
                links::dashboard_uid(stack.slos.iter().find(|s| s.name.as_str() == slo).unwrap())
            );
        }
    }
}

#[test]
fn an_explicit_runbook_url_wins() {
    let text = crate::profile::builtin_source("production")
        .unwrap()
        .replacen(
        "      labels: {team: checkout}\n",
        "      labels: {team: checkout}\n      runbookUrl: https://wiki.shop.internal/checkout\n",
        1,
    );
    let stack = stack_from(&format!(
        "{text}\nrunbooks: {{baseUrl: 'https://x.shop.internal'}}\n"
    ));
    let urls = runbook_urls(&stack);
    assert!(urls[..5]
        .iter()
        .all(|(_, u)| u == "https://wiki.shop.internal/checkout"));
    assert!(urls[5..]
        .iter()
        .all(|(_, u)| u.starts_with("https://x.shop.internal/checkout-latency.md#")));
}

#[test]
fn every_explore_link_opens_its_query_on_a_provisioned_datasource() {
    let stack = production();
    let rendered = crate::render::render_unchecked(&stack);
    let kps = rendered.release("kube-prometheus-stack").unwrap();
    let provisioned: BTreeSet<String> = serde_json::to_value(&kps.values).unwrap()["grafana"]
        ["additionalDataSources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["uid"].as_str().unwrap().to_string())
        .collect();
    let mut languages = BTreeSet::new();
    for rb in runbooks(&stack) {
        let queries = rb.investigation.iter().chain([&rb.verify_recovery.query]);
        for q in queries.filter(|q| !q.explore.is_empty()) {
            let (uid, query) = crate::incident::explore::tests::open(&q.explore);
            assert_eq!(query, q.query, "{}", q.title);
            assert!(provisioned.contains(&uid), "{uid} is not provisioned");
            let expected = match q.language {
                "promql" => "prometheus",
                "logql" => "loki",
                "traceql" => "tempo",
                other => panic!("{other}"),
            };
            assert_eq!(uid, expected, "{}", q.title);
            languages.insert(q.language);
            // The Markdown carries the same link.
            assert!(markdown(&rb).contains(&q.explore));
        }
    }
    assert_eq!(languages.len(), 3, "{languages:?}");
}

#[test]
fn impact_is_computed_from_the_tiers_of_the_rules() {
    let stack = production();
    let rb = runbook(&stack, &stack.slos[0]);
    let figures: Vec<(&str, &str, &str, &str)> = rb
        .alerts
        .iter()
        .map(|a| {
            (
                a.burn_rate_text.as_str(),
                a.error_ratio_threshold_text.as_str(),
                a.budget_per_hour_text.as_str(),
                a.exhaustion_text.as_str(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("14.4×", "1.44%", "2%", "50 hours"),
            ("6×", "0.6%", "0.8333%", "5 days"),
            ("3×", "0.3%", "0.4167%", "10 days"),
            ("1×", "0.1%", "0.1389%", "30 days"),
        ]
    );
    assert_eq!(rb.budget.allowed_downtime, "43.2 minutes");
    // The same numbers the rules compare against.
    let rules = serde_json::to_value(rules::rule_file(&stack)).unwrap();
    let alert_exprs: Vec<String> = rules["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("alert").is_some())
        .map(|r| r["expr"].as_str().unwrap().to_string())
        .collect();
    for (a, expr) in rb.alerts.iter().zip(&alert_exprs) {
        let threshold =
            (Exact::parse_decimal(&a.error_ratio_threshold.to_string(), 12).unwrap()).to_string();
        assert!(
            expr.contains(&format!("> {threshold} ")),
            "{expr} vs {threshold}"
        );
    }
    let latency = runbook(&stack, &stack.slos[1]);
    assert_eq!(latency.budget.allowed_downtime, "36 hours");
    assert_eq!(latency.alerts[0].error_ratio_threshold_text, "72%");
}

#[test]
fn the_alert_is_quoted_with_its_exact_name_and_labels() {
    let stack = production();
    let rb = runbook(&stack, &stack.slos[0]);
    let a = &rb.alerts[0];
    assert_eq!(a.alert, "SLOErrorBudgetBurn");
    let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(
        labels,
        [
            "long_window=1h",
            "service=checkout",
            "severity=critical",
            "short_window=5m",
            "slo=checkout-availability",
            "team=checkout"
        ]
    );
    assert_eq!(a.incident_level, "SEV2");
    assert_eq!(rb.alerts[2].incident_level, "SEV3");
}

#[test]
fn logs_and_traces_are_queried_by_the_labels_the_collector_writes() {
    let stack = production();
    let rb = runbook(&stack, &stack.slos[0]);
    let logs = rb
        .investigation
        .iter()
        .find(|q| q.language == "logql")
        .unwrap();
    assert_eq!(
        logs.query,
        format!(
            "{{{}=\"checkout\", {}=\"shop\"}} | {}=~\"error|critical|fatal\"",
            labels::SERVICE_NAME.loki_label,
            labels::NAMESPACE.loki_label,
            labels::LOG_LEVEL_METADATA
        )
    );
    let traces = rb
        .investigation
        .iter()
        .find(|q| q.language == "traceql")
        .unwrap();
    assert_eq!(
        traces.query,
        "{ resource.service.name = \"checkout\" && status = error }"
    );
    let latency = runbook(&stack, &stack.slos[1]);
    assert!(latency.investigation.iter().any(|q| q.query
        == "{ resource.service.name = \"checkout\" && kind = server && duration > 500ms }"));
    assert!(latency.investigation.iter().any(|q| q.query
        == "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"checkout\"}[5m])))"));
}

#[test]
fn commands_are_filled_in_with_the_namespace_and_workload() {
    let stack = production();
    let rb = runbook(&stack, &stack.slos[0]);
    let commands: Vec<&str> = rb
        .mitigation
        .iter()
        .flat_map(|s| s.commands.iter().map(String::as_str))
        .collect();
    for expected in [
        "kubectl -n shop rollout history deployment/checkout",
        "kubectl -n shop rollout undo deployment/checkout",
        "kubectl -n shop set env deployment/checkout FEATURE_NEW_CHECKOUT=false",
    ] {
        assert!(commands.contains(&expected), "{expected} in {commands:#?}");
    }
    assert_eq!(rb.mitigation.last().unwrap().source, "team");
    assert_eq!(
        rb.dependencies[0].url,
        "http://grafana.monitoring.svc.cluster.local:80/dashboards?query=payments"
    );
}

#[test]
fn an_slo_without_a_runbook_block_still_gets_a_complete_runbook() {
    let stack = stack_from("name: t\nmetrics: {retention: 30d}\nslos:\n  - name: api-availability\n    service: api\n    objective: 99.5\n    window: 28d\n    indicator: {ratio: {good: 'req_total{code!~\"5..\"}', total: req_total}}\n");
    let rb = runbook(&stack, &stack.slos[0]);
    assert_eq!(rb.workload.as_deref(), Some("deployment/api"));
    assert!(rb.mitigation.iter().any(|s| s
        .commands
        .contains(&"kubectl rollout undo deployment/api".to_string())));
    // 28d: the page is 13.44×, still 2% per hour and 50 h; 0.5% of 28d is 201.6 minutes.
    assert_eq!(rb.alerts[0].burn_rate_text, "13.44×");
    assert_eq!(rb.alerts[0].budget_per_hour_text, "2%");
    assert_eq!(rb.alerts[0].exhaustion_text, "50 hours");
    assert_eq!(rb.budget.allowed_downtime, "3.4 hours");
    assert_eq!(rb.alerts[0].incident_level, "SEV2");
    let text = markdown(&rb);
    assert!(
        text.contains("**No escalation path in the profile.**"),
        "{text}"
    );
    assert!(text.contains("[Open in Grafana Explore]"));
    assert!(text.contains("1 - sum by (pod) (rate(req_total{code!~\"5..\"}[5m])) / sum by (pod) (rate(req_total[5m]))"));
    assert!(text.contains("<incident channel>"));
}

#[test]
fn the_postmortem_rule_follows_the_policy() {
    let stack = production();
    let rb = runbook(&stack, &stack.slos[0]);
    // 20% of 43.2 minutes; 20% of the budget at 14.4× (2%/h) is 10 h, at 6× 1 day.
    assert!(
        rb.postmortem
            .rule
            .contains("more than 20% of the 30d error budget"),
        "{}",
        rb.postmortem.rule
    );
    assert!(rb.postmortem.rule.contains("8.6 minutes of full outage, or 10 hours at the 1h page's 14.4×, or 24 hours at the 6h page's 6×"), "{}", rb.postmortem.rule);
    assert_eq!(
        rb.postmortem.command,
        "obsctl postmortem --profile production --slo checkout-availability --from <start, e.g. 2026-01-31T09:12:00Z> --to <end>"
    );
}

#[test]
fn runbook_dashboards_load_with_the_render_uids() {
    let stack = production();
    for slo in &stack.slos {
        let rb = runbook(&stack, slo);
        let cm = serde_json::to_value(config_map(&stack, slo, &rb, "prometheus")).unwrap();
        let (file, text) = cm["data"].as_object().unwrap().iter().next().unwrap();
        assert_eq!(file, &format!("{}.json", links::dashboard_uid(slo)));
        let d: serde_json::Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
        assert_eq!(d["uid"], links::dashboard_uid(slo));
        let panels = d["panels"].as_array().unwrap();
        let mut ids = BTreeSet::new();
        for p in panels {
            assert!(ids.insert(p["id"].as_u64().unwrap()), "unique panel ids");
            for t in p["targets"].as_array().into_iter().flatten() {
                assert_eq!(t["datasource"]["uid"], "prometheus");
                assert!(t["expr"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("slo=\"{}\"", slo.name)));
            }
        }
        let texts: Vec<&str> = panels
            .iter()
            .filter_map(|p| p["options"]["content"].as_str())
            .collect();
        assert!(
            texts.iter().any(|t| t.starts_with("## First 5 minutes")),
            "{texts:#?}"
        );
        assert!(texts.iter().any(|t| t.starts_with("## Communication")));
        assert_eq!(
            panels.iter().filter(|p| p["type"] == "timeseries").count(),
            2
        );
    }
}

#[test]
fn runbooks_are_deterministic() {
    let stack = production();
    for slo in &stack.slos {
        assert_eq!(
            markdown(&runbook(&stack, slo)),
            markdown(&runbook(&stack, slo))
        );
    }
}

#[test]
fn a_per_label_slo_runbook_says_which_label_names_the_group_and_lists_groups_worst_first() {
    let stack = stack_from("name: t\nmetrics: {retention: 30d}\nslos:\n  - name: api\n    service: api\n    objective: 99.9\n    window: 30d\n    groupBy: [route]\n    indicator: {ratio: {errors: 'req_total{code=~\"5..\"}', total: req_total}}\n");
    let rb = runbook(&stack, &stack.slos[0]);
    let text = markdown(&rb);
    assert!(
        text.contains("Each route has its own SLI, budget and alerts: the alert's `route` label names the group that burns"),
        "{text}"
    );
    assert!(
        text.contains("sort_desc(slo:error_ratio:window1h{slo=\"api\"})"),
        "{text}"
    );
    assert!(text.contains("sort_desc(slo:error_ratio:window5m{slo=\"api\"} / 0.001)"));
}
