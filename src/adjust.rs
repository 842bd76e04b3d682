//! `taper adjust`: read a plan file, rebuild it, check it is what taper
//! wrote, apply one more revision ([`crate::revision`]) and write the
//! revised plan in any format.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::cli::{AdjustArgs, FormatArg, ViewArg};
use crate::error::{Error, Result};
use crate::profile::{self, ProfileDirs};
use crate::render::{self, Format, View};
use crate::revision::{self, Change, RecordedOptions, Replan, Revision};
use crate::schedule::Plan;
use crate::{identity, output, Env};

/// The parts of a plan file `adjust` reads; the rest is checked by
/// rebuilding.
#[derive(Deserialize)]
struct PlanFile {
    plan_id: String,
    #[serde(default)]
    patient: Option<String>,
    profile: ProfileRef,
    #[serde(default)]
    options: Option<RecordedOptions>,
    #[serde(default)]
    revisions: Vec<Revision>,
    #[serde(default)]
    days: Vec<Value>,
    #[serde(default)]
    steps: Vec<Value>,
    /// A switch plan's switch (`taper adjust` does not revise those yet).
    #[serde(default)]
    switch: Option<Value>,
}

#[derive(Deserialize)]
struct ProfileRef {
    name: String,
    version: String,
    /// `built-in`, or the profile file's path.
    #[serde(default)]
    origin: String,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Runs `taper adjust`.
pub fn run(
    args: &AdjustArgs,
    dirs: &ProfileDirs,
    env: &Env,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    quiet: bool,
) -> Result<()> {
    let output = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    let format = format(args.format, output)?;
    let view = match args.view {
        Some(ViewArg::Steps) => View::Steps,
        Some(ViewArg::Days) => View::Days,
        Some(ViewArg::Fills) => View::Fills,
        None => format.default_view(),
    };
    let revision = requested(args, env)?;
    if let Some(path) = output {
        output::check_target(path, args.force)?;
    }
    let file = read_plan(&args.plan, args.id.as_deref())?;
    if file.switch.is_some() {
        return Err(usage(format!(
            "{} is a switch plan (--switch-to), which taper adjust cannot revise yet (accepted: a plan of one drug; draft the rest of a switch plan again with taper plan, e.g. for diazepam from its current dose)",
            args.plan.display()
        )));
    }
    let options = file.options.as_ref().ok_or_else(|| {
        usage(format!(
            "{} has no `options` (it was written by an older taper): draft the plan again with taper plan --format json",
            args.plan.display()
        ))
    })?;
    // The file the plan was made from, when it was a file; else by name.
    let origin = &file.profile.origin;
    let by_path = profile::looks_like_path(origin)
        .then(|| profile::find(origin, dirs).ok())
        .flatten();
    let found = match by_path {
        Some(f) => f,
        None => profile::find(&file.profile.name, dirs)?,
    };
    if found.profile.version != file.profile.version && !args.allow_profile_change {
        return Err(usage(format!(
            "profile {} is now version {}, but the plan was drafted with version {}: review the plan against the new profile, or pass --allow-profile-change",
            file.profile.name, found.profile.version, file.profile.version
        )));
    }
    let profile = Arc::new(found.profile);
    let old = revision::rebuild(&profile, options, &file.revisions, env.today)?;
    // Even with another profile version the kept days must not change.
    check_same(&old, &file).map_err(|e| match e {
        Error::Usage(m) if found_version_differs(&profile.version, &file) => Error::Usage(format!(
            "{m}: profile {} version {} gives another plan than version {} did, so the days before --from cannot be kept; draft a new plan",
            file.profile.name, profile.version, file.profile.version
        )),
        e => e,
    })?;
    let revision = Revision {
        revision: old.history.revision() + 1,
        ..revision
    };
    let plan = revision::apply(&old, &profile, &revision, env.today)?;
    let times = match &options.times {
        Some(t) if plan.request.doses_per_day as usize == t.split(',').count() => {
            crate::parse_times(t, plan.request.doses_per_day)?
        }
        Some(t) if format == Format::Ics => {
            return Err(usage(format!(
                "the plan's --times {t} do not fit {} doses a day from {}: calendars cannot keep the dose reminders (accepted: a change that keeps the doses a day, or draft a new plan with new --times)",
                plan.request.doses_per_day, revision.from
            )))
        }
        _ => Vec::new(),
    };
    let extras = render::Extras {
        patient: file.patient.clone(),
        times,
        width: env.width.filter(|_| args.output.is_none()),
        csv: crate::csv_options(&args.spreadsheet, format == Format::Csv)?,
        plan_id: Some(file.plan_id.clone()),
        week_start: args.week_start,
    };
    for w in &plan.warnings {
        writeln!(stderr, "warning: {}", render::text::warning(&plan, w))?;
    }
    if !quiet {
        if let Some(r) = render::text::revision(&plan) {
            writeln!(stderr, "note: {r}")?;
        }
    }
    let mut buf = Vec::with_capacity(64 * 1024);
    let color = env.color && format == Format::Table && output.is_none();
    render::render_with(&plan, format, view, color, &extras, &mut buf)?;
    match output {
        Some(path) => output::write_atomic(path, &buf, args.force),
        None => {
            stdout.write_all(&buf)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

fn found_version_differs(version: &str, file: &PlanFile) -> bool {
    version != file.profile.version
}

/// `--format`, or the output file's extension, or the table.
fn format(arg: Option<FormatArg>, output: Option<&Path>) -> Result<Format> {
    Ok(match (arg, output) {
        (Some(FormatArg::Table), _) => Format::Table,
        (Some(FormatArg::Csv), _) => Format::Csv,
        (Some(FormatArg::Json), _) => Format::Json,
        (Some(FormatArg::Ics), _) => Format::Ics,
        (Some(FormatArg::Html), _) => Format::Html,
        (Some(FormatArg::Fhir), _) => Format::Fhir,
        (None, Some(path)) => Format::from_path(path).ok_or_else(|| usage(format!(
            "cannot tell the format from output file '{}' (accepted extensions: .csv, .json, .fhir.json, .txt, .ics, .html; or give --format table|csv|json|ics|html|fhir)",
            path.display()
        )))?,
        (None, None) => Format::Table,
    })
}

/// The revision the command line asks for (its number is set later).
fn requested(args: &AdjustArgs, env: &Env) -> Result<Revision> {
    let from = match &args.from {
        Some(d) => crate::request::parse_date(d)
            .map_err(|e| usage(e.to_string().replacen("start date", "--from date", 1)))?,
        None => env.today,
    };
    let hold_days = match &args.hold {
        None => None,
        Some(h) => Some(match crate::dose::parse_interval(h) {
            Ok(d) if d > 0 => d,
            _ => {
                return Err(usage(format!(
                "--hold '{h}' is not valid (accepted: a number of days from 1, e.g. 7, 7d or 2w)"
            )))
            }
        }),
    };
    if let Some(f) = &args.slower {
        revision::parse_factor(f)?;
    }
    if let Some(r) = &args.reason {
        if r.chars().any(char::is_control) || r.trim().is_empty() || r.chars().count() > 300 {
            return Err(usage(
                "--reason is not valid (accepted: up to 300 characters of text, no control characters)",
            ));
        }
    }
    let change = Change {
        hold_days,
        back: args.back,
        slower: args.slower.clone(),
        strategy: args
            .strategy
            .map(|s| crate::profile::StrategyKind::from(s).as_str().to_string()),
        options: Replan {
            step: args.step.clone(),
            percent: args.percent.clone(),
            occupancy_step: args.occupancy_step.clone(),
            schedule: args.schedule.clone(),
            interval: args.interval.clone(),
            target: args.target.clone(),
            doses_per_day: args.doses_per_day.clone(),
            strengths: args.strengths.clone(),
            form: args.form.clone(),
            final_hold: args.final_hold.clone(),
            market: args.market.clone(),
            // Fills keep the plan's own supply period.
            supply: None,
        },
    };
    Ok(Revision {
        revision: 0,
        from,
        change,
        reason: args.reason.clone(),
    })
}

/// Reads the plan file, or the row `id` of a batch jsonl file.
fn read_plan(path: &Path, id: Option<&str>) -> Result<PlanFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let bad = |e: serde_json::Error| {
        usage(format!(
            "{} is not a plan written by taper plan --format json ({e}){}",
            path.display(),
            if id.is_none() && text.lines().filter(|l| !l.trim().is_empty()).count() > 1 {
                "; for a batch jsonl file, pick the row with --id"
            } else {
                ""
            }
        ))
    };
    let Some(id) = id else {
        return serde_json::from_str(&text).map_err(bad);
    };
    identity::check_plan_id("--id", id).map_err(Error::Usage)?;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(bad)?;
        if v.get("id").and_then(Value::as_str) == Some(id) {
            return serde_json::from_value(v).map_err(bad);
        }
    }
    Err(usage(format!(
        "{} has no row with id '{id}' (accepted: an id of the batch's input)",
        path.display()
    )))
}

/// The file must be what taper rebuilds from its options and revisions:
/// an edited file would silently change the kept history.
fn check_same(plan: &Plan, file: &PlanFile) -> Result<()> {
    let mismatch = |what: String| {
        usage(format!(
            "the plan file does not match what taper rebuilds from its options ({what}); was it edited? (accepted: a plan file as taper wrote it)"
        ))
    };
    let field = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    if file.steps.len() != plan.steps.len() {
        return Err(mismatch(format!(
            "{} steps in the file, {} rebuilt",
            file.steps.len(),
            plan.steps.len()
        )));
    }
    for (f, s) in file.steps.iter().zip(&plan.steps) {
        let want = serde_json::to_value(s).map_err(|e| Error::Io(e.into()))?;
        for k in ["start", "days", "daily_dose", "administrations"] {
            if field(f, k) != field(&want, k) {
                return Err(mismatch(format!("step {}: {k} differs", s.step)));
            }
        }
    }
    if !file.days.is_empty() {
        if file.days.len() != plan.days.len() {
            return Err(mismatch(format!(
                "{} days in the file, {} rebuilt",
                file.days.len(),
                plan.days.len()
            )));
        }
        for (f, d) in file.days.iter().zip(&plan.days) {
            let want = serde_json::to_value(d).map_err(|e| Error::Io(e.into()))?;
            for k in ["date", "daily_dose", "step"] {
                if field(f, k) != field(&want, k) {
                    return Err(mismatch(format!("day {} ({}): {k} differs", d.day, d.date)));
                }
            }
        }
    }
    Ok(())
}
