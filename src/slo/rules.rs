//! SLO → Prometheus rules. Pure: the same profile gives the same bytes.
//!
//! Per SLO, two groups:
//! - `slo-<name>`: the error and total increases over the 5m base window (`E`), recorded once; the
//!   error ratio over every alert window; one `SLOErrorBudgetBurn` alert per tier (the Workbook's
//!   multi-window multi-burn-rate table; both windows must exceed the threshold).
//! - `slo-<name>-budget`: the error ratio over the whole SLO window, on a slower interval
//!   (dashboards and reports read it; no alert depends on it).
//!
//! How each window is computed ([`window_source`]), chosen by what it must do and what it costs:
//! - **Short windows** (30m, 2h, 6h: some tier's short window, whatever else they are): raw,
//!   `sum(increase(errors[W])) / sum(increase(total[W]))`. The short window is what clears an
//!   alert after recovery, so it must drain exactly when the Workbook's does; raw scans of 30m,
//!   2h and 6h together are 8% of the samples of Sloth's raw windows (5m to 3d).
//! - **The other long windows** (1h, 1d, 3d, and an SLO window a tier alerts on): derived from
//!   `E`, so their cost does not grow with the series behind the selectors:
//!   `E + sum_over_time(E[W−5m] offset 2m30s) / (5m / interval)`, numerator and denominator alike
//!   (a sum of events, so traffic-weighted; while the history is shorter than W, the events of
//!   the history; a series younger than 2m30s has only `E`). `E` counts the latest 5m exactly. The overlapping 5m increases before it,
//!   shifted by half the base window, count the rest of the window with linear ramps centred on
//!   its edges: exact for steady traffic, and at a step (an outage)
//!   never less than the exact count (at most 5m/8 of the step more). So a derived window crosses
//!   its threshold no later than a raw one: detection is the Workbook's, to one evaluation.
//!   (Summing the overlapping increases without the shift — obsctl's first design — lags by
//!   half the base window: 2.9 minutes instead of 0.864 for the 99.9% 1h/5m page.)
//! - **The SLO window**, unless a tier alerts on it: `sum_over_time(E[W:5m])`, the recorded
//!   increases one every 5m, which tile the window without overlap: an exact count of all but
//!   the latest few minutes (the steps are aligned to the clock, not to the evaluation), which
//!   no alert needs and a 30d budget does not notice. Measured on Prometheus 2.42 with 30d of
//!   `E` at 30s (one SLO, median of 25 instant queries): 7.5 ms, against 17.3 ms for the derived
//!   form and 11.8 ms for a plain `sum_over_time(E[30d]) / 10`, as it reads a tenth of the
//!   samples; Sloth's 30d window (an average of 5m ratios) reads all of them.
//!
//! `scripts/bench.sh slo` measures the whole rule set against Sloth's (its 8 SLI windows, meta
//! rules and alerts) on one Prometheus 2.42 with 3d of raw and 30d of recorded history, as the
//! sum of the groups' last evaluation durations per SLO, mean of 6 polls (2 vCPUs):
//!
//! | series per selector | obsctl | Sloth | ratio |
//! |---|---|---|---|
//! | ~10 | 14.0 ms | 40.8 ms | 0.34 |
//! | ~1,000 | 163 ms | 927 ms | 0.18 |
//! | ~10,000 | 1,778 ms | 11,041 ms | 0.16 |
//!
//! The raw short windows are most of obsctl's cost from ~1,000 series on (6h: 872 ms of the
//! 1,778 at ~10,000), and Sloth's raw 3d and 1d windows most of its (6,876 and 2,399 ms).
//!
//! Recorded series carry only the `slo` label and, for a per-label SLO (`groupBy`), the grouping
//! labels: every sum is `sum by (<groupBy>)`, so each group has its own ratios, and the alerts,
//! matched label for label, fire per group and carry its labels. The SLO's own labels go on the
//! alerts, so changing them never splits a window's history.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::profile::slo::selector::quote;
use crate::profile::slo::{Indicator, Selector, Severity, Slo, Tier, BASE_WINDOW_SECS};
use crate::profile::types::format_seconds;
use crate::profile::{PromDuration, Stack};

