//! The SLO impact of an incident window, from Prometheus.
//!
//! Counts come from the source series (the PromQL the rules record, `rules::errors_expr` and
//! `rules::total_expr`) with instant queries at `--to` whose range covers exactly the incident
//! window, or the SLO window ending there: right even where the rules were deployed after the
//! incident. The budget fraction and the tiers' thresholds are the exact decimals `slo explain`
//! prints ([`crate::profile::slo::Exact`]); only measured counts are floats.
//!
//! Alerts: the `ALERTS` series of obsctl's burn-rate alert for the SLO, around the window. Where
//! it has no history (rules not evaluated then, backfilled data), each tier's condition (both
//! windows above the threshold, as the alert rule says) is read from the recorded window series.

use futures::future::try_join_all;
use serde::{Serialize, Serializer};

use crate::profile::slo::{Indicator, Policy, Slo, Tier, BASE_WINDOW_SECS};
use crate::profile::types::format_seconds;
use crate::prometheus::{Client, QueryError, Series};
use crate::slo::report::BudgetState;
use crate::slo::rules::{errors_expr, ratio_metric, series_matcher, total_expr, ALERT_NAME};
use crate::time::format_instant;

/// The incident window, unix seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub from: f64,
    pub to: f64,
}

impl Window {
    pub fn secs(&self) -> u64 {
        (self.to - self.from).round().max(0.0) as u64
    }
}

/// Alerts that started up to this long before the window and were still firing in it count.
pub const LEAD_SECS: u64 = 3_600;
/// The step of the subquery that finds the peak short-window burn rate.
pub const PEAK_STEP_SECS: u64 = 60;
/// Budget-threshold crossings are located to this precision (by bisection).
pub const CROSSING_PRECISION_SECS: u64 = 60;
/// Prometheus' default lookback: an instant selector sees a sample this old.
const LOOKBACK_SECS: f64 = 300.0;

/// An instant, serialized as RFC 3339 UTC.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct At(pub f64);

impl Serialize for At {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_instant(self.0))
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_instant(self.0))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AlertSource {
    /// Prometheus' own record of the alert firing.
    #[serde(rename = "ALERTS")]
    Alerts,
    /// When the tier's condition held in the recorded window series.
    #[serde(rename = "recorded series")]
    Recorded,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSource::Alerts => "ALERTS",
            AlertSource::Recorded => "recorded series",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    pub alertname: String,
    pub severity: String,
    pub long_window: String,
    pub short_window: String,
    pub fired_at: At,
    /// `None` while still firing at the end of what was queried.
    pub resolved_at: Option<At>,
    pub source: AlertSource,
}

