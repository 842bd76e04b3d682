//! Issue 10, item 3: custom schedule entries every N days (`5x14/2`), rest
//! days, `--final-hold` and profiles that forbid every-other-day dosing,
//! driven through the real binary; the engine rules for random schedules
//! with `/N` entries are property tests at the end.

mod common;

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use common::{assert_valid_batch_line, assert_valid_plan_json, check_plan, run, taper, Outcome};
use proptest::prelude::*;
use serde_json::Value;
use taper::dose::Dose;
use taper::formulation::Quantity;
use taper::profile::{load, ProfileDirs};
use taper::request::PlanOptions;

/// The COMBIVAS prednisolone schedule as a custom schedule: 20 mg days
/// 1-14, 15 mg days 15-35, 10 mg days 36-56, 5 mg days 57-70, 5 mg on
/// alternate days 71-84, stop on day 85. The first entry holds the
/// starting dose.
const COMBIVAS: [&str; 10] = [
    "plan",
    "prednisone",
    "--dose",
    "20mg",
    "--strategy",
    "custom",
    "--schedule",
    "20x14,15x21,10x21,5x14,5x14/2",
    "--start",
    "2026-01-01",
];

fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(more).copied().collect()
}

fn stdout(args: &[&str]) -> String {
    String::from_utf8(common::run_ok(args).stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    let doc: Value = serde_json::from_str(&stdout(&with(args, &["--format", "json"]))).unwrap();
    assert_valid_plan_json(&doc);
    doc
}

/// Exit 2 with one line on stderr, and nothing on stdout.
fn refused(args: &[&str]) -> String {
    let out = taper().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "taper {args:?}: {err}");
    assert!(out.stdout.is_empty(), "taper {args:?} wrote output");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn mg(v: &Value) -> f64 {
    v.as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| v.as_f64())
        .unwrap()
}

/// The COMBIVAS dose on plan day `n` (1-based), from the trial's text.
fn combivas_dose(n: u32) -> f64 {
    match n {
        1..=14 => 20.0,
        15..=35 => 15.0,
        36..=56 => 10.0,
        57..=70 => 5.0,
        71..=84 if (n - 71).is_multiple_of(2) => 5.0,
        71..=84 => 0.0,
        _ => 0.0,
    }
}

#[test]
fn combivas_prednisolone_is_reproduced_day_by_day() {
    let plan = json(&COMBIVAS);
    let days = plan["days"].as_array().unwrap();
    assert_eq!(days.len(), 85, "days 1-84 and the stop day 85");
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for (i, day) in days.iter().enumerate() {
        let n = i as u32 + 1;
        assert_eq!(day["day"], n);
        let date = start + Days::new(i as u64);
        assert_eq!(day["date"], date.to_string());
        assert_eq!(mg(&day["daily_dose"]), combivas_dose(n), "day {n}");
        let rest = (71..=84).contains(&n) && !(n - 71).is_multiple_of(2);
        assert_eq!(
            day.get("rest_day") == Some(&Value::Bool(true)),
            rest,
            "day {n}"
        );
    }
    let steps = plan["steps"].as_array().unwrap();
    let doses: Vec<f64> = steps.iter().map(|s| mg(&s["daily_dose"])).collect();
    assert_eq!(doses, [20.0, 15.0, 10.0, 5.0, 5.0, 0.0]);
    let every: Vec<Option<u64>> = steps.iter().map(|s| s["every_days"].as_u64()).collect();
    assert_eq!(every, [None, None, None, None, Some(2), None]);
    assert_eq!(steps[4]["days"], 14);
    assert_eq!(steps[5]["start"], "2026-03-26", "stop on day 85");
    // Counted by hand: days × 5 mg tablets a dose, rest days take none.
    let by_hand = 14 * 4 + 21 * 3 + 21 * 2 + 14 + 7;
    assert_eq!(by_hand, 182);
    let dispense = plan["dispense"].as_array().unwrap();
    assert_eq!(dispense.len(), 1, "{dispense:?}");
    assert_eq!(dispense[0]["name"], plan["products"][0]["name"]);
    assert_eq!(mg(&plan["products"][0]["strength"]), 5.0);
    assert_eq!(dispense[0]["units"], by_hand);
}

