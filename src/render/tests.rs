//! The render of every shipped profile: values, manifests, cross-links, determinism.

use std::collections::BTreeMap;

use super::merge::get;
use super::*;
use crate::profile::{load, load_file};

fn rendered(name: &str) -> Rendered {
    render(&load(name).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn from_yaml(text: &str) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, text).unwrap();
    render(&load_file(&path).unwrap()).unwrap()
}

fn values<'a>(r: &'a Rendered, release: &str) -> &'a Value {
    &r.release(release)
        .unwrap_or_else(|| panic!("no release {release}"))
        .values
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let keys: Vec<&str> = path.split('.').collect();
    get(v, &keys).unwrap_or_else(|| panic!("no {path}"))
}

#[test]
fn releases_come_in_dependency_order() {
    let r = rendered("dev");
    let names: Vec<_> = r.releases.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(&names[..3], ["kube-prometheus-stack", "loki", "tempo"]);
    for (i, release) in r.releases.iter().enumerate() {
        for need in &release.needs {
            let j = r
                .releases
                .iter()
                .position(|x| &x.name == need)
                .expect("need exists");
            assert!(j < i, "{} needs {need}, which comes later", release.name);
        }
    }
}

#[test]
fn plan_json_has_exactly_the_contract_fields() {
    let plan = rendered("production").plan_json();
    let keys: Vec<_> = plan.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["profile", "namespace", "releases", "manifests", "runbooks"]
    );
    let release = &plan["releases"][0];
    let keys: Vec<_> = release.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["name", "namespace", "chart", "values", "needs"]);
    assert_eq!(release["chart"]["version"], "88.5.3");
    assert_eq!(
        release["values"],
        "releases/kube-prometheus-stack.values.yaml"
    );
    assert_eq!(
        plan["releases"][1]["chart"]["repo"],
        "https://grafana-community.github.io/helm-charts"
    );
}

