//! Walking a strategy down through a regimen, and choosing the regimen.
//!
//! The plan, not the step, is the unit of product choice: every candidate
//! regimen (a solid set, then perhaps one liquid) is walked from the
//! starting dose to the target, and the walk that best keeps the rules wins.
//! Walks are compared by `Score`, then `Finish`: safety first (an
//! unplanned stop from as low a dose as possible, no cut beyond the one
//! asked), then solids for as long as they can give the doses, the piece
//! limit, no quarters, fewest products, keeping the day's doses, evenness,
//! closeness to the asked doses, pieces. Form continuity and even doses are
//! structural: solids first, at most one switch to a liquid, never back;
//! every day's administrations within one smallest piece (equal volumes on
//! a liquid), with fewer of them rather than uneven ones.
//!
//! At each step the strategy's exact dose is rounded *up* (a smaller cut)
//! to what the regimen gives, keeping at least half the cut asked (and at
//! least the profile's `min_step` for percent and hyperbolic plans); a
//! larger cut is taken only as the "next lower" dose, and a stop the
//! strategy did not ask for is always recorded so that it is warned.

use std::rc::Rc;

use crate::dose::Dose;
use crate::formulation::{Kit, Portion};
use crate::profile::Profile;
use crate::regimen::{self, Budget, Exhausted, Liquid, Regimen, SolidSet};
use crate::strategy::{next_exact, Adjustment, CustomEntry, Strategy, MAX_STEPS};

/// Which part of the regimen gives a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Solid,
    Liquid,
}

/// One step of a walk: the dose and how it is given.
#[derive(Clone, Debug)]
pub struct WalkStep {
    pub dose: Dose,
    /// What the strategy (with the profile's ending rules) asked for, when
    /// the dose differs from it.
    pub exact: Option<Dose>,
    pub adjustment: Option<Adjustment>,
    /// Days to hold, when the strategy fixes it (custom).
    pub hold: Option<u32>,
    /// The dose is taken every this many days (1 = daily; custom `/N`).
    pub every_days: u32,
    pub phase: Phase,
    /// Administrations a day (0 on the stopping day).
    pub admins: u32,
    /// The last dose before stopping (at or below the ending's `stop_from`).
    pub final_phase: bool,
}

/// What the walk needs besides the regimen.
pub struct Context<'a> {
    pub profile: &'a Profile,
    pub strategy: &'a Strategy,
    pub start: Dose,
    pub target: Dose,
    /// Administrations a day at the start.
    pub doses_per_day: u32,
    /// A revision's rest: the doses a day it starts with and keeps.
    pub keep_doses: Option<KeepDoses>,
}

/// A revised plan changes doses a day only where the old plan did, or when
/// the change asks for it: its rest starts with the administrations the
/// old plan gave on the day, and keeps them for every dose down to the
/// lowest the old plan gave that many at, taking a larger cut within the
/// profile's limits rather than fewer doses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepDoses {
    pub admins: u32,
    pub down_to: Dose,
    /// From tablets or capsules: a liquid only at or below this dose (the
    /// highest the old plan gave with its liquid; zero if it never did).
    /// `None`: the rest starts on the liquid.
    pub liquid_at_most: Option<Dose>,
}

impl KeepDoses {
    fn liquid_allowed(&self, dose: Dose) -> bool {
        self.liquid_at_most.is_none_or(|m| dose <= m)
    }

    /// Whether a step of the rest gives up what the revision keeps.
    fn broken_by(&self, s: &WalkStep) -> bool {
        !s.dose.is_zero()
            && !s.final_phase
            && ((s.admins < self.admins && s.dose >= self.down_to)
                || (s.phase == Phase::Liquid && !self.liquid_allowed(s.dose)))
    }
}

impl Context<'_> {
    /// Administrations a day of the walk's first step.
    fn start_admins(&self) -> u32 {
        self.keep_doses
            .map_or(self.doses_per_day, |k| k.admins.min(self.doses_per_day))
    }

    /// The fewest administrations a day before the final phase: the
    /// profile's longest gap, and its own slots that are never dropped.
    fn min_admins(&self) -> u32 {
        crate::slots::min_per_day(self.profile, self.doses_per_day)
    }

    fn stop_from(&self) -> Option<u64> {
        if !self.target.is_zero() {
            return None;
        }
        self.profile.ending.as_ref().map(|e| e.stop_from.micro())
    }

    fn final_admins(&self) -> Option<u32> {
        self.stop_from()?;
        self.profile
            .ending
            .as_ref()
            .and_then(|e| e.final_doses_per_day)
            .map(|n| n.min(self.doses_per_day))
    }

    fn min_step(&self) -> u64 {
        match self.strategy {
            Strategy::Percent { .. } | Strategy::Hyperbolic { .. } => self
                .profile
                .ending
                .as_ref()
                .map_or(0, |e| e.min_step.micro()),
            _ => 0,
        }
    }

    /// The low-dose phase's own largest cut at `current`, if any.
    fn slow_step(&self, current: u64) -> Option<u64> {
        self.profile
            .slow_below
            .iter()
            .filter(|r| current <= r.dose.micro())
            .filter_map(|r| r.step.map(Dose::micro))
            .min()
    }
}

