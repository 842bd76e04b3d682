//! `taper profiles` and `taper profiles show`: profiles as people read them.

use std::io::Write;

use crate::error::Result;
use crate::profile::{Listing, Profile};
use crate::render::text::{amount, frequency};
use crate::terminal::escape;

/// One line per profile. File names and problems come from the folders
/// as they are, so control characters in them are shown escaped.
pub fn list(listings: &[Listing], out: &mut dyn Write) -> Result<()> {
    // Columns as wide as the longest name (methylprednisolone), so the
    // versions line up.
    let w = listings
        .iter()
        .map(|l| escape(&l.name).chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    let dw = listings
        .iter()
        .map(|l| escape(&l.display_name).chars().count())
        .max()
        .unwrap_or(0)
        .max(14);
    for l in listings {
        let name = escape(&l.name);
        match &l.problem {
            None => {
                let shadow = if l.shadows_builtin {
                    ", shadows the built-in profile"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{:<w$} {:<dw$} version {:<12} {}{shadow}",
                    name,
                    escape(&l.display_name),
                    escape(&l.version),
                    escape(&l.origin)
                )?
            }
            Some(p) => writeln!(
                out,
                "{:<w$} {}: {}",
                name,
                if l.skipped { "SKIPPED" } else { "INVALID" },
                escape(p.lines().next().unwrap_or(""))
            )?,
        }
    }
    Ok(())
}

fn tag(defaults: &[String], field: &str) -> &'static str {
    if defaults.iter().any(|d| d == field) {
        " [tool default, not from a source: confirm]"
    } else {
        ""
    }
}

pub fn show(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let u = p.unit.as_str();
    writeln!(
        out,
        "{} ({}), version {}, from {}",
        p.display_name,
        p.name,
        p.version,
        escape(&p.origin)
    )?;
    writeln!(out, "Unit: {u}")?;
    if let Some(c) = &p.class {
        writeln!(out, "Class: {c}")?;
    }
    writeln!(
        out,
        "Markets: {} (the first is the default; --market picks another)",
        p.markets.join(", ")
    )?;
    if let Some(code) = &p.rxnorm {
        writeln!(out, "RxNorm: {code}")?;
    }
    for c in &p.controlled {
        writeln!(
            out,
            "Controlled drug in {}: {} [{}] (fills are never rounded beyond need; quantities in words)",
            c.market, c.schedule, c.source
        )?;
    }
    writeln!(out, "Usual doses: {}", frequency(p.doses_per_day))?;
    if let Some(m) = p.usual_max_daily {
        writeln!(out, "Usual maximum: {} a day", amount(m, u))?;
    }
    formulation_lines(p, out)?;
    dose_lines(p, out)?;
    default_plan_lines(p, out)?;
    limit_lines(p, out)?;
    ending_lines(p, out)?;
    relation_lines(p, out)?;
    patient_text_lines(p, out)?;
    Ok(())
}

/// Equivalence to the class's reference drug, morphine equivalents, and
/// the switch the sources describe.
fn relation_lines(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let u = p.unit.as_str();
    if let Some(e) = &p.equivalence {
        let range = match (e.low, e.high) {
            (Some(l), Some(h)) => format!(" (published range {l} to {})", amount(h, u)),
            _ => String::new(),
        };
        writeln!(
            out,
            "\nEquivalence: {} of {} is taken as {} of {}{range} [{}]",
            amount(e.dose, u),
            p.name,
            amount(e.reference_dose, u),
            e.reference,
            e.source
        )?;
        if let Some(n) = &e.note {
            writeln!(out, "  note: {n}")?;
        }
    }
    if let Some(m) = &p.mme {
        writeln!(
            out,
            "\nMorphine milligram equivalents: {} of {} by mouth = {} MME [{}]",
            amount(crate::dose::Dose::from_micro(crate::dose::SCALE), u),
            p.name,
            m.factor,
            m.source
        )?;
        if let Some(n) = &m.note {
            writeln!(out, "  note: {n}")?;
        }
    }
    if let Some(s) = &p.switch {
        writeln!(
            out,
            "\nSwitch before tapering: the sources switch it to {}, one dose at a time every {} days [{}] (taper plan {} --dose DOSE --switch-to {} drafts it)",
            s.to.join(", "),
            s.interval_days,
            s.source,
            p.name,
            s.to[0]
        )?;
        if let Some(n) = &s.note {
            writeln!(out, "  note: {n}")?;
        }
    }
    Ok(())
}