#[test]
fn rest_days_say_why_there_is_no_dose_in_every_view() {
    let csv = stdout(&with(&COMBIVAS, &["--format", "csv", "--view", "days"]));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 85);
    for (i, row) in rows.iter().enumerate() {
        let n = i as u32 + 1;
        let rest = (71..=84).contains(&n) && !(n - 71).is_multiple_of(2);
        assert_eq!(
            row.contains("no dose today (every other day)"),
            rest,
            "day {n}: {row}"
        );
        let dose = row.split(',').nth(3).unwrap();
        assert_eq!(dose.parse::<f64>().unwrap(), combivas_dose(n), "day {n}");
        // A rest day is neither a cut nor a stop: its change is 0.
        if rest {
            assert_eq!(row.split(',').nth(5), Some("0"), "day {n}: {row}");
            assert!(!row.contains("stop"), "day {n}: {row}");
        }
    }
    let steps = stdout(&with(&COMBIVAS, &["--format", "csv", "--view", "steps"]));
    let step5 = steps.lines().nth(5).unwrap();
    assert!(step5.contains("every other day"), "{step5}");
    // Wide enough that no cell wraps.
    let wide = |args: &[&str]| {
        let out = taper().env("COLUMNS", "250").args(args).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let table = wide(&with(&COMBIVAS, &["--view", "days"]));
    assert_eq!(table.matches("no dose today (every other day)").count(), 7);
    let table = wide(&COMBIVAS);
    assert!(
        table.contains("5 mg every other day for 14 days"),
        "{table}"
    );
    assert!(
        table.contains("1 × 5 mg tablet, every other day (morning)"),
        "{table}"
    );
    let html = stdout(&with(&COMBIVAS, &["--format", "html"]));
    assert_eq!(html.matches("no dose today (every other day)").count(), 7);
}

/// Timed calendar events are one per dose taken: none on rest days.
#[test]
fn calendars_remind_only_on_dose_days() {
    let ics = stdout(&with(&COMBIVAS, &["--format", "ics", "--times", "08:00"]));
    let timed: Vec<NaiveDate> = ics
        .lines()
        .filter_map(|l| l.strip_prefix("DTSTART:"))
        .map(|t| NaiveDate::parse_from_str(&t[..8], "%Y%m%d").unwrap())
        .collect();
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let expected: Vec<NaiveDate> = (1..=84)
        .filter(|&n| combivas_dose(n) > 0.0)
        .map(|n| start + Days::new(u64::from(n) - 1))
        .collect();
    assert_eq!(expected.len(), 14 + 21 + 21 + 14 + 7);
    assert_eq!(timed, expected);
}

#[test]
fn every_n_days_entries_are_checked() {
    let plan = |schedule: &'static str| {
        vec![
            "plan",
            "prednisone",
            "--dose",
            "20mg",
            "--strategy",
            "custom",
            "--schedule",
            schedule,
        ]
    };
    for (bad, names) in [
        ("10x14,5x14/1", "'/1'"),
        ("10x14,5x14/8", "'/8'"),
        ("10x14,5x14/x", "'/x'"),
        ("10x14,5x1/2", "5x1/2"),
    ] {
        let err = refused(&plan(bad));
        assert!(err.contains(names), "{bad}: {err}");
        assert!(err.contains("accepted"), "{bad}: {err}");
    }
    // Back to daily, or as often as before, at the same dose is no cut.
    for bad in ["10x14,5x14/2,5x14", "10x14,5x14/2,5x14/2", "10x14,10x14"] {
        let err = refused(&plan(bad));
        assert!(err.contains("does not fall below"), "{bad}: {err}");
    }
    // Nothing to skip at the target.
    let err = refused(&plan("10x14,0x14/2"));
    assert!(err.contains("target"), "{err}");
    // Less often again is a cut: 5 mg every 2, then every 3 days.
    let p = json(&plan("10x14,5x6/2,5x9/3"));
    let doses: Vec<f64> = p["days"].as_array().unwrap()[14..29]
        .iter()
        .map(|d| mg(&d["daily_dose"]))
        .collect();
    assert_eq!(
        doses,
        [5.0, 0.0, 5.0, 0.0, 5.0, 0.0, 5.0, 0.0, 0.0, 5.0, 0.0, 0.0, 5.0, 0.0, 0.0]
    );
    // The starting dose every other day is a cut, not a hold.
    let p = json(&plan("20x4/2"));
    assert!(p["steps"][0]["adjustment"].is_null());
    assert_eq!(p["steps"][0]["every_days"], 2);
}

