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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dose::{Dose, Percent, TypedAmount, SCALE};
use crate::error::Error;

include!(concat!(env!("OUT_DIR"), "/builtin_profiles.rs"));

/// Largest profile file read, in bytes (1 MiB); the built-in profiles are
/// under 8 KB each.
pub const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

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
    pub schedule: Option<Vec<(Dose, u32)>>,
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
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    pub key: String,
    pub title: String,
    pub year: Option<u16>,
    pub url: Option<String>,
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
}

impl Profile {
    pub fn has_liquid(&self) -> bool {
        self.formulations.iter().any(Formulation::is_liquid)
    }
}

pub const DEFAULT_IF_SYMPTOMS: &str = "If withdrawal symptoms are hard to bear, go back to the previous dose and call your prescriber.";

// ---------------------------------------------------------------- raw form

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: S<String>,
    display_name: S<String>,
    version: S<String>,
    unit: S<String>,
    doses_per_day: S<i64>,
    #[serde(default)]
    doses_per_day_source: Option<S<String>>,
    #[serde(default)]
    usual_max_daily: Option<S<String>>,
    #[serde(default)]
    usual_max_daily_source: Option<S<String>>,
    #[serde(default)]
    checkin_days: Option<S<Vec<i64>>>,
    #[serde(default)]
    checkin_days_tool_default: bool,
    #[serde(default)]
    liquid_step_ml: Option<S<String>>,
    withdrawal_symptoms: S<Vec<String>>,
    red_flags: S<Vec<String>>,
    #[serde(default)]
    if_symptoms: Option<String>,
    #[serde(default)]
    advice: Vec<String>,
    #[serde(default)]
    cautions: Vec<String>,
    formulation: S<Vec<RawFormulation>>,
    default: S<RawDefault>,
    #[serde(default)]
    limits: Option<S<RawLimits>>,
    #[serde(default)]
    slow_below: Vec<S<RawSlowBelow>>,
    #[serde(default)]
    occupancy: Option<S<RawOccupancy>>,
    #[serde(default)]
    ending: Option<S<RawEnding>>,
    #[serde(default)]
    doses: Option<S<RawDoses>>,
    #[serde(default)]
    max_pieces: Option<S<i64>>,
    #[serde(default)]
    max_pieces_source: Option<S<String>>,
    source: S<Vec<S<RawSource>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnding {
    min_step: S<String>,
    stop_from: S<String>,
    #[serde(default)]
    final_hold_days: Option<S<i64>>,
    #[serde(default)]
    final_doses_per_day: Option<S<i64>>,
    #[serde(default)]
    tool_default: Vec<String>,
    #[serde(default)]
    source: Option<S<String>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoses {
    #[serde(default)]
    slots: Option<S<Vec<String>>>,
    #[serde(default)]
    drop_order: Option<S<Vec<String>>>,
    #[serde(default)]
    max_gap_hours: Option<S<i64>>,
    #[serde(default)]
    tool_default: Vec<String>,
    #[serde(default)]
    source: Option<S<String>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormulation {
    form: S<Form>,
    #[serde(default)]
    strength: Option<S<String>>,
    #[serde(default)]
    concentration: Option<S<String>>,
    #[serde(default)]
    split: Option<S<Split>>,
    #[serde(default)]
    modified_release: bool,
    #[serde(default)]
    restricted: bool,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    source: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefault {
    strategy: S<StrategyKind>,
    #[serde(default)]
    step: Option<S<String>>,
    #[serde(default)]
    percent: Option<S<String>>,
    #[serde(default)]
    occupancy_step: Option<S<String>>,
    #[serde(default)]
    schedule: Option<S<String>>,
    interval_days: S<i64>,
    #[serde(default)]
    tool_default: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde(default)]
    max_step_percent: Option<S<String>>,
    #[serde(default)]
    max_step: Option<S<String>>,
    #[serde(default)]
    min_interval_days: Option<S<i64>>,
    #[serde(default)]
    min_total_days: Option<S<i64>>,
    #[serde(default)]
    tool_default: Vec<String>,
    #[serde(default)]
    source: Option<S<String>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlowBelow {
    dose: S<String>,
    interval_days: S<i64>,
    #[serde(default)]
    step: Option<S<String>>,
    #[serde(default)]
    tool_default: bool,
    #[serde(default)]
    source: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOccupancy {
    emax: S<String>,
    ed50: S<String>,
    source: S<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    key: S<String>,
    title: S<String>,
    #[serde(default)]
    year: Option<S<i64>>,
    #[serde(default)]
    url: Option<String>,
}

/// Problems of one kind reported in full per profile file; the rest of
/// that kind are counted in one closing line.
pub const MAX_PROBLEMS_PER_KIND: usize = 10;

/// Most accepted values named in one message: the closest ones, then how
/// many others there are.
pub const MAX_NAMES_SHOWN: usize = 5;

/// Characters of a value compared when looking for the closest accepted
/// name (string similarity costs the product of the lengths).
const SIMILARITY_CHARS: usize = 64;

/// Characters of a foreign value quoted in a message.
const QUOTED_CHARS: usize = 60;

/// At most `n` characters of `s` (then `…`), control characters escaped.
fn cut(s: &str, n: usize) -> String {
    let cut = match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    };
    crate::terminal::escape(&cut).into_owned()
}

/// Like [`quoted`] for longer text (a parser's message): at most 300
/// characters.
fn quoted_long(s: &str) -> String {
    cut(s, 300)
}

/// A foreign value as quoted in a message: at most [`QUOTED_CHARS`]
/// characters, control characters escaped.
fn quoted(s: &str) -> String {
    cut(s, QUOTED_CHARS)
}

/// The first [`SIMILARITY_CHARS`] characters of `s`.
fn similarity_prefix(s: &str) -> &str {
    s.char_indices()
        .nth(SIMILARITY_CHARS)
        .map_or(s, |(i, _)| &s[..i])
}

/// The `n` names most like `value` (Jaro-Winkler on their first
/// [`SIMILARITY_CHARS`] characters), best first, ties by name.
fn closest<'a>(
    value: &str,
    names: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<(f64, &'a str)> {
    let v = similarity_prefix(value);
    let mut best: Vec<(f64, &'a str)> = Vec::with_capacity(n + 1);
    for name in names {
        let score = strsim::jaro_winkler(v, similarity_prefix(name));
        let better = |o: &(f64, &str)| score > o.0 || (score == o.0 && name < o.1);
        if best.len() < n || best.last().is_some_and(better) {
            let at = best.iter().position(better).unwrap_or(best.len());
            best.insert(at, (score, name));
            best.truncate(n);
        }
    }
    best
}

/// `accepted` names for a message: all of them when there are at most
/// [`MAX_NAMES_SHOWN`], else the closest to `value` and how many others.
fn some_names<'a>(value: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.len() <= MAX_NAMES_SHOWN {
        return names
            .iter()
            .map(|n| quoted(n))
            .collect::<Vec<_>>()
            .join(", ");
    }
    let shown: Vec<String> = closest(value, names.iter().copied(), MAX_NAMES_SHOWN)
        .into_iter()
        .map(|(_, n)| quoted(n))
        .collect();
    format!(
        "{} and {} others",
        shown.join(", "),
        names.len() - shown.len()
    )
}

/// Byte offsets of line starts, for 1-based line and column of an offset
/// by binary search (the text is scanned once, not once per problem).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = text
            .get(start..offset)
            .map_or(offset - start, |l| l.chars().count());
        (line, col + 1)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(text, offset)
}

/// Collects located problems so `profiles check` can report them all, but
/// at most [`MAX_PROBLEMS_PER_KIND`] of each kind: a hostile file cannot
/// make the report, or the time to write it, grow with its problems.
struct Checker<'a> {
    file: String,
    text: &'a str,
    lines: Option<LineIndex>,
    problems: Vec<String>,
    /// Problems seen per kind, in the order kinds were first seen.
    kinds: Vec<(&'static str, usize)>,
}

impl<'a> Checker<'a> {
    fn new(file: &str, text: &'a str) -> Checker<'a> {
        Checker {
            file: crate::terminal::escape(file).into_owned(),
            text,
            lines: None,
            problems: Vec::new(),
            kinds: Vec::new(),
        }
    }

    /// Counts a problem of `kind`; true when it is to be reported in full.
    fn counts(&mut self, kind: &'static str) -> bool {
        let seen = match self.kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => n,
            None => {
                self.kinds.push((kind, 0));
                &mut self.kinds.last_mut().expect("just pushed").1
            }
        };
        *seen += 1;
        *seen <= MAX_PROBLEMS_PER_KIND
    }

    fn at(&mut self, kind: &'static str, offset: usize, message: impl AsRef<str>) {
        self.at_with(kind, offset, || message.as_ref().to_string());
    }

    /// Like [`Checker::at`], building the message only when it is shown
    /// (messages may compare a value with every accepted name).
    fn at_with(&mut self, kind: &'static str, offset: usize, message: impl FnOnce() -> String) {
        if !self.counts(kind) {
            return;
        }
        let text = self.text;
        let (line, col) = self
            .lines
            .get_or_insert_with(|| LineIndex::new(text))
            .line_col(text, offset);
        self.problems
            .push(format!("{}:{line}:{col}: {}", self.file, message()));
    }

    fn has_problems(&self) -> bool {
        !self.kinds.is_empty()
    }

    /// The reported problems, then one line per kind with more than
    /// [`MAX_PROBLEMS_PER_KIND`].
    fn finish(self) -> Vec<String> {
        let mut out = self.problems;
        for (kind, n) in self.kinds {
            if n > MAX_PROBLEMS_PER_KIND {
                out.push(format!(
                    "{}: … and {} more {kind} problems (only the first {MAX_PROBLEMS_PER_KIND} of each kind are shown)",
                    self.file,
                    n - MAX_PROBLEMS_PER_KIND
                ));
            }
        }
        out
    }

    fn positive_amount(&mut self, v: &S<String>, what: &'static str) -> Option<Dose> {
        match Dose::parse_decimal(v.get_ref()) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.at(what,
                    v.span().start,
                    format!("{what} must be greater than 0 (accepted: a positive decimal in quotes, e.g. \"10\" or \"2.5\")"),
                );
                None
            }
            Err(e) => {
                self.at(what,
                    v.span().start,
                    format!("{what} '{}' is not valid: {} (accepted: a positive decimal in quotes, e.g. \"10\" or \"2.5\")", quoted(v.get_ref()), quoted_long(&e.to_string())),
                );
                None
            }
        }
    }

    fn percent(&mut self, v: &S<String>, what: &'static str, allow_100: bool) -> Option<Percent> {
        let parsed = Dose::parse_decimal(v.get_ref());
        let limit = if allow_100 {
            100 * SCALE
        } else {
            100 * SCALE - 1
        };
        match parsed {
            Ok(d) if !d.is_zero() && d.micro() <= limit => Some(Percent(d)),
            _ => {
                let range = if allow_100 {
                    "0 < P <= 100"
                } else {
                    "0 < P < 100"
                };
                self.at(what,
                    v.span().start,
                    format!("{what} '{}' is not a valid percentage (accepted: a decimal in quotes, {range})", quoted(v.get_ref())),
                );
                None
            }
        }
    }

    fn days(&mut self, v: &S<i64>, what: &'static str) -> Option<u32> {
        let n = *v.get_ref();
        if (1..=3650).contains(&n) {
            Some(n as u32)
        } else {
            self.at(
                what,
                v.span().start,
                format!("{what} {n} is out of range (accepted: whole days from 1 to 3650)"),
            );
            None
        }
    }
}

