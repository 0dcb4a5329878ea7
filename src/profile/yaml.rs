//! A YAML tree that remembers where every value came from.
//!
//! Built on `yaml-rust2`'s event parser so that each node carries a file/line/column,
//! and so that hostile input (huge files, alias bombs, deep nesting) is refused early
//! with a message that says what is wrong and what would be right.
//!
//! Scalars are resolved with the YAML 1.2 core schema (`yes`/`no`/`on`/`off` stay strings).
//! Merge keys (`<<`) get no special treatment: `<<` is an ordinary key, so a profile that
//! uses one is refused by the strict deserializer as an unknown key.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

/// Largest input accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;
/// Deepest nesting of lists and mappings accepted.
pub const MAX_DEPTH: usize = 64;
/// Most values (scalars, keys, lists, mappings) accepted, counting every alias expansion.
pub const MAX_NODES: usize = 100_000;
/// Most scalar text accepted, counting every alias expansion. Without aliases the 1 MiB
/// input cap already bounds this; it exists so that one big string aliased many times
/// cannot exhaust memory while staying under [`MAX_NODES`].
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;

const CORE_TAG: &str = "tag:yaml.org,2002:";

/// A position in a source file; line and column are 1-based, columns count characters.
#[derive(Clone, Debug, PartialEq)]
pub struct Pos {
    pub source: Arc<str>,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.col)
    }
}

/// A value with its position. `raw` is the scalar's text as written (after unquoting);
/// it is `None` for lists and mappings.
#[derive(Clone, Debug)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
    pub raw: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key: always the scalar's text.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

/// A refusal to read a file, with the position it concerns.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

impl Node {
    /// Looks `key` up in a mapping; `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Removes `key` from a mapping, keeping the order of the rest.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match &mut self.value {
            Value::Map(entries) => {
                let i = entries.iter().position(|(k, _)| k.name == key)?;
                Some(entries.remove(i).1)
            }
            _ => None,
        }
    }

    /// The same value without positions (keys become strings).
    pub fn to_value(&self) -> serde_yaml::Value {
        use serde_yaml::Value as Y;
        match &self.value {
            Value::Null => Y::Null,
            Value::Bool(b) => Y::Bool(*b),
            Value::Int(i) => Y::Number((*i).into()),
            Value::Float(f) => Y::Number((*f).into()),
            Value::Str(s) => Y::String(s.clone()),
            Value::Seq(items) => Y::Sequence(items.iter().map(Node::to_value).collect()),
            Value::Map(entries) => Y::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| (Y::String(k.name.clone()), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// What kind of value this is, phrased for error messages.
    pub fn type_name(&self) -> &'static str {
        self.value.type_name()
    }
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "true/false",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Deep merge: mappings merge key by key (overlay wins; base order kept, new keys
/// appended); anything else is replaced by `overlay`. Each value keeps the position of
/// the file that supplied it, so later errors point at the right file.
pub fn merge(base: Node, overlay: Node) -> Node {
    match (base, overlay) {
        (
            Node {
                pos,
                value: Value::Map(mut entries),
                raw,
            },
            Node {
                value: Value::Map(over),
                ..
            },
        ) => {
            let mut index: HashMap<String, usize> = entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.name.clone(), i))
                .collect();
            for (key, value) in over {
                match index.get(&key.name) {
                    Some(&i) => {
                        let slot = &mut entries[i];
                        let both_maps = matches!(slot.1.value, Value::Map(_))
                            && matches!(value.value, Value::Map(_));
                        // A merged mapping is still the base's mapping, so its key keeps
                        // the base position; a replaced value brings its own key.
                        if !both_maps {
                            slot.0 = key;
                        }
                        let placeholder = Node {
                            pos: slot.1.pos.clone(),
                            value: Value::Null,
                            raw: None,
                        };
                        let old = std::mem::replace(&mut slot.1, placeholder);
                        slot.1 = merge(old, value);
                    }
                    None => {
                        index.insert(key.name.clone(), entries.len());
                        entries.push((key, value));
                    }
                }
            }
            Node {
                pos,
                value: Value::Map(entries),
                raw,
            }
        }
        (_, overlay) => overlay,
    }
}

/// Parses one YAML document whose top level must be a mapping.
/// `source` is the name used in positions, e.g. `stacks/dev.yaml`.
pub fn parse(source: &str, bytes: &[u8]) -> Result<Node, YamlError> {
    let source: Arc<str> = Arc::from(source);
    let at = |line: usize, col: usize, message: String| YamlError {
        pos: pos_of(&source, line, col),
        message,
    };
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(at(
            1,
            1,
            format!(
                "the file is {} bytes; the limit is 1 MiB ({MAX_INPUT_BYTES} bytes) — a stack profile should be far smaller",
                bytes.len()
            ),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            // The prefix is valid UTF-8 by definition, so this cannot fail.
            let good = std::str::from_utf8(good).unwrap_or_default();
            let (line, col) = end_of(good);
            return Err(at(
                line,
                col,
                format!(
                    "invalid UTF-8 (byte 0x{:02X}); save the file as UTF-8",
                    bytes[e.valid_up_to()]
                ),
            ));
        }
    };
    // A byte order mark is invisible in editors, so columns are counted without it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_characters(text).map_err(|(line, col, message)| at(line, col, message))?;
    Builder::new(source.clone(), text).run()
}

fn pos_of(source: &Arc<str>, line: usize, col: usize) -> Pos {
    Pos {
        source: source.clone(),
        line: u32::try_from(line.max(1)).unwrap_or(u32::MAX),
        col: u32::try_from(col.max(1)).unwrap_or(u32::MAX),
    }
}

/// 1-based line and column just after `text`.
fn end_of(text: &str) -> (usize, usize) {
    let line = 1 + text.bytes().filter(|&b| b == b'\n').count();
    let last = text.rfind('\n').map_or(text, |i| &text[i + 1..]);
    (line, last.chars().count() + 1)
}

/// Refuses characters YAML does not allow. This must run before parsing: yaml-rust2
/// uses NUL as its end-of-input marker, so a NUL would silently truncate the file.
fn check_characters(text: &str) -> Result<(), (usize, usize, String)> {
    let (mut line, mut col) = (1, 1);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
            col = 1;
            continue;
        }
        let forbidden = (c < ' ' && c != '\t' && c != '\r')
            || c == '\u{7f}'
            || (('\u{80}'..='\u{9f}').contains(&c) && c != '\u{85}')
            || c == '\u{fffe}'
            || c == '\u{ffff}';
        if forbidden {
            let name = match c {
                '\0' => " (NUL)",
                '\u{1b}' => " (ESC)",
                '\u{7f}' => " (DEL)",
                _ => "",
            };
            return Err((
                line,
                col,
                format!(
                    "control character U+{:04X}{name} is not allowed; remove it (YAML text may only contain tab, newline and carriage return as control characters)",
                    c as u32
                ),
            ));
        }
        col += 1;
    }
    Ok(())
}