#[test]
fn profiles_may_forbid_every_other_day_dosing() {
    for (profile, dose, schedule, why) in [
        ("baclofen", "30mg", "20x7,10x7/2", "abrupt"),
        ("tizanidine", "8mg", "4x7,4x7/2", "rebound"),
    ] {
        let err = refused(&[
            "plan",
            profile,
            "--dose",
            dose,
            "--strategy",
            "custom",
            "--schedule",
            schedule,
        ]);
        assert!(err.contains(profile), "{err}");
        assert!(err.contains("every-other-day"), "{err}");
        assert!(err.contains(why), "{err}");
        // The same schedule without /2 is planned.
        let daily = schedule.replace("/2", "").replace("4x7,4x7", "4x7,2x7");
        common::run_ok(&[
            "plan",
            profile,
            "--dose",
            dose,
            "--strategy",
            "custom",
            "--schedule",
            &daily,
        ]);
    }
}

/// `[doses] alternate_days` needs its own source, and a reason when false.
#[test]
fn the_profile_field_is_validated() {
    let base = include_str!("../profiles/baclofen.toml");
    let source = "alternate_days_source = \"US-tab\"\n";
    let reason_line = base
        .lines()
        .find(|l| l.starts_with("alternate_days_reason"))
        .unwrap();
    let reason = format!("{reason_line}\n");
    let cases = [
        (base.replace(source, ""), "alternate_days_source"),
        (
            base.replace(source, "alternate_days_source = \"nope\"\n"),
            "'nope'",
        ),
        (base.replace(&reason, ""), "alternate_days_reason"),
        (
            base.replace("alternate_days = false\n", ""),
            "need alternate_days",
        ),
        (
            base.replace("alternate_days = false", "alternate_days = \"no\""),
            "expected a boolean",
        ),
        // A default schedule it could never plan.
        (
            base.replace(
                "step = \"5\"\ninterval_days",
                "step = \"5\"\nschedule = \"40x7,20x7/2\"\ninterval_days",
            ),
            "20x7/2 doses every 2 days, but [doses] alternate_days = false",
        ),
    ];
    for (text, names) in cases {
        assert_ne!(text, base);
        let out = with_stdin(&["profiles", "check", "-"], &text);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{names}: {err}");
        assert!(err.contains(names), "{names}: {err}");
    }
    let allowed = base
        .replace(&reason, "")
        .replace("alternate_days = false", "alternate_days = true");
    let out = with_stdin(&["profiles", "check", "-"], &allowed);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `taper ARGS` with `text` on stdin.
fn with_stdin(args: &[&str], text: &str) -> std::process::Output {
    assert_cmd::Command::from_std(taper())
        .args(args)
        .write_stdin(text.to_string())
        .output()
        .unwrap()
}

/// The last dose before stopping, held as the prescriber says; every step
/// before it is as without the flag.
#[test]
fn final_hold_overrides_the_profiles_hold() {
    let base = common::BACLOFEN_PLAN;
    let plain = json(&base);
    let held = json(&with(&base, &["--final-hold", "3w"]));
    assert_eq!(held["request"]["final_hold_days"], 21);
    assert!(plain["request"].get("final_hold_days").is_none());
    let (a, b) = (
        plain["steps"].as_array().unwrap(),
        held["steps"].as_array().unwrap(),
    );
    assert_eq!(a.len(), b.len());
    let last = a.len() - 1;
    for i in 0..last - 1 {
        assert_eq!(a[i], b[i], "step {} unchanged", i + 1);
    }
    assert_eq!(a[last - 1]["daily_dose"], b[last - 1]["daily_dose"]);
    assert_eq!(a[last - 1]["days"], 7, "the profile's final hold");
    assert_eq!(b[last - 1]["days"], 21);
    assert!(mg(&b[last]["daily_dose"]) == 0.0);
    // It replaces the profile's hold, shorter too; not a tool default then.
    let short = json(&with(&base, &["--final-hold", "2"]));
    let s = short["steps"].as_array().unwrap();
    assert_eq!(s[s.len() - 2]["days"], 2);
    let defaults = short["profile"]["tool_defaults"].as_array().unwrap();
    assert!(!defaults.iter().any(|t| t == "ending.final_hold_days"));
    assert!(plain["profile"]["tool_defaults"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "ending.final_hold_days"));
}

#[test]
fn final_hold_is_checked() {
    for bad in ["0", "366", "53w", "-1", "abc", "1.5"] {
        let err = refused(&with(&common::BACLOFEN_PLAN, &["--final-hold", bad]));
        assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        assert!(err.contains("1 to 365"), "{bad}: {err}");
    }
    let err = refused(&with(
        &common::BACLOFEN_PLAN,
        &["--final-hold", "7", "--target", "10mg"],
    ));
    assert!(err.contains("target"), "{err}");
    let err = refused(&with(&COMBIVAS, &["--final-hold", "7"]));
    assert!(err.contains("custom"), "{err}");
}

#[test]
fn batch_rows_take_a_final_hold_column() {
    let input = "id,profile,dose,start,final_hold,schedule,strategy\n\
                 a,baclofen,60mg,2026-12-01,10,,\n\
                 b,baclofen,60mg,2026-12-01,,,\n\
                 c,prednisone,20mg,2026-01-01,,\"20x14,15x21,10x21,5x14,5x14/2\",custom\n\
                 d,baclofen,60mg,2026-12-01,400,,\n";
    let out = with_stdin(&["batch", "-", "--format", "jsonl"], input);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "row d is skipped: {err}");
    assert!(err.contains("'400'"), "{err}");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for l in &lines {
        assert_valid_batch_line(l);
    }
    let before_stop = |l: &Value| {
        let s = l["steps"].as_array().unwrap();
        s[s.len() - 2]["days"].as_u64().unwrap()
    };
    assert_eq!(before_stop(&lines[0]), 10);
    assert_eq!(before_stop(&lines[1]), 7);
    let c = &lines[2];
    assert_eq!(c["days"].as_array().unwrap().len(), 85);
    assert_eq!(c["dispense"][0]["units"], 182);
}

