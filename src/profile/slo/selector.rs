//! PromQL instant-vector selectors (`metric{label="value",code=~"5.."}`), the only PromQL a profile
//! holds: obsctl writes the `increase`, `sum` and ratios around them. Parsed at load time so a typo
//! fails with the profile's file:line:col, not at 3 a.m. in Prometheus' rule manager.
//!
//! Accepted: a metric name (required), then optionally `{}` with comma-separated matchers
//! `label op "value"`, op one of `=`, `!=`, `=~`, `!~`, values in double or single quotes or
//! backticks with Go's escapes; a trailing comma and whitespace between tokens. Regex values must
//! compile (RE2 syntax, checked with the `regex-syntax` parser). Refused: anything after the
//! selector (ranges, offsets, operators, functions) and `__name__` matchers.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A parsed selector; keeps the text as written for messages and `profile show`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    metric: String,
    matchers: Vec<Matcher>,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    /// The value, unescaped.
    pub value: String,
}

impl Matcher {
    /// True when only series without the label pass (`route=""`, `route=~""`, `route!~".+"`):
    /// Prometheus treats a missing label as the empty value.
    pub fn drops_label(&self) -> bool {
        match self.op {
            MatchOp::Equal => self.value.is_empty(),
            MatchOp::NotEqual => false,
            MatchOp::Regex => regex_syntax::Parser::new()
                .parse(&format!("^(?:{})$", self.value))
                .is_ok_and(|hir| hir.properties().maximum_len() == Some(0)),
            MatchOp::NotRegex => matches!(self.value.as_str(), ".+" | ".*"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

impl Selector {
    pub fn metric(&self) -> &str {
        &self.metric
    }

    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// The same matchers on another metric (a histogram's `_bucket` or `_count` series).
    pub fn with_metric(&self, metric: &str) -> Selector {
        let mut s = self.clone();
        s.metric = metric.to_string();
        s.text = s.promql();
        s
    }

    /// The same selector with one more matcher.
    pub fn with_matcher(&self, matcher: Matcher) -> Selector {
        let mut s = self.clone();
        s.matchers.push(matcher);
        s.text = s.promql();
        s
    }

    /// Canonical PromQL: `metric{a="b",c=~"d"}` with values re-escaped, or `metric` alone.
    pub fn promql(&self) -> String {
        if self.matchers.is_empty() {
            return self.metric.clone();
        }
        let inner: Vec<String> = self
            .matchers
            .iter()
            .map(|m| format!("{}{}{}", m.label, m.op.as_str(), quote(&m.value)))
            .collect();
        format!("{}{{{}}}", self.metric, inner.join(","))
    }
}

/// A PromQL double-quoted string literal.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

const EXAMPLE: &str = r#"e.g. `http_requests_total{job="checkout",code=~"5.."}`"#;

impl FromStr for Selector {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Parser {
            text,
            chars: text.char_indices().collect(),
            i: 0,
        }
        .selector()
        .map_err(|(at, why)| {
            format!(
                "invalid selector `{text}`: {why} (at character {}); expected a metric name and optional label matchers, {EXAMPLE}",
                at + 1
            )
        })
    }
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
}

type ParseResult<T> = Result<T, (usize, String)>;

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).map(|&(_, c)| c)
    }

