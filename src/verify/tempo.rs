//! Tempo: ready; a span with this run's trace id pushed over OTLP/HTTP JSON and fetched back by
//! id; and, with the metrics generator on, span-metrics series of that span in Prometheus.
//! Shapes: Tempo `api_docs/_index.md`, `pushing-spans-with-http.md`. Trap: ids go in as hex and
//! come back base64.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::http::{format_duration, Call, Endpoint};
use super::ids::{normalize_id, now_ns, SERVICE};
use super::prometheus::api;
use super::runner::{Check, CheckVerdict, Ctx};
use super::targets::Target;
use super::wait::{self, Attempt, Backoff, Stop};
use super::{Component, Expectations};

/// The span-metrics processor's call counter: one series per service, span name, kind and status.
pub const SPAN_METRICS: &str = "traces_spanmetrics_calls_total";

pub(crate) fn checks(expect: &Expectations) -> Vec<Check> {
    let c = Component::Tempo;
    // Without the generator (or a Prometheus) there is nothing to wait for.
    let metrics = match metrics_skip(expect) {
        Some(reason) => Check::new(c, "metrics-from-traces", &[], |_| async move {
            CheckVerdict::Skip(reason)
        }),
        None => Check::new(
            c,
            "metrics-from-traces",
            &["tempo/push", "prometheus/ready"],
            |ctx| async move { metrics_from_traces(&ctx).await },
        ),
    };
    vec![
        Check::new(
            c,
            "ready",
            &[],
            |ctx| async move { ready(&ctx).await.into() },
        ),
        Check::new(c, "push", &["tempo/ready"], |ctx| async move {
            push(&ctx).await.into()
        }),
        Check::new(c, "read-back", &["tempo/push"], |ctx| async move {
            read_back(&ctx).await.into()
        }),
        metrics,
    ]
}

fn metrics_skip(expect: &Expectations) -> Option<String> {
    if !expect.metrics_generator {
        return Some(format!(
            "profile `{}` turns Tempo's metrics generator off",
            expect.profile
        ));
    }
    if !expect.metrics {
        return Some(format!(
            "profile `{}` has no Prometheus to write to",
            expect.profile
        ));
    }
    None
}

async fn ready(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::TempoQuery).await?;
    super::wait::ready(&ep, "/ready", ctx.deadline).await
}

/// One server span of service `obsctl-verify`, ids in hex as OTLP/JSON wants them.
fn span(ctx: &Ctx) -> Value {
    let end = now_ns();
    let start = end.saturating_sub(5_000_000);
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": SERVICE}},
        ]},
        "scopeSpans": [{
            "scope": {"name": "obsctl"},
            "spans": [{
                "traceId": ctx.ids.trace_id,
                "spanId": ctx.ids.span_id,
                "name": "obsctl verify",
                "kind": 2,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": end.to_string(),
                "attributes": [{"key": "obsctl.run", "value": {"stringValue": ctx.ids.run}}],
            }],
        }],
    }]})
}

async fn push(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::TempoOtlp).await?;
    let body = span(ctx);
    let pushed = now_ns();
    let answer = ep
        .send(Call::post_json("/v1/traces", &body), ctx.deadline)
        .await
        .map_err(|e| e.to_string())?;
    if answer.status != StatusCode::OK {
        return Err(answer.unexpected().to_string());
    }
    // OTLP/HTTP answers 200 with `partialSuccess` when it dropped part of the request.
    let reply: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let rejected = &reply["partialSuccess"]["rejectedSpans"];
    if rejected.as_u64().unwrap_or(0) > 0 || rejected.as_str().is_some_and(|s| s != "0") {
        return Err(format!(
            "{}: span rejected: {}",
            answer.request,
            reply["partialSuccess"]["errorMessage"]
                .as_str()
                .unwrap_or("")
        ));
    }
    let _ = ctx.span_pushed_ns.set(pushed);
    Ok(format!(
        "span {} of trace {} accepted at {}",
        ctx.ids.span_id,
        ctx.ids.trace_id,
        super::redact_url(&ep.base)
    ))
}

