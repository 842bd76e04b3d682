//! Adversarial profiles (issue 7, "never a silent stop, never a runaway
//! search"): coprime tiny strengths, odd concentrations, twelve strengths
//! with halves, twelve doses a day. Each request must either give a plan
//! that keeps every engine rule (`common::check_plan`) or be refused with
//! exit code 2 and a message naming why; never a silent one-step stop.
//! Every case here must complete (the work budget bounds it); no test
//! asserts timing.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::{check_no_silent_stop, check_plan, run, Outcome};
use taper::profile::{parse_profile, Profile};
use taper::request::PlanOptions;
use taper::schedule::{Plan, WarningKind};
use taper::strategy::Strategy;

const HEADER: &str =
    "version = \"1\"\nunit = \"mg\"\nwithdrawal_symptoms = [\"a\"]\nred_flags = [\"b\"]\n";
const SOURCE: &str = "[[source]]\nkey = \"S\"\ntitle = \"Test source\"\n";

fn toml(name: &str, doses_per_day: u32, body: &str) -> String {
    format!("name = \"{name}\"\ndisplay_name = \"{name}\"\ndoses_per_day = {doses_per_day}\n{HEADER}{body}{SOURCE}")
}

/// Tablets of 0.0007 and 0.000999 mg and a 0.001009 mg/mL liquid measured
/// in 1 mL, 12 doses a day, 1 % every day.
fn coprime_tiny() -> String {
    toml(
        "tiny",
        12,
        r#"liquid_step_ml = "1"
[[formulation]]
form = "tablet"
strength = "0.0007"
[[formulation]]
form = "tablet"
strength = "0.000999"
[[formulation]]
form = "liquid"
concentration = "0.001009"
[default]
strategy = "percent"
percent = "1"
interval_days = 1
[limits]
max_step_percent = "10"
"#,
    )
}

/// A 0.333333 mg/mL liquid (no whole number of micrograms in a 0.1 mL
/// step) beside scored 5 mg tablets.
fn odd_concentration() -> String {
    toml(
        "odd",
        2,
        r#"[[formulation]]
form = "liquid"
concentration = "0.333333"
[[formulation]]
form = "tablet"
strength = "5"
split = "halves"
[default]
strategy = "linear"
step = "1"
interval_days = 7
[limits]
max_step_percent = "25"
max_step = "2"
"#,
    )
}

/// Twelve levothyroxine-like strengths (25-300 micrograms), all scored.
fn twelve_strengths() -> String {
    let mut body = String::new();
    for s in [
        "0.025", "0.05", "0.075", "0.088", "0.1", "0.112", "0.125", "0.137", "0.15", "0.175",
        "0.2", "0.3",
    ] {
        body += &format!(
            "[[formulation]]\nform = \"tablet\"\nstrength = \"{s}\"\nsplit = \"halves\"\n"
        );
    }
    body += "[default]\nstrategy = \"percent\"\npercent = \"10\"\ninterval_days = 28\n[limits]\nmax_step_percent = \"25\"\n";
    toml("levo", 1, &body)
}

/// Two unscored tablets, 0.3 and 0.701 mg: no common piece.
fn two_unscored() -> String {
    toml(
        "unscored",
        1,
        r#"[[formulation]]
form = "tablet"
strength = "0.3"
[[formulation]]
form = "tablet"
strength = "0.701"
[default]
strategy = "linear"
step = "1"
interval_days = 7
[limits]
max_step_percent = "25"
max_step = "1"
"#,
    )
}

/// A liquid measured to a microgram (1 mg/mL in 0.000001 mL steps) and a
/// steep occupancy curve: a hyperbolic plan must not hold a phantom
/// micro-dose before stopping (the issue saw `0.111113, 0.000002, 0`).
fn fine_liquid_hyperbolic() -> String {
    toml(
        "fine",
        1,
        r#"liquid_step_ml = "0.000001"
[[formulation]]
form = "liquid"
concentration = "1"
[default]
strategy = "hyperbolic"
occupancy_step = "10"
interval_days = 14
[limits]
max_step_percent = "50"
[occupancy]
emax = "100"
ed50 = "1"
source = "S"
"#,
    )
}

