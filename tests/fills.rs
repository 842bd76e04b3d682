//! Issue 12: fills per supply period, prescription wording and the FHIR
//! export.
//!
//! Properties over random plans of every built-in profile and random
//! supply periods: the fills cover the plan's days in order; per product,
//! each fill's `needed` is the fill's own use (pieces pooled, then rounded
//! up to whole units, recomputed here from the plan's days), so the fills
//! together give at least the plan's use and exceed it only by that
//! rounding and by whole packs; controlled drugs never get more than the
//! fill needs; and each fill's wording, read back by a small parser, gives
//! the drug's daily dose on every day of the fill. The FHIR bundle of a
//! plan is read back too: doses, dates and quantities equal the plan's.
//! Every bundle the tests make is kept for `.ci/check-fhir`, which
//! validates it with fhir.resources and the official FHIR R4 JSON schema.

mod common;

use std::collections::BTreeMap;

use assert_cmd::assert::OutputAssertExt;
use chrono::NaiveDate;
use common::{assert_valid_batch_line, assert_valid_plan_json, run_ok, taper, DOSES};

/// stdout of a run that must succeed.
fn ok(args: &[&str]) -> String {
    String::from_utf8(run_ok(args).stdout).unwrap()
}
use proptest::prelude::*;
use serde_json::Value;
use taper::dose::{Dose, SCALE};
use taper::error::Error;
use taper::fills::Fill;
use taper::formulation::Quantity;
use taper::profile::Form;
use taper::render::prescription;
use taper::request::{resolve, PlanOptions};
use taper::schedule::{build, Plan};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

#[derive(Clone, Debug)]
struct Case {
    profile: usize,
    dose: usize,
    market: &'static str,
    percent: Option<u32>,
    interval: Option<u32>,
    target_quarter: bool,
    supply: Option<u32>,
    /// A custom schedule ending every other day (where the profile allows).
    alternate: bool,
    /// `--switch-to diazepam` (for profiles that switch).
    switch: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            0..DOSES.len(),
            0..3usize,
            prop_oneof![Just("us"), Just("uk")],
        ),
        (
            prop::option::of(5..=30u32),
            prop::option::of(1..=28u32),
            prop::bool::weighted(0.2),
        ),
        (
            prop::option::weighted(0.9, 1..=120u32),
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.15),
        ),
    )
        .prop_map(
            |(
                (profile, dose, market),
                (percent, interval, target_quarter),
                (supply, alternate, switch),
            )| Case {
                profile,
                dose,
                market,
                percent,
                interval,
                target_quarter,
                supply,
                alternate,
                switch,
            },
        )
}

fn options(c: &Case) -> PlanOptions {
    let dose = DOSES[c.profile].1[c.dose];
    let mut o = PlanOptions {
        dose: format!("{dose}mg"),
        start: Some("2027-01-04".into()),
        market: Some(c.market.into()),
        percent: c.percent.map(|p| p.to_string()),
        interval: c.interval.map(|d| d.to_string()),
        supply: c.supply.map(|d| d.to_string()),
        ..PlanOptions::default()
    };
    if c.target_quarter && !c.switch {
        let d = Dose::parse_decimal(dose).unwrap();
        o.target = Some(format!("{}mg", Dose::from_micro(d.micro() / 4)));
    }
    if c.alternate && !c.switch {
        let d = Dose::parse_decimal(dose).unwrap();
        let half = Dose::from_micro(d.micro() / 2);
        o.percent = None;
        o.schedule = Some(format!("{d}x5,{half}x9/2,{half}x4/3"));
    }
    if c.switch {
        o.switch_to = Some("diazepam".into());
    }
    o
}

/// The plan, or `None` for a request the tool refuses with a usage error.
fn plan_of(c: &Case) -> Option<Plan> {
    let profile = common::builtin(DOSES[c.profile].0);
    let opts = options(c);
    let made = if c.switch && profile.switch.is_some() {
        taper::switch::build(profile, common::builtin("diazepam"), &opts, today())
    } else {
        let mut opts = opts;
        opts.switch_to = None;
        resolve(profile, &opts, today()).and_then(|r| build(&r))
    };
    match made {
        Ok(p) => Some(p),
        Err(Error::Usage(m)) => {
            assert!(!m.trim().is_empty());
            None
        }
        Err(e) => panic!("{c:?}: unexpected error {e}"),
    }
}

