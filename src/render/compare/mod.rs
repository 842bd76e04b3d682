//! `taper compare` output: the variants side by side as a table, CSV,
//! JSON or HTML. Everything shown comes from [`Comparison`]; nothing here
//! computes a dose, a cut or a total.

mod html;

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::CompareFormatArg;
use crate::compare::{Comparison, Variant};
use crate::error::{Error, Result};
use crate::render::csv::guard_cell;
use crate::render::{table::PIPED_WIDTH, text};
use crate::schedule::DISCLAIMER;

/// The `schema_version` of the compare JSON (`docs/compare.schema.json`).
pub const SCHEMA_VERSION: &str = "1";

/// The CSV header, one row per variant; documented in the README.
pub const CSV_COLUMNS: [&str; 15] = [
    "variant",
    "options",
    "strategy",
    "start",
    "end",
    "total_days",
    "steps",
    "largest_cut",
    "largest_cut_percent",
    "largest_cut_step",
    "last_dose",
    "stops",
    "unit",
    "dispense",
    "warnings",
];

/// Output formats of `taper compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareFormat {
    Table,
    Csv,
    Json,
    Html,
}

impl From<CompareFormatArg> for CompareFormat {
    fn from(f: CompareFormatArg) -> Self {
        match f {
            CompareFormatArg::Table => CompareFormat::Table,
            CompareFormatArg::Csv => CompareFormat::Csv,
            CompareFormatArg::Json => CompareFormat::Json,
            CompareFormatArg::Html => CompareFormat::Html,
        }
    }
}

impl CompareFormat {
    /// The format an output file's extension names, if any.
    pub fn from_path(path: &std::path::Path) -> Option<CompareFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(CompareFormat::Csv),
            "json" => Some(CompareFormat::Json),
            "txt" => Some(CompareFormat::Table),
            "html" | "htm" => Some(CompareFormat::Html),
            _ => None,
        }
    }
}

/// Writes the comparison; `width` is the terminal's (table only).
pub fn write(
    cmp: &Comparison,
    format: CompareFormat,
    width: Option<usize>,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        CompareFormat::Table => write_table(cmp, width.unwrap_or(PIPED_WIDTH), out),
        CompareFormat::Csv => write_csv(cmp, out),
        CompareFormat::Json => write_json(cmp, out),
        CompareFormat::Html => html::write(cmp, out),
    }
}

/// `10 mg (16.7%) at step 1`, or `none`.
fn cut_text(v: &Variant, unit: &str) -> String {
    match &v.metrics.largest_cut {
        Some(c) => format!(
            "{} ({}%, {} to {}) at step {}",
            text::amount(c.amount, unit),
            c.percent,
            c.from,
            text::amount(c.to, unit),
            c.step
        ),
        None => "none".into(),
    }
}

/// `5 mg, then stop` or `10 mg a day (target)`.
fn last_dose_text(v: &Variant, unit: &str) -> String {
    let d = text::amount(v.metrics.last_dose, unit);
    if v.metrics.stops {
        format!("{d}, then stop")
    } else {
        format!("{d} a day (target)")
    }
}

/// Metric rows of the table and HTML: a label and one cell per variant.
fn rows(cmp: &Comparison) -> Vec<(&'static str, Vec<String>)> {
    let unit = cmp.profile.unit.as_str();
    let each = |f: &dyn Fn(&Variant) -> String| cmp.variants.iter().map(f).collect::<Vec<_>>();
    vec![
        ("Options", each(&|v| v.options.clone())),
        ("Strategy", each(&|v| text::strategy(&v.plan))),
        (
            "Dates",
            each(&|v| format!("{} to {}", v.metrics.start, v.metrics.end)),
        ),
        ("Total days", each(&|v| v.metrics.total_days.to_string())),
        ("Steps", each(&|v| v.metrics.steps.to_string())),
        ("Largest cut", each(&|v| cut_text(v, unit))),
        ("Last dose", each(&|v| last_dose_text(v, unit))),
        (
            "Dispense",
            each(&|v| text::dispense_lines(&v.plan).join("\n")),
        ),
        ("Warnings", each(&|v| v.metrics.warnings.to_string())),
    ]
}