/// Formulations and how many pieces make one dose.
/// A product's pack sizes per market and RxNorm code, when given.
fn supply_lines(f: &crate::profile::Formulation, out: &mut dyn Write) -> Result<()> {
    if !f.packs.is_empty() {
        let what = if f.is_liquid() {
            "bottles (mL)"
        } else {
            "packs"
        };
        let sizes: Vec<String> = f
            .packs
            .iter()
            .map(|(m, s)| {
                let list: Vec<String> = s.iter().map(u32::to_string).collect();
                format!("{m} {}", list.join(", "))
            })
            .collect();
        let source = f.packs_source.as_deref().unwrap_or("");
        writeln!(out, "      {what}: {} [{source}]", sizes.join("; "))?;
    }
    if let Some(code) = &f.rxnorm {
        writeln!(out, "      RxNorm: {code}")?;
    }
    Ok(())
}

fn formulation_lines(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let u = p.unit.as_str();
    writeln!(out, "\nFormulations (--strengths key):")?;
    for f in &p.formulations {
        let split = match f.split {
            crate::profile::Split::None => "not split",
            crate::profile::Split::Halves => "may be halved",
            crate::profile::Split::Quarters => "may be halved or quartered",
        };
        let restricted = if f.restricted {
            ", only when named in --strengths"
        } else {
            ""
        };
        let note = f
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let group = f
            .group
            .as_deref()
            .map(|g| format!(", group {g}"))
            .unwrap_or_default();
        let group = if f.markets.len() < p.markets.len() {
            format!("{group}, sold in {} only", f.markets.join(", "))
        } else {
            group
        };
        let split = if f.concentration.is_some() {
            "measured by volume"
        } else {
            split
        };
        writeln!(
            out,
            "  - {} [{}]: {split}{group}{restricted}{note}",
            f.name(u),
            f.key(u)
        )?;
        if let Some(i) = &f.instructions {
            writeln!(out, "      patient instructions: {i}")?;
        }
        supply_lines(f, out)?;
    }
    if p.formulations.iter().any(|f| f.group.is_some()) {
        writeln!(
            out,
            "  Products of different groups are never used in one plan."
        )?;
    }
    let mp = if p.max_pieces_tool_default {
        " [tool default, not from a source: confirm]"
    } else {
        ""
    };
    writeln!(
        out,
        "Most tablets or tablet pieces in one dose: {}{mp}",
        p.max_pieces
    )?;
    Ok(())
}

