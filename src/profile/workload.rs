//! The `workload:` and `pricing:` sections: what the stack will ingest, for sizing and cost.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::Quantity;

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Workload {
    /// Hosts, for per-host vendor pricing.
    #[serde(default)]
    pub hosts: u32,
    /// People using the stack, for per-seat vendor pricing.
    #[serde(default)]
    pub users: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsWorkload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsWorkload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces: Option<TracesWorkload>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsWorkload {
    /// Series scraped at `metrics.scrapeInterval`.
    pub active_series: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogsWorkload {
    /// Raw log bytes per day, e.g. `20GiB`-style quantity `20Gi`.
    pub ingest_per_day: Quantity,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TracesWorkload {
    pub spans_per_second: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_span: Option<u64>,
}

/// USD per GiB-month; the catalog's defaults otherwise.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pricing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_storage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_storage: Option<f64>,
}
