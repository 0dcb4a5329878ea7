//! Alertmanager: ready; its cluster status; and an always-firing alert (kube-prometheus-stack's
//! Watchdog) arrived from Prometheus, the proof that the Prometheus → Alertmanager path works.
//! Shapes: Alertmanager `api/v2/openapi.yaml`; Prometheus `/api/v1/rules`, `/api/v1/alertmanagers`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::http::Call;
use super::prometheus::api;
use super::runner::{Check, Ctx, Outcome};
use super::targets::Target;
use super::wait::{self, Attempt, Backoff, Stop};
use super::Component;

/// How often Alertmanager is asked again while its cluster settles or the Watchdog is on its way.
const PACE: Backoff = Backoff::every(Duration::from_millis(500));

/// kube-prometheus-stack's always-firing alert, "meant to ensure that the entire alerting
/// pipeline is functional".
pub const WATCHDOG: &str = "Watchdog";

pub(crate) fn checks() -> Vec<Check> {
    let c = Component::Alertmanager;
    vec![
        Check::new(
            c,
            "ready",
            &[],
            |ctx| async move { ready(&ctx).await.into() },
        ),
        Check::new(c, "cluster", &["alertmanager/ready"], |ctx| async move {
            cluster(&ctx).await.into()
        }),
        Check::new(
            c,
            "alert-delivery",
            &["alertmanager/ready", "prometheus/ready"],
            |ctx| async move { delivery(&ctx).await },
        ),
    ]
}

async fn ready(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Alertmanager).await?;
    super::wait::ready(&ep, "/-/ready", ctx.deadline).await
}

#[derive(Deserialize)]
struct Status {
    cluster: ClusterStatus,
    #[serde(rename = "versionInfo", default)]
    version_info: Value,
}

#[derive(Deserialize)]
struct ClusterStatus {
    status: String,
    #[serde(default)]
    peers: Vec<Value>,
}

/// `ready` (gossip settled) and `disabled` (a single Alertmanager without clustering) pass;
/// `settling` is retried until the deadline.
async fn cluster(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Alertmanager).await?;
    let polled = wait::until(ctx.deadline, PACE, || async {
        let answer = match ep.send(Call::get("/api/v2/status"), ctx.deadline).await {
            Ok(answer) if answer.status.is_success() => answer,
            Ok(answer) => return Attempt::Failed(answer.unexpected().to_string()),
            Err(e) => return Attempt::Failed(e.to_string()),
        };
        let status: Status = match answer.json() {
            Ok(status) => status,
            Err(e) => return Attempt::Failed(e.to_string()),
        };
        let version = status.version_info["version"].as_str().unwrap_or("?");
        match status.cluster.status.as_str() {
            "ready" => Attempt::Done(format!(
                "cluster ready, {} peers, version {version}",
                status.cluster.peers.len()
            )),
            "disabled" => Attempt::Done(format!(
                "clustering disabled (one replica), version {version}"
            )),
            "settling" => Attempt::NotYet("settling".into()),
            other => Attempt::Failed(format!("cluster status `{other}`")),
        }
    })
    .await;
    polled.map_err(|stop| match stop {
        Stop::Failed(reason) => reason,
        Stop::TimedOut(_) => format!("cluster still settling after {}", ctx.timeout_text()),
    })
}

#[derive(Deserialize)]
struct Groups {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    rules: Vec<Value>,
}

#[derive(Deserialize)]
struct Alertmanagers {
    #[serde(rename = "activeAlertmanagers", default)]
    active: Vec<Value>,
}

async fn delivery(ctx: &Ctx) -> Outcome {
    let prometheus = match ctx.endpoint(Target::Prometheus).await {
        Ok(ep) => ep,
        Err(e) => return Outcome::Fail(e),
    };
    let alertmanager = match ctx.endpoint(Target::Alertmanager).await {
        Ok(ep) => ep,
        Err(e) => return Outcome::Fail(e),
    };
    let rules: Groups = match api(
        &prometheus,
        ctx,
        Call::get("/api/v1/rules").query("type", "alert"),
    )
    .await
    {
        Ok(rules) => rules,
        Err(e) => return Outcome::Fail(e),
    };
    let has_watchdog = rules
        .groups
        .iter()
        .flat_map(|g| &g.rules)
        .any(|r| r["name"] == WATCHDOG);
    if !has_watchdog {
        return Outcome::Skip(format!(
            "Prometheus has no `{WATCHDOG}` alert rule to follow (kube-prometheus-stack's defaultRules.rules.general)"
        ));
    }
    // Asked first: after the deadline there is no time left to explain a failure.
    let hint =
        match api::<Alertmanagers>(&prometheus, ctx, Call::get("/api/v1/alertmanagers")).await {
            Ok(a) if a.active.is_empty() => {
                ": Prometheus is not sending to any Alertmanager".to_string()
            }
            Ok(a) => format!(
                " (Prometheus sends to {})",
                a.active
                    .iter()
                    .filter_map(|x| x["url"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(_) => String::new(),
        };
    let filter = format!("alertname=\"{WATCHDOG}\"");
    let polled = wait::until(ctx.deadline, PACE, || async {
        let call = Call::get("/api/v2/alerts").query("filter", filter.clone());
        match alertmanager.send(call, ctx.deadline).await {
            Ok(answer) if answer.status.is_success() => match answer.json::<Vec<Value>>() {
                Ok(alerts) if !alerts.is_empty() => {
                    let state = alerts[0]["status"]["state"].as_str().unwrap_or("?");
                    Attempt::Done(format!("{WATCHDOG} arrived from Prometheus ({state})"))
                }
                Ok(_) => Attempt::NotYet(format!("no {WATCHDOG} in Alertmanager")),
                Err(e) => Attempt::Failed(e.to_string()),
            },
            Ok(answer) => Attempt::Failed(answer.unexpected().to_string()),
            Err(e) => Attempt::from_probe(e),
        }
    })
    .await;
    match polled {
        Ok(detail) => return Outcome::Pass(detail),
        Err(Stop::Failed(reason)) => return Outcome::Fail(reason),
        Err(Stop::TimedOut(_)) => {}
    }
    Outcome::Fail(format!(
        "the {WATCHDOG} rule is loaded but its alert did not reach Alertmanager within {}{hint}",
        ctx.timeout_text()
    ))
}
