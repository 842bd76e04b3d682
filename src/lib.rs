//! taper: draft dose-taper schedules from a daily dose and a drug profile.
//!
//! The pipeline is plain functions over plain data:
//! profile → [`request::resolve`] → [`schedule::build`] (strategy, rounding
//! to formulations, days, reminders, totals) → [`render`]. `main` only
//! parses arguments, calls [`run`], and maps errors to exit codes.

pub mod adjust;
pub mod batch;
pub mod cli;
pub mod compare;
pub mod convert;
pub mod dose;
pub mod error;
pub mod fills;
pub mod formulation;
pub mod identity;
pub mod limits;
pub mod manpage;
pub mod mme;
pub mod output;
pub mod profile;
pub mod regimen;
pub mod render;
pub mod request;
pub mod revision;
pub mod schedule;
pub mod serve;
pub mod slots;
pub mod stepper;
pub mod strategy;
pub mod streams;
pub mod switch;
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
    /// `$XDG_CONFIG_HOME` and `$HOME`: where the default user profile
    /// folder is ([`profile::user_folder`]).
    pub xdg_config_home: Option<OsString>,
    pub home: Option<OsString>,
    /// Colour the table on stdout.
    pub color: bool,
    /// Today's local date, read again whenever asked: `taper serve` runs
    /// for days and drafts each plan from its own day.
    pub clock: fn() -> NaiveDate,
    /// Columns of the terminal on stdout, or `$COLUMNS`; `None` when neither
    /// is known (the table then takes its fixed piped layout). Never
    /// derived from colour.
    pub width: Option<usize>,
}

/// Exit code when a batch skipped some rows.
pub const EXIT_ROWS_SKIPPED: u8 = 3;

/// Runs one command, writing results to `stdout` and diagnostics to
/// `stderr`. On success returns the exit code (0, or 3 when a batch skipped
/// rows).
pub fn run(cli: Cli, env: &Env, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<u8> {
    let folders = profile_folders(&cli, env);
    let dirs = ProfileDirs {
        dirs: folders.iter().map(|(p, _)| p.clone()).collect(),
    };
    // `-q` silences notes; warnings and errors always reach stderr.
    let quiet = cli.quiet;
    match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "taper", stdout);
            stdout.flush()?;
            Ok(0)
        }
        Command::Man => {
            manpage::write(stdout)?;
            stdout.flush()?;
            Ok(0)
        }
        Command::Batch(args) => {
            let is_csv = matches!(args.format, cli::BatchFormatArg::Csv);
            let csv = csv_options(&args.spreadsheet, is_csv)?;
            let config = batch_config(&args, cli.quiet, csv)?;
            let outcome = batch::run(config, &dirs, env.today, stdout, stderr)?;
            Ok(if outcome.skipped > 0 {
                EXIT_ROWS_SKIPPED
            } else {
                0
            })
        }
        Command::Serve(args) => {
            let config = serve::ServeConfig {
                listen: serve::parse_listen(&args.listen)?,
                max_in_flight: args.max_in_flight as usize,
                timeout: std::time::Duration::from_secs(args.timeout),
                dirs,
                clock: env.clock,
                log: (!quiet).then(|| {
                    Box::new(terminal::SafeWriter::new(std::io::stderr())) as Box<dyn Write + Send>
                }),
            };
            serve::run(config, stdout).map(|()| 0)
        }
        Command::Plan(args) => plan(&args, &dirs, env, stdout, stderr, quiet).map(|()| 0),
        Command::Adjust(args) => adjust::run(&args, &dirs, env, stdout, stderr, quiet).map(|()| 0),
        Command::Compare(args) => {
            compare_command(&args, &dirs, env, stdout, stderr, quiet).map(|()| 0)
        }
        Command::Convert {
            profile,
            amount,
            to,
        } => {
            let from = profile::load(&profile, &dirs)?;
            let to = to.map(|t| profile::load(&t, &dirs)).transpose()?;
            let typed = dose::TypedAmount::parse(&amount)
                .map_err(|m| Error::Usage(format!("amount {m}")))?;
            let mg = typed
                .to_mg()
                .map_err(|m| Error::Usage(format!("amount {m}")))?
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "amount '{}' is not valid here (accepted: a daily dose above 0 in mg or mcg, e.g. 3mg)",
                        terminal::escape(&amount)
                    ))
                })?;
            let c = convert::convert(&from, mg, to.as_ref())?;
            render::convert::write(&c, stdout)?;
            stdout.flush()?;
            Ok(0)
        }
        Command::Profiles { action } => {
            // Profile text and file names are not ours: no control
            // character reaches the terminal (nothing here is coloured).
            let mut safe = terminal::SafeWriter::new(stdout);
            let mut sink = std::io::sink();
            let notes: &mut dyn Write = if quiet { &mut sink } else { stderr };
            profiles(action, &folders, &dirs, &mut safe, notes)?;
            safe.flush()?;
            Ok(0)
        }
    }
}

