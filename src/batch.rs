//! `taper batch`: many patients from a CSV of requests, streamed.
//!
//! A reader thread splits the input into records of at most
//! [`MAX_RECORD_BYTES`] (an over-long one is skipped without ever being held
//! in memory), parses them in small chunks, plans each chunk's rows
//! on all cores (rayon) and sends the rendered bytes, in input order,
//! through a bounded channel to the caller's thread, which writes them. At
//! most a few chunks are in memory at once, whatever the input size. Every
//! row goes through the same `request::resolve` → `schedule::build` →
//! renderer path as `taper plan`, so a batch row is byte-identical to the
//! plan's own CSV row with the id in front.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::identity;
use crate::profile::{self, Profile, ProfileDirs, StrategyKind};
use crate::render::{csv as csv_render, html, ics, json as json_render, text, Extras};
use crate::request::{resolve, PlanOptions};
use crate::schedule::{build, Plan};
use crate::terminal::escape;

pub use crate::render::csv::guard_cell;

pub mod calendars;

/// Input columns besides `id`, `profile` and `dose`, named like the flags.
pub const OPTIONAL_COLUMNS: [&str; 18] = [
    "start",
    "strategy",
    "step",
    "percent",
    "interval",
    "target",
    "doses_per_day",
    "strengths",
    "form",
    "schedule",
    "occupancy_step",
    "patient",
    "plan_id",
    "final_hold",
    "market",
    "switch_to",
    "switch_interval",
    "supply",
];
pub const REQUIRED_COLUMNS: [&str; 3] = ["id", "profile", "dose"];

pub const SUMMARY_COLUMNS: [&str; 12] = [
    "id",
    "profile",
    "start_dose",
    "target",
    "unit",
    "strategy",
    "start",
    "end",
    "days",
    "steps",
    "warnings",
    "dispense",
];

/// Rows per chunk: enough to keep both cores busy, few enough that the
/// chunks in flight stay small even for year-long plans.
const CHUNK_ROWS: usize = 64;

/// The longest request record (the header or one row, line breaks inside
/// quoted fields included, the record's own line ending not), in bytes.
/// Fields are bounded by it too. A longer row is skipped as a bad row
/// without being held in memory.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Most profiles (or refusals of a profile name) a batch keeps at once; the
/// least recently used one makes room for a new name.
pub const PROFILE_CACHE_CAPACITY: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchFormat {
    Csv,
    Jsonl,
    /// One FHIR R4 Bundle per row, one per line (ndjson).
    Fhir,
    /// One calendar file per row in [`BatchConfig::out_dir`].
    Ics,
    Html,
}

impl BatchFormat {
    /// The file extension of a per-row calendar format.
    pub fn calendar_extension(self) -> Option<&'static str> {
        match self {
            BatchFormat::Ics => Some("ics"),
            BatchFormat::Html => Some("html"),
            BatchFormat::Csv | BatchFormat::Jsonl | BatchFormat::Fhir => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchView {
    Days,
    Summary,
    /// One row per fill and product (`--supply`).
    Fills,
}

/// Everything `taper batch` needs, resolved from the command line.
#[derive(Clone, Debug)]
pub struct BatchConfig {
    /// `None` reads standard input.
    pub input: Option<PathBuf>,
    pub format: BatchFormat,
    pub view: BatchView,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub strict: bool,
    /// `--bom`, `--ascii` (CSV only).
    pub csv: csv_render::CsvOptions,
    /// Defaults for every row; a non-empty cell overrides.
    pub defaults: RowDefaults,
    /// ics/html: the folder that gets one file per row (required for
    /// them, refused for csv/jsonl).
    pub out_dir: Option<PathBuf>,
    /// `-q`: no disclaimer note, summary line or list of written files.
    pub quiet: bool,
}

/// Flag values applied to every row.
#[derive(Clone, Debug, Default)]
pub struct RowDefaults {
    pub start: Option<String>,
    pub strategy: Option<StrategyKind>,
    pub step: Option<String>,
    pub percent: Option<String>,
    pub interval: Option<String>,
    pub target: Option<String>,
    pub doses_per_day: Option<String>,
    pub strengths: Option<String>,
    pub form: Option<String>,
    pub schedule: Option<String>,
    pub occupancy_step: Option<String>,
    pub final_hold: Option<String>,
    pub market: Option<String>,
    pub switch_to: Option<String>,
    pub switch_interval: Option<String>,
    pub supply: Option<String>,
}

/// What a run did: rows planned and rows skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub planned: u64,
    pub skipped: u64,
}

/// Where each column sits in the input.
#[derive(Clone, Debug)]
struct Columns {
    index: HashMap<&'static str, usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Columns> {
        let mut index = HashMap::new();
        for (i, raw) in header.iter().enumerate() {
            let name = raw
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase();
            let known = REQUIRED_COLUMNS
                .iter()
                .chain(OPTIONAL_COLUMNS.iter())
                .find(|c| **c == name);
            let Some(&known) = known else {
                return Err(Error::Usage(format!(
                    "unknown column '{}' in the request header (accepted: {}, {})",
                    escape(raw),
                    REQUIRED_COLUMNS.join(", "),
                    OPTIONAL_COLUMNS.join(", ")
                )));
            };
            if index.insert(known, i).is_some() {
                return Err(Error::Usage(format!(
                    "column '{known}' appears twice in the request header"
                )));
            }
        }
        for r in REQUIRED_COLUMNS {
            if !index.contains_key(r) {
                return Err(Error::Usage(format!(
                    "the request header has no '{r}' column (required: {})",
                    REQUIRED_COLUMNS.join(", ")
                )));
            }
        }
        Ok(Columns { index })
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        let i = *self.index.get(name)?;
        record.get(i).map(str::trim).filter(|s| !s.is_empty())
    }
}

