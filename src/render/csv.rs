//! CSV: one row per day (or per step) with fixed, documented columns. The
//! file stays pure data; the disclaimer and warnings go to stderr.

use std::io::Write;

use crate::error::{Error, Result};
use crate::render::{text, View};
use crate::schedule::Plan;

pub const DAY_COLUMNS: [&str; 9] = [
    "date",
    "day",
    "step",
    "daily_dose",
    "unit",
    "change",
    "doses",
    "products",
    "note",
];
pub const STEP_COLUMNS: [&str; 9] = [
    "step",
    "start",
    "end",
    "days",
    "daily_dose",
    "unit",
    "change",
    "doses",
    "products",
];

fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// Writes the plan as CSV with its header.
pub fn write(plan: &Plan, view: View, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    match view {
        View::Days => {
            w.write_record(DAY_COLUMNS).map_err(csv_err)?;
            write_day_rows(plan, &[], &mut w)?;
        }
        View::Steps => {
            w.write_record(STEP_COLUMNS).map_err(csv_err)?;
            for s in &plan.steps {
                w.write_record([
                    s.step.to_string().as_str(),
                    &s.start.to_string(),
                    &s.end.to_string(),
                    &s.days.to_string(),
                    &s.daily_dose.to_string(),
                    &plan.profile.unit,
                    &s.change.to_string(),
                    &text::doses(s),
                    &text::products(plan, s),
                ])
                .map_err(csv_err)?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes one row per day, after `prefix` cells (batch mode puts the
/// patient id first). Texts that repeat are built once per step.
pub fn write_day_rows<W: Write>(
    plan: &Plan,
    prefix: &[&str],
    w: &mut csv::Writer<W>,
) -> Result<()> {
    let unit = plan.profile.unit.as_str();
    let step_text: Vec<(String, String)> = plan
        .steps
        .iter()
        .map(|s| (text::doses(s), text::products(plan, s)))
        .collect();
    let checklist = text::checklist(plan);
    let mut date = String::with_capacity(10);
    for day in &plan.days {
        let Some((doses, products)) = step_text.get(day.step as usize - 1) else {
            continue;
        };
        date.clear();
        {
            use std::fmt::Write as _;
            let _ = write!(date, "{}", day.date);
        }
        let note = if day.events.is_empty() {
            String::new()
        } else {
            text::day_note_with(plan, day, &checklist)
        };
        for p in prefix {
            w.write_field(p).map_err(csv_err)?;
        }
        w.write_record([
            date.as_str(),
            itoa_u32(day.day).as_str(),
            itoa_u32(day.step).as_str(),
            day.daily_dose.to_string().as_str(),
            unit,
            day.change.to_string().as_str(),
            doses,
            products,
            note.as_str(),
        ])
        .map_err(csv_err)?;
    }
    Ok(())
}

fn itoa_u32(n: u32) -> String {
    n.to_string()
}

/// Maps csv errors to taper errors (I/O stays I/O).
pub fn map_err(e: csv::Error) -> Error {
    csv_err(e)
}