// ---------------------------------------------------------------- text fields

/// Most characters in a short text field: names, keys, labels, groups,
/// slot names, the version, `tool_default` entries, amounts.
pub const MAX_NAME_CHARS: usize = 100;

/// Most characters in a prose field: [`PROSE_FIELDS`].
pub const MAX_TEXT_CHARS: usize = 2000;

/// Fields (the last part of a key path) holding prose, up to
/// [`MAX_TEXT_CHARS`]; every other text field is short
/// ([`MAX_NAME_CHARS`]), except a `schedule` ([`MAX_SCHEDULE_BYTES`]).
pub const PROSE_FIELDS: &[&str] = &[
    "advice",
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
fn check_text_fields(text: &str, c: &mut Checker) {
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
        Err(e) => {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            // The parser's message may quote the file's text (an unknown key).
            let msg = quoted_long(&e.message().replace('\n', " "));
            return Err(Error::InvalidProfile(vec![format!(
                "{}:{line}:{col}: {msg} (see the profile format in the README)",
                crate::terminal::escape(file)
            )]));
        }
    };
    let mut c = Checker::new(file, text);
    check_text_fields(text, &mut c);
    let profile = validate(raw, &mut c, origin);
    match profile {
        Some(p) if !c.has_problems() => Ok(p),
        _ => Err(Error::InvalidProfile(c.finish())),
    }
}

