//! A `serde` deserializer over [`super::Node`] whose errors name the file, line,
//! column and key path of the offending value, and suggest the closest known key.
//!
//! Conventions: string targets take any non-null scalar's text as written (`2.10` stays
//! "2.10"); integer targets take whole numbers, including integral floats such as `3.0`;
//! `bool` only takes `true`/`false`; `null` fills `Option`s and unit, and is refused as a
//! string. Enums are a string (unit variant) or a single-key mapping (other variants).

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::parse::{Key, Node, Pos, Value};

/// A deserialization error with the position and key path of the value it concerns.
#[derive(Clone, Debug)]
pub struct DeError {
    pub pos: Pos,
    /// Key path such as `slos[1].indicator.ratio.errors`; empty at the top level.
    pub path: String,
    pub message: String,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.pos, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.pos, self.path, self.message)
        }
    }
}

impl std::error::Error for DeError {}

/// Deserializes `T` from a parsed node.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, DeError> {
    T::deserialize(NodeDe { node }).map_err(|e| e.finish(node))
}

#[derive(Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// The error used while deserializing. Errors raised by `Deserialize` impls have no
/// position; the first node boundary they cross gives them one. The path is collected
/// innermost-first while the error travels out.
#[derive(Debug)]
struct Error {
    pos: Option<Pos>,
    path: Vec<Seg>,
    message: String,
    /// Raised by `unknown_variant`, so the map form of an enum can say "key".
    unknown_variant: bool,
}

impl Error {
    fn new(pos: &Pos, message: impl Into<String>) -> Self {
        Error {
            pos: Some(pos.clone()),
            path: Vec::new(),
            message: message.into(),
            unknown_variant: false,
        }
    }

    fn at(mut self, pos: &Pos) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos.clone());
        }
        self
    }

    fn within(mut self, seg: Seg) -> Self {
        self.path.push(seg);
        self
    }

    fn finish(self, root: &Node) -> DeError {
        let mut path = String::new();
        for seg in self.path.iter().rev() {
            match seg {
                Seg::Index(i) => path.push_str(&format!("[{i}]")),
                Seg::Key(k) if is_plain_key(k) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                }
                Seg::Key(k) => path.push_str(&format!("[{k:?}]")),
            }
        }
        DeError {
            pos: self.pos.unwrap_or_else(|| root.pos.clone()),
            path,
            message: self.message,
        }
    }
}

/// Keys that read unambiguously after a `.` in a path; others are shown as `["a.b"]`.
fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            pos: None,
            path: Vec::new(),
            message: msg.to_string(),
            unknown_variant: false,
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "expected {}, found {}",
            expected_phrase(&exp.to_string()),
            unexpected_phrase(&unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "invalid value {}; expected {}",
            unexpected_phrase(&unexp),
            expected_phrase(&exp.to_string())
        ))
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "expected {}, found {len} item{}",
            expected_phrase(&exp.to_string()),
            if len == 1 { "" } else { "s" }
        ))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Self::custom(unknown_message("value", variant, expected));
        e.unknown_variant = true;
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::custom(unknown_message("key", field, expected))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::custom(format_args!("missing required key `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::custom(format_args!("duplicate key `{field}`"))
    }
}

