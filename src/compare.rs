//! `taper compare`: the same patient planned under several sets of plan
//! options, each built by the normal engine, and the few numbers a
//! prescriber weighs when choosing between them.
//!
//! Each `--with` string is split like a shell would (`shlex`) and parsed by
//! the very clap definitions of `taper plan`, so a variant accepts exactly
//! the taper options `plan` does and nothing else. This module returns
//! plain data; `render::compare` formats it.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{parser::ValueSource, ArgMatches, Args, CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, TaperOptions};
use crate::dose::Dose;
use crate::error::{Error, Result};
use crate::limits::cut_percent;
use crate::profile::Profile;
use crate::request::{self, PlanOptions};
use crate::schedule::{self, DispenseLine, Plan};
use crate::strategy::occupancy_of;

/// Fewest variants worth comparing.
pub const MIN_VARIANTS: usize = 2;
/// Most variants: beyond eight the chart's colours and dashes stop being
/// told apart and the side-by-side table no longer fits a terminal.
pub const MAX_VARIANTS: usize = 8;

/// One planned variant: the options as typed, the plan, and its metrics.
#[derive(Clone, Debug)]
pub struct Variant {
    /// The `--with` text exactly as given.
    pub options: String,
    pub plan: Plan,
    pub metrics: Metrics,
    /// The dose and occupancy curve, one point per step.
    pub curve: Vec<CurvePoint>,
}

/// What the variants are compared on, computed from the plan's own data.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Calendar days of the plan (the last day is the first at the target).
    pub total_days: u32,
    /// Steps, the target day's step included (as the plan table counts).
    pub steps: u32,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The largest cut by amount (ties: the larger percentage), `None`
    /// when no step lowers the dose.
    pub largest_cut: Option<Cut>,
    /// The last dose taken before stopping, or the target when the plan
    /// ends at a maintenance dose.
    pub last_dose: Dose,
    /// Whether the plan stops (target 0).
    pub stops: bool,
    pub dispense: Vec<DispenseLine>,
    pub warnings: usize,
}

/// One cut between consecutive steps (step 1: from the starting dose).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The step that starts at the lower dose.
    pub step: u32,
    pub from: Dose,
    pub to: Dose,
    pub amount: Dose,
    /// Of `from`, one decimal, rounded half up.
    pub percent: Dose,
}

/// A step of the dose curve, with its receptor occupancy when the profile
/// has a model (percent, micro-points).
#[derive(Clone, Copy, Debug)]
pub struct CurvePoint {
    /// Days from the plan's first day (0-based) to the step's first day.
    pub from_day: u32,
    /// Days from the plan's first day to the day after the step.
    pub to_day: u32,
    pub dose: Dose,
    pub occupancy: Option<Dose>,
}

/// Everything `taper compare` shows.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub profile: Arc<Profile>,
    pub start_dose: Dose,
    /// Occupancy at the starting dose, when the profile has a model.
    pub start_occupancy: Option<Dose>,
    pub variants: Vec<Variant>,
}

/// Plans every `--with` for `profile` at `dose` from `start` (`None`:
/// `today`). A `--with` that does not parse or plan is exit 2, named.
pub fn compare(
    profile: Arc<Profile>,
    dose: &str,
    start: Option<&str>,
    with: &[String],
    today: NaiveDate,
) -> Result<Comparison> {
    if !(MIN_VARIANTS..=MAX_VARIANTS).contains(&with.len()) {
        return Err(Error::Usage(format!(
            "compare needs {MIN_VARIANTS} to {MAX_VARIANTS} --with options, got {} (accepted: e.g. --with \"--strategy linear\" --with \"--strategy percent\")",
            with.len()
        )));
    }
    // The shared dose is checked once, so a typo is not blamed on --with #1.
    crate::dose::TypedAmount::parse(dose).map_err(|e| Error::Usage(format!("--dose {e}")))?;
    let mut variants = Vec::with_capacity(with.len());
    for (i, text) in with.iter().enumerate() {
        let name = format!("--with #{} \"{text}\"", i + 1);
        let mut opts = parse_with(&profile.name, dose, text)
            .map_err(|m| Error::Usage(format!("{name}: {m}")))?;
        opts.start = start.map(str::to_string);
        if opts.switch_to.is_some() || opts.switch_interval.is_some() {
            return Err(Error::Usage(format!(
                "{name}: --switch-to and --switch-interval are not compared (compare tapers one drug; accepted: taper options such as --strategy, --percent, --interval; draft a switch with taper plan --switch-to)"
            )));
        }
        let plan = request::resolve(profile.clone(), &opts, today)
            .and_then(|req| schedule::build(&req))
            .map_err(|e| match e.exit_code() {
                2 => Error::Usage(format!("{name}: {e}")),
                _ => e,
            })?;
        variants.push(Variant {
            options: text.clone(),
            metrics: metrics(&plan),
            curve: curve(&plan, &profile),
            plan,
        });
    }
    let start_dose = variants[0].plan.request.start_dose;
    Ok(Comparison {
        start_occupancy: occupancy(&profile, start_dose),
        profile,
        start_dose,
        variants,
    })
}

/// The ids of `taper plan`'s taper options, the only ones a `--with` may set.
fn taper_option_ids() -> BTreeSet<String> {
    let cmd = TaperOptions::augment_args(clap::Command::new("with"));
    cmd.get_arguments()
        .map(|a| a.get_id().to_string())
        .collect()
}

