//! Turning doses into things a patient can actually take.
//!
//! A [`Kit`] is the set of products on hand for one plan. It answers three
//! questions, all in exact integers: can this daily dose be given, how is it
//! split into the day's administrations, and which tablets, tablet pieces or
//! liquid volumes make each administration.
//!
//! Choices, in order (the README documents them):
//! - A day is split as evenly as the products allow, larger parts first.
//!   Tablets/capsules alone are tried first; a liquid is used for the whole
//!   day only when solids cannot give the dose (one liquid per day, the most
//!   concentrated one that measures it exactly); a mix is the last resort.
//! - Per administration: the fewest pieces; among equals, the fewest split
//!   pieces (a whole lower-strength tablet beats half a higher one).
//! - Only products whose profile allows it are split, and only into the
//!   halves or quarters their score lines allow.

use std::fmt;

use serde::Serialize;

use crate::dose::{gcd, Dose};
use crate::profile::{Form, Formulation, Profile};

/// A product included in a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Product {
    /// As a prescriber names it: `10 mg tablet`, `1 mg/mL oral solution`.
    pub name: String,
    /// The `--strengths` key: `10mg`, `1mg/mL`.
    pub key: String,
    pub form: Form,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strength: Option<Dose>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concentration: Option<Dose>,
    /// Pieces per whole unit (1 = never split).
    pub split_into: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How much of one product to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Quantity {
    /// `pieces` of `1/split_into` of a tablet or capsule (`3` of `2` = 1½).
    Units { pieces: u64, split_into: u64 },
    /// A liquid volume in mL.
    Volume { ml: Dose },
}

/// One product and its quantity within an administration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Portion {
    /// Index into the plan's `products`.
    pub product: usize,
    pub quantity: Quantity,
}

/// One administration: the amount and what makes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Administration {
    pub amount: Dose,
    pub portions: Vec<Portion>,
}

/// A solid piece the solver may use: a whole unit or one fraction of it.
#[derive(Clone, Copy, Debug)]
struct Piece {
    product: usize,
    /// Size in solid quanta.
    size: u64,
    /// Fraction count (of `split_into`) this piece represents.
    fraction: u64,
    split: bool,
}

/// Above this many solid quanta the exact solver table is not built; such
/// profiles (absurd strength ratios) fall back to liquids or are refused.
const MAX_TABLE: u64 = 200_000;

/// The products on hand for one plan and everything derived from them.
#[derive(Clone, Debug)]
pub struct Kit {
    pub products: Vec<Product>,
    pieces: Vec<Piece>,
    /// Grid step of solids (micro-mg); 0 when there are none.
    solid_quantum: u64,
    /// (product index, concentration, dose per measurable step) for each
    /// liquid, most concentrated first.
    liquids: Vec<(usize, Dose, u64)>,
    /// The finest grid any product can reach (micro-mg).
    pub grid: u64,
    /// Best (pieces, split pieces, last piece index) for each solid amount in
    /// quanta up to `table.len()`, built once per kit.
    table: Vec<Option<(u32, u32, u16)>>,
    /// Amounts above this many quanta are first reduced with whole units of
    /// the largest piece (an optimal solution never needs more small pieces).
    reduce_above: u64,
    largest: Option<Piece>,
}

/// Which products a plan may use, as the user asked.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `--strengths` keys, normalised (`10mg`, `1mg/ml`); empty = all.
    pub strengths: Vec<String>,
    pub form: Option<FormFilter>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormFilter {
    Tablet,
    Capsule,
    Liquid,
}

/// Normalises a `--strengths` entry: `10 mg` → `10mg`, `1 mg/mL` → `1mg/ml`.
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
            let rest = if rest.is_empty() { "mg" } else { rest };
            format!("{d}{rest}")
        }
        Err(_) => t,
    }
}

