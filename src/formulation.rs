//! Products: what a plan may use and how an amount of one is written down.
//!
//! A [`Kit`] is the set of products the user allowed for one plan (the
//! profile's formulations, narrowed by `--strengths` and `--form`). Which of
//! them a plan actually uses, and how each day is made from them, is the
//! regimen's choice ([`crate::regimen`]); this module only selects and names.

use std::fmt;

use serde::Serialize;

use crate::dose::Dose;
use crate::profile::{Form, Formulation, Profile};

/// A product included in a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Product {
    /// As a prescriber names it: `10 mg tablet`, `1 mg/mL oral solution`.
    pub name: String,
    /// The unique `--strengths` key: `10mg-tablet`, `1mg/mL`.
    pub key: String,
    pub form: Form,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strength: Option<Dose>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concentration: Option<Dose>,
    /// Pieces per whole unit the label allows (1 = never split, 2 =
    /// halves, 4 = quarters): the label's permission, not an amount.
    pub split_into: u64,
    /// Prescriber-facing remark from the profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Patient handling instructions, shown with every dose that uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Products of different groups are never used in one plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The product's drug, in a switch plan, where two drugs' products
    /// meet (omitted otherwise; `name` then starts with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drug: Option<String>,
    /// Sold pack sizes in the plan's market, smallest first: units per
    /// pack, or mL per bottle (omitted when the profile gives none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<u32>,
    /// RxNorm clinical drug code, when the profile gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rxnorm: Option<String>,
    /// The drug's controlled-drug schedule in the plan's market (omitted
    /// when it is not controlled there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controlled: Option<String>,
}

impl Product {
    /// How a plan lists its products: solids by falling strength, then
    /// liquids.
    pub fn plan_order(&self) -> (bool, std::cmp::Reverse<Dose>, Dose) {
        (
            self.form == Form::Liquid,
            std::cmp::Reverse(self.strength.unwrap_or_default()),
            self.concentration.unwrap_or_default(),
        )
    }

    fn from_formulation(f: &Formulation, profile: &Profile, market: &str) -> Product {
        let unit = &profile.unit;
        Product {
            name: f.name(unit),
            key: f.key(unit),
            form: f.form,
            strength: f.strength,
            concentration: f.concentration,
            split_into: f.split.parts(),
            note: f.note.clone(),
            instructions: f.instructions.clone(),
            group: f.group.clone(),
            drug: None,
            packs: f.packs.get(market).cloned().unwrap_or_default(),
            rxnorm: f.rxnorm.clone(),
            controlled: profile.controlled_in(market).map(|c| c.schedule.clone()),
        }
    }

    /// What one whole unit is called: `tablet`, `capsule` (`mL` for a
    /// liquid, which has no units).
    pub fn unit_name(&self) -> &'static str {
        match self.form {
            Form::Tablet => "tablet",
            Form::Capsule => "capsule",
            Form::Liquid => "mL",
        }
    }
}

/// How much of one product to take.
///
/// In JSON (see `docs/plan.schema.json`) a solid is spelled out so it
/// cannot be misread: `{"kind": "units", "units": "1.5", "whole": 1,
/// "part_pieces": 1, "part_of": 2}`; a liquid is `{"kind": "volume",
/// "ml": "2.5"}`. The internal `pieces`/`split_into` pair is never written:
/// `{"pieces": 2, "split_into": 2}` read as two tablets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// `pieces` of `1/split_into` of a tablet or capsule (`3` of `2` = 1½).
    Units { pieces: u64, split_into: u64 },
    /// A liquid volume in mL.
    Volume { ml: Dose },
}

/// A count of tablet pieces as whole units plus a fraction in lowest terms:
/// 3 halves are 1 whole and 1/2; 2 quarters are 0 whole and 1/2; 4 halves
/// are 2 whole and 0/1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitParts {
    pub whole: u64,
    pub part_pieces: u64,
    pub part_of: u64,
}

impl UnitParts {
    pub fn new(pieces: u64, split_into: u64) -> UnitParts {
        let n = split_into.max(1);
        let rest = pieces % n;
        let g = gcd(rest, n);
        UnitParts {
            whole: pieces / n,
            part_pieces: rest / g,
            part_of: n / g,
        }
    }

