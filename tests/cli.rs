//! End-to-end tests of the `taper` binary: exit codes, error lines, output
//! files, formats, warnings, units, profile lookup, TZ independence and
//! closed pipes. Every plan uses a fixed `--start` so nothing depends on the
//! clock. Outputs are parsed (CSV with `csv`, JSON with `serde_json`) and
//! checked against the README, which is the contract.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

const START: &str = "2026-12-01";
const DAY_HEADER: &str =
    "date,day,step,daily_dose,unit,change,doses,products,note,revision,mme,drugs";
const STEP_HEADER: &str =
    "step,start,end,days,daily_dose,unit,change,doses,products,average_change_percent,revision,mme,drugs";
/// The built-in profiles, sorted: every `profiles/*.toml` (the build
/// embeds each one).
fn builtins() -> Vec<&'static str> {
    taper::profile::BUILTIN_PROFILES
        .iter()
        .map(|(n, _)| *n)
        .collect()
}

// ---------------------------------------------------------------- helpers

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("taper")
}

/// The binary with a clean environment for the things it reads.
/// (No `$TAPER_PROFILES`, user profile folder, `COLUMNS` or `NO_COLOR`:
/// the table's width comes from COLUMNS, so tests see the piped layout.)
fn taper() -> Command {
    Command::from_std(common::taper())
}

/// `taper plan ARGS --start 2026-12-01`.
fn plan_cmd(args: &[&str]) -> Command {
    let mut c = taper();
    c.arg("plan").args(args).args(["--start", START]);
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("run taper")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts success; returns (stdout, stderr).
fn success(c: Command) -> (String, String) {
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        !text(&o.stderr).contains("panicked"),
        "panic on stderr:\n{}",
        show(&o)
    );
    (text(&o.stdout), text(&o.stderr))
}

fn plan_ok(args: &[&str]) -> (String, String) {
    success(plan_cmd(args))
}

/// Asserts the documented failure shape: exit `code`, nothing on stdout,
/// exactly one stderr line, starting `error: ` and containing every needle.
/// Returns that line.
fn fails_with(c: Command, code: i32, needles: &[&str]) -> String {
    let o = run(c);
    assert_eq!(o.status.code(), Some(code), "{}", show(&o));
    assert!(o.stdout.is_empty(), "stdout not empty:\n{}", show(&o));
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one stderr line:\n{}", show(&o));
    assert!(lines[0].starts_with("error: "), "{}", show(&o));
    assert!(!err.contains("panicked"), "{}", show(&o));
    for n in needles {
        assert!(lines[0].contains(n), "stderr lacks {n:?}:\n{}", show(&o));
    }
    lines[0].to_string()
}

/// The profile rows of `taper profiles`: the lines before the blank line
/// that starts the list of folders searched.
fn profile_rows(listing: &str) -> impl Iterator<Item = &str> {
    listing.lines().take_while(|l| !l.is_empty())
}

fn usage_error(args: &[&str], needles: &[&str]) -> String {
    fails_with(plan_cmd(args), 2, needles)
}

fn has_ansi(s: &str) -> bool {
    s.contains('\x1b')
}

/// Parses CSV text into its header line and records.
fn parse_csv(s: &str) -> (String, Vec<csv::StringRecord>) {
    let header = s.lines().next().unwrap_or_default().to_string();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(s.as_bytes());
    let h = r.headers().expect("csv header").clone();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("csv record")).collect();
    for row in &rows {
        assert_eq!(row.len(), h.len(), "ragged row {row:?}");
    }
    (header, rows)
}

/// One CSV days-view row, by column name.
struct DayRow {
    date: String,
    day: u32,
    step: u32,
    daily_dose: i64,
    unit: String,
    change: i64,
    doses: String,
    products: String,
    note: String,
}

fn day_rows(s: &str) -> Vec<DayRow> {
    let (header, rows) = parse_csv(s);
    assert_eq!(header, DAY_HEADER);
    rows.iter()
        .map(|r| DayRow {
            date: r[0].to_string(),
            day: r[1].parse().expect("day number"),
            step: r[2].parse().expect("step number"),
            daily_dose: micro(&r[3]),
            unit: r[4].to_string(),
            change: micro(&r[5]),
            doses: r[6].to_string(),
            products: r[7].to_string(),
            note: r[8].to_string(),
        })
        .collect()
}

/// A plain decimal (as taper prints amounts) in millionths, exactly.
fn micro(s: &str) -> i64 {
    let (neg, t) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    assert!(
        !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.len() <= 6
            && frac.bytes().all(|b| b.is_ascii_digit())
            && !frac.ends_with('0'),
        "not a plain decimal without trailing zeros: {s:?}"
    );
    let mut v: i64 = int.parse::<i64>().unwrap() * 1_000_000;
    if !frac.is_empty() {
        v += format!("{frac:0<6}").parse::<i64>().unwrap();
    }
    if neg {
        -v
    } else {
        v
    }
}

fn mg(n: i64) -> i64 {
    n * 1_000_000
}

/// Parses taper's plan JSON and checks it against docs/plan.schema.json.
fn json(s: &str) -> Value {
    let v = serde_json::from_str(s).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{s}"));
    common::assert_valid_plan_json(&v);
    v
}

fn plan_json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    json(&plan_ok(&a).0)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string: {}", v[key]))
}

fn date(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| panic!("bad date {s:?}"))
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn builtin_profile_text(name: &str) -> String {
    fs::read_to_string(manifest_dir().join("profiles").join(format!("{name}.toml")))
        .expect("read built-in profile")
}

/// Writes baclofen.toml with `name` and `display_name` replaced.
fn write_baclofen_variant(path: &Path, name: &str, display_name: &str) {
    let src = builtin_profile_text("baclofen");
    let mut out = String::new();
    for line in src.lines() {
        if line.starts_with("name = ") {
            out.push_str(&format!("name = \"{name}\"\n"));
        } else if line.starts_with("display_name = ") {
            out.push_str(&format!("display_name = \"{display_name}\"\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(out.contains(&format!("name = \"{name}\"")));
    fs::write(path, out).expect("write profile");
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

// ------------------------------------------------- usage errors (exit 2)

#[test]
fn unknown_profile_suggests_the_closest_name() {
    usage_error(
        &["baclofn", "--dose", "60mg"],
        &[
            "'baclofn'",
            "did you mean 'baclofen'",
            "see `taper profiles`",
        ],
    );
    // Nothing close: the known names, but no suggestion.
    let line = usage_error(
        &["zzzz", "--dose", "60mg"],
        &["'zzzz'", "known profiles: ", "see `taper profiles`"],
    );
    assert!(!line.contains("did you mean"), "{line}");
}

#[test]
fn profile_path_that_does_not_exist() {
    // A file the system cannot read is an I/O error: exit 1.
    let args = ["./no/such/profile.toml", "--dose", "60mg"];
    fails_with(plan_cmd(&args), 1, &["./no/such/profile.toml"]);
    // Ending in .toml makes it a path, even without a slash.
    fails_with(
        plan_cmd(&["nosuch.toml", "--dose", "60mg"]),
        1,
        &["nosuch.toml"],
    );
}

#[test]
fn malformed_profile_file_reports_file_line_col() {
    let dir = tempdir();
    // A TOML syntax error.
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "name = \"bad\"\nunit = [\n").unwrap();
    let bad_s = bad.to_str().unwrap();
    let line = usage_error(&[bad_s, "--dose", "60mg"], &[bad_s]);
    assert_file_line_col(&line, bad_s);

    // A valid TOML file with one bad value: the exact line and column. (A
    // value that no other field depends on: a bad `doses_per_day` is also
    // reported against the `[doses]` slots, on a second line.)
    let src = builtin_profile_text("baclofen");
    let (idx, _) = src
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("usual_max_daily = "))
        .expect("usual_max_daily line");
    let zero = dir.path().join("zero.toml");
    fs::write(
        &zero,
        src.replacen("usual_max_daily = \"80\"", "usual_max_daily = \"0\"", 1),
    )
    .unwrap();
    let zero_s = zero.to_str().unwrap();
    let col = "usual_max_daily = ".len() + 1;
    usage_error(
        &[zero_s, "--dose", "60mg"],
        &[&format!("{zero_s}:{}:{col}:", idx + 1), "usual_max_daily"],
    );
}

/// `FILE:LINE:COL:` right after `error: `.
fn assert_file_line_col(line: &str, file: &str) {
    let rest = line
        .strip_prefix("error: ")
        .and_then(|r| r.strip_prefix(file))
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no FILE: prefix in {line:?}"));
    let mut parts = rest.splitn(3, ':');
    let l = parts.next().unwrap_or_default();
    let c = parts.next().unwrap_or_default();
    assert!(
        l.parse::<u32>().is_ok_and(|n| n > 0) && c.parse::<u32>().is_ok_and(|n| n > 0),
        "no LINE:COL in {line:?}"
    );
}

#[test]
fn malformed_dose_or_unit_is_refused() {
    for dose in ["60xg", "abc", "60mgx", "60.mg", "6 0mg", "60mg,5mg", ""] {
        usage_error(&["baclofen", "--dose", dose], &[&format!("dose '{dose}'")]);
    }
}

#[test]
fn zero_negative_and_non_finite_doses_are_refused() {
    for dose in ["0mg", "0", "-5mg", "inf", "NaN", "1e400", "-0.5"] {
        usage_error(&["baclofen", "--dose", dose], &[&format!("dose '{dose}'")]);
    }
}

