//! Rules that span several keys (one key alone is checked by its type while loading). Each rule
//! reports at the key the user has to change, and says what would be right.

use super::{position, LogsMode, ObjectStorage, Problem, Stack};
use crate::yaml::Node;

/// Collects every broken rule, so one run shows them all.
pub(super) fn check(stack: &Stack, root: &Node) -> Vec<Problem> {
    let mut problems = Problems {
        root,
        list: Vec::new(),
    };
    check_metrics(stack, &mut problems);
    check_logs(stack, &mut problems);
    check_traces(stack, &mut problems);
    check_grafana(stack, &mut problems);
    check_collector(stack, &mut problems);
    check_chart_overrides(stack, &mut problems);
    problems.list.extend(super::slo::check_slos(stack, root));
    for (path, message) in super::workload::check(stack) {
        problems.add(&path, message);
    }
    problems.list
}

struct Problems<'a> {
    root: &'a Node,
    list: Vec<Problem>,
}

impl Problems<'_> {
    fn add(&mut self, path: &[&str], message: impl Into<String>) {
        self.list.push(Problem {
            pos: position(self.root, path),
            path: path.join("."),
            message: message.into(),
        });
    }
}

fn check_metrics(stack: &Stack, p: &mut Problems) {
    let m = &stack.metrics;
    if m.replicas == 0 {
        p.add(
            &["metrics", "replicas"],
            "expected at least 1 replica (disable metrics with `enabled: false` instead)",
        );
    }
    if m.storage.bytes() < (1 << 30) {
        p.add(
            &["metrics", "storage"],
            format!(
                "`{}` is too small for a Prometheus volume; expected at least `1Gi`",
                m.storage
            ),
        );
    }
    if m.scrape_interval.as_secs() == 0 {
        p.add(
            &["metrics", "scrapeInterval"],
            "expected a positive interval such as `30s`",
        );
    }
    if m.retention.as_secs() < 2 * 3600 {
        p.add(
            &["metrics", "retention"],
            format!(
                "`{}` is shorter than one 2h TSDB block; expected at least `2h`",
                m.retention
            ),
        );
    }
    if let Some(rw) = &m.remote_write {
        if !(rw.url.starts_with("http://") || rw.url.starts_with("https://")) {
            p.add(&["metrics", "remoteWrite", "url"], format!("`{}` is not an http(s) URL; expected e.g. `https://mimir.example.com/api/v1/push`", rw.url));
        }
    }
    if stack.alertmanager.enabled && stack.alertmanager.replicas == 0 {
        p.add(
            &["alertmanager", "replicas"],
            "expected at least 1 replica (disable Alertmanager with `enabled: false` instead)",
        );
    }
}

fn check_logs(stack: &Stack, p: &mut Problems) {
    let logs = &stack.logs;
    if !logs.enabled {
        return;
    }
    match (logs.mode, &logs.object_storage) {
        (LogsMode::Distributed, None) => p.add(
            &["logs", "mode"],
            "distributed Loki needs object storage: add `logs.objectStorage` (endpoint, buckets, credentialsSecret) or use `mode: monolithic`",
        ),
        (LogsMode::Monolithic, None) if logs.replicas > 1 => p.add(
            &["logs", "replicas"],
            format!(
                "{} monolithic Loki replicas need object storage (a filesystem volume serves one replica); add `logs.objectStorage` or set `replicas: 1`",
                logs.replicas
            ),
        ),
        _ => {}
    }
    if logs.replicas == 0 {
        p.add(
            &["logs", "replicas"],
            "expected at least 1 replica (disable logs with `enabled: false` instead)",
        );
    }
    if logs.retention.as_secs() < 86_400 {
        p.add(
            &["logs", "retention"],
            format!(
                "`{}` is shorter than Loki's 24h index period; expected at least `24h`",
                logs.retention
            ),
        );
    }
    if let Some(store) = &logs.object_storage {
        check_object_storage(store, &["logs", "objectStorage"], p);
        for (bucket, value) in [
            ("chunks", &store.buckets.chunks),
            ("ruler", &store.buckets.ruler),
        ] {
            if value.is_none() {
                p.add(
                    &["logs", "objectStorage", "buckets"],
                    format!("Loki needs a `{bucket}` bucket name; pick your own (Loki's docs warn against the default names on real S3)"),
                );
            }
        }
    }
    if let Some(tenant) = &logs.tenant {
        if tenant.is_empty() || tenant.contains(['/', '\\']) || tenant == "." || tenant == ".." {
            p.add(
                &["logs", "tenant"],
                "expected a tenant id: letters, digits and `-_.`, not empty",
            );
        }
    }
    if let Some(caches) = &logs.caches {
        for (key, q) in [("chunks", &caches.chunks), ("results", &caches.results)] {
            if q.mib() < 64 {
                p.add(
                    &["logs", "caches", key],
                    format!("`{q}` is too small for memcached; expected at least `64Mi`"),
                );
            }
        }
    }
}

