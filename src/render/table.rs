//! The terminal view: a header with drug, doses, strategy and provenance, a
//! comfy-table of steps (or days), and a footer with dispensing totals,
//! warnings, reminders and the disclaimer. Colour only when asked for.

mod grid;
mod stacked;
mod wrap;

use std::io::Write;

use crate::error::Result;
use crate::render::{prescription, text, View};
use crate::schedule::Plan;

const RED_BOLD: &str = "\x1b[1;31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The width when stdout is not a terminal and `COLUMNS` is unset (a file,
/// a pipe, a library caller): fixed, so the same plan always gives the same
/// text, and narrow enough to print or mail without lines being cut.
pub const PIPED_WIDTH: usize = 100;

/// Text columns narrower than this make the table hard to read; below it
/// the stacked layout is used.
const TAKE_MIN: usize = 24;
const REMINDER_MIN: usize = 12;

/// Lines on their way out: wrapped to the width, then coloured, so colour
/// never changes the layout.
pub(crate) struct Page<'a> {
    out: &'a mut dyn Write,
    width: usize,
    color: bool,
}

impl Page<'_> {
    /// `text` after `first`, continued under `rest`; `style` colours each line.
    fn para(&mut self, style: &str, first: &str, rest: &str, text: &str) -> Result<()> {
        for line in wrap::wrap(text, self.width, first, rest) {
            if self.color && !style.is_empty() {
                writeln!(self.out, "{style}{line}{RESET}")?;
            } else {
                writeln!(self.out, "{line}")?;
            }
        }
        Ok(())
    }

    /// Like [`Page::para`] with `label` (which starts the text) in bold.
    fn labelled(&mut self, label: &str, text: &str) -> Result<()> {
        let lines = wrap::wrap(&format!("{label} {text}"), self.width, "", "  ");
        for (i, line) in lines.iter().enumerate() {
            match line.strip_prefix(label) {
                Some(tail) if i == 0 && self.color => {
                    writeln!(self.out, "{BOLD}{label}{RESET}{tail}")?
                }
                _ => writeln!(self.out, "{line}")?,
            }
        }
        Ok(())
    }

    fn blank(&mut self) -> Result<()> {
        writeln!(self.out)?;
        Ok(())
    }
}

/// Writes the plan for a terminal `width` columns wide (`None`: not a
/// terminal, [`PIPED_WIDTH`]). Dates, doses and numbers are never split.
pub fn write(
    plan: &Plan,
    view: View,
    color: bool,
    width: Option<usize>,
    out: &mut dyn Write,
) -> Result<()> {
    let width = width.unwrap_or(PIPED_WIDTH).max(wrap::MIN_WIDTH);
    let mut page = Page { out, width, color };
    header(plan, &mut page)?;
    let warned: Vec<u32> = plan.warnings.iter().filter_map(|w| w.step).collect();
    let grid = match view {
        View::Steps => step_grid(plan, &warned),
        View::Days => day_grid(plan),
        View::Fills => {
            fills(plan, &mut page)?;
            return footer(plan, &mut page);
        }
    };
    // The stacked blocks when the table does not fit, or when its text
    // column is so narrow that the table is the taller of the two.
    let mut blocks = Vec::new();
    stacked::write(
        plan,
        view,
        &warned,
        &mut Page {
            out: &mut blocks,
            width,
            color,
        },
    )?;
    let block_lines = blocks.iter().filter(|&&b| b == b'\n').count();
    match grid::render(&grid, width, color) {
        Some(table) if table.lines().count() < block_lines => {
            writeln!(page.out, "{table}")?;
            page.blank()?;
        }
        _ => page.out.write_all(&blocks)?,
    }
    if plan.request.supply_days.is_some() {
        fills(plan, &mut page)?;
    }
    footer(plan, &mut page)
}

/// Each fill: its dates, the prescription wording and what to dispense.
fn fills(plan: &Plan, page: &mut Page) -> Result<()> {
    let title = match plan.request.supply_days {
        Some(d) => format!("Fills of {d} days (the last to the plan's end):"),
        None => "One fill for the whole plan (--supply DAYS splits it):".to_string(),
    };
    page.para(BOLD, "", "", &title)?;
    for f in &plan.fills {
        let days = if f.days == 1 { "day" } else { "days" };
        let head = format!(
            "Fill {}: {} to {} ({} {days})",
            f.fill, f.start, f.end, f.days
        );
        page.para(BOLD, "  ", "  ", &head)?;
        for p in prescription::wording(plan, f) {
            page.para("", "    ", "      ", &esc(&p.text))?;
        }
        let lines: Vec<String> = f
            .lines
            .iter()
            .map(|l| format!("{}: {}", l.name, prescription::quantity(plan, l)))
            .collect();
        page.para("", "    Dispense: ", "      ", &esc(lines.join("; ")))?;
    }
    page.blank()
}

