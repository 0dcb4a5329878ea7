//! The `workload:` and `pricing:` sections: what the stack will ingest, for sizing and cost.
//!
//! ```yaml
//! workload:
//!   hosts: 15                         # for per-host vendor pricing
//!   users: 15                         # for per-seat vendor pricing
//!   metrics: {activeSeries: 150000}   # samples/s = activeSeries / metrics.scrapeInterval
//!   logs: {ingestPerDay: 20GiB}
//!   traces: {spansPerSecond: 500, bytesPerSpan: 450}
//! pricing: {blockStorage: 0.08, objectStorage: 0.023}  # USD per GiB-month
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::types::{scale, ScaleError};
use super::Stack;

/// Bytes per span when the profile does not say: a third-party estimate of a span's binary size
/// ("Total per span (binary): ~500 bytes", learnsystemdesign.in, distributed-tracing scale
/// constraints). Real spans range from ~200 B to several KiB with stack traces; the mix obsctl's
/// calibration fed Tempo averaged 337 B of protobuf a span.
pub const DEFAULT_BYTES_PER_SPAN: u64 = 500;

/// Bytes per log event when the profile does not say, to turn GiB into events for per-event
/// pricing: "300 bytes / log message" (A. Chuvakin's log maths, quoted by Rapid7, 2013).
pub const DEFAULT_BYTES_PER_EVENT: u64 = 300;

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "Workload")]
pub struct Traffic {
    /// Hosts, for per-host vendor pricing.
    #[serde(default)]
    pub hosts: u32,
    /// People using the stack, for per-seat vendor pricing.
    #[serde(default)]
    pub users: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsWorkload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsWorkload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces: Option<TracesWorkload>,
    /// Expected requests per service (the SLOs' `service:`), for the SLO lint: whether a page
    /// can fire at that traffic, and whether one failure would page.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, ServiceTraffic>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceTraffic {
    /// Requests per second on a typical day (the SLI's total events).
    pub requests_per_second: NonNegative,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsWorkload {
    /// Series scraped at `metrics.scrapeInterval`.
    pub active_series: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogsWorkload {
    /// Raw (uncompressed) log bytes per day: `20GiB`, `20GB` or `20Gi`.
    pub ingest_per_day: ByteSize,
    /// Average size of one log event, for per-event vendor pricing (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_event: Option<u64>,
}

impl LogsWorkload {
    pub fn bytes_per_event(&self) -> u64 {
        self.bytes_per_event.unwrap_or(DEFAULT_BYTES_PER_EVENT)
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TracesWorkload {
    /// Spans per second ingested (after any sampling).
    pub spans_per_second: NonNegative,
    /// Average size of one span as sent over OTLP (protobuf), before Tempo compresses it (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_span: Option<u64>,
}

impl TracesWorkload {
    pub fn bytes_per_span(&self) -> u64 {
        self.bytes_per_span.unwrap_or(DEFAULT_BYTES_PER_SPAN)
    }
}

/// USD per GiB-month; the catalog's defaults otherwise.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pricing {
    /// Block storage (persistent volumes), USD per GiB-month of provisioned size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_storage: Option<NonNegative>,
    /// Object storage (buckets), USD per GiB-month stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_storage: Option<NonNegative>,
    /// Compute, USD per vCPU-hour of requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpu_hour: Option<NonNegative>,
    /// Compute, USD per GiB-hour of memory requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gib_hour: Option<NonNegative>,
    /// The people who run the stack: a third line of the self-hosted bill, off unless set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Operations>,
}

/// Time spent running the stack (upgrades, incidents, capacity work) and what an hour costs.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Operations {
    /// Hours a month of engineering time, e.g. 20.
    pub hours_per_month: NonNegative,
    /// USD per hour, fully loaded (salary, benefits, overhead), e.g. 100.
    pub hourly_rate: NonNegative,
}

/// A finite number ≥ 0 (a rate or a price). Refused while loading otherwise, at its position.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct NonNegative(f64);

impl NonNegative {
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && value >= 0.0).then_some(NonNegative(value))
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for NonNegative {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        NonNegative::new(value)
            .ok_or_else(|| de::Error::custom(format!("expected a number ≥ 0, found {value}")))
    }
}

impl JsonSchema for NonNegative {
    fn schema_name() -> Cow<'static, str> {
        "NonNegative".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number", "minimum": 0})
    }
}

/// An amount of data with an IEC or SI unit: `20GiB`, `20GB`, Kubernetes-style `20Gi`/`20G`, or
/// plain bytes. Never negative. Keeps the text as written.
#[derive(Clone, Debug, PartialEq)]
pub struct ByteSize {
    bytes: u64,
    text: String,
}

/// Every unit accepted, longest first so `GiB` is tried before `B`.
const BYTE_UNITS: [(&str, u64); 22] = [
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
    ("kB", 1_000),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("PB", 1_000_000_000_000_000),
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("P", 1_000_000_000_000_000),
    ("B", 1),
];

