//! A request's fields, from a JSON object (the API) or a posted form (the
//! page), read by [`crate::batch::read_fields`] like a batch row; and which
//! field a refusal's message is about, so the page shows it there.

use std::collections::HashMap;

use serde_json::Value;

use crate::batch::{self, RowDefaults, RowFields, OPTIONAL_COLUMNS, REQUIRED_COLUMNS};

/// Every field a request may carry: the columns of a batch row.
pub(super) fn names() -> impl Iterator<Item = &'static str> {
    REQUIRED_COLUMNS
        .iter()
        .chain(OPTIONAL_COLUMNS.iter())
        .copied()
}

/// Why a JSON body was not read: 400 (not a JSON object) or 422 (a
/// member the API does not take).
pub(super) enum BadBody {
    NotJson(String),
    Invalid(String),
}

/// Reads a JSON object with the members of a batch row; values are
/// strings or numbers (`null` and `""` leave a field out).
pub(super) fn from_json(body: &[u8]) -> Result<RowFields, BadBody> {
    let members = match serde_json::from_slice::<Members>(body) {
        Ok(Members::Object(m)) => m,
        Ok(Members::Other) => {
            return Err(BadBody::NotJson(
                "the request body must be one JSON object, the fields of one batch row (e.g. {\"profile\": \"baclofen\", \"dose\": \"60mg\"})".into(),
            ))
        }
        Err(e) => return Err(BadBody::NotJson(format!("the request body is not JSON: {e}"))),
    };
    let mut text: HashMap<&'static str, String> = HashMap::new();
    let mut seen: Vec<&'static str> = Vec::new();
    for (key, value) in &members {
        let Some(name) = names().find(|n| *n == key.as_str()) else {
            return Err(BadBody::Invalid(format!(
                "unknown field '{}' (accepted: {})",
                crate::terminal::escape(key),
                names().collect::<Vec<_>>().join(", ")
            )));
        };
        // As a batch header refuses a column named twice.
        if seen.contains(&name) {
            return Err(BadBody::Invalid(format!(
                "field '{name}' appears twice in the request object"
            )));
        }
        seen.push(name);
        let cell = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
                return Err(BadBody::Invalid(format!(
                    "field '{name}' must be a string or a number, not {}",
                    kind(value)
                )))
            }
        };
        text.insert(name, cell);
    }
    Ok(read(|name| text.get(name).map(String::as_str)))
}

/// A JSON document read as an object's members in order, every one kept
/// (a map would quietly keep only the last of a repeated name), or as
/// something else.
enum Members {
    Object(Vec<(String, Value)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Members::Object(out))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Members, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Members::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_unit<E>(self) -> Result<Members, E> {
                Ok(Members::Other)
            }
        }
        d.deserialize_any(Visit)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "true or false",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        _ => "this value",
    }
}

/// Fields through the batch row reader: trimmed, empty ones left out.
fn read<'v>(get: impl Fn(&str) -> Option<&'v str>) -> RowFields {
    batch::read_fields(
        |name| get(name).map(str::trim).filter(|v| !v.is_empty()),
        &RowDefaults::default(),
        false,
    )
}

/// A posted form's values, in order, as typed.
#[derive(Clone, Debug, Default)]
pub(super) struct FormValues(pub Vec<(String, String)>);

impl FormValues {
    pub fn parse(body: &[u8]) -> FormValues {
        FormValues(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, as typed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Sets `name` to one value.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_string(), value.to_string()));
    }

    /// The request these values make: the products ticked are the
    /// `strengths`; fields the form does not have are never read.
    pub fn fields(&self) -> RowFields {
        let strengths = self.all("strengths").join(",");
        read(|name| match name {
            "strengths" => Some(strengths.as_str()),
            "id" | "plan_id" => None,
            other => self.get(other),
        })
    }
}

/// The field a refusal is about, from its words: messages name the value
/// they refuse first (`percent '120' is out of range …`), or the flag
/// (`--strategy linear needs --step …`). `None`: the form as a whole.
pub(super) fn field_of(message: &str) -> Option<&'static str> {
    // A missing parameter of a strategy: the parameter's field.
    if let Some(rest) = message.strip_prefix("--strategy ") {
        return Some(
            rest.split("--")
                .nth(1)
                .and_then(flag_field)
                .unwrap_or("strategy"),
        );
    }
    if let Some(rest) = message.strip_prefix("--") {
        return flag_field(rest);
    }
    const LEADS: [(&str, &str); 23] = [
        ("unknown profile", "profile"),
        ("profile ", "profile"),
        ("dose ", "dose"),
        ("start date", "start"),
        ("strategy ", "strategy"),
        ("occupancy step", "occupancy_step"),
        ("step ", "step"),
        ("percent ", "percent"),
        ("interval ", "interval"),
        ("target ", "target"),
        ("doses per day", "doses_per_day"),
        ("strength ", "strengths"),
        ("form ", "form"),
        ("schedule", "schedule"),
        ("final hold", "final_hold"),
        ("market ", "market"),
        ("switch interval", "switch_interval"),
        ("switch_to ", "switch_to"),
        ("no switch from", "switch_to"),
        ("supply ", "supply"),
        ("patient ", "patient"),
        ("plan_id ", "plan_id"),
        ("strengths ", "strengths"),
    ];
    LEADS
        .iter()
        .find(|(lead, _)| message.starts_with(lead))
        .map(|(_, field)| *field)
}

