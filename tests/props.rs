//! Property tests of the engine rules over random profiles × doses ×
//! strategies × product selections. Each rule in the README's "How a
//! schedule is made" is checked against an independent recomputation from
//! the plan's own data, never against the engine's helpers alone.

use chrono::NaiveDate;
use proptest::prelude::*;
use taper::dose::{Dose, SCALE};
use taper::formulation::Quantity;
use taper::profile::parse_profile;
use taper::request::{resolve, PlanOptions};
use taper::schedule::{build, Plan, WarningKind, MAX_PLAN_DAYS};
use taper::strategy::Adjustment;
use taper::Error;

fn d(text: &str) -> Dose {
    Dose::parse_decimal(text).unwrap()
}

#[derive(Debug, Clone)]
struct Solid {
    form: &'static str,
    strength: String,
    split: &'static str,
}

#[derive(Debug, Clone)]
struct Spec {
    solids: Vec<Solid>,
    liquids: Vec<String>,
    doses_per_day: u32,
    max_step_percent: Option<u32>,
    max_step: Option<String>,
    min_interval: Option<u32>,
    slow_below: Option<(String, u32)>,
    occupancy: Option<(String, String)>,
}

fn strength() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0.5", "1", "2", "2.5", "4", "5", "10", "12.5", "20", "25", "50", "100", "300", "800"
        ])
        .prop_map(String::from),
        (1u32..400).prop_map(|n| n.to_string()),
        (1u32..80).prop_map(|n| format!("{}.{}", n, 5)),
    ]
}

fn solid() -> impl Strategy<Value = Solid> {
    (
        prop::sample::select(vec!["tablet", "tablet", "capsule"]),
        strength(),
        prop::sample::select(vec!["none", "halves", "quarters"]),
    )
        .prop_map(|(form, strength, split)| Solid {
            form,
            strength,
            split: if form == "capsule" { "none" } else { split },
        })
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(solid(), 0..4),
        prop::collection::vec(
            prop::sample::select(vec!["1", "2", "5", "20", "50", "0.5"]).prop_map(String::from),
            0..3,
        ),
        1u32..5,
        prop::option::of(5u32..60),
        prop::option::of(prop::sample::select(vec!["1", "2.5", "5", "10"]).prop_map(String::from)),
        prop::option::of(2u32..15),
        prop::option::of((
            prop::sample::select(vec!["5", "10", "20"]).prop_map(String::from),
            7u32..30,
        )),
        prop::option::of((
            (60u32..99).prop_map(|n| n.to_string()),
            prop::sample::select(vec!["0.5", "2.33", "7.72", "20"]).prop_map(String::from),
        )),
    )
        .prop_map(|(mut solids, mut liquids, dpd, msp, ms, mi, sb, occ)| {
            // Products must be distinct; a profile needs at least one.
            solids.sort_by(|a, b| (a.form, &a.strength).cmp(&(b.form, &b.strength)));
            solids.dedup_by(|a, b| a.form == b.form && d(&a.strength) == d(&b.strength));
            liquids.sort();
            liquids.dedup();
            if solids.is_empty() && liquids.is_empty() {
                liquids.push("1".into());
            }
            Spec {
                solids,
                liquids,
                doses_per_day: dpd,
                max_step_percent: msp,
                max_step: ms,
                min_interval: mi,
                slow_below: sb,
                occupancy: occ,
            }
        })
}

