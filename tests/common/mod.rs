//! Shared by the property tests (`props.rs`) and the adversarial profile
//! tests (`adversarial.rs`): an independent check of every engine rule
//! against a plan's own data and the profile it was made from. Nothing here
//! calls the engine's helpers; each rule is recomputed from first
//! principles (exact integers in micro-mg).

#![allow(dead_code)]

// The JSON Schema check needs the `jsonschema` dev-dependency, which the
// fuzz crate (that compiles this file too, without `cfg(test)`) lacks.
#[cfg(test)]
mod cli;
#[cfg(test)]
#[allow(unused_imports)] // each test crate uses some of them
pub use cli::{run_ok, taper, BACLOFEN_PLAN};
#[cfg(test)]
mod compare_schema;
#[cfg(test)]
#[allow(unused_imports)] // each test crate uses some of them
pub use compare_schema::{assert_valid_compare_json, COMPARE_SCHEMA};
#[cfg(test)]
mod schema;
#[cfg(test)]
#[allow(unused_imports)] // each test crate uses some of them
pub use schema::{
    assert_valid_batch_line, assert_valid_plan_json, plan_schema_errors, PLAN_SCHEMA,
};

use std::collections::BTreeSet;

use chrono::NaiveDate;
use taper::dose::{Dose, SCALE};
use taper::formulation::{Portion, Quantity};
use taper::profile::{Form, Profile};
use taper::request::{resolve, PlanOptions};
use taper::schedule::{build, GaveWay, Plan, Step, WarningKind, MAX_PLAN_DAYS};
use taper::strategy::{Adjustment, Strategy};
use taper::Error;

/// Low, typical and high total daily doses (mg) for every built-in
/// profile (tests/drugs.rs, tests/fills.rs). A new profile must be added
/// here (tests/drugs.rs's first test says so).
pub const DOSES: [(&str, [&str; 3]); 26] = [
    ("alprazolam", ["0.5", "2", "6"]),
    ("baclofen", ["10", "60", "80"]),
    ("chlordiazepoxide", ["10", "30", "100"]),
    ("citalopram", ["10", "20", "40"]),
    ("clonazepam", ["0.5", "2", "4"]),
    ("diazepam", ["2", "20", "40"]),
    ("escitalopram", ["5", "10", "20"]),
    ("fluoxetine", ["10", "20", "60"]),
    ("gabapentin", ["300", "1800", "3600"]),
    ("hydromorphone", ["8", "16", "32"]),
    ("lorazepam", ["0.5", "3", "6"]),
    ("methylprednisolone", ["8", "32", "48"]),
    ("morphine", ["30", "60", "180"]),
    ("oxazepam", ["15", "45", "90"]),
    ("oxycodone", ["20", "60", "120"]),
    ("paroxetine", ["10", "20", "40"]),
    ("prednisolone", ["10", "40", "60"]),
    ("prednisone", ["10", "40", "60"]),
    ("pregabalin", ["75", "300", "600"]),
    ("sertraline", ["50", "100", "200"]),
    ("temazepam", ["10", "20", "40"]),
    ("tizanidine", ["4", "24", "36"]),
    ("tramadol", ["100", "200", "400"]),
    ("venlafaxine", ["37.5", "150", "225"]),
    ("zolpidem", ["5", "10", "20"]),
    ("zopiclone", ["3.75", "7.5", "15"]),
];

/// A built-in profile by name.
pub fn builtin(name: &str) -> std::sync::Arc<Profile> {
    let text = taper::profile::BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is not built in"))
        .1;
    std::sync::Arc::new(taper::profile::parse_profile(text, name, "built-in").unwrap())
}

pub fn d(text: &str) -> Dose {
    Dose::parse_decimal(text).unwrap()
}

/// What resolving and building a request gave.
pub enum Outcome {
    Plan(Box<Plan>),
    /// Refused with exit code 2 and this message.
    Refused(String),
}

/// Resolves and builds a request. Refusals must be exit-2 errors with a
/// message; anything else (a panic, an I/O error) is a failure.
pub fn run(profile: Profile, opts: &PlanOptions) -> Result<Outcome, String> {
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let req = match resolve(profile, opts, today) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    match build(&req) {
        Ok(p) => Ok(Outcome::Plan(Box::new(p))),
        Err(e) => refused(e),
    }
}

fn refused(e: Error) -> Result<Outcome, String> {
    let m = e.to_string();
    if e.exit_code() == 2 && !m.trim().is_empty() {
        Ok(Outcome::Refused(m))
    } else {
        Err(format!("unexpected error (exit {}): {m}", e.exit_code()))
    }
}

