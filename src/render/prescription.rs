//! A fill as a prescriber writes it: the instructions for each drug, a
//! one-line summary for the record, and each quantity to dispense.
//!
//! Wording follows ISMP's list of error-prone designations: doses as
//! `1½ tablets (15 mg)` with the amount in mg beside the count, `mL` never
//! `cc`, frequencies in words (`3 times a day`, never `TID`), no trailing
//! zeros and a leading zero (`0.5 mg`). Controlled drugs' quantities are
//! also written in words.

use crate::dose::Dose;
use crate::fills::{Fill, FillLine};
use crate::formulation::{Administration, Portion, Quantity, UnitCount};
use crate::profile::Form;
use crate::render::text::{
    and_list, drug_unit, every, frequency, group_doses, informative_slot, product_name,
};
use crate::render::words;
use crate::schedule::{Plan, Step};

/// One drug's instructions for one fill.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Prescription {
    /// The drug's profile name, in a switch plan (omitted otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drug: Option<String>,
    pub text: String,
}

/// The instructions of a fill, one per drug it gives (two during a
/// switch): `Diazepam 5 mg tablets: take 1 tablet (5 mg) by mouth twice a
/// day (morning and bedtime) for 14 days, then …`.
pub fn wording(plan: &Plan, fill: &Fill) -> Vec<Prescription> {
    drugs_of(plan)
        .into_iter()
        .filter_map(|drug| {
            let text = drug_wording(plan, fill, drug.as_deref())?;
            Some(Prescription { drug, text })
        })
        .collect()
}

/// A switch plan's two drugs (old first), or the plan's one drug (`None`).
fn drugs_of(plan: &Plan) -> Vec<Option<String>> {
    match &plan.switch {
        Some(sw) => vec![Some(sw.from.name.clone()), Some(plan.profile.name.clone())],
        None => vec![None],
    }
}

/// The drug's administrations of a step.
fn given<'s>(step: &'s Step, drug: Option<&str>) -> Vec<&'s Administration> {
    step.administrations
        .iter()
        .filter(|a| drug.is_none() || a.drug.as_deref() == drug)
        .collect()
}

/// A run of the fill as one clause: what to take, and how long.
struct Clause {
    /// `None`: nothing of the drug (not started, or stopped).
    what: Option<String>,
    days: u32,
    start: chrono::NaiveDate,
    /// The plan's last step at a dose above 0: continued after the plan.
    continuing: bool,
}

fn drug_wording(plan: &Plan, fill: &Fill, drug: Option<&str>) -> Option<String> {
    let lines: Vec<&FillLine> = fill
        .lines
        .iter()
        .filter(|l| drug.is_none() || l.drug.as_deref() == drug)
        .collect();
    let single = match lines.as_slice() {
        [one] => Some(one.product),
        _ => None,
    };
    let mut clauses: Vec<Clause> = Vec::new();
    for run in &fill.runs {
        let step = plan.steps.get(run.step as usize - 1)?;
        let admins = given(step, drug);
        let what = (!admins.is_empty()).then(|| dose_phrase(plan, step, &admins, single));
        match clauses.last_mut() {
            Some(last) if last.what == what && !step.is_final => last.days += run.days,
            _ => clauses.push(Clause {
                what,
                days: run.days,
                start: run.start,
                continuing: step.is_final && !admins.is_empty(),
            }),
        }
    }
    let first = clauses.iter().position(|c| c.what.is_some())?;
    let mut parts: Vec<String> = Vec::new();
    for (i, c) in clauses[first..].iter().enumerate() {
        let Some(what) = &c.what else {
            parts.push("then stop".into());
            break;
        };
        let what = if i == 0 {
            with_route(what)
        } else {
            what.clone()
        };
        let lead = match (i, first) {
            (0, 0) => "take".to_string(),
            (0, _) => format!("from {}, take", c.start),
            _ => "then".into(),
        };
        let how_long = if c.continuing {
            format!("from {}, and continue at this dose", c.start)
        } else {
            format!(
                "for {} {}",
                c.days,
                if c.days == 1 { "day" } else { "days" }
            )
        };
        parts.push(format!("{lead} {what} {how_long}"));
    }
    Some(format!(
        "{}: {}.",
        heading(plan, drug, single),
        parts.join(", ")
    ))
}