// ------------------------------------------------------------ properties

/// A schedule falling from `start` mg (whole mg, so 1 mg prednisone
/// tablets can give every dose), with entries every 2 or 3 days that may
/// repeat the dose before them.
fn schedules() -> impl Strategy<Value = (u32, Vec<(u32, u32, u32)>)> {
    (2u32..=40).prop_flat_map(|start| {
        let entry = (0u32..=3, 1u32..=20, 1u32..=3);
        (Just(start), prop::collection::vec(entry, 1..=6))
    })
}

/// Builds a valid schedule from the drawn cuts: a cut of 0 is only kept
/// when the entry is taken less often than the one before.
fn schedule_text(start: u32, drawn: &[(u32, u32, u32)]) -> Option<String> {
    let (mut dose, mut every) = (start, 1u32);
    let mut out = Vec::new();
    for &(cut, days, n) in drawn {
        let next = dose.checked_sub(cut)?;
        if next == 0 || (cut == 0 && n <= every) {
            continue;
        }
        let days = days.max(n);
        out.push(if n == 1 {
            format!("{next}x{days}")
        } else {
            format!("{next}x{days}/{n}")
        });
        (dose, every) = (next, n);
    }
    (!out.is_empty()).then(|| out.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random custom schedules with every-N-days entries keep every engine
    /// rule (the independent checker knows rest days), and dispensing is
    /// exactly the doses of the dose days, tablet for tablet.
    #[test]
    fn every_n_days_schedules_keep_every_rule((start, drawn) in schedules()) {
        let Some(schedule) = schedule_text(start, &drawn) else {
            return Ok(());
        };
        let profile = load("prednisone", &ProfileDirs::new(None, None)).unwrap();
        let opts = PlanOptions {
            dose: format!("{start}mg"),
            start: Some("2026-03-01".into()),
            strategy: Some(taper::profile::StrategyKind::Custom),
            schedule: Some(schedule.clone()),
            ..PlanOptions::default()
        };
        let plan = match run(profile.clone(), &opts).unwrap() {
            Outcome::Plan(p) => p,
            Outcome::Refused(m) => return Err(TestCaseError::fail(format!("{schedule}: {m}"))),
        };
        check_plan(&profile, &plan);
        // Rest days from the schedule text itself, not from the plan.
        let mut expected: Vec<u32> = Vec::new();
        for entry in schedule.split(',') {
            let (dose, rest) = entry.split_once('x').unwrap();
            let (days, n) = rest.split_once('/').map_or((rest, "1"), |p| p);
            let (dose, days, n): (u32, u32, u32) =
                (dose.parse().unwrap(), days.parse().unwrap(), n.parse().unwrap());
            expected.extend((0..days).map(|i| if i % n == 0 { dose } else { 0 }));
        }
        expected.push(0);
        let got: Vec<u32> = plan
            .days
            .iter()
            .map(|d| (d.daily_dose.micro() / 1_000_000) as u32)
            .collect();
        prop_assert_eq!(&got, &expected, "{}", schedule);
        let rest: BTreeSet<u32> = plan.days.iter().filter(|d| d.rest_day).map(|d| d.day).collect();
        let zero_before_end: BTreeSet<u32> = (1..expected.len() as u32)
            .filter(|&n| expected[n as usize - 1] == 0)
            .collect();
        prop_assert_eq!(rest, zero_before_end);
        // Whole tablets, never split: dispensed mg = mg taken on dose days.
        let taken: u64 = expected.iter().map(|&d| u64::from(d)).sum();
        let dispensed: u64 = plan
            .dispense
            .iter()
            .map(|l| {
                let p = &plan.products[l.product];
                match (l.units, l.volume_ml) {
                    (Some(n), _) => n * p.strength.unwrap().micro(),
                    (_, Some(ml)) => ml.micro() * p.concentration.unwrap().micro() / 1_000_000,
                    _ => 0,
                }
            })
            .sum();
        prop_assert_eq!(dispensed, taken * Dose::parse_decimal("1").unwrap().micro(), "{}", schedule);
        for s in &plan.steps {
            for a in &s.administrations {
                for p in &a.portions {
                    let split = matches!(p.quantity, Quantity::Units { split_into: 2.., .. });
                    prop_assert!(!split, "prednisone tablets are not split");
                }
            }
        }
    }
}

/// Going from 5 mg a day to 5 mg every other day halves the average daily
/// dose: the step says so in the table and CSV, is judged on the average
/// (prednisone's 1 mg steps below 5 mg: warned), and calendars say how
/// often each dose comes.
#[test]
fn every_other_day_steps_show_and_judge_the_average_dose() {
    let steps = stdout(&with(&COMBIVAS, &["--format", "csv", "--view", "steps"]));
    let mut rows = csv::Reader::from_reader(steps.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let avg = col("average_change_percent");
    let got: Vec<String> = rows
        .records()
        .map(|r| r.unwrap()[avg].to_string())
        .collect();
    assert_eq!(got, ["", "", "", "", "-50", "-100"]);
    let doc = json(&COMBIVAS);
    let step5 = &doc["steps"][4];
    assert_eq!(step5["rhythm"]["from_every_days"], 1);
    assert_eq!(step5["rhythm"]["average_cut_percent"], "50");
    let warned: Vec<&Value> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "step_too_large" && w["step"] == 5)
        .collect();
    assert_eq!(warned.len(), 1, "{}", doc["warnings"]);
    assert_eq!(warned[0]["detail"]["to_every_days"], 2);
    let table = stdout(&with(&COMBIVAS, &["--format", "table", "--view", "steps"]));
    assert!(table.contains("0 (-50% avg)"), "{table}");
    let err = String::from_utf8(common::run_ok(&COMBIVAS).stderr).unwrap();
    assert!(
        err.contains(
            "the cut from 5 mg every day to 5 mg every other day (50% of the average daily dose)"
        ),
        "{err}"
    );
    let ics = stdout(&with(&COMBIVAS, &["--format", "ics"])).replace("\r\n ", "");
    assert!(ics.contains("Each dose (every other day):"), "{ics}");
}
