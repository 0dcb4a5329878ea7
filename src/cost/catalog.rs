//! The pricing catalog: storage prices and vendors' pricing models, as data with a source and a
//! date for every price. The built-in one is `catalog.yaml`; `--pricing FILE` replaces it and is
//! checked the same way, with file:line:col in every error.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::profile::{position, Problem, PromDuration};
use crate::yaml::de::{from_node, DeError};
use crate::yaml::{self, Node, YamlError};

const BUILTIN: &str = include_str!("catalog.yaml");
const BUILTIN_NAME: &str = "built-in pricing catalog (src/cost/catalog.yaml)";

/// A pricing catalog, as loaded and checked.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Catalog {
    pub storage: StoragePrices,
    pub compute: ComputePrices,
    pub vendors: Ordered<Vendor>,
    /// Where the catalog came from, for reports.
    #[serde(skip)]
    pub origin: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StoragePrices {
    pub block_storage: Price,
    pub object_storage: Price,
}

/// What the stack's pods cost to run: their requests priced per vCPU-hour and GiB-hour, times a
/// factor for the node capacity requests cannot use.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComputePrices {
    pub vcpu_hour: Price,
    pub gib_hour: Price,
    pub node_overhead: Figure,
}

/// A price with where it comes from.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Price {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub price: f64,
    pub source: String,
    /// The day the source was read, `YYYY-MM-DD`.
    pub date: String,
    /// Why the figure is not confirmed on its source page, where it is not: `cost` lists such
    /// figures in its notes and marks them where it shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vendor {
    /// Display name, e.g. `Datadog`.
    pub name: String,
    /// The plan the prices belong to.
    pub plan: String,
    /// Bytes a vendor bills per metric sample, for `metric-gb`.
    #[serde(default)]
    pub metric_bytes_per_sample: Option<Figure>,
    pub items: Ordered<Item>,
}

/// A figure (not a price) with its source.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Figure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub value: f64,
    pub source: String,
    pub date: String,
    /// Why the figure is not confirmed on its source page, where it is not: `cost` lists such
    /// figures in its notes and marks them where it shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed: Option<String>,
}

/// One line of a vendor's bill.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Item {
    pub description: String,
    pub quantity: Quantity,
    /// USD per `per` units; absent when no sourced price exists (then `unpriced` says why).
    #[serde(default)]
    pub price: Option<f64>,
    #[serde(default = "one")]
    pub per: f64,
    #[serde(default)]
    pub included: f64,
    #[serde(default)]
    pub included_per_host: f64,
    #[serde(default)]
    pub unpriced: Option<String>,
    #[serde(default)]
    pub retention_beyond: Option<RetentionBeyond>,
    pub source: String,
    pub date: String,
    /// Why the figure is not confirmed on its source page, where it is not: `cost` lists such
    /// figures in its notes and marks them where it shows them.
    #[serde(default)]
    pub unconfirmed: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// What an item's price multiplies.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Quantity {
    Month,
    Hosts,
    Users,
    ActiveSeries,
    LogGb,
    LogEvents,
    TraceGb,
    MetricGb,
    IngestGb,
}

impl Quantity {
    /// One unit, for "$15 per host".
    pub fn singular(self) -> &'static str {
        match self {
            Quantity::Hosts => "host",
            Quantity::Users => "user",
            Quantity::LogEvents => "log event",
            other => other.unit(),
        }
    }

    /// Many units, for "148,500 active series".
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Month => "month",
            Quantity::Hosts => "hosts",
            Quantity::Users => "users",
            Quantity::ActiveSeries => "active series",
            Quantity::LogGb => "GB of logs",
            Quantity::LogEvents => "log events",
            Quantity::TraceGb => "GB of traces",
            Quantity::MetricGb => "GB of metrics",
            Quantity::IngestGb => "GB ingested",
        }
    }
}

/// Charges the quantity again for every `increment` the profile keeps a signal beyond `included`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetentionBeyond {
    pub signal: Signal,
    pub included: PromDuration,
    pub increment: PromDuration,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    Logs,
    Traces,
}