#[test]
fn huge_doses_are_refused() {
    usage_error(
        &["baclofen", "--dose", "99999999999mg"],
        &["'99999999999mg'", "larger than"],
    );
    usage_error(
        &["baclofen", "--dose", "99999999999999999999999999mg"],
        &["'99999999999999999999999999mg'"],
    );
    // Too many decimal places to be exact.
    usage_error(&["baclofen", "--dose", "0.0000001mg"], &["'0.0000001mg'"]);
}

#[test]
fn invalid_start_dates_are_refused() {
    for d in [
        "2026-02-30",
        "2025-02-29",
        "2026-13-01",
        "2026-12-1",
        "20261201",
        "tomorrow",
    ] {
        let mut c = taper();
        c.args(["plan", "baclofen", "--dose", "60mg", "--start", d]);
        fails_with(c, 2, &[&format!("'{d}'"), "YYYY-MM-DD"]);
    }
    // A real leap day is fine.
    let mut c = taper();
    c.args([
        "plan",
        "baclofen",
        "--dose",
        "60mg",
        "--start",
        "2028-02-29",
    ]);
    success(c);
}

#[test]
fn invalid_intervals_are_refused() {
    for i in ["0", "abc", "-3", "3651", "10y", "1.5"] {
        usage_error(
            &["baclofen", "--dose", "60mg", "--interval", i],
            &[&format!("interval '{i}'"), "7d or 2w"],
        );
    }
}

#[test]
fn intervals_accept_days_and_weeks() {
    let d7 = plan_ok(&[
        "baclofen",
        "--dose",
        "30mg",
        "--interval",
        "7",
        "--format",
        "csv",
    ])
    .0;
    let d7d = plan_ok(&[
        "baclofen",
        "--dose",
        "30mg",
        "--interval",
        "7d",
        "--format",
        "csv",
    ])
    .0;
    let w1 = plan_ok(&[
        "baclofen",
        "--dose",
        "30mg",
        "--interval",
        "1w",
        "--format",
        "csv",
    ])
    .0;
    assert_eq!(d7, d7d);
    assert_eq!(d7, w1);
    let two_weeks = plan_json(&["baclofen", "--dose", "30mg", "--interval", "2w"]);
    assert_eq!(two_weeks["request"]["interval_days"], 14);
}

#[test]
fn invalid_percents_are_refused() {
    for p in ["0", "100", "abc", "-5", "150", "1e1", "nan"] {
        usage_error(
            &["sertraline", "--dose", "100mg", "--percent", p],
            &[&format!("'{p}'"), "less than 100"],
        );
    }
    for p in ["0", "100"] {
        usage_error(
            &["sertraline", "--dose", "100mg", "--occupancy-step", p],
            &[&format!("'{p}'")],
        );
    }
}

#[test]
fn other_out_of_range_options_are_refused() {
    for n in ["0", "13", "2.5", "x"] {
        usage_error(
            &["baclofen", "--dose", "60mg", "--doses-per-day", n],
            &[&format!("'{n}'"), "1 to 12"],
        );
    }
    usage_error(
        &["baclofen", "--dose", "60mg", "--form", "pill"],
        &["'pill'", "tablet, capsule, liquid"],
    );
    usage_error(
        &["baclofen", "--dose", "60mg", "--form", "capsule"],
        &["capsule"],
    );
    usage_error(
        &["baclofen", "--dose", "60mg", "--target", "-5mg"],
        &["target '-5mg'"],
    );
}

#[test]
fn target_must_be_below_the_dose() {
    usage_error(
        &["baclofen", "--dose", "60mg", "--target", "60mg"],
        &["target 60 mg", "dose 60 mg"],
    );
    usage_error(
        &["baclofen", "--dose", "60mg", "--target", "80mg"],
        &["target 80 mg"],
    );
}

#[test]
fn custom_schedule_that_rises_or_cannot_be_parsed() {
    let p = ["prednisone", "--dose", "40mg", "--schedule"];
    let with = |sched: &'static str| {
        let mut v = p.to_vec();
        v.push(sched);
        v
    };
    usage_error(&with("30x7,35x7"), &["entry 2 (35 mg)", "entry 1 (30 mg)"]);
    usage_error(&with("30x7,30x7"), &["entry 2 (30 mg)"]);
    usage_error(
        &with("50x7,30x7"),
        &["entry 1 (50 mg)", "current dose (40 mg)"],
    );
    usage_error(&with("30y7"), &["'30y7'", "DOSExDAYS"]);
    usage_error(&with("30x7,"), &["DOSExDAYS"]);
    usage_error(&with("30x0"), &["'30x0'"]);
    usage_error(&with("abc"), &["'abc'"]);
    // Below a non-zero target.
    let mut v = with("30x7,10x7");
    v.extend(["--target", "20mg"]);
    usage_error(&v, &["10 mg", "target 20 mg"]);
}

#[test]
fn strength_the_profile_does_not_have() {
    usage_error(
        &["baclofen", "--dose", "60mg", "--strengths", "7mg"],
        &["'7mg'", "10mg", "2mg/mL"],
    );
    usage_error(
        &["baclofen", "--dose", "60mg", "--strengths", "10mg,3mg/mL"],
        // The message names the bad entry as typed.
        &["'3mg/mL'", "1mg/mL"],
    );
    // Keys are unique: the full key always works, and the bare strength
    // when only one product has it.
    usage_error(
        &["baclofen", "--dose", "60mg", "--strengths", "10mg-capsule"],
        &["'10mg-capsule'", "10mg-tablet"],
    );
    for strengths in ["10mg-tablet", "10 mg-Tablet", "10mg"] {
        let v = plan_json(&["baclofen", "--dose", "60mg", "--strengths", strengths]);
        assert_eq!(v["products"][0]["key"], "10mg-tablet", "{strengths}");
    }
}

#[test]
fn strength_shared_by_a_tablet_and_a_capsule_is_refused_naming_both() {
    // Tizanidine 4 mg is both a tablet and a capsule (not interchangeable).
    for strengths in ["4mg", "4mg,6mg", "4 mg"] {
        let line = usage_error(
            &["tizanidine", "--dose", "24mg", "--strengths", strengths],
            &["'4", "4mg-tablet, 4mg-capsule"],
        );
        assert!(line.contains("more than one"), "{line}");
    }
    let v = plan_json(&["tizanidine", "--dose", "24mg", "--strengths", "4mg-capsule"]);
    let products = v["products"].as_array().unwrap();
    assert!(
        products.iter().all(|p| p["form"] == "capsule"),
        "{products:?}"
    );
}

#[test]
fn options_of_different_strategies_are_incompatible() {
    usage_error(
        &[
            "baclofen",
            "--dose",
            "60mg",
            "--step",
            "5mg",
            "--strategy",
            "percent",
        ],
        &["--step", "--strategy percent", "linear"],
    );
    usage_error(
        &[
            "baclofen",
            "--dose",
            "60mg",
            "--step",
            "5mg",
            "--percent",
            "10",
        ],
        &["--step", "--percent", "cannot be combined"],
    );
    usage_error(
        &["baclofen", "--dose", "60mg", "--strategy", "percent"],
        &["--percent"],
    );
}

#[test]
fn hyperbolic_needs_an_occupancy_model() {
    for extra in [["--strategy", "hyperbolic"], ["--occupancy-step", "5"]] {
        let mut a = vec!["baclofen", "--dose", "60mg"];
        a.extend(extra);
        usage_error(&a, &["hyperbolic", "baclofen", "linear, percent, custom"]);
    }
    // Sertraline has a sourced model: --strategy hyperbolic uses the
    // profile's default occupancy step, the same as giving it.
    let a = plan_ok(&[
        "sertraline",
        "--dose",
        "100mg",
        "--strategy",
        "hyperbolic",
        "--format",
        "csv",
    ])
    .0;
    let b = plan_ok(&[
        "sertraline",
        "--dose",
        "100mg",
        "--occupancy-step",
        "5",
        "--format",
        "csv",
    ])
    .0;
    assert_eq!(a, b);
}

#[test]
fn interval_does_not_apply_to_custom() {
    usage_error(
        &[
            "prednisone",
            "--dose",
            "40mg",
            "--schedule",
            "30x7",
            "--interval",
            "7",
        ],
        &["--interval", "custom"],
    );
}

#[test]
fn plan_longer_than_ten_years_is_refused() {
    usage_error(
        &[
            "sertraline",
            "--dose",
            "200mg",
            "--strategy",
            "percent",
            "--percent",
            "0.1",
            "--interval",
            "40",
        ],
        &["3653 days", "10 years"],
    );
    usage_error(
        &["baclofen", "--dose", "60mg", "--interval", "3650"],
        &["3653 days", "10 years"],
    );
}

#[test]
fn plan_just_under_ten_years_is_accepted() {
    // Baclofen 80 mg in 5 mg steps: 15 steps held 243 days (the last dose
    // too: its 7-day final hold is shorter), then the stop day: 3646 days,
    // inside the limit; one more day per step is past it.
    let v = plan_json(&["baclofen", "--dose", "80mg", "--interval", "243"]);
    let days = v["days"].as_array().unwrap().len();
    assert_eq!(days, 15 * 243 + 1, "{days} days");
    assert!(days <= 3653);
    let (start, end) = (
        date(s(&v["request"], "start")),
        date(s(&v["request"], "end")),
    );
    assert_eq!((end - start).num_days() + 1, days as i64);
    usage_error(
        &["baclofen", "--dose", "80mg", "--interval", "244"],
        &["3653 days", "10 years"],
    );
}

