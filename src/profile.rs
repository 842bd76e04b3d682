//! Drug profiles: TOML data files, their validation, and where they are found.
//!
//! A profile is data, never code. This module owns the file format (see the
//! README), turns a file into a validated [`Profile`] with located errors
//! (`FILE:LINE:COL: what is wrong, what is accepted`), and resolves a name
//! against the user directories and the profiles embedded at build time. It
//! knows nothing about strategies' arithmetic or output formats.
//!
//! Profiles may come from anyone, so everything here is bounded: a file is
//! read only when it is a regular file of at most [`MAX_PROFILE_BYTES`];
//! text fields hold no control characters and at most [`MAX_NAME_CHARS`] or
//! [`MAX_TEXT_CHARS`]; a schedule has at most [`MAX_SCHEDULE_ENTRIES`];
//! checking is linear and reports at most [`MAX_PROBLEMS_PER_KIND`]
//! problems of a kind; folders are listed once ([`ProfileCatalog`]) up to
//! [`MAX_USER_PROFILES`] profiles.
//!
//! This file holds the validated types and [`parse_profile`]; the steps
//! live in submodules, one concept each: `raw` (the TOML shape), `check`
//! (located, capped problems), `message` (quoting values and naming
//! accepted ones), `text` (every string's characters and length),
//! `validate` (raw to [`Profile`]), `schedule` (custom schedules), `read`
//! (reading a file safely), `find` (a name or path to a profile) and
//! `catalog` (the profile folders read once, and listed).

mod catalog;
mod check;
mod find;
mod message;
mod raw;
mod read;
mod relations;
mod schedule;
mod supply;
mod text;
mod validate;

use serde::{Deserialize, Serialize};

use crate::dose::{Dose, Percent};
use crate::error::Error;

pub use catalog::{
    all_names, list, user_files, Listing, ProfileCatalog, Skipped, MAX_DIR_ENTRIES,
    MAX_KNOWN_PROFILES_SHOWN, MAX_USER_PROFILES,
};
pub use check::MAX_PROBLEMS_PER_KIND;
pub use find::{find, load, looks_like_path, user_folder, Found, ProfileDirs};
pub use message::MAX_NAMES_SHOWN;
pub use read::{load_file, load_reader, read_profile_text, MAX_PROFILE_BYTES};
pub use schedule::{parse_schedule, MAX_SCHEDULE_BYTES, MAX_SCHEDULE_ENTRIES};
pub use text::{MAX_NAME_CHARS, MAX_TEXT_CHARS, PROSE_FIELDS};

use check::{line_col, Checker};
use message::quoted_long;
use raw::RawProfile;
use text::check_text_fields;
use validate::validate;

include!(concat!(env!("OUT_DIR"), "/builtin_profiles.rs"));

/// How a solid product may be divided, as its label allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    None,
    Halves,
    Quarters,
}

impl Split {
    /// Pieces per whole unit.
    pub fn parts(self) -> u64 {
        match self {
            Split::None => 1,
            Split::Halves => 2,
            Split::Quarters => 4,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    Tablet,
    Capsule,
    Liquid,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Tablet => "tablet",
            Form::Capsule => "capsule",
            Form::Liquid => "liquid",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrategyKind {
    Linear,
    Percent,
    Hyperbolic,
    Custom,
}

impl StrategyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Linear => "linear",
            StrategyKind::Percent => "percent",
            StrategyKind::Hyperbolic => "hyperbolic",
            StrategyKind::Custom => "custom",
        }
    }
}

/// One product on the market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Formulation {
    pub form: Form,
    /// mg per tablet or capsule (solids only).
    pub strength: Option<Dose>,
    /// mg per mL (liquids only).
    pub concentration: Option<Dose>,
    pub split: Split,
    pub modified_release: bool,
    /// Used only when named in `--strengths` (e.g. a concentrate for
    /// opioid-tolerant patients).
    pub restricted: bool,
    pub label: Option<String>,
    /// Prescriber-facing remark.
    pub note: Option<String>,
    /// Patient handling instructions, shown with every dose that uses the
    /// product (dilute, oral syringe, split on the score line).
    pub instructions: Option<String>,
    /// Products of different groups are never used in one plan (they are
    /// not interchangeable, e.g. tizanidine tablets and capsules).
    pub group: Option<String>,
    pub source: Option<String>,
    /// Where the product is sold (`us`, `uk`): the profile's markets
    /// when the file names none.
    pub markets: Vec<String>,
    /// Sold pack sizes per market, smallest first: tablets or capsules per
    /// pack, or mL per bottle for a liquid (empty: not given).
    pub packs: std::collections::BTreeMap<String, Vec<u32>>,
    /// Source keys of the pack sizes, space separated.
    pub packs_source: Option<String>,
    /// RxNorm clinical drug code (RXCUI), when a source gives it.
    pub rxnorm: Option<String>,
}