/// `--with` text as `taper plan PROFILE --dose DOSE <text>` would read it;
/// the error is one line (clap's first lines, without usage and tips).
pub fn parse_with(profile: &str, dose: &str, text: &str) -> Result<PlanOptions, String> {
    let words = shlex::split(text).ok_or_else(|| {
        "unbalanced quotes or a trailing backslash (accepted: options quoted as a shell would, e.g. --schedule '40x7,30x7')".to_string()
    })?;
    let mut argv = vec!["taper", "plan", profile, "--dose", dose];
    argv.extend(words.iter().map(String::as_str));
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .map_err(|e| match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                "--help and --version are not plan options (see taper plan --help)".to_string()
            }
            _ => one_line(&e.render().to_string()),
        })?;
    let Some(("plan", sub)) = matches.subcommand() else {
        return Err("not a set of plan options".into());
    };
    for global in ["quiet", "profiles_dir"] {
        let set = |m: &ArgMatches| m.value_source(global) == Some(ValueSource::CommandLine);
        if set(&matches) || set(sub) {
            return Err(format!(
                "--{} applies to the whole compare command, not one variant",
                global.replace('_', "-")
            ));
        }
    }
    refuse_non_taper(sub)?;
    match Cli::from_arg_matches(&matches).map_err(|e| one_line(&e.to_string()))? {
        Cli {
            command: Command::Plan(args),
            ..
        } => Ok(crate::plan_options(&args)),
        _ => Err("not a set of plan options".into()),
    }
}

/// Output, calendar and profile options mean nothing per variant, and the
/// start date is shared: each is refused by name.
fn refuse_non_taper(sub: &ArgMatches) -> Result<(), String> {
    let allowed = taper_option_ids();
    let plan = Cli::command();
    let args: BTreeSet<String> = plan
        .find_subcommand("plan")
        .into_iter()
        .flat_map(|c| c.get_arguments())
        .map(|a| a.get_id().to_string())
        .collect();
    for id in sub.ids() {
        let id = id.as_str();
        // Argument groups (one per flattened struct) are not options.
        let given = args.contains(id) && sub.value_source(id) == Some(ValueSource::CommandLine);
        if !given || id == "dose" || id == "profile" {
            continue;
        }
        if id == "start" {
            return Err("--start is shared by all variants: give it to compare itself".into());
        }
        if !allowed.contains(id) {
            return Err(format!(
                "--{} cannot be set per variant (accepted: --strategy, --step, --percent, --occupancy-step, --schedule, --interval, --target, --doses-per-day, --strengths, --form)",
                id.replace('_', "-")
            ));
        }
    }
    Ok(())
}

/// clap's message up to its usage line, on one line.
fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The comparison's numbers, from the plan's steps, dispensing and warnings.
pub fn metrics(plan: &Plan) -> Metrics {
    let mut largest: Option<Cut> = None;
    let mut previous = plan.request.start_dose;
    for s in &plan.steps {
        if let Some(amount) = previous.checked_sub(s.daily_dose).filter(|a| !a.is_zero()) {
            let cut = Cut {
                step: s.step,
                from: previous,
                to: s.daily_dose,
                amount,
                percent: cut_percent(previous, s.daily_dose),
            };
            if largest.is_none_or(|l| (cut.amount, cut.percent) > (l.amount, l.percent)) {
                largest = Some(cut);
            }
        }
        previous = s.daily_dose;
    }
    let stops = plan.request.target.is_zero();
    let last_dose = if stops {
        plan.steps
            .iter()
            .rev()
            .find(|s| !s.is_final && !s.daily_dose.is_zero())
            .map_or(plan.request.start_dose, |s| s.daily_dose)
    } else {
        plan.request.target
    };
    Metrics {
        total_days: plan.days.len() as u32,
        steps: plan.steps.last().map_or(0, |s| s.step),
        start: plan.request.start,
        end: plan.request.end,
        largest_cut: largest,
        last_dose,
        stops,
        dispense: plan.dispense.clone(),
        warnings: plan.warnings.len(),
    }
}

/// Occupancy in micro-percent at `dose`, when the profile has a model.
fn occupancy(profile: &Profile, dose: Dose) -> Option<Dose> {
    let model = profile.occupancy.as_ref()?;
    occupancy_of(model, dose).and_then(|o| u64::try_from(o).ok().map(Dose::from_micro))
}

/// Each step as a run of days with its dose (and occupancy).
fn curve(plan: &Plan, profile: &Profile) -> Vec<CurvePoint> {
    let first = plan.request.start;
    let day = |d: NaiveDate| (d - first).num_days().max(0) as u32;
    plan.steps
        .iter()
        .map(|s| CurvePoint {
            from_day: day(s.start),
            to_day: day(s.end) + 1,
            dose: s.daily_dose,
            occupancy: occupancy(profile, s.daily_dose),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_become_one_line() {
        let e = parse_with("baclofen", "60mg", "--strategy lineaer").unwrap_err();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("lineaer"), "{e}");
    }

    #[test]
    fn output_options_are_refused_by_name() {
        for (text, flag) in [
            ("-o x.csv", "--output"),
            ("--format json", "--format"),
            ("--patient X", "--patient"),
            ("--week-start sunday", "--week-start"),
            ("--quiet", "--quiet"),
        ] {
            let e = parse_with("baclofen", "60mg", text).unwrap_err();
            assert!(e.contains(flag), "{text}: {e}");
        }
        assert!(parse_with("baclofen", "60mg", "--strategy linear --step 5mg").is_ok());
    }
}
