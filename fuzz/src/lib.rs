//! Shared by the fuzz targets: the engine-rule checker, rendering a plan in
//! every format and view with checks on each output, and the small text
//! format the request targets read their options from.
//!
//! The rule checker is the test suite's own independent one
//! (`tests/common/mod.rs`), compiled in here unchanged, so the fuzzers and
//! the property tests hold the engine to the same rules.

use chrono::NaiveDate;
use taper::profile::Profile;
use taper::render::{self, Extras, Format, View};
use taper::request::PlanOptions;
use taper::schedule::Plan;

// Nightly clippy's newer lints are not this crate's to fix there.
#[allow(clippy::manual_is_multiple_of)]
#[path = "../../tests/common/mod.rs"]
pub mod rules;

/// The fixed "today" every target plans from (the library never reads the
/// clock; a fixed date keeps every input reproducible).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

/// Checks every engine rule on an `Ok` plan, among them the ones issue 8
/// names: the daily dose never rises, the administrations of each step add
/// up to its dose and are made of the products, and the last day is the
/// target (0 for a stop).
pub fn check_rules(profile: &Profile, plan: &Plan) {
    // The three named invariants, stated here plainly (the checker below
    // checks them too, with more).
    // A rest day of an every-N-days step takes nothing: the dose days
    // alone never rise.
    let dose_days: Vec<_> = plan.days.iter().filter(|d| !d.rest_day).collect();
    for w in dose_days.windows(2) {
        assert!(w[1].daily_dose <= w[0].daily_dose, "the daily dose rose");
    }
    for s in &plan.steps {
        let sum: u128 = s
            .administrations
            .iter()
            .map(|a| u128::from(a.amount.micro()))
            .sum();
        assert_eq!(
            sum,
            u128::from(s.daily_dose.micro()),
            "step {}: administrations do not add up",
            s.step
        );
        for a in &s.administrations {
            assert_eq!(
                rules::delivered(plan, &a.portions),
                u128::from(a.amount.micro()),
                "step {}: the portions do not make the amount",
                s.step
            );
        }
    }
    let last = plan.steps.last().expect("a plan has steps");
    assert_eq!(
        last.daily_dose, plan.request.target,
        "last step is not the target"
    );
    assert!(last.is_final);
    rules::check_plan(profile, plan);
    rules::check_no_silent_stop(profile, plan);
}

/// Renders `plan` in every format and view into memory and checks what
/// each output must be. Rendering to a `Vec` never fails for I/O reasons,
/// so any `Err` is a finding.
pub fn render_all(plan: &Plan, extras: &Extras) {
    for format in [
        Format::Table,
        Format::Csv,
        Format::Json,
        Format::Ics,
        Format::Html,
        Format::Fhir,
    ] {
        for view in [View::Steps, View::Days, View::Fills] {
            // Colour only changes the table's escapes: once, in the cheap
            // steps view (the days table of a long plan is the costliest
            // render of all).
            for color in [false, true] {
                if color && (format != Format::Table || view != View::Steps) {
                    continue;
                }
                let mut out = Vec::new();
                if let Err(e) = render::render_with(plan, format, view, color, extras, &mut out) {
                    panic!("render {format:?}/{view:?} failed: {e}");
                }
                check_output(plan, format, view, &out);
            }
            // ICS, HTML and FHIR have no views.
            if matches!(format, Format::Ics | Format::Html | Format::Fhir) {
                break;
            }
        }
    }
}

