//! Grafana Loki (community chart): monolithic on a volume or object storage, or distributed over
//! object storage. The chart's own `validate.yaml` rules are honoured here and re-checked by the lint.

use serde_json::{json, Value};

use super::object_storage::{credentials_env_from, s3_endpoint};
use super::resources::resources;
use crate::profile::{Logs, LogsMode, Stack};

/// Replica counts of Loki's microservices in distributed mode. Three ingesters carry the three
/// copies of each stream (replication factor 3); the read path has two of everything.
const DISTRIBUTED_REPLICAS: [(&str, u32); 7] = [
    ("ingester", 3),
    ("distributor", 3),
    ("querier", 3),
    ("queryFrontend", 2),
    ("queryScheduler", 2),
    ("indexGateway", 2),
    ("compactor", 1),
];

/// Profile-derived values.
pub fn values(stack: &Stack) -> Value {
    let logs = &stack.logs;
    let object = logs.object_storage.is_some();
    let store = if object { "s3" } else { "filesystem" };
    let replicas = match logs.mode {
        LogsMode::Monolithic => logs.replicas,
        LogsMode::Distributed => 3,
    };

    let loki = json!({
        "auth_enabled": logs.tenant.is_some(),
        // One copy per stream on one replica; three in distributed mode. A factor above the
        // number of replicas makes every push fail ("at least 2 live replicas required").
        "commonConfig": {"replication_factor": replicas.min(3)},
        "storage": storage(logs),
        // Loki refuses to start without a schema; tsdb + v13 + a 24h index is the only current
        // choice (structured metadata and OTLP ingestion need v13). `from` is fixed and in the
        // past, so every render is the same.
        "schemaConfig": {"configs": [{
            "from": "2024-04-01",
            "store": "tsdb",
            "object_store": store,
            "schema": "v13",
            "index": {"prefix": "loki_index_", "period": "24h"},
        }]},
        "limits_config": {"retention_period": format!("{}h", logs.retention.as_hours_ceil())},
        "compactor": {"delete_request_store": store},
    });
    let mut out = json!({
        "deploymentMode": match logs.mode {
            LogsMode::Monolithic => "Monolithic",
            LogsMode::Distributed => "Distributed",
        },
        "loki": loki,
        // The simple-scalable targets are deprecated; with them above zero the chart refuses to
        // render next to a single binary.
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
    });

    match logs.mode {
        LogsMode::Monolithic => {
            let mut single = json!({
                "replicas": logs.replicas,
                "persistence": persistence(logs),
            });
            if let Some(r) = &logs.resources {
                single["resources"] = resources(r);
            }
            out["singleBinary"] = single;
        }
        LogsMode::Distributed => {
            out["singleBinary"] = json!({"replicas": 0});
            for (component, count) in DISTRIBUTED_REPLICAS {
                out[component] = json!({"replicas": count});
            }
            // Zone-aware ingesters need nodes in three zones and the rollout operator; plain
            // replication over three ingesters is what a single-zone cluster can run.
            out["ingester"]["zoneAwareReplication"] = json!({"enabled": false});
            out["ingester"]["persistence"] = json!({
                "enabled": true,
                "claims": [claim(logs)],
            });
            if let Some(r) = &logs.resources {
                out["ingester"]["resources"] = resources(r);
            }
        }
    }

    if let Some(store) = &logs.object_storage {
        out["defaults"] = json!({"extraEnvFrom": credentials_env_from(store)});
    }
    out["chunksCache"] = cache(logs.caches.as_ref().map(|c| c.chunks.mib()));
    out["resultsCache"] = cache(logs.caches.as_ref().map(|c| c.results.mib()));
    out
}

fn storage(logs: &Logs) -> Value {
    match &logs.object_storage {
        None => json!({"type": "filesystem"}),
        Some(store) => {
            let (endpoint, insecure) = s3_endpoint(store);
            let mut s3 = json!({
                "endpoint": endpoint,
                "s3ForcePathStyle": store.force_path_style,
                "insecure": insecure,
            });
            if let Some(region) = &store.region {
                s3["region"] = json!(region);
            }
            let b = &store.buckets;
            let mut buckets = json!({"chunks": b.chunks, "ruler": b.ruler});
            if let Some(admin) = &b.admin {
                buckets["admin"] = json!(admin);
            }
            // Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment
            // (the S3 client's default chain), injected from the profile's Secret.
            json!({"type": "s3", "bucketNames": buckets, "s3": s3})
        }
    }
}

fn persistence(logs: &Logs) -> Value {
    let mut p = json!({"enabled": true, "size": logs.storage.to_string()});
    if let Some(class) = &logs.storage_class {
        p["storageClass"] = json!(class);
    }
    p
}

fn claim(logs: &Logs) -> Value {
    let mut c = json!({"name": "data", "size": logs.storage.to_string()});
    if let Some(class) = &logs.storage_class {
        c["storageClass"] = json!(class);
    }
    c
}

/// A memcached cache: off unless the profile sizes it (the chart's default asks ~9.8 GiB).
fn cache(mib: Option<u64>) -> Value {
    match mib {
        None => json!({"enabled": false}),
        Some(mib) => json!({"enabled": true, "allocatedMemory": mib}),
    }
}