/// Micro-mg delivered by an administration's portions, recomputed from the
/// products' strengths and concentrations.
pub fn delivered(plan: &Plan, portions: &[Portion]) -> u128 {
    portions
        .iter()
        .map(|p| {
            let prod = &plan.products[p.product];
            match p.quantity {
                Quantity::Units { pieces, split_into } => {
                    assert!(
                        [1, 2, 4].contains(&split_into)
                            && prod.split_into.is_multiple_of(split_into),
                        "{}: split into {split_into}, which the product's {} pieces do not allow",
                        prod.name,
                        prod.split_into
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

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Pieces a patient handles for one administration: a whole unit, a half
/// and a quarter are one piece each; ¾ is three quarter pieces.
pub fn pieces(portions: &[Portion]) -> u64 {
    portions
        .iter()
        .map(|p| match p.quantity {
            Quantity::Units { pieces, split_into } => {
                let n = split_into.max(1);
                let (whole, f) = (pieces / n, pieces % n);
                whole + if f == 0 { 0 } else { f / gcd(f, n) }
            }
            Quantity::Volume { .. } => 0,
        })
        .sum()
}

fn form_of(plan: &Plan, p: &Portion) -> Form {
    plan.products[p.product].form
}

/// Floor(Emax·D/(ED50 + D)) in micro-percentage-points.
fn occupancy(emax: u64, ed50: u64, dose: u64) -> u128 {
    u128::from(emax) * u128::from(dose) / (u128::from(ed50) + u128::from(dose))
}

/// Whether a cut needs a `step_too_large` warning, from the profile alone.
/// For doses taken every N days the cut is judged
/// on the mg taken over a period of `fe * te` days (so on the average
/// daily dose), with every per-day limit scaled to that period.
fn cut_needs_warning_every(
    profile: &Profile,
    (from, fe): (u64, u32),
    (to, te): (u64, u32),
    is_stop: bool,
) -> bool {
    let period = u128::from(fe) * u128::from(te);
    let before = u128::from(from) * period / u128::from(fe);
    let after = u128::from(to) * period / u128::from(te);
    if after >= before {
        return false;
    }
    let cut = before - after;
    let pct_ok = profile
        .limits
        .max_step_percent
        .map(|p| cut * u128::from(100 * SCALE) <= u128::from(p.micro()) * before);
    let slow = profile
        .slow_below
        .iter()
        .filter(|r| before <= u128::from(r.dose.micro()) * period)
        .filter_map(|r| r.step.map(Dose::micro))
        .min();
    let per_day = match (profile.limits.max_step.map(Dose::micro), slow) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let abs_ok = per_day.map(|m| cut <= u128::from(m) * period);
    if is_stop {
        if profile
            .ending
            .as_ref()
            .is_some_and(|e| before <= u128::from(e.stop_from.micro()) * period)
        {
            return false;
        }
        // A stop is judged by the percentage limit alone; without one, by
        // the absolute limit.
        return match (pct_ok, abs_ok) {
            (Some(p), _) => !p,
            (None, Some(a)) => !a,
            (None, None) => false,
        };
    }
    match (pct_ok, abs_ok) {
        (None, None) => false,
        (p, a) => !p.unwrap_or(false) && !a.unwrap_or(false),
    }
}

/// How often the dose before step `s` was taken (1 before step 1).
fn before_every(steps: &[Step], s: &Step) -> u32 {
    (s.step as usize)
        .checked_sub(2)
        .map_or(1, |i| steps[i].every_days)
}

/// Checks every engine rule on a plan made from `profile`.
pub fn check_plan(profile: &Profile, plan: &Plan) {
    check_basics(profile, plan);
    check_regimen(profile, plan);
    check_ending(profile, plan);
}

/// The rules kept before issue 7: dates, never rising, exact
/// administrations made of products, honest rounding, exact warnings,
/// holds and dispensing totals.
pub fn check_basics(profile: &Profile, plan: &Plan) {
    let start_dose = plan.request.start_dose;
    let target = plan.request.target;
    let steps = &plan.steps;
    let days = &plan.days;
    let dpd = plan.request.doses_per_day;
    let rule_based = !matches!(plan.request.strategy, Strategy::Custom { .. });
    let stops = target.is_zero();
    assert!(!steps.is_empty());
    assert!(days.len() as u64 <= MAX_PLAN_DAYS);

    // ------------------------------------------------------------ dates
    let start = plan.request.start;
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
    // -------------------------------------------- rest days (every N days)
    // A custom `/N` step doses on its 1st, (N+1)th, … day; on the others
    // nothing is taken (daily dose 0), but the dose level is the step's:
    // a rest day is neither a cut nor a stop, the next dose day no rise.
    let level: Vec<Dose> = days
        .iter()
        .map(|x| steps[x.step as usize - 1].daily_dose)
        .collect();
    for s in steps {
        let every = s.every_days;
        assert!(
            every == 1 || (!rule_based && (2..=7).contains(&every) && !s.daily_dose.is_zero()),
            "step {}: every {every} days",
            s.step
        );
        for (offset, x) in days.iter().filter(|x| x.step == s.step).enumerate() {
            let rest = !(offset as u32).is_multiple_of(every);
            assert_eq!(x.rest_day, rest, "day {}: rest day", x.day);
            let taken = if rest { Dose::ZERO } else { s.daily_dose };
            assert_eq!(x.daily_dose, taken, "day {}: dose taken", x.day);
        }
    }
    assert!(
        level[..days.len() - 1].iter().all(|&l| l > target),
        "target reached only on the last day"
    );
    assert!(
        !days.last().unwrap().rest_day,
        "the last day is no rest day"
    );
    assert_eq!(plan.request.end, steps.last().unwrap().end);

    // ------------------------------------------------------ never rising
    let hold = steps[0].adjustment == Some(Adjustment::Hold);
    if hold {
        assert_eq!(steps[0].daily_dose, start_dose);
    } else if steps[0].every_days > 1 {
        assert!(
            level[0] <= start_dose,
            "first every-N-days step above the start"
        );
    } else {
        assert!(level[0] < start_dose);
    }
    for (i, w) in level.windows(2).enumerate() {
        assert!(w[1] <= w[0], "dose rose");
        assert_eq!(days[i + 1].change.from, w[0]);
        assert_eq!(days[i + 1].change.to, w[1]);
    }
    for w in steps.windows(2) {
        // The same dose again only when taken less often.
        assert!(
            w[1].daily_dose < w[0].daily_dose
                || (w[1].daily_dose == w[0].daily_dose && w[1].every_days > w[0].every_days),
            "two steps with the same dose"
        );
        assert_eq!(w[1].start, w[0].end + chrono::Days::new(1));
        assert_eq!(w[1].change.from, w[0].daily_dose);
    }
    assert_eq!(steps[0].change.from, start_dose);
    let day_sum: u32 = steps.iter().map(|s| s.days).sum();
    assert_eq!(day_sum as usize, days.len());
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s.step as usize, i + 1);
        assert_eq!(s.is_final, i + 1 == steps.len());
    }

    // ------------------------- administrations: exact, made of products
    let liquid_step = profile.liquid_step_ml.micro();
    let slot_names_known =
        dpd == profile.doses_per_day && profile.doses.slots.len() == dpd as usize;
    for s in steps {
        let n = s.administrations.len();
        assert_eq!(
            n, s.doses_per_day as usize,
            "step {}: administrations",
            s.step
        );
        if s.daily_dose.is_zero() {
            assert_eq!(n, 0, "step {}: a stop has no administrations", s.step);
            continue;
        }
        assert!(
            (1..=dpd as usize).contains(&n),
            "step {}: {n} administrations of {dpd}",
            s.step
        );
        let total: u128 = s
            .administrations
            .iter()
            .map(|a| u128::from(a.amount.micro()))
            .sum();
        assert_eq!(
            total,
            u128::from(s.daily_dose.micro()),
            "step {}: parts add up to the day",
            s.step
        );
        for w in s.administrations.windows(2) {
            assert!(
                w[0].slot_index < w[1].slot_index,
                "step {}: slots in day order",
                s.step
            );
            assert!(
                w[0].amount >= w[1].amount,
                "step {}: larger administrations first",
                s.step
            );
        }
        for a in &s.administrations {
            assert!(a.slot_index < dpd, "slot index within the day");
            assert!(!a.slot.is_empty(), "every administration names its slot");
            if slot_names_known {
                assert_eq!(a.slot, profile.doses.slots[a.slot_index as usize]);
            }
            assert!(
                !a.amount.is_zero(),
                "step {}: an administration of 0 mg",
                s.step
            );
            assert!(!a.portions.is_empty());
            assert_eq!(
                delivered(plan, &a.portions),
                u128::from(a.amount.micro()),
                "step {}: products make the amount",
                s.step
            );
            for p in &a.portions {
                let prod = &plan.products[p.product];
                match p.quantity {
                    Quantity::Volume { ml } => {
                        assert!(ml.micro() > 0);
                        assert_eq!(ml.micro() % liquid_step, 0, "measurable volume");
                    }
                    Quantity::Units { pieces, .. } => assert!(pieces > 0),
                }
                if prod.form == Form::Capsule {
                    assert_eq!(prod.split_into, 1, "capsules are never split");
                }
            }
        }
    }

    // ------------------------------------------------- rounding honesty
    for s in steps {
        let from = s.change.from;
        match s.adjustment {
            None | Some(Adjustment::RoundedUp) => {
                if let Some(exact) = s.exact_dose {
                    if !s.is_final {
                        assert!(
                            s.daily_dose >= exact,
                            "step {}: rounded down: {} < {}",
                            s.step,
                            s.daily_dose,
                            exact
                        );
                    }
                }
                if let (Strategy::Linear { step }, false) = (&plan.request.strategy, s.is_final) {
                    assert!(
                        from.micro() - s.daily_dose.micro() <= step.micro(),
                        "linear cut too large"
                    );
                }
            }
            Some(Adjustment::NextLower) => assert!(s.exact_dose.is_some()),
            Some(Adjustment::ToTarget) => {
                assert!(s.is_final, "a to-target cut ends the plan");
                assert!(s.exact_dose.is_some());
            }
            Some(Adjustment::Hold) => assert_eq!(s.step, 1),
        }
    }

    // ---------------------------------------------------------- warnings
    let warned = |kind: WarningKind, step: u32| {
        plan.warnings
            .iter()
            .any(|w| w.kind == kind && w.step == Some(step))
    };
    for (i, s) in steps.iter().enumerate() {
        let from = s.change.from.micro();
        let is_stop = s.is_final && s.daily_dose.is_zero() && stops;
        let fe = if i > 0 { steps[i - 1].every_days } else { 1 };
        let (before, after) = ((from, fe), (s.daily_dose.micro(), s.every_days));
        assert_eq!(
            cut_needs_warning_every(profile, before, after, is_stop),
            warned(WarningKind::StepTooLarge, s.step),
            "step {} ({} -> {} mg): step_too_large warning mismatch",
            s.step,
            s.change.from,
            s.daily_dose
        );
        let short = profile
            .limits
            .min_interval_days
            .is_some_and(|m| !s.is_final && s.days < m && s.adjustment != Some(Adjustment::Hold));
        assert_eq!(short, warned(WarningKind::IntervalTooShort, s.step));
        // A stop the strategy did not ask for is always warned.
        assert_eq!(
            s.adjustment == Some(Adjustment::ToTarget),
            warned(WarningKind::UnplannedStop, s.step),
            "step {}: unplanned_stop warning exactly on to_target",
            s.step
        );
    }
    let above_max = profile.usual_max_daily.is_some_and(|m| start_dose > m);
    assert_eq!(
        above_max,
        plan.warnings
            .iter()
            .any(|w| w.kind == WarningKind::AboveUsualMaximum)
    );
    let taper_days = days.len() as u32 - 1;
    assert_eq!(
        profile
            .limits
            .min_total_days
            .is_some_and(|m| taper_days < m),
        plan.warnings
            .iter()
            .any(|w| w.kind == WarningKind::TaperTooShort),
        "taper_too_short exactly when the days before the target are fewer than min_total_days"
    );
    // The last occupancy fall of a hyperbolic plan that stops.
    if let (
        Strategy::Hyperbolic {
            occupancy_step,
            model,
        },
        true,
    ) = (&plan.request.strategy, stops)
    {
        let last = steps.last().unwrap();
        let (emax, ed50) = (model.emax.micro(), model.ed50.micro());
        let fall = occupancy(emax, ed50, last.change.from.micro())
            - occupancy(emax, ed50, last.daily_dose.micro());
        let big = fall * 2 > u128::from(occupancy_step.micro()) * 3;
        assert_eq!(
            big,
            plan.warnings
                .iter()
                .any(|w| w.kind == WarningKind::OccupancyFall),
            "occupancy_fall warning exactly when the last fall ({fall} micro-points) is over 1.5 steps"
        );
    } else {
        assert!(!plan
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::OccupancyFall));
    }

    // ------------------------------------------------------------- holds
    if let (true, Some(interval)) = (rule_based, plan.request.interval_days) {
        let final_hold = plan.request.final_hold_days;
        for s in steps.iter().filter(|s| !s.is_final) {
            let last_before_stop = s.step as usize + 1 == steps.len() && stops;
            if let (Some(h), true) = (final_hold, last_before_stop) {
                assert_eq!(s.days, h, "step {}: --final-hold", s.step);
                continue;
            }
            let mut expected = profile
                .slow_below
                .iter()
                .filter(|r| s.daily_dose < r.dose)
                .map(|r| r.interval_days)
                .fold(interval, u32::max);
            if s.final_phase && final_hold.is_none() {
                if let Some(h) = profile.ending.as_ref().and_then(|e| e.final_hold_days) {
                    expected = expected.max(h);
                }
            }
            assert_eq!(s.days, expected, "step {}: hold", s.step);
        }
    }

    // -------------------------------------------------------- dispensing
    check_dispensing(plan);
}

/// Dispensing: every dose day's portions (rest days take nothing), pieces
/// pooled then rounded up, and exactly the products used.
pub fn check_dispensing(plan: &Plan) {
    let (steps, days) = (&plan.steps, &plan.days);
    for line in &plan.dispense {
        let prod = &plan.products[line.product];
        let mut finest = 0u64;
        let mut volume = 0u64;
        for day in days.iter().filter(|x| !x.rest_day) {
            let s = &steps[day.step as usize - 1];
            for a in &s.administrations {
                for p in a.portions.iter().filter(|p| p.product == line.product) {
                    match p.quantity {
                        Quantity::Units {
                            pieces: n,
                            split_into,
                        } => finest += n * (prod.split_into / split_into),
                        Quantity::Volume { ml } => volume += ml.micro(),
                    }
                }
            }
        }
        assert_eq!(
            line.units,
            (finest > 0).then(|| finest.div_ceil(prod.split_into))
        );
        assert_eq!(
            line.volume_ml,
            (volume > 0).then(|| Dose::from_micro(volume))
        );
    }
    let used: BTreeSet<usize> = steps
        .iter()
        .flat_map(|s| s.administrations.iter())
        .flat_map(|a| a.portions.iter().map(|p| p.product))
        .collect();
    let dispensed: BTreeSet<usize> = plan.dispense.iter().map(|l| l.product).collect();
    assert_eq!(
        dispensed, used,
        "dispensing lists exactly the products used"
    );
}

/// One regimen per plan (issue 7): forms and phases, products and
/// groups, even doses, administrations a day and their drop order, pieces.
pub fn check_regimen(profile: &Profile, plan: &Plan) {
    let steps = &plan.steps;
    let dpd = plan.request.doses_per_day;

    // -------------------------------------------------- forms and phases
    assert!(plan.phases.len() <= 2, "at most one switch of form");
    for (i, ph) in plan.phases.iter().enumerate() {
        assert_eq!(ph.phase as usize, i + 1);
    }
    if plan.phases.len() == 2 {
        assert_ne!(plan.phases[0].form, Form::Liquid, "never liquid → solid");
        assert_eq!(
            plan.phases[1].form,
            Form::Liquid,
            "the switch is to a liquid"
        );
    }
    let mut seen_liquid = false;
    let mut last_form: Option<Form> = None;
    let mut switches = 0;
    for w in steps.windows(2) {
        assert!(w[0].phase <= w[1].phase, "phase numbers never fall");
    }
    for s in steps {
        assert!((1..=plan.phases.len().max(1) as u32).contains(&s.phase));
        let forms: BTreeSet<&str> = s
            .administrations
            .iter()
            .flat_map(|a| a.portions.iter().map(|p| form_of(plan, p).as_str()))
            .collect();
        assert!(
            forms.len() <= 1,
            "step {}: one form per step, got {forms:?}",
            s.step
        );
        let Some(form) = s
            .administrations
            .first()
            .and_then(|a| a.portions.first())
            .map(|p| form_of(plan, p))
        else {
            continue;
        };
        if let Some(ph) = plan.phases.get(s.phase as usize - 1) {
            assert_eq!(ph.form, form, "step {}: form of its phase", s.step);
        }
        if form == Form::Liquid {
            seen_liquid = true;
        } else {
            assert!(!seen_liquid, "step {}: liquid → solid", s.step);
        }
        if last_form.is_some_and(|f| f != form) {
            switches += 1;
        }
        last_form = Some(form);
    }
    assert!(switches <= 1, "{switches} switches of form");

    // ----------------------------------------------------------- products
    let used: BTreeSet<usize> = steps
        .iter()
        .flat_map(|s| s.administrations.iter())
        .flat_map(|a| a.portions.iter().map(|p| p.product))
        .collect();
    assert_eq!(
        used,
        (0..plan.products.len()).collect(),
        "plan.products holds exactly the products used"
    );
    let solids: Vec<&taper::formulation::Product> = plan
        .products
        .iter()
        .filter(|p| p.form != Form::Liquid)
        .collect();
    let liquids = plan.products.len() - solids.len();
    assert!(liquids <= 1, "at most one liquid");
    assert!(
        plan.products[..solids.len()]
            .iter()
            .all(|p| p.form != Form::Liquid),
        "solids listed before liquids"
    );
    assert!(
        solids.windows(2).all(|w| w[0].strength > w[1].strength),
        "solids listed by strength"
    );
    assert!(
        solids.windows(2).all(|w| w[0].form == w[1].form),
        "one solid form per plan"
    );
    assert!(solids.len() <= 3, "at most three strengths");
    if solids.len() == 3 {
        assert!(plan.gave_way.contains(&GaveWay::ThreeStrengths));
    }
    assert!(
        solids.windows(2).all(|w| w[0].group == w[1].group),
        "solids of one group"
    );
    let groups: BTreeSet<&String> = plan
        .products
        .iter()
        .filter_map(|p| p.group.as_ref())
        .collect();
    assert!(
        groups.len() <= 1,
        "products of groups {groups:?} in one plan"
    );
    for p in &plan.products {
        let f = profile
            .formulations
            .iter()
            .find(|f| f.key(&profile.unit) == p.key)
            .expect("a plan product is a profile formulation");
        assert_eq!(p.instructions, f.instructions);
        assert_eq!(p.group, f.group);
    }

    // ------------------------------------------------------ even doses
    let smallest_piece = steps
        .iter()
        .flat_map(|s| s.administrations.iter())
        .flat_map(|a| a.portions.iter())
        .filter_map(|p| match p.quantity {
            Quantity::Units { split_into, .. } => {
                Some(plan.products[p.product].strength.unwrap().micro() / split_into)
            }
            Quantity::Volume { .. } => None,
        })
        .min()
        .unwrap_or(0);
    for s in steps.iter().filter(|s| !s.administrations.is_empty()) {
        let amounts: Vec<u64> = s.administrations.iter().map(|a| a.amount.micro()).collect();
        let (lo, hi) = (
            *amounts.iter().min().unwrap(),
            *amounts.iter().max().unwrap(),
        );
        let liquid = form_of(plan, &s.administrations[0].portions[0]) == Form::Liquid;
        if liquid {
            assert_eq!(lo, hi, "step {}: a liquid day gives equal doses", s.step);
            let first = &s.administrations[0].portions;
            assert!(s.administrations.iter().all(|a| &a.portions == first));
        } else {
            assert!(
                hi - lo <= smallest_piece,
                "step {}: doses {amounts:?} differ by more than one smallest piece ({smallest_piece})",
                s.step
            );
        }
    }

    // ------------------------------------------- administrations a day
    let min_admins = profile.doses.min_per_day().min(dpd);
    let final_floor = profile
        .ending
        .as_ref()
        .and_then(|e| e.final_doses_per_day)
        .map_or(min_admins, |f| f.min(min_admins))
        .max(1);
    let given: Vec<&taper::schedule::Step> =
        steps.iter().filter(|s| !s.daily_dose.is_zero()).collect();
    for w in given.windows(2) {
        assert!(
            w[1].doses_per_day <= w[0].doses_per_day,
            "step {}: administrations a day went back up ({} → {})",
            w[1].step,
            w[0].doses_per_day,
            w[1].doses_per_day
        );
    }
    for s in &given {
        let floor = if s.final_phase {
            final_floor
        } else {
            min_admins
        };
        assert!(
            s.doses_per_day >= floor,
            "step {}: {} administrations, fewer than the {} the longest gap allows",
            s.step,
            s.doses_per_day,
            floor
        );
    }
    let fewer = plan.gave_way.iter().find_map(|g| match g {
        GaveWay::FewerDoses { step, .. } => Some(*step),
        _ => None,
    });
    if let Some(first) = given
        .iter()
        .find(|s| !s.final_phase && s.doses_per_day < dpd)
    {
        let at = fewer.expect("fewer doses before the final phase is said in gave_way");
        assert!(at <= first.step);
    }
    if let Some(at) = fewer {
        assert!(given.iter().any(|s| s.step == at && s.doses_per_day < dpd));
    }

    // ------------------------------------------------------ drop order
    let slot_names_known = dpd == profile.doses.slots.len() as u32 && dpd == profile.doses_per_day;
    for s in steps.iter().filter(|s| !s.daily_dose.is_zero()) {
        // Dropped administrations follow the profile's drop order, and a
        // slot the profile does not list is never dropped before the final
        // phase.
        if slot_names_known && !profile.doses.drop_order.is_empty() {
            let kept: Vec<u32> = s.administrations.iter().map(|a| a.slot_index).collect();
            let dropped: Vec<&String> = (0..dpd)
                .filter(|i| !kept.contains(i))
                .map(|i| &profile.doses.slots[i as usize])
                .collect();
            let order = &profile.doses.drop_order;
            if dropped.len() <= order.len() {
                let expected: BTreeSet<&String> = order.iter().take(dropped.len()).collect();
                assert_eq!(
                    dropped.iter().copied().collect::<BTreeSet<_>>(),
                    expected,
                    "step {}: slots dropped out of the profile's order",
                    s.step
                );
            } else {
                assert!(
                    s.final_phase,
                    "step {}: drops {:?}, beyond the profile's drop_order {order:?}, before the final phase",
                    s.step, dropped
                );
            }
        }
    }

    // ------------------------------------------------------------ pieces
    let most = steps
        .iter()
        .flat_map(|s| s.administrations.iter())
        .map(|a| pieces(&a.portions))
        .max()
        .unwrap_or(0);
    let relaxed = plan.gave_way.iter().find_map(|g| match g {
        GaveWay::PieceLimit { limit, used } => Some((*limit, *used)),
        _ => None,
    });
    match relaxed {
        None => assert!(
            most <= u64::from(profile.max_pieces),
            "{most} pieces in one administration, limit {}",
            profile.max_pieces
        ),
        Some((limit, used)) => {
            assert_eq!(limit, profile.max_pieces);
            assert!(used > limit);
            assert_eq!(u64::from(used), most, "gave_way names the most pieces used");
        }
    }
}

/// A real ending (issue 7): the final phase, then stopping; percent and
/// hyperbolic cuts of at least `min_step`.
pub fn check_ending(profile: &Profile, plan: &Plan) {
    let target = plan.request.target;
    let steps = &plan.steps;
    let rule_based = !matches!(plan.request.strategy, Strategy::Custom { .. });
    let stops = target.is_zero();

    // ----------------------------------------------------------- ending
    let stop_from = profile
        .ending
        .as_ref()
        .filter(|_| stops)
        .map(|e| e.stop_from.micro());
    for s in steps {
        let expected =
            stop_from.is_some_and(|sf| !s.daily_dose.is_zero() && s.daily_dose.micro() <= sf);
        assert_eq!(s.final_phase, expected, "step {}: final_phase", s.step);
    }
    if rule_based {
        // At or below stop_from the next step is stopping.
        for w in steps.windows(2) {
            if w[0].final_phase {
                assert!(w[1].is_final && w[1].daily_dose.is_zero());
            }
        }
    }
    let min_step = match (&plan.request.strategy, &profile.ending) {
        (Strategy::Percent { .. } | Strategy::Hyperbolic { .. }, Some(e)) => e.min_step.micro(),
        _ => 0,
    };
    for s in &steps[..steps.len() - 1] {
        let from = s.change.from.micro();
        let cut = from - s.daily_dose.micro();
        let excused = matches!(
            s.adjustment,
            Some(Adjustment::NextLower | Adjustment::ToTarget)
        ) || s.daily_dose == target;
        // A low-dose phase's own smaller step caps the cut.
        let floor = absolute_limit_slow(profile, from).map_or(min_step, |c| c.min(min_step));
        assert!(
            excused || cut >= floor,
            "step {}: cut {} mg from {} mg is below min_step {} ({:?})",
            s.step,
            Dose::from_micro(cut),
            s.change.from,
            Dose::from_micro(min_step),
            s.adjustment
        );
    }
}

/// The smallest `[[slow_below]] step` in force at `from`, if any.
fn absolute_limit_slow(profile: &Profile, from: u64) -> Option<u64> {
    profile
        .slow_below
        .iter()
        .filter(|r| from <= r.dose.micro())
        .filter_map(|r| r.step.map(Dose::micro))
        .min()
}

/// A plan must never be a silent stop: a first step straight to 0 from a
/// dose above the profile's `stop_from` carries a warning.
pub fn check_no_silent_stop(profile: &Profile, plan: &Plan) {
    let first = &plan.steps[0];
    let stop_from = profile.ending.as_ref().map_or(0, |e| e.stop_from.micro());
    if first.daily_dose.is_zero() && plan.request.start_dose.micro() > stop_from {
        assert!(
            plan.warnings.iter().any(|w| w.step == Some(1)
                && matches!(
                    w.kind,
                    WarningKind::UnplannedStop | WarningKind::StepTooLarge
                )),
            "a silent one-step stop from {} mg",
            plan.request.start_dose
        );
    }
}

// ------------------------------------------------------------ revisions

/// A revised plan (`taper adjust` from `from`) against the plan it
/// revises: every day before `from` is the old plan's; the whole plan keeps
/// the day/step bookkeeping, exact administrations and dispensing; doses
/// never rise except once at `from`, where a step back is marked as such
/// (a `step_back` warning naming that rise) — no other rise, and no such
/// warning without one; from `from` on every cut is warned exactly as the
/// profile's limits say.
pub fn check_revised(profile: &Profile, old: &Plan, new: &Plan, from: NaiveDate) {
    let kept = (from - old.request.start).num_days() as usize;
    assert_eq!(new.request.start, old.request.start);
    assert_eq!(new.request.start_dose, old.request.start_dose);
    for (o, n) in old.days[..kept].iter().zip(&new.days) {
        assert_eq!(
            (o.date, o.day, o.step, o.daily_dose, o.change),
            (n.date, n.day, n.step, n.daily_dose, n.change),
            "a day before {from} changed"
        );
    }
    let days = &new.days;
    let steps = &new.steps;
    assert!(days.len() > kept);
    for (i, day) in days.iter().enumerate() {
        assert_eq!(day.date, new.request.start + chrono::Days::new(i as u64));
        assert_eq!(day.day as usize, i + 1);
        let s = &steps[day.step as usize - 1];
        assert!(s.start <= day.date && day.date <= s.end);
        assert_eq!(day.daily_dose, s.daily_dose);
    }
    assert_eq!(days.last().unwrap().daily_dose, new.request.target);
    assert_eq!(steps.last().unwrap().days, 1);
    assert_eq!(new.request.end, steps.last().unwrap().end);
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s.step as usize, i + 1);
        assert_eq!(s.is_final, i + 1 == steps.len());
        assert_eq!(s.days as i64, (s.end - s.start).num_days() + 1);
        let total: u64 = s.administrations.iter().map(|a| a.amount.micro()).sum();
        assert_eq!(total, s.daily_dose.micro(), "step {}: parts add up", s.step);
        for a in &s.administrations {
            assert_eq!(
                delivered(new, &a.portions),
                u128::from(a.amount.micro()),
                "step {}: products make the amount",
                s.step
            );
        }
    }
    for w in steps.windows(2) {
        assert_eq!(w[1].start, w[0].end + chrono::Days::new(1));
        assert_eq!(w[1].change.from, w[0].daily_dose);
    }
    // Rises from `from` on: only at `from`, only marked (an earlier
    // revision's marked rise is in the kept days).
    let marked: Vec<_> = new
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::StepBack)
        .filter(|w| serde_json::to_value(&w.detail).unwrap()["rise_date"] == from.to_string())
        .collect();
    let mut rises = 0;
    for w in days.windows(2) {
        assert_eq!(w[1].change.from, w[0].daily_dose);
        if w[1].date >= from && w[1].daily_dose > w[0].daily_dose {
            rises += 1;
            assert_eq!(w[1].date, from, "the dose rose on {}", w[1].date);
            assert_eq!(marked.len(), 1, "the rise on {from} is marked once");
            assert_eq!(marked[0].step, Some(w[1].step));
            let v = serde_json::to_value(&marked[0].detail).unwrap();
            assert_eq!(v["rise_from"], w[0].daily_dose.to_string());
            assert_eq!(v["rise_to"], w[1].daily_dose.to_string());
            assert_eq!(v["rise_date"], from.to_string());
        }
    }
    if from == new.request.start && days[0].daily_dose > new.request.start_dose {
        rises += 1;
    }
    assert_eq!(rises, marked.len(), "a step_back warning without a rise");
    // Cuts from `from` on are warned exactly as the limits say.
    let stops = new.request.target.is_zero();
    for s in steps.iter().filter(|s| s.start >= from) {
        let is_stop = s.is_final && s.daily_dose.is_zero() && stops;
        let warned = new
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::StepTooLarge && w.step == Some(s.step));
        assert_eq!(
            cut_needs_warning_every(
                profile,
                (s.change.from.micro(), before_every(steps, s)),
                (s.daily_dose.micro(), s.every_days),
                is_stop
            ),
            warned,
            "step {} ({} -> {} mg): step_too_large warning mismatch",
            s.step,
            s.change.from,
            s.daily_dose
        );
    }
    check_dispensing(new);
    assert_eq!(new.history.revision(), old.history.revision() + 1);
}
