//! Revisions of a plan (`taper adjust`): hold, step back, slow down or
//! re-plan from a date, with every day before it kept.
//!
//! A plan is a function of its original options, its profile and an
//! ordered list of [`Revision`]s, so a plan file can always be rebuilt and
//! checked ([`rebuild`]) before it is changed ([`apply`]). The part from the
//! date on is a normal plan from the engine ([`request::resolve`] and
//! [`schedule::build`]); this module only splices it after the kept days.
//! Nothing here formats text for people.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::dose::{Change as DoseChange, Dose, SCALE};
use crate::error::Error;
use crate::formulation::Product;
use crate::profile::{Profile, StrategyKind};
use crate::request::{self, PlanOptions};
use crate::schedule::{self, GaveWay, Plan, Step, Warning, WarningDetail, WarningKind};
use crate::stepper::KeepDoses;
use crate::strategy::{CustomEntry, Strategy};

/// The plan options as given (the start date resolved), so the original
/// plan can be rebuilt exactly. JSON `options`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedOptions {
    pub dose: String,
    pub start: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(flatten)]
    pub taper: Replan,
    /// `--times`, so a revised calendar can cancel timed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<String>,
}

/// Plan options a revision changes (all optional): the re-plan's options,
/// and the strategy parameters of [`RecordedOptions`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replan {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupancy_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doses_per_day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strengths: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// `--final-hold`, so the plan is rebuilt with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_hold: Option<String>,
    /// `--market`: the market whose products the plan uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    /// `--supply`: days per fill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supply: Option<String>,
}

impl Replan {
    /// A change of products or doses a day: the kept step is not simply
    /// extended, the engine gives the dose anew.
    fn touches_products(&self) -> bool {
        self.strengths.is_some()
            || self.form.is_some()
            || self.doses_per_day.is_some()
            || self.market.is_some()
    }

    fn touches_strategy(&self) -> bool {
        self.step.is_some()
            || self.percent.is_some()
            || self.occupancy_step.is_some()
            || self.schedule.is_some()
    }

    pub fn is_empty(&self) -> bool {
        *self == Replan::default()
    }
}

/// What one revision changes. JSON `revisions[].change`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// `--hold DAYS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_days: Option<u32>,
    /// `--back`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub back: bool,
    /// `--slower F`: intervals F times as long (a decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slower: Option<String>,
    /// `--strategy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Other plan options: re-plan the rest with them.
    #[serde(default, skip_serializing_if = "Replan::is_empty")]
    pub options: Replan,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        *self == Change::default()
    }
}

/// One entry of the revision history. JSON `revisions[]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// 2 for the first adjustment (1 is the plan as drafted).
    pub revision: u32,
    /// The first day that may differ from the revision before.
    pub from: NaiveDate,
    pub change: Change,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A plan's revision state. Default: revision 1, nothing recorded.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Adjustments so far, oldest first (empty: revision 1).
    pub revisions: Vec<Revision>,
    /// The options of the original plan, when known.
    pub options: Option<RecordedOptions>,
    /// The raw options governing the latest part (for the next revision).
    pub current: Option<PlanOptions>,
    /// The revision before this one (calendars cancel what it drops).
    pub previous: Option<Arc<Plan>>,
}

impl History {
    /// 1 for a new plan, 2 after one adjustment, …
    pub fn revision(&self) -> u32 {
        self.revisions.last().map_or(1, |r| r.revision)
    }

    /// The revision that set the plan's day `date`: the latest one from
    /// that day or earlier (each keeps every day before its own date).
    pub fn revision_on(&self, date: NaiveDate) -> u32 {
        self.revisions
            .iter()
            .rev()
            .find(|r| r.from <= date)
            .map_or(1, |r| r.revision)
    }

