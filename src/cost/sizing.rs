//! Storage sizing: how much each component keeps over the profile's retention, where (volumes or
//! object storage), and the volume size that holds it. Pure arithmetic on the profile, the render
//! and the workload; every figure it assumes is a named constant with its source.

use serde_json::{json, Map, Value};

use crate::profile::types::format_bytes_binary;
use crate::profile::workload::{LogsWorkload, TracesWorkload};
use crate::profile::{LogsMode, Quantity, Stack};
use crate::render::retention_size;

const GIB: f64 = (1u64 << 30) as f64;
const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// Bytes per sample in Prometheus' chunks (XOR-compressed). Prometheus' docs: "an average of only
/// 1-2 bytes per sample"; scripts/calibrate.sh measured 2.05 on a kube-prometheus-shaped workload
/// with busy counters and CPU-seconds floats, so the estimate sits at the docs' upper bound.
pub const PROMETHEUS_CHUNK_BYTES_PER_SAMPLE: f64 = 2.0;
/// Index bytes per series in each block (symbols, series entries, postings, chunk references):
/// 148 measured by scripts/calibrate.sh on compacted blocks.
pub const PROMETHEUS_INDEX_BYTES_PER_SERIES_PER_BLOCK: f64 = 150.0;
/// WAL bytes per sample (snappy-compressed records, the default): 5.96 measured by
/// scripts/calibrate.sh on a live scrape.
pub const PROMETHEUS_WAL_BYTES_PER_SAMPLE: f64 = 6.0;
/// The head (WAL and head chunks) spans up to 1.5 × the 2h block range before it is compacted.
const PROMETHEUS_HEAD_HOURS: f64 = 3.0;
const PROMETHEUS_MIN_BLOCK_SECS: u64 = 2 * 3600;
/// Compacted blocks are at most 10% of the retention or 31 days, whichever is smaller.
const PROMETHEUS_MAX_BLOCK_SECS: u64 = 31 * 86_400;

/// Loki's stored bytes (chunks) per ingested byte with its default chunk encoding, `gzip` (obsctl
/// renders no `chunk_encoding`). Measured, not assumed: Loki v3.7.6 (commit 5003600d) built from
/// its release tag, monolithic on a filesystem store, fed 200 MB and 400 MB of a log mix of 36
/// streams over 6 services (60% JSON, 25% logfmt, 15% plain lines, 419 B a line on average)
/// through `/loki/api/v1/push`, chunks flushed, then the chunk directory measured: 0.2234 and
/// 0.2233 (4.48× compression). With `snappy` chunks the same runs gave 0.3787 and 0.3788 (2.64×).
pub const LOKI_STORED_SHARE: f64 = 0.2234;
/// Loki's TSDB index per ingested byte, same runs: about 1e-5 (the index grows with streams and
/// days, not bytes, so at a few streams per service it is noise beside the chunks).
pub const LOKI_INDEX_SHARE: f64 = 1e-5;
/// Where the Loki factors come from, as the JSON report states it.
const LOKI_CALIBRATION: &str = "Loki v3.7.6, gzip chunks, filesystem store; 36 streams over 6 services, 60% JSON / 25% logfmt / 15% plain, 419 B a line; 200 MB and 400 MB pushed, chunk directory measured after flush";
/// Raw data an ingester holds in its WAL: up to `max_chunk_age` (2h by default) of streams.
const LOKI_WAL_HOURS: f64 = 2.0;

/// Tempo's bytes on disk per byte of OTLP protobuf spans received, after blocks are flushed and
/// compacted. Measured, not assumed: Tempo v2.10.8 (commit f0f3ed59) built from its release tag,
/// vParquet4 blocks on a local backend, fed 500k and 1M spans (106.9 and 106.6 B a span on disk):
/// 0.317 and 0.316 of the protobuf bytes sent. Compaction at replication 1 left the size unchanged.
pub const TEMPO_STORED_SHARE: f64 = 0.317;
/// Where the Tempo factor comes from, as the JSON report states it.
const TEMPO_CALIBRATION: &str = "Tempo v2.10.8, vParquet4, local backend; 500k and 1M OTLP spans, blocks measured after flush and compaction";
/// Raw spans held locally before blocks are flushed: the WAL and the blocks being cut
/// (max_block_duration 30m) and kept after completion (complete_block_timeout 15m), rounded up.
const TEMPO_WAL_HOURS: f64 = 1.0;

