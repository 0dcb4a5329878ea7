//! The stack `obsctl verify` checks, for tests and the benchmark: real Prometheus and
//! Alertmanager (from scripts/install-tools.sh) on loopback ephemeral ports, and wiremock fakes of
//! Grafana, Loki, Tempo and the Kubernetes API that follow the documented APIs — with their
//! failure modes switchable, and set delays (per request, and before pushed data is readable).
//! Every process is killed and every temporary file removed on drop.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The profile the fakes are built from.
pub const PROFILE: &str = "dev";
pub const NAMESPACE: &str = "monitoring";
pub const GRAFANA_USER: &str = "admin";
/// Only ever in the fake Secret: tests assert it never shows in obsctl's output.
pub const GRAFANA_PASSWORD: &str = "s3cret-from-the-secret";

/// Tools come from `.tools/bin` (installed by scripts/install-tools.sh), else PATH.
#[path = "../common/mod.rs"]
mod common;
mod grafana;
mod kube;
mod loki;
mod monitoring;
mod tempo;

use grafana::{grafana_answer, provisioned_datasources};
use kube::kube_answer;
use loki::loki_answer;
use tempo::tempo_answer;

pub use common::tool;
// Not every test file starts the real monitoring.
#[allow(unused_imports)]
pub use monitoring::{slo_rules, Monitoring, Options};

/// A free loopback port (bound, read, released: the process started next binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (and reaped) on drop.
pub struct Proc {
    child: Child,
    pub name: &'static str,
    pub log: PathBuf,
}

impl Proc {
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Like [`wait_ready`], but `false` when the process exited because its port was taken.
pub async fn wait_ready_unless_port_taken(url: &str, proc: &mut Proc) -> bool {
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if let Ok(Some(_)) = proc.child.try_wait() {
            let log = std::fs::read_to_string(&proc.log).unwrap_or_default();
            if log.contains("address already in use") {
                return false;
            }
            break;
        }
        if let Ok(r) = client.get(url).timeout(Duration::from_secs(2)).send().await {
            if r.status().is_success() {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_ready(url, proc).await;
    true
}

/// Waits (bounded) until `url` answers 200.
pub async fn wait_ready(url: &str, proc: &mut Proc) {
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!(
                "{} exited ({status}):\n{}",
                proc.name,
                std::fs::read_to_string(&proc.log).unwrap_or_default()
            );
        }
        if let Ok(r) = client.get(url).timeout(Duration::from_secs(2)).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{} did not become ready at {url}:\n{}",
        proc.name,
        std::fs::read_to_string(&proc.log).unwrap_or_default()
    );
}

/// What the fakes do: defaults are a healthy stack; tests switch one thing off.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// Added to every answer of the fakes.
    pub latency: Duration,
    /// Time before a pushed log line can be read back.
    pub loki_ingest: Duration,
    /// Time before a pushed span can be fetched.
    pub tempo_ingest: Duration,
    /// Extra time Grafana's datasource health checks take (they query the backend).
    pub grafana_health: Duration,
    /// Loki's answer to a push (204 accepts; 260 is a blocked ingester).
    pub loki_push_status: u16,
    /// Datasources whose health check fails (HTTP 400).
    pub unhealthy: Vec<String>,
    /// A provisioned link changed: (uid, JSON pointer into the datasource, new value).
    pub link_override: Option<(String, String, Value)>,
    /// A pod of the stack in CrashLoopBackOff.
    pub crash_loop: bool,
    /// The collector agent ready on one node fewer than it should be.
    pub collector_short: bool,
    /// The collector ships pod logs without the Kubernetes labels.
    pub collector_drops_k8s_labels: bool,
    /// Answer 401 to any Grafana API call except /api/health.
    pub grafana_rejects_credentials: bool,
    /// Loki behind the chart's nginx gateway: no `/ready` route.
    pub loki_gateway: bool,
    /// Loki's and Tempo's `/ready` answer 503 ("waiting for 15s after being ready") for this
    /// long after the first time they are asked (`Duration::MAX`: never ready).
    pub warm_up: Duration,
    /// Tempo's metrics generator stopped before the run: `/metrics` holds only an
    /// `obsctl-verify` span-metrics series with a sample from before it, and new spans make none.
    pub spanmetrics_stale: bool,
    /// Loki answers 204 to pushes but never makes them readable; the only line of obsctl's
    /// stream is one an earlier verify run pushed (another run, another trace id).
    pub loki_loses_pushes: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            latency: Duration::from_millis(0),
            loki_ingest: Duration::from_millis(300),
            tempo_ingest: Duration::from_millis(300),
            grafana_health: Duration::from_millis(0),
            loki_push_status: 204,
            unhealthy: Vec::new(),
            link_override: None,
            crash_loop: false,
            collector_short: false,
            collector_drops_k8s_labels: false,
            grafana_rejects_credentials: false,
            loki_gateway: false,
            warm_up: Duration::ZERO,
            spanmetrics_stale: false,
            loki_loses_pushes: false,
        }
    }
}

