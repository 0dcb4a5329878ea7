//! Reading the state of a stack's workloads from the Kubernetes API, as plain summaries: rollout
//! readiness of Deployments, StatefulSets and DaemonSets, claims, CRDs, container restarts,
//! nodes. Also the few writes `verify` makes: a short-lived marker pod, created and deleted.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Pod, Secret, Taint, Toleration};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::Client;

/// A kube error on one line: an API refusal as `403 Forbidden: <message>` (kube's own Display
/// adds the whole Debug form), other errors as they are.
pub fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", status.reason)
            };
            format!("{}{reason}: {}", status.code, status.message)
        }
        other => {
            // Transport errors hide their cause a few sources down; say it once, named by kind.
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                let part = cause.to_string();
                if !text.contains(&part) {
                    text = format!("{text}: {part}");
                }
                source = cause.source();
            }
            match transport_kind(&text) {
                Some(kind) => format!("{kind} ({text})"),
                None => text,
            }
        }
    }
}

/// What a transport failure was, in the words an operator searches for.
fn transport_kind(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    [
        (
            "connection refused",
            "connection refused: nothing listens at the API server's address",
        ),
        ("dns error", "DNS lookup of the API server failed"),
        (
            "failed to lookup address",
            "DNS lookup of the API server failed",
        ),
        (
            "certificate",
            "TLS failed: the API server's certificate is not trusted",
        ),
        ("tls", "TLS handshake with the API server failed"),
        // rustls' words for a server that answers plain HTTP on a TLS address.
        (
            "invalidcontenttype",
            "TLS handshake with the API server failed: it answers plain HTTP",
        ),
        (
            "corrupt message",
            "TLS handshake with the API server failed: it answers plain HTTP",
        ),
        ("timed out", "the API server did not answer in time"),
        ("deadline", "the API server did not answer in time"),
    ]
    .into_iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, kind)| kind)
}

/// Helm's annotation naming the release an object belongs to.
pub const HELM_RELEASE_ANNOTATION: &str = "meta.helm.sh/release-name";
/// The label the Prometheus Operator puts on the StatefulSets it creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// A Deployment, StatefulSet or DaemonSet and how far its rollout is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub kind: &'static str,
    pub name: String,
    /// The Helm release (annotation), if any.
    pub release: Option<String>,
    /// `app.kubernetes.io/managed-by` (the operator's StatefulSets say `prometheus-operator`).
    pub managed_by: Option<String>,
    /// Replicas wanted (DaemonSets: pods to schedule).
    pub desired: i32,
    pub ready: i32,
    /// Pods running the current template.
    pub updated: i32,
}

impl Workload {
    pub fn is_ready(&self) -> bool {
        self.ready >= self.desired && self.updated >= self.desired
    }
}

fn owner(meta: &ObjectMeta) -> (Option<String>, Option<String>) {
    let release = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(HELM_RELEASE_ANNOTATION))
        .cloned();
    let managed_by = meta
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .cloned();
    (release, managed_by)
}

impl From<&Deployment> for Workload {
    fn from(d: &Deployment) -> Self {
        let (release, managed_by) = owner(&d.metadata);
        let status = d.status.clone().unwrap_or_default();
        Workload {
            kind: "Deployment",
            name: d.metadata.name.clone().unwrap_or_default(),
            release,
            managed_by,
            desired: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            ready: status.ready_replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
        }
    }
}

impl From<&StatefulSet> for Workload {
    fn from(s: &StatefulSet) -> Self {
        let (release, managed_by) = owner(&s.metadata);
        let status = s.status.clone().unwrap_or_default();
        Workload {
            kind: "StatefulSet",
            name: s.metadata.name.clone().unwrap_or_default(),
            release,
            managed_by,
            desired: s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            ready: status.ready_replicas.unwrap_or(0),
            updated: status
                .updated_replicas
                .unwrap_or(status.current_replicas.unwrap_or(0)),
        }
    }
}

