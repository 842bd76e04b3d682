//! Command-line arguments as typed: clap derive structs, unresolved. Values
//! stay text here so `request` can check them with the profile in hand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::profile::StrategyKind;

// Option groups in `--help`: what a flag is about, not how it is spelled.
const TAPER: &str = "Taper";
const PRODUCTS: &str = "Products";
const OUTPUT: &str = "Output";
const CALENDAR: &str = "Calendar";
const PROFILES: &str = "Profiles";

/// Draft dose-taper schedules for prescriber review.
///
/// taper turns a patient's current daily dose and a drug profile into a
/// day-by-day taper: exact doses the products on the market can give, what
/// to take at each dose, how much to dispense, reminders, and a warning
/// when a plan is faster than the profile's sources support.
///
/// Every schedule is a draft aid that must be used under prescriber
/// oversight; it is not medical advice.
#[derive(Debug, Parser)]
#[command(
    name = "taper",
    version,
    max_term_width = 100,
    after_help = "Use -h for a summary, --help for details and examples.",
    after_long_help = "Examples:\n  taper plan baclofen --dose 60mg --start 2026-12-01\n  taper plan baclofen --dose 60mg -o baclofen.html --patient \"J. Smith\"\n  taper batch requests.csv -o plans.csv\n  taper profiles show baclofen\n\nProfiles are looked for in --profiles-dir, $TAPER_PROFILES, $XDG_CONFIG_HOME/taper/profiles (or ~/.config/taper/profiles), then the built-ins.\n\nExit codes: 0 success, 1 I/O error, 2 usage or validation error, 3 a batch skipped rows."
)]
pub struct Cli {
    /// Folder of user profiles (NAME.toml), searched first.
    ///
    /// Searched before $TAPER_PROFILES, the user folder
    /// ($XDG_CONFIG_HOME/taper/profiles, or ~/.config/taper/profiles) and
    /// the built-in profiles; `taper profiles` lists every folder searched.
    #[arg(long, global = true, value_name = "DIR", help_heading = PROFILES)]
    pub profiles_dir: Option<PathBuf>,

