//! Error-budget arithmetic for people (`obsctl slo explain`), from the SRE Workbook ch. 5, exact:
//! - budget = 1 − objective; in time, budget × window (99.9% over 30d: 43.2 minutes);
//! - a tier's burn rate = budget share × window / long window (2% × 30d / 1h = 14.4) and it fires
//!   above an error ratio of burn rate × budget;
//! - at 100% errors it fires once the long window's ratio crosses that threshold: after
//!   threshold × long window (the short window crosses first);
//! - after a long full outage it clears once the short window's ratio falls back under the
//!   threshold: after short window × (1 − threshold).
//!
//! Those are the Workbook's figures for raw windows, and obsctl's rules meet them (see `rules`):
//! short windows are raw, so they clear exactly as the Workbook's do; long windows derived from
//! the recorded 5m increases never count fewer of an outage's errors than a raw window, so they
//! cross the threshold no later. The alert fires at the first rule evaluation after the figure;
//! `tests/slo_rules.rs` proves both with promtool for every tier at 99.9% / 30d and 99% / 28d.

use serde::Serialize;

use crate::profile::slo::{Calendar, Exact, Objective, Severity, Slo, Tier, TIERS};
use crate::profile::types::format_seconds;
use crate::profile::PromDuration;

/// The budget of one objective and the figures of its tiers.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub name: String,
    pub objective: Objective,
    pub window: PromDuration,
    /// A calendar window (`1mo`, `1w`): `window` is then its typical length, which the alerts use.
    pub calendar: Option<Calendar>,
    pub error_budget_ratio: Exact,
    pub budget_minutes: Exact,
    /// For a calendar window: the budget in minutes over each length the period takes (28, 29,
    /// 30 and 31 days for a month).
    pub period_budget_minutes: Vec<(u64, Exact)>,
    /// With a number of requests per window: how many may fail.
    pub allowed_bad_events: Option<u128>,
    pub requests: Option<u64>,
    /// `alerting.minEvents`: the fewest events a tier's long window must see before it fires.
    pub min_events: Option<u64>,
    /// `groupBy`: every figure holds for each group on its own.
    pub group_by: Vec<String>,
    pub tiers: Vec<TierFigures>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TierFigures {
    pub tier: Tier,
    pub burn_rate: Exact,
    /// Share of the window's budget spent in the long window when it fires.
    pub budget_consumed: Exact,
    pub error_ratio_threshold: Exact,
    pub can_fire: bool,
    /// At 100% errors (threshold × long window); `None` when it can never fire.
    pub detection_minutes_full_outage: Option<Exact>,
    /// After a full outage that filled the short window: short window × (1 − threshold).
    pub reset_minutes: Option<Exact>,
}

/// Explains one objective over one window, for the given tiers.
pub fn explain(
    name: &str,
    objective: &Objective,
    window: &PromDuration,
    tiers: &[Tier],
    requests: Option<u64>,
) -> Explanation {
    let budget = objective.error_budget();
    let window_minutes = Exact::ratio(i128::from(window.as_secs()), 60);
    let tiers = tiers
        .iter()
        .map(|tier| {
            let threshold = tier.threshold(objective, window);
            let can_fire = tier.can_fire(objective, window);
            let long_minutes = Exact::ratio(i128::from(tier.long_secs), 60);
            let short_minutes = Exact::ratio(i128::from(tier.short_secs), 60);
            TierFigures {
                tier: *tier,
                burn_rate: tier.burn_rate(window),
                budget_consumed: tier.budget,
                error_ratio_threshold: threshold,
                can_fire,
                detection_minutes_full_outage: can_fire.then(|| threshold * long_minutes),
                reset_minutes: can_fire.then(|| short_minutes * (Exact::int(1) - threshold)),
            }
        })
        .collect();
    Explanation {
        name: name.to_string(),
        objective: objective.clone(),
        window: window.clone(),
        calendar: None,
        period_budget_minutes: Vec::new(),
        error_budget_ratio: budget,
        budget_minutes: budget * window_minutes,
        allowed_bad_events: requests
            .map(|n| (Exact::int(i128::from(n)) * budget).floor().max(0) as u128),
        requests,
        min_events: None,
        group_by: Vec::new(),
        tiers,
    }
}

