//! The terminal view: a header with drug, doses, strategy and provenance, a
//! comfy-table of steps (or days), and a footer with dispensing totals,
//! warnings, reminders and the disclaimer. Colour only when asked for.

use std::io::Write;

use comfy_table::{presets, Cell, CellAlignment, Color, ContentArrangement, Table};

use crate::error::Result;
use crate::render::{text, View};
use crate::schedule::Plan;

const RED_BOLD: &str = "\x1b[1;31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub fn write(plan: &Plan, view: View, color: bool, out: &mut dyn Write) -> Result<()> {
    let unit = plan.profile.unit.as_str();
    let r = &plan.request;
    let (b, red, reset) = if color {
        (BOLD, RED_BOLD, RESET)
    } else {
        ("", "", "")
    };
    let final_step = plan.steps.last();
    writeln!(
        out,
        "{b}{} taper schedule: DRAFT for prescriber review{reset}",
        esc(&plan.profile.display_name)
    )?;
    writeln!(
        out,
        "Starting dose: {} a day, {} · Target: {}",
        text::amount(r.start_dose, unit),
        text::frequency(r.doses_per_day),
        text::target(plan)
    )?;
    writeln!(out, "Strategy: {}", esc(text::strategy(plan)))?;
    writeln!(
        out,
        "Dates: {} to {} ({} days, {} steps; the last day is the first at the target)",
        r.start,
        r.end,
        plan.days.len(),
        final_step.map_or(0, |s| s.step)
    )?;
    writeln!(out, "Products: {}", esc(text::phases(plan)))?;
    for g in &plan.gave_way {
        writeln!(out, "Gave way: {}", esc(text::gave_way(plan, g)))?;
    }
    writeln!(out, "Provenance: {}", esc(text::provenance(plan)))?;
    writeln!(out, "Sources: {}", esc(text::sources(plan)))?;
    if !plan.profile.tool_defaults.is_empty() {
        writeln!(
            out,
            "{red}Tool defaults (no source gives these; confirm them): {}{reset}",
            esc(plan.profile.tool_defaults.join(", "))
        )?;
    }
    if !plan.warnings.is_empty() {
        writeln!(out, "{red}WARNING: this plan is faster or higher than the profile's guidance (see below).{reset}")?;
    }
    writeln!(out)?;

    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !color {
        table.force_no_tty();
    }
    let warned_steps: Vec<u32> = plan.warnings.iter().filter_map(|w| w.step).collect();
    let dose_header = format!("Daily dose ({unit})");
    let doses_header = format!("Doses ({unit})");
    match view {
        View::Steps => {
            table.set_header([
                "Step",
                "From",
                "To",
                "Days",
                dose_header.as_str(),
                "Change",
                doses_header.as_str(),
                "Take",
            ]);
            for s in &plan.steps {
                let mut step_cell = Cell::new(if warned_steps.contains(&s.step) {
                    format!("{} !", s.step)
                } else {
                    s.step.to_string()
                });
                if color && warned_steps.contains(&s.step) {
                    step_cell = step_cell.fg(Color::Red);
                }
                let dose_text = match s.exact_dose {
                    Some(e) if s.adjustment.is_some() && !s.daily_dose.is_zero() => {
                        format!("{} (strategy: {})", s.daily_dose, text::approx(e))
                    }
                    _ => s.daily_dose.to_string(),
                };
                table.add_row(vec![
                    step_cell.set_alignment(CellAlignment::Right),
                    Cell::new(s.start),
                    Cell::new(s.end),
                    Cell::new(s.days).set_alignment(CellAlignment::Right),
                    Cell::new(dose_text).set_alignment(CellAlignment::Right),
                    Cell::new(s.change).set_alignment(CellAlignment::Right),
                    Cell::new(esc(text::doses(s))),
                    Cell::new(esc(text::products(plan, s))),
                ]);
            }
        }
        View::Days => {
            table.set_header([
                "Date",
                "Day",
                "Step",
                dose_header.as_str(),
                "Change",
                doses_header.as_str(),
                "Take",
                "Reminder",
            ]);
            for d in &plan.days {
                let Some(s) = plan.steps.get(d.step as usize - 1) else {
                    continue;
                };
                let has_note = !d.events.is_empty();
                table.add_row(vec![
                    Cell::new(d.date),
                    Cell::new(d.day).set_alignment(CellAlignment::Right),
                    Cell::new(d.step).set_alignment(CellAlignment::Right),
                    Cell::new(d.daily_dose).set_alignment(CellAlignment::Right),
                    Cell::new(d.change).set_alignment(CellAlignment::Right),
                    Cell::new(esc(text::doses(s))),
                    Cell::new(esc(text::products(plan, s))),
                    Cell::new(if has_note { reminder_label(d) } else { "" }),
                ]);
            }
        }
    }
    writeln!(out, "{table}")?;
    writeln!(out)?;

    writeln!(
        out,
        "{b}Dispense for the whole plan:{reset} {}",
        esc(text::dispense_lines(plan).join("; "))
    )?;
    for p in &plan.products {
        if let Some(n) = &p.note {
            writeln!(out, "  {}: {}", esc(&p.name), esc(n))?;
        }
    }
    if !plan.warnings.is_empty() {
        writeln!(out)?;
        for w in &plan.warnings {
            writeln!(out, "{red}WARNING: {}.{reset}", esc(text::warning(plan, w)))?;
        }
    }
    let adjusted: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| text::adjustment(plan, s).map(|a| format!("step {}: {a}", s.step)))
        .collect();
    if !adjusted.is_empty() {
        writeln!(out)?;
        writeln!(out, "{b}Dose adjustments:{reset}")?;
        for a in adjusted {
            writeln!(out, "  - {}", esc(a))?;
        }
    }
    let rem = &plan.reminders;
    writeln!(out)?;
    writeln!(out, "{b}Reminders{reset}")?;
    let checkins = rem
        .checkin_days
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    writeln!(out, "  - Check in {checkins} days after each step starts (while the step lasts), and on the last day.")?;
    writeln!(
        out,
        "  - Watch for withdrawal symptoms: {}.",
        esc(rem.withdrawal_symptoms.join("; "))
    )?;
    writeln!(
        out,
        "  - {red}Get urgent medical help for: {}.{reset}",
        esc(rem.red_flags.join("; "))
    )?;
    writeln!(out, "  - {}", esc(&rem.if_symptoms))?;
    for a in &rem.advice {
        writeln!(out, "  - {}", esc(a))?;
    }
    if !rem.cautions.is_empty() {
        writeln!(out, "{b}Cautions for the prescriber{reset}")?;
        for c in &rem.cautions {
            writeln!(out, "  - {}", esc(c))?;
        }
    }
    for n in &plan.profile.notes {
        writeln!(out, "  Note: {}", esc(n))?;
    }
    writeln!(out)?;
    writeln!(out, "{b}{}{reset}", plan.disclaimer)?;
    Ok(())
}

