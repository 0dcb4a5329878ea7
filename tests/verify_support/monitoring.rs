//! Real Prometheus and Alertmanager, started from scripts/install-tools.sh's binaries on loopback
//! ephemeral ports.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{free_port, tool, wait_ready_unless_port_taken, Proc, NAMESPACE};

/// Real Prometheus and Alertmanager: Prometheus scrapes itself, Alertmanager and the fake
/// Tempo's generated series; loads a rule file with the Watchdog; sends to that Alertmanager;
/// runs with the remote-write receiver and exemplar storage.
pub struct Monitoring {
    pub prometheus: Proc,
    pub alertmanager: Proc,
    pub prometheus_url: String,
    pub alertmanager_url: String,
    /// Processes started again later by the `restart_*_after` methods.
    restarted: Arc<Mutex<Vec<Proc>>>,
    resend_delay: &'static str,
    dir: tempfile::TempDir,
}

/// How to start the monitoring; `Options::default()` is what [`Monitoring::start`] runs.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// An address serving Tempo's generated series (`/metrics`), scraped too.
    pub generated_metrics: Option<&'a str>,
    /// Another rule file to load (obsctl's SLO rules); by default the dev profile's, whose stack
    /// this Prometheus stands for.
    pub more_rules: Option<&'a str>,
    /// More scrape jobs (YAML list items), not waited for at start.
    pub more_scrape: String,
    /// Prometheus' `--rules.alert.resend-delay`.
    pub resend_delay: &'static str,
    /// Whether Prometheus scrapes the Alertmanager (a restarting one is a down target).
    pub scrape_alertmanager: bool,
    /// Where Prometheus sends alerts, when not to this Alertmanager.
    pub alerting_to: Option<String>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            generated_metrics: None,
            more_rules: None,
            more_scrape: String::new(),
            // A fresh Prometheus may fire before it has discovered the Alertmanager; resend
            // soon rather than after the default minute.
            resend_delay: "1s",
            scrape_alertmanager: true,
            alerting_to: None,
        }
    }
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