/// Title, doses, strategy, dates, products and provenance.
fn header(plan: &Plan, page: &mut Page) -> Result<()> {
    let r = &plan.request;
    let final_step = plan.steps.last();
    let title = format!("{}: DRAFT for prescriber review", esc(text::title(plan)));
    page.para(BOLD, "", "  ", &title)?;
    let start = format!(
        "Starting dose: {}, {} · Target: {}",
        esc(text::starting_dose(plan)),
        text::frequency(r.doses_per_day),
        esc(text::target(plan))
    );
    page.para("", "", "  ", &start)?;
    if let Some(sw) = text::switch_summary(plan) {
        page.para(BOLD, "Switch: ", "  ", &esc(sw))?;
    }
    page.para("", "Strategy: ", "  ", &esc(text::strategy(plan)))?;
    let dates = format!(
        "{} to {} ({} days, {} steps; the last day is the first at the target)",
        r.start,
        r.end,
        plan.days.len(),
        final_step.map_or(0, |s| s.step)
    );
    page.para("", "Dates: ", "  ", &dates)?;
    if let Some(rev) = text::revision(plan) {
        page.para(BOLD, "Revised: ", "  ", &esc(rev))?;
    }
    page.para("", "Products: ", "  ", &esc(text::phases(plan)))?;
    if let Some(m) = text::mme_summary(plan) {
        page.para("", "Morphine equivalents: ", "  ", &esc(m))?;
    }
    for g in &plan.gave_way {
        page.para("", "Gave way: ", "  ", &esc(text::gave_way(plan, g)))?;
    }
    page.para("", "Provenance: ", "  ", &esc(text::provenance(plan)))?;
    page.para("", "Sources: ", "  ", &esc(text::sources(plan)))?;
    if !plan.profile.tool_defaults.is_empty() {
        let defaults = format!(
            "Tool defaults (no source gives these; confirm them): {}",
            esc(plan.profile.tool_defaults.join(", "))
        );
        page.para(RED_BOLD, "", "  ", &defaults)?;
    }
    if !plan.warnings.is_empty() {
        let text =
            "WARNING: this plan is faster or higher than the profile's guidance (see below).";
        page.para(RED_BOLD, "", "  ", text)?;
    }
    page.blank()
}

fn step_grid(plan: &Plan, warned: &[u32]) -> grid::Grid {
    let unit = esc(&plan.profile.unit);
    let mut cols: Vec<grid::Col> = [
        ("Step", true),
        ("From", false),
        ("To", false),
        ("Days", true),
    ]
    .into_iter()
    .map(|(h, right)| fixed(h, right))
    .collect();
    // A strategy's exact dose may go on a second line; the doses never
    // wrap ("20 + 20 + 15" reads as one dose list, not three lines).
    let mut dose = text_col(&format!("Daily dose ({unit})"), 0);
    dose.right = true;
    cols.extend([dose, fixed("Change", true)]);
    let mme = plan.mme.is_some();
    if mme {
        cols.push(fixed("MME", true));
    }
    cols.extend([
        fixed(&format!("Doses ({unit})"), false),
        text_col("Take", TAKE_MIN),
    ]);
    let mut red = Vec::new();
    for s in &plan.steps {
        let warn = warned.contains(&s.step);
        red.push(warn);
        let dose_text = match s.exact_dose {
            Some(e) if s.adjustment.is_some() && !s.daily_dose.is_zero() => {
                format!(
                    "{} (strategy: {})",
                    s.daily_dose,
                    wrap::glue(&text::approx(e))
                )
            }
            _ => match text::drug_doses(plan, s) {
                Some(d) if s.drugs.len() > 1 => format!("{} ({})", s.daily_dose, esc(d)),
                _ => s.daily_dose.to_string(),
            },
        };
        let mut cells = vec![
            if warn {
                format!("{} !", s.step)
            } else {
                s.step.to_string()
            },
            s.start.to_string(),
            s.end.to_string(),
            s.days.to_string(),
            dose_text,
            text::step_change(s),
        ];
        if mme {
            cells.push(s.mme.map_or(String::new(), |m| m.to_string()));
        }
        cells.extend([
            esc(text::doses_named(s)),
            wrap::glue_amounts(&esc(text::products(plan, s))),
        ]);
        for (c, v) in cols.iter_mut().zip(cells) {
            c.cells.push(v);
        }
    }
    grid::Grid { cols, red }
}