fn validate(raw: RawProfile, c: &mut Checker, origin: &str) -> Option<Profile> {
    let name = raw.name.get_ref().clone();
    check_identity(&raw, c);
    let dpd = *raw.doses_per_day.get_ref();
    let usual_max_daily = raw
        .usual_max_daily
        .as_ref()
        .and_then(|v| c.positive_amount(v, "usual_max_daily"));
    let keys = SourceKeys::of(&raw);
    keys.check(c, &raw.doses_per_day_source);
    keys.check(c, &raw.usual_max_daily_source);
    keys.check(c, &raw.max_pieces_source);
    let sources = validate_sources(&raw, &keys, c);
    let formulations = validate_formulations(&raw, &keys, c);
    let liquid_step_ml = match &raw.liquid_step_ml {
        Some(v) => c.positive_amount(v, "liquid_step_ml"),
        None => Some(Dose::from_micro(SCALE / 10)),
    };
    let occupancy = validate_occupancy(&raw, &keys, c);
    let default = validate_default(&raw, c);
    let limits = validate_limits(&raw, &keys, c);
    let slow_below = validate_slow_below(&raw, &keys, c);
    let ending = validate_ending(&raw, &keys, c);
    let doses = validate_doses(&raw, &keys, dpd, c);
    let max_pieces = match &raw.max_pieces {
        None => Some(DEFAULT_MAX_PIECES),
        Some(v) if (1..=12).contains(v.get_ref()) => Some(*v.get_ref() as u32),
        Some(v) => {
            c.at(
                "max_pieces",
                v.span().start,
                format!(
                    "max_pieces {} is out of range (accepted: 1 to 12)",
                    v.get_ref()
                ),
            );
            None
        }
    };
    let checkin_days = validate_checkins(&raw, c);
    Some(Profile {
        name,
        display_name: raw.display_name.get_ref().clone(),
        version: raw.version.get_ref().clone(),
        unit: raw.unit.get_ref().clone(),
        doses_per_day: dpd.clamp(1, 12) as u32,
        usual_max_daily,
        formulations,
        default: default?,
        limits: limits?,
        slow_below,
        occupancy,
        ending,
        doses,
        max_pieces: max_pieces?,
        max_pieces_tool_default: raw.max_pieces_source.is_none(),
        checkin_days,
        checkin_days_tool_default: raw.checkin_days_tool_default,
        liquid_step_ml: liquid_step_ml?,
        withdrawal_symptoms: raw.withdrawal_symptoms.get_ref().clone(),
        red_flags: raw.red_flags.get_ref().clone(),
        if_symptoms: raw
            .if_symptoms
            .clone()
            .unwrap_or_else(|| DEFAULT_IF_SYMPTOMS.to_string()),
        advice: raw.advice.clone(),
        cautions: raw.cautions.clone(),
        sources,
        origin: origin.to_string(),
    })
}

/// Name, display name, version, unit, doses a day, symptom lists.
fn check_identity(raw: &RawProfile, c: &mut Checker) {
    let name = raw.name.get_ref();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        c.at(
            "name",
            raw.name.span().start,
            format!(
                "name '{}' is not valid (accepted: lowercase letters, digits, '-' and '_')",
                quoted(name)
            ),
        );
    }
    for (field, v) in [
        ("display_name", &raw.display_name),
        ("version", &raw.version),
    ] {
        if v.get_ref().trim().is_empty() {
            c.at(field, v.span().start, format!("{field} must not be empty"));
        }
    }
    if raw.unit.get_ref() != "mg" {
        c.at(
            "unit",
            raw.unit.span().start,
            format!(
                "unit '{}' is not supported (accepted: \"mg\")",
                quoted(raw.unit.get_ref())
            ),
        );
    }
    let dpd = *raw.doses_per_day.get_ref();
    if !(1..=12).contains(&dpd) {
        c.at(
            "doses_per_day",
            raw.doses_per_day.span().start,
            format!("doses_per_day {dpd} is out of range (accepted: 1 to 12)"),
        );
    }
    for (field, list) in [
        ("withdrawal_symptoms", &raw.withdrawal_symptoms),
        ("red_flags", &raw.red_flags),
    ] {
        if list.get_ref().is_empty() || list.get_ref().iter().any(|s| s.trim().is_empty()) {
            c.at(
                field,
                list.span().start,
                format!("{field} must list at least one non-empty item"),
            );
        }
    }
}

/// The profile's `[[source]]` keys, for checking references to them.
/// Kept as a list (in file order, for messages) and a set (for lookups).
struct SourceKeys<'a> {
    list: Vec<&'a str>,
    set: HashSet<&'a str>,
}

