//! The fake Kubernetes API of a cluster running the dev profile.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine as _;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::{Behaviour, LogLine, State, GRAFANA_PASSWORD, GRAFANA_USER, NAMESPACE};

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items,
    }))
}

fn meta(name: &str, release: Option<&str>, labels: Value) -> Value {
    let mut m = json!({"name": name, "namespace": NAMESPACE, "labels": labels, "uid": format!("uid-{name}")});
    if let Some(r) = release {
        m["annotations"] =
            json!({"meta.helm.sh/release-name": r, "meta.helm.sh/release-namespace": NAMESPACE});
    }
    m
}

fn deployment(name: &str, release: &str, replicas: i32) -> Value {
    json!({"metadata": meta(name, Some(release), json!({})), "spec": {"replicas": replicas, "selector": {}, "template": {}},
           "status": {"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas}})
}

fn statefulset(name: &str, release: Option<&str>, labels: Value) -> Value {
    json!({"metadata": meta(name, release, labels), "spec": {"replicas": 1, "selector": {}, "serviceName": name, "template": {}},
           "status": {"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1}})
}

fn daemonset(name: &str, release: &str, desired: i32, ready: i32) -> Value {
    json!({"metadata": meta(name, Some(release), json!({})),
           "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c"}],
                    "tolerations": []}}},
           "status": {"desiredNumberScheduled": desired, "currentNumberScheduled": desired, "numberReady": ready,
                      "updatedNumberScheduled": desired, "numberMisscheduled": 0}})
}

fn pod(name: &str, container: &str, restarts: i32, waiting: Option<&str>) -> Value {
    let state = match waiting {
        Some(reason) => {
            json!({"waiting": {"reason": reason, "message": "back-off 5m0s restarting failed container"}})
        }
        None => json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
    };
    json!({"metadata": meta(name, None, json!({})), "spec": {"containers": [{"name": container, "image": "x"}]},
           "status": {"phase": "Running", "containerStatuses": [{"name": container, "image": "x", "imageID": "", "ready": waiting.is_none(),
               "restartCount": restarts, "state": state,
               "lastState": if restarts > 0 { json!({"terminated": {"exitCode": 1, "reason": "Error"}}) } else { json!({}) }}]}})
}

/// The Kubernetes API of a cluster running the dev profile: workloads of every release, the
/// operator's StatefulSets, bound claims, Established CRDs, three nodes (one a tainted control
/// plane), the Grafana admin Secret, and pods that `verify` may create and delete.
pub(super) fn kube_answer(state: &Mutex<State>, b: &Behaviour, req: &Request) -> ResponseTemplate {
    let ns = format!("/namespaces/{NAMESPACE}");
    let path = req.url.path().to_string();
    let method = req.method.as_str();
    let apps = format!("/apis/apps/v1{ns}");
    let core = format!("/api/v1{ns}");
    let collector_ready = if b.collector_short { 1 } else { 2 };
    if method == "GET" && path == format!("{apps}/deployments") {
        return list(
            "DeploymentList",
            "apps/v1",
            vec![
                deployment("kps-operator", "kube-prometheus-stack", 1),
                deployment("grafana", "kube-prometheus-stack", 1),
                deployment("kps-kube-state-metrics", "kube-prometheus-stack", 1),
                deployment("loki-gateway", "loki", 1),
            ],
        );
    }
    if method == "GET" && path == format!("{apps}/statefulsets") {
        let operator = json!({"app.kubernetes.io/managed-by": "prometheus-operator"});
        return list(
            "StatefulSetList",
            "apps/v1",
            vec![
                statefulset("prometheus-kps-prometheus", None, operator.clone()),
                statefulset("alertmanager-kps-alertmanager", None, operator),
                statefulset("loki", Some("loki"), json!({})),
                statefulset("tempo", Some("tempo"), json!({})),
            ],
        );
    }
    if method == "GET" && path == format!("{apps}/daemonsets") {
        return list(
            "DaemonSetList",
            "apps/v1",
            vec![
                daemonset(
                    "kps-prometheus-node-exporter",
                    "kube-prometheus-stack",
                    3,
                    3,
                ),
                daemonset("loki-canary", "loki", 2, 2),
                daemonset("otel-collector-agent", "otel-collector", 2, collector_ready),
            ],
        );
    }
    if method == "GET" && path == format!("{apps}/daemonsets/otel-collector-agent") {
        return ResponseTemplate::new(200).set_body_json(daemonset(
            "otel-collector-agent",
            "otel-collector",
            2,
            collector_ready,
        ));
    }
    if method == "GET" && path == format!("{core}/persistentvolumeclaims") {
        let claims: Vec<Value> = ["prometheus-kps-prometheus-db-prometheus-kps-prometheus-0", "storage-loki-0", "storage-tempo-0"]
            .iter()
            .map(|n| json!({"metadata": meta(n, None, json!({})), "spec": {}, "status": {"phase": "Bound"}}))
            .collect();
        return list("PersistentVolumeClaimList", "v1", claims);
    }
    if method == "GET" && path == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions" {
        let crds: Vec<Value> = ["alertmanagerconfigs", "alertmanagers", "podmonitors", "probes", "prometheusagents",
            "prometheuses", "prometheusrules", "scrapeconfigs", "servicemonitors", "thanosrulers"]
            .iter()
            .map(|p| json!({
                "metadata": {"name": format!("{p}.monitoring.coreos.com")},
                "spec": {"group": "monitoring.coreos.com", "names": {"plural": p, "kind": "K"}, "scope": "Namespaced", "versions": []},
                "status": {"conditions": [{"type": "Established", "status": "True"}, {"type": "NamesAccepted", "status": "True"}]},
            }))
            .collect();
        return list(
            "CustomResourceDefinitionList",
            "apiextensions.k8s.io/v1",
            crds,
        );
    }
    if method == "GET" && path == format!("{core}/pods") {
        let mut pods = vec![
            pod("grafana-6d4b-x2", "grafana", 0, None),
            pod("loki-0", "loki", 1, None),
            pod("prometheus-kps-prometheus-0", "prometheus", 0, None),
        ];
        if b.crash_loop {
            pods.push(pod("tempo-0", "tempo", 7, Some("CrashLoopBackOff")));
        } else {
            pods.push(pod("tempo-0", "tempo", 0, None));
        }
        return list("PodList", "v1", pods);
    }
    if method == "GET" && path == "/api/v1/nodes" {
        let node = |name: &str, taints: Value| json!({"metadata": {"name": name, "labels": {"kubernetes.io/os": "linux"}}, "spec": {"taints": taints}});
        return list(
            "NodeList",
            "v1",
            vec![
                node(
                    "control-plane",
                    json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
                ),
                node("worker-1", json!([])),
                node("worker-2", json!([])),
            ],
        );
    }
    if method == "GET" && path == format!("{core}/secrets/grafana-admin") {
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        return ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": meta("grafana-admin", None, json!({})),
            "type": "Opaque", "data": {"admin-user": enc(GRAFANA_USER), "admin-password": enc(GRAFANA_PASSWORD)},
        }));
    }
    if method == "POST" && path == format!("{core}/pods") {
        let pod: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
        // The collector: tails the pod's log and ships it to Loki with the Kubernetes labels.
        let script = pod["spec"]["containers"][0]["command"][2]
            .as_str()
            .unwrap_or("");
        let marker = script.split('\'').nth(1).unwrap_or("").to_string();
        let container = pod["spec"]["containers"][0]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let service = pod["metadata"]["annotations"]["resource.opentelemetry.io/service.name"]
            .as_str()
            .unwrap_or(&container)
            .to_string();
        let mut labels = BTreeMap::from([("service_name".to_string(), service)]);
        if !b.collector_drops_k8s_labels {
            labels.insert("k8s_namespace_name".into(), NAMESPACE.into());
            labels.insert("k8s_pod_name".into(), name.clone());
            labels.insert("k8s_container_name".into(), container);
        }
        let mut s = state.lock().unwrap();
        s.created.push(name);
        s.lines.push(LogLine {
            visible_at: Instant::now() + b.loki_ingest,
            labels,
            ts: "1".into(),
            line: marker,
        });
        let mut created = pod.clone();
        created["status"] = json!({"phase": "Pending"});
        return ResponseTemplate::new(201).set_body_json(created);
    }
    if let Some(name) = path.strip_prefix(&format!("{core}/pods/")) {
        if method == "GET" {
            return ResponseTemplate::new(200).set_body_json(json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": meta(name, None, json!({})),
                "spec": {"containers": [{"name": "obsctl-verify"}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "obsctl-verify", "image": "busybox:1.37", "imageID": "",
                    "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]},
            }));
        }
        if method == "DELETE" {
            state.lock().unwrap().deleted.push(name.to_string());
            return ResponseTemplate::new(200).set_body_json(json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": meta(name, None, json!({})), "spec": {"containers": []},
            }));
        }
    }
    ResponseTemplate::new(404).set_body_json(json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
        "message": format!("the fake API has nothing at {method} {path}"),
    }))
}
