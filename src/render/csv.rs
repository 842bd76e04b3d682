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

/// Writes the day rows, with optional leading columns (used by batch mode).
pub fn write(plan: &Plan, view: View, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    match view {
        View::Days => {
            w.write_record(DAY_COLUMNS).map_err(csv_err)?;
            let unit = plan.profile.unit.as_str();
            for day in &plan.days {
                let Some(step) = plan.steps.get(day.step as usize - 1) else {
                    continue;
                };
                w.write_record([
                    day.date.to_string().as_str(),
                    &day.day.to_string(),
                    &day.step.to_string(),
                    &day.daily_dose.to_string(),
                    unit,
                    &day.change.to_string(),
                    &text::doses(step),
                    &text::products(plan, step),
                    &text::day_note(plan, day),
                ])
                .map_err(csv_err)?;
            }
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
