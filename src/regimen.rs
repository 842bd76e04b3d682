//! Regimens: the products a whole plan uses, and how each day is made.
//!
//! A regimen is a *solid set* (one form, one interchangeable group, one to
//! three strengths, each split only as far as chosen) and optionally one
//! liquid that takes over, for good, once the solids can no longer give the
//! doses the strategy needs. Choosing among regimens is the job of
//! [`crate::stepper`]; this module answers, in exact integers, which daily
//! doses a regimen can give in `k` administrations and how.
//!
//! Rules kept here:
//! - one administration never needs more pieces than the piece limit (a
//!   whole unit, a half and a quarter are one piece each; ¾ is three);
//! - the administrations of a day differ by at most the set's smallest
//!   piece, larger ones first; a liquid day gives the same volume each time;
//! - per administration: fewest pieces, then fewest split pieces.

use std::collections::HashMap;
use std::rc::Rc;

use crate::dose::{gcd, Dose};
use crate::formulation::{Kit, Portion, Quantity};
use crate::profile::Form;

/// Work units one plan may spend searching (see [`Budget`]).
pub const PLAN_BUDGET: u64 = 4_000_000;

/// Bounded work: every search step spends from it, so no profile, however
/// fine its strengths, can make one plan run away.
#[derive(Debug)]
pub struct Budget {
    left: u64,
}

/// The budget ran out: the profile's products are too fine to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

impl Budget {
    pub fn new(units: u64) -> Budget {
        Budget { left: units }
    }

    pub fn spend(&mut self, n: u64) -> Result<(), Exhausted> {
        if self.left < n {
            self.left = 0;
            return Err(Exhausted);
        }
        self.left -= n;
        Ok(())
    }
}

/// One product of a solid set, split into `split_into` pieces (1 = whole
/// units only, even where the label allows halves).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// Index into the kit's products.
    pub product: usize,
    /// Micro-mg per whole unit.
    pub strength: u64,
    pub split_into: u64,
}

/// Pieces needed for `f` of `n` parts of one unit: ½ and ¼ are one piece,
/// ¾ is three (a cross-scored tablet broken into quarters).
fn fraction_pieces(f: u64, n: u64) -> u32 {
    if f == 0 {
        return 0;
    }
    let g = gcd(f, n).max(1);
    (f / g) as u32
}

/// The best way to make one administration amount.
#[derive(Clone, Debug)]
struct Made {
    amount: u64,
    pieces: u32,
    split: u32,
    /// Per member: fractions of `split_into` (0 = not used).
    counts: Vec<u64>,
}

/// A set of solid products of one form and group, with every amount one
/// administration can hold within the piece limit.
#[derive(Debug)]
pub struct SolidSet {
    pub members: Vec<Member>,
    pub form: Form,
    /// The smallest piece (micro-mg): a day's administrations differ by at
    /// most this.
    pub piece: u64,
    /// Sorted by amount; the best composition for each.
    made: Vec<Made>,
    /// `made[i].amount`, contiguous so windows are plain slices.
    amounts: Vec<u64>,
}

impl SolidSet {
    /// Enumerates every administration within `max_pieces`. Cheap: at most
    /// three members and a handful of pieces each.
    pub fn new(members: Vec<Member>, form: Form, max_pieces: u32) -> SolidSet {
        let piece = members
            .iter()
            .map(|m| m.strength / m.split_into.max(1))
            .min()
            .unwrap_or(0);
        let mut best: HashMap<u64, Made> = HashMap::new();
        let mut counts = vec![0u64; members.len()];
        enumerate(&members, 0, max_pieces, 0, 0, 0, &mut counts, &mut best);
        let mut made: Vec<Made> = best.into_values().collect();
        made.sort_by_key(|m| m.amount);
        let amounts = made.iter().map(|m| m.amount).collect();
        SolidSet {
            members,
            form,
            piece,
            made,
            amounts,
        }
    }

    fn index_at_or_above(&self, amount: u64) -> usize {
        self.amounts.partition_point(|&a| a < amount)
    }