/// Explains a profile SLO, with the tiers it enables.
pub fn explain_slo(slo: &Slo, requests: Option<u64>) -> Explanation {
    let tiers: Vec<Tier> = slo.enabled_tiers();
    let mut e = explain(
        slo.name.as_str(),
        &slo.objective,
        &slo.window,
        &tiers,
        requests,
    );
    e.min_events = slo.alerting.min_events;
    e.group_by = slo.group_by.clone();
    if let Some(calendar) = slo.window.period() {
        let days: &[u64] = match calendar {
            Calendar::Month => &[28, 29, 30, 31],
            Calendar::Week => &[7],
        };
        e.calendar = Some(calendar);
        e.period_budget_minutes = days
            .iter()
            .map(|&d| (d, e.error_budget_ratio * Exact::int(i128::from(d) * 1_440)))
            .collect();
    }
    e
}

/// Explains an objective given on the command line, with every tier.
pub fn explain_objective(
    objective: &Objective,
    window: &PromDuration,
    requests: Option<u64>,
) -> Explanation {
    let name = format!("{objective}% over {window}");
    explain(&name, objective, window, &TIERS, requests)
}

/// The JSON shape of `slo explain --output json` (one entry of `slos`).
#[derive(Serialize)]
pub struct ExplanationJson {
    name: String,
    objective: f64,
    window: String,
    /// For a calendar window, the rolling window the alerts use (`30d` for `1mo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    alert_window: Option<String>,
    error_budget_ratio: f64,
    budget_minutes: f64,
    /// For a calendar window: days in the period → budget minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    period_budget_minutes: Option<std::collections::BTreeMap<String, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_bad_events: Option<u128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_events: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    group_by: Vec<String>,
    tiers: Vec<TierJson>,
}

#[derive(Serialize)]
struct TierJson {
    severity: Severity,
    long_window: String,
    short_window: String,
    burn_rate: f64,
    budget_consumed: f64,
    error_ratio_threshold: f64,
    can_fire: bool,
    detection_minutes_full_outage: Option<f64>,
    reset_minutes: Option<f64>,
}

impl Explanation {
    /// What `minEvents` means for one tier: the traffic its long window needs, and with
    /// `--requests`, whether the service has it.
    fn min_events_text(&self, min: u64, long: &PromDuration) -> String {
        let long_minutes = Exact::ratio(i128::from(long.as_secs()), 60);
        let per_minute = Exact::int(i128::from(min)) / long_minutes;
        let mut text = format!(
            "    and only once the last {long} saw at least {min} events ({} a minute on average)",
            per_minute.decimal(2)
        );
        if let Some(n) = self.requests {
            let window_minutes = Exact::ratio(i128::from(self.window.as_secs()), 60);
            let rate = Exact::int(i128::from(n)) / window_minutes;
            let seen = (rate * long_minutes).floor().max(0);
            let verdict = if seen >= i128::from(min) {
                "it can fire"
            } else {
                "it never fires at this traffic"
            };
            text.push_str(&format!(
                ": at the --requests rate of {} a minute, the {long} window sees about {}, so {verdict}",
                rate.decimal(2),
                thousands(seen as u128)
            ));
        }
        text.push('\n');
        text
    }

    pub fn to_json(&self) -> ExplanationJson {
        ExplanationJson {
            name: self.name.clone(),
            objective: self.objective.as_f64(),
            window: match self.calendar {
                Some(c) => c.as_str().to_string(),
                None => self.window.to_string(),
            },
            alert_window: self.calendar.map(|_| self.window.to_string()),
            error_budget_ratio: self.error_budget_ratio.to_f64(),
            budget_minutes: self.budget_minutes.to_f64(),
            period_budget_minutes: self.calendar.map(|_| {
                self.period_budget_minutes
                    .iter()
                    .map(|(d, m)| (format!("{d}d"), m.to_f64()))
                    .collect()
            }),
            allowed_bad_events: self.allowed_bad_events,
            min_events: self.min_events,
            group_by: self.group_by.clone(),
            tiers: self
                .tiers
                .iter()
                .map(|t| TierJson {
                    severity: t.tier.severity,
                    long_window: t.tier.long_window().to_string(),
                    short_window: t.tier.short_window().to_string(),
                    burn_rate: t.burn_rate.to_f64(),
                    budget_consumed: t.budget_consumed.to_f64(),
                    error_ratio_threshold: t.error_ratio_threshold.to_f64(),
                    can_fire: t.can_fire,
                    detection_minutes_full_outage: t
                        .detection_minutes_full_outage
                        .map(Exact::to_f64),
                    reset_minutes: t.reset_minutes.map(Exact::to_f64),
                })
                .collect(),
        }
    }

