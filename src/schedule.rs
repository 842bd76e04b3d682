//! From proposed steps to a dated plan: days, steps, reminders, warnings and
//! dispensing totals.
//!
//! This is the plain data every renderer reads ([`Plan`]); nothing here
//! formats text for people. Dates are calendar dates (`NaiveDate`), so no
//! time zone can change them.

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::dose::{Change, Dose, Percent, SCALE};
use crate::error::Error;
use crate::formulation::{whole_units, Administration, Kit, Product, Quantity};
use crate::profile::{Profile, Source, StrategyKind};
use crate::strategy::{propose, Adjustment, Strategy};

/// Hard limit on a plan's length: ten years of days.
pub const MAX_PLAN_DAYS: u64 = 3653;

/// The disclaimer every output carries.
pub const DISCLAIMER: &str = "This schedule is a draft aid for prescribers. It must be used under prescriber oversight and is not medical advice; do not change a dose without your prescriber.";

/// A validated request: everything resolved against the profile.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub profile: Profile,
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
}

/// The whole plan. Field names are the documented JSON shape.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub tool: ToolInfo,
    pub disclaimer: &'static str,
    pub profile: ProfileInfo,
    pub request: RequestInfo,
    pub products: Vec<Product>,
    pub steps: Vec<Step>,
    pub days: Vec<Day>,
    pub dispense: Vec<DispenseLine>,
    pub warnings: Vec<Warning>,
    pub reminders: Reminders,
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
}

#[derive(Clone, Debug, Serialize)]
pub struct SlowRule {
    pub below: Dose,
    pub interval_days: u32,
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
    pub administrations: Vec<Administration>,
    /// The first day at the target: the plan ends here.
    pub is_final: bool,
}

/// One calendar day.
#[derive(Clone, Debug, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    /// 1-based day number.
    pub day: u32,
    /// 1-based step number; the step holds the administrations.
    pub step: u32,
    pub daily_dose: Dose,
    /// From the day before (day 1: from the starting dose).
    pub change: Change,
    pub events: Vec<Event>,
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
    let profile = &req.profile;
    let proposed = propose(
        &req.strategy,
        req.start_dose,
        req.target,
        &req.kit,
        req.doses_per_day,
    )
    .map_err(Error::PlanRefused)?;

    // Holds, with the profile's slower holds at low doses.
    let hold_for = |dose: Dose, fixed: Option<u32>| -> u32 {
        if let Some(days) = fixed {
            return days;
        }
        profile
            .slow_below
            .iter()
            .filter(|r| dose < r.dose)
            .map(|r| r.interval_days)
            .fold(req.interval_days, u32::max)
    };

    let mut steps: Vec<Step> = Vec::with_capacity(proposed.len());
    let mut total_days: u64 = 0;
    let mut previous = req.start_dose;
    let last = proposed.len().saturating_sub(1);
    for (i, p) in proposed.iter().enumerate() {
        let is_final = i == last;
        let days = if is_final {
            1
        } else {
            hold_for(p.dose, p.hold)
        };
        let administrations = req
            .kit
            .split_daily(p.dose, req.doses_per_day)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{} mg a day cannot be given with the selected products ({})",
                    p.dose,
                    req.kit
                        .products
                        .iter()
                        .map(|x| x.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let start = add_days(req.start, total_days)?;
        total_days += u64::from(days);
        if total_days > MAX_PLAN_DAYS {
            return Err(Error::PlanRefused(format!(
                "the plan would last more than {MAX_PLAN_DAYS} days (10 years); shorten the interval, enlarge the step or set a target"
            )));
        }
        let end = add_days(start, u64::from(days) - 1)?;
        if chrono::Datelike::year(&end) > 9999 {
            return Err(Error::PlanRefused(format!(
                "the plan would run past 9999-12-31 (from {}); dates are written as YYYY-MM-DD (accepted: a start date that leaves room for the whole plan)",
                req.start
            )));
        }
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
            administrations,
            is_final,
        });
        previous = p.dose;
    }

    let warnings = check_limits(req, &steps, total_days);

    // Days and their events.
    let mut days: Vec<Day> = Vec::with_capacity(total_days as usize);
    let mut prev_dose = req.start_dose;
    for s in &steps {
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
            } else if profile.checkin_days.contains(&offset) {
                events.push(Event::CheckIn {
                    days_after_step: offset,
                });
            }
            if s.is_final {
                events.push(Event::Final);
            }
            let date = add_days(s.start, u64::from(offset))?;
            days.push(Day {
                date,
                day: days.len() as u32 + 1,
                step: s.step,
                daily_dose: s.daily_dose,
                change: Change {
                    from: prev_dose,
                    to: s.daily_dose,
                },
                events,
            });
            prev_dose = s.daily_dose;
        }
    }

    let dispense = dispense_totals(&req.kit, &steps);
    let end = steps.last().map_or(req.start, |s| s.end);

    let mut notes = Vec::new();
    if req
        .tool_defaults_used
        .iter()
        .any(|t| t.starts_with("default."))
    {
        notes.extend(profile.default.note.clone());
    }
    if req
        .tool_defaults_used
        .iter()
        .any(|t| t.starts_with("limits."))
    {
        notes.extend(profile.limits.note.clone());
    }
    Ok(Plan {
        tool: ToolInfo {
            name: "taper",
            version: env!("CARGO_PKG_VERSION"),
        },
        disclaimer: DISCLAIMER,
        profile: ProfileInfo {
            name: profile.name.clone(),
            display_name: profile.display_name.clone(),
            version: profile.version.clone(),
            origin: profile.origin.clone(),
            unit: profile.unit.clone(),
            sources: profile.sources.clone(),
            tool_defaults: req.tool_defaults_used.clone(),
            notes,
        },
        request: RequestInfo {
            start_dose: req.start_dose,
            target: req.target,
            start: req.start,
            end,
            strategy: req.strategy.clone(),
            interval_days: (req.strategy.kind() != StrategyKind::Custom)
                .then_some(req.interval_days),
            slow_below: if req.strategy.kind() == StrategyKind::Custom {
                Vec::new()
            } else {
                profile
                    .slow_below
                    .iter()
                    .map(|r| SlowRule {
                        below: r.dose,
                        interval_days: r.interval_days,
                    })
                    .collect()
            },
            doses_per_day: req.doses_per_day,
        },
        products: req.kit.products.clone(),
        steps,
        days,
        dispense,
        warnings,
        reminders: Reminders {
            withdrawal_symptoms: profile.withdrawal_symptoms.clone(),
            red_flags: profile.red_flags.clone(),
            if_symptoms: profile.if_symptoms.clone(),
            checkin_days: profile.checkin_days.clone(),
            advice: profile.advice.clone(),
            cautions: profile.cautions.clone(),
        },
    })
}

