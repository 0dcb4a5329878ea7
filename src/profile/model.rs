//! The stack profile as plain data. Field names are the profile's YAML keys (camelCase) and are a
//! contract: other tools write profiles. Every struct refuses unknown keys.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::collector::Collector;
use super::slo::{Policy, Slo};
use super::types::{parse_literal, Cpu, DnsName, PromDuration, Quantity};
use super::workload::{Pricing, Traffic};

/// Helm values passed through untouched and merged last. Must be a mapping.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(transparent)]
pub struct Values(pub yaml_serde::Value);

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = yaml_serde::Value::deserialize(deserializer)?;
        if value.is_mapping() {
            Ok(Values(value))
        } else {
            Err(serde::de::Error::custom(
                "expected a mapping of Helm values for the chart, e.g. `values: {someKey: someValue}`",
            ))
        }
    }
}

impl JsonSchema for Values {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HelmValues".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object", "additionalProperties": true,
            "description": "Helm values for the chart, merged last (over obsctl's own)"})
    }
}

/// A complete stack: what `stacks/<name>.yaml` describes once `extends` is resolved.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Stack {
    /// The profile's name (a DNS-1123 label).
    pub name: DnsName,
    /// A built-in profile name or a path relative to this file; deep-merged under this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// One sentence for `obsctl profile list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The namespace every release and manifest goes into.
    #[serde(default = "default_namespace")]
    pub namespace: DnsName,
    #[serde(default)]
    pub cluster: Cluster,
    #[serde(default)]
    pub metrics: Metrics,
    #[serde(default)]
    pub alertmanager: Alertmanager,
    #[serde(default)]
    pub logs: Logs,
    #[serde(default)]
    pub traces: Traces,
    #[serde(default)]
    pub grafana: Grafana,
    #[serde(default)]
    pub collector: Collector,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<Slo>,
    #[serde(default)]
    pub policy: Policy,
    /// Where the rendered runbooks are published, so alerts link to them.
    #[serde(default, skip_serializing_if = "Runbooks::is_empty")]
    pub runbooks: Runbooks,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Traffic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
}

fn default_namespace() -> DnsName {
    parse_literal("monitoring")
}

/// Which cluster the profile is meant for.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// The kube context `up` insists on (other contexts need an explicit `--context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// Overrides the pinned chart of a component; any key left out keeps the pinned value.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChartOverride {
    /// Helm repository URL (`https://…`) or an OCI registry path (`oci://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// CPU and memory for a component's main container, in Kubernetes notation.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceList>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceList {
    /// e.g. `250m` or `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

/// Prometheus (with the Prometheus Operator, from kube-prometheus-stack).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metrics {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How long samples are kept.
    #[serde(default = "default_metrics_retention")]
    pub retention: PromDuration,
    /// Volume size of each Prometheus replica; `retentionSize` is kept safely below it.
    #[serde(default = "default_metrics_storage")]
    pub storage: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(default = "one")]
    pub replicas: u32,
    #[serde(default = "default_scrape_interval")]
    pub scrape_interval: PromDuration,
    /// Remote write to a long-term store (Thanos receive, Mimir, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_write: Option<RemoteWrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Values>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            enabled: true,
            retention: default_metrics_retention(),
            storage: default_metrics_storage(),
            storage_class: None,
            replicas: 1,
            scrape_interval: default_scrape_interval(),
            remote_write: None,
            resources: None,
            chart: None,
            values: None,
        }
    }
}

fn default_metrics_retention() -> PromDuration {
    parse_literal("7d")
}
fn default_metrics_storage() -> Quantity {
    parse_literal("20Gi")
}
fn default_scrape_interval() -> PromDuration {
    parse_literal("30s")
}
fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}

/// Prometheus remote write to an external long-term store.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RemoteWrite {
    /// e.g. `https://mimir.example.com/api/v1/push`.
    pub url: String,
    /// A Secret with keys `username` and `password` for basic auth (never the credentials themselves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth_secret: Option<DnsName>,
}

/// Alertmanager (from kube-prometheus-stack).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alertmanager {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A volume for silences and notification state; none keeps them in memory.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::types::optional_quantity::deserialize"
    )]
    #[schemars(schema_with = "super::types::optional_quantity::schema")]
    pub storage: Option<Quantity>,
    #[serde(default = "one")]
    pub replicas: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