impl Kit {
    /// Builds the kit from the profile's formulations and the user's choice.
    /// Errors name the bad strength and list those available.
    pub fn new(profile: &Profile, selection: &Selection) -> Result<Kit, String> {
        let unit = &profile.unit;
        let available: Vec<String> = profile.formulations.iter().map(|f| f.key(unit)).collect();
        let wanted: Vec<String> = selection
            .strengths
            .iter()
            .map(|s| normalise_key(s))
            .collect();
        for (w, typed) in wanted.iter().zip(&selection.strengths) {
            if !available.iter().any(|a| a.to_ascii_lowercase() == *w) {
                return Err(format!(
                    "strength '{typed}' is not a {} product (accepted: {})",
                    profile.display_name,
                    available.join(", ")
                ));
            }
        }
        let form_ok = |f: &Formulation| match selection.form {
            None => true,
            Some(FormFilter::Tablet) => f.form == Form::Tablet,
            Some(FormFilter::Capsule) => f.form == Form::Capsule,
            Some(FormFilter::Liquid) => f.form == Form::Liquid,
        };
        let mut products = Vec::new();
        for f in &profile.formulations {
            let key = f.key(unit);
            let named = wanted.contains(&key.to_ascii_lowercase());
            let included = if wanted.is_empty() {
                !f.restricted
            } else {
                named
            };
            if !included || !form_ok(f) {
                continue;
            }
            products.push(Product {
                name: f.name(unit),
                key,
                form: f.form,
                strength: f.strength,
                concentration: f.concentration,
                split_into: f.split.parts(),
                note: f.note.clone(),
            });
        }
        if products.is_empty() {
            let form = selection.form.map_or("", |f| match f {
                FormFilter::Tablet => " tablet",
                FormFilter::Capsule => " capsule",
                FormFilter::Liquid => " liquid",
            });
            return Err(format!(
                "no{form} product of {} matches the request (accepted strengths: {}; forms: {})",
                profile.display_name,
                available.join(", "),
                forms_of(profile).join(", ")
            ));
        }
        Ok(Kit::from_products(products, profile.liquid_step_ml))
    }

