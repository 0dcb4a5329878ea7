//! The stack `obsctl verify` checks, for tests and the benchmark: real Prometheus and
//! Alertmanager (from scripts/install-tools.sh) on loopback ephemeral ports, and wiremock fakes of
//! Grafana, Loki, Tempo and the Kubernetes API that follow the documented APIs — with their
//! failure modes switchable, and set delays (per request, and before pushed data is readable).
//! Every process is killed and every temporary file removed on drop.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
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
pub use common::tool;

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

/// Real Prometheus and Alertmanager: Prometheus scrapes itself, Alertmanager and the fake
/// Tempo's generated series; loads a rule file with the Watchdog; sends to that Alertmanager;
/// runs with the remote-write receiver and exemplar storage.
pub struct Monitoring {
    pub prometheus: Proc,
    pub alertmanager: Proc,
    pub prometheus_url: String,
    pub alertmanager_url: String,
    _dir: tempfile::TempDir,
}

pub const RULES: &str = r#"groups:
- name: general.rules
  rules:
  - alert: Watchdog
    expr: vector(1)
    labels: {severity: none}
    annotations:
      description: meant to ensure that the entire alerting pipeline is functional
- name: obsctl-test.rules
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
"#;

impl Monitoring {
    /// `generated_metrics`: an address serving Tempo's generated series (`/metrics`), scraped too.
    /// `more_rules`: another rule file to load (obsctl's SLO rules).
    pub async fn start(generated_metrics: Option<&str>, more_rules: Option<&str>) -> Monitoring {
        let dir = tempfile::tempdir().unwrap();
        let prom_port = free_port();
        let am_port = free_port();
        std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
        std::fs::write(
            dir.path().join("more-rules.yml"),
            more_rules.unwrap_or("groups: []\n"),
        )
        .unwrap();
        let mut scrape = format!(
            r#"scrape_configs:
- job_name: prometheus
  static_configs: [{{targets: ["127.0.0.1:{prom_port}"], labels: {{namespace: {NAMESPACE}}}}}]
- job_name: alertmanager
  static_configs: [{{targets: ["127.0.0.1:{am_port}"], labels: {{namespace: {NAMESPACE}}}}}]
"#
        );
        if let Some(addr) = generated_metrics {
            scrape.push_str(&format!(
                r#"- job_name: tempo-metrics-generator
  honor_labels: true
  static_configs: [{{targets: ["{addr}"], labels: {{namespace: {NAMESPACE}}}}}]
"#
            ));
        }
        let config = format!(
            r#"global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [rules.yml, more-rules.yml]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{am_port}"]}}]}}]
{scrape}"#
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        std::fs::write(
            dir.path().join("alertmanager.yml"),
            "route: {receiver: 'null', group_wait: 0s}\nreceivers: [{name: 'null'}]\n",
        )
        .unwrap();

        let am_log = dir.path().join("alertmanager.log");
        let alertmanager = Proc {
            child: Command::new(tool("alertmanager"))
                .arg(format!(
                    "--config.file={}",
                    dir.path().join("alertmanager.yml").display()
                ))
                .arg(format!(
                    "--storage.path={}",
                    dir.path().join("am-data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
                // No gossip: a single Alertmanager reports cluster status "disabled".
                .arg("--cluster.listen-address=")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&am_log).unwrap())
                .spawn()
                .expect("alertmanager starts"),
            name: "alertmanager",
            log: am_log,
        };
        let prom_log = dir.path().join("prometheus.log");
        let prometheus = Proc {
            child: Command::new(tool("prometheus"))
                .current_dir(dir.path())
                .arg(format!(
                    "--config.file={}",
                    dir.path().join("prometheus.yml").display()
                ))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("prom-data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
                .arg("--web.enable-remote-write-receiver")
                .arg("--enable-feature=exemplar-storage")
                // A fresh Prometheus may fire before it has discovered the Alertmanager; resend
                // soon rather than after the default minute.
                .arg("--rules.alert.resend-delay=1s")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&prom_log).unwrap())
                .spawn()
                .expect("prometheus starts"),
            name: "prometheus",
            log: prom_log,
        };
        let mut m = Monitoring {
            prometheus_url: format!("http://127.0.0.1:{prom_port}"),
            alertmanager_url: format!("http://127.0.0.1:{am_port}"),
            prometheus,
            alertmanager,
            _dir: dir,
        };
        wait_ready(
            &format!("{}/-/ready", m.alertmanager_url),
            &mut m.alertmanager,
        )
        .await;
        wait_ready(&format!("{}/-/ready", m.prometheus_url), &mut m.prometheus).await;
        m.wait_targets_up().await;
        m
    }

    /// Waits (bounded) until Prometheus has scraped its targets once: a fresh Prometheus lists no
    /// target for its first seconds.
    async fn wait_targets_up(&self) {
        let client = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            let url = format!("{}/api/v1/targets?state=active", self.prometheus_url);
            if let Ok(r) = client.get(&url).send().await {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                let targets = v["data"]["activeTargets"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if targets.len() >= 2 && targets.iter().all(|t| t["health"] == "up") {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("Prometheus' targets never came up");
    }
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
        let state = Arc::new(Mutex::new(State::default()));
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

/// The datasources as Grafana holds them after provisioning the rendered values: `$$` expanded to
/// `$`, numeric ids added, read-only.
fn provisioned_datasources(b: &Behaviour) -> Vec<Value> {
    let profile = obsctl::profile::load(PROFILE).unwrap();
    let rendered = obsctl::render::render(&profile).unwrap();
    let kps =
        serde_json::to_value(&rendered.release("kube-prometheus-stack").unwrap().values).unwrap();
    let text = serde_json::to_string(&kps["grafana"]["additionalDataSources"]).unwrap();
    let mut list: Vec<Value> = serde_json::from_str(&text.replace("$$", "$")).unwrap();
    for (i, ds) in list.iter_mut().enumerate() {
        ds["id"] = json!(i + 1);
        ds["orgId"] = json!(1);
        ds["readOnly"] = json!(true);
        if let Some(s) = ds.as_object_mut() {
            s.remove("secureJsonData");
        }
    }
    if let Some((uid, pointer, value)) = &b.link_override {
        let ds = list.iter_mut().find(|d| d["uid"] == uid.as_str()).unwrap();
        *ds.pointer_mut(pointer).expect("the overridden link exists") = value.clone();
    }
    list
}

fn query_params(req: &Request) -> BTreeMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Evaluates the LogQL obsctl sends: one stream selector of `k="v"` / `k=~".+"` matchers and an
/// optional `|= "text"` line filter.
fn logql_matches(query: &str, labels: &BTreeMap<String, String>, line: &str) -> bool {
    let Some(open) = query.find('{') else {
        return false;
    };
    let Some(close) = query.find('}') else {
        return false;
    };
    for matcher in query[open + 1..close].split(',') {
        let matcher = matcher.trim();
        if let Some((k, v)) = matcher.split_once("=~") {
            let v = v.trim_matches('"');
            let present = labels.get(k.trim()).is_some_and(|x| !x.is_empty());
            if !(v == ".+" && present) {
                return false;
            }
        } else if let Some((k, v)) = matcher.split_once('=') {
            if labels.get(k.trim()).map(String::as_str) != Some(v.trim_matches('"')) {
                return false;
            }
        }
    }
    match query[close..].split_once("|=") {
        Some((_, filter)) => line.contains(filter.trim().trim_matches('"')),
        None => true,
    }
}

/// Loki: `/ready`, `/loki/api/v1/push`, `/loki/api/v1/query_range`. `prefix` is Grafana's proxy path.
fn loki_answer(
    state: &Mutex<State>,
    b: &Behaviour,
    req: &Request,
    prefix: Option<&str>,
) -> ResponseTemplate {
    let path = req.url.path();
    let path = prefix.map_or(path, |p| path.strip_prefix(p).unwrap_or(path));
    match (req.method.as_str(), path) {
        ("GET", "/ready") if b.loki_gateway => {
            ResponseTemplate::new(404).set_body_string("<html>404 Not Found</html>")
        }
        ("GET", "/ready") => ResponseTemplate::new(200).set_body_string("ready\n"),
        ("GET", "/loki/api/v1/status/buildinfo") => ResponseTemplate::new(200)
            .set_body_json(json!({"version": "3.7.6", "revision": "abc", "branch": "HEAD"})),
        ("POST", "/loki/api/v1/push") => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => return ResponseTemplate::new(400).set_body_string(e.to_string()),
            };
            if b.loki_push_status != 204 {
                return ResponseTemplate::new(b.loki_push_status);
            }
            let mut s = state.lock().unwrap();
            for stream in body["streams"].as_array().into_iter().flatten() {
                for value in stream["values"].as_array().into_iter().flatten() {
                    // Loki's documented trap: a numeric timestamp is a 400.
                    let Some(ts) = value[0].as_str() else {
                        return ResponseTemplate::new(400)
                            .set_body_string("timestamp must be a string");
                    };
                    let mut labels: BTreeMap<String, String> =
                        serde_json::from_value(stream["stream"].clone()).unwrap_or_default();
                    // Structured metadata shows up among the stream labels of query answers.
                    for (k, v) in value[2].as_object().into_iter().flatten() {
                        labels.insert(k.clone(), v.as_str().unwrap_or("").to_string());
                    }
                    s.lines.push(LogLine {
                        visible_at: Instant::now() + b.loki_ingest,
                        labels,
                        ts: ts.to_string(),
                        line: value[1].as_str().unwrap_or("").to_string(),
                    });
                }
            }
            ResponseTemplate::new(204)
        }
        ("GET", "/loki/api/v1/query_range") => {
            let params = query_params(req);
            let query = params.get("query").cloned().unwrap_or_default();
            let now = Instant::now();
            let s = state.lock().unwrap();
            let result: Vec<Value> = s
                .lines
                .iter()
                .filter(|l| l.visible_at <= now && logql_matches(&query, &l.labels, &l.line))
                .map(|l| json!({"stream": l.labels, "values": [[l.ts, l.line]]}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "status": "success",
                "data": {"resultType": "streams", "result": result, "stats": {}},
            }))
        }
        _ => ResponseTemplate::new(404).set_body_string("404 page not found\n"),
    }
}

fn b64(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Tempo: `/ready`, OTLP/HTTP `/v1/traces`, `/api/v2/traces/<id>` (ids answered base64, as
/// Tempo does), and `/metrics` with the series its metrics generator would write.
fn tempo_answer(
    state: &Mutex<State>,
    b: &Behaviour,
    req: &Request,
    prefix: Option<&str>,
) -> ResponseTemplate {
    let path = req.url.path();
    let path = prefix.map_or(path, |p| path.strip_prefix(p).unwrap_or(path));
    match (req.method.as_str(), path) {
        ("GET", "/ready") => ResponseTemplate::new(200).set_body_string("ready\n"),
        ("POST", "/v1/traces") => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => return ResponseTemplate::new(400).set_body_string(e.to_string()),
            };
            let mut s = state.lock().unwrap();
            for rs in body["resourceSpans"].as_array().into_iter().flatten() {
                let service = rs["resource"]["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["key"] == "service.name")
                    .and_then(|a| a["value"]["stringValue"].as_str())
                    .unwrap_or("unknown_service")
                    .to_string();
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for span in ss["spans"].as_array().into_iter().flatten() {
                        let trace_id = span["traceId"].as_str().unwrap_or("").to_lowercase();
                        let span_id = span["spanId"].as_str().unwrap_or("").to_lowercase();
                        // OTLP/JSON ids are hex; anything else is a bad request.
                        if trace_id.len() != 32 || span_id.len() != 16 {
                            return ResponseTemplate::new(400).set_body_json(
                                json!({"code": 3, "message": "invalid trace or span id"}),
                            );
                        }
                        s.spans.push(Span {
                            visible_at: Instant::now() + b.tempo_ingest,
                            trace_id,
                            span_id,
                            service: service.clone(),
                        });
                    }
                }
            }
            ResponseTemplate::new(200).set_body_json(json!({}))
        }
        ("GET", p) if p.starts_with("/api/v2/traces/") => {
            let id = p.trim_start_matches("/api/v2/traces/").to_lowercase();
            let now = Instant::now();
            let s = state.lock().unwrap();
            let spans: Vec<&Span> = s
                .spans
                .iter()
                .filter(|x| x.trace_id == id && x.visible_at <= now)
                .collect();
            if spans.is_empty() {
                return ResponseTemplate::new(404).set_body_string("trace not found\n");
            }
            let resource_spans: Vec<Value> = spans
                .iter()
                .map(|x| {
                    json!({
                        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": x.service}}]},
                        "scopeSpans": [{"scope": {"name": "obsctl"}, "spans": [{
                            "traceId": b64(&x.trace_id), "spanId": b64(&x.span_id), "name": "obsctl verify", "kind": "SPAN_KIND_SERVER",
                        }]}],
                    })
                })
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"trace": {"resourceSpans": resource_spans}}))
        }
        ("GET", "/metrics") => {
            let s = state.lock().unwrap();
            let mut text = String::from("# TYPE traces_spanmetrics_calls_total counter\n");
            for (i, x) in s.spans.iter().enumerate() {
                text.push_str(&format!(
                    "traces_spanmetrics_calls_total{{service=\"{}\",span_name=\"obsctl verify\",n=\"{i}\"}} 1\n",
                    x.service
                ));
            }
            ResponseTemplate::new(200).set_body_raw(text, "text/plain; version=0.0.4")
        }
        _ => ResponseTemplate::new(404).set_body_string("404 page not found\n"),
    }
}

