//! From the raw TOML shape to a validated [`Profile`]: every value's range,
//! every reference to a `[[source]]`, and the rules between fields (a
//! strategy's parameters, a liquid's concentration, slot names). Every
//! problem is reported, located, before the profile is refused.

use std::collections::HashSet;

use crate::dose::{Dose, SCALE};

use super::check::Checker;
use super::message::{quoted, some_names};
use super::raw::{RawDoses, RawFormulation, RawProfile, S};
use super::relations;
use super::schedule::parse_schedule;
use super::supply;
use super::{
    AlternateDays, DefaultPlan, DoseSlots, Ending, Form, Formulation, Limits, Occupancy, Profile,
    SlowBelow, Source, Split, StrategyKind, DEFAULT_IF_SYMPTOMS, DEFAULT_MAX_PIECES,
};

/// Turns the raw form into a [`Profile`], reporting every problem to `c`;
/// `None` when a required part could not be built.
pub(super) fn validate(raw: RawProfile, c: &mut Checker, origin: &str) -> Option<Profile> {
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
    check_default_rest_days(&raw, default.as_ref(), &doses, c);
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
    let markets = relations::markets(&raw, c);
    let mut formulations = formulations;
    relations::product_markets(&raw, &markets, &mut formulations, c);
    supply::product_supply(&raw, &keys, &mut formulations, c);
    let relations = relations::validate(&raw, &keys, c);
    let rxnorm = supply::rxnorm(&raw.rxnorm, &raw.rxnorm_source, &keys, c);
    let controlled = supply::controlled(&raw, &keys, &markets, c);
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
        class: relations.class,
        markets,
        equivalence: relations.equivalence,
        mme: relations.mme,
        switch: relations.switch,
        rxnorm,
        controlled,
    })
}

/// A default schedule with `/N` entries in a profile that forbids them
/// could never be planned.
fn check_default_rest_days(
    raw: &RawProfile,
    default: Option<&DefaultPlan>,
    doses: &DoseSlots,
    c: &mut Checker,
) {
    let forbidden = doses.alternate_days.as_ref().is_some_and(|a| !a.allowed);
    let schedule = default.and_then(|d| d.schedule.as_ref());
    let at = raw
        .default
        .get_ref()
        .schedule
        .as_ref()
        .map(|v| v.span().start);
    if let (true, Some(s), Some(at)) = (forbidden, schedule, at) {
        if let Some(e) = s.iter().find(|e| e.every_days > 1) {
            c.at(
                "schedule",
                at,
                format!("default schedule entry {e} doses every {} days, but [doses] alternate_days = false (accepted: daily entries)", e.every_days),
            );
        }
    }
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
pub(super) struct SourceKeys<'a> {
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

    pub(super) fn check(&self, c: &mut Checker, v: &Option<S<String>>) {
        if let Some(k) = v {
            self.check_words(c, k);
        }
    }

    /// Each space-separated key of `v` (`"UK-SmPC US-label"`).
    pub(super) fn check_words(&self, c: &mut Checker, v: &S<String>) {
        let at = v.span().start;
        if v.get_ref().split_whitespace().next().is_none() {
            c.at(
                "source reference",
                at,
                "a source reference must name a [[source]] key",
            );
        }
        for k in v.get_ref().split_whitespace() {
            if !self.set.contains(k) {
                c.at_with("source reference", at, || {
                    format!(
                        "source '{}' is not in this profile's [[source]] list (accepted: {})",
                        quoted(k),
                        some_names(k, self.list.iter().copied())
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
            supply_only: false,
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
            markets: Vec::new(),
            packs: Default::default(),
            packs_source: None,
            rxnorm: None,
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
        region: o.region.clone(),
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
        alternate_days: validate_alternate_days(d, keys, at, c),
    }
}

/// `alternate_days` needs its own source, and a reason when it forbids
/// rest days (the plan's refusal quotes it); the two extras need the flag.
fn validate_alternate_days(
    d: &RawDoses,
    keys: &SourceKeys,
    at: usize,
    c: &mut Checker,
) -> Option<AlternateDays> {
    keys.check(c, &d.alternate_days_source);
    let reason = d
        .alternate_days_reason
        .as_ref()
        .map(|r| r.get_ref().trim().to_string())
        .filter(|r| !r.is_empty());
    let Some(flag) = &d.alternate_days else {
        if d.alternate_days_source.is_some() || d.alternate_days_reason.is_some() {
            c.at(
                "alternate_days",
                at,
                "alternate_days_source and alternate_days_reason need alternate_days = true or false",
            );
        }
        return None;
    };
    let allowed = *flag.get_ref();
    let Some(source) = &d.alternate_days_source else {
        c.at(
            "alternate_days",
            flag.span().start,
            "alternate_days needs alternate_days_source = \"a [[source]] key\" (accepted: the source that advises for or against every-other-day dosing)",
        );
        return None;
    };
    if !allowed && reason.is_none() {
        c.at(
            "alternate_days",
            flag.span().start,
            "alternate_days = false needs alternate_days_reason = \"why rest days are unsafe\" (plans quote it when they refuse a /N schedule entry)",
        );
        return None;
    }
    Some(AlternateDays {
        allowed,
        source: source.get_ref().clone(),
        reason,
    })
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
