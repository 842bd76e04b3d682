//! `taper compare` through the real binary: every format, bad `--with`
//! strings, and metrics recomputed here from `taper plan --format json` of
//! the same options (never from the compare code).

use std::collections::BTreeMap;

use scraper::{Html, Selector};
use serde_json::Value;

mod common;
use common::{assert_valid_compare_json, run_ok, taper};

const START: &str = "2026-12-01";

/// A profile, a dose and its variants, each as plan arguments.
struct Case {
    profile: &'static str,
    dose: &'static str,
    variants: &'static [&'static [&'static str]],
}

const CASES: &[Case] = &[
    Case {
        profile: "baclofen",
        dose: "60mg",
        variants: &[
            &["--strategy", "linear", "--step", "10mg"],
            &[
                "--strategy",
                "percent",
                "--percent",
                "20",
                "--interval",
                "14",
            ],
            &["--strategy", "linear", "--step", "5mg", "--target", "20mg"],
        ],
    },
    Case {
        profile: "sertraline",
        dose: "100mg",
        variants: &[
            &["--strategy", "linear", "--step", "25mg"],
            &[
                "--strategy",
                "percent",
                "--percent",
                "10",
                "--interval",
                "28",
            ],
            &["--strategy", "hyperbolic"],
        ],
    },
    Case {
        profile: "prednisone",
        dose: "40mg",
        variants: &[
            &[
                "--strategy",
                "custom",
                "--schedule",
                "40x7,30x7,20x7,10x7,5x7",
            ],
            &[
                "--strategy",
                "linear",
                "--step",
                "5mg",
                "--strengths",
                "5mg",
            ],
        ],
    },
];

fn compare_args(c: &Case, more: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["compare", c.profile, "--dose", c.dose, "--start", START]
        .map(String::from)
        .to_vec();
    for v in c.variants {
        a.push("--with".into());
        a.push(v.join(" "));
    }
    a.extend(more.iter().map(|s| s.to_string()));
    a
}

fn run(args: &[String]) -> std::process::Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&a)
}

fn plan_json(c: &Case, variant: &[&str]) -> Value {
    let mut a = vec!["plan", c.profile, "--dose", c.dose, "--start", START];
    a.extend(variant);
    a.extend(["--format", "json", "--view", "days"]);
    serde_json::from_slice(&run_ok(&a).stdout).unwrap()
}

/// An exact decimal string as micro-units.
fn micro(v: &Value) -> u64 {
    let s = v.as_str().unwrap();
    let (w, f) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{f:0<6}");
    w.parse::<u64>().unwrap() * 1_000_000 + frac.parse::<u64>().unwrap()
}

fn dec(m: u64) -> String {
    let (w, f) = (m / 1_000_000, m % 1_000_000);
    if f == 0 {
        return w.to_string();
    }
    format!("{w}.{}", format!("{f:06}").trim_end_matches('0'))
}

/// The metrics as this test reads them off a plan document.
fn expected(plan: &Value) -> BTreeMap<&'static str, Value> {
    let steps = plan["steps"].as_array().unwrap();
    let start_dose = micro(&plan["request"]["start_dose"]);
    // (cut, tenths of a percent, step, from, to)
    type Cut = (u64, u64, u64, u64, u64);
    let (mut prev, mut best): (u64, Option<Cut>) = (start_dose, None);
    for s in steps {
        let d = micro(&s["daily_dose"]);
        if d < prev {
            let cut = prev - d;
            // Tenths of a percent, rounded half up.
            let tenths = (cut as u128 * 2000 / prev as u128).div_ceil(2) as u64;
            let c = (cut, tenths, s["step"].as_u64().unwrap(), prev, d);
            if best.is_none_or(|b| (c.0, c.1) > (b.0, b.1)) {
                best = Some(c);
            }
        }
        prev = d;
    }
    let target = micro(&plan["request"]["target"]);
    let last = if target == 0 {
        let s = steps
            .iter()
            .rev()
            .find(|s| micro(&s["daily_dose"]) > 0)
            .unwrap();
        micro(&s["daily_dose"])
    } else {
        target
    };
    let mut m = BTreeMap::new();
    m.insert("total_days", plan["days"].as_array().unwrap().len().into());
    m.insert("steps", steps.last().unwrap()["step"].clone());
    m.insert("start", plan["request"]["start"].clone());
    m.insert("end", plan["request"]["end"].clone());
    m.insert("last_dose", dec(last).into());
    m.insert("stops", (target == 0).into());
    m.insert("dispense", plan["dispense"].clone());
    m.insert(
        "warnings",
        plan["warnings"].as_array().unwrap().len().into(),
    );
    m.insert("warning_text", plan["warning_text"].clone());
    m.insert("strategy", plan["request"]["strategy"].clone());
    m.insert(
        "largest_cut",
        match best {
            None => Value::Null,
            Some((cut, tenths, step, from, to)) => serde_json::json!({
                "amount": dec(cut), "percent": dec(tenths * 100_000),
                "step": step, "from": dec(from), "to": dec(to),
            }),
        },
    );
    m
}