/// `step (…` → `step`: the flag's field, when the form has it.
fn flag_field(text: &str) -> Option<&'static str> {
    let flag: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .replace('-', "_");
    names().find(|n| *n == flag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileDirs;
    use crate::serve::draft::draft;

    fn refusal(pairs: &[(&str, &str)]) -> crate::serve::draft::Refusal {
        let values = FormValues(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        match draft(&values.fields(), &ProfileDirs { dirs: vec![] }, today) {
            Ok(_) => panic!("{pairs:?} was planned"),
            Err(r) => r,
        }
    }

    /// Every refusal of a bad value lands next to the field that holds it:
    /// the messages are the engine's own, so this is checked on them.
    #[test]
    fn refusals_name_their_field() {
        // (field, bad value, other fields the refusal needs)
        type Case = (
            &'static str,
            &'static str,
            &'static [(&'static str, &'static str)],
        );
        let cases: &[Case] = &[
            ("dose", "abc", &[]),
            ("dose", "0", &[]),
            ("dose", "-5mg", &[]),
            ("dose", "5mL", &[]),
            ("dose", "", &[]),
            ("start", "2026-13-01", &[]),
            ("start", "tomorrow", &[]),
            ("strategy", "fast", &[]),
            ("strategy", "hyperbolic", &[]),
            ("step", "abc", &[("strategy", "linear")]),
            ("step", "0mg", &[("strategy", "linear")]),
            ("percent", "120", &[]),
            ("percent", "0", &[("strategy", "percent")]),
            ("percent", "abc", &[]),
            ("schedule", "x", &[("strategy", "custom")]),
            ("schedule", "40x", &[("strategy", "custom")]),
            ("schedule", "", &[("strategy", "custom")]),
            ("interval", "x", &[]),
            ("interval", "0", &[]),
            ("interval", "99999", &[]),
            ("target", "70mg", &[]),
            ("target", "abc", &[]),
            ("doses_per_day", "0", &[]),
            ("doses_per_day", "13", &[]),
            ("doses_per_day", "x", &[]),
            ("strengths", "3mg", &[]),
            ("form", "x", &[]),
            ("market", "fr", &[]),
            ("supply", "0", &[]),
            ("supply", "400", &[]),
            ("final_hold", "x", &[]),
            ("final_hold", "0", &[]),
            (
                "final_hold",
                "14",
                &[("strategy", "custom"), ("schedule", "60x7,30x7")],
            ),
            ("switch_to", "diazepam", &[]),
            ("switch_to", "nosuch", &[]),
            ("switch_to", "../x.toml", &[]),
            ("profile", "nosuch", &[]),
            ("profile", "/etc/passwd", &[]),
            ("patient", "a\u{7}b", &[]),
        ];
        for (field, value, extra) in cases {
            let mut pairs = vec![("profile", "baclofen"), ("dose", "60mg")];
            pairs.retain(|(k, _)| k != field);
            pairs.extend_from_slice(extra);
            pairs.push((field, value));
            let r = refusal(&pairs);
            assert_eq!(
                r.field(),
                Some(*field),
                "{field}={value:?}: {}",
                r.message()
            );
        }
        // Options of the other strategies and of a switch.
        let r = refusal(&[
            ("profile", "sertraline"),
            ("dose", "100mg"),
            ("strategy", "hyperbolic"),
            ("occupancy_step", "abc"),
        ]);
        assert_eq!(r.field(), Some("occupancy_step"), "{}", r.message());
        let r = refusal(&[
            ("profile", "lorazepam"),
            ("dose", "3mg"),
            ("switch_to", "diazepam"),
            ("switch_interval", "0"),
        ]);
        assert_eq!(r.field(), Some("switch_interval"), "{}", r.message());
        let r = refusal(&[
            ("profile", "baclofen"),
            ("dose", "60mg"),
            ("strategy", "custom"),
            ("schedule", "60x7"),
            ("interval", "7"),
        ]);
        assert_eq!(r.field(), Some("interval"), "{}", r.message());
    }

    #[test]
    fn json_members_are_batch_columns() {
        let f = from_json(
            br#"{"profile": "baclofen", "dose": 60, "interval": 7, "target": null, "id": "A1"}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(f.opts.dose, "60");
        assert_eq!(f.opts.interval.as_deref(), Some("7"));
        assert_eq!(f.opts.target, None);
        assert_eq!(f.id, "A1");
        assert!(f.problem.is_none());
        for (body, kind) in [
            (&b"[1]"[..], "not json"),
            (b"nope", "not json"),
            (
                b"{\"profile\": \"baclofen\", \"dose\": \"60mg\", \"colour\": \"red\"}",
                "invalid",
            ),
            (b"{\"profile\": \"baclofen\", \"dose\": [60]}", "invalid"),
            (b"{\"profile\": \"baclofen\", \"dose\": true}", "invalid"),
            (
                b"{\"profile\": \"baclofen\", \"dose\": \"60mg\", \"profile\": \"diazepam\"}",
                "invalid",
            ),
            (b"\"baclofen\"", "not json"),
            (b"null", "not json"),
            (b"{\"profile\": \"baclofen\"} x", "not json"),
        ] {
            match (from_json(body), kind) {
                (Err(BadBody::NotJson(_)), "not json") | (Err(BadBody::Invalid(_)), "invalid") => {}
                (other, _) => panic!("{}: {}", String::from_utf8_lossy(body), other.is_ok()),
            }
        }
    }
}