/// Why a regimen could not give a plan.
#[derive(Debug)]
enum Fail {
    Budget,
    /// Already worse than the best walk so far.
    Pruned,
    Infeasible(String),
}

impl From<Exhausted> for Fail {
    fn from(_: Exhausted) -> Fail {
        Fail::Budget
    }
}

/// A walk in progress.
struct Walker<'a, 'c> {
    ctx: &'c Context<'a>,
    solid: Option<&'c SolidSet>,
    liquid: Option<Liquid>,
    current: u64,
    phase: Phase,
    k: u32,
    /// The solids alone could not give a step as asked (a liquid might).
    solid_short: bool,
    // The context's derived rules, computed once per walk.
    min_admins: u32,
    final_admins: Option<u32>,
    stop_from: Option<u64>,
    min_step: u64,
}

/// Which doses one query may return.
#[derive(Clone, Copy)]
enum Want {
    Smallest,
    Largest,
}

impl Walker<'_, '_> {
    /// Phases to try in order (this one, then the liquid once, for good),
    /// and the administrations a day allowed (tried from the most).
    fn options(&self) -> ([Option<Phase>; 2], std::ops::RangeInclusive<u32>) {
        let floor = self
            .ctx
            .final_admins()
            .unwrap_or(self.min_admins)
            .min(self.min_admins)
            .max(1);
        let liquid = (self.phase == Phase::Solid && self.liquid.is_some()).then_some(Phase::Liquid);
        ([Some(self.phase), liquid], floor..=self.k)
    }

    fn query(
        &self,
        phase: Phase,
        k: u32,
        lo: u64,
        hi: u64,
        want: Want,
        budget: &mut Budget,
    ) -> Result<Option<u64>, Exhausted> {
        // Fewer administrations than the profile allows only for the last
        // dose before stopping.
        let hi = if k < self.min_admins {
            match self.stop_from {
                Some(s) => hi.min(s),
                None => return Ok(None),
            }
        } else {
            hi
        };
        if lo > hi {
            return Ok(None);
        }
        match (phase, want) {
            (Phase::Solid, Want::Smallest) => match self.solid {
                Some(s) => s.next_day(lo, hi, k, budget),
                None => Ok(None),
            },
            (Phase::Solid, Want::Largest) => match self.solid {
                Some(s) => s.prev_day(lo, hi, k, budget),
                None => Ok(None),
            },
            (Phase::Liquid, Want::Smallest) => Ok(self.liquid.and_then(|l| l.next_day(lo, hi, k))),
            (Phase::Liquid, Want::Largest) => Ok(self.liquid.and_then(|l| l.prev_day(lo, hi, k))),
        }
    }

    /// A dose in range from the first phase that gives one, keeping as many
    /// administrations a day as possible (the smallest or largest dose for
    /// that number).
    fn find(
        &mut self,
        lo: u64,
        hi: u64,
        want: Want,
        only_k: Option<u32>,
        budget: &mut Budget,
    ) -> Result<Option<(u64, Phase, u32)>, Exhausted> {
        let (phases, ks) = self.options();
        for phase in phases.into_iter().flatten() {
            for k in ks.clone().rev().filter(|k| only_k.is_none_or(|o| o == *k)) {
                if let Some(r) = self.query(phase, k, lo, hi, want, budget)? {
                    return Ok(Some((r, phase, k)));
                }
            }
            if phase == Phase::Solid {
                self.solid_short = true;
            }
        }
        Ok(None)
    }

    fn take(&mut self, r: u64, phase: Phase, k: u32) {
        self.current = r;
        self.phase = phase;
        self.k = k;
    }

    /// The last doses before stopping: at or below `stop_from`, but never
    /// the stop itself (a custom schedule may name its own zero step).
    fn is_final_phase(&self, dose: u64) -> bool {
        dose > 0 && self.stop_from.is_some_and(|s| dose <= s)
    }