#[test]
fn json_metrics_equal_those_of_each_plan_and_match_the_schema() {
    for c in CASES {
        let out = run(&compare_args(c, &["--format", "json"]));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_valid_compare_json(&doc);
        assert_eq!(doc["profile"]["name"], c.profile);
        assert!(doc["disclaimer"].as_str().unwrap().contains("prescriber"));
        let variants = doc["variants"].as_array().unwrap();
        assert_eq!(variants.len(), c.variants.len());
        for (i, (v, opts)) in variants.iter().zip(c.variants).enumerate() {
            assert_eq!(v["variant"], i + 1);
            assert_eq!(v["options"], opts.join(" "));
            let plan = plan_json(c, opts);
            for (key, want) in expected(&plan) {
                assert_eq!(v[key], want, "{} variant {}: {key}", c.profile, i + 1);
            }
        }
    }
}

#[test]
fn csv_has_one_row_per_variant_under_the_documented_columns() {
    let c = &CASES[0];
    let out = run(&compare_args(c, &["--format", "csv"]));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("not medical advice"), "{stderr}");
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "variant",
            "options",
            "strategy",
            "start",
            "end",
            "total_days",
            "steps",
            "largest_cut",
            "largest_cut_percent",
            "largest_cut_step",
            "last_dose",
            "stops",
            "unit",
            "dispense",
            "warnings"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), c.variants.len());
    for (i, (row, opts)) in rows.iter().zip(c.variants).enumerate() {
        let want = expected(&plan_json(c, opts));
        let get = |k: &str| {
            row.get(header.iter().position(|h| h == k).unwrap())
                .unwrap()
        };
        assert_eq!(get("variant"), (i + 1).to_string());
        // Guarded against spreadsheet formulas: a leading ' before "--".
        assert_eq!(get("options"), format!("'{}", opts.join(" ")));
        assert_eq!(get("total_days"), want["total_days"].to_string());
        assert_eq!(get("steps"), want["steps"].to_string());
        assert_eq!(get("end"), want["end"].as_str().unwrap());
        assert_eq!(get("last_dose"), want["last_dose"].as_str().unwrap());
        assert_eq!(
            get("largest_cut"),
            want["largest_cut"]["amount"].as_str().unwrap()
        );
        assert_eq!(
            get("largest_cut_percent"),
            want["largest_cut"]["percent"].as_str().unwrap()
        );
        assert_eq!(get("warnings"), want["warnings"].to_string());
        assert_eq!(get("unit"), "mg");
    }
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

#[test]
fn html_has_one_chart_with_a_path_and_a_legend_entry_per_variant() {
    // Sertraline has an occupancy model, baclofen and prednisone do not.
    for (c, occupancy) in [(&CASES[0], false), (&CASES[1], true), (&CASES[2], false)] {
        let out = run(&compare_args(c, &["--format", "html"]));
        let doc = Html::parse_document(&String::from_utf8(out.stdout).unwrap());
        let svgs: Vec<_> = doc.select(&sel("svg")).collect();
        assert_eq!(svgs.len(), 1, "{}: one chart", c.profile);
        let n = c.variants.len();
        assert_eq!(svgs[0].select(&sel("path.dose")).count(), n);
        let occ = svgs[0].select(&sel("path.occupancy")).count();
        assert_eq!(occ, if occupancy { n } else { 0 }, "{}", c.profile);
        let legend: Vec<String> = svgs[0]
            .select(&sel("g.legend text"))
            .map(|t| t.text().collect())
            .collect();
        assert_eq!(legend.len(), n);
        for (l, opts) in legend.iter().zip(c.variants) {
            assert!(l.ends_with(&opts.join(" ")), "{l}");
        }
        let body: String = doc.root_element().text().collect();
        assert!(body.contains("not medical advice"));
        let heads = doc.select(&sel("table.compare thead th")).count();
        assert_eq!(heads, n + 1);
    }
}

