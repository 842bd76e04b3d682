//! Issue 11: the built-in drugs, their markets, `taper convert` and
//! morphine equivalents. Every built-in profile's default plan keeps every
//! engine rule (`common::check_plan`, regimen rules included) at a low, a
//! typical and a high dose; the rest drives the real binary.

mod common;

use std::sync::Arc;

use common::{assert_valid_plan_json, check_plan, run_ok, taper, DOSES};
use serde_json::Value;
use taper::profile::BUILTIN_PROFILES;
use taper::request::{resolve, PlanOptions};
use taper::schedule::build;

use common::builtin as profile;

/// One CSV column's cells, read by a CSV reader.
fn column(csv: &str, name: &str) -> Vec<String> {
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let i = rows
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap();
    rows.records().map(|r| r.unwrap()[i].to_string()).collect()
}

fn stdout(args: &[&str]) -> String {
    String::from_utf8(run_ok(args).stdout).unwrap()
}

#[test]
fn at_least_25_profiles_each_with_doses_to_test() {
    assert!(BUILTIN_PROFILES.len() >= 25, "{}", BUILTIN_PROFILES.len());
    for (name, _) in BUILTIN_PROFILES {
        assert!(
            DOSES.iter().any(|(n, _)| n == name),
            "{name}: add its low, typical and high doses to DOSES"
        );
    }
    let listing = stdout(&["profiles"]);
    let rows = listing.lines().filter(|l| l.contains("built-in")).count();
    // The last line names the built-in folder itself.
    assert_eq!(rows, BUILTIN_PROFILES.len() + 1, "{listing}");
}

#[test]
fn every_default_plan_keeps_every_engine_rule_in_every_market() {
    for (name, doses) in DOSES {
        // `profile` fails for a name that is not built in.
        let p = profile(name);
        for market in &p.markets {
            for dose in doses {
                let opts = PlanOptions {
                    dose: format!("{dose}mg"),
                    start: Some("2027-01-04".into()),
                    market: Some(market.clone()),
                    ..PlanOptions::default()
                };
                let today = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
                let req = resolve(Arc::clone(&p), &opts, today)
                    .unwrap_or_else(|e| panic!("{name} {dose} mg ({market}): {e}"));
                let plan = build(&req).unwrap_or_else(|e| panic!("{name} {dose} mg: {e}"));
                check_plan(&p, &plan);
                // Only products sold in the market.
                for prod in &plan.products {
                    let f = p
                        .formulations
                        .iter()
                        .find(|f| f.key(&p.unit) == prod.key)
                        .unwrap();
                    assert!(
                        f.markets.contains(market),
                        "{name}: {} in {market}",
                        prod.key
                    );
                }
            }
        }
    }
}

