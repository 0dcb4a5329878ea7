//! Stack profiles: the model, loading (a built-in name or a path), `extends` layering, and
//! validation with source positions. Nothing here knows about Helm charts.

mod builtin;
pub(crate) mod collector;
mod model;
mod overrides;
pub(crate) mod slo;
pub(crate) mod types;
mod validate;
pub(crate) mod workload;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::yaml::{self, de, Node, Pos};
pub use builtin::{builtin_names, builtin_source};
pub use model::*;
pub use types::{DnsName, PromDuration, Quantity};

/// A loaded, validated profile: the model plus the merged YAML tree it came from (kept for the
/// positions of later diagnostics).
#[derive(Clone, Debug)]
pub struct Profile {
    pub stack: Stack,
    /// `values:` overrides that contradict a modelled setting (the model holds the deployed value).
    pub warnings: Vec<Problem>,
    /// The display name of the file the profile was selected by (`stacks/dev.yaml`, `./my.yaml`).
    pub source: String,
    pub root: Node,
}

/// Why a profile could not be loaded. Every variant names where, and what would be right.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    #[error(transparent)]
    Schema(#[from] de::DeError),
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
    #[error("cannot read profile `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    UnknownBuiltin(String),
}

/// One broken cross-field rule, at the position of the key that has to change.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub pos: Pos,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: `{}`: {}",
            self.pos.source, self.pos.line, self.pos.col, self.path, self.message
        )
    }
}

fn render_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a profile comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Origin {
    Builtin(String),
    File(PathBuf),
}

impl Origin {
    /// `--profile NAME|PATH`: a value with a `/`, or ending in `.yaml`/`.yml`, or naming an
    /// existing file is a path; anything else is a built-in name.
    fn of_selector(selector: &str) -> Origin {
        if looks_like_path(selector) || Path::new(selector).is_file() {
            Origin::File(PathBuf::from(selector))
        } else {
            Origin::Builtin(selector.to_string())
        }
    }

    fn display(&self) -> String {
        match self {
            Origin::Builtin(name) => format!("stacks/{name}.yaml"),
            // `./a.yaml` reads as `a.yaml`, as the profiles it extends are shown.
            Origin::File(path) => path.strip_prefix(".").unwrap_or(path).display().to_string(),
        }
    }

