//! The checks that apply to every text value of a profile, whatever its
//! table: no control characters (they would reach a terminal) and a bounded
//! length. The document is walked as generic TOML so that no field is missed.

use serde::Deserialize;

use super::check::Checker;
use super::message::{quoted, quoted_long};
use super::raw::S;

/// Most characters in a short text field: names, keys, labels, groups,
/// slot names, the version, `tool_default` entries, amounts.
pub const MAX_NAME_CHARS: usize = 100;

/// Most characters in a prose field: [`PROSE_FIELDS`].
pub const MAX_TEXT_CHARS: usize = 2000;

/// Fields (the last part of a key path) holding prose, up to
/// [`MAX_TEXT_CHARS`]; every other text field is short
/// ([`MAX_NAME_CHARS`]), except a `schedule`
/// ([`MAX_SCHEDULE_BYTES`](super::MAX_SCHEDULE_BYTES)).
pub const PROSE_FIELDS: &[&str] = &[
    "advice",
    "alternate_days_reason",
    "cautions",
    "if_symptoms",
    "instructions",
    "note",
    "red_flags",
    "title",
    "url",
    "withdrawal_symptoms",
];

/// Any TOML value with where it starts, for the checks that apply to every
/// text field whatever its table.
struct Node(S<NodeValue>);

enum NodeValue {
    Text(String),
    List(Vec<Node>),
    Table(Vec<(String, Node)>),
    Other,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        S::<NodeValue>::deserialize(d).map(Node)
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NodeValue, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> serde::de::Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_str<E>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Text(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<NodeValue, E> {
        Ok(NodeValue::Text(v))
    }

    fn visit_bool<E>(self, _: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<NodeValue, E> {
        Ok(NodeValue::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Other)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = a.next_element::<Node>()? {
            items.push(n);
        }
        Ok(NodeValue::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = a.next_key::<String>()? {
            if k.starts_with("$__toml_private") {
                // A date-time: not text.
                a.next_value::<serde::de::IgnoredAny>()?;
                return Ok(NodeValue::Other);
            }
            let v = a.next_value::<Node>()?;
            entries.push((k, v));
        }
        Ok(NodeValue::Table(entries))
    }
}

/// Checks every text value of the document: no control characters (they
/// would reach a terminal: escape sequences, line breaks, bidirectional
/// overrides) and at most [`MAX_NAME_CHARS`] or [`MAX_TEXT_CHARS`].
pub(super) fn check_text_fields(text: &str, c: &mut Checker) {
    match toml::from_str::<NodeValue>(text) {
        Ok(NodeValue::Table(entries)) => {
            for (key, node) in &entries {
                check_node(key, key, node, c);
            }
        }
        Ok(_) => {}
        // The document parsed as a profile, so this is not expected; say
        // so rather than skip the checks.
        Err(e) => c.at(
            "text",
            0,
            format!(
                "text fields could not be checked: {}",
                quoted_long(e.message())
            ),
        ),
    }
}

fn check_node(path: &str, key: &str, node: &Node, c: &mut Checker) {
    match node.0.get_ref() {
        NodeValue::Text(s) => check_text(path, key, s, node.0.span().start, c),
        // Array items are named by their array.
        NodeValue::List(items) => {
            for n in items {
                check_node(path, key, n, c);
            }
        }
        NodeValue::Table(entries) => {
            for (k, n) in entries {
                check_node(&format!("{path}.{k}"), k, n, c);
            }
        }
        NodeValue::Other => {}
    }
}

fn check_text(path: &str, key: &str, s: &str, at: usize, c: &mut Checker) {
    if let Some((i, ch)) = s
        .chars()
        .enumerate()
        .find(|&(_, ch)| crate::terminal::is_control(ch))
    {
        c.at_with("control character", at, || {
            format!(
                "{} contains the control character U+{:04X} at character {} (accepted: printable text on one line: no escape sequences, tabs, line breaks or bidirectional overrides)",
                quoted(path),
                ch as u32,
                i + 1
            )
        });
    }
    let limit = if key == "schedule" {
        // parse_schedule bounds it and says so.
        return;
    } else if PROSE_FIELDS.contains(&key) {
        MAX_TEXT_CHARS
    } else {
        MAX_NAME_CHARS
    };
    // Counted no further than the limit: the file size bounds the rest.
    if s.chars().nth(limit).is_some() {
        let n = s.chars().count();
        c.at_with("text length", at, || {
            format!(
                "{} is {n} characters long (accepted: at most {limit})",
                quoted(path)
            )
        });
    }
}
