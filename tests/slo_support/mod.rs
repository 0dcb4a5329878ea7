//! A real Prometheus for SLO tests: synthetic counters written as OpenMetrics, turned into TSDB
//! blocks by `promtool tsdb create-blocks-from openmetrics`, served by `prometheus` on an ephemeral
//! loopback port and killed on drop.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{obsctl, tool};

/// One counter series: its labels (`metric{...}`) and the increase of every minute.
pub struct Series {
    pub selector: String,
    pub per_minute: Vec<f64>,
}

impl Series {
    /// The total increase over the last `minutes` minutes (what `increase(x[Nm])` sees at the
    /// last sample, with samples exactly one minute apart).
    pub fn increase_over_last(&self, minutes: usize) -> f64 {
        self.per_minute.iter().rev().take(minutes).sum()
    }
}

/// The OpenMetrics family of a sample name, and its type.
fn family(name: &str) -> (&str, &'static str) {
    if let Some(f) = name.strip_suffix("_total") {
        return (f, "counter");
    }
    for suffix in ["_bucket", "_count", "_sum"] {
        if let Some(f) = name.strip_suffix(suffix) {
            return (f, "histogram");
        }
    }
    (name, "gauge")
}

/// Writes `series` as OpenMetrics samples one minute apart, the last at `end` (unix seconds): the
/// first sample is 0 at `end − minutes`. A family's samples are grouped by timestamp, as a
/// histogram's must be.
pub fn write_openmetrics(path: &Path, series: &[Series], end: i64) {
    let mut text = String::new();
    let mut families: Vec<(&str, &str)> = Vec::new();
    for s in series {
        let f = family(s.selector.split('{').next().unwrap());
        if !families.contains(&f) {
            families.push(f);
        }
    }
    for (name, kind) in families {
        writeln!(text, "# TYPE {name} {kind}").unwrap();
        let members: Vec<&Series> = series
            .iter()
            .filter(|s| family(s.selector.split('{').next().unwrap()).0 == name)
            .collect();
        let minutes = members[0].per_minute.len();
        assert!(members.iter().all(|s| s.per_minute.len() == minutes));
        let mut values = vec![0.0; members.len()];
        for i in 0..=minutes {
            let t = end - (minutes - i) as i64 * 60;
            for (s, value) in members.iter().zip(values.iter_mut()) {
                if i > 0 {
                    *value += s.per_minute[i - 1];
                }
                writeln!(text, "{} {value} {t}", s.selector).unwrap();
            }
        }
    }
    text.push_str("# EOF\n");
    fs::write(path, text).unwrap();
}

/// A running Prometheus; killed (and waited for) on drop.
pub struct Prometheus {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Prometheus {
    /// Backfills `openmetrics` into a fresh TSDB and starts Prometheus on it, with `rule_files`
    /// (copied next to its config) evaluated every `eval_interval`. Scrapes nothing.
    pub fn start(openmetrics: &Path, rule_files: &[PathBuf], eval_interval: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        backfill(openmetrics, &data);
        Prometheus::launch(dir, &data, rule_files, eval_interval, "90d", None)
    }

    /// Starts Prometheus on an existing TSDB directory (the caller keeps it), with `rule_files`,
    /// `retention`, and a 1s scrape of `scrape` (`127.0.0.1:PORT`, labels honoured) when given.
    pub fn serve(
        data: &Path,
        rule_files: &[PathBuf],
        eval_interval: &str,
        retention: &str,
        scrape: Option<&str>,
    ) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        Prometheus::launch(dir, data, rule_files, eval_interval, retention, scrape)
    }

    fn launch(
        dir: tempfile::TempDir,
        data: &Path,
        rule_files: &[PathBuf],
        eval_interval: &str,
        retention: &str,
        scrape: Option<&str>,
    ) -> Prometheus {
        let mut names = Vec::new();
        for (i, file) in rule_files.iter().enumerate() {
            let name = format!("rules-{i}.yml");
            fs::copy(file, dir.path().join(&name)).unwrap();
            names.push(name);
        }
        let scrape_configs = match scrape {
            Some(target) => format!(
                "\n  - job_name: live\n    scrape_interval: 1s\n    honor_labels: true\n    static_configs: [{{targets: [\"{target}\"]}}]\n    metric_relabel_configs: [{{action: labeldrop, regex: instance}}]\n"
            ),
            None => " []\n".into(),
        };
        let config = format!(
            "global:\n  evaluation_interval: {eval_interval}\nrule_files: {}\nscrape_configs:{scrape_configs}",
            serde_json::to_string(&names).unwrap()
        );
        fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        // A port can be taken between choosing and binding it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            let mut child = Command::new(tool("prometheus"))
                .arg(format!(
                    "--config.file={}",
                    dir.path().join("prometheus.yml").display()
                ))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                .arg(format!("--storage.tsdb.retention.time={retention}"))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start prometheus");
            if wait_ready(&url, &mut child, Duration::from_secs(60)) {
                return Prometheus {
                    child,
                    url,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("prometheus did not become ready on any port");
    }

    /// An instant query's result, at `time` (unix seconds) or now.
    pub fn query(&self, query: &str, time: Option<i64>) -> Vec<serde_json::Value> {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/query", self.url)).unwrap();
        url.query_pairs_mut().append_pair("query", query);
        if let Some(t) = time {
            url.query_pairs_mut().append_pair("time", &t.to_string());
        }
        let body: serde_json::Value = get(url.as_str())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| panic!("no answer from {url}"));
        assert_eq!(body["status"], "success", "{body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Prometheus' own metrics, as text.
    pub fn metrics(&self) -> String {
        get(&format!("{}/metrics", self.url)).expect("/metrics")
    }

    /// Polls `query` until it returns something, for at most `limit`.
    pub fn wait_for(&self, query: &str, limit: Duration) -> Vec<serde_json::Value> {
        let started = Instant::now();
        loop {
            let result = self.query(query, None);
            if !result.is_empty() {
                return result;
            }
            assert!(
                started.elapsed() < limit,
                "`{query}` returned nothing within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// `promtool tsdb create-blocks-from openmetrics` into `data`.
pub fn backfill(openmetrics: &Path, data: &Path) {
    let out = Command::new(tool("promtool"))
        .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
        .arg(openmetrics)
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool backfill failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A GET with a 10s bound; the body of a 2xx answer.
pub fn get(url: &str) -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        let response = client.get(url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.text().await.ok()
    })
}

fn wait_ready(url: &str, child: &mut Child, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return false; // exited: most likely the port was taken
        }
        if get(&format!("{url}/-/ready")).is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Writes `profile` into `dir` and beside it the Prometheus rule file obsctl generates from it;
/// returns both paths.
pub fn profile_and_rules(dir: &Path, profile: &str) -> (PathBuf, PathBuf) {
    let profile_path = dir.join("profile.yaml");
    fs::write(&profile_path, profile).unwrap();
    let rules = dir.join("rules.yml");
    obsctl()
        .args(["slo", "rules", "--format", "prometheus", "--profile"])
        .arg(&profile_path)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    (profile_path, rules)
}