#[test]
fn output_extension_without_a_format_is_refused() {
    let dir = tempdir();
    let out = dir.path().join("plan.dat");
    let out_s = out.to_str().unwrap();
    usage_error(
        &["baclofen", "--dose", "60mg", "-o", out_s],
        &[out_s, ".csv", ".json"],
    );
    assert!(dir_entries(dir.path()).is_empty());
}

// ------------------------------------------------------------ I/O (exit 1)

#[test]
fn existing_output_file_is_never_overwritten_without_force() {
    let dir = tempdir();
    let out = dir.path().join("plan.csv");
    fs::write(&out, "keep me\n").unwrap();
    let out_s = out.to_str().unwrap();
    fails_with(
        plan_cmd(&["baclofen", "--dose", "60mg", "-o", out_s]),
        1,
        &[out_s, "--force"],
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), "keep me\n");
    assert_eq!(dir_entries(dir.path()), ["plan.csv"]);
}

#[test]
fn force_overwrites_the_output_file() {
    let dir = tempdir();
    let out = dir.path().join("plan.csv");
    fs::write(&out, "old\n").unwrap();
    let (stdout, stderr) = plan_ok(&[
        "baclofen",
        "--dose",
        "60mg",
        "-o",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("prescriber oversight"), "{stderr}");
    let written = fs::read_to_string(&out).unwrap();
    let (stdout_csv, _) = plan_ok(&["baclofen", "--dose", "60mg", "--format", "csv"]);
    assert_eq!(
        written, stdout_csv,
        "the file holds exactly what stdout would"
    );
    assert_eq!(dir_entries(dir.path()), ["plan.csv"]);
}

#[test]
fn output_into_a_missing_directory_exits_1() {
    let dir = tempdir();
    let out = dir.path().join("missing").join("plan.csv");
    let o = run(plan_cmd(&[
        "baclofen",
        "--dose",
        "60mg",
        "-o",
        out.to_str().unwrap(),
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("missing"), "{err}");
    assert!(!err.contains("panicked"));
    assert!(dir_entries(dir.path()).is_empty());
}

#[test]
fn output_onto_a_directory_exits_1() {
    let dir = tempdir();
    let sub = dir.path().join("out.csv");
    fs::create_dir(&sub).unwrap();
    let sub_s = sub.to_str().unwrap();
    fails_with(
        plan_cmd(&["baclofen", "--dose", "60mg", "-o", sub_s]),
        1,
        &[sub_s],
    );
    let o = run(plan_cmd(&[
        "baclofen", "--dose", "60mg", "-o", sub_s, "--force",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(sub.is_dir());
    assert_eq!(dir_entries(dir.path()), ["out.csv"]);
    assert!(dir_entries(&sub).is_empty());
}

#[test]
fn failed_runs_leave_no_file_and_no_temp_files() {
    let dir = tempdir();
    let out = dir.path().join("new.csv");
    let out_s = out.to_str().unwrap();
    let cases: [&[&str]; 6] = [
        &["baclofen", "--dose", "60xg"],
        &["baclofen", "--dose", "0mg"],
        &["baclofn", "--dose", "60mg"],
        &["baclofen", "--dose", "60mg", "--strategy", "hyperbolic"],
        &["baclofen", "--dose", "60mg", "--interval", "3650"],
        &["prednisone", "--dose", "40mg", "--schedule", "30x7,35x7"],
    ];
    for args in cases {
        let mut a = args.to_vec();
        a.extend(["-o", out_s]);
        usage_error(&a, &[]);
        assert!(!out.exists(), "{args:?} left {out_s}");
        assert!(
            dir_entries(dir.path()).is_empty(),
            "{args:?} left {:?}",
            dir_entries(dir.path())
        );
    }
}

#[cfg(unix)]
#[test]
fn new_output_file_gets_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let out = dir.path().join("plan.json");
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("umask 022; exec \"$0\" plan baclofen --dose 60mg --start 2026-12-01 -o \"$1\"")
        .arg(bin())
        .arg(&out)
        .env_remove("TAPER_PROFILES");
    success(c);
    let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "mode {mode:o}");
}

// ------------------------------------------------------- formats and views

#[test]
fn format_is_inferred_from_the_output_extension() {
    let dir = tempdir();
    let p = |n: &str| dir.path().join(n);

    let csv_path = p("a.csv");
    let (stdout, _) = plan_ok(&[
        "baclofen",
        "--dose",
        "60mg",
        "-o",
        csv_path.to_str().unwrap(),
    ]);
    assert!(stdout.is_empty());
    let csv_text = fs::read_to_string(&csv_path).unwrap();
    assert_eq!(csv_text.lines().next(), Some(DAY_HEADER));

    let json_path = p("a.JSON");
    plan_ok(&[
        "baclofen",
        "--dose",
        "60mg",
        "-o",
        json_path.to_str().unwrap(),
    ]);
    let v = json(&fs::read_to_string(&json_path).unwrap());
    assert_eq!(v["view"], "days");
    assert_eq!(v["profile"]["name"], "baclofen");

    let txt_path = p("a.txt");
    plan_ok(&[
        "baclofen",
        "--dose",
        "60mg",
        "-o",
        txt_path.to_str().unwrap(),
        "--color",
        "always",
    ]);
    let table = fs::read_to_string(&txt_path).unwrap();
    assert!(table.starts_with("Baclofen taper schedule"), "{table}");
    assert!(!has_ansi(&table), "a file never gets colour");

    // An explicit --format wins over the extension.
    let forced = p("b.json");
    plan_ok(&[
        "baclofen",
        "--dose",
        "60mg",
        "-o",
        forced.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(fs::read_to_string(&forced).unwrap(), csv_text);
}

#[test]
fn csv_views_have_the_documented_headers() {
    let days = plan_ok(&["baclofen", "--dose", "60mg", "--format", "csv"]).0;
    assert_eq!(days.lines().next(), Some(DAY_HEADER));
    let days2 = plan_ok(&[
        "baclofen", "--dose", "60mg", "--format", "csv", "--view", "days",
    ])
    .0;
    assert_eq!(days, days2, "days is the csv default");

    let steps = plan_ok(&[
        "baclofen", "--dose", "60mg", "--format", "csv", "--view", "steps",
    ])
    .0;
    let (header, rows) = parse_csv(&steps);
    assert_eq!(header, STEP_HEADER);
    assert_eq!(rows.len(), 12);
    // Step rows agree with the day rows they summarise.
    let day = day_rows(&days);
    let mut total = 0;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0].parse::<usize>().unwrap(), i + 1);
        let n: usize = r[3].parse().unwrap();
        let first = &day[total];
        let last = &day[total + n - 1];
        assert_eq!(&r[1], first.date.as_str());
        assert_eq!(&r[2], last.date.as_str());
        assert_eq!(micro(&r[4]), first.daily_dose);
        assert_eq!(micro(&r[6]), first.change);
        assert_eq!(&r[7], first.doses.as_str());
        assert_eq!(&r[8], first.products.as_str());
        total += n;
    }
    assert_eq!(total, day.len());
}

#[test]
fn readme_steps_example_is_exact() {
    let readme = fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let start = readme.find(STEP_HEADER).expect("README example");
    let block = &readme[start..];
    let expected = &block[..block.find("```").unwrap()];
    let (stdout, _) = plan_ok(&[
        "baclofen",
        "--dose",
        "30mg",
        "--strengths",
        "10mg",
        "--format",
        "csv",
        "--view",
        "steps",
    ]);
    assert_eq!(stdout, expected);
}

#[test]
fn csv_days_view_for_baclofen_60mg() {
    let (stdout, stderr) = plan_ok(&["baclofen", "--dose", "60mg", "--format", "csv"]);
    assert!(!has_ansi(&stdout));
    assert!(
        !stdout.contains("prescriber oversight"),
        "the CSV stays pure data"
    );
    assert!(stderr.contains("prescriber oversight"), "{stderr}");
    assert!(!stderr.contains("warning:"), "{stderr}");

    let rows = day_rows(&stdout);
    assert!(rows.len() > 14);
    let start = date(START);
    let mut previous = mg(60);
    let mut step = 1;
    let mut administrations = 3;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(
            date(&r.date),
            start + chrono::Days::new(i as u64),
            "row {i}"
        );
        assert_eq!(r.day as usize, i + 1);
        assert_eq!(r.unit, "mg");
        assert!(r.daily_dose <= previous, "dose rises on day {}", r.day);
        assert_eq!(r.change, r.daily_dose - previous, "change on day {}", r.day);
        assert!(
            r.step == step || r.step == step + 1,
            "step jumps on day {}",
            r.day
        );
        if r.step == step + 1 {
            assert!(r.change < 0, "a new step cuts the dose (day {})", r.day);
            assert!(
                r.note.starts_with(&format!("Step {} of", r.step)),
                "{}",
                r.note
            );
        } else if i > 0 {
            assert_eq!(r.change, 0);
        }
        step = r.step;
        // Per-administration doses add up to the daily dose; only doses
        // given are listed (never `+ 0`), 3 a day at first, never more
        // later, and at least 2 until the last dose before stopping.
        let doses_today = r.doses.split(" + ").count();
        if r.daily_dose > 0 {
            let sum: i64 = r.doses.split(" + ").map(micro).sum();
            assert_eq!(sum, r.daily_dose, "doses {:?} on day {}", r.doses, r.day);
            assert!(r.doses.split(" + ").all(|d| micro(d) > 0), "{:?}", r.doses);
            assert!(doses_today <= administrations, "day {}: doses rose", r.day);
            assert!(
                doses_today >= 2 || r.daily_dose <= mg(5),
                "day {}: {:?}",
                r.day,
                r.doses
            );
            administrations = doses_today;
            assert!(!r.products.is_empty());
        } else {
            assert_eq!(r.doses, "");
        }
        assert!(!r.note.contains("WARNING"));
        previous = r.daily_dose;
    }
    assert_eq!(rows[0].doses.split(" + ").count(), 3, "3 doses a day");
    assert!(rows[0].daily_dose < mg(60));
    assert_eq!(rows[0].change, rows[0].daily_dose - mg(60));
    assert_eq!(rows[0].step, 1);
    let last = rows.last().unwrap();
    assert_eq!(last.daily_dose, 0);
    assert_eq!(last.products, "none (stopped)");
    // Only the last day is at the target.
    assert!(rows[..rows.len() - 1].iter().all(|r| r.daily_dose > 0));
}

#[test]
fn no_ansi_in_machine_formats_even_with_color_always() {
    for f in ["csv", "json"] {
        let (stdout, stderr) = plan_ok(&[
            "baclofen", "--dose", "60mg", "--format", f, "--color", "always",
        ]);
        assert!(!has_ansi(&stdout), "{f}");
        assert!(!has_ansi(&stderr), "{f}");
    }
}

#[test]
fn json_has_the_documented_fields() {
    let v = plan_json(&["baclofen", "--dose", "60mg"]);
    for k in [
        "tool",
        "disclaimer",
        "profile",
        "request",
        "products",
        "phases",
        "gave_way",
        "steps",
        "days",
        "dispense",
        "warnings",
        "reminders",
        "phase_text",
        "gave_way_text",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["tool"]["name"], "taper");
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(s(&v, "disclaimer").contains("prescriber oversight"));

    let p = &v["profile"];
    assert_eq!(p["name"], "baclofen");
    assert_eq!(p["display_name"], "Baclofen");
    assert_eq!(p["origin"], "built-in");
    assert_eq!(p["unit"], "mg");
    assert!(!s(p, "version").is_empty());
    let sources = p["sources"].as_array().unwrap();
    assert!(!sources.is_empty());
    for src in sources {
        assert!(!s(src, "key").is_empty() && !s(src, "title").is_empty());
    }
    let defaults = p["tool_defaults"].as_array().unwrap();
    assert!(
        !defaults.is_empty(),
        "baclofen's default plan relies on tool defaults"
    );
    assert!(defaults.iter().any(|d| d == "default.step"), "{defaults:?}");

    let r = &v["request"];
    assert_eq!(r["start_dose"], "60");
    assert_eq!(r["target"], "0");
    assert_eq!(r["start"], START);
    assert_eq!(r["strategy"]["kind"], "linear");
    assert_eq!(r["strategy"]["step"], "5");
    assert_eq!(r["interval_days"], 7);
    assert_eq!(r["doses_per_day"], 3);

    let steps = v["steps"].as_array().unwrap();
    let days = v["days"].as_array().unwrap();
    let total: u64 = steps.iter().map(|st| st["days"].as_u64().unwrap()).sum();
    assert_eq!(days.len() as u64, total);
    assert_eq!(s(r, "end"), s(days.last().unwrap(), "date"));
    assert_eq!(s(r, "end"), s(steps.last().unwrap(), "end"));
    for (i, st) in steps.iter().enumerate() {
        // Amounts are exact decimal strings.
        micro(s(st, "daily_dose"));
        micro(s(st, "change"));
        assert_eq!(st["is_final"], i + 1 == steps.len());
        for a in st["administrations"].as_array().unwrap() {
            micro(s(a, "amount"));
        }
    }
    let mut previous = mg(60);
    for (i, d) in days.iter().enumerate() {
        assert_eq!(d["day"], i as u64 + 1);
        let dose = micro(s(d, "daily_dose"));
        assert_eq!(micro(s(d, "change")), dose - previous);
        previous = dose;
        assert_eq!(
            date(s(d, "date")),
            date(START) + chrono::Days::new(i as u64)
        );
    }
    assert_eq!(previous, 0);
    let last_events = days.last().unwrap()["events"].as_array().unwrap();
    assert!(last_events.iter().any(|e| e["kind"] == "final"));

    assert!(v["warnings"].as_array().unwrap().is_empty());
    for k in ["withdrawal_symptoms", "red_flags", "advice", "cautions"] {
        assert!(v["reminders"][k].is_array(), "reminders.{k}");
    }
    assert!(!v["reminders"]["withdrawal_symptoms"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(v["notes"].as_array().unwrap().len(), days.len());
    assert_eq!(v["step_text"].as_array().unwrap().len(), steps.len());

    // Issue 7: the profile's limits and ending.
    assert_eq!(p["limits"]["max_step_percent"], "25");
    assert_eq!(p["limits"]["max_step"], "5");
    assert_eq!(p["ending"]["min_step"], "5");
    assert_eq!(p["ending"]["stop_from"], "5");
    assert_eq!(p["ending"]["final_hold_days"], 7);
    assert_eq!(p["ending"]["final_doses_per_day"], 1);
    // Only the products used: scored 10 mg tablets alone give every dose.
    let products = v["products"].as_array().unwrap();
    assert_eq!(products.len(), 1, "{products:?}");
    assert_eq!(products[0]["key"], "10mg-tablet");
    assert_eq!(products[0]["form"], "tablet");
    assert_eq!(products[0]["split_into"], 2);
    assert_eq!(products[0]["instructions"], "Split only on the score line.");
    // One solid phase over every step.
    let phases = v["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 1);
    assert_eq!(phases[0]["phase"], 1);
    assert_eq!(phases[0]["form"], "tablet");
    assert_eq!(phases[0]["products"], serde_json::json!([0]));
    assert_eq!(phases[0]["first_step"], 1);
    assert_eq!(phases[0]["last_step"], steps.len() as u64);
    assert_eq!(phases[0]["start"], START);
    assert_eq!(phases[0]["end"], r["end"]);
    // Steps carry their phase and only the doses given, by slot.
    let slots = ["morning", "midday", "bedtime"];
    let mut previous_count = 3;
    for st in steps {
        assert_eq!(st["phase"], 1);
        let admins = st["administrations"].as_array().unwrap();
        assert_eq!(st["doses_per_day"], admins.len() as u64);
        assert!(admins.len() <= previous_count, "doses a day rose");
        if st["daily_dose"] == "0" {
            assert!(admins.is_empty(), "a stop lists no doses");
            assert_eq!(st["final_phase"], false);
            continue;
        }
        previous_count = admins.len();
        for a in admins {
            assert!(micro(s(a, "amount")) > 0, "an administration of 0");
            let i = a["slot_index"].as_u64().unwrap() as usize;
            assert_eq!(a["slot"], slots[i]);
        }
        // At or below stop_from (5 mg), the final phase: once at bedtime.
        let final_phase = micro(s(st, "daily_dose")) <= mg(5);
        assert_eq!(st["final_phase"], final_phase);
        if final_phase {
            assert_eq!(admins.len(), 1);
            assert_eq!(admins[0]["slot"], "bedtime");
            assert_eq!(st["days"], 7);
        }
    }
    // Two doses a day at 10 mg (5 + 5, never 5 + 5 + 0): said in gave_way.
    let gave_way = v["gave_way"].as_array().unwrap();
    assert!(
        gave_way
            .iter()
            .any(|g| g["rule"] == "fewer_doses" && g["doses_per_day"] == 2),
        "{gave_way:?}"
    );
    assert_eq!(v["gave_way_text"].as_array().unwrap().len(), gave_way.len());
}

#[test]
fn json_steps_view_has_no_days() {
    let v = plan_json(&["baclofen", "--dose", "60mg", "--view", "steps"]);
    assert_eq!(v["view"], "steps");
    assert!(v["days"].as_array().unwrap().is_empty());
    assert_eq!(v["steps"].as_array().unwrap().len(), 12);
}

#[test]
fn json_dispense_pools_pieces_before_rounding_up() {
    for args in [
        &["baclofen", "--dose", "60mg"][..],
        &["baclofen", "--dose", "30mg", "--strengths", "10mg"][..],
        &["baclofen", "--dose", "60mg", "--strengths", "1mg/mL"][..],
        &["sertraline", "--dose", "100mg"][..],
    ] {
        let v = plan_json(args);
        // Units counted in twelfths (halves and quarters are exact), mL in millionths.
        let mut units: BTreeMap<u64, u64> = BTreeMap::new();
        let mut ml: BTreeMap<u64, i64> = BTreeMap::new();
        for st in v["steps"].as_array().unwrap() {
            let days = st["days"].as_u64().unwrap();
            for a in st["administrations"].as_array().unwrap() {
                for portion in a["portions"].as_array().unwrap() {
                    let product = portion["product"].as_u64().unwrap();
                    let q = &portion["quantity"];
                    match q["kind"].as_str().unwrap() {
                        "units" => {
                            let whole = q["whole"].as_u64().unwrap();
                            let part = q["part_pieces"].as_u64().unwrap();
                            let of = q["part_of"].as_u64().unwrap();
                            let twelfths = whole * 12 + part * (12 / of);
                            *units.entry(product).or_default() += twelfths * days;
                        }
                        "volume" => {
                            *ml.entry(product).or_default() += micro(s(q, "ml")) * days as i64;
                        }
                        k => panic!("unknown quantity kind {k}"),
                    }
                }
            }
        }
        let dispense = v["dispense"].as_array().unwrap();
        assert_eq!(dispense.len(), units.len() + ml.len(), "{args:?}");
        for line in dispense {
            let product = line["product"].as_u64().unwrap();
            if let Some(twelfths) = units.get(&product) {
                assert_eq!(
                    line["units"].as_u64(),
                    Some(twelfths.div_ceil(12)),
                    "{args:?}"
                );
            } else {
                let total = ml[&product];
                assert_eq!(micro(s(line, "volume_ml")), total, "{args:?}");
            }
        }
    }
}

#[test]
fn table_has_header_provenance_dispense_and_disclaimer() {
    let v = plan_json(&["baclofen", "--dose", "60mg"]);
    let version = s(&v["profile"], "version").to_string();
    for extra in [&[][..], &["--color", "never"][..]] {
        let mut a = vec!["baclofen", "--dose", "60mg"];
        a.extend(extra);
        let (stdout, stderr) = plan_ok(&a);
        assert!(!has_ansi(&stdout), "{extra:?}");
        assert!(stderr.is_empty(), "{stderr}");
        assert!(stdout.starts_with("Baclofen taper schedule"), "{stdout}");
        for needle in [
            "Baclofen",
            "prescriber oversight",
            "Dispense",
            "Provenance:",
            &format!("version {version}"),
            &format!("taper {}", env!("CARGO_PKG_VERSION")),
            "Sources:",
            "Tool defaults",
            "2026-12-01",
            "2027-02-16",
        ] {
            assert!(stdout.contains(needle), "table lacks {needle:?}:\n{stdout}");
        }
    }
}

#[test]
fn color_always_colours_the_table() {
    let (stdout, _) = plan_ok(&["baclofen", "--dose", "60mg", "--color", "always"]);
    assert!(stdout.contains("\x1b["), "{stdout}");
    // NO_COLOR only affects auto.
    let mut c = plan_cmd(&["baclofen", "--dose", "60mg", "--color", "always"]);
    c.env("NO_COLOR", "1");
    assert!(has_ansi(&success(c).0));
    let mut c = plan_cmd(&["baclofen", "--dose", "60mg"]);
    c.env("NO_COLOR", "1");
    assert!(!has_ansi(&success(c).0));
}

// ------------------------------------------------------------------ warnings

#[test]
fn too_large_steps_warn_in_every_output() {
    // 20 mg steps from 60 mg are faster than baclofen's 25 % / 5 mg limit;
    // which steps are too large depends on the products chosen, so the
    // JSON warnings are the reference for every other output.
    let args = ["baclofen", "--dose", "60mg", "--step", "20mg"];
    let v = plan_json(&args);
    let w = v["warnings"].as_array().unwrap();
    let warned: Vec<u64> = w
        .iter()
        .filter(|x| x["kind"] == "step_too_large")
        .map(|x| x["step"].as_u64().unwrap())
        .collect();
    assert!(warned.len() >= 2, "{w:?}");
    assert_eq!(w.len(), warned.len(), "only step warnings: {w:?}");
    // The final cut, from above `stop_from`, is warned whatever the
    // absolute limit says.
    let last = v["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(last["daily_dose"], "0");
    assert!(warned.contains(&last["step"].as_u64().unwrap()));
    let stop = w.iter().find(|x| x["step"] == last["step"]).unwrap();
    assert_eq!(stop["detail"]["stop_from"], "5");
    assert_eq!(v["warning_text"].as_array().unwrap().len(), w.len());

    let mut a = args.to_vec();
    a.extend(["--format", "csv"]);
    let (stdout, stderr) = plan_ok(&a);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(lines.len(), warned.len(), "{stderr}");
    for (line, step) in lines.iter().zip(&warned) {
        assert!(line.contains(&format!("step {step}:")), "{line}");
    }
    let rows = day_rows(&stdout);
    assert_eq!(rows.last().unwrap().daily_dose, 0);
    for r in &rows {
        let step_start = r.day == 1 || r.change != 0;
        let expect = step_start && warned.contains(&u64::from(r.step));
        assert_eq!(
            r.note.contains("WARNING:"),
            expect,
            "day {}: {:?}",
            r.day,
            r.note
        );
    }

    let (table, _) = plan_ok(&args);
    assert!(table.contains("WARNING"), "{table}");
}

#[test]
fn dose_above_usual_maximum_warns() {
    let (_, stderr) = plan_ok(&["baclofen", "--dose", "100mg", "--format", "csv"]);
    let w: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(w.len(), 1, "{stderr}");
    assert!(
        w[0].contains("100 mg") && w[0].contains("80 mg"),
        "{}",
        w[0]
    );
    let v = plan_json(&["baclofen", "--dose", "100mg"]);
    let kinds: Vec<&Value> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["kind"])
        .collect();
    assert_eq!(kinds, [&Value::from("above_usual_maximum")]);
    // At the usual maximum: no warning.
    let (_, stderr) = plan_ok(&["baclofen", "--dose", "80mg", "--format", "csv"]);
    assert!(!stderr.contains("warning:"), "{stderr}");
}

// --------------------------------------------------------------------- units

#[test]
fn dose_units_and_spellings_are_equivalent() {
    let base = plan_ok(&["baclofen", "--dose", "60mg", "--format", "json"]).0;
    for d in ["60 mg", "60", "60MG", "60000mcg", "+60mg"] {
        let other = plan_ok(&["baclofen", "--dose", d, "--format", "json"]).0;
        assert_eq!(base, other, "--dose {d}");
    }
    let a = plan_ok(&["baclofen", "--dose", "100mcg", "--format", "json"]).0;
    let b = plan_ok(&["baclofen", "--dose", "0.1mg", "--format", "json"]).0;
    assert_eq!(a, b);
    assert_eq!(json(&a)["request"]["start_dose"], "0.1");
    let c = plan_json(&["tizanidine", "--dose", "7500mcg"]);
    let d = plan_json(&["tizanidine", "--dose", "7.5mg"]);
    assert_eq!(c, d);
    assert_eq!(c["request"]["start_dose"], "7.5");
}

#[test]
fn millilitre_dose_needs_exactly_one_liquid() {
    usage_error(
        &["baclofen", "--dose", "2.5mL"],
        &["'2.5mL'", "--strengths"],
    );
    usage_error(
        &["baclofen", "--dose", "2.5mL", "--strengths", "10mg"],
        &["'2.5mL'"],
    );
    let v = plan_json(&["baclofen", "--dose", "2.5mL", "--strengths", "2mg/mL"]);
    assert_eq!(v["request"]["start_dose"], "5");
    let v = plan_json(&["baclofen", "--dose", "2.5mL", "--strengths", "1mg/mL"]);
    assert_eq!(v["request"]["start_dose"], "2.5");
}

// ------------------------------------------------------------------ profiles

#[test]
fn user_profile_from_profiles_dir() {
    let dir = tempdir();
    write_baclofen_variant(&dir.path().join("mybac.toml"), "mybac", "My Bac");
    let d = dir.path().to_str().unwrap();
    let v = plan_json(&["mybac", "--dose", "60mg", "--profiles-dir", d]);
    assert_eq!(v["profile"]["name"], "mybac");
    assert_eq!(v["profile"]["display_name"], "My Bac");
    assert!(s(&v["profile"], "origin").ends_with("mybac.toml"));
    // Case-insensitive name, and the flag is global (before the subcommand).
    let mut c = taper();
    c.args([
        "--profiles-dir",
        d,
        "plan",
        "MyBac",
        "--dose",
        "60mg",
        "--start",
        START,
    ]);
    assert!(success(c).0.starts_with("My Bac taper schedule"));
    // The same plan as the built-in it was copied from.
    let builtin = plan_json(&["baclofen", "--dose", "60mg"]);
    assert_eq!(v["days"], builtin["days"]);
}

#[test]
fn user_profile_from_taper_profiles_env() {
    let a = tempdir();
    let b = tempdir();
    write_baclofen_variant(&b.path().join("mybac.toml"), "mybac", "Env Bac");
    let list = std::env::join_paths([a.path().join("missing"), b.path().to_path_buf()]).unwrap();
    let mut c = plan_cmd(&["mybac", "--dose", "60mg", "--format", "json"]);
    c.env("TAPER_PROFILES", &list);
    let v = json(&success(c).0);
    assert_eq!(v["profile"]["name"], "mybac");
    assert_eq!(v["profile"]["display_name"], "Env Bac");

    let mut c = taper();
    c.arg("profiles").env("TAPER_PROFILES", &list);
    let listing = success(c).0;
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("mybac ") && l.contains("Env Bac")),
        "{listing}"
    );
}

#[test]
fn profiles_dir_comes_before_taper_profiles() {
    let flag = tempdir();
    let env = tempdir();
    write_baclofen_variant(&flag.path().join("baclofen.toml"), "baclofen", "Flag Bac");
    write_baclofen_variant(&env.path().join("baclofen.toml"), "baclofen", "Env Bac");
    let mut c = plan_cmd(&[
        "baclofen",
        "--dose",
        "60mg",
        "--profiles-dir",
        flag.path().to_str().unwrap(),
    ]);
    c.env("TAPER_PROFILES", env.path());
    assert!(success(c).0.starts_with("Flag Bac taper schedule"));
    let mut c = plan_cmd(&["baclofen", "--dose", "60mg"]);
    c.env("TAPER_PROFILES", env.path());
    assert!(success(c).0.starts_with("Env Bac taper schedule"));
}

#[test]
fn user_profile_shadows_the_builtin() {
    let dir = tempdir();
    let path = dir.path().join("baclofen.toml");
    write_baclofen_variant(&path, "baclofen", "My Baclofen");
    let d = dir.path().to_str().unwrap();
    let mut c = taper();
    c.args(["profiles", "--profiles-dir", d]);
    let listing = success(c).0;
    let lines: Vec<&str> = listing
        .lines()
        .filter(|l| l.starts_with("baclofen "))
        .collect();
    assert_eq!(lines.len(), 1, "{listing}");
    assert!(lines[0].contains("My Baclofen"), "{listing}");
    assert!(lines[0].contains(path.to_str().unwrap()), "{listing}");
    assert!(lines[0].contains("shadows the built-in"), "{listing}");
    assert_eq!(
        profile_rows(&listing).count(),
        builtins().len(),
        "{listing}"
    );

    let (table, _) = plan_ok(&["baclofen", "--dose", "60mg", "--profiles-dir", d]);
    assert!(table.starts_with("My Baclofen taper schedule"), "{table}");
    let mut c = taper();
    c.args(["profiles", "show", "baclofen", "--profiles-dir", d]);
    assert!(success(c).0.starts_with("My Baclofen (baclofen)"));
}

#[test]
fn profile_names_never_resolve_outside_profile_dirs() {
    let dir = tempdir();
    write_baclofen_variant(&dir.path().join("mybac.toml"), "mybac", "My Bac");
    // A file in the working directory is not found by name...
    let mut c = plan_cmd(&["mybac", "--dose", "60mg"]);
    c.current_dir(dir.path());
    fails_with(c, 2, &["unknown profile 'mybac'"]);
    for (name, code) in [("..", 2), (".", 2), ("mybac\\..\\x", 1)] {
        let mut c = plan_cmd(&[name, "--dose", "60mg"]);
        c.current_dir(dir.path());
        let o = run(c);
        // A path that cannot be read is an I/O error (exit 1).
        assert_eq!(o.status.code(), Some(code), "{name}: {}", show(&o));
        assert!(o.stdout.is_empty());
    }
    // ...only as a path.
    for path in ["./mybac.toml", "mybac.toml"] {
        let mut c = plan_cmd(&[path, "--dose", "60mg", "--format", "json"]);
        c.current_dir(dir.path());
        assert_eq!(json(&success(c).0)["profile"]["name"], "mybac");
    }
    // And by name once its directory is given.
    plan_ok(&[
        "mybac",
        "--dose",
        "60mg",
        "--profiles-dir",
        dir.path().to_str().unwrap(),
    ]);
}

#[test]
fn profiles_lists_all_builtins() {
    let mut c = taper();
    c.arg("profiles");
    let (stdout, stderr) = success(c);
    assert!(stderr.is_empty());
    let mut c = taper();
    c.args(["profiles", "list"]);
    assert_eq!(success(c).0, stdout);
    let names: Vec<&str> = profile_rows(&stdout)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, builtins());
    assert!(names.len() >= 25, "{}", names.len());
    for l in profile_rows(&stdout) {
        assert!(l.contains("built-in") && l.contains("version"), "{l}");
    }
}

#[test]
fn invalid_user_profile_is_listed_as_invalid() {
    let dir = tempdir();
    fs::write(dir.path().join("broken.toml"), "name = \"broken\"\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let mut c = taper();
    c.args(["profiles", "--profiles-dir", d]);
    let listing = success(c).0;
    let line = listing
        .lines()
        .find(|l| l.starts_with("broken "))
        .expect(&listing);
    assert!(
        line.contains("INVALID") && line.contains("broken.toml:"),
        "{line}"
    );
    assert_eq!(profile_rows(&listing).count(), builtins().len() + 1);
    let line = usage_error(
        &["broken", "--dose", "60mg", "--profiles-dir", d],
        &["broken.toml"],
    );
    let file = dir.path().join("broken.toml");
    assert_file_line_col(&line, file.to_str().unwrap());
}

#[test]
fn profiles_show_baclofen() {
    let mut c = taper();
    c.args(["profiles", "show", "baclofen"]);
    let out = success(c).0;
    for needle in [
        "Baclofen (baclofen)",
        "Formulations",
        "[10mg-tablet]",
        "[20mg-tablet]",
        "[5mg-tablet]",
        "[1mg/mL]",
        "[2mg/mL]",
        "patient instructions: Split only on the score line.",
        "Doses of the day",
        "Ending",
        "Sources",
        "[US-tab]",
        "tool default",
        "Red flags",
    ] {
        assert!(out.contains(needle), "lacks {needle:?}:\n{out}");
    }
    let mut c = taper();
    c.args(["profiles", "show", "baclofn"]);
    fails_with(c, 2, &["'baclofn'", "did you mean 'baclofen'"]);
}

#[test]
fn profiles_check_accepts_every_builtin_file() {
    let dir = manifest_dir().join("profiles");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), builtins().len());
    let mut c = taper();
    c.args(["profiles", "check"]).args(&files);
    let (stdout, stderr) = success(c);
    assert!(stderr.is_empty(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        let prefix = format!("{}: ok", file.display());
        assert!(line.starts_with(&prefix), "{line}");
    }
}

#[test]
fn profiles_check_reports_file_line_col() {
    let dir = tempdir();
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "name = \"bad\"\nunit = [\n").unwrap();
    let mut c = taper();
    c.args(["profiles", "check"]).arg(&bad);
    let line = fails_with(c, 2, &[]);
    assert_file_line_col(&line, bad.to_str().unwrap());

    // A good file and a bad one: ok for the good, error for the bad, exit 2.
    let good = manifest_dir().join("profiles").join("baclofen.toml");
    let mut c = taper();
    c.args(["profiles", "check"]).arg(&good).arg(&bad);
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let stdout = text(&o.stdout);
    assert!(
        stdout.starts_with(&format!("{}: ok", good.display())),
        "{stdout}"
    );
    let stderr = text(&o.stderr);
    assert!(stderr.lines().all(|l| l.starts_with("error: ")), "{stderr}");
    assert!(stderr.contains(bad.to_str().unwrap()), "{stderr}");

    let mut c = taper();
    c.args(["profiles", "check"])
        .arg(dir.path().join("missing.toml"));
    fails_with(c, 1, &["missing.toml"]);
}

// --------------------------------------------------- environment and pipes

#[test]
fn output_is_identical_under_any_tz() {
    for format in ["json", "csv", "table"] {
        let outs: Vec<Vec<u8>> = ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"]
            .iter()
            .map(|tz| {
                let mut c = plan_cmd(&["baclofen", "--dose", "60mg", "--format", format]);
                c.env("TZ", tz);
                let o = run(c);
                assert_eq!(o.status.code(), Some(0), "{}", show(&o));
                o.stdout
            })
            .collect();
        assert!(!outs[0].is_empty());
        assert_eq!(outs[0], outs[1], "{format}");
        assert_eq!(outs[0], outs[2], "{format}");
    }
}

/// Runs `taper ARGS | head -1` under sh; returns (taper's exit code, stdout, stderr).
fn through_head(args: &str) -> (String, String, String) {
    let script = format!("{{ \"$0\" {args}; echo \"taper_rc=$?\" >&2; }} | head -1");
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(script)
        .arg(bin())
        .env_remove("TAPER_PROFILES");
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stderr = text(&o.stderr);
    let rc = stderr
        .lines()
        .find_map(|l| l.strip_prefix("taper_rc="))
        .unwrap_or_default()
        .to_string();
    (rc, text(&o.stdout), stderr)
}

#[test]
fn closed_pipe_is_not_an_error() {
    let (rc, stdout, stderr) =
        through_head("plan baclofen --dose 60mg --format csv --start 2026-12-01");
    assert_eq!(rc, "0", "{stderr}");
    assert_eq!(stdout, format!("{DAY_HEADER}\n"));
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error:"),
        "{stderr}"
    );

    // Far more than a pipe buffer, so the writes really hit EPIPE.
    for format in ["csv", "json", "table"] {
        let (rc, stdout, stderr) = through_head(&format!(
            "plan sertraline --dose 200mg --strategy percent --percent 0.1 --interval 28 --start 2026-12-01 --format {format}"
        ));
        assert_eq!(rc, "0", "{format}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{format}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error:"),
            "{format}: {stderr}"
        );
    }
}

