//! SLO → Prometheus rules. Pure: the same profile gives the same bytes.
//!
//! Per SLO, two groups:
//! - `slo-<name>`: the error and total increases over the 5m base window, recorded once; the error
//!   ratio over every alert window (`slo:error_ratio:window<W>`); one `SLOErrorBudgetBurn` alert
//!   per tier (the Workbook's multi-window multi-burn-rate table; both windows must exceed the
//!   threshold).
//! - `slo-<name>-budget`: the error ratio over the whole SLO window, on a slower interval
//!   (dashboards and reports read it; no alert depends on it).
//!
//! Recorded series carry only the `slo` label: the SLO's own labels go on the alerts, so changing
//! them never splits a window's history. Every ratio is events over events (traffic-weighted),
//! never an average of ratios.
//!
//! # How each window is computed (decided in [`window_source`])
//!
//! Two ways, chosen per window:
//! - **Raw**: `sum(increase(errors[W])) / sum(increase(total[W]))` straight from the source
//!   counters. Exact at both edges (the Workbook's figures), but its cost grows with the number of
//!   series behind the selectors times the samples in W.
//! - **Derived** from the recorded 5m increases `E` and `T` (one series each, whatever the
//!   cardinality): `(avg_over_time(E[W − B/2]) × (2W/B − 1) + E) / (… T …)` with B = 5m. A plain
//!   `sum_over_time(E[W])` weighs the events of the last 5m by their age (a sample holds the 5m
//!   before it), so it lags a raw window by B/2 at the leading edge: a full outage paged after
//!   2.9 minutes instead of the Workbook's 0.86, and a ratio just above a threshold 2.5 minutes
//!   late on every tier. Adding half of the newest sample fills that ramp in (events aged a < B
//!   weigh a/B + 1/2, which averages 1), and shortening the scan by B/2 keeps the total weight at
//!   W, so once an outage is B old the derived window counts exactly what a raw one counts; before
//!   that it lags by at most B/8 (37.5s). `avg_over_time × (W − B/2)/B` turns samples into events
//!   whatever the evaluation interval.
//!
//! The short windows (5m, 30m, 2h, 6h) are raw, the long ones (1h, 1d, 3d and the SLO window)
//! derived:
//! - a page resets when its short window drops under the threshold: raw short windows reset
//!   exactly as the Workbook says (a derived one would trail by up to B/8 more);
//! - the short windows are 515 minutes of raw scan per evaluation against Sloth's 6,335 (5m, 30m,
//!   1h, 2h, 6h, 1d, 3d all raw), so at high cardinality obsctl reads about 8% of the samples;
//! - the long windows are the costly ones to scan raw (1d and 3d are 90% of Sloth's samples), and
//!   the derived ones scan one series each.
//!
//! Measured (`scripts/bench.sh slo`, one Prometheus evaluating both rule sets on the same series
//! and history): see the table in README "Benchmarks"; the detection and reset figures are proved
//! by tests/slo_rules.rs under promtool and reported by `slo explain`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::profile::slo::selector::quote;
use crate::profile::slo::{Exact, Indicator, Selector, Slo, Tier, BASE_WINDOW_SECS};
use crate::profile::types::format_seconds;
use crate::profile::{Duration, Stack};

