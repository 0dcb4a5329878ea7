//! Scalar types of the profile: parsed once, at load time, so the rest of the program never sees a raw
//! `"30d"` or `"100Gi"`. Each keeps the text the user wrote, for messages and for values that Helm
//! charts expect in the same notation.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Implements `Deserialize` (from a string, through `FromStr`), `Serialize` (as the original text),
/// `Display` and a JSON Schema of a string with a pattern, for a type with a `text` field.
macro_rules! string_type {
    ($ty:ident, $schema_name:literal, $pattern:literal, $description:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(de::Error::custom)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.text)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text)
            }
        }
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $schema_name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern, "description": $description })
            }
        }
    };
}

/// A duration such as `30s`, `5m`, `6h`, `30d`, `2w` or `1h30m` (Prometheus notation).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromDuration {
    seconds: u64,
    text: String,
}

impl PromDuration {
    pub fn from_secs(seconds: u64) -> Self {
        PromDuration {
            seconds,
            text: format_seconds(seconds),
        }
    }
    pub fn as_secs(&self) -> u64 {
        self.seconds
    }
    pub fn as_std(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds)
    }
    /// Whole hours, rounded up: the unit Loki and Tempo retention settings are written in.
    pub fn as_hours_ceil(&self) -> u64 {
        self.seconds.div_ceil(3600)
    }
}

/// Writes seconds in the largest units that divide them exactly: 90 → `1m30s`, 2592000 → `30d`.
pub fn format_seconds(mut seconds: u64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            out.push_str(&format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    out
}

impl FromStr for PromDuration {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "invalid duration `{text}`: expected a whole number followed by s, m, h, d, w or y, e.g. `30s`, `5m`, `30d` or `1h30m`"
            )
        };
        if text.is_empty() {
            return Err(invalid());
        }
        let too_large = || {
            format!("duration `{text}` is too large: Prometheus durations end at about 292y ({MAX_PROMETHEUS_SECONDS}s)")
        };
        let mut seconds: u64 = 0;
        let mut digits = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit: u64 = match c {
                's' => 1,
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                'w' => 604_800,
                'y' => 31_536_000,
                _ => return Err(invalid()),
            };
            // Only digits here: a parse failure is an empty number or one beyond u64.
            let n: u64 = match digits.parse() {
                Ok(n) => n,
                Err(_) if digits.is_empty() => return Err(invalid()),
                Err(_) => return Err(too_large()),
            };
            seconds = n
                .checked_mul(unit)
                .and_then(|s| seconds.checked_add(s))
                .ok_or_else(too_large)?;
            digits.clear();
        }
        if !digits.is_empty() {
            return Err(invalid());
        }
        if seconds > MAX_PROMETHEUS_SECONDS {
            return Err(too_large());
        }
        Ok(PromDuration {
            seconds,
            text: text.to_string(),
        })
    }
}

/// The longest duration Prometheus can represent: Go's `time.Duration` is int64 nanoseconds
/// (about 292 years); a retention or window beyond it would be refused by Prometheus at start-up.
pub const MAX_PROMETHEUS_SECONDS: u64 = (i64::MAX / 1_000_000_000) as u64;

string_type!(
    PromDuration,
    "Duration",
    "^([0-9]+[smhdwy])+$",
    "A duration: a whole number and a unit (s, m, h, d, w, y), e.g. 30s, 5m, 30d"
);

/// A Kubernetes quantity of bytes such as `100Gi`, `512Mi` or `50G`. Never negative.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    bytes: u64,
    text: String,
}

const BINARY_SUFFIXES: [(&str, u64); 6] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("Ei", 1 << 60),
];
const DECIMAL_SUFFIXES: [(&str, u64); 6] = [
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("P", 1_000_000_000_000_000),
    ("E", 1_000_000_000_000_000_000),
];

impl Quantity {
    pub fn from_bytes(bytes: u64) -> Self {
        Quantity {
            bytes,
            text: format_bytes_binary(bytes),
        }
    }
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
    pub fn gib(&self) -> f64 {
        self.bytes as f64 / (1u64 << 30) as f64
    }
    pub fn mib(&self) -> u64 {
        self.bytes >> 20
    }
}