impl Formulation {
    pub fn is_liquid(&self) -> bool {
        self.form == Form::Liquid
    }

    /// The product as a prescriber names it: `10 mg tablet`,
    /// `1 mg/mL oral solution`.
    pub fn name(&self, unit: &str) -> String {
        match (self.strength, self.concentration) {
            (Some(s), _) => {
                let mr = if self.modified_release {
                    " modified-release"
                } else {
                    ""
                };
                let base = self.label.as_deref().unwrap_or(self.form.as_str());
                format!("{s} {unit}{mr} {base}")
            }
            (None, Some(c)) => {
                let base = self.label.as_deref().unwrap_or("oral liquid");
                format!("{c} {unit}/mL {base}")
            }
            (None, None) => self.form.as_str().to_string(),
        }
    }

    /// The unique `--strengths` key: `10mg-tablet`, `4mg-capsule`,
    /// `10mg-mr-tablet` or `1mg/mL`. A tablet and a capsule of one strength
    /// must never be confused, so the form is part of a solid's key.
    pub fn key(&self, unit: &str) -> String {
        match (self.strength, self.concentration) {
            (Some(s), _) => {
                let mr = if self.modified_release { "-mr" } else { "" };
                format!("{s}{unit}{mr}-{}", self.form.as_str())
            }
            (None, Some(c)) => format!("{c}{unit}/mL"),
            _ => String::new(),
        }
    }

    /// The strength alone (`10mg`, `1mg/mL`): what users usually type.
    pub fn short_key(&self, unit: &str) -> String {
        match (self.strength, self.concentration) {
            (Some(s), _) => format!("{s}{unit}"),
            (None, Some(c)) => format!("{c}{unit}/mL"),
            _ => String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefaultPlan {
    pub strategy: StrategyKind,
    pub step: Option<Dose>,
    pub percent: Option<Percent>,
    pub occupancy_step: Option<Percent>,
    pub schedule: Option<Vec<crate::strategy::CustomEntry>>,
    pub interval_days: u32,
    /// Fields that no source gives: conservative tool defaults to confirm.
    pub tool_default: Vec<String>,
    pub note: Option<String>,
}

/// The fastest taper the sources support. A step is within guidance when
/// it is within the percent limit *or* within the absolute limit (the
/// absolute limit lets small doses be stopped in one sensible step).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub max_step_percent: Option<Percent>,
    pub max_step: Option<Dose>,
    pub min_interval_days: Option<u32>,
    pub min_total_days: Option<u32>,
    pub tool_default: Vec<String>,
    pub source: Option<String>,
    pub note: Option<String>,
}

/// Hold each step at least `interval_days` once the dose is below `dose`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlowBelow {
    pub dose: Dose,
    pub interval_days: u32,
    /// Once the current dose is at or below `dose`, no cut is larger than
    /// this (a low-dose phase's own step size, e.g. prednisone 1 mg).
    pub step: Option<Dose>,
    pub tool_default: bool,
    pub source: Option<String>,
}

/// How a plan ends, from the profile's sources (or tool defaults).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ending {
    /// The smallest cut worth making: percent and hyperbolic plans never
    /// cut less, so their tails end instead of shrinking forever.
    pub min_step: Dose,
    /// The dose the sources name for stopping: at or below it, the next
    /// step is the target.
    pub stop_from: Dose,
    /// Hold the last dose before stopping this long (instead of the interval).
    pub final_hold_days: Option<u32>,
    /// The last dose before stopping may be given in this many
    /// administrations (e.g. once at bedtime).
    pub final_doses_per_day: Option<u32>,
    pub tool_default: Vec<String>,
    pub source: Option<String>,
    pub note: Option<String>,
}

/// The names of the day's administrations and how they are given up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DoseSlots {
    /// One name per administration of `doses_per_day`, in time order;
    /// empty means the generic names.
    pub slots: Vec<String>,
    /// Slot names dropped first → last when a dose cannot be spread evenly.
    pub drop_order: Vec<String>,
    /// Longest time between doses the sources allow.
    pub max_gap_hours: Option<u32>,
    pub tool_default: Vec<String>,
    pub source: Option<String>,
    pub note: Option<String>,
    /// Whether custom schedules may dose every N days (`[doses]
    /// alternate_days`); unset when no source speaks to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternate_days: Option<AlternateDays>,
}