/// Every SLO alert has this name; `slo`, `severity` and the windows tell them apart.
pub const ALERT_NAME: &str = "SLOErrorBudgetBurn";
pub const ERRORS_METRIC: &str = "slo:errors:increase5m";
pub const TOTAL_METRIC: &str = "slo:total:increase5m";
/// How often the whole-window ratio is re-evaluated.
pub const BUDGET_GROUP_INTERVAL: &str = "2m";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleGroup {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rule {
    Record {
        record: String,
        expr: String,
        labels: BTreeMap<String, String>,
    },
    Alert {
        alert: String,
        expr: String,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    },
}

impl Rule {
    pub fn is_record(&self) -> bool {
        matches!(self, Rule::Record { .. })
    }
}

/// The recorded error ratio over `window` (`slo:error_ratio:window1h`).
pub fn ratio_metric(window: &Duration) -> String {
    format!("slo:error_ratio:window{}", format_seconds(window.as_secs()))
}

/// The distinct windows of the enabled tiers that can fire, shortest first.
pub fn alert_windows(slo: &Slo) -> Vec<Duration> {
    let mut secs: Vec<u64> = live_tiers(slo)
        .flat_map(|t| [t.short_secs, t.long_secs])
        .chain([BASE_WINDOW_SECS])
        .collect();
    secs.sort_unstable();
    secs.dedup();
    secs.into_iter().map(Duration::from_secs).collect()
}

/// The tiers that get an alert: enabled and able to fire.
pub fn live_tiers(slo: &Slo) -> impl Iterator<Item = &'static Tier> + '_ {
    slo.enabled_tiers()
        .filter(|t| t.can_fire(&slo.objective, &slo.window))
}

/// PromQL for the bad events over `range` (e.g. `5m`), one series without labels.
pub fn errors_expr(slo: &Slo, range: &str) -> String {
    let inc = |s: &Selector| format!("sum(increase({}[{range}]))", s.promql());
    match &slo.indicator {
        // No error series yet (no 5xx ever) means no errors, not no data.
        Indicator::Ratio(r) => match (&r.errors, &r.good) {
            (Some(errors), _) => format!("{} or vector(0)", inc(errors)),
            (None, Some(good)) => format!(
                "clamp_min({} - ({} or vector(0)), 0)",
                inc(&r.total),
                inc(good)
            ),
            (None, None) => unreachable!("validated: errors or good"),
        },
        // A histogram always exports its buckets: a missing `le` bucket is a wrong threshold,
        // better no SLI than a 100% error ratio that pages.
        Indicator::Latency(l) => format!("clamp_min({} - {}, 0)", inc(&l.total()), inc(&l.good())),
    }
}

/// PromQL for all events over `range`.
pub fn total_expr(slo: &Slo, range: &str) -> String {
    let total = match &slo.indicator {
        Indicator::Ratio(r) => r.total.clone(),
        Indicator::Latency(l) => l.total(),
    };
    format!("sum(increase({}[{range}]))", total.promql())
}

fn slo_labels(slo: &Slo) -> BTreeMap<String, String> {
    BTreeMap::from([("slo".to_string(), slo.name.to_string())])
}

fn matcher(slo: &Slo) -> String {
    format!("{{slo={}}}", quote(slo.name.as_str()))
}

/// Where a window's error ratio comes from (see the module docs for why).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowSource {
    /// The recorded 5m increases themselves.
    Base,
    /// The source counters, over the whole window.
    Raw,
    /// The recorded 5m increases, leading edge corrected.
    Derived,
}

/// Short windows decide when a page resets: raw, so it resets as the Workbook says. Long windows
/// are the expensive scans: derived from the two base recordings.
pub fn window_source(slo: &Slo, window: &Duration) -> WindowSource {
    source_among(live_tiers(slo), window.as_secs())
}

/// [`window_source`] for a window among `tiers` (also for `slo explain` of a bare objective).
pub fn source_among<'a>(tiers: impl IntoIterator<Item = &'a Tier>, secs: u64) -> WindowSource {
    if secs == BASE_WINDOW_SECS {
        WindowSource::Base
    } else if tiers.into_iter().any(|t| t.short_secs == secs) {
        WindowSource::Raw
    } else {
        WindowSource::Derived
    }
}

/// The error ratio over `window`, as its source says.
fn ratio_expr(slo: &Slo, window: &Duration) -> String {
    let m = matcher(slo);
    match window_source(slo, window) {
        WindowSource::Base => format!("{ERRORS_METRIC}{m} / {TOTAL_METRIC}{m}"),
        WindowSource::Raw => {
            let w = format_seconds(window.as_secs());
            format!("({}) / {}", errors_expr(slo, &w), total_expr(slo, &w))
        }
        WindowSource::Derived => {
            // Events over W: the last W − B/2 of 5m samples, averaged and scaled to events
            // ((W − B/2)/B; doubled with the half sample: 2W/B − 1), plus half of the newest.
            let scan = format_seconds(window.as_secs() - BASE_WINDOW_SECS / 2);
            let scale = Exact::ratio(
                i128::from(2 * window.as_secs() - BASE_WINDOW_SECS),
                i128::from(BASE_WINDOW_SECS),
            );
            let events = |metric: &str| {
                format!("avg_over_time({metric}{m}[{scan}]) * {scale} + {metric}{m}")
            };
            format!("({}) / ({})", events(ERRORS_METRIC), events(TOTAL_METRIC))
        }
    }
}