/// Why `scale` refused a number.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ScaleError {
    Malformed,
    TooLarge,
}

/// `number × multiplier`, rounded to a whole count. The number is digits with at most one inner
/// `.`; shared by every size notation of the profile.
pub(crate) fn scale(number: &str, multiplier: u64) -> Result<u64, ScaleError> {
    let well_formed = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|&c| c == '.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    if !well_formed {
        return Err(ScaleError::Malformed);
    }
    let value: f64 = number.parse().map_err(|_| ScaleError::Malformed)?;
    let scaled = value * multiplier as f64;
    if !scaled.is_finite() || scaled >= u64::MAX as f64 {
        return Err(ScaleError::TooLarge);
    }
    Ok(scaled.round() as u64)
}

/// The shortest exact binary-suffixed form: 107374182400 → `100Gi`; a size that no suffix divides
/// stays in plain bytes.
pub fn format_bytes_binary(bytes: u64) -> String {
    for (suffix, size) in BINARY_SUFFIXES.iter().rev() {
        if bytes >= *size && bytes % size == 0 {
            return format!("{}{suffix}", bytes / size);
        }
    }
    bytes.to_string()
}

impl FromStr for Quantity {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected a size such as `100Gi`, `512Mi` or `50G`";
        if text.starts_with('-') {
            return Err(format!(
                "invalid size `{text}`: a size cannot be negative; {expected}"
            ));
        }
        let (number, multiplier) = BINARY_SUFFIXES
            .iter()
            .chain(DECIMAL_SUFFIXES.iter())
            .find_map(|(suffix, m)| text.strip_suffix(suffix).map(|n| (n, *m)))
            .unwrap_or((text, 1));
        let bytes = scale(number, multiplier).map_err(|e| match e {
            ScaleError::Malformed => format!("invalid size `{text}`: {expected}"),
            ScaleError::TooLarge => format!("size `{text}` is too large"),
        })?;
        Ok(Quantity {
            bytes,
            text: text.to_string(),
        })
    }
}

string_type!(
    Quantity,
    "Quantity",
    "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
    "A Kubernetes quantity of bytes, e.g. 100Gi, 512Mi, 50G"
);

/// A DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a letter or digit,
/// at most 63 characters. Namespaces, release-visible names and Secret names are of this kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnsName {
    text: String,
}

impl DnsName {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for DnsName {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let rule = "expected a DNS-1123 name: at most 63 lowercase letters, digits or `-`, starting and ending with a letter or digit";
        let ok = !text.is_empty()
            && text.len() <= 63
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if ok {
            Ok(DnsName {
                text: text.to_string(),
            })
        } else {
            Err(format!("invalid name `{text}`: {rule}"))
        }
    }
}

impl AsRef<str> for DnsName {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

string_type!(
    DnsName,
    "DnsName",
    "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
    "A DNS-1123 label: lowercase letters, digits and '-', at most 63 characters"
);

/// A CPU quantity such as `250m` or `2`, kept as written and as millicores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cpu {
    millis: u64,
    text: String,
}

impl Cpu {
    pub fn millis(&self) -> u64 {
        self.millis
    }
}

impl FromStr for Cpu {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!("invalid CPU quantity `{text}`: expected millicores such as `250m` or cores such as `1` or `0.5`")
        };
        let millis = if let Some(m) = text.strip_suffix('m') {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            m.parse::<u64>().map_err(|_| invalid())?
        } else {
            if text.starts_with(['+', '-']) {
                return Err(invalid());
            }
            let cores: f64 = text.parse().map_err(|_| invalid())?;
            if !(cores.is_finite() && cores >= 0.0) {
                return Err(invalid());
            }
            (cores * 1000.0).round() as u64
        };
        Ok(Cpu {
            millis,
            text: text.to_string(),
        })
    }
}

string_type!(
    Cpu,
    "Cpu",
    "^([0-9]+m|[0-9]+(\\.[0-9]+)?)$",
    "CPU: millicores (250m) or cores (0.5, 2)"
);