    /// One step of a rule-based strategy from the current dose.
    fn step(&mut self, budget: &mut Budget) -> Result<WalkStep, Fail> {
        let ctx = self.ctx;
        let current = Dose::from_micro(self.current);
        let target = ctx.target.micro();
        if self.is_final_phase(self.current) {
            return Ok(self.stop_step(None, None));
        }
        // Nothing left to cut means the target, unless a low-dose phase
        // caps the cut.
        let asked = next_exact(ctx.strategy, current).map_err(Fail::Infeasible)?;
        let mut e = asked
            .map_or(0, Dose::micro)
            .min(self.current.saturating_sub(self.min_step));
        if let Some(cap) = ctx.slow_step(self.current) {
            e = e.max(self.current.saturating_sub(cap));
        }
        if e <= target {
            return self.reach_target(Some(e), budget);
        }
        let asked_cut = self.current - e;
        let floor_cut = asked_cut.div_ceil(2).max(self.min_step).min(asked_cut);
        let hi_ok = self.current - floor_cut;
        let exact = Dose::from_micro(e);
        // The last dose before stopping, given as the ending describes.
        if let (Some(stop), Some(fk)) = (self.stop_from, self.final_admins) {
            if fk < self.k {
                if let Some((r, p, k)) =
                    self.find(e, hi_ok.min(stop), Want::Smallest, Some(fk), budget)?
                {
                    return Ok(self.give(r, p, k, exact, None));
                }
            }
        }
        if let Some(found) = self.keep_doses(e, hi_ok, exact, budget)? {
            return Ok(found);
        }
        if let Some((r, p, k)) = self.find(e, hi_ok, Want::Smallest, None, budget)? {
            return Ok(self.give(r, p, k, exact, None));
        }
        self.solid_short = true;
        // A smaller cut than half the one asked, but never below min_step.
        let hi_any = self.current.saturating_sub(self.min_step.max(1));
        if let Some((r, p, k)) = self.find(e, hi_any, Want::Smallest, None, budget)? {
            return Ok(self.give(r, p, k, exact, None));
        }
        if let Some((r, p, k)) = self.find(target + 1, e - 1, Want::Largest, None, budget)? {
            // A next lower dose in the final phase is given as the ending
            // describes (e.g. once a day), like any other final dose.
            if let (true, Some(fk), Some(stop)) =
                (self.is_final_phase(r), self.final_admins, self.stop_from)
            {
                if fk < k {
                    let hi = (e - 1).min(stop);
                    if let Some((r, p, k)) =
                        self.find(target + 1, hi, Want::Largest, Some(fk), budget)?
                    {
                        return Ok(self.give(r, p, k, exact, Some(Adjustment::NextLower)));
                    }
                }
            }
            return Ok(self.give(r, p, k, exact, Some(Adjustment::NextLower)));
        }
        if target > 0 {
            // The maintenance dose itself, a larger cut than asked.
            let mut s = self.reach_target(None, budget)?;
            s.exact = Some(exact);
            s.adjustment = Some(Adjustment::NextLower);
            return Ok(s);
        }
        Ok(self.stop_step(Some(exact), Some(Adjustment::ToTarget)))
    }

    /// A revision's rest keeps its doses a day while the dose is at or above
    /// `down_to`, and its solids while above `liquid_at_most`: the step as
    /// asked, else the nearest larger cut that keeps them within the
    /// profile's limits. `None` lets the usual rules decide (and the walk's
    /// score counts it against the regimen).
    fn keep_doses(
        &mut self,
        e: u64,
        hi_ok: u64,
        exact: Dose,
        budget: &mut Budget,
    ) -> Result<Option<WalkStep>, Exhausted> {
        let Some(keep) = self.ctx.keep_doses else {
            return Ok(None);
        };
        if self.stop_from.is_some_and(|s| e <= s) {
            return Ok(None);
        }
        let keep_k = hi_ok >= keep.down_to.micro();
        let keep_solid = self.phase == Phase::Solid && !keep.liquid_allowed(Dose::from_micro(e));
        if !keep_k && !keep_solid {
            return Ok(None);
        }
        let floor = if keep_k { keep.down_to.micro() } else { 0 };
        let (phases, ks) = self.options();
        let phases: Vec<Phase> = phases
            .into_iter()
            .flatten()
            .filter(|p| !keep_solid || *p == Phase::Solid)
            .collect();
        let ks: Vec<u32> = ks.rev().filter(|k| !keep_k || *k == self.k).collect();
        for &phase in &phases {
            for &k in &ks {
                if let Some(r) =
                    self.query(phase, k, e.max(floor), hi_ok, Want::Smallest, budget)?
                {
                    return Ok(Some(self.give(r, phase, k, exact, None)));
                }
            }
        }
        let lo = floor.max(self.ctx.target.micro() + 1);
        if lo >= e {
            return Ok(None);
        }
        // The nearest lower dose over the phases and doses a day allowed
        // (the earlier phase and more doses on a tie).
        let mut best: Option<(u64, Phase, u32)> = None;
        for &phase in &phases {
            for &k in &ks {
                if let Some(r) = self.query(phase, k, lo, e - 1, Want::Largest, budget)? {
                    if best.is_none_or(|b| r > b.0) {
                        best = Some((r, phase, k));
                    }
                }
            }
        }
        let rules = crate::limits::Rules::new(self.ctx.profile);
        let from = Dose::from_micro(self.current);
        Ok(best
            .filter(|b| !rules.cut_warned(from, Dose::from_micro(b.0), false, self.ctx.target))
            .map(|(r, phase, k)| self.give(r, phase, k, exact, Some(Adjustment::NextLower))))
    }