#[test]
fn rendering_is_deterministic() {
    for name in crate::profile::builtin_names() {
        let a = files::contents(&rendered(name));
        let b = files::contents(&rendered(name));
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn prometheus_gets_receiver_exemplars_selectors_and_safe_retention_size() {
    let r = rendered("production");
    let spec = at(
        values(&r, "kube-prometheus-stack"),
        "prometheus.prometheusSpec",
    );
    assert_eq!(at(spec, "retention").as_str(), Some("30d"));
    assert_eq!(at(spec, "retentionSize").as_str(), Some("80GiB"));
    assert_eq!(at(spec, "enableRemoteWriteReceiver").as_bool(), Some(true));
    assert_eq!(
        at(spec, "enableFeatures")[0].as_str(),
        Some("exemplar-storage")
    );
    assert_eq!(
        at(
            spec,
            "storageSpec.volumeClaimTemplate.spec.resources.requests.storage"
        )
        .as_str(),
        Some("100Gi")
    );
    for key in [
        "rule",
        "serviceMonitor",
        "podMonitor",
        "probe",
        "scrapeConfig",
    ] {
        assert_eq!(
            at(spec, &format!("{key}SelectorNilUsesHelmValues")).as_bool(),
            Some(false),
            "{key}"
        );
    }
}

#[test]
fn kps_crds_are_left_to_obsctl_and_names_are_stable() {
    let r = rendered("dev");
    let v = values(&r, "kube-prometheus-stack");
    assert_eq!(at(v, "crds.enabled").as_bool(), Some(false));
    assert_eq!(at(v, "fullnameOverride").as_str(), Some("kps"));
    assert_eq!(at(v, "grafana.fullnameOverride").as_str(), Some("grafana"));
}

#[test]
fn grafana_admin_comes_from_the_secret_and_persistence_follows_the_profile() {
    let prod = rendered("production");
    let g = at(values(&prod, "kube-prometheus-stack"), "grafana");
    assert_eq!(
        at(g, "admin.existingSecret").as_str(),
        Some("grafana-admin")
    );
    assert_eq!(at(g, "admin.userKey").as_str(), Some("admin-user"));
    assert_eq!(at(g, "admin.passwordKey").as_str(), Some("admin-password"));
    assert_eq!(at(g, "persistence.enabled").as_bool(), Some(true));
    let dev = rendered("dev");
    assert_eq!(
        at(
            values(&dev, "kube-prometheus-stack"),
            "grafana.persistence.enabled"
        )
        .as_bool(),
        Some(false)
    );
}

#[test]
fn monolithic_loki_avoids_every_chart_trap() {
    let r = rendered("dev");
    let v = values(&r, "loki");
    assert_eq!(at(v, "deploymentMode").as_str(), Some("Monolithic"));
    assert_eq!(at(v, "loki.auth_enabled").as_bool(), Some(false));
    assert_eq!(
        at(v, "loki.commonConfig.replication_factor").as_u64(),
        Some(1)
    );
    assert_eq!(at(v, "loki.storage.type").as_str(), Some("filesystem"));
    let schema = &at(v, "loki.schemaConfig.configs")[0];
    assert_eq!(schema["store"].as_str(), Some("tsdb"));
    assert_eq!(schema["schema"].as_str(), Some("v13"));
    assert_eq!(schema["object_store"].as_str(), Some("filesystem"));
    assert_eq!(schema["index"]["period"].as_str(), Some("24h"));
    assert_eq!(at(v, "singleBinary.replicas").as_u64(), Some(1));
    for target in ["read", "write", "backend"] {
        assert_eq!(
            at(v, &format!("{target}.replicas")).as_u64(),
            Some(0),
            "{target}"
        );
    }
    assert_eq!(at(v, "chunksCache.enabled").as_bool(), Some(false));
    assert_eq!(at(v, "lokiCanary.enabled").as_bool(), Some(false));
    assert_eq!(at(v, "test.enabled").as_bool(), Some(false));
    assert_eq!(
        at(v, "loki.limits_config.retention_period").as_str(),
        Some("168h")
    );
    assert_eq!(
        at(v, "loki.compactor.retention_enabled").as_bool(),
        Some(true)
    );
    assert_eq!(
        at(v, "loki.compactor.delete_request_store").as_str(),
        Some("filesystem")
    );
}

#[test]
fn production_loki_caches_are_sized_by_the_profile() {
    let r = rendered("production");
    let v = values(&r, "loki");
    assert_eq!(at(v, "chunksCache.allocatedMemory").as_u64(), Some(1024));
    assert_eq!(at(v, "resultsCache.allocatedMemory").as_u64(), Some(256));
}

#[test]
fn distributed_loki_runs_on_object_storage_with_secret_credentials() {
    let r = rendered("ha");
    let v = values(&r, "loki");
    assert_eq!(at(v, "deploymentMode").as_str(), Some("Distributed"));
    assert_eq!(at(v, "loki.storage.type").as_str(), Some("s3"));
    assert_eq!(
        at(v, "loki.storage.bucketNames.chunks").as_str(),
        Some("example-obsctl-loki-chunks")
    );
    assert_eq!(
        at(v, "loki.storage.s3.endpoint").as_str(),
        Some("s3.eu-west-1.amazonaws.com")
    );
    assert_eq!(
        at(v, "loki.commonConfig.replication_factor").as_u64(),
        Some(3)
    );
    assert_eq!(at(v, "ingester.replicas").as_u64(), Some(3));
    assert_eq!(at(v, "singleBinary.replicas").as_u64(), Some(0));
    assert_eq!(
        at(v, "defaults.extraEnvFrom")[0]["secretRef"]["name"].as_str(),
        Some("obsctl-object-storage")
    );
    let text = yaml_serde::to_string(v).unwrap();
    assert!(
        !text.contains("secretAccessKey") && !text.contains("accessKeyId"),
        "no credentials in values"
    );
}

#[test]
fn tempo_generator_writes_to_every_prometheus_replica_with_exemplars() {
    let r = rendered("ha");
    let v = values(&r, "tempo");
    assert_eq!(
        r.release("tempo").unwrap().chart.name,
        "tempo",
        "no Kafka: single binary on S3"
    );
    let rw = at(v, "tempo.metricsGenerator.storage.remote_write")
        .as_sequence()
        .unwrap();
    assert_eq!(rw.len(), 2);
    assert_eq!(rw[0]["send_exemplars"].as_bool(), Some(true));
    let processors = at(v, "tempo.overrides.defaults.metrics_generator.processors")
        .as_sequence()
        .unwrap();
    assert_eq!(processors.len(), 3);
    assert_eq!(at(v, "tempo.storage.trace.backend").as_str(), Some("s3"));
    assert_eq!(at(v, "tempo.retention").as_str(), Some("336h"));
    assert_eq!(at(v, "persistence.enabled").as_bool(), Some(true));
}

#[test]
fn kafka_selects_tempo_distributed() {
    let r =
        from_yaml("name: big\nextends: ha\ntraces:\n  kafka:\n    address: kafka.kafka.svc:9092\n");
    let tempo = r.release("tempo").unwrap();
    assert_eq!(tempo.chart.name, "tempo-distributed");
    assert_eq!(tempo.chart.version, "3.3.0");
    assert_eq!(
        at(&tempo.values, "ingest.kafka.address").as_str(),
        Some("kafka.kafka.svc:9092")
    );
    assert_eq!(
        at(
            &tempo.values,
            "backendScheduler.config.provider.compaction.compaction.block_retention"
        )
        .as_str(),
        Some("336h")
    );
    let tempo_ds = at(
        values(&r, "kube-prometheus-stack"),
        "grafana.additionalDataSources",
    )
    .as_sequence()
    .unwrap()
    .iter()
    .find(|d| d["uid"] == "tempo")
    .unwrap()
    .clone();
    assert_eq!(
        tempo_ds["url"].as_str(),
        Some("http://tempo-query-frontend.monitoring.svc.cluster.local:3200")
    );
}

#[test]
fn disabling_a_component_removes_its_release_and_links() {
    let r = from_yaml("name: lean\ntraces:\n  enabled: false\n");
    assert!(r.release("tempo").is_none());
    let ds = at(
        values(&r, "kube-prometheus-stack"),
        "grafana.additionalDataSources",
    );
    let text = yaml_serde::to_string(ds).unwrap();
    assert!(
        !text.contains("uid: tempo") && !text.contains("datasourceUid: tempo"),
        "{text}"
    );
    let spec = at(
        values(&r, "kube-prometheus-stack"),
        "prometheus.prometheusSpec",
    );
    assert_eq!(at(spec, "enableRemoteWriteReceiver").as_bool(), Some(false));
}

#[test]
fn profile_values_are_merged_last() {
    let r = from_yaml("name: x\nlogs:\n  values:\n    gateway:\n      replicas: 2\n    loki:\n      auth_enabled: false\n");
    let v = values(&r, "loki");
    assert_eq!(at(v, "gateway.replicas").as_u64(), Some(2));
    assert_eq!(
        at(v, "gateway.nginxConfig.enableIPv6").as_bool(),
        Some(false),
        "base values kept"
    );
}

#[test]
fn a_passthrough_that_breaks_an_invariant_is_caught_by_the_lint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, "name: x\nlogs:\n  values:\n    loki:\n      commonConfig:\n        replication_factor: 3\n").unwrap();
    let err = render(&load_file(&path).unwrap()).unwrap_err().to_string();
    assert!(
        err.contains("loki.commonConfig.replication_factor"),
        "{err}"
    );
    assert!(err.contains("at least 2 live replicas"), "{err}");
}

