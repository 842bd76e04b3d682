//! CSV: one row per day (or per step) with fixed, documented columns. The
//! file stays pure data; the disclaimer and warnings go to stderr.

use std::borrow::Cow;
use std::io::Write;

use crate::error::{Error, Result};
use crate::render::{text, View};
use crate::schedule::{Event, Plan};

pub const DAY_COLUMNS: [&str; 12] = [
    "date",
    "day",
    "step",
    "daily_dose",
    "unit",
    "change",
    "doses",
    "products",
    "note",
    "revision",
    "mme",
    "drugs",
];
pub const STEP_COLUMNS: [&str; 13] = [
    "step",
    "start",
    "end",
    "days",
    "daily_dose",
    "unit",
    "change",
    "doses",
    "products",
    "average_change_percent",
    "revision",
    "mme",
    "drugs",
];

/// `--view fills`: one row per fill and product.
pub const FILL_COLUMNS: [&str; 15] = [
    "fill",
    "start",
    "end",
    "days",
    "product",
    "unit",
    "needed",
    "quantity",
    "overage",
    "packs",
    "loose",
    "controlled",
    "quantity_text",
    "prescription",
    "drug",
];

/// How the CSV is spelled for the spreadsheet that opens it (`--bom`,
/// `--ascii`); the default is plain UTF-8.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Start with the UTF-8 byte-order mark, which Excel needs to read UTF-8.
    pub bom: bool,
    /// Write only ASCII, for importers that guess a legacy charset.
    pub ascii: bool,
}

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

impl CsvOptions {
    /// A text cell as written: spelled in ASCII when asked, then guarded
    /// (after spelling, so a `−` that becomes `-` is guarded too).
    pub fn text(self, text: &str) -> Cow<'_, str> {
        if !self.ascii {
            return guard_cell(text);
        }
        match crate::render::ascii::spell(text) {
            Cow::Borrowed(b) => guard_cell(b),
            Cow::Owned(o) => Cow::Owned(guard_cell(&o).into_owned()),
        }
    }

    /// The bytes that start the file: the BOM, when asked for.
    pub fn preamble(self) -> &'static [u8] {
        if self.bom {
            BOM
        } else {
            b""
        }
    }
}

