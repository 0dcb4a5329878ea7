//! `--scale field=v1,v2,…`: the whole bill at several sizes of one workload figure, each point
//! exactly what `obsctl cost` reports for the profile with that figure.

use serde_json::{json, Value};

use super::{estimate, Estimate};
use crate::cost::catalog::Catalog;
use crate::profile::workload::{ByteSize, NonNegative};
use crate::profile::{Profile, ProfileError};
use crate::render::{render, RenderError};

/// The workload figures `--scale` can vary, by the name the profile gives them.
pub const FIELDS: [&str; 7] = [
    "hosts",
    "users",
    "metrics.activeSeries",
    "logs.ingestPerDay",
    "logs.bytesPerEvent",
    "traces.spansPerSecond",
    "traces.bytesPerSpan",
];

/// One value of the swept figure, kept as typed (`20GiB`) and as a number for the chart's axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub text: String,
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// Canonical name from `FIELDS`.
    pub field: &'static str,
    pub points: Vec<Point>,
}

/// Accepts the canonical name, its last segment (`activeSeries`, `ingestPerDay`,
/// `spansPerSecond`) or the same with `workload.` in front.
fn field(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix("workload.").unwrap_or(name);
    FIELDS.iter().copied().find(|f| {
        *f == name
            || (f.rsplit('.').next() == Some(name)
                && FIELDS
                    .iter()
                    .filter(|g| g.rsplit('.').next() == Some(name))
                    .count()
                    == 1)
    })
}

/// Parses `field=v1,v2,…`; the message names what was expected (the caller adds `--scale`).
pub fn parse(text: &str) -> Result<Sweep, String> {
    let Some((name, list)) = text.split_once('=') else {
        return Err(format!(
            "`{text}`: expected FIELD=V1,V2,… such as `hosts=15,50,150,500`"
        ));
    };
    let Some(field) = field(name.trim()) else {
        let suggestion = crate::suggest::closest(name.trim(), &FIELDS)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "`{name}` is not a workload figure{suggestion}; expected one of {}",
            FIELDS.join(", ")
        ));
    };
    let mut points = Vec::new();
    for item in list.split(',').map(str::trim) {
        let value = match field {
            "logs.ingestPerDay" => item.parse::<ByteSize>().map(|b| b.bytes() as f64),
            "traces.spansPerSecond" => item
                .parse::<f64>()
                .ok()
                .and_then(NonNegative::new)
                .map(NonNegative::get)
                .ok_or_else(|| format!("`{item}` is not a number ≥ 0")),
            "hosts" | "users" => item
                .parse::<u32>()
                .map(f64::from)
                .map_err(|_| format!("`{item}` is not a whole number up to {}", u32::MAX)),
            _ => item
                .parse::<u64>()
                .map(|n| n as f64)
                .map_err(|_| format!("`{item}` is not a whole number")),
        }
        .map_err(|e| format!("{field}: {e}"))?;
        points.push(Point {
            text: item.to_string(),
            value,
        });
    }
    if points.len() < 2 {
        return Err(format!(
            "{field}: give at least two values to compare, e.g. `{field}=15,150`"
        ));
    }
    Ok(Sweep { field, points })
}

