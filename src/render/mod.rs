//! Renderers: `&Plan` in, bytes out. They never compute doses; anything a
//! renderer needs that is not in [`Plan`] belongs in the engine.

pub mod ascii;
pub mod compare;
pub mod convert;
pub mod csv;
pub mod fhir;
pub mod html;
pub mod ics;
pub mod json;
pub mod prescription;
pub mod profile;
pub mod table;
pub mod text;
pub mod words;

use std::io::Write;

use crate::error::Result;
use crate::schedule::Plan;

/// Output formats of `taper plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    /// RFC 5545 calendar for phone and desktop calendars.
    Ics,
    /// Self-contained printable HTML calendar.
    Html,
    /// FHIR R4 Bundle of MedicationRequests, for health records.
    Fhir,
}

/// Row granularity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Steps,
    Days,
    /// One row per fill and product (`--supply`).
    Fills,
}

impl Format {
    /// The format implied by an output file's extension, if any.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        // The longer extension wins: `plan.fhir.json` is FHIR.
        if name.ends_with(".fhir.json") {
            return Some(Format::Fhir);
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "txt" => Some(Format::Table),
            "ics" => Some(Format::Ics),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }

    /// Tables show steps by default; machine formats show days.
    pub fn default_view(self) -> View {
        match self {
            Format::Table | Format::Ics | Format::Html | Format::Fhir => View::Steps,
            Format::Csv | Format::Json => View::Days,
        }
    }
}

/// Patient-facing extras: calendars use them; JSON the patient and plan id.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// `--patient NAME`: shown in calendar names and descriptions.
    pub patient: Option<String>,
    /// `--times HH:MM,...`: one per administration of the starting day
    /// (ICS timed events); a dose's `slot_index` picks its time.
    pub times: Vec<chrono::NaiveTime>,
    /// Columns of the terminal the table is shown on (`None`: a file or
    /// pipe, which gets the fixed [`table::PIPED_WIDTH`] layout).
    pub width: Option<usize>,
    /// `--bom`, `--ascii`: how the CSV is spelled.
    pub csv: csv::CsvOptions,
    /// `--plan-id` (checked), or `None` for the default derived from the
    /// plan and patient ([`crate::identity::plan_id_or_default`]); in the
    /// JSON `plan_id` and in every ICS UID.
    pub plan_id: Option<String>,
    /// `--week-start`: the first column of the HTML month grids.
    pub week_start: crate::cli::WeekStart,
}

/// Writes the plan in `format`. `color` only affects the table.
pub fn render(
    plan: &Plan,
    format: Format,
    view: View,
    color: bool,
    out: &mut dyn Write,
) -> Result<()> {
    render_with(plan, format, view, color, &Extras::default(), out)
}

/// Like [`render`], with calendar extras.
pub fn render_with(
    plan: &Plan,
    format: Format,
    view: View,
    color: bool,
    extras: &Extras,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        Format::Table => table::write(plan, view, color, extras.width, out),
        Format::Csv => csv::write_with(plan, view, extras.csv, out),
        Format::Json => json::write(plan, view, extras, out),
        Format::Ics => ics::write(plan, extras, out),
        Format::Html => html::write(plan, extras, out),
        Format::Fhir => fhir::write(plan, extras, out),
    }
}