/// `Diazepam 5 mg tablets` (one product) or `Diazepam`.
fn heading(plan: &Plan, drug: Option<&str>, single: Option<usize>) -> String {
    let name = drug_display(plan, drug);
    match single.and_then(|i| Some((i, plan.products.get(i)?))) {
        Some((i, p)) => {
            let product = product_name(plan, i, true);
            let plural = if p.form == Form::Liquid { "" } else { "s" };
            format!("{name} {product}{plural}")
        }
        None => name,
    }
}

/// `Diazepam`, `Lorazepam`: the drug as the plan's pages name it.
pub fn drug_display(plan: &Plan, drug: Option<&str>) -> String {
    match (drug, &plan.switch) {
        (Some(d), Some(sw)) if d == sw.from.name => sw.from.display_name.clone(),
        _ => plan.profile.display_name.clone(),
    }
}

/// ` by mouth` after the first amount: `1 tablet (5 mg) by mouth twice a day`.
fn with_route(what: &str) -> String {
    match what.find(") ") {
        Some(i) => format!("{} by mouth{}", &what[..=i], &what[i + 1..]),
        None => format!("{what} by mouth"),
    }
}

/// A step's doses of one drug: `1½ tablets (15 mg) 3 times a day
/// (morning, midday and bedtime)`, or per dose when they differ: `1 tablet
/// (10 mg) in the morning and 1½ tablets (15 mg) at bedtime`.
fn dose_phrase(
    plan: &Plan,
    step: &Step,
    admins: &[&Administration],
    single: Option<usize>,
) -> String {
    let groups = group_doses(admins.iter().copied());
    let named = admins.iter().all(|a| informative_slot(&a.slot));
    let unit = drug_unit(plan, admins[0].drug.as_deref());
    let each: Vec<String> = groups
        .iter()
        .map(|(slots, a)| {
            let when = match (named, slots.as_slice()) {
                (true, [one]) => slot_phrase(one),
                (true, many) => format!("{} ({})", frequency(many.len() as u32), and_list(many)),
                (false, many) => frequency(many.len() as u32),
            };
            format!(
                "{} ({} {unit}) {when}",
                portions_phrase(plan, &a.portions, single),
                a.amount
            )
        })
        .collect();
    let mut out = each.join(" and ");
    if step.every_days > 1 {
        out = format!("{out}, {}", every(step.every_days));
    }
    out
}

/// `in the morning`, `at bedtime`: one dose's time, as a label reads.
fn slot_phrase(slot: &str) -> String {
    match slot {
        "morning" | "afternoon" | "evening" => format!("in the {slot}"),
        "midday" | "bedtime" | "night" | "noon" => format!("at {slot}"),
        other => format!("once a day ({other})"),
    }
}

/// `1½ tablets`, `4.5 mL` (the fill's one product), or each product
/// named: `1 × 10 mg tablet and 1 × 5 mg tablet`.
fn portions_phrase(plan: &Plan, portions: &[Portion], single: Option<usize>) -> String {
    let named: Vec<String> = portions
        .iter()
        .map(|p| {
            let product = plan.products.get(p.product);
            match (p.quantity, single == Some(p.product)) {
                (Quantity::Units { pieces, split_into }, true) => {
                    let count = UnitCount { pieces, split_into };
                    let unit = product.map_or("tablet", |x| x.unit_name());
                    // ISMP: "1 tablet", "½ tablet", "1½ tablets".
                    let plural = if pieces > split_into { "s" } else { "" };
                    format!("{count} {unit}{plural}")
                }
                (Quantity::Volume { ml }, true) => format!("{ml} mL"),
                (Quantity::Units { pieces, split_into }, false) => {
                    let name = product_name(plan, p.product, true);
                    let plural = if pieces > split_into { "s" } else { "" };
                    format!("{} × {name}{plural}", UnitCount { pieces, split_into })
                }
                (Quantity::Volume { ml }, false) => {
                    format!("{ml} mL of {}", product_name(plan, p.product, true))
                }
            }
        })
        .collect();
    and_list(&named)
}

