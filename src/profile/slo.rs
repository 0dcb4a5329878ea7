//! The `slos:` and `policy:` sections: service level objectives and the error-budget policy, plus
//! the alert tiers every SLO gets (the SRE Workbook's multi-window multi-burn-rate table) and the
//! exact arithmetic that both validation and rule generation rely on.

pub(crate) mod check;
pub mod exact;
pub mod runbook;
pub mod selector;
pub mod window;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::model::Labels;
use super::types::{DnsName, PromDuration};
pub(super) use check::check_slos;
pub use check::warnings;
pub use exact::Exact;
pub use selector::Selector;
pub use window::{Calendar, SloWindow};

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Slo {
    /// Unique, a lowercase DNS label.
    pub name: DnsName,
    pub service: String,
    /// Percent, 0 < objective < 100.
    pub objective: Objective,
    /// Rolling window, e.g. `30d` (at least the longest alert window, 3d), or a calendar period:
    /// `1mo` (the month, UTC) or `1w` (the ISO week).
    pub window: SloWindow,
    pub indicator: Indicator,
    /// Per-label SLOs: every value of these labels of the SLI's series (e.g. `[route]`) gets its
    /// own SLI, error budget and burn-rate alerts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(default)]
    pub alerting: Alerting,
    /// What the generated runbook needs beyond the SLO: where it runs, whom to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<runbook::Runbook>,
    /// On the copy of a per-label SLO that stands for one of its groups ([`Slo::group`]), the
    /// group's label values; empty otherwise. Never read from a profile.
    #[serde(skip)]
    #[schemars(skip)]
    pub group: Labels,
}

impl Slo {
    /// One group of a per-label SLO (`route="/pay"` of `groupBy: [route]`): every selector also
    /// matches the group's values, and the recorded series are read for that group alone.
    pub fn group(&self, values: &Labels) -> Slo {
        let pin = |s: &Selector| {
            values.iter().fold(s.clone(), |s, (label, value)| {
                s.with_matcher(selector::Matcher {
                    label: label.clone(),
                    op: selector::MatchOp::Equal,
                    value: value.clone(),
                })
            })
        };
        let indicator = match &self.indicator {
            Indicator::Ratio(r) => Indicator::Ratio(Ratio {
                errors: r.errors.as_ref().map(pin),
                good: r.good.as_ref().map(pin),
                total: pin(&r.total),
            }),
            Indicator::Latency(l) => Indicator::Latency(Latency {
                metric: pin(&l.metric),
                threshold: l.threshold,
            }),
        };
        Slo {
            indicator,
            group: values.clone(),
            ..self.clone()
        }
    }

    /// `name` or, for one group, `name{route="/pay"}`: how people tell the groups apart.
    pub fn display_name(&self) -> String {
        group_name(self.name.as_str(), &self.group)
    }

    /// The alert tiers this SLO enables (`page` → critical, `ticket` → warning), whether or not
    /// they can fire.
    pub fn enabled_tiers(&self) -> Vec<Tier> {
        self.tiers()
            .into_iter()
            .filter(|t| match t.severity {
                Severity::Critical => self.alerting.page,
                Severity::Warning => self.alerting.ticket,
            })
            .collect()
    }

    /// The tiers that get an alert: enabled and able to fire.
    pub fn live_tiers(&self) -> Vec<Tier> {
        self.enabled_tiers()
            .into_iter()
            .filter(|t| t.can_fire(&self.objective, &self.window))
            .collect()
    }

    /// Every tier of the SLO, enabled or not: `alerting.tiers` when set, else the Workbook's.
    pub fn tiers(&self) -> Vec<Tier> {
        match &self.alerting.tiers {
            Some(specs) => specs.iter().map(|s| s.tier(&self.window)).collect(),
            None => TIERS.to_vec(),
        }
    }
}

/// `name`, or `name{route="/pay"}` for one group of a per-label SLO.
pub fn group_name(name: &str, group: &Labels) -> String {
    if group.is_empty() {
        return name.to_string();
    }
    let pins: Vec<String> = group
        .iter()
        .map(|(k, v)| format!("{k}={}", selector::quote(v)))
        .collect();
    format!("{name}{{{}}}", pins.join(","))
}

/// What counts as good and bad events.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum Indicator {
    Ratio(Ratio),
    Latency(Latency),
}

impl Indicator {
    /// Every selector the profile gives, as written (a latency SLI's histogram base name).
    pub fn selectors(&self) -> Vec<&Selector> {
        match self {
            Indicator::Ratio(r) => [r.errors.as_ref(), r.good.as_ref(), Some(&r.total)]
                .into_iter()
                .flatten()
                .collect(),
            Indicator::Latency(l) => vec![&l.metric],
        }
    }