/// Why a sweep could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{0}")]
    Profile(#[from] ProfileError),
    #[error("{0}")]
    Render(#[from] RenderError),
    #[error("--scale {field}: the profile has no `workload.{section}` to vary; add one or pick another figure")]
    Missing {
        field: &'static str,
        section: &'static str,
    },
    /// The value breaks a rule the profile's own `workload:` is held to.
    #[error("--scale {field}={value}: {message}")]
    Invalid {
        field: &'static str,
        value: String,
        message: String,
    },
}

/// The profile with the swept figure set to `point`.
pub fn with_point(
    profile: &Profile,
    field: &'static str,
    point: &Point,
) -> Result<Profile, SweepError> {
    let mut p = profile.clone();
    let missing = |section| SweepError::Missing { field, section };
    let Some(w) = p.stack.workload.as_mut() else {
        return Err(missing("hosts"));
    };
    match field {
        "hosts" => w.hosts = point.value as u32,
        "users" => w.users = point.value as u32,
        "metrics.activeSeries" => {
            w.metrics
                .as_mut()
                .ok_or_else(|| missing("metrics"))?
                .active_series = point.value as u64
        }
        "logs.ingestPerDay" => {
            let logs = w.logs.as_mut().ok_or_else(|| missing("logs"))?;
            logs.ingest_per_day = point
                .text
                .parse()
                .expect("parse() accepted this size already");
        }
        "logs.bytesPerEvent" => {
            w.logs
                .as_mut()
                .ok_or_else(|| missing("logs"))?
                .bytes_per_event = Some(point.value as u64)
        }
        "traces.spansPerSecond" => {
            w.traces
                .as_mut()
                .ok_or_else(|| missing("traces"))?
                .spans_per_second =
                NonNegative::new(point.value).expect("parse() accepted this number already")
        }
        "traces.bytesPerSpan" => {
            w.traces
                .as_mut()
                .ok_or_else(|| missing("traces"))?
                .bytes_per_span = Some(point.value as u64)
        }
        other => unreachable!("{other} is not in FIELDS"),
    }
    // The same rules as a `workload:` written in the profile (no 0-byte events, no spans for
    // disabled traces, …).
    if let Some((_, message)) = crate::profile::workload::check(&p.stack).into_iter().next() {
        return Err(SweepError::Invalid {
            field,
            value: point.text.clone(),
            message,
        });
    }
    Ok(p)
}

/// Every point's full estimate, in the order given.
pub fn sweep(
    profile: &Profile,
    catalog: &Catalog,
    sweep: &Sweep,
) -> Result<Vec<(Point, Estimate)>, SweepError> {
    sweep
        .points
        .iter()
        .map(|point| {
            let p = with_point(profile, sweep.field, point)?;
            let rendered = render(&p)?;
            Ok((point.clone(), estimate(&p, &rendered, catalog)?))
        })
        .collect()
}

/// The self-hosted figure a sweep compares: volumes at the size each workload needs (a fixed
/// volume would lose data as the workload grows), plus compute and operations.
pub fn self_hosted(e: &Estimate) -> f64 {
    e.self_hosted_recommended_monthly_usd
}

/// What a sweep holds fixed, for the output.
pub fn assumptions(profile: &Profile, field: &str) -> Vec<String> {
    let s = &profile.stack;
    let mut out = vec![
        format!("only `workload.{field}` changes; every other workload figure stays as the profile declares it"),
        "self-hosted: volumes at the recommended size for each workload (a volume sized for the first point would lose data at the next); compute from the profile's replicas and requests, which do not grow by themselves".to_string(),
    ];
    let logs_place = if s.logs.object_storage.is_some() {
        "object storage (bucket grows, ingester volumes hold the WAL)"
    } else {
        "its volume (grows with the data)"
    };
    out.push(format!(
        "Loki {} mode with {} replica(s), chunks on {logs_place}; Tempo {}; Prometheus {} replica(s)",
        match s.logs.mode {
            crate::profile::LogsMode::Monolithic => "monolithic",
            crate::profile::LogsMode::Distributed => "distributed",
        },
        s.logs.replicas,
        if s.traces.object_storage.is_some() {
            "on object storage"
        } else {
            "on its volume"
        },
        s.metrics.replicas,
    ));
    out.push(
        "DaemonSet pods (collector, node exporter) run once per host: compute follows `hosts`"
            .to_string(),
    );
    out
}

/// The sweep as JSON: per point, every option's monthly total and the full estimates' key lines.
pub fn json(profile: &Profile, sweep: &Sweep, points: &[(Point, Estimate)]) -> Value {
    let rows: Vec<Value> = points
        .iter()
        .map(|(p, e)| {
            let vendors: serde_json::Map<String, Value> = e
                .comparison
                .iter()
                .map(|v| (v.vendor.clone(), json!(round2(v.monthly_usd))))
                .collect();
            json!({
                "value": p.text,
                "self_hosted": {
                    "storage_usd": round2(e.storage_recommended_monthly_usd),
                    "compute_usd": round2(e.compute.monthly_usd),
                    "operations_usd": e.operations.map(|o| round2(o.monthly_usd)),
                    "monthly_usd": round2(self_hosted(e)),
                },
                "vendors": vendors,
                "warnings": e.warnings,
            })
        })
        .collect();
    json!({
        "profile": profile.stack.name.to_string(),
        "field": sweep.field,
        "points": rows,
        "assumptions": assumptions(profile, sweep.field),
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_full_or_short_name() {
        assert_eq!(parse("hosts=15,50").unwrap().field, "hosts");
        assert_eq!(
            parse("activeSeries=1,2").unwrap().field,
            "metrics.activeSeries"
        );
        assert_eq!(
            parse("workload.logs.ingestPerDay=20GiB,1TiB")
                .unwrap()
                .points[1]
                .value,
            (1u64 << 40) as f64
        );
        let err = parse("hots=1,2").unwrap_err();
        assert!(err.contains("did you mean `hosts`"), "{err}");
        assert!(parse("hosts=15").unwrap_err().contains("at least two"));
        assert!(parse("hosts=15,x").unwrap_err().contains("`x`"));
        assert!(parse("hosts").unwrap_err().contains("FIELD=V1,V2"));
        // bytesPerEvent and bytesPerSpan share no suffix with another field; `bytesPer` is not a name.
        assert!(parse("bytesPer=1,2").is_err());
    }
}
