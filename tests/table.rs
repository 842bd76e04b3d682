//! The terminal table fits its width: `COLUMNS` (or the terminal) sets it,
//! colour never changes it, dates and numbers are never split, and narrow
//! terminals get one block per step.

use chrono::NaiveDate;
use proptest::prelude::*;
use taper::profile::{load, ProfileDirs};
use taper::render::{render_with, Extras, Format, View};
use taper::request::{resolve, PlanOptions};
use unicode_width::UnicodeWidthStr;

mod common;

const WIDTHS: [usize; 5] = [40, 60, 80, 100, 160];

/// Plans of several shapes: splits, liquids, capsules, warnings, long notes.
const PLANS: [&[&str]; 8] = [
    &["baclofen", "--dose", "60mg"],
    &[
        "baclofen",
        "--dose",
        "60mg",
        "--step",
        "20mg",
        "--interval",
        "2",
    ],
    &["sertraline", "--dose", "100mg", "--strategy", "hyperbolic"],
    &["prednisone", "--dose", "40mg"],
    &["oxycodone", "--dose", "60mg"],
    &["gabapentin", "--dose", "1800mg"],
    &["tizanidine", "--dose", "24mg", "--target", "8mg"],
    &["diazepam", "--dose", "20mg"],
];

/// `taper plan ARGS` with a known start, no inherited width or colour.
fn plan(args: &[&str], columns: Option<&str>, color: &str) -> String {
    let mut c = common::taper();
    c.arg("plan")
        .args(args)
        .args(["--start", "2026-12-01", "--color", color]);
    if let Some(w) = columns {
        c.env("COLUMNS", w);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Text without our SGR colour codes (`ESC [ digits ; m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn widest(text: &str) -> usize {
    strip_ansi(text)
        .lines()
        .map(|l| l.width())
        .max()
        .unwrap_or(0)
}

/// Every run of digits and hyphens that starts like a date is a whole
/// date: a split one (`2026-12-0` / `1`) shows up as a short run.
fn assert_dates_whole(text: &str, what: &str) {
    let text = strip_ansi(text);
    for run in text.split(|c: char| !(c.is_ascii_digit() || c == '-')) {
        let b = run.as_bytes();
        // `2026-`, `2026-1`, `2026-12`, `2026-12-0`... but not a page
        // range such as `1657-1683`.
        let datelike = b.len() >= 5
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && (b.len() <= 7 || b[7] == b'-');
        if datelike {
            assert!(
                run.len() == 10 && NaiveDate::parse_from_str(run, "%Y-%m-%d").is_ok(),
                "{what}: broken date {run:?} in\n{text}"
            );
        }
    }
}

/// The dates every step starts and ends on, from the plan's JSON.
fn step_dates(args: &[&str]) -> Vec<String> {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&plan(&a, None, "never")).unwrap();
    common::assert_valid_plan_json(&v);
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| [&s["start"], &s["end"]])
        .map(|d| d.as_str().unwrap().to_string())
        .collect()
}

/// Each step's list of doses (`20 + 20 + 15`), from the plan's JSON.
fn step_doses(args: &[&str]) -> Vec<String> {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&plan(&a, None, "never")).unwrap();
    v["step_text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["doses"].as_str().unwrap().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

#[test]
fn every_line_fits_every_width_and_dates_and_doses_stay_whole() {
    for args in PLANS {
        let dates = step_dates(args);
        let doses = step_doses(args);
        for w in WIDTHS {
            let what = format!("{args:?} at {w} columns");
            let out = plan(args, Some(&w.to_string()), "never");
            assert!(widest(&out) <= w, "{what}: {} wide\n{out}", widest(&out));
            assert_dates_whole(&out, &what);
            for d in &dates {
                assert!(out.contains(d.as_str()), "{what}: {d} missing\n{out}");
            }
            // A list of doses is read as one: it is never wrapped.
            let lines: Vec<&str> = out.lines().collect();
            for d in &doses {
                assert!(
                    lines.iter().any(|l| l.contains(d.as_str())),
                    "{what}: doses {d} split\n{out}"
                );
            }
        }
    }
}

#[test]
fn the_days_view_fits_too() {
    for args in [PLANS[0], PLANS[2]] {
        let mut a = args.to_vec();
        a.extend(["--view", "days"]);
        for w in WIDTHS {
            let out = plan(&a, Some(&w.to_string()), "never");
            let what = format!("{a:?} at {w} columns");
            assert!(widest(&out) <= w, "{what}\n{out}");
            assert_dates_whole(&out, &what);
            assert!(
                out.contains("2026-12-01") && out.contains("2026-12-02"),
                "{what}"
            );
        }
    }
}

#[test]
fn colour_never_changes_the_layout() {
    for args in PLANS {
        for w in WIDTHS
            .map(|w| Some(w.to_string()))
            .into_iter()
            .chain([None])
        {
            let plain = plan(args, w.as_deref(), "never");
            let coloured = plan(args, w.as_deref(), "always");
            assert!(coloured.contains("\u{1b}["), "{args:?}: no colour");
            assert_eq!(strip_ansi(&coloured), plain, "{args:?} at {w:?}");
        }
    }
    // NO_COLOR (the case of the issue) lays out as colour does.
    let mut c = common::taper();
    c.env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .args(common::BACLOFEN_PLAN);
    let out = String::from_utf8(c.output().unwrap().stdout).unwrap();
    assert!(!out.contains('\u{1b}'));
    assert_eq!(out, strip_ansi(&plan(PLANS[0], Some("80"), "always")));
    assert!(widest(&out) <= 80);
}

#[test]
fn piped_output_has_a_fixed_width_of_100() {
    for args in PLANS {
        let piped = plan(args, None, "never");
        assert!(widest(&piped) <= 100, "{args:?}\n{piped}");
        assert_eq!(piped, plan(args, Some("100"), "never"), "{args:?}");
        // A COLUMNS that is not a positive number is ignored.
        for bad in ["0", "-5", "wide", ""] {
            assert_eq!(piped, plan(args, Some(bad), "never"), "COLUMNS={bad:?}");
        }
    }
}

#[test]
fn a_file_never_takes_the_terminal_width() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.txt");
    let mut c = common::taper();
    c.env("COLUMNS", "40").args(common::BACLOFEN_PLAN).arg("-o");
    assert!(c.arg(&path).status().unwrap().success());
    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(file, plan(PLANS[0], None, "never"));
}

#[test]
fn narrow_terminals_get_one_block_per_step() {
    let out = plan(PLANS[0], Some("60"), "never");
    assert!(!out.contains('┆') && !out.contains('│'), "{out}");
    assert!(out.contains("Step 3 · 2026-12-15 → 2026-12-21 (7 days)\n  Daily dose: 45 mg (-5)\n"));
    assert!(
        out.contains("Step 12 · 2027-02-16 → 2027-02-16 (1 day)"),
        "{out}"
    );
    // Warned steps say so in words.
    let out = plan(PLANS[1], Some("60"), "never");
    assert!(out.contains("Step 1 (WARNING) · "), "{out}");
    // Wide terminals keep the table, one line per step.
    let wide = plan(PLANS[0], Some("200"), "never");
    assert!(
        wide.contains("│    3 ┆ 2026-12-15 ┆ 2026-12-21 ┆"),
        "{wide}"
    );
    assert!(
        !wide.contains("├╌"),
        "rules only between rows of several lines"
    );
}

#[test]
fn header_lines_wrap_with_a_hanging_indent() {
    let out = plan(PLANS[0], Some("80"), "never");
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("Sources: "))
        .unwrap();
    assert!(lines[at + 1].starts_with("  ") && !lines[at + 1].starts_with("   "));
    // Nothing is lost: the sources read the same once unwrapped.
    let wide = plan(PLANS[0], Some("1000"), "never");
    let sources = wide.lines().find(|l| l.starts_with("Sources: ")).unwrap();
    let mut joined = lines[at].to_string();
    for l in lines[at + 1..].iter().take_while(|l| l.starts_with("  ")) {
        joined.push(' ');
        joined.push_str(l.trim_start());
    }
    assert_eq!(joined, sources);
}

#[test]
fn amounts_in_the_take_column_are_never_split() {
    for w in WIDTHS {
        let out = plan(PLANS[0], Some(&w.to_string()), "never");
        for line in out.lines() {
            for cell in line.split(['│', '┆']).map(str::trim) {
                assert!(
                    !cell.ends_with(" ×") && !cell.starts_with("× ") && !cell.starts_with("mg "),
                    "{w}: {line}"
                );
            }
        }
    }
}

fn library_table(profile: &str, dose: &str, view: View, color: bool, width: usize) -> String {
    let profile = load(profile, &ProfileDirs::default()).unwrap();
    let opts = PlanOptions {
        dose: dose.into(),
        start: Some("2026-12-01".into()),
        ..PlanOptions::default()
    };
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let plan = taper::schedule::build(&resolve(profile, &opts, today).unwrap()).unwrap();
    let extras = Extras {
        width: Some(width),
        ..Extras::default()
    };
    let mut out = Vec::new();
    render_with(&plan, Format::Table, view, color, &extras, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any width from the narrowest layout up: nothing wider, no split date,
    /// and colour changes no line.
    #[test]
    fn any_width_fits(
        width in 30usize..=240,
        which in 0usize..5,
        days in any::<bool>(),
    ) {
        let (profile, dose) = [
            ("baclofen", "60mg"),
            ("sertraline", "100mg"),
            ("oxycodone", "60mg"),
            ("prednisone", "40mg"),
            ("diazepam", "20mg"),
        ][which];
        let view = if days { View::Days } else { View::Steps };
        let plain = library_table(profile, dose, view, false, width);
        prop_assert!(widest(&plain) <= width, "{} > {width}\n{plain}", widest(&plain));
        assert_dates_whole(&plain, &format!("{profile} at {width}"));
        let coloured = library_table(profile, dose, view, true, width);
        prop_assert_eq!(strip_ansi(&coloured), plain);
    }
}
