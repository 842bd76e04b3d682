//! How a profile relates to the world outside its own products: its drug
//! class, the markets its products are sold in, its equivalence to the
//! class's reference drug, morphine equivalents for opioids, and the drugs
//! the sources switch it to before tapering.

use std::collections::HashSet;

use super::check::Checker;
use super::message::quoted;
use super::raw::{RawProfile, S};
use super::validate::SourceKeys;
use super::{Equivalence, Formulation, Mme, Switch, DEFAULT_MARKET, MAX_SWITCH_INTERVAL_DAYS};

/// Drug classes a profile may name.
pub const CLASSES: [&str; 7] = [
    "benzodiazepine",
    "z-drug",
    "antidepressant",
    "opioid",
    "gabapentinoid",
    "glucocorticoid",
    "muscle-relaxant",
];

/// The validated relations of a profile.
pub(super) struct Relations {
    pub(super) class: Option<String>,
    pub(super) equivalence: Option<Equivalence>,
    pub(super) mme: Option<Mme>,
    pub(super) switch: Option<Switch>,
}

pub(super) fn validate(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Relations {
    Relations {
        class: class(raw, c),
        equivalence: equivalence(raw, keys, c),
        mme: mme(raw, keys, c),
        switch: switch(raw, keys, c),
    }
}

fn class(raw: &RawProfile, c: &mut Checker) -> Option<String> {
    let v = raw.class.as_ref()?;
    if CLASSES.contains(&v.get_ref().as_str()) {
        return Some(v.get_ref().clone());
    }
    c.at_with("class", v.span().start, || {
        format!(
            "class '{}' is not known (accepted: {})",
            quoted(v.get_ref()),
            CLASSES.join(", ")
        )
    });
    None
}

/// A market code: two lowercase letters (`us`, `uk`).
fn is_market(m: &str) -> bool {
    m.len() == 2 && m.bytes().all(|b| b.is_ascii_lowercase())
}

fn market_list(v: &S<Vec<String>>, what: &'static str, c: &mut Checker) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if v.get_ref().is_empty() {
        c.at(
            what,
            v.span().start,
            format!(
                "{what} must name at least one market (accepted: codes such as \"us\", \"uk\")"
            ),
        );
    }
    for m in v.get_ref() {
        if !is_market(m) {
            c.at_with(what, v.span().start, || {
                format!(
                    "market '{}' is not valid (accepted: two lowercase letters, such as \"us\" or \"uk\")",
                    quoted(m)
                )
            });
        } else if out.contains(m) {
            c.at_with(what, v.span().start, || {
                format!("market '{}' is listed twice", quoted(m))
            });
        } else {
            out.push(m.clone());
        }
    }
    out
}

/// The profile's markets (the first is its default); `["us"]` when it
/// names none.
pub(super) fn markets(raw: &RawProfile, c: &mut Checker) -> Vec<String> {
    match &raw.markets {
        Some(v) => market_list(v, "markets", c),
        None => vec![DEFAULT_MARKET.to_string()],
    }
}

/// Each product's markets: its own list (within the profile's), or all of
/// the profile's.
pub(super) fn product_markets(
    raw: &RawProfile,
    markets: &[String],
    formulations: &mut [Formulation],
    c: &mut Checker,
) {
    for (f, r) in formulations.iter_mut().zip(raw.formulation.get_ref()) {
        f.markets = match &r.markets {
            None => markets.to_vec(),
            Some(v) => {
                let own = market_list(v, "formulation markets", c);
                for m in own.iter().filter(|m| !markets.contains(m)) {
                    c.at_with("formulation markets", v.span().start, || {
                        format!(
                            "market '{}' is not one of the profile's markets (accepted: {})",
                            quoted(m),
                            markets.join(", ")
                        )
                    });
                }
                own
            }
        };
    }
    for m in markets {
        if !formulations.is_empty()
            && !formulations
                .iter()
                .any(|f| f.markets.contains(m) && !f.restricted && !f.modified_release)
        {
            let at = raw.markets.as_ref().map_or(0, |v| v.span().start);
            c.at_with("markets", at, || {
                format!(
                    "market '{}' has no immediate-release, unrestricted product (accepted: markets that some product lists)",
                    quoted(m)
                )
            });
        }
    }
}

