//! Alertmanager: ready; its cluster status; and an always-firing alert (kube-prometheus-stack's
//! Watchdog) arrived from Prometheus, the proof that the Prometheus → Alertmanager path works.
//! Shapes: Alertmanager `api/v2/openapi.yaml`; Prometheus `/api/v1/rules`, `/api/v1/alertmanagers`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

use super::http::{format_duration, Call};
use super::prometheus::api;
use super::runner::{Check, CheckVerdict, Ctx};
use super::targets::Target;
use super::wait::{self, Attempt, Backoff, Stop};
use super::Component;
use crate::profile::PromDuration;

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
    /// Evaluation interval, seconds.
    #[serde(default)]
    interval: f64,
}

#[derive(Deserialize)]
struct Alertmanagers {
    #[serde(rename = "activeAlertmanagers", default)]
    active: Vec<Value>,
}

/// Prometheus' Watchdog rule: how often its group is evaluated, and since when (unix seconds)
/// its alert is active, if it is.
#[derive(Debug, PartialEq)]
struct Watchdog {
    interval: Duration,
    active_since: Option<f64>,
}

fn watchdog(rules: &Groups) -> Option<Watchdog> {
    rules.groups.iter().find_map(|g| {
        let rule = g.rules.iter().find(|r| r["name"] == WATCHDOG)?;
        let active_since = rule["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["activeAt"].as_str())
            .filter_map(|t| crate::time::parse_instant(t).ok())
            .reduce(f64::min);
        Some(Watchdog {
            interval: Duration::from_secs_f64(g.interval.max(0.0)),
            active_since,
        })
    })
}

/// Prometheus' default `--rules.alert.resend-delay`.
const DEFAULT_RESEND_DELAY: Duration = Duration::from_secs(60);

/// Time for a fresh Alertmanager to start listening and for Prometheus' notifier to send.
const DELIVERY_SLACK: Duration = Duration::from_secs(5);

/// How long after an alert fires (or a fresh Alertmanager starts) it may take to arrive:
/// Prometheus resends a firing alert once the resend delay has passed, on a rule evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    resend_delay: Duration,
    interval: Duration,
}

impl Window {
    fn allowed(self) -> Duration {
        self.resend_delay + self.interval + DELIVERY_SLACK
    }

    /// `66s: resend delay 60s, evaluation interval 1s, 5s to deliver`.
    fn explain(self) -> String {
        format!(
            "{}: resend delay {}, evaluation interval {}, {} to deliver",
            format_duration(self.allowed()),
            format_duration(self.resend_delay),
            format_duration(self.interval),
            format_duration(DELIVERY_SLACK)
        )
    }
}

/// Whether the Watchdog, not in Alertmanager, may still be on its way (`NotYet`) or should have
/// arrived (`Failed`), given when it started firing, when Alertmanager started, and now (unix
/// seconds).
fn judge_absence(
    dog: &Watchdog,
    alertmanager_started: Option<f64>,
    now: f64,
    window: Window,
    hint: &str,
) -> Attempt<String> {
    let Some(active_since) = dog.active_since else {
        return Attempt::NotYet(format!(
            "Prometheus has not fired {WATCHDOG} yet (its rule is evaluated every {})",
            format_duration(dog.interval)
        ));
    };
    // An Alertmanager that started after the alert gets it on the next resend.
    let since = alertmanager_started.map_or(active_since, |s| s.max(active_since));
    let waited = Duration::from_secs_f64((now - since).max(0.0));
    if waited <= window.allowed() {
        return Attempt::NotYet(format!(
            "{WATCHDOG} firing in Prometheus, not yet in Alertmanager (allowed {})",
            window.explain()
        ));
    }
    Attempt::Failed(format!(
        "{WATCHDOG} has been firing in Prometheus for {}{} and is not in Alertmanager, longer than allowed ({}){hint}",
        format_duration(Duration::from_secs(waited.as_secs())),
        if since > active_since {
            " since Alertmanager started"
        } else {
            ""
        },
        window.explain()
    ))
}

