//! Grafana wiring: the provisioned datasources, their fixed uids and every cross-link between
//! them. Everything Grafana needs to jump from a metric to a trace, a log line to a trace, and a
//! span to its logs, metrics and service map is decided here.
//!
//! Two escaping rules hold for every string: Grafana expands `$VAR` in provisioning files, so a
//! literal `$` is written `$$`; kube-prometheus-stack runs these values through Helm's `tpl`, so
//! `{{` never appears.

use serde_json::{json, Value};

use super::endpoints::Endpoints;
use super::labels::{
    self, EXEMPLAR_TRACE_ID_LABELS, SPAN_METRICS_SERVICE, TRACE_ID_METADATA, TRACE_TO_LOGS,
};

/// Fixed datasource uids: dashboards, links and `obsctl verify` refer to them.
pub const PROMETHEUS_UID: &str = "prometheus";
pub const ALERTMANAGER_UID: &str = "alertmanager";
pub const LOKI_UID: &str = "loki";
pub const TEMPO_UID: &str = "tempo";

/// Grafana's placeholder for a matched value, escaped for provisioning files.
const VALUE_RAW: &str = "$${__value.raw}";

/// Which components run, and what the wiring needs to know about them.
#[derive(Clone, Debug)]
pub struct Wiring<'a> {
    pub endpoints: &'a Endpoints,
    pub metrics: bool,
    pub alertmanager: bool,
    pub logs: bool,
    pub traces: bool,
    /// Service-graph and span-metrics series exist only with Tempo's metrics generator.
    pub metrics_generator: bool,
    /// Prometheus' scrape interval, Grafana's minimum step (`timeInterval`).
    pub scrape_interval: &'a str,
    /// Loki's tenant when multi-tenancy is on: Grafana must send it as `X-Scope-OrgID`.
    pub loki_tenant: Option<&'a str>,
}

/// The datasources, in a stable order, each with its links to the others. A disabled component
/// has no datasource, and no other datasource links to it.
pub fn datasources(w: &Wiring) -> Vec<Value> {
    let default_uid = [
        (w.metrics, PROMETHEUS_UID),
        (w.logs, LOKI_UID),
        (w.traces, TEMPO_UID),
    ]
    .into_iter()
    .find_map(|(on, uid)| on.then_some(uid));
    let mut list = Vec::new();
    if w.metrics {
        list.push(prometheus(w, default_uid == Some(PROMETHEUS_UID)));
    }
    if w.metrics && w.alertmanager {
        list.push(alertmanager(w));
    }
    if w.logs {
        list.push(loki(w, default_uid == Some(LOKI_UID)));
    }
    if w.traces {
        list.push(tempo(w, default_uid == Some(TEMPO_UID)));
    }
    list
}

fn prometheus(w: &Wiring, is_default: bool) -> Value {
    let mut json_data = json!({
        "httpMethod": "POST",
        "prometheusType": "Prometheus",
        "timeInterval": w.scrape_interval,
    });
    if w.traces {
        json_data["exemplarTraceIdDestinations"] = EXEMPLAR_TRACE_ID_LABELS
            .iter()
            .map(|label| json!({"name": label, "datasourceUid": TEMPO_UID, "urlDisplayLabel": "View trace"}))
            .collect();
    }
    json!({
        "name": "Prometheus",
        "type": "prometheus",
        "uid": PROMETHEUS_UID,
        "access": "proxy",
        "url": w.endpoints.prometheus.url(),
        "isDefault": is_default,
        "editable": false,
        "jsonData": json_data,
    })
}

fn alertmanager(w: &Wiring) -> Value {
    json!({
        "name": "Alertmanager",
        "type": "alertmanager",
        "uid": ALERTMANAGER_UID,
        "access": "proxy",
        "url": w.endpoints.alertmanager.url(),
        "isDefault": false,
        "editable": false,
        "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": false},
    })
}

fn loki(w: &Wiring, is_default: bool) -> Value {
    let mut json_data = json!({"maxLines": 1000});
    if w.traces {
        json_data["derivedFields"] = json!([
            // A trace id written into the line itself: `trace_id=…`, `traceID=…` or JSON `"trace_id":"…"`.
            {
                "name": "TraceID",
                "matcherType": "regex",
                "matcherRegex": r#"(?:trace_?[iI][dD])"?[=:]\s*"?([0-9a-fA-F]{16,32})"#,
                "datasourceUid": TEMPO_UID,
                "url": VALUE_RAW,
                "urlDisplayLabel": "View trace",
            },
            // A trace id carried as structured metadata (how OTLP log records arrive).
            {
                "name": "trace_id",
                "matcherType": "label",
                "matcherRegex": TRACE_ID_METADATA,
                "datasourceUid": TEMPO_UID,
                "url": VALUE_RAW,
                "urlDisplayLabel": "View trace",
            },
        ]);
    }
    let mut ds = json!({
        "name": "Loki",
        "type": "loki",
        "uid": LOKI_UID,
        "access": "proxy",
        "url": w.endpoints.loki.url(),
        "isDefault": is_default,
        "editable": false,
        "jsonData": json_data,
    });
    if let Some(tenant) = w.loki_tenant {
        ds["jsonData"]["httpHeaderName1"] = json!("X-Scope-OrgID");
        ds["secureJsonData"] = json!({"httpHeaderValue1": tenant});
    }
    ds
}