/// Every (trace id, span id) of an OTLP JSON trace (`/api/v2/traces` wraps it in `trace`; the v1
/// shape and older field names are read too), normalized to hex.
pub(crate) fn span_ids(body: &Value) -> Vec<(String, String)> {
    let trace = if body.get("trace").is_some() {
        &body["trace"]
    } else {
        body
    };
    let mut out = Vec::new();
    for key in ["resourceSpans", "batches"] {
        for rs in trace[key].as_array().into_iter().flatten() {
            for scope_key in ["scopeSpans", "instrumentationLibrarySpans"] {
                for ss in rs[scope_key].as_array().into_iter().flatten() {
                    for span in ss["spans"].as_array().into_iter().flatten() {
                        let trace_id = span["traceId"].as_str().and_then(|t| normalize_id(t, 16));
                        let span_id = span["spanId"].as_str().and_then(|s| normalize_id(s, 8));
                        if let (Some(t), Some(s)) = (trace_id, span_id) {
                            out.push((t, s));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Polls `path` (Tempo's trace-by-id, directly or through Grafana) until the trace is there.
/// `Ok(None)` when the deadline passed first.
pub(crate) async fn poll_trace(
    ctx: &Ctx,
    ep: &Endpoint,
    path: &str,
    headers: &[(&'static str, String)],
) -> Result<Option<Vec<(String, String)>>, String> {
    let backoff = Backoff::growing(Duration::from_millis(100), Duration::from_millis(500));
    let polled = wait::until(ctx.deadline, backoff, || async {
        let mut call = Call::get(path);
        for (name, value) in headers {
            call = call.header(name, value.clone());
        }
        match ep.send(call, ctx.deadline).await {
            Ok(answer) if answer.status == StatusCode::OK => match answer.json::<Value>() {
                Ok(body) => match span_ids(&body) {
                    ids if ids.is_empty() => Attempt::NotYet("trace without spans".into()),
                    ids => Attempt::Done(ids),
                },
                Err(e) => Attempt::Failed(e.to_string()),
            },
            // Not found (yet): Tempo answers 404 until the trace is ingested.
            Ok(answer) if answer.status == StatusCode::NOT_FOUND => {
                Attempt::NotYet(answer.unexpected().to_string())
            }
            Ok(answer) => Attempt::Failed(answer.unexpected().to_string()),
            Err(e) => Attempt::from_probe(ep, e),
        }
    })
    .await;
    match polled {
        Ok(ids) => Ok(Some(ids)),
        Err(Stop::TimedOut(_)) => Ok(None),
        Err(Stop::Failed(reason)) => Err(reason),
    }
}

/// Whether the fetched trace holds this run's span.
pub(crate) fn judge_trace(ctx: &Ctx, ids: &[(String, String)]) -> Result<(), String> {
    let ours = ids
        .iter()
        .any(|(t, s)| *t == ctx.ids.trace_id && *s == ctx.ids.span_id);
    if ours {
        Ok(())
    } else {
        Err(format!(
            "trace {} came back without span {} (spans: {})",
            ctx.ids.trace_id,
            ctx.ids.span_id,
            ids.iter()
                .map(|(t, s)| format!("{t}/{s}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

async fn read_back(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::TempoQuery).await?;
    let path = format!("/api/v2/traces/{}", ctx.ids.trace_id);
    match poll_trace(ctx, &ep, &path, &[]).await? {
        Some(ids) => {
            judge_trace(ctx, &ids)?;
            Ok(format!(
                "trace {} fetched by id with its span",
                ctx.ids.trace_id
            ))
        }
        None => Err(format!(
            "GET {}: trace not found within {}",
            ep.url(&path),
            ctx.timeout_text()
        )),
    }
}

/// The span-metrics series of this run's span: its service (Tempo's span-metrics dimension
/// `service`) and a sample newer than the push. Series of other services, or of this service
/// from earlier runs that got no sample since, are not this run's evidence.
fn spanmetrics_query() -> String {
    format!("timestamp({SPAN_METRICS}{{service=\"{SERVICE}\"}})")
}

/// Judges the answer of [`spanmetrics_query`]: the newest sample timestamp (unix seconds) of each
/// series against the push (unix seconds).
fn judge_spanmetrics(data: &Value, pushed: f64) -> Attempt<String> {
    let newest = data["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["value"][1].as_str()?.parse::<f64>().ok())
        .reduce(f64::max);
    match newest {
        None => Attempt::NotYet(format!("no {SPAN_METRICS} series of service {SERVICE}")),
        Some(at) if at >= pushed => Attempt::Done(format!(
            "{SPAN_METRICS}{{service=\"{SERVICE}\"}} written by Tempo from this run's span ({} after the push)",
            format_duration(Duration::from_secs_f64(at - pushed))
        )),
        Some(at) => Attempt::NotYet(format!(
            "{SPAN_METRICS}{{service=\"{SERVICE}\"}} has only samples from before this run's span was pushed (newest at {})",
            crate::time::format_instant(at)
        )),
    }
}

async fn metrics_from_traces(ctx: &Ctx) -> CheckVerdict {
    let ep = match ctx.endpoint(Target::Prometheus).await {
        Ok(ep) => ep,
        Err(e) => return CheckVerdict::Fail(e),
    };
    let Some(pushed_ns) = ctx.span_pushed_ns.get().copied() else {
        return CheckVerdict::Fail("this run's span was not pushed".into());
    };
    let pushed = pushed_ns as f64 / 1e9;
    let query = spanmetrics_query();
    let backoff = Backoff::growing(Duration::from_millis(250), Duration::from_secs(1));
    let polled = wait::until(ctx.deadline, backoff, || async {
        let call = Call::get("/api/v1/query").query("query", query.clone());
        match api::<Value>(&ep, ctx, call).await {
            Ok(data) => judge_spanmetrics(&data, pushed),
            // The deadline passed mid-request: report the missing series, not the timeout.
            Err(_) if tokio::time::Instant::now() >= ctx.deadline => Attempt::OutOfTime,
            Err(e) => Attempt::Failed(e),
        }
    })
    .await;
    match polled {
        Ok(detail) => CheckVerdict::Pass(detail),
        Err(Stop::Failed(reason)) => CheckVerdict::Fail(reason),
        Err(stop) => CheckVerdict::Fail(format!(
            "no {SPAN_METRICS} sample of service {SERVICE} newer than this run's span within {}: Tempo's metrics generator does not turn new spans into series in Prometheus (is it running, and writing to the remote-write receiver?){}",
            ctx.timeout_text(),
            stop.last_seen()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_ids_are_read_from_base64_and_hex_answers() {
        let v2 = json!({"trace": {"resourceSpans": [{"scopeSpans": [{"spans": [
            {"traceId": "W47/95gDgQPSabYzgT/HAA==", "spanId": "AAECAwQFBgc="},
        ]}]}]}});
        assert_eq!(
            span_ids(&v2),
            [(
                "5b8efff798038103d269b633813fc700".to_string(),
                "0001020304050607".to_string()
            )]
        );
        let v1 = json!({"batches": [{"instrumentationLibrarySpans": [{"spans": [
            {"traceId": "5B8EFFF798038103D269B633813FC700", "spanId": "0001020304050607"},
        ]}]}]});
        assert_eq!(span_ids(&v1).len(), 1);
        assert!(span_ids(&json!({"trace": {}})).is_empty());
    }

    #[test]
    fn only_a_sample_newer_than_the_push_is_this_runs_evidence() {
        assert_eq!(
            spanmetrics_query(),
            "timestamp(traces_spanmetrics_calls_total{service=\"obsctl-verify\"})"
        );
        let answer = |stamps: &[&str]| {
            json!({"resultType": "vector", "result": stamps.iter().map(|t| json!({
                "metric": {"service": "obsctl-verify", "span_name": "obsctl verify"},
                "value": [1_796_281_300.0, t],
            })).collect::<Vec<_>>()})
        };
        let pushed = 1_796_281_200.0;
        assert_eq!(
            judge_spanmetrics(&answer(&[]), pushed),
            Attempt::NotYet(
                "no traces_spanmetrics_calls_total series of service obsctl-verify".into()
            )
        );
        assert_eq!(
            judge_spanmetrics(&answer(&["1796281100", "1796281190.5"]), pushed),
            Attempt::NotYet("traces_spanmetrics_calls_total{service=\"obsctl-verify\"} has only samples from before this run's span was pushed (newest at 2026-12-03T06:59:50.500Z)".into())
        );
        assert_eq!(
            judge_spanmetrics(&answer(&["1796281100", "1796281202.5"]), pushed),
            Attempt::Done("traces_spanmetrics_calls_total{service=\"obsctl-verify\"} written by Tempo from this run's span (2.5s after the push)".into())
        );
    }
}