/// A sourced yes or no to every-other-day dosing: short-acting drugs can
/// bring withdrawal on the rest days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlternateDays {
    pub allowed: bool,
    /// A `[[source]]` key.
    pub source: String,
    /// Why, in the prescriber's words (required when not allowed).
    pub reason: Option<String>,
}

impl DoseSlots {
    /// The fewest administrations a day before the final phase.
    pub fn min_per_day(&self) -> u32 {
        self.max_gap_hours.map_or(1, |h| 24u32.div_ceil(h.max(1)))
    }
}

/// Default most pieces in one administration when no source gives it.
pub const DEFAULT_MAX_PIECES: u32 = 4;

/// occupancy = Emax·D / (ED50 + D), from a named source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Occupancy {
    /// Maximum occupancy in percent (micro-percent inside).
    pub emax: Percent,
    /// Daily dose giving half of Emax.
    pub ed50: Dose,
    pub source: String,
    /// The brain region the fit is for (e.g. striatum).
    pub region: Option<String>,
    pub note: Option<String>,
}

/// The profile's equivalence to its class's reference drug: `dose` of this
/// drug is taken as `reference_dose` of the reference, within the published
/// range `low..=high` when sources disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Equivalence {
    pub reference: String,
    pub dose: Dose,
    pub reference_dose: Dose,
    pub low: Option<Dose>,
    pub high: Option<Dose>,
    pub source: String,
    pub note: Option<String>,
}

/// Morphine milligram equivalents per unit of this opioid (oral).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mme {
    pub factor: Dose,
    pub source: String,
    pub note: Option<String>,
}

/// The drugs the sources switch this one to before tapering, one
/// administration at a time every `interval_days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Switch {
    pub to: Vec<String>,
    pub interval_days: u32,
    pub source: String,
    pub note: Option<String>,
}

/// A controlled drug's schedule in one market: such a drug is dispensed
/// no more than a fill needs, its quantities also written in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Controlled {
    pub market: String,
    /// As the law names it: `Schedule IV`, `Schedule 4 (Part 1)`.
    pub schedule: String,
    pub source: String,
}

impl Profile {
    /// The drug's schedule in `market`, if it is controlled there.
    pub fn controlled_in(&self, market: &str) -> Option<&Controlled> {
        self.controlled.iter().find(|c| c.market == market)
    }
}

/// Markets a profile's products are sold in when it names none.
pub const DEFAULT_MARKET: &str = "us";

/// Longest interval between two substitution steps of a switch (a
/// profile's `[switch] interval_days`, `--switch-interval`).
pub const MAX_SWITCH_INTERVAL_DAYS: u32 = 90;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    pub key: String,
    pub title: String,
    pub year: Option<u16>,
    pub url: Option<String>,
    /// Cited only for pack sizes, RxNorm codes or controlled schedules:
    /// pages about doses leave it out unless the plan has fills to
    /// dispense (`--supply`). Not part of the JSON.
    #[serde(skip)]
    pub supply_only: bool,
}

/// A validated profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub display_name: String,
    pub version: String,
    pub unit: String,
    pub doses_per_day: u32,
    pub usual_max_daily: Option<Dose>,
    pub formulations: Vec<Formulation>,
    pub default: DefaultPlan,
    pub limits: Limits,
    pub slow_below: Vec<SlowBelow>,
    pub occupancy: Option<Occupancy>,
    pub ending: Option<Ending>,
    pub doses: DoseSlots,
    /// Most tablet/capsule pieces in one administration (¾ counts 3).
    pub max_pieces: u32,
    /// No source gives `max_pieces`: the tool default is used.
    pub max_pieces_tool_default: bool,
    pub checkin_days: Vec<u32>,
    pub checkin_days_tool_default: bool,
    /// Smallest volume step a patient can measure with an oral syringe.
    pub liquid_step_ml: Dose,
    pub withdrawal_symptoms: Vec<String>,
    pub red_flags: Vec<String>,
    pub if_symptoms: String,
    pub advice: Vec<String>,
    pub cautions: Vec<String>,
    pub sources: Vec<Source>,
    /// Where it came from: `built-in` or a file path.
    pub origin: String,
    /// The drug class (`benzodiazepine`, `opioid`, …), when given.
    pub class: Option<String>,
    /// Where the products are sold; the first is the default market.
    pub markets: Vec<String>,
    pub equivalence: Option<Equivalence>,
    pub mme: Option<Mme>,
    pub switch: Option<Switch>,
    /// RxNorm ingredient code (RXCUI), when a source gives it.
    pub rxnorm: Option<String>,
    /// Controlled-drug schedules, one per market where the drug is one.
    pub controlled: Vec<Controlled>,
}