fn alert(slo: &Slo, tier: &Tier) -> Rule {
    let threshold = tier.threshold(&slo.objective, &slo.window);
    let budget = slo.objective.error_budget();
    let burn = tier.burn_rate(&slo.window);
    let m = matcher(slo);
    let (long, short) = (tier.long_window(), tier.short_window());
    // Divided by the budget, the alert's value is the long window's burn rate, for the text.
    let expr = format!(
        "({long_ratio}{m} > {threshold} and {short_ratio}{m} > {threshold}) / {budget}",
        long_ratio = ratio_metric(&long),
        short_ratio = ratio_metric(&short),
    );
    let mut labels = slo.alerting.labels.clone();
    labels.extend([
        ("slo".to_string(), slo.name.to_string()),
        ("service".to_string(), slo.service.clone()),
        ("severity".to_string(), tier.severity.as_str().to_string()),
        ("long_window".to_string(), long.to_string()),
        ("short_window".to_string(), short.to_string()),
    ]);
    let mut annotations = BTreeMap::from([
        (
            "summary".to_string(),
            format!(
                "{} ({}) is burning its {} error budget faster than {burn}×",
                slo.name, slo.service, slo.window
            ),
        ),
        (
            "description".to_string(),
            format!(
                "The error budget of {name} ({objective}% over {window}) is burning at {{{{ printf \"%.1f\" $value }}}}× the sustainable rate over the last {long}. \
                 This {severity} alert fires when both the {long} and {short} windows burn faster than {burn}× \
                 (an error ratio above {threshold}), which spends {pct}% of the budget in {long}.",
                name = slo.name,
                objective = slo.objective,
                window = slo.window,
                severity = tier.severity.as_str(),
                pct = tier.budget_percent,
            ),
        ),
    ]);
    if let Some(url) = &slo.alerting.runbook_url {
        annotations.insert("runbook_url".to_string(), url.clone());
    }
    Rule::Alert {
        alert: ALERT_NAME.to_string(),
        expr,
        labels,
        annotations,
    }
}

/// The rule groups of one SLO.
pub fn groups(slo: &Slo) -> Vec<RuleGroup> {
    let labels = slo_labels(slo);
    let base = format_seconds(BASE_WINDOW_SECS);
    let mut rules = vec![
        Rule::Record {
            record: ERRORS_METRIC.into(),
            expr: errors_expr(slo, &base),
            labels: labels.clone(),
        },
        Rule::Record {
            record: TOTAL_METRIC.into(),
            expr: total_expr(slo, &base),
            labels: labels.clone(),
        },
    ];
    let windows = alert_windows(slo);
    for window in &windows {
        rules.push(Rule::Record {
            record: ratio_metric(window),
            expr: ratio_expr(slo, window),
            labels: labels.clone(),
        });
    }
    rules.extend(live_tiers(slo).map(|t| alert(slo, t)));
    let mut out = vec![RuleGroup {
        name: format!("slo-{}", slo.name),
        interval: None,
        rules,
    }];
    // A 3d SLO window is also an alert window: recorded once, above.
    if !windows.iter().any(|w| w.as_secs() == slo.window.as_secs()) {
        out.push(RuleGroup {
            name: format!("slo-{}-budget", slo.name),
            interval: Some(BUDGET_GROUP_INTERVAL.into()),
            rules: vec![Rule::Record {
                record: ratio_metric(&slo.window),
                expr: ratio_expr(slo, &slo.window),
                labels,
            }],
        });
    }
    out
}

/// A plain Prometheus rule file (`rule_files:`) with every SLO's groups.
pub fn rule_file(stack: &Stack) -> yaml_serde::Value {
    let groups: Vec<RuleGroup> = stack.slos.iter().flat_map(groups).collect();
    to_yaml(&json!({ "groups": groups }))
}

/// One PrometheusRule per SLO. kube-prometheus-stack's Prometheus selects every PrometheusRule
/// (obsctl sets `ruleSelectorNilUsesHelmValues: false`), so the labels only say who owns them.
pub fn prometheus_rules(stack: &Stack) -> Vec<yaml_serde::Value> {
    stack
        .slos
        .iter()
        .map(|slo| {
            to_yaml(&json!({
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PrometheusRule",
                "metadata": {
                    "name": format!("slo-{}", slo.name),
                    "namespace": stack.namespace.as_str(),
                    "labels": {
                        "app.kubernetes.io/managed-by": "obsctl",
                        "obsctl.dev/profile": stack.name.as_str(),
                        "obsctl.dev/slo": slo.name.as_str(),
                    },
                },
                "spec": { "groups": groups(slo) },
            }))
        })
        .collect()
}

fn to_yaml(value: &serde_json::Value) -> yaml_serde::Value {
    yaml_serde::to_value(value).expect("rules convert to YAML")
}

#[cfg(test)]
mod tests;