// -------------------------------------------------------------------- custom

#[test]
fn readme_prednisone_custom_example() {
    let args = [
        "prednisone",
        "--dose",
        "40mg",
        "--strategy",
        "custom",
        "--schedule",
        "40x7,30x7,20x7,10x7,5x7",
    ];
    let mut a = args.to_vec();
    a.extend(["--format", "csv"]);
    let rows = day_rows(&plan_ok(&a).0);
    // 35 scheduled days, then the stop the day after the last entry ends.
    assert_eq!(rows.len(), 36);
    // The first entry equals the current dose: a hold.
    assert_eq!(rows[0].daily_dose, mg(40));
    assert_eq!(rows[0].change, 0);
    let per_step: Vec<i64> = [0, 7, 14, 21, 28, 35]
        .iter()
        .map(|&i| rows[i].daily_dose)
        .collect();
    assert_eq!(per_step, [mg(40), mg(30), mg(20), mg(10), mg(5), 0]);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.step as usize, i / 7 + 1, "day {}", r.day);
    }
    let last = rows.last().unwrap();
    assert_eq!(last.date, "2027-01-05");
    assert_eq!(last.change, -mg(5));

    let v = plan_json(&args);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["adjustment"], "hold");
    assert_eq!(steps[0]["change"], "0");
    assert_eq!(v["request"]["strategy"]["kind"], "custom");
    assert_eq!(steps.last().unwrap()["start"], "2027-01-05");
    assert_eq!(steps.last().unwrap()["days"], 1);
    // The strategy is implied by --schedule alone.
    let implied = plan_json(
        &args
            .iter()
            .filter(|a| !["--strategy", "custom"].contains(a))
            .copied()
            .collect::<Vec<_>>(),
    );
    assert_eq!(implied, v);
}