    fn give(
        &mut self,
        r: u64,
        phase: Phase,
        k: u32,
        exact: Dose,
        adjustment: Option<Adjustment>,
    ) -> WalkStep {
        self.take(r, phase, k);
        let differs = r != exact.micro();
        WalkStep {
            dose: Dose::from_micro(r),
            exact: differs.then_some(exact),
            adjustment: adjustment.or(differs.then_some(Adjustment::RoundedUp)),
            hold: None,
            every_days: 1,
            phase,
            admins: k,
            final_phase: self.is_final_phase(r),
        }
    }

    /// The strategy asks for the target: zero, or a maintenance dose that
    /// must itself be given.
    fn reach_target(&mut self, exact: Option<u64>, budget: &mut Budget) -> Result<WalkStep, Fail> {
        let target = self.ctx.target.micro();
        let exact = exact.filter(|&e| e != target).map(Dose::from_micro);
        if target == 0 {
            return Ok(self.stop_step(exact, None));
        }
        match self.find(target, target, Want::Smallest, None, budget)? {
            Some((r, p, k)) => {
                let mut s = self.give(r, p, k, self.ctx.target, None);
                s.exact = exact;
                Ok(s)
            }
            None => Err(Fail::Infeasible(format!(
                "the target {} mg cannot be given with these products in {} doses a day",
                self.ctx.target, self.k
            ))),
        }
    }

    fn stop_step(&mut self, exact: Option<Dose>, adjustment: Option<Adjustment>) -> WalkStep {
        self.current = 0;
        WalkStep {
            dose: Dose::ZERO,
            exact,
            adjustment,
            hold: None,
            every_days: 1,
            phase: self.phase,
            admins: 0,
            final_phase: false,
        }
    }

    /// One custom-schedule entry: given exactly, or the regimen fails.
    fn custom_entry(
        &mut self,
        i: usize,
        entry: &CustomEntry,
        hold: bool,
        budget: &mut Budget,
    ) -> Result<WalkStep, Fail> {
        let dose = entry.dose;
        let d = dose.micro();
        let found = if d == 0 {
            Some((0, self.phase, 0))
        } else {
            self.find(d, d, Want::Smallest, None, budget)?
        };
        let Some((r, p, k)) = found else {
            return Err(Fail::Infeasible(format!(
                "custom schedule entry {} ({dose} mg) cannot be given with the selected products in {} doses a day",
                i + 1,
                self.k
            )));
        };
        let mut s = self.give(r, p, k, dose, hold.then_some(Adjustment::Hold));
        s.hold = Some(entry.days);
        s.every_days = entry.every_days;
        Ok(s)
    }
}

/// Walks the strategy through one regimen.
/// Where a solid walk first fell short: the same solids with a liquid
/// walk exactly the same way up to here, so they resume from it.
#[derive(Clone, Debug)]
struct Resume {
    steps: Vec<WalkStep>,
    current: u64,
    k: u32,
}

/// A finished walk: its steps, and where the solids first fell short.
type Walked = (Vec<WalkStep>, Option<Resume>);