/// Per product: tablet pieces (in the product's own finest pieces) or
/// micro-mL that the plan's days `from..=to` use, from the days themselves.
fn use_between(plan: &Plan, from: NaiveDate, to: NaiveDate) -> BTreeMap<usize, u64> {
    let mut out = BTreeMap::new();
    for day in plan.days.iter().filter(|d| d.date >= from && d.date <= to) {
        if day.rest_day {
            continue;
        }
        let step = &plan.steps[day.step as usize - 1];
        for a in &step.administrations {
            for p in &a.portions {
                let n = match p.quantity {
                    Quantity::Units { pieces, split_into } => {
                        pieces * plan.products[p.product].split_into / split_into
                    }
                    Quantity::Volume { ml } => ml.micro(),
                };
                *out.entry(p.product).or_default() += n;
            }
        }
    }
    out
}

fn units(d: Dose) -> u64 {
    assert_eq!(d.micro() % SCALE, 0, "{d} is not a whole number");
    d.micro() / SCALE
}

/// The fill rules, recomputed from the plan's days.
fn check_fills(plan: &Plan, supply: Option<u32>) {
    let first = plan.days.first().unwrap().date;
    let last = plan.days.last().unwrap().date;
    let mut expect_start = first;
    let mut total_used: BTreeMap<usize, u64> = BTreeMap::new();
    let mut total_needed: BTreeMap<usize, u64> = BTreeMap::new();
    for (i, f) in plan.fills.iter().enumerate() {
        assert_eq!(f.fill as usize, i + 1);
        // Fills follow each other; a dropped empty fill leaves a gap of
        // days on which nothing is taken.
        assert!(
            f.start >= expect_start,
            "fill {} starts {}",
            f.fill,
            f.start
        );
        assert!(
            use_between(plan, expect_start, f.start.pred_opt().unwrap()).is_empty()
                || f.start == expect_start
        );
        assert_eq!((f.end - f.start).num_days() + 1, i64::from(f.days));
        match supply {
            Some(s) => assert!(
                f.days == s || f.end == last,
                "fill {}: {} days",
                f.fill,
                f.days
            ),
            None => assert_eq!((f.start, f.end), (first, last)),
        }
        let used = use_between(plan, f.start, f.end);
        assert_eq!(
            used.keys().copied().collect::<Vec<_>>(),
            f.lines.iter().map(|l| l.product).collect::<Vec<_>>(),
            "fill {}: one line per product used",
            f.fill
        );
        for l in &f.lines {
            let p = &plan.products[l.product];
            let n = used[&l.product];
            *total_used.entry(l.product).or_default() += n;
            assert_eq!(
                l.overage,
                Dose::from_micro(l.quantity.micro() - l.needed.micro())
            );
            if p.form == Form::Liquid {
                // mL exactly as used; dispensed in whole mL at least.
                assert_eq!(l.needed.micro(), n);
                let whole_ml = n.div_ceil(SCALE);
                *total_needed.entry(l.product).or_default() += l.needed.micro();
                check_quantity(l, whole_ml, p.controlled.is_some(), &p.packs);
            } else {
                let whole = n.div_ceil(p.split_into);
                assert_eq!(units(l.needed), whole, "fill {} {}", f.fill, p.name);
                *total_needed.entry(l.product).or_default() += whole * p.split_into;
                check_quantity(l, whole, p.controlled.is_some(), &p.packs);
            }
        }
        expect_start = f.end.succ_opt().unwrap();
    }
    // Days after the last fill take nothing.
    assert!(use_between(plan, expect_start, last).is_empty());
    // Together, at least the plan's use, and no more than each fill's
    // rounding up to a whole unit (or mL).
    for (product, used) in &total_used {
        let needed = total_needed[product];
        assert!(needed >= *used);
        let p = &plan.products[*product];
        let per_fill = if p.form == Form::Liquid {
            0
        } else {
            p.split_into
        };
        assert!(needed - used < per_fill.max(1) * plan.fills.len() as u64 + 1);
    }
}