    /// The smallest daily dose in `[lo, hi]` this set gives in `k`
    /// administrations, each within one smallest piece of the others.
    pub fn next_day(
        &self,
        lo: u64,
        hi: u64,
        k: u32,
        budget: &mut Budget,
    ) -> Result<Option<u64>, Exhausted> {
        let k64 = u64::from(k);
        if lo > hi || k == 0 || self.made.is_empty() {
            return Ok(None);
        }
        // The smallest part m satisfies k·m ≤ hi and k·(m + piece) ≥ lo.
        let first_m = (lo / k64).saturating_sub(self.piece);
        let mut best: Option<u64> = None;
        let mut i = self.index_at_or_above(first_m);
        while i < self.made.len() {
            let m = self.made[i].amount;
            if m.saturating_mul(k64) > hi || best.is_some_and(|b| m.saturating_mul(k64) >= b) {
                break;
            }
            budget.spend(1)?;
            let end = self.index_at_or_above(m.saturating_add(self.piece).saturating_add(1));
            let window = &self.amounts[i..end];
            if let Some(s) =
                smallest_sum_at_least(window, k, lo, hi.min(best.unwrap_or(u64::MAX)), budget)?
            {
                best = Some(best.map_or(s, |b| b.min(s)));
            }
            i += 1;
        }
        Ok(best)
    }

    /// The largest daily dose in `[lo, hi]` this set gives in `k`
    /// administrations.
    pub fn prev_day(
        &self,
        lo: u64,
        hi: u64,
        k: u32,
        budget: &mut Budget,
    ) -> Result<Option<u64>, Exhausted> {
        let k64 = u64::from(k);
        if lo > hi || k == 0 || self.made.is_empty() {
            return Ok(None);
        }
        let mut end = self.index_at_or_above(hi / k64 + 1);
        let mut best: Option<u64> = None;
        while end > 0 {
            let i = end - 1;
            let m = self.made[i].amount;
            if m.saturating_add(self.piece).saturating_mul(k64) < lo
                || best.is_some_and(|b| m.saturating_add(self.piece).saturating_mul(k64) <= b)
            {
                break;
            }
            budget.spend(1)?;
            let top = self.index_at_or_above(m.saturating_add(self.piece).saturating_add(1));
            let window = &self.amounts[i..top];
            if let Some(s) =
                largest_sum_at_most(window, k, lo.max(best.map_or(0, |b| b + 1)), hi, budget)?
            {
                best = Some(best.map_or(s, |b| b.max(s)));
            }
            end -= 1;
        }
        Ok(best)
    }

    /// Splits a daily dose into `k` administrations (largest first), as
    /// evenly as possible, then with the fewest pieces. Each part is
    /// returned with its portions.
    pub fn split_day(
        &self,
        daily: u64,
        k: u32,
        budget: &mut Budget,
    ) -> Result<Option<DayParts>, Exhausted> {
        let k64 = u64::from(k);
        if k == 0 {
            return Ok(None);
        }
        // The most even split has the largest smallest part.
        let mut i = self.index_at_or_above(daily / k64 + 1);
        while i > 0 {
            i -= 1;
            let m = self.made[i].amount;
            if m.saturating_add(self.piece).saturating_mul(k64) < daily {
                break;
            }
            budget.spend(1)?;
            let top = self.index_at_or_above(m.saturating_add(self.piece).saturating_add(1));
            let window: Vec<usize> = (i..top).rev().collect();
            let mut picks = Vec::with_capacity(k as usize);
            if self.pick(&window, 0, k, daily, &mut picks, budget)? {
                return Ok(Some(
                    picks
                        .iter()
                        .map(|&j| (self.made[j].amount, self.portions(&self.made[j])))
                        .collect(),
                ));
            }
        }
        Ok(None)
    }

