//! `obsctl slo report`: each SLO's state in a live Prometheus — SLI over its window, budget
//! remaining, burn rate per alert window, firing alerts — and the error-budget policy's verdict.
//!
//! The figures come from the source series (the same PromQL the rules record, over the full
//! window), not from the recorded series: a report is right even when the rules were deployed
//! yesterday, and one long query per report is cheap next to a rule evaluated every 30s. Every
//! query is evaluated at the same instant.

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use super::explain::minutes_text;
use super::rules::{alert_windows, errors_expr, total_expr, ALERT_NAME};
use crate::profile::slo::Policy;
use crate::profile::slo::{Exact, Indicator, Slo};
use crate::profile::types::format_seconds;
use crate::profile::{PromDuration, Stack};
use crate::prometheus::{Client, QueryError, Sample};

/// Queries in flight at once: enough to hide latency, few enough not to load Prometheus.
const CONCURRENT_QUERIES: usize = 8;

/// Where an SLO stands in the error-budget policy (also `slo report --fail-on`'s values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BudgetState {
    Healthy,
    Low,
    Exhausted,
}

impl BudgetState {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetState::Healthy => "healthy",
            BudgetState::Low => "low",
            BudgetState::Exhausted => "exhausted",
        }
    }

    /// What the error-budget policy asks for in this state.
    pub fn actions(self) -> &'static str {
        match self {
            BudgetState::Healthy => "releases approved",
            BudgetState::Low => "more review; load tests for major changes",
            BudgetState::Exhausted => "feature freeze: only reliability work ships",
        }
    }

    /// From budget remaining in percent: above `healthy` healthy, from `low` to `healthy` low,
    /// below `low` exhausted.
    pub fn from_remaining(percent: f64, policy: &Policy) -> BudgetState {
        if percent > policy.healthy {
            BudgetState::Healthy
        } else if percent >= policy.low {
            BudgetState::Low
        } else {
            BudgetState::Exhausted
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BurnRate {
    pub window: String,
    /// `None` without traffic in the window.
    pub burn_rate: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FiringAlert {
    pub severity: String,
    pub long_window: String,
    pub short_window: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SloReport {
    pub name: String,
    /// The group's label values, for one group of a per-label SLO (`groupBy`); absent otherwise.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub group: std::collections::BTreeMap<String, String>,
    pub service: String,
    pub objective: f64,
    pub window: String,
    /// RFC 3339, UTC: the span the SLI and budget are computed over. A calendar period may end
    /// after the report's instant; the SLI then covers its start to that instant.
    pub period_start: String,
    pub period_end: String,
    pub error_budget_ratio: f64,
    pub total_events: Option<f64>,
    pub bad_events: Option<f64>,
    /// Good events / all events over the window.
    pub sli: Option<f64>,
    /// 1 − error ratio / budget; negative once overspent.
    pub budget_remaining: Option<f64>,
    /// The remaining budget as minutes of full outage, over the whole period (31 days in
    /// December for a `1mo` window).
    pub budget_remaining_minutes: Option<f64>,
    /// `None` without data: no verdict can be given.
    pub state: Option<BudgetState>,
    pub actions: Option<&'static str>,
    pub burn_rates: Vec<BurnRate>,
    pub firing_alerts: Vec<FiringAlert>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetReport {
    pub profile: String,
    pub prometheus_url: String,
    /// RFC 3339, UTC: the instant every query was evaluated at.
    pub time: String,
    pub policy: PolicyJson,
    pub slos: Vec<SloReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyJson {
    pub healthy: f64,
    pub low: f64,
}

/// Queries `client` for every SLO of `stack`, at unix time `at`. A per-label SLO reports each
/// of its groups (those with events in the period), worst first.
pub async fn build(client: &Client, stack: &Stack, at: f64) -> Result<BudgetReport, QueryError> {
    let slices = groups(client, stack, at).await?;
    let mut queries: Vec<String> = Vec::new();
    let mut plans = Vec::new();
    for slo in &slices {
        plans.push(SloQueries::new(slo, at, &mut queries));
    }
    let firing_query = format!("ALERTS{{alertname=\"{ALERT_NAME}\",alertstate=\"firing\"}}");
    queries.push(firing_query);
    let results = run(client, &queries, at).await?;
    let firing = results.last().cloned().unwrap_or_default();
    let mut slos: Vec<SloReport> = slices
        .iter()
        .zip(&plans)
        .map(|(slo, plan)| plan.report(slo, &results, &firing, &stack.policy))
        .collect();
    // Groups of one SLO stay together, in the profile's order; among them the least budget left
    // comes first (no data last).
    let order: Vec<&str> = stack.slos.iter().map(|s| s.name.as_str()).collect();
    slos.sort_by(|a, b| {
        let at = |r: &SloReport| order.iter().position(|n| *n == r.name);
        at(a).cmp(&at(b)).then_with(|| {
            let left = |r: &SloReport| r.budget_remaining.unwrap_or(f64::INFINITY);
            left(a).total_cmp(&left(b))
        })
    });
    Ok(BudgetReport {
        profile: stack.name.to_string(),
        prometheus_url: client.url().to_string(),
        time: crate::time::format_instant(at),
        policy: PolicyJson {
            healthy: stack.policy.healthy,
            low: stack.policy.low,
        },
        slos,
    })
}

async fn run(client: &Client, queries: &[String], at: f64) -> Result<Vec<Vec<Sample>>, QueryError> {
    stream::iter(queries.iter())
        .map(|q| client.query(q, Some(at)))
        .buffered(CONCURRENT_QUERIES)
        .try_collect()
        .await
}

/// Every SLO of the stack, a per-label SLO as one copy per group that had events in its period
/// (or itself when none had: the report then says there is no data).
async fn groups(client: &Client, stack: &Stack, at: f64) -> Result<Vec<Slo>, QueryError> {
    let grouped: Vec<&Slo> = stack
        .slos
        .iter()
        .filter(|s| !s.group_by.is_empty())
        .collect();
    let queries: Vec<String> = grouped
        .iter()
        .map(|slo| total_expr(slo, &period_range(slo, at)))
        .collect();
    let answers = run(client, &queries, at).await?;
    let mut out = Vec::new();
    for slo in &stack.slos {
        match grouped.iter().position(|g| g.name == slo.name) {
            Some(i) if !answers[i].is_empty() => {
                out.extend(answers[i].iter().map(|sample| slo.group(&sample.labels)))
            }
            _ => out.push(slo.clone()),
        }
    }
    Ok(out)
}

/// The range the SLI is computed over: the rolling window, or from a calendar period's start to
/// the report's instant (a calendar period may not be over).
fn period_range(slo: &Slo, at: f64) -> String {
    let period = slo.window.report_span(at);
    match slo.window.period() {
        Some(_) => format_seconds((at - period.0 as f64).ceil().max(1.0) as u64),
        None => format_seconds(slo.window.as_secs()),
    }
}

/// Where one SLO's answers are in the flat list of queries.
struct SloQueries {
    /// Unix seconds.
    period: (i64, i64),
    bad: usize,
    total: usize,
    windows: Vec<(PromDuration, usize)>,
    bucket: Option<(usize, String)>,
}

impl SloQueries {
    fn new(slo: &Slo, at: f64, queries: &mut Vec<String>) -> SloQueries {
        let mut push = |q: String| {
            queries.push(q);
            queries.len() - 1
        };
        let period = slo.window.report_span(at);
        let range = period_range(slo, at);
        let bad = push(errors_expr(slo, &range));
        let total = push(total_expr(slo, &range));
        let windows = alert_windows(slo)
            .into_iter()
            .map(|w| {
                let r = format_seconds(w.as_secs());
                let q = format!("({}) / ({})", errors_expr(slo, &r), total_expr(slo, &r));
                (w, push(q))
            })
            .collect();
        // A latency threshold must be one of the histogram's `le` boundaries: check it exists.
        let bucket = match &slo.indicator {
            Indicator::Latency(l) => {
                let good = l.good().promql();
                Some((push(format!("count({good})")), good))
            }
            Indicator::Ratio(_) => None,
        };
        SloQueries {
            period,
            bad,
            total,
            windows,
            bucket,
        }
    }

    fn report(
        &self,
        slo: &Slo,
        results: &[Vec<Sample>],
        firing: &[Sample],
        policy: &Policy,
    ) -> SloReport {
        let scalar = |i: usize| {
            results[i]
                .first()
                .map(|s| s.value)
                .filter(|v| v.is_finite())
        };
        let budget = slo.objective.error_budget().to_f64();
        let total = scalar(self.total);
        let bad = scalar(self.bad);
        let mut notes = Vec::new();
        let ratio = match (bad, total) {
            (Some(b), Some(t)) if t > 0.0 => Some((b / t).clamp(0.0, 1.0)),
            _ => None,
        };
        if total.unwrap_or(0.0) <= 0.0 {
            let span = match slo.window.period() {
                Some(_) => format!(
                    "since {}",
                    crate::time::format_instant(self.period.0 as f64)
                ),
                None => format!("over the last {}", slo.window),
            };
            notes.push(format!("no events {span}: check the `total` selector"));
        }
        if let Some((i, good)) = &self.bucket {
            if results[*i].is_empty() {
                notes.push(format!(
                    "no series `{good}`: the threshold is not one of the histogram's `le` boundaries (or the histogram is missing)"
                ));
            }
        }
        let remaining = ratio.map(|r| 1.0 - r / budget);
        let state = remaining.map(|r| BudgetState::from_remaining(r * 100.0, policy));
        let window_minutes = (self.period.1 - self.period.0) as f64 / 60.0;
        let mut firing_alerts: Vec<FiringAlert> = firing
            .iter()
            .filter(|s| s.labels.get("slo").map(String::as_str) == Some(slo.name.as_str()))
            .filter(|s| slo.group.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| FiringAlert {
                severity: s.labels.get("severity").cloned().unwrap_or_default(),
                long_window: s.labels.get("long_window").cloned().unwrap_or_default(),
                short_window: s.labels.get("short_window").cloned().unwrap_or_default(),
            })
            .collect();
        firing_alerts.sort_by_key(|a| (a.severity.clone(), window_secs(&a.long_window)));
        SloReport {
            name: slo.name.to_string(),
            group: slo.group.clone(),
            service: slo.service.clone(),
            objective: slo.objective.as_f64(),
            window: slo.window.to_string(),
            period_start: crate::time::format_instant(self.period.0 as f64),
            period_end: crate::time::format_instant(self.period.1 as f64),
            error_budget_ratio: budget,
            total_events: total,
            bad_events: bad,
            sli: ratio.map(|r| 1.0 - r),
            budget_remaining: remaining,
            budget_remaining_minutes: remaining.map(|r| r * budget * window_minutes),
            state,
            actions: state.map(BudgetState::actions),
            burn_rates: self
                .windows
                .iter()
                .map(|(w, i)| BurnRate {
                    window: w.to_string(),
                    burn_rate: scalar(*i).map(|r| r / budget),
                })
                .collect(),
            firing_alerts,
            notes,
        }
    }
}

fn window_secs(text: &str) -> u64 {
    text.parse::<PromDuration>()
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl SloReport {
    /// `name`, or `name{route="/pay"}` for a group.
    pub fn display_name(&self) -> String {
        crate::profile::slo::group_name(&self.name, &self.group)
    }
}

impl BudgetReport {
    /// The SLOs that fail a `--fail-on` gate: at or below `threshold`, or without data (a gate
    /// must not pass on a typo in a selector).
    pub fn failing(&self, threshold: BudgetState) -> Vec<&SloReport> {
        self.slos
            .iter()
            .filter(|s| s.state.is_none_or(|state| state >= threshold))
            .collect()
    }

    fn burn_windows(&self) -> Vec<String> {
        let mut windows: Vec<String> = self
            .slos
            .iter()
            .flat_map(|s| s.burn_rates.iter().map(|b| b.window.clone()))
            .collect();
        windows.sort_by_key(|w| window_secs(w));
        windows.dedup();
        windows
    }

    /// Rows for the people's tables: the summary and the burn rates.
    pub fn tables(&self) -> (crate::output::Table, crate::output::Table) {
        let mut summary = crate::output::Table::new([
            "SLO",
            "SERVICE",
            "OBJECTIVE",
            "SLI",
            "BUDGET LEFT",
            "STATE",
            "FIRING",
        ]);
        for s in &self.slos {
            summary.row(self.summary_cells(s));
        }
        let windows = self.burn_windows();
        let mut header = vec!["BURN RATE".to_string()];
        header.extend(windows.iter().cloned());
        let mut burns = crate::output::Table::new(header);
        for s in &self.slos {
            let mut row = vec![s.display_name()];
            row.extend(windows.iter().map(|w| burn_cell(s, w)));
            burns.row(row);
        }
        (summary, burns)
    }

    fn summary_cells(&self, s: &SloReport) -> Vec<String> {
        vec![
            s.display_name(),
            s.service.clone(),
            format!("{}% / {}", s.objective, s.window),
            s.sli
                .map(|v| format!("{:.3}%", v * 100.0))
                .unwrap_or_else(|| "no data".into()),
            s.budget_remaining
                .map(|r| {
                    let minutes = s.budget_remaining_minutes.unwrap_or(0.0);
                    let time = if minutes >= 0.0 {
                        minutes_text(Exact::ratio((minutes * 1000.0).round() as i128, 1000))
                    } else {
                        "overspent".into()
                    };
                    format!("{:.1}% ({time})", r * 100.0)
                })
                .unwrap_or_else(|| "-".into()),
            s.state
                .map(|st| st.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            if s.firing_alerts.is_empty() {
                "-".into()
            } else {
                s.firing_alerts
                    .iter()
                    .map(|a| format!("{} {}/{}", a.severity, a.long_window, a.short_window))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ]
    }

    /// One line per SLO with the policy's verdict, and the notes.
    pub fn verdicts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.slos {
            match s.state {
                Some(state) => out.push(format!(
                    "{}: {} — {}",
                    s.display_name(),
                    state.as_str(),
                    state.actions()
                )),
                None => out.push(format!(
                    "{}: unknown — no data, no verdict",
                    s.display_name()
                )),
            }
            for note in &s.notes {
                out.push(format!("{}: note: {note}", s.display_name()));
            }
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# SLO report · {}\n\nPrometheus {} at {}. Policy: healthy above {}% of the budget remaining, low from {}%, exhausted below {}%.\n\n",
            self.profile, self.prometheus_url, self.time, self.policy.healthy, self.policy.low, self.policy.low
        );
        md.push_str("| SLO | Service | Objective | SLI | Budget left | State | Firing |\n|---|---|---|---|---|---|---|\n");
        for s in &self.slos {
            let cells: Vec<String> = self.summary_cells(s).iter().map(|c| md_escape(c)).collect();
            md.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        let windows = self.burn_windows();
        md.push_str(&format!(
            "\n## Burn rates\n\n| SLO | {} |\n|---|{}\n",
            windows.join(" | "),
            "---|".repeat(windows.len())
        ));
        for s in &self.slos {
            let cells: Vec<String> = windows.iter().map(|w| burn_cell(s, w)).collect();
            md.push_str(&format!(
                "| {} | {} |\n",
                md_escape(&s.display_name()),
                cells.join(" | ")
            ));
        }
        md.push_str("\n## Policy\n\n");
        for line in self.verdicts() {
            md.push_str(&format!("- {}\n", md_escape(&line)));
        }
        md
    }
}

fn burn_cell(s: &SloReport, window: &str) -> String {
    match s.burn_rates.iter().find(|b| b.window == window) {
        Some(BurnRate {
            burn_rate: Some(v), ..
        }) => format!("{v:.2}×"),
        Some(_) => "no data".into(),
        None => "-".into(),
    }
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests;