impl<'a> SourceKeys<'a> {
    fn of(raw: &'a RawProfile) -> SourceKeys<'a> {
        let list: Vec<&str> = raw
            .source
            .get_ref()
            .iter()
            .map(|s| s.get_ref().key.get_ref().as_str())
            .collect();
        let set = list.iter().copied().collect();
        SourceKeys { list, set }
    }

    fn check(&self, c: &mut Checker, v: &Option<S<String>>) {
        if let Some(k) = v {
            if !self.set.contains(k.get_ref().as_str()) {
                c.at_with("source reference", k.span().start, || {
                    format!(
                        "source '{}' is not in this profile's [[source]] list (accepted: {})",
                        quoted(k.get_ref()),
                        some_names(k.get_ref(), self.list.iter().copied())
                    )
                });
            }
        }
    }
}

fn validate_sources(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Vec<Source> {
    let mut sources = Vec::new();
    if raw.source.get_ref().is_empty() {
        c.at(
            "[[source]]",
            raw.source.span().start,
            "a profile needs at least one [[source]]",
        );
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(keys.list.len());
    for s in raw.source.get_ref() {
        let s = s.get_ref();
        if s.key.get_ref().trim().is_empty() || s.title.get_ref().trim().is_empty() {
            c.at(
                "[[source]]",
                s.key.span().start,
                "a source needs a non-empty key and title",
            );
        }
        if !seen.insert(s.key.get_ref()) {
            c.at_with("duplicate source key", s.key.span().start, || {
                format!("source key '{}' is used twice", quoted(s.key.get_ref()))
            });
        }
        let year = match &s.year {
            Some(y) if (1900..=2100).contains(y.get_ref()) => Some(*y.get_ref() as u16),
            Some(y) => {
                c.at(
                    "source year",
                    y.span().start,
                    format!(
                        "year {} is out of range (accepted: 1900 to 2100)",
                        y.get_ref()
                    ),
                );
                None
            }
            None => None,
        };
        sources.push(Source {
            key: s.key.get_ref().clone(),
            title: s.title.get_ref().clone(),
            year,
            url: s.url.clone(),
        });
    }
    sources
}

fn validate_formulations(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Vec<Formulation> {
    let mut formulations: Vec<Formulation> = Vec::new();
    // What makes two products the same: form, amount, release.
    let mut seen: HashSet<(Form, Option<Dose>, Option<Dose>, bool)> = HashSet::new();
    if raw.formulation.get_ref().is_empty() {
        c.at(
            "[[formulation]]",
            raw.formulation.span().start,
            "a profile needs at least one [[formulation]]",
        );
    }
    for f in raw.formulation.get_ref() {
        let form = *f.form.get_ref();
        let at = f.form.span().start;
        keys.check(c, &f.source);
        let split = f.split.as_ref().map_or(Split::None, |s| *s.get_ref());
        let (strength, concentration) = match form {
            Form::Liquid => (None, liquid_concentration(f, split, c)),
            Form::Tablet | Form::Capsule => (solid_strength(f, form, split, c), None),
        };
        if let Some(s) = strength {
            if s.micro() % split.parts() != 0 {
                c.at(
                    "split strength",
                    at,
                    format!("strength {s} cannot be split into exact {split:?}"),
                );
            }
        }
        if !seen.insert((form, strength, concentration, f.modified_release)) {
            c.at(
                "duplicate formulation",
                at,
                "this formulation is listed twice",
            );
        }
        if f.group.as_deref().is_some_and(|g| g.trim().is_empty()) {
            c.at(
                "group",
                at,
                "group must not be empty (accepted: a name such as \"capsules\")",
            );
        }
        formulations.push(Formulation {
            form,
            strength,
            concentration,
            split,
            modified_release: f.modified_release,
            restricted: f.restricted,
            label: f.label.clone(),
            note: f.note.clone(),
            instructions: f.instructions.clone(),
            group: f.group.clone(),
            source: f.source.as_ref().map(|s| s.get_ref().clone()),
        });
    }
    if !raw.formulation.get_ref().is_empty()
        && formulations
            .iter()
            .all(|f| f.restricted || f.modified_release)
    {
        c.at(
            "[[formulation]]",
            raw.formulation.span().start,
            "at least one formulation must be immediate-release and not restricted",
        );
    }
    formulations
}

fn liquid_concentration(f: &RawFormulation, split: Split, c: &mut Checker) -> Option<Dose> {
    let at = f.form.span().start;
    if f.strength.is_some() {
        c.at(
            "liquid",
            at,
            "a liquid has a concentration (mg per mL), not a strength",
        );
    }
    if split != Split::None {
        c.at(
            "liquid",
            at,
            "a liquid cannot be split (accepted: split = \"none\" or no split)",
        );
    }
    match &f.concentration {
        Some(v) => c.positive_amount(v, "concentration"),
        None => {
            c.at(
                "liquid",
                at,
                "a liquid needs concentration = \"mg per mL\", e.g. \"1\"",
            );
            None
        }
    }
}

fn solid_strength(f: &RawFormulation, form: Form, split: Split, c: &mut Checker) -> Option<Dose> {
    let at = f.form.span().start;
    if f.concentration.is_some() {
        c.at(
            "solid",
            at,
            "a tablet or capsule has a strength, not a concentration",
        );
    }
    if split != Split::None && (form == Form::Capsule || f.modified_release) {
        c.at("split",
            f.split.as_ref().map_or(at, |s| s.span().start),
            "capsules and modified-release products must never be split (accepted: split = \"none\")",
        );
    }
    match &f.strength {
        Some(v) => c.positive_amount(v, "strength"),
        None => {
            c.at(
                "solid",
                at,
                "a tablet or capsule needs strength = \"mg\", e.g. \"10\"",
            );
            None
        }
    }
}

fn validate_occupancy(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Option<Occupancy> {
    let o = raw.occupancy.as_ref()?.get_ref();
    keys.check(c, &Some(o.source.clone()));
    let emax = c.percent(&o.emax, "occupancy emax", true);
    let ed50 = c.positive_amount(&o.ed50, "occupancy ed50");
    Some(Occupancy {
        emax: emax?,
        ed50: ed50?,
        source: o.source.get_ref().clone(),
        note: o.note.clone(),
    })
}

/// Checks that every name in a `tool_default` list is a field of its table.
fn check_tool_defaults(c: &mut Checker, at: usize, names: &[String], fields: &[&str]) {
    for t in names {
        if !fields.contains(&t.as_str()) {
            c.at(
                "tool_default",
                at,
                format!(
                    "tool_default names unknown field '{}' (accepted: {})",
                    quoted(t),
                    fields.join(", ")
                ),
            );
        }
    }
}

fn validate_default(raw: &RawProfile, c: &mut Checker) -> Option<DefaultPlan> {
    let d = raw.default.get_ref();
    let strategy = *d.strategy.get_ref();
    let step = d
        .step
        .as_ref()
        .and_then(|v| c.positive_amount(v, "default step"));
    let percent = d
        .percent
        .as_ref()
        .and_then(|v| c.percent(v, "default percent", false));
    let occupancy_step = d
        .occupancy_step
        .as_ref()
        .and_then(|v| c.percent(v, "default occupancy_step", false));
    let schedule = d
        .schedule
        .as_ref()
        .and_then(|v| match parse_schedule(v.get_ref()) {
            Ok(s) => Some(s),
            Err(e) => {
                c.at("schedule", v.span().start, e);
                None
            }
        });
    let interval_days = c.days(&d.interval_days, "default interval_days");
    let sat = d.strategy.span().start;
    match strategy {
        StrategyKind::Linear if d.step.is_none() => {
            c.at("strategy", sat, "strategy \"linear\" needs step = \"mg per step\"")
        }
        StrategyKind::Percent if d.percent.is_none() => {
            c.at("strategy", sat, "strategy \"percent\" needs percent = \"P\"")
        }
        StrategyKind::Hyperbolic if d.occupancy_step.is_none() => c.at("strategy",
            sat,
            "strategy \"hyperbolic\" needs occupancy_step = \"percentage points\"",
        ),
        StrategyKind::Hyperbolic if raw.occupancy.is_none() => c.at("strategy",
            sat,
            "strategy \"hyperbolic\" needs a sourced [occupancy] model (accepted strategies without one: linear, percent, custom)",
        ),
        StrategyKind::Custom if d.schedule.is_none() => {
            c.at("strategy", sat, "strategy \"custom\" needs schedule = \"DOSExDAYS,...\"")
        }
        _ => {}
    }
    if d.occupancy_step.is_some() && raw.occupancy.is_none() {
        c.at(
            "occupancy_step",
            d.occupancy_step.as_ref().map_or(sat, |v| v.span().start),
            "occupancy_step needs a sourced [occupancy] model",
        );
    }
    check_tool_defaults(
        c,
        raw.default.span().start,
        &d.tool_default,
        &[
            "strategy",
            "step",
            "percent",
            "occupancy_step",
            "schedule",
            "interval_days",
        ],
    );
    Some(DefaultPlan {
        strategy,
        step,
        percent,
        occupancy_step,
        schedule,
        interval_days: interval_days?,
        tool_default: d.tool_default.clone(),
        note: d.note.clone(),
    })
}

fn validate_limits(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Option<Limits> {
    let Some(l) = &raw.limits else {
        return Some(Limits::default());
    };
    let at = l.span().start;
    let l = l.get_ref();
    keys.check(c, &l.source);
    check_tool_defaults(
        c,
        at,
        &l.tool_default,
        &[
            "max_step_percent",
            "max_step",
            "min_interval_days",
            "min_total_days",
        ],
    );
    Some(Limits {
        max_step_percent: l
            .max_step_percent
            .as_ref()
            .and_then(|v| c.percent(v, "max_step_percent", true)),
        max_step: l
            .max_step
            .as_ref()
            .and_then(|v| c.positive_amount(v, "max_step")),
        min_interval_days: l
            .min_interval_days
            .as_ref()
            .and_then(|v| c.days(v, "min_interval_days")),
        min_total_days: l
            .min_total_days
            .as_ref()
            .and_then(|v| c.days(v, "min_total_days")),
        tool_default: l.tool_default.clone(),
        source: l.source.as_ref().map(|s| s.get_ref().clone()),
        note: l.note.clone(),
    })
}

fn validate_slow_below(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Vec<SlowBelow> {
    let mut slow_below = Vec::new();
    for s in &raw.slow_below {
        let s = s.get_ref();
        keys.check(c, &s.source);
        if s.source.is_none() && !s.tool_default {
            c.at(
                "[[slow_below]]",
                s.dose.span().start,
                "a [[slow_below]] rule needs a source key or tool_default = true",
            );
        }
        let dose = c.positive_amount(&s.dose, "slow_below dose");
        let days = c.days(&s.interval_days, "slow_below interval_days");
        let step = s
            .step
            .as_ref()
            .map(|v| c.positive_amount(v, "slow_below step"));
        if let (Some(dose), Some(interval_days), None | Some(Some(_))) = (dose, days, step) {
            slow_below.push(SlowBelow {
                dose,
                interval_days,
                step: step.flatten(),
                tool_default: s.tool_default,
                source: s.source.as_ref().map(|k| k.get_ref().clone()),
            });
        }
    }
    slow_below
}

fn validate_ending(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Option<Ending> {
    let e = raw.ending.as_ref()?;
    let at = e.span().start;
    let e = e.get_ref();
    keys.check(c, &e.source);
    check_tool_defaults(
        c,
        at,
        &e.tool_default,
        &[
            "min_step",
            "stop_from",
            "final_hold_days",
            "final_doses_per_day",
        ],
    );
    if e.source.is_none() && e.tool_default.is_empty() {
        c.at(
            "[ending]",
            at,
            "[ending] needs a source key or a tool_default list naming the fields no source gives",
        );
    }
    let min_step = c.positive_amount(&e.min_step, "ending min_step");
    let stop_from = c.positive_amount(&e.stop_from, "ending stop_from");
    let final_hold_days = e
        .final_hold_days
        .as_ref()
        .map(|v| c.days(v, "ending final_hold_days"));
    let final_doses_per_day = match &e.final_doses_per_day {
        None => Some(None),
        Some(v) if (1..=12).contains(v.get_ref()) => Some(Some(*v.get_ref() as u32)),
        Some(v) => {
            c.at(
                "final_doses_per_day",
                v.span().start,
                format!(
                    "final_doses_per_day {} is out of range (accepted: 1 to 12)",
                    v.get_ref()
                ),
            );
            None
        }
    };
    Some(Ending {
        min_step: min_step?,
        stop_from: stop_from?,
        final_hold_days: match final_hold_days {
            None => None,
            Some(d) => Some(d?),
        },
        final_doses_per_day: final_doses_per_day?,
        tool_default: e.tool_default.clone(),
        source: e.source.as_ref().map(|s| s.get_ref().clone()),
        note: e.note.clone(),
    })
}

fn validate_doses(raw: &RawProfile, keys: &SourceKeys, dpd: i64, c: &mut Checker) -> DoseSlots {
    let Some(d) = &raw.doses else {
        return DoseSlots::default();
    };
    let at = d.span().start;
    let d = d.get_ref();
    keys.check(c, &d.source);
    check_tool_defaults(
        c,
        at,
        &d.tool_default,
        &["slots", "drop_order", "max_gap_hours"],
    );
    let slots = d
        .slots
        .as_ref()
        .map_or_else(Vec::new, |s| s.get_ref().clone());
    if let Some(s) = &d.slots {
        let mut seen: HashSet<&str> = HashSet::new();
        for name in s.get_ref() {
            if !seen.insert(name) || name.trim().is_empty() {
                c.at_with("slot name", s.span().start, || {
                    format!("slot name '{}' is empty or repeated (accepted: distinct names such as \"morning\", \"evening\")", quoted(name))
                });
            }
        }
        if s.get_ref().len() as i64 != dpd {
            c.at("slots",
                s.span().start,
                format!(
                    "slots names {} administrations but doses_per_day is {dpd} (accepted: one name per dose)",
                    s.get_ref().len()
                ),
            );
        }
    }
    let drop_order = d
        .drop_order
        .as_ref()
        .map_or_else(Vec::new, |s| s.get_ref().clone());
    if let Some(o) = &d.drop_order {
        let slot_set: HashSet<&str> = slots.iter().map(String::as_str).collect();
        for name in o.get_ref() {
            if !slot_set.contains(name.as_str()) {
                c.at_with("drop_order", o.span().start, || {
                    format!(
                        "drop_order names '{}', which is not a slot (accepted: {})",
                        quoted(name),
                        some_names(name, slots.iter().map(String::as_str))
                    )
                });
            }
        }
    }
    let max_gap_hours = match &d.max_gap_hours {
        Some(v) if (1..=24).contains(v.get_ref()) => Some(*v.get_ref() as u32),
        Some(v) => {
            c.at(
                "max_gap_hours",
                v.span().start,
                format!(
                    "max_gap_hours {} is out of range (accepted: 1 to 24)",
                    v.get_ref()
                ),
            );
            None
        }
        None => None,
    };
    DoseSlots {
        slots,
        drop_order,
        max_gap_hours,
        tool_default: d.tool_default.clone(),
        source: d.source.as_ref().map(|s| s.get_ref().clone()),
        note: d.note.clone(),
    }
}

fn validate_checkins(raw: &RawProfile, c: &mut Checker) -> Vec<u32> {
    let Some(v) = &raw.checkin_days else {
        return vec![3];
    };
    let mut out = Vec::new();
    for &n in v.get_ref() {
        if (1..=365).contains(&n) {
            out.push(n as u32);
        } else {
            c.at(
                "checkin_days",
                v.span().start,
                format!("check-in day {n} is out of range (accepted: days 1 to 365 after a step)"),
            );
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Most entries in a custom schedule (`--schedule`, a batch row's
/// `schedule` or a profile's `schedule`), counted before parsing.
pub const MAX_SCHEDULE_ENTRIES: usize = 500;

/// Longest schedule text, in bytes, checked before it is split.
pub const MAX_SCHEDULE_BYTES: usize = 16 * 1024;

/// Parses a custom schedule `40x7,30x7,20x2w`: dose (mg, mcg or bare) × days.
/// Only the syntax is checked here; the plan checks that it falls.
pub fn parse_schedule(text: &str) -> Result<Vec<(Dose, u32)>, String> {
    let accepted = "accepted: comma-separated DOSExDAYS entries, e.g. \"40x7,30x7,20x14\"";
    if text.trim().is_empty() {
        return Err(format!("schedule is empty ({accepted})"));
    }
    // Bounded before anything is split, parsed or quoted.
    if text.len() > MAX_SCHEDULE_BYTES {
        return Err(format!(
            "schedule is {} bytes long (accepted: at most {MAX_SCHEDULE_BYTES} bytes and {MAX_SCHEDULE_ENTRIES} entries)",
            text.len()
        ));
    }
    let entries = text.bytes().filter(|&b| b == b',').count() + 1;
    if entries > MAX_SCHEDULE_ENTRIES {
        return Err(format!(
            "schedule has {entries} entries (accepted: at most {MAX_SCHEDULE_ENTRIES})"
        ));
    }
    let mut out = Vec::with_capacity(entries);
    for entry in text.split(',') {
        let trimmed = entry.trim();
        let e = quoted(trimmed);
        let e = e.as_str();
        let Some((dose, days)) = trimmed.rsplit_once(['x', 'X', '×']) else {
            return Err(format!(
                "schedule entry '{e}' is not DOSExDAYS ({accepted})"
            ));
        };
        let amount = TypedAmount::parse(dose).map_err(|m| format!("schedule entry '{e}': {m}"))?;
        let mg = match amount.to_mg() {
            Ok(Some(mg)) => mg,
            Ok(None) => {
                return Err(format!(
                    "schedule entry '{e}': doses must be given in mg or mcg ({accepted})"
                ))
            }
            Err(m) => return Err(format!("schedule entry '{e}': {m}")),
        };
        let days =
            crate::dose::parse_interval(days).map_err(|m| format!("schedule entry '{e}': {m}"))?;
        out.push((mg, days));
    }
    Ok(out)
}

// ---------------------------------------------------------------- finding

/// Where user profiles are looked for, highest precedence first.
#[derive(Clone, Debug, Default)]
pub struct ProfileDirs {
    pub dirs: Vec<PathBuf>,
}

impl ProfileDirs {
    /// `--profiles-dir` first, then each directory in `$TAPER_PROFILES`
    /// (a path list like `$PATH`). The caller passes the environment in so
    /// that the library reads no globals.
    pub fn new(flag: Option<PathBuf>, env: Option<std::ffi::OsString>) -> ProfileDirs {
        let mut dirs = Vec::new();
        dirs.extend(flag);
        if let Some(v) = env {
            dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
        }
        ProfileDirs { dirs }
    }
}

/// A profile argument is a path when it contains `/` (or `\`) or ends in
/// `.toml`; otherwise it is a name that never leaves the profile directories.
pub fn looks_like_path(arg: &str) -> bool {
    arg.contains('/') || arg.contains('\\') || arg.to_ascii_lowercase().ends_with(".toml")
}

/// Loads a profile by name or path.
pub fn load(arg: &str, dirs: &ProfileDirs) -> Result<Profile, Error> {
    find(arg, dirs).map(|f| f.profile)
}

/// A profile found by name or path, and whether a user file replaced the
/// built-in profile of that name.
#[derive(Clone, Debug)]
pub struct Found {
    pub profile: Profile,
    /// The user profile file (from `--profiles-dir` or `$TAPER_PROFILES`)
    /// found instead of the built-in profile of the same name. `None` for
    /// built-ins, user profiles with names of their own, and paths.
    pub shadows_builtin: Option<PathBuf>,
}

impl Found {
    /// One line for stderr when a user file replaced a built-in profile,
    /// without a `note: ` prefix.
    pub fn shadow_note(&self) -> Option<String> {
        self.shadows_builtin.as_ref().map(|path| {
            format!(
                "the user profile {} replaces the built-in profile '{}'",
                crate::terminal::escape(&path.display().to_string()),
                self.profile.name
            )
        })
    }
}

/// Like [`load`], also telling whether a user file shadows a built-in.
/// A name is looked up file by file (no folder is listed); only a name
/// that is not found lists the folders, once, for the error message.
pub fn find(arg: &str, dirs: &ProfileDirs) -> Result<Found, Error> {
    if looks_like_path(arg) {
        return found_path(arg);
    }
    let name = normalized(arg);
    if valid_name(&name) {
        for dir in &dirs.dirs {
            if let Some(path) = probe(dir, &name) {
                return found_user(path, &name);
            }
        }
        if let Some(p) = builtin(&name) {
            return p.map(|profile| Found {
                profile,
                shadows_builtin: None,
            });
        }
    }
    Err(ProfileCatalog::scan(dirs).unknown(arg, &name))
}

fn found_path(arg: &str) -> Result<Found, Error> {
    load_file(Path::new(arg)).map(|profile| Found {
        profile,
        shadows_builtin: None,
    })
}

fn found_user(path: PathBuf, name: &str) -> Result<Found, Error> {
    let profile = load_named_file(&path, name)?;
    let shadows_builtin = is_builtin(name).then_some(path);
    Ok(Found {
        profile,
        shadows_builtin,
    })
}

fn normalized(arg: &str) -> String {
    arg.trim().to_ascii_lowercase()
}

/// Names never leave the profile folders: no separators, no dots.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_builtin(name: &str) -> bool {
    BUILTIN_PROFILES.iter().any(|(n, _)| *n == name)
}

fn builtin(name: &str) -> Option<Result<Profile, Error>> {
    BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| parse_profile(text, &format!("<built-in>/{name}.toml"), "built-in"))
}

/// `<dir>/<name>.toml` when it is a regular file. Only its metadata is
/// read: a FIFO or device of that name is passed over, never opened.
fn probe(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = dir.join(format!("{name}.toml"));
    std::fs::metadata(&path)
        .is_ok_and(|m| m.is_file())
        .then_some(path)
}

/// Reads and validates a profile file.
pub fn load_file(path: &Path) -> Result<Profile, Error> {
    let text = read_profile_text(path)?;
    parse_profile(
        &text,
        &path.display().to_string(),
        &path.display().to_string(),
    )
}

/// What a path is when it is not a regular file, for messages.
fn file_kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, t: std::fs::FileType) -> Error {
    Error::ProfileRead {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: format!(
            "it is {}, not a regular file (accepted: a regular .toml file; devices, FIFOs and directories are refused without being read)",
            file_kind(t)
        ),
    }
}

fn too_large(path: &Path, size: Option<u64>, limit: u64) -> Error {
    let size = size.map_or_else(
        || "more than".to_string(),
        |n| format!("{n} bytes, more than"),
    );
    Error::ProfileRead {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: format!(
            "the file is {size} the limit of {limit} bytes{} for a profile",
            if limit == MAX_PROFILE_BYTES {
                " (1 MiB)"
            } else {
                ""
            }
        ),
    }
}

/// Reads a profile file's text, refusing anything but a regular file of at
/// most [`MAX_PROFILE_BYTES`].
///
/// The path's metadata is checked *before* it is opened: opening a FIFO
/// for reading blocks until a writer appears, and a device such as
/// `/dev/zero` never ends, so neither may be opened at all. (Opening with
/// `O_NONBLOCK` and checking with `fstat` would also close the window
/// between the check and the open, but needs the `libc` crate; the opened
/// file is checked again, and read through a bounded reader, so a file
/// swapped in after the check can at worst block, never exhaust memory.)
pub fn read_profile_text(path: &Path) -> Result<String, Error> {
    let read_err = |e: std::io::Error| Error::ProfileRead {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    if meta.len() > MAX_PROFILE_BYTES {
        return Err(too_large(path, Some(meta.len()), MAX_PROFILE_BYTES));
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    read_limited(file, path, MAX_PROFILE_BYTES)
}

/// Reads at most `limit` bytes of UTF-8 text; more is an error, and no
/// more than `limit + 1` bytes are ever read (files in `/proc` report size
/// 0, and a file may grow while it is read).
fn read_limited(r: impl std::io::Read, path: &Path, limit: u64) -> Result<String, Error> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::ProfileRead {
            path: crate::terminal::escape(&path.display().to_string()).into_owned(),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, None, limit));
    }
    String::from_utf8(bytes).map_err(|e| Error::ProfileRead {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// Loads `<dir>/<name>.toml`, whose `name` must be `<name>`: a plan's
/// provenance must name the profile the user asked for.
fn load_named_file(path: &Path, name: &str) -> Result<Profile, Error> {
    let text = read_profile_text(path)?;
    let shown = path.display().to_string();
    let p = parse_profile(&text, &shown, &shown)?;
    if p.name != name {
        let (line, col) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with("name") && l.contains('='))
            .map_or((1, 1), |(i, l)| (i + 1, l.find('"').map_or(1, |c| c + 1)));
        return Err(Error::InvalidProfile(vec![format!(
            "{}:{line}:{col}: name '{}' does not match the file name (accepted: name = \"{name}\" in {name}.toml)",
            crate::terminal::escape(&shown),
            quoted(&p.name)
        )]));
    }
    Ok(p)
}

/// Most user profile files indexed over all profile folders, in
/// precedence order and by name within a folder: what `taper profiles`
/// lists and what an unknown name is compared with. Files beyond it are
/// still found by their exact name.
pub const MAX_USER_PROFILES: usize = 1000;

/// Most entries read from one profile folder.
pub const MAX_DIR_ENTRIES: usize = 100_000;

/// Most profile names listed in an unknown-profile error: all of them up
/// to this many, else the closest ones and how many others there are.
pub const MAX_KNOWN_PROFILES_SHOWN: usize = 10;

/// The profile folders, read once: resolves many names (a batch) without
/// reading a folder again, and lists them.
#[derive(Clone, Debug)]
pub struct ProfileCatalog {
    dirs: Vec<DirIndex>,
    /// Built-in and indexed user profile names, sorted, deduplicated.
    names: Vec<String>,
    skipped: Vec<Skipped>,
}

#[derive(Clone, Debug)]
struct DirIndex {
    dir: PathBuf,
    /// `(name, path)` of each regular `*.toml` file, sorted.
    files: Vec<(String, PathBuf)>,
    /// `<name>.toml` files by name: what a lookup by name opens.
    exact: HashMap<String, PathBuf>,
    /// False when not every entry was read or indexed (an unreadable
    /// folder, more entries than the limits): names then not indexed are
    /// looked up on disk.
    complete: bool,
}

impl DirIndex {
    fn lookup(&self, name: &str) -> Option<PathBuf> {
        match self.exact.get(name) {
            Some(p) => Some(p.clone()),
            None if !self.complete => probe(&self.dir, name),
            None => None,
        }
    }
}

/// A profile folder entry that was not indexed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The entry, or the folder when it was not read in full.
    pub path: PathBuf,
    pub reason: String,
}

impl ProfileCatalog {
    /// Reads each profile folder once, looking at entries' types only: no
    /// file is opened, so a FIFO or device named `*.toml` is skipped (and
    /// reported by [`ProfileCatalog::skipped`]), never read.
    pub fn scan(dirs: &ProfileDirs) -> ProfileCatalog {
        let mut budget = MAX_USER_PROFILES;
        let mut skipped = Vec::new();
        let mut indexes = Vec::new();
        for dir in &dirs.dirs {
            let index = scan_dir(dir, budget, &mut skipped);
            budget -= index.files.len();
            indexes.push(index);
        }
        let mut names: Vec<String> = BUILTIN_PROFILES
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(
                indexes
                    .iter()
                    .flat_map(|d| d.files.iter().map(|(n, _)| n.clone())),
            )
            .collect();
        names.sort();
        names.dedup();
        ProfileCatalog {
            dirs: indexes,
            names,
            skipped,
        }
    }

    /// Built-in and user profile names, sorted (at most
    /// [`MAX_USER_PROFILES`] user ones).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Entries passed over: non-regular `*.toml` entries (FIFOs, devices,
    /// directories, broken links) and folders not read in full.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Indexed user profile files `(name, path)`, in precedence order.
    pub fn user_files(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.dirs
            .iter()
            .flat_map(|d| d.files.iter().map(|(n, p)| (n.as_str(), p.as_path())))
    }

    /// Indexed user files that replace a built-in profile of the same
    /// name (the file that wins, once per name), for a note on stderr.
    pub fn shadowed_builtins(&self) -> Vec<(&str, &Path)> {
        let mut seen = HashSet::new();
        self.user_files()
            .filter(|(name, _)| is_builtin(name) && seen.insert(*name))
            .collect()
    }

    /// Loads a profile by name or path, as [`load`] does.
    pub fn load(&self, arg: &str) -> Result<Profile, Error> {
        self.find(arg).map(|f| f.profile)
    }

    /// Loads a profile by name or path, as [`find`] does, without reading
    /// any folder again.
    pub fn find(&self, arg: &str) -> Result<Found, Error> {
        if looks_like_path(arg) {
            return found_path(arg);
        }
        let name = normalized(arg);
        if valid_name(&name) {
            for d in &self.dirs {
                if let Some(path) = d.lookup(&name) {
                    return found_user(path, &name);
                }
            }
            if let Some(p) = builtin(&name) {
                return p.map(|profile| Found {
                    profile,
                    shadows_builtin: None,
                });
            }
        }
        Err(self.unknown(arg, &name))
    }

    /// The error for a name that is not found: the closest known names
    /// (all of them when there are few) and a suggestion when one is close.
    fn unknown(&self, arg: &str, name: &str) -> Error {
        let close = closest(
            name,
            self.names.iter().map(String::as_str),
            MAX_KNOWN_PROFILES_SHOWN,
        );
        let suggestion = close
            .first()
            .filter(|(score, _)| *score > 0.8)
            .map(|(_, n)| n.to_string());
        let known = if self.names.len() <= MAX_KNOWN_PROFILES_SHOWN {
            self.names.clone()
        } else {
            let mut shown: Vec<String> = close.iter().map(|(_, n)| n.to_string()).collect();
            shown.sort();
            shown
        };
        Error::UnknownProfile {
            name: quoted(arg),
            more: self.names.len() - known.len(),
            known,
            suggestion,
        }
    }

    /// Lists built-in and user profiles; a user profile shadows a built-in
    /// one. Skipped entries are listed as such.
    pub fn list(&self) -> Vec<Listing> {
        let mut out: Vec<Listing> = Vec::new();
        let mut claimed: HashSet<&str> = HashSet::new();
        for (name, path) in self.user_files() {
            if !claimed.insert(name) {
                continue;
            }
            let shadows_builtin = is_builtin(name);
            let origin = path.display().to_string();
            out.push(match load_named_file(path, name) {
                Ok(p) => Listing {
                    name: name.to_string(),
                    display_name: p.display_name,
                    version: p.version,
                    origin,
                    problem: None,
                    shadows_builtin,
                    skipped: false,
                },
                Err(e) => Listing {
                    name: name.to_string(),
                    display_name: String::new(),
                    version: String::new(),
                    origin,
                    problem: Some(e.to_string()),
                    shadows_builtin,
                    skipped: false,
                },
            });
        }
        for (name, text) in BUILTIN_PROFILES {
            if claimed.contains(name) {
                continue;
            }
            let listing = match parse_profile(text, name, "built-in") {
                Ok(p) => Listing {
                    name: name.to_string(),
                    display_name: p.display_name,
                    version: p.version,
                    origin: "built-in".into(),
                    problem: None,
                    shadows_builtin: false,
                    skipped: false,
                },
                Err(e) => Listing {
                    name: name.to_string(),
                    display_name: String::new(),
                    version: String::new(),
                    origin: "built-in".into(),
                    problem: Some(e.to_string()),
                    shadows_builtin: false,
                    skipped: false,
                },
            };
            out.push(listing);
        }
        for s in &self.skipped {
            let name = match s.path.extension() {
                Some(x) if x == "toml" => s
                    .path
                    .file_stem()
                    .map_or_else(String::new, |n| n.to_string_lossy().to_ascii_lowercase()),
                _ => "…".to_string(),
            };
            out.push(Listing {
                name,
                display_name: String::new(),
                version: String::new(),
                origin: s.path.display().to_string(),
                problem: Some(format!("{}: {}", s.path.display(), s.reason)),
                shadows_builtin: false,
                skipped: true,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// Indexes one folder's regular `*.toml` files, at most `budget` of them.
fn scan_dir(dir: &Path, budget: usize, skipped: &mut Vec<Skipped>) -> DirIndex {
    let mut index = DirIndex {
        dir: dir.to_path_buf(),
        files: Vec::new(),
        exact: HashMap::new(),
        complete: true,
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        // Missing or unreadable: names are looked up on disk, as before.
        index.complete = false;
        return index;
    };
    for (read, entry) in entries.enumerate() {
        if read == MAX_DIR_ENTRIES {
            index.complete = false;
            skipped.push(Skipped {
                path: dir.to_path_buf(),
                reason: format!(
                    "more than {MAX_DIR_ENTRIES} entries: only the first {MAX_DIR_ENTRIES} read were considered"
                ),
            });
            break;
        }
        let Ok(entry) = entry else {
            index.complete = false;
            continue;
        };
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let stem = stem.to_ascii_lowercase();
        // The entry's type, following a link with stat; never an open.
        let kind = match entry.file_type() {
            Ok(t) if t.is_symlink() => std::fs::metadata(&path).map(|m| m.file_type()),
            other => other,
        };
        match kind {
            Ok(t) if t.is_file() => index.files.push((stem, path)),
            Ok(t) => skipped.push(Skipped {
                reason: format!("it is {}, not a regular file: not read", file_kind(t)),
                path,
            }),
            Err(e) => skipped.push(Skipped {
                reason: format!("cannot be read: {e}"),
                path,
            }),
        }
    }
    index.files.sort();
    if index.files.len() > budget {
        skipped.push(Skipped {
            path: dir.to_path_buf(),
            reason: format!(
                "{} profile files: only the first {budget} by name are listed (at most {MAX_USER_PROFILES} over all profile folders; others are found by exact name)",
                index.files.len()
            ),
        });
        index.files.truncate(budget);
        index.complete = false;
    }
    for (name, path) in &index.files {
        if path.file_name().and_then(|f| f.to_str()) == Some(&format!("{name}.toml")) {
            index
                .exact
                .entry(name.clone())
                .or_insert_with(|| path.clone());
        }
    }
    index
}

/// Every profile name: built-in and user, deduplicated, sorted (at most
/// [`MAX_USER_PROFILES`] user ones).
pub fn all_names(dirs: &ProfileDirs) -> Vec<String> {
    ProfileCatalog::scan(dirs).names
}

/// User profile files (`<dir>/<name>.toml`) in precedence order (at most
/// [`MAX_USER_PROFILES`]; non-regular entries are left out).
pub fn user_files(dirs: &ProfileDirs) -> Vec<(String, PathBuf)> {
    ProfileCatalog::scan(dirs)
        .user_files()
        .map(|(n, p)| (n.to_string(), p.to_path_buf()))
        .collect()
}

/// One row of `taper profiles`.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub name: String,
    pub display_name: String,
    pub version: String,
    pub origin: String,
    /// Set when the profile could not be loaded, or why it was skipped.
    pub problem: Option<String>,
    /// Built-in profiles hidden by a user profile of the same name.
    pub shadows_builtin: bool,
    /// A folder entry that was not read (not a regular file), or a folder
    /// not read in full.
    pub skipped: bool,
}

/// Lists built-in and user profiles; a user profile shadows a built-in one.
pub fn list(dirs: &ProfileDirs) -> Vec<Listing> {
    ProfileCatalog::scan(dirs).list()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn schedules_parse() {
        let s = parse_schedule("40x7, 30 x 1w,2.5mgx14,500mcgx2w").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s[1].1, 7);
        assert_eq!(s[3].0, Dose::parse_decimal("0.5").unwrap());
        for bad in [
            "",
            "40",
            "40x",
            "x7",
            "40x0",
            "-5x7",
            "40x7,,30x7",
            "4 kgx7",
        ] {
            assert!(parse_schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_stop_at_the_limit() {
        // An endless reader (what /dev/zero is) stops one byte past the limit.
        let err = read_limited(std::io::repeat(0), Path::new("/dev/zero"), 1000)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cannot read profile /dev/zero: the file is more than the limit of 1000 bytes for a profile"
        );
        let ok = read_limited(&b"name = 1"[..], Path::new("x"), 8).unwrap();
        assert_eq!(ok, "name = 1");
        let err = read_limited(&b"ab\xffc"[..], Path::new("x"), 8)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not UTF-8 text (invalid byte at offset 2)"),
            "{err}"
        );
    }

    #[test]
    fn names_and_paths() {
        assert!(looks_like_path("./x"));
        assert!(looks_like_path("my.TOML"));
        assert!(!looks_like_path("baclofen"));
        let dirs = ProfileDirs::default();
        let err = load("baclofn", &dirs).unwrap_err();
        assert!(err.to_string().contains("did you mean 'baclofen'"), "{err}");
        assert!(load("BACLOFEN", &dirs).is_ok());
        assert!(load("../baclofen", &dirs).is_err());
    }
}