/// The moment the budget remaining fell to a policy threshold during the incident.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Crossing {
    pub at: At,
    /// The policy threshold, percent of the budget remaining.
    pub threshold_percent: f64,
    /// The state entered.
    pub state: BudgetState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Bad events are failed requests.
    Availability,
    /// Bad events are requests slower than the threshold.
    Latency,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IncidentWindow {
    pub from: At,
    pub to: At,
    pub minutes: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Events {
    /// Failed (or slow) requests; `None` without data.
    pub bad: Option<f64>,
    pub total: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Budget {
    /// (1 − objective) × all events of the SLO window ending at `--to`.
    pub allowed_bad: Option<f64>,
    /// Bad events of the incident ÷ allowed bad events.
    pub consumed_by_incident: Option<f64>,
    /// Of the SLO window ending at `--from`.
    pub remaining_before: Option<f64>,
    /// Of the SLO window ending at `--to`; negative once overspent.
    pub remaining_after: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SloImpact {
    pub name: String,
    /// The group's label values, for one group of a per-label SLO (`groupBy`); absent otherwise.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub group: std::collections::BTreeMap<String, String>,
    pub service: String,
    pub kind: Kind,
    pub objective: f64,
    pub window: String,
    /// For latency SLOs: the threshold in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_threshold_seconds: Option<f64>,
    pub incident: IncidentWindow,
    pub events: Events,
    pub error_ratio: Option<f64>,
    pub budget: Budget,
    pub sli_window_after: Option<f64>,
    pub policy_state: Option<BudgetState>,
    pub policy_actions: Option<&'static str>,
    /// The highest 5m burn rate in the window.
    pub peak_burn_rate: Option<f64>,
    /// Bad events ÷ (events ÷ minutes): the minutes of full outage that would spend as much.
    pub full_outage_minutes: Option<f64>,
    pub alerts: Vec<Alert>,
    /// First page (critical alert) − incident start; `None` when no page fired.
    pub time_to_detect_seconds: Option<f64>,
    /// Incident end − start.
    pub time_to_resolve_seconds: f64,
    pub budget_crossings: Vec<Crossing>,
    pub notes: Vec<String>,
}

impl SloImpact {
    /// `name`, or `name{route="/pay"}` for a group.
    pub fn display_name(&self) -> String {
        crate::profile::slo::group_name(&self.name, &self.group)
    }

    /// Whether a figure the document needs could not be computed (exit code 1).
    pub fn lacks_data(&self) -> bool {
        self.error_ratio.is_none() || self.sli_window_after.is_none()
    }
}

/// Retention as Prometheus reports it (`15d`, `10GiB`, `15d or 10GiB`): the time part, seconds.
pub fn retention_secs(text: &str) -> Option<u64> {
    text.split(" or ")
        .find_map(|part| part.trim().parse::<crate::profile::PromDuration>().ok())
        .map(|d| d.as_secs())
}

/// The SLO itself, or for a per-label SLO one copy per group with requests in the incident
/// window (itself when none had: its impact then says there was no data).
pub async fn groups(client: &Client, slo: &Slo, window: Window) -> Result<Vec<Slo>, QueryError> {
    if slo.group_by.is_empty() {
        return Ok(vec![slo.clone()]);
    }
    let range = format_seconds(window.secs().max(1));
    let answer = client
        .query(&total_expr(slo, &range), Some(window.to))
        .await?;
    if answer.is_empty() {
        return Ok(vec![slo.clone()]);
    }
    Ok(answer.iter().map(|s| slo.group(&s.labels)).collect())
}

/// Computes the impact on `slo` of the incident in `window`, with `now` bounding how far past
/// the window alerts are looked for.
pub async fn compute(
    client: &Client,
    slo: &Slo,
    policy: &Policy,
    window: Window,
    now: f64,
) -> Result<SloImpact, QueryError> {
    let incident_range = format_seconds(window.secs());
    let slo_range = format_seconds(slo.window.as_secs());
    let base = format_seconds(BASE_WINDOW_SECS);
    let peak = format!(
        "max_over_time((({}) / ({}))[{incident_range}:{}])",
        errors_expr(slo, &base),
        total_expr(slo, &base),
        format_seconds(PEAK_STEP_SECS)
    );
    let queries = [
        (errors_expr(slo, &incident_range), window.to),
        (total_expr(slo, &incident_range), window.to),
        (errors_expr(slo, &slo_range), window.to),
        (total_expr(slo, &slo_range), window.to),
        (errors_expr(slo, &slo_range), window.from),
        (total_expr(slo, &slo_range), window.from),
        (peak, window.to),
    ];
    let answers = try_join_all(queries.iter().map(|(q, t)| client.query(q, Some(*t)))).await?;
    let value = |i: usize| {
        answers[i]
            .first()
            .map(|s| s.value)
            .filter(|v| v.is_finite())
    };
    let (bad, total) = (value(0), value(1));
    let (bad_after, total_after) = (value(2), value(3));
    let (bad_before, total_before) = (value(4), value(5));
    let budget = slo.objective.error_budget();
    let budget_f = budget.to_f64();
    let ratio = |b: Option<f64>, t: Option<f64>| match (b, t) {
        (Some(b), Some(t)) if t > 0.0 => Some((b / t).clamp(0.0, 1.0)),
        _ => None,
    };
    let minutes = window.secs() as f64 / 60.0;
    let mut notes = Vec::new();
    let (kind, bad_word) = match &slo.indicator {
        Indicator::Ratio(_) => (Kind::Availability, "failed"),
        Indicator::Latency(_) => (Kind::Latency, "slow"),
    };
    match total {
        None => notes.push(format!(
            "no data for the incident window: no series match the SLO's `total` selector between {} and {}",
            At(window.from),
            At(window.to)
        )),
        Some(t) if t <= 0.0 => notes.push(format!(
            "no traffic in the incident window: Prometheus recorded no requests between {} and {}, so no {bad_word} \
             request was counted. If clients could not reach the service at all, this SLI cannot see the outage: \
             measure it where requests arrive (load balancer, ingress) or with synthetic probes",
            At(window.from),
            At(window.to)
        )),
        _ => {}
    }
    if total_after.is_none_or(|t| t <= 0.0) {
        notes.push(format!(
            "no traffic over the {} SLO window ending at {}: no SLI, budget or policy state",
            slo.window,
            At(window.to)
        ));
    }
    let error_ratio = ratio(bad, total);
    let ratio_after = ratio(bad_after, total_after);
    let remaining_after = ratio_after.map(|r| 1.0 - r / budget_f);
    let remaining_before = ratio(bad_before, total_before).map(|r| 1.0 - r / budget_f);
    let allowed_bad = total_after.filter(|t| *t > 0.0).map(|t| t * budget_f);
    let consumed = match (bad, allowed_bad) {
        (Some(b), Some(a)) if total.is_some_and(|t| t > 0.0) => Some(b / a),
        _ => None,
    };
    let state = remaining_after.map(|r| BudgetState::from_remaining(r * 100.0, policy));
    let peak_burn_rate = if total.is_some_and(|t| t > 0.0) {
        value(6).map(|r| r / budget_f)
    } else {
        None
    };
    let full_outage_minutes = match (bad, total) {
        (Some(b), Some(t)) if t > 0.0 => Some(b / (t / minutes)),
        _ => None,
    };

    let budget_crossings = match (remaining_before, remaining_after) {
        (Some(before), Some(after)) => {
            crossings(client, slo, policy, window, before, after, &slo_range).await?
        }
        _ => Vec::new(),
    };

    let (alerts, alert_notes) = alerts(client, slo, window, now).await?;
    notes.extend(alert_notes);
    let first_page = alerts
        .iter()
        .filter(|a| a.severity == "critical")
        .map(|a| a.fired_at.0)
        .reduce(f64::min);
    if first_page.is_none() {
        match alerts.iter().map(|a| a.fired_at.0).reduce(f64::min) {
            Some(t) => notes.push(format!(
                "no page fired; the first ticket alert fired at {} ({} after the start)",
                At(t),
                signed_duration(t - window.from)
            )),
            None if !slo.live_tiers().is_empty() => {
                notes.push("no burn-rate alert fired for this SLO".into())
            }
            None => notes.push("this SLO has no alert tiers that can fire".into()),
        }
    }

    Ok(SloImpact {
        name: slo.name.to_string(),
        group: slo.group.clone(),
        service: slo.service.clone(),
        kind,
        objective: slo.objective.as_f64(),
        window: slo.window.to_string(),
        latency_threshold_seconds: match &slo.indicator {
            Indicator::Latency(l) => Some(l.threshold),
            Indicator::Ratio(_) => None,
        },
        incident: IncidentWindow {
            from: At(window.from),
            to: At(window.to),
            minutes,
        },
        events: Events { bad, total },
        error_ratio,
        budget: Budget {
            allowed_bad,
            consumed_by_incident: consumed,
            remaining_before,
            remaining_after,
        },
        sli_window_after: ratio_after.map(|r| 1.0 - r),
        policy_state: state,
        policy_actions: state.map(BudgetState::actions),
        peak_burn_rate,
        full_outage_minutes,
        alerts,
        time_to_detect_seconds: first_page.map(|t| t - window.from),
        time_to_resolve_seconds: window.to - window.from,
        budget_crossings,
        notes,
    })
}

/// `-5m`, `4m30s`.
pub fn signed_duration(secs: f64) -> String {
    let text = format_seconds(secs.abs().round() as u64);
    if secs < 0.0 {
        format!("-{text}")
    } else {
        text
    }
}

/// When the budget remaining fell to each policy threshold it crossed between `before` (at the
/// start) and `after` (at the end): bisection over instant queries of the SLO window, to
/// [`CROSSING_PRECISION_SECS`].
async fn crossings(
    client: &Client,
    slo: &Slo,
    policy: &Policy,
    window: Window,
    before: f64,
    after: f64,
    slo_range: &str,
) -> Result<Vec<Crossing>, QueryError> {
    let budget = slo.objective.error_budget().to_f64();
    let query = format!(
        "({}) / ({})",
        errors_expr(slo, slo_range),
        total_expr(slo, slo_range)
    );
    let mut out = Vec::new();
    for (threshold, state) in [
        (policy.healthy, BudgetState::Low),
        (policy.low, BudgetState::Exhausted),
    ] {
        let entered =
            |remaining: f64| BudgetState::from_remaining(remaining * 100.0, policy) >= state;
        if entered(before) || !entered(after) {
            continue;
        }
        let steps = window.secs().div_ceil(CROSSING_PRECISION_SECS);
        let (mut lo, mut hi) = (0u64, steps); // not entered at lo, entered at hi
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let t = (window.from + (mid * CROSSING_PRECISION_SECS) as f64).min(window.to);
            let answer = client.query(&query, Some(t)).await?;
            let remaining = answer
                .first()
                .map(|s| 1.0 - s.value / budget)
                .filter(|v| v.is_finite());
            match remaining {
                Some(r) if entered(r) => hi = mid,
                _ => lo = mid,
            }
        }
        out.push(Crossing {
            at: At((window.from + (hi * CROSSING_PRECISION_SECS) as f64).min(window.to)),
            threshold_percent: threshold,
            state,
        });
    }
    Ok(out)
}

/// A stretch of time an alert fired (or its condition held): start, and end when it ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    pub start: f64,
    pub end: Option<f64>,
}

/// Runs of consecutive `true` samples. Samples are an evaluation interval apart (the smallest
/// gap); a longer gap, or a `false` sample, ends a run: at the first `false` sample, or one
/// interval after the last `true` one. A run still `true` at the last sample, within two
/// intervals (and a few seconds) of `until`, has no end.
pub fn runs(samples: &[(f64, bool)], until: f64) -> Vec<Run> {
    let step = samples
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|d| *d > 0.0)
        .reduce(f64::min)
        .unwrap_or(60.0);
    let mut out: Vec<Run> = Vec::new();
    let mut open: Option<(f64, f64)> = None; // start, last true
    for (i, &(t, holds)) in samples.iter().enumerate() {
        if let Some((start, last)) = open {
            if t - last > 1.5 * step {
                out.push(Run {
                    start,
                    end: Some(last + step),
                });
                open = None;
            } else if !holds {
                out.push(Run {
                    start,
                    end: Some(t),
                });
                open = None;
                continue;
            }
        }
        if holds {
            open = Some(open.map_or((t, t), |(start, _)| (start, t)));
        }
        if i + 1 == samples.len() {
            if let Some((start, last)) = open.take() {
                // Evaluation lags its timestamp by a little: a few seconds of slack.
                let end = (until - last > 2.0 * step + 5.0).then_some(last + step);
                out.push(Run { start, end });
            }
        }
    }
    out
}