    /// The revision whose first day is `date`, if any.
    pub fn starting_on(&self, date: NaiveDate) -> Option<&Revision> {
        self.revisions.iter().rev().find(|r| r.from == date)
    }
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

fn strategy_from(text: &str) -> Result<StrategyKind, Error> {
    match text.trim().to_ascii_lowercase().as_str() {
        "linear" => Ok(StrategyKind::Linear),
        "percent" => Ok(StrategyKind::Percent),
        "hyperbolic" => Ok(StrategyKind::Hyperbolic),
        "custom" => Ok(StrategyKind::Custom),
        _ => Err(usage(format!(
            "strategy '{text}' is not valid (accepted: linear, percent, hyperbolic, custom)"
        ))),
    }
}

impl RecordedOptions {
    /// What `taper plan` was given, in one spelling: amounts and numbers
    /// as resolved (`60 mg`, `60000mcg` and `+60mg` are all `60mg`), a
    /// strategy implied by its parameter named, the start date resolved;
    /// an option not given stays absent (its default is the profile's).
    pub fn new(opts: &PlanOptions, plan: &Plan, times: Option<&str>) -> RecordedOptions {
        let given = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let r = &plan.request;
        let param = given(&opts.step).is_some()
            || given(&opts.percent).is_some()
            || given(&opts.occupancy_step).is_some()
            || given(&opts.schedule).is_some();
        let resolved = |o: &Option<String>, v: Option<String>| given(o).and(v.or_else(|| given(o)));
        RecordedOptions {
            dose: format!("{}mg", r.start_dose),
            start: r.start,
            strategy: (opts.strategy.is_some() || param).then(|| r.strategy.kind().as_str().into()),
            taper: Replan {
                step: resolved(
                    &opts.step,
                    match &r.strategy {
                        Strategy::Linear { step } => Some(format!("{step}mg")),
                        _ => None,
                    },
                ),
                percent: resolved(
                    &opts.percent,
                    match &r.strategy {
                        Strategy::Percent { percent } => Some(percent.0.to_string()),
                        _ => None,
                    },
                ),
                occupancy_step: resolved(
                    &opts.occupancy_step,
                    match &r.strategy {
                        Strategy::Hyperbolic { occupancy_step, .. } => {
                            Some(occupancy_step.0.to_string())
                        }
                        _ => None,
                    },
                ),
                schedule: given(&opts.schedule),
                interval: resolved(&opts.interval, r.interval_days.map(|d| d.to_string())),
                target: resolved(&opts.target, Some(format!("{}mg", r.target))),
                doses_per_day: resolved(&opts.doses_per_day, Some(r.doses_per_day.to_string())),
                strengths: given(&opts.strengths),
                form: given(&opts.form).map(|f| f.to_ascii_lowercase()),
                final_hold: given(&opts.final_hold),
                market: given(&opts.market).map(|m| m.trim().to_ascii_lowercase()),
                supply: given(&opts.supply),
            },
            times: times.map(str::to_string),
        }
    }