fn walk<'p>(
    ctx: &Context<'p>,
    regimen: &Regimen,
    budget: &mut Budget,
    tails: &mut Tails,
    tally: &mut Tally<'p>,
    bound: Option<Score>,
    resume: Option<&Resume>,
) -> Result<Walked, Fail> {
    let mut w = Walker {
        ctx,
        solid: regimen.solid.as_deref(),
        liquid: regimen.liquid,
        current: resume.map_or(ctx.start.micro(), |r| r.current),
        phase: if regimen.solid.is_some() {
            Phase::Solid
        } else {
            Phase::Liquid
        },
        k: resume.map_or(ctx.start_admins(), |r| r.k),
        solid_short: false,
        min_admins: ctx.min_admins(),
        final_admins: ctx.final_admins(),
        stop_from: ctx.stop_from(),
        min_step: ctx.min_step(),
    };
    let mut steps: Vec<WalkStep> = Vec::with_capacity(32);
    if let Some(r) = resume {
        for s in &r.steps {
            tally.add(s);
        }
        steps.extend(r.steps.iter().cloned());
    }
    let mut short_at: Option<Resume> = None;
    if let Strategy::Custom { schedule } = ctx.strategy {
        for (i, e) in schedule.iter().enumerate() {
            // The starting dose every other day is a cut, not a hold.
            let hold = i == 0 && e.dose == ctx.start && e.every_days == 1;
            steps.push(w.custom_entry(i, e, hold, budget)?);
            tally.add(&steps[steps.len() - 1]);
        }
        if w.current > ctx.target.micro() {
            steps.push(w.reach_target(None, budget)?);
            tally.add(&steps[steps.len() - 1]);
        }
        // Custom schedules are short: resume from the start.
        let again = w.solid_short.then(|| Resume {
            steps: Vec::new(),
            current: ctx.start.micro(),
            k: ctx.start_admins(),
        });
        return Ok((steps, again));
    }
    let mut tail_from: Option<(TailKey, usize)> = None;
    while w.current > ctx.target.micro() {
        if w.phase == Phase::Liquid && tail_from.is_none() {
            // Once on the liquid, the rest of the walk depends only on the
            // dose, the doses a day and the liquid: other regimens that
            // switch at the same point share it.
            let key = (w.current, w.k, w.liquid.map_or(usize::MAX, |l| l.product));
            if let Some(tail) = tails.get(&key) {
                for t in tail {
                    tally.add(t);
                }
                steps.extend(tail.iter().cloned());
                break;
            }
            tail_from = Some((key, steps.len()));
        }
        if steps.len() >= MAX_STEPS {
            return Err(Fail::Infeasible(format!(
                "the strategy needs more than {MAX_STEPS} steps to reach the target, longer than the 10-year limit"
            )));
        }
        budget.spend(1)?;
        let (before, k, was_short) = (w.current, w.k, w.solid_short);
        steps.push(w.step(budget)?);
        if w.solid_short && !was_short && w.phase == Phase::Solid && short_at.is_none() {
            short_at = Some(Resume {
                steps: steps[..steps.len() - 1].to_vec(),
                current: before,
                k,
            });
        }
        tally.add(&steps[steps.len() - 1]);
        if bound.is_some_and(|b| tally.score() > b) {
            return Err(Fail::Pruned);
        }
    }
    if steps.len() > MAX_STEPS {
        return Err(Fail::Infeasible(format!(
            "the strategy needs more than {MAX_STEPS} steps to reach the target, longer than the 10-year limit"
        )));
    }
    if let Some((key, from)) = tail_from {
        if tails.len() < 4096 {
            tails.insert(key, steps[from..].to_vec());
        }
    }
    Ok((steps, short_at))
}

/// Liquid tails already walked in this plan: (dose, doses a day, liquid).
type TailKey = (u64, u32, usize);
type Tails = std::collections::HashMap<TailKey, Vec<WalkStep>>;

/// How well a walk keeps the rules; smaller is better, compared in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    /// A revision's rest: steps that give up the doses a day or the form
    /// it keeps ([`KeepDoses`]); always 0 for a new plan.
    broken_keep: u32,
    /// Micro-mg by which an unplanned stop (the products could give no
    /// smaller dose) lies above the profile's `stop_from` (above zero
    /// without an ending): stopping low comes first.
    stop_excess: u64,
    /// The largest cut beyond the one asked (a next lower dose, an
    /// unplanned stop), per-mille of the dose before it.
    max_excess: u64,
    /// Those summed: a few huge extra cuts never beat more, slight ones.
    sum_excess: u64,
    /// The dose (micro-mg) from which a liquid takes over, 0 if never:
    /// solids come first, for as long as they can give the doses.
    liquid_from: u64,
    /// The piece limit was raised for this walk: only worth it when it keeps
    /// a sourced step size or avoids a liquid.
    over_limit: bool,
    /// Quarter tablets are used: only when nothing else gives the doses.
    quarters: bool,
    products: u32,
    /// Administrations given up before the final phase, summed over steps:
    /// a plan keeps the day's doses as long as its products allow. (Giving
    /// fewer doses is how a plan keeps its doses even, so this ranks below
    /// the number of products.)
    uneven: u32,
}

impl Score {
    /// Keeps every sourced step size and limit.
    fn clean(&self) -> bool {
        self.stop_excess == 0 && self.max_excess == 0 && self.sum_excess == 0
    }
}

/// The last tie-breakers, computed only when two walks tie on [`Score`]
/// (they need every day split into administrations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Finish {
    /// How unequal the day's administrations are, per-mille of the day.
    spread: u64,
    /// Cuts slightly larger than asked (within the limits), per-mille of
    /// the dose before them, summed.
    beyond: u64,
    /// Per-mille of each asked cut not taken, summed.
    closeness: u64,
    /// Pieces handled over the plan (a half is one piece, ¾ three).
    pieces: u64,
    /// Of those, split pieces: splitting counts against a regimen.
    split: u64,
}

/// A walk's score so far. Every part only grows as steps are added, so
/// the tally of a prefix bounds the score of every walk continuing it: a
/// walk already worse than the best so far is abandoned early.
struct Tally<'p> {
    rules: crate::limits::Rules<'p>,
    target: Dose,
    /// Micro-mg in one measuring step of the regimen's liquid.
    liquid_step: u64,
    stop_from: u64,
    doses_per_day: u32,
    members: u32,
    has_quarters: bool,
    over_limit: bool,
    from: Dose,
    keep: Option<KeepDoses>,
    broken_keep: u32,
    stop_excess: u64,
    max_excess: u64,
    sum_excess: u64,
    uneven: u32,
    solid_used: bool,
    solid_steps: u32,
    liquid_from: Option<u64>,
    start: u64,
}