/// A mapping whose order is kept (vendors and items are shown as the catalog lists them).
#[derive(Clone, Debug)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, T)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    let value = map.next_value()?;
                    entries.push((key, value));
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// Why a catalog could not be used. Each names the file, line and column.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    Yaml(#[from] YamlError),
    #[error("{0}")]
    Schema(#[from] DeError),
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl Catalog {
    /// The text of the built-in catalog, comments included (`obsctl cost --catalog`).
    pub fn builtin_source() -> &'static str {
        BUILTIN
    }

    /// The catalog shipped in the binary.
    pub fn builtin() -> Catalog {
        match Catalog::parse(BUILTIN_NAME, BUILTIN.as_bytes()) {
            Ok(catalog) => catalog,
            // A unit test loads it; reaching this is a build that skipped the tests.
            Err(e) => panic!("the built-in pricing catalog is broken: {e}"),
        }
    }

    /// Reads a catalog file (`--pricing FILE`).
    pub fn load_file(path: &Path) -> Result<Catalog, CatalogError> {
        let bytes = std::fs::read(path).map_err(|e| CatalogError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Catalog::parse(&path.display().to_string(), &bytes)
    }

    /// Parses and checks catalog text; `source` names it in positions.
    pub fn parse(source: &str, bytes: &[u8]) -> Result<Catalog, CatalogError> {
        let root = yaml::parse(source, bytes)?;
        let mut catalog: Catalog = from_node(&root)?;
        catalog.origin = source.to_string();
        let problems = check(&catalog, &root);
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogError::Invalid(problems))
        }
    }

    pub fn vendor(&self, id: &str) -> Option<&Vendor> {
        self.vendors.0.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }
}

/// Rules one value's type cannot express: prices ≥ 0, a source URL and a date on everything,
/// a reason for every missing price, and the figures each quantity needs.
fn check(catalog: &Catalog, root: &Node) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut add = |path: &[&str], message: String| {
        problems.push(Problem {
            pos: position(root, path),
            path: path.join("."),
            message,
        });
    };
    for (at, price) in [
        (["storage", "blockStorage"], &catalog.storage.block_storage),
        (
            ["storage", "objectStorage"],
            &catalog.storage.object_storage,
        ),
        (["compute", "vcpuHour"], &catalog.compute.vcpu_hour),
        (["compute", "gibHour"], &catalog.compute.gib_hour),
    ] {
        check_number(&mut add, &at, "price", price.price);
        check_provenance(
            &mut add,
            &at,
            &price.source,
            &price.date,
            &price.unconfirmed,
        );
    }
    let overhead = &catalog.compute.node_overhead;
    if !(overhead.value.is_finite() && overhead.value >= 1.0) {
        add(
            &["compute", "nodeOverhead", "value"],
            format!(
                "expected a factor ≥ 1 (requests cannot use more than the whole node), found {}",
                overhead.value
            ),
        );
    }
    check_provenance(
        &mut add,
        &["compute", "nodeOverhead"],
        &overhead.source,
        &overhead.date,
        &overhead.unconfirmed,
    );
    if catalog.vendors.0.is_empty() {
        add(
            &["vendors"],
            "expected at least one vendor to compare with".into(),
        );
    }
    for (vendor_id, vendor) in &catalog.vendors.0 {
        if !is_id(vendor_id) {
            add(
                &["vendors", vendor_id],
                format!("`{vendor_id}` is not a vendor id; expected lowercase letters, digits and `-`, e.g. `grafana-cloud`"),
            );
        }
        if let Some(figure) = &vendor.metric_bytes_per_sample {
            let at = ["vendors", vendor_id.as_str(), "metricBytesPerSample"];
            if !(figure.value.is_finite() && figure.value > 0.0) {
                add(
                    &[&at[..], &["value"]].concat(),
                    format!("expected a number > 0, found {}", figure.value),
                );
            }
            check_provenance(
                &mut add,
                &at,
                &figure.source,
                &figure.date,
                &figure.unconfirmed,
            );
        }
        if vendor.items.0.is_empty() {
            add(
                &["vendors", vendor_id, "items"],
                "expected at least one item".into(),
            );
        }
        for (item_id, item) in &vendor.items.0 {
            let at = ["vendors", vendor_id.as_str(), "items", item_id.as_str()];
            match (item.price, &item.unpriced) {
                (Some(price), None) => check_number(&mut add, &at, "price", price),
                (None, Some(reason)) if !reason.trim().is_empty() => {}
                (Some(_), Some(_)) => add(
                    &[&at[..], &["unpriced"]].concat(),
                    "an item has either a `price` or an `unpriced` reason, not both".into(),
                ),
                (None, _) => add(
                    &at,
                    "missing `price`; give one (USD per `per` units) or say why there is none with `unpriced: <reason>`".into(),
                ),
            }
            if !(item.per.is_finite() && item.per > 0.0) {
                add(
                    &[&at[..], &["per"]].concat(),
                    format!("expected a number > 0, found {}", item.per),
                );
            }
            check_number(&mut add, &at, "included", item.included);
            check_number(&mut add, &at, "includedPerHost", item.included_per_host);
            if item.quantity == Quantity::MetricGb && vendor.metric_bytes_per_sample.is_none() {
                add(
                    &[&at[..], &["quantity"]].concat(),
                    format!("`metric-gb` needs `vendors.{vendor_id}.metricBytesPerSample` (bytes billed per sample, with its source)"),
                );
            }
            if item.quantity == Quantity::IngestGb && vendor.metric_bytes_per_sample.is_none() {
                add(
                    &[&at[..], &["quantity"]].concat(),
                    format!("`ingest-gb` counts metrics too: it needs `vendors.{vendor_id}.metricBytesPerSample`"),
                );
            }
            if let Some(r) = &item.retention_beyond {
                if r.increment.as_secs() == 0 {
                    add(
                        &[&at[..], &["retentionBeyond", "increment"]].concat(),
                        "expected a positive duration such as `30d`".into(),
                    );
                }
            }
            check_provenance(&mut add, &at, &item.source, &item.date, &item.unconfirmed);
        }
    }
    problems
}