/// Profile and request text as the terminal may show it (control
/// characters escaped; our own colour codes are added around it).
fn esc(text: impl AsRef<str>) -> String {
    crate::terminal::escape(text.as_ref()).into_owned()
}

fn reminder_label(d: &crate::schedule::Day) -> &'static str {
    use crate::schedule::Event;
    if d.events.iter().any(|e| matches!(e, Event::Warning { .. })) {
        "new step, WARNING"
    } else if d.events.iter().any(|e| matches!(e, Event::Final)) {
        "last day: check for symptoms"
    } else if d
        .events
        .iter()
        .any(|e| matches!(e, Event::StepStart { .. }))
    {
        "new step"
    } else {
        "check for symptoms"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{load, ProfileDirs};
    use crate::request::{resolve, PlanOptions};

    fn hostile_plan() -> Plan {
        let profile = load("baclofen", &ProfileDirs::new(None, None)).unwrap();
        let opts = PlanOptions {
            dose: "60mg".into(),
            ..PlanOptions::default()
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut plan = crate::schedule::build(&resolve(profile, &opts, today).unwrap()).unwrap();
        plan.profile.display_name = "Baclofen\u{1b}]0;pwned\u{7}".into();
        plan.profile.notes = vec!["note \u{1b}[2J\u{9b}H".into()];
        plan.reminders.red_flags = vec!["fits\u{1b}]8;;http://x\u{1b}\\".into()];
        if let Some(p) = plan.products.first_mut() {
            p.name = "tab\r\u{1b}[1A".into();
        }
        plan
    }

    #[test]
    fn foreign_text_reaches_the_terminal_escaped() {
        let plan = hostile_plan();
        for view in [View::Steps, View::Days] {
            let mut plain = Vec::new();
            write(&plan, view, false, &mut plain).unwrap();
            let plain = String::from_utf8(plain).unwrap();
            assert!(!plain.contains('\u{1b}'), "{plain}");
            assert!(!plain.contains('\u{9b}') && !plain.contains('\r'));
            assert!(plain.contains("Baclofen\\e]0;pwned\\u{7}"));
            assert!(plain.contains("note \\e[2J\\u{9b}H"));

            // With colour, the only escape sequences are our own SGR codes.
            let mut coloured = Vec::new();
            write(&plan, view, true, &mut coloured).unwrap();
            let coloured = String::from_utf8(coloured).unwrap();
            for (i, _) in coloured.match_indices('\u{1b}') {
                let rest = &coloured[i + 1..];
                let sgr = rest.starts_with('[')
                    && rest[1..]
                        .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                        .is_some_and(|end| rest[1 + end..].starts_with('m'));
                assert!(
                    sgr,
                    "foreign escape at {i}: {:?}",
                    &rest[..rest.len().min(12)]
                );
            }
        }
    }
}
