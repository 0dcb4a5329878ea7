//! Profile resources and volumes in the shapes charts expect.

use serde_json::{json, Map, Value};

use crate::profile::{ResourceList, Resources};

/// `{requests: {cpu, memory}, limits: {…}}` with only the keys the profile sets.
pub fn resources(r: &Resources) -> Value {
    let mut out = Map::new();
    for (key, list) in [("requests", &r.requests), ("limits", &r.limits)] {
        if let Some(list) = list {
            out.insert(key.into(), resource_list(list));
        }
    }
    Value::Object(out)
}

fn resource_list(list: &ResourceList) -> Value {
    let mut out = Map::new();
    if let Some(cpu) = &list.cpu {
        out.insert("cpu".into(), json!(cpu.to_string()));
    }
    if let Some(memory) = &list.memory {
        out.insert("memory".into(), json!(memory.to_string()));
    }
    Value::Object(out)
}

/// A PersistentVolumeClaim spec as the Prometheus Operator's `volumeClaimTemplate` takes it.
pub fn claim_template(size: &str, storage_class: Option<&str>) -> Value {
    let mut spec = json!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
    });
    if let Some(class) = storage_class {
        spec["storageClassName"] = json!(class);
    }
    json!({"volumeClaimTemplate": {"spec": spec}})
}
