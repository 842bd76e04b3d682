//! taper: draft dose-taper schedules from a daily dose and a drug profile.
//!
//! The pipeline is plain functions over plain data:
//! profile → [`request::resolve`] → [`schedule::build`] (strategy, rounding
//! to formulations, days, reminders, totals) → [`render`]. `main` only
//! parses arguments, calls [`run`], and maps errors to exit codes.

pub mod cli;
pub mod dose;
pub mod error;
pub mod formulation;
pub mod output;
pub mod profile;
pub mod render;
pub mod request;
pub mod schedule;
pub mod strategy;

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

/// Runs one command, writing results to `stdout` and diagnostics to
/// `stderr`.
pub fn run(cli: Cli, env: &Env, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<()> {
    let dirs = ProfileDirs::new(cli.profiles_dir.clone(), env.taper_profiles.clone());
    match cli.command {
        Command::Plan(args) => plan(&args, &dirs, env, stdout, stderr),
        Command::Profiles { action } => match action.unwrap_or(ProfilesAction::List) {
            ProfilesAction::List => render::profile::list(&profile::list(&dirs), stdout),
            ProfilesAction::Show { profile } => {
                let p = profile::load(&profile, &dirs)?;
                render::profile::show(&p, stdout)
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
        },
    }
}

/// Options of `taper plan` as raw text, for [`request::resolve`].
pub fn plan_options(args: &PlanArgs) -> request::PlanOptions {
    request::PlanOptions {
        dose: args.dose.clone(),
        start: args.start.clone(),
        strategy: args.strategy.map(Into::into),
        step: args.step.clone(),
        percent: args.percent.clone(),
        occupancy_step: args.occupancy_step.clone(),
        schedule: args.schedule.clone(),
        interval: args.interval.clone(),
        target: args.target.clone(),
        doses_per_day: args.doses_per_day.clone(),
        strengths: args.strengths.clone(),
        form: args.form.clone(),
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
        (None, Some(path)) => match Format::from_path(path) {
            Some(f) => f,
            None => {
                return Err(Error::Usage(format!(
                    "cannot tell the format from output file '{}' (accepted extensions: .csv, .json, .txt; or give --format table|csv|json)",
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
    let profile = profile::load(&args.profile, dirs)?;
    let req = request::resolve(profile, &plan_options(args), env.today)?;
    let plan = schedule::build(&req)?;

    for w in &plan.warnings {
        writeln!(stderr, "warning: {}", render::text::warning(&plan, w))?;
    }
    if format == Format::Csv {
        writeln!(stderr, "note: {}", plan.disclaimer)?;
    }
    match &args.output {
        Some(path) => {
            let mut buf = Vec::with_capacity(64 * 1024);
            render::render(&plan, format, view, false, &mut buf)?;
            output::write_atomic(path, &buf, args.force)
        }
        None => {
            let color = env.color && format == Format::Table;
            render::render(&plan, format, view, color, stdout)?;
            stdout.flush()?;
            Ok(())
        }
    }
}