async fn delivery(ctx: &Ctx) -> CheckVerdict {
    let prometheus = match ctx.endpoint(Target::Prometheus).await {
        Ok(ep) => ep,
        Err(e) => return CheckVerdict::Fail(e),
    };
    let alertmanager = match ctx.endpoint(Target::Alertmanager).await {
        Ok(ep) => ep,
        Err(e) => return CheckVerdict::Fail(e),
    };
    let rules_call = || Call::get("/api/v1/rules").query("type", "alert");
    let rules: Groups = match api(&prometheus, ctx, rules_call()).await {
        Ok(rules) => rules,
        Err(e) => return CheckVerdict::Fail(e),
    };
    let Some(first_look) = watchdog(&rules) else {
        return CheckVerdict::Skip(format!(
            "Prometheus has no `{WATCHDOG}` alert rule to follow (kube-prometheus-stack's defaultRules.rules.general)"
        ));
    };
    // Asked first: after the deadline there is no time left to explain a failure.
    let (alertmanagers, flags, status) = futures::join!(
        api::<Alertmanagers>(&prometheus, ctx, Call::get("/api/v1/alertmanagers")),
        api::<BTreeMap<String, Value>>(&prometheus, ctx, Call::get("/api/v1/status/flags")),
        alertmanager.send(Call::get("/api/v2/status"), ctx.deadline),
    );
    let hint = match alertmanagers {
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
    let resend_delay = flags
        .ok()
        .and_then(|f| {
            f.get("rules.alert.resend-delay")?
                .as_str()?
                .parse::<PromDuration>()
                .ok()
        })
        .map_or(DEFAULT_RESEND_DELAY, |d| d.as_std());
    let alertmanager_started = status
        .ok()
        .and_then(|a| a.json::<Value>().ok())
        .and_then(|v| crate::time::parse_instant(v["uptime"].as_str()?).ok());
    let window = Window {
        resend_delay,
        interval: first_look.interval,
    };

    let filter = format!("alertname=\"{WATCHDOG}\"");
    let polled = wait::until(ctx.deadline, PACE, || async {
        let call = Call::get("/api/v2/alerts").query("filter", filter.clone());
        match alertmanager.send(call, ctx.deadline).await {
            Ok(answer) if answer.status.is_success() => match answer.json::<Vec<Value>>() {
                Ok(alerts) if !alerts.is_empty() => {
                    let state = alerts[0]["status"]["state"].as_str().unwrap_or("?");
                    return Attempt::Done(format!("{WATCHDOG} arrived from Prometheus ({state})"));
                }
                Ok(_) => {}
                Err(e) => return Attempt::Failed(e.to_string()),
            },
            Ok(answer) => return Attempt::Failed(answer.unexpected().to_string()),
            Err(e) => return Attempt::from_probe(&alertmanager, e),
        }
        // Not there: whether it may still be on its way, by Prometheus' account of it.
        match api::<Groups>(&prometheus, ctx, rules_call()).await {
            Ok(rules) => match watchdog(&rules) {
                Some(dog) => judge_absence(
                    &dog,
                    alertmanager_started,
                    crate::time::now_unix(),
                    window,
                    &hint,
                ),
                None => Attempt::Failed(format!("Prometheus no longer has a `{WATCHDOG}` rule")),
            },
            Err(_) if Instant::now() >= ctx.deadline => Attempt::OutOfTime,
            Err(e) => Attempt::Failed(e),
        }
    })
    .await;
    match polled {
        Ok(detail) => CheckVerdict::Pass(detail),
        Err(Stop::Failed(reason)) => CheckVerdict::Fail(reason),
        Err(stop) => CheckVerdict::Fail(format!(
            "the {WATCHDOG} rule is loaded but its alert did not reach Alertmanager within {}{hint}{}",
            ctx.timeout_text(),
            stop.last_seen()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_watchdog_is_read_with_its_group_interval_and_activation() {
        let rules: Groups = serde_json::from_value(json!({"groups": [
            {"name": "other", "interval": 30, "rules": [{"name": "HighErrors"}]},
            {"name": "general.rules", "interval": 1.5, "rules": [{"name": "Watchdog", "alerts": [
                {"state": "firing", "activeAt": "2026-12-03T07:00:02.5Z"},
            ]}]},
        ]}))
        .unwrap();
        let dog = watchdog(&rules).unwrap();
        assert_eq!(dog.interval, Duration::from_millis(1500));
        assert_eq!(dog.active_since, Some(1_796_281_202.5));
        let none: Groups = serde_json::from_value(json!({"groups": [{"rules": []}]})).unwrap();
        assert_eq!(watchdog(&none), None);
    }

    #[test]
    fn a_missing_watchdog_is_waited_for_only_within_the_resend_window() {
        let window = Window {
            resend_delay: Duration::from_secs(60),
            interval: Duration::from_secs(30),
        };
        assert_eq!(window.allowed(), Duration::from_secs(95));
        let dog = Watchdog {
            interval: Duration::from_secs(30),
            active_since: Some(1000.0),
        };
        assert!(matches!(
            judge_absence(&dog, None, 1090.0, window, ""),
            Attempt::NotYet(_)
        ));
        let Attempt::Failed(text) = judge_absence(
            &dog,
            None,
            1100.0,
            window,
            ": Prometheus is not sending to any Alertmanager",
        ) else {
            panic!("not failed")
        };
        assert_eq!(
            text,
            "Watchdog has been firing in Prometheus for 100s and is not in Alertmanager, longer than allowed (95s: resend delay 60s, evaluation interval 30s, 5s to deliver): Prometheus is not sending to any Alertmanager"
        );
        // A fresh Alertmanager: the window starts when it did.
        assert!(matches!(
            judge_absence(&dog, Some(1050.0), 1100.0, window, ""),
            Attempt::NotYet(_)
        ));
        let Attempt::Failed(text) = judge_absence(&dog, Some(1050.0), 1146.0, window, "") else {
            panic!("not failed")
        };
        assert!(
            text.contains("for 96s since Alertmanager started"),
            "{text}"
        );
        // Not fired yet (the rule has not been evaluated): waited for.
        let fresh = Watchdog {
            interval: Duration::from_secs(30),
            active_since: None,
        };
        assert_eq!(
            judge_absence(&fresh, None, 1100.0, window, ""),
            Attempt::NotYet(
                "Prometheus has not fired Watchdog yet (its rule is evaluated every 30s)".into()
            )
        );
    }
}