/// serde's own wording ("u64", "a sequence", "struct Metrics") rephrased for YAML users.
fn expected_phrase(exp: &str) -> String {
    match exp {
        "a sequence" => "a list".into(),
        "a map" => "a mapping".into(),
        "a boolean" => "true or false".into(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number ≥ 0".into(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "unit" => "null".into(),
        _ if exp.starts_with("struct ") => "a mapping".into(),
        _ => exp.into(),
    }
}

fn unexpected_phrase(u: &Unexpected<'_>) -> String {
    match u {
        Unexpected::Bool(b) => b.to_string(),
        Unexpected::Unsigned(n) => n.to_string(),
        Unexpected::Signed(n) => n.to_string(),
        Unexpected::Float(f) => f.to_string(),
        Unexpected::Char(c) => format!("a string ({:?})", c.to_string()),
        Unexpected::Str(s) => format!("a string ({})", quoted(s)),
        Unexpected::Unit | Unexpected::Option => "null".into(),
        Unexpected::Seq => "a list".into(),
        Unexpected::Map => "a mapping".into(),
        other => other.to_string(),
    }
}

/// A string for a message: quoted, escaped, and cut short so one huge value cannot
/// bury the message.
fn quoted(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() > MAX {
        let head: String = s.chars().take(MAX - 3).collect();
        format!("{:?}…", head)
    } else {
        format!("{s:?}")
    }
}

fn unknown_message(what: &str, given: &str, expected: &[&str]) -> String {
    let mut msg = format!("unknown {what} `{given}`");
    if given == "<<" {
        msg.push_str("; YAML merge keys (`<<`) are not supported, write the keys out");
    } else {
        msg.push_str(&crate::suggest::did_you_mean(given, expected));
    }
    if expected.is_empty() {
        msg.push_str(&format!(" (no {what}s are allowed here)"));
    } else {
        let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
        msg.push_str(&format!(" (expected one of: {})", list.join(", ")));
    }
    msg
}

/// What a node is, for "found ..." in messages: the text of numbers and booleans,
/// a short excerpt of strings, the kind of anything else.
fn found(node: &Node) -> String {
    match &node.value {
        Value::Null if node.raw.as_deref().is_none_or(str::is_empty) => {
            "nothing (an empty value)".into()
        }
        Value::Null => "null".into(),
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => node.raw.clone().unwrap_or_default(),
        Value::Str(s) => format!("a string ({})", quoted(s)),
        Value::Seq(_) | Value::Map(_) => node.type_name().into(),
    }
}

struct NodeDe<'a> {
    node: &'a Node,
}

impl<'a> NodeDe<'a> {
    fn mismatch(&self, expected: &str) -> Error {
        let mut msg = format!("expected {expected}, found {}", found(self.node));
        if let Value::Str(s) = &self.node.value {
            let numeric = expected.contains("number");
            let boolean = expected.contains("true or false");
            // A quoted number: the quotes are the likely mistake.
            let looks_number = s.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
                && s.parse::<f64>().is_ok();
            let looks_bool = matches!(s.as_str(), "true" | "false");
            if (numeric && looks_number) || (boolean && looks_bool) {
                msg.push_str("; remove the quotes");
            } else if boolean
                && matches!(
                    s.to_ascii_lowercase().as_str(),
                    "yes" | "no" | "on" | "off" | "y" | "n"
                )
            {
                msg.push_str(
                    "; YAML 1.2 reads `yes`/`no`/`on`/`off` as text — write `true` or `false`",
                );
            }
        }
        Error::new(&self.node.pos, msg)
    }

    /// Gives errors that have no position yet this node's position.
    fn here<T>(&self, r: Result<T, Error>) -> Result<T, Error> {
        r.map_err(|e| e.at(&self.node.pos))
    }

    fn scalar_text(&self, expected: &str) -> Result<&'a str, Error> {
        match (&self.node.value, &self.node.raw) {
            (Value::Null | Value::Seq(_) | Value::Map(_), _) | (_, None) => {
                let mut e = self.mismatch(expected);
                if matches!(self.node.value, Value::Null) {
                    e.message
                        .push_str("; quote it (`\"null\"`) if you mean the text");
                }
                Err(e)
            }
            (_, Some(raw)) => Ok(raw),
        }
    }

    fn integer(&self, min: i128, max: i128) -> Result<i128, Error> {
        let expected = if min == 0 && max >= i128::from(u64::MAX) {
            "a whole number ≥ 0".to_string()
        } else if min == 0 && max <= i128::from(u32::MAX) {
            format!("a whole number between 0 and {max}")
        } else if min <= i128::from(i64::MIN) {
            "a whole number".to_string()
        } else {
            format!("a whole number between {min} and {max}")
        };
        let n = match self.node.value {
            Value::Int(i) => Some(i128::from(i)),
            // Integral floats (`3.0`, `1e3`) are whole numbers too.
            Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38 => {
                Some(f as i128)
            }
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.mismatch(&expected)),
        }
    }

    fn float(&self) -> Result<f64, Error> {
        match self.node.value {
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) => Ok(f),
            _ => Err(self.mismatch("a number")),
        }
    }

    fn seq(&self) -> Result<&'a [Node], Error> {
        match &self.node.value {
            Value::Seq(items) => Ok(items),
            _ => Err(self.mismatch("a list")),
        }
    }

    fn map(&self) -> Result<&'a [(Key, Node)], Error> {
        match &self.node.value {
            Value::Map(entries) => Ok(entries),
            _ => Err(self.mismatch("a mapping")),
        }
    }

    fn visit_seq<V: Visitor<'a>>(&self, items: &'a [Node], visitor: V) -> Result<V::Value, Error> {
        let mut access = SeqDe {
            iter: items.iter().enumerate(),
        };
        let value = visitor.visit_seq(&mut access)?;
        let left = access.iter.len();
        if left > 0 {
            return Err(Error::new(
                &self.node.pos,
                format!(
                    "expected a list of {} items, found {}",
                    items.len() - left,
                    items.len()
                ),
            ));
        }
        Ok(value)
    }
}