    /// No disclaimer or notes on stderr (for scripts).
    ///
    /// Warnings and errors are always shown, and every output that carries
    /// the disclaimer (table, JSON, ICS, HTML) still carries it.
    #[arg(short, long, global = true, help_heading = OUTPUT)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draft a day-by-day taper schedule.
    ///
    /// The schedule starts from the current total daily dose and tapers by
    /// the profile's default strategy unless told otherwise. Output goes to
    /// stdout as a table, or to -o FILE in the format its extension names.
    #[command(
        after_help = "Example: taper plan baclofen --dose 60mg --start 2026-12-01  (--help: more examples)",
        after_long_help = "Examples:\n  taper plan baclofen --dose 60mg --start 2026-12-01\n  taper plan baclofen --dose 30mg --strengths 10mg --interval 7 -o plan.csv\n  taper plan sertraline --dose 100mg --strategy percent --percent 10 --interval 28\n  taper plan prednisone --dose 40mg --strategy custom --schedule \"40x7,30x7,20x7,10x7,5x7\"\n  taper plan baclofen --dose 60mg --format ics --times 8:00,14:00,20:00 -o baclofen.ics\n  taper plan baclofen --dose 60mg --format json -o - | jq .steps"
    )]
    Plan(Box<PlanArgs>),
    /// Plan many patients from a CSV of requests (one row each).
    ///
    /// Columns: id, profile, dose, and optionally start, strategy, step,
    /// percent, interval, target, doses_per_day, strengths, form, schedule,
    /// occupancy_step, patient, final_hold, market. A bad row is skipped and reported on stderr.
    #[command(
        after_help = "Example: taper batch requests.csv > plans.csv  (--help: more examples, exit codes)",
        after_long_help = "Examples:\n  taper batch requests.csv > plans.csv\n  taper batch requests.csv --view summary -o summary.csv\n  taper batch - --format jsonl < requests.csv\n  taper batch requests.csv --strict\n  taper batch requests.csv --format ics --out-dir calendars\n\nExit codes: 0 all rows planned, 3 some rows skipped (reported on stderr), 2 usage error or a bad row with --strict, 1 I/O error."
    )]
    Batch(Box<BatchArgs>),
    /// Revise a plan from a date: hold, step back, slow down or re-plan.
    ///
    /// Reads a plan written by `taper plan --format json` (or one row of a
    /// batch jsonl file with --id), rebuilds it, and changes it from --from
    /// on; every day before stays as it was. Prints the revised plan (its
    /// JSON can be adjusted again) and calendars that replace the old ones.
    #[command(
        after_help = "Example: taper adjust plan.json --from 2027-01-10 --back -o plan-2.json",
        after_long_help = "Examples:\n  taper adjust plan.json --from 2027-01-10 --hold 14 -o plan-2.json\n  taper adjust plan.json --from 2027-01-10 --back --reason \"withdrawal symptoms\" -o plan-2.json\n  taper adjust plan.json --from 2027-01-10 --slower 2 --format ics -o plan-2.ics\n  taper adjust plans.jsonl --id A17 --from 2027-01-10 --percent 5 -o A17-2.json"
    )]
    Adjust(Box<AdjustArgs>),
    /// Plan one patient under several sets of plan options, side by side.
    ///
    /// Each --with is a string of `taper plan` taper options (quoted like a
    /// shell would); every variant is planned by the normal engine and
    /// compared on total days, steps, largest cut, last dose, dispensing
    /// and warnings.
    #[command(
        after_help = "Example: taper compare sertraline --dose 100mg --with \"--strategy percent --percent 10\" --with \"--strategy hyperbolic\"",
        after_long_help = "Examples:\n  taper compare baclofen --dose 60mg --with \"--strategy linear --step 10mg\" --with \"--strategy percent --percent 20 --interval 14\"\n  taper compare sertraline --dose 100mg --with \"--strategy percent --percent 10 --interval 28\" --with \"--strategy hyperbolic\" -o compare.html"
    )]
    Compare(Box<CompareArgs>),
    /// A dose as its equivalent of another drug of its class, or as
    /// morphine milligram equivalents (opioids).
    ///
    /// Benzodiazepines and z-drugs convert to diazepam (or to each other
    /// through it), glucocorticoids to prednisone, with the published range
    /// and sources. Opioids print MME only: the CDC 2022 guideline advises
    /// against using MME to choose a dose of another opioid.
    #[command(
        after_help = "Example: taper convert lorazepam 3mg --to diazepam",
        after_long_help = "Examples:\n  taper convert lorazepam 3mg --to diazepam\n  taper convert alprazolam 1.5mg --to clonazepam\n  taper convert oxycodone 60mg"
    )]
    Convert {
        /// Profile name (case-insensitive) or path to a .toml profile.
        profile: String,
        /// The total daily dose, e.g. 3mg or 500mcg.
        #[arg(allow_hyphen_values = true)]
        amount: String,
        /// The drug to convert to [default: the class's reference drug].
        #[arg(long, value_name = "PROFILE")]
        to: Option<String>,
    },
    /// List, show or check drug profiles.
    Profiles {
        #[command(subcommand)]
        action: Option<ProfilesAction>,
    },
    /// Serve the planner as a web page and an HTTP API (intranet use).
    ///
    /// A small web form for people without a terminal, and `POST /api/plan`
    /// for other systems: the same engine, profiles and files as `taper
    /// plan`. Binds to localhost unless told otherwise. There are no user
    /// accounts: on a network, put it behind the clinic's proxy.
    #[command(
        after_help = "Example: taper serve --listen 127.0.0.1:8080",
        after_long_help = "Examples:\n  taper serve\n  taper serve --listen 0.0.0.0:8080 --profiles-dir /srv/taper/profiles\n  curl -s localhost:8080/api/plan -d '{\"profile\":\"baclofen\",\"dose\":\"60mg\"}'"
    )]
    Serve(ServeArgs),
    /// Print a shell completion script to stdout.
    #[command(
        after_long_help = "Examples:\n  taper completions bash > ~/.local/share/bash-completion/completions/taper\n  taper completions zsh > ~/.zfunc/_taper\n  taper completions fish > ~/.config/fish/completions/taper.fish"
    )]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    #[command(after_long_help = "Example:\n  taper man > taper.1 && man -l taper.1")]
    Man,
}

