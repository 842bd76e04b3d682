//! From proposed steps to a dated plan: days, steps, reminders, warnings and
//! dispensing totals.
//!
//! This is the plain data every renderer reads ([`Plan`]); nothing here
//! formats text for people. Dates are calendar dates (`NaiveDate`), so no
//! time zone can change them.

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::dose::{Change, Dose, Percent};
use crate::error::Error;
use crate::formulation::{whole_units, Administration, Kit, Product, Quantity};
use crate::limits::{cut_percent_every, rise_percent_every, Rules};
use crate::profile::{Ending, Form, Limits, Profile, Source, StrategyKind};
use crate::regimen::{Budget, PLAN_BUDGET};
use crate::stepper::{self, Chosen, Context, KeepDoses, Phase};
use crate::strategy::{occupancy_of, validate_custom, Adjustment, Strategy};

/// Hard limit on a plan's length: ten years of days.
pub const MAX_PLAN_DAYS: u64 = 3653;

/// The first day no plan may reach: its all-day calendar events end the
/// next day, and RFC 5545 cannot write 10000-01-01.
const LAST_PLAN_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("9999-12-31 is a valid date"),
};

/// The disclaimer every output carries.
pub const DISCLAIMER: &str = "This schedule is a draft aid for prescribers. It must be used under prescriber oversight and is not medical advice; do not change a dose without your prescriber.";

/// A validated request: everything resolved against the profile.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub profile: std::sync::Arc<Profile>,
    pub start_dose: Dose,
    pub target: Dose,
    pub start: NaiveDate,
    pub strategy: Strategy,
    /// Base hold per step (not used by custom schedules).
    pub interval_days: u32,
    pub doses_per_day: u32,
    pub kit: Kit,
    /// Which request values came from the profile and are tool defaults.
    pub tool_defaults_used: Vec<String>,
    /// `--final-hold`: days the last dose before stopping is held; it
    /// overrides the profile's `ending.final_hold_days`.
    pub final_hold: Option<u32>,
    /// A revision's rest: the doses a day it keeps (see [`KeepDoses`]).
    pub keep_doses: Option<KeepDoses>,
    /// Products are those sold in this market.
    pub market: String,
    /// `--supply DAYS`: the plan is dispensed in fills of this many days.
    pub supply_days: Option<u32>,
}

/// The whole plan. Field names are the documented JSON shape.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub tool: ToolInfo,
    pub disclaimer: &'static str,
    pub profile: ProfileInfo,
    pub request: RequestInfo,
    /// Only the products the plan uses: solids by strength, then liquids.
    pub products: Vec<Product>,
    /// The regimen's phases: a solid phase, then perhaps one liquid phase.
    pub phases: Vec<PhaseInfo>,
    /// Rules that could not all hold for this plan, and gave way.
    pub gave_way: Vec<GaveWay>,
    pub steps: Vec<Step>,
    pub days: Vec<Day>,
    pub dispense: Vec<DispenseLine>,
    /// What to dispense per supply period (`--supply`; without it the
    /// whole plan is one fill).
    pub fills: Vec<crate::fills::Fill>,
    pub warnings: Vec<Warning>,
    pub reminders: Reminders,
    /// Opioids: the plan's morphine equivalents (`None` otherwise).
    pub mme: Option<crate::mme::PlanMme>,
    /// `--switch-to`: the switch from another drug that opens the plan
    /// (`None` otherwise). Its steps hold both drugs; see [`Step::drugs`].
    pub switch: Option<crate::switch::SwitchInfo>,
    /// `taper adjust`: the options to rebuild the plan and its revisions
    /// (empty for a plan no one has adjusted). JSON writes it itself.
    #[serde(skip)]
    pub history: crate::revision::History,
}

/// A run of steps given with one set of products.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseInfo {
    /// 1-based.
    pub phase: u32,
    pub form: Form,
    /// Indices into `products`.
    pub products: Vec<usize>,
    pub first_step: u32,
    pub last_step: u32,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A plan rule that gave way because the products could not keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum GaveWay {
    /// Some administrations need more pieces than the profile's limit.
    PieceLimit { limit: u32, used: u32 },
    /// Three strengths were needed to keep the step sizes.
    ThreeStrengths,
    /// From this step a dose is given in fewer administrations a day,
    /// because it cannot be spread evenly over more.
    FewerDoses { step: u32, doses_per_day: u32 },
}