    /// Depth-first: `left` parts from `window[from..]` (descending amounts)
    /// summing to `rest`.
    fn pick(
        &self,
        window: &[usize],
        from: usize,
        left: u32,
        rest: u64,
        picks: &mut Vec<usize>,
        budget: &mut Budget,
    ) -> Result<bool, Exhausted> {
        budget.spend(1)?;
        if left == 0 {
            return Ok(rest == 0);
        }
        for w in from..window.len() {
            let a = self.made[window[w]].amount;
            let low = self.made[*window.last().unwrap_or(&window[w])].amount;
            // Every remaining part lies between the window's lowest and a.
            if a.saturating_mul(u64::from(left)) < rest {
                break;
            }
            if low.saturating_mul(u64::from(left)) > rest {
                return Ok(false);
            }
            if a > rest {
                continue;
            }
            picks.push(window[w]);
            if self.pick(window, w, left - 1, rest - a, picks, budget)? {
                return Ok(true);
            }
            picks.pop();
        }
        Ok(false)
    }

    fn portions(&self, made: &Made) -> Vec<Portion> {
        let mut out: Vec<(u64, Portion)> = made
            .counts
            .iter()
            .zip(&self.members)
            .filter(|(c, _)| **c > 0)
            .map(|(&c, m)| {
                (
                    m.strength,
                    Portion {
                        product: m.product,
                        quantity: Quantity::Units {
                            pieces: c,
                            split_into: m.split_into,
                        },
                    },
                )
            })
            .collect();
        out.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        out.into_iter().map(|(_, p)| p).collect()
    }

    /// (pieces, split pieces) of the best composition of one amount.
    pub fn pieces_of(&self, amount: u64) -> Option<(u32, u32)> {
        let i = self.index_at_or_above(amount);
        self.made
            .get(i)
            .filter(|m| m.amount == amount)
            .map(|m| (m.pieces, m.split))
    }
}

#[allow(clippy::too_many_arguments)]
fn enumerate(
    members: &[Member],
    i: usize,
    pieces_left: u32,
    amount: u64,
    pieces: u32,
    split: u32,
    counts: &mut Vec<u64>,
    best: &mut HashMap<u64, Made>,
) {
    if i == members.len() {
        if amount == 0 {
            return;
        }
        let better = best
            .get(&amount)
            .is_none_or(|b| (pieces, split) < (b.pieces, b.split));
        if better {
            best.insert(
                amount,
                Made {
                    amount,
                    pieces,
                    split,
                    counts: counts.clone(),
                },
            );
        }
        return;
    }
    let m = members[i];
    let n = m.split_into.max(1);
    let part = m.strength / n;
    for whole in 0..=u64::from(pieces_left) {
        for f in 0..n {
            let p = whole as u32 + fraction_pieces(f, n);
            if p > pieces_left {
                continue;
            }
            counts[i] = whole * n + f;
            enumerate(
                members,
                i + 1,
                pieces_left - p,
                amount + part * counts[i],
                pieces + p,
                split + u32::from(f > 0) * fraction_pieces(f, n),
                counts,
                best,
            );
        }
    }
    counts[i] = 0;
}

/// The smallest sum in `[lo, hi]` of `k` values from `window` (ascending,
/// repeats allowed).
fn smallest_sum_at_least(
    window: &[u64],
    k: u32,
    lo: u64,
    hi: u64,
    budget: &mut Budget,
) -> Result<Option<u64>, Exhausted> {
    if let Some(two) = two_values(window, k) {
        return Ok(two.first_at_least(lo).filter(|&s| s <= hi));
    }
    Ok(sums(window, k, lo, hi, budget)?
        .into_iter()
        .find(|&s| s >= lo))
}

fn largest_sum_at_most(
    window: &[u64],
    k: u32,
    lo: u64,
    hi: u64,
    budget: &mut Budget,
) -> Result<Option<u64>, Exhausted> {
    if let Some(two) = two_values(window, k) {
        return Ok(two.last_at_most(hi).filter(|&s| s >= lo));
    }
    Ok(sums(window, k, lo, hi, budget)?
        .into_iter()
        .rev()
        .find(|&s| s <= hi && s >= lo))
}

/// The sums of `k` values from one or two distinct values: `k·a + j·(b−a)`
/// for `j` in `0..=k` (the common case, with no allocation).
struct TwoValues {
    base: u64,
    step: u64,
    k: u64,
}