impl From<&DaemonSet> for Workload {
    fn from(d: &DaemonSet) -> Self {
        let (release, managed_by) = owner(&d.metadata);
        let status = d.status.clone().unwrap_or_default();
        Workload {
            kind: "DaemonSet",
            name: d.metadata.name.clone().unwrap_or_default(),
            release,
            managed_by,
            desired: status.desired_number_scheduled,
            ready: status.number_ready,
            updated: status.updated_number_scheduled.unwrap_or(0),
        }
    }
}

/// Every Deployment, StatefulSet and DaemonSet in the namespace.
pub async fn workloads(client: Client, namespace: &str) -> Result<Vec<Workload>, kube::Error> {
    let lp = ListParams::default();
    let deployments = Api::<Deployment>::namespaced(client.clone(), namespace);
    let statefulsets = Api::<StatefulSet>::namespaced(client.clone(), namespace);
    let daemonsets = Api::<DaemonSet>::namespaced(client, namespace);
    let (deployments, statefulsets, daemonsets) = futures::try_join!(
        deployments.list(&lp),
        statefulsets.list(&lp),
        daemonsets.list(&lp),
    )?;
    let mut out: Vec<Workload> = deployments.items.iter().map(Workload::from).collect();
    out.extend(statefulsets.items.iter().map(Workload::from));
    out.extend(daemonsets.items.iter().map(Workload::from));
    Ok(out)
}

/// A PersistentVolumeClaim and its phase (`Bound`, `Pending`, `Lost`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub name: String,
    pub phase: String,
}

pub async fn claims(client: Client, namespace: &str) -> Result<Vec<Claim>, kube::Error> {
    let list = Api::<PersistentVolumeClaim>::namespaced(client, namespace)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .iter()
        .map(|c| Claim {
            name: c.metadata.name.clone().unwrap_or_default(),
            phase: c
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into()),
        })
        .collect())
}

/// A CustomResourceDefinition and whether it is `Established`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crd {
    pub name: String,
    pub established: bool,
}

/// The CRDs of one API group (e.g. `monitoring.coreos.com`).
pub async fn crds(client: Client, group: &str) -> Result<Vec<Crd>, kube::Error> {
    let list = Api::<CustomResourceDefinition>::all(client)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .iter()
        .filter(|c| c.spec.group == group)
        .map(|c| Crd {
            name: c.metadata.name.clone().unwrap_or_default(),
            established: c
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                }),
        })
        .collect())
}

/// One container of a pod: restarts and why it is waiting, if it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerState {
    pub pod: String,
    pub container: String,
    pub restarts: i32,
    /// `CrashLoopBackOff`, `ImagePullBackOff`, … when waiting.
    pub waiting: Option<String>,
    /// How the previous run ended (`Error, exit 1`, `OOMKilled, exit 137`).
    pub last_exit: Option<String>,
}

/// The containers (init containers included) of every pod in the namespace.
pub async fn containers(
    client: Client,
    namespace: &str,
) -> Result<Vec<ContainerState>, kube::Error> {
    let list = Api::<Pod>::namespaced(client, namespace)
        .list(&ListParams::default())
        .await?;
    let mut out = Vec::new();
    for pod in &list.items {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(status) = &pod.status else { continue };
        let all = status
            .init_container_statuses
            .iter()
            .flatten()
            .chain(status.container_statuses.iter().flatten());
        for c in all {
            let state = c.state.as_ref();
            let last = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
            out.push(ContainerState {
                pod: name.clone(),
                container: c.name.clone(),
                restarts: c.restart_count,
                waiting: state
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.clone()),
                last_exit: last.map(|t| match &t.reason {
                    Some(reason) => format!("{reason}, exit {}", t.exit_code),
                    None => format!("exit {}", t.exit_code),
                }),
            });
        }
    }
    Ok(out)
}

/// A DaemonSet's rollout and what decides where it may run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DaemonSetPlacement {
    pub desired: i32,
    pub ready: i32,
    pub updated: i32,
    pub tolerations: Vec<Toleration>,
    pub node_selector: BTreeMap<String, String>,
}

