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
    pub fn to_value(&self) -> yaml_serde::Value {
        use yaml_serde::Value as Y;
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
    let mut docs = Builder::new(source.clone(), text, false).run()?;
    Ok(docs.remove(0))
}

/// Parses a stream of YAML documents separated by `---` (as OpenSLO files are written), each a
/// mapping; empty documents (a trailing `---`) are skipped. Same limits as [`parse`], over the
/// whole stream.
pub fn parse_documents(source: &str, bytes: &[u8]) -> Result<Vec<Node>, YamlError> {
    let source: Arc<str> = Arc::from(source);
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(YamlError {
            pos: pos_of(&source, 1, 1),
            message: format!(
                "the file is {} bytes; the limit is 1 MiB ({MAX_INPUT_BYTES} bytes)",
                bytes.len()
            ),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        let (line, col) = end_of(good);
        YamlError {
            pos: pos_of(&source, line, col),
            message: "invalid UTF-8; save the file as UTF-8".into(),
        }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_characters(text).map_err(|(line, col, message)| YamlError {
        pos: pos_of(&source, line, col),
        message,
    })?;
    Builder::new(source.clone(), text, true).run()
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
    /// A stream of documents ([`parse_documents`]) rather than one.
    multi: bool,
    docs: Vec<Node>,
}

impl<'a> Builder<'a> {
    fn new(source: Arc<str>, text: &'a str, multi: bool) -> Self {
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
            multi,
            docs: Vec::new(),
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

    fn run(mut self) -> Result<Vec<Node>, YamlError> {
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
                    if self.multi {
                        self.finish_document()?;
                    } else if self.documents > 1 {
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
        self.finish_document()?;
        if self.docs.is_empty() {
            return Err(self.error(
                pos_of(&self.source, 1, 1),
                "the file is empty; expected a mapping such as `name: my-stack`",
            ));
        }
        Ok(self.docs)
    }

    /// Moves the document just read (if any) into `docs`.
    fn finish_document(&mut self) -> Result<(), YamlError> {
        let Some(root) = self.root.take() else {
            if self.multi {
                return Ok(());
            }
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
                self.docs.push(root.into_node());
                Ok(())
            }
            BuiltValue::Scalar(Value::Null) if self.multi && built.raw.as_deref() == Some("") => {
                Ok(())
            }
            _ if self.multi => Err(self.error(
                root.pos().clone(),
                format!(
                    "the top level of each document must be a mapping such as `kind: SLO`, found {}",
                    built.type_name()
                ),
            )),
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
mod tests;
