//! Issue 11, item 4: switching to diazepam before tapering (`--switch-to`).
//!
//! Properties over random switch plans: no day gives more than the day
//! before in the profile's equivalence, every administration is one drug
//! made of that drug's products within its profile's rules, the switch
//! replaces one more administration each step (the last of the day first),
//! and the taper after the switch is exactly the plan the new drug's own
//! profile gives from the switched dose, which keeps every engine rule.
//! The rest drives the real binary.

mod common;

use std::sync::Arc;

use assert_cmd::assert::OutputAssertExt;
use chrono::NaiveDate;
use common::{
    assert_valid_batch_line, assert_valid_plan_json, check_plan, delivered, pieces, run_ok, taper,
};
use proptest::prelude::*;
use serde_json::Value;
use taper::dose::Dose;
use taper::error::Error;
use taper::request::{resolve, PlanOptions};
use taper::schedule::{build, GaveWay, Plan};

/// Profiles whose sources describe a switch to diazepam, with doses to
/// draw from (mg a day; some are not given by every market's products).
const SWITCHABLE: [(&str, &[&str]); 7] = [
    (
        "alprazolam",
        &["0.5", "0.75", "1", "1.5", "2", "3", "4", "6"],
    ),
    ("clonazepam", &["0.5", "1", "1.5", "2", "3", "4"]),
    ("lorazepam", &["0.5", "1", "1.5", "2", "3", "4", "6"]),
    ("oxazepam", &["15", "30", "45", "60", "90"]),
    ("temazepam", &["10", "15", "20", "30", "40"]),
    ("zolpidem", &["5", "10", "20"]),
    ("zopiclone", &["3.75", "7.5", "15"]),
];

use common::builtin as profile;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

#[derive(Clone, Debug)]
struct Case {
    from: usize,
    dose: usize,
    market: &'static str,
    doses_per_day: Option<u32>,
    interval: Option<u32>,
    percent: Option<u32>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..SWITCHABLE.len(),
        0..8usize,
        prop_oneof![Just("us"), Just("uk")],
        prop_oneof![Just(None), (1..=4u32).prop_map(Some)],
        prop_oneof![Just(None), (1..=21u32).prop_map(Some)],
        prop_oneof![Just(None), (5..=25u32).prop_map(Some)],
    )
        .prop_map(
            |(from, dose, market, doses_per_day, interval, percent)| Case {
                from,
                dose,
                market,
                doses_per_day,
                interval,
                percent,
            },
        )
}

fn options(c: &Case) -> PlanOptions {
    let doses = SWITCHABLE[c.from].1;
    PlanOptions {
        dose: format!("{}mg", doses[c.dose % doses.len()]),
        start: Some("2027-01-04".into()),
        doses_per_day: c.doses_per_day.map(|n| n.to_string()),
        market: Some(c.market.into()),
        percent: c.percent.map(|p| p.to_string()),
        switch_to: Some("diazepam".into()),
        switch_interval: c.interval.map(|d| d.to_string()),
        ..PlanOptions::default()
    }
}

/// The switch plan, or `None` for a request the tool refuses with a usage
/// error (a dose the market's products cannot give in that many doses).
fn switch_plan(c: &Case) -> Option<Plan> {
    let from = profile(SWITCHABLE[c.from].0);
    match taper::switch::build(from, profile("diazepam"), &options(c), today()) {
        Ok(p) => Some(p),
        Err(Error::Usage(m)) => {
            assert!(!m.trim().is_empty());
            None
        }
        Err(e) => panic!("{c:?}: unexpected error {e}"),
    }
}

/// A step's total in diazepam equivalents, times the equivalence's `dose`
/// (so it is exact): old amounts × reference_dose + diazepam × dose.
fn scaled_total(plan: &Plan, step: usize) -> u128 {
    let sw = plan.switch.as_ref().unwrap();
    let eq = &sw.equivalence;
    plan.steps[step]
        .administrations
        .iter()
        .map(|a| {
            let amount = u128::from(a.amount.micro());
            if a.drug.as_deref() == Some(sw.from.name.as_str()) {
                amount * u128::from(eq.reference_dose.micro())
            } else {
                amount * u128::from(eq.dose.micro())
            }
        })
        .sum()
}

