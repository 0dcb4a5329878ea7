//! The OpenTelemetry Collector: pod logs and OTLP logs → Loki's native OTLP endpoint, OTLP traces
//! → Tempo, Kubernetes attributes on both, so Loki's stream labels are the ones Grafana's links
//! join on (see `labels`).

use serde_json::{json, Map, Value};

use super::endpoints::Endpoints;
use super::labels::{CONTAINER, SERVICE_NAME};
use super::resources::resources;
use crate::profile::collector::{CollectorMode, Distribution, Pipeline};
use crate::profile::Stack;

/// Exporter names (collector ≥ 0.144 spells them `otlp_http`/`otlp_grpc`).
pub const LOKI_EXPORTER: &str = "otlp_http/loki";
pub const TEMPO_EXPORTER: &str = "otlp_grpc/tempo";

/// Images by distribution; the tag defaults to the chart's appVersion (0.158.0 for chart 0.170.0).
const K8S_IMAGE: &str =
    "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s";
const CONTRIB_IMAGE: &str =
    "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib";

/// Where each pipeline sends, once the profile is resolved; `None` when that pipeline is off.
#[derive(Clone, Debug, PartialEq)]
pub struct Destinations {
    pub logs: Option<String>,
    pub traces: Option<String>,
}

/// Resolves each pipeline: an explicit endpoint wins; otherwise the stack's own backend when it runs.
pub fn destinations(stack: &Stack, endpoints: &Endpoints) -> Destinations {
    let c = &stack.collector;
    let resolve = |p: &Pipeline, backend_on: bool, own: String| match &p.endpoint {
        Some(endpoint) => p.enabled.unwrap_or(true).then(|| endpoint.clone()),
        None => (backend_on && p.enabled.unwrap_or(true)).then_some(own),
    };
    Destinations {
        logs: resolve(&c.logs, stack.logs.enabled, endpoints.loki_otlp_url()),
        traces: resolve(
            &c.traces,
            stack.traces.enabled,
            format!(
                "{}.{}.svc.cluster.local:4317",
                endpoints.tempo_otlp.name, endpoints.namespace
            ),
        ),
    }
}

/// Profile-derived values.
pub fn values(stack: &Stack, endpoints: &Endpoints) -> Value {
    let c = &stack.collector;
    let to = destinations(stack, endpoints);
    let daemonset = c.mode == CollectorMode::Daemonset;
    // Tailing container logs reads the node's /var/log/pods: only a collector on every node can.
    let tail_pod_logs = daemonset && to.logs.is_some();

    let mut exporters = Map::new();
    let mut pipelines = Map::new();
    match &to.logs {
        Some(url) => {
            let mut exporter = json!({"endpoint": url});
            if let (None, Some(tenant)) = (&c.logs.endpoint, &stack.logs.tenant) {
                exporter["headers"] = json!({"X-Scope-OrgID": tenant});
            }
            exporters.insert(LOKI_EXPORTER.into(), exporter);
            pipelines.insert("logs".into(), pipeline(LOKI_EXPORTER));
        }
        None => {
            pipelines.insert("logs".into(), Value::Null);
        }
    }
    match &to.traces {
        Some(address) => {
            let mut exporter = json!({"endpoint": address});
            if c.traces.endpoint.is_none() {
                // In-cluster Tempo speaks plain gRPC.
                exporter["tls"] = json!({"insecure": true});
            }
            exporters.insert(TEMPO_EXPORTER.into(), exporter);
            pipelines.insert("traces".into(), pipeline(TEMPO_EXPORTER));
        }
        None => {
            pipelines.insert("traces".into(), Value::Null);
        }
    }
    // The collector's own metrics are scraped by Prometheus on port 8888 (ServiceMonitor); the
    // chart's default metrics pipeline would only print them to the debug exporter.
    pipelines.insert("metrics".into(), Value::Null);

    let mut out = json!({
        "mode": match c.mode { CollectorMode::Daemonset => "daemonset", CollectorMode::Deployment => "deployment" },
        "image": {"repository": match c.distribution { Distribution::K8s => K8S_IMAGE, Distribution::Contrib => CONTRIB_IMAGE }},
        "presets": {
            "logsCollection": {"enabled": tail_pod_logs},
            "kubernetesAttributes": {"enabled": true},
        },
        "config": {
            // Only OTLP comes in: no Jaeger or Zipkin listeners, no self-scrape pipeline.
            "receivers": {"jaeger": null, "zipkin": null, "prometheus": null},
            "processors": {"resource/join-labels": join_labels_processor()},
            "exporters": exporters,
            "service": {"pipelines": pipelines},
        },
    });
    if let Some(r) = &c.resources {
        out["resources"] = resources(r);
    }
    out
}

