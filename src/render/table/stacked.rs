//! The narrow layout: one block per step (or day) instead of a table, for
//! terminals too narrow to show the table's columns side by side.

use super::wrap::glue;
use super::{esc, reminder_label, Page, RED_BOLD};
use crate::error::Result;
use crate::render::{text, View};
use crate::schedule::{Plan, Step};

/// Writes every step (or day) as a block of wrapped lines.
pub fn write(plan: &Plan, view: View, warned: &[u32], page: &mut Page) -> Result<()> {
    let unit = plan.profile.unit.as_str();
    match view {
        // The fills are the footer's; no step or day blocks.
        View::Fills => {}
        View::Steps => {
            for s in &plan.steps {
                let days = if s.days == 1 {
                    "1 day".to_string()
                } else {
                    format!("{} days", s.days)
                };
                let warn = warned.contains(&s.step);
                let title = format!(
                    "Step {}{} · {} → {} ({})",
                    s.step,
                    if warn { " (WARNING)" } else { "" },
                    s.start,
                    s.end,
                    glue(&days)
                );
                page.para(if warn { RED_BOLD } else { "" }, "", "  ", &title)?;
                step_lines(plan, s, &dose_text(plan, s, unit), page)?;
                page.blank()?;
            }
        }
        View::Days => {
            for d in &plan.days {
                let Some(s) = plan.steps.get(d.step as usize - 1) else {
                    continue;
                };
                let mut title = format!("{} · day {} · step {}", d.date, d.day, d.step);
                if !d.events.is_empty() {
                    title.push_str(" · ");
                    title.push_str(reminder_label(d));
                }
                page.para("", "", "  ", &title)?;
                let dose = if d.rest_day {
                    glue(&text::amount(d.daily_dose, unit))
                } else {
                    glue(&text::daily(plan, s))
                };
                let dose = format!("{dose} ({})", d.change);
                if d.rest_day {
                    page.para("", "  Daily dose: ", "    ", &dose)?;
                    page.para("", "  Take: ", "    ", &text::day_take(plan, s, true))?;
                } else {
                    step_lines(plan, s, &dose, page)?;
                }
                page.blank()?;
            }
        }
    }
    Ok(())
}

/// `55 mg (-5)`, with the strategy's exact dose when it was rounded.
fn dose_text(plan: &Plan, s: &Step, unit: &str) -> String {
    let dose = if s.drugs.is_empty() {
        glue(&text::amount(s.daily_dose, unit))
    } else {
        text::daily(plan, s)
    };
    match s.exact_dose {
        Some(e) if s.adjustment.is_some() && !s.daily_dose.is_zero() => {
            format!(
                "{dose} ({}; strategy: {})",
                text::step_change(s),
                glue(&text::approx(e))
            )
        }
        _ => format!("{dose} ({})", text::step_change(s)),
    }
}

fn step_lines(plan: &Plan, s: &Step, dose: &str, page: &mut Page) -> Result<()> {
    page.para("", "  Daily dose: ", "    ", dose)?;
    let doses = text::doses_named(s);
    if !doses.is_empty() {
        let label = format!("  Doses ({}): ", esc(&plan.profile.unit));
        page.para("", &label, "    ", &doses)?;
    }
    page.para("", "  Take: ", "    ", &esc(text::products(plan, s)))
}