impl Default for Alertmanager {
    fn default() -> Self {
        Alertmanager {
            enabled: true,
            storage: None,
            replicas: 1,
            resources: None,
        }
    }
}

/// How Loki runs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogsMode {
    /// One binary (a StatefulSet), on a filesystem volume or object storage.
    #[default]
    Monolithic,
    /// Loki's microservices over object storage.
    Distributed,
}

/// Grafana Loki.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Logs {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub mode: LogsMode,
    #[serde(default = "default_logs_retention")]
    pub retention: PromDuration,
    /// Volume size (monolithic: the single binary's volume; distributed: each ingester's WAL).
    #[serde(default = "default_logs_storage")]
    pub storage: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Monolithic replicas; more than one needs object storage.
    #[serde(default = "one")]
    pub replicas: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_storage: Option<ObjectStorage>,
    /// memcached caches; leaving them out disables them (the chart's defaults ask ~11 GiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caches: Option<LogCaches>,
    /// Multi-tenancy: when set, Loki requires this tenant id and Grafana sends it as `X-Scope-OrgID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Values>,
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            enabled: true,
            mode: LogsMode::Monolithic,
            retention: default_logs_retention(),
            storage: default_logs_storage(),
            storage_class: None,
            replicas: 1,
            object_storage: None,
            caches: None,
            tenant: None,
            resources: None,
            chart: None,
            values: None,
        }
    }
}

fn default_logs_retention() -> PromDuration {
    parse_literal("7d")
}
fn default_logs_storage() -> Quantity {
    parse_literal("10Gi")
}

/// Loki's memcached caches, sized explicitly.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogCaches {
    /// Memory of the chunks cache.
    pub chunks: Quantity,
    /// Memory of the query results cache.
    pub results: Quantity,
}

/// S3-compatible object storage. Credentials come from a Secret, never from the profile.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectStorage {
    /// e.g. `https://s3.eu-west-1.amazonaws.com` or `http://minio.storage.svc:9000`.
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub buckets: Buckets,
    /// A Secret with keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    pub credentials_secret: DnsName,
    /// Path-style addressing (MinIO and most self-hosted stores need it).
    #[serde(default)]
    pub force_path_style: bool,
    /// Plain HTTP to the endpoint.
    #[serde(default)]
    pub insecure: bool,
}

/// Bucket names. Loki's docs warn against the default names `chunks`/`ruler`/`admin` on real S3.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Buckets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    /// Tempo's bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces: Option<String>,
}

/// Grafana Tempo.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Traces {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_traces_retention")]
    pub retention: PromDuration,
    #[serde(default = "default_traces_storage")]
    pub storage: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Service-graph and span-metrics series written to Prometheus, with exemplars.
    #[serde(default = "yes")]
    pub metrics_generator: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_storage: Option<ObjectStorage>,
    /// A Kafka-compatible broker; with object storage it selects tempo-distributed (Tempo 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<Kafka>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Values>,
}

impl Default for Traces {
    fn default() -> Self {
        Traces {
            enabled: true,
            retention: default_traces_retention(),
            storage: default_traces_storage(),
            storage_class: None,
            metrics_generator: true,
            object_storage: None,
            kafka: None,
            resources: None,
            chart: None,
            values: None,
        }
    }
}

fn default_traces_retention() -> PromDuration {
    parse_literal("3d")
}
fn default_traces_storage() -> Quantity {
    parse_literal("10Gi")
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kafka {
    /// `host:port` of a broker.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// Grafana (from kube-prometheus-stack).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Grafana {
    /// Grafana's external address (`https://grafana.example.org`): its `root_url`, and the base of
    /// the runbook and Explore links in alerts and runbooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A Secret with keys `admin-user` and `admin-password`; `up` creates it when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_secret: Option<DnsName>,
    /// A volume for Grafana's database; none keeps it in the pod.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::types::optional_quantity::deserialize"
    )]
    #[schemars(schema_with = "super::types::optional_quantity::schema")]
    pub persistence: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Values>,
}

/// Where `runbooks/<slo>.md` of `obsctl render` are published (a repository folder, a wiki).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Runbooks {
    /// The address of the folder: alerts link to `<baseUrl>/<slo>.md#<tier>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

impl Runbooks {
    fn is_empty(&self) -> bool {
        self.base_url.is_none()
    }
}

/// Free-form string labels (Kubernetes and Prometheus labels).
pub type Labels = BTreeMap<String, String>;