    /// The selector of all events: the ones whose series must exist for the SLI to mean anything.
    pub fn total(&self) -> Selector {
        match self {
            Indicator::Ratio(r) => r.total.clone(),
            Indicator::Latency(l) => l.total(),
        }
    }
}

/// As the single-key mapping the profile is written in (`ratio: {...}`), not a YAML tag, so
/// `profile show` prints what `profile validate` accepts.
impl Serialize for Indicator {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Indicator::Ratio(r) => map.serialize_entry("ratio", r)?,
            Indicator::Latency(l) => map.serialize_entry("latency", l)?,
        }
        map.end()
    }
}

/// Counter selectors; obsctl writes the PromQL. Exactly one of `errors` and `good`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ratio {
    /// Bad events, e.g. `http_requests_total{job="checkout",code=~"5.."}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Selector>,
    /// Good events, instead of `errors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub good: Option<Selector>,
    /// All events.
    pub total: Selector,
}

/// A classic histogram (`_bucket`, `_count`) and a threshold that is one of its `le` boundaries.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Latency {
    /// The histogram's name without `_bucket`/`_count`, with its matchers.
    pub metric: Selector,
    /// Seconds.
    pub threshold: f64,
}

impl Latency {
    /// Requests faster than the threshold: the `le` bucket. Integral thresholds also match the
    /// `1.0` spelling some client libraries use (Prometheus 3 normalizes to `1`).
    pub fn good(&self) -> Selector {
        let le = le_label(self.threshold);
        let (op, value) = if self.threshold.fract() == 0.0 && !le.contains('e') {
            (selector::MatchOp::Regex, format!("{le}(\\.0)?"))
        } else {
            (selector::MatchOp::Equal, le)
        };
        self.metric
            .with_metric(&format!("{}_bucket", self.metric.metric()))
            .with_matcher(selector::Matcher {
                label: "le".into(),
                op,
                value,
            })
    }

    /// All requests: the histogram's `_count`.
    pub fn total(&self) -> Selector {
        self.metric
            .with_metric(&format!("{}_count", self.metric.metric()))
    }
}

/// A bucket boundary as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it (client_golang and
/// Prometheus 3): shortest round-trip digits, exponent form below 1e-4 or from 1e21.
pub fn le_label(v: f64) -> String {
    let exp = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    if v != 0.0 && !(-4..21).contains(&exp) {
        let s = format!("{v:e}"); // e.g. 1e-5, 2.5e-7
        let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", e.abs())
    } else {
        format!("{v}")
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alerting {
    /// Overrides where the alerts' `runbook_url` points (by default the generated runbook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    /// Added to every alert of the SLO (not to the recorded series, so changing them never splits
    /// a window's history).
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// Critical (paging) tiers.
    #[serde(default = "yes")]
    pub page: bool,
    /// Warning (ticket) tiers.
    #[serde(default = "yes")]
    pub ticket: bool,
    /// A tier fires only once its long window saw at least this many events: at low traffic a
    /// single failure is a huge error ratio, and no reason to page. Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_events: Option<u64>,
    /// An `SLOMetricAbsent` ticket when the SLI's total series disappear: every burn-rate alert
    /// then goes quiet, so silence is not health. On unless `false`.
    #[serde(default = "yes")]
    pub absent: bool,
    /// How long the total series must be gone before `SLOMetricAbsent` fires (default 10m).
    #[serde(default = "default_absent_for")]
    pub absent_for: PromDuration,
    /// The SLO's own tiers, replacing the Workbook's four: leave one out to drop it, change its
    /// windows or burn rate to override it. `page`/`ticket` still switch a severity off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierSpec>>,
}

/// One tier of `alerting.tiers`, as people write it: both windows and the burn rate.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TierSpec {
    pub severity: Severity,
    pub long_window: PromDuration,
    pub short_window: PromDuration,
    /// How many times the sustainable rate both windows must exceed, e.g. `14.4`.
    pub burn_rate: BurnRate,
}

impl TierSpec {
    /// As a row of the table: the budget share the burn rate spends in the long window.
    pub fn tier(&self, window: &PromDuration) -> Tier {
        let share = self.burn_rate.0
            * Exact::ratio(
                i128::from(self.long_window.as_secs()),
                i128::from(window.as_secs().max(1)),
            );
        Tier::custom(
            self.severity,
            self.long_window.as_secs(),
            self.short_window.as_secs(),
            share,
        )
    }
}

/// A positive exact decimal burn rate, read as written (`14.4`, not 14.4000000001).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnRate(pub Exact);

impl<'de> Deserialize<'de> for BurnRate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Exact::parse_decimal(text.trim(), 12)
            .filter(|b| *b > Exact::int(0))
            .map(BurnRate)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "invalid burn rate `{text}`: expected a positive number such as `14.4` (at most 12 decimals)"
                ))
            })
    }
}