impl Cli {
    /// `--color` of the one command that prints a table (`plan`); auto
    /// for the others.
    pub fn color(&self) -> ColorChoice {
        match &self.command {
            Command::Plan(args) => args.color,
            _ => ColorChoice::Auto,
        }
    }
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
        /// Profile files to check; - reads one from standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Profile name (case-insensitive) or path to a .toml profile (anything containing '/' or ending in .toml).
    pub profile: String,

    /// Current total daily dose, e.g. 60mg.
    ///
    /// Accepted: 60mg, 60 mg, 60 (the profile's unit), 0.1mg, 100mcg, or
    /// 2.5mL when exactly one liquid is selected (--strengths 1mg/mL). Use a
    /// decimal point: 60.5mg.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub dose: String,

    /// How to taper (in batch mode these are defaults for every row).
    #[command(flatten)]
    pub taper: TaperOptions,

    /// Patient name for calendars (ics, html) and json: up to 100 characters, no control characters.
    #[arg(long, value_name = "NAME", help_heading = CALENDAR)]
    pub patient: Option<String>,

    /// Plan id in every calendar UID and the JSON (A-Z a-z 0-9 . _ -, 1-64 characters) [default: derived from patient, drug, start date and starting dose].
    #[arg(long, value_name = "ID", help_heading = CALENDAR)]
    pub plan_id: Option<String>,

    /// ics: a timed reminder per dose at these local times, e.g. 8:00,14:00,20:00.
    ///
    /// One 24-hour H:MM or HH:MM time per dose of the starting day, in
    /// increasing order. When the plan later gives fewer doses a day, each
    /// remaining dose keeps its own time.
    #[arg(long, value_name = "HH:MM,...", help_heading = CALENDAR)]
    pub times: Option<String>,

    /// html: first day of each calendar week (Sunday is the US habit).
    ///
    /// The first column of every printed month grid. Monday follows ISO
    /// 8601 and the habit of most of Europe; Sunday is usual on US, Canadian
    /// and Japanese calendars.
    #[arg(long, value_enum, value_name = "DAY", ignore_case = true, default_value_t = WeekStart::Monday, help_heading = CALENDAR)]
    pub week_start: WeekStart,

    /// Output format [default: table, or from the -o file extension].
    #[arg(long, value_enum, ignore_case = true, help_heading = OUTPUT)]
    pub format: Option<FormatArg>,

    /// Rows: steps (table default), days (csv/json default) or fills (what to dispense per --supply period).
    #[arg(long, value_enum, ignore_case = true, help_heading = OUTPUT)]
    pub view: Option<ViewArg>,

    /// Write to FILE instead of stdout; - is stdout.
    ///
    /// Written atomically (a hidden temporary file renamed into place), so
    /// an error or a signal never leaves a partial file; never overwrites an
    /// existing file without --force. The format follows the extension
    /// (.csv, .json, .fhir.json, .txt, .ics, .html) unless --format is given.
    #[arg(short, long, value_name = "FILE", help_heading = OUTPUT)]
    pub output: Option<PathBuf>,

    /// Overwrite an existing output file.
    #[arg(long, help_heading = OUTPUT)]
    pub force: bool,

    /// When to colour the table: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ColorChoice::Auto, help_heading = OUTPUT)]
    pub color: ColorChoice,

    /// How the CSV is spelled for spreadsheets.
    #[command(flatten)]
    pub spreadsheet: SpreadsheetArgs,
}

/// `--bom`, `--ascii`: CSV for spreadsheets (plan and batch).
#[derive(Debug, Clone, Copy, Args)]
pub struct SpreadsheetArgs {
    /// csv: start with a UTF-8 byte-order mark (for Excel).
    #[arg(long, help_heading = OUTPUT)]
    pub bom: bool,