#[test]
fn table_fits_every_width_and_carries_the_disclaimer() {
    let c = &CASES[1];
    for width in [40, 60, 80, 100, 160] {
        let a: Vec<String> = compare_args(c, &[]);
        let out = taper()
            .args(&a)
            .env("COLUMNS", width.to_string())
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            let w = unicode_width::UnicodeWidthStr::width(line);
            assert!(w <= width, "{width}: {line}");
        }
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains("not medical advice"), "{text}");
        for i in 1..=c.variants.len() {
            assert!(text.contains(&format!("Variant {i}")), "{text}");
        }
    }
}

/// `taper compare` with these `--with` strings; must exit 2 with one
/// stderr line naming the bad one.
fn refused(with: &[&str], bad: usize, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.json");
    let mut a = vec!["compare", "baclofen", "--dose", "60mg", "-o"];
    a.push(file.to_str().unwrap());
    for w in with {
        a.extend(["--with", w]);
    }
    let out = taper().args(&a).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{with:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let name = format!("--with #{bad} \"{}\"", with[bad - 1]);
    assert!(err.contains(&name), "{err}");
    assert!(err.contains(says), "{err}");
    assert!(out.stdout.is_empty());
    assert!(!file.exists(), "no output file on error");
}

#[test]
fn bad_with_strings_exit_2_naming_the_bad_one() {
    let ok = "--strategy linear --step 5mg";
    refused(&[ok, "--frobnicate 3"], 2, "'--frobnicate'");
    refused(&[ok, "--schedule '40x7,30x7"], 2, "unbalanced quotes");
    refused(
        &["-o plan.csv", ok],
        1,
        "--output cannot be set per variant",
    );
    refused(
        &[ok, "--format json"],
        2,
        "--format cannot be set per variant",
    );
    refused(&[ok, ok, "--patient 'J. Smith'"], 3, "--patient");
    refused(&[ok, "--start 2027-01-01"], 2, "--start is shared");
    refused(&[ok, "--strategy lineaer"], 2, "lineaer");
    // Parsed, but the engine refuses it.
    refused(
        &[ok, "--strategy percent --percent 200"],
        2,
        "percent '200'",
    );
    refused(&[ok, "--dose 30mg"], 2, "--dose");
}

#[test]
fn a_bad_shared_dose_is_named_as_the_dose_not_as_a_variant() {
    let out = taper()
        .args([
            "compare",
            "baclofen",
            "--dose",
            "6o",
            "--with",
            "--step 5mg",
            "--with",
            "--step 10mg",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--dose '6o'") && !err.contains("--with"),
        "{err}"
    );
}

#[test]
fn two_to_eight_variants() {
    let ok = "--strategy linear --step 5mg";
    for n in [1, 9] {
        let mut a = vec!["compare", "baclofen", "--dose", "60mg"];
        for _ in 0..n {
            a.extend(["--with", ok]);
        }
        let out = taper().args(&a).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{n}: {err}");
        assert!(err.contains("2 to 8"), "{err}");
    }
    let mut a = vec!["compare", "baclofen", "--dose", "60mg", "--format", "json"];
    for _ in 0..8 {
        a.extend(["--with", ok]);
    }
    let doc: Value = serde_json::from_slice(&run_ok(&a).stdout).unwrap();
    assert_valid_compare_json(&doc);
}

#[test]
fn output_file_takes_its_format_from_the_extension_and_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cmp.json");
    let mut a = compare_args(&CASES[0], &["-o"]);
    a.push(file.to_str().unwrap().into());
    run(&a);
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_valid_compare_json(&doc);
    let again = taper().args(&a).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
}

/// The schema's copies of plan definitions stay the plan schema's.
#[test]
fn shared_definitions_equal_the_plan_schema() {
    let plan: Value = serde_json::from_str(common::PLAN_SCHEMA).unwrap();
    let cmp: Value = serde_json::from_str(common::COMPARE_SCHEMA).unwrap();
    for (name, def) in cmp["$defs"].as_object().unwrap() {
        if let Some(p) = plan["$defs"].get(name) {
            assert_eq!(def, p, "$defs/{name} differs from plan.schema.json");
        }
    }
    assert_eq!(cmp["properties"]["tool"], plan["properties"]["tool"]);
}