/// `whole` units (or mL) needed: a controlled drug gets exactly that; any
/// other drug with pack sizes gets whole packs, less than one smallest pack
/// over; without pack sizes, exactly that.
fn check_quantity(l: &taper::fills::FillLine, whole: u64, controlled: bool, packs: &[u32]) {
    let q = units(l.quantity);
    let in_packs = |p: &taper::fills::Packs| -> u64 {
        p.packs.iter().map(|c| u64::from(c.size) * c.count).sum()
    };
    match (&l.packs, controlled) {
        (None, _) => {
            assert!(packs.is_empty());
            assert_eq!(q, whole, "{}", l.name);
        }
        (Some(p), true) => {
            assert_eq!(q, whole, "{}: controlled, never more than needed", l.name);
            assert_eq!(in_packs(p) + units(p.loose), q);
            assert!(units(p.loose) < u64::from(packs[0]) || packs.len() > 1);
        }
        (Some(p), false) => {
            assert!(p.loose.is_zero());
            assert_eq!(in_packs(p), q, "{}", l.name);
            assert!(
                q >= whole && q - whole < u64::from(packs[0]),
                "{}: {q} for {whole}",
                l.name
            );
        }
    }
    assert_eq!(l.controlled.is_some(), controlled);
}

/// Reads a fill's wording back: the drug's daily dose on each day of the
/// fill, in the drug's unit (dose days of an every-N-days step count the
/// dose of a dose day).
fn read_wording(text: &str, fill: &Fill, unit: &str) -> Vec<Dose> {
    let body = text.split_once(": ").expect("a heading").1;
    let body = body.strip_suffix('.').expect("ends with a full stop");
    let mut days: Vec<Dose> = Vec::new();
    let len = fill.days as usize;
    for (i, clause) in body.split(", then ").enumerate() {
        if clause == "stop" {
            days.resize(len, Dose::default());
            break;
        }
        let mut c = clause;
        if i == 0 {
            if let Some(rest) = c.strip_prefix("from ") {
                let (date, rest) = rest.split_once(", take ").expect("from DATE, take");
                let date: NaiveDate = date.parse().unwrap();
                days.resize((date - fill.start).num_days() as usize, Dose::default());
                c = rest;
            } else {
                c = c.strip_prefix("take ").expect("take");
            }
        }
        let daily = daily_dose(c, unit);
        if let Some((_, rest)) = c.rsplit_once(" for ") {
            let n: usize = rest.split(' ').next().unwrap().parse().unwrap();
            days.extend(std::iter::repeat_n(daily, n));
        } else {
            assert!(c.ends_with("and continue at this dose"), "{c}");
            days.resize(len, daily);
        }
    }
    days
}

/// Σ amount × times a day over a clause's `(N mg) WHEN` groups.
fn daily_dose(clause: &str, unit: &str) -> Dose {
    let mut total = 0u64;
    let mut rest = clause;
    let marker = format!(" {unit})");
    while let Some(end) = rest.find(&marker) {
        let open = rest[..end].rfind('(').unwrap();
        let amount = Dose::parse_decimal(&rest[open + 1..end]).unwrap();
        let after = rest[end + marker.len()..].trim_start_matches(" by mouth");
        let times = if after.starts_with(" once a day")
            || after.starts_with(" in the ")
            || after.starts_with(" at ")
        {
            1
        } else if after.starts_with(" twice a day") {
            2
        } else {
            let n = after.trim_start().split(' ').next().unwrap();
            assert!(
                after.trim_start()[n.len()..].starts_with(" times a day"),
                "{after}"
            );
            n.parse().unwrap()
        };
        total += amount.micro() * times;
        rest = &rest[end + marker.len()..];
    }
    Dose::from_micro(total)
}