#[test]
fn custom_schedule_with_weeks_and_a_target() {
    let (stdout, _) = plan_ok(&[
        "prednisone",
        "--dose",
        "40mg",
        "--schedule",
        "30x7,20x2w",
        "--format",
        "csv",
        "--view",
        "steps",
    ]);
    let (_, rows) = parse_csv(&stdout);
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[3].to_string(), r[4].to_string(), r[6].to_string()))
        .collect();
    let want = [("7", "30", "-10"), ("14", "20", "-10"), ("1", "0", "-20")];
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );

    let v = plan_json(&[
        "prednisone",
        "--dose",
        "40mg",
        "--schedule",
        "30x7",
        "--target",
        "10mg",
    ]);
    let days = v["days"].as_array().unwrap();
    assert_eq!(days.len(), 8);
    assert_eq!(days.last().unwrap()["daily_dose"], "10");
    assert_eq!(v["request"]["target"], "10");
}

// ------------------------------------------------ bugs (ignored until fixed)

#[test]

fn dates_stay_iso_or_the_plan_is_refused() {
    let o = run(plan_cmd_at(
        "9999-12-31",
        &["baclofen", "--dose", "60mg", "--format", "csv"],
    ));
    match o.status.code() {
        Some(2) => assert!(o.stdout.is_empty()),
        Some(0) => {
            for r in day_rows(&text(&o.stdout)) {
                let d = r.date.as_bytes();
                assert!(
                    d.len() == 10 && d[4] == b'-' && d[7] == b'-',
                    "date {:?} is not YYYY-MM-DD",
                    r.date
                );
            }
        }
        _ => panic!("{}", show(&o)),
    }
}

