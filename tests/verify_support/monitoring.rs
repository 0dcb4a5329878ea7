//! Real Prometheus and Alertmanager, started from scripts/install-tools.sh's binaries on loopback
//! ephemeral ports.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{free_port, tool, wait_ready, Proc, NAMESPACE};

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