/// `obsctl slo rules --profile PROFILE --format prometheus`: a rule file Prometheus loads.
pub fn slo_rules(profile: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsctl"))
        .args([
            "slo",
            "rules",
            "--profile",
            profile,
            "--format",
            "prometheus",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Monitoring {
    /// `generated_metrics`: an address serving Tempo's generated series (`/metrics`), scraped too.
    /// `more_rules`: another rule file to load (obsctl's SLO rules).
    pub async fn start(generated_metrics: Option<&str>, more_rules: Option<&str>) -> Monitoring {
        Monitoring::start_with(Options {
            generated_metrics,
            more_rules,
            ..Options::default()
        })
        .await
    }

    pub async fn start_with(options: Options<'_>) -> Monitoring {
        // The dev stack monitors itself: without other rules, its SLO rules are loaded.
        let dev_rules;
        let more_rules = match options.more_rules {
            Some(rules) => rules,
            None => {
                dev_rules = slo_rules("dev");
                dev_rules.as_str()
            }
        };
        // Free ports are picked before the servers bind them; a parallel test can take one in
        // between. That clash is retried with new ports; any other failure panics.
        for _ in 0..5 {
            if let Some(m) = Self::try_start(&options, more_rules).await {
                return m;
            }
        }
        panic!("Prometheus/Alertmanager: ports kept being taken by other tests (5 tries)");
    }

    async fn try_start(options: &Options<'_>, more_rules: &str) -> Option<Monitoring> {
        let generated_metrics = options.generated_metrics;
        let dir = tempfile::tempdir().unwrap();
        let prom_port = free_port();
        let am_port = free_port();
        std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
        std::fs::write(dir.path().join("more-rules.yml"), more_rules).unwrap();
        let mut scrape = format!(
            r#"scrape_configs:
- job_name: prometheus
  static_configs: [{{targets: ["127.0.0.1:{prom_port}"], labels: {{namespace: {NAMESPACE}}}}}]
"#
        );
        if options.scrape_alertmanager {
            scrape.push_str(&format!(
                r#"- job_name: alertmanager
  static_configs: [{{targets: ["127.0.0.1:{am_port}"], labels: {{namespace: {NAMESPACE}}}}}]
"#
            ));
        }
        scrape.push_str(&options.more_scrape);
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
  alertmanagers: [{{static_configs: [{{targets: ["{alerting_to}"]}}]}}]
{scrape}"#,
            alerting_to = options
                .alerting_to
                .clone()
                .unwrap_or_else(|| format!("127.0.0.1:{am_port}"))
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        std::fs::write(
            dir.path().join("alertmanager.yml"),
            "route: {receiver: 'null', group_wait: 0s}\nreceivers: [{name: 'null'}]\n",
        )
        .unwrap();

        let alertmanager = spawn_alertmanager(dir.path(), am_port);
        let prometheus = spawn_prometheus(dir.path(), prom_port, options.resend_delay);
        let mut m = Monitoring {
            prometheus_url: format!("http://127.0.0.1:{prom_port}"),
            alertmanager_url: format!("http://127.0.0.1:{am_port}"),
            prometheus,
            alertmanager,
            restarted: Arc::new(Mutex::new(Vec::new())),
            resend_delay: options.resend_delay,
            dir,
        };
        if !wait_ready_unless_port_taken(
            &format!("{}/-/ready", m.alertmanager_url),
            &mut m.alertmanager,
        )
        .await
            || !wait_ready_unless_port_taken(
                &format!("{}/-/ready", m.prometheus_url),
                &mut m.prometheus,
            )
            .await
        {
            return None;
        }
        m.wait_targets_up().await;
        Some(m)
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
                let own: Vec<&Value> = targets
                    .iter()
                    .filter(|t| {
                        ["prometheus", "alertmanager"]
                            .contains(&t["labels"]["job"].as_str().unwrap_or(""))
                    })
                    .collect();
                if !own.is_empty() && own.iter().all(|t| t["health"] == "up") {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("Prometheus' targets never came up");
    }

    /// Stops the Alertmanager now and starts a fresh one (no alerts) on the same port after
    /// `delay`, in the background.
    pub fn restart_alertmanager_after(&mut self, delay: Duration) {
        self.alertmanager.stop();
        let dir = self.dir.path().to_path_buf();
        let port: u16 = self
            .alertmanager_url
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let slot = self.restarted.clone();
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let _ = std::fs::remove_dir_all(dir.join("am-data"));
            slot.lock().unwrap().push(spawn_alertmanager(&dir, port));
        });
    }

    /// Stops Prometheus now and starts it again (same configuration, empty storage) after
    /// `delay`, in the background: its targets are not scraped yet, its rules not evaluated.
    pub fn restart_prometheus_after(&mut self, delay: Duration) {
        self.prometheus.stop();
        let dir = self.dir.path().to_path_buf();
        let port: u16 = self
            .prometheus_url
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (slot, resend_delay) = (self.restarted.clone(), self.resend_delay);
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let _ = std::fs::remove_dir_all(dir.join("prom-data"));
            slot.lock()
                .unwrap()
                .push(spawn_prometheus(&dir, port, resend_delay));
        });
    }
}

fn spawn_alertmanager(dir: &Path, port: u16) -> Proc {
    let log = dir.join("alertmanager.log");
    Proc {
        child: Command::new(tool("alertmanager"))
            .arg(format!(
                "--config.file={}",
                dir.join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No gossip: a single Alertmanager reports cluster status "disabled".
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("alertmanager starts"),
        name: "alertmanager",
        log,
    }
}

fn spawn_prometheus(dir: &Path, port: u16, resend_delay: &str) -> Proc {
    let log = dir.join("prometheus.log");
    Proc {
        child: Command::new(tool("prometheus"))
            .current_dir(dir)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("prom-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .arg("--enable-feature=exemplar-storage")
            .arg(format!("--rules.alert.resend-delay={resend_delay}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus starts"),
        name: "prometheus",
        log,
    }
}