impl ByteSize {
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
    pub fn gib(&self) -> f64 {
        self.bytes as f64 / (1u64 << 30) as f64
    }
}

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected an amount of data such as `20GiB`, `20GB`, `20Gi` or `512MiB` \
                        (units B, kB/KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB, or Ki…Pi, k…P)";
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(format!(
                "invalid amount `{text}`: an amount of data cannot be negative; {expected}"
            ));
        }
        let (number, multiplier) = BYTE_UNITS
            .iter()
            .find_map(|(unit, m)| trimmed.strip_suffix(unit).map(|n| (n.trim_end(), *m)))
            .unwrap_or((trimmed, 1));
        let bytes = scale(number, multiplier).map_err(|e| match e {
            ScaleError::Malformed => format!("invalid amount `{text}`: {expected}"),
            ScaleError::TooLarge => format!("amount `{text}` is too large"),
        })?;
        Ok(ByteSize {
            bytes,
            text: trimmed.to_string(),
        })
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A bare number is bytes; anything else is text with a unit.
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["string", "integer"], "minimum": 0,
            "pattern": "^[0-9]+(\\.[0-9]+)? ?(KiB|MiB|GiB|TiB|PiB|kB|KB|MB|GB|TB|PB|Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|B)?$",
            "description": "An amount of data: 20GiB, 20GB, 20Gi, or a number of bytes"})
    }
}

/// Rules of the workload that one key's type cannot check: each is `(key path, message)`, for
/// `validate` to report at the key's position.
pub(crate) fn check(stack: &Stack) -> Vec<(Vec<&'static str>, String)> {
    let mut problems = Vec::new();
    let Some(w) = &stack.workload else {
        return problems;
    };
    if let Some(traces) = &w.traces {
        if traces.bytes_per_span == Some(0) {
            problems.push((
                vec!["workload", "traces", "bytesPerSpan"],
                format!("a span has at least a trace id and a span id; expected at least 1 byte (leave the key out for the {DEFAULT_BYTES_PER_SPAN}-byte default)"),
            ));
        }
        if traces.spans_per_second.get() > 0.0 && !stack.traces.enabled {
            problems.push((
                vec!["workload", "traces", "spansPerSecond"],
                "spans are expected but `traces.enabled` is false; enable traces or set `spansPerSecond: 0`".to_string(),
            ));
        }
    }
    if let Some(logs) = &w.logs {
        if logs.bytes_per_event == Some(0) {
            problems.push((
                vec!["workload", "logs", "bytesPerEvent"],
                format!("expected at least 1 byte per event (leave the key out for the {DEFAULT_BYTES_PER_EVENT}-byte default)"),
            ));
        }
        if logs.ingest_per_day.bytes() > 0 && !stack.logs.enabled {
            problems.push((
                vec!["workload", "logs", "ingestPerDay"],
                "logs are expected but `logs.enabled` is false; enable logs or set `ingestPerDay: 0`".to_string(),
            ));
        }
    }
    if let Some(metrics) = &w.metrics {
        if metrics.active_series > 0 && !stack.metrics.enabled {
            problems.push((
                vec!["workload", "metrics", "activeSeries"],
                "series are expected but `metrics.enabled` is false; enable metrics or set `activeSeries: 0`".to_string(),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_take_iec_si_and_kubernetes_units() {
        let gib = 20u64 << 30;
        for text in ["20GiB", "20Gi", "20 GiB"] {
            assert_eq!(text.parse::<ByteSize>().unwrap().bytes(), gib, "{text}");
        }
        for text in ["20GB", "20G"] {
            assert_eq!(text.parse::<ByteSize>().unwrap().bytes(), 20_000_000_000);
        }
        assert_eq!("1.5TiB".parse::<ByteSize>().unwrap().bytes(), 3 << 39);
        assert_eq!("512MiB".parse::<ByteSize>().unwrap().bytes(), 512 << 20);
        assert_eq!("300kB".parse::<ByteSize>().unwrap().bytes(), 300_000);
        assert_eq!("1024".parse::<ByteSize>().unwrap().bytes(), 1024);
        assert_eq!("64B".parse::<ByteSize>().unwrap().bytes(), 64);
        assert_eq!("20GiB".parse::<ByteSize>().unwrap().to_string(), "20GiB");
    }

    #[test]
    fn byte_sizes_refuse_negative_and_malformed() {
        let err = "-5GiB".parse::<ByteSize>().unwrap_err();
        assert!(err.contains("cannot be negative"), "{err}");
        for bad in [
            "", "GiB", "20Gb", "20 gib", "twenty", "1..5GiB", ".5GiB", "20GiBs",
        ] {
            let err = bad.parse::<ByteSize>().unwrap_err();
            assert!(err.contains("expected an amount of data"), "{bad}: {err}");
        }
    }

    #[test]
    fn workload_rules_report_at_the_key_to_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(
            &path,
            "name: p\ntraces: {enabled: false}\nworkload:\n  traces: {spansPerSecond: 5, bytesPerSpan: 0}\n  logs: {ingestPerDay: 1GiB, bytesPerEvent: 0}\n",
        )
        .unwrap();
        let err = crate::profile::load_file(&path).unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert!(lines[0].ends_with("p.yaml:4:45: `workload.traces.bytesPerSpan`: a span has at least a trace id and a span id; expected at least 1 byte (leave the key out for the 500-byte default)"), "{err}");
        assert!(lines[1].contains("p.yaml:4:28: `workload.traces.spansPerSecond`: spans are expected but `traces.enabled` is false"), "{err}");
        assert!(
            lines[2].contains("p.yaml:5:45: `workload.logs.bytesPerEvent`"),
            "{err}"
        );
    }

    #[test]
    fn non_negative_refuses_negative_and_infinite() {
        assert!(NonNegative::new(0.0).is_some());
        assert!(NonNegative::new(-0.01).is_none());
        assert!(NonNegative::new(f64::INFINITY).is_none());
        assert!(NonNegative::new(f64::NAN).is_none());
    }
}
