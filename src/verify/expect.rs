//! What a running stack should look like, read off its render: which components run, the
//! datasources and cross-links Grafana must report back, the rule groups Prometheus must load, the
//! Prometheus features the render switches on. Nothing here is hard-coded twice: a change to the
//! render changes what verify expects.

use serde_json::Value;

use super::Component;
use crate::profile::collector::CollectorMode;
use crate::profile::Profile;
use crate::render::collector::destinations;
use crate::render::endpoints::{
    Endpoints, COLLECTOR_FULLNAME, GRAFANA_FULLNAME, KPS_RELEASE, LOKI_RELEASE,
};
use crate::render::Rendered;

/// The stack as rendered from its profile.
#[derive(Clone, Debug)]
pub struct Expectations {
    pub profile: String,
    pub namespace: String,
    /// Release names, in install order.
    pub releases: Vec<String>,
    pub endpoints: Endpoints,
    pub metrics: bool,
    pub alertmanager: bool,
    pub logs: bool,
    pub traces: bool,
    /// Tempo's metrics generator writes span-metrics and service-graph series to Prometheus.
    pub metrics_generator: bool,
    /// The datasources provisioned into Grafana, exactly as rendered (JSON).
    pub datasources: Vec<Value>,
    /// Names of the rule groups of obsctl's own PrometheusRules.
    pub rule_groups: Vec<String>,
    /// `prometheusSpec.enableRemoteWriteReceiver` of the render.
    pub remote_write_receiver: bool,
    /// `exemplar-storage` in `prometheusSpec.enableFeatures` of the render.
    pub exemplar_storage: bool,
    /// The Secret holding Grafana's admin user and password (keys `admin-user`, `admin-password`).
    pub grafana_secret: String,
    /// Loki's tenant (`X-Scope-OrgID`) when multi-tenancy is on.
    pub loki_tenant: Option<String>,
    pub collector: Option<CollectorExpect>,
}

/// The collector, when the profile runs one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectorExpect {
    /// A DaemonSet (one agent per node) rather than a Deployment.
    pub daemonset: bool,
    /// The workload's name: `otel-collector-agent` (DaemonSet) or `otel-collector` (Deployment).
    pub workload: String,
    pub logs: LogsDestination,
}

/// Where the collector's logs pipeline sends, which decides whether verify can read pod logs back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogsDestination {
    /// The stack's own Loki.
    Stack,
    /// An external Loki given in the profile.
    External(String),
    /// The logs pipeline is off.
    Off,
}