/// The user profile folders in search order, each with where it came
/// from (for `taper profiles`): `--profiles-dir`, `$TAPER_PROFILES`, then
/// the default user folder. The built-ins come after all of them.
fn profile_folders(cli: &Cli, env: &Env) -> Vec<(std::path::PathBuf, &'static str)> {
    let mut out: Vec<(std::path::PathBuf, &'static str)> = Vec::new();
    out.extend(cli.profiles_dir.clone().map(|p| (p, "--profiles-dir")));
    let from_env = ProfileDirs::new(None, env.taper_profiles.clone());
    out.extend(from_env.dirs.into_iter().map(|p| (p, "$TAPER_PROFILES")));
    let xdg = env.xdg_config_home.as_deref();
    let user = profile::user_folder(xdg, env.home.as_deref());
    let label = if profile::user_folder(xdg, None).is_some() {
        "$XDG_CONFIG_HOME/taper/profiles"
    } else {
        "~/.config/taper/profiles"
    };
    out.extend(user.map(|p| (p, label)));
    out
}

fn batch_config(
    args: &cli::BatchArgs,
    quiet: bool,
    csv: render::csv::CsvOptions,
) -> Result<batch::BatchConfig> {
    let t = &args.taper;
    Ok(batch::BatchConfig {
        input: batch::input_path(&args.input),
        format: match args.format {
            cli::BatchFormatArg::Csv => batch::BatchFormat::Csv,
            cli::BatchFormatArg::Jsonl => batch::BatchFormat::Jsonl,
            cli::BatchFormatArg::Fhir => batch::BatchFormat::Fhir,
            cli::BatchFormatArg::Ics => batch::BatchFormat::Ics,
            cli::BatchFormatArg::Html => batch::BatchFormat::Html,
        },
        view: match args.view {
            cli::BatchViewArg::Days => batch::BatchView::Days,
            cli::BatchViewArg::Summary => batch::BatchView::Summary,
            cli::BatchViewArg::Fills => batch::BatchView::Fills,
        },
        // `-o -` is stdout.
        output: args.output.clone().filter(|p| !is_stdout(p)),
        force: args.force,
        strict: args.strict,
        out_dir: args.out_dir.clone(),
        quiet,
        csv,
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
            switch_to: t.switch_to.clone(),
            switch_interval: t.switch_interval.clone(),
            supply: t.supply.clone(),
            final_hold: t.final_hold.clone(),
            market: t.market.clone(),
        },
    })
}

