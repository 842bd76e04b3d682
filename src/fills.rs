//! Fills: the plan cut into supply periods (`--supply DAYS`), each with what
//! to dispense of every product for its days.
//!
//! A fill pools its own days' tablet pieces before rounding up to whole
//! units (½ a tablet a day for 28 days is 14 tablets), then rounds up to
//! whole packs where the profile gives pack sizes. A controlled drug is
//! never rounded beyond what the fill needs: it gets whole packs plus loose
//! units. Without `--supply` the whole plan is one fill.

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::dose::{Dose, SCALE};
use crate::formulation::{whole_units, Product, Quantity};
use crate::profile::Form;
use crate::schedule::Step;

/// Longest `--supply`: a year's fill.
pub const MAX_SUPPLY_DAYS: u32 = 365;

/// One supply period and what to dispense for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fill {
    /// 1-based.
    pub fill: u32,
    pub start: NaiveDate,
    /// Inclusive.
    pub end: NaiveDate,
    pub days: u32,
    /// The steps given in the fill, each cut to the fill's days, in order.
    pub runs: Vec<Run>,
    /// One per product the fill's days use, in the plan's product order.
    pub lines: Vec<FillLine>,
}

/// The part of one step that falls in a fill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub step: u32,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub days: u32,
    /// Days of the run on which the step's dose is taken.
    pub dose_days: u32,
}

/// What to dispense of one product for one fill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FillLine {
    /// Index into the plan's `products`.
    pub product: usize,
    pub name: String,
    /// `tablet`, `capsule` or `mL`: the unit of `needed` and `quantity`.
    pub unit: &'static str,
    /// What the fill's days take: whole units (pieces pooled, rounded up)
    /// or the exact volume in mL.
    pub needed: Dose,
    /// What to dispense: `needed` rounded up to whole packs (whole mL for
    /// a liquid without bottle sizes); a controlled drug gets `needed` in
    /// whole units or whole mL.
    pub quantity: Dose,
    /// `quantity` minus `needed`.
    pub overage: Dose,
    /// How `quantity` is made of the product's packs (omitted when the
    /// profile gives no pack sizes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packs: Option<Packs>,
    /// The drug's controlled-drug schedule in the plan's market (omitted
    /// when it is not controlled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controlled: Option<String>,
    /// The product's drug, in a switch plan (omitted otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drug: Option<String>,
}

/// Whole packs, largest first, plus what is not in a whole pack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Packs {
    pub packs: Vec<PackCount>,
    /// Units or mL outside whole packs (controlled drugs only; 0
    /// otherwise).
    pub loose: Dose,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PackCount {
    /// Units per pack, or mL per bottle.
    pub size: u32,
    pub count: u64,
}

/// The plan's fills: every `supply` days from `start` (the last to the
/// plan's end), or the whole plan as one fill. A last period that needs
/// nothing (the stop) joins the fill before it; any other fill that needs
/// nothing is left out.
pub fn fills(
    products: &[Product],
    steps: &[Step],
    start: NaiveDate,
    supply: Option<u32>,
) -> Vec<Fill> {
    let total: u64 = steps.iter().map(|s| u64::from(s.days)).sum();
    if total == 0 {
        return Vec::new();
    }
    let period = supply.map_or(total, u64::from).max(1);
    let mut out: Vec<Fill> = Vec::new();
    let mut first = 0u64;
    // Where the fill before this one starts, to lengthen it.
    let mut previous_first = 0u64;
    while first < total {
        let last = (first + period - 1).min(total - 1);
        let fill = one_fill(products, steps, start, first, last);
        if !fill.lines.is_empty() {
            out.push(Fill {
                fill: out.len() as u32 + 1,
                ..fill
            });
            previous_first = first;
        } else if last == total - 1 && !out.is_empty() {
            // The plan's last days take nothing (its stop): the last fill
            // runs to them, so its wording ends "then stop".
            let n = out.len() as u32;
            out.pop();
            out.push(Fill {
                fill: n,
                ..one_fill(products, steps, start, previous_first, last)
            });
        }
        first = last + 1;
    }
    out
}

fn date_at(start: NaiveDate, offset: u64) -> NaiveDate {
    // Plans are bounded well inside chrono's range (MAX_PLAN_DAYS).
    start.checked_add_days(Days::new(offset)).unwrap_or(start)
}