    /// Builds the solver tables for a fixed product list.
    pub fn from_products(products: Vec<Product>, liquid_step_ml: Dose) -> Kit {
        let mut raw_pieces: Vec<(usize, u64, u64, bool)> = Vec::new();
        for (i, p) in products.iter().enumerate() {
            if let Some(s) = p.strength {
                let n = p.split_into.max(1);
                for k in 1..=n {
                    // Whole unit once; fractions 1..n-1 as split pieces.
                    let size = s.micro() / n * k;
                    raw_pieces.push((i, size, k, k != n));
                }
            }
        }
        let solid_quantum = raw_pieces.iter().fold(0, |g, p| gcd(g, p.1));
        let mut pieces: Vec<Piece> = raw_pieces
            .iter()
            .filter(|p| p.1 > 0)
            .map(|&(product, size, fraction, split)| Piece {
                product,
                size: size / solid_quantum.max(1),
                fraction,
                split,
            })
            .collect();
        // Largest first; among equal sizes whole pieces first, so ties prefer
        // whole units of a lower strength over split higher ones.
        pieces.sort_by(|a, b| b.size.cmp(&a.size).then(a.split.cmp(&b.split)));
        let mut liquids: Vec<(usize, Dose, u64)> = products
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let c = p.concentration?;
                let per_step = Dose::from_volume(liquid_step_ml, c)?.micro();
                (per_step > 0).then_some((i, c, per_step))
            })
            .collect();
        liquids.sort_by_key(|l| std::cmp::Reverse(l.1));
        let grid = liquids
            .iter()
            .fold(solid_quantum, |g, l| gcd(g, l.2))
            .max(1);
        let largest = pieces.iter().copied().find(|p| !p.split);
        let reduce_above = largest.map_or(0, |l| {
            pieces
                .iter()
                .filter(|p| p.size != l.size || p.split)
                .map(|p| p.size.saturating_mul(l.size / gcd(p.size, l.size).max(1)))
                .fold(0u64, |a, b| a.saturating_add(b))
                .saturating_add(l.size)
        });
        let mut kit = Kit {
            products,
            pieces,
            solid_quantum,
            liquids,
            grid,
            table: Vec::new(),
            reduce_above,
            largest,
        };
        kit.build_table();
        kit
    }

    fn build_table(&mut self) {
        if self.pieces.is_empty() {
            return;
        }
        let Some(largest) = self.largest else { return };
        let len = self.reduce_above.saturating_add(2 * largest.size);
        if len > MAX_TABLE {
            return;
        }
        let len = len as usize + 1;
        let mut table: Vec<Option<(u32, u32, u16)>> = vec![None; len];
        table[0] = Some((0, 0, u16::MAX));
        for k in 1..len {
            let mut best: Option<(u32, u32, u16)> = None;
            for (pi, p) in self.pieces.iter().enumerate() {
                let size = p.size as usize;
                if size > k {
                    continue;
                }
                if let Some((n, s, _)) = table[k - size] {
                    let cand = (n + 1, s + u32::from(p.split), pi as u16);
                    if best.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                        best = Some(cand);
                    }
                }
            }
            table[k] = best;
        }
        self.table = table;
    }

    pub fn has_solids(&self) -> bool {
        self.solid_quantum > 0
    }

    pub fn has_liquids(&self) -> bool {
        !self.liquids.is_empty()
    }

    /// Whether solids can make `amount` (no allocation; same answer as
    /// `solve_solid(amount).is_some()`).
    fn can_solid(&self, amount: u64) -> bool {
        if amount == 0 {
            return true;
        }
        if self.solid_quantum == 0 || amount % self.solid_quantum != 0 || self.table.is_empty() {
            return false;
        }
        let Some(largest) = self.largest else {
            return false;
        };
        let mut k = amount / self.solid_quantum;
        if k > self.reduce_above {
            k -= (k - self.reduce_above) / largest.size * largest.size;
        }
        usize::try_from(k)
            .ok()
            .and_then(|k| self.table.get(k))
            .is_some_and(Option::is_some)
    }

    fn can_liquid(&self, amount: u64, which: usize) -> bool {
        self.liquids.get(which).is_some_and(|l| amount % l.2 == 0)
    }

    fn can_any(&self, amount: u64) -> bool {
        self.can_solid(amount) || (0..self.liquids.len()).any(|i| self.can_liquid(amount, i))
    }

    /// The fewest solid pieces making `amount`, or `None`.
    fn solve_solid(&self, amount: u64) -> Option<Vec<Portion>> {
        if amount == 0 {
            return Some(Vec::new());
        }
        if self.solid_quantum == 0 || amount % self.solid_quantum != 0 || self.table.is_empty() {
            return None;
        }
        let mut k = amount / self.solid_quantum;
        let largest = self.largest?;
        let mut counts: Vec<(usize, u64)> = Vec::new(); // (piece index, times)
        if k > self.reduce_above {
            let times = (k - self.reduce_above) / largest.size;
            k -= times * largest.size;
            let li = self
                .pieces
                .iter()
                .position(|p| p.product == largest.product && p.size == largest.size && !p.split)?;
            counts.push((li, times));
        }
        let mut rest = usize::try_from(k).ok()?;
        while rest > 0 {
            let (_, _, pi) = (*self.table.get(rest)?)?;
            let pi = usize::from(pi);
            counts.push((pi, 1));
            rest -= self.pieces[pi].size as usize;
        }
        // Sum fractions per product.
        let mut portions: Vec<Portion> = Vec::new();
        for (pi, times) in counts {
            let piece = self.pieces[pi];
            let split_into = self.products[piece.product].split_into;
            let add = piece.fraction.checked_mul(times)?;
            match portions.iter_mut().find(|p| p.product == piece.product) {
                Some(Portion {
                    quantity: Quantity::Units { pieces, .. },
                    ..
                }) => *pieces = pieces.checked_add(add)?,
                _ => portions.push(Portion {
                    product: piece.product,
                    quantity: Quantity::Units {
                        pieces: add,
                        split_into,
                    },
                }),
            }
        }
        portions.sort_by_key(|p| {
            std::cmp::Reverse(self.products[p.product].strength.unwrap_or_default())
        });
        Some(portions)
    }

    /// `amount` as one measured volume of liquid `which` (index in
    /// `liquids`), if exactly measurable.
    fn solve_liquid(&self, amount: u64, which: usize) -> Option<Vec<Portion>> {
        if amount == 0 {
            return Some(Vec::new());
        }
        let &(product, conc, per_step) = self.liquids.get(which)?;
        if amount % per_step != 0 {
            return None;
        }
        let ml = Dose::from_micro(amount).to_volume(conc)?;
        Some(vec![Portion {
            product,
            quantity: Quantity::Volume { ml },
        }])
    }

    /// Solids if they can, otherwise the most concentrated exact liquid.
    fn solve_any(&self, amount: u64) -> Option<Vec<Portion>> {
        self.solve_solid(amount)
            .or_else(|| (0..self.liquids.len()).find_map(|i| self.solve_liquid(amount, i)))
    }

    /// Splits a daily dose into `n` administrations, as evenly as the
    /// products allow, larger parts first. `None` if it cannot be given.
    pub fn split_daily(&self, daily: Dose, n: u32) -> Option<Vec<Administration>> {
        let (mode, amounts) = self.plan_split(daily.micro(), n.max(1))?;
        amounts
            .into_iter()
            .map(|a| {
                let portions = match mode {
                    Mode::Solid => self.solve_solid(a),
                    Mode::Liquid(i) => self.solve_liquid(a, i),
                    Mode::Any => self.solve_any(a),
                }?;
                Some(Administration {
                    amount: Dose::from_micro(a),
                    portions,
                })
            })
            .collect()
    }

    /// Chooses how a day is made and the amount of each administration,
    /// without building portions (cheap enough to call while searching for
    /// achievable doses).
    fn plan_split(&self, d: u64, n: u32) -> Option<(Mode, Vec<u64>)> {
        if d == 0 {
            return Some((Mode::Solid, vec![0; n as usize]));
        }
        // 1. Solids alone, on their own grid. The whole day must itself be
        //    a sum of pieces, which prunes the search cheaply.
        if self.can_solid(d) {
            let q = self.solid_quantum;
            let even = even_amounts(d, n, q);
            if even.iter().all(|&a| self.can_solid(a)) {
                return Some((Mode::Solid, even));
            }
            if let Some(parts) = search_split(d, n, q, |x| self.can_solid(x)) {
                return Some((Mode::Solid, parts));
            }
        }
        // 2. One liquid for the whole day: the most even split; on a tie the
        //    less concentrated liquid (larger, more precise volumes).
        let mut best: Option<(u64, usize, Vec<u64>)> = None;
        for (i, &(_, _, per_step)) in self.liquids.iter().enumerate().rev() {
            if d % per_step == 0 {
                let even = even_amounts(d, n, per_step);
                let spread = even.first().copied().unwrap_or(0) - even.last().copied().unwrap_or(0);
                if best.as_ref().is_none_or(|b| spread < b.0) {
                    best = Some((spread, i, even));
                }
            }
        }
        if let Some((_, i, amounts)) = best {
            return Some((Mode::Liquid(i), amounts));
        }
        // 3. A mix, part by part (only when there are both kinds).
        if self.has_solids() && self.has_liquids() && d % self.grid == 0 {
            let even = even_amounts(d, n, self.grid);
            if even.iter().all(|&a| self.can_any(a)) {
                return Some((Mode::Any, even));
            }
            return search_split(d, n, self.grid, |x| self.can_any(x)).map(|p| (Mode::Any, p));
        }
        None
    }

    /// Whether a daily dose can be given with tablets/capsules alone.
    pub fn achievable_with_solids(&self, daily: Dose, n: u32) -> bool {
        !daily.is_zero()
            && matches!(
                self.plan_split(daily.micro(), n.max(1)),
                Some((Mode::Solid, _))
            )
    }

    /// The smallest daily dose ≥ `at_least` and ≤ `at_most` that tablets or
    /// capsules alone can give.
    pub fn next_solid_at_or_above(&self, at_least: Dose, at_most: Dose, n: u32) -> Option<Dose> {
        if !self.has_solids() {
            return None;
        }
        let q = self.solid_quantum;
        let first = at_least.micro().div_ceil(q);
        for k in first..first.saturating_add(10_000) {
            let v = k.checked_mul(q)?;
            if v > at_most.micro() {
                return None;
            }
            if v > 0 && self.achievable_with_solids(Dose::from_micro(v), n) {
                return Some(Dose::from_micro(v));
            }
        }
        None
    }

    /// Whether a daily dose can be given in `n` administrations.
    pub fn achievable(&self, daily: Dose, n: u32) -> bool {
        self.plan_split(daily.micro(), n.max(1)).is_some()
    }

    /// The smallest achievable daily dose ≥ `at_least` and ≤ `at_most`.
    pub fn next_at_or_above(&self, at_least: Dose, at_most: Dose, n: u32) -> Option<Dose> {
        let g = self.grid;
        let first = at_least.micro().div_ceil(g);
        for k in first..first.saturating_add(100_000) {
            let v = k.checked_mul(g)?;
            if v > at_most.micro() {
                return None;
            }
            if v > 0 && self.achievable(Dose::from_micro(v), n) {
                return Some(Dose::from_micro(v));
            }
        }
        None
    }

    /// The largest achievable daily dose strictly below `below` and above
    /// zero.
    pub fn next_below(&self, below: Dose, n: u32) -> Option<Dose> {
        let g = self.grid;
        let mut k = below.micro().saturating_sub(1) / g;
        for _ in 0..100_000 {
            if k == 0 {
                return None;
            }
            let v = Dose::from_micro(k * g);
            if self.achievable(v, n) {
                return Some(v);
            }
            k -= 1;
        }
        None
    }

    /// The smallest achievable daily dose above zero.
    pub fn smallest(&self, n: u32) -> Option<Dose> {
        self.next_at_or_above(Dose::from_micro(1), Dose::from_micro(u64::MAX), n)
    }
}