impl Profile {
    pub fn has_liquid(&self) -> bool {
        self.formulations.iter().any(Formulation::is_liquid)
    }
}

pub const DEFAULT_IF_SYMPTOMS: &str = "If withdrawal symptoms are hard to bear, go back to the previous dose and call your prescriber.";

/// Parses and validates a profile's text. `file` names it in errors.
pub fn parse_profile(text: &str, file: &str, origin: &str) -> Result<Profile, Error> {
    if text.len() as u64 > MAX_PROFILE_BYTES {
        return Err(Error::InvalidProfile(vec![format!(
            "{}: the profile is {} bytes, more than the limit of {MAX_PROFILE_BYTES} bytes (1 MiB)",
            crate::terminal::escape(file),
            text.len()
        )]));
    }
    let raw: RawProfile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(Error::InvalidProfile(syntax_problems(text, file, e))),
    };
    let mut c = Checker::new(file, text);
    check_text_fields(text, &mut c);
    let profile = validate(raw, &mut c, origin);
    match profile {
        Some(mut p) if !c.has_problems() => {
            supply::mark_supply_sources(text, &mut p.sources);
            Ok(p)
        }
        _ => Err(Error::InvalidProfile(c.finish())),
    }
}

/// Every TOML syntax problem in the file, in file order (the parser may
/// recover and find several, but lists them out of order), at most
/// [`MAX_PROBLEMS_PER_KIND`]; `first` is the error that stopped parsing
/// (the only one when the text is valid TOML of the wrong shape).
fn syntax_problems(text: &str, file: &str, first: toml::de::Error) -> Vec<String> {
    let mut errors = toml::de::DeTable::parse_recoverable(text).1;
    if errors.is_empty() {
        errors.push(first);
    }
    errors.sort_by_key(|e| e.span().map_or(0, |s| s.start));
    errors.dedup_by(|a, b| a.span() == b.span() && a.message() == b.message());
    let more = errors.len().saturating_sub(MAX_PROBLEMS_PER_KIND);
    let mut lines: Vec<String> = errors
        .iter()
        .take(MAX_PROBLEMS_PER_KIND)
        .map(|e| syntax_line(text, file, e))
        .collect();
    if more > 0 {
        lines.push(format!(
            "{}: … and {more} more TOML syntax problems",
            crate::terminal::escape(file)
        ));
    }
    lines
}