    /// The count as an exact decimal (`1.5`, `0.25`, `2`), or `None` when it
    /// has no finite decimal form or does not fit (labels split only into
    /// halves and quarters, so neither happens).
    pub fn decimal(self) -> Option<Dose> {
        let scale = crate::dose::SCALE;
        let part = self.part_pieces.checked_mul(scale)?;
        if part % self.part_of != 0 {
            return None;
        }
        let micro = self
            .whole
            .checked_mul(scale)?
            .checked_add(part / self.part_of)?;
        Some(Dose::from_micro(micro))
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeStruct};
        match *self {
            Quantity::Units { pieces, split_into } => {
                let parts = UnitParts::new(pieces, split_into);
                let units = parts.decimal().ok_or_else(|| {
                    S::Error::custom(format!(
                        "{pieces} pieces of 1/{split_into} have no exact decimal form"
                    ))
                })?;
                let mut m = s.serialize_struct("Quantity", 5)?;
                m.serialize_field("kind", "units")?;
                m.serialize_field("units", &units)?;
                m.serialize_field("whole", &parts.whole)?;
                m.serialize_field("part_pieces", &parts.part_pieces)?;
                m.serialize_field("part_of", &parts.part_of)?;
                m.end()
            }
            Quantity::Volume { ml } => {
                let mut m = s.serialize_struct("Quantity", 2)?;
                m.serialize_field("kind", "volume")?;
                m.serialize_field("ml", &ml)?;
                m.end()
            }
        }
    }
}

/// One product and its quantity within an administration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Portion {
    /// Index into the plan's `products`.
    pub product: usize,
    pub quantity: Quantity,
}

/// One administration: when, the amount, and what makes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Administration {
    /// The slot's name (`morning`, `evening`).
    pub slot: String,
    /// 0-based index of the slot among the plan's starting administrations
    /// (so `--times` keeps each remaining dose at its own time).
    pub slot_index: u32,
    pub amount: Dose,
    /// The drug given, in a switch plan (omitted otherwise): one drug per
    /// administration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drug: Option<String>,
    pub portions: Vec<Portion>,
}

/// The products on hand for one plan.
#[derive(Clone, Debug)]
pub struct Kit {
    pub products: Vec<Product>,
    pub liquid_step_ml: Dose,
}

/// Which products a plan may use, as the user asked.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `--strengths` entries as typed.
    pub strengths: Vec<String>,
    pub form: Option<FormFilter>,
    /// Only products sold in this market.
    pub market: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormFilter {
    Tablet,
    Capsule,
    Liquid,
}

impl FormFilter {
    fn admits(self, form: Form) -> bool {
        matches!(
            (self, form),
            (FormFilter::Tablet, Form::Tablet)
                | (FormFilter::Capsule, Form::Capsule)
                | (FormFilter::Liquid, Form::Liquid)
        )
    }
}

/// Normalises a `--strengths` entry: `10 mg` → `10mg`, `1 mg/mL` → `1mg/ml`,
/// `10mg-Tablet` → `10mg-tablet`.
pub fn normalise_key(text: &str) -> String {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    // Canonicalise the number so `10.0mg` matches `10mg`.
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(split);
    match Dose::parse_decimal(num) {
        Ok(d) => {
            let rest = if rest.is_empty() || rest.starts_with('-') {
                format!("mg{rest}")
            } else {
                rest.to_string()
            };
            format!("{d}{rest}")
        }
        Err(_) => t,
    }
}

