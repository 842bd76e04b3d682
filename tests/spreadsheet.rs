//! CSV for spreadsheets: `--bom` starts the file with the UTF-8 byte-order
//! mark, `--ascii` writes only ASCII, and neither changes a number.

use std::process::Output;

use chrono::NaiveDate;
use proptest::prelude::*;
use taper::profile::{load, ProfileDirs};
use taper::render::csv::{write_day_rows_with, write_with, CsvOptions};
use taper::render::View;
use taper::request::{resolve, PlanOptions};

mod common;

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn taper(args: &[&str]) -> Output {
    common::taper().args(args).output().unwrap()
}

fn stdout(args: &[&str]) -> Vec<u8> {
    common::run_ok(args).stdout
}

fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Cells that are numbers or dates: they must read the same either way.
fn is_number(cell: &str) -> bool {
    !cell.is_empty()
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
}

/// Same rows and columns, every number and date the same, and every text
/// cell the ASCII spelling of the original (the same when it was ASCII).
fn assert_same_numbers(plain: &[Vec<String>], ascii: &[Vec<String>]) {
    assert_eq!(plain.len(), ascii.len());
    for (p, a) in plain.iter().zip(ascii) {
        assert_eq!(p.len(), a.len(), "{p:?} / {a:?}");
        for (pc, ac) in p.iter().zip(a) {
            if is_number(pc) || pc.is_ascii() {
                assert_eq!(pc, ac);
            }
        }
    }
}

const PLAN: [&str; 6] = common::BACLOFEN_PLAN;

#[test]
fn bom_comes_first_and_the_rest_is_the_same_csv() {
    for view in ["days", "steps"] {
        let mut args = PLAN.to_vec();
        args.extend(["--format", "csv", "--view", view]);
        let plain = stdout(&args);
        args.push("--bom");
        let with_bom = stdout(&args);
        assert_eq!(&with_bom[..3], BOM, "{view}");
        assert_eq!(&with_bom[3..], &plain[..], "{view}");
        assert!(!with_bom[3..].starts_with(BOM));
        assert_eq!(records(&with_bom[3..]), records(&plain));
    }
}

#[test]
fn ascii_spells_tapers_symbols_and_keeps_the_numbers() {
    for view in ["days", "steps"] {
        let mut args = PLAN.to_vec();
        args.extend(["--format", "csv", "--view", view]);
        let plain = stdout(&args);
        assert!(!plain.is_ascii(), "the plain CSV has × and ½");
        args.push("--ascii");
        let ascii = stdout(&args);
        assert!(ascii.is_ascii(), "{}", String::from_utf8_lossy(&ascii));
        let text = String::from_utf8(ascii.clone()).unwrap();
        assert!(
            text.contains("morning and midday: 2 x 10 mg tablet; bedtime: 1 1/2 x 10 mg tablet")
        );
        assert!(text.contains("1/2 x 10 mg tablet, once a day"));
        assert_same_numbers(&records(&plain), &records(&ascii));
    }
}

#[test]
fn a_csv_file_gets_both_flags_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.csv");
    let mut args = PLAN.to_vec();
    args.extend(["--bom", "--ascii", "-o", path.to_str().unwrap()]);
    stdout(&args);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..3], BOM);
    assert!(bytes[3..].is_ascii());
}

#[test]
fn the_flags_are_refused_for_other_formats() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, format) in [("--bom", "json"), ("--ascii", "table"), ("--bom", "ics")] {
        let path = dir.path().join(format!("plan.{format}"));
        let mut args = PLAN.to_vec();
        args.extend([flag, "--format", format, "-o", path.to_str().unwrap()]);
        let out = taper(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!("{flag} applies only to CSV output")),
            "{err}"
        );
        assert!(!path.exists(), "no file for a refused request");
    }
    let out = taper(&["batch", "-", "--format", "jsonl", "--ascii"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn batch_with_both_flags() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("requests.csv");
    std::fs::write(
        &input,
        "id,profile,dose,patient\nZoë-1,baclofen,60mg,Zoë Müller\n−2,diazepam,20mg,\n",
    )
    .unwrap();
    let input = input.to_str().unwrap();
    for view in ["days", "summary"] {
        let base = ["batch", input, "--start", "2026-12-01", "--view", view];
        let plain = stdout(&base);
        let mut args = base.to_vec();
        args.extend(["--bom", "--ascii"]);
        let both = stdout(&args);
        assert_eq!(&both[..3], BOM, "{view}");
        let rest = &both[3..];
        assert!(rest.is_ascii(), "{view}");
        assert!(!rest.windows(3).any(|w| w == BOM), "one BOM, at the start");
        let (p, a) = (records(&plain), records(rest));
        assert_same_numbers(&p, &a);
        // Ids are transliterated, and one that becomes a formula is guarded.
        assert!(a[1..].iter().any(|r| r[0] == "Zoe-1"), "{view}");
        assert!(
            a[1..].iter().any(|r| r[0] == "'-2"),
            "{view}: {:?}",
            a[1..].iter().map(|r| &r[0]).collect::<Vec<_>>()
        );
    }
}

fn plan_for(profile: &str, dose: u32, interval: Option<u32>) -> Option<taper::Plan> {
    let profile = load(profile, &ProfileDirs::default()).ok()?;
    let opts = PlanOptions {
        dose: format!("{dose}mg"),
        start: Some("2026-12-01".into()),
        interval: interval.map(|i| i.to_string()),
        ..PlanOptions::default()
    };
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let req = resolve(profile, &opts, today).ok()?;
    taper::schedule::build(&req).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// For random plans and random patient ids (any Unicode), `--ascii`
    /// CSV is pure ASCII and reads as the same rows with the same numbers.
    #[test]
    fn ascii_csv_is_ascii_with_the_same_numbers(
        which in 0usize..7,
        dose in 1u32..=120,
        interval in proptest::option::of(7u32..=28),
        id in "\\PC{0,16}",
        steps in any::<bool>(),
    ) {
        let profile = [
            "baclofen", "diazepam", "gabapentin", "oxycodone", "prednisone", "sertraline",
            "tizanidine",
        ][which];
        let dose = if profile == "gabapentin" { dose * 25 } else { dose };
        let plan = plan_for(profile, dose, interval);
        prop_assume!(plan.is_some());
        let plan = plan.unwrap();
        let ascii = CsvOptions { bom: false, ascii: true };
        let view = if steps { View::Steps } else { View::Days };
        let (mut p, mut a) = (Vec::new(), Vec::new());
        write_with(&plan, view, CsvOptions::default(), &mut p).unwrap();
        write_with(&plan, view, ascii, &mut a).unwrap();
        prop_assert!(a.is_ascii());
        assert_same_numbers(&records(&p), &records(&a));
        // The batch rows, led by a user's id.
        let (mut p, mut a) = (Vec::new(), Vec::new());
        write_day_rows_with(&plan, &[&id], CsvOptions::default(), &mut p);
        write_day_rows_with(&plan, &[&id], ascii, &mut a);
        prop_assert!(a.is_ascii(), "{}", String::from_utf8_lossy(&a));
        assert_same_numbers(&records(&p), &records(&a));
    }
}