/// The properties of one switch plan.
fn check_switch(c: &Case, plan: &Plan) {
    let sw = plan.switch.as_ref().expect("a switch plan says so");
    let from = profile(&sw.from.name);
    let to = profile("diazepam");
    let eq = &sw.equivalence;
    let m = sw.last_step as usize;
    assert_eq!(m as u32, sw.doses_per_day);
    assert_eq!(sw.replacements.len(), m);
    assert_eq!(plan.profile.name, "diazepam");

    // Never more than the day before, in the profile's equivalence.
    let start = u128::from(sw.dose.micro()) * u128::from(eq.reference_dose.micro());
    let mut before = start;
    for (i, s) in plan.steps.iter().enumerate() {
        let now = if i < m {
            scaled_total(plan, i)
        } else {
            u128::from(s.daily_dose.micro()) * u128::from(eq.dose.micro())
        };
        assert!(
            now <= before,
            "{c:?}: step {} gives more than the day before ({now} > {before})",
            s.step
        );
        before = now;
    }

    // Each administration is one drug, made of that drug's products,
    // within that drug's profile's piece limit; amounts are exact.
    for s in &plan.steps[..m] {
        assert_eq!(s.days, sw.interval_days);
        assert_eq!(
            s.administrations.len(),
            m,
            "every slot is given each switch day"
        );
        for (j, a) in s.administrations.iter().enumerate() {
            let drug = a
                .drug
                .as_deref()
                .expect("a switch step names each dose's drug");
            assert!(drug == sw.from.name || drug == "diazepam", "{drug}");
            for p in &a.portions {
                assert_eq!(plan.products[p.product].drug.as_deref(), Some(drug));
            }
            assert_eq!(delivered(plan, &a.portions), u128::from(a.amount.micro()));
            // The limit, unless the plan says it gave way (to that many).
            let own = if drug == "diazepam" {
                to.max_pieces
            } else {
                from.max_pieces
            };
            let limit = plan
                .gave_way
                .iter()
                .filter_map(|g| match g {
                    GaveWay::PieceLimit { limit, used } if *limit == own => Some(*used),
                    _ => None,
                })
                .fold(own, u32::max);
            assert!(
                pieces(&a.portions) <= u64::from(limit),
                "{c:?}: piece limit: step {} {drug} {} pieces, limit {limit}, {:?}",
                s.step,
                pieces(&a.portions),
                plan.gave_way
            );
            // Step k has replaced the last k administrations of the day.
            let replaced = j + s.step as usize >= m;
            assert_eq!(
                drug == "diazepam",
                replaced,
                "{c:?}: step {} slot {j}",
                s.step
            );
            if replaced {
                let r = &sw.replacements[m - 1 - j];
                assert_eq!(a.amount, r.to_dose);
                assert!(
                    u128::from(r.to_dose.micro()) * u128::from(eq.dose.micro())
                        <= u128::from(r.from_dose.micro()) * u128::from(eq.reference_dose.micro()),
                    "rounded down"
                );
                assert!(!r.to_dose.is_zero());
            } else {
                // The old drug's dose stays as it was taken.
                assert_eq!(a.amount, plan.steps[0].administrations[j].amount);
            }
        }
        let per_drug: Dose = s
            .drugs
            .iter()
            .filter(|d| d.drug == "diazepam")
            .map(|d| d.daily_dose)
            .fold(Dose::ZERO, |a, b| a.plus(b));
        let given: Dose = s
            .administrations
            .iter()
            .filter(|a| a.drug.as_deref() == Some("diazepam"))
            .map(|a| a.amount)
            .fold(Dose::ZERO, |a, b| a.plus(b));
        assert_eq!(per_drug, given);
    }
    let first_day: Dose = plan.steps[0]
        .administrations
        .iter()
        .filter(|a| a.drug.as_deref() == Some(sw.from.name.as_str()))
        .map(|a| a.amount)
        .fold(Dose::ZERO, |a, b| a.plus(b));
    let first_new: Dose = sw.replacements[0].from_dose;
    assert_eq!(
        first_day.plus(first_new),
        sw.dose,
        "the switch starts from the dose taken"
    );

    // The taper after the switch is diazepam's own plan from the switched
    // dose, and keeps every engine rule.
    let taper_start = plan.steps[m].start;
    let opts = PlanOptions {
        dose: format!("{}mg", sw.switched_dose),
        start: Some(taper_start.to_string()),
        doses_per_day: Some((m as u32).min(to.doses_per_day).to_string()),
        switch_to: None,
        switch_interval: None,
        ..options(c)
    };
    let own = build(&resolve(Arc::clone(&to), &opts, today()).unwrap()).unwrap();
    check_plan(&to, &own);
    let tail = &plan.steps[m..];
    assert_eq!(tail.len(), own.steps.len());
    for (a, b) in tail.iter().zip(&own.steps) {
        assert_eq!(
            (a.start, a.days, a.daily_dose),
            (b.start, b.days, b.daily_dose)
        );
        assert!(a.drugs.is_empty());
        let amounts = |s: &taper::schedule::Step| {
            s.administrations
                .iter()
                .map(|x| x.amount)
                .collect::<Vec<_>>()
        };
        assert_eq!(amounts(a), amounts(b));
        // Each dose keeps a time of day the patient had, in order.
        let slots: Vec<u32> = a.administrations.iter().map(|x| x.slot_index).collect();
        assert!(slots.windows(2).all(|w| w[0] < w[1]), "{slots:?}");
        assert!(slots.iter().all(|&i| i < sw.doses_per_day));
        for x in &a.administrations {
            assert_eq!(
                x.slot,
                plan.steps[0].administrations[x.slot_index as usize].slot
            );
        }
    }
    assert_eq!(plan.steps[m].change.from, sw.switched_dose);
    assert_eq!(
        plan.days.len(),
        plan.steps.iter().map(|s| s.days as usize).sum::<usize>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn switch_plans_keep_their_promises(c in case()) {
        if let Some(plan) = switch_plan(&c) {
            check_switch(&c, &plan);
        }
    }
}

/// Most drawn requests are plans, not refusals: the property is not
/// vacuous.
#[test]
fn most_switch_requests_are_plans() {
    let mut planned = 0;
    let mut total = 0;
    for (from, (_, doses)) in SWITCHABLE.iter().enumerate() {
        for dose in 0..doses.len() {
            for market in ["us", "uk"] {
                let c = Case {
                    from,
                    dose,
                    market,
                    doses_per_day: None,
                    interval: None,
                    percent: None,
                };
                total += 1;
                if let Some(p) = switch_plan(&c) {
                    check_switch(&c, &p);
                    planned += 1;
                }
            }
        }
    }
    assert!(planned * 4 >= total * 3, "{planned} of {total} planned");
}

/// Lorazepam 3 mg a day switched to diazepam, from a fixed date.
const LORAZEPAM_SWITCH: [&str; 8] = [
    "plan",
    "lorazepam",
    "--dose",
    "3mg",
    "--start",
    "2027-01-04",
    "--switch-to",
    "diazepam",
];

fn stdout(args: &[&str]) -> String {
    String::from_utf8(run_ok(args).stdout).unwrap()
}

fn refused(args: &[&str]) -> String {
    let out = taper().args(args).assert().code(2).get_output().clone();
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn lorazepam_switch_in_the_table_names_both_drugs() {
    let out = stdout(&LORAZEPAM_SWITCH);
    // Read as one line: the table wraps to the terminal.
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for says in [
        "Lorazepam to diazepam: switch and taper schedule",
        "Starting dose: lorazepam 3 mg a day (about 30 mg diazepam)",
        "bedtime first (steps 1 to 2)",
        "lorazepam 1 mg = diazepam 10 mg",
        "published range: lorazepam 1 mg = diazepam 5 to 10 mg",
        "morning: 1½ × lorazepam 1 mg tablet; bedtime: 3 × diazepam 5 mg tablet",
        "Doses (mg): lorazepam 1.5 + diazepam 15",
        "profile lorazepam version",
    ] {
        assert!(out.contains(says), "{says}: {out}");
    }
}

#[test]
fn csv_and_json_carry_a_drug_per_administration() {
    let args = [
        "plan",
        "alprazolam",
        "--dose",
        "3mg",
        "--start",
        "2027-01-04",
        "--switch-to",
        "diazepam",
    ];
    let csv = stdout(&[&args[..], &["--format", "csv", "--view", "steps"]].concat());
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header = r.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][col("drugs")], "alprazolam + alprazolam + diazepam");
    assert_eq!(&rows[0][col("doses")], "1 + 1 + 20");
    assert_eq!(&rows[0][col("daily_dose")], "60");
    assert_eq!(&rows[2][col("drugs")], "diazepam + diazepam + diazepam");
    let json: Value =
        serde_json::from_str(&stdout(&[&args[..], &["--format", "json"]].concat())).unwrap();
    assert_valid_plan_json(&json);
    let step1 = &json["steps"][0];
    let drugs: Vec<&str> = step1["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["drug"].as_str().unwrap())
        .collect();
    assert_eq!(drugs, ["alprazolam", "alprazolam", "diazepam"]);
    assert_eq!(step1["drugs"][0]["drug"], "alprazolam");
    assert_eq!(step1["drugs"][0]["daily_dose"], "2");
    assert_eq!(step1["drugs"][1]["daily_dose"], "20");
    assert_eq!(json["switch"]["from"]["name"], "alprazolam");
    assert_eq!(json["switch"]["switched_dose"], "60");
    // Dispensing per drug.
    let dispensed: Vec<&str> = json["dispense"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["drug"].as_str().unwrap())
        .collect();
    assert!(dispensed.contains(&"alprazolam") && dispensed.contains(&"diazepam"));
}

/// A batch request file in a fresh folder (kept alive by the returned
/// guard).
fn requests(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("req.csv");
    std::fs::write(&input, text).unwrap();
    (dir, input)
}

#[test]
fn batch_takes_a_switch_to_column() {
    let (_dir, input) = requests(
        "id,profile,dose,switch_to,switch_interval\na,lorazepam,2mg,diazepam,14\nb,diazepam,20mg,,\nc,chlordiazepoxide,30mg,diazepam,\n",
    );
    let out = taper()
        .args([
            "batch",
            input.to_str().unwrap(),
            "--view",
            "summary",
            "--start",
            "2027-01-04",
        ])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stdout.contains("\na,lorazepam to diazepam,2,0,mg,"),
        "{stdout}"
    );
    assert!(stdout.contains("\nb,diazepam,20,"), "{stdout}");
    assert!(
        stderr.contains("line 4 (id c): no switch from chlordiazepoxide"),
        "{stderr}"
    );
    // The interval column: two switch steps of 14 days.
    let days = taper()
        .args(["batch", input.to_str().unwrap(), "--start", "2027-01-04"])
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let days = String::from_utf8(days).unwrap();
    assert!(days.contains("\na,2027-01-31,28,2,20,"), "{days}");
    assert!(days.contains("\na,2027-02-01,29,3,18,"), "{days}");
}