    fn fail<T>(&self, why: impl Into<String>) -> ParseResult<T> {
        Err((self.i, why.into()))
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    fn name(&mut self, first: fn(char) -> bool, rest: fn(char) -> bool) -> String {
        let mut out = String::new();
        if let Some(c) = self.peek().filter(|&c| first(c)) {
            out.push(c);
            self.i += 1;
            while let Some(c) = self.peek().filter(|&c| rest(c)) {
                out.push(c);
                self.i += 1;
            }
        }
        out
    }

    fn selector(mut self) -> ParseResult<Selector> {
        self.skip_space();
        if self.peek().is_none() {
            return self.fail("it is empty");
        }
        let metric = self.name(
            |c| c.is_ascii_alphabetic() || c == '_' || c == ':',
            |c| c.is_ascii_alphanumeric() || c == '_' || c == ':',
        );
        if metric.is_empty() {
            return if self.peek() == Some('{') {
                self.fail("it has no metric name; obsctl needs one to add `_bucket`/`_count` and to keep the rules cheap")
            } else {
                self.fail(format!(
                    "a metric name cannot start with `{}`",
                    self.peek().unwrap_or(' ')
                ))
            };
        }
        self.skip_space();
        let mut matchers = Vec::new();
        if self.peek() == Some('{') {
            self.i += 1;
            loop {
                self.skip_space();
                match self.peek() {
                    Some('}') => {
                        self.i += 1;
                        break;
                    }
                    None => return self.fail("the `{` is never closed"),
                    _ => {}
                }
                matchers.push(self.matcher()?);
                self.skip_space();
                match self.peek() {
                    Some(',') => self.i += 1,
                    Some('}') => {}
                    None => return self.fail("the `{` is never closed"),
                    Some(c) => return self.fail(format!("expected `,` or `}}`, found `{c}`")),
                }
            }
        }
        self.skip_space();
        if let Some(c) = self.peek() {
            let what = match c {
                '[' => "a range (`[5m]`): give the bare selector, obsctl adds the windows".to_string(),
                '(' => "a function call: give the bare selector, obsctl writes the PromQL around it".to_string(),
                _ => format!("unexpected `{c}` after the selector: give one bare selector, obsctl writes the PromQL around it"),
            };
            return self.fail(what);
        }
        Ok(Selector {
            metric,
            matchers,
            text: self.text.to_string(),
        })
    }

    fn matcher(&mut self) -> ParseResult<Matcher> {
        let start = self.i;
        let label = self.name(
            |c| c.is_ascii_alphabetic() || c == '_',
            |c| c.is_ascii_alphanumeric() || c == '_',
        );
        if label.is_empty() {
            return self.fail(match self.peek() {
                Some(c) => format!("expected a label name, found `{c}`"),
                None => "expected a label name".into(),
            });
        }
        if label == "__name__" {
            self.i = start;
            return self
                .fail("`__name__` matchers are not supported: write the metric name before `{`");
        }
        self.skip_space();
        let op = match (self.peek(), self.chars.get(self.i + 1).map(|&(_, c)| c)) {
            (Some('='), Some('~')) => MatchOp::Regex,
            (Some('!'), Some('=')) => MatchOp::NotEqual,
            (Some('!'), Some('~')) => MatchOp::NotRegex,
            (Some('='), _) => MatchOp::Equal,
            _ => return self.fail(format!("expected `=`, `!=`, `=~` or `!~` after `{label}`")),
        };
        self.i += if op == MatchOp::Equal { 1 } else { 2 };
        self.skip_space();
        let value_at = self.i;
        let value = self.string()?;
        if matches!(op, MatchOp::Regex | MatchOp::NotRegex) {
            // Prometheus anchors every regex: ^(?:value)$.
            if let Err(e) = regex_syntax::Parser::new().parse(&format!("^(?:{value})$")) {
                self.i = value_at;
                let reason = e.to_string();
                let reason = reason.lines().last().unwrap_or("").trim();
                return self.fail(format!(
                    "`{value}` is not a valid regular expression: {reason}"
                ));
            }
        }
        Ok(Matcher { label, op, value })
    }

    /// A quoted string with Go's escapes (PromQL's string literals).
    fn string(&mut self) -> ParseResult<String> {
        let quote = match self.peek() {
            Some(q @ ('"' | '\'' | '`')) => q,
            Some(c) => return self.fail(format!("expected a quoted value, found `{c}`")),
            None => return self.fail("expected a quoted value"),
        };
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return self.fail(format!("the value's `{quote}` is never closed"));
            };
            self.i += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' || quote == '`' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return self.fail("a value ends in `\\`");
            };
            self.i += 1;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'v' => out.push('\x0b'),
                '\\' => out.push('\\'),
                '"' | '\'' if e == quote => out.push(e),
                'x' | 'u' | 'U' => {
                    let len = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = self.chars[self.i..]
                        .iter()
                        .take(len)
                        .map(|&(_, c)| c)
                        .collect();
                    let code = (hex.len() == len)
                        .then(|| u32::from_str_radix(&hex, 16).ok())
                        .flatten()
                        .and_then(char::from_u32);
                    match code {
                        Some(ch) => {
                            out.push(ch);
                            self.i += len;
                        }
                        None => return self.fail(format!("invalid escape `\\{e}{hex}`")),
                    }
                }
                other => {
                    self.i -= 2;
                    return self.fail(format!(
                        "unknown escape `\\{other}` (in PromQL strings a regex backslash is written `\\\\`)"
                    ));
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonSchema for Selector {
    fn schema_name() -> Cow<'static, str> {
        "PromQLSelector".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^\\s*[a-zA-Z_:][a-zA-Z0-9_:]*\\s*(\\{.*\\})?\\s*$",
            "description": "A PromQL selector: a metric name and optional label matchers, e.g. http_requests_total{job=\"checkout\",code=~\"5..\"}"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Selector {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn err(text: &str) -> String {
        match text.parse::<Selector>() {
            Ok(s) => panic!("{text:?} should be refused, parsed {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn selectors_parse_into_metric_and_matchers() {
        let s = ok(r#"http_requests_total{job="checkout",code=~"5.."}"#);
        assert_eq!(s.metric(), "http_requests_total");
        assert_eq!(
            s.matchers(),
            [
                Matcher {
                    label: "job".into(),
                    op: MatchOp::Equal,
                    value: "checkout".into()
                },
                Matcher {
                    label: "code".into(),
                    op: MatchOp::Regex,
                    value: "5..".into()
                },
            ]
        );
        let s = ok(r#" rpc:calls_total { a != 'x' , b !~ `y\d+`, } "#);
        assert_eq!(s.metric(), "rpc:calls_total");
        assert_eq!(
            s.promql(),
            r#"rpc:calls_total{a!="x",b!~"y\\d+"}"#,
            "backtick raw strings are re-escaped"
        );
        assert_eq!(ok("up").promql(), "up");
        assert_eq!(ok("up{}").promql(), "up");
    }

    #[test]
    fn escapes_round_trip_through_canonical_promql() {
        let s = ok(r#"m{path="a\"b\\c\n", x="\u00e9\x41"}"#);
        assert_eq!(s.matchers()[0].value, "a\"b\\c\n");
        assert_eq!(s.matchers()[1].value, "éA");
        let again = ok(&s.promql());
        assert_eq!(again.matchers(), s.matchers());
    }

    #[test]
    fn bad_selectors_are_refused_with_the_reason() {
        let cases = [
            (r#"{job="checkout"}"#, "no metric name"),
            ("", "empty"),
            ("5xx_total", "cannot start with `5`"),
            (r#"m{job="x""#, "never closed"),
            (r#"m{job="x}"#, "never closed"),
            (r#"m{job=x}"#, "expected a quoted value"),
            (r#"m{job=="x"}"#, "expected a quoted value"),
            (r#"m{job<"x"}"#, "expected `=`"),
            (r#"m{1job="x"}"#, "expected a label name"),
            (r#"m{a="x" b="y"}"#, "expected `,` or `}`"),
            (r#"m{code=~"5(.."}"#, "not a valid regular expression"),
            (r#"m{code=~"\d+"}"#, "unknown escape"),
            (r#"m{__name__="x"}"#, "__name__"),
            ("rate(m[5m])", "function call"),
            ("m[5m]", "range"),
            ("m offset 5m", "unexpected `o`"),
            ("m / n", "unexpected `/`"),
            (r#"m{a="\x4"}"#, "invalid escape"),
        ];
        for (text, why) in cases {
            let e = err(text);
            assert!(e.contains(why), "{text:?}: {e}");
            assert!(e.contains("expected a metric name"), "{text:?}: {e}");
        }
        assert!(err(r#"m{job=x}"#).contains("at character 7"));
    }

    #[test]
    fn derived_selectors_keep_the_matchers() {
        let s = ok(r#"http_request_duration_seconds{job="checkout"}"#);
        let bucket = s
            .with_metric("http_request_duration_seconds_bucket")
            .with_matcher(Matcher {
                label: "le".into(),
                op: MatchOp::Equal,
                value: "0.5".into(),
            });
        assert_eq!(
            bucket.promql(),
            r#"http_request_duration_seconds_bucket{job="checkout",le="0.5"}"#
        );
        assert_eq!(bucket.to_string(), bucket.promql());
    }

    #[test]
    fn names_follow_prometheus_rules() {
        assert!(is_metric_name("a:b_c1"));
        assert!(!is_metric_name("1a"));
        assert!(is_label_name("_a1"));
        assert!(!is_label_name("a:b"));
        assert!(!is_label_name(""));
    }
}