#[test]
fn dev_requests_fit_a_four_cpu_eight_gib_node() {
    let s = load("dev").unwrap().stack;
    let requests = [
        &s.metrics.resources,
        &s.alertmanager.resources,
        &s.logs.resources,
        &s.traces.resources,
        &s.grafana.resources,
        &s.collector.resources,
    ];
    let (mut cpu, mut mem) = (0u64, 0u64);
    for r in requests
        .iter()
        .filter_map(|r| r.as_ref())
        .filter_map(|r| r.requests.as_ref())
    {
        cpu += r.cpu.as_ref().map_or(0, |c| c.millis());
        mem += r.memory.as_ref().map_or(0, |m| m.bytes());
    }
    // Leave half the node for the charts' other pods (operator, exporters, sidecars) and the system.
    assert!(cpu <= 2000, "{cpu}m of CPU requested");
    assert!(mem <= 4 << 30, "{} MiB requested", mem >> 20);
}

/// `text` with the profile's name, where it stands as a word, replaced by `<profile>`.
fn without_profile_name(text: &str, name: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(name);
        } else {
            out.push_str("<profile>");
        }
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    out
}

/// One golden file per artefact: a file of a later profile that equals an earlier profile's
/// (but for the profile's name) is asserted equal to it instead of kept twice. When it starts
/// to differ, it gets a snapshot of its own (a new file: a reviewer sees it).
#[test]
fn golden_renders() {
    let mut seen: BTreeMap<String, Vec<(&str, String)>> = BTreeMap::new();
    let mut shared = Vec::new();
    for name in crate::profile::builtin_names() {
        let files = files::contents(&rendered(name));
        for (path, text) in files {
            let normalized = comparable(&path, &without_profile_name(&text, name));
            let earlier = seen.entry(path.clone()).or_default();
            if let Some((first, _)) = earlier.iter().find(|(_, e)| *e == normalized) {
                shared.push(format!("{name}/{path} = {first}/{path}"));
                continue;
            }
            let snapshot = format!("{name}__{}", path.replace('/', "__"));
            insta::assert_snapshot!(snapshot, text);
            earlier.push((name, normalized));
        }
    }
    // ha is production spread out: its SLO artefacts are production's.
    for path in [
        "manifests/slo-rules.yaml",
        "manifests/slo-dashboard.yaml",
        "runbooks/checkout-availability.md",
    ] {
        let line = format!("ha/{path} = production/{path}");
        assert!(shared.contains(&line), "{line} not found in {shared:#?}");
    }
    // The collector is the same everywhere but for the resources each profile gives it.
    let line = format!("production/{COLLECTOR_VALUES} = dev/{COLLECTOR_VALUES}");
    assert!(shared.contains(&line), "{line} not found in {shared:#?}");
    for name in crate::profile::builtin_names() {
        let stack = load(name).unwrap().stack;
        let Some(release) = rendered(name).release("otel-collector").cloned() else {
            continue;
        };
        let want = yaml_serde::to_value(stack.collector.resources.as_ref().unwrap()).unwrap();
        assert_eq!(release.values.get("resources"), Some(&want), "{name}");
    }
}

