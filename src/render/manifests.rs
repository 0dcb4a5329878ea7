//! Kubernetes objects obsctl applies itself (server-side), after the releases.

use serde_json::json;

use super::merge::yaml;
use super::Manifest;
use crate::profile::Stack;

/// The manifests of a profile, in apply order.
pub fn manifests(stack: &Stack) -> Vec<Manifest> {
    let mut list = vec![namespace(stack)];
    if !stack.slos.is_empty() {
        list.push(Manifest {
            path: "manifests/slo-rules.yaml".into(),
            objects: crate::slo::rules::prometheus_rules(stack),
        });
        list.push(Manifest {
            path: "manifests/slo-dashboard.yaml".into(),
            objects: vec![crate::slo::dashboard::config_map(
                stack,
                super::datasources::PROMETHEUS_UID,
            )],
        });
        list.push(Manifest {
            path: "manifests/runbook-dashboards.yaml".into(),
            objects: stack
                .slos
                .iter()
                .map(|slo| {
                    let rb = crate::incident::runbook::runbook(stack, slo);
                    crate::incident::runbook::config_map(
                        stack,
                        slo,
                        &rb,
                        super::datasources::PROMETHEUS_UID,
                    )
                })
                .collect(),
        });
    }
    list
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
