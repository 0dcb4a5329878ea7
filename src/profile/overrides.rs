//! `values:` overrides of settings the profile models. Helm values are merged last, so an override
//! is what gets deployed: the model takes its value (cost and SLO checks then see the deployed
//! retention), and a contradiction is a warning naming both positions.

use super::{Problem, Stack};
use crate::yaml::{Node, Value};

/// One modelled setting and where the chart's values hold it.
struct Modelled {
    model: &'static [&'static str],
    values: &'static [&'static str],
    apply: fn(&mut Stack, &str) -> Option<String>,
}

const MODELLED: &[Modelled] = &[
    Modelled {
        model: &["metrics", "retention"],
        values: &[
            "metrics",
            "values",
            "prometheus",
            "prometheusSpec",
            "retention",
        ],
        apply: |s, text| {
            let d = text.parse().ok()?;
            Some(std::mem::replace(&mut s.metrics.retention, d).to_string())
        },
    },
    Modelled {
        model: &["metrics", "scrapeInterval"],
        values: &[
            "metrics",
            "values",
            "prometheus",
            "prometheusSpec",
            "scrapeInterval",
        ],
        apply: |s, text| {
            let d = text.parse().ok()?;
            Some(std::mem::replace(&mut s.metrics.scrape_interval, d).to_string())
        },
    },
    Modelled {
        model: &["metrics", "replicas"],
        values: &[
            "metrics",
            "values",
            "prometheus",
            "prometheusSpec",
            "replicas",
        ],
        apply: |s, text| {
            let n = text.parse().ok()?;
            Some(std::mem::replace(&mut s.metrics.replicas, n).to_string())
        },
    },
    Modelled {
        model: &["metrics", "storage"],
        values: &[
            "metrics",
            "values",
            "prometheus",
            "prometheusSpec",
            "storageSpec",
            "volumeClaimTemplate",
            "spec",
            "resources",
            "requests",
            "storage",
        ],
        apply: |s, text| {
            let q = text.parse().ok()?;
            Some(std::mem::replace(&mut s.metrics.storage, q).to_string())
        },
    },
    Modelled {
        model: &["logs", "retention"],
        values: &[
            "logs",
            "values",
            "loki",
            "limits_config",
            "retention_period",
        ],
        apply: |s, text| {
            let d = text.parse().ok()?;
            Some(std::mem::replace(&mut s.logs.retention, d).to_string())
        },
    },
];

fn node_at<'a>(root: &'a Node, path: &[&str]) -> Option<&'a Node> {
    path.iter().try_fold(root, |node, key| node.get(key))
}

/// Gives the model each overridden value; returns a warning per override that changes what the
/// profile says.
pub(super) fn reconcile(stack: &mut Stack, root: &Node) -> Vec<Problem> {
    let mut warnings = Vec::new();
    for m in MODELLED {
        let Some(node) = node_at(root, m.values) else {
            continue;
        };
        let text = match (&node.value, &node.raw) {
            (Value::Str(s), _) => s.clone(),
            (Value::Int(_) | Value::Float(_), Some(raw)) => raw.clone(),
            _ => continue,
        };
        let before = modelled_value(stack, m);
        let Some(modelled) = (m.apply)(stack, &text) else {
            continue;
        };
        // Compared as parsed values: `720h` and `30d` are the same retention.
        if modelled_value(stack, m) == before {
            continue;
        }
        let model_path = m.model.join(".");
        let model_at = match node_at(root, m.model) {
            Some(n) => format!("`{model_path}: {modelled}` at {}", n.pos),
            None => format!("the default `{model_path}: {modelled}`"),
        };
        warnings.push(Problem {
            pos: node.pos.clone(),
            path: m.values.join("."),
            message: format!(
                "overrides {model_at}; `{text}` is what gets deployed (and what cost and SLO checks use): set `{model_path}` instead and drop the override"
            ),
        });
    }
    warnings
}

fn modelled_value(stack: &Stack, m: &Modelled) -> String {
    match m.model {
        ["metrics", "retention"] => stack.metrics.retention.as_secs().to_string(),
        ["metrics", "scrapeInterval"] => stack.metrics.scrape_interval.as_secs().to_string(),
        ["metrics", "replicas"] => stack.metrics.replicas.to_string(),
        ["metrics", "storage"] => stack.metrics.storage.bytes().to_string(),
        ["logs", "retention"] => stack.logs.retention.as_secs().to_string(),
        _ => String::new(),
    }
}