/// A log line stored by the fake Loki.
#[derive(Clone, Debug)]
struct LogLine {
    visible_at: Instant,
    labels: BTreeMap<String, String>,
    ts: String,
    line: String,
}

/// A span stored by the fake Tempo.
#[derive(Clone, Debug)]
struct Span {
    visible_at: Instant,
    trace_id: String,
    span_id: String,
    service: String,
}

#[derive(Default)]
struct State {
    /// When the fakes started, unix milliseconds.
    started_ms: u128,
    /// When `/ready` was first asked (the warm-up counts from then).
    first_ready: Option<Instant>,
    lines: Vec<LogLine>,
    spans: Vec<Span>,
    /// Marker pods created (name) and deleted (name).
    created: Vec<String>,
    deleted: Vec<String>,
}

/// Wiremock fakes of Grafana, Loki, Tempo and the Kubernetes API sharing one state (Grafana's
/// datasource proxy reads the same Loki and Tempo), and a kubeconfig pointing at the fake API.
pub struct Fakes {
    pub grafana: MockServer,
    pub loki: MockServer,
    pub tempo: MockServer,
    pub kube: MockServer,
    pub kubeconfig: PathBuf,
    state: Arc<Mutex<State>>,
    _dir: tempfile::TempDir,
}

impl Fakes {
    pub async fn start(behaviour: Behaviour) -> Fakes {
        let state = Arc::new(Mutex::new(State {
            started_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
            ..State::default()
        }));
        if behaviour.loki_loses_pushes {
            let earlier_ns = (state.lock().unwrap().started_ms - 60_000) * 1_000_000;
            state.lock().unwrap().lines.push(LogLine {
                visible_at: Instant::now(),
                labels: BTreeMap::from([
                    ("service_name".to_string(), "obsctl-verify".to_string()),
                    (
                        "trace_id".to_string(),
                        "0af7651916cd43dd8448eb211c80319c".to_string(),
                    ),
                ]),
                ts: earlier_ns.to_string(),
                line: "obsctl verify run=earlier trace_id=0af7651916cd43dd8448eb211c80319c"
                    .to_string(),
            });
        }
        let b = Arc::new(behaviour);
        let datasources = provisioned_datasources(&b);

        let grafana = MockServer::start().await;
        let loki = MockServer::start().await;
        let tempo = MockServer::start().await;
        let kube = MockServer::start().await;

        let (s, bb) = (state.clone(), b.clone());
        Mock::given(any())
            .respond_with(move |req: &Request| loki_answer(&s, &bb, req, None).with_latency(&bb))
            .mount(&loki)
            .await;
        let (s, bb) = (state.clone(), b.clone());
        Mock::given(any())
            .respond_with(move |req: &Request| tempo_answer(&s, &bb, req, None).with_latency(&bb))
            .mount(&tempo)
            .await;
        let (s, bb) = (state.clone(), b.clone());
        Mock::given(any())
            .respond_with(move |req: &Request| {
                grafana_answer(&s, &bb, &datasources, req).with_latency(&bb)
            })
            .mount(&grafana)
            .await;
        let (s, bb) = (state.clone(), b.clone());
        Mock::given(any())
            .respond_with(move |req: &Request| kube_answer(&s, &bb, req).with_latency(&bb))
            .mount(&kube)
            .await;

        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"{}\"}}\n\
                 users:\n- name: fake\n  user: {{token: test-token}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: fake}}\n\
                 current-context: fake\n",
                kube.uri()
            ),
        )
        .unwrap();
        Fakes {
            grafana,
            loki,
            tempo,
            kube,
            kubeconfig,
            state,
            _dir: dir,
        }
    }

    /// Marker pods created and deleted through the fake API.
    pub fn marker_pods(&self) -> (Vec<String>, Vec<String>) {
        let s = self.state.lock().unwrap();
        (s.created.clone(), s.deleted.clone())
    }

    /// The address Prometheus scrapes Tempo's generated series from.
    pub fn generated_metrics_addr(&self) -> String {
        self.tempo.address().to_string()
    }

    /// The verify flags that point at these fakes (Prometheus and Alertmanager are separate).
    pub fn url_args(&self) -> Vec<String> {
        vec![
            "--grafana-url".into(),
            self.grafana.uri(),
            "--loki-url".into(),
            self.loki.uri(),
            "--tempo-url".into(),
            self.tempo.uri(),
            "--tempo-otlp-url".into(),
            self.tempo.uri(),
            "--kubeconfig".into(),
            self.kubeconfig.display().to_string(),
        ]
    }
}