fn check_output(plan: &Plan, format: Format, view: View, out: &[u8]) {
    assert!(!out.is_empty(), "{format:?}/{view:?}: empty output");
    let text =
        std::str::from_utf8(out).unwrap_or_else(|e| panic!("{format:?}/{view:?}: not UTF-8: {e}"));
    match format {
        Format::Table => {}
        Format::Csv => {
            let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(out);
            let header = r.headers().expect("CSV header").clone();
            let rows: Vec<csv::StringRecord> = r
                .records()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("CSV {view:?} does not parse: {e}"));
            match view {
                View::Days => {
                    assert_eq!(header.len(), taper::render::csv::DAY_COLUMNS.len());
                    assert_eq!(rows.len(), plan.days.len(), "one CSV row per day");
                    for (row, day) in rows.iter().zip(&plan.days) {
                        assert_eq!(&row[0], day.date.to_string().as_str());
                        assert_eq!(&row[3], day.daily_dose.to_string().as_str());
                    }
                }
                View::Fills => {
                    assert_eq!(header.len(), taper::render::csv::FILL_COLUMNS.len());
                    let lines: usize = plan.fills.iter().map(|f| f.lines.len()).sum();
                    assert_eq!(rows.len(), lines, "one CSV row per fill and product");
                }
                View::Steps => {
                    assert_eq!(header.len(), taper::render::csv::STEP_COLUMNS.len());
                    assert_eq!(rows.len(), plan.steps.len(), "one CSV row per step");
                    for (row, step) in rows.iter().zip(&plan.steps) {
                        assert_eq!(&row[4], step.daily_dose.to_string().as_str());
                    }
                }
            }
        }
        Format::Json => {
            let v: serde_json::Value = serde_json::from_slice(out)
                .unwrap_or_else(|e| panic!("JSON {view:?} does not parse: {e}"));
            assert!(v.is_object());
        }
        Format::Ics => {
            assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "ICS start");
            assert!(text.ends_with("END:VCALENDAR\r\n"), "ICS end");
            for line in text.split_terminator("\r\n") {
                assert!(
                    line.len() <= 75,
                    "ICS content line of {} octets (RFC 5545 folds at 75): {line:?}",
                    line.len()
                );
                assert!(
                    !line.contains('\n') && !line.contains('\r'),
                    "bare CR/LF in ICS"
                );
            }
        }
        Format::Html => {
            assert!(text.trim_end().ends_with("</html>"), "HTML end");
        }
        Format::Fhir => check_fhir(plan, out),
    }
}

/// A FHIR Bundle: one request per fill and product, each dispensing the
/// fill's quantity; every dosage bounded within its fill.
fn check_fhir(plan: &Plan, out: &[u8]) {
    let b: serde_json::Value = serde_json::from_slice(out).expect("FHIR is JSON");
    assert_eq!(b["resourceType"], "Bundle");
    let entries = b["entry"].as_array().expect("entries");
    let lines: Vec<_> = plan
        .fills
        .iter()
        .flat_map(|f| f.lines.iter().map(move |l| (f, l)))
        .collect();
    assert_eq!(entries.len(), lines.len(), "one request per fill and product");
    for (e, (f, l)) in entries.iter().zip(lines) {
        let r = &e["resource"];
        // The JSON number is the exact decimal (Dose's own parser caps
        // amounts at a dose's range; a fill's mL may exceed it).
        let q = r["dispenseRequest"]["quantity"]["value"].to_string();
        assert_eq!(q, l.quantity.to_string());
        for d in r["dosageInstruction"].as_array().expect("dosages") {
            let bounds = &d["timing"]["repeat"]["boundsPeriod"];
            let start = bounds["start"].as_str().expect("start");
            let end = bounds["end"].as_str().expect("end");
            assert!(start <= end && start >= f.start.to_string().as_str());
            assert!(end <= f.end.to_string().as_str());
        }
    }
}

/// Plan options and calendar extras read from `key=value` lines (unknown
/// keys and lines without `=` are ignored; a key given twice keeps the
/// last). The format is plain text so the seeds are readable and made from
/// the test fixtures.
#[derive(Debug, Default)]
pub struct TextRequest {
    pub profile: Option<String>,
    pub opts: PlanOptions,
    /// `strategy=` text that is not a strategy name (the CLI refuses it
    /// before the engine; the targets skip such inputs).
    pub bad_strategy: bool,
    pub patient: Option<String>,
    pub times: Option<String>,
}