/// A profile, or the row message that refusing its name gives (shared: a
/// thousand rows naming one bad profile cost one short string).
pub type Loaded = std::result::Result<Arc<Profile>, Arc<str>>;

/// The profiles a batch has loaded, by the name (or path) a row gives: at
/// most `capacity` of them, successes and failures alike; a new name evicts
/// the least recently used one. Where profiles come from is the `loader`
/// closure's business alone, so a profile catalog replaces
/// [`profile::load`] in one line.
pub struct ProfileCache<L> {
    loader: L,
    capacity: usize,
    /// Name → (what loading it gave, when it was last used).
    entries: HashMap<String, (Loaded, u64)>,
    clock: u64,
}

impl<L, P> ProfileCache<L>
where
    L: FnMut(&str) -> Result<P>,
    P: Into<Arc<Profile>>,
{
    pub fn new(capacity: usize, loader: L) -> ProfileCache<L> {
        ProfileCache {
            loader,
            capacity: capacity.max(1),
            entries: HashMap::with_capacity(capacity.max(1)),
            clock: 0,
        }
    }

    /// The profile `name` names, loading it unless it is cached.
    pub fn get(&mut self, name: &str) -> Loaded {
        self.clock += 1;
        if let Some((loaded, used)) = self.entries.get_mut(name) {
            *used = self.clock;
            return loaded.clone();
        }
        let loaded: Loaded = match (self.loader)(name) {
            Ok(p) => Ok(p.into()),
            Err(e) => Err(profile_problem(name, &e).into()),
        };
        if self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.entries
            .insert(name.to_string(), (loaded.clone(), self.clock));
        loaded
    }

    /// Names held now (never more than the capacity).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The row message for a profile that could not be loaded: one short line
/// that never repeats a word of a file that is not a profile (a row may
/// name any file: its content stays private, only `taper profiles check`
/// shows located errors).
pub fn profile_problem(name: &str, e: &Error) -> String {
    let invalid = || {
        if profile::looks_like_path(name) {
            format!(
                "profile file {name} is not a valid taper profile (check it with `taper profiles check {name}`)"
            )
        } else {
            format!(
                "profile '{name}' is not a valid taper profile (`taper profiles` shows its file; check it with `taper profiles check FILE`)"
            )
        }
    };
    match e {
        Error::InvalidProfile(_) => invalid(),
        // Not UTF-8 says something of the content: the same words as any
        // other non-profile.
        Error::ProfileRead { message, .. } if message.contains("UTF-8") => invalid(),
        Error::ProfileRead { path, message } | Error::ProfileIo { path, message } => {
            format!("cannot read profile file {path}: {message}")
        }
        other => one_line(other),
    }
}

/// One input row, parsed enough to plan.
struct Row {
    line: u64,
    fields: RowFields,
    profile: Option<Loaded>,
    /// The `switch_to` cell's profile (or the `--switch-to` default's).
    switch_to: Option<Loaded>,
}

/// The fields of one request, read by name: a batch row's cells, or the
/// members of a JSON object posted to `taper serve`. Both read them here,
/// so both refuse a bad value with the same words.
#[derive(Clone, Debug, Default)]
pub struct RowFields {
    /// The `id` cell (empty when not given).
    pub id: String,
    /// The `profile` cell: a name (or, in a batch, a path).
    pub profile: Option<String>,
    pub patient: Option<String>,
    /// The `plan_id` cell (checked), if any.
    pub plan_id: Option<String>,
    /// Every plan option, as text; `switch_to` names the second profile.
    pub opts: PlanOptions,
    /// The first problem found while reading the fields themselves.
    pub problem: Option<String>,
}

/// A planned (or refused) row, ready to write.
struct Done {
    line: u64,
    id: String,
    result: std::result::Result<Vec<u8>, String>,
}

enum Message {
    /// The header is valid; rows follow.
    Ready,
    Chunk(Vec<Done>),
    Fatal(Error),
}

fn cell(value: Option<&str>, default: &Option<String>) -> Option<String> {
    value.map(str::to_string).or_else(|| default.clone())
}

pub fn one_line(e: &Error) -> String {
    e.to_string().lines().collect::<Vec<_>>().join("; ")
}

/// Reads a request's fields through `get` (a trimmed, non-empty value by
/// field name), with `defaults` for fields not given. `require_id`: a batch
/// row needs its id; a request to the server does not.
pub fn read_fields<'v>(
    get: impl Fn(&str) -> Option<&'v str>,
    defaults: &RowDefaults,
    require_id: bool,
) -> RowFields {
    let id = get("id").unwrap_or("").to_string();
    let mut problem = None;
    if require_id && id.is_empty() {
        problem = Some("id is empty (every row needs an id)".to_string());
    }
    let strategy = match get("strategy") {
        None => defaults.strategy,
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "linear" => Some(StrategyKind::Linear),
            "percent" => Some(StrategyKind::Percent),
            "hyperbolic" => Some(StrategyKind::Hyperbolic),
            "custom" => Some(StrategyKind::Custom),
            _ => {
                problem.get_or_insert(format!(
                    "strategy '{s}' is not valid (accepted: linear, percent, hyperbolic, custom)"
                ));
                None
            }
        },
    };
    let profile = get("profile").map(str::to_string);
    if profile.is_none() {
        problem.get_or_insert("profile is empty (every row needs a profile name)".to_string());
    }
    let dose = get("dose").unwrap_or("").to_string();
    if dose.is_empty() {
        problem.get_or_insert(
            "dose is empty (every row needs the current daily dose, e.g. 60mg)".to_string(),
        );
    }
    let opts = PlanOptions {
        dose,
        start: cell(get("start"), &defaults.start),
        strategy,
        step: cell(get("step"), &defaults.step),
        percent: cell(get("percent"), &defaults.percent),
        occupancy_step: cell(get("occupancy_step"), &defaults.occupancy_step),
        schedule: cell(get("schedule"), &defaults.schedule),
        interval: cell(get("interval"), &defaults.interval),
        target: cell(get("target"), &defaults.target),
        doses_per_day: cell(get("doses_per_day"), &defaults.doses_per_day),
        strengths: cell(get("strengths"), &defaults.strengths),
        form: cell(get("form"), &defaults.form),
        final_hold: cell(get("final_hold"), &defaults.final_hold),
        market: cell(get("market"), &defaults.market),
        switch_to: cell(get("switch_to"), &defaults.switch_to),
        switch_interval: cell(get("switch_interval"), &defaults.switch_interval),
        supply: cell(get("supply"), &defaults.supply),
    };
    let patient = get("patient").map(str::to_string);
    let plan_id = get("plan_id").map(str::to_string);
    if let Some(e) = patient
        .as_deref()
        .and_then(|p| identity::check_patient("patient", p).err())
        .or_else(|| {
            plan_id
                .as_deref()
                .and_then(|i| identity::check_plan_id("plan_id", i).err())
        })
    {
        problem.get_or_insert(e);
    }
    RowFields {
        id,
        profile,
        patient,
        plan_id,
        opts,
        problem,
    }
}

