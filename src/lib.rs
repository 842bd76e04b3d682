//! taper: draft dose-taper schedules from a daily dose and a drug profile.
//!
//! The pipeline is plain functions over plain data:
//! profile → [`request::resolve`] → [`schedule::build`] (strategy, rounding
//! to formulations, days, reminders, totals) → [`render`]. `main` only
//! parses arguments, calls [`run`], and maps errors to exit codes.

pub mod batch;
pub mod cli;
pub mod dose;
pub mod error;
pub mod formulation;
pub mod limits;
pub mod output;
pub mod profile;
pub mod regimen;
pub mod render;
pub mod request;
pub mod schedule;
pub mod slots;
pub mod stepper;
pub mod strategy;
pub mod streams;
pub mod terminal;

use std::ffi::OsString;
use std::io::Write;

use chrono::NaiveDate;

pub use error::{Error, Result};
pub use schedule::{Plan, PlanRequest};

use cli::{Cli, Command, FormatArg, PlanArgs, ProfilesAction, ViewArg};
use profile::ProfileDirs;
use render::{Format, View};

/// What the program needs from its surroundings, gathered once by `main`
/// so the library itself reads no clock and no environment.
#[derive(Clone, Debug)]
pub struct Env {
    pub today: NaiveDate,
    /// `$TAPER_PROFILES`.
    pub taper_profiles: Option<OsString>,
    /// Colour the table on stdout.
    pub color: bool,
}

/// Exit code when a batch skipped some rows.
pub const EXIT_ROWS_SKIPPED: u8 = 3;