fn day_grid(plan: &Plan) -> grid::Grid {
    let unit = esc(&plan.profile.unit);
    let mut cols: Vec<grid::Col> = [
        ("Date", false),
        ("Day", true),
        ("Step", true),
        (&format!("Daily dose ({unit})"), true),
        ("Change", true),
    ]
    .into_iter()
    .map(|(h, right)| fixed(h, right))
    .collect();
    cols.extend([
        text_col(&format!("Doses ({unit})"), 0),
        text_col("Take", TAKE_MIN),
        text_col("Reminder", REMINDER_MIN),
    ]);
    for d in &plan.days {
        let Some(s) = plan.steps.get(d.step as usize - 1) else {
            continue;
        };
        let has_note = !d.events.is_empty();
        let cells = [
            d.date.to_string(),
            d.day.to_string(),
            d.step.to_string(),
            d.daily_dose.to_string(),
            d.change.to_string(),
            if d.rest_day {
                String::new()
            } else {
                esc(text::doses_named(s))
            },
            wrap::glue_amounts(&esc(text::day_take(plan, s, d.rest_day))),
            if has_note { reminder_label(d) } else { "" }.to_string(),
        ];
        for (c, v) in cols.iter_mut().zip(cells) {
            c.cells.push(v);
        }
    }
    grid::Grid {
        cols,
        red: Vec::new(),
    }
}

fn fixed(header: &str, right: bool) -> grid::Col {
    grid::Col {
        header: header.to_string(),
        cells: Vec::new(),
        right,
        wraps: None,
    }
}

fn text_col(header: &str, min: usize) -> grid::Col {
    grid::Col {
        header: header.to_string(),
        cells: Vec::new(),
        right: false,
        wraps: Some(min),
    }
}

/// Dispensing totals, warnings, adjustments, reminders and the disclaimer.
fn footer(plan: &Plan, page: &mut Page) -> Result<()> {
    page.labelled(
        "Dispense for the whole plan:",
        &esc(text::dispense_lines(plan).join("; ")),
    )?;
    for p in &plan.products {
        if let Some(n) = &p.note {
            page.para("", "  ", "    ", &format!("{}: {}", esc(&p.name), esc(n)))?;
        }
    }
    if !plan.warnings.is_empty() {
        page.blank()?;
        for w in &plan.warnings {
            let text = format!("WARNING: {}.", esc(text::warning(plan, w)));
            page.para(RED_BOLD, "", "  ", &text)?;
        }
    }
    let adjusted: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| text::adjustment(plan, s).map(|a| format!("step {}: {a}", s.step)))
        .collect();
    if !adjusted.is_empty() {
        page.blank()?;
        page.para(BOLD, "", "  ", "Dose adjustments:")?;
        for a in adjusted {
            page.para("", "  - ", "    ", &esc(a))?;
        }
    }
    reminders(plan, page)?;
    page.blank()?;
    page.para(BOLD, "", "", plan.disclaimer)
}

fn reminders(plan: &Plan, page: &mut Page) -> Result<()> {
    let rem = &plan.reminders;
    page.blank()?;
    page.para(BOLD, "", "  ", "Reminders")?;
    let checkins = rem
        .checkin_days
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    let checkin = format!("Check in {checkins} days after each step starts (while the step lasts), and on the last day.");
    page.para("", "  - ", "    ", &checkin)?;
    let watch = format!(
        "Watch for withdrawal symptoms: {}.",
        esc(rem.withdrawal_symptoms.join("; "))
    );
    page.para("", "  - ", "    ", &watch)?;
    let urgent = format!(
        "Get urgent medical help for: {}.",
        esc(rem.red_flags.join("; "))
    );
    page.para(RED_BOLD, "  - ", "    ", &urgent)?;
    page.para("", "  - ", "    ", &esc(&rem.if_symptoms))?;
    for a in &rem.advice {
        page.para("", "  - ", "    ", &esc(a))?;
    }
    for a in text::mme_advice(plan) {
        page.para(RED_BOLD, "  - ", "    ", &esc(a))?;
    }
    if !rem.cautions.is_empty() {
        page.para(BOLD, "", "  ", "Cautions for the prescriber")?;
        for c in &rem.cautions {
            page.para("", "  - ", "    ", &esc(c))?;
        }
    }
    for n in &plan.profile.notes {
        page.para("", "  Note: ", "    ", &esc(n))?;
    }
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
            write(&plan, view, false, None, &mut plain).unwrap();
            let plain = String::from_utf8(plain).unwrap();
            assert!(!plain.contains('\u{1b}'), "{plain}");
            assert!(!plain.contains('\u{9b}') && !plain.contains('\r'));
            assert!(plain.contains("Baclofen\\e]0;pwned\\u{7}"));
            assert!(plain.contains("note \\e[2J\\u{9b}H"));

            // With colour, the only escape sequences are our own SGR codes.
            let mut coloured = Vec::new();
            write(&plan, view, true, None, &mut coloured).unwrap();
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
