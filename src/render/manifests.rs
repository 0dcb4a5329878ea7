//! Kubernetes objects obsctl applies itself (server-side), after the releases.

use serde_json::json;

use super::merge::yaml;
use super::Manifest;
use crate::profile::Stack;

/// The manifests of a profile, in apply order.
pub fn manifests(stack: &Stack) -> Vec<Manifest> {
    vec![namespace(stack)]
}

fn namespace(stack: &Stack) -> Manifest {
    Manifest {
        path: "manifests/namespace.yaml".into(),
        objects: vec![yaml(json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": stack.namespace.as_str(),
                "labels": {"app.kubernetes.io/managed-by": "obsctl", "obsctl.dev/profile": stack.name.as_str()},
            },
        }))],
    }
}