/// Size of a finished subtree, kept for anchors so alias expansion can be budgeted
/// before anything is copied.
#[derive(Clone, Copy, Default)]
struct Stats {
    nodes: usize,
    bytes: usize,
    /// Levels of lists/mappings: 0 for a scalar.
    height: usize,
}

impl Stats {
    fn add_child(&mut self, child: Stats) {
        self.nodes += child.nodes;
        self.bytes += child.bytes;
        self.height = self.height.max(child.height + 1);
    }
}

/// A node under construction. Anchored subtrees are shared (`Rc`), so an alias costs
/// O(1) while parsing; copies are made only once the whole document has passed the
/// size budget. This is what makes an alias bomb cheap to refuse.
struct Built {
    pos: Pos,
    raw: Option<String>,
    value: BuiltValue,
}

enum BuiltValue {
    /// Never `Seq` or `Map`.
    Scalar(Value),
    Seq(Vec<Child>),
    Map(Vec<(Key, Child)>),
}

enum Child {
    Owned(Built),
    /// An anchored node, or an alias to one, with the position where it appears.
    Shared(Rc<Built>, Pos),
}

impl Child {
    fn built(&self) -> &Built {
        match self {
            Child::Owned(b) => b,
            Child::Shared(rc, _) => rc,
        }
    }

    fn pos(&self) -> &Pos {
        match self {
            Child::Owned(b) => &b.pos,
            Child::Shared(_, pos) => pos,
        }
    }

    fn into_node(self) -> Node {
        match self {
            Child::Owned(b) => b.into_node(),
            Child::Shared(rc, pos) => {
                // The last user of a shared node may take it instead of copying it.
                let mut node = match Rc::try_unwrap(rc) {
                    Ok(b) => b.into_node(),
                    Err(rc) => rc.to_node(),
                };
                node.pos = pos;
                node
            }
        }
    }

    fn to_node(&self) -> Node {
        let mut node = self.built().to_node();
        node.pos = self.pos().clone();
        node
    }
}

impl Built {
    fn into_node(self) -> Node {
        let value = match self.value {
            BuiltValue::Scalar(v) => v,
            BuiltValue::Seq(items) => Value::Seq(items.into_iter().map(Child::into_node).collect()),
            BuiltValue::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_node()))
                    .collect(),
            ),
        };
        Node {
            pos: self.pos,
            value,
            raw: self.raw,
        }
    }

    fn to_node(&self) -> Node {
        let value = match &self.value {
            BuiltValue::Scalar(v) => v.clone(),
            BuiltValue::Seq(items) => Value::Seq(items.iter().map(Child::to_node).collect()),
            BuiltValue::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_node()))
                    .collect(),
            ),
        };
        Node {
            pos: self.pos.clone(),
            value,
            raw: self.raw.clone(),
        }
    }

    fn type_name(&self) -> &'static str {
        match &self.value {
            BuiltValue::Scalar(v) => v.type_name(),
            BuiltValue::Seq(_) => "a list",
            BuiltValue::Map(_) => "a mapping",
        }
    }
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Child>,
        stats: Stats,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Key, Child)>,
        /// Key name → line of its first definition, for duplicate detection in O(1).
        seen: HashMap<String, u32>,
        pending_key: Option<Key>,
        stats: Stats,
    },
}

impl Frame {
    fn stats(&mut self) -> &mut Stats {
        match self {
            Frame::Seq { stats, .. } | Frame::Map { stats, .. } => stats,
        }
    }
}

struct Builder<'a> {
    source: Arc<str>,
    text: &'a str,
    /// Byte offset of the start of each line, to look at the source around a marker.
    line_starts: Vec<usize>,
    parser: Parser<std::str::Chars<'a>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Rc<Built>, Stats)>,
    nodes: usize,
    bytes: usize,
    documents: usize,
    root: Option<Child>,
}

impl<'a> Builder<'a> {
    fn new(source: Arc<str>, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Builder {
            source,
            text,
            line_starts,
            parser: Parser::new_from_str(text),
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            bytes: 0,
            documents: 0,
            root: None,
        }
    }

    /// yaml-rust2 markers have a 1-based line but a 0-based column.
    fn pos(&self, mark: &Marker) -> Pos {
        pos_of(&self.source, mark.line(), mark.col() + 1)
    }

    fn error(&self, pos: Pos, message: impl Into<String>) -> YamlError {
        YamlError {
            pos,
            message: message.into(),
        }
    }