fn plan_cmd_at(start: &str, args: &[&str]) -> Command {
    let mut c = taper();
    c.arg("plan").args(args).args(["--start", start]);
    c
}

#[test]

fn custom_entries_below_the_target_are_always_refused() {
    // `30x7,10x7 --target 20mg` is refused; with a 20x7 entry in between,
    // the 10x7 entry (and 20x7's seven days) silently disappear.
    usage_error(
        &[
            "prednisone",
            "--dose",
            "40mg",
            "--schedule",
            "30x7,20x7,10x7",
            "--target",
            "20mg",
        ],
        &["10 mg", "target 20 mg"],
    );
}

#[test]

fn zero_step_error_names_the_value() {
    usage_error(&["baclofen", "--dose", "60mg", "--step", "0mg"], &["'0mg'"]);
}

#[test]

fn user_profile_name_must_match_its_file_name() {
    let dir = tempdir();
    // mybac.toml that still says name = "baclofen".
    fs::copy(
        manifest_dir().join("profiles").join("baclofen.toml"),
        dir.path().join("mybac.toml"),
    )
    .unwrap();
    usage_error(
        &[
            "mybac",
            "--dose",
            "60mg",
            "--profiles-dir",
            dir.path().to_str().unwrap(),
        ],
        &["mybac.toml:", "name"],
    );
}