/// Compares the plan with the fastest taper the profile's sources support.
fn check_limits(req: &PlanRequest, steps: &[Step], total_days: u64) -> Vec<Warning> {
    let profile = &req.profile;
    let limits = &profile.limits;
    let mut out = Vec::new();
    if let Some(max) = profile.usual_max_daily {
        if req.start_dose > max {
            out.push(Warning {
                kind: WarningKind::AboveUsualMaximum,
                step: None,
                detail: WarningDetail::Maximum {
                    dose: req.start_dose,
                    usual_max: max,
                },
            });
        }
    }
    for s in steps {
        let from = s.change.from;
        let cut = from.micro().saturating_sub(s.daily_dose.micro());
        if cut > 0 && (limits.max_step_percent.is_some() || limits.max_step.is_some()) {
            let within_percent = limits.max_step_percent.is_some_and(|p| {
                u128::from(cut) * u128::from(100 * SCALE)
                    <= u128::from(p.micro()) * u128::from(from.micro())
            });
            let within_abs = limits.max_step.is_some_and(|m| cut <= m.micro());
            if !within_percent && !within_abs {
                // One decimal, rounded half up, in exact integers.
                let tenths =
                    (u128::from(cut) * 1000 * 2 / u128::from(from.micro().max(1))).div_ceil(2);
                out.push(Warning {
                    kind: WarningKind::StepTooLarge,
                    step: Some(s.step),
                    detail: WarningDetail::Step {
                        from,
                        to: s.daily_dose,
                        cut_percent: Dose::from_micro((tenths as u64).saturating_mul(SCALE / 10)),
                        max_step_percent: limits.max_step_percent,
                        max_step: limits.max_step,
                    },
                });
            }
        }
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
    }
    if let Some(min) = limits.min_total_days {
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

/// Sums every day's portions per product; pieces are pooled before
/// rounding up to whole units.
fn dispense_totals(kit: &Kit, steps: &[Step]) -> Vec<DispenseLine> {
    let mut pieces = vec![0u64; kit.products.len()];
    let mut volume = vec![0u64; kit.products.len()];
    for s in steps {
        for a in &s.administrations {
            for p in &a.portions {
                let days = u64::from(s.days);
                match p.quantity {
                    Quantity::Units { pieces: n, .. } => {
                        pieces[p.product] = pieces[p.product].saturating_add(n.saturating_mul(days))
                    }
                    Quantity::Volume { ml } => {
                        volume[p.product] =
                            volume[p.product].saturating_add(ml.micro().saturating_mul(days))
                    }
                }
            }
        }
    }
    kit.products
        .iter()
        .enumerate()
        .filter(|(i, _)| pieces[*i] > 0 || volume[*i] > 0)
        .map(|(i, p)| DispenseLine {
            product: i,
            name: p.name.clone(),
            units: (pieces[i] > 0).then(|| whole_units(pieces[i], p.split_into)),
            volume_ml: (volume[i] > 0).then(|| Dose::from_micro(volume[i])),
        })
        .collect()
}