/// Runs one command, writing results to `stdout` and diagnostics to
/// `stderr`. On success returns the exit code (0, or 3 when a batch skipped
/// rows).
pub fn run(cli: Cli, env: &Env, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<u8> {
    let dirs = ProfileDirs::new(cli.profiles_dir.clone(), env.taper_profiles.clone());
    match cli.command {
        Command::Batch(args) => {
            let config = batch_config(&args);
            let outcome = batch::run(config, &dirs, env.today, stdout, stderr)?;
            Ok(if outcome.skipped > 0 {
                EXIT_ROWS_SKIPPED
            } else {
                0
            })
        }
        Command::Plan(args) => plan(&args, &dirs, env, stdout, stderr).map(|()| 0),
        Command::Profiles { action } => {
            // Profile text and file names are not ours: no control
            // character reaches the terminal (nothing here is coloured).
            let mut safe = terminal::SafeWriter::new(stdout);
            profiles(action, &dirs, &mut safe, stderr)?;
            safe.flush()?;
            Ok(0)
        }
    }
}

fn batch_config(args: &cli::BatchArgs) -> batch::BatchConfig {
    let t = &args.taper;
    batch::BatchConfig {
        input: batch::input_path(&args.input),
        format: match args.format {
            cli::BatchFormatArg::Csv => batch::BatchFormat::Csv,
            cli::BatchFormatArg::Jsonl => batch::BatchFormat::Jsonl,
        },
        view: match args.view {
            cli::BatchViewArg::Days => batch::BatchView::Days,
            cli::BatchViewArg::Summary => batch::BatchView::Summary,
        },
        output: args.output.clone(),
        force: args.force,
        strict: args.strict,
        defaults: batch::RowDefaults {
            start: t.start.clone(),
            strategy: t.strategy.map(Into::into),
            step: t.step.clone(),
            percent: t.percent.clone(),
            interval: t.interval.clone(),
            target: t.target.clone(),
            doses_per_day: t.doses_per_day.clone(),
            strengths: t.strengths.clone(),
            form: t.form.clone(),
            schedule: t.schedule.clone(),
            occupancy_step: t.occupancy_step.clone(),
        },
    }
}

fn profiles(
    action: Option<ProfilesAction>,
    dirs: &ProfileDirs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<()> {
    match action.unwrap_or(ProfilesAction::List) {
        ProfilesAction::List => render::profile::list(&profile::list(dirs), stdout),
        ProfilesAction::Show { profile } => {
            let found = profile::find(&profile, dirs)?;
            note_shadowing(&found, stderr)?;
            render::profile::show(&found.profile, stdout)
        }
        ProfilesAction::Check { files } => {
            let mut problems = Vec::new();
            for f in &files {
                match profile::load_file(f) {
                    Ok(p) => writeln!(
                        stdout,
                        "{}: ok (profile '{}' version {}, {} formulations, {} sources)",
                        f.display(),
                        p.name,
                        p.version,
                        p.formulations.len(),
                        p.sources.len()
                    )?,
                    Err(Error::InvalidProfile(lines)) => problems.extend(lines),
                    Err(e) => return Err(e),
                }
            }
            stdout.flush()?;
            if problems.is_empty() {
                Ok(())
            } else {
                Err(Error::InvalidProfile(problems))
            }
        }
    }
}

/// A user file that replaces a built-in profile is said on stderr: the
/// plan's provenance line alone is easy to miss.
fn note_shadowing(found: &profile::Found, stderr: &mut dyn Write) -> Result<()> {
    if let Some(note) = found.shadow_note() {
        writeln!(stderr, "note: {note}")?;
    }
    Ok(())
}

/// Options of `taper plan` as raw text, for [`request::resolve`].
pub fn plan_options(args: &PlanArgs) -> request::PlanOptions {
    let t = &args.taper;
    request::PlanOptions {
        dose: args.dose.clone(),
        start: t.start.clone(),
        strategy: t.strategy.map(Into::into),
        step: t.step.clone(),
        percent: t.percent.clone(),
        occupancy_step: t.occupancy_step.clone(),
        schedule: t.schedule.clone(),
        interval: t.interval.clone(),
        target: t.target.clone(),
        doses_per_day: t.doses_per_day.clone(),
        strengths: t.strengths.clone(),
        form: t.form.clone(),
    }
}

fn plan(
    args: &PlanArgs,
    dirs: &ProfileDirs,
    env: &Env,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<()> {
    let format = match (args.format, &args.output) {
        (Some(FormatArg::Table), _) => Format::Table,
        (Some(FormatArg::Csv), _) => Format::Csv,
        (Some(FormatArg::Json), _) => Format::Json,
        (Some(FormatArg::Ics), _) => Format::Ics,
        (Some(FormatArg::Html), _) => Format::Html,
        (None, Some(path)) => match Format::from_path(path) {
            Some(f) => f,
            None => {
                return Err(Error::Usage(format!(
                    "cannot tell the format from output file '{}' (accepted extensions: .csv, .json, .txt, .ics, .html; or give --format table|csv|json|ics|html)",
                    path.display()
                )))
            }
        },
        (None, None) => Format::Table,
    };
    let view = match args.view {
        Some(ViewArg::Steps) => View::Steps,
        Some(ViewArg::Days) => View::Days,
        None => format.default_view(),
    };
    // Refuse an existing output early, before any work (exit 1).
    if let Some(path) = &args.output {
        output::check_target(path, args.force)?;
    }
    let found = profile::find(&args.profile, dirs)?;
    note_shadowing(&found, stderr)?;
    let req = request::resolve(found.profile, &plan_options(args), env.today)?;
    let plan = schedule::build(&req)?;
    let extras = render::Extras {
        patient: args.patient.clone(),
        times: match &args.times {
            Some(t) => parse_times(t, plan.request.doses_per_day)?,
            None => Vec::new(),
        },
        week_start: args.week_start,
    };

    for w in &plan.warnings {
        writeln!(stderr, "warning: {}", render::text::warning(&plan, w))?;
    }
    if format == Format::Csv {
        writeln!(stderr, "note: {}", plan.disclaimer)?;
    }
    match &args.output {
        Some(path) => {
            let mut buf = Vec::with_capacity(64 * 1024);
            render::render_with(&plan, format, view, false, &extras, &mut buf)?;
            output::write_atomic(path, &buf, args.force)
        }
        None => {
            let color = env.color && format == Format::Table;
            render::render_with(&plan, format, view, color, &extras, stdout)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// Parses `--times 08:00,14:00,20:00`: one time per administration.
pub fn parse_times(text: &str, doses_per_day: u32) -> Result<Vec<chrono::NaiveTime>> {
    let mut times = Vec::new();
    for part in text.split(',') {
        let p = part.trim();
        let ok = p.len() == 5 && p.as_bytes()[2] == b':';
        match chrono::NaiveTime::parse_from_str(p, "%H:%M") {
            Ok(t) if ok => times.push(t),
            _ => {
                return Err(Error::Usage(format!(
                    "time '{p}' in --times is not valid (accepted: 24-hour HH:MM times separated by commas, e.g. 08:00,14:00,20:00)"
                )))
            }
        }
    }
    if times.len() != doses_per_day as usize {
        return Err(Error::Usage(format!(
            "--times gives {} time(s) but the plan has {doses_per_day} doses a day (accepted: exactly one time per dose)",
            times.len()
        )));
    }
    if times.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::Usage(format!(
            "--times '{text}' must be in increasing order within one day (e.g. 08:00,14:00,20:00)"
        )));
    }
    Ok(times)
}