fn two_values(window: &[u64], k: u32) -> Option<TwoValues> {
    let k = u64::from(k);
    match *window {
        [a] => Some(TwoValues {
            base: a.checked_mul(k)?,
            step: 0,
            k: 0,
        }),
        [a, b] => Some(TwoValues {
            base: a.checked_mul(k)?,
            step: b - a,
            k,
        }),
        _ => None,
    }
}

impl TwoValues {
    fn max(&self) -> u64 {
        self.base.saturating_add(self.step.saturating_mul(self.k))
    }

    fn first_at_least(&self, lo: u64) -> Option<u64> {
        if lo <= self.base {
            return Some(self.base);
        }
        if self.step == 0 || lo > self.max() {
            return None;
        }
        let j = (lo - self.base).div_ceil(self.step);
        Some(self.base + j * self.step)
    }

    fn last_at_most(&self, hi: u64) -> Option<u64> {
        if hi >= self.max() {
            return Some(self.max());
        }
        if hi < self.base {
            return None;
        }
        if self.step == 0 {
            return Some(self.base);
        }
        Some(self.base + (hi - self.base) / self.step * self.step)
    }
}

/// Every sum of `k` values from `window` within `[lo, hi]`, ascending.
fn sums(
    window: &[u64],
    k: u32,
    lo: u64,
    hi: u64,
    budget: &mut Budget,
) -> Result<Vec<u64>, Exhausted> {
    let k64 = u64::from(k);
    match window {
        [] => Ok(Vec::new()),
        [a] => {
            let s = a.saturating_mul(k64);
            Ok(if (lo..=hi).contains(&s) {
                vec![s]
            } else {
                Vec::new()
            })
        }
        [a, b] => {
            // k·a + j·(b − a) for j in 0..=k.
            let step = b - a;
            let base = a.saturating_mul(k64);
            let first = if lo > base {
                (lo - base).div_ceil(step)
            } else {
                0
            };
            let mut out = Vec::new();
            for j in first..=k64 {
                let s = base.saturating_add(j * step);
                if s > hi {
                    break;
                }
                budget.spend(1)?;
                out.push(s);
            }
            Ok(out)
        }
        _ => {
            let min = window[0];
            let max = window[window.len() - 1];
            let mut reach: Vec<u64> = vec![0];
            for left in (0..k64).rev() {
                let mut next: Vec<u64> = Vec::with_capacity(reach.len() * window.len());
                for &s in &reach {
                    for &w in window {
                        let t = s + w;
                        // Prune sums that can no longer land in [lo, hi].
                        if t.saturating_add(min.saturating_mul(left)) > hi
                            || t.saturating_add(max.saturating_mul(left)) < lo
                        {
                            continue;
                        }
                        next.push(t);
                    }
                }
                budget.spend(next.len() as u64 + 1)?;
                next.sort_unstable();
                next.dedup();
                reach = next;
                if reach.is_empty() {
                    break;
                }
            }
            Ok(reach)
        }
    }
}

/// One liquid: every day's administrations are the same measured volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Liquid {
    pub product: usize,
    pub concentration: Dose,
    /// Micro-mg in the smallest measurable volume step.
    pub per_step: u64,
}

impl Liquid {
    /// The smallest daily dose in `[lo, hi]` given as `k` equal volumes.
    pub fn next_day(&self, lo: u64, hi: u64, k: u32) -> Option<u64> {
        let unit = self.per_step.checked_mul(u64::from(k))?;
        let v = lo.div_ceil(unit).checked_mul(unit)?;
        (v <= hi && v > 0).then_some(v)
    }

    /// The largest daily dose in `[lo, hi]` given as `k` equal volumes.
    pub fn prev_day(&self, lo: u64, hi: u64, k: u32) -> Option<u64> {
        let unit = self.per_step.checked_mul(u64::from(k))?;
        let v = hi / unit * unit;
        (v >= lo && v > 0).then_some(v)
    }