/// What the plan gives of `drug` (or of its one drug) each day of a fill.
fn given_each_day(plan: &Plan, fill: &Fill, drug: Option<&str>) -> Vec<Dose> {
    let mut out = Vec::new();
    for r in &fill.runs {
        let step = &plan.steps[r.step as usize - 1];
        let d: u64 = step
            .administrations
            .iter()
            .filter(|a| drug.is_none() || a.drug.as_deref() == drug)
            .map(|a| a.amount.micro())
            .sum();
        out.extend(std::iter::repeat_n(Dose::from_micro(d), r.days as usize));
    }
    out
}

fn check_wording(plan: &Plan) {
    for f in &plan.fills {
        let wording = prescription::wording(plan, f);
        assert!(!wording.is_empty());
        for p in &wording {
            let unit = match (&plan.switch, p.drug.as_deref()) {
                (Some(sw), Some(d)) if d == sw.from.name => sw.from.unit.clone(),
                _ => plan.profile.unit.clone(),
            };
            let got = read_wording(&p.text, f, &unit);
            let want = given_each_day(plan, f, p.drug.as_deref());
            // A drug not yet started or stopped gives 0 on those days; the
            // wording may end before the fill does only by stopping.
            assert_eq!(got, want, "fill {}: {}", f.fill, p.text);
            for bad in ["TID", "BID", "QD", " cc", "µg", ".0 ", "x 1"] {
                assert!(!p.text.contains(bad), "{bad}: {}", p.text);
            }
        }
        assert!(prescription::summary(plan, f).starts_with(&format!("Fill {} of ", f.fill)));
    }
    // A plan that stops says so in its last fill: the stop day joins it.
    // (A plan that is only a stop has no fill.)
    let last_step = plan.steps.last().unwrap();
    if let (true, Some(last)) = (last_step.daily_dose.is_zero(), plan.fills.last()) {
        assert_eq!(last.end, last_step.start);
        let wording = prescription::wording(plan, last);
        let text = &wording.last().unwrap().text;
        assert!(text.ends_with(", then stop."), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn fills_dispense_the_plans_use_rounded_only_to_units_and_packs(c in case()) {
        if let Some(plan) = plan_of(&c) {
            check_fills(&plan, c.supply);
        }
    }

    #[test]
    fn every_fills_wording_reads_back_as_its_daily_doses(c in case()) {
        if let Some(plan) = plan_of(&c) {
            check_wording(&plan);
        }
    }

    #[test]
    fn fhir_bundles_read_back_as_the_plan(c in case()) {
        if let Some(plan) = plan_of(&c) {
            let extras = taper::render::Extras::default();
            let bundle = taper::render::fhir::bundle(&plan, &extras, None);
            check_bundle(&plan, &bundle);
        }
    }
}

/// At least three in four random requests give a plan (so the properties
/// test something), and the sample has switches, alternate days and packs.
#[test]
fn most_random_requests_give_plans() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut plans, mut switches, mut every, mut packed) = (0, 0, 0, 0);
    for _ in 0..400 {
        let c = case().new_tree(&mut runner).unwrap().current();
        if let Some(p) = plan_of(&c) {
            plans += 1;
            switches += usize::from(p.switch.is_some());
            every += usize::from(p.steps.iter().any(|s| s.every_days > 1));
            packed += usize::from(
                p.fills
                    .iter()
                    .flat_map(|f| &f.lines)
                    .any(|l| l.packs.is_some()),
            );
        }
    }
    assert!(plans >= 300, "{plans} of 400");
    assert!(
        switches > 5 && every > 5 && packed > 10,
        "{switches} {every} {packed}"
    );
}

