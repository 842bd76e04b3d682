//! Command-line arguments as typed: clap derive structs, unresolved. Values
//! stay text here so `request` can check them with the profile in hand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::profile::StrategyKind;

/// Draft dose-taper schedules for prescriber review.
///
/// Every schedule is an aid that must be used under prescriber oversight.
#[derive(Debug, Parser)]
#[command(name = "taper", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Directory of user profiles (NAME.toml files), searched before $TAPER_PROFILES and the built-in profiles.
    #[arg(long, global = true, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,

    /// When to colour the table: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draft a day-by-day taper schedule.
    #[command(
        after_help = "Examples:\n  taper plan baclofen --dose 60mg --start 2026-12-01\n  taper plan baclofen --dose 30mg --strengths 10mg --interval 7 -o plan.csv\n  taper plan sertraline --dose 100mg --strategy percent --percent 10 --interval 28\n  taper plan prednisone --dose 40mg --strategy custom --schedule \"40x7,30x7,20x7,10x7,5x7\""
    )]
    Plan(Box<PlanArgs>),
    /// Plan many patients from a CSV of requests (one row each).
    #[command(
        after_help = "Examples:\n  taper batch requests.csv > plans.csv\n  taper batch requests.csv --view summary -o summary.csv\n  taper batch - --format jsonl < requests.csv\n  taper batch requests.csv --strict\n\nExit codes: 0 all rows planned, 3 some rows skipped (reported on stderr), 2 usage error or a bad row with --strict, 1 I/O error."
    )]
    Batch(Box<BatchArgs>),
    /// List, show or check drug profiles.
    Profiles {
        #[command(subcommand)]
        action: Option<ProfilesAction>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfilesAction {
    /// List built-in and user profiles (the default).
    List,
    /// Everything in one profile, human readable.
    Show {
        /// Profile name or path to a .toml file.
        profile: String,
    },
    /// Validate profile files; errors are FILE:LINE:COL.
    Check {
        /// Profile files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Profile name (case-insensitive) or path to a .toml profile (anything containing '/' or ending in .toml).
    pub profile: String,

    /// Current total daily dose: 60mg, 60 mg, 60 (profile unit), 100mcg, or 2.5mL with one liquid selected.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub dose: String,

    /// How to taper (in batch mode these are defaults for every row).
    #[command(flatten)]
    pub taper: TaperOptions,

    /// Patient name for calendars (ics, html).
    #[arg(long, value_name = "NAME")]
    pub patient: Option<String>,

    /// ics: one timed reminder per administration at these local times, e.g. 08:00,14:00,20:00 (as many as doses per day).
    #[arg(long, value_name = "HH:MM,...")]
    pub times: Option<String>,

    /// html: first day of each calendar week (Sunday is the US habit).
    #[arg(long, value_enum, default_value_t = WeekStart::Monday)]
    pub week_start: WeekStart,

    /// Output format [default: table, or from the -o file extension].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Rows: steps (table default) or days (csv/json default).
    #[arg(long, value_enum)]
    pub view: Option<ViewArg>,

    /// Write to FILE instead of stdout (atomically; never overwrites without --force).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    Linear,
    Percent,
    Hyperbolic,
    Custom,
}

impl From<StrategyArg> for StrategyKind {
    fn from(s: StrategyArg) -> StrategyKind {
        match s {
            StrategyArg::Linear => StrategyKind::Linear,
            StrategyArg::Percent => StrategyKind::Percent,
            StrategyArg::Hyperbolic => StrategyKind::Hyperbolic,
            StrategyArg::Custom => StrategyKind::Custom,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Csv,
    Json,
    Ics,
    Html,
}

/// `--week-start`: the first column of the HTML month grids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum WeekStart {
    #[default]
    Monday,
    Sunday,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ViewArg {
    Steps,
    Days,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Request CSV (header row; columns id, profile, dose and optional plan options), or - for standard input.
    pub input: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = BatchFormatArg::Csv)]
    pub format: BatchFormatArg,

    /// CSV rows: days (one per patient-day) or summary (one per patient).
    #[arg(long, value_enum, default_value_t = BatchViewArg::Days)]
    pub view: BatchViewArg,

    /// Write to FILE instead of stdout (atomically; never overwrites without --force).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,

    /// Stop at the first bad row (exit 2) and write nothing.
    #[arg(long)]
    pub strict: bool,

    /// Defaults for every row; a non-empty cell overrides them.
    #[command(flatten)]
    pub taper: TaperOptions,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BatchFormatArg {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BatchViewArg {
    Days,
    Summary,
}

/// The taper options shared by `plan` and `batch` (where they are defaults
/// that a row's cells override).
#[derive(Debug, Args)]
pub struct TaperOptions {
    /// First day of the first reduced dose, YYYY-MM-DD [default: today, local date].
    #[arg(long, value_name = "DATE")]
    pub start: Option<String>,

    /// Taper strategy [default: the profile's].
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,

    /// linear: amount cut each step (e.g. 5mg).
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub step: Option<String>,

    /// percent: percentage of the current dose cut each step, 0 < P < 100.
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    pub percent: Option<String>,

    /// hyperbolic: receptor-occupancy percentage points per step.
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    pub occupancy_step: Option<String>,

    /// custom: dose x days list, e.g. "40x7,30x7,20x14".
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub schedule: Option<String>,

    /// Days each step is held: 7, 7d or 2w [default: the profile's].
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true)]
    pub interval: Option<String>,

    /// Dose to end at; 0 stops completely.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub target: Option<String>,

    /// Administrations per day [default: the profile's].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub doses_per_day: Option<String>,

    /// Only these products are on hand, e.g. 10mg or 10mg,5mg or 1mg/mL [default: all the profile's].
    #[arg(long, value_name = "LIST")]
    pub strengths: Option<String>,

    /// Only this form: tablet, capsule or liquid.
    #[arg(long, value_name = "FORM")]
    pub form: Option<String>,
}