    /// csv: write only ASCII (× as x, ½ as 1/2; names transliterated), for importers that guess a legacy charset.
    #[arg(long, help_heading = OUTPUT)]
    pub ascii: bool,
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
    /// FHIR R4 Bundle (JSON) of draft MedicationRequests, one per fill and product.
    Fhir,
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
    /// What to dispense per fill (see --supply).
    Fills,
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

    /// Output format: one stream (csv, jsonl, fhir as ndjson) or one calendar file per row (ics, html).
    #[arg(long, value_enum, ignore_case = true, default_value_t = BatchFormatArg::Csv, help_heading = OUTPUT)]
    pub format: BatchFormatArg,

    /// CSV rows: days (one per patient-day), summary (one per patient) or fills (one per fill and product).
    #[arg(long, value_enum, ignore_case = true, default_value_t = BatchViewArg::Days, help_heading = OUTPUT)]
    pub view: BatchViewArg,

    /// csv/jsonl: write to FILE instead of stdout; - is stdout.
    ///
    /// Written atomically; never overwrites an existing file without --force.
    #[arg(short, long, value_name = "FILE", help_heading = OUTPUT)]
    pub output: Option<PathBuf>,

    /// Overwrite existing output files.
    #[arg(long, help_heading = OUTPUT)]
    pub force: bool,

    /// Stop at the first bad row (exit 2) and write nothing.
    #[arg(long)]
    pub strict: bool,

    /// ics/html: write one file per row, DIR/<id>.ics or DIR/<id>.html.
    ///
    /// DIR is created when missing (its parent must exist). Ids must be
    /// plain file names (letters, digits, -, _ and . not first); nothing is
    /// written until every row is done, and no file is overwritten without
    /// --force. stdout lists the files written (not with -q).
    #[arg(long, value_name = "DIR", help_heading = OUTPUT)]
    pub out_dir: Option<PathBuf>,

    /// How the CSV is spelled for spreadsheets.
    #[command(flatten)]
    pub spreadsheet: SpreadsheetArgs,

    /// Defaults for every row; a non-empty cell overrides them.
    #[command(flatten)]
    pub taper: TaperOptions,
}

/// `taper compare`: one patient, several sets of plan options.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Profile name (case-insensitive) or path to a .toml profile.
    pub profile: String,

    /// Current total daily dose, e.g. 60mg (as for `taper plan`).
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub dose: String,

    /// One variant's taper options, e.g. "--strategy percent --percent 10" (2 to 8 of them).
    ///
    /// Any of `taper plan`'s taper and product options (--strategy, --step,
    /// --percent, --occupancy-step, --schedule, --interval, --target,
    /// --doses-per-day, --strengths, --form), split like a shell would.
    #[arg(long = "with", value_name = "OPTIONS", allow_hyphen_values = true, required = true, help_heading = TAPER)]
    pub with: Vec<String>,

    /// First day of the first reduced dose for every variant, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE", help_heading = TAPER)]
    pub start: Option<String>,

    /// Output format [default: table, or from the -o file extension].
    #[arg(long, value_enum, ignore_case = true, help_heading = OUTPUT)]
    pub format: Option<CompareFormatArg>,

    /// Write to FILE instead of stdout; - is stdout (written atomically).
    #[arg(short, long, value_name = "FILE", help_heading = OUTPUT)]
    pub output: Option<PathBuf>,

    /// Overwrite an existing output file.
    #[arg(long, help_heading = OUTPUT)]
    pub force: bool,
}