/// What to dispense of one product: `56 tablets (2 packs of 28)`, `150 mL
/// (1 bottle of 150 mL; 22.2 mL over the need)`, or for a controlled drug
/// `fifty-three (53) tablets (1 pack of 28 and 25 tablets)`.
pub fn quantity(plan: &Plan, line: &FillLine) -> String {
    let british = plan.request.market == "uk";
    let n = line.quantity;
    let unit = |d: Dose| plural(line.unit, d);
    let figure = format!("{n} {}", unit(n));
    let main = if line.controlled.is_some() {
        match whole(n) {
            Some(w) => format!("{} ({n}) {}", words::number(w, british), unit(n)),
            None => figure,
        }
    } else {
        figure
    };
    let mut notes: Vec<String> = Vec::new();
    if let Some(p) = &line.packs {
        let container = if line.unit == "mL" { "bottle" } else { "pack" };
        let mut made: Vec<String> = p
            .packs
            .iter()
            .map(|c| {
                let s = if c.count == 1 { "" } else { "s" };
                let size = if line.unit == "mL" {
                    format!("{} mL", c.size)
                } else {
                    c.size.to_string()
                };
                format!("{} {container}{s} of {size}", c.count)
            })
            .collect();
        match (made.is_empty(), p.loose.is_zero()) {
            // Less than the smallest pack: the pharmacist splits one.
            (true, false) => {
                let smallest = smallest_pack(plan, line);
                made.push(format!("part of a {container} of {smallest}"));
            }
            (false, false) => made.push(format!("{} {} loose", p.loose, unit(p.loose))),
            _ => {}
        }
        if !made.is_empty() {
            notes.push(and_list(&made));
        }
    }
    if !line.overage.is_zero() {
        notes.push(format!(
            "{} {} over the need",
            line.overage,
            unit(line.overage)
        ));
    }
    if notes.is_empty() {
        main
    } else {
        format!("{main} ({})", notes.join("; "))
    }
}

/// `28` or `150 mL`: the product's smallest pack or bottle.
fn smallest_pack(plan: &Plan, line: &FillLine) -> String {
    let size = plan
        .products
        .get(line.product)
        .and_then(|p| p.packs.first())
        .copied()
        .unwrap_or(0);
    if line.unit == "mL" {
        format!("{size} mL")
    } else {
        size.to_string()
    }
}

fn whole(d: Dose) -> Option<u64> {
    let scale = crate::dose::SCALE;
    d.micro().is_multiple_of(scale).then(|| d.micro() / scale)
}

fn plural(unit: &str, n: Dose) -> String {
    if unit == "mL" || n == Dose::from_micro(crate::dose::SCALE) {
        unit.to_string()
    } else {
        format!("{unit}s")
    }
}

/// The fill in one line for the record: `Fill 1 of 12, 2026-12-01 to
/// 2026-12-28 (28 days): diazepam 18 mg a day for 14 days, then 16 mg a
/// day for 14 days. Dispense: 5 mg tablet, 56 tablets (2 packs of 28).`
pub fn summary(plan: &Plan, fill: &Fill) -> String {
    let doses: Vec<String> = fill
        .runs
        .iter()
        .filter_map(|r| {
            let step = plan.steps.get(r.step as usize - 1)?;
            let dose = if step.daily_dose.is_zero() {
                "stop".to_string()
            } else {
                format!(
                    "{} {}",
                    crate::render::text::daily(plan, step),
                    crate::render::text::per(step)
                )
            };
            Some(if step.daily_dose.is_zero() || step.is_final {
                format!("{dose} from {}", r.start)
            } else {
                format!(
                    "{dose} for {} {}",
                    r.days,
                    if r.days == 1 { "day" } else { "days" }
                )
            })
        })
        .collect();
    let dispense: Vec<String> = fill
        .lines
        .iter()
        .map(|l| format!("{}, {}", l.name, quantity(plan, l)))
        .collect();
    format!(
        "Fill {} of {}, {} to {} ({} {}): {} {}. Dispense: {}.",
        fill.fill,
        plan.fills.len(),
        fill.start,
        fill.end,
        fill.days,
        if fill.days == 1 { "day" } else { "days" },
        crate::render::text::drug_label(plan),
        doses.join(", then "),
        dispense.join("; ")
    )
}
