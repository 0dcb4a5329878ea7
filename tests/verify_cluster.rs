//! The default path: no `--*-url` flags, so verify reaches Grafana and Loki through the cluster.
//! A small fake API server answers the Service and Pod reads and speaks the API server's
//! port-forward protocol (WebSocket, `v4.channel.k8s.io`: per port a data and an error channel,
//! each opened by a frame carrying the port, little-endian), bridging to wiremock fakes.

mod verify_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use verify_support::{check, not_passed, run_verify, Behaviour, Fakes, NAMESPACE};

/// A Service: its port, target port (a number or a container port name), and the pod behind it.
struct Svc {
    port: u16,
    target: Value,
    pod: &'static str,
    container_port: u16,
    ready: bool,
    /// Where the pod's container port really is (a wiremock fake).
    backend: String,
}

struct Api {
    services: BTreeMap<&'static str, Svc>,
    forwards: AtomicUsize,
}

impl Api {
    fn answer(&self, path: &str, query: &str) -> (u16, Value) {
        let services = format!("/api/v1/namespaces/{NAMESPACE}/services/");
        if let Some(name) = path.strip_prefix(&services) {
            return match self.services.get(name) {
                Some(s) => (
                    200,
                    json!({
                        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NAMESPACE},
                        "spec": {"selector": {"app": name}, "ports": [{"port": s.port, "targetPort": s.target}]},
                    }),
                ),
                None => (
                    404,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                                     "message": format!("services \"{name}\" not found")}),
                ),
            };
        }
        if path == format!("/api/v1/namespaces/{NAMESPACE}/pods") {
            let selector = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("labelSelector="))
                .unwrap_or("")
                .replace("%3D", "=");
            let app = selector.strip_prefix("app=").unwrap_or("");
            let items: Vec<Value> = self
                .services
                .iter()
                .filter(|(name, _)| **name == app)
                .map(|(name, s)| json!({
                    "metadata": {"name": s.pod, "namespace": NAMESPACE, "labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": s.container_port}]}]},
                    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if s.ready {"True"} else {"False"}}]},
                }))
                .collect();
            return (
                200,
                json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}),
            );
        }
        (
            404,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "message": "not found"}),
        )
    }

    fn backend(&self, pod: &str, port: u16) -> Option<String> {
        self.services
            .values()
            .find(|s| s.pod == pod && s.container_port == port)
            .map(|s| s.backend.clone())
    }
}

/// Reads one request head (GETs have no body); `None` at end of stream.
async fn read_head(sock: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn connection(mut sock: TcpStream, api: Arc<Api>) {
    while let Some(head) = read_head(&mut sock).await {
        let mut lines = head.lines();
        let target = lines
            .next()
            .unwrap_or("")
            .split(' ')
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if path.ends_with("/portforward") {
            let pod = path.rsplit('/').nth(1).unwrap_or("").to_string();
            let port: u16 = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("ports="))
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let key = headers
                .get("sec-websocket-key")
                .cloned()
                .unwrap_or_default();
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n",
                derive_accept_key(key.as_bytes())
            );
            if sock.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
            api.forwards.fetch_add(1, Ordering::SeqCst);
            let backend = api.backend(&pod, port);
            forward(sock, port, backend).await;
            return;
        }
        let (status, body) = api.answer(path, query);
        let body = body.to_string();
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if sock.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The pod side of a port-forward: open both channels, then bridge data channel 0 to `backend`.
async fn forward(sock: TcpStream, port: u16, backend: Option<String>) {
    let ws = WebSocketStream::from_raw_socket(sock, Role::Server, None).await;
    let (mut to_client, mut from_client) = ws.split();
    let [lo, hi] = port.to_le_bytes();
    for channel in [0u8, 1] {
        if to_client
            .send(Message::binary(vec![channel, lo, hi]))
            .await
            .is_err()
        {
            return;
        }
    }
    let Some(addr) = backend else {
        let _ = to_client
            .send(Message::binary([&[1u8][..], b"no such port"].concat()))
            .await;
        return;
    };
    let Ok(upstream) = TcpStream::connect(addr).await else {
        return;
    };
    let (mut up_read, mut up_write) = upstream.into_split();
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match up_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let frame = [&[0u8][..], &buf[..n]].concat();
                    if to_client.send(Message::binary(frame)).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_client.close().await;
    };
    let up = async move {
        while let Some(Ok(msg)) = from_client.next().await {
            if msg.is_close() {
                break;
            }
            let data = msg.into_data();
            let to_pod = data.len() > 1 && data[0] == 0;
            if to_pod && up_write.write_all(&data[1..]).await.is_err() {
                break;
            }
        }
    };
    tokio::select! { _ = down => {}, _ = up => {} }
}