const COLLECTOR_VALUES: &str = "releases/otel-collector.values.yaml";

/// A rendered file as compared between profiles: the collector's values without their resources
/// (asserted on their own in `golden_renders`).
fn comparable(path: &str, text: &str) -> String {
    if path != COLLECTOR_VALUES {
        return text.to_string();
    }
    let mut values: yaml_serde::Value = yaml_serde::from_str(text).unwrap();
    values.as_mapping_mut().unwrap().remove("resources");
    yaml_serde::to_string(&values).unwrap()
}

#[test]
fn a_collector_pipeline_naming_an_undefined_exporter_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(
        &path,
        "name: x\ncollector:\n  values:\n    config:\n      service:\n        pipelines:\n          logs:\n            exporters: [otlp_http/nowhere]\n",
    )
    .unwrap();
    let err = render(&load_file(&path).unwrap()).unwrap_err().to_string();
    assert!(err.contains("otlp_http/nowhere"), "{err}");
    assert!(
        err.contains("config.service.pipelines.logs.exporters"),
        "{err}"
    );
}

#[test]
fn the_collector_installs_after_the_backends_it_sends_to() {
    let r = rendered("production");
    let collector = r.release("otel-collector").unwrap();
    assert_eq!(collector.needs, ["loki", "tempo"]);
    assert_eq!(r.releases.last().unwrap().name, "otel-collector");
    let lean = from_yaml("name: lean\ntraces:\n  enabled: false\n");
    assert_eq!(lean.release("otel-collector").unwrap().needs, ["loki"]);
    let none = from_yaml("name: none\ncollector:\n  enabled: false\n");
    assert!(none.release("otel-collector").is_none());
}
