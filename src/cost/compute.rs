//! Compute: the CPU and memory requests of every pod the rendered releases run, times their
//! replicas (or the nodes, for DaemonSets), priced per vCPU-hour and GiB-hour.
//!
//! Helm values only name what obsctl sets; the rest comes from the charts' own defaults. Those
//! are recorded here per pinned chart version, with the file they were read from, so a changed
//! pin fails `every_pinned_chart_has_reviewed_defaults` until someone reads the new chart.

use serde::Serialize;
use yaml_serde::Value;

use crate::profile::types::Cpu;
use crate::profile::Quantity;
use crate::render::{merge, Rendered};

const GIB: f64 = (1u64 << 30) as f64;

/// What decides whether a pod exists.
#[derive(Clone, Copy, Debug)]
pub enum Gate {
    Always,
    /// A boolean at this values path, with the chart's default.
    Flag(&'static str, bool),
}

/// How many copies of a pod run.
#[derive(Clone, Copy, Debug)]
pub enum Count {
    /// A replica count at this values path, with the chart's default.
    Replicas(&'static str, u32),
    /// One per node.
    PerNode,
    /// A DaemonSet when the values path holds this mode, otherwise `Replicas`.
    PerNodeIf {
        mode: &'static str,
        daemonset: &'static str,
        replicas: &'static str,
        default: u32,
    },
}

/// Where one container's requests come from.
#[derive(Clone, Copy, Debug)]
pub enum Requests {
    /// `<path>.requests.{cpu,memory}`; the chart's default is no requests at all.
    Values(&'static str),
    /// Loki's memcached caches: without `resources`, the chart requests `allocatedCPU` and
    /// round(1.2 × `allocatedMemory`) MiB (templates/memcached/_memcached-statefulset.tpl).
    Memcached {
        prefix: &'static str,
        memory_mb: u64,
        cpu: &'static str,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct Container {
    pub name: &'static str,
    pub requests: Requests,
}

#[derive(Clone, Copy, Debug)]
pub struct Pod {
    pub name: &'static str,
    pub gate: Gate,
    pub count: Count,
    pub containers: &'static [Container],
}

/// The defaults of one pinned chart that the compute line relies on.
#[derive(Clone, Copy, Debug)]
pub struct ChartDefaults {
    pub chart: &'static str,
    pub version: &'static str,
    /// The values file (and templates) the defaults were read from.
    pub source: &'static str,
    pub read: &'static str,
    pub pods: &'static [Pod],
}

const fn values(name: &'static str, path: &'static str) -> Container {
    Container {
        name,
        requests: Requests::Values(path),
    }
}

/// Every chart obsctl pins. Each chart's default for `resources` is `{}` (no requests) except
/// Loki's memcached caches; pods without requests are listed in the report as counted at zero.
pub const CHART_DEFAULTS: &[ChartDefaults] = &[
    ChartDefaults {
        chart: "kube-prometheus-stack",
        version: "88.5.3",
        source: "https://github.com/prometheus-community/helm-charts/blob/kube-prometheus-stack-88.5.3/charts/kube-prometheus-stack/values.yaml (subcharts: kube-state-metrics-8.4.0, prometheus-node-exporter-4.56.1, grafana-community grafana-12.11.1)",
        read: "2026-12-03",
        pods: &[
            Pod {
                name: "prometheus",
                gate: Gate::Always,
                count: Count::Replicas("prometheus.prometheusSpec.replicas", 1),
                containers: &[
                    values("prometheus", "prometheus.prometheusSpec.resources"),
                    values(
                        "config-reloader",
                        "prometheusOperator.prometheusConfigReloader.resources",
                    ),
                ],
            },
            Pod {
                name: "alertmanager",
                gate: Gate::Flag("alertmanager.enabled", true),
                count: Count::Replicas("alertmanager.alertmanagerSpec.replicas", 1),
                containers: &[
                    values("alertmanager", "alertmanager.alertmanagerSpec.resources"),
                    values(
                        "config-reloader",
                        "prometheusOperator.prometheusConfigReloader.resources",
                    ),
                ],
            },
            Pod {
                name: "prometheus-operator",
                gate: Gate::Flag("prometheusOperator.enabled", true),
                count: Count::Replicas("prometheusOperator.replicas", 1),
                containers: &[values("operator", "prometheusOperator.resources")],
            },
            Pod {
                name: "grafana",
                gate: Gate::Flag("grafana.enabled", true),
                count: Count::Replicas("grafana.replicas", 1),
                containers: &[
                    values("grafana", "grafana.resources"),
                    values("sidecar-dashboards", "grafana.sidecar.resources"),
                    values("sidecar-datasources", "grafana.sidecar.resources"),
                ],
            },
            Pod {
                name: "kube-state-metrics",
                gate: Gate::Flag("kubeStateMetrics.enabled", true),
                count: Count::Replicas("kube-state-metrics.replicas", 1),
                containers: &[values("kube-state-metrics", "kube-state-metrics.resources")],
            },
            Pod {
                name: "node-exporter",
                gate: Gate::Flag("nodeExporter.enabled", true),
                count: Count::PerNode,
                containers: &[values(
                    "node-exporter",
                    "prometheus-node-exporter.resources",
                )],
            },
        ],
    },
    ChartDefaults {
        chart: "loki",
        version: "18.11.0",
        source: "https://github.com/grafana-community/helm-charts/blob/loki-18.11.0/charts/loki/values.yaml and templates/memcached/_memcached-statefulset.tpl",
        read: "2026-12-03",
        pods: &[
            Pod {
                name: "single-binary",
                gate: Gate::Always,
                count: Count::Replicas("singleBinary.replicas", 0),
                containers: &[
                    values("loki", "singleBinary.resources"),
                    values("sc-rules", "sidecar.resources"),
                ],
            },
            Pod {
                name: "write",
                gate: Gate::Always,
                count: Count::Replicas("write.replicas", 3),
                containers: &[values("loki", "write.resources")],
            },
            Pod {
                name: "read",
                gate: Gate::Always,
                count: Count::Replicas("read.replicas", 3),
                containers: &[values("loki", "read.resources")],
            },
            Pod {
                name: "backend",
                gate: Gate::Always,
                count: Count::Replicas("backend.replicas", 3),
                containers: &[
                    values("loki", "backend.resources"),
                    values("sc-rules", "sidecar.resources"),
                ],
            },
            Pod {
                name: "ingester",
                gate: Gate::Always,
                count: Count::Replicas("ingester.replicas", 0),
                containers: &[values("ingester", "ingester.resources")],
            },
            Pod {
                name: "distributor",
                gate: Gate::Always,
                count: Count::Replicas("distributor.replicas", 0),
                containers: &[values("distributor", "distributor.resources")],
            },
            Pod {
                name: "querier",
                gate: Gate::Always,
                count: Count::Replicas("querier.replicas", 0),
                containers: &[values("querier", "querier.resources")],
            },
            Pod {
                name: "query-frontend",
                gate: Gate::Always,
                count: Count::Replicas("queryFrontend.replicas", 0),
                containers: &[values("query-frontend", "queryFrontend.resources")],
            },
            Pod {
                name: "query-scheduler",
                gate: Gate::Always,
                count: Count::Replicas("queryScheduler.replicas", 0),
                containers: &[values("query-scheduler", "queryScheduler.resources")],
            },
            Pod {
                name: "index-gateway",
                gate: Gate::Always,
                count: Count::Replicas("indexGateway.replicas", 0),
                containers: &[values("index-gateway", "indexGateway.resources")],
            },
            Pod {
                name: "compactor",
                gate: Gate::Always,
                count: Count::Replicas("compactor.replicas", 0),
                containers: &[values("compactor", "compactor.resources")],
            },
            Pod {
                name: "ruler",
                gate: Gate::Flag("ruler.enabled", true),
                count: Count::Replicas("ruler.replicas", 0),
                containers: &[values("ruler", "ruler.resources")],
            },
            Pod {
                name: "gateway",
                gate: Gate::Flag("gateway.enabled", true),
                count: Count::Replicas("gateway.replicas", 1),
                containers: &[values("nginx", "gateway.resources")],
            },
            Pod {
                name: "chunks-cache",
                gate: Gate::Flag("chunksCache.enabled", true),
                count: Count::Replicas("chunksCache.replicas", 1),
                containers: &[
                    Container {
                        name: "memcached",
                        requests: Requests::Memcached {
                            prefix: "chunksCache",
                            memory_mb: 8192,
                            cpu: "500m",
                        },
                    },
                    values("exporter", "memcachedExporter.resources"),
                ],
            },
            Pod {
                name: "results-cache",
                gate: Gate::Flag("resultsCache.enabled", true),
                count: Count::Replicas("resultsCache.replicas", 1),
                containers: &[
                    Container {
                        name: "memcached",
                        requests: Requests::Memcached {
                            prefix: "resultsCache",
                            memory_mb: 1024,
                            cpu: "500m",
                        },
                    },
                    values("exporter", "memcachedExporter.resources"),
                ],
            },
            Pod {
                name: "canary",
                gate: Gate::Flag("lokiCanary.enabled", true),
                count: Count::PerNode,
                containers: &[values("canary", "lokiCanary.resources")],
            },
        ],
    },
    ChartDefaults {
        chart: "tempo",
        version: "2.2.4",
        source: "https://github.com/grafana-community/helm-charts/blob/tempo-2.2.4/charts/tempo/values.yaml",
        read: "2026-12-03",
        pods: &[Pod {
            name: "tempo",
            gate: Gate::Always,
            count: Count::Replicas("replicas", 1),
            containers: &[
                values("tempo", "tempo.resources"),
                // tempoQuery.enabled defaults to false.
            ],
        }],
    },
    ChartDefaults {
        chart: "tempo-distributed",
        version: "3.3.0",
        source: "https://github.com/grafana-community/helm-charts/blob/tempo-distributed-3.3.0/charts/tempo-distributed/values.yaml",
        read: "2026-12-03",
        pods: &[
            Pod {
                name: "distributor",
                gate: Gate::Always,
                count: Count::Replicas("distributor.replicas", 1),
                containers: &[values("distributor", "distributor.resources")],
            },
            Pod {
                name: "live-store",
                gate: Gate::Flag("liveStore.enabled", true),
                count: Count::Replicas("liveStore.replicas", 3),
                containers: &[values("live-store", "liveStore.resources")],
            },
            Pod {
                name: "block-builder",
                gate: Gate::Flag("blockBuilder.enabled", true),
                count: Count::Replicas("blockBuilder.replicas", 3),
                containers: &[values("block-builder", "blockBuilder.resources")],
            },
            Pod {
                name: "backend-scheduler",
                gate: Gate::Flag("backendScheduler.enabled", true),
                count: Count::Replicas("backendScheduler.replicas", 1),
                containers: &[values("backend-scheduler", "backendScheduler.resources")],
            },
            Pod {
                name: "backend-worker",
                gate: Gate::Always,
                count: Count::Replicas("backendWorker.replicas", 1),
                containers: &[values("backend-worker", "backendWorker.resources")],
            },
            Pod {
                name: "querier",
                gate: Gate::Always,
                count: Count::Replicas("querier.replicas", 1),
                containers: &[values("querier", "querier.resources")],
            },
            Pod {
                name: "query-frontend",
                gate: Gate::Always,
                count: Count::Replicas("queryFrontend.replicas", 1),
                containers: &[values("query-frontend", "queryFrontend.resources")],
            },
            Pod {
                name: "metrics-generator",
                gate: Gate::Flag("metricsGenerator.enabled", false),
                count: Count::Replicas("metricsGenerator.replicas", 1),
                containers: &[values("metrics-generator", "metricsGenerator.resources")],
            },
            Pod {
                name: "memcached",
                gate: Gate::Flag("memcached.enabled", true),
                count: Count::Replicas("memcached.replicas", 1),
                containers: &[values("memcached", "memcached.resources")],
            },
        ],
    },
    ChartDefaults {
        chart: "opentelemetry-collector",
        version: "0.170.0",
        source: "https://github.com/open-telemetry/opentelemetry-helm-charts/blob/opentelemetry-collector-0.170.0/charts/opentelemetry-collector/values.yaml",
        read: "2026-12-03",
        pods: &[Pod {
            name: "collector",
            gate: Gate::Always,
            count: Count::PerNodeIf {
                mode: "mode",
                daemonset: "daemonset",
                replicas: "replicaCount",
                default: 1,
            },
            containers: &[values("collector", "resources")],
        }],
    },
];

/// The recorded defaults of a chart at a version; None when nobody has reviewed that version.
pub fn defaults(chart: &str, version: &str) -> Option<&'static ChartDefaults> {
    CHART_DEFAULTS
        .iter()
        .find(|d| d.chart == chart && d.version == version)
}

/// One pod kind of one release, as the render runs it.
#[derive(Clone, Debug, Serialize)]
pub struct PodCompute {
    pub release: String,
    pub pod: String,
    pub copies: u32,
    /// `replicas` or `nodes` (one per `workload.hosts`).
    pub per: &'static str,
    /// Requests of one copy (all its containers).
    pub cpu_cores: f64,
    pub memory_gib: f64,
    /// Containers that request nothing (counted at zero).
    pub without_requests: Vec<String>,
    /// `obsctl` when the render sets the requests, `chart default` otherwise.
    pub from: &'static str,
}

/// Every pod of the render with its requests.
#[derive(Clone, Debug, Serialize)]
pub struct Inventory {
    pub pods: Vec<PodCompute>,
    /// Releases whose chart version has no recorded defaults (overridden versions).
    pub unreviewed: Vec<String>,
    /// Where the chart defaults used were read: `chart version: source (read date)`.
    pub defaults_read: Vec<String>,
}

impl Inventory {
    pub fn cpu_cores(&self) -> f64 {
        self.pods
            .iter()
            .map(|p| p.cpu_cores * p.copies as f64)
            .sum()
    }
    pub fn memory_gib(&self) -> f64 {
        self.pods
            .iter()
            .map(|p| p.memory_gib * p.copies as f64)
            .sum()
    }
    /// The pods that run once per node (DaemonSets): a vendor's agent runs there too.
    pub fn per_node(&self) -> Inventory {
        Inventory {
            pods: self
                .pods
                .iter()
                .filter(|p| p.per == "nodes")
                .cloned()
                .collect(),
            unreviewed: Vec::new(),
            defaults_read: Vec::new(),
        }
    }
}

fn at<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    let keys: Vec<&str> = dotted.split('.').collect();
    merge::get(v, &keys)
}

fn cpu_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<Cpu>().ok().map(|c| c.millis() as f64 / 1000.0),
        _ => None,
    }
}

