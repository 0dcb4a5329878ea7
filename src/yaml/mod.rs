//! Positioned YAML: a tree whose every value knows its file, line and column, and a strict
//! `serde` deserializer over it whose errors name the position, the key path and the closest key.
//!
//! Hand-written because the maintained crates could not keep every message of the
//! malformed-profile corpus (see the simplification note in the README's map). Everything that
//! reads a user's YAML file (profiles, pricing catalogs) goes through [`parse`] then [`from_node`].

pub mod de;
pub mod parse;

pub use de::{from_node, suggest, DeError};
pub use parse::{merge, parse, Key, Node, Pos, Value, YamlError};