fn profile_toml(s: &Spec) -> String {
    let mut t = String::from(
        "name = \"rand\"\ndisplay_name = \"Randomol\"\nversion = \"1\"\nunit = \"mg\"\n",
    );
    t += &format!("doses_per_day = {}\n", s.doses_per_day);
    t += "usual_max_daily = \"300\"\nwithdrawal_symptoms = [\"a\"]\nred_flags = [\"b\"]\n";
    for f in &s.solids {
        t += &format!(
            "[[formulation]]\nform = \"{}\"\nstrength = \"{}\"\nsplit = \"{}\"\n",
            f.form, f.strength, f.split
        );
    }
    for c in &s.liquids {
        t += &format!("[[formulation]]\nform = \"liquid\"\nconcentration = \"{c}\"\n");
    }
    t += "[default]\nstrategy = \"linear\"\nstep = \"5\"\ninterval_days = 7\n";
    if s.occupancy.is_some() {
        t += "occupancy_step = \"5\"\n";
    }
    t += "[limits]\n";
    if let Some(p) = s.max_step_percent {
        t += &format!("max_step_percent = \"{p}\"\n");
    }
    if let Some(m) = &s.max_step {
        t += &format!("max_step = \"{m}\"\n");
    }
    if let Some(m) = s.min_interval {
        t += &format!("min_interval_days = {m}\n");
    }
    if let Some((dose, days)) = &s.slow_below {
        t += &format!(
            "[[slow_below]]\ndose = \"{dose}\"\ninterval_days = {days}\ntool_default = true\n"
        );
    }
    if let Some((emax, ed50)) = &s.occupancy {
        t += &format!("[occupancy]\nemax = \"{emax}\"\ned50 = \"{ed50}\"\nsource = \"S\"\n");
    }
    t += "[[source]]\nkey = \"S\"\ntitle = \"Test source\"\n";
    t
}

#[derive(Debug, Clone)]
enum Strat {
    Linear(String),
    Percent(String),
    Hyperbolic(String),
    Custom(Vec<(u32, u32)>),
}

fn strat() -> impl Strategy<Value = Strat> {
    prop_oneof![
        prop::sample::select(vec!["0.5", "1", "2.5", "5", "10", "25", "3.3"])
            .prop_map(|s| Strat::Linear(s.into())),
        prop::sample::select(vec!["5", "10", "12.5", "25", "33.3", "50"])
            .prop_map(|s| Strat::Percent(s.into())),
        prop::sample::select(vec!["2", "5", "10", "20"]).prop_map(|s| Strat::Hyperbolic(s.into())),
        prop::collection::vec((1u32..40, 1u32..20), 1..6).prop_map(Strat::Custom),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    spec: Spec,
    dose_tenths: u32,
    target_choice: u8,
    strat: Strat,
    interval: u32,
    subset_mask: u8,
    dpd_override: Option<u32>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        spec(),
        1u32..3000,
        0u8..4,
        strat(),
        1u32..30,
        any::<u8>(),
        prop::option::of(1u32..5),
    )
        .prop_map(
            |(spec, dose_tenths, target_choice, strat, interval, subset_mask, dpd_override)| Case {
                spec,
                dose_tenths,
                target_choice,
                strat,
                interval,
                subset_mask,
                dpd_override,
            },
        )
}

fn tenths(n: u32) -> String {
    Dose::from_micro(u64::from(n) * SCALE / 10).to_string()
}