/// The fill of plan days `first..=last` (0-based offsets from `start`).
fn one_fill(products: &[Product], steps: &[Step], start: NaiveDate, first: u64, last: u64) -> Fill {
    let mut pieces = vec![0u64; products.len()];
    let mut micro_ml = vec![0u64; products.len()];
    let mut runs = Vec::new();
    let mut step_first = 0u64;
    for s in steps {
        let step_last = step_first + u64::from(s.days) - 1;
        let (a, b) = (first.max(step_first), last.min(step_last));
        if s.days > 0 && a <= b {
            let dose_days = dose_days_between(a - step_first, b - step_first, s.every_days);
            runs.push(Run {
                step: s.step,
                start: date_at(start, a),
                end: date_at(start, b),
                days: (b - a + 1) as u32,
                dose_days: dose_days as u32,
            });
            add_use(products, s, dose_days, &mut pieces, &mut micro_ml);
        }
        step_first += u64::from(s.days);
    }
    let lines = products
        .iter()
        .enumerate()
        .filter(|(i, _)| pieces[*i] > 0 || micro_ml[*i] > 0)
        .map(|(i, p)| line(i, p, pieces[i], micro_ml[i]))
        .collect();
    Fill {
        fill: 0,
        start: date_at(start, first),
        end: date_at(start, last),
        days: (last - first + 1) as u32,
        runs,
        lines,
    }
}

/// Dose days among a step's day offsets `a..=b` when its dose is taken on
/// offsets 0, e, 2e, …
fn dose_days_between(a: u64, b: u64, every: u32) -> u64 {
    let e = u64::from(every.max(1));
    (b / e + 1).saturating_sub(a.div_ceil(e))
}

/// Adds one step's use over `dose_days` days, tablets in each product's
/// own finest pieces (so halves and quarters pool before rounding up), a
/// liquid in micro-mL. The whole plan's dispensing totals use it too.
pub(crate) fn add_use(
    products: &[Product],
    s: &Step,
    dose_days: u64,
    pieces: &mut [u64],
    ml: &mut [u64],
) {
    for a in &s.administrations {
        for p in &a.portions {
            match p.quantity {
                Quantity::Units {
                    pieces: n,
                    split_into,
                } => {
                    let per = products[p.product].split_into / split_into.max(1);
                    pieces[p.product] = pieces[p.product]
                        .saturating_add(n.saturating_mul(per).saturating_mul(dose_days));
                }
                Quantity::Volume { ml: v } => {
                    ml[p.product] =
                        ml[p.product].saturating_add(v.micro().saturating_mul(dose_days));
                }
            }
        }
    }
}

fn line(index: usize, p: &Product, pieces: u64, micro_ml: u64) -> FillLine {
    let liquid = p.form == Form::Liquid;
    // Needed and dispensed, in whole units or micro-mL.
    let (needed_micro, whole) = if liquid {
        (micro_ml, micro_ml.div_ceil(SCALE))
    } else {
        let units = whole_units(pieces, p.split_into);
        (units.saturating_mul(SCALE), units)
    };
    let controlled = p.controlled.is_some();
    let (quantity, packs) = if p.packs.is_empty() {
        (whole, None)
    } else if controlled {
        let (in_packs, counts) = packs_within(whole, &p.packs);
        let packs = Packs {
            packs: counts,
            loose: units_dose(whole - in_packs),
        };
        (whole, Some(packs))
    } else {
        let (total, counts) = packs_covering(whole, &p.packs);
        let packs = Packs {
            packs: counts,
            loose: Dose::default(),
        };
        (total, Some(packs))
    };
    let quantity = units_dose(quantity);
    FillLine {
        product: index,
        name: p.name.clone(),
        unit: p.unit_name(),
        needed: Dose::from_micro(needed_micro),
        quantity,
        overage: Dose::from_micro(quantity.micro().saturating_sub(needed_micro)),
        packs,
        controlled: p.controlled.clone(),
        drug: p.drug.clone(),
    }
}

fn units_dose(n: u64) -> Dose {
    Dose::from_micro(n.saturating_mul(SCALE))
}

/// Fewest packs for each total up to `limit` (`u64::MAX`: not reachable).
fn fewest_packs(limit: u64, sizes: &[u32]) -> Vec<u64> {
    let mut best = vec![u64::MAX; limit as usize + 1];
    best[0] = 0;
    for t in 1..=limit as usize {
        for &s in sizes {
            let s = s as usize;
            if s <= t && best[t - s] != u64::MAX {
                best[t] = best[t].min(best[t - s] + 1);
            }
        }
    }
    best
}