#[test]
fn batch_jsonl_switch_rows_follow_the_schema() {
    let (_dir, input) = requests(
        "id,profile,dose,switch_to,market\na,oxazepam,45mg,diazepam,uk\nb,zolpidem,10mg,diazepam,\n",
    );
    let out = stdout(&["batch", input.to_str().unwrap(), "--format", "jsonl"]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for doc in &lines {
        assert_valid_batch_line(doc);
        assert!(doc["switch"].is_object(), "{doc}");
    }
}

#[test]
fn unsupported_switches_are_refused_naming_what_is() {
    // (arguments after `taper plan`, what the one-line message says)
    let cases: [(&str, &[&str]); 10] = [
        (
            "chlordiazepoxide --dose 30mg --switch-to diazepam",
            &["no sourced [switch]", "lorazepam"],
        ),
        (
            "lorazepam --dose 3mg --switch-to oxazepam",
            &["accepted: --switch-to diazepam"],
        ),
        (
            "morphine --dose 60mg --switch-to oxycodone",
            &["no switch from morphine"],
        ),
        ("lorazepam --dose 3mg --switch-to nosuch", &["nosuch"]),
        (
            "lorazepam --dose 3mg --switch-to diazepam --switch-interval 0",
            &["switch interval", "1 to 90"],
        ),
        (
            "lorazepam --dose 3mg --switch-to diazepam --switch-interval 91",
            &["switch interval", "1 to 90"],
        ),
        (
            "lorazepam --dose 3mg --switch-to diazepam --switch-interval x",
            &["switch interval", "1 to 90"],
        ),
        (
            "lorazepam --dose 3mg --switch-to diazepam --schedule 20x7",
            &["custom schedule"],
        ),
        ("temazepam --dose 20mg --switch-to diazepam", &["market us"]),
        (
            "lorazepam --dose 3mg --switch-to diazepam --target 40mg",
            &["after the switch the diazepam dose is 30 mg"],
        ),
    ];
    for (args, says) in cases {
        let argv: Vec<&str> = ["plan"].into_iter().chain(args.split(' ')).collect();
        let e = refused(&argv);
        for s in says {
            assert!(e.contains(s), "{args}: {e}");
        }
    }
}

#[test]
fn compare_refuses_a_switch() {
    let e = refused(&[
        "compare",
        "lorazepam",
        "--dose",
        "3mg",
        "--with",
        "--switch-to diazepam",
        "--with",
        "--percent 10",
    ]);
    assert!(
        e.contains("--switch-to and --switch-interval are not compared"),
        "{e}"
    );
}

#[test]
fn adjust_refuses_a_switch_plan() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    run_ok(&[&LORAZEPAM_SWITCH[..], &["-o", file.to_str().unwrap()]].concat());
    let e = refused(&[
        "adjust",
        file.to_str().unwrap(),
        "--from",
        "2027-02-01",
        "--hold",
        "7",
    ]);
    assert!(e.contains("switch"), "{e}");
}

#[test]
fn one_dose_drugs_switch_in_one_step() {
    let json: Value = serde_json::from_str(&stdout(&[
        "plan",
        "zopiclone",
        "--dose",
        "7.5mg",
        "--market",
        "uk",
        "--start",
        "2027-01-04",
        "--switch-to",
        "diazepam",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_valid_plan_json(&json);
    assert_eq!(json["switch"]["last_step"], 1);
    let r = &json["switch"]["replacements"][0];
    assert_eq!(r["slot"], "bedtime");
    assert_eq!(r["from_dose"], "7.5");
    assert_eq!(json["steps"][1]["administrations"][0]["slot"], "bedtime");
}
