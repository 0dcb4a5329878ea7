//! kube-prometheus-stack: Prometheus, Alertmanager, the operator and Grafana.

use serde_json::{json, Value};

use super::resources::{claim_template, resources};
use crate::profile::Stack;

/// The part of `retentionSize` Prometheus may fill: its docs advise at most 80–85% of the disk,
/// because the WAL and head chunks live beside the blocks and compaction needs room to write.
const RETENTION_SIZE_SHARE: f64 = 0.80;

/// Profile-derived values; `datasources` come from the Grafana wiring.
pub fn values(stack: &Stack, datasources: Vec<Value>) -> Value {
    let m = &stack.metrics;
    let traces = stack.traces.enabled;
    let generator = traces && stack.traces.metrics_generator;

    let mut spec = json!({
        "replicas": m.replicas,
        "retention": m.retention.to_string(),
        "retentionSize": retention_size(m.storage.bytes()),
        "scrapeInterval": m.scrape_interval.to_string(),
        "evaluationInterval": m.scrape_interval.to_string(),
        "storageSpec": claim_template(&m.storage.to_string(), m.storage_class.as_deref()),
        // Tempo's metrics generator writes service-graph and span-metrics series here.
        "enableRemoteWriteReceiver": generator,
        // Exemplars carry trace ids, so a latency spike links straight to a trace.
        "enableFeatures": if traces { json!(["exemplar-storage"]) } else { json!([]) },
    });
    if traces {
        spec["exemplars"] = json!({"maxSize": 100000});
    }
    if let Some(r) = &m.resources {
        spec["resources"] = resources(r);
    }
    if let Some(rw) = &m.remote_write {
        let mut target = json!({"url": rw.url});
        if let Some(secret) = &rw.basic_auth_secret {
            target["basicAuth"] = json!({
                "username": {"name": secret.as_str(), "key": "username"},
                "password": {"name": secret.as_str(), "key": "password"},
            });
        }
        spec["remoteWrite"] = json!([target]);
    }

    let am = &stack.alertmanager;
    let alertmanager_on = m.enabled && am.enabled;
    let mut am_spec = json!({"replicas": am.replicas});
    if let Some(size) = &am.storage {
        am_spec["storage"] = claim_template(&size.to_string(), m.storage_class.as_deref());
    }
    if let Some(r) = &am.resources {
        am_spec["resources"] = resources(r);
    }

    json!({
        "prometheus": {"enabled": m.enabled, "prometheusSpec": spec},
        "alertmanager": {"enabled": alertmanager_on, "alertmanagerSpec": am_spec},
        "grafana": grafana(stack, datasources),
    })
}

fn grafana(stack: &Stack, datasources: Vec<Value>) -> Value {
    let g = &stack.grafana;
    let mut out = json!({
        "enabled": true,
        "additionalDataSources": datasources,
        "persistence": match &g.persistence {
            // The chart renders this claim itself, so `helm uninstall` would delete it (and every
            // dashboard, user and annotation made by hand) unless Helm is told to keep it. Kept, it
            // still carries its release's labels, and the next install adopts it by name.
            Some(size) => json!({
                "enabled": true, "type": "pvc", "size": size.to_string(),
                "annotations": {"helm.sh/resource-policy": "keep"},
            }),
            None => json!({"enabled": false}),
        },
    });
    if let Some(secret) = &g.admin_secret {
        // Both the Grafana container and its sidecars read both keys.
        out["admin"] = json!({
            "existingSecret": secret.as_str(),
            "userKey": "admin-user",
            "passwordKey": "admin-password",
        });
    }
    if let Some(r) = &g.resources {
        out["resources"] = resources(r);
    }
    if let Some(url) = &g.url {
        // The address Grafana writes into its own links, the one alerts' runbook links use.
        out["grafana.ini"] = json!({"server": {"root_url": url}});
    }
    out
}

/// 80% of the volume, in the largest unit that keeps it exact to the MiB (`80GiB`, `8396MiB`).
pub fn retention_size(volume_bytes: u64) -> String {
    let mib = ((volume_bytes as f64 * RETENTION_SIZE_SHARE) / (1u64 << 20) as f64).floor() as u64;
    if mib % 1024 == 0 {
        format!("{}GiB", mib / 1024)
    } else {
        format!("{mib}MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_size_stays_below_the_volume() {
        assert_eq!(retention_size(100 << 30), "80GiB");
        assert_eq!(retention_size(10 << 30), "8GiB");
        assert_eq!(retention_size(3 << 30), "2457MiB");
    }
}
