//! The names that join telemetry across signals. The collector writes them, Loki indexes them,
//! and Grafana's cross-links query by them: they are decided here once and used by both sides.

/// A resource attribute on spans and logs, and the Loki stream label it becomes. Loki's OTLP
/// endpoint turns the attribute's dots into underscores (`service.name` → `service_name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinLabel {
    /// The OpenTelemetry resource attribute on spans and log records.
    pub attribute: &'static str,
    /// The Loki stream label.
    pub loki_label: &'static str,
}

pub const SERVICE_NAME: JoinLabel = JoinLabel {
    attribute: "service.name",
    loki_label: "service_name",
};
pub const NAMESPACE: JoinLabel = JoinLabel {
    attribute: "k8s.namespace.name",
    loki_label: "k8s_namespace_name",
};
pub const POD: JoinLabel = JoinLabel {
    attribute: "k8s.pod.name",
    loki_label: "k8s_pod_name",
};
pub const CONTAINER: JoinLabel = JoinLabel {
    attribute: "k8s.container.name",
    loki_label: "k8s_container_name",
};

/// Labels Tempo's "logs for this span" link filters on. Every one is a Loki *index* label (the
/// link's stream selector only matches index labels), present on spans from instrumented pods.
pub const TRACE_TO_LOGS: [JoinLabel; 2] = [SERVICE_NAME, NAMESPACE];

/// The structured-metadata key Loki's OTLP endpoint stores a log record's trace id under.
pub const TRACE_ID_METADATA: &str = "trace_id";

/// The log level Loki attaches to every line as structured metadata (`discover_log_levels`, on by
/// default since Loki 3.0): from an OTLP record's severity, else guessed from the line. One name
/// for OTLP and scraped logs alike.
pub const LOG_LEVEL_METADATA: &str = "detected_level";

/// The `detected_level` values of lines worth reading first in an incident.
pub const ERROR_LOG_LEVELS: [&str; 3] = ["error", "critical", "fatal"];

/// The label that span metrics and service-graph series carry for the service.
pub const SPAN_METRICS_SERVICE: &str = "service";

/// Exemplar labels that hold a trace id: Tempo's metrics generator writes `traceID`, OpenTelemetry
/// SDKs and Prometheus client libraries usually write `trace_id`.
pub const EXEMPLAR_TRACE_ID_LABELS: [&str; 2] = ["traceID", "trace_id"];

/// Resource attributes Loki's OTLP endpoint indexes as stream labels by default (Loki 3.7,
/// `distributor.otlp_config.default_resource_attributes_as_index_labels`). Everything else,
/// `trace_id` included, becomes structured metadata, which a stream selector cannot match.
#[cfg(test)]
pub const LOKI_DEFAULT_INDEX_ATTRIBUTES: [&str; 18] = [
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.replicaset.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.cronjob.name",
    "k8s.job.name",
];

/// The Loki label an OTLP resource attribute becomes: Loki replaces every character that is not a
/// letter, digit or `_` with `_`.
#[cfg(test)]
pub fn loki_label_for(attribute: &str) -> String {
    attribute
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_join_label_is_the_loki_translation_of_its_attribute() {
        for label in [SERVICE_NAME, NAMESPACE, POD, CONTAINER] {
            assert_eq!(
                loki_label_for(label.attribute),
                label.loki_label,
                "{label:?}"
            );
        }
    }

    #[test]
    fn trace_to_logs_only_joins_on_loki_index_labels() {
        for label in TRACE_TO_LOGS {
            assert!(
                LOKI_DEFAULT_INDEX_ATTRIBUTES.contains(&label.attribute),
                "{} is not indexed by Loki, so a stream selector on it matches nothing",
                label.attribute
            );
        }
    }
}
