//! Release names, stable service names and the URLs between components, in one place. Every
//! chart gets a `fullnameOverride`, so these names do not depend on the release or chart name.

use std::fmt;

pub const KPS_RELEASE: &str = "kube-prometheus-stack";
pub const LOKI_RELEASE: &str = "loki";
pub const TEMPO_RELEASE: &str = "tempo";
pub const COLLECTOR_RELEASE: &str = "otel-collector";

/// kube-prometheus-stack's fullname (at most 26 characters, the chart truncates longer ones).
pub const KPS_FULLNAME: &str = "kps";
pub const GRAFANA_FULLNAME: &str = "grafana";
pub const LOKI_FULLNAME: &str = "loki";
pub const TEMPO_FULLNAME: &str = "tempo";
pub const COLLECTOR_FULLNAME: &str = "otel-collector";

/// A Kubernetes Service and the port obsctl talks to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Service {
    pub name: String,
    pub namespace: String,
    pub port: u16,
}

impl Service {
    fn new(name: &str, namespace: &str, port: u16) -> Self {
        Service {
            name: name.to_string(),
            namespace: namespace.to_string(),
            port,
        }
    }

    /// The in-cluster base URL, e.g. `http://loki-gateway.monitoring.svc.cluster.local:80`.
    pub fn url(&self) -> String {
        format!(
            "http://{}.{}.svc.cluster.local:{}",
            self.name, self.namespace, self.port
        )
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "svc/{}.{}:{}", self.name, self.namespace, self.port)
    }
}

/// Grafana's Service (links to dashboards need it without a whole render).
pub fn grafana_service(namespace: &str) -> Service {
    Service::new(GRAFANA_FULLNAME, namespace, 80)
}

/// Where each component of a rendered stack answers, inside the cluster.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Endpoints {
    pub namespace: String,
    pub prometheus: Service,
    pub alertmanager: Service,
    pub grafana: Service,
    /// Loki's gateway: push and query.
    pub loki: Service,
    /// Tempo's query API (3200).
    pub tempo_query: Service,
    /// Tempo's OTLP receivers: gRPC 4317 here, HTTP on 4318 of the same Service.
    pub tempo_otlp: Service,
    /// The collector's OTLP receivers (gRPC 4317, HTTP 4318), where applications send.
    pub collector_otlp: Service,
    prometheus_replicas: u32,
}

impl Endpoints {
    pub fn new(namespace: &str, prometheus_replicas: u32, tempo_distributed: bool) -> Self {
        let (tempo_query, tempo_otlp) = if tempo_distributed {
            (
                Service::new(&format!("{TEMPO_FULLNAME}-query-frontend"), namespace, 3200),
                Service::new(&format!("{TEMPO_FULLNAME}-distributor"), namespace, 4317),
            )
        } else {
            (
                Service::new(TEMPO_FULLNAME, namespace, 3200),
                Service::new(TEMPO_FULLNAME, namespace, 4317),
            )
        };
        Endpoints {
            namespace: namespace.to_string(),
            prometheus: Service::new(&format!("{KPS_FULLNAME}-prometheus"), namespace, 9090),
            alertmanager: Service::new(&format!("{KPS_FULLNAME}-alertmanager"), namespace, 9093),
            grafana: grafana_service(namespace),
            loki: Service::new(&format!("{LOKI_FULLNAME}-gateway"), namespace, 80),
            tempo_query,
            tempo_otlp,
            collector_otlp: Service::new(COLLECTOR_FULLNAME, namespace, 4317),
            prometheus_replicas,
        }
    }

    /// Remote-write URLs of every Prometheus replica. Each replica gets its own copy: through the
    /// load-balanced Service, each series would land on one replica only.
    pub fn prometheus_write_urls(&self) -> Vec<String> {
        (0..self.prometheus_replicas.max(1))
            .map(|i| {
                format!(
                    "http://prometheus-{KPS_FULLNAME}-prometheus-{i}.prometheus-operated.{}.svc.cluster.local:9090/api/v1/write",
                    self.namespace
                )
            })
            .collect()
    }

    /// Loki's native OTLP endpoint (the exporter appends `/v1/logs`).
    pub fn loki_otlp_url(&self) -> String {
        format!("{}/otlp", self.loki.url())
    }

    /// Tempo's OTLP/HTTP receiver.
    pub fn tempo_otlp_http_url(&self) -> String {
        format!(
            "http://{}.{}.svc.cluster.local:4318",
            self.tempo_otlp.name, self.namespace
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_prometheus_replica_gets_a_write_url() {
        let e = Endpoints::new("mon", 2, false);
        let urls = e.prometheus_write_urls();
        assert_eq!(urls.len(), 2);
        assert_eq!(
            urls[1],
            "http://prometheus-kps-prometheus-1.prometheus-operated.mon.svc.cluster.local:9090/api/v1/write"
        );
    }

    #[test]
    fn distributed_tempo_is_reached_through_its_frontend_and_distributor() {
        let e = Endpoints::new("mon", 1, true);
        assert_eq!(
            e.tempo_query.url(),
            "http://tempo-query-frontend.mon.svc.cluster.local:3200"
        );
        assert_eq!(
            e.tempo_otlp_http_url(),
            "http://tempo-distributor.mon.svc.cluster.local:4318"
        );
    }

    #[test]
    fn kps_fullname_fits_the_charts_26_character_limit() {
        assert!(KPS_FULLNAME.len() <= 26);
    }
}