/// OTLP in, memory limiting and batching, then one exporter. The chart's presets add the file_log
/// receiver (logs) and prepend the Kubernetes attributes processor (both pipelines).
fn pipeline(exporter: &str) -> Value {
    json!({
        "receivers": ["otlp"],
        "processors": ["memory_limiter", "resource/join-labels", "batch"],
        "exporters": [exporter],
    })
}

/// Makes sure every record carries the attributes Grafana's cross-links join on. The Kubernetes
/// attributes processor sets them for pods; `service.name` falls back to the container name
/// (what Loki would otherwise call `unknown_service`), so "logs for this span" has a label to
/// match.
fn join_labels_processor() -> Value {
    json!({
        "attributes": [
            {"key": SERVICE_NAME.attribute, "from_attribute": CONTAINER.attribute, "action": "insert"},
        ],
    })
}

/// Resource attributes the chart's `kubernetesAttributes` preset extracts onto every log record
/// and span (opentelemetry-collector chart 0.170.0, `_config.tpl`). The presets are merged over our
/// config, so this list is the chart's, not ours: the tests check the join labels against it.
#[cfg(test)]
pub const KUBERNETES_ATTRIBUTES_PRESET: [&str; 23] = [
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.pod.uid",
    "k8s.node.name",
    "k8s.pod.start_time",
    "k8s.deployment.name",
    "k8s.replicaset.name",
    "k8s.replicaset.uid",
    "k8s.daemonset.name",
    "k8s.daemonset.uid",
    "k8s.job.name",
    "k8s.job.uid",
    "k8s.container.name",
    "k8s.cronjob.name",
    "k8s.statefulset.name",
    "k8s.statefulset.uid",
    "container.image.tag",
    "container.image.name",
    "k8s.cluster.uid",
    "service.namespace",
    "service.name",
    "service.version",
    "service.instance.id",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load;

    fn stack(name: &str) -> Stack {
        load(name).unwrap().stack
    }

    #[test]
    fn logs_go_to_lokis_otlp_endpoint_and_traces_to_tempo() {
        let s = stack("dev");
        let e = Endpoints::new("monitoring", 1, false);
        let v = values(&s, &e);
        assert_eq!(
            v["config"]["exporters"][LOKI_EXPORTER]["endpoint"],
            "http://loki-gateway.monitoring.svc.cluster.local:80/otlp"
        );
        assert_eq!(
            v["config"]["exporters"][TEMPO_EXPORTER]["endpoint"],
            "tempo.monitoring.svc.cluster.local:4317"
        );
        assert_eq!(
            v["config"]["service"]["pipelines"]["logs"]["exporters"][0],
            LOKI_EXPORTER
        );
        assert_eq!(
            v["config"]["service"]["pipelines"]["traces"]["receivers"][0],
            "otlp"
        );
        assert_eq!(v["presets"]["logsCollection"]["enabled"], true);
        assert_eq!(v["presets"]["kubernetesAttributes"]["enabled"], true);
    }

    #[test]
    fn a_disabled_backend_removes_its_pipeline() {
        let mut s = stack("dev");
        s.traces.enabled = false;
        let e = Endpoints::new("monitoring", 1, false);
        let v = values(&s, &e);
        assert!(v["config"]["service"]["pipelines"]["traces"].is_null());
        assert!(v["config"]["exporters"].get(TEMPO_EXPORTER).is_none());
        assert!(v["config"]["exporters"].get(LOKI_EXPORTER).is_some());
    }

    #[test]
    fn an_external_endpoint_keeps_a_pipeline_without_the_backend() {
        let mut s = stack("dev");
        s.logs.enabled = false;
        s.collector.logs.endpoint = Some("https://loki.example.com/otlp".into());
        let e = Endpoints::new("monitoring", 1, false);
        let v = values(&s, &e);
        assert_eq!(
            v["config"]["exporters"][LOKI_EXPORTER]["endpoint"],
            "https://loki.example.com/otlp"
        );
    }

    #[test]
    fn deployment_mode_does_not_tail_node_logs() {
        let mut s = stack("dev");
        s.collector.mode = CollectorMode::Deployment;
        let e = Endpoints::new("monitoring", 1, false);
        let v = values(&s, &e);
        assert_eq!(v["presets"]["logsCollection"]["enabled"], false);
        assert_eq!(v["mode"], "deployment");
    }

    /// The labels Grafana's links query by are the labels the collector's logs really carry in Loki.
    #[test]
    fn grafana_links_join_on_labels_the_collector_produces() {
        use crate::render::labels::{
            loki_label_for, LOKI_DEFAULT_INDEX_ATTRIBUTES, TRACE_ID_METADATA,
        };
        let rendered = crate::render::render(&load("production").unwrap()).unwrap();
        let kps = &rendered.release("kube-prometheus-stack").unwrap().values;
        let collector = &rendered.release("otel-collector").unwrap().values;
        let datasources = kps["grafana"]["additionalDataSources"]
            .as_sequence()
            .unwrap();
        let by_uid = |uid: &str| {
            datasources
                .iter()
                .find(|d| d["uid"].as_str() == Some(uid))
                .unwrap()
        };

        // Attributes on every record: what the Kubernetes attributes preset extracts, plus what
        // our own resource processor inserts.
        let mut produced: Vec<String> = KUBERNETES_ATTRIBUTES_PRESET
            .iter()
            .map(|a| a.to_string())
            .collect();
        for action in collector["config"]["processors"]["resource/join-labels"]["attributes"]
            .as_sequence()
            .unwrap()
        {
            produced.push(action["key"].as_str().unwrap().to_string());
        }
        assert_eq!(
            collector["presets"]["kubernetesAttributes"]["enabled"].as_bool(),
            Some(true)
        );

        let tags = by_uid("tempo")["jsonData"]["tracesToLogsV2"]["tags"]
            .as_sequence()
            .unwrap();
        assert!(!tags.is_empty());
        for tag in tags {
            let attribute = tag["key"].as_str().unwrap();
            let label = tag["value"].as_str().unwrap();
            assert!(
                produced.iter().any(|p| p == attribute),
                "spans and logs never carry {attribute}"
            );
            assert!(
                LOKI_DEFAULT_INDEX_ATTRIBUTES.contains(&attribute),
                "Loki does not index {attribute}"
            );
            assert_eq!(
                loki_label_for(attribute),
                label,
                "Loki calls {attribute} `{}`",
                loki_label_for(attribute)
            );
        }

        // Log records' trace ids: Loki stores them as structured metadata `trace_id`, which the
        // label-type derived field matches.
        let fields = by_uid("loki")["jsonData"]["derivedFields"]
            .as_sequence()
            .unwrap();
        assert!(fields
            .iter()
            .any(|f| f["matcherType"].as_str() == Some("label")
                && f["matcherRegex"].as_str() == Some(TRACE_ID_METADATA)));

        // The collector sends to the same Services the datasources read from.
        let loki_url = by_uid("loki")["url"].as_str().unwrap();
        assert_eq!(
            collector["config"]["exporters"][LOKI_EXPORTER]["endpoint"]
                .as_str()
                .unwrap(),
            format!("{loki_url}/otlp")
        );
        let tempo_host = by_uid("tempo")["url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .split(':')
            .next()
            .unwrap()
            .to_string();
        let tempo_export = collector["config"]["exporters"][TEMPO_EXPORTER]["endpoint"]
            .as_str()
            .unwrap();
        assert_eq!(tempo_export, format!("{tempo_host}:4317"));
    }

    #[test]
    fn the_rendered_config_has_otlp_receivers_and_both_pipelines() {
        let rendered = crate::render::render(&load("dev").unwrap()).unwrap();
        let text = crate::render::files::contents(&rendered)
            .into_iter()
            .find(|(path, _)| path == "releases/otel-collector.values.yaml")
            .unwrap()
            .1;
        let values: yaml_serde::Value =
            yaml_serde::from_str(&text).expect("the values file parses as YAML");
        let config = &values["config"];
        let otlp = &config["receivers"]["otlp"]["protocols"];
        assert!(otlp["grpc"]["endpoint"]
            .as_str()
            .unwrap()
            .ends_with(":4317"));
        assert!(otlp["http"]["endpoint"]
            .as_str()
            .unwrap()
            .ends_with(":4318"));
        let pipelines = &config["service"]["pipelines"];
        assert_eq!(
            pipelines["logs"]["exporters"][0].as_str(),
            Some(LOKI_EXPORTER)
        );
        assert_eq!(
            pipelines["traces"]["exporters"][0].as_str(),
            Some(TEMPO_EXPORTER)
        );
        for signal in ["logs", "traces"] {
            assert_eq!(
                pipelines[signal]["receivers"][0].as_str(),
                Some("otlp"),
                "{signal}"
            );
            for exporter in pipelines[signal]["exporters"].as_sequence().unwrap() {
                assert!(
                    config["exporters"]
                        .get(exporter.as_str().unwrap())
                        .is_some(),
                    "{exporter:?} is defined"
                );
            }
        }
    }

    #[test]
    fn the_loki_tenant_is_sent_by_the_exporter() {
        let mut s = stack("dev");
        s.logs.tenant = Some("team-a".into());
        let e = Endpoints::new("monitoring", 1, false);
        let v = values(&s, &e);
        assert_eq!(
            v["config"]["exporters"][LOKI_EXPORTER]["headers"]["X-Scope-OrgID"],
            "team-a"
        );
    }
}
