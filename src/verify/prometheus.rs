//! Prometheus: ready; the stack's own scrape targets up; obsctl's rule groups loaded and every
//! rule evaluating without error; the remote-write receiver and exemplar storage on when the
//! render asks for them. Paths and shapes: Prometheus `docs/querying/api.md`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

use super::http::{Call, Endpoint};
use super::runner::{Check, Ctx};
use super::targets::Target;
use super::wait::{self, Attempt, Backoff};
use super::Component;

pub(crate) fn checks() -> Vec<Check> {
    let c = Component::Prometheus;
    let after = &["prometheus/ready"];
    vec![
        Check::new(
            c,
            "ready",
            &[],
            |ctx| async move { ready(&ctx).await.into() },
        ),
        Check::new(c, "targets", after, |ctx| async move {
            targets(&ctx).await.into()
        }),
        Check::new(
            c,
            "rules",
            after,
            |ctx| async move { rules(&ctx).await.into() },
        ),
        Check::new(c, "features", after, |ctx| async move {
            features(&ctx).await.into()
        }),
    ]
}

/// `GET /-/ready`: 200 once Prometheus serves queries.
async fn ready(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Prometheus).await?;
    super::wait::ready(&ep, "/-/ready", ctx.deadline).await
}

/// The `{"status": "success", "data": …}` envelope of Prometheus' API.
#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    error: Option<String>,
}

/// `GET path` and the `data` of a successful answer.
pub(crate) async fn api<T: serde::de::DeserializeOwned>(
    ep: &Endpoint,
    ctx: &Ctx,
    call: Call<'_>,
) -> Result<T, String> {
    let answer = ep
        .send(call, ctx.deadline)
        .await
        .map_err(|e| e.to_string())?;
    if !answer.status.is_success() {
        return Err(answer.unexpected().to_string());
    }
    let envelope: Envelope<T> = answer.json().map_err(|e| e.to_string())?;
    match (envelope.status.as_str(), envelope.data) {
        ("success", Some(data)) => Ok(data),
        _ => Err(format!(
            "{}: {}",
            answer.request,
            envelope.error.unwrap_or(envelope.status)
        )),
    }
}

#[derive(Deserialize)]
struct Targets {
    #[serde(rename = "activeTargets")]
    active: Vec<ActiveTarget>,
}

#[derive(Deserialize)]
struct ActiveTarget {
    labels: std::collections::BTreeMap<String, String>,
    #[serde(rename = "scrapePool", default)]
    scrape_pool: String,
    #[serde(rename = "scrapeUrl", default)]
    scrape_url: String,
    health: String,
    #[serde(rename = "lastError", default)]
    last_error: String,
}

/// How often the targets are read again while some are not scraped yet.
const TARGETS_BACKOFF: Backoff =
    Backoff::growing(Duration::from_millis(250), Duration::from_secs(1));

async fn targets(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Prometheus).await?;
    let namespace = &ctx.expect.namespace;
    let polled = wait::until(ctx.deadline, TARGETS_BACKOFF, || async {
        let call = Call::get("/api/v1/targets").query("state", "active");
        match api::<Targets>(&ep, ctx, call).await {
            Ok(targets) => judge_targets(&targets.active, namespace),
            Err(_) if Instant::now() >= ctx.deadline => Attempt::OutOfTime,
            Err(e) => Attempt::Failed(e),
        }
    })
    .await;
    polled.map_err(|stop| {
        stop.message(|| {
            format!(
                "GET {}: no answer within {}",
                ep.url("/api/v1/targets"),
                ctx.timeout_text()
            )
        })
    })
}