impl<'p> Tally<'p> {
    fn new(ctx: &Context<'p>, regimen: &Regimen, over_limit: bool) -> Tally<'p> {
        let set = regimen.solid.as_deref();
        Tally {
            rules: crate::limits::Rules::new(ctx.profile),
            target: ctx.target,
            liquid_step: regimen.liquid.map_or(0, |l| l.per_step),
            stop_from: ctx
                .profile
                .ending
                .as_ref()
                .map_or(0, |e| e.stop_from.micro()),
            doses_per_day: ctx.doses_per_day,
            members: set.map_or(0, |s| s.members.len() as u32),
            has_quarters: set.is_some_and(|s| s.members.iter().any(|m| m.split_into == 4)),
            over_limit,
            from: ctx.start,
            keep: ctx.keep_doses,
            broken_keep: 0,
            stop_excess: 0,
            max_excess: 0,
            sum_excess: 0,
            uneven: 0,
            solid_used: false,
            solid_steps: 0,
            liquid_from: None,
            start: ctx.start.micro(),
        }
    }

    fn add(&mut self, s: &WalkStep) {
        let from = self.from;
        // Only what the regimen adds counts against it: a cut beyond the
        // one asked (a next lower dose, an unplanned stop). Cuts the
        // strategy itself asks for are warned the same whatever the
        // products. Less than one measuring step per dose beyond, on a
        // liquid and within the limits, is measuring, not a larger cut: a
        // tie-breaker only (see `Finish`).
        if let (Some(e), Some(adj @ (Adjustment::NextLower | Adjustment::ToTarget))) =
            (s.exact, s.adjustment)
        {
            let beyond = e.micro().saturating_sub(s.dose.micro());
            let measuring = s.phase == Phase::Liquid
                && beyond < self.liquid_step.saturating_mul(u64::from(s.admins))
                && !self
                    .rules
                    .cut_warned(from, s.dose, s.dose.is_zero(), self.target);
            if adj == Adjustment::ToTarget || !measuring {
                let per_mille =
                    (u128::from(beyond) * 1000 / u128::from(from.micro().max(1))) as u64;
                self.max_excess = self.max_excess.max(per_mille.max(1));
                self.sum_excess += per_mille.max(1);
            }
        }
        if self.keep.is_some_and(|k| k.broken_by(s)) {
            self.broken_keep += 1;
        }
        if s.adjustment == Some(Adjustment::ToTarget) {
            self.stop_excess = from.micro().saturating_sub(self.stop_from);
        }
        if !s.dose.is_zero() {
            if !s.final_phase {
                self.uneven += self.doses_per_day.saturating_sub(s.admins);
            }
            match s.phase {
                Phase::Solid => {
                    self.solid_used = true;
                    self.solid_steps += 1;
                }
                Phase::Liquid => {
                    self.liquid_from.get_or_insert(from.micro());
                }
            }
        }
        self.from = s.dose;
    }

    fn score(&self) -> Score {
        Score {
            broken_keep: self.broken_keep,
            stop_excess: self.stop_excess,
            max_excess: self.max_excess,
            sum_excess: self.sum_excess,
            // A single solid step before a liquid is not worth a product of
            // its own: it counts as a liquid from the start.
            liquid_from: match self.liquid_from {
                Some(_) if self.solid_steps < 2 => self.start,
                Some(from) => from,
                None => 0,
            },
            over_limit: self.over_limit,
            quarters: self.solid_used && self.has_quarters,
            uneven: self.uneven,
            products: if self.solid_used { self.members } else { 0 }
                + u32::from(self.liquid_from.is_some()),
        }
    }
}

fn finish(
    ctx: &Context,
    reg: &Regimen,
    steps: &[WalkStep],
    budget: &mut Budget,
) -> Result<Finish, Exhausted> {
    let mut f = Finish {
        spread: 0,
        beyond: 0,
        closeness: 0,
        pieces: 0,
        split: 0,
    };
    let mut from = ctx.start;
    for s in steps {
        if let (Some(e), Some(Adjustment::RoundedUp)) = (s.exact, s.adjustment) {
            let asked = from.micro().saturating_sub(e.micro()).max(1);
            f.closeness += s
                .dose
                .micro()
                .saturating_sub(e.micro())
                .saturating_mul(1000)
                / asked;
        }
        from = s.dose;
        let Some(set) = reg.solid.as_deref() else {
            continue;
        };
        if s.phase != Phase::Solid || s.dose.is_zero() {
            continue;
        }
        if let Some(parts) = set.split_day(s.dose.micro(), s.admins, budget)? {
            let hi = parts.first().map_or(0, |p| p.0);
            let lo = parts.last().map_or(0, |p| p.0);
            f.spread += (u128::from(hi - lo) * 1000 / u128::from(s.dose.micro().max(1))) as u64;
            for (a, _) in &parts {
                let (p, sp) = set.pieces_of(*a).unwrap_or((0, 0));
                f.pieces += u64::from(p);
                f.split += u64::from(sp);
            }
        }
    }
    Ok(f)
}

/// The regimen chosen for a plan, with each step made concrete.
#[derive(Debug)]
pub struct Chosen {
    pub regimen: Regimen,
    pub steps: Vec<WalkStep>,
    /// The administrations of each step: (slot index, amount, portions).
    pub administrations: Vec<Vec<(u32, u64, Vec<Portion>)>>,
    /// The piece limit had to be raised to keep the step sizes.
    pub piece_limit_relaxed: Option<u32>,
    /// Most pieces in any administration.
    pub max_pieces_used: u32,
}

struct Best {
    score: Score,
    /// Computed only to break a tie.
    finish: Option<Finish>,
    regimen: Regimen,
    steps: Vec<WalkStep>,
    relaxed: Option<u32>,
}

/// Cap on candidate solid sets per size, so that a profile listing many
/// strengths cannot make the search explode.
const MAX_SETS_PER_SIZE: usize = 300;

/// The search over regimens for one plan.
struct Search<'c, 'p> {
    ctx: &'c Context<'p>,
    budget: &'c mut Budget,
    best: Option<Best>,
    last_failure: Option<String>,
    tails: Tails,
}

/// Chooses the regimen for the whole plan. Errors are plain messages:
/// `Err(None)` when the work budget ran out.
pub fn choose(ctx: &Context, kit: &Kit, budget: &mut Budget) -> Result<Chosen, Option<String>> {
    let liquids = regimen::liquids(kit);
    let has_solids = !regimen::solid_sets(kit, 1, ctx.start).is_empty();
    let any_liquid = kit.products.iter().any(|p| p.concentration.is_some());
    if !has_solids && liquids.is_empty() && any_liquid {
        return Err(Some(unmeasurable(ctx, kit)));
    }
    let mut search = Search {
        ctx,
        budget,
        best: None,
        last_failure: None,
        tails: Tails::new(),
    };
    let limit = ctx.profile.max_pieces;
    let relaxed_limit = (limit + 2).clamp(6, 12);
    for (pass, pieces) in [(0, limit), (1, relaxed_limit)] {
        let worth_relaxing = search.best.as_ref().is_none_or(|b| {
            // Raise the piece limit only to keep the step sizes, or to give
            // solids at all where they could give none.
            !b.score.clean() || b.score.liquid_from >= ctx.start.micro()
        });
        if pass == 1 && (!has_solids || !worth_relaxing || relaxed_limit <= limit) {
            break;
        }
        let relaxed = (pass == 1).then_some(pieces);
        if !has_solids {
            // Liquids alone; with none, only a plan that stops at once.
            let only: Vec<Option<Liquid>> = if liquids.is_empty() {
                vec![None]
            } else {
                liquids.iter().copied().map(Some).collect()
            };
            for liquid in only {
                let reg = Regimen {
                    solid: None,
                    liquid,
                };
                search.consider(reg, relaxed, None)?;
            }
            break;
        }
        for size in 1..=3usize {
            search.tier(kit, &liquids, size, pieces, relaxed)?;
            let done = search.best.as_ref().is_some_and(|b| {
                let solids_clean = b.score.clean() && b.score.liquid_from < ctx.start.micro();
                // Three strengths only where two cannot give a plan that
                // keeps the step sizes with solids at all.
                (size >= 2 && solids_clean)
                    || (solids_clean
                        && b.score.liquid_from == 0
                        && !b.score.quarters
                        && b.score.products <= size as u32)
            });
            if done {
                break;
            }
        }
        if pass == 0 {
            // Liquids alone compete too (last, so that the solids' best
            // prunes them): they win where solids would give only a step
            // before a liquid takes over.
            for l in &liquids {
                let reg = Regimen {
                    solid: None,
                    liquid: Some(*l),
                };
                search.consider(reg, None, None)?;
            }
        }
    }
    let Some(best) = search.best else {
        return Err(Some(search.last_failure.unwrap_or_else(|| {
            "no daily dose of the plan can be given with the selected products".to_string()
        })));
    };
    concretise(ctx, best, search.budget)
}

/// Why no liquid of the kit can be measured: each one's smallest
/// measurable dose is not a whole microgram.
fn unmeasurable(ctx: &Context, kit: &Kit) -> String {
    let names: Vec<String> = kit
        .products
        .iter()
        .filter(|p| p.concentration.is_some())
        .map(|p| p.name.clone())
        .collect();
    format!(
        "{} cannot be measured exactly in {} mL steps (a step must hold a whole number of micrograms); accepted: a concentration that gives exact doses, or tablets/capsules of {}",
        names.join(", "),
        ctx.profile.liquid_step_ml,
        ctx.profile.display_name
    )
}

impl Search<'_, '_> {
    /// Walks every solid set of `size` products, and each with a liquid
    /// from where the solids fall short.
    fn tier(
        &mut self,
        kit: &Kit,
        liquids: &[Liquid],
        size: usize,
        pieces: u32,
        relaxed: Option<u32>,
    ) -> Result<(), Option<String>> {
        let sets = regimen::solid_sets(kit, size, self.ctx.start);
        for members in sets.into_iter().take(MAX_SETS_PER_SIZE) {
            let form = kit.products[members[0].product].form;
            let set = regimen::solid_set(members, form, pieces);
            let group = kit.products[set.members[0].product].group.clone();
            let reg = Regimen {
                solid: Some(Rc::clone(&set)),
                liquid: None,
            };
            let Some(resume) = self.consider(reg, relaxed, None)? else {
                continue;
            };
            let compatible = liquids.iter().filter(|l| {
                let g = &kit.products[l.product].group;
                g.is_none() || *g == group
            });
            for l in compatible {
                let reg = Regimen {
                    solid: Some(Rc::clone(&set)),
                    liquid: Some(*l),
                };
                self.consider(reg, relaxed, Some(&resume))?;
            }
        }
        Ok(())
    }