/// A DaemonSet by name; `None` when it does not exist.
pub async fn daemonset(
    client: Client,
    namespace: &str,
    name: &str,
) -> Result<Option<DaemonSetPlacement>, kube::Error> {
    let Some(ds) = Api::<DaemonSet>::namespaced(client, namespace)
        .get_opt(name)
        .await?
    else {
        return Ok(None);
    };
    let status = ds.status.unwrap_or_default();
    let pod_spec = ds.spec.and_then(|s| s.template.spec).unwrap_or_default();
    Ok(Some(DaemonSetPlacement {
        desired: status.desired_number_scheduled,
        ready: status.number_ready,
        updated: status.updated_number_scheduled.unwrap_or(0),
        tolerations: pod_spec.tolerations.unwrap_or_default(),
        node_selector: pod_spec.node_selector.unwrap_or_default(),
    }))
}

/// A Deployment's rollout by name; `None` when it does not exist.
pub async fn deployment(
    client: Client,
    namespace: &str,
    name: &str,
) -> Result<Option<Workload>, kube::Error> {
    Ok(Api::<Deployment>::namespaced(client, namespace)
        .get_opt(name)
        .await?
        .as_ref()
        .map(Workload::from))
}

/// A node: its labels and taints.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
}

pub async fn nodes(client: Client) -> Result<Vec<NodeInfo>, kube::Error> {
    let list = Api::<Node>::all(client)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .iter()
        .map(|n| NodeInfo {
            name: n.metadata.name.clone().unwrap_or_default(),
            labels: n.metadata.labels.clone().unwrap_or_default(),
            taints: n
                .spec
                .as_ref()
                .and_then(|s| s.taints.clone())
                .unwrap_or_default(),
        })
        .collect())
}

/// Whether a DaemonSet's pods may run on a node: its node selector matches and every NoSchedule
/// or NoExecute taint is tolerated. The DaemonSet controller tolerates the `node.kubernetes.io/*`
/// condition taints (not-ready, unreachable, pressure, unschedulable) by itself.
pub fn may_run_on(ds: &DaemonSetPlacement, node: &NodeInfo) -> bool {
    let selected = ds
        .node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v));
    let tolerated = node
        .taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .filter(|t| !t.key.starts_with("node.kubernetes.io/"))
        .all(|t| ds.tolerations.iter().any(|tol| tolerates(tol, t)));
    selected && tolerated
}

fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_ok = toleration
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == taint.effect);
    let key = toleration.key.as_deref().unwrap_or("");
    let exists = toleration.operator.as_deref() == Some("Exists");
    if key.is_empty() {
        // An empty key with Exists tolerates everything.
        return exists && effect_ok;
    }
    effect_ok
        && key == taint.key
        && (exists
            || toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""))
}

/// Why a Secret's values could not be read. Never carries the values.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{}", describe(.0))]
    Api(#[from] kube::Error),
    #[error("Secret {namespace}/{name} does not exist")]
    Missing { namespace: String, name: String },
    #[error("Secret {namespace}/{name} has no key `{key}`")]
    NoKey {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("Secret {namespace}/{name}: key `{key}` is not UTF-8 text")]
    NotText {
        namespace: String,
        name: String,
        key: String,
    },
}

/// Two values of a Secret (a user and a password).
pub async fn secret_pair(
    client: Client,
    namespace: &str,
    name: &str,
    first: &str,
    second: &str,
) -> Result<(String, String), SecretError> {
    let secret = Api::<Secret>::namespaced(client, namespace)
        .get_opt(name)
        .await?
        .ok_or_else(|| SecretError::Missing {
            namespace: namespace.into(),
            name: name.into(),
        })?;
    let data = secret.data.unwrap_or_default();
    let value = |key: &str| -> Result<String, SecretError> {
        let bytes = data.get(key).ok_or_else(|| SecretError::NoKey {
            namespace: namespace.into(),
            name: name.into(),
            key: key.into(),
        })?;
        String::from_utf8(bytes.0.clone()).map_err(|_| SecretError::NotText {
            namespace: namespace.into(),
            name: name.into(),
            key: key.into(),
        })
    };
    Ok((value(first)?, value(second)?))
}