fn check_number(add: &mut impl FnMut(&[&str], String), at: &[&str], key: &str, value: f64) {
    if !(value.is_finite() && value >= 0.0) {
        add(
            &[at, &[key]].concat(),
            format!("expected a number ≥ 0, found {value}"),
        );
    }
}

fn check_provenance(
    add: &mut impl FnMut(&[&str], String),
    at: &[&str],
    source: &str,
    date: &str,
    unconfirmed: &Option<String>,
) {
    if unconfirmed.as_deref().is_some_and(|r| r.trim().is_empty()) {
        add(
            &[at, &["unconfirmed"]].concat(),
            "`unconfirmed` is empty: say why the figure is not confirmed on its source page, or leave the key out".into(),
        );
    }
    if !(source.starts_with("https://") || source.starts_with("http://")) {
        add(
            &[at, &["source"]].concat(),
            format!(
                "`{source}` is not a URL; every price needs the http(s) address it was read from"
            ),
        );
    }
    if !is_iso_date(date) {
        add(
            &[at, &["date"]].concat(),
            format!("`{date}` is not a date: expected the day the source was read, as YYYY-MM-DD (e.g. `2026-12-03`)"),
        );
    }
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_iso_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let number = |p: &str, len: usize| {
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<u32>().ok())
    };
    match parts.as_slice() {
        [y, m, d] => matches!(
            (number(y, 4), number(m, 2), number(d, 2)),
            (Some(Some(_)), Some(Some(1..=12)), Some(Some(1..=31)))
        ),
        _ => false,
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_loads_with_a_source_for_every_price() {
        let c = Catalog::builtin();
        assert_eq!(c.storage.block_storage.price, 0.10);
        assert_eq!(c.storage.object_storage.price, 0.020);
        assert_eq!(c.compute.node_overhead.value, 1.25);
        let ids: Vec<&str> = c.vendors.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(ids, ["datadog", "newrelic", "grafana-cloud"]);
        for (_, vendor) in &c.vendors.0 {
            for (id, item) in &vendor.items.0 {
                assert!(item.source.starts_with("https://"), "{id}");
                assert!(is_iso_date(&item.date), "{id}");
                assert!(item.price.is_some() != item.unpriced.is_some(), "{id}");
                // Every item the built-in catalog lists has a list price: no lower bounds.
                assert!(item.price.is_some(), "{id} is unpriced");
            }
        }
    }

    #[test]
    fn unconfirmed_figures_carry_their_reason_and_an_empty_reason_is_refused() {
        let text = MINIMAL.replace(
            "vcpuHour: {price: 0.03, source: https://a.example/c, date: '2026-12-01'}",
            "vcpuHour: {price: 0.03, source: https://a.example/c, date: '2026-12-01', unconfirmed: table not in the copy}",
        );
        let c = Catalog::parse("prices.yaml", text.as_bytes()).unwrap();
        assert_eq!(
            c.compute.vcpu_hour.unconfirmed.as_deref(),
            Some("table not in the copy")
        );
        assert_eq!(c.compute.gib_hour.unconfirmed, None);
        let err = error(&text.replace("table not in the copy", "''"));
        assert!(err.starts_with("prices.yaml:5:"), "{err}");
        assert!(err.contains("compute.vcpuHour.unconfirmed"), "{err}");
    }

    fn error(text: &str) -> String {
        Catalog::parse("prices.yaml", text.as_bytes())
            .map(|_| ())
            .unwrap_err()
            .to_string()
    }

    const MINIMAL: &str = "storage:
  blockStorage: {price: 0.1, source: https://a.example/b, date: '2026-12-01'}
  objectStorage: {price: 0.02, source: https://a.example/o, date: '2026-12-01'}
compute:
  vcpuHour: {price: 0.03, source: https://a.example/c, date: '2026-12-01'}
  gibHour: {price: 0.004, source: https://a.example/c, date: '2026-12-01'}
  nodeOverhead: {value: 1.2, source: https://a.example/n, date: '2026-12-01'}
vendors:
  acme:
    name: Acme
    plan: Basic
    items:
      hosts: {description: per host, quantity: hosts, price: 5, source: https://a.example/p, date: '2026-01-01'}
";

    #[test]
    fn a_minimal_catalog_loads() {
        let c = Catalog::parse("prices.yaml", MINIMAL.as_bytes()).unwrap();
        assert_eq!(c.vendor("acme").unwrap().items.0[0].1.price, Some(5.0));
        assert_eq!(c.origin, "prices.yaml");
    }

    #[test]
    fn negative_prices_are_refused_at_their_position() {
        let text = MINIMAL.replace("price: 5,", "price: -5,");
        let err = error(&text);
        assert!(
            err.starts_with("prices.yaml:13:"),
            "position of the item: {err}"
        );
        assert!(err.contains("expected a number ≥ 0, found -5"), "{err}");
    }

    #[test]
    fn a_price_without_source_is_refused() {
        let text = MINIMAL.replace("source: https://a.example/p", "source: my notes");
        let err = error(&text);
        assert!(err.contains("vendors.acme.items.hosts.source"), "{err}");
        assert!(err.contains("is not a URL"), "{err}");
    }

    #[test]
    fn unknown_keys_and_quantities_are_refused_with_positions() {
        let err = error(&MINIMAL.replace("quantity: hosts", "quantity: cores"));
        assert!(err.starts_with("prices.yaml:13:"), "{err}");
        assert!(err.contains("cores"), "{err}");
        let err = error(&MINIMAL.replace("plan: Basic", "plan: Basic\n    plann: x"));
        assert!(err.contains("plann"), "{err}");
    }

    #[test]
    fn a_price_without_a_date_read_is_refused_at_its_position() {
        // Undated, or a date in words: refused at the item's `date`.
        let err = error(&MINIMAL.replace("date: '2026-01-01'", "date: undated"));
        assert!(err.starts_with("prices.yaml:13:"), "{err}");
        assert!(err.contains("vendors.acme.items.hosts.date"), "{err}");
        assert!(err.contains("YYYY-MM-DD"), "{err}");
        let err = error(&MINIMAL.replace(
            "vcpuHour: {price: 0.03, source: https://a.example/c, date: '2026-12-01'}",
            "vcpuHour: {price: 0.03, source: https://a.example/c, date: 'as of September'}",
        ));
        assert!(err.starts_with("prices.yaml:5:62:"), "{err}");
        assert!(err.contains("compute.vcpuHour.date"), "{err}");
        // Missing entirely: the schema names the key and the position.
        let err = error(&MINIMAL.replace(", date: '2026-01-01'", ""));
        assert!(err.contains("prices.yaml:13:"), "{err}");
        assert!(err.contains("date"), "{err}");
        let err = error(&MINIMAL.replace("source: https://a.example/p, ", ""));
        assert!(err.contains("prices.yaml:13:"), "{err}");
        assert!(err.contains("source"), "{err}");
    }

    #[test]
    fn a_node_overhead_below_one_is_refused() {
        let err = error(&MINIMAL.replace("value: 1.2", "value: 0.5"));
        assert!(err.contains("compute.nodeOverhead.value"), "{err}");
    }

    #[test]
    fn an_item_needs_a_price_or_a_reason() {
        let err = error(&MINIMAL.replace("price: 5, ", ""));
        assert!(err.contains("missing `price`"), "{err}");
    }
}