    /// Walks one regimen and keeps it if it beats the best so far. Returns
    /// where the solids fell short, if they did (so a liquid is worth
    /// trying from there).
    fn consider(
        &mut self,
        reg: Regimen,
        relaxed: Option<u32>,
        resume: Option<&Resume>,
    ) -> Result<Option<Resume>, Option<String>> {
        let ctx = self.ctx;
        let mut tally = Tally::new(ctx, &reg, relaxed.is_some());
        let bound = self.best.as_ref().map(|b| b.score);
        let from_start = || Resume {
            steps: Vec::new(),
            current: ctx.start.micro(),
            k: ctx.start_admins(),
        };
        let walked = walk(
            ctx,
            &reg,
            self.budget,
            &mut self.tails,
            &mut tally,
            bound,
            resume,
        );
        let (steps, short) = match walked {
            Ok(w) => w,
            Err(Fail::Budget) => return Err(None),
            Err(Fail::Pruned) => return Ok(Some(from_start())),
            Err(Fail::Infeasible(m)) => {
                self.last_failure = Some(m);
                return Ok(Some(from_start()));
            }
        };
        let s = tally.score();
        let better = match self.best.as_mut() {
            None => true,
            Some(b) if s < b.score => true,
            Some(b) if s == b.score => {
                let mine = finish(ctx, &reg, &steps, self.budget).map_err(|_| None)?;
                let theirs = match b.finish {
                    Some(f) => f,
                    None => finish(ctx, &b.regimen, &b.steps, self.budget).map_err(|_| None)?,
                };
                b.finish = Some(theirs);
                mine < theirs
            }
            Some(_) => false,
        };
        if better {
            self.best = Some(Best {
                score: s,
                finish: None,
                regimen: reg,
                steps,
                relaxed,
            });
        }
        Ok(short)
    }
}

/// Builds each step's administrations for the chosen walk.
fn concretise(ctx: &Context, best: Best, budget: &mut Budget) -> Result<Chosen, Option<String>> {
    let mut administrations = Vec::with_capacity(best.steps.len());
    let mut max_pieces_used = 0;
    for s in &best.steps {
        if s.dose.is_zero() {
            administrations.push(Vec::new());
            continue;
        }
        let parts = match s.phase {
            Phase::Solid => best
                .regimen
                .solid
                .as_deref()
                .map(|set| set.split_day(s.dose.micro(), s.admins, budget))
                .transpose()
                .map_err(|_| None)?
                .flatten(),
            Phase::Liquid => best
                .regimen
                .liquid
                .and_then(|l| l.split_day(s.dose.micro(), s.admins)),
        };
        let Some(parts) = parts else {
            return Err(Some(format!(
                "{} mg a day cannot be given with the chosen products",
                s.dose
            )));
        };
        if let (Phase::Solid, Some(set)) = (s.phase, best.regimen.solid.as_deref()) {
            for (a, _) in &parts {
                max_pieces_used = max_pieces_used.max(set.pieces_of(*a).map_or(0, |p| p.0));
            }
        }
        let slots = crate::slots::kept(ctx.profile, ctx.doses_per_day, s.admins);
        administrations.push(
            parts
                .into_iter()
                .zip(slots)
                .map(|((amount, portions), slot)| (slot, amount, portions))
                .collect(),
        );
    }
    Ok(Chosen {
        regimen: best.regimen,
        steps: best.steps,
        administrations,
        piece_limit_relaxed: best.relaxed,
        max_pieces_used,
    })
}