/// Twelve doses a day of scored tablets with an ending and a longest gap.
fn twelve_a_day() -> String {
    toml(
        "twelve",
        12,
        r#"max_pieces = 2
max_pieces_source = "S"
[[formulation]]
form = "tablet"
strength = "1"
split = "quarters"
[[formulation]]
form = "tablet"
strength = "0.3"
[[formulation]]
form = "liquid"
concentration = "0.7"
[default]
strategy = "percent"
percent = "1"
interval_days = 1
[limits]
max_step_percent = "10"
[doses]
max_gap_hours = 4
source = "S"
[ending]
min_step = "0.1"
stop_from = "0.5"
final_doses_per_day = 2
source = "S"
"#,
    )
}

fn options(dose: &str, extra: &[(&str, &str)]) -> PlanOptions {
    let mut o = PlanOptions {
        dose: dose.into(),
        start: Some("2027-01-04".into()),
        ..PlanOptions::default()
    };
    for (k, v) in extra {
        let v = Some(v.to_string());
        match *k {
            "percent" => o.percent = v,
            "step" => o.step = v,
            "interval" => o.interval = v,
            "form" => o.form = v,
            "strengths" => o.strengths = v,
            "doses-per-day" => o.doses_per_day = v,
            "occupancy-step" => o.occupancy_step = v,
            "target" => o.target = v,
            _ => panic!("unknown option {k}"),
        }
    }
    o
}

fn cli_args(o: &PlanOptions) -> Vec<String> {
    let mut a = vec!["--dose".to_string(), o.dose.clone()];
    let pairs = [
        ("--start", &o.start),
        ("--percent", &o.percent),
        ("--step", &o.step),
        ("--interval", &o.interval),
        ("--form", &o.form),
        ("--strengths", &o.strengths),
        ("--doses-per-day", &o.doses_per_day),
        ("--occupancy-step", &o.occupancy_step),
        ("--target", &o.target),
    ];
    for (flag, v) in pairs {
        if let Some(v) = v {
            a.push(flag.to_string());
            a.push(v.clone());
        }
    }
    a
}

/// What a request gave, after checking it as a plan or as a refusal.
enum Checked {
    Plan(Box<Plan>),
    Refused(String),
}

