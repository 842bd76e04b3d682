//! Whose plan and which one: the checks on `--patient` and `--plan-id`, and
//! the default plan id.
//!
//! A plan id names one patient's plan so that calendar events (their UIDs)
//! and JSON documents of different plans never collide, while the same
//! plan, written again, keeps its id and so replaces its own calendar
//! events on re-import. This is identity only: no dose arithmetic, no
//! formatting for people.

use chrono::NaiveDate;

use crate::dose::Dose;
use crate::schedule::Plan;
use crate::terminal;

/// Longest `--patient` name, in characters: enough for any real name,
/// short enough for a calendar title.
pub const MAX_PATIENT_CHARS: usize = 100;

/// Longest `--plan-id`, in characters.
pub const MAX_PLAN_ID_CHARS: usize = 64;

/// Hex digits of a derived plan id (64 bits: collisions between the plans
/// of one calendar are out of reach).
const DERIVED_HEX_DIGITS: usize = 16;

/// Checks a patient name (`--patient` or a batch `patient` cell). Names go
/// into calendars, HTML and JSON, so no control character, line break or
/// bidirectional override may reach them. The error is one line that shows
/// the value with its control characters escaped.
pub fn check_patient(what: &str, name: &str) -> Result<(), String> {
    let accepted = "accepted: 1 to 100 characters of text, without control characters such as line breaks, tabs or escapes";
    let bad = name
        .chars()
        .any(|c| terminal::is_control(c) || matches!(c, '\u{2028}' | '\u{2029}'));
    let shown = terminal::escape(name);
    if bad {
        return Err(format!(
            "{what} '{shown}' contains a control character ({accepted})"
        ));
    }
    if name.trim().is_empty() {
        return Err(format!("{what} '{shown}' is empty ({accepted})"));
    }
    let n = name.chars().count();
    if n > MAX_PATIENT_CHARS {
        return Err(format!("{what} is {n} characters long ({accepted})"));
    }
    Ok(())
}

/// Checks a plan id given by the user (`--plan-id` or a batch `plan_id`
/// cell): `[A-Za-z0-9._-]`, 1 to 64 characters, so it is safe inside a UID,
/// a file name and a URL without any escaping.
pub fn check_plan_id(what: &str, id: &str) -> Result<(), String> {
    let ok = (1..=MAX_PLAN_ID_CHARS).contains(&id.chars().count())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} '{}' is not valid (accepted: 1 to 64 letters A-Z a-z, digits, '.', '_' or '-')",
            terminal::escape(id)
        ))
    }
}

/// What a default plan id is derived from.
#[derive(Clone, Copy, Debug)]
pub struct PlanKey<'a> {
    /// Batch mode: the row's id, so two rows never share a plan id.
    pub row_id: Option<&'a str>,
    pub patient: Option<&'a str>,
    /// The profile's name (`baclofen`).
    pub drug: &'a str,
    pub start: NaiveDate,
    pub start_dose: Dose,
}

/// The default plan id: 16 hex digits of a stable hash of the patient
/// (or nothing), the drug, the start date and the starting dose (and, in
/// batch mode, the row id). The same request always gives the same id; a
/// change to any of these gives another plan (use `--plan-id` to keep one
/// id across such changes).
pub fn derive_plan_id(key: &PlanKey) -> String {
    let mut h = Fnv1a128::new();
    let start = key.start.to_string();
    let dose = key.start_dose.to_string();
    // A tag per optional field keeps "no patient" apart from an empty one.
    let row = key.row_id.map_or(String::new(), |r| format!("row:{r}"));
    let patient = key
        .patient
        .map_or(String::new(), |p| format!("patient:{p}"));
    for field in [
        "taper-plan-id-1",
        row.as_str(),
        patient.as_str(),
        key.drug,
        start.as_str(),
        dose.as_str(),
    ] {
        h.write_field(field);
    }
    let hex = format!("{:032x}", h.0);
    hex[..DERIVED_HEX_DIGITS].to_string()
}