// ------------------------------------ issue 7: "what was seen", re-run
//
// The commands the issue tried as a new user would, all with
// `--start 2027-01-04`; each must now print what a prescriber would sign,
// or a clear refusal.

const SEEN_START: &str = "2027-01-04";

fn seen(args: &[&str], format: &str) -> String {
    let mut a = args.to_vec();
    a.extend(["--format", format]);
    success(plan_cmd_at(SEEN_START, &a)).0
}

fn seen_json(args: &[&str]) -> Value {
    json(&seen(args, "json"))
}

/// The form of each step that gives a dose (from its portions' products),
/// after checking a step never mixes forms.
fn step_forms(v: &Value) -> Vec<String> {
    let products = v["products"].as_array().unwrap();
    let mut out = Vec::new();
    for st in v["steps"].as_array().unwrap() {
        let mut forms: Vec<&str> = st["administrations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["portions"].as_array().unwrap())
            .map(|p| {
                products[p["product"].as_u64().unwrap() as usize]["form"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        forms.sort_unstable();
        forms.dedup();
        assert!(forms.len() <= 1, "step {} mixes {forms:?}", st["step"]);
        if let Some(f) = forms.first() {
            out.push(f.to_string());
        }
    }
    out
}

/// At most one switch of form, and never from a liquid back to solids.
fn assert_one_switch_never_back(v: &Value, what: &str) {
    let forms = step_forms(v);
    let switches = forms.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches <= 1, "{what}: {switches} switches: {forms:?}");
    if let Some(i) = forms.iter().position(|f| f == "liquid") {
        assert!(
            forms[i..].iter().all(|f| f == "liquid"),
            "{what}: liquid then solid: {forms:?}"
        );
    }
    let phases = v["phases"].as_array().unwrap();
    assert!(phases.len() <= 2, "{what}: {phases:?}");
    let mut previous = 0;
    for st in v["steps"].as_array().unwrap() {
        let phase = st["phase"].as_u64().unwrap();
        assert!(phase >= previous, "{what}: phase numbers fall");
        previous = phase;
    }
}

/// Administrations a day never rise, and no administration is 0.
fn assert_doses_never_come_back(v: &Value, what: &str) {
    let mut previous = u64::MAX;
    for st in v["steps"].as_array().unwrap() {
        let admins = st["administrations"].as_array().unwrap();
        assert_eq!(st["doses_per_day"], admins.len() as u64);
        for a in admins {
            assert!(micro(s(a, "amount")) > 0, "{what}: a dose of 0");
        }
        if st["daily_dose"] != "0" {
            let n = admins.len() as u64;
            assert!(
                n <= previous,
                "{what}: step {}: doses a day rose",
                st["step"]
            );
            previous = n;
        }
    }
}

#[test]
fn seen_tizanidine_never_mixes_tablets_and_capsules() {
    // `--strengths 4mg,6mg` named a tablet and a capsule by one key: now
    // refused as ambiguous, naming both products.
    fails_with(
        plan_cmd_at(
            SEEN_START,
            &["tizanidine", "--dose", "24mg", "--strengths", "4mg,6mg"],
        ),
        2,
        &["'4mg'", "4mg-tablet, 4mg-capsule"],
    );
    // Named exactly, a tablet and capsules are never in one plan: a plan
    // from one group (or a refusal).
    for strengths in [
        "4mg-tablet,6mg-capsule",
        "4mg-tablet,2mg-tablet,6mg-capsule,4mg-capsule,2mg-capsule",
        "2mg-tablet,2mg-capsule",
    ] {
        let mut c = plan_cmd_at(
            SEEN_START,
            &[
                "tizanidine",
                "--dose",
                "24mg",
                "--strengths",
                strengths,
                "--format",
                "json",
            ],
        );
        c.env_remove("TZ");
        let o = run(c);
        match o.status.code() {
            Some(0) => {
                let v = json(&text(&o.stdout));
                let products = v["products"].as_array().unwrap();
                let forms: Vec<&Value> = products.iter().map(|p| &p["form"]).collect();
                let groups: Vec<&Value> = products.iter().map(|p| &p["group"]).collect();
                assert!(
                    forms.windows(2).all(|w| w[0] == w[1]),
                    "{strengths}: {forms:?}"
                );
                assert!(
                    groups.windows(2).all(|w| w[0] == w[1]),
                    "{strengths}: {groups:?}"
                );
                step_forms(&v);
            }
            Some(2) => assert!(text(&o.stderr).starts_with("error: "), "{}", show(&o)),
            _ => panic!("{strengths}: {}", show(&o)),
        }
    }
    // The default plan: tablets only, and no ¾ tablet where 2 mg tablets
    // exist (¾ counts as three pieces).
    let v = seen_json(&["tizanidine", "--dose", "24mg"]);
    assert!(v["products"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["form"] == "tablet"));
    let table = seen(&["tizanidine", "--dose", "24mg"], "table");
    assert!(!table.contains('¾'), "{table}");
}

#[test]
fn seen_baclofen_60mg_uses_one_product_and_lists_no_zero_doses() {
    let v = seen_json(&["baclofen", "--dose", "60mg"]);
    let products = v["products"].as_array().unwrap();
    assert_eq!(products.len(), 1, "{products:?}");
    assert_eq!(products[0]["key"], "10mg-tablet");
    assert_eq!(v["dispense"].as_array().unwrap().len(), 1);
    assert_doses_never_come_back(&v, "baclofen 60mg");
    for format in ["csv", "table"] {
        let out = seen(&["baclofen", "--dose", "60mg", "--view", "steps"], format);
        assert!(!out.contains("+ 0"), "{format}:\n{out}");
    }
    let csv = seen(&["baclofen", "--dose", "60mg"], "csv");
    for r in day_rows(&csv) {
        assert!(
            r.doses.is_empty() || r.doses.split(" + ").all(|d| micro(d) > 0),
            "{:?}",
            r.doses
        );
    }
}

#[test]
fn seen_prednisone_40mg_cuts_at_most_1mg_at_or_below_7_5mg() {
    let v = seen_json(&["prednisone", "--dose", "40mg"]);
    let steps = v["steps"].as_array().unwrap();
    let mut low = 0;
    let mut from = mg(40);
    for st in steps {
        let to = micro(s(st, "daily_dose"));
        assert_eq!(micro(s(st, "change")), to - from);
        let from = std::mem::replace(&mut from, to);
        if from <= micro("7.5") {
            low += 1;
            assert!(
                from - to <= mg(1),
                "step {}: {from} -> {to} micro-mg",
                st["step"]
            );
            // Held 28 days (1 mg every 2-4 weeks), except the stop day.
            if to > 0 {
                assert!(st["days"].as_u64().unwrap() >= 28, "step {}", st["step"]);
            }
        }
    }
    assert!(low >= 7, "the low-dose phase has 1 mg steps down to 0");
    // The last cut, 1 mg → 0, starts at `stop_from`: no warning.
    assert!(
        v["warnings"].as_array().unwrap().is_empty(),
        "{}",
        v["warnings"]
    );
}

#[test]
fn seen_oxycodone_and_diazepam_switch_form_at_most_once_and_never_back() {
    // (command, the dose the plan may stop from): the profile's stop_from,
    // or for sertraline the smallest dose the concentrate measures (2 mg:
    // 0.1 mL), whose stop is then warned.
    for (args, stop_from) in [
        (&["oxycodone", "--dose", "60mg"][..], mg(5)),
        (&["diazepam", "--dose", "20mg"][..], mg(1)),
        (&["sertraline", "--dose", "100mg"][..], mg(2)),
        (
            &[
                "baclofen",
                "--dose",
                "45mg",
                "--strategy",
                "percent",
                "--percent",
                "10",
            ][..],
            mg(5),
        ),
    ] {
        let what = args.join(" ");
        let v = seen_json(args);
        assert_one_switch_never_back(&v, &what);
        assert_doses_never_come_back(&v, &what);
        // A real ending: at most three years, and the last dose held before
        // stopping is at or below the stopping dose (no tail of ever
        // smaller cuts).
        let days = v["days"].as_array().unwrap().len();
        assert!(days <= 3 * 366, "{what}: {days} days");
        let steps = v["steps"].as_array().unwrap();
        let before_stop = &steps[steps.len() - 2];
        let profile_stop_from = micro(s(&v["profile"]["ending"], "stop_from"));
        let last = micro(s(before_stop, "daily_dose"));
        assert!(last <= stop_from, "{what}: stops from {last}");
        assert_eq!(
            before_stop["final_phase"],
            last <= profile_stop_from,
            "{what}"
        );
        assert!(
            steps[..steps.len() - 2]
                .iter()
                .all(|st| st["final_phase"] == false),
            "{what}"
        );
        // A stop from above the profile's stop_from is warned.
        let stop_warned = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "step_too_large" && w["step"] == steps.len() as u64);
        assert_eq!(stop_warned, last > profile_stop_from, "{what}");
    }
}

#[test]
fn seen_sertraline_concentrate_doses_carry_the_dilution_instruction() {
    let v = seen_json(&["sertraline", "--dose", "100mg"]);
    let products = v["products"].as_array().unwrap();
    let concentrate = products
        .iter()
        .position(|p| p["form"] == "liquid")
        .expect("the concentrate is used");
    let instructions = s(&products[concentrate], "instructions");
    assert!(instructions.contains("Dilute"), "{instructions}");
    let uses_concentrate: Vec<bool> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            st["administrations"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|a| a["portions"].as_array().unwrap())
                .any(|p| p["product"] == concentrate as u64)
        })
        .collect();
    assert!(uses_concentrate.iter().filter(|u| **u).count() > 10);
    // Steps view: one row per step.
    let (_, rows) = parse_csv(&seen(
        &["sertraline", "--dose", "100mg", "--view", "steps"],
        "csv",
    ));
    assert_eq!(rows.len(), uses_concentrate.len());
    for (row, uses) in rows.iter().zip(&uses_concentrate) {
        assert_eq!(
            row[8].contains(instructions),
            *uses,
            "step {}: {}",
            &row[0],
            &row[8]
        );
    }
    // Days view: every day the concentrate is taken.
    let csv = seen(&["sertraline", "--dose", "100mg"], "csv");
    for r in day_rows(&csv) {
        let uses = uses_concentrate[r.step as usize - 1];
        assert_eq!(
            r.products.contains(instructions),
            uses,
            "day {}: {}",
            r.day,
            r.products
        );
    }
}