/// The condition of `tier` at each sample of the long window: both ratios above `threshold`, the
/// short one read as an instant selector would (its latest sample, at most 5m old).
pub fn condition(long: &[(f64, f64)], short: &[(f64, f64)], threshold: f64) -> Vec<(f64, bool)> {
    let mut j = 0;
    long.iter()
        .map(|&(t, l)| {
            while j + 1 < short.len() && short[j + 1].0 <= t {
                j += 1;
            }
            let s = short
                .get(j)
                .filter(|(ts, _)| *ts <= t && t - ts <= LOOKBACK_SECS)
                .map(|(_, v)| *v);
            (t, l > threshold && s.is_some_and(|s| s > threshold))
        })
        .collect()
}

fn tier_of<'a>(tiers: &[&'a Tier], series: &Series) -> Option<&'a Tier> {
    let long = series.labels.get("long_window")?;
    let severity = series.labels.get("severity")?;
    tiers
        .iter()
        .find(|t| &t.long_window().to_string() == long && t.severity.as_str() == severity)
        .copied()
}

/// The samples of the recorded ratio over the window of `secs` (`answers` in `windows`' order).
fn recorded_samples<'a>(
    windows: &[crate::profile::PromDuration],
    answers: &'a [Vec<Series>],
    secs: u64,
) -> &'a [(f64, f64)] {
    windows
        .iter()
        .position(|w| w.as_secs() == secs)
        .and_then(|i| answers.get(i)?.first())
        .map(|s| s.samples.as_slice())
        .unwrap_or(&[])
}