    /// Every field is named (no `..default()`): an option added to taper
    /// must be recorded here too, or a plan made with it is rebuilt without
    /// it (as `--final-hold` once was).
    pub fn plan_options(&self) -> Result<PlanOptions, Error> {
        let t = &self.taper;
        Ok(PlanOptions {
            dose: self.dose.clone(),
            start: Some(self.start.to_string()),
            strategy: self.strategy.as_deref().map(strategy_from).transpose()?,
            step: t.step.clone(),
            percent: t.percent.clone(),
            occupancy_step: t.occupancy_step.clone(),
            schedule: t.schedule.clone(),
            interval: t.interval.clone(),
            target: t.target.clone(),
            doses_per_day: t.doses_per_day.clone(),
            strengths: t.strengths.clone(),
            form: t.form.clone(),
            final_hold: t.final_hold.clone(),
            market: t.market.clone(),
            supply: t.supply.clone(),
            // `taper adjust` refuses switch plans before it gets here.
            switch_to: None,
            switch_interval: None,
        })
    }
}

/// Records what a new plan was made from, so `taper adjust` can rebuild it.
pub fn record(plan: &mut Plan, opts: &PlanOptions, times: Option<&str>) {
    let recorded = RecordedOptions::new(opts, plan, times);
    let mut current = opts.clone();
    current.start = Some(plan.request.start.to_string());
    plan.history.options = Some(recorded);
    plan.history.current = Some(current);
}

/// The plan the options and revisions describe, built by the engine.
pub fn rebuild(
    profile: &Arc<Profile>,
    options: &RecordedOptions,
    revisions: &[Revision],
    today: NaiveDate,
) -> Result<Plan, Error> {
    let opts = options.plan_options()?;
    let mut plan = schedule::build(&request::resolve(Arc::clone(profile), &opts, today)?)?;
    record(&mut plan, &opts, options.times.as_deref());
    for r in revisions {
        plan = apply(&plan, profile, r, today)?;
    }
    Ok(plan)
}

fn add_days(date: NaiveDate, n: u32) -> Result<NaiveDate, Error> {
    date.checked_add_days(Days::new(u64::from(n)))
        .ok_or_else(|| usage(format!("{date} plus {n} days is out of range")))
}

/// `n × f`, rounded up to whole days.
fn times_factor(n: u32, factor: Dose) -> u32 {
    let v = u64::from(n).saturating_mul(factor.micro()).div_ceil(SCALE);
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// `--slower F`: a decimal above 1.
pub fn parse_factor(text: &str) -> Result<Dose, Error> {
    match Dose::parse_decimal(text.trim()) {
        Ok(f) if f.micro() > SCALE && f.micro() <= 10 * SCALE => Ok(f),
        _ => Err(usage(format!(
            "--slower '{text}' is not valid (accepted: a factor above 1 and at most 10, e.g. 1.5 or 2)"
        ))),
    }
}

/// The options that plan the part from the date: the latest part's,
/// overlaid with the revision's (a new strategy drops the old parameters).
fn overlay(current: &PlanOptions, change: &Change) -> Result<PlanOptions, Error> {
    let mut o = current.clone();
    let r = &change.options;
    if change.strategy.is_some() || r.touches_strategy() {
        o.strategy = None;
        o.step = None;
        o.percent = None;
        o.occupancy_step = None;
        o.schedule = None;
    }
    if r.schedule.is_some() || change.strategy.as_deref() == Some("custom") {
        o.interval = None;
    }
    if let Some(s) = &change.strategy {
        o.strategy = Some(strategy_from(s)?);
    }
    let set = |slot: &mut Option<String>, v: &Option<String>| {
        if v.is_some() {
            slot.clone_from(v);
        }
    };
    set(&mut o.step, &r.step);
    set(&mut o.percent, &r.percent);
    set(&mut o.occupancy_step, &r.occupancy_step);
    set(&mut o.schedule, &r.schedule);
    set(&mut o.interval, &r.interval);
    set(&mut o.target, &r.target);
    set(&mut o.doses_per_day, &r.doses_per_day);
    set(&mut o.strengths, &r.strengths);
    set(&mut o.form, &r.form);
    set(&mut o.final_hold, &r.final_hold);
    set(&mut o.market, &r.market);
    Ok(o)
}

/// A schedule as `--schedule` text.
fn schedule_text(entries: &[CustomEntry]) -> String {
    entries
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Half of `d` (micro-units rounded up).
fn half(d: Dose) -> Dose {
    Dose::from_micro(d.micro().div_ceil(2))
}

/// Applies one revision to `old` (the plan as of the revision before).
pub fn apply(
    old: &Plan,
    profile: &Arc<Profile>,
    rev: &Revision,
    today: NaiveDate,
) -> Result<Plan, Error> {
    let date = rev.from;
    check_change(old, rev)?;
    let change = &rev.change;
    let first = old.request.start;
    let current = old
        .history
        .current
        .as_ref()
        .ok_or_else(|| usage("the plan does not record the options it was made from"))?;
    let index = (date - first).num_days() as usize;
    let day = &old.days[index];
    let step = &old.steps[day.step as usize - 1];
    let factor = change.slower.as_deref().map(parse_factor).transpose()?;
    let mut opts = overlay(current, change)?;
    // Only a change of products may bring in products the patient has not
    // been given: otherwise the rest uses the plan's own.
    if !change.options.touches_products() {
        let keys: Vec<&str> = old.products.iter().map(|p| p.key.as_str()).collect();
        opts.strengths = Some(keys.join(","));
    }
    // The dose the rest is planned from, and the rise of a step back.
    // A rest day of an every-N-days step is still on that step's dose.
    let dose = if change.back {
        step.change.from
    } else {
        step.daily_dose
    };
    if dose.is_zero() {
        return Err(usage(format!(
            "on {date} the plan has already stopped (0 {} a day): there is nothing to hold or re-plan (accepted: a date before the plan's last day, or --back)",
            old.profile.unit
        )));
    }
    opts.dose = format!("{dose}mg");
    opts.start = Some(date.to_string());
    let probe = request::resolve(Arc::clone(profile), &opts, today)?;
    // Only a custom schedule can go on giving a dose every N days: any
    // other strategy would take it daily again, a rise nobody asked for.
    let every = if change.back { 1 } else { step.every_days };
    if every > 1 && !matches!(probe.strategy, Strategy::Custom { .. }) {
        return Err(usage(format!(
            "on {date} the dose is taken every {every} days: re-planning it with the {} strategy would give it daily (a rise) (accepted: --hold, --back, or a --schedule)",
            probe.strategy.kind().as_str()
        )));
    }
    let already = if change.back {
        0
    } else {
        (date - step.start).num_days() as u32
    };
    // A hold lengthens the step: the days left of it, then DAYS more.
    let left = (step.end - date).num_days() as u32 + 1;
    let change = &Change {
        hold_days: change.hold_days.map(|d| d.saturating_add(left)),
        ..change.clone()
    };
    let hold = shape(&mut opts, &probe, old, step, change, factor, already)?;
    let rest_start = add_days(date, hold)?;
    let custom = matches!(probe.strategy, Strategy::Custom { .. });
    let from_step = if change.back && step.step > 1 {
        &old.steps[step.step as usize - 2]
    } else {
        step
    };
    let keep = (!change.options.touches_products()).then(|| keep_doses(old, from_step));
    let mut parts: Vec<(Vec<Product>, Vec<Step>)> = Vec::new();
    if !custom && hold > 0 {
        parts.push(hold_step(profile, &opts, dose, hold, today, keep)?);
    }
    opts.start = Some(rest_start.to_string());
    let mut rest_req = request::resolve(Arc::clone(profile), &opts, today)?;
    rest_req.keep_doses = keep;
    let rest = schedule::build(&rest_req)?;
    parts.push((rest.products.clone(), rest.steps.clone()));
    let merge = !change.options.touches_products();
    let mut plan = splice(old, date, parts, &rest, merge)?;
    first_step_warnings(&mut plan, &rest_req, date);
    plan.history = History {
        revisions: old
            .history
            .revisions
            .iter()
            .cloned()
            .chain([Revision {
                revision: old.history.revision() + 1,
                ..rev.clone()
            }])
            .collect(),
        options: old.history.options.clone(),
        current: Some(opts),
        previous: Some(Arc::new(old.clone())),
    };
    Ok(plan)
}

/// What the rest of a revision keeps: the doses a day of the old plan's
/// step it starts from, down to the lowest dose the old plan gave at
/// least that many at; and its tablets or capsules, down to the highest
/// dose the old plan gave with a liquid.
fn keep_doses(old: &Plan, from: &Step) -> KeepDoses {
    let admins = from.administrations.len() as u32;
    let down_to = old
        .steps
        .iter()
        .filter(|s| !s.daily_dose.is_zero() && s.administrations.len() as u32 >= admins)
        .map(|s| s.daily_dose)
        .min()
        .unwrap_or(from.daily_dose);
    let liquid = |s: &Step| s.on_liquid(&old.products) == Some(true);
    let liquid_at_most = (!liquid(from)).then(|| {
        old.steps
            .iter()
            .filter(|s| liquid(s))
            .map(|s| s.daily_dose)
            .max()
            .unwrap_or(Dose::ZERO)
    });
    KeepDoses {
        admins,
        down_to,
        liquid_at_most,
    }
}

/// Refusals that need no planning: a date outside the plan, no change,
/// or changes that contradict each other.
fn check_change(old: &Plan, rev: &Revision) -> Result<(), Error> {
    let date = rev.from;
    let (first, last) = (old.request.start, old.request.end);
    if date < first || date > last {
        return Err(usage(format!(
            "--from {date} is outside the plan (accepted: a date from its first day {first} to its last day {last})"
        )));
    }
    let change = &rev.change;
    if change.is_empty() {
        return Err(usage(
            "taper adjust needs a change (accepted: --hold DAYS, --back, --slower F, or plan options such as --interval or --percent)",
        ));
    }
    if change.hold_days.is_some() && change.back {
        return Err(usage(
            "--hold and --back cannot be combined (accepted: one of them)",
        ));
    }
    if change.hold_days == Some(0) {
        return Err(usage(
            "--hold 0 is not valid (accepted: a number of days from 1)",
        ));
    }
    Ok(())
}

/// The first step of the revised part, `dose` held `days` days from the
/// date, as the engine gives it (a custom schedule of one held entry).
fn hold_step(
    profile: &Arc<Profile>,
    opts: &PlanOptions,
    dose: Dose,
    days: u32,
    today: NaiveDate,
    keep: Option<KeepDoses>,
) -> Result<(Vec<Product>, Vec<Step>), Error> {
    let mut hold_opts = opts.clone();
    hold_opts.strategy = Some(StrategyKind::Custom);
    hold_opts.step = None;
    hold_opts.percent = None;
    hold_opts.occupancy_step = None;
    hold_opts.interval = None;
    hold_opts.schedule = Some(format!("{dose}x{days}"));
    // A custom hold gives its own days (a final hold applies to the rest).
    hold_opts.final_hold = None;
    let mut req = request::resolve(Arc::clone(profile), &hold_opts, today)?;
    req.keep_doses = keep;
    let mini = schedule::build(&req)?;
    let mut first = mini.steps[0].clone();
    first.is_final = false;
    Ok((mini.products, vec![first]))
}

/// Sets the options of the revised part (half steps for a step back,
/// longer intervals for `--slower`, a custom schedule's remaining entries)
/// and says how many days its first dose is held before the first cut (0:
/// a custom schedule holds it in its own first entry).
fn shape(
    opts: &mut PlanOptions,
    probe: &schedule::PlanRequest,
    old: &Plan,
    step: &Step,
    change: &Change,
    factor: Option<Dose>,
    already: u32,
) -> Result<u32, Error> {
    let dose = probe.start_dose;
    let min_step = probe.profile.ending.as_ref().map(|e| e.min_step);
    let new_schedule = change.options.schedule.is_some();
    let halve = change.back && factor.is_none();
    let slower = |n: u32| factor.map_or(n, |f| times_factor(n, f));
    match &probe.strategy {
        Strategy::Custom { schedule } => {
            if new_schedule {
                return Ok(0);
            }
            // The latest part's custom schedule: what is left below the dose.
            let base = match &old.request.strategy {
                Strategy::Custom { schedule } => schedule.clone(),
                _ => schedule.clone(),
            };
            let mut entries = Vec::new();
            let mut above = dose;
            let k = step.step as usize;
            let prev = if k > 1 { &old.steps[k - 2] } else { step };
            // What is left: lower doses, and the same dose taken less often
            // than the dose the rest starts from.
            let from_every = if change.back {
                prev.every_days
            } else {
                step.every_days
            };
            let left =
                |e: &&CustomEntry| e.dose < dose || (e.dose == dose && e.every_days > from_every);
            for e in base.iter().filter(left) {
                let days = slower(e.days);
                let mid = half(above.checked_add(e.dose).unwrap_or(above));
                let gap = above.checked_sub(mid).unwrap_or_default();
                let split = halve && mid < above && mid > e.dose;
                if split && min_step.is_none_or(|m| gap >= m) && achievable(opts, probe, mid) {
                    entries.push(CustomEntry::daily(mid, days));
                }
                entries.push(CustomEntry {
                    dose: e.dose,
                    days,
                    every_days: e.every_days,
                });
                above = e.dose;
            }
            let (held, every_days) = if change.back {
                (slower(prev.days), prev.every_days)
            } else {
                let days = change
                    .hold_days
                    .unwrap_or_else(|| slower(step.days).saturating_sub(already).max(1));
                (days, step.every_days)
            };
            let mut all = vec![CustomEntry {
                dose,
                days: held,
                every_days,
            }];
            all.extend(entries);
            opts.schedule = Some(schedule_text(&all));
            Ok(0)
        }
        s => {
            if halve {
                match s {
                    Strategy::Linear { step } => {
                        let h = min_step.map_or(half(*step), |m| half(*step).max(m));
                        opts.step = Some(format!("{}mg", h.min(*step)));
                    }
                    Strategy::Percent { percent } => {
                        opts.percent = Some(half(percent.0).to_string());
                    }
                    Strategy::Hyperbolic { occupancy_step, .. } => {
                        opts.occupancy_step = Some(half(occupancy_step.0).to_string());
                    }
                    Strategy::Custom { .. } => {}
                }
            }
            let interval = schedule::interval_at(probe, dose);
            if let Some(f) = factor {
                opts.interval = Some(times_factor(probe.interval_days, f).to_string());
            }
            let interval = slower(interval);
            let hold = match change.hold_days {
                Some(h) => h,
                None if change.back => interval,
                None => interval.saturating_sub(already).max(1),
            };
            Ok(hold)
        }
    }
}

/// The kept days of `old` before `date`, then `parts` (each with its own
/// products), as one plan: steps renumbered, products merged, phases,
/// days, dispensing and warnings recomputed over the whole.
fn splice(
    old: &Plan,
    date: NaiveDate,
    parts: Vec<(Vec<Product>, Vec<Step>)>,
    rest: &Plan,
    merge: bool,
) -> Result<Plan, Error> {
    let mut products: Vec<Product> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let add = |from: &[Product], mut s: Step, products: &mut Vec<Product>| {
        for a in &mut s.administrations {
            for p in &mut a.portions {
                let prod = &from[p.product];
                p.product = match products.iter().position(|q| q.key == prod.key) {
                    Some(i) => i,
                    None => {
                        products.push(prod.clone());
                        products.len() - 1
                    }
                };
            }
        }
        s
    };
    for s in old.steps.iter().filter(|s| s.start < date) {
        let mut s = add(&old.products, s.clone(), &mut products);
        if s.end >= date {
            s.end = date.pred_opt().unwrap_or(date);
            s.days = (s.end - s.start).num_days() as u32 + 1;
            s.is_final = false;
        }
        steps.push(s);
    }
    let kept = steps.len();
    let kept_dose = steps
        .last()
        .map_or(old.request.start_dose, |s| s.daily_dose);
    for (from, part) in parts {
        for s in part {
            let s = add(&from, s, &mut products);
            steps.push(s);
        }
    }
    // The first revised step at the kept step's dose continues that step.
    let same_rhythm = |a: &Step, b: &Step| a.every_days == b.every_days;
    if merge
        && kept > 0
        && steps.len() > kept + 1
        && steps[kept].daily_dose == kept_dose
        && same_rhythm(&steps[kept], &steps[kept - 1])
    {
        let extra = steps.remove(kept);
        let k = &mut steps[kept - 1];
        k.days += extra.days;
        k.end = extra.end;
    }
    // Products in the engine's order, portions re-pointed.
    let mut order: Vec<usize> = (0..products.len()).collect();
    order.sort_by_key(|&i| products[i].plan_order());
    let mut map = vec![0; products.len()];
    for (new, &old_i) in order.iter().enumerate() {
        map[old_i] = new;
    }
    let products: Vec<Product> = order.iter().map(|&i| products[i].clone()).collect();
    let mut previous = old.request.start_dose;
    let mut phase = 0;
    let mut form = None;
    let n = steps.len();
    for (i, s) in steps.iter_mut().enumerate() {
        for a in &mut s.administrations {
            for p in &mut a.portions {
                p.product = map[p.product];
            }
        }
        s.step = i as u32 + 1;
        s.change = DoseChange {
            from: previous,
            to: s.daily_dose,
        };
        s.is_final = i + 1 == n;
        let f = s.on_liquid(&products);
        if f.is_some() && f != form || phase == 0 {
            phase += 1;
            form = f.or(form);
        }
        s.phase = phase;
        previous = s.daily_dose;
    }
    schedule::set_rhythms(&mut steps);
    let warnings = warnings(old, date, kept, rest, &steps);
    finish(old, rest, products, steps, warnings)
}

/// The kept part's warnings, the revised part's (renumbered) and the step
/// back's rise.
fn warnings(old: &Plan, date: NaiveDate, kept: usize, rest: &Plan, steps: &[Step]) -> Vec<Warning> {
    let mut out: Vec<Warning> = old
        .warnings
        .iter()
        .filter(|w| w.step.is_none_or(|s| (s as usize) <= kept))
        .cloned()
        .collect();
    let rest_first = steps.len() - rest.steps.len();
    for w in rest.warnings.iter().filter(|w| w.step.is_some()) {
        let mut w = w.clone();
        w.step = w.step.map(|s| s + rest_first as u32);
        out.push(w);
    }
    if let Some(i) = steps.iter().position(|s| s.start == date) {
        let s = &steps[i];
        // Back from every other day to daily is a rise too.
        let more_often =
            i > 0 && s.daily_dose == s.change.from && s.every_days < steps[i - 1].every_days;
        if s.daily_dose > s.change.from || more_often {
            out.push(Warning {
                kind: WarningKind::StepBack,
                step: Some(s.step),
                detail: WarningDetail::Rise {
                    rise_from: s.change.from,
                    rise_to: s.daily_dose,
                    rise_date: date,
                    from_every_days: if i > 0 { steps[i - 1].every_days } else { 1 },
                    to_every_days: s.every_days,
                },
            });
        }
    }
    out.sort_by_key(|w| w.step.unwrap_or(0));
    out
}

/// Days, phases and dispensing over the spliced steps.
fn finish(
    old: &Plan,
    rest: &Plan,
    products: Vec<Product>,
    steps: Vec<Step>,
    warnings: Vec<Warning>,
) -> Result<Plan, Error> {
    let total: u64 = steps.iter().map(|s| u64::from(s.days)).sum();
    let checkins = &old.reminders.checkin_days;
    let days = schedule::day_rows_for(old.request.start_dose, checkins, &steps, &warnings, total)?;
    let phases = schedule::phases(&steps, &products);
    let dispense = schedule::dispense_totals(&products, &steps);
    let mut request = rest.request.clone();
    request.start_dose = old.request.start_dose;
    request.start = old.request.start;
    let fills = crate::fills::fills(&products, &steps, request.start, request.supply_days);
    request.end = steps.last().map_or(old.request.end, |s| s.end);
    let gave_way = gave_way(old, rest, &steps);
    let mme = old.mme.as_ref().map(|m| {
        crate::mme::summary(
            m.factor,
            &m.source,
            old.request.start_dose,
            &schedule::mme_steps(&steps),
        )
    });
    let mut profile = old.profile.clone();
    for t in &rest.profile.tool_defaults {
        if !profile.tool_defaults.contains(t) {
            profile.tool_defaults.push(t.clone());
        }
    }
    Ok(Plan {
        tool: old.tool.clone(),
        disclaimer: old.disclaimer,
        profile,
        request,
        products,
        phases,
        gave_way,
        steps,
        days,
        dispense,
        fills,
        warnings,
        reminders: old.reminders.clone(),
        mme,
        switch: None,
        history: History::default(),
    })
}

/// Rules that gave way in the kept part or the revised part (a step
/// number renumbered), each rule once.
fn gave_way(old: &Plan, rest: &Plan, steps: &[Step]) -> Vec<GaveWay> {
    let offset = (steps.len() - rest.steps.len()) as u32;
    let kept = steps.len() as u32 - rest.steps.len() as u32;
    let mut out: Vec<GaveWay> = Vec::new();
    let renumbered = rest.gave_way.iter().map(|g| match g {
        GaveWay::FewerDoses {
            step,
            doses_per_day,
        } => GaveWay::FewerDoses {
            step: step + offset,
            doses_per_day: *doses_per_day,
        },
        g => g.clone(),
    });
    let old_kept = old.gave_way.iter().filter(|g| match g {
        GaveWay::FewerDoses { step, .. } => *step <= kept,
        _ => true,
    });
    for g in old_kept.cloned().chain(renumbered) {
        let same = |h: &GaveWay| std::mem::discriminant(h) == std::mem::discriminant(&g);
        if !out.iter().any(same) {
            out.push(g);
        }
    }
    out
}

/// The first new step's warnings, from its real change: the dose before
/// the date, not the dose the revised part was planned from.
fn first_step_warnings(plan: &mut Plan, req: &schedule::PlanRequest, date: NaiveDate) {
    let Some(s) = plan.steps.iter().find(|s| s.start == date) else {
        return;
    };
    let n = s.step;
    let rules = crate::limits::Rules::new(&req.profile);
    let own = schedule::step_warnings(req, &rules, s);
    let kept = |w: &Warning| w.step != Some(n) || w.kind == WarningKind::StepBack;
    let mut warnings: Vec<Warning> = plan.warnings.iter().filter(|w| kept(w)).cloned().collect();
    warnings.extend(own);
    warnings.sort_by_key(|w| w.step.unwrap_or(0));
    if warnings.len() != plan.warnings.len()
        || warnings
            .iter()
            .zip(&plan.warnings)
            .any(|(a, b)| a.kind != b.kind || a.step != b.step)
    {
        // Day events point into `warnings`: rebuild them.
        let total = plan.days.len() as u64;
        let checkins = plan.reminders.checkin_days.clone();
        if let Ok(days) = schedule::day_rows_for(
            plan.request.start_dose,
            &checkins,
            &plan.steps,
            &warnings,
            total,
        ) {
            plan.days = days;
            plan.warnings = warnings;
        }
    }
}

/// Whether the products `opts` selects give `dose` exactly (a custom
/// schedule's entries must be given exactly).
fn achievable(opts: &PlanOptions, probe: &schedule::PlanRequest, dose: Dose) -> bool {
    let mut o = opts.clone();
    o.dose = format!("{dose}mg");
    o.strategy = Some(StrategyKind::Custom);
    o.schedule = Some(format!("{dose}x1"));
    o.target = None;
    o.interval = None;
    // The start date is given, so the resolver's "today" is never used.
    request::resolve(Arc::clone(&probe.profile), &o, probe.start)
        .and_then(|r| schedule::build(&r))
        .is_ok()
}