/// The plan id to write: `given` (already checked) or the default derived
/// from the plan itself. Renderers call this, so a library caller without
/// `--plan-id` still gets the id the command line would give.
pub fn plan_id_or_default(
    given: Option<&str>,
    plan: &Plan,
    patient: Option<&str>,
    row_id: Option<&str>,
) -> String {
    match given {
        Some(id) => id.to_string(),
        None => derive_plan_id(&PlanKey {
            row_id,
            patient,
            drug: &plan.profile.name,
            start: plan.request.start,
            start_dose: plan.request.start_dose,
        }),
    }
}

/// FNV-1a, 128-bit: a fixed, documented hash (unlike `DefaultHasher`,
/// whose output may change between Rust releases). Not cryptographic: ids
/// and UIDs need stability and few collisions, not secrecy.
pub struct Fnv1a128(pub u128);

impl Fnv1a128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;

    pub fn new() -> Self {
        Fnv1a128(Self::OFFSET)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// One field, length-prefixed so that `("a,b", "c")` and `("a", "b,c")`
    /// hash differently.
    pub fn write_field(&mut self, field: &str) {
        self.write(&(field.len() as u64).to_le_bytes());
        self.write(field.as_bytes());
    }
}

impl Default for Fnv1a128 {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(row: Option<&'a str>, patient: Option<&'a str>) -> PlanKey<'a> {
        PlanKey {
            row_id: row,
            patient,
            drug: "baclofen",
            start: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            start_dose: Dose::parse_decimal("60").unwrap(),
        }
    }

    #[test]
    fn fnv1a_128_matches_the_published_test_vectors() {
        let mut h = Fnv1a128::new();
        h.write(b"");
        assert_eq!(h.0, 0x6c62272e07bb014262b821756295c58d);
        let mut h = Fnv1a128::new();
        h.write(b"a");
        assert_eq!(h.0, 0xd228cb696f1a8caf78912b704e4a8964);
    }

    #[test]
    fn derived_ids_are_stable_short_hex_and_depend_on_every_field() {
        let a = derive_plan_id(&key(None, None));
        assert_eq!(a, derive_plan_id(&key(None, None)));
        assert_eq!(a.len(), 16);
        assert!(check_plan_id("--plan-id", &a).is_ok());
        let others = [
            derive_plan_id(&key(None, Some(""))),
            derive_plan_id(&key(None, Some("Smith, John"))),
            derive_plan_id(&key(Some("r1"), None)),
            derive_plan_id(&key(Some("r2"), None)),
            derive_plan_id(&PlanKey {
                drug: "diazepam",
                ..key(None, None)
            }),
            derive_plan_id(&PlanKey {
                start: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
                ..key(None, None)
            }),
            derive_plan_id(&PlanKey {
                start_dose: Dose::parse_decimal("50").unwrap(),
                ..key(None, None)
            }),
        ];
        let mut all: Vec<&String> = others.iter().chain([&a]).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), others.len() + 1);
    }

    #[test]
    fn plan_ids_accept_only_safe_characters() {
        for ok in ["a", "p-1.2_x", &"Z".repeat(64)] {
            assert!(check_plan_id("--plan-id", ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ü", "a\nb", &"Z".repeat(65), "a@b"] {
            let e = check_plan_id("--plan-id", bad).unwrap_err();
            assert!(e.contains("accepted"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn patients_reject_control_characters_blank_and_overlong_names() {
        assert!(check_patient("--patient", "Smith, John").is_ok());
        assert!(check_patient("--patient", "Zoë O'Brien-Łukasz").is_ok());
        assert!(check_patient("--patient", &"x".repeat(100)).is_ok());
        for bad in [
            "a\nb",
            "a\tb",
            "a\u{1b}[31mb",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9b}b",
            "a\u{202e}b",
            "a\u{2028}b",
            "",
            "  ",
        ] {
            let e = check_patient("--patient", bad).unwrap_err();
            assert!(e.contains("accepted"), "{e}");
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
        assert!(check_patient("--patient", &"x".repeat(101)).is_err());
    }
}