/// The stack's own targets are those whose `namespace` label is the stack's namespace: the
/// kubelet, API server and control-plane targets kube-prometheus-stack also scrapes live
/// elsewhere, and are often down on managed clusters for reasons that are not the stack's.
/// A target `down` fails at once; one not scraped yet (`unknown`), or none listed yet (the
/// operator has not reloaded Prometheus with the stack's ServiceMonitors), is waited for.
fn judge_targets(active: &[ActiveTarget], namespace: &str) -> Attempt<String> {
    let ours: Vec<&ActiveTarget> = active
        .iter()
        .filter(|t| t.labels.get("namespace").map(String::as_str) == Some(namespace))
        .collect();
    if active.is_empty() {
        // Right after start, before service discovery has run: warming, unless it stays so.
        return Attempt::NotYet(
            "Prometheus has no active targets yet: no ServiceMonitor or PodMonitor is selected, or discovery has not run"
                .into(),
        );
    }
    if ours.is_empty() {
        return Attempt::NotYet(format!(
            "none of {} active targets is in namespace {namespace}: the stack's ServiceMonitors are not selected",
            active.len()
        ));
    }
    let describe = |t: &&ActiveTarget| {
        let job = t
            .labels
            .get("job")
            .cloned()
            .unwrap_or_else(|| t.scrape_pool.clone());
        let why = if t.last_error.is_empty() {
            t.health.clone()
        } else {
            t.last_error.clone()
        };
        format!("{job} {} ({why})", t.scrape_url)
    };
    let down: Vec<String> = ours
        .iter()
        .filter(|t| t.health == "down")
        .map(describe)
        .collect();
    let unscraped: Vec<String> = ours
        .iter()
        .filter(|t| t.health != "up" && t.health != "down")
        .map(describe)
        .collect();
    if !down.is_empty() {
        let mut text = format!(
            "{} of {} targets in {namespace} down: {}",
            down.len(),
            ours.len(),
            down.join("; ")
        );
        if !unscraped.is_empty() {
            text.push_str(&format!("; {} not scraped yet", unscraped.len()));
        }
        return Attempt::Failed(text);
    }
    if !unscraped.is_empty() {
        return Attempt::NotYet(format!(
            "{} of {} targets in {namespace} not scraped yet: {}",
            unscraped.len(),
            ours.len(),
            unscraped.join("; ")
        ));
    }
    let jobs: std::collections::BTreeSet<&str> = ours
        .iter()
        .filter_map(|t| t.labels.get("job").map(String::as_str))
        .collect();
    Attempt::Done(format!(
        "{} targets up in {namespace} ({} jobs)",
        ours.len(),
        jobs.len()
    ))
}

#[derive(Deserialize)]
struct RuleGroups {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct RuleGroup {
    name: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    name: String,
    #[serde(default)]
    health: String,
    #[serde(rename = "lastError", default)]
    last_error: String,
}

async fn rules(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Prometheus).await?;
    let loaded: RuleGroups = api(&ep, ctx, Call::get("/api/v1/rules")).await?;
    judge_rules(&loaded.groups, &ctx.expect.rule_groups)
}