/// Protects spreadsheet users: a text cell starting with `=`, `+`, `-`,
/// `@`, tab or CR would run as a formula, so it gets a leading `'`. Every
/// cell that can hold user text (a batch id, a profile's name, anything a
/// user profile writes into doses, products and notes) goes through it, in
/// `plan` and `batch` alike; numeric columns never do, so `-5` stays a
/// number. Built-in text is unchanged unless it starts with one of those.
pub fn guard_cell(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// [`push_field`] of the guarded text.
pub fn push_text(buf: &mut Vec<u8>, text: &str) {
    push_field(buf, &guard_cell(text));
}

fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// Writes the plan as CSV with its header.
pub fn write(plan: &Plan, view: View, out: &mut dyn Write) -> Result<()> {
    write_with(plan, view, CsvOptions::default(), out)
}

/// Like [`write`], spelled as `opts` asks.
pub fn write_with(plan: &Plan, view: View, opts: CsvOptions, out: &mut dyn Write) -> Result<()> {
    out.write_all(opts.preamble())?;
    if view == View::Days {
        let mut buf = Vec::with_capacity(plan.days.len() * 160);
        buf.extend_from_slice(DAY_COLUMNS.join(",").as_bytes());
        buf.push(b'\n');
        write_day_rows_with(plan, &[], opts, &mut buf);
        out.write_all(&buf)?;
        return Ok(());
    }
    let mut w = csv::Writer::from_writer(out);
    match view {
        View::Days => {}
        View::Fills => write_fills(plan, opts, &mut w)?,
        View::Steps => {
            w.write_record(STEP_COLUMNS).map_err(csv_err)?;
            for s in &plan.steps {
                w.write_record([
                    s.step.to_string().as_str(),
                    &s.start.to_string(),
                    &s.end.to_string(),
                    &s.days.to_string(),
                    &s.daily_dose.to_string(),
                    &opts.text(&plan.profile.unit),
                    &s.change.to_string(),
                    &opts.text(&text::doses_every(s)),
                    &opts.text(&text::products(plan, s)),
                    &s.rhythm.map_or(String::new(), |r| r.average_change()),
                    &plan.history.revision_on(s.start).to_string(),
                    &s.mme.map_or(String::new(), |m| m.to_string()),
                    &opts.text(&text::drugs(s)),
                ])
                .map_err(csv_err)?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

fn write_fills<W: Write>(plan: &Plan, opts: CsvOptions, w: &mut csv::Writer<W>) -> Result<()> {
    w.write_record(FILL_COLUMNS).map_err(csv_err)?;
    for row in fill_rows(plan, opts) {
        w.write_record(&row).map_err(csv_err)?;
    }
    Ok(())
}

/// The `--view fills` rows ([`FILL_COLUMNS`]), text cells spelled and
/// guarded as `opts` asks; batch puts the row id in front.
pub fn fill_rows(plan: &Plan, opts: CsvOptions) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for f in &plan.fills {
        let wording = crate::render::prescription::wording(plan, f);
        for l in &f.lines {
            let packs = l.packs.as_ref();
            let prescription = wording
                .iter()
                .find(|p| p.drug == l.drug)
                .map_or("", |p| p.text.as_str());
            let packs_text = packs.map_or(String::new(), |p| {
                p.packs
                    .iter()
                    .map(|c| format!("{}x{}", c.count, c.size))
                    .collect::<Vec<_>>()
                    .join(" + ")
            });
            rows.push(vec![
                f.fill.to_string(),
                f.start.to_string(),
                f.end.to_string(),
                f.days.to_string(),
                opts.text(&l.name).into_owned(),
                l.unit.to_string(),
                l.needed.to_string(),
                l.quantity.to_string(),
                l.overage.to_string(),
                packs_text,
                packs.map_or(String::new(), |p| p.loose.to_string()),
                opts.text(l.controlled.as_deref().unwrap_or(""))
                    .into_owned(),
                opts.text(&crate::render::prescription::quantity(plan, l))
                    .into_owned(),
                opts.text(prescription).into_owned(),
                opts.text(l.drug.as_deref().unwrap_or("")).into_owned(),
            ]);
        }
    }
    rows
}

/// Appends one CSV field, quoted exactly when RFC 4180 needs it (a comma,
/// quote, CR or LF inside), the way the `csv` crate's default writer does.
pub fn push_field(buf: &mut Vec<u8>, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        buf.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(field.as_bytes());
    }
}

/// Appends one row per day, after `prefix` cells (batch mode puts the
/// patient id first; they are user text, so guarded). Everything that repeats is encoded once per step, so
/// the per-day work is a date, two numbers and a copy: batch mode writes
/// millions of these rows.
pub fn write_day_rows(plan: &Plan, prefix: &[&str], buf: &mut Vec<u8>) {
    write_day_rows_with(plan, prefix, CsvOptions::default(), buf)
}

/// Like [`write_day_rows`], with text cells spelled as `opts` asks.
pub fn write_day_rows_with(plan: &Plan, prefix: &[&str], opts: CsvOptions, buf: &mut Vec<u8>) {
    use std::io::Write as _;
    let unit = plan.profile.unit.as_str();
    let push_text = |buf: &mut Vec<u8>, text: &str| push_field(buf, &opts.text(text));
    let mut lead = Vec::new();
    for p in prefix {
        push_text(&mut lead, p);
        lead.push(b',');
    }
    // Per step: `daily_dose,unit,` and `,doses,products,`; a rest day
    // of an every-N-days step: `0,unit,` and `,,what to take,`.
    let rest_parts: Vec<(Vec<u8>, Vec<u8>)> = plan
        .steps
        .iter()
        .map(|s| {
            let mut dose = b"0,".to_vec();
            push_text(&mut dose, unit);
            dose.push(b',');
            let mut tail = b",,".to_vec();
            push_text(&mut tail, &text::day_take(plan, s, true));
            tail.push(b',');
            (dose, tail)
        })
        .collect();
    let step_parts: Vec<(Vec<u8>, Vec<u8>, String)> = plan
        .steps
        .iter()
        .map(|s| {
            let mut dose = Vec::new();
            push_field(&mut dose, &s.daily_dose.to_string());
            dose.push(b',');
            push_text(&mut dose, unit);
            dose.push(b',');
            let mut tail = vec![b','];
            push_text(&mut tail, &text::doses_every(s));
            tail.push(b',');
            push_text(&mut tail, &text::products(plan, s));
            tail.push(b',');
            (dose, tail, s.change.to_string())
        })
        .collect();
    let mme: Vec<Option<String>> = plan
        .steps
        .iter()
        .map(|s| s.mme.map(|m| m.to_string()))
        .collect();
    // A switch plan's drug per administration, aligned with `doses`.
    let drugs: Vec<Vec<u8>> = plan
        .steps
        .iter()
        .map(|s| {
            let mut cell = Vec::new();
            push_text(&mut cell, &text::drugs(s));
            cell
        })
        .collect();
    let checklist = text::checklist(plan);
    // Check-in notes differ only by the day within the step.
    let mut checkin_notes: Vec<(u32, Vec<u8>)> = Vec::new();
    for day in &plan.days {
        let Some((dose, tail, step_change)) = step_parts.get(day.step as usize - 1) else {
            continue;
        };
        let (dose, tail) = match rest_parts.get(day.step as usize - 1) {
            Some((d, t)) if day.rest_day => (d, t),
            _ => (dose, tail),
        };
        buf.extend_from_slice(&lead);
        push_date(buf, day.date);
        buf.push(b',');
        push_u32(buf, day.day);
        buf.push(b',');
        push_u32(buf, day.step);
        buf.push(b',');
        buf.extend_from_slice(dose);
        if day.change.from == day.change.to {
            buf.push(b'0');
        } else if day
            .events
            .iter()
            .any(|e| matches!(e, Event::StepStart { .. }))
        {
            buf.extend_from_slice(step_change.as_bytes());
        } else {
            let _ = write!(buf, "{}", day.change);
        }
        buf.extend_from_slice(tail);
        let revised = !plan.history.revisions.is_empty();
        match day.events.as_slice() {
            _ if day.rest_day || (revised && plan.history.starting_on(day.date).is_some()) => {
                push_text(buf, &text::day_note_with(plan, day, &checklist))
            }
            [] => {}
            [Event::CheckIn { days_after_step }] => {
                let n = *days_after_step;
                match checkin_notes.iter().find(|(k, _)| *k == n) {
                    Some((_, note)) => buf.extend_from_slice(note),
                    None => {
                        let mut note = Vec::new();
                        push_text(&mut note, &text::day_note_with(plan, day, &checklist));
                        buf.extend_from_slice(&note);
                        checkin_notes.push((n, note));
                    }
                }
            }
            _ => push_text(buf, &text::day_note_with(plan, day, &checklist)),
        }
        buf.push(b',');
        if revised {
            push_u32(buf, plan.history.revision_on(day.date));
        } else {
            buf.push(b'1');
        }
        buf.push(b',');
        if let Some(m) = mme.get(day.step as usize - 1).and_then(|m| m.as_ref()) {
            // A rest day of an every-N-days step takes nothing.
            buf.extend_from_slice(if day.rest_day { b"0" } else { m.as_bytes() });
        }
        buf.push(b',');
        if let Some(d) = drugs.get(day.step as usize - 1).filter(|_| !day.rest_day) {
            buf.extend_from_slice(d);
        }
        buf.push(b'\n');
    }
}

/// `YYYY-MM-DD` without the formatting machinery (hot in batch mode);
/// years outside 0..=9999 fall back to chrono's own text.
fn push_date(buf: &mut Vec<u8>, date: chrono::NaiveDate) {
    use chrono::Datelike;
    let y = date.year();
    if !(0..=9999).contains(&y) {
        use std::io::Write as _;
        let _ = write!(buf, "{date}");
        return;
    }
    let (y, m, d) = (y as u32, date.month(), date.day());
    buf.extend_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (d / 10) as u8,
        b'0' + (d % 10) as u8,
    ]);
}

fn push_u32(buf: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Maps csv errors to taper errors (I/O stays I/O).
pub fn map_err(e: csv::Error) -> Error {
    csv_err(e)
}