fn tempo(w: &Wiring, is_default: bool) -> Value {
    let mut json_data = json!({
        "nodeGraph": {"enabled": true},
        "search": {"hide": false},
        "traceQuery": {"timeShiftEnabled": true, "spanStartTimeShift": "-30m", "spanEndTimeShift": "30m"},
        "spanBar": {"type": "Duration"},
    });
    if w.logs {
        json_data["tracesToLogsV2"] = json!({
            "datasourceUid": LOKI_UID,
            "spanStartTimeShift": "-2m",
            "spanEndTimeShift": "2m",
            "filterByTraceID": true,
            "filterBySpanID": false,
            "tags": TRACE_TO_LOGS
                .iter()
                .map(|l| json!({"key": l.attribute, "value": l.loki_label}))
                .collect::<Vec<_>>(),
        });
        json_data["lokiSearch"] = json!({"datasourceUid": LOKI_UID});
    }
    if w.metrics {
        let service_tag =
            json!([{"key": labels::SERVICE_NAME.attribute, "value": SPAN_METRICS_SERVICE}]);
        json_data["tracesToMetrics"] = json!({
            "datasourceUid": PROMETHEUS_UID,
            "spanStartTimeShift": "-2m",
            "spanEndTimeShift": "2m",
            "tags": service_tag,
            "queries": [
                {"name": "Request rate", "query": "sum(rate(traces_spanmetrics_calls_total{$$__tags}[5m]))"},
                {"name": "Error rate", "query": "sum(rate(traces_spanmetrics_calls_total{$$__tags,status_code=\"STATUS_CODE_ERROR\"}[5m]))"},
                {"name": "p95 latency", "query": "histogram_quantile(0.95, sum by (le) (rate(traces_spanmetrics_latency_bucket{$$__tags}[5m])))"},
            ],
        });
        if w.metrics_generator {
            json_data["serviceMap"] = json!({"datasourceUid": PROMETHEUS_UID});
        }
    }
    json!({
        "name": "Tempo",
        "type": "tempo",
        "uid": TEMPO_UID,
        "access": "proxy",
        "url": w.endpoints.tempo_query.url(),
        "isDefault": is_default,
        "editable": false,
        "jsonData": json_data,
    })
}