impl RowFields {
    /// The second profile's name, when the request switches drugs.
    pub fn switch_to(&self) -> Option<&str> {
        self.opts
            .switch_to
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

/// Plans a request whose profiles are loaded, by the same path as
/// `taper plan`, and gives the extras its renderers need (the patient, and
/// the plan id: the given one, or the default derived with the row id).
pub fn plan_fields(
    profile: Arc<Profile>,
    switch_to: Option<Arc<Profile>>,
    fields: &RowFields,
    today: NaiveDate,
) -> Result<(Plan, Extras)> {
    let mut plan = match switch_to {
        Some(to) => crate::switch::build(profile, to, &fields.opts, today),
        None => resolve(profile, &fields.opts, today).and_then(|req| build(&req)),
    }?;
    // What `taper adjust --id` needs to rebuild the row's plan.
    crate::revision::record(&mut plan, &fields.opts, None);
    let row_id = Some(fields.id.as_str()).filter(|i| !i.is_empty());
    let extras = Extras {
        patient: fields.patient.clone(),
        // The row id is part of the default, so two rows never share one.
        plan_id: Some(identity::plan_id_or_default(
            fields.plan_id.as_deref(),
            &plan,
            fields.patient.as_deref(),
            row_id,
        )),
        ..Extras::default()
    };
    Ok((plan, extras))
}

fn parse_row<L, P>(
    line: u64,
    record: &csv::StringRecord,
    cols: &Columns,
    defaults: &RowDefaults,
    profiles: &mut ProfileCache<L>,
) -> Row
where
    L: FnMut(&str) -> Result<P>,
    P: Into<Arc<Profile>>,
{
    let fields = read_fields(|name| cols.get(record, name), defaults, true);
    let profile = fields.profile.as_deref().map(|name| profiles.get(name));
    let switch_to = fields.switch_to().map(|name| profiles.get(name));
    Row {
        line,
        fields,
        profile,
        switch_to,
    }
}

/// Plans one row and renders it; errors carry the plan's own message.
fn plan_row(
    row: &Row,
    today: NaiveDate,
    format: BatchFormat,
    view: BatchView,
    csv: csv_render::CsvOptions,
) -> std::result::Result<Vec<u8>, String> {
    if let Some(p) = &row.fields.problem {
        return Err(p.clone());
    }
    if format.calendar_extension().is_some() {
        calendars::check_id(&row.fields.id)?;
    }
    let profile = match &row.profile {
        Some(Ok(p)) => Arc::clone(p),
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("profile is empty".into()),
    };
    let switch_to = match &row.switch_to {
        Some(Ok(to)) => Some(Arc::clone(to)),
        Some(Err(e)) => return Err(e.to_string()),
        None => None,
    };
    let (plan, extras) =
        plan_fields(profile, switch_to, &row.fields, today).map_err(|e| one_line(&e))?;
    render_row(&plan, &row.fields.id, &extras, format, view, csv).map_err(|e| one_line(&e))
}

fn render_row(
    plan: &Plan,
    id: &str,
    extras: &Extras,
    format: BatchFormat,
    view: BatchView,
    csv: csv_render::CsvOptions,
) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(8 * 1024);
    match (format, view) {
        (BatchFormat::Jsonl, _) => {
            json_render::write_line(plan, id, extras, &mut buf)?;
        }
        (BatchFormat::Fhir, _) => crate::render::fhir::write_line(plan, id, extras, &mut buf)?,
        (BatchFormat::Ics, _) => ics::write(plan, extras, &mut buf)?,
        (BatchFormat::Html, _) => html::write(plan, extras, &mut buf)?,
        (BatchFormat::Csv, BatchView::Days) => {
            // The id is guarded there with every other text cell.
            csv_render::write_day_rows_with(plan, &[id], csv, &mut buf);
        }
        (BatchFormat::Csv, BatchView::Fills) => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(&mut buf);
            // The id is guarded with every other text cell.
            let id = csv.text(id);
            for row in csv_render::fill_rows(plan, csv) {
                w.write_record(std::iter::once(id.as_ref()).chain(row.iter().map(String::as_str)))
                    .map_err(csv_render::map_err)?;
            }
            w.flush()?;
        }
        (BatchFormat::Csv, BatchView::Summary) => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(&mut buf);
            let r = &plan.request;
            // Text cells (id, profile name, unit, dispense) are guarded; the
            // rest are numbers, dates and fixed words.
            // A switch row: `lorazepam to diazepam`, from the dose given.
            let (name, start_dose) = match &plan.switch {
                Some(sw) => (
                    format!("{} to {}", sw.from.name, plan.profile.name),
                    sw.dose,
                ),
                None => (plan.profile.name.clone(), r.start_dose),
            };
            w.write_record([
                csv.text(id).as_ref(),
                csv.text(&name).as_ref(),
                start_dose.to_string().as_str(),
                r.target.to_string().as_str(),
                csv.text(&plan.profile.unit).as_ref(),
                r.strategy.kind().as_str(),
                r.start.to_string().as_str(),
                r.end.to_string().as_str(),
                plan.days.len().to_string().as_str(),
                plan.steps.len().to_string().as_str(),
                plan.warnings.len().to_string().as_str(),
                csv.text(&text::dispense_lines(plan).join("; ")).as_ref(),
            ])
            .map_err(csv_render::map_err)?;
            w.flush()?;
        }
    }
    Ok(buf)
}

