//! Pinned charts and their base values (`values/<chart>.yaml`, embedded in the binary).

use serde::Serialize;
use yaml_serde::Value;

use crate::profile::ChartOverride;

/// A chart reference: a Helm repository URL (or an `oci://` registry), a name and an exact version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Chart {
    pub repo: String,
    pub name: String,
    pub version: String,
}

/// A pinned default.
#[derive(Clone, Copy, Debug)]
pub struct Pin {
    pub repo: &'static str,
    pub name: &'static str,
    pub version: &'static str,
}

const PROMETHEUS_COMMUNITY: &str = "https://prometheus-community.github.io/helm-charts";
// The OSS Loki, Tempo and Grafana charts moved here; the chart in the grafana/loki repository is
// now Grafana Enterprise Logs only.
const GRAFANA_COMMUNITY: &str = "https://grafana-community.github.io/helm-charts";
const OPEN_TELEMETRY: &str = "https://open-telemetry.github.io/opentelemetry-helm-charts";

pub const KUBE_PROMETHEUS_STACK: Pin = Pin {
    repo: PROMETHEUS_COMMUNITY,
    name: "kube-prometheus-stack",
    version: "88.5.3",
};
pub const LOKI: Pin = Pin {
    repo: GRAFANA_COMMUNITY,
    name: "loki",
    version: "18.11.0",
};
pub const TEMPO: Pin = Pin {
    repo: GRAFANA_COMMUNITY,
    name: "tempo",
    version: "2.2.4",
};
pub const TEMPO_DISTRIBUTED: Pin = Pin {
    repo: GRAFANA_COMMUNITY,
    name: "tempo-distributed",
    version: "3.3.0",
};
pub const OPENTELEMETRY_COLLECTOR: Pin = Pin {
    repo: OPEN_TELEMETRY,
    name: "opentelemetry-collector",
    version: "0.170.0",
};

/// The pin with the profile's overrides applied key by key.
pub fn resolve(pin: Pin, over: Option<&ChartOverride>) -> Chart {
    let pick = |o: Option<&String>, d: &str| o.cloned().unwrap_or_else(|| d.to_string());
    Chart {
        repo: pick(over.and_then(|o| o.repo.as_ref()), pin.repo),
        name: pick(over.and_then(|o| o.name.as_ref()), pin.name),
        version: pick(over.and_then(|o| o.version.as_ref()), pin.version),
    }
}

const BASE_VALUES: [(&str, &str); 5] = [
    (
        "kube-prometheus-stack",
        include_str!("../../values/kube-prometheus-stack.yaml"),
    ),
    ("loki", include_str!("../../values/loki.yaml")),
    ("tempo", include_str!("../../values/tempo.yaml")),
    (
        "tempo-distributed",
        include_str!("../../values/tempo-distributed.yaml"),
    ),
    (
        "opentelemetry-collector",
        include_str!("../../values/opentelemetry-collector.yaml"),
    ),
];

/// The embedded `values/<chart>.yaml` of a pinned chart.
pub fn base_values(chart: &str) -> Value {
    let text = BASE_VALUES
        .iter()
        .find(|(name, _)| *name == chart)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("no base values for chart {chart}"));
    yaml_serde::from_str(text)
        .unwrap_or_else(|e| panic!("values/{chart}.yaml is not valid YAML: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_base_values_file_parses_to_a_mapping() {
        for (name, _) in BASE_VALUES {
            assert!(base_values(name).is_mapping(), "{name}");
        }
    }

    #[test]
    fn overrides_replace_only_the_keys_they_set() {
        let over = ChartOverride {
            version: Some("99.0.0".into()),
            ..Default::default()
        };
        let chart = resolve(LOKI, Some(&over));
        assert_eq!(chart.version, "99.0.0");
        assert_eq!(chart.name, "loki");
        assert_eq!(chart.repo, GRAFANA_COMMUNITY);
    }
}