impl Serialize for BurnRate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0.to_f64())
    }
}

impl JsonSchema for BurnRate {
    fn schema_name() -> Cow<'static, str> {
        "BurnRate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number", "exclusiveMinimum": 0,
            "description": "Times the sustainable burn rate, e.g. 14.4"})
    }
}

impl Default for Alerting {
    fn default() -> Self {
        Alerting {
            runbook_url: None,
            labels: Labels::new(),
            page: true,
            ticket: true,
            min_events: None,
            absent: true,
            absent_for: default_absent_for(),
            tiers: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// Long enough for a rollout or a scrape target's restart, short enough to be told the same day.
fn default_absent_for() -> PromDuration {
    PromDuration::from_secs(600)
}

/// Error-budget policy: budget-remaining percentages. Above `healthy`: healthy; from `low` to
/// `healthy`: low; below `low`: exhausted.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    #[serde(default = "default_healthy")]
    pub healthy: f64,
    #[serde(default = "default_low")]
    pub low: f64,
    /// An incident that spends more than this percentage of an SLO's budget needs a postmortem.
    #[serde(default = "default_postmortem")]
    pub postmortem: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            healthy: default_healthy(),
            low: default_low(),
            postmortem: default_postmortem(),
        }
    }
}

fn default_healthy() -> f64 {
    50.0
}
fn default_low() -> f64 {
    10.0
}
/// The SRE Workbook's sample policy (appendix B): over 20% of the budget in one incident.
fn default_postmortem() -> f64 {
    20.0
}

/// An objective in percent, kept exact: `99.9` is 999/10, so its budget is exactly 0.001.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Objective {
    percent: Exact,
    text: String,
}

/// Objectives beyond this many decimals are refused (keeps the exact arithmetic bounded).
const OBJECTIVE_DECIMALS: usize = 10;

impl Objective {
    pub fn percent(&self) -> Exact {
        self.percent
    }

    /// `1 − objective`, as a ratio: 0.001 for 99.9.
    pub fn error_budget(&self) -> Exact {
        (Exact::int(100) - self.percent) / Exact::int(100)
    }

    pub fn as_f64(&self) -> f64 {
        self.percent.to_f64()
    }
}

impl FromStr for Objective {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let percent = Exact::parse_decimal(text.trim(), OBJECTIVE_DECIMALS).ok_or_else(|| {
            format!("invalid objective `{text}`: expected a percentage such as `99.9` (at most {OBJECTIVE_DECIMALS} decimals)")
        })?;
        if percent <= Exact::int(0) || percent >= Exact::int(100) {
            return Err(format!(
                "objective `{text}` is out of range: expected a percentage above 0 and below 100, such as `99.9` (100 would leave no error budget)"
            ));
        }
        Ok(Objective {
            percent,
            text: text.trim().to_string(),
        })
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.percent.to_string())
    }
}

impl<'de> Deserialize<'de> for Objective {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The profile deserializer hands numbers over as written (`99.9`, not 99.90000000000001).
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

impl Serialize for Objective {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.percent.is_integer() {
            serializer.serialize_i64(self.percent.numerator() as i64)
        } else {
            serializer.serialize_f64(self.as_f64())
        }
    }
}

impl JsonSchema for Objective {
    fn schema_name() -> Cow<'static, str> {
        "Objective".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100,
            "description": "Percent of good events, e.g. 99.9"})
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Pages someone.
    Critical,
    /// Opens a ticket.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// One row of the multi-window multi-burn-rate table: it fires when both windows burn faster
/// than `budget_percent` of the SLO window's budget spent within the long window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub severity: Severity,
    pub long_secs: u64,
    pub short_secs: u64,
    /// Share of the whole budget spent in the long window when the tier fires (0.02 for 2%).
    pub budget: Exact,
}

/// The SRE Workbook's table (ch. 5, with the 1d/2h row of its Prometheus example); short windows
/// are 1/12 of the long ones.
pub const TIERS: [Tier; 4] = [
    Tier {
        severity: Severity::Critical,
        long_secs: 3_600,
        short_secs: 300,
        budget: Exact::ratio(2, 100),
    },
    Tier {
        severity: Severity::Critical,
        long_secs: 6 * 3_600,
        short_secs: 1_800,
        budget: Exact::ratio(5, 100),
    },
    Tier {
        severity: Severity::Warning,
        long_secs: 86_400,
        short_secs: 2 * 3_600,
        budget: Exact::ratio(10, 100),
    },
    Tier {
        severity: Severity::Warning,
        long_secs: 3 * 86_400,
        short_secs: 6 * 3_600,
        budget: Exact::ratio(10, 100),
    },
];

/// The window the error and total increases are recorded over; every other window is built from
/// it. Also the shortest alert window.
pub const BASE_WINDOW_SECS: u64 = 300;