/// Doses of the day: names, dropping order, longest gap.
fn dose_lines(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let d = &p.doses;
    let dt = &d.tool_default;
    writeln!(
        out,
        "\nDoses of the day{}:",
        d.source
            .as_deref()
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default()
    )?;
    if !d.slots.is_empty() {
        writeln!(out, "  names: {}{}", d.slots.join(", "), tag(dt, "slots"))?;
    }
    if d.drop_order.is_empty() {
        writeln!(
            out,
            "  dropped first to last: none named{}",
            tag(dt, "drop_order")
        )?;
    } else {
        writeln!(
            out,
            "  dropped first to last: {}{}",
            d.drop_order.join(", "),
            tag(dt, "drop_order")
        )?;
    }
    if let Some(h) = d.max_gap_hours {
        writeln!(
            out,
            "  longest gap between doses: {h} hours (at least {} until the final phase){}",
            frequency(d.min_per_day()),
            tag(dt, "max_gap_hours")
        )?;
    }
    if let Some(a) = &d.alternate_days {
        let verdict = if a.allowed {
            "allowed".to_string()
        } else {
            format!("not allowed: {}", a.reason.as_deref().unwrap_or(""))
        };
        writeln!(
            out,
            "  every-other-day entries (DOSExDAYS/2): {verdict} [{}]",
            a.source
        )?;
    }
    if let Some(n) = &d.note {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

/// The default strategy and its parameters, and slower steps at low doses.
fn default_plan_lines(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let u = p.unit.as_str();
    let d = &p.default;
    let t = &d.tool_default;
    writeln!(out, "\nDefault plan:")?;
    writeln!(
        out,
        "  strategy: {}{}",
        d.strategy.as_str(),
        tag(t, "strategy")
    )?;
    if let Some(s) = d.step {
        writeln!(out, "  step: {}{}", amount(s, u), tag(t, "step"))?;
    }
    if let Some(s) = d.percent {
        writeln!(out, "  percent: {s}{}", tag(t, "percent"))?;
    }
    if let Some(s) = d.occupancy_step {
        writeln!(
            out,
            "  occupancy step: {} percentage points{}",
            s.0,
            tag(t, "occupancy_step")
        )?;
    }
    if let Some(s) = &d.schedule {
        let text: Vec<String> = s.iter().map(ToString::to_string).collect();
        writeln!(out, "  schedule: {}{}", text.join(","), tag(t, "schedule"))?;
    }
    writeln!(
        out,
        "  interval: {} days{}",
        d.interval_days,
        tag(t, "interval_days")
    )?;
    if let Some(n) = &d.note {
        writeln!(out, "  note: {n}")?;
    }
    for r in &p.slow_below {
        let src = if r.tool_default {
            " [tool default, not from a source: confirm]".to_string()
        } else {
            format!(" [{}]", r.source.as_deref().unwrap_or(""))
        };
        let step = r
            .step
            .map(|st| format!(", cuts of at most {}", amount(st, u)))
            .unwrap_or_default();
        writeln!(
            out,
            "  below {}: hold each step at least {} days{step}{src}",
            amount(r.dose, u),
            r.interval_days
        )?;
    }
    Ok(())
}

/// The fastest taper the sources support.
fn limit_lines(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let u = p.unit.as_str();
    let l = &p.limits;
    let lt = &l.tool_default;
    writeln!(
        out,
        "\nFastest supported taper{}:",
        l.source
            .as_deref()
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default()
    )?;
    if let Some(v) = l.max_step_percent {
        writeln!(
            out,
            "  largest step: {v} of the current dose{}",
            tag(lt, "max_step_percent")
        )?;
    }
    if let Some(v) = l.max_step {
        writeln!(
            out,
            "  or at most {} per step{}",
            amount(v, u),
            tag(lt, "max_step")
        )?;
    }
    if let Some(v) = l.min_interval_days {
        writeln!(
            out,
            "  shortest hold: {v} days{}",
            tag(lt, "min_interval_days")
        )?;
    }
    if let Some(v) = l.min_total_days {
        writeln!(
            out,
            "  shortest whole taper: {v} days{}",
            tag(lt, "min_total_days")
        )?;
    }
    if let Some(n) = &l.note {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

/// How a plan ends, and the occupancy model.
fn ending_lines(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let u = p.unit.as_str();
    match &p.ending {
        Some(e) => {
            let et = &e.tool_default;
            writeln!(
                out,
                "\nEnding{}:",
                e.source
                    .as_deref()
                    .map(|s| format!(" [{s}]"))
                    .unwrap_or_default()
            )?;
            writeln!(
                out,
                "  smallest cut: {}{}",
                amount(e.min_step, u),
                tag(et, "min_step")
            )?;
            writeln!(
                out,
                "  stop from: {} or less{}",
                amount(e.stop_from, u),
                tag(et, "stop_from")
            )?;
            if let Some(d) = e.final_hold_days {
                writeln!(
                    out,
                    "  last dose held: {d} days{}",
                    tag(et, "final_hold_days")
                )?;
            }
            if let Some(n) = e.final_doses_per_day {
                writeln!(
                    out,
                    "  last dose given: {}{}",
                    frequency(n),
                    tag(et, "final_doses_per_day")
                )?;
            }
            if let Some(n) = &e.note {
                writeln!(out, "  note: {n}")?;
            }
        }
        None => writeln!(out, "\nEnding: none given (plans stop after the last step)")?,
    }
    match &p.occupancy {
        Some(o) => {
            writeln!(
                out,
                "\nOccupancy model (hyperbolic strategy): Emax {}%, ED50 {}{} [{}]",
                o.emax.0,
                amount(o.ed50, u),
                o.region
                    .as_deref()
                    .map(|r| format!(", {r}"))
                    .unwrap_or_default(),
                o.source
            )?;
            if let Some(n) = &o.note {
                writeln!(out, "  note: {n}")?;
            }
        }
        None => writeln!(
            out,
            "\nOccupancy model: none (hyperbolic strategy not available)"
        )?,
    }
    Ok(())
}

/// Check-ins, symptoms, red flags, advice, cautions and sources.
fn patient_text_lines(p: &Profile, out: &mut dyn Write) -> Result<()> {
    let checkins: Vec<String> = p.checkin_days.iter().map(|d| d.to_string()).collect();
    let ct = if p.checkin_days_tool_default {
        " [tool default, not from a source: confirm]"
    } else {
        ""
    };
    writeln!(
        out,
        "\nCheck-ins: {} days after each step{ct}",
        checkins.join(" and ")
    )?;
    writeln!(out, "Liquid measuring step: {} mL", p.liquid_step_ml)?;
    writeln!(out, "\nWithdrawal symptoms:")?;
    for s in &p.withdrawal_symptoms {
        writeln!(out, "  - {s}")?;
    }
    writeln!(out, "Red flags (urgent care):")?;
    for s in &p.red_flags {
        writeln!(out, "  - {s}")?;
    }
    writeln!(out, "If symptoms: {}", p.if_symptoms)?;
    if !p.advice.is_empty() {
        writeln!(out, "Advice:")?;
        for s in &p.advice {
            writeln!(out, "  - {s}")?;
        }
    }
    if !p.cautions.is_empty() {
        writeln!(out, "Cautions:")?;
        for s in &p.cautions {
            writeln!(out, "  - {s}")?;
        }
    }
    writeln!(out, "\nSources:")?;
    for s in &p.sources {
        let year = s.year.map(|y| format!(", {y}")).unwrap_or_default();
        let url = s
            .url
            .as_deref()
            .map(|u| format!(" <{u}>"))
            .unwrap_or_default();
        writeln!(out, "  [{}] {}{year}{url}", s.key, s.title)?;
    }
    Ok(())
}