impl TextRequest {
    /// Reads every `key=value` line; with `prefix`, only lines that start
    /// with it (and it is stripped first).
    pub fn parse(text: &str, prefix: &str) -> TextRequest {
        let mut r = TextRequest::default();
        for line in text.lines() {
            let Some(line) = line.strip_prefix(prefix) else {
                continue;
            };
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let text = v.to_string();
            let v = Some(text.clone());
            match k.trim() {
                "profile" => r.profile = v,
                "dose" => r.opts.dose = text,
                "start" => r.opts.start = v,
                "strategy" => match v.as_deref().map(str::trim) {
                    Some("linear") => r.opts.strategy = Some(taper::profile::StrategyKind::Linear),
                    Some("percent") => {
                        r.opts.strategy = Some(taper::profile::StrategyKind::Percent)
                    }
                    Some("hyperbolic") => {
                        r.opts.strategy = Some(taper::profile::StrategyKind::Hyperbolic)
                    }
                    Some("custom") => r.opts.strategy = Some(taper::profile::StrategyKind::Custom),
                    _ => r.bad_strategy = true,
                },
                "step" => r.opts.step = v,
                "percent" => r.opts.percent = v,
                "occupancy_step" => r.opts.occupancy_step = v,
                "schedule" => r.opts.schedule = v,
                "interval" => r.opts.interval = v,
                "target" => r.opts.target = v,
                "doses_per_day" => r.opts.doses_per_day = v,
                "strengths" => r.opts.strengths = v,
                "form" => r.opts.form = v,
                "final_hold" => r.opts.final_hold = v,
                "market" => r.opts.market = v,
                "switch_to" => r.opts.switch_to = v,
                "switch_interval" => r.opts.switch_interval = v,
                "supply" => r.opts.supply = v,
                "patient" => r.patient = v,
                "times" => r.times = v,
                _ => {}
            }
        }
        r
    }
}

/// Resolves, builds, checks and renders one request against `profile`.
/// Refusals must be exit-2 errors with a message; anything else is a
/// finding.
pub fn plan_and_check(profile: Profile, req: &TextRequest) {
    let profile = std::sync::Arc::new(profile);
    if let Some(to) = req.opts.switch_to.as_deref().filter(|t| !t.trim().is_empty()) {
        return switch_and_check(profile, to, req);
    }
    let request = match taper::request::resolve(profile.clone(), &req.opts, today()) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let plan = match taper::schedule::build(&request) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    check_rules(&profile, &plan);
    let times = match &req.times {
        Some(t) => match taper::parse_times(t, plan.request.doses_per_day) {
            Ok(t) => t,
            Err(e) => {
                refused(e);
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let extras = Extras {
        patient: req.patient.clone(),
        times,
        ..Extras::default()
    };
    render_all(&plan, &extras);
}

/// A switch plan (`switch_to=`, a built-in name only): no day gives more
/// than the day before in diazepam equivalents, each administration is
/// one drug made of that drug's products, and every renderer writes it.
fn switch_and_check(from: std::sync::Arc<Profile>, to: &str, req: &TextRequest) {
    let dirs = taper::profile::ProfileDirs::new(None, None);
    if !taper::profile::all_names(&dirs).iter().any(|n| n == to.trim()) {
        return;
    }
    let to = match taper::profile::load(to.trim(), &dirs) {
        Ok(p) => std::sync::Arc::new(p),
        Err(e) => return refused(e),
    };
    let plan = match taper::switch::build(from, to, &req.opts, today()) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let dose_days: Vec<_> = plan.days.iter().filter(|d| !d.rest_day).collect();
    for w in dose_days.windows(2) {
        assert!(w[1].daily_dose <= w[0].daily_dose, "the daily dose rose");
    }
    for s in &plan.steps {
        for a in &s.administrations {
            for p in &a.portions {
                assert_eq!(plan.products[p.product].drug, a.drug, "a dose mixes drugs");
            }
        }
    }
    render_all(&plan, &Extras::default());
}

/// A refused request: exit 2 with a non-empty message.
pub fn refused(e: taper::Error) {
    let m = e.to_string();
    assert_eq!(e.exit_code(), 2, "refusal is not exit 2: {m}");
    assert!(!m.trim().is_empty(), "refusal without a message");
}

/// Findings already reported and not yet fixed in the engine. The fuzz runs
/// step over them so they keep looking for new ones; `scripts/fuzz` replays
/// `fuzz/regressions/` with `TAPER_FUZZ_KNOWN=fail`, which makes them fail
/// again until they are fixed (then delete the skip).
pub fn skip_known() -> bool {
    static SKIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SKIP.get_or_init(|| std::env::var_os("TAPER_FUZZ_KNOWN").is_none_or(|v| v != "fail"))
}