fn open_input(input: &Option<PathBuf>) -> Result<Box<dyn Read + Send>> {
    match input {
        None => Ok(Box::new(std::io::stdin())),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| Error::Read {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            Ok(Box::new(f))
        }
    }
}

/// One record found by [`Records`]: the line it starts on and whether it was
/// too long (then none of it was kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RawRecord {
    line: u64,
    too_long: bool,
}

/// Reads CSV records with `csv_core` (the parser inside the `csv` crate, so
/// the dialect is the same: `"` quotes, `\n`, `\r` or `\r\n` ends a record,
/// blank lines are skipped), keeping at most [`MAX_RECORD_BYTES`] of input
/// per record: a longer one is parsed through to its true end, so the next
/// record starts exactly where it should, but never held. `csv_core` writes
/// into buffers we own, which is what bounds the memory; line numbers count
/// `\n` bytes (so CRLF input numbers lines as editors do).
struct Records<R> {
    inner: R,
    parser: csv_core::Reader,
    /// `\n` bytes passed.
    newlines: u64,
    limit: usize,
    /// The current record's field bytes, unquoted and end to end, and where
    /// each field ends in them.
    fields: Vec<u8>,
    ends: Vec<usize>,
}

impl<R: BufRead> Records<R> {
    fn new(inner: R, limit: usize) -> Records<R> {
        Records {
            inner,
            parser: csv_core::Reader::new(),
            newlines: 0,
            limit,
            fields: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Skips the line endings between records (blank lines included);
    /// false at the end of the input.
    fn skip_line_endings(&mut self) -> std::io::Result<bool> {
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                return Ok(false);
            }
            let skip = chunk
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(chunk.len());
            self.newlines += chunk[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
            let more = skip == chunk.len();
            self.inner.consume(skip);
            if !more {
                return Ok(true);
            }
        }
    }

    /// The most either buffer grows to: a record within the limit has at
    /// most `limit` bytes of fields and `limit + 1` fields, and `csv_core`
    /// asks for room one step ahead, so a full buffer this size means the
    /// record is longer than the limit.
    fn room(&self) -> usize {
        self.limit.saturating_add(2)
    }

    /// Reads the next record; `None` at the end of the input.
    fn next_record(&mut self) -> std::io::Result<Option<RawRecord>> {
        use csv_core::ReadRecordResult as Got;
        if !self.skip_line_endings()? {
            return Ok(None);
        }
        let line = self.newlines + 1;
        let (mut nout, mut nend, mut read) = (0usize, 0usize, 0usize);
        self.fields
            .resize(self.fields.len().max(1024).min(self.room()), 0);
        self.ends
            .resize(self.ends.len().max(16).min(self.room()), 0);
        // Where a too-long record's bytes go: parsed, never kept.
        let (mut spill, mut spill_ends) = ([0u8; 1024], [0usize; 64]);
        let mut too_long = false;
        loop {
            let input = self.inner.fill_buf()?;
            let (got, nin, out, end) = if too_long {
                self.parser.read_record(input, &mut spill, &mut spill_ends)
            } else {
                self.parser
                    .read_record(input, &mut self.fields[nout..], &mut self.ends[nend..])
            };
            let taken = &input[..nin];
            self.newlines += taken.iter().filter(|&&b| b == b'\n').count() as u64;
            // The record's own line ending is not part of its length.
            let ending = usize::from(
                got == Got::Record && taken.last().is_some_and(|&b| b == b'\n' || b == b'\r'),
            );
            read = read.saturating_add(nin - ending);
            self.inner.consume(nin);
            nout += out;
            nend += end;
            if !too_long && read > self.limit {
                too_long = true;
            }
            match got {
                Got::Record | Got::End => break,
                Got::InputEmpty => {}
                // Output never outgrows input, so a full buffer at the
                // limit means the record is longer than the limit.
                Got::OutputFull if !too_long => {
                    let grown = (self.fields.len() * 2).min(self.room());
                    too_long = grown == self.fields.len();
                    self.fields.resize(grown, 0);
                }
                Got::OutputEndsFull if !too_long => {
                    let grown = (self.ends.len() * 2).min(self.room());
                    too_long = grown == self.ends.len();
                    self.ends.resize(grown, 0);
                }
                Got::OutputFull | Got::OutputEndsFull => {}
            }
        }
        if too_long {
            self.fields.clear();
            self.ends.clear();
        } else {
            self.fields.truncate(nout);
            self.ends.truncate(nend);
        }
        Ok(Some(RawRecord { line, too_long }))
    }

    /// The fields of the record just read, as text.
    fn record(&self, record: &mut csv::StringRecord) -> std::result::Result<(), String> {
        record.clear();
        let mut start = 0;
        for &end in &self.ends {
            let field = std::str::from_utf8(&self.fields[start..end])
                .map_err(|_| "not valid UTF-8".to_string())?;
            record.push_field(field);
            start = end;
        }
        Ok(())
    }
}

fn too_long_message(what: &str) -> String {
    format!(
        "{what} is longer than {MAX_RECORD_BYTES} bytes (the limit for one record of the request CSV)"
    )
}

/// Reads, plans and sends chunks; runs on its own thread.
fn produce(
    input: Box<dyn Read + Send>,
    config: BatchConfig,
    catalog: profile::ProfileCatalog,
    today: NaiveDate,
    tx: std::sync::mpsc::SyncSender<Message>,
) {
    let fatal = |e: Error| {
        let _ = tx.send(Message::Fatal(e));
    };
    let mut records = Records::new(
        BufReader::with_capacity(256 * 1024, input),
        MAX_RECORD_BYTES,
    );
    let mut record = csv::StringRecord::new();
    match records.next_record() {
        Err(e) => return fatal(Error::Io(e)),
        Ok(Some(r)) if r.too_long => {
            return fatal(Error::Usage(too_long_message("the request header")))
        }
        Ok(Some(_)) => {
            if let Err(e) = records.record(&mut record) {
                return fatal(Error::Usage(format!("cannot read the request header: {e}")));
            }
        }
        Ok(None) => {}
    }
    let cols = match Columns::from_header(&record) {
        Ok(c) => c,
        Err(e) => return fatal(e),
    };
    let width = record.len();
    if tx.send(Message::Ready).is_err() {
        return;
    }
    // The one place that says where profiles come from.
    let mut profiles = ProfileCache::new(PROFILE_CACHE_CAPACITY, |name: &str| catalog.load(name));
    loop {
        let mut rows = Vec::with_capacity(CHUNK_ROWS);
        while rows.len() < CHUNK_ROWS {
            let found = match records.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return fatal(Error::Io(e)),
            };
            let problem = if found.too_long {
                Some(too_long_message("the row"))
            } else {
                match records.record(&mut record) {
                    Err(e) => Some(format!("malformed CSV: {e}")),
                    Ok(()) if record.len() != width => Some(format!(
                        "malformed CSV: {} fields where the header has {width}",
                        record.len()
                    )),
                    Ok(()) => None,
                }
            };
            rows.push(match problem {
                None => parse_row(found.line, &record, &cols, &config.defaults, &mut profiles),
                Some(message) => Row {
                    line: found.line,
                    fields: RowFields {
                        problem: Some(message),
                        ..RowFields::default()
                    },
                    profile: None,
                    switch_to: None,
                },
            });
        }
        if rows.is_empty() {
            return;
        }
        let last = rows.len() < CHUNK_ROWS;
        let done: Vec<Done> = rows
            .par_iter()
            .map(|row| Done {
                line: row.line,
                id: row.fields.id.clone(),
                result: plan_row(row, today, config.format, config.view, config.csv),
            })
            .collect();
        if tx.send(Message::Chunk(done)).is_err() || last {
            return;
        }
    }
}