/// `FILE:LINE:COL: message`, naming the key of a duplicate (the parser's
/// message only says "duplicate key" and points at it).
fn syntax_line(text: &str, file: &str, e: &toml::de::Error) -> String {
    let span = e.span();
    let (line, col) = span.as_ref().map_or((1, 1), |s| line_col(text, s.start));
    let mut msg = e.message().replace('\n', " ");
    let key = span.and_then(|s| text.get(s)).map(str::trim);
    if let Some(key) = key.filter(|k| msg == "duplicate key" && !k.is_empty()) {
        msg = format!("duplicate key `{key}`");
    }
    // The parser's message may quote the file's text (an unknown key).
    format!(
        "{}:{line}:{col}: {} (see the profile format in the README)",
        crate::terminal::escape(file),
        quoted_long(&msg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_syntax_problems_come_in_file_order_and_name_duplicate_keys() {
        let text = "name = \"x\"\nname = \"y\"\nversion = \nfoo = [1,\n";
        let Err(Error::InvalidProfile(lines)) = parse_profile(text, "p.toml", "test") else {
            panic!("accepted broken TOML");
        };
        let at: Vec<&str> = lines
            .iter()
            .map(|l| l.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            at,
            ["p.toml:2:1", "p.toml:3:11", "p.toml:4:10"],
            "{lines:?}"
        );
        assert!(lines[0].contains("duplicate key `name`"), "{}", lines[0]);
    }

    #[test]
    fn every_builtin_profile_validates() {
        assert!(!BUILTIN_PROFILES.is_empty());
        for (name, text) in BUILTIN_PROFILES {
            let p = parse_profile(text, name, "built-in").unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name, "file name and profile name differ");
        }
    }

    #[test]
    fn errors_are_located() {
        let text = BUILTIN_PROFILES
            .iter()
            .find(|(n, _)| *n == "baclofen")
            .unwrap()
            .1
            .replace("doses_per_day = 3", "doses_per_day = 0");
        let err = parse_profile(&text, "x.toml", "x").unwrap_err().to_string();
        let line = text
            .lines()
            .position(|l| l.starts_with("doses_per_day = 0"))
            .unwrap()
            + 1;
        assert!(
            err.contains(&format!("x.toml:{line}:17: doses_per_day 0")),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse_profile("name = \"a\"\nunit = [", "bad.toml", "x")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("bad.toml:2:"), "{err}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let text = BUILTIN_PROFILES
            .iter()
            .find(|(n, _)| *n == "baclofen")
            .unwrap()
            .1
            .replace("unit = \"mg\"", "unit = \"mg\"\ncolour = \"blue\"");
        let err = parse_profile(&text, "x.toml", "x").unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    fn baclofen_with(top: &str, tail: &str) -> Result<Profile, String> {
        let text = BUILTIN_PROFILES
            .iter()
            .find(|(n, _)| *n == "baclofen")
            .unwrap()
            .1
            .replace("class = \"muscle-relaxant\"\n", "")
            .replace("unit = \"mg\"", &format!("unit = \"mg\"\n{top}"));
        parse_profile(&format!("{text}\n{tail}"), "x.toml", "x").map_err(|e| e.to_string())
    }

    #[test]
    fn class_markets_equivalence_mme_and_switch_are_read() {
        let key = "US-tab";
        let p = baclofen_with(
            "class = \"muscle-relaxant\"\nmarkets = [\"uk\", \"us\"]",
            &format!(
                "[equivalence]\nreference = \"diazepam\"\ndose = \"1\"\nreference_dose = \"10\"\nlow = \"5\"\nhigh = \"20\"\nsource = \"{key}\"\n\n[switch]\nto = [\"diazepam\"]\ninterval_days = 7\nsource = \"{key}\"\n"
            ),
        );
        let p = match p {
            Ok(p) => p,
            // The test needs a source key the baclofen profile has.
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.class.as_deref(), Some("muscle-relaxant"));
        assert_eq!(p.markets, ["uk", "us"]);
        assert!(p.formulations.iter().all(|f| f.markets == ["uk", "us"]));
        let e = p.equivalence.unwrap();
        assert_eq!(
            (e.dose.to_string(), e.reference_dose.to_string()),
            ("1".into(), "10".into())
        );
        assert_eq!(e.low.map(|d| d.to_string()).as_deref(), Some("5"));
        assert_eq!(p.switch.unwrap().interval_days, 7);
        // Without them: the US market, nothing else.
        let plain = baclofen_with("", "").unwrap();
        assert_eq!(plain.markets, ["us"]);
        assert!(plain.equivalence.is_none() && plain.mme.is_none() && plain.switch.is_none());
    }

    #[test]
    fn bad_relations_are_refused_with_what_is_accepted() {
        let cases = [
            ("class = \"sedative\"", "", "class 'sedative' is not known"),
            ("markets = [\"USA\"]", "", "market 'USA' is not valid"),
            ("markets = []", "", "must name at least one market"),
            (
                "",
                "[equivalence]\nreference = \"diazepam\"\ndose = \"1\"\nreference_dose = \"30\"\nlow = \"5\"\nhigh = \"20\"\nsource = \"US-tab\"",
                "outside its range 5 to 20",
            ),
            (
                "",
                "[equivalence]\nreference = \"diazepam\"\ndose = \"1\"\nreference_dose = \"10\"\nlow = \"5\"\nsource = \"US-tab\"",
                "low and high go together",
            ),
            (
                "class = \"muscle-relaxant\"",
                "[mme]\nfactor = \"1\"\nsource = \"US-tab\"",
                "[mme] is only for opioids",
            ),
            (
                "",
                "[switch]\nto = [\"baclofen\"]\ninterval_days = 7\nsource = \"US-tab\"",
                "switch to 'baclofen' is not valid",
            ),
            (
                "",
                "[switch]\nto = [\"diazepam\"]\ninterval_days = 400\nsource = \"US-tab\"",
                "interval_days 400 is out of range",
            ),
        ];
        for (top, tail, says) in cases {
            let err = baclofen_with(top, tail).unwrap_err();
            assert!(err.contains(says), "{top} {tail}: {err}");
        }
    }
}