#[derive(Clone, Debug, Serialize)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub display_name: String,
    pub version: String,
    pub origin: String,
    pub unit: String,
    pub sources: Vec<Source>,
    /// Values this plan uses that no source gives (conservative tool
    /// defaults the prescriber should confirm), e.g. `default.step`.
    pub tool_defaults: Vec<String>,
    pub notes: Vec<String>,
    /// The fastest taper the sources support.
    pub limits: Limits,
    /// How the profile ends a plan (`null` without an `[ending]`).
    pub ending: Option<Ending>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RequestInfo {
    pub start_dose: Dose,
    pub target: Dose,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub strategy: Strategy,
    /// Base hold per step in days (`null` for custom schedules).
    pub interval_days: Option<u32>,
    /// Profile rules that lengthen holds at low doses.
    pub slow_below: Vec<SlowRule>,
    pub doses_per_day: u32,
    /// `--final-hold` days, when given (omitted otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_hold_days: Option<u32>,
    /// The market whose products the plan uses (`--market`, else the
    /// profile's first).
    pub market: String,
    /// `--supply` days per fill, when given (omitted otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supply_days: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SlowRule {
    pub below: Dose,
    pub interval_days: u32,
    /// The largest cut at or below `below`, when the profile gives one.
    pub step: Option<Dose>,
}

/// One step: a daily dose held over a run of days.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// 1-based.
    pub step: u32,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub days: u32,
    pub daily_dose: Dose,
    /// From the previous step (step 1: from the starting dose).
    pub change: Change,
    /// The strategy's exact dose when the products could not give it.
    pub exact_dose: Option<Dose>,
    pub adjustment: Option<Adjustment>,
    /// 1-based index into `phases`.
    pub phase: u32,
    /// Administrations a day (0 once stopped).
    pub doses_per_day: u32,
    /// Only the doses given that day, each with its slot name.
    pub administrations: Vec<Administration>,
    /// The last dose before stopping, as the profile's ending describes.
    pub final_phase: bool,
    /// The first day at the target: the plan ends here.
    pub is_final: bool,
    /// The dose is taken every this many days, from the step's first day
    /// (a custom `/N` entry); omitted when daily. `daily_dose` is the dose
    /// on the days it is taken.
    #[serde(skip_serializing_if = "is_daily")]
    pub every_days: u32,
    /// Set when this step or the one before is not daily: the change in
    /// the average daily dose, which `change` (dose days only) misses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rhythm: Option<Rhythm>,
    /// Opioids: morphine milligram equivalents a day (omitted otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mme: Option<Dose>,
    /// A switch step: each drug's own daily dose, the old drug first
    /// (omitted otherwise). `daily_dose` is then the day's total in the
    /// new drug's equivalents.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drugs: Vec<DrugDose>,
}

/// One drug's share of a switch step's day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DrugDose {
    /// The drug's profile name.
    pub drug: String,
    /// In that drug's own unit.
    pub daily_dose: Dose,
    pub doses_per_day: u32,
}

/// How a step changes the average daily dose when doses are not daily
/// (5 mg a day, then 5 mg every other day, halves it). JSON `steps[].rhythm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rhythm {
    /// `every_days` of the step before (1: daily; the starting dose is daily).
    pub from_every_days: u32,
    /// The fall in the average daily dose, percent of the average before
    /// (one decimal; 0 when it does not fall).
    pub average_cut_percent: Dose,
    /// Its rise (back to daily doses, say), likewise; 0 when it does not
    /// rise.
    pub average_rise_percent: Dose,
}

impl Rhythm {
    /// Signed percent change of the average daily dose: `-50`, `+100`, `0`.
    pub fn average_change(&self) -> String {
        if !self.average_rise_percent.is_zero() {
            format!("+{}", self.average_rise_percent)
        } else if !self.average_cut_percent.is_zero() {
            format!("-{}", self.average_cut_percent)
        } else {
            "0".into()
        }
    }
}

/// Sets every step's [`Rhythm`] from the step before it.
pub(crate) fn set_rhythms(steps: &mut [Step]) {
    let mut before = 1;
    for s in steps {
        s.rhythm = (before > 1 || s.every_days > 1).then(|| {
            let from = (s.change.from, before);
            let to = (s.daily_dose, s.every_days);
            Rhythm {
                from_every_days: before,
                average_cut_percent: cut_percent_every(from, to),
                average_rise_percent: rise_percent_every(from, to),
            }
        });
        before = s.every_days.max(1);
    }
}