/// The burn-rate alerts of `slo` that fired in or around `window`, and notes on their source.
async fn alerts(
    client: &Client,
    slo: &Slo,
    window: Window,
    now: f64,
) -> Result<(Vec<Alert>, Vec<String>), QueryError> {
    let live = slo.live_tiers();
    let tiers: Vec<&Tier> = live.iter().collect();
    let mut notes = Vec::new();
    if tiers.is_empty() {
        return Ok((Vec::new(), notes));
    }
    // A tier that starts firing in the window resolves at most one short window after it ends.
    let after = tiers.iter().map(|t| t.short_secs).max().unwrap_or(0) as f64;
    let until = (window.to + after).min(now).max(window.to);
    let since = window.from - LEAD_SECS as f64;
    let range = format_seconds((until - since).round() as u64);
    let m = series_matcher(slo);
    let alerts_query = format!(
        "ALERTS{{alertname=\"{ALERT_NAME}\",alertstate=\"firing\",{}[{range}]",
        &m[1..]
    );
    let mut windows: Vec<crate::profile::PromDuration> = tiers
        .iter()
        .flat_map(|t| [t.long_window(), t.short_window()])
        .collect();
    windows.sort_by_key(|w| w.as_secs());
    windows.dedup_by_key(|w| w.as_secs());
    let mut queries = vec![alerts_query];
    queries.extend(
        windows
            .iter()
            .map(|w| format!("{}{m}[{range}]", ratio_metric(w))),
    );
    let answers = try_join_all(queries.iter().map(|q| client.query_samples(q, until))).await?;
    let recorded = |secs: u64| recorded_samples(&windows, &answers[1..], secs);
    let no_recorded = answers[1..].iter().all(|a| a.is_empty());
    let mut out = Vec::new();
    let mut recorded_tiers = Vec::new();
    for tier in &tiers {
        let fired: Vec<Run> = answers[0]
            .iter()
            .filter(|s| tier_of(&tiers, s) == Some(*tier))
            .flat_map(|s| {
                let samples: Vec<(f64, bool)> = s.samples.iter().map(|&(t, _)| (t, true)).collect();
                runs(&samples, until)
            })
            .collect();
        let threshold = tier.threshold(&slo.objective, &slo.window).to_f64();
        let held = runs(
            &condition(
                recorded(tier.long_secs),
                recorded(tier.short_secs),
                threshold,
            ),
            until,
        );
        let step = recorded(tier.long_secs)
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .fold(f64::INFINITY, f64::min);
        // ALERTS can only lack history, never hold extra: when the condition held clearly
        // earlier than ALERTS first shows the alert, the rules were not evaluating alerts then,
        // or Prometheus had just started (it writes no ALERTS samples for a group's first two
        // evaluations, while it restores `for` state, though it notifies).
        let (chosen, source) = match (fired.first(), held.first()) {
            (Some(a), Some(r)) if r.start + 1.5 * step.min(60.0) < a.start => {
                (held, AlertSource::Recorded)
            }
            (Some(_), _) => (fired, AlertSource::Alerts),
            (None, Some(_)) => (held, AlertSource::Recorded),
            (None, None) => continue,
        };
        if source == AlertSource::Recorded {
            recorded_tiers.push(tier.describe());
        }
        for run in chosen {
            // A run over before the incident began belongs to an earlier one.
            if run.end.is_some_and(|e| e <= window.from) {
                continue;
            }
            out.push(Alert {
                alertname: ALERT_NAME.into(),
                severity: tier.severity.as_str().into(),
                long_window: tier.long_window().to_string(),
                short_window: tier.short_window().to_string(),
                fired_at: At(run.start),
                resolved_at: run.end.map(At),
                source,
            });
        }
    }
    if !recorded_tiers.is_empty() {
        notes.push(format!(
            "alert times for {} come from the recorded window series ({}), not ALERTS: ALERTS has no history \
             for them then (the alert rules were not evaluated at that time, the data was backfilled, or \
             Prometheus had just started: it writes no ALERTS samples for its first two evaluations)",
            recorded_tiers.join(", "),
            windows
                .iter()
                .map(|w| format!("`{}`", ratio_metric(w)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if answers[0].is_empty() && no_recorded {
        notes.push(format!(
            "neither ALERTS nor the recorded window series have data between {} and {}: obsctl's SLO rules \
             were not running then, so alert times and time to detect are unknown",
            At(since),
            At(until)
        ));
    }
    out.sort_by(|a, b| a.fired_at.0.total_cmp(&b.fired_at.0));
    Ok((out, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_end_at_the_first_false_sample_a_gap_or_stay_open() {
        let s = |v: &[(f64, bool)]| v.to_vec();
        let r = runs(
            &s(&[
                (0.0, false),
                (60.0, true),
                (120.0, true),
                (180.0, false),
                (240.0, true),
                (300.0, true),
            ]),
            300.0,
        );
        assert_eq!(
            r,
            [
                Run {
                    start: 60.0,
                    end: Some(180.0)
                },
                Run {
                    start: 240.0,
                    end: None
                }
            ]
        );
        // ALERTS samples stop when the alert resolves: a gap ends the run one interval later.
        let r = runs(
            &s(&[(0.0, true), (30.0, true), (60.0, true), (600.0, true)]),
            1200.0,
        );
        assert_eq!(
            r,
            [
                Run {
                    start: 0.0,
                    end: Some(90.0)
                },
                Run {
                    start: 600.0,
                    end: Some(630.0)
                }
            ]
        );
        assert!(runs(&[], 10.0).is_empty());
    }

    #[test]
    fn the_condition_needs_both_windows_and_a_fresh_short_sample() {
        let long = [(0.0, 0.5), (60.0, 0.5), (120.0, 0.5), (900.0, 0.5)];
        let short = [(0.0, 0.001), (60.0, 0.5), (120.0, 0.5)];
        let c = condition(&long, &short, 0.0144);
        assert_eq!(
            c,
            [(0.0, false), (60.0, true), (120.0, true), (900.0, false)],
            "the short sample at 120 is stale at 900"
        );
    }

    #[test]
    fn retention_is_read_from_the_time_part() {
        assert_eq!(retention_secs("15d"), Some(15 * 86_400));
        assert_eq!(retention_secs("10GiB"), None);
        assert_eq!(retention_secs("30d or 10GiB"), Some(30 * 86_400));
        assert_eq!(retention_secs("1y"), Some(365 * 86_400));
        assert_eq!(signed_duration(-300.0), "-5m");
        assert_eq!(signed_duration(270.0), "4m30s");
    }
}