#[test]
fn a_market_limits_the_products_and_a_bad_one_is_refused() {
    let uk: Value = serde_json::from_str(&stdout(&[
        "plan", "diazepam", "--dose", "20mg", "--market", "UK", "--format", "json",
    ]))
    .unwrap();
    assert_valid_plan_json(&uk);
    assert_eq!(uk["request"]["market"], "uk");
    let us: Value = serde_json::from_str(&stdout(&[
        "plan", "diazepam", "--dose", "20mg", "--format", "json",
    ]))
    .unwrap();
    assert_eq!(us["request"]["market"], "us");
    let out = taper()
        .args(["plan", "diazepam", "--dose", "20mg", "--market", "fr"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("market 'fr'") && err.contains("us, uk"),
        "{err}"
    );
    // A product of another market, named, is refused with its markets.
    let out = taper()
        .args([
            "plan",
            "diazepam",
            "--dose",
            "20mg",
            "--market",
            "uk",
            "--strengths",
            "5mg/ml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not sold in market 'uk'"));
}

#[test]
fn opioid_plans_carry_morphine_equivalents_everywhere() {
    let doc: Value = serde_json::from_str(&stdout(&[
        "plan",
        "oxycodone",
        "--dose",
        "60mg",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_valid_plan_json(&doc);
    assert_eq!(doc["mme"]["start"], "90");
    assert_eq!(doc["mme"]["naloxone_advised"], true);
    for s in doc["steps"].as_array().unwrap() {
        let dose: f64 = s["daily_dose"].as_str().unwrap().parse().unwrap();
        let mme: f64 = s["mme"].as_str().unwrap().parse().unwrap();
        assert!((mme - dose * 1.5).abs() < 1e-9, "{s}");
    }
    let below: Vec<(String, u64)> = doc["mme"]["below"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["level"].as_str().unwrap().to_string(),
                c["step"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(below.len(), 2, "{below:?}");
    assert_eq!(below[0].0, "90");
    assert_eq!(below[1].0, "50");
    let first_below_50 = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["mme"].as_str().unwrap().parse::<f64>().unwrap() < 50.0)
        .unwrap();
    assert_eq!(first_below_50["step"].as_u64().unwrap(), below[1].1);
    let csv = stdout(&[
        "plan",
        "oxycodone",
        "--dose",
        "60mg",
        "--format",
        "csv",
        "--view",
        "steps",
    ]);
    assert_eq!(column(&csv, "mme")[0], "82.5");
    let table = stdout(&["plan", "oxycodone", "--dose", "60mg"]);
    assert!(
        table.contains("Morphine equivalents: 90 MME a day at the start"),
        "{table}"
    );
    assert!(table.contains("Naloxone"), "{table}");
    // Other drugs: the column is there and empty, the JSON has none.
    let csv = stdout(&[
        "plan", "baclofen", "--dose", "60mg", "--format", "csv", "--view", "steps",
    ]);
    assert!(column(&csv, "mme").iter().all(String::is_empty));
    let doc: Value = serde_json::from_str(&stdout(&[
        "plan", "baclofen", "--dose", "60mg", "--format", "json",
    ]))
    .unwrap();
    assert!(doc.get("mme").is_none() && doc["steps"][0].get("mme").is_none());
}

#[test]
fn convert_gives_equivalents_with_ranges_and_opioids_mme_only() {
    // (arguments, the first line's start, then lines it must contain)
    let cases: [(&[&str], &str, &[&str]); 6] = [
        (
            &["lorazepam", "3mg", "--to", "diazepam"],
            "3 mg lorazepam = 30 mg diazepam",
            &["Published range: 15 mg to 30 mg diazepam"],
        ),
        // The reference converts to a drug given as its equivalent, the
        // range turned round.
        (
            &["diazepam", "20mg", "--to", "lorazepam"],
            "20 mg diazepam = 2 mg lorazepam",
            &["Published range: 2 mg to 4 mg lorazepam"],
        ),
        (
            &["prednisolone", "20mg"],
            "20 mg prednisolone = 20 mg prednisone",
            &[],
        ),
        (
            &["prednisone", "10mg", "--to", "methylprednisolone"],
            "10 mg prednisone = 8 mg methylprednisolone",
            &[],
        ),
        (
            &["oxycodone", "60mg"],
            "60 mg oxycodone a day by mouth = 90 MME a day",
            &[
                "advises against using them to choose the dose of another opioid",
                "offer naloxone",
            ],
        ),
        (
            &["tramadol", "100mg"],
            "100 mg tramadol a day by mouth = 20 MME a day",
            &[],
        ),
    ];
    for (args, starts, contains) in cases {
        let out = stdout(&[&["convert"], args].concat());
        assert!(out.starts_with(starts), "{args:?}: {out}");
        for c in contains {
            assert!(out.contains(c), "{args:?}: {out}");
        }
    }
    assert!(!stdout(&["convert", "tramadol", "100mg"]).contains("offer naloxone"));
    for (args, says) in [
        (
            &["convert", "tramadol", "100mg", "--to", "morphine"][..],
            "does not convert tramadol to morphine",
        ),
        (&["convert", "baclofen", "10mg"][..], "gives no equivalence"),
        (
            &["convert", "prednisone", "10mg", "--to", "prednisone"][..],
            "names the same drug",
        ),
        (&["convert", "prednisolone", "0mg"][..], "amount '0mg'"),
    ] {
        let out = taper().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty());
    }
}

/// Morphine's ending gives the last dose once a day. With only the 4 mg/mL
/// solution the last dose (4.8 mg) is reached by a larger cut than asked
/// (5 mg cannot be measured); it is still given once a day, not as
/// 1.6 + 1.6 + 1.6.
#[test]
fn a_last_dose_reached_by_a_larger_cut_is_still_given_as_the_ending_says() {
    let doc: Value = serde_json::from_str(&stdout(&[
        "plan",
        "morphine",
        "--dose",
        "60mg",
        "--strengths",
        "4mg/mL",
        "--format",
        "json",
    ]))
    .unwrap();
    let steps = doc["steps"].as_array().unwrap();
    let last_given = &steps[steps.len() - 2];
    assert_eq!(last_given["final_phase"], true, "{last_given}");
    assert_eq!(
        last_given["administrations"].as_array().unwrap().len(),
        1,
        "{last_given}"
    );
}