/// `text` wrapped to `width` at spaces, continued under `indent`.
fn para(out: &mut dyn Write, width: usize, indent: &str, text: &str) -> Result<()> {
    let opts = textwrap::Options::new(width.max(20)).subsequent_indent(indent);
    for line in textwrap::wrap(text, opts) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Variants as columns, metrics as rows, fitted to `width`; when even
/// wrapped columns cannot fit, one block per variant instead. Text around
/// the table wraps to the same width.
fn write_table(cmp: &Comparison, width: usize, out: &mut dyn Write) -> Result<()> {
    let esc = |s: &str| crate::terminal::escape_keep_lines(s).into_owned();
    let rows = rows(cmp);
    let title = format!(
        "{} taper: {} variants from {} a day (DRAFT for prescriber review)",
        esc(&cmp.profile.display_name),
        cmp.variants.len(),
        text::amount(cmp.start_dose, &cmp.profile.unit)
    );
    para(out, width, "  ", &title)?;
    writeln!(out)?;
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width.min(u16::MAX as usize) as u16)
        .force_no_tty();
    let mut header = vec![String::new()];
    header.extend((1..=cmp.variants.len()).map(|i| format!("Variant {i}")));
    table.set_header(header);
    // An amount and its unit never part at a line end.
    let glued = format!("\u{a0}{}", cmp.profile.unit);
    let unit = format!(" {}", cmp.profile.unit);
    for (label, cells) in &rows {
        let mut row = vec![label.to_string()];
        row.extend(cells.iter().map(|c| esc(c).replace(&unit, &glued)));
        table.add_row(row);
    }
    let rendered = table.to_string();
    let fits = rendered
        .lines()
        .all(|l| unicode_width::UnicodeWidthStr::width(l) <= width);
    if fits {
        writeln!(out, "{rendered}")?;
    } else {
        for i in 0..cmp.variants.len() {
            writeln!(out, "Variant {}", i + 1)?;
            for (label, cells) in &rows {
                let cell = esc(&cells[i]).replace('\n', "; ");
                para(out, width, "    ", &format!("  {label}: {cell}"))?;
            }
            writeln!(out)?;
        }
    }
    for (i, v) in cmp.variants.iter().enumerate() {
        for w in &v.plan.warnings {
            let line = format!(
                "Variant {} warning: {}",
                i + 1,
                esc(&text::warning(&v.plan, w))
            );
            para(out, width, "  ", &line)?;
        }
    }
    writeln!(out)?;
    para(out, width, "", DISCLAIMER)
}

fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// One row per variant under [`CSV_COLUMNS`]; text cells guarded against
/// spreadsheet formulas (so `--strategy …` reads `'--strategy …`).
fn write_csv(cmp: &Comparison, out: &mut dyn Write) -> Result<()> {
    let unit = cmp.profile.unit.as_str();
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS).map_err(csv_err)?;
    for (i, v) in cmp.variants.iter().enumerate() {
        let m = &v.metrics;
        let cut = m.largest_cut;
        w.write_record([
            (i + 1).to_string(),
            guard_cell(&v.options).into_owned(),
            guard_cell(&text::strategy(&v.plan)).into_owned(),
            m.start.to_string(),
            m.end.to_string(),
            m.total_days.to_string(),
            m.steps.to_string(),
            cut.map_or(String::new(), |c| c.amount.to_string()),
            cut.map_or(String::new(), |c| c.percent.to_string()),
            cut.map_or(String::new(), |c| c.step.to_string()),
            m.last_dose.to_string(),
            m.stops.to_string(),
            guard_cell(unit).into_owned(),
            guard_cell(&text::dispense_lines(&v.plan).join("; ")).into_owned(),
            m.warnings.to_string(),
        ])
        .map_err(csv_err)?;
    }
    w.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct JsonCompare<'a> {
    schema_version: &'static str,
    tool: &'a crate::schedule::ToolInfo,
    disclaimer: &'static str,
    profile: &'a crate::schedule::ProfileInfo,
    start_dose: crate::dose::Dose,
    variants: Vec<JsonVariant<'a>>,
}

#[derive(Serialize)]
struct JsonVariant<'a> {
    variant: usize,
    options: &'a str,
    strategy: &'a crate::strategy::Strategy,
    strategy_text: String,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    total_days: u32,
    steps: u32,
    largest_cut: Option<JsonCut>,
    last_dose: crate::dose::Dose,
    stops: bool,
    dispense: &'a [crate::schedule::DispenseLine],
    warnings: usize,
    warning_text: Vec<String>,
}

#[derive(Serialize)]
struct JsonCut {
    step: u32,
    from: crate::dose::Dose,
    to: crate::dose::Dose,
    amount: crate::dose::Dose,
    percent: crate::dose::Dose,
}

/// The documented object (`docs/compare.schema.json`), pretty-printed.
fn write_json(cmp: &Comparison, out: &mut dyn Write) -> Result<()> {
    let first = &cmp.variants[0].plan;
    let doc = JsonCompare {
        schema_version: SCHEMA_VERSION,
        tool: &first.tool,
        disclaimer: DISCLAIMER,
        profile: &first.profile,
        start_dose: cmp.start_dose,
        variants: cmp
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let m = &v.metrics;
                JsonVariant {
                    variant: i + 1,
                    options: &v.options,
                    strategy: &v.plan.request.strategy,
                    strategy_text: text::strategy(&v.plan),
                    start: m.start,
                    end: m.end,
                    total_days: m.total_days,
                    steps: m.steps,
                    largest_cut: m.largest_cut.map(|c| JsonCut {
                        step: c.step,
                        from: c.from,
                        to: c.to,
                        amount: c.amount,
                        percent: c.percent,
                    }),
                    last_dose: m.last_dose,
                    stops: m.stops,
                    dispense: &m.dispense,
                    warnings: m.warnings,
                    warning_text: v
                        .plan
                        .warnings
                        .iter()
                        .map(|w| text::warning(&v.plan, w))
                        .collect(),
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| Error::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}
