//! The `collector:` section: an OpenTelemetry Collector that ships pod logs to Loki and OTLP
//! traces to Tempo.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{ChartOverride, Resources, Values};

/// How the collector runs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CollectorMode {
    /// One collector per node: tails that node's container logs and receives OTLP locally.
    #[default]
    Daemonset,
    /// A central gateway: OTLP only (no log tailing, which needs a collector on every node).
    Deployment,
}

/// Which collector build runs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// The Kubernetes distribution: everything obsctl's pipelines use, and small.
    #[default]
    K8s,
    /// The contrib distribution: every community component, for pipelines added through `values:`.
    Contrib,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Collector {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub mode: CollectorMode,
    #[serde(default)]
    pub distribution: Distribution,
    /// The logs pipeline (pod logs and OTLP logs → Loki).
    #[serde(default)]
    pub logs: Pipeline,
    /// The traces pipeline (OTLP traces → Tempo).
    #[serde(default)]
    pub traces: Pipeline,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Values>,
}

fn yes() -> bool {
    true
}

impl Default for Collector {
    fn default() -> Self {
        Collector {
            enabled: true,
            mode: CollectorMode::Daemonset,
            distribution: Distribution::K8s,
            logs: Pipeline::default(),
            traces: Pipeline::default(),
            resources: None,
            chart: None,
            values: None,
        }
    }
}

/// One signal's pipeline. By default it runs when the stack's backend for that signal runs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pipeline {
    /// Default: on when the stack's own backend (logs or traces) is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// An external backend instead of the stack's own: Loki's OTLP base URL
    /// (`https://loki.example.com/otlp`) or Tempo's OTLP gRPC address (`tempo.example.com:4317`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}
