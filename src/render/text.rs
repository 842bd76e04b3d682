//! The words every renderer shares, so table, CSV and JSON say the same
//! thing. Phrasing follows ISMP's safe-designation list: units spelled
//! `mg`/`mL`, no `TID`/`QD`, frequencies in words.

use crate::dose::Dose;
use crate::formulation::{Portion, Quantity, UnitCount};
use crate::schedule::{Day, Event, Plan, Step, Warning, WarningDetail};
use crate::strategy::{Adjustment, Strategy};

pub fn amount(d: Dose, unit: &str) -> String {
    format!("{d} {unit}")
}

/// A strategy's exact dose for people: at most two decimals, marked
/// "about" when rounded (`about 24.12`). Exact values stay in JSON.
pub fn approx(d: Dose) -> String {
    let hundredth = crate::dose::SCALE / 100;
    if d.micro() % hundredth == 0 {
        return d.to_string();
    }
    let rounded = Dose::from_micro((d.micro() + hundredth / 2) / hundredth * hundredth);
    format!("about {rounded}")
}

/// `once a day`, `twice a day`, `3 times a day`.
pub fn frequency(n: u32) -> String {
    match n {
        1 => "once a day".into(),
        2 => "twice a day".into(),
        n => format!("{n} times a day"),
    }
}

