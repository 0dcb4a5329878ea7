//! The `slos:` and `policy:` sections: service level objectives and the error-budget policy.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::Labels;
use super::types::{DnsName, Duration};

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Slo {
    /// Unique, a lowercase DNS label.
    pub name: DnsName,
    pub service: String,
    /// Percent, 0 < objective < 100.
    pub objective: f64,
    /// Rolling window, e.g. `30d`.
    pub window: Duration,
    pub indicator: Indicator,
    #[serde(default)]
    pub alerting: Alerting,
}

/// What counts as good and bad events.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum Indicator {
    Ratio(Ratio),
    Latency(Latency),
}

/// Counter selectors; obsctl writes the PromQL. Exactly one of `errors` and `good`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ratio {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub good: Option<String>,
    pub total: String,
}

/// A classic histogram (`_bucket`, `_count`) and a threshold that is one of its `le` boundaries.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Latency {
    pub metric: String,
    /// Seconds.
    pub threshold: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alerting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// Critical (paging) tiers.
    #[serde(default = "yes")]
    pub page: bool,
    /// Warning (ticket) tiers.
    #[serde(default = "yes")]
    pub ticket: bool,
}

impl Default for Alerting {
    fn default() -> Self {
        Alerting {
            runbook_url: None,
            labels: Labels::new(),
            page: true,
            ticket: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Error-budget policy: budget-remaining percentages. Above `healthy`: healthy; between `low` and
/// `healthy`: low; below `low`: exhausted.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    #[serde(default = "default_healthy")]
    pub healthy: f64,
    #[serde(default = "default_low")]
    pub low: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            healthy: default_healthy(),
            low: default_low(),
        }
    }
}

fn default_healthy() -> f64 {
    50.0
}
fn default_low() -> f64 {
    10.0
}