/// Every SLO alert has this name; `slo`, `severity` and the windows tell them apart.
pub const ALERT_NAME: &str = "SLOErrorBudgetBurn";
/// The alert when an SLI's total series are gone (`alerting.absent`).
pub const ABSENT_ALERT_NAME: &str = "SLOMetricAbsent";
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
        #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
        for_: Option<String>,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    },
}

/// The recorded error ratio over `window` (`slo:error_ratio:window1h`).
pub fn ratio_metric(window: &PromDuration) -> String {
    format!("slo:error_ratio:window{}", format_seconds(window.as_secs()))
}

/// The distinct windows of the enabled tiers that can fire, shortest first.
pub fn alert_windows(slo: &Slo) -> Vec<PromDuration> {
    let mut secs: Vec<u64> = slo
        .live_tiers()
        .iter()
        .flat_map(|t| [t.short_secs, t.long_secs])
        .chain([BASE_WINDOW_SECS])
        .collect();
    secs.sort_unstable();
    secs.dedup();
    secs.into_iter().map(PromDuration::from_secs).collect()
}

/// `sum` or, for a per-label SLO, `sum by (route)`: one series per group.
fn sum(slo: &Slo) -> String {
    if slo.group_by.is_empty() {
        "sum".into()
    } else {
        format!("sum by ({})", slo.group_by.join(", "))
    }
}

/// PromQL for the bad events over `range` (e.g. `5m`): one series without labels, or one per
/// group of a per-label SLO.
pub fn errors_expr(slo: &Slo, range: &str) -> String {
    // No error series yet (no 5xx ever) means no errors, not no data: zero where there is
    // traffic (per group for a per-label SLO), and nothing where there is none, so a derived
    // window never counts an error-free sample its totals lack.
    errors_expr_filled(slo, range, &format!("0 * {}", total_expr(slo, range)))
}