    /// The explanation in sentences, for people.
    pub fn text(&self) -> String {
        let budget_pct = self.error_budget_ratio * Exact::int(100);
        let title = match self.calendar {
            Some(Calendar::Month) => format!(
                "{}% of events good per calendar month (UTC)",
                self.objective
            ),
            Some(Calendar::Week) => {
                format!("{}% of events good per ISO week (UTC)", self.objective)
            }
            None => format!(
                "{}% of events good over a rolling {}",
                self.objective, self.window
            ),
        };
        let mut out = if self.name == format!("{}% over {}", self.objective, self.window) {
            format!("{title}\n")
        } else {
            format!("{}: {title}\n", self.name)
        };
        out.push_str(&format!(
            "  error budget: {}% of events, or {} minutes ({}) of full outage per {}\n",
            budget_pct,
            self.budget_minutes,
            minutes_text(self.budget_minutes),
            self.window
        ));
        if !self.group_by.is_empty() {
            out.push_str(&format!(
                "  per {}: each group has its own SLI, error budget and alerts; every figure below holds for each group alone\n",
                self.group_by.join(", ")
            ));
        }
        if let Some(calendar) = self.calendar {
            let spans: Vec<String> = self
                .period_budget_minutes
                .iter()
                .map(|(d, m)| format!("{} in {d} days", minutes_text(*m)))
                .collect();
            let what = match calendar {
                Calendar::Month => "month",
                Calendar::Week => "week",
            };
            out.push_str(&format!(
                "  over the calendar {what} the budget is {}; the alerts below use a rolling {} (the {what}'s typical length), so their burn rates do not jump at the {what}'s start\n",
                spans.join(", "),
                self.window
            ));
        }
        if let (Some(n), Some(allowed)) = (self.requests, self.allowed_bad_events) {
            out.push_str(&format!(
                "  with {} requests per {}: {} may fail\n",
                thousands(u128::from(n)),
                self.window,
                thousands(allowed)
            ));
        }
        for t in &self.tiers {
            let tier = &t.tier;
            let (long, short) = (tier.long_window(), tier.short_window());
            let act = match tier.severity {
                Severity::Critical => "pages",
                Severity::Warning => "opens a ticket",
            };
            if t.can_fire {
                out.push_str(&format!(
                    "  {} at {}×: {act} when the last {long} and the last {short} both fail more than {}% of events, \
                     i.e. {}% of the {} budget spent in {long}; a full outage is caught after {} \
                     (at the first rule evaluation after that), and the alert clears {} after recovery\n",
                    tier.describe(),
                    t.burn_rate,
                    t.error_ratio_threshold * Exact::int(100),
                    t.budget_consumed * Exact::int(100),
                    self.window,
                    t.detection_minutes_full_outage.map(minutes_text).unwrap_or_default(),
                    t.reset_minutes.map(minutes_text).unwrap_or_default(),
                ));
                if let Some(min) = self.min_events {
                    out.push_str(&self.min_events_text(min, &long));
                }
            } else {
                out.push_str(&format!(
                    "  {} at {}×: can never fire: it needs more than {}% of events to fail, and at most 100% can; obsctl leaves it out of the rules\n",
                    tier.describe(),
                    t.burn_rate,
                    t.error_ratio_threshold * Exact::int(100),
                ));
            }
        }
        out
    }
}

/// `43.2` minutes → `43m12s`; under a minute → `52s`.
pub fn minutes_text(minutes: Exact) -> String {
    let seconds = (minutes * Exact::int(60) + Exact::ratio(1, 2))
        .floor()
        .max(0);
    format_seconds(seconds as u64)
}

pub fn float_minutes_text(minutes: f64) -> String {
    format_seconds((minutes * 60.0).round().max(0.0) as u64)
}