/// Every expected group loaded; no rule of any loaded group in error. Rules not yet evaluated
/// (`unknown`, right after a reload) are counted, not failed.
fn judge_rules(groups: &[RuleGroup], expected: &[String]) -> Result<String, String> {
    let mut problems: Vec<String> = expected
        .iter()
        .filter(|name| !groups.iter().any(|g| &g.name == *name))
        .map(|name| format!("rule group `{name}` not loaded"))
        .collect();
    let mut rules = 0;
    let mut pending = 0;
    for group in groups {
        for rule in &group.rules {
            rules += 1;
            match rule.health.as_str() {
                "ok" => {}
                "err" => problems.push(format!(
                    "{}/{}: {}",
                    group.name,
                    rule.name,
                    if rule.last_error.is_empty() {
                        "evaluation error"
                    } else {
                        &rule.last_error
                    }
                )),
                _ => pending += 1,
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let mut detail = format!("{} groups, {rules} rules evaluating", groups.len());
    if !expected.is_empty() {
        detail.push_str(&format!(", obsctl's {} groups loaded", expected.len()));
    }
    if pending > 0 {
        detail.push_str(&format!(" ({pending} not evaluated yet)"));
    }
    Ok(detail)
}

async fn features(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Prometheus).await?;
    let flags: std::collections::BTreeMap<String, Value> =
        api(&ep, ctx, Call::get("/api/v1/status/flags")).await?;
    judge_features(
        &flags,
        ctx.expect.remote_write_receiver,
        ctx.expect.exemplar_storage,
    )
}

/// Reads `--web.enable-remote-write-receiver` and `--enable-feature` from the flags Prometheus
/// runs with (the operator sets them from `enableRemoteWriteReceiver` and `enableFeatures`).
fn judge_features(
    flags: &std::collections::BTreeMap<String, Value>,
    want_receiver: bool,
    want_exemplars: bool,
) -> Result<String, String> {
    let text = |key: &str| flags.get(key).and_then(Value::as_str).unwrap_or("");
    let receiver = text("web.enable-remote-write-receiver") == "true";
    let exemplars = text("enable-feature")
        .split(',')
        .any(|f| f.trim() == "exemplar-storage");
    let mut problems = Vec::new();
    if want_receiver && !receiver {
        problems.push(
            "the remote-write receiver is off (Tempo's metrics generator cannot write service graphs and span metrics)",
        );
    }
    if want_exemplars && !exemplars {
        problems.push("exemplar storage is off (metrics will not link to traces)");
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let on_off = |b: bool| if b { "on" } else { "off" };
    Ok(format!(
        "remote-write receiver {}, exemplar storage {} (as the profile needs)",
        on_off(receiver),
        on_off(exemplars)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn active(json: Value) -> Vec<ActiveTarget> {
        serde_json::from_value::<Targets>(json).unwrap().active
    }

    #[test]
    fn only_targets_in_the_stack_namespace_count() {
        let list = active(json!({"activeTargets": [
            {"labels": {"job": "kps-prometheus", "namespace": "monitoring"}, "scrapePool": "p", "scrapeUrl": "http://a/metrics", "health": "up", "lastError": ""},
            {"labels": {"job": "kube-etcd", "namespace": "kube-system"}, "scrapePool": "e", "scrapeUrl": "http://b/metrics", "health": "down", "lastError": "connection refused"},
        ]}));
        assert_eq!(
            judge_targets(&list, "monitoring"),
            Attempt::Done("1 targets up in monitoring (1 jobs)".into())
        );
        // No target of the stack listed (yet): waited for, not failed.
        let Attempt::NotYet(text) = judge_targets(&list, "observability") else {
            panic!("not waiting")
        };
        assert!(text.starts_with("none of 2 active targets"), "{text}");
    }

    #[test]
    fn a_target_not_scraped_yet_is_waited_for_and_a_down_one_is_not() {
        let list = active(json!({"activeTargets": [
            {"labels": {"job": "kps-prometheus", "namespace": "monitoring"}, "scrapePool": "p", "scrapeUrl": "http://a/metrics", "health": "up", "lastError": ""},
            {"labels": {"job": "tempo", "namespace": "monitoring"}, "scrapePool": "t", "scrapeUrl": "http://t:3200/metrics", "health": "unknown", "lastError": ""},
        ]}));
        assert_eq!(
            judge_targets(&list, "monitoring"),
            Attempt::NotYet(
                "1 of 2 targets in monitoring not scraped yet: tempo http://t:3200/metrics (unknown)"
                    .into()
            )
        );
        let mut list = list;
        list.push(active(json!({"activeTargets": [
            {"labels": {"job": "loki", "namespace": "monitoring"}, "scrapePool": "l", "scrapeUrl": "http://l:3100/metrics", "health": "down", "lastError": "connection refused"},
        ]})).remove(0));
        assert_eq!(
            judge_targets(&list, "monitoring"),
            Attempt::Failed(
                "1 of 3 targets in monitoring down: loki http://l:3100/metrics (connection refused); 1 not scraped yet"
                    .into()
            )
        );
        assert!(
            matches!(judge_targets(&list, "observability"), Attempt::NotYet(m) if m.starts_with("none of 3 active targets")),
        );
        assert!(
            matches!(judge_targets(&[], "monitoring"), Attempt::NotYet(m) if m.starts_with("Prometheus has no active targets yet")),
        );
    }

    #[test]
    fn a_down_target_is_named_with_its_error() {
        let list = active(json!({"activeTargets": [
            {"labels": {"job": "loki", "namespace": "monitoring"}, "scrapePool": "p", "scrapeUrl": "http://10.0.0.9:3100/metrics", "health": "down", "lastError": "context deadline exceeded"},
        ]}));
        assert_eq!(
            judge_targets(&list, "monitoring"),
            Attempt::Failed(
                "1 of 1 targets in monitoring down: loki http://10.0.0.9:3100/metrics (context deadline exceeded)"
                    .into()
            )
        );
    }

    #[test]
    fn missing_groups_and_rules_in_error_fail() {
        let groups: RuleGroups = serde_json::from_value(json!({"groups": [
            {"name": "general.rules", "rules": [{"name": "Watchdog", "health": "ok"}]},
            {"name": "slo-api", "rules": [
                {"name": "slo:sli_error:ratio_rate5m", "health": "err", "lastError": "many-to-many matching not allowed"},
                {"name": "slo:other", "health": "unknown"},
            ]},
        ]}))
        .unwrap();
        let err = judge_rules(&groups.groups, &["slo-api".into(), "slo-web".into()]).unwrap_err();
        assert_eq!(
            err,
            "rule group `slo-web` not loaded; slo-api/slo:sli_error:ratio_rate5m: many-to-many matching not allowed"
        );
        let ok = judge_rules(&groups.groups[..1], &["general.rules".into()]).unwrap();
        assert_eq!(ok, "1 groups, 1 rules evaluating, obsctl's 1 groups loaded");
    }

    #[test]
    fn features_are_read_from_the_flags() {
        let flags: std::collections::BTreeMap<String, Value> = serde_json::from_value(json!({
            "web.enable-remote-write-receiver": "false",
            "enable-feature": "exemplar-storage,memory-snapshot-on-shutdown",
        }))
        .unwrap();
        assert!(judge_features(&flags, false, true).is_ok());
        let err = judge_features(&flags, true, true).unwrap_err();
        assert!(err.starts_with("the remote-write receiver is off"), "{err}");
        let none = std::collections::BTreeMap::new();
        assert!(judge_features(&none, false, true)
            .unwrap_err()
            .contains("exemplar storage is off"));
    }
}