    /// The text of a 1-based line, without its line break.
    fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let rest = &self.text[start..];
        let line = rest.split('\n').next().unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }

    fn char_at(&self, line: usize, col: usize) -> Option<char> {
        self.line_text(line).chars().nth(col.checked_sub(1)?)
    }

    fn run(mut self) -> Result<Node, YamlError> {
        loop {
            let (event, mark) = match self.parser.next_token() {
                Ok(ok) => ok,
                Err(e) => return Err(self.scan_error(&e)),
            };
            match event {
                Event::StreamEnd => break,
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(self.error(
                            self.pos(&mark),
                            "a second YAML document starts here; a stack profile is a single document — remove the `---` or split the file",
                        ));
                    }
                }
                Event::Alias(id) => {
                    let (child, stats) = self.expand_alias(id, &mark)?;
                    self.add(child, stats)?;
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let mut pos = self.pos(&mark);
                    if text.is_empty() && style == TScalarStyle::Plain {
                        pos = self.empty_value_pos(pos);
                    }
                    let node = scalar(text, style, tag.as_ref(), pos)?;
                    let stats = Stats {
                        nodes: 1,
                        bytes: node.raw.as_ref().map_or(0, String::len),
                        height: 0,
                    };
                    self.count(stats, &node.pos, false)?;
                    let built = Built {
                        pos: node.pos,
                        raw: node.raw,
                        value: BuiltValue::Scalar(node.value),
                    };
                    let child = self.register(anchor, built, stats);
                    self.add(child, stats)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    let pos = self.sequence_pos(self.pos(&mark));
                    self.open(&pos, "a list", tag.as_ref(), "seq")?;
                    self.stack.push(Frame::Seq {
                        pos,
                        anchor,
                        items: Vec::new(),
                        stats: Stats {
                            nodes: 1,
                            ..Stats::default()
                        },
                    });
                }
                Event::MappingStart(anchor, tag) => {
                    let mut pos = self.pos(&mark);
                    if self.char_at(pos.line as usize, pos.col as usize) != Some('{') {
                        // yaml-rust2 places a block mapping at its first `:`; the first
                        // key (the next event) is where a reader looks for it.
                        match self.parser.peek() {
                            Ok((_, first)) => {
                                let first = *first;
                                pos = self.pos(&first);
                            }
                            Err(e) => {
                                let e = e.clone();
                                return Err(self.scan_error(&e));
                            }
                        }
                    }
                    self.open(&pos, "a mapping", tag.as_ref(), "map")?;
                    self.stack.push(Frame::Map {
                        pos,
                        anchor,
                        entries: Vec::new(),
                        seen: HashMap::new(),
                        pending_key: None,
                        stats: Stats {
                            nodes: 1,
                            ..Stats::default()
                        },
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        // The parser balances start and end events; refuse rather than panic.
                        return Err(self.error(
                            self.pos(&mark),
                            "invalid YAML: unbalanced end of a list or mapping",
                        ));
                    };
                    let (pos, value, anchor, mut stats) = match frame {
                        Frame::Seq {
                            pos,
                            anchor,
                            items,
                            stats,
                        } => (pos, BuiltValue::Seq(items), anchor, stats),
                        Frame::Map {
                            pos,
                            anchor,
                            entries,
                            stats,
                            ..
                        } => (pos, BuiltValue::Map(entries), anchor, stats),
                    };
                    stats.height = stats.height.max(1);
                    let built = Built {
                        pos,
                        raw: None,
                        value,
                    };
                    let child = self.register(anchor, built, stats);
                    self.add(child, stats)?;
                }
            }
        }
        self.finish()
    }

    fn finish(mut self) -> Result<Node, YamlError> {
        let Some(root) = self.root.take() else {
            return Err(self.error(
                pos_of(&self.source, 1, 1),
                "the file is empty; expected a mapping such as `name: my-stack`",
            ));
        };
        let built = root.built();
        match &built.value {
            BuiltValue::Map(_) => {
                // Let go of the anchor table so unaliased anchors are moved, not copied.
                self.anchors.clear();
                Ok(root.into_node())
            }
            BuiltValue::Scalar(Value::Null) if built.raw.as_deref() == Some("") => Err(self.error(
                root.pos().clone(),
                "the document is empty; expected a mapping such as `name: my-stack`",
            )),
            _ => Err(self.error(
                root.pos().clone(),
                format!(
                    "the top level of a stack profile must be a mapping such as `name: my-stack`, found {}",
                    built.type_name()
                ),
            )),
        }
    }

    /// Common checks when a list or mapping starts: not a key, not too deep, tag allowed.
    fn open(
        &mut self,
        pos: &Pos,
        what: &str,
        tag: Option<&Tag>,
        core: &str,
    ) -> Result<(), YamlError> {
        let pos = pos.clone();
        if let Some(Frame::Map {
            pending_key: None, ..
        }) = self.stack.last()
        {
            return Err(self.error(
                pos,
                format!("a mapping key must be a plain value such as `name`, found {what} (complex `?` keys are not supported)"),
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(
                pos,
                format!("nesting is deeper than {MAX_DEPTH} levels; a stack profile needs far fewer — flatten this structure"),
            ));
        }
        if let Some(tag) = tag {
            if !(tag.handle == CORE_TAG && tag.suffix == core) {
                return Err(self.error(
                    pos,
                    format!(
                        "unsupported tag `{}` on {what}; remove the tag",
                        tag_name(tag)
                    ),
                ));
            }
        }
        self.count(
            Stats {
                nodes: 1,
                ..Stats::default()
            },
            &pos,
            false,
        )?;
        Ok(())
    }

    /// yaml-rust2 places an empty value (`name:` then a line break) at the start of the
    /// next line; place it right after its key's `:` instead, where it is missing.
    fn empty_value_pos(&self, pos: Pos) -> Pos {
        let Some(Frame::Map {
            pending_key: Some(key),
            ..
        }) = self.stack.last()
        else {
            return pos;
        };
        let skip = key.pos.col as usize - 1 + key.name.chars().count();
        let colon = self
            .line_text(key.pos.line as usize)
            .chars()
            .enumerate()
            .skip(skip)
            .find(|(_, c)| *c == ':');
        match colon {
            Some((i, _)) => Pos {
                line: key.pos.line,
                col: u32::try_from(i + 2).unwrap_or(key.pos.col),
                ..pos
            },
            None => pos,
        }
    }

    /// Block sequences nested without indentation (`key:\n- a`) are reported at their
    /// first item, not at the `-`; move the position back to the dash.
    fn sequence_pos(&self, pos: Pos) -> Pos {
        let line = self.line_text(pos.line as usize);
        let before: Vec<char> = line.chars().take(pos.col as usize - 1).collect();
        match self.char_at(pos.line as usize, pos.col as usize) {
            Some('-' | '[') | None => pos,
            Some(_) => match before.iter().rposition(|&c| c == '-') {
                Some(i) => Pos {
                    col: u32::try_from(i + 1).unwrap_or(pos.col),
                    ..pos
                },
                None => pos,
            },
        }
    }

    /// Adds to the running totals; refuses once the document is too large.
    fn count(&mut self, stats: Stats, pos: &Pos, alias: bool) -> Result<(), YamlError> {
        self.nodes += stats.nodes;
        self.bytes += stats.bytes;
        if self.nodes > MAX_NODES || self.bytes > MAX_TEXT_BYTES {
            let what = if self.nodes > MAX_NODES {
                format!("more than {MAX_NODES} values")
            } else {
                format!("more than {} MiB of text", MAX_TEXT_BYTES >> 20)
            };
            let message = if alias {
                format!("document too large after expanding aliases (anchors/aliases): {what}; use fewer aliases")
            } else {
                format!("document too large: {what}; a stack profile should be far smaller")
            };
            return Err(self.error(pos.clone(), message));
        }
        Ok(())
    }

    /// Makes a finished node a child; anchored nodes are shared and remembered.
    fn register(&mut self, anchor: usize, built: Built, stats: Stats) -> Child {
        if anchor == 0 {
            return Child::Owned(built);
        }
        let pos = built.pos.clone();
        let rc = Rc::new(built);
        self.anchors.insert(anchor, (rc.clone(), stats));
        Child::Shared(rc, pos)
    }

    fn alias_name(&self, mark: &Marker) -> String {
        let line = self.line_text(mark.line());
        let rest: String = line.chars().skip(mark.col()).collect();
        let rest = rest.strip_prefix('*').unwrap_or(&rest);
        rest.chars()
            .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
            .collect()
    }

    fn expand_alias(&mut self, id: usize, mark: &Marker) -> Result<(Child, Stats), YamlError> {
        let pos = self.pos(mark);
        let Some((anchored, stats)) = self.anchors.get(&id) else {
            // yaml-rust2 knows the anchor but it is not finished: it encloses this alias.
            let name = self.alias_name(mark);
            return Err(self.error(
                pos,
                format!("alias `*{name}` refers to a value that contains it; recursive aliases are not allowed"),
            ));
        };
        let (anchored, stats) = (anchored.clone(), *stats);
        if self.stack.len() + stats.height > MAX_DEPTH {
            let name = self.alias_name(mark);
            return Err(self.error(
                pos,
                format!("nesting is deeper than {MAX_DEPTH} levels after expanding alias `*{name}`; flatten this structure"),
            ));
        }
        self.count(stats, &pos, true)?;
        // The alias's own position is where the value is used; its insides keep the
        // anchor's positions, which is where their text is.
        Ok((Child::Shared(anchored, pos), stats))
    }

    /// Puts a finished node into its parent (or makes it the root).
    fn add(&mut self, child: Child, stats: Stats) -> Result<(), YamlError> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(child);
            return Ok(());
        };
        frame.stats().add_child(stats);
        match frame {
            Frame::Seq { items, .. } => items.push(child),
            Frame::Map {
                entries,
                seen,
                pending_key,
                ..
            } => match pending_key.take() {
                Some(key) => entries.push((key, child)),
                None => {
                    let built = child.built();
                    let pos = child.pos().clone();
                    if !matches!(built.value, BuiltValue::Scalar(_)) {
                        // Only reachable through an alias to a list or mapping.
                        let message = format!(
                            "a mapping key must be a plain value such as `name`, found {} (from an alias)",
                            built.type_name()
                        );
                        return Err(YamlError { pos, message });
                    }
                    let name = built.raw.clone().unwrap_or_default();
                    if let Some(first) = seen.get(&name) {
                        return Err(YamlError {
                            pos,
                            message: format!("duplicate key `{name}` (first defined at line {first}); remove one of them"),
                        });
                    }
                    seen.insert(name.clone(), pos.line);
                    *pending_key = Some(Key { name, pos });
                }
            },
        }
        Ok(())
    }

    /// Turns a yaml-rust2 error into ours: 1-based column, readable message, and for
    /// tabs the position of the offending tab rather than where the parser noticed.
    fn scan_error(&self, e: &ScanError) -> YamlError {
        let mark = e.marker();
        let info = e.info();
        let pos = self.pos(mark);
        if info == "while parsing node, found unknown anchor" {
            let name = self.alias_name(mark);
            return self.error(
                pos,
                format!("undefined alias `*{name}`; an alias must refer to an anchor (`&{name}`) defined earlier in the file"),
            );
        }
        if info == "recursion limit exceeded" {
            // yaml-rust2 scans flow collections ahead of the events we count, so its own
            // limit (255 open brackets) can fire before ours.
            return self.error(
                pos,
                format!("nesting is deeper than {MAX_DEPTH} levels; a stack profile needs far fewer — flatten this structure"),
            );
        }
        let tab_related = info.contains("tab")
            || info.starts_with("':' must be followed")
            || info.starts_with("'-' must be followed");
        if tab_related {
            // Only a tab-specific message may look past the marker's line.
            if let Some((line, col)) = self.find_tab(mark, info.contains("tab")) {
                let text = self.line_text(line);
                let before: Vec<char> = text.chars().take(col - 1).collect();
                let message = if before.iter().all(|c| *c == ' ' || *c == '\t') {
                    "tab character used for indentation; YAML forbids tabs for indentation — indent with spaces".to_string()
                } else {
                    let prev = before.iter().rev().find(|c| **c != ' ' && **c != '\t');
                    match prev {
                        Some(c @ (':' | '-')) => format!("tab character after `{c}`; use a space here instead (YAML forbids tabs for indentation)"),
                        _ => "tab character here is not accepted; use spaces instead (YAML forbids tabs for indentation)".to_string(),
                    }
                };
                return self.error(pos_of(&self.source, line, col), message);
            }
        }
        let hint = match info {
            "mapping values are not allowed in this context" => {
                "; check the indentation of this line, or quote a value that contains `: `"
            }
            "while parsing a block mapping, did not find expected key" => {
                "; check the indentation: the keys of one mapping must start in the same column"
            }
            "while parsing a block collection, did not find expected '-' indicator" => {
                "; check the indentation: the items of one list must all start with `- ` in the same column"
            }
            "block sequence entries are not allowed in this context" => {
                "; check the indentation of this `- ` item"
            }
            "while parsing a node, did not find expected node content" => {
                "; a value is missing here, or a `[` or `{` is not closed"
            }
            "while parsing a flow sequence, expected ',' or ']'" => {
                "; a `[` list is not closed with `]`, or its items are not separated by `,`"
            }
            "while parsing a flow mapping, did not find expected ',' or '}'" => {
                "; a `{` mapping is not closed with `}`, or its entries are not separated by `,`"
            }
            "while scanning a quoted scalar, found unexpected end of stream"
            | "invalid indentation in quoted scalar" => "; a quoted string may be missing its closing quote",
            "while parsing a quoted scalar, found unknown escape character" => {
                "; inside double quotes `\\` starts an escape: use single quotes, or write `\\\\`"
            }
            "while scanning an anchor or alias, did not find expected alphabetic or numeric character" => {
                "; `&` and `*` start anchors and aliases: quote a value that begins with them"
            }
            "plain scalar cannot start with '-' followed by ,[]{}" => "; quote this value",
            "illegal placement of ':' indicator" => {
                "; check that every `[` and `{` above is closed"
            }
            "comments must be separated from other tokens by whitespace" => {
                "; put a space before `#`, or quote the value if `#` is part of it"
            }
            _ if info.starts_with("while scanning a tag") || info.starts_with("while parsing a tag") => {
                "; `!` starts a tag: quote a value that begins with `!`"
            }
            _ => "",
        };
        self.error(pos, format!("invalid YAML: {info}{hint}"))
    }

    /// The tab a tab-related error is about: on the marker's line (the nearest one at or
    /// before the marker first), else the first one on the next few lines.
    fn find_tab(&self, mark: &Marker, look_ahead: bool) -> Option<(usize, usize)> {
        let line = mark.line();
        let chars: Vec<char> = self.line_text(line).chars().collect();
        let upto = (mark.col() + 1).min(chars.len());
        if let Some(i) = chars[..upto].iter().rposition(|&c| c == '\t') {
            return Some((line, i + 1));
        }
        if let Some(i) = chars.iter().position(|&c| c == '\t') {
            return Some((line, i + 1));
        }
        if !look_ahead {
            return None;
        }
        (line + 1..=line + 3).find_map(|l| {
            self.line_text(l)
                .chars()
                .position(|c| c == '\t')
                .map(|i| (l, i + 1))
        })
    }
}

