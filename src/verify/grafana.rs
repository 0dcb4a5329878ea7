//! Grafana: healthy; every provisioned datasource present with its uid and type and passing
//! Grafana's own health check; every cross-link read back from Grafana pointing at the uid the
//! render wired. The expected datasources are the render's, not a copy.
//! Shapes: Grafana HTTP API `/api/health`, `/api/datasources`, `/api/datasources/uid/{uid}[/health]`
//! (an unhealthy datasource answers 400 with the same `{status, message}` payload).

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::Value;

use super::http::{Answer, Call, Endpoint};
use super::runner::{Check, Ctx};
use super::targets::Target;
use super::{Component, Expectations};
use crate::render::datasources::links;

pub(crate) fn checks(expect: &Expectations) -> Vec<Check> {
    let c = Component::Grafana;
    let mut out = vec![Check::new(c, "health", &[], |ctx| async move {
        health(&ctx).await.into()
    })];
    for ds in &expect.datasources {
        let Some(uid) = ds["uid"].as_str().map(str::to_string) else {
            continue;
        };
        out.push(Check::new(
            c,
            format!("datasource/{uid}"),
            &["grafana/health"],
            move |ctx| async move { datasource(&ctx, &uid).await.into() },
        ));
    }
    out.push(Check::new(
        c,
        "links",
        &["grafana/health"],
        |ctx| async move { cross_links(&ctx).await.into() },
    ));
    out
}

async fn health(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Grafana).await?;
    let answer = ep
        .send(Call::get("/api/health"), ctx.deadline)
        .await
        .map_err(|e| e.to_string())?;
    if answer.status != StatusCode::OK {
        return Err(answer.unexpected().to_string());
    }
    let body: Value = answer.json().map_err(|e| e.to_string())?;
    match body["database"].as_str() {
        Some("ok") => Ok(format!(
            "database ok, version {}",
            body["version"].as_str().unwrap_or("?")
        )),
        other => Err(format!(
            "{}: database `{}`",
            answer.request,
            other.unwrap_or("missing")
        )),
    }
}

/// An authenticated `GET` on Grafana's API.
pub(crate) async fn get(ctx: &Ctx, ep: &Endpoint, call: Call<'_>) -> Result<Answer, String> {
    let credentials = ctx.grafana_credentials().await?;
    let answer = ep
        .send(
            call.header("Authorization", credentials.header()),
            ctx.deadline,
        )
        .await
        .map_err(|e| e.to_string())?;
    if matches!(
        answer.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        return Err(format!(
            "{}: Grafana refused the credentials ({})",
            answer.request, answer.status
        ));
    }
    Ok(answer)
}

async fn datasource(ctx: &Ctx, uid: &str) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Grafana).await?;
    let expected = ctx
        .expect
        .datasource(uid)
        .ok_or_else(|| format!("datasource {uid} is not in the render"))?;
    let want_type = expected["type"].as_str().unwrap_or("?");

    let path = format!("/api/datasources/uid/{uid}");
    let answer = get(ctx, &ep, Call::get(&path)).await?;
    if answer.status == StatusCode::NOT_FOUND {
        return Err(format!("no datasource with uid `{uid}` in Grafana"));
    }
    if answer.status != StatusCode::OK {
        return Err(answer.unexpected().to_string());
    }
    let actual: Value = answer.json().map_err(|e| e.to_string())?;
    let got_type = actual["type"].as_str().unwrap_or("?");
    if got_type != want_type {
        return Err(format!(
            "uid `{uid}` is a `{got_type}` datasource, expected `{want_type}`"
        ));
    }

    let path = format!("/api/datasources/uid/{uid}/health");
    let answer = get(ctx, &ep, Call::get(&path)).await?;
    judge_health(&answer, want_type)
}

/// 200 with `status: OK` passes; 400 is Grafana's answer for an unhealthy datasource; 404 means
/// the plugin has no backend health check (Grafana's `ErrMethodNotImplemented`).
fn judge_health(answer: &Answer, kind: &str) -> Result<String, String> {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let message = body["message"].as_str().unwrap_or("").trim().to_string();
    match answer.status {
        StatusCode::OK if body["status"] == "OK" => Ok(if message.is_empty() {
            format!("{kind}, healthy")
        } else {
            format!("{kind}, healthy: {message}")
        }),
        StatusCode::NOT_FOUND => Ok(format!(
            "{kind}, present (Grafana has no health check for this type)"
        )),
        StatusCode::OK | StatusCode::BAD_REQUEST => Err(format!(
            "{kind} datasource unhealthy ({}): {}",
            body["status"].as_str().unwrap_or("ERROR"),
            if message.is_empty() {
                answer.snippet()
            } else {
                message
            }
        )),
        _ => Err(answer.unexpected().to_string()),
    }
}

async fn cross_links(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Grafana).await?;
    let answer = get(ctx, &ep, Call::get("/api/datasources")).await?;
    if answer.status != StatusCode::OK {
        return Err(answer.unexpected().to_string());
    }
    let actual: Vec<Value> = answer.json().map_err(|e| e.to_string())?;
    judge_links(&ctx.expect.datasources, &actual)
}

