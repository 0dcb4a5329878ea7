//! Rendering: profile → the exact Helm values of every release, the manifests obsctl applies
//! itself, and the plan that orders them. Pure: no I/O, no clock; the same profile gives the same
//! bytes. One file per chart; the Grafana wiring lives in `datasources`.

pub(crate) mod charts;
pub(crate) mod collector;
pub(crate) mod datasources;
pub(crate) mod endpoints;
pub(crate) mod files;
mod kube_prometheus_stack;
pub(crate) mod labels;
pub(crate) mod lint;
mod loki;
mod manifests;
pub(crate) mod merge;
mod object_storage;
mod resources;
mod tempo;

use serde::Serialize;
use yaml_serde::Value;

use crate::profile::{Profile, Quantity, Stack};
pub use charts::Chart;
use endpoints::{Endpoints, COLLECTOR_RELEASE, KPS_RELEASE, LOKI_RELEASE, TEMPO_RELEASE};
pub use kube_prometheus_stack::retention_size;
use merge::{deep_merge, yaml};

/// One Helm release, ready to install.
#[derive(Clone, Debug, Serialize)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    pub chart: Chart,
    /// The complete values handed to Helm.
    #[serde(skip)]
    pub values: Value,
    /// Releases that must be installed first.
    pub needs: Vec<String>,
    /// The persistent volumes this release claims.
    #[serde(skip)]
    pub volumes: Vec<Volume>,
}

impl Release {
    /// Where `render --out` writes the values, relative to the output directory.
    pub fn values_path(&self) -> String {
        format!("releases/{}.values.yaml", self.name)
    }
}

/// A persistent volume (per replica) that a release claims.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Volume {
    pub component: &'static str,
    pub size: Quantity,
    pub replicas: u32,
}

/// A file of Kubernetes objects that obsctl applies itself, after the releases.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Relative to the output directory: `manifests/<name>.yaml`.
    pub path: String,
    pub objects: Vec<Value>,
}

/// Everything obsctl deploys for one profile.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub profile: String,
    pub namespace: String,
    /// In install order: every release comes after those it needs.
    pub releases: Vec<Release>,
    pub manifests: Vec<Manifest>,
    /// One Markdown runbook per SLO.
    pub runbooks: Vec<RunbookFile>,
    pub endpoints: Endpoints,
}

/// A runbook of the render, as `render --out` writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunbookFile {
    /// Relative to the output directory: `runbooks/<slo>.md`.
    pub path: String,
    pub text: String,
}

impl Rendered {
    /// `plan.json`, exactly as DESIGN.md specifies it.
    pub fn plan_json(&self) -> serde_json::Value {
        serde_json::json!({
            "profile": self.profile,
            "namespace": self.namespace,
            "releases": self.releases.iter().map(|r| serde_json::json!({
                "name": r.name,
                "namespace": r.namespace,
                "chart": r.chart,
                "values": r.values_path(),
                "needs": r.needs,
            })).collect::<Vec<_>>(),
            "manifests": self.manifests.iter().map(|m| m.path.clone()).collect::<Vec<_>>(),
            "runbooks": self.runbooks.iter().map(|r| r.path.clone()).collect::<Vec<_>>(),
        })
    }

    pub fn release(&self, name: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.name == name)
    }
}

/// The rendered values broke an invariant the charts or Grafana rely on (usually through a
/// profile's `values:` passthrough).
#[derive(Debug, thiserror::Error)]
#[error("the rendered values would not install cleanly:\n{}", .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
pub struct RenderError(pub Vec<lint::Issue>);

/// Renders a profile and lints the result.
pub fn render(profile: &Profile) -> Result<Rendered, RenderError> {
    let rendered = render_unchecked(&profile.stack);
    let issues = lint::lint(&rendered);
    if issues.is_empty() {
        Ok(rendered)
    } else {
        Err(RenderError(issues))
    }
}