/// Every `datasourceUid` a datasource links to, with the JSON path of the link.
pub fn links(datasource: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, path: String, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if k == "datasourceUid" {
                        if let Some(uid) = child.as_str() {
                            out.push((p.clone(), uid.to_string()));
                        }
                    }
                    walk(child, p, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(datasource, String::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wiring(endpoints: &Endpoints) -> Wiring<'_> {
        Wiring {
            endpoints,
            metrics: true,
            alertmanager: true,
            logs: true,
            traces: true,
            metrics_generator: true,
            scrape_interval: "30s",
            loki_tenant: None,
        }
    }

    fn uids(list: &[Value]) -> Vec<&str> {
        list.iter().map(|d| d["uid"].as_str().unwrap()).collect()
    }

    fn all_links(list: &[Value]) -> Vec<String> {
        list.iter().flat_map(links).map(|(_, uid)| uid).collect()
    }

    #[test]
    fn full_stack_has_four_datasources_and_prometheus_is_the_one_default() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&wiring(&e));
        assert_eq!(uids(&list), ["prometheus", "alertmanager", "loki", "tempo"]);
        let defaults: Vec<_> = list.iter().filter(|d| d["isDefault"] == true).collect();
        assert_eq!(defaults.len(), 1);
        assert_eq!(defaults[0]["uid"], "prometheus");
    }

    #[test]
    fn every_cross_link_points_at_the_right_uid() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&wiring(&e));
        let prom = &list[0]["jsonData"];
        assert_eq!(
            prom["exemplarTraceIdDestinations"][0]["datasourceUid"],
            "tempo"
        );
        assert_eq!(prom["exemplarTraceIdDestinations"][0]["name"], "traceID");
        let loki = &list[2]["jsonData"];
        assert_eq!(loki["derivedFields"][0]["datasourceUid"], "tempo");
        assert_eq!(loki["derivedFields"][1]["matcherType"], "label");
        assert_eq!(loki["derivedFields"][1]["matcherRegex"], "trace_id");
        let tempo = &list[3]["jsonData"];
        assert_eq!(tempo["tracesToLogsV2"]["datasourceUid"], "loki");
        assert_eq!(tempo["tracesToLogsV2"]["tags"][0]["value"], "service_name");
        assert_eq!(tempo["tracesToMetrics"]["datasourceUid"], "prometheus");
        assert_eq!(tempo["serviceMap"]["datasourceUid"], "prometheus");
        assert_eq!(tempo["nodeGraph"]["enabled"], true);
    }

    #[test]
    fn derived_field_regex_has_one_capture_group_and_matches_common_spellings() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&wiring(&e));
        let regex = list[2]["jsonData"]["derivedFields"][0]["matcherRegex"]
            .as_str()
            .unwrap();
        assert_eq!(regex.matches('(').count() - regex.matches("(?:").count(), 1);
        // The pattern is written for Grafana's (JavaScript) engine; check the shapes it must accept
        // with a small hand-rolled matcher of the same grammar.
        for line in [
            "msg=ok trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
            "traceID=4bf92f3577b34da6a3ce929d0e0e4736 done",
            r#"{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}"#,
            "traceid: 4bf92f3577b34da6",
        ] {
            assert!(matches_trace_id(line), "{line}");
        }
        assert!(!matches_trace_id("no trace here trace=abc"));
    }

    /// Mirrors the derived-field regex: trace_?[iI][dD] "? [=:] \s* "? then 16–32 hex digits.
    fn matches_trace_id(line: &str) -> bool {
        let lower = line.to_ascii_lowercase();
        lower.match_indices("trace").any(|(i, _)| {
            let rest = &line[i + 5..];
            let rest = rest.strip_prefix('_').unwrap_or(rest);
            let mut chars = rest.chars();
            if !matches!(chars.next(), Some('i' | 'I')) || !matches!(chars.next(), Some('d' | 'D'))
            {
                return false;
            }
            let rest = chars.as_str();
            let rest = rest.strip_prefix('"').unwrap_or(rest);
            let Some(rest) = rest.strip_prefix(['=', ':']) else {
                return false;
            };
            let rest = rest.trim_start();
            let rest = rest.strip_prefix('"').unwrap_or(rest);
            rest.chars().take_while(|c| c.is_ascii_hexdigit()).count() >= 16
        })
    }

    #[test]
    fn disabled_traces_remove_tempo_and_every_link_to_it() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&Wiring {
            traces: false,
            ..wiring(&e)
        });
        assert_eq!(uids(&list), ["prometheus", "alertmanager", "loki"]);
        assert!(!all_links(&list).contains(&"tempo".to_string()));
        assert!(list[0]["jsonData"]
            .get("exemplarTraceIdDestinations")
            .is_none());
    }

    #[test]
    fn disabled_logs_remove_loki_and_every_link_to_it() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&Wiring {
            logs: false,
            ..wiring(&e)
        });
        assert_eq!(uids(&list), ["prometheus", "alertmanager", "tempo"]);
        assert!(!all_links(&list).contains(&"loki".to_string()));
    }

    #[test]
    fn without_prometheus_loki_becomes_the_default_and_metrics_links_go() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&Wiring {
            metrics: false,
            ..wiring(&e)
        });
        assert_eq!(uids(&list), ["loki", "tempo"]);
        assert_eq!(list[0]["isDefault"], true);
        assert!(!all_links(&list).contains(&"prometheus".to_string()));
    }

    #[test]
    fn service_map_needs_the_metrics_generator() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&Wiring {
            metrics_generator: false,
            ..wiring(&e)
        });
        assert!(list[3]["jsonData"].get("serviceMap").is_none());
        assert!(list[3]["jsonData"].get("tracesToMetrics").is_some());
    }

    #[test]
    fn loki_tenant_is_sent_as_x_scope_orgid() {
        let e = Endpoints::new("monitoring", 1, false);
        let list = datasources(&Wiring {
            loki_tenant: Some("team-a"),
            ..wiring(&e)
        });
        assert_eq!(list[2]["jsonData"]["httpHeaderName1"], "X-Scope-OrgID");
        assert_eq!(list[2]["secureJsonData"]["httpHeaderValue1"], "team-a");
    }

    #[test]
    fn every_dollar_is_escaped_and_no_template_braces_appear() {
        let e = Endpoints::new("monitoring", 1, false);
        let text = serde_json::to_string(&datasources(&wiring(&e))).unwrap();
        assert!(!text.contains("{{"));
        assert!(!text.replace("$$", "").contains('$'), "a lone $ in {text}");
    }
}
