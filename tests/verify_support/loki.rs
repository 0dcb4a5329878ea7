//! The fake Loki: readiness, push (with its documented traps) and `query_range` over the lines
//! pushed, each readable after the set ingestion delay.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::{query_params, ready_answer, Behaviour, LogLine, State};

/// Evaluates the LogQL obsctl sends: one stream selector of `k="v"` / `k=~".+"` matchers and an
/// optional `|= "text"` line filter.
fn logql_matches(query: &str, labels: &BTreeMap<String, String>, line: &str) -> bool {
    let Some(open) = query.find('{') else {
        return false;
    };
    let Some(close) = query.find('}') else {
        return false;
    };
    for matcher in query[open + 1..close].split(',') {
        let matcher = matcher.trim();
        if let Some((k, v)) = matcher.split_once("=~") {
            let v = v.trim_matches('"');
            let present = labels.get(k.trim()).is_some_and(|x| !x.is_empty());
            if !(v == ".+" && present) {
                return false;
            }
        } else if let Some((k, v)) = matcher.split_once('=') {
            if labels.get(k.trim()).map(String::as_str) != Some(v.trim_matches('"')) {
                return false;
            }
        }
    }
    match query[close..].split_once("|=") {
        Some((_, filter)) => line.contains(filter.trim().trim_matches('"')),
        None => true,
    }
}

/// Loki: `/ready`, `/loki/api/v1/push`, `/loki/api/v1/query_range`. `prefix` is Grafana's proxy path.
pub(super) fn loki_answer(
    state: &Mutex<State>,
    b: &Behaviour,
    req: &Request,
    prefix: Option<&str>,
) -> ResponseTemplate {
    let path = req.url.path();
    let path = prefix.map_or(path, |p| path.strip_prefix(p).unwrap_or(path));
    match (req.method.as_str(), path) {
        ("GET", "/ready") if b.loki_gateway => {
            ResponseTemplate::new(404).set_body_string("<html>404 Not Found</html>")
        }
        ("GET", "/ready") => ready_answer(state, b),
        ("GET", "/loki/api/v1/status/buildinfo") => ResponseTemplate::new(200)
            .set_body_json(json!({"version": "3.7.6", "revision": "abc", "branch": "HEAD"})),
        ("POST", "/loki/api/v1/push") => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => return ResponseTemplate::new(400).set_body_string(e.to_string()),
            };
            if b.loki_push_status != 204 {
                return ResponseTemplate::new(b.loki_push_status);
            }
            if b.loki_loses_pushes {
                return ResponseTemplate::new(204);
            }
            let mut s = state.lock().unwrap();
            for stream in body["streams"].as_array().into_iter().flatten() {
                for value in stream["values"].as_array().into_iter().flatten() {
                    // Loki's documented trap: a numeric timestamp is a 400.
                    let Some(ts) = value[0].as_str() else {
                        return ResponseTemplate::new(400)
                            .set_body_string("timestamp must be a string");
                    };
                    let mut labels: BTreeMap<String, String> =
                        serde_json::from_value(stream["stream"].clone()).unwrap_or_default();
                    // Structured metadata shows up among the stream labels of query answers.
                    for (k, v) in value[2].as_object().into_iter().flatten() {
                        labels.insert(k.clone(), v.as_str().unwrap_or("").to_string());
                    }
                    s.lines.push(LogLine {
                        visible_at: Instant::now() + b.loki_ingest,
                        labels,
                        ts: ts.to_string(),
                        line: value[1].as_str().unwrap_or("").to_string(),
                    });
                }
            }
            ResponseTemplate::new(204)
        }
        ("GET", "/loki/api/v1/query_range") => {
            let params = query_params(req);
            let query = params.get("query").cloned().unwrap_or_default();
            let now = Instant::now();
            let s = state.lock().unwrap();
            let result: Vec<Value> = s
                .lines
                .iter()
                .filter(|l| l.visible_at <= now && logql_matches(&query, &l.labels, &l.line))
                .map(|l| json!({"stream": l.labels, "values": [[l.ts, l.line]]}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "status": "success",
                "data": {"resultType": "streams", "result": result, "stats": {}},
            }))
        }
        _ => ResponseTemplate::new(404).set_body_string("404 page not found\n"),
    }
}
