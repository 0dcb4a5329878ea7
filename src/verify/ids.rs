//! The identifiers one verify run writes into the stack: a fresh trace id and span id (hex, as
//! OTLP/JSON and Loki lines carry them), and a marker for the collector's pod-log line.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// The service name obsctl's own log line and span carry (the Loki label `service_name`).
pub const SERVICE: &str = "obsctl-verify";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunIds {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// 12 hex digits that name this run (the collector's marker pod, its log line).
    pub run: String,
}

impl RunIds {
    pub fn fresh() -> Self {
        RunIds {
            trace_id: random_hex(16),
            span_id: random_hex(8),
            run: random_hex(6),
        }
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() || buf.iter().all(|b| *b == 0) {
        // No OS randomness (or an all-zero id, which OTLP calls invalid): the clock is unique
        // enough for one run's ids.
        let nanos = now_ns();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = ((nanos >> ((i % 16) * 8)) as u8) ^ (i as u8).wrapping_mul(0x9d);
        }
        buf[0] |= 1;
    }
    hex(&buf)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Nanoseconds since the Unix epoch.
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// An id as Tempo may answer it: hex (as pushed) or base64 (Tempo's JSON encoding of the proto
/// bytes). Returns lowercase hex of `len` bytes, or `None` when it is neither.
pub fn normalize_id(text: &str, len: usize) -> Option<String> {
    if text.len() == len * 2 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(text.to_ascii_lowercase());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .or_else(|| base64::engine::general_purpose::URL_SAFE.decode(text).ok())?;
    (bytes.len() == len).then(|| hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_have_otlp_lengths_and_differ() {
        let a = RunIds::fresh();
        let b = RunIds::fresh();
        assert_eq!(a.trace_id.len(), 32);
        assert_eq!(a.span_id.len(), 16);
        assert!(a.trace_id.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.trace_id, b.trace_id);
    }

    #[test]
    fn tempo_base64_ids_decode_to_the_pushed_hex() {
        // The example from Tempo's docs: pushed 5B8EFFF798038103D269B633813FC700, answered base64.
        assert_eq!(
            normalize_id("W47/95gDgQPSabYzgT/HAA==", 16).as_deref(),
            Some("5b8efff798038103d269b633813fc700")
        );
        assert_eq!(
            normalize_id("5B8EFFF798038103D269B633813FC700", 16).as_deref(),
            Some("5b8efff798038103d269b633813fc700")
        );
        assert_eq!(normalize_id("not an id", 16), None);
        // Right encoding, wrong length: a span id is not a trace id.
        assert_eq!(normalize_id("AAECAwQFBgc=", 16), None);
        assert_eq!(
            normalize_id("AAECAwQFBgc=", 8).as_deref(),
            Some("0001020304050607")
        );
    }
}