/// Builds a value for tests and built-in defaults; panics only on a literal the code itself wrote.
pub fn parse_literal<T: FromStr<Err = String>>(text: &str) -> T {
    match text.parse() {
        Ok(value) => value,
        Err(message) => panic!("bad built-in literal: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_to_seconds() {
        let d: PromDuration = "30d".parse().unwrap();
        assert_eq!(d.as_secs(), 30 * 86_400);
        assert_eq!("1h30m".parse::<PromDuration>().unwrap().as_secs(), 5_400);
        assert_eq!("2w".parse::<PromDuration>().unwrap().as_secs(), 14 * 86_400);
        assert_eq!("5m".parse::<PromDuration>().unwrap().to_string(), "5m");
        assert_eq!("30d".parse::<PromDuration>().unwrap().as_hours_ceil(), 720);
    }

    #[test]
    fn durations_refuse_malformed_text() {
        for bad in ["", "30", "d", "30x", "3.5d", "-1d", "1h30", "30 d"] {
            let err = bad.parse::<PromDuration>().unwrap_err();
            assert!(err.contains("expected a whole number"), "{bad}: {err}");
        }
        assert!("99999999999999999999y".parse::<PromDuration>().is_err());
    }

    #[test]
    fn seconds_format_in_largest_exact_units() {
        assert_eq!(format_seconds(90), "1m30s");
        assert_eq!(format_seconds(2_592_000), "30d");
        assert_eq!(format_seconds(3_600), "1h");
        assert_eq!(format_seconds(0), "0s");
    }

    #[test]
    fn quantities_parse_binary_and_decimal_suffixes() {
        assert_eq!("100Gi".parse::<Quantity>().unwrap().bytes(), 100 << 30);
        assert_eq!("50G".parse::<Quantity>().unwrap().bytes(), 50_000_000_000);
        assert_eq!("1.5Gi".parse::<Quantity>().unwrap().bytes(), 3 << 29);
        assert_eq!("512".parse::<Quantity>().unwrap().bytes(), 512);
        assert_eq!("512Mi".parse::<Quantity>().unwrap().mib(), 512);
    }

    #[test]
    fn quantities_refuse_negative_and_malformed() {
        let err = "-10Gi".parse::<Quantity>().unwrap_err();
        assert!(err.contains("cannot be negative"), "{err}");
        for bad in ["", "Gi", "10GB", "ten", "1..5Gi", ".5Gi", "10 Gi"] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn bytes_format_in_exact_binary_units() {
        assert_eq!(format_bytes_binary(100 << 30), "100Gi");
        assert_eq!(format_bytes_binary(3 << 29), "1536Mi");
        assert_eq!(format_bytes_binary(1000), "1000");
    }

    #[test]
    fn cpu_takes_millicores_or_cores() {
        assert_eq!("250m".parse::<Cpu>().unwrap().millis(), 250);
        assert_eq!("0.5".parse::<Cpu>().unwrap().millis(), 500);
        assert_eq!("2".parse::<Cpu>().unwrap().millis(), 2000);
        for bad in ["", "m", "-1", "1.5m", "two", "inf"] {
            assert!(bad.parse::<Cpu>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn dns_names_follow_rfc_1123() {
        assert!("monitoring".parse::<DnsName>().is_ok());
        assert!("a-1".parse::<DnsName>().is_ok());
        for bad in ["", "Monitoring", "-a", "a-", "a_b", "a.b", &"a".repeat(64)] {
            assert!(bad.parse::<DnsName>().is_err(), "{bad} should be refused");
        }
    }
}

/// `storage:` / `persistence:` that may be switched off: a size, or `none` (or null) for no volume.
pub mod optional_quantity {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Quantity>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        if text == "none" {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|e: String| {
            de::Error::custom(if text.chars().any(|c| c.is_ascii_digit()) {
                e
            } else {
                format!("invalid size `{text}`: expected a size such as `10Gi`, or `none` (or `null`) for no volume")
            })
        })
    }

    pub fn schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?([KMGTPE]i|[kMGTPE])?$" },
                { "const": "none" },
                { "type": "null" }
            ],
            "description": "A size such as 10Gi, or none (or null) for no volume"
        })
    }
}