fn is_daily(n: &u32) -> bool {
    *n == 1
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Step {
    /// Whether the step's dose is taken on its `offset`-th day (0-based):
    /// every day, or the first of every `every_days`.
    pub fn dose_on(&self, offset: u32) -> bool {
        offset.is_multiple_of(self.every_days.max(1))
    }

    /// The days of the step on which its dose is taken.
    pub fn dose_days(&self) -> u32 {
        self.days.div_ceil(self.every_days.max(1))
    }

    /// Whether the step is given with a liquid (`None`: nothing given).
    pub fn on_liquid(&self, products: &[Product]) -> Option<bool> {
        let p = self.administrations.first()?.portions.first()?;
        Some(products[p.product].form == Form::Liquid)
    }
}

/// One calendar day.
#[derive(Clone, Debug, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    /// 1-based day number.
    pub day: u32,
    /// 1-based step number; the step holds the administrations.
    pub step: u32,
    /// 0 on a rest day of an every-N-days step.
    pub daily_dose: Dose,
    /// The dose level, from the day before (day 1: from the starting
    /// dose). A rest day keeps its step's level: it is neither a cut nor a
    /// stop, and the next dose day is not a rise.
    pub change: Change,
    pub events: Vec<Event>,
    /// No dose today: a rest day of an every-N-days step (omitted when
    /// false).
    #[serde(skip_serializing_if = "is_false")]
    pub rest_day: bool,
}

/// What a day's reminder note is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A new step starts today.
    StepStart { step: u32 },
    /// A check-in this many days after the step started.
    CheckIn { days_after_step: u32 },
    /// The first day at the target (0 = stopped).
    Final,
    /// A warning about this day's step (index into `warnings`).
    Warning { index: usize },
}