/// The FHIR bundle read back: one request per fill and product; per fill,
/// step and time of day the doses add up to the administration's amount;
/// each step's dosages are bounded by its dates within the fill; the
/// dispensed quantity is the fill's.
fn check_bundle(plan: &Plan, b: &Value) {
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "transaction");
    let none = Vec::new();
    let entries = b.get("entry").map_or(&none, |e| e.as_array().unwrap());
    assert!(b
        .get("entry")
        .is_none_or(|e| !e.as_array().unwrap().is_empty()));
    let lines: usize = plan.fills.iter().map(|f| f.lines.len()).sum();
    assert_eq!(entries.len(), lines);
    let mut sums: BTreeMap<(u64, u64, String), u64> = BTreeMap::new();
    let mut k = 0;
    for f in &plan.fills {
        for l in &f.lines {
            let r = &entries[k]["resource"];
            k += 1;
            let p = &plan.products[l.product];
            let q = &r["dispenseRequest"]["quantity"];
            assert_eq!(q["value"].to_string(), l.quantity.to_string());
            assert_eq!(
                r["dispenseRequest"]["expectedSupplyDuration"]["value"],
                f.days
            );
            for d in r["dosageInstruction"].as_array().unwrap() {
                let seq = d["sequence"].as_u64().unwrap();
                let rep = &d["timing"]["repeat"];
                let start: NaiveDate = rep["boundsPeriod"]["start"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let end: NaiveDate = rep["boundsPeriod"]["end"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let run = f.runs.iter().find(|r| u64::from(r.step) == seq).unwrap();
                assert!(start >= run.start && end == run.end && start <= end);
                let step = &plan.steps[seq as usize - 1];
                assert_eq!(rep["period"], step.every_days.max(1));
                let dq = &d["doseAndRate"][0]["doseQuantity"];
                let v = Dose::parse_decimal(&dq["value"].to_string()).unwrap();
                let mg = match p.form {
                    Form::Liquid => {
                        assert_eq!(dq["code"], "mL");
                        v.micro() * p.concentration.unwrap().micro() / SCALE
                    }
                    _ => {
                        assert_eq!(dq["code"], "mg");
                        v.micro()
                    }
                };
                let when = rep["when"].to_string() + &rep["timeOfDay"].to_string();
                *sums.entry((f.fill.into(), seq, when)).or_default() += mg;
            }
        }
    }
    // Each administration: its amount, from its own products' requests.
    let mut want: BTreeMap<(u64, u64, String), u64> = BTreeMap::new();
    for f in &plan.fills {
        for r in &f.runs {
            if r.dose_days == 0 {
                continue;
            }
            let step = &plan.steps[r.step as usize - 1];
            for a in &step.administrations {
                let code = match a.slot.as_str() {
                    "morning" => "[\"MORN\"]",
                    "midday" => "[\"NOON\"]",
                    "afternoon" => "[\"AFT\"]",
                    "evening" => "[\"EVE\"]",
                    "bedtime" => "[\"HS\"]",
                    _ => "null",
                };
                *want
                    .entry((f.fill.into(), r.step.into(), format!("{code}null")))
                    .or_default() += a.amount.micro();
            }
        }
    }
    assert_eq!(sums, want);
}

/// Keeps a bundle for `.ci/check-fhir --exports`, which validates it with
/// fhir.resources and the official FHIR R4 JSON schema.
fn keep_fhir(name: &str, bytes: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fhir-exports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn supply_takes_days_and_refuses_anything_else() {
    for bad in ["0", "366", "abc", "-28", "2.5", "99999999999"] {
        let out = taper()
            .args(["plan", "diazepam", "--dose", "20mg", "--supply", bad])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            err.contains(&format!("supply '{bad}' is not valid")) && err.contains("1 to 365"),
            "{bad}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let json = ok(&[
        "plan",
        "diazepam",
        "--dose",
        "20mg",
        "--start",
        "2026-12-01",
        "--supply",
        "4w",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["request"]["supply_days"], 28);
    assert_valid_plan_json(&v);
}

#[test]
fn the_table_shows_each_fill_with_wording_and_packs() {
    let out = ok(&[
        "plan",
        "diazepam",
        "--dose",
        "20mg",
        "--start",
        "2026-12-01",
        "--supply",
        "28",
        "--market",
        "uk",
        "--view",
        "fills",
    ]);
    // Wrapped lines joined: the table wraps at the terminal width.
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(out.contains("Fills of 28 days"), "{out}");
    assert!(
        out.contains("Fill 1: 2026-12-01 to 2026-12-28 (28 days)"),
        "{out}"
    );
    assert!(
        out.contains(
            "Diazepam: take 1 × 5 mg tablet and 2 × 2 mg tablets (9 mg) by mouth twice a day"
        ),
        "{out}"
    );
    // UK: controlled (Schedule 4 Part 1), packs of 50 to 1000: whole packs
    // plus loose tablets, in words; less than a pack is a part of one.
    assert!(
        out.contains("one hundred and forty (140) tablets (1 pack of 100 and 40 tablets loose)"),
        "{out}"
    );
    assert!(
        out.contains("forty-two (42) tablets (part of a pack of 50)"),
        "{out}"
    );
    // Without --supply the steps table has no fills.
    let plain = ok(&[
        "plan",
        "diazepam",
        "--dose",
        "20mg",
        "--start",
        "2026-12-01",
    ]);
    assert!(!plain.contains("Fill 1"));
    // The sources of pack sizes, codes and schedules are cited where
    // fills are shown (and always in the JSON and FHIR), not in a plan
    // without them.
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        out.contains("The Misuse of Drugs Regulations 2001"),
        "{out}"
    );
    assert!(!plain.contains("Misuse of Drugs"), "{plain}");
    assert!(plain.contains("Sources: NICE CKS"), "{plain}");
}

#[test]
fn non_controlled_fills_round_up_to_whole_packs() {
    // UK prednisolone: 5 mg tablets in packs of 50, 1 mg tablets without
    // a sourced pack size.
    let csv = ok(&[
        "plan",
        "prednisolone",
        "--dose",
        "40mg",
        "--market",
        "uk",
        "--start",
        "2026-12-01",
        "--supply",
        "28",
        "--format",
        "csv",
        "--view",
        "fills",
    ]);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers = r.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        taper::render::csv::FILL_COLUMNS
    );
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (mut packed, mut loose) = (0, 0);
    for rec in r.records() {
        let rec = rec.unwrap();
        let dec = |name: &str| Dose::parse_decimal(&rec[col(name)]).unwrap().micro();
        let (needed, quantity) = (dec("needed"), dec("quantity"));
        assert!(quantity >= needed);
        assert_eq!(quantity - needed, dec("overage"));
        assert_eq!(&rec[col("controlled")], "");
        assert!(
            rec[col("prescription")].starts_with("Prednisolone"),
            "{rec:?}"
        );
        if &rec[col("product")] == "5 mg tablet" {
            // Whole packs of 50, less than one pack over.
            packed += 1;
            assert_eq!(quantity % (50 * SCALE), 0);
            assert!(quantity - needed < 50 * SCALE);
            let packs = (quantity / SCALE / 50).to_string();
            assert_eq!(rec[col("packs")], format!("{packs}x50"));
        } else {
            loose += 1;
            assert_eq!(quantity, needed);
            assert_eq!(&rec[col("packs")], "");
        }
    }
    assert!(packed >= 2 && loose >= 1, "{packed} {loose}");
}