    pub fn split_day(&self, daily: u64, k: u32) -> Option<DayParts> {
        let unit = self.per_step.checked_mul(u64::from(k))?;
        if !daily.is_multiple_of(unit) {
            return None;
        }
        let each = daily / u64::from(k);
        let ml = Dose::from_micro(each).to_volume(self.concentration)?;
        Some(
            (0..k)
                .map(|_| {
                    (
                        each,
                        vec![Portion {
                            product: self.product,
                            quantity: Quantity::Volume { ml },
                        }],
                    )
                })
                .collect(),
        )
    }
}

/// A candidate regimen: solids first, then (optionally) one liquid.
#[derive(Clone, Debug)]
pub struct Regimen {
    pub solid: Option<Rc<SolidSet>>,
    pub liquid: Option<Liquid>,
}

/// The kit's liquids that can be measured exactly in the profile's steps,
/// least concentrated first (larger, more precise volumes).
pub fn liquids(kit: &Kit) -> Vec<Liquid> {
    let mut out: Vec<Liquid> = kit
        .products
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let c = p.concentration?;
            let per_step = Dose::from_volume(kit.liquid_step_ml, c)?.micro();
            (per_step > 0).then_some(Liquid {
                product: i,
                concentration: c,
                per_step,
            })
        })
        .collect();
    out.sort_by_key(|l| l.concentration);
    out
}

/// Solid sets of `size` products from the kit: one form, one group, each
/// product at each split level its label allows (fewest splits first).
pub fn solid_sets(kit: &Kit, size: usize, start: Dose) -> Vec<Vec<Member>> {
    // A product whose smallest piece is above the starting dose can never
    // be part of a dose of this plan.
    let solids: Vec<usize> = (0..kit.products.len())
        .filter(|&i| {
            let p = &kit.products[i];
            p.strength
                .is_some_and(|s| s.micro() / p.split_into.max(1) <= start.micro())
        })
        .collect();
    let mut out = Vec::new();
    let mut chosen = Vec::new();
    combinations(&solids, size, 0, &mut chosen, &mut |set: &[usize]| {
        let first = &kit.products[set[0]];
        let compatible = set.iter().all(|&i| {
            let p = &kit.products[i];
            p.form == first.form && p.group == first.group
        });
        if !compatible {
            return;
        }
        for levels in split_levels(kit, set) {
            out.push(
                set.iter()
                    .zip(levels)
                    .map(|(&i, split_into)| Member {
                        product: i,
                        strength: kit.products[i].strength.map_or(0, Dose::micro),
                        split_into,
                    })
                    .collect(),
            );
        }
    });
    // Fewest split pieces first: whole units, then halves, then quarters.
    out.sort_by_key(|set: &Vec<Member>| set.iter().map(|m| m.split_into).sum::<u64>());
    out
}

fn combinations(
    items: &[usize],
    size: usize,
    from: usize,
    chosen: &mut Vec<usize>,
    f: &mut dyn FnMut(&[usize]),
) {
    if chosen.len() == size {
        f(chosen);
        return;
    }
    for i in from..items.len() {
        chosen.push(items[i]);
        combinations(items, size, i + 1, chosen, f);
        chosen.pop();
    }
}

/// Every combination of split levels (1, 2, 4 as allowed) for a set.
fn split_levels(kit: &Kit, set: &[usize]) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = vec![Vec::new()];
    for &i in set {
        let allowed = kit.products[i].split_into;
        let levels: Vec<u64> = [1u64, 2, 4]
            .into_iter()
            .filter(|l| *l <= allowed && allowed.is_multiple_of(*l))
            .collect();
        out = out
            .into_iter()
            .flat_map(|prefix| {
                levels.iter().map(move |&l| {
                    let mut v = prefix.clone();
                    v.push(l);
                    v
                })
            })
            .collect();
    }
    out
}

/// Solid sets by their members and piece limit.
type SetCache = HashMap<(Vec<Member>, u32), Rc<SolidSet>>;

/// A day's administrations: each amount (micro-mg) and what makes it.
pub type DayParts = Vec<(u64, Vec<Portion>)>;

thread_local! {
    /// Solid sets already enumerated on this thread (batch rows share them).
    /// Bounded: cleared when full.
    static SETS: std::cell::RefCell<SetCache> = std::cell::RefCell::new(HashMap::new());
}