/// 1500000 → `1,500,000`.
pub fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::types::parse_literal;

    fn objective(text: &str) -> Objective {
        text.parse().unwrap()
    }

    #[test]
    fn budgets_match_the_workbook_figures() {
        let d30: PromDuration = parse_literal("30d");
        let e = explain_objective(&objective("99.9"), &d30, Some(1_500_000_000));
        assert_eq!(e.error_budget_ratio.to_string(), "0.001");
        assert_eq!(e.budget_minutes.to_string(), "43.2");
        assert_eq!(e.allowed_bad_events, Some(1_500_000));
        let e = explain_objective(&objective("95"), &d30, Some(1_500_000_000));
        assert_eq!(e.allowed_bad_events, Some(75_000_000));
        let e = explain_objective(&objective("99.9"), &parse_literal("28d"), None);
        assert_eq!(e.budget_minutes.to_string(), "40.32");
        assert_eq!(e.tiers[0].burn_rate.to_string(), "13.44");
    }

    #[test]
    fn tier_figures_match_the_workbook_table() {
        let e = explain_objective(&objective("99.9"), &parse_literal("30d"), None);
        let rows: Vec<(String, String, String, String)> = e
            .tiers
            .iter()
            .map(|t| {
                (
                    t.burn_rate.to_string(),
                    t.budget_consumed.to_string(),
                    minutes_text(t.detection_minutes_full_outage.unwrap()),
                    t.error_ratio_threshold.to_string(),
                )
            })
            .collect();
        let expected = [
            ("14.4", "0.02", "52s", "0.0144"),
            ("6", "0.05", "2m10s", "0.006"),
            ("3", "0.1", "4m19s", "0.003"),
            ("1", "0.1", "4m19s", "0.001"),
        ];
        for (row, want) in rows.iter().zip(expected) {
            assert_eq!(
                (
                    row.0.as_str(),
                    row.1.as_str(),
                    row.2.as_str(),
                    row.3.as_str()
                ),
                want
            );
        }
        // Reset: the short window draining, 5m × (1 − 0.0144); the rules' short windows are raw.
        assert_eq!(e.tiers[0].reset_minutes.unwrap().to_string(), "4.928");
        assert_eq!(e.tiers[1].reset_minutes.unwrap().to_string(), "29.82");
    }

    #[test]
    fn detection_is_the_workbooks_threshold_times_long_window() {
        let e = explain_objective(&objective("99.9"), &parse_literal("30d"), None);
        let got: Vec<String> = e
            .tiers
            .iter()
            .map(|t| t.detection_minutes_full_outage.unwrap().to_string())
            .collect();
        assert_eq!(got, ["0.864", "2.16", "4.32", "4.32"]);
        let e = explain_objective(&objective("99"), &parse_literal("28d"), None);
        let got: Vec<String> = e
            .tiers
            .iter()
            .map(|t| t.detection_minutes_full_outage.unwrap().to_string())
            .collect();
        assert_eq!(got, ["8.064", "20.16", "40.32", "40.32"]);
        // 1h at 72%: 43.2 minutes.
        let e = explain_objective(&objective("95"), &parse_literal("30d"), None);
        assert_eq!(
            e.tiers[0]
                .detection_minutes_full_outage
                .unwrap()
                .to_string(),
            "43.2"
        );
    }

    #[test]
    fn a_tier_that_can_never_fire_is_said_in_words() {
        let e = explain_objective(&objective("90"), &parse_literal("30d"), None);
        assert!(!e.tiers[0].can_fire);
        assert_eq!(e.tiers[0].detection_minutes_full_outage, None);
        assert_eq!(e.tiers[0].reset_minutes, None);
        let text = e.text();
        assert!(
            text.contains("critical 1h/5m at 14.4×: can never fire: it needs more than 144% of events to fail"),
            "{text}"
        );
        assert!(text.contains("critical 6h/30m at 6×: pages when"), "{text}");
    }

    #[test]
    fn numbers_are_written_for_people() {
        assert_eq!(thousands(1_500_000), "1,500,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(minutes_text(Exact::ratio(432, 10)), "43m12s");
        assert_eq!(minutes_text(Exact::int(60 * 24 * 2)), "2d");
    }

    #[test]
    fn min_events_says_whether_the_traffic_can_fire_each_tier() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(
            &path,
            "name: t\nmetrics: {retention: 30d}\nslos:\n  - name: b\n    service: b\n    objective: 99.9\n    window: 30d\n    indicator:\n      ratio:\n        errors: e{c=\"5\"}\n        total: e\n    alerting: {minEvents: 100}\n",
        )
        .unwrap();
        let stack = crate::profile::load_file(&path).unwrap().stack;
        // 43,200 requests per 30d: one a minute, 60 in the 1h window, 360 in the 6h one.
        let text = explain_slo(&stack.slos[0], Some(43_200)).text();
        assert!(text.contains("and only once the last 1h saw at least 100 events (1.67 a minute on average): at the --requests rate of 1 a minute, the 1h window sees about 60, so it never fires at this traffic"), "{text}");
        assert!(
            text.contains("the 6h window sees about 360, so it can fire"),
            "{text}"
        );
        assert_eq!(
            explain_slo(&stack.slos[0], None).to_json().min_events,
            Some(100)
        );
    }
}