fn memory_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().map(|b| b / GIB),
        Value::String(s) => s.parse::<Quantity>().ok().map(|q| q.gib()),
        _ => None,
    }
}

/// Takes the pods of every release from its chart's recorded defaults and the rendered values.
pub fn inventory(rendered: &Rendered, hosts: u64) -> Inventory {
    let mut pods = Vec::new();
    let mut unreviewed = Vec::new();
    let mut defaults_read = Vec::new();
    for release in &rendered.releases {
        let Some(d) = defaults(&release.chart.name, &release.chart.version) else {
            unreviewed.push(format!(
                "{} ({} {})",
                release.name, release.chart.name, release.chart.version
            ));
            continue;
        };
        defaults_read.push(format!(
            "{} {}: {} (read {})",
            d.chart, d.version, d.source, d.read
        ));
        let v = &release.values;
        for pod in d.pods {
            let on = match pod.gate {
                Gate::Always => true,
                Gate::Flag(path, default) => {
                    at(v, path).and_then(Value::as_bool).unwrap_or(default)
                }
            };
            let replicas = |path: &str, default: u32| {
                at(v, path)
                    .and_then(Value::as_u64)
                    .map_or(default, |n| n.min(u32::MAX as u64) as u32)
            };
            let nodes = hosts.min(u32::MAX as u64) as u32;
            let (copies, per) = match pod.count {
                Count::Replicas(path, default) => (replicas(path, default), "replicas"),
                Count::PerNode => (nodes, "nodes"),
                Count::PerNodeIf {
                    mode,
                    daemonset,
                    replicas: path,
                    default,
                } => {
                    if at(v, mode).and_then(Value::as_str) == Some(daemonset) {
                        (nodes, "nodes")
                    } else {
                        (replicas(path, default), "replicas")
                    }
                }
            };
            if !on || copies == 0 {
                continue;
            }
            let (mut cpu, mut memory) = (0.0, 0.0);
            let mut without = Vec::new();
            let mut set_by_obsctl = false;
            for c in pod.containers {
                let (c_cpu, c_mem) = match c.requests {
                    Requests::Values(path) => {
                        let req = at(v, path).and_then(|r| r.get("requests"));
                        (
                            req.and_then(|r| r.get("cpu")).and_then(cpu_of),
                            req.and_then(|r| r.get("memory")).and_then(memory_of),
                        )
                    }
                    Requests::Memcached {
                        prefix,
                        memory_mb,
                        cpu,
                    } => {
                        if let Some(r) =
                            at(v, &format!("{prefix}.resources")).and_then(|r| r.get("requests"))
                        {
                            (
                                r.get("cpu").and_then(cpu_of),
                                r.get("memory").and_then(memory_of),
                            )
                        } else {
                            let mb = at(v, &format!("{prefix}.allocatedMemory"))
                                .and_then(Value::as_u64)
                                .unwrap_or(memory_mb);
                            let cpu = at(v, &format!("{prefix}.allocatedCPU"))
                                .and_then(cpu_of)
                                .or_else(|| {
                                    cpu.parse::<Cpu>().ok().map(|c| c.millis() as f64 / 1000.0)
                                });
                            // round(1.2 × allocatedMemory) MiB, in the chart's integer arithmetic.
                            let mib = (mb * 12 + 5) / 10;
                            (cpu, Some(mib as f64 / 1024.0))
                        }
                    }
                };
                if c_cpu.is_none() && c_mem.is_none() {
                    without.push(c.name.to_string());
                } else if matches!(c.requests, Requests::Values(_)) {
                    set_by_obsctl = true;
                }
                cpu += c_cpu.unwrap_or(0.0);
                memory += c_mem.unwrap_or(0.0);
            }
            pods.push(PodCompute {
                release: release.name.clone(),
                pod: pod.name.to_string(),
                copies,
                per,
                cpu_cores: cpu,
                memory_gib: memory,
                without_requests: without,
                from: if set_by_obsctl {
                    "obsctl"
                } else {
                    "chart default"
                },
            });
        }
    }
    Inventory {
        pods,
        unreviewed,
        defaults_read,
    }
}

/// Requests × hours × prices × the node-overhead factor.
pub fn monthly_usd(inv: &Inventory, vcpu_hour: f64, gib_hour: f64, node_overhead: f64) -> f64 {
    (inv.cpu_cores() * vcpu_hour + inv.memory_gib() * gib_hour)
        * super::compare::HOURS_PER_MONTH
        * node_overhead
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::charts;

    /// Every chart obsctl pins.
    fn pins() -> [charts::Pin; 5] {
        [
            charts::KUBE_PROMETHEUS_STACK,
            charts::LOKI,
            charts::TEMPO,
            charts::TEMPO_DISTRIBUTED,
            charts::OPENTELEMETRY_COLLECTOR,
        ]
    }

    #[test]
    fn every_pinned_chart_has_reviewed_defaults() {
        for pin in pins() {
            assert!(
                defaults(pin.name, pin.version).is_some(),
                "{} is pinned at {} but src/cost/compute.rs records the defaults of another version: read the new chart's values.yaml (resources, replicas, enabled flags of every pod) and update CHART_DEFAULTS",
                pin.name,
                pin.version
            );
        }
        assert_eq!(
            CHART_DEFAULTS.len(),
            pins().len(),
            "one entry per pinned chart"
        );
    }
}