trait WithLatency {
    fn with_latency(self, b: &Behaviour) -> Self;
}

impl WithLatency for ResponseTemplate {
    fn with_latency(self, b: &Behaviour) -> Self {
        if b.latency.is_zero() {
            self
        } else {
            self.set_delay(b.latency)
        }
    }
}

/// `/ready` of Loki and Tempo: 503 during the warm-up, then 200.
fn ready_answer(state: &Mutex<State>, b: &Behaviour) -> ResponseTemplate {
    let first = *state
        .lock()
        .unwrap()
        .first_ready
        .get_or_insert_with(Instant::now);
    if first.elapsed() < b.warm_up {
        ResponseTemplate::new(503)
            .set_body_string("Ingester not ready: waiting for 15s after being ready\n")
    } else {
        ResponseTemplate::new(200).set_body_string("ready\n")
    }
}

fn query_params(req: &Request) -> BTreeMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Runs `obsctl verify --profile dev --output json` with `args` and a clean environment (no
/// Grafana variables, no default kubeconfig); returns (exit code, parsed stdout, stderr, wall).
pub fn run_verify(args: &[String], env: &[(&str, &str)]) -> (i32, Value, String, Duration) {
    run_verify_profile(PROFILE, args, env)
}

/// `run_verify` with another profile.
pub fn run_verify_profile(
    profile: &str,
    args: &[String],
    env: &[(&str, &str)],
) -> (i32, Value, String, Duration) {
    let bin = env!("CARGO_BIN_EXE_obsctl");
    let mut cmd = Command::new(bin);
    cmd.arg("verify")
        .args(["--profile", profile, "--output", "json"])
        .args(args)
        .env_remove("GRAFANA_USER")
        .env_remove("GRAFANA_PASSWORD")
        .env_remove("GRAFANA_TOKEN")
        .env_remove("OBSCTL_PROFILE")
        .env("KUBECONFIG", "/nonexistent/kubeconfig");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("obsctl runs");
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (out.status.code().unwrap_or(-1), json, stderr, wall)
}

/// The check `component/check` of a JSON report.
pub fn check<'a>(report: &'a Value, key: &str) -> &'a Value {
    let (component, name) = key.split_once('/').unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == component && c["check"] == name)
        .unwrap_or_else(|| panic!("no check {key} in {report:#}"))
}

/// Every check that did not pass, for assertion messages.
pub fn not_passed(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .map(|c| {
            format!(
                "{}/{} {}: {}",
                c["component"].as_str().unwrap(),
                c["check"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
                c["detail"].as_str().unwrap()
            )
        })
        .collect()
}

pub fn tmp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
