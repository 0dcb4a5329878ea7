//! Port-forwarding to a Service, like `kubectl port-forward svc/NAME PORT`: the Service's
//! selector picks a ready pod, its target port is resolved (by number or by name), and a
//! listener on 127.0.0.1 (an ephemeral port) bridges each accepted connection to the pod through
//! the API server.

use std::net::SocketAddr;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams};
use kube::Client;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Why a port-forward could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("reading Service {namespace}/{name}: {}", super::workloads::describe(.source))]
    Service {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Service {namespace}/{name} has no selector (an external or headless-by-hand Service cannot be forwarded to)")]
    NoSelector { namespace: String, name: String },
    #[error("Service {namespace}/{name} has no port {port} (it has {known})")]
    NoPort {
        namespace: String,
        name: String,
        port: u16,
        known: String,
    },
    #[error("listing the pods of Service {namespace}/{name}: {}", super::workloads::describe(.source))]
    Pods {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Service {namespace}/{name} has no ready pod ({selector})")]
    NoReadyPod {
        namespace: String,
        name: String,
        selector: String,
    },
    #[error("pod {pod} has no container port named `{port}`")]
    NamedPort { pod: String, port: String },
    #[error("listening on 127.0.0.1: {0}")]
    Listen(#[source] std::io::Error),
}

/// A running port-forward. Dropping it stops the listener and every bridged connection.
pub struct PortForward {
    local: SocketAddr,
    task: JoinHandle<()>,
}

impl PortForward {
    /// Where to connect: `127.0.0.1:<ephemeral>`.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The pod and container port behind `service:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    pub pod: String,
    pub port: u16,
}

/// Resolves `namespace/service:port` to a ready pod and its container port.
pub async fn resolve(
    client: Client,
    namespace: &str,
    service: &str,
    port: u16,
) -> Result<Backend, ForwardError> {
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let svc = services
        .get(service)
        .await
        .map_err(|source| ForwardError::Service {
            namespace: namespace.into(),
            name: service.into(),
            source,
        })?;
    let spec = svc.spec.unwrap_or_default();
    let selector = spec.selector.unwrap_or_default();
    if selector.is_empty() {
        return Err(ForwardError::NoSelector {
            namespace: namespace.into(),
            name: service.into(),
        });
    }
    let ports = spec.ports.unwrap_or_default();
    let Some(svc_port) = ports.iter().find(|p| p.port == i32::from(port)) else {
        return Err(ForwardError::NoPort {
            namespace: namespace.into(),
            name: service.into(),
            port,
            known: ports
                .iter()
                .map(|p| p.port.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let target = svc_port
        .target_port
        .clone()
        .unwrap_or(IntOrString::Int(svc_port.port));

    let label_selector = selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let list = pods
        .list(&ListParams::default().labels(&label_selector))
        .await
        .map_err(|source| ForwardError::Pods {
            namespace: namespace.into(),
            name: service.into(),
            source,
        })?;
    let Some(pod) = list.items.into_iter().find(is_ready) else {
        return Err(ForwardError::NoReadyPod {
            namespace: namespace.into(),
            name: service.into(),
            selector: label_selector,
        });
    };
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let port = match target {
        IntOrString::Int(n) => u16::try_from(n).unwrap_or(port),
        IntOrString::String(name) => {
            container_port(&pod, &name).ok_or(ForwardError::NamedPort {
                pod: pod_name.clone(),
                port: name,
            })?
        }
    };
    Ok(Backend {
        pod: pod_name,
        port,
    })
}

/// Port-forwards `namespace/service:port` to an ephemeral port on 127.0.0.1.
pub async fn forward(
    client: Client,
    namespace: &str,
    service: &str,
    port: u16,
) -> Result<PortForward, ForwardError> {
    let backend = resolve(client.clone(), namespace, service, port).await?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(ForwardError::Listen)?;
    let local = listener.local_addr().map_err(ForwardError::Listen)?;
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let pod = backend.pod.clone();
    let task = tokio::spawn(async move {
        let mut bridges = tokio::task::JoinSet::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let pods = pods.clone();
            let pod = pod.clone();
            let remote_port = backend.port;
            // One API-server stream per connection, as kubectl does.
            bridges.spawn(async move {
                let Ok(mut forwarder) = pods.portforward(&pod, &[remote_port]).await else {
                    return;
                };
                let Some(mut upstream) = forwarder.take_stream(remote_port) else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut socket, &mut upstream).await;
                drop(upstream);
                let _ = forwarder.join().await;
            });
        }
        // Dropping the JoinSet aborts the bridges still running.
    });
    Ok(PortForward { local, task })
}

fn is_ready(pod: &Pod) -> bool {
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let status = pod.status.as_ref();
    let running = status.and_then(|s| s.phase.as_deref()) == Some("Running");
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    running && ready && !terminating
}

fn container_port(pod: &Pod, name: &str) -> Option<u16> {
    pod.spec
        .as_ref()?
        .containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| u16::try_from(p.container_port).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn client(server: &MockServer) -> Client {
        let config = kube::Config::new(server.uri().parse().unwrap());
        Client::try_from(config).unwrap()
    }

    fn pod(name: &str, ready: bool) -> serde_json::Value {
        json!({
            "metadata": {"name": name, "namespace": "monitoring"},
            "spec": {"containers": [{"name": "grafana", "ports": [{"name": "grafana", "containerPort": 3000}]}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
        })
    }

    #[tokio::test]
    async fn a_named_target_port_resolves_on_a_ready_pod() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/namespaces/monitoring/services/grafana"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "metadata": {"name": "grafana"},
                "spec": {"selector": {"app.kubernetes.io/name": "grafana"},
                         "ports": [{"port": 80, "targetPort": "grafana"}]},
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/namespaces/monitoring/pods"))
            .and(query_param(
                "labelSelector",
                "app.kubernetes.io/name=grafana",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "metadata": {}, "items": [pod("grafana-old", false), pod("grafana-abc", true)],
            })))
            .mount(&server)
            .await;
        let backend = resolve(client(&server).await, "monitoring", "grafana", 80)
            .await
            .unwrap();
        assert_eq!(
            backend,
            Backend {
                pod: "grafana-abc".into(),
                port: 3000
            }
        );
        let err = resolve(client(&server).await, "monitoring", "grafana", 8080)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Service monitoring/grafana has no port 8080 (it has 80)"
        );
    }

    #[tokio::test]
    async fn a_service_without_ready_pods_is_named() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/namespaces/monitoring/services/loki-gateway"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "metadata": {"name": "loki-gateway"},
                "spec": {"selector": {"app": "gw"}, "ports": [{"port": 80, "targetPort": 8080}]},
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/namespaces/monitoring/pods"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "metadata": {}, "items": [pod("gw-1", false)],
            })))
            .mount(&server)
            .await;
        let err = forward(client(&server).await, "monitoring", "loki-gateway", 80)
            .await
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "Service monitoring/loki-gateway has no ready pod (app=gw)"
        );
    }

    #[tokio::test]
    async fn a_missing_service_is_an_error_naming_it() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": "services \"tempo\" not found", "reason": "NotFound", "code": 404,
            })))
            .mount(&server)
            .await;
        let err = resolve(client(&server).await, "monitoring", "tempo", 3200)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "reading Service monitoring/tempo: 404 NotFound: services \"tempo\" not found"
        );
    }
}