/// Output formats of `taper compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormatArg {
    Table,
    Csv,
    Json,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BatchFormatArg {
    Csv,
    Jsonl,
    /// One FHIR R4 Bundle per row, one per line (ndjson).
    Fhir,
    Ics,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BatchViewArg {
    Days,
    Summary,
    /// One row per fill and product (see --supply).
    Fills,
}

/// The taper options shared by `plan` and `batch` (where they are defaults
/// that a row's cells override).
#[derive(Debug, Args)]
pub struct TaperOptions {
    /// First day of the first reduced dose, YYYY-MM-DD [default: today, local date].
    #[arg(long, value_name = "DATE", help_heading = TAPER)]
    pub start: Option<String>,

    /// Taper strategy [default: the profile's].
    #[arg(long, value_enum, ignore_case = true, help_heading = TAPER)]
    pub strategy: Option<StrategyArg>,

    /// linear: amount cut each step (e.g. 5mg).
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true, help_heading = TAPER)]
    pub step: Option<String>,

    /// percent: percentage of the current dose cut each step, 0 < P < 100.
    #[arg(long, value_name = "P", allow_hyphen_values = true, help_heading = TAPER)]
    pub percent: Option<String>,

    /// hyperbolic: receptor-occupancy percentage points per step.
    #[arg(long, value_name = "P", allow_hyphen_values = true, help_heading = TAPER)]
    pub occupancy_step: Option<String>,

    /// custom: dose x days list, e.g. "40x7,30x7,20x14"; DOSExDAYS/2 doses every second day.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, help_heading = TAPER)]
    pub schedule: Option<String>,

    /// Days each step is held: 7, 7d or 2w [default: the profile's].
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, help_heading = TAPER)]
    pub interval: Option<String>,

    /// Dose to end at; 0 stops completely.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true, help_heading = TAPER)]
    pub target: Option<String>,

    /// Administrations per day [default: the profile's].
    #[arg(long, value_name = "N", allow_hyphen_values = true, help_heading = TAPER)]
    pub doses_per_day: Option<String>,

    /// Only these products are on hand, e.g. 10mg or 10mg,5mg or 1mg/mL [default: all the profile's].
    #[arg(long, value_name = "LIST", help_heading = PRODUCTS)]
    pub strengths: Option<String>,

    /// Only this form: tablet, capsule or liquid.
    #[arg(long, value_name = "FORM", help_heading = PRODUCTS)]
    pub form: Option<String>,

    /// Only products sold in this market: us, uk, … [default: the profile's first market].
    #[arg(long, value_name = "MARKET", help_heading = PRODUCTS)]
    pub market: Option<String>,

    /// Days the last dose before stopping is held: 14, 14d or 2w, 1 to 365 [default: the profile's final hold].
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, help_heading = TAPER)]
    pub final_hold: Option<String>,

    /// Switch to this drug first, one dose at a time, then taper it (e.g. lorazepam to diazepam).
    ///
    /// Only switches the profile's sources describe ([switch] in `taper
    /// profiles show`). Each step replaces one more administration, the
    /// last of the day first, by its equivalent, rounded down to what the
    /// new drug's products give; then the new drug is tapered with its own
    /// profile. --strategy, its parameters, --interval, --target,
    /// --strengths and --form apply to that taper; --dose and
    /// --doses-per-day describe the drug taken now.
    #[arg(long, value_name = "PROFILE", help_heading = TAPER)]
    pub switch_to: Option<String>,

    /// Days between two switch steps: 7, 7d or 1w, 1 to 90 [default: the profile's].
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, help_heading = TAPER)]
    pub switch_interval: Option<String>,

    /// Dispense in fills of DAYS days (28, 28d or 4w; 1 to 365), rounded up to whole packs.
    ///
    /// Each fill lists what to dispense of every product for its days:
    /// tablet pieces pooled, then rounded up to whole units and, where the
    /// profile gives pack sizes, to whole packs (controlled drugs: no more
    /// than the fill needs, whole packs plus loose units). Shown in the
    /// table, `--view fills` (csv, json), the HTML overview and FHIR.
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, help_heading = PRODUCTS)]
    pub supply: Option<String>,
}

/// `taper adjust`: which plan, from when, and what changes.
#[derive(Debug, Args)]
pub struct AdjustArgs {
    /// Plan JSON written by `taper plan --format json` (or a batch jsonl file with --id).
    pub plan: PathBuf,

    /// Batch jsonl: the row id of the plan to adjust.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,