const SET_CACHE_LIMIT: usize = 512;

/// A solid set, built once per thread for the same members and limit.
pub fn solid_set(members: Vec<Member>, form: Form, max_pieces: u32) -> Rc<SolidSet> {
    SETS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let key = (members, max_pieces);
        if let Some(s) = cache.get(&key) {
            if s.form == form {
                return Rc::clone(s);
            }
        }
        if cache.len() >= SET_CACHE_LIMIT {
            cache.clear();
        }
        let set = Rc::new(SolidSet::new(key.0.clone(), form, max_pieces));
        cache.insert(key, Rc::clone(&set));
        set
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dose::SCALE;

    fn mg(t: &str) -> u64 {
        Dose::parse_decimal(t).unwrap().micro()
    }

    fn member(strength: &str, split: u64) -> Member {
        Member {
            product: 0,
            strength: mg(strength),
            split_into: split,
        }
    }

    fn budget() -> Budget {
        Budget::new(PLAN_BUDGET)
    }

    #[test]
    fn scored_ten_gives_even_days() {
        let set = SolidSet::new(vec![member("10", 2)], Form::Tablet, 4);
        let b = &mut budget();
        // 55 mg in 3: 20 + 20 + 15 (within one half tablet).
        let parts = set.split_day(mg("55"), 3, b).unwrap().unwrap();
        let amounts: Vec<u64> = parts.iter().map(|p| p.0 / SCALE).collect();
        assert_eq!(amounts, [20, 20, 15]);
        // 10 mg cannot be 3 even doses of halves; 2 doses of 5 can.
        assert!(set.split_day(mg("10"), 3, b).unwrap().is_none());
        assert!(set.split_day(mg("10"), 2, b).unwrap().is_some());
        assert_eq!(
            set.next_day(mg("51"), mg("60"), 3, b).unwrap(),
            Some(mg("55"))
        );
        assert_eq!(
            set.prev_day(mg("1"), mg("54"), 3, b).unwrap(),
            Some(mg("50"))
        );
        // More than 4 pieces (25 mg = 2½ tablets is 3 pieces; 45 = 4½ is 5).
        assert!(set.split_day(mg("45"), 1, b).unwrap().is_none());
    }

    #[test]
    fn three_quarters_count_as_three_pieces() {
        let set = SolidSet::new(vec![member("4", 4)], Form::Tablet, 2);
        assert_eq!(set.pieces_of(mg("1")), Some((1, 1)));
        assert_eq!(set.pieces_of(mg("2")), Some((1, 1)));
        assert_eq!(set.pieces_of(mg("3")), None);
        let both = SolidSet::new(vec![member("4", 4), member("2", 1)], Form::Tablet, 4);
        // 3 mg: a 2 mg tablet and a quarter (2 pieces), not ¾ (3 pieces).
        assert_eq!(both.pieces_of(mg("3")).map(|p| p.0), Some(2));
    }

    #[test]
    fn liquid_days_are_equal_volumes() {
        let l = Liquid {
            product: 0,
            concentration: Dose::from_micro(mg("1")),
            per_step: mg("0.1"),
        };
        assert_eq!(l.next_day(mg("40.5"), mg("45"), 4), Some(mg("40.8")));
        assert!(l.split_day(mg("40.5"), 4).is_none());
        let parts = l.split_day(mg("40.8"), 4).unwrap();
        assert!(parts.iter().all(|p| p.0 == mg("10.2")));
        assert_eq!(l.prev_day(mg("1"), mg("40.7"), 4), Some(mg("40.4")));
    }

    #[test]
    fn sums_of_wide_windows() {
        let b = &mut budget();
        let s = sums(&[5, 6, 7], 3, 0, 100, b).unwrap();
        assert_eq!(s, (15..=21).collect::<Vec<_>>());
        assert_eq!(
            smallest_sum_at_least(&[5, 7], 3, 16, 100, b).unwrap(),
            Some(17)
        );
        assert_eq!(largest_sum_at_most(&[5, 7], 3, 0, 18, b).unwrap(), Some(17));
    }
}