#[derive(Clone, Debug, Serialize)]
pub struct DispenseLine {
    /// Index into `products`.
    pub product: usize,
    pub name: String,
    /// Whole tablets/capsules to dispense (pieces pooled, rounded up).
    pub units: Option<u64>,
    /// Liquid volume in mL.
    pub volume_ml: Option<Dose>,
    /// The product's drug, in a switch plan (omitted otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drug: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    /// The step it concerns, if any.
    pub step: Option<u32>,
    /// Facts for the message; renderers phrase it.
    pub detail: WarningDetail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    StepTooLarge,
    IntervalTooShort,
    TaperTooShort,
    AboveUsualMaximum,
    /// The plan stops although the strategy did not ask for it (the
    /// products cannot give a smaller dose).
    UnplannedStop,
    /// A hyperbolic plan's last occupancy fall is more than 1.5 steps.
    OccupancyFall,
    /// `taper adjust --back`: the one rise taper makes, on purpose.
    StepBack,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum WarningDetail {
    Step {
        from: Dose,
        to: Dose,
        /// Cut as a percentage of the dose before it, one decimal.
        cut_percent: Dose,
        max_step_percent: Option<Percent>,
        max_step: Option<Dose>,
        /// Set on a stop: the dose the sources name for stopping.
        stop_from: Option<Dose>,
        /// How often `from` and `to` are taken, when not daily: the cut
        /// (and `cut_percent`) is then in the average daily dose.
        #[serde(skip_serializing_if = "is_daily")]
        from_every_days: u32,
        #[serde(skip_serializing_if = "is_daily")]
        to_every_days: u32,
    },
    Stop {
        from: Dose,
        /// What the strategy asked for instead.
        asked: Option<Dose>,
    },
    Occupancy {
        /// Occupancy fall of the last step, percentage points (one decimal).
        fall: Dose,
        step: Percent,
    },
    Interval {
        days: u32,
        min_days: u32,
    },
    Total {
        days: u32,
        min_days: u32,
    },
    Maximum {
        dose: Dose,
        usual_max: Dose,
        /// A switch plan's: whose dose (omitted otherwise).
        #[serde(skip_serializing_if = "Option::is_none")]
        drug: Option<String>,
    },
    /// `taper adjust --back`: back up to the previous step's dose.
    Rise {
        rise_from: Dose,
        rise_to: Dose,
        rise_date: NaiveDate,
        /// How often the doses are taken, when not daily (back from every
        /// other day to daily is a rise at the same dose).
        #[serde(skip_serializing_if = "is_daily")]
        from_every_days: u32,
        #[serde(skip_serializing_if = "is_daily")]
        to_every_days: u32,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Reminders {
    pub withdrawal_symptoms: Vec<String>,
    pub red_flags: Vec<String>,
    pub if_symptoms: String,
    pub checkin_days: Vec<u32>,
    pub advice: Vec<String>,
    pub cautions: Vec<String>,
}

fn add_days(date: NaiveDate, n: u64) -> Result<NaiveDate, Error> {
    date.checked_add_days(Days::new(n)).ok_or_else(|| {
        Error::PlanRefused(format!("dates after {date} plus {n} days are out of range"))
    })
}

/// Builds the plan. Pure: the same request always gives the same plan.
pub fn build(req: &PlanRequest) -> Result<Plan, Error> {
    let chosen = choose_regimen(req)?;
    let (products, index) = used_products(&req.kit, &chosen);
    let (steps, total_days) = dated_steps(req, &chosen, &index)?;
    let phases = phases(&steps, &products);
    let gave_way = gave_way(req, &chosen, &steps);
    let warnings = check_limits(req, &steps, total_days);
    let days = day_rows(req, &steps, &warnings, total_days)?;
    let dispense = dispense_totals(&products, &steps);
    let fills = crate::fills::fills(&products, &steps, req.start, req.supply_days);
    let end = steps.last().map_or(req.start, |s| s.end);
    let steps_for_mme = mme_steps(&steps);
    let mut profile = profile_info(req);
    if let Some(t) = stop_dose_default(req, &steps) {
        if !profile.tool_defaults.contains(&t) {
            profile.tool_defaults.push(t);
        }
    }
    Ok(Plan {
        tool: ToolInfo {
            name: "taper",
            version: env!("CARGO_PKG_VERSION"),
        },
        disclaimer: DISCLAIMER,
        profile,
        request: request_info(req, end),
        products,
        phases,
        gave_way,
        steps,
        days,
        dispense,
        fills,
        warnings,
        reminders: reminders(&req.profile),
        mme: mme_summary(req.profile.mme.as_ref(), req.start_dose, &steps_for_mme),
        switch: None,
        history: crate::revision::History::default(),
    })
}

/// Each step's number and daily dose, for [`mme_summary`].
pub(crate) fn mme_steps(steps: &[Step]) -> Vec<crate::mme::StepDose> {
    steps
        .iter()
        .map(|s| crate::mme::StepDose {
            step: s.step,
            daily: s.daily_dose,
        })
        .collect()
}

/// An opioid plan's MME summary (`None` for other drugs).
pub(crate) fn mme_summary(
    mme: Option<&crate::profile::Mme>,
    start_dose: Dose,
    steps: &[crate::mme::StepDose],
) -> Option<crate::mme::PlanMme> {
    mme.map(|m| crate::mme::summary(m.factor, &m.source, start_dose, steps))
}

/// Where the plan stops from above the dose the sources name for stopping
/// (the products reach no lower), that dose is the tool's, not the
/// sources': list it with the tool defaults (the stop warning says why).
fn stop_dose_default(req: &PlanRequest, steps: &[Step]) -> Option<String> {
    let stop_from = req.profile.ending.as_ref()?.stop_from;
    let last = steps.last()?;
    let from = last.change.from;
    // Linear and custom plans stop where their own step takes them.
    let ending_governs = matches!(
        req.strategy,
        Strategy::Percent { .. } | Strategy::Hyperbolic { .. }
    ) || last.adjustment == Some(Adjustment::ToTarget);
    let stopped = req.target.is_zero() && last.daily_dose.is_zero();
    (stopped && ending_governs && from > stop_from).then(|| "ending.stop_from".to_string())
}

/// Walks every candidate regimen and keeps the best (see [`stepper`]).
fn choose_regimen(req: &PlanRequest) -> Result<Chosen, Error> {
    if let Strategy::Custom { schedule } = &req.strategy {
        validate_custom(schedule, req.start_dose, req.target).map_err(Error::Usage)?;
    }
    let ctx = Context {
        profile: &req.profile,
        strategy: &req.strategy,
        start: req.start_dose,
        target: req.target,
        doses_per_day: req.doses_per_day,
        keep_doses: req.keep_doses,
    };
    let mut budget = Budget::new(PLAN_BUDGET);
    stepper::choose(&ctx, &req.kit, &mut budget).map_err(|e| match e {
        Some(message) => Error::Usage(message),
        None => Error::PlanRefused(format!(
            "the {} products are too finely graded to plan within taper's work limit (accepted: strengths and liquid measuring steps that are not tiny fractions of each other; narrow them with --strengths)",
            req.profile.display_name
        )),
    })
}

/// The products the chosen walk uses, solids by falling strength then
/// liquids, and a map from kit index to plan index.
fn used_products(kit: &Kit, chosen: &Chosen) -> (Vec<Product>, Vec<Option<usize>>) {
    let mut used = vec![false; kit.products.len()];
    for day in &chosen.administrations {
        for (_, _, portions) in day {
            for p in portions {
                used[p.product] = true;
            }
        }
    }
    let mut order: Vec<usize> = (0..kit.products.len()).filter(|&i| used[i]).collect();
    order.sort_by_key(|&i| kit.products[i].plan_order());
    let mut index = vec![None; kit.products.len()];
    for (new, &old) in order.iter().enumerate() {
        index[old] = Some(new);
    }
    (
        order.iter().map(|&i| kit.products[i].clone()).collect(),
        index,
    )
}

/// The request's interval at `dose`, lengthened by the profile's slower
/// holds at low doses (strictly below their dose).
pub(crate) fn interval_at(req: &PlanRequest, dose: Dose) -> u32 {
    req.profile
        .slow_below
        .iter()
        .filter(|r| dose < r.dose)
        .map(|r| r.interval_days)
        .fold(req.interval_days, u32::max)
}

/// How long a step is held: its own days (custom), the final phase's hold,
/// or the interval lengthened by the profile's slower holds at low doses.
fn hold_days(req: &PlanRequest, dose: Dose, fixed: Option<u32>, final_phase: bool) -> u32 {
    if let Some(days) = fixed {
        return days;
    }
    let base = interval_at(req, dose);
    // `--final-hold` replaces the profile's final hold (see dated_steps).
    let final_hold = match req.final_hold {
        Some(_) => None,
        None => req.profile.ending.as_ref().and_then(|e| e.final_hold_days),
    };
    match final_hold {
        Some(h) if final_phase => base.max(h),
        _ => base,
    }
}

/// Dates each step, with its administrations in plan product indices.
fn dated_steps(
    req: &PlanRequest,
    chosen: &Chosen,
    index: &[Option<usize>],
) -> Result<(Vec<Step>, u64), Error> {
    let slot_names = crate::slots::names(&req.profile, req.doses_per_day);
    let mut steps: Vec<Step> = Vec::with_capacity(chosen.steps.len());
    let mut total_days: u64 = 0;
    let mut previous = req.start_dose;
    let last = chosen.steps.len().saturating_sub(1);
    let liquid_phase = u32::from(
        chosen
            .steps
            .iter()
            .any(|s| s.phase == Phase::Solid && !s.dose.is_zero()),
    );
    for (i, (p, admins)) in chosen.steps.iter().zip(&chosen.administrations).enumerate() {
        let is_final = i == last;
        let last_before_stop = i + 1 == last && chosen.steps[last].dose.is_zero();
        let days = match req.final_hold {
            _ if is_final => 1,
            Some(h) if last_before_stop => h,
            _ => hold_days(req, p.dose, p.hold, p.final_phase),
        };
        let start = add_days(req.start, total_days)?;
        total_days += u64::from(days);
        if total_days > MAX_PLAN_DAYS {
            return Err(Error::PlanRefused(format!(
                "the plan would last more than {MAX_PLAN_DAYS} days (10 years); shorten the interval, enlarge the step or set a target"
            )));
        }
        let end = add_days(start, u64::from(days) - 1)?;
        // A calendar writes an all-day event's end as the day after, so
        // 9999-12-31 itself cannot be a plan day (RFC 5545 years end at 9999).
        if chrono::Datelike::year(&end) > 9999 || end >= LAST_PLAN_DAY {
            return Err(Error::PlanRefused(format!(
                "the plan would run to 9999-12-31 or later (from {}); dates are written as YYYY-MM-DD (accepted: a start date that leaves room for the whole plan)",
                req.start
            )));
        }
        let administrations = admins
            .iter()
            .map(|(slot, amount, portions)| Administration {
                slot: slot_names.get(*slot as usize).cloned().unwrap_or_default(),
                slot_index: *slot,
                amount: Dose::from_micro(*amount),
                drug: None,
                portions: portions
                    .iter()
                    .map(|q| crate::formulation::Portion {
                        product: index[q.product].unwrap_or(0),
                        quantity: q.quantity,
                    })
                    .collect(),
            })
            .collect();
        let phase = match p.phase {
            Phase::Solid => 1,
            Phase::Liquid => 1 + liquid_phase,
        };
        steps.push(Step {
            step: (i + 1) as u32,
            start,
            end,
            days,
            daily_dose: p.dose,
            change: Change {
                from: previous,
                to: p.dose,
            },
            exact_dose: p.exact,
            adjustment: p.adjustment,
            phase,
            doses_per_day: p.admins,
            administrations,
            final_phase: p.final_phase,
            is_final,
            every_days: p.every_days,
            rhythm: None,
            mme: req
                .profile
                .mme
                .as_ref()
                .map(|m| crate::mme::of(p.dose, m.factor)),
            drugs: Vec::new(),
        });
        previous = p.dose;
    }
    set_rhythms(&mut steps);
    // The stopping day belongs to the phase before it.
    if let [.., before, last] = steps.as_mut_slice() {
        if last.daily_dose.is_zero() {
            last.phase = before.phase;
        }
    }
    Ok((steps, total_days))
}

/// Runs of steps given with the same products.
pub(crate) fn phases(steps: &[Step], products: &[Product]) -> Vec<PhaseInfo> {
    let mut out: Vec<PhaseInfo> = Vec::new();
    for s in steps {
        let used = s
            .administrations
            .iter()
            .flat_map(|a| a.portions.iter().map(|p| p.product));
        match out.last_mut() {
            Some(ph) if ph.phase == s.phase => {
                ph.last_step = s.step;
                ph.end = s.end;
                for u in used {
                    if !ph.products.contains(&u) {
                        ph.products.push(u);
                    }
                }
            }
            _ => {
                let mut list: Vec<usize> = Vec::new();
                for u in used {
                    if !list.contains(&u) {
                        list.push(u);
                    }
                }
                out.push(PhaseInfo {
                    phase: s.phase,
                    form: list
                        .first()
                        .and_then(|&i| products.get(i))
                        .map_or(Form::Tablet, |p| p.form),
                    products: list,
                    first_step: s.step,
                    last_step: s.step,
                    start: s.start,
                    end: s.end,
                });
            }
        }
    }
    for ph in &mut out {
        ph.products.sort_unstable();
    }
    out
}

/// Which plan rules gave way, so every output can say so.
fn gave_way(req: &PlanRequest, chosen: &Chosen, steps: &[Step]) -> Vec<GaveWay> {
    let mut out = Vec::new();
    if let Some(set) = chosen.regimen.solid.as_deref() {
        let solid_steps = steps.iter().any(|s| {
            s.administrations.iter().any(|a| {
                a.portions
                    .iter()
                    .any(|p| matches!(p.quantity, Quantity::Units { .. }))
            })
        });
        if solid_steps && set.members.len() >= 3 {
            out.push(GaveWay::ThreeStrengths);
        }
    }
    if chosen.piece_limit_relaxed.is_some() && chosen.max_pieces_used > req.profile.max_pieces {
        out.push(GaveWay::PieceLimit {
            limit: req.profile.max_pieces,
            used: chosen.max_pieces_used,
        });
    }
    // Fewer doses in the final phase are the profile's ending, not a rule
    // giving way.
    if let Some(s) = steps
        .iter()
        .find(|s| !s.daily_dose.is_zero() && s.doses_per_day < req.doses_per_day && !s.final_phase)
    {
        out.push(GaveWay::FewerDoses {
            step: s.step,
            doses_per_day: s.doses_per_day,
        });
    }
    out
}

fn day_rows(
    req: &PlanRequest,
    steps: &[Step],
    warnings: &[Warning],
    total_days: u64,
) -> Result<Vec<Day>, Error> {
    let checkins = &req.profile.checkin_days;
    day_rows_for(req.start_dose, checkins, steps, warnings, total_days)
}

/// The day rows of dated steps (also for a revised plan's spliced steps).
pub(crate) fn day_rows_for(
    start_dose: Dose,
    checkin_days: &[u32],
    steps: &[Step],
    warnings: &[Warning],
    total_days: u64,
) -> Result<Vec<Day>, Error> {
    let mut days: Vec<Day> = Vec::with_capacity(total_days as usize);
    let mut prev_dose = start_dose;
    for s in steps {
        for offset in 0..s.days {
            let mut events = Vec::new();
            if offset == 0 {
                events.push(Event::StepStart { step: s.step });
                for (wi, w) in warnings.iter().enumerate() {
                    let first_day_warning = w.step.is_none() && s.step == 1;
                    if w.step == Some(s.step) || first_day_warning {
                        events.push(Event::Warning { index: wi });
                    }
                }
            } else if checkin_days.contains(&offset) {
                events.push(Event::CheckIn {
                    days_after_step: offset,
                });
            }
            if s.is_final {
                events.push(Event::Final);
            }
            let date = add_days(s.start, u64::from(offset))?;
            let rest_day = !s.dose_on(offset);
            days.push(Day {
                date,
                day: days.len() as u32 + 1,
                step: s.step,
                daily_dose: if rest_day { Dose::ZERO } else { s.daily_dose },
                change: Change {
                    from: prev_dose,
                    to: s.daily_dose,
                },
                events,
                rest_day,
            });
            prev_dose = s.daily_dose;
        }
    }
    Ok(days)
}

fn profile_info(req: &PlanRequest) -> ProfileInfo {
    let profile = &req.profile;
    let mut notes = Vec::new();
    let uses = |prefix: &str| req.tool_defaults_used.iter().any(|t| t.starts_with(prefix));
    if uses("default.") {
        notes.extend(profile.default.note.clone());
    }
    if uses("limits.") {
        notes.extend(profile.limits.note.clone());
    }
    if let Some(e) = &profile.ending {
        notes.extend(e.note.clone());
    }
    if uses("doses.") {
        notes.extend(profile.doses.note.clone());
    }
    ProfileInfo {
        name: profile.name.clone(),
        display_name: profile.display_name.clone(),
        version: profile.version.clone(),
        origin: profile.origin.clone(),
        unit: profile.unit.clone(),
        sources: profile.sources.clone(),
        tool_defaults: req.tool_defaults_used.clone(),
        notes,
        limits: profile.limits.clone(),
        ending: profile.ending.clone(),
    }
}

fn request_info(req: &PlanRequest, end: NaiveDate) -> RequestInfo {
    let custom = req.strategy.kind() == StrategyKind::Custom;
    RequestInfo {
        start_dose: req.start_dose,
        target: req.target,
        start: req.start,
        end,
        strategy: req.strategy.clone(),
        interval_days: (!custom).then_some(req.interval_days),
        slow_below: if custom {
            Vec::new()
        } else {
            req.profile
                .slow_below
                .iter()
                .map(|r| SlowRule {
                    below: r.dose,
                    interval_days: r.interval_days,
                    step: r.step,
                })
                .collect()
        },
        doses_per_day: req.doses_per_day,
        final_hold_days: req.final_hold,
        market: req.market.clone(),
        supply_days: req.supply_days,
    }
}

fn reminders(profile: &Profile) -> Reminders {
    Reminders {
        withdrawal_symptoms: profile.withdrawal_symptoms.clone(),
        red_flags: profile.red_flags.clone(),
        if_symptoms: profile.if_symptoms.clone(),
        checkin_days: profile.checkin_days.clone(),
        advice: profile.advice.clone(),
        cautions: profile.cautions.clone(),
    }
}

/// Compares the plan with the fastest taper the profile's sources support.
fn check_limits(req: &PlanRequest, steps: &[Step], total_days: u64) -> Vec<Warning> {
    let profile = &req.profile;
    let mut out = Vec::new();
    if let Some(max) = profile.usual_max_daily {
        if req.start_dose > max {
            out.push(Warning {
                kind: WarningKind::AboveUsualMaximum,
                step: None,
                detail: WarningDetail::Maximum {
                    dose: req.start_dose,
                    usual_max: max,
                    drug: None,
                },
            });
        }
    }
    let rules = Rules::new(profile);
    for s in steps {
        out.extend(step_warnings(req, &rules, s));
    }
    out.extend(occupancy_warning(req, steps));
    if let Some(min) = profile.limits.min_total_days {
        // Days of reducing doses before the final day.
        let taper_days = total_days.saturating_sub(1) as u32;
        if taper_days < min {
            out.push(Warning {
                kind: WarningKind::TaperTooShort,
                step: None,
                detail: WarningDetail::Total {
                    days: taper_days,
                    min_days: min,
                },
            });
        }
    }
    out
}

/// A step's own warnings (also for a revised plan's first new step).
pub(crate) fn step_warnings(req: &PlanRequest, rules: &Rules, s: &Step) -> Vec<Warning> {
    let limits = &req.profile.limits;
    let mut out = Vec::new();
    let from = s.change.from;
    if s.adjustment == Some(Adjustment::ToTarget) {
        out.push(Warning {
            kind: WarningKind::UnplannedStop,
            step: Some(s.step),
            detail: WarningDetail::Stop {
                from,
                asked: s.exact_dose,
            },
        });
    }
    out.extend(cut_warning(&req.profile, rules, s, req.target));
    if let Some(min) = limits.min_interval_days {
        if !s.is_final && s.days < min && s.adjustment != Some(Adjustment::Hold) {
            out.push(Warning {
                kind: WarningKind::IntervalTooShort,
                step: Some(s.step),
                detail: WarningDetail::Interval {
                    days: s.days,
                    min_days: min,
                },
            });
        }
    }
    out
}

/// A cut larger than the profile allows, as a warning (also for a switch
/// step's rounding, judged by the new drug's profile).
pub(crate) fn cut_warning(
    profile: &Profile,
    rules: &Rules,
    s: &Step,
    target: Dose,
) -> Option<Warning> {
    let limits = &profile.limits;
    let from = s.change.from;
    let from_every = s.rhythm.map_or(1, |r| r.from_every_days);
    let (before, after) = ((from, from_every), (s.daily_dose, s.every_days));
    if !rules.cut_warned_every(before, after, s.is_final, target) {
        return None;
    }
    let stop = s.is_final && s.daily_dose.is_zero();
    Some(Warning {
        kind: WarningKind::StepTooLarge,
        step: Some(s.step),
        detail: WarningDetail::Step {
            from,
            to: s.daily_dose,
            cut_percent: cut_percent_every(before, after),
            max_step_percent: limits.max_step_percent,
            max_step: if stop && limits.max_step_percent.is_some() {
                None
            } else {
                rules.absolute_at(from)
            },
            stop_from: if stop {
                profile.ending.as_ref().map(|e| e.stop_from)
            } else {
                None
            },
            from_every_days: from_every,
            to_every_days: s.every_days,
        },
    })
}

/// A hyperbolic plan's last fall in occupancy, warned above 1.5 steps.
fn occupancy_warning(req: &PlanRequest, steps: &[Step]) -> Option<Warning> {
    let Strategy::Hyperbolic {
        occupancy_step,
        model,
    } = &req.strategy
    else {
        return None;
    };
    let last = steps.last()?;
    if !last.daily_dose.is_zero() {
        return None;
    }
    let from = occupancy_of(model, last.change.from)?;
    let to = occupancy_of(model, last.daily_dose)?;
    let fall = from.saturating_sub(to);
    let step = u128::from(occupancy_step.micro());
    if fall * 2 <= step * 3 {
        return None;
    }
    // One decimal, rounded half up (micro-points → tenths).
    let tenths = (fall * 2 / 100_000).div_ceil(2);
    Some(Warning {
        kind: WarningKind::OccupancyFall,
        step: Some(last.step),
        detail: WarningDetail::Occupancy {
            fall: Dose::from_micro((tenths as u64).saturating_mul(100_000)),
            step: *occupancy_step,
        },
    })
}

/// Sums every dose day's portions per product (rest days of an
/// every-N-days step take nothing); pieces are pooled before rounding up
/// to whole units.
pub(crate) fn dispense_totals(products: &[Product], steps: &[Step]) -> Vec<DispenseLine> {
    let mut pieces = vec![0u64; products.len()];
    let mut volume = vec![0u64; products.len()];
    for s in steps {
        let days = u64::from(s.dose_days());
        crate::fills::add_use(products, s, days, &mut pieces, &mut volume);
    }
    products
        .iter()
        .enumerate()
        .filter(|(i, _)| pieces[*i] > 0 || volume[*i] > 0)
        .map(|(i, p)| DispenseLine {
            product: i,
            name: p.name.clone(),
            units: (pieces[i] > 0).then(|| whole_units(pieces[i], p.split_into)),
            volume_ml: (volume[i] > 0).then(|| Dose::from_micro(volume[i])),
            drug: p.drug.clone(),
        })
        .collect()
}