#[test]
fn fhir_is_chosen_by_the_longer_extension_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.fhir.json");
    taper()
        .args([
            "plan",
            "diazepam",
            "--dose",
            "20mg",
            "--start",
            "2026-12-01",
            "--supply",
            "28",
            "--patient",
            "Zoë O'Brien",
            "-o",
        ])
        .arg(&path)
        .assert()
        .success();
    let bytes = std::fs::read(&path).unwrap();
    keep_fhir("diazepam-supply-28.json", &bytes);
    let b: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(b["resourceType"], "Bundle");
    let first = &b["entry"][0]["resource"];
    assert_eq!(first["subject"]["display"], "Zoë O'Brien");
    assert_eq!(first["status"], "draft");
    assert_eq!(
        first["medicationCodeableConcept"]["coding"][0]["code"],
        "197591"
    );
    let notes: Vec<&str> = first["note"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert!(notes
        .iter()
        .any(|n| n.contains("must be used under prescriber oversight")));
    assert!(notes.iter().any(|n| n.contains("profile diazepam version")));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("Controlled drug (Schedule IV): dispense forty-two (42) tablets")),
        "{notes:?}"
    );
    // `.json` alone stays the plan JSON.
    let plain = dir.path().join("plan.json");
    taper()
        .args(["plan", "diazepam", "--dose", "20mg", "-o"])
        .arg(&plain)
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&std::fs::read(&plain).unwrap()).unwrap();
    assert_eq!(v["schema_version"], "1");
}