/// Refuses option combinations that cannot work, before reading anything.
fn check_options(config: &BatchConfig) -> Result<()> {
    match (config.format.calendar_extension(), &config.out_dir, &config.output) {
        (Some(ext), None, _) => Err(Error::Usage(format!(
            "--format {ext} writes one file per row and needs --out-dir DIR (accepted: --format {ext} --out-dir DIR; csv and jsonl write one stream)"
        ))),
        (Some(ext), Some(_), Some(_)) => Err(Error::Usage(format!(
            "-o does not apply to --format {ext}, which writes one file per row into --out-dir"
        ))),
        (None, Some(_), _) => Err(Error::Usage(
            "--out-dir applies only to --format ics and --format html (csv and jsonl write one stream: use -o FILE)".into(),
        )),
        _ => Ok(()),
    }
}

/// Runs a batch, writing plans to `stdout` (or `-o`, or one file per row
/// in `--out-dir`) and per-row problems to `stderr`. Returns the counts;
/// the caller maps skipped rows to exit 3.
pub fn run(
    config: BatchConfig,
    dirs: &ProfileDirs,
    today: NaiveDate,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<BatchOutcome> {
    check_options(&config)?;
    if let Some(path) = &config.output {
        crate::output::check_target(path, config.force)?;
    }
    // Refuse defaults that could never work before reading anything.
    if let Some(s) = &config.defaults.start {
        crate::request::parse_date(s)?;
    }
    if let Some(i) = &config.defaults.interval {
        crate::dose::parse_interval(i).map_err(Error::Usage)?;
    }
    let input = open_input(&config.input)?;
    // The profile folders are read once for the whole batch.
    let catalog = profile::ProfileCatalog::scan(dirs);
    for (name, path) in catalog.shadowed_builtins() {
        if !config.quiet {
            writeln!(
                stderr,
                "note: the user profile {} replaces the built-in profile '{name}'",
                path.display()
            )?;
        }
    }
    // Where bytes go: the output file's temporary twin, a spool file for a
    // strict run to stdout (nothing is shown unless every row is good),
    // stdout itself, or a folder of calendar files.
    let mut sink: Sink = match (&config.out_dir, &config.output, config.strict) {
        (Some(dir), _, _) => {
            let ext = config.format.calendar_extension().unwrap_or("ics");
            Sink::Folder(calendars::Folder::open(dir, ext, config.force)?)
        }
        (None, Some(path), _) => Sink::File(crate::output::AtomicFile::create(path)?),
        (None, None, true) => Sink::Spool(tempfile::tempfile().map_err(Error::Io)?),
        (None, None, false) => Sink::Stdout,
    };
    let (tx, rx) = sync_channel::<Message>(2);
    let producer = {
        let config = config.clone();
        std::thread::spawn(move || produce(input, config, catalog, today, tx))
    };
    let result = consume(&config, rx, &mut sink, stdout, stderr);
    // Wait for the reader; it ends as soon as the channel closes.
    let _ = producer.join();
    let outcome = result?;
    match sink {
        Sink::File(f) => f.persist(config.force)?,
        Sink::Spool(mut f) => {
            use std::io::{Seek, SeekFrom};
            f.seek(SeekFrom::Start(0))?;
            std::io::copy(&mut f, stdout)?;
        }
        Sink::Stdout => {}
        Sink::Folder(folder) => {
            for path in folder.commit()? {
                if !config.quiet {
                    writeln!(stdout, "{}", escape(&path.display().to_string()))?;
                }
            }
        }
    }
    stdout.flush()?;
    Ok(outcome)
}

enum Sink {
    File(crate::output::AtomicFile),
    Spool(std::fs::File),
    Stdout,
    Folder(calendars::Folder),
}

fn consume(
    config: &BatchConfig,
    rx: Receiver<Message>,
    sink: &mut Sink,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<BatchOutcome> {
    let mut spool_writer;
    let mut nowhere = std::io::sink();
    let (out, mut folder): (&mut dyn Write, Option<&mut calendars::Folder>) = match sink {
        Sink::File(f) => (f.writer(), None),
        Sink::Spool(f) => {
            spool_writer = std::io::BufWriter::with_capacity(256 * 1024, f);
            (&mut spool_writer, None)
        }
        Sink::Stdout => (stdout, None),
        Sink::Folder(d) => (&mut nowhere, Some(d)),
    };
    let mut outcome = BatchOutcome::default();
    for message in rx {
        let chunk = match message {
            // Only a valid header gets the output header: a bad one leaves
            // the output empty.
            Message::Ready => {
                write_header(config, out)?;
                continue;
            }
            Message::Chunk(c) => c,
            Message::Fatal(e) => return Err(e),
        };
        for done in chunk {
            let result = match (done.result, folder.as_deref_mut()) {
                (Ok(bytes), Some(folder)) => folder.add(done.line, &done.id, &bytes)?,
                (Ok(bytes), None) => {
                    out.write_all(&bytes)?;
                    Ok(())
                }
                (Err(message), _) => Err(message),
            };
            match result {
                Ok(()) => outcome.planned += 1,
                Err(message) => {
                    skip_row(config, done.line, &done.id, &message, stderr)?;
                    outcome.skipped += 1;
                }
            }
        }
    }
    out.flush()?;
    if config.quiet {
        return Ok(outcome);
    }
    if config.format == BatchFormat::Csv {
        writeln!(stderr, "note: {}", crate::schedule::DISCLAIMER)?;
    }
    writeln!(
        stderr,
        "taper batch: planned {} row(s), skipped {}",
        outcome.planned, outcome.skipped
    )?;
    Ok(outcome)
}

/// Reports a bad row on stderr, or stops the run with it under `--strict`.
fn skip_row(
    config: &BatchConfig,
    line: u64,
    id: &str,
    message: &str,
    stderr: &mut dyn Write,
) -> Result<()> {
    // One line, and no control character from the row (its id, or a cell
    // the message quotes) reaches the terminal.
    let id = if id.is_empty() {
        "?".into()
    } else {
        escape(id)
    };
    let report = format!("line {line} (id {id}): {}", escape(message));
    if config.strict {
        return Err(Error::Usage(report));
    }
    writeln!(stderr, "{report}")?;
    Ok(())
}

fn write_header(config: &BatchConfig, out: &mut dyn Write) -> Result<()> {
    if config.format == BatchFormat::Csv {
        out.write_all(config.csv.preamble())?;
    }
    match (config.format, config.view) {
        (BatchFormat::Csv, BatchView::Days) => {
            out.write_all(b"id,")?;
            out.write_all(csv_render::DAY_COLUMNS.join(",").as_bytes())?;
            out.write_all(b"\n")?;
        }
        (BatchFormat::Csv, BatchView::Summary) => {
            out.write_all(SUMMARY_COLUMNS.join(",").as_bytes())?;
            out.write_all(b"\n")?;
        }
        (BatchFormat::Csv, BatchView::Fills) => {
            out.write_all(b"id,")?;
            out.write_all(csv_render::FILL_COLUMNS.join(",").as_bytes())?;
            out.write_all(b"\n")?;
        }
        (BatchFormat::Jsonl | BatchFormat::Fhir | BatchFormat::Ics | BatchFormat::Html, _) => {}
    }
    Ok(())
}

/// Reads a path argument: `-` means standard input.
pub fn input_path(arg: &str) -> Option<PathBuf> {
    (arg != "-").then(|| Path::new(arg).to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_formula_cells() {
        assert_eq!(guard_cell("=cmd()"), "'=cmd()");
        assert_eq!(guard_cell("+1"), "'+1");
        assert_eq!(guard_cell("-1"), "'-1");
        assert_eq!(guard_cell("@x"), "'@x");
        assert_eq!(guard_cell("\tx"), "'\tx");
        assert_eq!(guard_cell("p-001"), "p-001");
    }

    #[test]
    fn header_checks() {
        let h = csv::StringRecord::from(vec!["\u{feff}id", "Profile", "dose", "interval"]);
        assert!(Columns::from_header(&h).is_ok());
        let h = csv::StringRecord::from(vec!["id", "profile", "dose", "colour"]);
        assert!(Columns::from_header(&h)
            .unwrap_err()
            .to_string()
            .contains("colour"));
        let h = csv::StringRecord::from(vec!["id", "dose"]);
        assert!(Columns::from_header(&h)
            .unwrap_err()
            .to_string()
            .contains("profile"));
    }

    fn unknown(name: &str) -> Error {
        Error::UnknownProfile {
            name: name.to_string(),
            known: (0..10).map(|i| format!("p{i:03}")).collect(),
            more: 90,
            suggestion: None,
        }
    }

    #[test]
    fn the_profile_cache_never_holds_more_than_its_capacity() {
        let mut loads = 0;
        let mut cache = ProfileCache::new(PROFILE_CACHE_CAPACITY, |name: &str| {
            loads += 1;
            Err::<Profile, _>(unknown(name))
        });
        for i in 0..10_000 {
            let got = cache.get(&format!("nosuch{i}"));
            assert!(got.is_err());
            assert!(cache.len() <= PROFILE_CACHE_CAPACITY, "{}", cache.len());
        }
        assert_eq!(cache.len(), PROFILE_CACHE_CAPACITY);
        drop(cache);
        // Every name was new: each was loaded once.
        assert_eq!(loads, 10_000);
    }

    #[test]
    fn the_profile_cache_evicts_the_least_recently_used() {
        let loads = std::cell::RefCell::new(Vec::new());
        let mut cache = ProfileCache::new(3, |name: &str| {
            loads.borrow_mut().push(name.to_string());
            profile::load(name, &ProfileDirs::default())
        });
        for name in ["baclofen", "diazepam", "nosuch", "baclofen", "sertraline"] {
            let _ = cache.get(name);
        }
        // `diazepam` was the least recently used when `sertraline` came.
        assert_eq!(cache.len(), 3);
        let _ = cache.get("baclofen");
        let _ = cache.get("nosuch");
        assert_eq!(
            *loads.borrow(),
            ["baclofen", "diazepam", "nosuch", "sertraline"]
        );
        let _ = cache.get("diazepam");
        assert_eq!(loads.borrow().len(), 5);
        assert!(cache.get("baclofen").is_ok());
        assert!(cache.get("nosuch").is_err());
    }

    #[test]
    fn profile_messages_are_short_and_keep_files_private() {
        let m = profile_problem("nosuch", &unknown("nosuch"));
        assert!(m.starts_with("unknown profile 'nosuch' (known profiles: p000, "));
        assert!(m.contains("p009 and 90 more"), "{m}");
        assert!(!m.contains("p010"), "{m}");
        let located = Error::InvalidProfile(vec![
            "/etc/shadow:1:5: expected `=`, found `:`".into(),
            "/etc/shadow:2:1: root".into(),
        ]);
        assert_eq!(
            profile_problem("/etc/shadow", &located),
            "profile file /etc/shadow is not a valid taper profile (check it with `taper profiles check /etc/shadow`)"
        );
        let binary = Error::ProfileRead {
            path: "/bin/sh".into(),
            message: "stream did not contain valid UTF-8".into(),
        };
        assert!(profile_problem("/bin/sh", &binary).contains("is not a valid taper profile"));
        let missing = Error::ProfileRead {
            path: "x/y.toml".into(),
            message: "No such file or directory (os error 2)".into(),
        };
        assert_eq!(
            profile_problem("x/y.toml", &missing),
            "cannot read profile file x/y.toml: No such file or directory (os error 2)"
        );
    }

    /// Every record of `input` as (line, too long, fields), read through a
    /// buffer of `capacity` bytes.
    fn split(input: &[u8], limit: usize, capacity: usize) -> Vec<(u64, bool, Vec<String>)> {
        let mut records = Records::new(BufReader::with_capacity(capacity, input), limit);
        let mut out = Vec::new();
        while let Some(r) = records.next_record().unwrap() {
            // Never more than the limit is held.
            assert!(records.fields.len() <= limit);
            assert!(records.ends.len() <= limit.saturating_add(1));
            let mut record = csv::StringRecord::new();
            if !r.too_long {
                records.record(&mut record).unwrap();
            }
            out.push((
                r.line,
                r.too_long,
                record.iter().map(str::to_string).collect(),
            ));
        }
        out
    }

    #[test]
    fn records_know_their_lines() {
        let input = b"id,profile\r\n\r\na,\"two\r\nlines\"\r\nb,x\n\n\"c\"\"\",\"\"\rd,y";
        for capacity in [1, 2, 7, 1024] {
            let got = split(input, 1024, capacity);
            let lines: Vec<u64> = got.iter().map(|r| r.0).collect();
            assert_eq!(lines, [1, 3, 5, 7, 7], "capacity {capacity}");
            assert_eq!(got[1].2, ["a", "two\r\nlines"]);
            assert_eq!(got[3].2, ["c\"", ""]);
            assert_eq!(got[4].2, ["d", "y"]);
        }
    }

    #[test]
    fn an_over_long_record_is_skipped_to_its_true_end() {
        // Limit 8: `a,"b\nc,d"` is 9 bytes and is one record (quoted line
        // break); the next record starts on line 3.
        let input = b"h,h\na,\"b\nc,d\"\n12345678\n123456789,\"\n\"\ne,f";
        for capacity in [1, 3, 1024] {
            let got = split(input, 8, capacity);
            assert_eq!(
                got.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(),
                [(1, false), (2, true), (4, false), (5, true), (7, false)],
                "capacity {capacity}"
            );
            assert_eq!(got[2].2, ["12345678"]);
            assert_eq!(got[4].2, ["e", "f"]);
        }
    }

    proptest::proptest! {
        /// The reader finds exactly the records and fields the `csv` crate
        /// finds, and refuses exactly the records it finds not UTF-8.
        #[test]
        fn records_match_the_csv_crate(
            bytes in proptest::collection::vec(
                proptest::sample::select(
                    vec![b'a', b'b', b',', b'"', b'\n', b'\r', b' ', 0xc3, 0xa9],
                ),
                0..200,
            ),
            capacity in 1usize..16,
        ) {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes.as_slice());
            let expected: Vec<(Vec<Vec<u8>>, bool)> = reader
                .byte_records()
                .map(|r| {
                    let r = r.unwrap();
                    let fields = r.iter().map(<[u8]>::to_vec).collect();
                    (fields, csv::StringRecord::from_byte_record(r).is_ok())
                })
                .collect();
            let mut records =
                Records::new(BufReader::with_capacity(capacity, bytes.as_slice()), usize::MAX);
            let mut got = Vec::new();
            while records.next_record().unwrap().is_some() {
                let mut start = 0;
                let fields = records
                    .ends
                    .iter()
                    .map(|&end| {
                        let f = records.fields[start..end].to_vec();
                        start = end;
                        f
                    })
                    .collect();
                let text = records.record(&mut csv::StringRecord::new()).is_ok();
                got.push((fields, text));
            }
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