#[test]
fn seen_liquid_days_give_equal_volumes() {
    // Oxycodone 40.5 mg a day was 10.2 + 10.1 + 10.1 + 10.1 mL.
    for args in [
        &["oxycodone", "--dose", "40.5mg"][..],
        &[
            "baclofen",
            "--dose",
            "45mg",
            "--strategy",
            "percent",
            "--percent",
            "10",
            "--form",
            "liquid",
        ][..],
    ] {
        let v = seen_json(args);
        let products = v["products"].as_array().unwrap();
        for st in v["steps"].as_array().unwrap() {
            let admins = st["administrations"].as_array().unwrap();
            let liquid =
                admins.iter().any(|a| {
                    a["portions"].as_array().unwrap().iter().any(|p| {
                        products[p["product"].as_u64().unwrap() as usize]["form"] == "liquid"
                    })
                });
            if liquid {
                assert!(
                    admins
                        .windows(2)
                        .all(|w| w[0]["portions"] == w[1]["portions"]),
                    "{args:?} step {}: {admins:?}",
                    st["step"]
                );
            }
        }
    }
}

#[test]
fn seen_gabapentin_keeps_two_doses_a_day_until_the_final_phase() {
    // Its advice: doses no more than 12 hours apart (max_gap_hours = 12).
    for args in [
        &["gabapentin", "--dose", "1800mg"][..],
        &[
            "gabapentin",
            "--dose",
            "2400mg",
            "--strategy",
            "linear",
            "--step",
            "300mg",
        ][..],
    ] {
        let v = seen_json(args);
        assert_one_switch_never_back(&v, &args.join(" "));
        assert_doses_never_come_back(&v, &args.join(" "));
        for st in v["steps"].as_array().unwrap() {
            if st["daily_dose"] != "0" && st["final_phase"] == false {
                assert!(
                    st["doses_per_day"].as_u64().unwrap() >= 2,
                    "{args:?} step {}",
                    st["step"]
                );
            }
        }
        // Two strengths and perhaps one liquid, never five products.
        assert!(v["products"].as_array().unwrap().len() <= 3, "{args:?}");
    }
}

#[test]
fn seen_dispensing_lists_only_used_products_by_strength() {
    for args in [
        &["diazepam", "--dose", "20mg"][..],
        &["prednisone", "--dose", "40mg"][..],
        &["baclofen", "--dose", "60mg"][..],
    ] {
        let v = seen_json(args);
        let products = v["products"].as_array().unwrap();
        let dispense = v["dispense"].as_array().unwrap();
        // One line per product, in `products` order: solids by strength
        // (highest first), then liquids.
        let order: Vec<u64> = dispense
            .iter()
            .map(|d| d["product"].as_u64().unwrap())
            .collect();
        assert_eq!(
            order,
            (0..products.len() as u64).collect::<Vec<_>>(),
            "{args:?}"
        );
        let strengths: Vec<i64> = products
            .iter()
            .filter(|p| p["form"] != "liquid")
            .map(|p| micro(s(p, "strength")))
            .collect();
        assert!(
            strengths.windows(2).all(|w| w[0] > w[1]),
            "{args:?}: {strengths:?}"
        );
        let first_liquid = products.iter().position(|p| p["form"] == "liquid");
        if let Some(i) = first_liquid {
            assert!(products[i..].iter().all(|p| p["form"] == "liquid"));
        }
        // The table prints dispensing lines and notes only for those
        // products, in that order.
        // Wide enough that no line wraps: one line for the dispensing.
        let mut wide = args.to_vec();
        wide.extend(["--format", "table"]);
        let mut c = plan_cmd_at(SEEN_START, &wide);
        c.env("COLUMNS", "10000");
        let table = success(c).0;
        let mut lines = table.lines().skip_while(|l| !l.starts_with("Dispense"));
        let head = lines.next().expect("a dispensing line");
        let mut at = 0;
        for p in products {
            let name = s(p, "name");
            let found = head[at..]
                .find(name)
                .unwrap_or_else(|| panic!("{args:?}: {head}"));
            at += found + name.len();
        }
        for note in lines.take_while(|l| l.starts_with("  ")) {
            assert!(
                products
                    .iter()
                    .any(|p| note.trim_start().starts_with(s(p, "name"))),
                "{args:?}: a note for an unused product: {note}"
            );
        }
    }
}

#[test]
fn seen_hyperbolic_sertraline_warns_about_its_last_occupancy_fall() {
    // Its last fall, 2 mg → 0, is 18.9 occupancy points against a 5-point
    // step (Emax 92.01 %, ED50 7.72 mg): more than 1.5 steps, warned.
    let v = seen_json(&["sertraline", "--dose", "100mg", "--strategy", "hyperbolic"]);
    let steps = v["steps"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert_eq!(last["daily_dose"], "0");
    let before = micro(s(&steps[steps.len() - 2], "daily_dose"));
    let occupancy = |d: f64| 92.01 * d / (7.72 + d);
    let fall = occupancy(before as f64 / 1e6);
    let w: Vec<&Value> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "occupancy_fall")
        .collect();
    assert_eq!(w.len(), usize::from(fall > 7.5), "fall {fall}: {w:?}");
    if let Some(w) = w.first() {
        assert_eq!(w["step"], last["step"]);
        assert_eq!(w["detail"]["step"], "5");
        assert_eq!(w["detail"]["fall"], format!("{:.1}", fall).as_str());
    }
    assert_one_switch_never_back(&v, "sertraline hyperbolic");
}