/// How a day's administrations are made.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Solid,
    Liquid(usize),
    Any,
}

/// `d` in `n` parts on a grid of `quantum`, larger parts first.
fn even_amounts(d: u64, n: u32, quantum: u64) -> Vec<u64> {
    let units = d / quantum;
    let base = units / u64::from(n);
    let extra = units % u64::from(n);
    (0..u64::from(n))
        .map(|i| (base + u64::from(i < extra)) * quantum)
        .collect()
}

/// Depth-first search for a non-increasing split whose parts can each be
/// given, trying the most even candidates first. Bounded work.
fn search_split(d: u64, n: u32, quantum: u64, can: impl Fn(u64) -> bool) -> Option<Vec<u64>> {
    if n <= 1 {
        return None; // the even split already tried the only option
    }
    fn go(
        rest: u64,
        left: u32,
        cap: u64,
        quantum: u64,
        parts: &mut Vec<u64>,
        budget: &mut u32,
        ok: &dyn Fn(u64) -> bool,
    ) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        if left == 1 {
            if rest <= cap && ok(rest) {
                parts.push(rest);
                return true;
            }
            return false;
        }
        let min_units = (rest / quantum).div_ceil(u64::from(left));
        let max_units = cap.min(rest) / quantum;
        let mut tried = 0;
        let mut u = min_units;
        while u <= max_units && tried < 64 {
            let a = u * quantum;
            if ok(a) {
                tried += 1;
                parts.push(a);
                if go(rest - a, left - 1, a, quantum, parts, budget, ok) {
                    return true;
                }
                parts.pop();
            }
            u += 1;
        }
        false
    }
    let mut budget = 2_000u32;
    let mut parts = Vec::with_capacity(n as usize);
    go(d, n, d, quantum, &mut parts, &mut budget, &can).then_some(parts)
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

    fn dose(t: &str) -> Dose {
        Dose::parse_decimal(t).unwrap()
    }

    fn tablet(mg: &str, split: u64) -> Product {
        Product {
            name: format!("{mg} mg tablet"),
            key: format!("{mg}mg"),
            form: Form::Tablet,
            strength: Some(dose(mg)),
            concentration: None,
            split_into: split,
            note: None,
        }
    }

    fn liquid(c: &str) -> Product {
        Product {
            name: format!("{c} mg/mL oral solution"),
            key: format!("{c}mg/mL"),
            form: Form::Liquid,
            strength: None,
            concentration: Some(dose(c)),
            split_into: 1,
            note: None,
        }
    }

    fn amounts(a: &[Administration]) -> Vec<String> {
        a.iter().map(|x| x.amount.to_string()).collect()
    }

    #[test]
    fn ten_mg_scored_only_gives_multiples_of_five() {
        let kit = Kit::from_products(vec![tablet("10", 2)], dose("0.1"));
        assert!(kit.achievable(dose("25"), 3));
        assert!(!kit.achievable(dose("22"), 3));
        let split = kit.split_daily(dose("25"), 3).unwrap();
        assert_eq!(amounts(&split), ["10", "10", "5"]);
        assert_eq!(
            split[2].portions,
            vec![Portion {
                product: 0,
                quantity: Quantity::Units {
                    pieces: 1,
                    split_into: 2
                }
            }]
        );
    }

    #[test]
    fn whole_lower_strength_beats_split_higher() {
        let kit = Kit::from_products(vec![tablet("10", 2), tablet("5", 1)], dose("0.1"));
        let split = kit.split_daily(dose("15"), 1).unwrap();
        // 10 + 5 whole, not 1½ × 10.
        assert_eq!(split[0].portions.len(), 2);
        let split = kit.split_daily(dose("5"), 1).unwrap();
        assert_eq!(split[0].portions[0].product, 1);
    }

    #[test]
    fn liquid_fills_what_tablets_cannot() {
        let kit = Kit::from_products(vec![tablet("10", 2), liquid("1"), liquid("2")], dose("0.1"));
        let split = kit.split_daily(dose("3"), 3).unwrap();
        assert_eq!(amounts(&split), ["1", "1", "1"]);
        // Equally even with either liquid: the less concentrated one wins.
        assert_eq!(
            split[0].portions[0],
            Portion {
                product: 1,
                quantity: Quantity::Volume { ml: dose("1") }
            }
        );
        // 4.5 mg in 2 doses: 2.3 + 2.2 with 1 mg/mL beats 2.4 + 2.2 with 2 mg/mL.
        let split = kit.split_daily(dose("4.5"), 2).unwrap();
        assert_eq!(amounts(&split), ["2.3", "2.2"]);
        let split = kit.split_daily(dose("0.3"), 3).unwrap();
        assert_eq!(split[0].portions[0].product, 1);
        assert!(kit.achievable(dose("0.1"), 1));
        assert!(!kit.achievable(dose("0.05"), 1));
    }

    #[test]
    fn large_doses_use_the_reduction() {
        let kit = Kit::from_products(
            vec![tablet("20", 2), tablet("10", 2), tablet("5", 1)],
            dose("0.1"),
        );
        let split = kit.split_daily(dose("9000"), 1).unwrap();
        assert_eq!(
            split[0].portions[0].quantity,
            Quantity::Units {
                pieces: 900,
                split_into: 2
            }
        );
    }

    #[test]
    fn odd_piece_sets_search_for_a_split() {
        // 2 mg unscored and 5 mg scored: 1.5 is impossible, 4.5 = 2 + 2.5.
        let kit = Kit::from_products(vec![tablet("2", 1), tablet("5", 2)], dose("0.1"));
        let split = kit.split_daily(dose("9"), 2).unwrap();
        assert_eq!(amounts(&split), ["4.5", "4.5"]);
        assert!(!kit.achievable(dose("3"), 2) || kit.split_daily(dose("3"), 2).is_some());
        let split = kit.split_daily(dose("6.5"), 2).unwrap();
        let total: u64 = split.iter().map(|a| a.amount.micro()).sum();
        assert_eq!(total, dose("6.5").micro());
    }

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
    fn keys_normalise() {
        assert_eq!(normalise_key("10 mg"), "10mg");
        assert_eq!(normalise_key("10.0MG"), "10mg");
        assert_eq!(normalise_key("1 mg/mL"), "1mg/ml");
        assert_eq!(normalise_key("10"), "10mg");
    }
}