fn check_traces(stack: &Stack, p: &mut Problems) {
    let traces = &stack.traces;
    if !traces.enabled {
        return;
    }
    if let Some(store) = &traces.object_storage {
        check_object_storage(store, &["traces", "objectStorage"], p);
        if store.buckets.traces.is_none() {
            p.add(
                &["traces", "objectStorage", "buckets"],
                "Tempo needs a `traces` bucket name",
            );
        }
    }
    if let Some(kafka) = &traces.kafka {
        if traces.object_storage.is_none() {
            p.add(
                &["traces", "kafka"],
                "tempo-distributed (selected by `kafka`) needs object storage: add `traces.objectStorage` or remove `kafka` for the single-binary chart",
            );
        }
        let valid = kafka
            .address
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid {
            p.add(&["traces", "kafka", "address"], format!("`{}` is not a broker address; expected `host:port`, e.g. `kafka.kafka.svc:9092`", kafka.address));
        }
    }
    if traces.metrics_generator && !stack.metrics.enabled {
        p.add(
            &["traces", "metricsGenerator"],
            "the metrics generator writes to Prometheus, which this profile disables; set `metricsGenerator: false` or enable metrics",
        );
    }
}

fn check_object_storage(store: &ObjectStorage, at: &[&str], p: &mut Problems) {
    if !(store.endpoint.starts_with("http://") || store.endpoint.starts_with("https://")) {
        let mut path = at.to_vec();
        path.push("endpoint");
        p.add(
            &path,
            format!(
                "`{}` is not an http(s) URL; expected e.g. `https://s3.eu-west-1.amazonaws.com`",
                store.endpoint
            ),
        );
    }
}

fn check_grafana(stack: &Stack, p: &mut Problems) {
    if let Some(url) = &stack.grafana.url {
        if let Some(why) = crate::profile::slo::check::base_url_problem(url) {
            p.add(
                &["grafana", "url"],
                format!("`{url}` {why}; expected Grafana's external address, e.g. `https://grafana.example.org`"),
            );
        }
    }
    if let Some(url) = &stack.runbooks.base_url {
        if let Some(why) = crate::profile::slo::check::base_url_problem(url) {
            p.add(
                &["runbooks", "baseUrl"],
                format!("`{url}` {why}; expected the address of the folder the rendered runbooks are published in, e.g. `https://github.com/acme/ops/blob/main/runbooks`"),
            );
        }
    }
    if let Some(size) = &stack.grafana.persistence {
        if size.mib() < 100 {
            p.add(
                &["grafana", "persistence"],
                format!("`{size}` is too small for Grafana's database; expected at least `1Gi`"),
            );
        }
    }
}

