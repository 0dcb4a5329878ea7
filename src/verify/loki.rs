//! Loki: ready; a log line carrying this run's trace id pushed (labels
//! `service_name=obsctl-verify`, the trace id also as structured metadata) and read back.
//! Shapes: Loki `docs/sources/reference/loki-http-api.md`. Traps: the timestamp is a string, and
//! a push is accepted only with 204 (a blocked ingester answers 260, another 2xx).

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::http::{Call, Endpoint};
use super::ids::{now_ns, SERVICE};
use super::runner::{Check, Ctx};
use super::targets::Target;
use super::wait::{self, Attempt, Backoff, Stop};
use super::Component;
use crate::render::labels::{SERVICE_NAME, TRACE_ID_METADATA};

pub(crate) fn checks() -> Vec<Check> {
    let c = Component::Loki;
    vec![
        Check::new(
            c,
            "ready",
            &[],
            |ctx| async move { ready(&ctx).await.into() },
        ),
        Check::new(c, "push", &["loki/ready"], |ctx| async move {
            push(&ctx).await.into()
        }),
        Check::new(c, "read-back", &["loki/push"], |ctx| async move {
            read_back(&ctx).await.into()
        }),
    ]
}

/// `GET /ready`. Loki's gateway (the Service the render names) does not route `/ready`: on its
/// 404, Loki's build info through the gateway's `/loki/api/v1/` route proves Loki answers.
async fn ready(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Loki).await?;
    let answer = super::wait::readiness(&ep, "/ready", ctx.deadline).await?;
    if answer.status.is_success() {
        return Ok(format!("ready at {}", super::redact_url(&ep.base)));
    }
    if answer.status != StatusCode::NOT_FOUND {
        return Err(answer.unexpected().to_string());
    }
    let info = ep
        .send(
            Call::get("/loki/api/v1/status/buildinfo")
                .header_opt("X-Scope-OrgID", ctx.expect.loki_tenant.clone()),
            ctx.deadline,
        )
        .await
        .map_err(|e| e.to_string())?;
    if !info.status.is_success() {
        return Err(format!("{}; {}", answer.unexpected(), info.unexpected()));
    }
    let body: Value = serde_json::from_slice(&info.body).unwrap_or(Value::Null);
    Ok(format!(
        "Loki {} answering at {} (a gateway: no /ready route)",
        body["version"].as_str().unwrap_or("?"),
        super::redact_url(&ep.base)
    ))
}

/// The line obsctl writes: the trace id in the text (for regex derived fields) and as structured
/// metadata (for label derived fields, the way OTLP logs carry it).
pub(crate) fn line(ctx: &Ctx) -> String {
    format!(
        "obsctl verify run={} trace_id={}",
        ctx.ids.run, ctx.ids.trace_id
    )
}

/// `{service_name="obsctl-verify"} |= "<trace id>"`.
pub(crate) fn query(ctx: &Ctx) -> String {
    format!(
        "{{{}=\"{SERVICE}\"}} |= \"{}\"",
        SERVICE_NAME.loki_label, ctx.ids.trace_id
    )
}

async fn push(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Loki).await?;
    let body = json!({"streams": [{
        "stream": {SERVICE_NAME.loki_label: SERVICE},
        "values": [[now_ns().to_string(), line(ctx), {TRACE_ID_METADATA: ctx.ids.trace_id}]],
    }]});
    let call = Call::post_json("/loki/api/v1/push", &body)
        .header_opt("X-Scope-OrgID", ctx.expect.loki_tenant.clone());
    let answer = ep
        .send(call, ctx.deadline)
        .await
        .map_err(|e| e.to_string())?;
    match answer.status {
        StatusCode::NO_CONTENT => Ok(format!("line with trace_id={} accepted", ctx.ids.trace_id)),
        status if status.as_u16() == 260 => Err(format!(
            "{}: answered 260: ingestion is blocked (block_ingestion_until), the line was dropped",
            answer.request
        )),
        _ => Err(answer.unexpected().to_string()),
    }
}

async fn read_back(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Loki).await?;
    let q = query(ctx);
    let tenant = ctx.expect.loki_tenant.clone();
    let path = "/loki/api/v1/query_range";
    let found = poll_lines(ctx, &ep, path, &q, tenant, &[], ctx.deadline).await?;
    let Some(entry) = found
        .into_iter()
        .find(|e| e.line.contains(&ctx.ids.trace_id))
    else {
        return Err(format!(
            "{q} found nothing within {}: the line was accepted but is not readable",
            ctx.timeout_text()
        ));
    };
    Ok(format!(
        "read back through query_range with labels {}",
        format_labels(&entry.labels)
    ))
}

/// One log line of a query answer, with its stream labels (structured metadata included: Loki
/// adds it to the stream labels unless asked to categorize them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub labels: BTreeMap<String, String>,
    pub line: String,
}