/// Alertmanager's silences and notification log (nflog keeps 120h): a few MiB for typical use.
const ALERTMANAGER_STATE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
/// Grafana's SQLite database with dashboards, users and annotations: assumed 256 MiB.
const GRAFANA_DB_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// The estimate for one component. Sizes are bytes.
#[derive(Clone, Debug)]
pub struct ComponentSizing {
    /// `metrics`, `logs`, `traces`, `alertmanager` or `grafana`.
    pub component: &'static str,
    /// Everything the component keeps: every volume's data plus object storage.
    pub storage_bytes: f64,
    /// Peak use of one volume (what `recommended` is sized for); 0 without a volume.
    pub volume_bytes: f64,
    /// Volumes the render claims for the component (one per replica).
    pub volumes: u32,
    /// The profile's volume size, per volume.
    pub requested: Option<Quantity>,
    /// The smallest volume that holds `volume_bytes` with headroom.
    pub recommended: Option<Quantity>,
    pub object_storage_bytes: f64,
    /// Why `requested` is too small, when it is.
    pub warning: Option<String>,
    /// The formula with its numbers, and every figure it used.
    pub assumptions: Map<String, Value>,
}

/// The bytes `render` lets Prometheus fill on a volume (`retentionSize`, 80% of it). The same
/// share is the fill target of every volume here, so there is one headroom figure in obsctl.
pub fn usable_bytes(volume_bytes: u64) -> u64 {
    let text = retention_size(volume_bytes);
    let (number, unit) = text.split_at(text.len() - 3);
    let n: u64 = number.parse().unwrap_or(0);
    match unit {
        "GiB" => n << 30,
        "MiB" => n << 20,
        _ => 0,
    }
}

/// The next volume size up from `bytes` on a ladder people provision: whole GiB to 10Gi, then
/// steps of 5Gi to 100Gi, 10Gi to 1000Gi, 50Gi beyond.
fn ladder_at_least(bytes: f64) -> u64 {
    let gib = (bytes / GIB).ceil().max(1.0) as u64;
    let step = match gib {
        0..=10 => 1,
        11..=100 => 5,
        101..=1000 => 10,
        _ => 50,
    };
    gib.div_ceil(step) * step
}

fn next_ladder(gib: u64) -> u64 {
    ladder_at_least(((gib + 1) << 30) as f64)
}

/// Volumes above this (1 EiB) are not a thing to recommend: such data belongs in object storage.
const MAX_VOLUME_GIB: u64 = 1 << 30;

/// The smallest ladder size whose usable share holds `counted` and whose whole holds `peak`;
/// None when no volume could (more than 1 EiB, or a figure that overflowed).
pub fn recommend(counted: f64, peak: f64) -> Option<Quantity> {
    // The share render keeps usable, taken from its own function rather than a second constant.
    let share = usable_bytes(1 << 40) as f64 / (1u64 << 40) as f64;
    let start = (counted / share).max(peak);
    if !start.is_finite() || start / GIB > MAX_VOLUME_GIB as f64 {
        return None;
    }
    // `start` is the answer but for rounding: `share` was floored to the MiB, which inflates
    // `start` by up to a millionth; start just below it and step up.
    let mut gib = ladder_at_least(start * (1.0 - 1e-6));
    for _ in 0..100 {
        if gib > MAX_VOLUME_GIB {
            return None;
        }
        let bytes = gib << 30;
        if usable_bytes(bytes) as f64 >= counted && bytes as f64 >= peak {
            return Some(Quantity::from_bytes(bytes));
        }
        gib = next_ladder(gib);
    }
    None
}

/// What to say when no volume size fits.
const NO_VOLUME_FITS: &str = "no volume size fits (over 1 EiB): keep this data in object storage";

fn recommendation_text(q: &Option<Quantity>) -> String {
    match q {
        Some(q) => format!("use at least `{q}`"),
        None => NO_VOLUME_FITS.to_string(),
    }
}

