//! Positioned YAML: a tree whose every value knows its file, line and column, and a strict
//! `serde` deserializer over it whose errors name the position, the key path and the closest key.
//!
//! Hand-written on `yaml-rust2`'s event parser, measured against the maintained alternatives
//! (2026-12, on the malformed-profile corpus): serde-saphyr 2.2 has no positioned tree, so
//! `extends` could not merge two files and keep positions, and it coerces quoted numbers and
//! booleans; marked-yaml 0.8 refuses every anchor and tag, types no scalar and has no input
//! limits. Everything that reads a user's YAML file goes through [`parse`] then [`from_node`].

pub mod de;
pub mod parse;

pub use de::{from_node, DeError};
pub use parse::{merge, parse, parse_documents, Key, Node, Pos, Value, YamlError};
