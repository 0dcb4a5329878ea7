//! Grafana Tempo: the single-binary chart (a volume or S3), or tempo-distributed 3.x when the
//! profile gives a Kafka broker and object storage.

use serde_json::{json, Value};

use super::endpoints::Endpoints;
use super::object_storage::{credentials_env_from, s3_endpoint};
use super::resources::resources;
use crate::profile::{ObjectStorage, Stack};

/// The generator's processors are off per tenant until listed here; without them it writes
/// nothing (`active_series=0`). local-blocks serves TraceQL metrics and Grafana's drilldown.
const GENERATOR_PROCESSORS: [&str; 3] = ["service-graphs", "span-metrics", "local-blocks"];

/// Whether the profile selects tempo-distributed.
pub fn is_distributed(stack: &Stack) -> bool {
    stack.traces.kafka.is_some() && stack.traces.object_storage.is_some()
}

/// Remote write to every Prometheus replica, with exemplars (the trace ids behind each series).
fn remote_write(endpoints: &Endpoints) -> Value {
    endpoints
        .prometheus_write_urls()
        .into_iter()
        .map(|url| json!({"url": url, "send_exemplars": true}))
        .collect()
}

fn generator_overrides(on: bool) -> Value {
    if on {
        json!({"defaults": {"metrics_generator": {"processors": GENERATOR_PROCESSORS}}})
    } else {
        json!({"defaults": {}})
    }
}

fn s3(store: &ObjectStorage) -> Value {
    let (endpoint, insecure) = s3_endpoint(store);
    let mut s3 = json!({
        "bucket": store.buckets.traces,
        "endpoint": endpoint,
        "insecure": insecure,
        "forcepathstyle": store.force_path_style,
    });
    if let Some(region) = &store.region {
        s3["region"] = json!(region);
    }
    s3
}

/// Profile-derived values for the single-binary chart.
pub fn single_binary_values(stack: &Stack, endpoints: &Endpoints) -> Value {
    let t = &stack.traces;
    let generator = t.metrics_generator;
    let mut tempo = json!({
        "retention": format!("{}h", t.retention.as_hours_ceil()),
        "metricsGenerator": {"enabled": generator},
        "overrides": generator_overrides(generator),
    });
    if generator {
        tempo["metricsGenerator"]["storage"] = json!({"remote_write": remote_write(endpoints)});
    }
    if let Some(store) = &t.object_storage {
        tempo["storage"] = json!({"trace": {"backend": "s3", "s3": s3(store)}});
        tempo["extraEnvFrom"] = credentials_env_from(store);
    }
    if let Some(r) = &t.resources {
        tempo["resources"] = resources(r);
    }
    // The volume holds the WAL (and, without object storage, every block): without it traces
    // are lost on restart.
    let mut persistence = json!({"enabled": true, "size": t.storage.to_string()});
    if let Some(class) = &t.storage_class {
        persistence["storageClassName"] = json!(class);
    }
    json!({"tempo": tempo, "persistence": persistence})
}

/// Profile-derived values for tempo-distributed 3.x.
pub fn distributed_values(stack: &Stack, endpoints: &Endpoints) -> Value {
    let t = &stack.traces;
    let generator = t.metrics_generator;
    let store = t
        .object_storage
        .as_ref()
        .expect("validated: distributed Tempo has object storage");
    let kafka = t
        .kafka
        .as_ref()
        .expect("validated: distributed Tempo has Kafka");
    let mut out = json!({
        "storage": {"trace": {"backend": "s3", "s3": s3(store)}},
        "global": {"extraEnvFrom": credentials_env_from(store)},
        "ingest": {"kafka": {"address": kafka.address}},
        "backendScheduler": {"config": {"provider": {"compaction": {"compaction": {
            "block_retention": format!("{}h", t.retention.as_hours_ceil()),
        }}}}},
        "metricsGenerator": {"enabled": generator},
        "overrides": generator_overrides(generator),
    });
    if let Some(topic) = &kafka.topic {
        out["ingest"]["kafka"]["topic"] = json!(topic);
    }
    if generator {
        out["metricsGenerator"]["config"] =
            json!({"storage": {"remote_write": remote_write(endpoints)}});
    }
    out
}