impl Expectations {
    pub fn from_render(profile: &Profile, rendered: &Rendered) -> Self {
        let stack = &profile.stack;
        let kps = rendered
            .release(KPS_RELEASE)
            .map(|r| serde_json::to_value(&r.values).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        let spec = &kps["prometheus"]["prometheusSpec"];
        let datasources = kps["grafana"]["additionalDataSources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let exemplar_storage = spec["enableFeatures"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "exemplar-storage"));

        let collector = stack.collector.enabled.then(|| {
            let daemonset = stack.collector.mode == CollectorMode::Daemonset;
            let to = destinations(stack, &rendered.endpoints);
            let logs = match (&to.logs, &stack.collector.logs.endpoint) {
                (None, _) => LogsDestination::Off,
                (Some(url), Some(_)) => LogsDestination::External(url.clone()),
                (Some(_), None) => LogsDestination::Stack,
            };
            CollectorExpect {
                daemonset,
                workload: if daemonset {
                    format!("{COLLECTOR_FULLNAME}-agent")
                } else {
                    COLLECTOR_FULLNAME.to_string()
                },
                logs,
            }
        });

        Expectations {
            profile: rendered.profile.clone(),
            namespace: rendered.namespace.clone(),
            releases: rendered.releases.iter().map(|r| r.name.clone()).collect(),
            endpoints: rendered.endpoints.clone(),
            metrics: stack.metrics.enabled,
            alertmanager: stack.metrics.enabled && stack.alertmanager.enabled,
            logs: stack.logs.enabled && rendered.release(LOKI_RELEASE).is_some(),
            traces: stack.traces.enabled,
            metrics_generator: stack.traces.enabled && stack.traces.metrics_generator,
            datasources,
            rule_groups: rule_groups(rendered),
            remote_write_receiver: spec["enableRemoteWriteReceiver"] == true,
            exemplar_storage,
            grafana_secret: stack
                .grafana
                .admin_secret
                .as_ref()
                .map(|s| s.as_str().to_string())
                // Without `adminSecret` the Grafana chart creates a Secret named after itself.
                .unwrap_or_else(|| GRAFANA_FULLNAME.to_string()),
            loki_tenant: stack.logs.tenant.clone(),
            collector,
        }
    }

    /// Why the profile leaves a component out, if it does.
    pub fn disabled(&self, component: Component) -> Option<String> {
        let off = |what: &str| Some(format!("profile `{}` disables {what}", self.profile));
        match component {
            Component::Workloads | Component::Grafana => None,
            Component::Prometheus if !self.metrics => off("metrics"),
            Component::Alertmanager if !self.alertmanager => off("alertmanager"),
            Component::Loki if !self.logs => off("logs"),
            Component::Tempo if !self.traces => off("traces"),
            Component::Correlation if !(self.logs && self.traces) => off("logs or traces"),
            Component::Collector if self.collector.is_none() => off("the collector"),
            _ => None,
        }
    }

    /// The rendered datasource with this uid.
    pub fn datasource(&self, uid: &str) -> Option<&Value> {
        self.datasources.iter().find(|d| d["uid"] == uid)
    }
}

/// Group names of every PrometheusRule obsctl applies itself.
fn rule_groups(rendered: &Rendered) -> Vec<String> {
    let mut out = Vec::new();
    for manifest in &rendered.manifests {
        for object in &manifest.objects {
            if object["kind"].as_str() != Some("PrometheusRule") {
                continue;
            }
            if let Some(groups) = object["spec"]["groups"].as_sequence() {
                out.extend(
                    groups
                        .iter()
                        .filter_map(|g| g["name"].as_str().map(str::to_string)),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::datasources::{LOKI_UID, TEMPO_UID};

    fn expect(name: &str) -> Expectations {
        let profile = crate::profile::load(name).unwrap();
        let rendered = crate::render::render(&profile).unwrap();
        Expectations::from_render(&profile, &rendered)
    }

    #[test]
    fn the_dev_profile_expects_every_component_and_its_wiring() {
        let e = expect("dev");
        assert_eq!(e.namespace, "monitoring");
        assert!(e.metrics && e.alertmanager && e.logs && e.traces && e.metrics_generator);
        let uids: Vec<_> = e.datasources.iter().map(|d| d["uid"].clone()).collect();
        assert_eq!(uids, ["prometheus", "alertmanager", "loki", "tempo"]);
        assert!(e.remote_write_receiver && e.exemplar_storage);
        assert_eq!(e.grafana_secret, "grafana-admin");
        let collector = e.collector.clone().unwrap();
        assert_eq!(collector.workload, "otel-collector-agent");
        assert_eq!(collector.logs, LogsDestination::Stack);
        assert!(e.disabled(Component::Correlation).is_none());
        assert_eq!(
            e.datasource(LOKI_UID).unwrap()["jsonData"]["derivedFields"][0]["datasourceUid"],
            TEMPO_UID
        );
    }

    #[test]
    fn a_disabled_backend_is_expected_absent() {
        let profile = crate::profile::load("dev").unwrap();
        let mut stack = profile.stack.clone();
        stack.traces.enabled = false;
        let profile = Profile { stack, ..profile };
        let rendered = crate::render::render(&profile).unwrap();
        let e = Expectations::from_render(&profile, &rendered);
        assert!(!e.remote_write_receiver && !e.exemplar_storage);
        assert!(e.datasource(TEMPO_UID).is_none());
        assert!(e
            .disabled(Component::Tempo)
            .unwrap()
            .contains("disables traces"));
        assert!(e.disabled(Component::Correlation).is_some());
        assert!(e.disabled(Component::Loki).is_none());
    }

    #[test]
    fn the_production_slos_are_expected_as_rule_groups() {
        let e = expect("production");
        assert!(
            e.rule_groups
                .iter()
                .any(|g| g == "slo-checkout-availability"),
            "{:?}",
            e.rule_groups
        );
        // dev monitors the stack itself: Loki's push path and Grafana's API.
        assert_eq!(
            expect("dev").rule_groups,
            [
                "slo-loki-push-availability",
                "slo-loki-push-availability-budget",
                "slo-grafana-api-availability",
                "slo-grafana-api-availability-budget"
            ]
        );
    }

    #[test]
    fn rule_groups_come_from_the_rendered_prometheus_rules() {
        let profile = crate::profile::load("dev").unwrap();
        let mut rendered = crate::render::render(&profile).unwrap();
        rendered.manifests.push(crate::render::Manifest {
            path: "manifests/slo.yaml".into(),
            objects: vec![yaml_serde::from_str(
                "kind: PrometheusRule\nspec:\n  groups:\n  - name: slo-api-recording\n  - name: slo-api-alerts\n",
            )
            .unwrap()],
        });
        let e = Expectations::from_render(&profile, &rendered);
        assert_eq!(e.rule_groups.len(), 6, "dev's four and the two added");
        assert!(
            e.rule_groups
                .ends_with(&["slo-api-recording".into(), "slo-api-alerts".into()]),
            "{:?}",
            e.rule_groups
        );
    }
}