#[test]
fn fhir_with_times_uses_time_of_day_and_switch_plans_name_each_drug() {
    let out = ok(&[
        "plan",
        "lorazepam",
        "--dose",
        "3mg",
        "--start",
        "2026-12-01",
        "--switch-to",
        "diazepam",
        "--supply",
        "28",
        "--times",
        "8:00,22:00",
        "--format",
        "fhir",
    ]);
    keep_fhir("lorazepam-switch-times.json", out.as_bytes());
    let b: Value = serde_json::from_str(&out).unwrap();
    let mut drugs = Vec::new();
    for e in b["entry"].as_array().unwrap() {
        let r = &e["resource"];
        drugs.push(
            r["medicationCodeableConcept"]["text"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        for d in r["dosageInstruction"].as_array().unwrap() {
            let rep = &d["timing"]["repeat"];
            assert!(rep.get("when").is_none());
            let t = rep["timeOfDay"][0].as_str().unwrap();
            assert!(["08:00:00", "22:00:00"].contains(&t), "{t}");
        }
    }
    assert!(
        drugs.iter().any(|d| d.starts_with("Lorazepam 1 mg tablet")),
        "{drugs:?}"
    );
    assert!(
        drugs.iter().any(|d| d.starts_with("Diazepam 5 mg tablet")),
        "{drugs:?}"
    );
}

#[test]
fn every_profiles_default_plan_exports_fhir() {
    for (name, doses) in DOSES {
        for supply in [None, Some("28")] {
            let mut args = vec![
                "plan",
                name,
                "--dose",
                doses[1],
                "--start",
                "2026-12-01",
                "--format",
                "fhir",
            ];
            let label = supply.map_or(String::new(), |s| format!("-supply-{s}"));
            if let Some(s) = supply {
                args.extend(["--supply", s]);
            }
            let dose = format!("{}mg", doses[1]);
            args[3] = &dose;
            let out = ok(&args);
            keep_fhir(&format!("{name}{label}.json"), out.as_bytes());
            let mut json_args = args.clone();
            json_args[7] = "json";
            let json = ok(&json_args);
            let v: Value = serde_json::from_str(&json).unwrap();
            assert_valid_plan_json(&v);
            let b: Value = serde_json::from_str(&out).unwrap();
            let requests = b["entry"].as_array().unwrap().len();
            let lines: usize = v["fills"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["lines"].as_array().unwrap().len())
                .sum();
            assert_eq!(requests, lines, "{name}");
        }
    }
}

#[test]
fn batch_writes_fills_rows_and_one_bundle_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("rows.csv");
    std::fs::write(
        &input,
        "id,profile,dose,supply,switch_to\nA1,diazepam,20mg,28,\nB2,baclofen,60mg,,\nC3,lorazepam,3mg,4w,diazepam\n",
    )
    .unwrap();
    let csv = ok(&[
        "batch",
        input.to_str().unwrap(),
        "--view",
        "fills",
        "--start",
        "2026-12-01",
        "-q",
    ]);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(r.headers().unwrap().get(0), Some("id"));
    let ids: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
    assert!(ids.contains(&"A1".into()) && ids.contains(&"B2".into()) && ids.contains(&"C3".into()));
    let nd = ok(&[
        "batch",
        input.to_str().unwrap(),
        "--format",
        "fhir",
        "--start",
        "2026-12-01",
        "-q",
    ]);
    keep_fhir("batch.ndjson", nd.as_bytes());
    let lines: Vec<&str> = nd.lines().collect();
    assert_eq!(lines.len(), 3);
    let jsonl = ok(&[
        "batch",
        input.to_str().unwrap(),
        "--format",
        "jsonl",
        "--start",
        "2026-12-01",
        "-q",
    ]);
    for (b, p) in lines.iter().zip(jsonl.lines()) {
        let b: Value = serde_json::from_str(b).unwrap();
        let p: Value = serde_json::from_str(p).unwrap();
        assert_valid_batch_line(&p);
        assert_eq!(b["identifier"]["value"], p["plan_id"]);
    }
}