    fn read(&self) -> Result<Vec<u8>, ProfileError> {
        match self {
            Origin::Builtin(name) => builtin_source(name)
                .map(|s| s.as_bytes().to_vec())
                .ok_or_else(|| ProfileError::UnknownBuiltin(unknown_builtin_message(name))),
            Origin::File(path) => std::fs::read(path).map_err(|e| ProfileError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

/// Loads a profile from `--profile NAME|PATH` (see [`Origin::of_selector`]).
pub fn load(selector: &str) -> Result<Profile, ProfileError> {
    load_origin(Origin::of_selector(selector))
}

/// Loads a profile from a file path, whatever it looks like.
pub fn load_file(path: &Path) -> Result<Profile, ProfileError> {
    load_origin(Origin::File(path.to_path_buf()))
}

fn looks_like_path(s: &str) -> bool {
    s.contains('/') || s.contains('\\') || s.ends_with(".yaml") || s.ends_with(".yml")
}

fn load_origin(origin: Origin) -> Result<Profile, ProfileError> {
    load_origin_with(origin, Vec::new())
}

/// Loads a profile as if `extra` (profile-shaped `slos:` entries, e.g. imported from OpenSLO,
/// keeping their own positions) were appended to its `slos:`; every check applies to them.
pub fn load_with_slos(selector: &str, extra: Vec<Node>) -> Result<Profile, ProfileError> {
    load_origin_with(Origin::of_selector(selector), extra)
}

fn load_origin_with(origin: Origin, extra: Vec<Node>) -> Result<Profile, ProfileError> {
    let source = origin.display();
    let mut root = load_layered(origin, &mut Vec::new())?;
    if !extra.is_empty() {
        append_slos(&mut root, extra);
    }
    let mut stack: Stack = de::from_node(&root)?;
    let warnings = overrides::reconcile(&mut stack, &root);
    let problems = validate::check(&stack, &root);
    if !problems.is_empty() {
        return Err(ProfileError::Invalid(problems));
    }
    Ok(Profile {
        stack,
        warnings,
        source,
        root,
    })
}

/// Reads one file and, recursively, what it extends; returns the merged tree. `chain` holds the
/// files being loaded, to refuse cycles.
fn load_layered(origin: Origin, chain: &mut Vec<Origin>) -> Result<Node, ProfileError> {
    let bytes = origin.read()?;
    let node = yaml::parse(&origin.display(), &bytes)?;
    if node.get("name").is_none() {
        return Err(ProfileError::Invalid(vec![Problem {
            pos: node.pos.clone(),
            path: "name".into(),
            message:
                "missing required key `name`: every profile names itself, e.g. `name: my-stack`"
                    .into(),
        }]));
    }
    let Some(extends) = node.get("extends") else {
        return Ok(node);
    };
    let parent_ref = match &extends.value {
        yaml::Value::Str(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => {
            return Err(ProfileError::Invalid(vec![Problem {
                pos: extends.pos.clone(),
                path: "extends".into(),
                message: format!(
                    "expected a built-in profile name ({}) or a path to a YAML file, found {}",
                    builtin_names().join(", "),
                    extends.type_name()
                ),
            }]))
        }
    };
    let parent = resolve_parent(&origin, &parent_ref);
    chain.push(origin.clone());
    if chain.iter().any(|o| same_profile(o, &parent)) {
        let cycle: Vec<String> = chain
            .iter()
            .chain(std::iter::once(&parent))
            .map(Origin::display)
            .collect();
        return Err(ProfileError::Invalid(vec![Problem {
            pos: extends.pos.clone(),
            path: "extends".into(),
            message: format!(
                "profiles extend each other in a cycle ({}); remove one `extends`",
                cycle.join(" → ")
            ),
        }]));
    }
    let parent_node = load_layered(parent.clone(), chain).map_err(|e| match e {
        ProfileError::UnknownBuiltin(msg) => ProfileError::Invalid(vec![Problem {
            pos: extends.pos.clone(),
            path: "extends".into(),
            message: format!("cannot load `{parent_ref}`: {msg}"),
        }]),
        ProfileError::Read { path, reason } => ProfileError::Invalid(vec![Problem {
            pos: extends.pos.clone(),
            path: "extends".into(),
            message: format!("cannot load `{parent_ref}` (tried {path}): {reason}"),
        }]),
        other => other,
    })?;
    chain.pop();
    Ok(yaml::merge(parent_node, node))
}

/// Whether two origins are the same profile: files compared by their real path, so that
/// `sub/../a.yaml` and `./a.yaml` are one (a cycle through them is found, not followed).
fn same_profile(a: &Origin, b: &Origin) -> bool {
    match (a, b) {
        (Origin::File(a), Origin::File(b)) => match (fs::canonicalize(a), fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        },
        _ => a == b,
    }
}

fn append_slos(root: &mut Node, extra: Vec<Node>) {
    let yaml::Value::Map(entries) = &mut root.value else {
        return;
    };
    match entries.iter_mut().find(|(k, _)| k.name == "slos") {
        Some((_, node)) => {
            // Not a list: the deserializer refuses it where it is.
            if let yaml::Value::Seq(items) = &mut node.value {
                items.extend(extra);
            }
        }
        None => {
            let pos = extra[0].pos.clone();
            entries.push((
                yaml::Key {
                    name: "slos".into(),
                    pos: pos.clone(),
                },
                Node {
                    pos,
                    value: yaml::Value::Seq(extra),
                    raw: None,
                },
            ));
        }
    }
}

fn resolve_parent(child: &Origin, reference: &str) -> Origin {
    if !looks_like_path(reference) {
        return Origin::Builtin(reference.to_string());
    }
    match child {
        Origin::File(path) => {
            let dir = path.parent().unwrap_or_else(|| Path::new(""));
            // `a/./b.yaml` → `a/b.yaml`, so messages and cycle paths read as typed.
            Origin::File(
                dir.join(reference)
                    .components()
                    .filter(|c| !matches!(c, std::path::Component::CurDir))
                    .collect(),
            )
        }
        // A built-in can only extend other built-ins; its path is taken as a name.
        Origin::Builtin(_) => Origin::Builtin(
            Path::new(reference)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    }
}

fn unknown_builtin_message(name: &str) -> String {
    let names = builtin_names();
    // "; did you mean `x`?" or nothing; either way a sentence ends before the list.
    let suggestion = match crate::suggest::did_you_mean(name, &names) {
        s if s.is_empty() => ".".to_string(),
        s => s,
    };
    format!(
        "unknown profile `{name}`{suggestion} Built-in profiles: {}; or give a path to a YAML file",
        names.join(", ")
    )
}

/// The position of the node at `path` (keys), or of the deepest existing ancestor.
pub fn position(root: &Node, path: &[&str]) -> Pos {
    let mut node = root;
    for key in path {
        match node.get(key) {
            Some(child) => node = child,
            None => break,
        }
    }
    node.pos.clone()
}

/// A position for messages about something that has no place in a file (a flag, a built-in).
pub fn synthetic_pos(source: &str) -> Pos {
    Pos {
        source: Arc::from(source),
        line: 1,
        col: 1,
    }
}

#[cfg(test)]
mod tests;