fn tag_name(tag: &Tag) -> String {
    if tag.handle == CORE_TAG {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// Builds a scalar node: plain scalars are resolved by the YAML 1.2 core schema, quoted
/// and block scalars are strings, and core tags (`!!str`, `!!int`, ...) force a type.
fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    pos: Pos,
) -> Result<Node, YamlError> {
    let fail = |pos: Pos, message: String| Err(YamlError { pos, message });
    let value = match tag {
        None if style == TScalarStyle::Plain => match resolve_plain(&text) {
            Ok(v) => v,
            Err(message) => return fail(pos, message),
        },
        None => Value::Str(text.clone()),
        // `!` alone is the non-specific tag: it means "a string".
        Some(t) if tag_name(t) == "!" => Value::Str(text.clone()),
        Some(t) if t.handle == CORE_TAG => {
            let resolved = resolve_plain(&text);
            let ok = match (t.suffix.as_str(), resolved) {
                ("str", _) => Some(Value::Str(text.clone())),
                ("null", Ok(v @ Value::Null))
                | ("bool", Ok(v @ Value::Bool(_)))
                | ("int", Ok(v @ Value::Int(_)))
                | ("float", Ok(v @ Value::Float(_))) => Some(v),
                ("float", Ok(Value::Int(i))) => Some(Value::Float(i as f64)),
                ("null" | "bool" | "int" | "float", Err(message)) => return fail(pos, message),
                ("null" | "bool" | "int" | "float", Ok(_)) => None,
                _ => {
                    return fail(
                        pos,
                        format!(
                            "unsupported tag `{}` on a scalar; remove the tag",
                            tag_name(t)
                        ),
                    );
                }
            };
            match ok {
                Some(v) => v,
                None => {
                    let example = match t.suffix.as_str() {
                        "null" => "`null`",
                        "bool" => "`true` or `false`",
                        "int" => "a whole number such as `42`",
                        _ => "a number such as `1.5`",
                    };
                    return fail(
                        pos,
                        format!("`{text}` is not a valid !!{}; expected {example}", t.suffix),
                    );
                }
            }
        }
        Some(t) => {
            return fail(
                pos,
                format!(
                    "unsupported tag `{}`; stack profiles use plain YAML — remove the tag",
                    tag_name(t)
                ),
            );
        }
    };
    Ok(Node {
        pos,
        value,
        raw: Some(text),
    })
}

/// YAML 1.2 core schema resolution of a plain scalar. Decimal integers outside i64
/// become floats (the raw text keeps every digit); hex/octal ones are refused, since
/// they are bit patterns for which a rounded float would be meaningless.
fn resolve_plain(s: &str) -> Result<Value, String> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Value::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Ok(Value::Float(f64::NAN)),
        _ => {}
    }
    let radix = |digits: &str, radix: u32| -> Option<Result<Value, String>> {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        Some(i64::from_str_radix(digits, radix).map(Value::Int).map_err(|_| {
            format!("the number `{s}` does not fit in a 64-bit signed integer; quote it if it is meant as text")
        }))
    };
    if let Some(r) = s.strip_prefix("0x").and_then(|d| radix(d, 16)) {
        return r;
    }
    if let Some(r) = s.strip_prefix("0o").and_then(|d| radix(d, 8)) {
        return r;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(match s.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(s.parse::<f64>().unwrap_or(f64::NAN)),
        });
    }
    if is_core_float(unsigned) {
        if let Ok(f) = s.parse::<f64>() {
            return Ok(Value::Float(f));
        }
    }
    Ok(Value::Str(s.to_string()))
}