/// Each link the render wired (`datasourceUid` at a JSON path) must read back from Grafana at
/// the same path with the same uid, and every link Grafana reports must point at a datasource
/// that exists.
pub(crate) fn judge_links(expected: &[Value], actual: &[Value]) -> Result<String, String> {
    let existing: Vec<&str> = actual.iter().filter_map(|d| d["uid"].as_str()).collect();
    let mut problems = Vec::new();
    let mut checked = 0;
    for want in expected {
        let uid = want["uid"].as_str().unwrap_or("?");
        let Some(got) = actual.iter().find(|d| d["uid"] == uid) else {
            if !links(want).is_empty() {
                problems.push(format!(
                    "{uid}: datasource missing, its links cannot be read"
                ));
            }
            continue;
        };
        let got_links: BTreeMap<String, String> = links(got).into_iter().collect();
        // Paths already reported as pointing elsewhere.
        let mut wrong = Vec::new();
        for (path, target) in links(want) {
            checked += 1;
            match got_links.get(&path) {
                Some(t) if *t == target => {}
                Some(t) => {
                    let dangling = if existing.contains(&t.as_str()) {
                        String::new()
                    } else {
                        format!(" (no datasource has uid `{t}`)")
                    };
                    problems.push(format!(
                        "{uid} {path} = `{t}`, expected `{target}`{dangling}"
                    ));
                    wrong.push(path);
                }
                None => problems.push(format!("{uid} {path} is not set (expected `{target}`)")),
            }
        }
        for (path, target) in &got_links {
            if !existing.contains(&target.as_str()) && !wrong.contains(path) {
                problems.push(format!(
                    "{uid} {path} = `{target}`: no datasource has that uid"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{checked} cross-links point at the right uids ({} datasources)",
            expected.len()
        ))
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: serde_json::to_vec(&body).unwrap(),
            request: "GET http://grafana/api/datasources/uid/loki/health".into(),
        }
    }

    #[test]
    fn health_answers_are_read_as_grafana_writes_them() {
        assert_eq!(
            judge_health(
                &answer(
                    200,
                    json!({"status": "OK", "message": "Data source successfully connected."})
                ),
                "loki"
            )
            .unwrap(),
            "loki, healthy: Data source successfully connected."
        );
        assert_eq!(
            judge_health(
                &answer(
                    400,
                    json!({"status": "ERROR", "message": "Unable to connect with Loki."})
                ),
                "loki"
            )
            .unwrap_err(),
            "loki datasource unhealthy (ERROR): Unable to connect with Loki."
        );
        assert!(judge_health(
            &answer(404, json!({"message": "Not found"})),
            "alertmanager"
        )
        .is_ok());
        assert!(
            judge_health(&answer(500, json!({"message": "boom"})), "tempo")
                .unwrap_err()
                .contains("answered 500")
        );
    }

    fn rendered() -> Vec<Value> {
        let profile = crate::profile::load("dev").unwrap();
        let rendered = crate::render::render(&profile).unwrap();
        super::super::Expectations::from_render(&profile, &rendered).datasources
    }

    #[test]
    fn links_read_back_unchanged_pass() {
        let expected = rendered();
        let detail = judge_links(&expected, &expected).unwrap();
        assert!(detail.ends_with("(4 datasources)"), "{detail}");
        let count: usize = expected.iter().map(|d| links(d).len()).sum();
        assert!(
            detail.starts_with(&format!("{count} cross-links")),
            "{detail}"
        );
        assert!(count >= 6, "the dev profile wires every cross-link");
    }

    #[test]
    fn a_link_to_a_missing_uid_is_named() {
        let expected = rendered();
        let mut actual = expected.clone();
        let loki = actual.iter_mut().find(|d| d["uid"] == "loki").unwrap();
        loki["jsonData"]["derivedFields"][0]["datasourceUid"] = json!("tempo-old");
        let err = judge_links(&expected, &actual).unwrap_err();
        assert_eq!(
            err,
            "loki jsonData.derivedFields[0].datasourceUid = `tempo-old`, expected `tempo` (no datasource has uid `tempo-old`)"
        );
    }

    #[test]
    fn a_missing_link_and_a_missing_target_datasource_fail() {
        let expected = rendered();
        let mut actual: Vec<Value> = expected
            .iter()
            .filter(|d| d["uid"] != "prometheus")
            .cloned()
            .collect();
        let tempo = actual.iter_mut().find(|d| d["uid"] == "tempo").unwrap();
        tempo["jsonData"]
            .as_object_mut()
            .unwrap()
            .remove("tracesToLogsV2");
        let err = judge_links(&expected, &actual).unwrap_err();
        assert!(err.contains("prometheus: datasource missing"), "{err}");
        assert!(
            err.contains(
                "tempo jsonData.tracesToLogsV2.datasourceUid is not set (expected `loki`)"
            ),
            "{err}"
        );
        assert!(
            err.contains("tempo jsonData.serviceMap.datasourceUid = `prometheus`: no datasource has that uid"),
            "{err}"
        );
    }
}