async fn start_api(api: Arc<Api>) -> (String, tempfile::TempDir) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(connection(sock, api.clone()));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"http://{addr}\"}}\n\
             users:\n- name: fake\n  user: {{token: t}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: fake}}\n\
             current-context: fake\n"
        ),
    )
    .unwrap();
    (kubeconfig.display().to_string(), dir)
}

fn services(fakes: &Fakes, loki_ready: bool) -> BTreeMap<&'static str, Svc> {
    BTreeMap::from([
        (
            "loki-gateway",
            Svc {
                port: 80,
                target: json!("http"),
                pod: "loki-gateway-7d9c",
                container_port: 8080,
                ready: loki_ready,
                backend: fakes.loki.address().to_string(),
            },
        ),
        (
            "grafana",
            Svc {
                port: 80,
                target: json!(3000),
                pod: "grafana-5f6b",
                container_port: 3000,
                ready: true,
                backend: fakes.grafana.address().to_string(),
            },
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_urls_verify_port_forwards_to_the_services_the_render_names() {
    let fakes = Fakes::start(Behaviour {
        loki_gateway: true,
        ..Behaviour::default()
    })
    .await;
    let api = Arc::new(Api {
        services: services(&fakes, true),
        forwards: AtomicUsize::new(0),
    });
    let (kubeconfig, _dir) = start_api(api.clone()).await;
    let args: Vec<String> = [
        "--only",
        "loki,grafana",
        "--timeout",
        "20s",
        "--kubeconfig",
        &kubeconfig,
    ]
    .map(String::from)
    .to_vec();
    let (code, report, stderr, _) =
        tokio::task::block_in_place(|| run_verify(&args, &[("GRAFANA_TOKEN", "glsa_test_token")]));
    assert_eq!(code, 0, "{:#?}\n{stderr}", not_passed(&report));
    // Reached on ephemeral loopback ports, through the API server's port-forward.
    let ready = check(&report, "loki/ready")["detail"].as_str().unwrap();
    assert!(
        ready.starts_with("Loki 3.7.6 answering at http://127.0.0.1:"),
        "{ready}"
    );
    assert!(ready.ends_with("(a gateway: no /ready route)"), "{ready}");
    assert_eq!(check(&report, "loki/read-back")["status"], "pass");
    assert_eq!(check(&report, "grafana/links")["status"], "pass");
    assert!(api.forwards.load(Ordering::SeqCst) >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_a_ready_pod_fails_its_component_and_names_the_flag() {
    let fakes = Fakes::start(Behaviour::default()).await;
    let api = Arc::new(Api {
        services: services(&fakes, false),
        forwards: AtomicUsize::new(0),
    });
    let (kubeconfig, _dir) = start_api(api.clone()).await;
    let args: Vec<String> = [
        "--only",
        "loki",
        "--timeout",
        "10s",
        "--kubeconfig",
        &kubeconfig,
    ]
    .map(String::from)
    .to_vec();
    let (code, report, _, _) = tokio::task::block_in_place(|| run_verify(&args, &[]));
    assert_eq!(code, 1);
    assert_eq!(
        check(&report, "loki/ready")["detail"],
        "port-forward to svc/loki-gateway.monitoring:80: Service monitoring/loki-gateway has no ready pod (app=loki-gateway) (or pass --loki-url)"
    );
    assert_eq!(check(&report, "loki/push")["detail"], "loki/ready failed");
    assert_eq!(api.forwards.load(Ordering::SeqCst), 0);
}