/// A pod's phase and, when a container waits, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodPhase {
    pub phase: String,
    pub waiting: Option<String>,
}

pub async fn create_pod(client: Client, namespace: &str, pod: &Pod) -> Result<(), kube::Error> {
    Api::<Pod>::namespaced(client, namespace)
        .create(&PostParams::default(), pod)
        .await
        .map(|_| ())
}

pub async fn pod_phase(
    client: Client,
    namespace: &str,
    name: &str,
) -> Result<PodPhase, kube::Error> {
    let pod = Api::<Pod>::namespaced(client, namespace).get(name).await?;
    let status = pod.status.unwrap_or_default();
    Ok(PodPhase {
        phase: status.phase.unwrap_or_else(|| "Unknown".into()),
        waiting: status
            .container_statuses
            .iter()
            .flatten()
            .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone()),
    })
}

/// Deletes a pod at once (no grace period). A pod already gone is not an error.
pub async fn delete_pod(client: Client, namespace: &str, name: &str) -> Result<(), kube::Error> {
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    match Api::<Pod>::namespaced(client, namespace)
        .delete(name, &params)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_are_named_by_kind() {
        let kind = |text: &str| transport_kind(text).unwrap_or("unclassified");
        assert!(kind(
            "error trying to connect: tcp connect error: Connection refused (os error 111)"
        )
        .starts_with("connection refused"));
        assert!(
            kind("error trying to connect: dns error: failed to lookup address information")
                .starts_with("DNS lookup")
        );
        assert!(kind("invalid peer certificate: UnknownIssuer").starts_with("TLS failed"));
        assert!(kind("received corrupt message of type InvalidContentType")
            .ends_with("it answers plain HTTP"));
        assert!(kind("operation timed out").starts_with("the API server did not answer"));
        assert_eq!(kind("something else"), "unclassified");
    }

    fn taint(key: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            ..Taint::default()
        }
    }

    fn node(taints: Vec<Taint>) -> NodeInfo {
        NodeInfo {
            name: "n".into(),
            labels: BTreeMap::from([("kubernetes.io/os".into(), "linux".into())]),
            taints,
        }
    }

    #[test]
    fn a_control_plane_taint_keeps_a_daemonset_off_unless_tolerated() {
        let cp = node(vec![taint(
            "node-role.kubernetes.io/control-plane",
            "NoSchedule",
        )]);
        let mut ds = DaemonSetPlacement::default();
        assert!(!may_run_on(&ds, &cp));
        ds.tolerations.push(Toleration {
            key: Some("node-role.kubernetes.io/control-plane".into()),
            operator: Some("Exists".into()),
            ..Toleration::default()
        });
        assert!(may_run_on(&ds, &cp));
        // PreferNoSchedule does not keep pods off; condition taints are tolerated by the controller.
        let soft = node(vec![
            taint("dedicated", "PreferNoSchedule"),
            taint("node.kubernetes.io/not-ready", "NoExecute"),
        ]);
        assert!(may_run_on(&DaemonSetPlacement::default(), &soft));
        let everything = DaemonSetPlacement {
            tolerations: vec![Toleration {
                operator: Some("Exists".into()),
                ..Toleration::default()
            }],
            ..DaemonSetPlacement::default()
        };
        assert!(may_run_on(&everything, &cp));
    }

    #[test]
    fn a_node_selector_limits_the_nodes() {
        let ds = DaemonSetPlacement {
            node_selector: BTreeMap::from([("kubernetes.io/os".into(), "windows".into())]),
            ..DaemonSetPlacement::default()
        };
        assert!(!may_run_on(&ds, &node(vec![])));
    }

    #[test]
    fn a_rollout_is_ready_when_every_wanted_pod_is_ready_and_current() {
        let mut w = Workload {
            kind: "Deployment",
            name: "grafana".into(),
            release: None,
            managed_by: None,
            desired: 2,
            ready: 2,
            updated: 2,
        };
        assert!(w.is_ready());
        w.ready = 1;
        assert!(!w.is_ready());
        w.ready = 2;
        w.updated = 1;
        assert!(!w.is_ready());
    }
}
