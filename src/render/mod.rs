//! Renderers: `&Plan` in, bytes out. They never compute doses; anything a
//! renderer needs that is not in [`Plan`] belongs in the engine.

pub mod csv;
pub mod json;
pub mod profile;
pub mod table;
pub mod text;

use std::io::Write;

use crate::error::Result;
use crate::schedule::Plan;

/// Output formats of `taper plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Row granularity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Steps,
    Days,
}

impl Format {
    /// The format implied by an output file's extension, if any.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "txt" => Some(Format::Table),
            _ => None,
        }
    }

    /// Tables show steps by default; machine formats show days.
    pub fn default_view(self) -> View {
        match self {
            Format::Table => View::Steps,
            Format::Csv | Format::Json => View::Days,
        }
    }
}

/// Writes the plan in `format`. `color` only affects the table.
pub fn render(
    plan: &Plan,
    format: Format,
    view: View,
    color: bool,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        Format::Table => table::write(plan, view, color, out),
        Format::Csv => csv::write(plan, view, out),
        Format::Json => json::write(plan, view, out),
    }
}