/// The longest alert window: an SLO window must be at least this long.
pub const LONGEST_ALERT_WINDOW_SECS: u64 = 3 * 86_400;

impl Tier {
    pub fn long_window(&self) -> PromDuration {
        PromDuration::from_secs(self.long_secs)
    }

    pub fn short_window(&self) -> PromDuration {
        PromDuration::from_secs(self.short_secs)
    }

    /// A tier of the user's own (`alerting.tiers`, OpenSLO alert conditions).
    pub fn custom(severity: Severity, long_secs: u64, short_secs: u64, budget: Exact) -> Tier {
        Tier {
            severity,
            long_secs,
            short_secs,
            budget,
        }
    }

    /// Budget share × SLO window / long window: 14.4 for 2% in 1h of 30d, 13.44 of 28d.
    pub fn burn_rate(&self, window: &PromDuration) -> Exact {
        self.budget
            * Exact::ratio(
                i128::from(window.as_secs()),
                i128::from(self.long_secs.max(1)),
            )
    }

    /// The budget share as a percentage, for people: `2`, `5`, `10`.
    pub fn budget_percent(&self) -> Exact {
        self.budget * Exact::int(100)
    }

    /// The error ratio both windows must exceed: burn rate × error budget.
    pub fn threshold(&self, objective: &Objective, window: &PromDuration) -> Exact {
        self.burn_rate(window) * objective.error_budget()
    }

    /// False when even 100% errors stay at or under the threshold (e.g. 14.4× at a 90% objective).
    pub fn can_fire(&self, objective: &Objective, window: &PromDuration) -> bool {
        self.threshold(objective, window) < Exact::int(1)
    }

    /// `critical 1h/5m`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}/{}",
            self.severity.as_str(),
            self.long_window(),
            self.short_window()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::types::parse_literal;

    fn objective(text: &str) -> Objective {
        text.parse().unwrap()
    }

    #[test]
    fn burn_rates_follow_the_workbook() {
        let d30: PromDuration = parse_literal("30d");
        let rates: Vec<String> = TIERS
            .iter()
            .map(|t| t.burn_rate(&d30).to_string())
            .collect();
        assert_eq!(rates, ["14.4", "6", "3", "1"]);
        let d28: PromDuration = parse_literal("28d");
        let rates: Vec<String> = TIERS
            .iter()
            .map(|t| t.burn_rate(&d28).to_string())
            .collect();
        assert_eq!(rates, ["13.44", "5.6", "2.8", "0.933333333333"]);
        let o = objective("99.9");
        assert_eq!(TIERS[0].threshold(&o, &d30).to_string(), "0.0144");
        for t in &TIERS {
            assert_eq!(t.short_secs * 12, t.long_secs, "short = long / 12");
        }
    }

    #[test]
    fn tiers_that_can_never_fire_are_known() {
        let d30: PromDuration = parse_literal("30d");
        let o = objective("90");
        let fire: Vec<bool> = TIERS.iter().map(|t| t.can_fire(&o, &d30)).collect();
        assert_eq!(fire, [false, true, true, true], "14.4 × 10% = 144%");
        assert!(TIERS.iter().all(|t| t.can_fire(&objective("99.9"), &d30)));
    }

    #[test]
    fn objectives_are_exact_and_in_range() {
        assert_eq!(objective("99.9").error_budget().to_string(), "0.001");
        assert_eq!(objective("95").error_budget().to_string(), "0.05");
        assert_eq!(objective("99.9").to_string(), "99.9");
        for bad in ["100", "0", "0.0", "100.5", "-1", "abc", "99.9%"] {
            assert!(bad.parse::<Objective>().is_err(), "{bad}");
        }
        assert!("100"
            .parse::<Objective>()
            .unwrap_err()
            .contains("below 100"));
    }

    #[test]
    fn le_labels_are_written_like_go_clients_write_them() {
        assert_eq!(le_label(0.5), "0.5");
        assert_eq!(le_label(1.0), "1");
        assert_eq!(le_label(2.5), "2.5");
        assert_eq!(le_label(0.005), "0.005");
        assert_eq!(le_label(0.00001), "1e-05");
        assert_eq!(le_label(1e21), "1e+21");
    }

    #[test]
    fn latency_selectors_use_the_bucket_and_count_series() {
        let l = Latency {
            metric: r#"h_seconds{job="a"}"#.parse().unwrap(),
            threshold: 0.25,
        };
        assert_eq!(l.good().promql(), r#"h_seconds_bucket{job="a",le="0.25"}"#);
        assert_eq!(l.total().promql(), r#"h_seconds_count{job="a"}"#);
        let l = Latency {
            threshold: 1.0,
            ..l
        };
        assert_eq!(
            l.good().promql(),
            r#"h_seconds_bucket{job="a",le=~"1(\\.0)?"}"#
        );
    }
}