fn equivalence(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Option<Equivalence> {
    let e = raw.equivalence.as_ref()?.get_ref();
    keys.check(c, &Some(e.source.clone()));
    let dose = c.positive_amount(&e.dose, "equivalence dose");
    let reference_dose = c.positive_amount(&e.reference_dose, "equivalence reference_dose");
    let low = e
        .low
        .as_ref()
        .and_then(|v| c.positive_amount(v, "equivalence low"));
    let high = e
        .high
        .as_ref()
        .and_then(|v| c.positive_amount(v, "equivalence high"));
    if e.low.is_some() != e.high.is_some() {
        c.at(
            "equivalence range",
            e.dose.span().start,
            "equivalence low and high go together (accepted: both, or neither)",
        );
    }
    if let (Some(l), Some(h), Some(r)) = (low, high, reference_dose) {
        if !(l <= r && r <= h) {
            c.at_with("equivalence range", e.reference_dose.span().start, || {
                format!("equivalence reference_dose {r} is outside its range {l} to {h} (accepted: low <= reference_dose <= high)")
            });
        }
    }
    if e.reference.get_ref().trim().is_empty() {
        c.at(
            "equivalence reference",
            e.reference.span().start,
            "equivalence reference must name the reference drug's profile (e.g. \"diazepam\")",
        );
    }
    Some(Equivalence {
        reference: e.reference.get_ref().clone(),
        dose: dose?,
        reference_dose: reference_dose?,
        low,
        high,
        source: e.source.get_ref().clone(),
        note: e.note.clone(),
    })
}

fn mme(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Option<Mme> {
    let m = raw.mme.as_ref()?.get_ref();
    keys.check(c, &Some(m.source.clone()));
    let factor = c.positive_amount(&m.factor, "mme factor");
    if raw.class.as_ref().is_some_and(|v| v.get_ref() != "opioid") {
        c.at(
            "mme",
            m.factor.span().start,
            "[mme] is only for opioids (accepted: class = \"opioid\")",
        );
    }
    Some(Mme {
        factor: factor?,
        source: m.source.get_ref().clone(),
        note: m.note.clone(),
    })
}

fn switch(raw: &RawProfile, keys: &SourceKeys, c: &mut Checker) -> Option<Switch> {
    let s = raw.switch.as_ref()?.get_ref();
    keys.check(c, &Some(s.source.clone()));
    let days = *s.interval_days.get_ref();
    if !(1..=i64::from(MAX_SWITCH_INTERVAL_DAYS)).contains(&days) {
        c.at_with("switch interval_days", s.interval_days.span().start, || {
            format!("switch interval_days {days} is out of range (accepted: 1 to {MAX_SWITCH_INTERVAL_DAYS})")
        });
    }
    let mut seen = HashSet::new();
    for to in s.to.get_ref() {
        if to.trim().is_empty() || !seen.insert(to.as_str()) || to == raw.name.get_ref() {
            c.at_with("switch to", s.to.span().start, || {
                format!(
                    "switch to '{}' is not valid (accepted: other profiles' names, each once)",
                    quoted(to)
                )
            });
        }
    }
    if s.to.get_ref().is_empty() {
        c.at(
            "switch to",
            s.to.span().start,
            "switch needs at least one drug to switch to (e.g. to = [\"diazepam\"])",
        );
    }
    Some(Switch {
        to: s.to.get_ref().clone(),
        interval_days: days.clamp(1, i64::from(MAX_SWITCH_INTERVAL_DAYS)) as u32,
        source: s.source.get_ref().clone(),
        note: s.note.clone(),
    })
}