/// A collector pipeline needs somewhere to send: the stack's own backend or an explicit endpoint.
fn check_collector(stack: &Stack, p: &mut Problems) {
    let c = &stack.collector;
    if !c.enabled {
        return;
    }
    for (signal, pipeline, backend_on) in [
        ("logs", &c.logs, stack.logs.enabled),
        ("traces", &c.traces, stack.traces.enabled),
    ] {
        if pipeline.enabled == Some(true) && !backend_on && pipeline.endpoint.is_none() {
            p.add(
                &["collector", signal, "enabled"],
                format!("the collector would send {signal} to the stack's {signal} backend, which this profile disables; enable `{signal}`, give `collector.{signal}.endpoint`, or set this to false"),
            );
        }
    }
    if let Some(url) = &c.logs.endpoint {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            p.add(&["collector", "logs", "endpoint"], format!("`{url}` is not an http(s) URL; expected Loki's OTLP base URL, e.g. `https://loki.example.com/otlp`"));
        }
    }
    if let Some(addr) = &c.traces.endpoint {
        let ok = addr.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok()
        });
        if !ok {
            p.add(&["collector", "traces", "endpoint"], format!("`{addr}` is not an OTLP gRPC address; expected `host:port`, e.g. `tempo.example.com:4317`"));
        }
    }
}

/// A chart override Helm would only refuse at install time: the version must be semver (what
/// Helm's `--version` matches exactly), the repository `https://` or `oci://`.
fn check_chart_overrides(stack: &Stack, problems: &mut Problems) {
    let charts = [
        ("metrics", stack.metrics.chart.as_ref()),
        ("logs", stack.logs.chart.as_ref()),
        ("traces", stack.traces.chart.as_ref()),
        ("collector", stack.collector.chart.as_ref()),
    ];
    for (component, chart) in charts {
        let Some(chart) = chart else { continue };
        if let Some(version) = &chart.version {
            if !is_semver(version) {
                problems.add(
                    &[component, "chart", "version"],
                    format!("`{version}` is not a chart version: expected semver MAJOR.MINOR.PATCH, e.g. `88.5.3`"),
                );
            }
        }
        if let Some(repo) = &chart.repo {
            let host_after = |scheme: &str| {
                repo.strip_prefix(scheme)
                    .filter(|rest| !rest.is_empty() && !rest.starts_with('/'))
            };
            // Plain http only for a repository on this machine (a local mirror, a test server):
            // nothing else can tamper with the charts on the way.
            let loopback = host_after("http://").is_some_and(|rest| {
                let host = rest.split(['/', ':']).next().unwrap_or_default();
                host == "localhost" || host == "127.0.0.1" || rest.starts_with("[::1]")
            });
            let scheme_ok = host_after("https://").is_some() || host_after("oci://").is_some();
            if !scheme_ok && !loopback {
                problems.add(
                    &[component, "chart", "repo"],
                    format!("`{repo}` is not a chart repository: expected an `https://` URL or an `oci://` registry path (plain `http://` only on localhost)"),
                );
            }
        }
    }
}

/// `MAJOR.MINOR.PATCH`, an optional `-pre.release` and `+build` (semver 2.0), an optional `v`.
fn is_semver(text: &str) -> bool {
    let text = text.strip_prefix('v').unwrap_or(text);
    let (core, _build) = text.split_once('+').unwrap_or((text, ""));
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| {
        !p.is_empty()
            && p.chars().all(|c| c.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
    };
    numbers.len() == 3
        && numbers.iter().all(numeric)
        && pre.is_none_or(|p| {
            p.split('.').all(|id| {
                !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        })
}

#[cfg(test)]
mod chart_override_tests {
    use super::is_semver;

    #[test]
    fn semver_versions_only() {
        for ok in ["88.5.3", "0.170.0", "v1.2.3", "1.2.3-rc.1", "1.2.3+build.5"] {
            assert!(is_semver(ok), "{ok}");
        }
        for bad in ["latest", "88.5", "88.5.x", "1.02.3", "", "1.2.3-", "~1.2.3"] {
            assert!(!is_semver(bad), "{bad}");
        }
    }
}
