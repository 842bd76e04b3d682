//! The words every renderer shares, so table, CSV and JSON say the same
//! thing. Phrasing follows ISMP's safe-designation list: units spelled
//! `mg`/`mL`, no `TID`/`QD`, frequencies in words.

use crate::dose::Dose;
use crate::formulation::{Administration, Portion, Quantity, UnitCount};
use crate::profile::Form;
use crate::schedule::{Day, Event, GaveWay, Plan, Step, Warning, WarningDetail};
use crate::strategy::{Adjustment, Strategy};

pub fn amount(d: Dose, unit: &str) -> String {
    format!("{d} {unit}")
}

/// A strategy's exact dose for people: at most two decimals, marked
/// "about" when rounded (`about 24.12`). Exact values stay in JSON.
pub fn approx(d: Dose) -> String {
    let hundredth = crate::dose::SCALE / 100;
    if d.micro().is_multiple_of(hundredth) {
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

/// How often a step's dose days come: `every other day`, `every 3 days`.
pub fn every(n: u32) -> String {
    match n {
        0 | 1 => "every day".into(),
        2 => "every other day".into(),
        n => format!("every {n} days"),
    }
}

/// `a day`, or for an every-N-days step `every other day`: what the
/// step's `daily_dose` is per.
pub fn per(step: &Step) -> String {
    if step.every_days > 1 {
        every(step.every_days)
    } else {
        "a day".into()
    }
}

/// How often doses come: `twice a day`, `every other day`, `twice a day,
/// every 3 days` (`once a day, every other day` says the same twice).
pub fn how_often(per_day: u32, every_days: u32) -> String {
    match (per_day, every_days) {
        (k, 0 | 1) => frequency(k),
        (1, n) => every(n),
        (k, n) => format!("{}, {}", frequency(k), every(n)),
    }
}

/// A rest day's note: it says why there is no dose, so that no one reads
/// the 0 as a stop.
pub fn rest_note(step: &Step) -> String {
    format!("no dose today ({})", every(step.every_days))
}

/// A step's doses with how often they come when not daily: `5, every
/// other day` (CSV has no Take column to say it).
pub fn doses_every(step: &Step) -> String {
    match step.every_days {
        0 | 1 => doses(step),
        n => format!("{}, {}", doses(step), every(n)),
    }
}

/// What a day of the plan asks: the step's [`products`], or on a rest day
/// `none: no dose today (every other day)`.
pub fn day_take(plan: &Plan, step: &Step, rest_day: bool) -> String {
    if rest_day {
        format!("none: {}", rest_note(step))
    } else {
        products(plan, step)
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

/// A switch plan's per-administration drugs, aligned with [`doses`]:
/// `lorazepam + diazepam` (empty for a plan of one drug).
pub fn drugs(step: &Step) -> String {
    step.administrations
        .iter()
        .map(|a| a.drug.as_deref().unwrap_or(""))
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Per-administration amounts for people, each named with its drug in a
/// switch step: `lorazepam 1.5 + diazepam 15`; otherwise as [`doses`].
pub fn doses_named(step: &Step) -> String {
    if step.drugs.is_empty() {
        return doses(step);
    }
    step.administrations
        .iter()
        .map(|a| match &a.drug {
            Some(d) => format!("{d} {}", a.amount),
            None => a.amount.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A switch step's drugs and their daily doses: `lorazepam 1.5 mg +
/// diazepam 15 mg` (`None` for other steps).
pub fn drug_doses(plan: &Plan, step: &Step) -> Option<String> {
    if step.drugs.is_empty() {
        return None;
    }
    Some(
        step.drugs
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.drug,
                    amount(d.daily_dose, drug_unit(plan, Some(&d.drug)))
                )
            })
            .collect::<Vec<_>>()
            .join(" + "),
    )
}

/// A step's daily dose for people: `28 mg`, or in a switch step `lorazepam
/// 1.5 mg + diazepam 15 mg (about 30 mg diazepam)`.
pub fn daily(plan: &Plan, step: &Step) -> String {
    let unit = &plan.profile.unit;
    match drug_doses(plan, step) {
        // Equivalences are approximate, whatever the arithmetic.
        Some(d) if step.drugs.len() > 1 => format!(
            "{d}, about {} {}",
            amount(step.daily_dose, unit),
            plan.profile.name
        ),
        Some(d) => d,
        None => amount(step.daily_dose, unit),
    }
}

/// The drug a plan is about, as people name it: `Diazepam`, or for a
/// switch plan `Lorazepam to diazepam`.
pub fn drug_label(plan: &Plan) -> String {
    match &plan.switch {
        Some(sw) => format!("{} to {}", sw.from.display_name, plan.profile.name),
        None => plan.profile.display_name.clone(),
    }
}

/// The plan's title: `Diazepam taper schedule`, or for a switch plan
/// `Lorazepam to diazepam: switch and taper schedule`.
pub fn title(plan: &Plan) -> String {
    match &plan.switch {
        Some(sw) => format!(
            "{} to {}: switch and taper schedule",
            sw.from.display_name, plan.profile.name
        ),
        None => format!("{} taper schedule", plan.profile.display_name),
    }
}

/// The starting dose: `30 mg a day`, or for a switch plan `lorazepam 3 mg
/// a day (equal to 30 mg diazepam)`.
pub fn starting_dose(plan: &Plan) -> String {
    let unit = &plan.profile.unit;
    match &plan.switch {
        Some(sw) => format!(
            "{} {} a day (about {} {})",
            sw.from.name,
            amount(sw.dose, &sw.from.unit),
            amount(sw.equivalent_dose, unit),
            plan.profile.name
        ),
        None => format!("{} a day", amount(plan.request.start_dose, unit)),
    }
}

/// A switch plan's switch in one paragraph for the prescriber (`None`
/// otherwise).
pub fn switch_summary(plan: &Plan) -> Option<String> {
    let sw = plan.switch.as_ref()?;
    let eq = &sw.equivalence;
    let unit = &plan.profile.unit;
    let range = match (eq.low, eq.high) {
        (Some(lo), Some(hi)) => format!(
            "; published range: {} {} = {} {lo} to {}",
            sw.from.name,
            amount(eq.dose, &sw.from.unit),
            plan.profile.name,
            amount(hi, unit),
        ),
        _ => String::new(),
    };
    let given = if sw.interval_given {
        " (--switch-interval)"
    } else {
        ""
    };
    let first = sw.replacements.first().map_or("", |r| r.slot.as_str());
    let how = if sw.last_step == 1 {
        format!(
            "the {first} dose is replaced at once and held {} days{given} (step 1)",
            sw.interval_days
        )
    } else {
        format!(
            "one dose at a time every {} days{given}, {first} first (steps 1 to {})",
            sw.interval_days, sw.last_step
        )
    };
    Some(format!(
        "{} to {}: {how}, each dose replaced by its equivalent rounded down to what the {} products give: {} {} = {} {} ({}{range}); then {} a day of {} is tapered from step {}. Source: {}.",
        sw.from.name,
        plan.profile.name,
        plan.profile.name,
        sw.from.name,
        amount(eq.dose, &sw.from.unit),
        plan.profile.name,
        amount(eq.reference_dose, unit),
        eq.source,
        amount(sw.switched_dose, unit),
        plan.profile.name,
        sw.last_step + 1,
        sw.source.title
    ))
}

/// A switch step's day note: what changes today.
fn switch_step_note(plan: &Plan, s: &Step) -> Option<String> {
    let sw = plan.switch.as_ref()?;
    if s.drugs.is_empty() {
        return None;
    }
    let r = sw.replacements.iter().find(|r| r.step == s.step)?;
    let unit = &plan.profile.unit;
    let slot = if informative_slot(&r.slot) {
        format!("the {} dose", r.slot)
    } else {
        "one dose".to_string()
    };
    Some(format!(
        "Switch step {} of {}: {slot} is now {} {} instead of {} {}; today's daily dose: {}. What to take: {}.",
        s.step,
        sw.last_step,
        plan.profile.name,
        amount(r.to_dose, unit),
        sw.from.name,
        amount(r.from_dose, &sw.from.unit),
        daily(plan, s),
        take(plan, s)
    ))
}

/// `1½ × 10 mg tablet` or `2.5 mL of 2 mg/mL oral solution`.
pub fn portion(plan: &Plan, p: &Portion) -> String {
    portion_named(plan, p, false)
}

/// A product's name; `short` drops a switch plan's drug prefix (`diazepam
/// 5 mg tablet` → `5 mg tablet`) where the page already says the drug.
pub fn product_name(plan: &Plan, index: usize, short: bool) -> &str {
    let Some(x) = plan.products.get(index) else {
        return "?";
    };
    match (&x.drug, short) {
        (Some(d), true) => x
            .name
            .strip_prefix(d.as_str())
            .map_or(x.name.as_str(), str::trim_start),
        _ => x.name.as_str(),
    }
}

fn portion_named(plan: &Plan, p: &Portion, short: bool) -> String {
    let name = product_name(plan, p.product, short);
    match p.quantity {
        Quantity::Units { pieces, split_into } => {
            format!("{} × {name}", UnitCount { pieces, split_into })
        }
        Quantity::Volume { ml } => format!("{ml} mL of {name}"),
    }
}

/// What makes one administration: `1 × 10 mg tablet + 1 × 5 mg tablet`.
pub fn administration(plan: &Plan, portions: &[Portion]) -> String {
    administration_named(plan, portions, false)
}

/// [`administration`] with products named without their drug, for a step
/// of one drug on a page that names it (the calendar's day boxes).
pub fn administration_short(plan: &Plan, portions: &[Portion]) -> String {
    administration_named(plan, portions, true)
}

/// [`administration_short`] with the tablets (or capsules) of one dose
/// named once: `1 × 10 mg, 1 × 5 mg and 2 × 2 mg tablets` for `1 × 10 mg
/// tablet + 1 × 5 mg tablet + 2 × 2 mg tablet`, for a calendar's narrow
/// day boxes. Anything else is as [`administration_short`] writes it.
pub fn administration_compact(plan: &Plan, portions: &[Portion]) -> String {
    let parts: Option<Vec<(String, &str)>> = portions
        .iter()
        .map(|p| {
            let Quantity::Units { pieces, split_into } = p.quantity else {
                return None;
            };
            let (strength, form) = product_name(plan, p.product, true).rsplit_once(' ')?;
            Some((
                format!("{} × {strength}", UnitCount { pieces, split_into }),
                form,
            ))
        })
        .collect();
    match parts {
        Some(parts) if parts.len() > 1 && parts.iter().all(|(_, f)| *f == parts[0].1) => {
            let amounts: Vec<&str> = parts.iter().map(|(a, _)| a.as_str()).collect();
            format!("{} {}s", and_list(&amounts), parts[0].1)
        }
        _ => administration_short(plan, portions),
    }
}

fn administration_named(plan: &Plan, portions: &[Portion], short: bool) -> String {
    if portions.is_empty() {
        return "none".into();
    }
    portions
        .iter()
        .map(|p| portion_named(plan, p, short))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Whether a slot's name tells the patient when to take the dose
/// (`morning`, `bedtime`); `daily` and the generic `dose 3` do not.
pub fn informative_slot(slot: &str) -> bool {
    !(slot.is_empty() || slot == "daily" || slot.starts_with("dose "))
}

/// `morning`, `morning and evening`, `morning, midday and evening`.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// The unit of a drug's amounts: a switch plan's old drug has its own
/// (`None` and the new drug: the plan's).
pub fn drug_unit<'p>(plan: &'p Plan, drug: Option<&str>) -> &'p str {
    match (&plan.switch, drug) {
        (Some(sw), Some(d)) if d == sw.from.name => &sw.from.unit,
        _ => &plan.profile.unit,
    }
}

/// A step's administrations grouped by what is taken (amount and
/// products, whatever the slot), in the order they first come in the day.
fn groups(step: &Step) -> Vec<(Vec<&str>, &Administration)> {
    group_doses(&step.administrations)
}

/// Administrations grouped by what is taken (amount and products), each
/// with its slots, in the order they first come.
pub fn group_doses<'a>(
    admins: impl IntoIterator<Item = &'a Administration>,
) -> Vec<(Vec<&'a str>, &'a Administration)> {
    let mut out: Vec<(Vec<&str>, &Administration)> = Vec::new();
    for a in admins {
        match out
            .iter_mut()
            .find(|(_, g)| g.amount == a.amount && g.portions == a.portions)
        {
            Some((slots, _)) => slots.push(a.slot.as_str()),
            None => out.push((vec![a.slot.as_str()], a)),
        }
    }
    out
}

/// What to take on a day of this step, without handling instructions:
/// `½ × 10 mg tablet, twice a day (morning and bedtime)` or
/// `morning: 1 × 10 mg tablet; bedtime: ½ × 10 mg tablet`.
pub fn take(plan: &Plan, step: &Step) -> String {
    if step.daily_dose.is_zero() {
        return "none (stopped)".into();
    }
    let groups = groups(step);
    let named = step
        .administrations
        .iter()
        .all(|a| informative_slot(&a.slot));
    if let [(slots, first)] = groups.as_slice() {
        let when = if named {
            format!(" ({})", and_list(slots))
        } else {
            String::new()
        };
        let how_often = how_often(slots.len() as u32, step.every_days);
        return format!(
            "{}, {how_often}{when}",
            administration(plan, &first.portions)
        );
    }
    let each = groups
        .iter()
        .map(|(slots, a)| format!("{}: {}", and_list(slots), administration(plan, &a.portions)))
        .collect::<Vec<_>>()
        .join("; ");
    if step.every_days > 1 {
        format!("{each}; {}", every(step.every_days))
    } else {
        each
    }
}

/// The handling instructions of the products a step uses, each once:
/// `Measure with an oral syringe. Dilute just before taking …`.
pub fn instructions(plan: &Plan, step: &Step) -> Option<String> {
    let portions = step.administrations.iter().flat_map(|a| &a.portions);
    if step.drugs.len() > 1 {
        // A switch day: say whose instructions they are.
        return named_instructions(plan, portions);
    }
    portions_instructions(plan, portions)
}

/// `Lorazepam 1 mg tablet: Split only on the score line.`, per product.
fn named_instructions<'p>(
    plan: &Plan,
    portions: impl Iterator<Item = &'p Portion>,
) -> Option<String> {
    let texts: Vec<String> = with_instructions(plan, portions)
        .into_iter()
        .map(|(x, t)| {
            let mut name = x.name.chars();
            let name: String = name
                .next()
                .map(|c| c.to_uppercase().chain(name).collect())
                .unwrap_or_default();
            format!("{name}: {}", sentence(t))
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join(" "))
}

/// The handling instructions of one administration's products (a switch
/// day's two drugs have their own).
pub fn administration_instructions(plan: &Plan, a: &Administration) -> Option<String> {
    portions_instructions(plan, a.portions.iter())
}

fn portions_instructions<'p>(
    plan: &Plan,
    portions: impl Iterator<Item = &'p Portion>,
) -> Option<String> {
    let mut texts: Vec<&str> = Vec::new();
    for (_, t) in with_instructions(plan, portions) {
        if !texts.contains(&t) {
            texts.push(t);
        }
    }
    (!texts.is_empty()).then(|| {
        texts
            .iter()
            .map(|t| sentence(t))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The products `portions` use that have handling instructions, each once
/// in the order first used, with their trimmed instructions.
fn with_instructions<'a, 'p>(
    plan: &'a Plan,
    portions: impl Iterator<Item = &'p Portion>,
) -> Vec<(&'a crate::formulation::Product, &'a str)> {
    let mut seen: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for p in portions {
        if seen.contains(&p.product) {
            continue;
        }
        seen.push(p.product);
        let Some(x) = plan.products.get(p.product) else {
            continue;
        };
        if let Some(t) = x
            .instructions
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            out.push((x, t));
        }
    }
    out
}

/// Ends `text` with a full stop unless it already ends a sentence.
pub fn sentence(text: &str) -> String {
    let t = text.trim_end();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// What to take on a day of this step, with the products' handling
/// instructions once: `1.5 mL of 20 mg/mL oral concentrate, once a day.
/// Measure with an oral syringe. Dilute …`.
pub fn products(plan: &Plan, step: &Step) -> String {
    let take = take(plan, step);
    match instructions(plan, step) {
        Some(i) if !step.daily_dose.is_zero() => format!("{take}. {i}"),
        _ => take,
    }
}

/// `10 mg tablets`, `10 mg and 5 mg tablets`, `1 mg/mL oral solution`.
fn phase_products(plan: &Plan, indices: &[usize]) -> String {
    let products: Vec<&crate::formulation::Product> = indices
        .iter()
        .filter_map(|&i| plan.products.get(i))
        .collect();
    let unit = &plan.profile.unit;
    // Solids sharing one name after the strength read as one list.
    let suffixes: Vec<Option<&str>> = products
        .iter()
        .map(|p| {
            let s = p.strength?;
            p.name.strip_prefix(&format!("{s} {unit}"))
        })
        .collect();
    if let Some(Some(common)) = suffixes.first() {
        if products.len() > 1 && suffixes.iter().all(|s| *s == Some(*common)) {
            let strengths: Vec<String> = products
                .iter()
                .filter_map(|p| p.strength.map(|s| amount(s, unit)))
                .collect();
            return format!("{}{common}s", and_list(&strengths));
        }
    }
    and_list(
        &products
            .iter()
            .map(|p| {
                if p.form == Form::Liquid {
                    p.name.clone()
                } else {
                    format!("{}s", p.name)
                }
            })
            .collect::<Vec<_>>(),
    )
}

/// The plan's phases in one line: `10 mg tablets for the whole plan`, or
/// `10 mg tablets from 2027-01-04 to 2027-02-28 (steps 1 to 8), then
/// 1 mg/mL oral solution from 2027-03-01 (steps 9 to 14)`.
pub fn phases(plan: &Plan) -> String {
    let phases: Vec<_> = plan
        .phases
        .iter()
        .filter(|p| !p.products.is_empty())
        .collect();
    match phases.as_slice() {
        [] => "none (the plan stops at once)".into(),
        [one] => format!("{} for the whole plan", phase_products(plan, &one.products)),
        many => many
            .iter()
            .map(|p| {
                // The stopping day is no day of taking anything.
                let (last, end) = match plan.steps.get(p.last_step as usize - 1) {
                    Some(s) if s.daily_dose.is_zero() && p.last_step > p.first_step => plan
                        .steps
                        .get(p.last_step as usize - 2)
                        .map_or((p.last_step, p.end), |b| (b.step, b.end)),
                    _ => (p.last_step, p.end),
                };
                let steps = if p.first_step == last {
                    format!("step {}", p.first_step)
                } else {
                    format!("steps {} to {last}", p.first_step)
                };
                format!(
                    "{} from {} to {end} ({steps})",
                    phase_products(plan, &p.products),
                    p.start,
                )
            })
            .collect::<Vec<_>>()
            .join(", then "),
    }
}

/// A rule that gave way, as a clause for the prescriber (`Gave way: …`):
/// what the plan does instead of the rule, and why.
pub fn gave_way(plan: &Plan, g: &GaveWay) -> String {
    match g {
        GaveWay::PieceLimit { limit, used } => format!(
            "some doses need {used} tablets or tablet pieces at one time, more than the profile's limit of {limit}: no allowed set of products gives every dose within it"
        ),
        GaveWay::ThreeStrengths => "three strengths are used, not two: two could not give every dose within the piece limit".into(),
        GaveWay::FewerDoses { step, doses_per_day } => {
            let slots: Vec<&str> = plan
                .steps
                .get((*step as usize).saturating_sub(1))
                .map(|s| s.administrations.iter().map(|a| a.slot.as_str()).collect())
                .unwrap_or_default();
            let when = if !slots.is_empty() && slots.iter().all(|s| informative_slot(s)) {
                format!(" ({})", and_list(&slots))
            } else {
                String::new()
            };
            format!(
                "from step {step} the dose is given {}{when}, not {}: it can no longer be split evenly over more doses",
                frequency(*doses_per_day),
                frequency(plan.request.doses_per_day)
            )
        }
    }
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
                .map(|e| match e.every_days {
                    1 => format!("{} for {} days", amount(e.dose, unit), e.days),
                    n => format!("{} {} for {} days", amount(e.dose, unit), every(n), e.days),
                })
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
        WarningDetail::Step {
            from,
            to,
            cut_percent,
            max_step_percent,
            max_step,
            stop_from,
            from_every_days,
            to_every_days,
        } => {
            let (before, after, of) = dose_pair(
                (*from, *from_every_days),
                (*to, *to_every_days),
                unit,
            );
            let mut limits = Vec::new();
            if let Some(p) = max_step_percent {
                limits.push(format!("{p} of the current dose"));
            }
            if let Some(m) = max_step {
                limits.push(amount(*m, unit));
            }
            // Percent and hyperbolic plans cut down to the profile's
            // stopping dose whenever the products can give it.
            let unreachable = matches!(
                plan.request.strategy,
                Strategy::Percent { .. } | Strategy::Hyperbolic { .. }
            );
            let stop = match stop_from {
                Some(s) if to.is_zero() && unreachable => format!(
                    "; the sources name stopping from {} or less, which these products cannot give",
                    amount(*s, unit)
                ),
                Some(s) if to.is_zero() => format!(
                    "; the sources name stopping from {} or less",
                    amount(*s, unit)
                ),
                None if to.is_zero() => "; the profile names no dose to stop from".to_string(),
                _ => String::new(),
            };
            format!(
                "{step}the cut from {before} to {after} ({cut_percent}%{of}) is larger than the fastest taper the profile supports ({} per step){stop}",
                limits.join(" or ")
            )
        }
        WarningDetail::Stop { from, asked } => format!(
            "{step}the plan stops from {}, a stop the strategy did not ask for{}: these products cannot give a smaller dose; consider products that can",
            amount(*from, unit),
            asked.map_or(String::new(), |a| format!(" (it asked for {} {unit} next)", approx(a)))
        ),
        WarningDetail::Occupancy { fall, step: points } => format!(
            "{step}stopping lowers receptor occupancy by {fall} percentage points, more than 1.5 times this hyperbolic plan's step of {} points",
            points.0
        ),
        WarningDetail::Interval { days, min_days } => format!(
            "{step}held only {days} days; the profile supports holds of at least {min_days} days"
        ),
        WarningDetail::Total { days, min_days } => format!(
            "the plan reaches the target after {days} day(s) of reduced doses; the profile's sources ask for a taper of at least {min_days} days"
        ),
        WarningDetail::Maximum {
            dose,
            usual_max,
            drug: None,
        } => format!(
            "the starting dose {} a day is above the usual maximum of {} a day",
            amount(*dose, unit),
            amount(*usual_max, unit)
        ),
        // A switch plan's: the old drug's starting dose, or the new
        // drug's dose once switched.
        WarningDetail::Maximum {
            dose,
            usual_max,
            drug: Some(drug),
        } => format!(
            "{drug} {} a day{} is above {drug}'s usual maximum of {} a day",
            amount(*dose, unit),
            if drug == &plan.profile.name { " after the switch" } else { "" },
            amount(*usual_max, unit)
        ),
        WarningDetail::Rise {
            rise_from,
            rise_to,
            rise_date,
            from_every_days,
            to_every_days,
        } => {
            let (before, after, _) = dose_pair(
                (*rise_from, *from_every_days),
                (*rise_to, *to_every_days),
                unit,
            );
            format!(
                "{step}back up from {before} to {after} on {rise_date}, the previous step's dose (taper adjust --back: the one rise taper makes, on purpose)"
            )
        }
    }
}

/// A step back (`taper adjust --back`): the dose, or how often it is
/// taken, goes up.
fn rises(s: &Step) -> bool {
    s.daily_dose > s.change.from || s.rhythm.is_some_and(|r| !r.average_rise_percent.is_zero())
}

/// A step's change for people: the change in the dose, and when this step
/// or the one before is not daily, what happens to the average daily dose
/// (`0 (-50% avg)`: 5 mg a day, then 5 mg every other day).
pub fn step_change(step: &Step) -> String {
    match step.rhythm {
        Some(r) if r.average_change() != "0" => {
            format!("{} ({}% avg)", step.change, r.average_change())
        }
        _ => step.change.to_string(),
    }
}

/// Two doses of a change, each with how often it is taken when either is
/// not daily (`5 mg every day`, `5 mg every other day`), and what a
/// percentage of the change is of (the average daily dose then).
fn dose_pair(from: (Dose, u32), to: (Dose, u32), unit: &str) -> (String, String, &'static str) {
    if from.1 <= 1 && to.1 <= 1 {
        return (amount(from.0, unit), amount(to.0, unit), "");
    }
    let with = |(d, n): (Dose, u32)| {
        if d.is_zero() {
            amount(d, unit)
        } else {
            format!("{} {}", amount(d, unit), every(n))
        }
    };
    (with(from), with(to), " of the average daily dose")
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
        Adjustment::NextLower => {
            let floor = match (&plan.request.strategy, &plan.profile.ending) {
                (Strategy::Percent { .. } | Strategy::Hyperbolic { .. }, Some(e)) => {
                    format!(" with a cut of at least {}", amount(e.min_step, unit))
                }
                _ => String::new(),
            };
            format!(
                "no dose from the strategy's {exact} up to the current dose can be given with these products{floor}; {} is the next lower dose that can be given (a slightly larger cut)",
                amount(step.daily_dose, unit)
            )
        }
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
    if day.events.is_empty() && !day.rest_day {
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
    if let Some(r) = plan.history.starting_on(day.date) {
        parts.push(format!(
            "Revised from today (revision {}): {}{}.",
            r.revision,
            revision_change(&r.change),
            r.reason
                .as_deref()
                .map_or(String::new(), |t| format!("; reason: {t}"))
        ));
    }
    if let (true, Some(s)) = (day.rest_day, step) {
        parts.push(sentence(&rest_note(s)));
    }
    for e in &day.events {
        match e {
            Event::StepStart { step: n } => {
                let Some(s) = step else { continue };
                if let Some(note) = switch_step_note(plan, s) {
                    parts.push(note);
                    continue;
                }
                let total = plan.steps.len();
                let before = (s.step as usize)
                    .checked_sub(2)
                    .and_then(|i| plan.steps.get(i));
                let was_per = before.map_or_else(|| "a day".to_string(), per);
                if s.is_final && s.daily_dose.is_zero() {
                    parts.push(format!(
                        "Step {n} of {total}: stop taking {drug} today (was {} {was_per}).",
                        amount(s.change.from, unit)
                    ));
                } else if s.every_days > 1 {
                    parts.push(format!(
                        "Step {n} of {total}: take {} {} from today, none on the days between (was {} {was_per}). What to take: {}.",
                        amount(s.daily_dose, unit),
                        every(s.every_days),
                        amount(s.change.from, unit),
                        take(plan, s)
                    ));
                } else if s.is_final {
                    parts.push(format!(
                        "Step {n} of {total}: target reached, {} a day (was {}). What to take: {}.",
                        amount(s.daily_dose, unit),
                        amount(s.change.from, unit),
                        take(plan, s)
                    ));
                } else if rises(s) {
                    parts.push(format!(
                        "Step {n} of {total}: go back up to {} {} (was {} {was_per}). What to take: {}.",
                        amount(s.daily_dose, unit),
                        per(s),
                        amount(s.change.from, unit),
                        take(plan, s)
                    ));
                } else if s.adjustment == Some(Adjustment::Hold) {
                    parts.push(format!(
                        "Step {n} of {total}: keep taking {} a day for now. What to take: {}.",
                        amount(s.daily_dose, unit),
                        take(plan, s)
                    ));
                } else {
                    parts.push(format!(
                        "Step {n} of {total}: reduce to {} a day (was {}, change {} {unit}). What to take: {}.",
                        amount(s.daily_dose, unit),
                        amount(s.change.from, unit),
                        s.change,
                        take(plan, s)
                    ));
                }
                if s.final_phase {
                    parts.push("This is the last dose before stopping.".to_string());
                }
                if let Some(a) = adjustment(plan, s).filter(|_| !rises(s)) {
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
    let from = plan.switch.as_ref().map_or(String::new(), |sw| {
        format!(
            "profile {} version {} ({}), switched to ",
            sw.from.name, sw.from.version, sw.from.origin
        )
    });
    format!(
        "{from}profile {} version {} ({}); {} {}",
        plan.profile.name,
        plan.profile.version,
        plan.profile.origin,
        plan.tool.name,
        plan.tool.version
    )
}

/// The sources a page about doses cites: those of pack sizes, codes and
/// controlled schedules only when the plan has fills (`--supply`).
pub fn shown_sources(plan: &Plan) -> Vec<&crate::profile::Source> {
    let supply = plan.request.supply_days.is_some();
    plan.profile
        .sources
        .iter()
        .filter(|s| supply || !s.supply_only)
        .collect()
}

/// [`shown_sources`] as one line: `Title (2023); Title`.
pub fn sources(plan: &Plan) -> String {
    sources_line(&shown_sources(plan))
}

/// Every source of the profile as one line (the FHIR export cites the
/// codes' sources too).
pub fn all_sources(plan: &Plan) -> String {
    sources_line(&plan.profile.sources.iter().collect::<Vec<_>>())
}

fn sources_line(sources: &[&crate::profile::Source]) -> String {
    sources
        .iter()
        .map(|s| match s.year {
            Some(y) => format!("{} ({y})", s.title),
            None => s.title.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What one revision changed, e.g. `hold 7 more days at the dose of that
/// day` (`taper adjust`).
pub fn revision_change(c: &crate::revision::Change) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(d) = c.hold_days {
        parts.push(format!(
            "hold the dose of that day {d} more {}",
            if d == 1 { "day" } else { "days" }
        ));
    }
    if c.back {
        parts.push(if c.slower.is_some() {
            "step back to the previous step's dose and hold it one interval".to_string()
        } else {
            "step back to the previous step's dose, hold it one interval, then cut half as much per step".to_string()
        });
    }
    if let Some(f) = &c.slower {
        parts.push(format!("intervals {f} times as long"));
    }
    let o = &c.options;
    let mut flags: Vec<String> = Vec::new();
    let mut flag = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            flags.push(format!("--{name} {v}"));
        }
    };
    flag("strategy", &c.strategy);
    flag("step", &o.step);
    flag("percent", &o.percent);
    flag("occupancy-step", &o.occupancy_step);
    flag("schedule", &o.schedule);
    flag("interval", &o.interval);
    flag("target", &o.target);
    flag("doses-per-day", &o.doses_per_day);
    flag("strengths", &o.strengths);
    flag("form", &o.form);
    flag("market", &o.market);
    flag("final-hold", &o.final_hold);
    if !flags.is_empty() {
        parts.push(format!("re-planned with {}", flags.join(" ")));
    }
    parts.join("; ")
}

/// The plan's revision as one line (`None` for a plan never adjusted):
/// `revision 3 from 2027-01-10 (replaces revision 2): step back …; reason:
/// … Earlier: revision 2 from …`.
pub fn revision(plan: &Plan) -> Option<String> {
    let revs = &plan.history.revisions;
    let last = revs.last()?;
    let one = |r: &crate::revision::Revision| {
        let mut s = format!(
            "revision {} from {}: {}",
            r.revision,
            r.from,
            revision_change(&r.change)
        );
        if let Some(why) = &r.reason {
            s.push_str(&format!(" (reason: {why})"));
        }
        s
    };
    let mut out = format!(
        "{}; replaces revision {}; every day before {} is unchanged",
        one(last),
        last.revision - 1,
        last.from
    );
    let earlier: Vec<String> = revs[..revs.len() - 1].iter().map(one).collect();
    if !earlier.is_empty() {
        out.push_str(&format!(". Earlier: {}", earlier.join("; ")));
    }
    Some(out)
}

/// An opioid plan's morphine equivalents in one line: `90 MME a day at the
/// start (1 mg = 1.5 MME [CDC-2022]); below 90 from step 3, below 50 from
/// step 8`. `None` for other drugs.
pub fn mme_summary(plan: &Plan) -> Option<String> {
    let m = plan.mme.as_ref()?;
    let below: Vec<String> = m
        .below
        .iter()
        .map(|c| format!("below {} from step {}", c.level, c.step))
        .collect();
    // The levels' sources are in the advice (see `mme_advice`).
    let tail = if below.is_empty() {
        String::new()
    } else {
        format!("; MME a day {}", below.join(", "))
    };
    Some(format!(
        "{} MME a day at the start (1 {} {} = {} MME [{}]){tail}",
        m.start, plan.profile.unit, plan.profile.name, m.factor, m.source
    ))
}

/// What the CDC guidelines advise for an opioid plan: naloxone from
/// 50 MME a day, and the overdose risk once tolerance is lost.
pub fn mme_advice(plan: &Plan) -> Vec<String> {
    let Some(m) = plan.mme.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if m.naloxone_advised {
        out.push(format!(
            "Naloxone: the plan starts at {} MME a day or more, where the guideline advises offering naloxone and showing the patient and family how to use it ({}).",
            crate::mme::NALOXONE_FROM.mme,
            crate::mme::NALOXONE_FROM.source
        ));
    }
    if m.start >= crate::mme::HIGH_FROM.mme {
        out.push(format!(
            "The plan starts at {} MME a day or more, a dose the guideline asks prescribers to avoid or justify ({}).",
            crate::mme::HIGH_FROM.mme,
            crate::mme::HIGH_FROM.source
        ));
    }
    out.push(format!(
        "After a cut and after stopping, tolerance falls within days: taking the old dose again can cause a fatal overdose. Keep no leftover supply ({}).",
        crate::mme::TOLERANCE_SOURCE
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{load, ProfileDirs};
    use crate::request::{resolve, PlanOptions};

    fn plan(profile: &str, dose: &str, strengths: Option<&str>) -> Plan {
        let p = load(profile, &ProfileDirs::default()).unwrap();
        let opts = PlanOptions {
            dose: dose.into(),
            start: Some("2026-12-01".into()),
            strengths: strengths.map(String::from),
            ..PlanOptions::default()
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        crate::schedule::build(&resolve(p, &opts, today).unwrap()).unwrap()
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(and_list::<&str>(&[]), "");
        assert_eq!(and_list(&["morning"]), "morning");
        assert_eq!(and_list(&["morning", "bedtime"]), "morning and bedtime");
        assert_eq!(
            and_list(&["morning", "midday", "bedtime"]),
            "morning, midday and bedtime"
        );
        assert!(informative_slot("bedtime"));
        assert!(!informative_slot("daily"));
        assert!(!informative_slot("dose 3"));
        assert_eq!(sentence("Shake well"), "Shake well.");
        assert_eq!(sentence("Shake well."), "Shake well.");
    }

    #[test]
    fn doses_group_by_what_is_taken_whatever_the_slot() {
        let plan = plan("baclofen", "30mg", Some("10mg"));
        let mut step = plan.steps[0].clone();
        // Morning and bedtime the same, midday different: grouped, by name,
        // in the order of the day, never numbered.
        let whole = step.administrations[0].clone();
        let half = step.administrations[2].clone();
        step.administrations = vec![
            Administration {
                slot: "morning".into(),
                slot_index: 0,
                ..whole.clone()
            },
            Administration {
                slot: "midday".into(),
                slot_index: 1,
                ..half.clone()
            },
            Administration {
                slot: "bedtime".into(),
                slot_index: 2,
                ..whole.clone()
            },
        ];
        assert_eq!(
            take(&plan, &step),
            "morning and bedtime: 1 × 10 mg tablet; midday: ½ × 10 mg tablet"
        );
        // All the same: one phrase with the frequency and the slots.
        step.administrations.remove(1);
        assert_eq!(
            take(&plan, &step),
            "1 × 10 mg tablet, twice a day (morning and bedtime)"
        );
        // Handling instructions once, however many doses use the product.
        assert_eq!(
            products(&plan, &step),
            "1 × 10 mg tablet, twice a day (morning and bedtime). Split only on the score line."
        );
    }

    #[test]
    fn no_step_text_numbers_named_doses_or_lists_a_dose_of_zero() {
        for (profile, dose) in [
            ("baclofen", "60mg"),
            ("oxycodone", "60mg"),
            ("tizanidine", "24mg"),
            ("gabapentin", "1800mg"),
        ] {
            let plan = plan(profile, dose, None);
            for s in &plan.steps {
                let t = products(&plan, s);
                assert!(!t.contains("dose 1") && !t.contains(": none"), "{t}");
                assert!(!doses(s).split(" + ").any(|d| d == "0"), "{}", doses(s));
                if !s.daily_dose.is_zero() {
                    for a in &s.administrations {
                        assert!(t.contains(&a.slot), "{profile}: {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn phases_name_the_products_and_when() {
        let one = plan("baclofen", "30mg", Some("10mg"));
        assert_eq!(phases(&one), "10 mg tablets for the whole plan");
        let two = plan("diazepam", "20mg", None);
        if two.phases.len() == 2 {
            let t = phases(&two);
            assert!(
                t.contains(", then ") && t.contains("oral solution from"),
                "{t}"
            );
            // The stopping day is not part of the liquid phase's dates.
            let last = two.steps.len() - 1;
            assert!(t.ends_with(&format!("to {})", last)), "{t}");
        }
    }
}