/// `( \.[0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?` without the sign.
fn is_core_float(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        (i, i - start)
    };
    let (mut i, int_digits) = digits(0);
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        let (j, n) = digits(i + 1);
        i = j;
        frac_digits = n;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let (j, n) = digits(i);
        if n == 0 {
            return false;
        }
        i = j;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn ok(src: &str) -> Node {
        parse("t.yaml", src.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(src: impl AsRef<[u8]>) -> YamlError {
        match parse("t.yaml", src.as_ref()) {
            Ok(n) => panic!("expected an error, got {n:?}"),
            Err(e) => e,
        }
    }

    /// Asserts position and that the message contains every fragment.
    fn assert_err(e: &YamlError, line: u32, col: u32, fragments: &[&str]) {
        assert_eq!((e.pos.line, e.pos.col), (line, col), "position of: {e}");
        for f in fragments {
            assert!(e.message.contains(f), "{e:?} lacks {f:?}");
        }
    }

    fn lc(n: &Node) -> (u32, u32) {
        (n.pos.line, n.pos.col)
    }

    fn path<'a>(n: &'a Node, keys: &[&str]) -> &'a Node {
        keys.iter().fold(n, |n, k| match k.parse::<usize>() {
            Ok(i) => match &n.value {
                Value::Seq(items) => &items[i],
                other => panic!("not a list: {other:?}"),
            },
            Err(_) => n.get(k).unwrap_or_else(|| panic!("no key {k}")),
        })
    }

    #[test]
    fn positions_of_nested_values() {
        let n = ok("name: dev\nmetrics:\n  retention: 30d\nslos:\n  - name: a\n    objective: 99.9\n  - {name: b, objective: 1}\nlist:\n- x\n");
        assert_eq!(lc(&n), (1, 1));
        assert_eq!(lc(path(&n, &["name"])), (1, 7));
        // Block mappings are placed at their first key, not at yaml-rust2's `:`.
        assert_eq!(lc(path(&n, &["metrics"])), (3, 3));
        assert_eq!(lc(path(&n, &["metrics", "retention"])), (3, 14));
        assert_eq!(lc(path(&n, &["slos"])), (5, 3));
        assert_eq!(lc(path(&n, &["slos", "0"])), (5, 5));
        assert_eq!(lc(path(&n, &["slos", "0", "objective"])), (6, 16));
        assert_eq!(lc(path(&n, &["slos", "1"])), (7, 5));
        assert_eq!(lc(path(&n, &["slos", "1", "objective"])), (7, 26));
        // An indentless list is placed at its first dash.
        assert_eq!(lc(path(&n, &["list"])), (9, 1));
        assert_eq!(lc(path(&n, &["list", "0"])), (9, 3));
        let Value::Map(entries) = &n.value else {
            panic!()
        };
        assert_eq!(entries[2].0.name, "slos");
        assert_eq!((entries[2].0.pos.line, entries[2].0.pos.col), (4, 1));
        assert_eq!(
            path(&n, &["slos", "0", "objective"]).pos.source.as_ref(),
            "t.yaml"
        );
    }

    #[test]
    fn empty_values_sit_after_their_colon() {
        let n = ok("name:\nother: # note\n\"q\":\nflow: {a: }\nlast:");
        assert_eq!(lc(path(&n, &["name"])), (1, 6));
        assert_eq!(lc(path(&n, &["other"])), (2, 7));
        assert_eq!(lc(path(&n, &["q"])), (3, 5));
        assert_eq!(lc(path(&n, &["flow", "a"])), (4, 10));
        assert_eq!(lc(path(&n, &["last"])), (5, 6));
    }

    #[test]
    fn columns_count_characters_and_crlf_and_bom_are_handled() {
        let n = ok("\u{feff}é: ü\r\nb: x\r\n");
        assert_eq!(lc(path(&n, &["é"])), (1, 4));
        assert_eq!(lc(path(&n, &["b"])), (2, 4));
        assert_eq!(path(&n, &["b"]).raw.as_deref(), Some("x"));
        assert_err(&err("é: ü\nb: [\n"), 3, 1, &["not closed"]);
    }

    #[test]
    fn scalars_follow_the_yaml_1_2_core_schema() {
        let n = ok(concat!(
            "n1: null\nn2: Null\nn3: NULL\nn4: ~\nn5:\n",
            "b1: true\nb2: True\nb3: FALSE\n",
            "s1: yes\ns2: no\ns3: on\ns4: off\ns5: 1_000\ns6: '12'\ns7: \"true\"\ns8: |\n  12\n",
            "i1: 42\ni2: -3\ni3: +12\ni4: 0x1F\ni5: 0o17\ni6: 0123\n",
            "f1: 1e3\nf2: .5\nf3: 1.\nf4: .inf\nf5: -.inf\nf6: .nan\nf7: 2.10\nf8: -1.5E-2\n",
            "big: 99999999999999999999\n",
        ));
        for k in ["n1", "n2", "n3", "n4", "n5"] {
            assert!(matches!(path(&n, &[k]).value, Value::Null), "{k}");
        }
        assert!(matches!(path(&n, &["b1"]).value, Value::Bool(true)));
        assert!(matches!(path(&n, &["b2"]).value, Value::Bool(true)));
        assert!(matches!(path(&n, &["b3"]).value, Value::Bool(false)));
        for (k, s) in [
            ("s1", "yes"),
            ("s2", "no"),
            ("s3", "on"),
            ("s4", "off"),
            ("s5", "1_000"),
            ("s6", "12"),
            ("s7", "true"),
            ("s8", "12\n"),
        ] {
            match &path(&n, &[k]).value {
                Value::Str(v) => assert_eq!(v, s, "{k}"),
                other => panic!("{k}: {other:?}"),
            }
        }
        for (k, i) in [
            ("i1", 42),
            ("i2", -3),
            ("i3", 12),
            ("i4", 31),
            ("i5", 15),
            ("i6", 123),
        ] {
            assert!(
                matches!(path(&n, &[k]).value, Value::Int(v) if v == i),
                "{k}"
            );
        }
        for (k, f) in [
            ("f1", 1000.0),
            ("f2", 0.5),
            ("f3", 1.0),
            ("f4", f64::INFINITY),
            ("f5", f64::NEG_INFINITY),
            ("f7", 2.1),
            ("f8", -0.015),
        ] {
            assert!(
                matches!(path(&n, &[k]).value, Value::Float(v) if v == f),
                "{k}"
            );
        }
        assert!(matches!(path(&n, &["f6"]).value, Value::Float(v) if v.is_nan()));
        // Out of i64 range: a float, with every digit kept in the raw text.
        assert!(matches!(path(&n, &["big"]).value, Value::Float(v) if v == 1e20));
        assert_eq!(
            path(&n, &["big"]).raw.as_deref(),
            Some("99999999999999999999")
        );
        assert_err(
            &err("a: 0xFFFFFFFFFFFFFFFFFF\n"),
            1,
            4,
            &["`0xFFFFFFFFFFFFFFFFFF` does not fit", "quote it"],
        );
    }

    #[test]
    fn raw_text_is_preserved() {
        let n = ok("version: 2.10\nhosts: 15\nq: \"a b\"\nflag: TRUE\n");
        let v = path(&n, &["version"]);
        assert!(matches!(v.value, Value::Float(f) if f == 2.1));
        assert_eq!(v.raw.as_deref(), Some("2.10"));
        assert_eq!(path(&n, &["hosts"]).raw.as_deref(), Some("15"));
        assert_eq!(path(&n, &["q"]).raw.as_deref(), Some("a b"));
        assert_eq!(path(&n, &["flag"]).raw.as_deref(), Some("TRUE"));
        assert!(n.raw.is_none());
    }

    #[test]
    fn core_tags_force_a_type_and_other_tags_are_refused() {
        let n = ok("a: !!str 1\nb: !!int \"3\"\nc: !!float 2\nd: ! 5\n");
        assert!(matches!(&path(&n, &["a"]).value, Value::Str(s) if s == "1"));
        assert!(matches!(path(&n, &["b"]).value, Value::Int(3)));
        assert!(matches!(path(&n, &["c"]).value, Value::Float(f) if f == 2.0));
        assert!(matches!(&path(&n, &["d"]).value, Value::Str(s) if s == "5"));
        assert_err(
            &err("a: 1\nb: !foo x\n"),
            2,
            9,
            &["unsupported tag `!foo`", "remove the tag"],
        );
        assert_err(
            &err("a: !!int abc\n"),
            1,
            10,
            &["`abc` is not a valid !!int", "whole number"],
        );
        assert_err(
            &err("a: !!map [1]\n"),
            1,
            10,
            &["unsupported tag `!!map` on a list"],
        );
    }

    #[test]
    fn refuses_input_over_one_mebibyte() {
        let mut big = b"a: ".to_vec();
        big.resize(MAX_INPUT_BYTES + 1, b'x');
        assert_err(&err(&big), 1, 1, &["1048577 bytes", "limit is 1 MiB"]);
        // Exactly at the limit is fine.
        big.truncate(MAX_INPUT_BYTES);
        assert!(parse("t.yaml", &big).is_ok());
    }

    #[test]
    fn refuses_invalid_utf8_at_the_first_bad_byte() {
        assert_err(
            &err(b"a: 1\nbb: \xc3\x28\n"),
            2,
            5,
            &["invalid UTF-8 (byte 0xC3)", "save the file as UTF-8"],
        );
        assert_err(&err(b"\xff"), 1, 1, &["invalid UTF-8"]);
        assert_err(
            &err("é: 1\nb: é".bytes().chain([0x80]).collect::<Vec<_>>()),
            2,
            5,
            &["invalid UTF-8 (byte 0x80)"],
        );
    }

    #[test]
    fn refuses_control_characters() {
        assert_err(
            &err("a: 1\nb: x\0y\n"),
            2,
            5,
            &["U+0000 (NUL)", "not allowed", "remove it"],
        );
        assert_err(&err("a: \u{1b}[31m\n"), 1, 4, &["U+001B (ESC)"]);
        assert_err(&err("a: \u{7f}\n"), 1, 4, &["U+007F (DEL)"]);
        assert_err(&err("a: \u{9b}\n"), 1, 4, &["U+009B"]);
        // Tab, CR and LF are fine; so is NEL.
        ok("a: \"x\ty\"\r\nb: \u{85}\n");
    }

    #[test]
    fn refuses_empty_files() {
        let msg = "the file is empty; expected a mapping such as `name: my-stack`";
        for src in ["", "   \n\n", "# just a comment\n# another\n"] {
            let e = err(src);
            assert_err(&e, 1, 1, &[msg]);
            assert_eq!(e.to_string(), format!("t.yaml:1:1: {msg}"));
        }
        assert_err(
            &err("---\n"),
            2,
            1,
            &["the document is empty", "`name: my-stack`"],
        );
    }

    #[test]
    fn refuses_more_than_one_document() {
        assert_err(
            &err("a: 1\n---\nb: 2\n"),
            2,
            1,
            &["second YAML document", "single document"],
        );
        assert_err(
            &err("---\na: 1\n...\n---\nb: 2\n"),
            4,
            1,
            &["second YAML document"],
        );
        ok("---\na: 1\n...\n");
    }

    #[test]
    fn refuses_a_top_level_that_is_not_a_mapping() {
        assert_err(
            &err("- a\n- b\n"),
            1,
            1,
            &["must be a mapping such as `name: my-stack`", "found a list"],
        );
        assert_err(&err("\n  hello\n"), 2, 3, &["found a string"]);
        assert_err(&err("42\n"), 1, 1, &["found a number"]);
    }

    #[test]
    fn refuses_tabs_for_indentation() {
        // yaml-rust2 says "tabs disallowed within this context (block indentation)" one
        // column past the tab; we point at the tab.
        assert_err(
            &err("key:\n\tvalue: 1\n"),
            2,
            1,
            &["YAML forbids tabs for indentation", "spaces"],
        );
        assert_err(&err("a:\n\t- 1\n"), 2, 1, &["forbids tabs for indentation"]);
        // yaml-rust2 reports this one at the `1` on the line above.
        assert_err(
            &err("a:\n  b: 1\n\tc: 2\n"),
            3,
            1,
            &["forbids tabs for indentation"],
        );
        // ... and this one at the `|`.
        assert_err(&err("a: |\n\tx\n"), 2, 1, &["forbids tabs for indentation"]);
        // A tab after `key:` is valid YAML 1.2 but yaml-rust2 refuses it.
        assert_err(
            &err("name: x\nkey:\tvalue\n"),
            2,
            5,
            &["tab character after `:`", "use a space"],
        );
        // Tabs inside flow collections and after `-` are accepted.
        let n = ok("a: [1,\t2]\nb:\n  -\tx\n");
        assert!(matches!(&path(&n, &["b", "0"]).value, Value::Str(s) if s == "x"));
    }

    #[test]
    fn refuses_duplicate_keys_at_the_second_one() {
        let e = err("name: x\nmetrics:\n  retention: 1d\n  enabled: true\n  retention: 2d\n");
        assert_err(
            &e,
            5,
            3,
            &["duplicate key `retention` (first defined at line 3)"],
        );
        assert_eq!(
            e.to_string(),
            "t.yaml:5:3: duplicate key `retention` (first defined at line 3); remove one of them"
        );
        assert_err(
            &err("{a: 1, b: 2, a: 3}"),
            1,
            14,
            &["duplicate key `a` (first defined at line 1)"],
        );
        // Same key in different mappings is fine.
        ok("a: {x: 1}\nb: {x: 2}\n");
    }

    #[test]
    fn refuses_non_scalar_keys() {
        assert_err(
            &err("? [a, b]\n: 1\n"),
            1,
            3,
            &["mapping key must be a plain value", "found a list", "`?`"],
        );
        assert_err(&err("{[a]: 1}"), 1, 2, &["found a list"]);
        assert_err(&err("a: 1\n? {b: 1}\n: 2\n"), 2, 3, &["found a mapping"]);
        assert_err(
            &err("a: &l [1]\n*l : 2\n"),
            2,
            1,
            &["found a list (from an alias)"],
        );
        // A scalar alias as a key is a scalar key.
        let n = ok("a: &k name\n*k : 2\n");
        assert!(n.get("name").is_some());
    }

    #[test]
    fn refuses_nesting_deeper_than_64() {
        // The top-level mapping is level 1, so 63 brackets make 64 levels.
        let fine = format!("a: {}{}\n", "[".repeat(63), "]".repeat(63));
        ok(&fine);
        let deep = format!("a: {}{}\n", "[".repeat(64), "]".repeat(64));
        assert_err(&err(deep), 1, 67, &["deeper than 64 levels"]);
        // Far deeper: yaml-rust2's scanner gives up first, at its 255th `[`.
        assert_err(&err("[".repeat(1000)), 1, 256, &["deeper than 64 levels"]);
        let mut block = String::new();
        for i in 0..70 {
            block.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
        }
        // Level 65 is the mapping that starts with `k64`.
        assert_err(&err(block), 65, 129, &["deeper than 64 levels"]);
        // Aliases cannot smuggle in depth.
        let src = format!(
            "a: &d {}{}\nb: {}*d{}\n",
            "[".repeat(40),
            "]".repeat(40),
            "[".repeat(30),
            "]".repeat(30)
        );
        assert_err(
            &err(src),
            2,
            34,
            &["deeper than 64 levels after expanding alias `*d`"],
        );
    }

    #[test]
    fn aliases_expand_with_positions() {
        let n = ok("base: &b\n  x: 1\n  y: [2]\nother: *b\ns: &s hi\nt: *s\n");
        let other = path(&n, &["other"]);
        assert_eq!(lc(other), (4, 8), "the alias itself is at the `*`");
        assert_eq!(
            lc(path(other, &["y", "0"])),
            (3, 7),
            "its insides are where their text is"
        );
        assert!(matches!(&path(&n, &["t"]).value, Value::Str(s) if s == "hi"));
        assert_eq!(lc(path(&n, &["t"])), (6, 4));
        // A redefined anchor: the alias takes the latest one.
        let n = ok("a: &x 1\nb: &x 2\nc: *x\n");
        assert!(matches!(path(&n, &["c"]).value, Value::Int(2)));
        // Merge keys are plain keys.
        let n = ok("a: &m {x: 1}\nb:\n  <<: *m\n  y: 2\n");
        assert!(path(&n, &["b"]).get("<<").is_some());
        assert!(path(&n, &["b"]).get("x").is_none());
    }

    #[test]
    fn refuses_undefined_and_recursive_aliases() {
        assert_err(
            &err("a: 1\nb: *nope\n"),
            2,
            4,
            &["undefined alias `*nope`", "`&nope`", "earlier"],
        );
        assert_err(
            &err("a: &x [1, *x]\n"),
            1,
            11,
            &["alias `*x` refers to a value that contains it"],
        );
    }

    fn billion_laughs() -> String {
        let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        s
    }

    #[test]
    fn refuses_a_billion_laughs_quickly() {
        let src = billion_laughs();
        let start = Instant::now();
        let e = err(&src);
        let took = start.elapsed();
        assert!(took < Duration::from_millis(50), "took {took:?}");
        // 10 + 110 + 1110 + 11110 nodes fit; the first aliases of level 5 do not.
        assert_eq!(e.pos.line, 5);
        assert!(
            e.message
                .starts_with("document too large after expanding aliases (anchors/aliases)"),
            "{e}"
        );
    }

    #[test]
    fn accepts_aliases_within_the_budget() {
        // Four levels of 10x: about 12,000 values once expanded.
        let src: String = billion_laughs()
            .lines()
            .take(4)
            .map(|l| format!("{l}\n"))
            .collect();
        let n = ok(&src);
        let Value::Seq(level3) = &path(&n, &["a3"]).value else {
            panic!()
        };
        assert_eq!(level3.len(), 10);
        assert!(
            matches!(&path(&n, &["a3", "9", "9", "9", "9"]).value, Value::Str(s) if s == "lol")
        );
        assert_eq!(
            lc(path(&n, &["a3", "9", "9", "9", "9"])),
            (1, 55),
            "innermost text is at the anchor"
        );
    }

    #[test]
    fn refuses_one_big_string_aliased_many_times() {
        let big = "x".repeat(200_000);
        let refs = vec!["*s"; 50].join(", ");
        let e = err(format!("s: &s {big}\nt: [{refs}]\n"));
        assert!(
            e.message.contains("after expanding aliases") && e.message.contains("MiB of text"),
            "{e}"
        );
        assert_eq!(e.pos.line, 2);
    }

    #[test]
    fn refuses_too_many_values_without_aliases() {
        let e = err(format!("a: [{}]\n", "1,".repeat(MAX_NODES)));
        assert!(
            e.message
                .starts_with("document too large: more than 100000 values"),
            "{e}"
        );
    }

    #[test]
    fn parses_five_thousand_keys() {
        let src: String = (0..5000).map(|i| format!("key{i}: {i}\n")).collect();
        let start = Instant::now();
        let n = ok(&src);
        assert!(start.elapsed() < Duration::from_secs(2));
        let Value::Map(entries) = &n.value else {
            panic!()
        };
        assert_eq!(entries.len(), 5000);
        assert_eq!(lc(path(&n, &["key4999"])), (5000, 10));
    }

    #[test]
    fn hostile_inputs_fail_fast() {
        let cases = [
            "[".repeat(MAX_INPUT_BYTES),
            "{a: ".repeat(MAX_INPUT_BYTES / 4),
            "- ".repeat(MAX_INPUT_BYTES / 2),
            format!("a: {}", "x".repeat(MAX_INPUT_BYTES - 3)),
            format!("a: \"{}", "x".repeat(MAX_INPUT_BYTES - 10)),
            "&a ".repeat(MAX_INPUT_BYTES / 3),
            (0..MAX_INPUT_BYTES / 8)
                .map(|i| format!("k{i}: 1\n"))
                .collect::<String>()[..MAX_INPUT_BYTES - 16]
                .to_string(),
        ];
        for src in cases {
            let start = Instant::now();
            let _ = parse("t.yaml", src.as_bytes());
            // Generous: debug builds on a busy CI machine; release is ~10x faster.
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{:?}… took {:?}",
                &src[..10],
                start.elapsed()
            );
        }
    }

    #[test]
    fn scan_errors_get_one_based_positions_and_hints() {
        // yaml-rust2 columns are 0-based: the `:` of ` b:` is at its column 2.
        let e = err("a: 1\n b: 2\n");
        assert_err(
            &e,
            2,
            3,
            &[
                "invalid YAML: mapping values are not allowed in this context",
                "indentation",
            ],
        );
        assert_err(
            &err("a: {b: 1\n"),
            2,
            1,
            &["did not find expected ',' or '}'", "not closed"],
        );
        assert_err(
            &err("a: [1, 2\nb: 3\n"),
            2,
            2,
            &["illegal placement of ':'", "closed"],
        );
        assert_err(
            &err("a: \"\\q\"\n"),
            1,
            4,
            &["unknown escape character", "single quotes"],
        );
        assert_err(&err("a:\n  - 1\n  b: 2\n"), 3, 3, &["invalid YAML"]);
    }

    #[test]
    fn get_remove_type_name() {
        let mut n = ok("a: 1\nb: [x]\nc: {d: true}\ne: s\nf:\ng: 1.5\n");
        let names: Vec<_> = ["a", "b", "c", "e", "f", "g"]
            .iter()
            .map(|k| n.get(k).unwrap().type_name())
            .collect();
        assert_eq!(
            names,
            [
                "a number",
                "a list",
                "a mapping",
                "a string",
                "null",
                "a number"
            ]
        );
        assert_eq!(path(&n, &["c", "d"]).type_name(), "true/false");
        assert!(n.get("zz").is_none());
        assert!(path(&n, &["a"]).get("a").is_none());
        let b = n.remove("b").unwrap();
        assert_eq!(lc(&b), (2, 4));
        assert!(n.get("b").is_none());
        assert!(n.remove("b").is_none());
        let Value::Map(entries) = &n.value else {
            panic!()
        };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(keys, ["a", "c", "e", "f", "g"]);
    }

    #[test]
    fn merge_is_deep_and_keeps_positions_of_the_supplier() {
        let base = parse("base.yaml", b"name: dev\nmetrics:\n  enabled: true\n  retention: 15d\n  values: {a: 1, b: 2}\nhosts: [a, b, c]\n").unwrap();
        let overlay = parse("over.yaml", b"metrics:\n  retention: 30d\n  storage: 50Gi\n  values: {b: 3}\nhosts: [z]\nextra: 1\n").unwrap();
        let m = merge(base, overlay);
        let Value::Map(entries) = &m.value else {
            panic!()
        };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(
            keys,
            ["name", "metrics", "hosts", "extra"],
            "base order, new keys appended"
        );
        let metrics = m.get("metrics").unwrap();
        assert_eq!(
            &*metrics.pos.source, "base.yaml",
            "a merged mapping stays the base's"
        );
        let Value::Map(me) = &metrics.value else {
            panic!()
        };
        let keys: Vec<_> = me.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(keys, ["enabled", "retention", "values", "storage"]);
        let enabled = metrics.get("enabled").unwrap();
        assert_eq!((&*enabled.pos.source, enabled.pos.line), ("base.yaml", 3));
        let retention = metrics.get("retention").unwrap();
        assert_eq!(retention.raw.as_deref(), Some("30d"));
        assert_eq!(
            (
                &*retention.pos.source,
                retention.pos.line,
                retention.pos.col
            ),
            ("over.yaml", 2, 14)
        );
        let (rkey, _) = me.iter().find(|(k, _)| k.name == "retention").unwrap();
        assert_eq!(
            (&*rkey.pos.source, rkey.pos.line),
            ("over.yaml", 2),
            "a replaced value brings its key"
        );
        let values = metrics.get("values").unwrap();
        assert!(matches!(values.get("a").unwrap().value, Value::Int(1)));
        assert!(matches!(values.get("b").unwrap().value, Value::Int(3)));
        assert_eq!(&*values.get("b").unwrap().pos.source, "over.yaml");
        // Lists are replaced, not concatenated.
        let hosts = m.get("hosts").unwrap();
        let Value::Seq(items) = &hosts.value else {
            panic!()
        };
        assert_eq!(items.len(), 1);
        assert_eq!((&*hosts.pos.source, hosts.pos.line), ("over.yaml", 5));
        // A mapping replaced by a scalar, and the other way round.
        let a = parse("a", b"x: {y: 1}\n").unwrap();
        let b = parse("b", b"x: 5\n").unwrap();
        assert!(matches!(
            merge(a.clone(), b.clone()).get("x").unwrap().value,
            Value::Int(5)
        ));
        assert!(matches!(merge(b, a).get("x").unwrap().value, Value::Map(_)));
    }

    #[test]
    fn to_value_round_trips() {
        let src = "name: dev\nn: 3\nneg: -7\nf: 2.5\nb: false\nnothing: null\nlist: [a, 1, {k: v}]\nnested:\n  deep:\n    - x: 1\ntext: |\n  hello\n";
        let v = ok(src).to_value();
        let expected: serde_yaml::Value = serde_yaml::from_str(src).unwrap();
        assert_eq!(v, expected);
        // Back through text and our parser again: same value.
        let again = ok(&serde_yaml::to_string(&v).unwrap()).to_value();
        assert_eq!(again, v);
        // Keys become strings whatever they look like.
        let v = ok("1: a\ntrue: b\n").to_value();
        assert_eq!(v.get("1"), Some(&serde_yaml::Value::String("a".into())));
        assert_eq!(v.get("true"), Some(&serde_yaml::Value::String("b".into())));
    }

    #[test]
    fn error_display_names_file_line_and_column() {
        let e = parse("stacks/dev.yaml", b"a: 1\nb: *x\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("stacks/dev.yaml:2:4: undefined alias `*x`"),
            "{e}"
        );
        let _: &dyn std::error::Error = &e;
    }
}