/// Per-administration amounts: `10 + 10 + 5`.
pub fn doses(step: &Step) -> String {
    step.administrations
        .iter()
        .map(|a| a.amount.to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `1½ × 10 mg tablet` or `2.5 mL of 2 mg/mL oral solution`.
pub fn portion(plan: &Plan, p: &Portion) -> String {
    let name = plan
        .products
        .get(p.product)
        .map_or("?", |x| x.name.as_str());
    match p.quantity {
        Quantity::Units { pieces, split_into } => {
            format!("{} × {name}", UnitCount { pieces, split_into })
        }
        Quantity::Volume { ml } => format!("{ml} mL of {name}"),
    }
}

/// What makes one administration: `1 × 10 mg tablet + 1 × 5 mg tablet`.
pub fn administration(plan: &Plan, portions: &[Portion]) -> String {
    if portions.is_empty() {
        return "none".into();
    }
    portions
        .iter()
        .map(|p| portion(plan, p))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// What to take on a day of this step.
pub fn products(plan: &Plan, step: &Step) -> String {
    if step.daily_dose.is_zero() {
        return "none (stopped)".into();
    }
    let admins = &step.administrations;
    let all_same = admins.windows(2).all(|w| w[0] == w[1]);
    if all_same {
        if let Some(first) = admins.first() {
            return format!(
                "{}, {}",
                administration(plan, &first.portions),
                frequency(admins.len() as u32)
            );
        }
    }
    // Group runs of identical administrations: `doses 1-2: …; dose 3: …`.
    let mut parts = Vec::new();
    let mut i = 0;
    while i < admins.len() {
        let mut j = i;
        while j + 1 < admins.len() && admins[j + 1] == admins[i] {
            j += 1;
        }
        let label = match j - i {
            0 => format!("dose {}", i + 1),
            1 => format!("doses {} and {}", i + 1, j + 1),
            _ => format!("doses {} to {}", i + 1, j + 1),
        };
        parts.push(format!(
            "{label}: {}",
            administration(plan, &admins[i].portions)
        ));
        i = j + 1;
    }
    parts.join("; ")
}

/// `linear, 5 mg less each step, each held 7 days`.
pub fn strategy(plan: &Plan) -> String {
    let unit = &plan.profile.unit;
    let r = &plan.request;
    let hold = match r.interval_days {
        Some(d) => {
            let mut s = format!(", each step held {d} days");
            for rule in &r.slow_below {
                s.push_str(&format!(
                    " ({} days below {})",
                    rule.interval_days,
                    amount(rule.below, unit)
                ));
            }
            s
        }
        None => String::new(),
    };
    match &r.strategy {
        Strategy::Linear { step } => format!("linear: {} less each step{hold}", amount(*step, unit)),
        Strategy::Percent { percent } => {
            format!("percent: {percent} of the current dose less each step{hold}")
        }
        Strategy::Hyperbolic { occupancy_step, model } => format!(
            "hyperbolic: receptor occupancy {} percentage points lower each step (Emax {}%, ED50 {}){hold}",
            occupancy_step.0,
            model.emax.0,
            amount(model.ed50, unit)
        ),
        Strategy::Custom { schedule } => format!(
            "custom: {}",
            schedule
                .iter()
                .map(|e| format!("{} for {} days", amount(e.dose, unit), e.days))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The target as a phrase: `stop (0 mg)` or `10 mg a day`.
pub fn target(plan: &Plan) -> String {
    let unit = &plan.profile.unit;
    if plan.request.target.is_zero() {
        format!("stop completely ({})", amount(Dose::ZERO, unit))
    } else {
        format!("{} a day (maintenance)", amount(plan.request.target, unit))
    }
}

pub fn warning(plan: &Plan, w: &Warning) -> String {
    let unit = &plan.profile.unit;
    let step = w.step.map_or(String::new(), |s| format!("step {s}: "));
    match &w.detail {
        WarningDetail::Step { from, to, cut_percent, max_step_percent, max_step, stop_from } => {
            let mut limits = Vec::new();
            if let Some(p) = max_step_percent {
                limits.push(format!("{p} of the current dose"));
            }
            if let Some(m) = max_step {
                limits.push(amount(*m, unit));
            }
            let stop = match stop_from {
                Some(s) if to.is_zero() => format!(
                    "; the sources name stopping from {} or less, which these products cannot give",
                    amount(*s, unit)
                ),
                None if to.is_zero() => "; the profile names no dose to stop from".to_string(),
                _ => String::new(),
            };
            format!(
                "{step}the cut from {} to {} ({cut_percent}%) is larger than the fastest taper the profile supports ({} per step){stop}",
                amount(*from, unit),
                amount(*to, unit),
                limits.join(" or ")
            )
        }
        WarningDetail::Stop { from, asked } => format!(
            "{step}the plan stops from {} because these products cannot give a smaller dose{}; this stop was not asked for by the strategy",
            amount(*from, unit),
            asked.map_or(String::new(), |a| format!(" (the strategy asked for {} {unit})", approx(a)))
        ),
        WarningDetail::Occupancy { fall, step: points } => format!(
            "{step}the last step lowers receptor occupancy by {fall} percentage points, more than 1.5 times the {} -point step of this hyperbolic plan",
            points.0
        ),
        WarningDetail::Interval { days, min_days } => format!(
            "{step}held only {days} days; the profile supports holds of at least {min_days} days"
        ),
        WarningDetail::Total { days, min_days } => format!(
            "the plan reaches the target after {days} day(s) of reduced doses; the profile's sources ask for a taper of at least {min_days} days"
        ),
        WarningDetail::Maximum { dose, usual_max } => format!(
            "the starting dose {} a day is above the usual maximum of {} a day",
            amount(*dose, unit),
            amount(*usual_max, unit)
        ),
    }
}

/// How a step's dose came about, when it is not the strategy's exact dose.
pub fn adjustment(plan: &Plan, step: &Step) -> Option<String> {
    let unit = &plan.profile.unit;
    let exact = step
        .exact_dose
        .map(|e| format!("{} {unit}", approx(e)))
        .unwrap_or_default();
    Some(match step.adjustment? {
        Adjustment::RoundedUp => format!(
            "the strategy's {exact} cannot be given with these products; {} is the nearest dose above it",
            amount(step.daily_dose, unit)
        ),
        Adjustment::NextLower => format!(
            "the strategy's {exact} rounds back to the current dose; the next lower dose that can be given is used"
        ),
        Adjustment::ToTarget => format!(
            "the strategy's {exact} is below the smallest dose these products can give"
        ),
        Adjustment::Hold => "the schedule starts by holding the current dose".to_string(),
    })
}

/// The symptom and red-flag checklist used on check-in days and the final day.
pub fn checklist(plan: &Plan) -> String {
    let r = &plan.reminders;
    format!(
        "Watch for withdrawal symptoms: {}. Get urgent medical help for: {}. {}",
        r.withdrawal_symptoms.join("; "),
        r.red_flags.join("; "),
        r.if_symptoms
    )
}

/// A day's reminder note.
pub fn day_note(plan: &Plan, day: &Day) -> String {
    if day.events.is_empty() {
        return String::new();
    }
    day_note_with(plan, day, &checklist(plan))
}

/// [`day_note`] with the plan's checklist built once by the caller.
pub fn day_note_with(plan: &Plan, day: &Day, checklist_text: &str) -> String {
    let unit = &plan.profile.unit;
    let drug = &plan.profile.display_name;
    let step = plan.steps.get(day.step as usize - 1);
    let mut parts: Vec<String> = Vec::new();
    for e in &day.events {
        match e {
            Event::StepStart { step: n } => {
                let Some(s) = step else { continue };
                let total = plan.steps.len();
                if s.is_final && s.daily_dose.is_zero() {
                    parts.push(format!(
                        "Step {n} of {total}: stop taking {drug} today (was {} a day).",
                        amount(s.change.from, unit)
                    ));
                } else if s.is_final {
                    parts.push(format!(
                        "Step {n} of {total}: target reached, {} a day (was {}). What to take: {}.",
                        amount(s.daily_dose, unit),
                        amount(s.change.from, unit),
                        products(plan, s)
                    ));
                } else if s.adjustment == Some(Adjustment::Hold) {
                    parts.push(format!(
                        "Step {n} of {total}: keep taking {} a day for now. What to take: {}.",
                        amount(s.daily_dose, unit),
                        products(plan, s)
                    ));
                } else {
                    parts.push(format!(
                        "Step {n} of {total}: reduce to {} a day (was {}, change {} {unit}). What to take: {}.",
                        amount(s.daily_dose, unit),
                        amount(s.change.from, unit),
                        s.change,
                        products(plan, s)
                    ));
                }
                if let Some(a) = adjustment(plan, s) {
                    parts.push(format!("Note: {a}."));
                }
            }
            Event::CheckIn { days_after_step } => {
                parts.push(format!(
                    "Check-in, day {} of this step. {checklist_text}",
                    days_after_step + 1
                ));
            }
            Event::Final => parts.push(checklist_text.to_string()),
            Event::Warning { index } => {
                if let Some(w) = plan.warnings.get(*index) {
                    parts.push(format!("WARNING: {}.", warning(plan, w)));
                }
            }
        }
    }
    parts.join(" ")
}

/// Dispensing line: `10 mg tablet × 50` or `1 mg/mL oral solution: 42.5 mL`.
pub fn dispense_lines(plan: &Plan) -> Vec<String> {
    plan.dispense
        .iter()
        .map(|d| match (d.units, d.volume_ml) {
            (Some(u), None) => format!("{} × {u}", d.name),
            (None, Some(v)) => format!("{}: {v} mL", d.name),
            (Some(u), Some(v)) => format!("{} × {u}, {v} mL", d.name),
            (None, None) => d.name.clone(),
        })
        .collect()
}

/// `Baclofen v2026.11.1 (built-in); taper 0.1.0`.
pub fn provenance(plan: &Plan) -> String {
    format!(
        "profile {} version {} ({}); {} {}",
        plan.profile.name,
        plan.profile.version,
        plan.profile.origin,
        plan.tool.name,
        plan.tool.version
    )
}

pub fn sources(plan: &Plan) -> String {
    plan.profile
        .sources
        .iter()
        .map(|s| match s.year {
            Some(y) => format!("{} ({y})", s.title),
            None => s.title.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}