macro_rules! integer_methods {
    ($($method:ident $visit:ident $ty:ty;)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
            let n = self.integer(<$ty>::MIN as i128, <$ty>::MAX as i128)?;
            // In range by the check above.
            let n = <$ty>::try_from(n).map_err(|_| self.mismatch("a whole number"))?;
            self.here(visitor.$visit(n))
        }
    )*};
}

impl<'a> de::Deserializer<'a> for NodeDe<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => match u64::try_from(*i) {
                Ok(u) => visitor.visit_u64(u),
                Err(_) => visitor.visit_i64(*i),
            },
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => self.visit_seq(items, visitor),
            Value::Map(entries) => visitor.visit_map(MapDe::new(entries)),
        };
        self.here(r)
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node.value {
            Value::Bool(b) => self.here(visitor.visit_bool(b)),
            _ => Err(self.mismatch("true or false")),
        }
    }

    integer_methods! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
    }

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let f = self.float()?;
        self.here(visitor.visit_f32(f as f32))
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let f = self.float()?;
        self.here(visitor.visit_f64(f))
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let text = self.scalar_text("a single character")?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => self.here(visitor.visit_char(c)),
            _ => Err(self.mismatch("a single character")),
        }
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let text = self.scalar_text("a string")?;
        self.here(visitor.visit_str(text))
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let r = match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(NodeDe { node: self.node }),
        };
        self.here(r)
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node.value {
            Value::Null => self.here(visitor.visit_unit()),
            _ => Err(self.mismatch("null (no value)")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let r = visitor.visit_newtype_struct(NodeDe { node: self.node });
        self.here(r)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let items = self.seq()?;
        let r = self.visit_seq(items, visitor);
        self.here(r)
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        let items = self.seq()?;
        if items.len() != len {
            return Err(Error::new(
                &self.node.pos,
                format!("expected a list of {len} items, found {}", items.len()),
            ));
        }
        let r = self.visit_seq(items, visitor);
        self.here(r)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let entries = self.map()?;
        let r = visitor.visit_map(MapDe::new(entries));
        self.here(r)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let list = || {
            variants
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let r = match &self.node.value {
            Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) => {
                let text = self.node.raw.as_deref().unwrap_or_default();
                visitor.visit_enum(StrEnum {
                    text,
                    pos: &self.node.pos,
                })
            }
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(MapEnum { key, value })
            }
            Value::Map(entries) => {
                return Err(Error::new(
                    &self.node.pos,
                    format!(
                        "expected a mapping with exactly one key (one of: {}), found {} keys",
                        list(),
                        entries.len()
                    ),
                ));
            }
            _ => return Err(self.mismatch(&format!("one of: {}", list()))),
        };
        self.here(r)
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct SeqDe<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'a> de::SeqAccess<'a> for SeqDe<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((i, node)) = self.iter.next() else {
            return Ok(None);
        };
        seed.deserialize(NodeDe { node })
            .map(Some)
            .map_err(|e| e.at(&node.pos).within(Seg::Index(i)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a> {
    iter: std::slice::Iter<'a, (Key, Node)>,
    current: Option<&'a (Key, Node)>,
}

impl<'a> MapDe<'a> {
    fn new(entries: &'a [(Key, Node)]) -> Self {
        MapDe {
            iter: entries.iter(),
            current: None,
        }
    }
}

impl<'a> de::MapAccess<'a> for MapDe<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.iter.next() else {
            return Ok(None);
        };
        self.current = Some(entry);
        let key = &entry.0;
        seed.deserialize(StrDe {
            text: &key.name,
            pos: &key.pos,
        })
        .map(Some)
        .map_err(|e| e.at(&key.pos).within(Seg::Key(key.name.clone())))
    }

    fn next_value_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<T::Value, Error> {
        let Some((key, node)) = self.current.take() else {
            // Only a misbehaving `Deserialize` impl asks for a value before a key.
            return Err(de::Error::custom("a value was requested before its key"));
        };
        seed.deserialize(NodeDe { node })
            .map_err(|e| e.at(&node.pos).within(Seg::Key(key.name.clone())))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Deserializes a piece of text with a position: mapping keys and unit variants.
struct StrDe<'a> {
    text: &'a str,
    pos: &'a Pos,
}

impl<'de> de::Deserializer<'de> for StrDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor
            .visit_str(self.text)
            .map_err(|e: Error| e.at(self.pos))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let pos = self.pos;
        visitor.visit_some(self).map_err(|e| e.at(pos))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let pos = self.pos;
        visitor.visit_newtype_struct(self).map_err(|e| e.at(pos))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor
            .visit_enum(StrEnum {
                text: self.text,
                pos: self.pos,
            })
            .map_err(|e| e.at(self.pos))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// An enum written as a plain value: only unit variants fit.
struct StrEnum<'a> {
    text: &'a str,
    pos: &'a Pos,
}

impl<'a> de::EnumAccess<'a> for StrEnum<'a> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'a>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let de: de::value::StrDeserializer<'_, Error> = self.text.into_deserializer();
        let v = seed.deserialize(de).map_err(|e| e.at(self.pos))?;
        Ok((v, self))
    }
}