/// Renders without the lint (the lint's own tests feed it broken renders).
pub fn render_unchecked(stack: &Stack) -> Rendered {
    let ns = stack.namespace.as_str();
    let tempo_distributed = tempo::is_distributed(stack);
    let endpoints = Endpoints::new(ns, stack.metrics.replicas, tempo_distributed);
    let wiring = datasources::Wiring {
        endpoints: &endpoints,
        metrics: stack.metrics.enabled,
        alertmanager: stack.alertmanager.enabled,
        logs: stack.logs.enabled,
        traces: stack.traces.enabled,
        metrics_generator: stack.traces.enabled && stack.traces.metrics_generator,
        scrape_interval: &stack.metrics.scrape_interval.to_string(),
        loki_tenant: stack.logs.tenant.as_deref(),
    };
    let datasources = datasources::datasources(&wiring);

    let mut releases = Vec::new();
    let mut kps_volumes = Vec::new();
    if stack.metrics.enabled {
        kps_volumes.push(Volume {
            component: "prometheus",
            size: stack.metrics.storage.clone(),
            replicas: stack.metrics.replicas,
        });
        if let (true, Some(size)) = (stack.alertmanager.enabled, &stack.alertmanager.storage) {
            kps_volumes.push(Volume {
                component: "alertmanager",
                size: size.clone(),
                replicas: stack.alertmanager.replicas,
            });
        }
    }
    if let Some(size) = &stack.grafana.persistence {
        kps_volumes.push(Volume {
            component: "grafana",
            size: size.clone(),
            replicas: 1,
        });
    }
    releases.push(release(
        KPS_RELEASE,
        ns,
        charts::resolve(charts::KUBE_PROMETHEUS_STACK, stack.metrics.chart.as_ref()),
        charts::base_values(charts::KUBE_PROMETHEUS_STACK.name),
        yaml(kube_prometheus_stack::values(stack, datasources)),
        passthrough(&[
            stack.metrics.values.as_ref().map(|v| v.0.clone()),
            stack.grafana.values.as_ref().map(|g| nest("grafana", &g.0)),
        ]),
        vec![],
        kps_volumes,
    ));

    if stack.logs.enabled {
        let replicas = match stack.logs.mode {
            crate::profile::LogsMode::Monolithic => stack.logs.replicas,
            crate::profile::LogsMode::Distributed => 3,
        };
        let component = match stack.logs.mode {
            crate::profile::LogsMode::Monolithic => "loki",
            crate::profile::LogsMode::Distributed => "loki-ingester",
        };
        releases.push(release(
            LOKI_RELEASE,
            ns,
            charts::resolve(charts::LOKI, stack.logs.chart.as_ref()),
            charts::base_values(charts::LOKI.name),
            yaml(loki::values(stack)),
            passthrough(&[stack.logs.values.as_ref().map(|v| v.0.clone())]),
            vec![KPS_RELEASE.into()],
            vec![Volume {
                component,
                size: stack.logs.storage.clone(),
                replicas,
            }],
        ));
    }

    if stack.traces.enabled {
        let (pin, derived, volumes) = if tempo_distributed {
            (
                charts::TEMPO_DISTRIBUTED,
                tempo::distributed_values(stack, &endpoints),
                vec![],
            )
        } else {
            (
                charts::TEMPO,
                tempo::single_binary_values(stack, &endpoints),
                vec![Volume {
                    component: "tempo",
                    size: stack.traces.storage.clone(),
                    replicas: 1,
                }],
            )
        };
        releases.push(release(
            TEMPO_RELEASE,
            ns,
            charts::resolve(pin, stack.traces.chart.as_ref()),
            charts::base_values(pin.name),
            yaml(derived),
            passthrough(&[stack.traces.values.as_ref().map(|v| v.0.clone())]),
            vec![KPS_RELEASE.into()],
            volumes,
        ));
    }

    if stack.collector.enabled {
        // After the backends it sends to, so its first batches are accepted.
        let needs = releases
            .iter()
            .filter(|r| r.name == LOKI_RELEASE || r.name == TEMPO_RELEASE)
            .map(|r| r.name.clone())
            .collect();
        releases.push(release(
            COLLECTOR_RELEASE,
            ns,
            charts::resolve(
                charts::OPENTELEMETRY_COLLECTOR,
                stack.collector.chart.as_ref(),
            ),
            charts::base_values(charts::OPENTELEMETRY_COLLECTOR.name),
            yaml(collector::values(stack, &endpoints)),
            passthrough(&[stack.collector.values.as_ref().map(|v| v.0.clone())]),
            needs,
            vec![],
        ));
    }

    Rendered {
        profile: stack.name.to_string(),
        namespace: ns.to_string(),
        releases,
        manifests: manifests::manifests(stack),
        runbooks: crate::incident::runbook::runbooks(stack)
            .iter()
            .map(|rb| RunbookFile {
                path: rb.file.clone(),
                text: crate::incident::runbook::markdown(rb),
            })
            .collect(),
        endpoints,
    }
}

/// The profile's `values:` passthroughs for one release, merged in order.
fn passthrough(layers: &[Option<Value>]) -> Value {
    let mut out = Value::Mapping(Default::default());
    for layer in layers.iter().flatten() {
        deep_merge(&mut out, layer.clone());
    }
    out
}

/// `{key: value}`: puts a component's passthrough under its key in a parent chart's values.
fn nest(key: &str, value: &Value) -> Value {
    let mut map = yaml_serde::Mapping::new();
    map.insert(Value::String(key.into()), value.clone());
    Value::Mapping(map)
}

/// Merges base ← derived ← passthrough into one release.
#[allow(clippy::too_many_arguments)]
fn release(
    name: &str,
    namespace: &str,
    chart: Chart,
    mut values: Value,
    derived: Value,
    passthrough: Value,
    needs: Vec<String>,
    volumes: Vec<Volume>,
) -> Release {
    deep_merge(&mut values, derived);
    deep_merge(&mut values, passthrough);
    Release {
        name: name.into(),
        namespace: namespace.into(),
        chart,
        values,
        needs,
        volumes,
    }
}

#[cfg(test)]
mod tests;