/// GiB with one decimal; MiB below 1 GiB so small figures do not read as zero.
pub fn gib(bytes: f64) -> String {
    if bytes < GIB {
        format!("{:.0} MiB", bytes / (1u64 << 20) as f64)
    } else {
        format!("{:.1} GiB", bytes / GIB)
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// The largest block Prometheus compacts to: the largest 2h × 3^k within 10% of the retention
/// (and 31 days), never below 2h.
pub fn largest_block_secs(retention_secs: u64) -> u64 {
    let limit = (retention_secs / 10).clamp(PROMETHEUS_MIN_BLOCK_SECS, PROMETHEUS_MAX_BLOCK_SECS);
    let mut range = PROMETHEUS_MIN_BLOCK_SECS;
    while range * 3 <= limit {
        range *= 3;
    }
    range
}

/// Samples Prometheus ingests over `secs`: series ÷ scrape interval × seconds.
pub fn samples(active_series: u64, scrape_interval_secs: u64, secs: u64) -> f64 {
    active_series as f64 / scrape_interval_secs as f64 * secs as f64
}

/// Prometheus (one volume per replica, each with every sample).
pub fn prometheus(stack: &Stack, active_series: u64) -> ComponentSizing {
    let m = &stack.metrics;
    let interval = m.scrape_interval.as_secs();
    let retention = m.retention.as_secs();
    let per_second = active_series as f64 / interval as f64;
    let largest = largest_block_secs(retention);
    // A block goes only once all of it is past the retention: up to one largest block more.
    let kept_secs = retention.saturating_add(largest);
    let samples_in_retention = samples(active_series, interval, retention);
    let samples_kept = samples(active_series, interval, kept_secs);
    let blocks_kept = kept_secs.div_ceil(largest);
    let chunks = samples_kept * PROMETHEUS_CHUNK_BYTES_PER_SAMPLE;
    let index =
        active_series as f64 * blocks_kept as f64 * PROMETHEUS_INDEX_BYTES_PER_SERIES_PER_BLOCK;
    let blocks = chunks + index;
    let head_samples = per_second * PROMETHEUS_HEAD_HOURS * HOUR;
    let head_chunks = head_samples * PROMETHEUS_CHUNK_BYTES_PER_SAMPLE;
    let wal = head_samples * PROMETHEUS_WAL_BYTES_PER_SAMPLE;
    // retentionSize counts blocks, WAL and head chunks.
    let counted = blocks + wal + head_chunks;
    // Compaction writes the new block before it deletes the ones it replaces.
    let compaction = samples(active_series, interval, largest) * PROMETHEUS_CHUNK_BYTES_PER_SAMPLE
        + active_series as f64 * PROMETHEUS_INDEX_BYTES_PER_SERIES_PER_BLOCK;
    let peak = counted + compaction;
    let bytes_per_sample = if samples_kept > 0.0 {
        blocks / samples_kept
    } else {
        PROMETHEUS_CHUNK_BYTES_PER_SAMPLE
    };
    let recommended = recommend(counted, peak);
    let requested = m.storage.clone();
    let usable = usable_bytes(requested.bytes()) as f64;
    let warning = if usable < counted {
        let per_day = (counted - wal - head_chunks) / (kept_secs as f64 / DAY);
        let days = ((usable - wal - head_chunks).max(0.0) / per_day).floor();
        Some(format!(
            "metrics: the volume `{requested}` is too small: Prometheus keeps {counted} under retentionSize {size}, so it deletes blocks after about {days} days instead of {retention} (data loss); {advice}",
            counted = gib(counted),
            size = retention_size(requested.bytes()),
            retention = m.retention,
            advice = recommendation_text(&recommended),
        ))
    } else if (requested.bytes() as f64) < peak {
        Some(format!(
            "metrics: the volume `{requested}` has no room for compaction ({}) beside {} of data: the disk can fill; {}",
            gib(compaction),
            gib(counted),
            recommendation_text(&recommended),
        ))
    } else {
        None
    };
    let formula = format!(
        "{active_series} series / {interval}s = {per_second:.0} samples/s × ({} retention + {} last block) = {:.3e} samples × {bytes_per_sample:.2} B/sample = {} blocks; + WAL {} (3h × {PROMETHEUS_WAL_BYTES_PER_SAMPLE} B/sample) + head chunks {} + compaction room {}",
        m.retention,
        format_seconds(largest),
        samples_kept,
        gib(blocks),
        gib(wal),
        gib(head_chunks),
        gib(compaction),
    );
    let mut a = Map::new();
    a.insert("formula".into(), json!(formula));
    a.insert("active_series".into(), json!(active_series));
    a.insert("scrape_interval_s".into(), json!(interval));
    a.insert("samples_per_second".into(), json!(round(per_second, 3)));
    a.insert("retention_s".into(), json!(retention));
    a.insert("samples_in_retention".into(), json!(samples_in_retention));
    a.insert("largest_block_s".into(), json!(largest));
    a.insert("samples_on_disk".into(), json!(samples_kept));
    a.insert(
        "chunk_bytes_per_sample".into(),
        json!(PROMETHEUS_CHUNK_BYTES_PER_SAMPLE),
    );
    a.insert(
        "index_bytes_per_series_per_block".into(),
        json!(PROMETHEUS_INDEX_BYTES_PER_SERIES_PER_BLOCK),
    );
    a.insert("bytes_per_sample".into(), json!(round(bytes_per_sample, 4)));
    a.insert("blocks_gib".into(), json!(round(blocks / GIB, 3)));
    a.insert(
        "wal_bytes_per_sample".into(),
        json!(PROMETHEUS_WAL_BYTES_PER_SAMPLE),
    );
    a.insert("wal_gib".into(), json!(round(wal / GIB, 3)));
    a.insert("head_chunks_gib".into(), json!(round(head_chunks / GIB, 3)));
    a.insert("compaction_gib".into(), json!(round(compaction / GIB, 3)));
    a.insert(
        "retention_size".into(),
        json!(retention_size(requested.bytes())),
    );
    a.insert(
        "headroom".into(),
        json!("blocks + WAL + head must fit in retentionSize (80% of the volume); compaction room must fit in the volume"),
    );
    if m.remote_write.is_some() {
        a.insert(
            "remote_write".into(),
            json!("the WAL grows while the remote end is unreachable; not included"),
        );
    }
    let volumes = m.replicas;
    ComponentSizing {
        component: "metrics",
        storage_bytes: counted * volumes as f64,
        volume_bytes: peak,
        volumes,
        requested: Some(requested),
        recommended,
        object_storage_bytes: 0.0,
        warning,
        assumptions: a,
    }
}

fn format_seconds(secs: u64) -> String {
    crate::profile::types::format_seconds(secs)
}

/// Where one of Loki's or Tempo's volumes is, from the render: (size per volume, volumes).
pub type VolumeClaim = (Quantity, u32);

/// Loki: chunks and index on the volume (filesystem) or in the bucket (object storage); the WAL
/// on every ingester's volume.
pub fn loki(stack: &Stack, w: &LogsWorkload, claim: Option<VolumeClaim>) -> ComponentSizing {
    let logs = &stack.logs;
    let raw_per_day = w.ingest_per_day.bytes() as f64;
    let days = logs.retention.as_secs() as f64 / DAY;
    let chunks = raw_per_day * days * LOKI_STORED_SHARE;
    let index = raw_per_day * days * LOKI_INDEX_SHARE;
    let stored = chunks + index;
    let (replicas, replication) = match logs.mode {
        LogsMode::Monolithic => (logs.replicas, logs.replicas.min(3)),
        LogsMode::Distributed => (3, 3),
    };
    // Each stream lands on `replication` of the `replicas` ingesters.
    let wal = raw_per_day * LOKI_WAL_HOURS / 24.0 * replication as f64 / replicas.max(1) as f64;
    let object = logs.object_storage.is_some();
    let (volume_need, bucket) = if object {
        (wal, stored)
    } else {
        (stored + wal, 0.0)
    };
    let place = if object { "bucket" } else { "volume" };
    let formula = format!(
        "{}/day × {days} days × {LOKI_STORED_SHARE} (gzip chunks, measured) = {} chunks + {} index ({LOKI_INDEX_SHARE} of ingest) = {} in the {place}; + WAL {} per ingester ({LOKI_WAL_HOURS}h of raw ingest × replication {replication} / {replicas} ingesters)",
        w.ingest_per_day,
        gib(chunks),
        gib(index),
        gib(stored),
        gib(wal),
    );
    let mut a = Map::new();
    a.insert("formula".into(), json!(formula));
    a.insert(
        "ingest_per_day_bytes".into(),
        json!(w.ingest_per_day.bytes()),
    );
    a.insert("retention_days".into(), json!(round(days, 3)));
    a.insert("stored_share".into(), json!(LOKI_STORED_SHARE));
    a.insert("index_share".into(), json!(LOKI_INDEX_SHARE));
    a.insert("calibration".into(), json!(LOKI_CALIBRATION));
    a.insert("chunks_gib".into(), json!(round(chunks / GIB, 3)));
    a.insert("index_gib".into(), json!(round(index / GIB, 3)));
    a.insert("wal_hours".into(), json!(LOKI_WAL_HOURS));
    a.insert("wal_gib_per_ingester".into(), json!(round(wal / GIB, 3)));
    a.insert("replication_factor".into(), json!(replication));
    a.insert(
        "object_storage".into(),
        json!(if object {
            "chunks and index in the bucket (identical replicas' chunks deduplicated)"
        } else {
            "none: chunks and index on the volume"
        }),
    );
    volume_component(
        "logs",
        volume_need,
        bucket,
        claim,
        a,
        &logs.retention.to_string(),
    )
}

/// Tempo: blocks on the volume or in the bucket; the WAL on the volume.
pub fn tempo(stack: &Stack, w: &TracesWorkload, claim: Option<VolumeClaim>) -> ComponentSizing {
    let traces = &stack.traces;
    let raw_per_day = w.spans_per_second.get() * w.bytes_per_span() as f64 * DAY;
    let days = traces.retention.as_secs() as f64 / DAY;
    let blocks = raw_per_day * days * TEMPO_STORED_SHARE;
    let wal = raw_per_day * TEMPO_WAL_HOURS / 24.0;
    let object = traces.object_storage.is_some();
    let (volume_need, bucket) = if object {
        (wal, blocks)
    } else {
        (blocks + wal, 0.0)
    };
    let place = if object { "bucket" } else { "volume" };
    let formula = format!(
        "{} spans/s × {} B/span × 86400 s = {}/day raw × {days} days × {TEMPO_STORED_SHARE} (vParquet4 blocks, measured) = {} blocks in the {place}; + WAL {} ({TEMPO_WAL_HOURS}h of raw spans)",
        w.spans_per_second.get(),
        w.bytes_per_span(),
        gib(raw_per_day),
        gib(blocks),
        gib(wal),
    );
    let mut a = Map::new();
    a.insert("formula".into(), json!(formula));
    a.insert("spans_per_second".into(), json!(w.spans_per_second.get()));
    a.insert("bytes_per_span".into(), json!(w.bytes_per_span()));
    a.insert(
        "bytes_per_span_default".into(),
        json!(w.bytes_per_span.is_none()),
    );
    a.insert("retention_days".into(), json!(round(days, 3)));
    a.insert("stored_share".into(), json!(TEMPO_STORED_SHARE));
    a.insert("calibration".into(), json!(TEMPO_CALIBRATION));
    a.insert("blocks_gib".into(), json!(round(blocks / GIB, 3)));
    a.insert("wal_gib".into(), json!(round(wal / GIB, 3)));
    if traces.metrics_generator {
        a.insert(
            "metrics_generator".into(),
            json!("service-graph and span-metrics series land in Prometheus; count them in workload.metrics.activeSeries"),
        );
    }
    if traces.kafka.is_some() {
        a.insert(
            "kafka".into(),
            json!("tempo-distributed buffers spans in Kafka; the broker's storage is not included"),
        );
    }
    volume_component(
        "traces",
        volume_need,
        bucket,
        claim,
        a,
        &traces.retention.to_string(),
    )
}

/// A small state volume (Alertmanager, Grafana): a fixed estimate.
pub fn state(
    component: &'static str,
    bytes: f64,
    what: &str,
    claim: Option<VolumeClaim>,
) -> ComponentSizing {
    let mut a = Map::new();
    a.insert(
        "formula".into(),
        json!(format!(
            "{what}: assumed {}",
            format_bytes_binary(bytes as u64)
        )),
    );
    a.insert("assumed_bytes".into(), json!(bytes));
    let in_memory = claim.is_none();
    if in_memory {
        a.insert(
            "volume".into(),
            json!("none: the state lives in the pod and is lost when it restarts"),
        );
    }
    let mut sizing = volume_component(component, bytes, 0.0, claim, a, "");
    if in_memory {
        sizing.storage_bytes = bytes;
    }
    sizing
}

pub fn alertmanager(claim: Option<VolumeClaim>) -> ComponentSizing {
    state(
        "alertmanager",
        ALERTMANAGER_STATE_BYTES,
        "silences and notification log",
        claim,
    )
}

pub fn grafana(claim: Option<VolumeClaim>) -> ComponentSizing {
    state(
        "grafana",
        GRAFANA_DB_BYTES,
        "SQLite database (dashboards, users, annotations)",
        claim,
    )
}

/// Shared by components whose volume need is known: recommends a size and warns when the request
/// is smaller.
fn volume_component(
    component: &'static str,
    need: f64,
    bucket: f64,
    claim: Option<VolumeClaim>,
    mut a: Map<String, Value>,
    retention: &str,
) -> ComponentSizing {
    let Some((requested, volumes)) = claim else {
        // No volume in the render (in-memory state, or Tempo 3 with object storage only).
        return ComponentSizing {
            component,
            storage_bytes: bucket,
            volume_bytes: 0.0,
            volumes: 0,
            requested: None,
            recommended: None,
            object_storage_bytes: bucket,
            warning: None,
            assumptions: a,
        };
    };
    let recommended = recommend(need, need);
    a.insert(
        "headroom".into(),
        json!("the estimate must fit in 80% of the volume (the share render gives Prometheus' retentionSize)"),
    );
    let warning = ((usable_bytes(requested.bytes()) as f64) < need).then(|| {
        let consequence = match component {
            "logs" => format!("Loki fills its disk before {retention} and refuses writes (data loss)"),
            "traces" => format!("Tempo fills its disk before {retention} and drops spans (data loss)"),
            _ => "the disk can fill".to_string(),
        };
        format!(
            "{component}: the volume `{requested}` is too small for an estimated {}: {consequence}; {}",
            gib(need),
            recommendation_text(&recommended),
        )
    });
    ComponentSizing {
        component,
        storage_bytes: need * volumes as f64 + bucket,
        volume_bytes: need,
        volumes,
        requested: Some(requested),
        recommended,
        object_storage_bytes: bucket,
        warning,
        assumptions: a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::types::parse_literal;

    fn stack(yaml: &str) -> Stack {
        let root = crate::yaml::parse("t.yaml", yaml.as_bytes()).unwrap();
        crate::yaml::de::from_node(&root).unwrap()
    }

    #[test]
    fn samples_match_the_hand_computed_figure() {
        // 100k series / 30s = 3,333.3 samples/s; 15 d = 1,296,000 s → 4.32e9 samples.
        let n = samples(100_000, 30, 15 * 86_400);
        assert!((n - 4.32e9).abs() < 1.0, "{n}");
        // At the docs' 1.5 and 2 B/sample: 6.48 GB and 8.64 GB of chunks.
        assert!((n * 1.5 - 6.48e9).abs() < 1e3);
        assert!((n * PROMETHEUS_CHUNK_BYTES_PER_SAMPLE - 8.64e9).abs() < 1e3);
    }

    #[test]
    fn compaction_ranges_follow_prometheus() {
        // 10% of 15d = 36h → 2h, 6h, 18h.
        assert_eq!(largest_block_secs(15 * 86_400), 18 * 3600);
        // 10% of 30d = 72h → 54h.
        assert_eq!(largest_block_secs(30 * 86_400), 54 * 3600);
        // Short retention: never below 2h.
        assert_eq!(largest_block_secs(6 * 3600), 2 * 3600);
        // Long retention: capped at 31 days → 2h × 3^5 = 486h.
        assert_eq!(largest_block_secs(365 * 86_400), 486 * 3600);
    }

    #[test]
    fn prometheus_estimate_is_the_formula() {
        let s = stack("name: t\nmetrics: {retention: 15d, scrapeInterval: 30s, storage: 100Gi}\n");
        let est = prometheus(&s, 100_000);
        let a = &est.assumptions;
        assert_eq!(a["samples_in_retention"], json!(4.32e9));
        // 15d + one 18h block at 3,333.3/s = 4.536e9 samples on disk.
        let on_disk = a["samples_on_disk"].as_f64().unwrap();
        assert!((on_disk - 4.536e9).abs() < 1.0, "{on_disk}");
        // Chunks 2 B × 4.536e9 + index 150 B × 100k series × 21 blocks (378h / 18h).
        let blocks = 2.0 * 4.536e9 + 150.0 * 100_000.0 * 21.0;
        let blocks_gib = a["blocks_gib"].as_f64().unwrap();
        assert!((blocks_gib - blocks / GIB).abs() < 1e-3, "{blocks_gib}");
        // WAL 3h × 3,333.3/s × 6 B = 216 MB; head chunks 3h × 3,333.3 × 2 B = 72 MB.
        let wal = a["wal_gib"].as_f64().unwrap() * GIB;
        assert!((wal - 216e6).abs() < 1e6, "{wal}");
        let counted = blocks + 216e6 + 72e6;
        let compaction = 18.0 * 3600.0 * 100_000.0 / 30.0 * 2.0 + 150.0 * 100_000.0;
        assert!((est.volume_bytes - (counted + compaction)).abs() < 1.0);
        // ≈ 9.0 GiB counted, 9.4 GiB peak: 10Gi leaves 8GiB usable, the next step (15Gi) 12GiB.
        assert_eq!(est.recommended.as_ref().unwrap().to_string(), "15Gi");
        assert!(est.warning.is_none(), "100Gi is plenty");
    }

    #[test]
    fn a_small_prometheus_volume_warns_of_deletion_by_size() {
        let s = stack("name: t\nmetrics: {retention: 30d, scrapeInterval: 30s, storage: 20Gi}\n");
        let est = prometheus(&s, 150_000);
        let w = est.warning.expect("20Gi cannot hold 30d of 150k series");
        assert!(w.contains("retentionSize 16GiB"), "{w}");
        assert!(w.contains("instead of 30d"), "{w}");
        let rec = est.recommended.unwrap();
        assert!(
            usable_bytes(rec.bytes()) as f64 >= est.storage_bytes,
            "{rec}"
        );
        assert!(w.contains(&format!("`{rec}`")), "{w}");
    }

    #[test]
    fn recommendations_use_render_retention_size_and_a_ladder() {
        // render keeps 80%: 8GiB usable of 10Gi.
        assert_eq!(usable_bytes(10 << 30), 8 << 30);
        assert_eq!(usable_bytes(3 << 30), 2457 << 20);
        assert_eq!(recommend(8.0 * GIB, 8.0 * GIB).unwrap().to_string(), "10Gi");
        assert_eq!(recommend(8.1 * GIB, 8.1 * GIB).unwrap().to_string(), "15Gi");
        assert_eq!(
            recommend(70.0 * GIB, 70.0 * GIB).unwrap().to_string(),
            "90Gi"
        );
        assert_eq!(
            recommend(0.01 * GIB, 0.01 * GIB).unwrap().to_string(),
            "1Gi"
        );
        // The whole volume must also hold the peak (compaction room).
        assert_eq!(recommend(1.0 * GIB, 9.5 * GIB).unwrap().to_string(), "10Gi");
        assert_eq!(
            recommend(900.0 * GIB, 900.0 * GIB).unwrap().to_string(),
            "1150Gi"
        );
        // Far beyond any volume, or not a number: no recommendation, no overflow.
        assert_eq!(recommend(1e20, 1e20), None);
        assert_eq!(recommend(f64::INFINITY, 0.0), None);
        assert_eq!(recommend(f64::NAN, f64::NAN), None);
        // Large but possible: the search starts near the answer.
        let petabytes = recommend(13.5e6 * GIB, 13.5e6 * GIB).unwrap();
        assert_eq!(petabytes.to_string(), "16875000Gi");
        let big = recommend(4e15, 4e15).unwrap();
        assert!(usable_bytes(big.bytes()) as f64 >= 4e15, "{big}");
        assert!((big.bytes() as f64) < 4e15 / 0.8 * 1.01, "{big}");
    }

    #[test]
    fn loki_on_a_volume_is_ingest_times_retention_over_compression_plus_index() {
        let s = stack("name: t\nlogs: {retention: 30d, storage: 50Gi}\n");
        let w: LogsWorkload = yaml_serde::from_str("ingestPerDay: 20GiB").unwrap();
        let est = loki(&s, &w, Some((parse_literal("50Gi"), 1)));
        // 20 GiB × 30 × 0.2234 = 134.04 GiB chunks; index 600 GiB × 1e-5 = 0.006 GiB; WAL 2h = 1.67 GiB.
        let chunks = 20.0 * 30.0 * 0.2234;
        let index = 20.0 * 30.0 * 1e-5;
        let wal = 20.0 * 2.0 / 24.0;
        assert!((est.volume_bytes / GIB - (chunks + index + wal)).abs() < 1e-9);
        assert_eq!(est.object_storage_bytes, 0.0);
        let warning = est.warning.expect("50Gi is far too small");
        assert!(
            warning.contains("Loki fills its disk before 30d"),
            "{warning}"
        );
        assert_eq!(est.recommended.unwrap().to_string(), "170Gi");
    }

    #[test]
    fn loki_with_object_storage_keeps_only_the_wal_on_volumes() {
        let s = stack(
            "name: t\nlogs: {mode: distributed, retention: 30d, storage: 20Gi, objectStorage: {endpoint: 'https://s3', buckets: {chunks: c, ruler: r}, credentialsSecret: s}}\n",
        );
        let w: LogsWorkload = yaml_serde::from_str("ingestPerDay: 24GiB").unwrap();
        let est = loki(&s, &w, Some((parse_literal("20Gi"), 3)));
        // Three ingesters, replication 3: each holds 2h of the whole ingest = 2 GiB.
        assert!((est.volume_bytes / GIB - 2.0).abs() < 1e-9);
        let bucket = 24.0 * 30.0 * (0.2234 + 1e-5);
        assert!((est.object_storage_bytes / GIB - bucket).abs() < 1e-9);
        assert!((est.storage_bytes / GIB - (bucket + 6.0)).abs() < 1e-9);
        assert!(est.warning.is_none());
    }

    #[test]
    fn tempo_is_spans_times_size_times_compression_times_retention() {
        let s = stack("name: t\ntraces: {retention: 14d, storage: 110Gi}\n");
        let w: TracesWorkload =
            yaml_serde::from_str("{spansPerSecond: 500, bytesPerSpan: 450}").unwrap();
        let est = tempo(&s, &w, Some((parse_literal("110Gi"), 1)));
        // 500 × 450 × 86400 = 19.44 GB/day; × 14 × 0.317 = 86.27 GB; WAL 1h = 0.81 GB;
        // (86.27 + 0.81) GB / 0.8 usable = 101.4 GiB → 110Gi.
        let raw = 500.0 * 450.0 * 86_400.0;
        assert!((est.volume_bytes - (raw * 14.0 * 0.317 + raw / 24.0)).abs() < 1.0);
        assert!(est.warning.is_none(), "{:?}", est.warning);
        assert_eq!(est.recommended.unwrap().to_string(), "110Gi");
    }

    #[test]
    fn tempo_default_span_size_is_reported() {
        let s = stack("name: t\n");
        let w: TracesWorkload = yaml_serde::from_str("{spansPerSecond: 10}").unwrap();
        let est = tempo(&s, &w, Some((parse_literal("10Gi"), 1)));
        assert_eq!(est.assumptions["bytes_per_span"], json!(500));
        assert_eq!(est.assumptions["bytes_per_span_default"], json!(true));
    }

    #[test]
    fn state_without_a_volume_costs_nothing_and_says_so() {
        let est = alertmanager(None);
        assert_eq!(est.volumes, 0);
        assert_eq!(est.volume_bytes, 0.0);
        assert_eq!(
            est.storage_bytes, ALERTMANAGER_STATE_BYTES,
            "kept, in memory"
        );
        assert!(est.recommended.is_none());
        assert!(est.assumptions["volume"].as_str().unwrap().contains("lost"));
        let est = grafana(Some((parse_literal("10Gi"), 1)));
        assert_eq!(est.recommended.unwrap().to_string(), "1Gi");
    }
}