/// [`errors_expr`], with `zero` (a zero per group with traffic) standing in for missing error
/// series.
fn errors_expr_filled(slo: &Slo, range: &str, zero: &str) -> String {
    let sum = sum(slo);
    let inc = |s: &Selector| format!("{sum}(increase({}[{range}]))", s.promql());
    match &slo.indicator {
        Indicator::Ratio(r) => match (&r.errors, &r.good) {
            (Some(errors), _) => format!("{} or {zero}", inc(errors)),
            (None, Some(good)) => format!(
                "clamp_min({} - ({} or {zero}), 0)",
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
    format!(
        "{}(increase({}[{range}]))",
        sum(slo),
        slo.indicator.total().promql()
    )
}

fn slo_labels(slo: &Slo) -> BTreeMap<String, String> {
    BTreeMap::from([("slo".to_string(), slo.name.to_string())])
}

/// The matcher of the SLO's recorded series: `{slo="checkout"}`, plus the group's values for
/// one group of a per-label SLO.
pub fn series_matcher(slo: &Slo) -> String {
    let mut pins = vec![format!("slo={}", quote(slo.name.as_str()))];
    pins.extend(
        slo.group
            .iter()
            .map(|(label, value)| format!("{label}={}", quote(value))),
    );
    format!("{{{}}}", pins.join(","))
}

/// `route={{ $labels.route }}` for the alert text of a per-label SLO: which group burns.
fn group_text(slo: &Slo) -> Option<String> {
    (!slo.group_by.is_empty()).then(|| {
        slo.group_by
            .iter()
            .map(|l| format!("{l}={{{{ $labels.{l} }}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// How a window's error ratio is computed (see the module comment for why).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowSource {
    /// The 5m base window: the recorded increases themselves.
    Base,
    /// Straight from the SLI's counters.
    Raw,
    /// From the recorded 5m increases: the latest exactly, the rest as their shifted mean.
    Derived,
    /// From the recorded 5m increases one every 5m (a subquery): the SLO window alone.
    Steps,
}

/// How the SLO's rules compute the window of `secs`.
pub fn window_source(slo: &Slo, secs: u64) -> WindowSource {
    let tiers = slo.live_tiers();
    if secs == BASE_WINDOW_SECS {
        WindowSource::Base
    } else if tiers.iter().any(|t| t.short_secs == secs) {
        WindowSource::Raw
    } else if secs == slo.window.as_secs() && !tiers.iter().any(|t| t.long_secs == secs) {
        WindowSource::Steps
    } else {
        WindowSource::Derived
    }
}

/// `n` as PromQL writes it: `10`, or `6.666666666666667` for an interval that does not divide 5m.
fn number(n: f64) -> String {
    format!("{n}")
}

/// The error ratio over `window`, computed as [`window_source`] says. `interval_secs` is the SLO
/// group's evaluation interval: a derived window divides the sum of the recorded 5m increases by
/// how many of them each 5m holds.
fn ratio_expr(slo: &Slo, window: &PromDuration, interval_secs: u64) -> String {
    let m = series_matcher(slo);
    let secs = window.as_secs();
    match window_source(slo, secs) {
        WindowSource::Base => format!("{ERRORS_METRIC}{m} / {TOTAL_METRIC}{m}"),
        WindowSource::Raw => {
            let w = format_seconds(secs);
            // The zero fill reads the recorded 5m totals (a series per group), not the raw
            // counters a second time: `or` evaluates both sides, and the second scan made the 6h
            // window 1,272 ms instead of 872 ms at ~10,000 series (bench.sh slo).
            let zero = format!("0 * {}({TOTAL_METRIC}{m})", sum(slo));
            format!(
                "({}) / {}",
                errors_expr_filled(slo, &w, &zero),
                total_expr(slo, &w)
            )
        }
        WindowSource::Derived => {
            let range = format_seconds(secs - BASE_WINDOW_SECS);
            let shift = format_seconds(BASE_WINDOW_SECS / 2);
            let per_base = number(BASE_WINDOW_SECS as f64 / interval_secs.max(1) as f64);
            // `or 0 * E`: a series younger than the shift has no earlier increases yet; its
            // window is then the latest 5m, never absent (a new service failing at once pages).
            let events = |metric: &str| {
                format!(
                    "({metric}{m} + (sum_over_time({metric}{m}[{range}] offset {shift}) / {per_base} or 0 * {metric}{m}))"
                )
            };
            format!("{} / {}", events(ERRORS_METRIC), events(TOTAL_METRIC))
        }
        WindowSource::Steps => {
            let w = format_seconds(secs);
            let step = format_seconds(BASE_WINDOW_SECS);
            format!(
                "sum_over_time({ERRORS_METRIC}{m}[{w}:{step}]) / sum_over_time({TOTAL_METRIC}{m}[{w}:{step}])"
            )
        }
    }
}

/// The labels every alert of the SLO carries: the SLO's own, then the generated ones (which win).
fn alert_labels(slo: &Slo, severity: Severity) -> BTreeMap<String, String> {
    let mut labels = slo.alerting.labels.clone();
    labels.extend([
        ("slo".to_string(), slo.name.to_string()),
        ("service".to_string(), slo.service.clone()),
        ("severity".to_string(), severity.as_str().to_string()),
    ]);
    labels
}

fn alert(stack: &Stack, slo: &Slo, tier: &Tier) -> Rule {
    let threshold = tier.threshold(&slo.objective, &slo.window);
    let budget = slo.objective.error_budget();
    let burn = tier.burn_rate(&slo.window);
    let m = series_matcher(slo);
    let (long, short) = (tier.long_window(), tier.short_window());
    // Divided by the budget, the alert's value is the long window's burn rate, for the text.
    let mut expr = format!(
        "({long_ratio}{m} > {threshold} and {short_ratio}{m} > {threshold}) / {budget}",
        long_ratio = ratio_metric(&long),
        short_ratio = ratio_metric(&short),
    );
    if let Some(min) = slo.alerting.min_events {
        // The long window's events, counted from the source counters: the recorded 5m
        // increases cannot count them without knowing the evaluation interval, and their mean
        // scaled to the window overcounts while the history is shorter than it. A raw scan,
        // paid only by SLOs that ask for the guard.
        // Per group for a per-label SLO: a busy group must not lift the guard of a quiet one.
        let w = format_seconds(long.as_secs());
        expr.push_str(&format!(
            " and on({}) {} >= {min}",
            slo.group_by.join(", "),
            total_expr(slo, &w)
        ));
    }
    let mut labels = alert_labels(slo, tier.severity);
    labels.extend([
        ("long_window".to_string(), long.to_string()),
        ("short_window".to_string(), short.to_string()),
    ]);
    let mut annotations = BTreeMap::from([
        (
            "summary".to_string(),
            format!(
                "{} ({}) is burning its {} error budget faster than {burn}×",
                who(slo),
                slo.service,
                slo.window
            ),
        ),
        (
            "description".to_string(),
            format!(
                "The error budget of {name} ({objective}% over {window}) is burning at {{{{ printf \"%.1f\" $value }}}}× the sustainable rate over the last {long}. \
                 This {severity} alert fires when both the {long} and {short} windows burn faster than {burn}× \
                 (an error ratio above {threshold}), which spends {pct}% of the budget in {long}.",
                name = who(slo),
                objective = slo.objective,
                window = slo.window,
                severity = tier.severity.as_str(),
                pct = tier.budget_percent(),
            ),
        ),
    ]);
    annotations.insert(
        "runbook_url".to_string(),
        super::links::runbook_url(stack, slo, tier),
    );
    Rule::Alert {
        alert: ALERT_NAME.to_string(),
        expr,
        for_: None,
        labels,
        annotations,
    }
}

/// The SLO's name in alert text, with the group for a per-label SLO (`checkout route=/pay`).
fn who(slo: &Slo) -> String {
    match group_text(slo) {
        Some(group) => format!("{} {group}", slo.name),
        None => slo.name.to_string(),
    }
}

/// `SLOMetricAbsent`: the SLI's total series are gone, so its ratios have no samples and no
/// burn-rate alert can fire. A ticket: nothing is known to be failing, but nothing is watched.
fn absent_alert(stack: &Stack, slo: &Slo) -> Rule {
    let selector = slo.indicator.total();
    let labels = alert_labels(slo, Severity::Warning);
    let annotations = BTreeMap::from([
        (
            "summary".to_string(),
            format!(
                "{} ({}) has no SLI data: its burn-rate alerts cannot fire",
                slo.name, slo.service
            ),
        ),
        (
            "description".to_string(),
            format!(
                "No series has matched `{}` for {}. Until they are back, the error budget of {} is not watched: \
                 check that the target is scraped and that the metric and its labels were not renamed.",
                selector.promql(),
                slo.alerting.absent_for,
                slo.name,
            ),
        ),
        (
            "runbook_url".to_string(),
            super::links::no_data_runbook_url(stack, slo),
        ),
    ]);
    Rule::Alert {
        alert: ABSENT_ALERT_NAME.to_string(),
        expr: format!("absent({})", selector.promql()),
        for_: Some(slo.alerting.absent_for.to_string()),
        labels,
        annotations,
    }
}

/// The rule groups of one of the stack's SLOs.
pub fn groups(stack: &Stack, slo: &Slo) -> Vec<RuleGroup> {
    // kube-prometheus-stack evaluates rules at the scrape interval (render sets both).
    let interval = stack.metrics.scrape_interval.as_secs();
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
            expr: ratio_expr(slo, window, interval),
            labels: labels.clone(),
        });
    }
    rules.extend(slo.live_tiers().iter().map(|t| alert(stack, slo, t)));
    if slo.alerting.absent {
        rules.push(absent_alert(stack, slo));
    }
    let mut out = vec![RuleGroup {
        name: format!("slo-{}", slo.name),
        // Pinned, not left to the global setting: the derived windows count the 5m increases
        // recorded at this interval.
        interval: Some(stack.metrics.scrape_interval.to_string()),
        rules,
    }];
    // A 3d SLO window is also an alert window: recorded once, above. Any other is summed from
    // the recorded increases at 5m steps (`WindowSource::Steps`), never a raw scan.
    if !windows.iter().any(|w| w.as_secs() == slo.window.as_secs()) {
        out.push(RuleGroup {
            name: format!("slo-{}-budget", slo.name),
            interval: Some(BUDGET_GROUP_INTERVAL.into()),
            rules: vec![Rule::Record {
                record: ratio_metric(&slo.window),
                expr: ratio_expr(slo, &slo.window, interval),
                labels,
            }],
        });
    }
    out
}

/// A plain Prometheus rule file (`rule_files:`) with every SLO's groups.
pub fn rule_file(stack: &Stack) -> yaml_serde::Value {
    let groups: Vec<RuleGroup> = stack.slos.iter().flat_map(|s| groups(stack, s)).collect();
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
                "spec": { "groups": groups(stack, slo) },
            }))
        })
        .collect()
}

fn to_yaml(value: &serde_json::Value) -> yaml_serde::Value {
    yaml_serde::to_value(value).expect("rules convert to YAML")
}

#[cfg(test)]
mod tests;