/// `-o -` names standard output, as in most command-line tools.
fn is_stdout(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

/// `--bom`/`--ascii`, refused (exit 2) for an output that is not CSV.
pub(crate) fn csv_options(
    args: &cli::SpreadsheetArgs,
    is_csv: bool,
) -> Result<render::csv::CsvOptions> {
    for (flag, on) in [("--bom", args.bom), ("--ascii", args.ascii)] {
        if on && !is_csv {
            return Err(Error::Usage(format!(
                "{flag} applies only to CSV output (use --format csv or a .csv output file)"
            )));
        }
    }
    Ok(render::csv::CsvOptions {
        bom: args.bom,
        ascii: args.ascii,
    })
}

fn profiles(
    action: Option<ProfilesAction>,
    folders: &[(std::path::PathBuf, &str)],
    dirs: &ProfileDirs,
    stdout: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<()> {
    match action.unwrap_or(ProfilesAction::List) {
        ProfilesAction::List => {
            render::profile::list(&profile::list(dirs), stdout)?;
            list_folders(folders, stdout)
        }
        ProfilesAction::Show { profile } => {
            let found = profile::find(&profile, dirs)?;
            note_shadowing(&found, notes)?;
            render::profile::show(&found.profile, stdout)
        }
        ProfilesAction::Check { files } => {
            if files.iter().filter(|f| is_stdout(f)).count() > 1 {
                return Err(Error::Usage(
                    "- (standard input) can be checked only once per run".into(),
                ));
            }
            let mut problems = Vec::new();
            for f in &files {
                let loaded = if is_stdout(f) {
                    profile::load_reader(std::io::stdin().lock(), STDIN_LABEL)
                } else {
                    profile::load_file(f)
                };
                match loaded {
                    Ok(p) => writeln!(
                        stdout,
                        "{}: ok (profile '{}' version {}, {} formulations, {} sources)",
                        if is_stdout(f) {
                            STDIN_LABEL.into()
                        } else {
                            f.display().to_string()
                        },
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

/// How standard input is named in `FILE:LINE:COL` messages.
const STDIN_LABEL: &str = "<stdin>";

/// The end of `taper profiles`: where it looked, in search order, so a
/// user can tell why a profile is (or is not) found.
fn list_folders(folders: &[(std::path::PathBuf, &str)], out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "\nProfile folders searched, in order (the first match wins):"
    )?;
    for (dir, from) in folders {
        let state = match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => "",
            Ok(_) => ", not a folder",
            Err(_) => ", not present",
        };
        writeln!(out, "  {} ({from}{state})", dir.display())?;
    }
    writeln!(out, "  built-in profiles")?;
    Ok(())
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
        final_hold: t.final_hold.clone(),
        market: t.market.clone(),
        switch_to: t.switch_to.clone(),
        switch_interval: t.switch_interval.clone(),
        supply: t.supply.clone(),
    }
}

fn plan(
    args: &PlanArgs,
    dirs: &ProfileDirs,
    env: &Env,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    quiet: bool,
) -> Result<()> {
    // `-o -` is stdout: the format then comes from --format (or table).
    let output = args.output.as_deref().filter(|p| !is_stdout(p));
    let format = match (args.format, output) {
        (Some(FormatArg::Table), _) => Format::Table,
        (Some(FormatArg::Csv), _) => Format::Csv,
        (Some(FormatArg::Json), _) => Format::Json,
        (Some(FormatArg::Ics), _) => Format::Ics,
        (Some(FormatArg::Html), _) => Format::Html,
        (Some(FormatArg::Fhir), _) => Format::Fhir,
        (None, Some(path)) => match Format::from_path(path) {
            Some(f) => f,
            None => {
                return Err(Error::Usage(format!(
                    "cannot tell the format from output file '{}' (accepted extensions: .csv, .json, .fhir.json, .txt, .ics, .html; or give --format table|csv|json|ics|html|fhir)",
                    path.display()
                )))
            }
        },
        (None, None) => Format::Table,
    };
    let view = match args.view {
        Some(ViewArg::Steps) => View::Steps,
        Some(ViewArg::Days) => View::Days,
        Some(ViewArg::Fills) => View::Fills,
        None => format.default_view(),
    };
    // Who and which plan: checked before any work (exit 2).
    if let Some(p) = &args.patient {
        identity::check_patient("--patient", p).map_err(Error::Usage)?;
    }
    if let Some(id) = &args.plan_id {
        identity::check_plan_id("--plan-id", id).map_err(Error::Usage)?;
    }
    // Refuse an existing output early, before any work (exit 1).
    if let Some(path) = output {
        output::check_target(path, args.force)?;
    }
    let found = profile::find(&args.profile, dirs).map_err(|e| swapped_hint(e, args, dirs))?;
    if !quiet {
        note_shadowing(&found, stderr)?;
    }
    let opts = plan_options(args);
    let mut plan = match opts.switch_to.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(to) => {
            let to = profile::find(to, dirs)?.profile;
            switch::build(found.profile.into(), to.into(), &opts, env.today)?
        }
        None => schedule::build(&request::resolve(found.profile, &opts, env.today)?)?,
    };
    // What `taper adjust` needs to rebuild the plan.
    revision::record(&mut plan, &plan_options(args), args.times.as_deref());
    let extras = render::Extras {
        patient: args.patient.clone(),
        times: match &args.times {
            Some(t) => parse_times(t, plan.request.doses_per_day)?,
            None => Vec::new(),
        },
        // A file never takes the terminal's width.
        width: env.width.filter(|_| args.output.is_none()),
        csv: csv_options(&args.spreadsheet, format == Format::Csv)?,
        plan_id: args.plan_id.clone(),
        week_start: args.week_start,
    };

    for w in &plan.warnings {
        writeln!(stderr, "warning: {}", render::text::warning(&plan, w))?;
    }
    if format == Format::Csv && !quiet {
        writeln!(stderr, "note: {}", plan.disclaimer)?;
    }
    match output {
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

/// `taper compare`: every variant planned, then one document written.
fn compare_command(
    args: &cli::CompareArgs,
    dirs: &ProfileDirs,
    env: &Env,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    quiet: bool,
) -> Result<()> {
    use render::compare::CompareFormat;
    let output = args.output.as_deref().filter(|p| !is_stdout(p));
    let format = match (args.format, output) {
        (Some(f), _) => CompareFormat::from(f),
        (None, Some(path)) => CompareFormat::from_path(path).ok_or_else(|| {
            Error::Usage(format!(
                "cannot tell the format from output file '{}' (accepted extensions: .csv, .json, .txt, .html; or give --format table|csv|json|html)",
                path.display()
            ))
        })?,
        (None, None) => CompareFormat::Table,
    };
    if let Some(path) = output {
        output::check_target(path, args.force)?;
    }
    let found = profile::find(&args.profile, dirs)?;
    if !quiet {
        note_shadowing(&found, stderr)?;
    }
    let cmp = compare::compare(
        found.profile.into(),
        &args.dose,
        args.start.as_deref(),
        &args.with,
        env.today,
    )?;
    if format == CompareFormat::Csv && !quiet {
        writeln!(stderr, "note: {}", schedule::DISCLAIMER)?;
    }
    match output {
        Some(path) => {
            let mut buf = Vec::with_capacity(16 * 1024);
            render::compare::write(&cmp, format, None, &mut buf)?;
            output::write_atomic(path, &buf, args.force)
        }
        None => {
            render::compare::write(&cmp, format, env.width, stdout)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// `taper plan 60mg --dose baclofen`: an unknown profile that reads as a
/// dose, with a --dose that names a profile, gets the command to type.
fn swapped_hint(e: Error, args: &PlanArgs, dirs: &ProfileDirs) -> Error {
    let swapped = matches!(e, Error::UnknownProfile { .. })
        && dose::TypedAmount::parse(&args.profile).is_ok()
        && !profile::looks_like_path(&args.dose)
        && profile::find(&args.dose, dirs).is_ok();
    if !swapped {
        return e;
    }
    let quote = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    Error::Usage(format!(
        "{e}; did you swap them? try: taper plan {} --dose {}",
        quote(args.dose.trim()),
        quote(args.profile.trim())
    ))
}

/// Parses `--times 08:00,14:00,20:00`: one time per administration.
/// The hour may have one digit (`8:00`), as people write it; the minutes
/// always have two, and nothing else is accepted (`8`, `8:0`, `24:00`,
/// `08:00:00`).
pub fn parse_times(text: &str, doses_per_day: u32) -> Result<Vec<chrono::NaiveTime>> {
    let mut times = Vec::new();
    for part in text.split(',') {
        let p = part.trim();
        let b = p.as_bytes();
        let ok = matches!(b.len(), 4 | 5)
            && b[b.len() - 3] == b':'
            && b.iter().filter(|c| c.is_ascii_digit()).count() == b.len() - 1;
        match chrono::NaiveTime::parse_from_str(p, "%H:%M") {
            Ok(t) if ok => times.push(t),
            _ => {
                return Err(Error::Usage(format!(
                    "time '{p}' in --times is not valid (accepted: 24-hour H:MM or HH:MM times separated by commas, e.g. 8:00,14:00,20:00)"
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

#[cfg(test)]
mod tests {
    use super::parse_times;
    use proptest::prelude::*;

    proptest! {
        /// Every time of day parses the same with and without the hour's
        /// leading zero.
        #[test]
        fn one_and_two_digit_hours_agree(h in 0u32..24, m in 0u32..60) {
            let want = chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
            prop_assert_eq!(parse_times(&format!("{h}:{m:02}"), 1).unwrap(), vec![want]);
            prop_assert_eq!(parse_times(&format!("{h:02}:{m:02}"), 1).unwrap(), vec![want]);
        }

        /// Anything accepted is digits around one colon with two-digit
        /// minutes, and a valid time.
        #[test]
        fn only_h_mm_shapes_are_accepted(t in "[0-9:+ -]{0,9}") {
            if parse_times(&t, 1).is_ok() {
                let p = t.trim();
                let (h, m) = p.split_once(':').unwrap();
                prop_assert!((1..=2).contains(&h.len()) && m.len() == 2, "{}", p);
                prop_assert!(h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()));
                prop_assert!(h.parse::<u32>().unwrap() < 24 && m.parse::<u32>().unwrap() < 60);
            }
        }
    }
}