/// Runs one request through the library (every rule checked) and through
/// the binary (exit code 0 with a plan, or 2 with one `error:` line).
fn check(text: &str, dir: &Path, o: &PlanOptions) -> Checked {
    let profile: Profile = parse_profile(text, "adversarial.toml", "test").unwrap();
    let what = format!("{} {:?}", profile.name, cli_args(o));
    let lib = match run(profile.clone(), o).unwrap_or_else(|e| panic!("{what}: {e}")) {
        Outcome::Plan(plan) => {
            check_plan(&profile, &plan);
            check_no_silent_stop(&profile, &plan);
            // A stop the strategy did not ask for is always warned.
            for s in plan
                .steps
                .iter()
                .filter(|s| s.adjustment == Some(taper::strategy::Adjustment::ToTarget))
            {
                assert!(plan
                    .warnings
                    .iter()
                    .any(|w| w.kind == WarningKind::UnplannedStop && w.step == Some(s.step)));
            }
            Checked::Plan(plan)
        }
        Outcome::Refused(m) => {
            assert!(
                !m.contains('\n') && m.len() > 20,
                "{what}: refusal is not one clear line: {m:?}"
            );
            Checked::Refused(m)
        }
    };
    let path = dir.join(format!("{}.toml", profile.name));
    std::fs::write(&path, text).unwrap();
    let out = Command::from_std(common::taper())
        .arg("plan")
        .arg(&path)
        .args(cli_args(o))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match &lib {
        Checked::Plan(_) => {
            assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
            let doc = serde_json::from_slice(&out.stdout).unwrap();
            common::assert_valid_plan_json(&doc);
        }
        Checked::Refused(m) => {
            assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
            assert!(out.stdout.is_empty());
            assert_eq!(stderr.trim(), format!("error: {m}"), "{what}");
        }
    }
    lib
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Checks every case, then fails listing every case that broke a rule (not
/// only the first). Returns what each case gave (`None` where it failed).
fn check_all(text: &str, cases: &[(&str, Vec<(&str, &str)>)]) -> Vec<Option<Checked>> {
    let dir = tmp();
    let mut failures = Vec::new();
    let mut out = Vec::new();
    for (dose, extra) in cases {
        let o = options(dose, extra);
        match std::panic::catch_unwind(|| check(text, dir.path(), &o)) {
            Ok(c) => out.push(Some(c)),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{:?}: {msg}", cli_args(&o)));
                out.push(None);
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    out
}

#[test]
fn coprime_tiny_strengths_twelve_doses_one_percent_a_day() {
    check_all(
        &coprime_tiny(),
        &[
            ("0.05mg", vec![]),
            ("0.5mg", vec![]),
            ("0.0123mg", vec![]),
            ("0.05mg", vec![("percent", "1"), ("interval", "1")]),
            ("0.05mg", vec![("form", "liquid")]),
            ("0.01mg", vec![("form", "liquid")]),
            ("0.05mg", vec![("form", "tablet")]),
            ("0.05mg", vec![("step", "0.001mg")]),
            ("0.05mg", vec![("doses-per-day", "1")]),
            ("0.05mg", vec![("target", "0.01mg")]),
        ],
    );
}

#[test]
fn odd_concentration_liquid() {
    let got = check_all(
        &odd_concentration(),
        &[
            ("10mg", vec![("form", "liquid")]),
            ("10mg", vec![]),
            ("10mg", vec![("percent", "10")]),
            ("3mg", vec![("form", "liquid"), ("percent", "10")]),
            ("10mg", vec![("strengths", "0.333333mg/mL")]),
        ],
    );
    // The liquid alone cannot be measured in whole micrograms: refused,
    // naming the product, never a 0 mg plan.
    match &got[0] {
        Some(Checked::Refused(m)) => assert!(m.contains("0.333333"), "{m}"),
        Some(Checked::Plan(p)) => assert!(!p.steps[0].daily_dose.is_zero()),
        None => unreachable!(),
    }
}

#[test]
fn twelve_strengths_with_halves() {
    let got = check_all(
        &twelve_strengths(),
        &[
            ("0.3mg", vec![]),
            ("0.3mg", vec![("step", "0.025mg")]),
            ("0.3mg", vec![("percent", "1"), ("interval", "1")]),
            ("0.137mg", vec![]),
            ("1.2mg", vec![("percent", "5")]),
            ("0.3mg", vec![("doses-per-day", "3")]),
        ],
    );
    // The issue saw "0.3 mg → 0" in one step: these products give many
    // smaller doses.
    for c in got {
        if let Some(Checked::Plan(p)) = c {
            assert!(p.steps.len() > 1, "a one-step plan");
        }
    }
}

#[test]
fn two_unscored_tablets_with_no_common_piece() {
    check_all(
        &two_unscored(),
        &[
            ("10", vec![]),
            ("10mg", vec![("percent", "10")]),
            ("10mg", vec![("step", "0.1mg")]),
            ("2.804mg", vec![]),
            ("10mg", vec![("doses-per-day", "3")]),
            ("10mg", vec![("target", "1mg")]),
        ],
    );
}

#[test]
fn hyperbolic_plans_hold_no_phantom_micro_dose() {
    let cases: Vec<(&str, Vec<(&str, &str)>)> = ["10", "5", "20", "2", "33"]
        .into_iter()
        .flat_map(|step| {
            [
                ("9mg", vec![("occupancy-step", step)]),
                ("0.5mg", vec![("occupancy-step", step)]),
                ("90mg", vec![("occupancy-step", step)]),
            ]
        })
        .collect();
    for got in check_all(&fine_liquid_hyperbolic(), &cases)
        .into_iter()
        .flatten()
    {
        let Checked::Plan(plan) = got else { continue };
        let Strategy::Hyperbolic {
            occupancy_step,
            model,
        } = &plan.request.strategy
        else {
            panic!("not hyperbolic");
        };
        let doses: Vec<String> = plan
            .steps
            .iter()
            .map(|s| s.daily_dose.to_string())
            .collect();
        // The last dose held before stopping still occupies about half a
        // step or more: below that the strategy stops instead.
        if let Some(last) = plan.steps.iter().rev().find(|s| !s.daily_dose.is_zero()) {
            let d = u128::from(last.daily_dose.micro());
            let occ = u128::from(model.emax.micro()) * d / (u128::from(model.ed50.micro()) + d);
            assert!(
                occ * 2 + 2 >= u128::from(occupancy_step.micro()),
                "step {}: a phantom last dose: {doses:?}",
                occupancy_step
            );
        }
    }
}

#[test]
fn twelve_doses_a_day_with_an_ending() {
    check_all(
        &twelve_a_day(),
        &[
            ("12mg", vec![]),
            ("36mg", vec![]),
            ("7.3mg", vec![]),
            ("12mg", vec![("form", "tablet")]),
            ("12mg", vec![("form", "liquid")]),
            ("12mg", vec![("step", "0.5mg")]),
            ("12mg", vec![("doses-per-day", "7")]),
        ],
    );
}

/// A batch of the slowest profile completes and gives one outcome per row.
#[test]
fn batch_of_adversarial_rows_completes() {
    let dir = tmp();
    std::fs::write(dir.path().join("tiny.toml"), coprime_tiny()).unwrap();
    let input = dir.path().join("rows.csv");
    std::fs::write(
        &input,
        "id,profile,dose,percent,interval\n\
         a,tiny,0.05mg,1,1\nb,tiny,0.5mg,1,1\nc,tiny,0.0123mg,1,1\nd,tiny,0.05mg,10,7\n",
    )
    .unwrap();
    let out = Command::from_std(common::taper())
        .args(["--profiles-dir"])
        .arg(dir.path())
        .args(["batch"])
        .arg(&input)
        .args(["--view", "summary", "--start", "2027-01-04"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}\n{stderr}");
}

/// Found by the `plan_request` fuzz target: a custom schedule that names its
/// own stop (`…,0x2w`) marked the zero step as part of the final phase.
/// Every built-in profile, with and without the explicit stop.
#[test]
fn a_custom_schedule_that_names_its_stop_keeps_every_rule() {
    let dirs = taper::profile::ProfileDirs::new(None, None);
    for name in taper::profile::all_names(&dirs) {
        let profile = taper::profile::load(&name, &dirs).unwrap();
        for schedule in ["30x72,0x2w", "30x7,20x7,0x1", "30x7,20x7"] {
            let o = PlanOptions {
                dose: "40mg".into(),
                schedule: Some(schedule.into()),
                ..PlanOptions::default()
            };
            match run(profile.clone(), &o).unwrap() {
                Outcome::Plan(plan) => {
                    check_plan(&profile, &plan);
                    assert!(plan.steps.last().unwrap().daily_dose.is_zero());
                }
                // Products that cannot give 30 or 20 mg (pregabalin
                // capsules, say) are refused by name, never planned wrong.
                Outcome::Refused(m) if m.contains("cannot be given with the selected products") => {
                    assert!(!m.contains('\n'), "{m}")
                }
                Outcome::Refused(m) => panic!("{name} {schedule}: refused: {m}"),
            }
        }
    }
}
