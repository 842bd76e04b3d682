//! What a profile says about supplying its products: pack sizes per
//! market, RxNorm codes for health records, and the drug's controlled-drug
//! schedule per market. Every figure needs a source.

use std::collections::BTreeMap;

use super::check::Checker;
use super::message::quoted;
use super::raw::{RawPacks, RawProfile, S};
use super::validate::SourceKeys;
use super::{Controlled, Formulation, Source};

/// The largest pack or bottle size accepted (units or mL).
const MAX_PACK: i64 = 10_000;

/// Pack sizes, RxNorm codes: set on each formulation, whose markets are
/// already known.
pub(super) fn product_supply(
    raw: &RawProfile,
    keys: &SourceKeys,
    formulations: &mut [Formulation],
    c: &mut Checker,
) {
    for (f, r) in formulations.iter_mut().zip(raw.formulation.get_ref()) {
        let (field, other) = if f.is_liquid() {
            ("bottle_ml", &r.packs)
        } else {
            ("packs", &r.bottle_ml)
        };
        if let Some(v) = other {
            let (wrong, right) = if f.is_liquid() {
                ("packs", "bottle_ml")
            } else {
                ("bottle_ml", "packs")
            };
            c.at(
                "pack sizes",
                v.span().start,
                format!(
                    "{wrong} does not apply to this {} (accepted: {right})",
                    f.form.as_str()
                ),
            );
        }
        let given = if f.is_liquid() {
            &r.bottle_ml
        } else {
            &r.packs
        };
        if let Some(v) = given {
            f.packs = pack_sizes(v, field, &f.markets, c);
            match &r.packs_source {
                Some(s) => keys.check_words(c, s),
                None => c.at(
                    "pack sizes",
                    v.span().start,
                    format!("{field} needs packs_source (accepted: [[source]] keys that give the sizes)"),
                ),
            }
            f.packs_source = r.packs_source.as_ref().map(|s| s.get_ref().clone());
        } else if let Some(s) = &r.packs_source {
            c.at(
                "pack sizes",
                s.span().start,
                format!("packs_source without {field}"),
            );
        }
        f.rxnorm = rxnorm(&r.rxnorm, &r.rxnorm_source, keys, c);
    }
}

/// `packs = [28, 56]` (every market the product is sold in) or
/// `packs = { uk = [28], us = [100] }`: sizes 1 to [`MAX_PACK`], sorted.
fn pack_sizes(
    v: &S<RawPacks>,
    field: &'static str,
    markets: &[String],
    c: &mut Checker,
) -> BTreeMap<String, Vec<u32>> {
    let at = v.span().start;
    let by_market: Vec<(String, &Vec<i64>)> = match v.get_ref() {
        RawPacks::All(sizes) => markets.iter().map(|m| (m.clone(), sizes)).collect(),
        RawPacks::ByMarket(map) => map.iter().map(|(m, s)| (m.clone(), s)).collect(),
    };
    let mut out = BTreeMap::new();
    for (market, sizes) in by_market {
        if !markets.contains(&market) {
            c.at_with("pack sizes", at, || {
                format!(
                    "{field} names market '{}', where this product is not sold (accepted: {})",
                    quoted(&market),
                    markets.join(", ")
                )
            });
            continue;
        }
        if sizes.is_empty() || sizes.iter().any(|n| !(1..=MAX_PACK).contains(n)) {
            c.at(
                "pack sizes",
                at,
                format!("{field} for '{market}' must list sizes from 1 to {MAX_PACK}"),
            );
            continue;
        }
        let mut sizes: Vec<u32> = sizes.iter().map(|&n| n as u32).collect();
        sizes.sort_unstable();
        sizes.dedup();
        out.insert(market, sizes);
    }
    out
}

/// An RxNorm code: digits only, with its source.
pub(super) fn rxnorm(
    code: &Option<S<String>>,
    source: &Option<S<String>>,
    keys: &SourceKeys,
    c: &mut Checker,
) -> Option<String> {
    let v = code.as_ref()?;
    let text = v.get_ref();
    let ok = (1..=10).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        c.at_with("rxnorm", v.span().start, || {
            format!(
                "rxnorm '{}' is not an RxNorm code (accepted: 1 to 10 digits, e.g. \"3322\")",
                quoted(text)
            )
        });
        return None;
    }
    match source {
        Some(s) => keys.check_words(c, s),
        None => c.at(
            "rxnorm",
            v.span().start,
            "rxnorm needs rxnorm_source (accepted: the [[source]] key that gives the code)",
        ),
    }
    Some(text.clone())
}

/// `[[controlled]]`: one per market the profile sells in, each sourced.
pub(super) fn controlled(
    raw: &RawProfile,
    keys: &SourceKeys,
    markets: &[String],
    c: &mut Checker,
) -> Vec<Controlled> {
    let mut out: Vec<Controlled> = Vec::new();
    for entry in &raw.controlled {
        let e = entry.get_ref();
        let market = e.market.get_ref();
        if !markets.contains(market) {
            c.at_with("controlled", e.market.span().start, || {
                format!(
                    "controlled market '{}' is not one of the profile's markets (accepted: {})",
                    quoted(market),
                    markets.join(", ")
                )
            });
            continue;
        }
        if out.iter().any(|o| &o.market == market) {
            c.at_with("controlled", e.market.span().start, || {
                format!("controlled market '{}' is listed twice", quoted(market))
            });
            continue;
        }
        if e.schedule.get_ref().trim().is_empty() {
            c.at(
                "controlled",
                e.schedule.span().start,
                "controlled schedule must not be empty (accepted: the schedule as the law names it, e.g. \"Schedule IV\")",
            );
        }
        keys.check_words(c, &e.source);
        out.push(Controlled {
            market: market.clone(),
            schedule: e.schedule.get_ref().trim().to_string(),
            source: e.source.get_ref().clone(),
        });
    }
    out
}

/// Marks the sources cited only by supply facts (`packs_source`,
/// `rxnorm_source`, `[[controlled]]`): every `*source` value of the
/// document is read, whatever its table, so no citation is missed.
pub(super) fn mark_supply_sources(text: &str, sources: &mut [Source]) {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return;
    };
    let (mut supply, mut other) = (Vec::new(), Vec::new());
    cited(&doc, "", &mut supply, &mut other);
    for s in sources {
        s.supply_only = supply.contains(&s.key) && !other.contains(&s.key);
    }
}

fn cited(table: &toml::Table, parent: &str, supply: &mut Vec<String>, other: &mut Vec<String>) {
    for (key, value) in table {
        match value {
            toml::Value::String(v) if key.ends_with("source") => {
                let is_supply = matches!(key.as_str(), "packs_source" | "rxnorm_source")
                    || parent == "controlled";
                let into = if is_supply { &mut *supply } else { &mut *other };
                into.extend(v.split_whitespace().map(str::to_string));
            }
            toml::Value::Table(t) => cited(t, key, supply, other),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(t) = item {
                        cited(t, key, supply, other);
                    }
                }
            }
            _ => {}
        }
    }
}