/// Runs a case; `Ok(None)` when the request is rightly refused.
fn plan_for(c: &Case) -> Result<Option<Plan>, String> {
    let text = profile_toml(&c.spec);
    let profile =
        parse_profile(&text, "rand.toml", "test").map_err(|e| format!("profile: {e}\n{text}"))?;
    let dose = tenths(c.dose_tenths);
    let mut opts = PlanOptions {
        dose: format!("{dose}mg"),
        start: Some("2026-12-01".into()),
        interval: Some(c.interval.to_string()),
        doses_per_day: c.dpd_override.map(|n| n.to_string()),
        ..PlanOptions::default()
    };
    // A random non-empty subset of products.
    let keys: Vec<String> = profile.formulations.iter().map(|f| f.key("mg")).collect();
    let chosen: Vec<String> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| c.subset_mask & (1 << (i % 8)) != 0)
        .map(|(_, k)| k.clone())
        .collect();
    if !chosen.is_empty() && chosen.len() < keys.len() {
        opts.strengths = Some(chosen.join(","));
    }
    if c.target_choice == 3 {
        opts.target = Some(format!("{}mg", tenths(c.dose_tenths / 3)));
    }
    match &c.strat {
        Strat::Linear(s) => opts.step = Some(s.clone()),
        Strat::Percent(p) => opts.percent = Some(p.clone()),
        Strat::Hyperbolic(p) => opts.occupancy_step = Some(p.clone()),
        Strat::Custom(entries) => {
            // Strictly falling doses below the starting dose.
            let start = u64::from(c.dose_tenths) * SCALE / 10;
            let mut doses = Vec::new();
            let mut cur = start;
            for (pct, days) in entries {
                cur = cur * u64::from(100 - pct.min(&99)) / 100 / 100_000 * 100_000;
                if cur == 0 || doses.last().is_some_and(|(p, _)| *p == cur) {
                    break;
                }
                doses.push((cur, *days));
            }
            if doses.is_empty() {
                return Ok(None);
            }
            opts.interval = None;
            opts.target = None;
            opts.schedule = Some(
                doses
                    .iter()
                    .map(|(m, days)| format!("{}x{days}", Dose::from_micro(*m)))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
    }
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let req = match resolve(profile, &opts, today) {
        Ok(r) => r,
        // Refusals must be usage errors with a message, never panics.
        Err(Error::Usage(m)) if !m.is_empty() => return Ok(None),
        Err(e) => return Err(format!("unexpected resolve error: {e}")),
    };
    match build(&req) {
        Ok(p) => Ok(Some(p)),
        Err(Error::PlanRefused(m)) if !m.is_empty() => Ok(None),
        Err(Error::Usage(m)) if m.contains("cannot be given") => Ok(None),
        Err(e) => Err(format!("unexpected build error: {e}")),
    }
}

/// Mg delivered by an administration, recomputed from product data.
fn delivered(plan: &Plan, portions: &[taper::formulation::Portion]) -> u128 {
    portions
        .iter()
        .map(|p| {
            let prod = &plan.products[p.product];
            match p.quantity {
                Quantity::Units { pieces, split_into } => {
                    assert_eq!(
                        split_into, prod.split_into,
                        "piece size differs from product"
                    );
                    u128::from(prod.strength.unwrap().micro()) * u128::from(pieces)
                        / u128::from(split_into)
                }
                Quantity::Volume { ml } => {
                    u128::from(prod.concentration.unwrap().micro()) * u128::from(ml.micro())
                        / u128::from(SCALE)
                }
            }
        })
        .sum()
}

fn check_plan(c: &Case, plan: &Plan) {
    let start_dose = plan.request.start_dose;
    let target = plan.request.target;
    let steps = &plan.steps;
    let days = &plan.days;
    assert!(!steps.is_empty());
    assert!(days.len() as u64 <= MAX_PLAN_DAYS);

    // Consecutive dates from the start, 1-based day numbers, last = target.
    let start = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    for (i, day) in days.iter().enumerate() {
        assert_eq!(day.date, start + chrono::Days::new(i as u64));
        assert_eq!(day.day as usize, i + 1);
    }
    assert_eq!(
        days.last().unwrap().daily_dose,
        target,
        "last day is the target"
    );
    assert_eq!(
        steps.last().unwrap().days,
        1,
        "the plan ends on the first day at the target"
    );
    assert!(
        days[..days.len() - 1].iter().all(|x| x.daily_dose > target),
        "target reached only on the last day"
    );

    // Never rising; first below the current dose (or a custom hold).
    let hold = steps[0].adjustment == Some(Adjustment::Hold);
    if hold {
        assert_eq!(steps[0].daily_dose, start_dose);
    } else {
        assert!(days[0].daily_dose < start_dose);
    }
    for w in days.windows(2) {
        assert!(w[1].daily_dose <= w[0].daily_dose, "dose rose");
        assert_eq!(w[1].change.from, w[0].daily_dose);
    }
    // No step vanishes: consecutive steps always differ.
    for w in steps.windows(2) {
        assert!(
            w[1].daily_dose < w[0].daily_dose,
            "two steps with the same dose"
        );
        assert_eq!(w[1].start, w[0].end + chrono::Days::new(1));
    }
    // Steps and days agree.
    let day_sum: u32 = steps.iter().map(|s| s.days).sum();
    assert_eq!(day_sum as usize, days.len());

    // Achievable and exact: administrations add up, each is made of products.
    let liquid_step = u128::from(SCALE / 10);
    for s in steps {
        let n = plan.request.doses_per_day as usize;
        assert_eq!(s.administrations.len(), n);
        let total: u128 = s
            .administrations
            .iter()
            .map(|a| u128::from(a.amount.micro()))
            .sum();
        assert_eq!(
            total,
            u128::from(s.daily_dose.micro()),
            "parts add up to the day"
        );
        for w in s.administrations.windows(2) {
            assert!(w[0].amount >= w[1].amount, "larger administrations first");
        }
        for a in &s.administrations {
            assert_eq!(
                delivered(plan, &a.portions),
                u128::from(a.amount.micro()),
                "products make the amount"
            );
            for p in &a.portions {
                let prod = &plan.products[p.product];
                if let Quantity::Volume { ml } = p.quantity {
                    assert_eq!(u128::from(ml.micro()) % liquid_step, 0, "measurable volume");
                }
                if prod.form == taper::profile::Form::Capsule {
                    assert_eq!(prod.split_into, 1, "capsules are never split");
                }
            }
        }
    }

    // Rounding never makes a cut larger than the rule asked, except where
    // the step records why (next lower dose or stop below the smallest).
    for s in steps {
        let from = s.change.from;
        match s.adjustment {
            None | Some(Adjustment::RoundedUp) => {
                if let Some(exact) = s.exact_dose {
                    if !s.is_final {
                        assert!(
                            s.daily_dose >= exact,
                            "rounded down: {} < {}",
                            s.daily_dose,
                            exact
                        );
                    }
                }
                if let (taper::strategy::Strategy::Linear { step }, false) =
                    (&plan.request.strategy, s.is_final)
                {
                    assert!(
                        from.micro() - s.daily_dose.micro() <= step.micro(),
                        "linear cut too large"
                    );
                }
            }
            Some(Adjustment::NextLower) => assert!(s.exact_dose.is_some()),
            Some(Adjustment::ToTarget) => {
                assert!(s.is_final);
                assert!(s.exact_dose.is_some());
            }
            Some(Adjustment::Hold) => assert_eq!(s.step, 1),
        }
    }

    // Every step faster than the profile's limits carries a warning.
    let spec = &c.spec;
    for s in steps {
        let from = s.change.from.micro();
        let cut = from - s.daily_dose.micro();
        let pct_ok = spec
            .max_step_percent
            .is_some_and(|p| u128::from(cut) * 100 <= u128::from(p) * u128::from(from));
        let abs_ok = spec.max_step.as_ref().is_some_and(|m| cut <= d(m).micro());
        let limited = spec.max_step_percent.is_some() || spec.max_step.is_some();
        let warned = plan
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::StepTooLarge && w.step == Some(s.step));
        assert_eq!(
            limited && !pct_ok && !abs_ok,
            warned,
            "step {} warning mismatch",
            s.step
        );
        let short = spec
            .min_interval
            .is_some_and(|m| !s.is_final && s.days < m && s.adjustment != Some(Adjustment::Hold));
        let warned_short = plan
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::IntervalTooShort && w.step == Some(s.step));
        assert_eq!(short, warned_short);
    }
    let above_max = start_dose > d("300");
    assert_eq!(
        above_max,
        plan.warnings
            .iter()
            .any(|w| w.kind == WarningKind::AboveUsualMaximum)
    );

    // Slower holds below the threshold are honoured.
    if let (Some((dose, days_below)), Some(interval)) =
        (&spec.slow_below, plan.request.interval_days)
    {
        for s in steps.iter().filter(|s| !s.is_final) {
            let expected = if s.daily_dose < d(dose) {
                interval.max(*days_below)
            } else {
                interval
            };
            assert_eq!(s.days, expected);
        }
    }

    // Dispensing totals equal the pooled pieces over all days, rounded up.
    for line in &plan.dispense {
        let prod = &plan.products[line.product];
        let mut pieces = 0u64;
        let mut volume = 0u64;
        for day in days {
            let s = &steps[day.step as usize - 1];
            for a in &s.administrations {
                for p in a.portions.iter().filter(|p| p.product == line.product) {
                    match p.quantity {
                        Quantity::Units { pieces: n, .. } => pieces += n,
                        Quantity::Volume { ml } => volume += ml.micro(),
                    }
                }
            }
        }
        assert_eq!(
            line.units,
            (pieces > 0).then(|| pieces.div_ceil(prod.split_into))
        );
        assert_eq!(
            line.volume_ml,
            (volume > 0).then(|| Dose::from_micro(volume))
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn every_plan_keeps_the_engine_rules(c in case()) {
        match plan_for(&c) {
            Ok(Some(plan)) => check_plan(&c, &plan),
            Ok(None) => {}
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    #[test]
    fn plans_are_deterministic_and_render_everywhere(c in case()) {
        if let Ok(Some(plan)) = plan_for(&c) {
            let again = plan_for(&c).unwrap().unwrap();
            for format in [taper::render::Format::Table, taper::render::Format::Csv, taper::render::Format::Json] {
                for view in [taper::render::View::Steps, taper::render::View::Days] {
                    let mut a = Vec::new();
                    let mut b = Vec::new();
                    taper::render::render(&plan, format, view, false, &mut a).unwrap();
                    taper::render::render(&again, format, view, false, &mut b).unwrap();
                    prop_assert_eq!(&a, &b);
                    let text = String::from_utf8(a).unwrap();
                    prop_assert!(!text.contains('\u{1b}'), "colour codes without colour");
                    // ISMP: no naked decimal point, no trailing zero.
                    prop_assert!(!text.contains(" .") && !text.contains(".0 "), "unsafe dose text");
                }
            }
            // CSV parses with the csv crate and has one row per day.
            let mut out = Vec::new();
            taper::render::render(&plan, taper::render::Format::Csv, taper::render::View::Days, false, &mut out).unwrap();
            let mut r = csv::Reader::from_reader(out.as_slice());
            let rows: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(rows.len(), plan.days.len());
            for (row, day) in rows.iter().zip(&plan.days) {
                let expected = day.daily_dose.to_string();
                prop_assert_eq!(&row[3], expected.as_str());
            }
        }
    }

    /// Any text in any option is either accepted or refused with a message;
    /// nothing panics.
    #[test]
    fn option_parsers_never_panic(
        dose in ".{0,12}",
        other in ".{0,12}",
        which in 0usize..9,
    ) {
        let text = taper::profile::BUILTIN_PROFILES.iter().find(|(n, _)| *n == "baclofen").unwrap().1;
        let profile = parse_profile(text, "b", "b").unwrap();
        let mut opts = PlanOptions { dose: dose.clone(), start: Some("2026-12-01".into()), ..PlanOptions::default() };
        let slot = match which {
            0 => &mut opts.step,
            1 => &mut opts.percent,
            2 => &mut opts.interval,
            3 => &mut opts.target,
            4 => &mut opts.schedule,
            5 => &mut opts.strengths,
            6 => &mut opts.form,
            7 => &mut opts.doses_per_day,
            _ => &mut opts.start,
        };
        *slot = Some(other);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        if let Ok(req) = resolve(profile, &opts, today) {
            let _ = build(&req);
        }
    }

    #[test]
    fn decimals_round_trip(micro in 0u64..=1_000_000 * SCALE) {
        let dose = Dose::from_micro(micro);
        let text = dose.to_string();
        prop_assert_eq!(Dose::parse_decimal(&text).unwrap(), dose);
        prop_assert!(!text.starts_with('.'));
        prop_assert!(!(text.contains('.') && text.ends_with('0')));
    }
}