/// Parses a `query_range` answer of result type `streams`.
pub(crate) fn entries(body: &Value) -> Result<Vec<Entry>, String> {
    if body["status"] != "success" {
        return Err(format!(
            "query failed: {}",
            body["error"]
                .as_str()
                .or(body["message"].as_str())
                .unwrap_or("no status")
        ));
    }
    let mut out = Vec::new();
    for stream in body["data"]["result"].as_array().into_iter().flatten() {
        let labels: BTreeMap<String, String> = stream["stream"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        for value in stream["values"].as_array().into_iter().flatten() {
            let Some(line) = value[1].as_str() else {
                continue;
            };
            let mut labels = labels.clone();
            // With `X-Loki-Response-Encoding-Flags: categorize-labels` metadata comes third.
            for key in ["structuredMetadata", "parsed"] {
                for (k, v) in value[2][key].as_object().into_iter().flatten() {
                    if let Some(v) = v.as_str() {
                        labels.insert(k.clone(), v.to_string());
                    }
                }
            }
            out.push(Entry {
                labels,
                line: line.to_string(),
            });
        }
    }
    Ok(out)
}

/// Polls `query_range` at `path` until it returns lines or the deadline passes. Transport errors
/// end the poll at once; an empty answer is retried.
pub(crate) async fn poll_lines(
    ctx: &Ctx,
    ep: &Endpoint,
    path: &str,
    query: &str,
    tenant: Option<String>,
    headers: &[(&'static str, String)],
    until: Instant,
) -> Result<Vec<Entry>, String> {
    // From well before the run (clock skew between this machine and Loki) to after it.
    let start = ctx.started_ns.saturating_sub(5 * 60 * 1_000_000_000);
    let backoff = Backoff::growing(Duration::from_millis(100), Duration::from_millis(500));
    let polled = wait::until(until, backoff, || async {
        let end = now_ns() + 60 * 1_000_000_000;
        let mut call = Call::get(path)
            .query("query", query)
            .query("start", start.to_string())
            .query("end", end.to_string())
            .query("limit", "20")
            .query("direction", "backward")
            .header_opt("X-Scope-OrgID", tenant.clone());
        for (name, value) in headers {
            call = call.header(name, value.clone());
        }
        match ep.send(call, until).await {
            Ok(answer) if answer.status.is_success() => {
                let found = answer
                    .json::<Value>()
                    .map_err(|e| e.to_string())
                    .and_then(|body| {
                        entries(&body).map_err(|e| format!("{}: {e}", answer.request))
                    });
                match found {
                    Ok(found) if found.is_empty() => Attempt::NotYet("no lines".into()),
                    Ok(found) => Attempt::Done(found),
                    Err(reason) => Attempt::Failed(reason),
                }
            }
            Ok(answer) => Attempt::Failed(answer.unexpected().to_string()),
            Err(e) => Attempt::from_probe(ep, e),
        }
    })
    .await;
    match polled {
        Ok(found) => Ok(found),
        Err(Stop::TimedOut(_)) => Ok(Vec::new()),
        Err(Stop::Failed(reason)) => Err(reason),
    }
}

pub(crate) fn format_labels(labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn through_the_gateway_readiness_falls_back_to_build_info() {
        let gateway = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/loki/api/v1/status/buildinfo"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"version": "3.7.6"})))
            .mount(&gateway)
            .await;
        // Anything else: nginx's 404.
        let ctx = crate::verify::runner::test_ctx("dev", Some(&gateway.uri()));
        let detail = ready(&ctx).await.unwrap();
        assert!(detail.starts_with("Loki 3.7.6 answering at "), "{detail}");

        let down = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(502))
            .mount(&down)
            .await;
        let ctx = crate::verify::runner::test_ctx("dev", Some(&down.uri()));
        let err = ready(&ctx).await.unwrap_err();
        assert!(err.contains("/ready: answered 502"), "{err}");
    }

    #[test]
    fn entries_carry_stream_labels_and_categorized_metadata() {
        let body = json!({"status": "success", "data": {"resultType": "streams", "result": [
            {"stream": {"service_name": "obsctl-verify", "trace_id": "abc"},
             "values": [["1700000000000000000", "line one"]]},
            {"stream": {"service_name": "api"},
             "values": [["1700000000000000001", "line two", {"structuredMetadata": {"trace_id": "def"}}]]},
        ]}});
        let found = entries(&body).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].labels["trace_id"], "abc");
        assert_eq!(found[1].labels["trace_id"], "def");
        assert_eq!(found[1].labels["service_name"], "api");
        assert_eq!(found[1].line, "line two");
        assert!(entries(&json!({"status": "error", "error": "parse error"}))
            .unwrap_err()
            .contains("parse error"));
    }
}