    /// First day that changes, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE", help_heading = TAPER)]
    pub from: Option<String>,

    /// Stay on the dose taken on DATE for DAYS more, then continue.
    #[arg(long, value_name = "DAYS", help_heading = TAPER)]
    pub hold: Option<String>,

    /// Back to the previous step's dose, hold it one interval, then half steps.
    #[arg(long, help_heading = TAPER)]
    pub back: bool,

    /// Intervals F times as long from DATE (with --back: instead of half steps).
    #[arg(long, value_name = "F", help_heading = TAPER)]
    pub slower: Option<String>,

    /// Why (kept in the revision history).
    #[arg(long, value_name = "TEXT", help_heading = TAPER)]
    pub reason: Option<String>,

    /// Adjust although the profile changed since the plan was drafted.
    #[arg(long, help_heading = PROFILES)]
    pub allow_profile_change: bool,

    /// Re-plan the rest with this strategy.
    #[arg(long, value_enum, ignore_case = true, help_heading = TAPER)]
    pub strategy: Option<StrategyArg>,

    /// linear: amount cut each step (e.g. 5mg).
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true, help_heading = TAPER)]
    pub step: Option<String>,

    /// percent: percentage of the current dose cut each step.
    #[arg(long, value_name = "P", allow_hyphen_values = true, help_heading = TAPER)]
    pub percent: Option<String>,

    /// hyperbolic: receptor-occupancy percentage points per step.
    #[arg(long, value_name = "P", allow_hyphen_values = true, help_heading = TAPER)]
    pub occupancy_step: Option<String>,

    /// custom: dose x days list from DATE, e.g. "20x14,10x14".
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, help_heading = TAPER)]
    pub schedule: Option<String>,

    /// Days each step is held: 7, 7d or 2w.
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, help_heading = TAPER)]
    pub interval: Option<String>,

    /// Dose to end at; 0 stops completely.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true, help_heading = TAPER)]
    pub target: Option<String>,

    /// Administrations per day.
    #[arg(long, value_name = "N", allow_hyphen_values = true, help_heading = TAPER)]
    pub doses_per_day: Option<String>,

    /// Only these products from DATE, e.g. 10mg,5mg.
    #[arg(long, value_name = "LIST", help_heading = PRODUCTS)]
    pub strengths: Option<String>,

    /// Only this form from DATE: tablet, capsule or liquid.
    #[arg(long, value_name = "FORM", help_heading = PRODUCTS)]
    pub form: Option<String>,

    /// Only products sold in this market from DATE: us, uk, ….
    #[arg(long, value_name = "MARKET", help_heading = PRODUCTS)]
    pub market: Option<String>,

    /// Days the last dose before stopping is held: 14, 14d or 2w, 1 to 365.
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, help_heading = TAPER)]
    pub final_hold: Option<String>,

    /// html: first day of each calendar week.
    #[arg(long, value_enum, value_name = "DAY", ignore_case = true, default_value_t = WeekStart::Monday, help_heading = CALENDAR)]
    pub week_start: WeekStart,

    /// Output format [default: table, or from the -o file extension].
    #[arg(long, value_enum, ignore_case = true, help_heading = OUTPUT)]
    pub format: Option<FormatArg>,

    /// Rows: steps (table default), days (csv/json default) or fills (what to dispense per --supply period).
    #[arg(long, value_enum, ignore_case = true, help_heading = OUTPUT)]
    pub view: Option<ViewArg>,

    /// Write to FILE instead of stdout; - is stdout.
    #[arg(short, long, value_name = "FILE", help_heading = OUTPUT)]
    pub output: Option<PathBuf>,

    /// Overwrite an existing output file.
    #[arg(long, help_heading = OUTPUT)]
    pub force: bool,

    /// How the CSV is spelled for spreadsheets.
    #[command(flatten)]
    pub spreadsheet: SpreadsheetArgs,
}

/// `taper serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Most plans admitted at once (drafting or waiting for a core); more get 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_in_flight: u32,

    /// Longest a request may take, in seconds (408 after).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}