impl Kit {
    /// Builds the kit from the profile's formulations and the user's choice.
    /// Errors name the bad strength and list those available; a strength
    /// that names more than one product is refused, never guessed.
    pub fn new(profile: &Profile, selection: &Selection) -> Result<Kit, String> {
        let unit = &profile.unit;
        let keys: Vec<(String, String)> = profile
            .formulations
            .iter()
            .map(|f| {
                (
                    f.key(unit).to_ascii_lowercase(),
                    f.short_key(unit).to_ascii_lowercase(),
                )
            })
            .collect();
        let available = || {
            profile
                .formulations
                .iter()
                .map(|f| f.key(unit))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut named = vec![false; keys.len()];
        for typed in &selection.strengths {
            let w = normalise_key(typed);
            let exact: Vec<usize> = (0..keys.len()).filter(|&i| keys[i].0 == w).collect();
            let matches = if exact.is_empty() {
                (0..keys.len()).filter(|&i| keys[i].1 == w).collect()
            } else {
                exact
            };
            match matches.as_slice() {
                [] => {
                    return Err(format!(
                        "strength '{typed}' is not a {} product (accepted: {})",
                        profile.display_name,
                        available()
                    ))
                }
                [one] if !profile.formulations[*one].markets.contains(&selection.market) => {
                    let f = &profile.formulations[*one];
                    return Err(format!(
                        "strength '{typed}' ({}) is not sold in market '{}' (accepted: a market it is sold in, {}, with --market)",
                        f.key(unit),
                        selection.market,
                        f.markets.join(", ")
                    ));
                }
                [one] => named[*one] = true,
                many => {
                    return Err(format!(
                        "strength '{typed}' matches more than one {} product ({}); name one (accepted: {})",
                        profile.display_name,
                        many.iter()
                            .map(|&i| profile.formulations[i].key(unit))
                            .collect::<Vec<_>>()
                            .join(", "),
                        available()
                    ))
                }
            }
        }
        let products: Vec<Product> = profile
            .formulations
            .iter()
            .enumerate()
            .filter(|(i, f)| {
                let included = if selection.strengths.is_empty() {
                    !f.restricted
                } else {
                    named[*i]
                };
                included
                    && f.markets.contains(&selection.market)
                    && selection.form.is_none_or(|ff| ff.admits(f.form))
            })
            .map(|(_, f)| Product::from_formulation(f, profile, &selection.market))
            .collect();
        if products.is_empty() {
            let form = selection.form.map_or("", |f| match f {
                FormFilter::Tablet => " tablet",
                FormFilter::Capsule => " capsule",
                FormFilter::Liquid => " liquid",
            });
            return Err(format!(
                "no{form} product of {} sold in market '{}' matches the request (accepted strengths: {}; forms: {})",
                profile.display_name,
                selection.market,
                available(),
                forms_of(profile).join(", ")
            ));
        }
        Ok(Kit {
            products,
            liquid_step_ml: profile.liquid_step_ml,
        })
    }
}

fn forms_of(profile: &Profile) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = profile
        .formulations
        .iter()
        .map(|f| f.form.as_str())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// `1½`, `¾`, `2`: a count of tablet pieces as a patient reads it.
pub struct UnitCount {
    pub pieces: u64,
    pub split_into: u64,
}

impl fmt::Display for UnitCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.split_into.max(1);
        let whole = self.pieces / n;
        let rest = self.pieces % n;
        let frac = match (rest, n) {
            (0, _) => "",
            (1, 2) | (2, 4) => "½",
            (1, 4) => "¼",
            (3, 4) => "¾",
            _ => "?",
        };
        match (whole, frac) {
            (w, "") => write!(f, "{w}"),
            (0, fr) => f.write_str(fr),
            (w, fr) => write!(f, "{w}{fr}"),
        }
    }
}

/// Whole units needed to dispense `pieces` fractions: halves are counted as
/// halves, so ½ a day for 10 days is 5 tablets; a leftover piece rounds up.
pub fn whole_units(pieces: u64, split_into: u64) -> u64 {
    pieces.div_ceil(split_into.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_counts_read_naturally() {
        let t = |p, n| {
            UnitCount {
                pieces: p,
                split_into: n,
            }
            .to_string()
        };
        assert_eq!(t(3, 2), "1½");
        assert_eq!(t(1, 2), "½");
        assert_eq!(t(3, 4), "¾");
        assert_eq!(t(4, 2), "2");
        assert_eq!(whole_units(5, 2), 3);
        assert_eq!(whole_units(10, 2), 5);
    }

    #[test]
    fn unit_parts_spell_out_whole_and_part_pieces_exactly() {
        let p = |pieces, n| {
            let u = UnitParts::new(pieces, n);
            (
                u.whole,
                u.part_pieces,
                u.part_of,
                u.decimal().unwrap().to_string(),
            )
        };
        assert_eq!(p(2, 2), (1, 0, 1, "1".to_string()));
        assert_eq!(p(3, 2), (1, 1, 2, "1.5".to_string()));
        assert_eq!(p(1, 4), (0, 1, 4, "0.25".to_string()));
        assert_eq!(p(2, 4), (0, 1, 2, "0.5".to_string()));
        assert_eq!(p(7, 4), (1, 3, 4, "1.75".to_string()));
        assert_eq!(p(2, 1), (2, 0, 1, "2".to_string()));
        assert_eq!(UnitParts::new(1, 3).decimal(), None);
    }

    #[test]
    fn quantities_serialise_unambiguously() {
        let q = Quantity::Units {
            pieces: 2,
            split_into: 2,
        };
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"kind":"units","units":"1","whole":1,"part_pieces":0,"part_of":1}"#
        );
        let v = Quantity::Volume {
            ml: Dose::parse_decimal("2.5").unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"kind":"volume","ml":"2.5"}"#
        );
        let odd = Quantity::Units {
            pieces: 1,
            split_into: 3,
        };
        assert!(serde_json::to_string(&odd).is_err());
    }

    #[test]
    fn keys_normalise() {
        assert_eq!(normalise_key("10 mg"), "10mg");
        assert_eq!(normalise_key("10.0MG"), "10mg");
        assert_eq!(normalise_key("1 mg/mL"), "1mg/ml");
        assert_eq!(normalise_key("10"), "10mg");
        assert_eq!(normalise_key("4mg-Capsule"), "4mg-capsule");
        assert_eq!(normalise_key("4-tablet"), "4mg-tablet");
    }
}
