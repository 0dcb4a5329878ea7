//! The fake Tempo: readiness, OTLP/HTTP push, trace by id (ids answered base64), and the series
//! its metrics generator would write, for Prometheus to scrape.

use std::sync::Mutex;
use std::time::Instant;

use base64::Engine as _;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::{ready_answer, Behaviour, Span, State};

fn b64(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Tempo: `/ready`, OTLP/HTTP `/v1/traces`, `/api/v2/traces/<id>` (ids answered base64, as
/// Tempo does), and `/metrics` with the series its metrics generator would write.
pub(super) fn tempo_answer(
    state: &Mutex<State>,
    b: &Behaviour,
    req: &Request,
    prefix: Option<&str>,
) -> ResponseTemplate {
    let path = req.url.path();
    let path = prefix.map_or(path, |p| path.strip_prefix(p).unwrap_or(path));
    match (req.method.as_str(), path) {
        ("GET", "/ready") => ready_answer(state, b),
        ("POST", "/v1/traces") => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => return ResponseTemplate::new(400).set_body_string(e.to_string()),
            };
            let mut s = state.lock().unwrap();
            for rs in body["resourceSpans"].as_array().into_iter().flatten() {
                let service = rs["resource"]["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["key"] == "service.name")
                    .and_then(|a| a["value"]["stringValue"].as_str())
                    .unwrap_or("unknown_service")
                    .to_string();
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for span in ss["spans"].as_array().into_iter().flatten() {
                        let trace_id = span["traceId"].as_str().unwrap_or("").to_lowercase();
                        let span_id = span["spanId"].as_str().unwrap_or("").to_lowercase();
                        // OTLP/JSON ids are hex; anything else is a bad request.
                        if trace_id.len() != 32 || span_id.len() != 16 {
                            return ResponseTemplate::new(400).set_body_json(
                                json!({"code": 3, "message": "invalid trace or span id"}),
                            );
                        }
                        s.spans.push(Span {
                            visible_at: Instant::now() + b.tempo_ingest,
                            trace_id,
                            span_id,
                            service: service.clone(),
                        });
                    }
                }
            }
            ResponseTemplate::new(200).set_body_json(json!({}))
        }
        ("GET", p) if p.starts_with("/api/v2/traces/") => {
            let id = p.trim_start_matches("/api/v2/traces/").to_lowercase();
            let now = Instant::now();
            let s = state.lock().unwrap();
            let spans: Vec<&Span> = s
                .spans
                .iter()
                .filter(|x| x.trace_id == id && x.visible_at <= now)
                .collect();
            if spans.is_empty() {
                return ResponseTemplate::new(404).set_body_string("trace not found\n");
            }
            let resource_spans: Vec<Value> = spans
                .iter()
                .map(|x| {
                    json!({
                        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": x.service}}]},
                        "scopeSpans": [{"scope": {"name": "obsctl"}, "spans": [{
                            "traceId": b64(&x.trace_id), "spanId": b64(&x.span_id), "name": "obsctl verify", "kind": "SPAN_KIND_SERVER",
                        }]}],
                    })
                })
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"trace": {"resourceSpans": resource_spans}}))
        }
        ("GET", "/metrics") => {
            let s = state.lock().unwrap();
            let mut text = String::from("# TYPE traces_spanmetrics_calls_total counter\n");
            if b.spanmetrics_stale {
                // A series of an earlier run, its last sample stamped before this one started.
                text.push_str(&format!(
                    "traces_spanmetrics_calls_total{{service=\"obsctl-verify\",span_name=\"obsctl verify\",n=\"earlier\"}} 1 {}\n",
                    s.started_ms
                ));
                return ResponseTemplate::new(200).set_body_raw(text, "text/plain; version=0.0.4");
            }
            for (i, x) in s.spans.iter().enumerate() {
                text.push_str(&format!(
                    "traces_spanmetrics_calls_total{{service=\"{}\",span_name=\"obsctl verify\",n=\"{i}\"}} 1\n",
                    x.service
                ));
            }
            ResponseTemplate::new(200).set_body_raw(text, "text/plain; version=0.0.4")
        }
        _ => ResponseTemplate::new(404).set_body_string("404 page not found\n"),
    }
}