/// Unwinds [`fewest_packs`] into counts per size, largest first.
fn counts_for(total: u64, best: &[u64], sizes: &[u32]) -> Vec<PackCount> {
    let mut counts: Vec<PackCount> = Vec::new();
    let mut t = total as usize;
    while t > 0 {
        let s = sizes
            .iter()
            .rev()
            .copied()
            .find(|&s| (s as usize) <= t && best[t - s as usize] == best[t] - 1)
            .expect("a reachable total has a last pack");
        match counts.iter_mut().find(|c| c.size == s) {
            Some(c) => c.count += 1,
            None => counts.push(PackCount { size: s, count: 1 }),
        }
        t -= s as usize;
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.size));
    counts
}

/// The smallest total of whole packs that covers `need` (then the fewest
/// packs), with its counts. `sizes` are sorted and not empty.
pub fn packs_covering(need: u64, sizes: &[u32]) -> (u64, Vec<PackCount>) {
    let largest = u64::from(*sizes.last().expect("pack sizes are not empty"));
    if need == 0 {
        return (0, Vec::new());
    }
    // Whole packs of the largest size beyond what the search needs: the
    // search then stays small for any need.
    let search = need.min(largest * largest);
    let bulk = (need - search).div_ceil(largest);
    let rest = need - bulk * largest;
    let best = fewest_packs(rest + largest, sizes);
    let total = (rest..=rest + largest)
        .find(|&t| best[t as usize] != u64::MAX)
        .expect("a whole number of the largest pack covers any need");
    let mut counts = counts_for(total, &best, sizes);
    add_count(&mut counts, largest as u32, bulk);
    (total + bulk * largest, counts)
}

/// The largest total of whole packs within `need` (then the fewest packs),
/// with its counts: a controlled drug's packs, the rest given loose.
pub fn packs_within(need: u64, sizes: &[u32]) -> (u64, Vec<PackCount>) {
    let largest = u64::from(*sizes.last().expect("pack sizes are not empty"));
    let search = need.min(largest * largest);
    let bulk = (need - search) / largest;
    let rest = need - bulk * largest;
    let best = fewest_packs(rest, sizes);
    let total = (0..=rest)
        .rev()
        .find(|&t| best[t as usize] != u64::MAX)
        .unwrap_or(0);
    let mut counts = counts_for(total, &best, sizes);
    add_count(&mut counts, largest as u32, bulk);
    (total + bulk * largest, counts)
}

fn add_count(counts: &mut Vec<PackCount>, size: u32, n: u64) {
    if n == 0 {
        return;
    }
    match counts.iter_mut().find(|c| c.size == size) {
        Some(c) => c.count += n,
        None => {
            counts.push(PackCount { size, count: n });
            counts.sort_by_key(|c| std::cmp::Reverse(c.size));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(c: &[PackCount]) -> u64 {
        c.iter().map(|p| u64::from(p.size) * p.count).sum()
    }

    #[test]
    fn packs_cover_with_least_overage_then_fewest_packs() {
        assert_eq!(
            packs_covering(53, &[28, 56]),
            (56, vec![PackCount { size: 56, count: 1 }])
        );
        assert_eq!(
            packs_covering(29, &[28]),
            (56, vec![PackCount { size: 28, count: 2 }])
        );
        assert_eq!(packs_covering(0, &[28]).0, 0);
        // Exactly 4 × 30 beats 100 + 30; 130 is 100 + 30, not 5 × 30.
        assert_eq!(
            packs_covering(120, &[30, 100]),
            (120, vec![PackCount { size: 30, count: 4 }])
        );
        assert_eq!(
            packs_covering(125, &[30, 100]),
            (
                130,
                vec![
                    PackCount {
                        size: 100,
                        count: 1
                    },
                    PackCount { size: 30, count: 1 }
                ]
            )
        );
        // Large needs: bulk packs of the largest size, still exact.
        let (t, c) = packs_covering(1_000_003, &[28, 56]);
        assert_eq!(t, 1_000_020);
        assert_eq!(sum(&c), t);
    }

    #[test]
    fn controlled_packs_stay_within_the_need() {
        let (t, c) = packs_within(53, &[28]);
        assert_eq!((t, c), (28, vec![PackCount { size: 28, count: 1 }]));
        assert_eq!(packs_within(20, &[28]), (0, vec![]));
        let (t, c) = packs_within(999_999, &[28, 100]);
        assert!(t <= 999_999 && 999_999 - t < 28);
        assert_eq!(sum(&c), t);
    }

    #[test]
    fn dose_days_count_every_nth_day() {
        assert_eq!(dose_days_between(0, 6, 1), 7);
        assert_eq!(dose_days_between(0, 6, 2), 4);
        assert_eq!(dose_days_between(1, 6, 2), 3);
        assert_eq!(dose_days_between(1, 1, 2), 0);
        assert_eq!(dose_days_between(3, 9, 3), 3);
    }
}