fn authorized(req: &Request) -> bool {
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{GRAFANA_USER}:{GRAFANA_PASSWORD}"))
    );
    req.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == want || v == "Bearer glsa_test_token")
}

/// Grafana: `/api/health`, `/api/datasources[/uid/<uid>[/health]]`, and the datasource proxy to
/// the fake Loki and Tempo.
fn grafana_answer(
    state: &Mutex<State>,
    b: &Behaviour,
    datasources: &[Value],
    req: &Request,
) -> ResponseTemplate {
    let path = req.url.path();
    if path == "/api/health" {
        return ResponseTemplate::new(200)
            .set_body_json(json!({"commit": "abc123", "database": "ok", "version": "12.1.0"}));
    }
    if b.grafana_rejects_credentials || !authorized(req) {
        return ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthorized"}));
    }
    if path == "/api/datasources" {
        return ResponseTemplate::new(200).set_body_json(datasources);
    }
    if let Some(rest) = path.strip_prefix("/api/datasources/proxy/uid/") {
        let (uid, _) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = format!("/api/datasources/proxy/uid/{uid}");
        return match datasources
            .iter()
            .find(|d| d["uid"] == uid)
            .and_then(|d| d["type"].as_str())
        {
            Some("loki") => loki_answer(state, b, req, Some(&prefix)),
            Some("tempo") => tempo_answer(state, b, req, Some(&prefix)),
            Some(_) => ResponseTemplate::new(502),
            None => ResponseTemplate::new(404)
                .set_body_json(json!({"message": "Data source not found"})),
        };
    }
    if let Some(rest) = path.strip_prefix("/api/datasources/uid/") {
        let (uid, health) = match rest.strip_suffix("/health") {
            Some(uid) => (uid, true),
            None => (rest, false),
        };
        let Some(ds) = datasources.iter().find(|d| d["uid"] == uid) else {
            return ResponseTemplate::new(404)
                .set_body_json(json!({"message": "Data source not found"}));
        };
        if !health {
            return ResponseTemplate::new(200).set_body_json(ds);
        }
        let answer = if b.unhealthy.iter().any(|u| u == uid) {
            ResponseTemplate::new(400).set_body_json(json!({
                "status": "ERROR",
                "message": format!("Unable to connect with {}. Please check the server logs for more details.", ds["name"].as_str().unwrap_or(uid)),
            }))
        } else {
            ResponseTemplate::new(200).set_body_json(json!({
                "status": "OK",
                "message": "Data source successfully connected.",
            }))
        };
        return answer.set_delay(b.grafana_health + b.latency);
    }
    ResponseTemplate::new(404).set_body_json(json!({"message": "Not found"}))
}

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
fn kube_answer(state: &Mutex<State>, b: &Behaviour, req: &Request) -> ResponseTemplate {
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