impl<'a> StrEnum<'a> {
    fn needs_value(&self) -> Error {
        Error::new(
            self.pos,
            format!("`{0}` needs settings; write it as `{0}: ...`", self.text),
        )
    }
}

impl<'a> de::VariantAccess<'a> for StrEnum<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, _seed: T) -> Result<T::Value, Error> {
        Err(self.needs_value())
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        Err(self.needs_value())
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(self.needs_value())
    }
}

/// An enum written as `variant: value`.
struct MapEnum<'a> {
    key: &'a Key,
    value: &'a Node,
}

impl<'a> MapEnum<'a> {
    fn inside(&self) -> impl Fn(Error) -> Error + '_ {
        |e| {
            e.at(&self.value.pos)
                .within(Seg::Key(self.key.name.clone()))
        }
    }
}

impl<'a> de::EnumAccess<'a> for MapEnum<'a> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'a>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let de: de::value::StrDeserializer<'_, Error> = self.key.name.as_str().into_deserializer();
        match seed.deserialize(de) {
            Ok(v) => Ok((v, self)),
            Err(mut e) => {
                // Here the variant name is a key, so call it one.
                if e.unknown_variant {
                    e.message = e.message.replacen("unknown value", "unknown key", 1);
                }
                Err(e.at(&self.key.pos).within(Seg::Key(self.key.name.clone())))
            }
        }
    }
}

impl<'a> de::VariantAccess<'a> for MapEnum<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value.value {
            Value::Null => Ok(()),
            _ => Err(Error::new(
                &self.value.pos,
                format!(
                    "`{0}` takes no settings; write just `{0}`, found {1}",
                    self.key.name,
                    found(self.value)
                ),
            )
            .within(Seg::Key(self.key.name.clone()))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(NodeDe { node: self.value })
            .map_err(self.inside())
    }

    fn tuple_variant<V: Visitor<'a>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_tuple(NodeDe { node: self.value }, len, visitor)
            .map_err(self.inside())
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(NodeDe { node: self.value }, "", fields, visitor)
            .map_err(self.inside())
    }
}

#[cfg(test)]
mod tests;
