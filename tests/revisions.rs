//! `taper adjust` in the library: random plans of the built-in profiles,
//! random dates and random changes. The days before the date stay the old
//! plan's, every rule holds (`common::check_revised`), and revisions chain:
//! adjusting twice is revision 3 with both entries, and rebuilding from the
//! recorded options and revisions gives the same plan.

mod common;

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use common::check_revised;
use proptest::prelude::*;
use taper::profile::Form;
use taper::profile::{parse_profile, Profile};
use taper::request::{resolve, PlanOptions};
use taper::revision::{self, Change, Replan, Revision};
use taper::schedule::{build, Plan, Step};

const CASES: [(&str, &str, &str); 9] = [
    ("baclofen", "60mg", ""),
    ("baclofen", "30mg", "--step 10mg"),
    ("diazepam", "20mg", ""),
    ("gabapentin", "1800mg", ""),
    ("oxycodone", "60mg", "--percent 10"),
    ("prednisone", "40mg", "--schedule 40x7,30x7,20x7,10x7,5x7"),
    ("prednisone", "30mg", ""),
    ("sertraline", "100mg", ""),
    ("tizanidine", "24mg", ""),
];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

fn original(case: usize) -> (Arc<Profile>, Plan) {
    let (name, dose, extra) = CASES[case];
    let text = taper::profile::BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap()
        .1;
    let profile = Arc::new(parse_profile(text, "builtin", "built-in").unwrap());
    let mut opts = PlanOptions {
        dose: dose.into(),
        start: Some("2027-01-04".into()),
        ..PlanOptions::default()
    };
    match extra.split_once(' ') {
        Some(("--step", v)) => opts.step = Some(v.into()),
        Some(("--percent", v)) => opts.percent = Some(v.into()),
        Some(("--schedule", v)) => opts.schedule = Some(v.into()),
        _ => {}
    }
    let mut plan = build(&resolve(Arc::clone(&profile), &opts, today()).unwrap()).unwrap();
    revision::record(&mut plan, &opts, None);
    (profile, plan)
}

/// One random change: hold, back, slower, back and slower, or a re-plan
/// (interval, a new strategy, doses a day).
fn change(kind: u8, n: u32) -> Change {
    match kind {
        0 => Change {
            hold_days: Some(1 + n % 30),
            ..Change::default()
        },
        1 => Change {
            back: true,
            ..Change::default()
        },
        2 => Change {
            slower: Some(["1.5", "2", "3"][n as usize % 3].into()),
            ..Change::default()
        },
        3 => Change {
            back: true,
            slower: Some("2".into()),
            ..Change::default()
        },
        4 => Change {
            options: Replan {
                interval: Some(["7", "14", "28"][n as usize % 3].into()),
                ..Replan::default()
            },
            ..Change::default()
        },
        5 => Change {
            strategy: Some("percent".into()),
            options: Replan {
                percent: Some(["5", "10", "25"][n as usize % 3].into()),
                ..Replan::default()
            },
            ..Change::default()
        },
        _ => Change {
            options: Replan {
                doses_per_day: Some(["1", "2"][n as usize % 2].into()),
                ..Replan::default()
            },
            ..Change::default()
        },
    }
}

fn revise(
    profile: &Arc<Profile>,
    old: &Plan,
    at: u32,
    kind: u8,
    n: u32,
) -> Option<(NaiveDate, Plan)> {
    let len = old.days.len() as u64;
    let from = old.request.start + Days::new(u64::from(at) % len);
    let rev = Revision {
        revision: 0,
        from,
        change: change(kind, n),
        reason: Some("test".into()),
    };
    match revision::apply(old, profile, &rev, today()) {
        Ok(p) => Some((from, p)),
        // Refusals are one-line validation errors, never a panic.
        Err(taper::Error::Usage(m) | taper::Error::PlanRefused(m)) => {
            assert!(!m.contains('\n'), "{m}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Days before the date are kept, every rule holds after it, the one
    /// rise is a marked step back, and two revisions chain and rebuild.
    #[test]
    fn revisions_keep_history_and_rules_and_chain(
        case in 0..CASES.len(),
        at in 0u32..2000,
        kind in 0u8..7,
        n in 0u32..100,
        at2 in 0u32..2000,
        kind2 in 0u8..7,
    ) {
        let (profile, plan) = original(case);
        let Some((from, second)) = revise(&profile, &plan, at, kind, n) else {
            return Ok(());
        };
        check_revised(&profile, &plan, &second, from);
        prop_assert_eq!(second.history.revision(), 2);
        // Products and forms change only when the change asks for it.
        if kind != 6 {
            let keys = |p: &Plan| p.products.iter().map(|x| x.key.clone()).collect::<std::collections::BTreeSet<_>>();
            prop_assert!(keys(&second).is_subset(&keys(&plan)), "{:?} vs {:?}", keys(&second), keys(&plan));
        }
        if kind != 6 {
            keeps_doses_a_day_and_form(&profile, &plan, &second, from, kind == 1 || kind == 3);
        }
        let Some((from2, third)) = revise(&profile, &second, at2, kind2, n + 1) else {
            return Ok(());
        };
        check_revised(&profile, &second, &third, from2);
        prop_assert_eq!(third.history.revision(), 3);
        let revs = &third.history.revisions;
        prop_assert_eq!(revs.len(), 2);
        prop_assert_eq!((revs[0].revision, revs[0].from), (2, from));
        prop_assert_eq!((revs[1].revision, revs[1].from), (3, from2));
        // The recorded options and revisions rebuild the same plan.
        let options = third.history.options.clone().unwrap();
        let again = revision::rebuild(&profile, &options, revs, today()).unwrap();
        let key = |p: &Plan| p.days.iter().map(|d| (d.date, d.daily_dose)).collect::<Vec<_>>();
        prop_assert_eq!(key(&again), key(&third));
    }
}

/// Whether a step is given with the liquid (None on a day without doses).
fn on_liquid(plan: &Plan, s: &Step) -> Option<bool> {
    let p = s.administrations.first()?.portions.first()?;
    Some(plan.products[p.product].form == Form::Liquid)
}

/// A revision that does not ask for other doses a day or products keeps
/// the doses a day it starts from down to the lowest dose the old plan
/// gave that many at (or the ending's last doses), and goes on to a
/// liquid no higher than the old plan did.
fn keeps_doses_a_day_and_form(
    profile: &Profile,
    old: &Plan,
    new: &Plan,
    from: NaiveDate,
    back: bool,
) {
    let at = &old.steps[old.days[(from - old.request.start).num_days() as usize].step as usize - 1];
    let start = if back && at.step > 1 {
        &old.steps[at.step as usize - 2]
    } else {
        at
    };
    let k0 = start.administrations.len();
    let down_to = old
        .steps
        .iter()
        .filter(|s| !s.daily_dose.is_zero() && s.administrations.len() >= k0)
        .map(|s| s.daily_dose)
        .min()
        .unwrap();
    let stop_from = profile.ending.as_ref().map(|e| e.stop_from);
    let old_liquid_max = old
        .steps
        .iter()
        .filter(|s| on_liquid(old, s) == Some(true))
        .map(|s| s.daily_dose)
        .max();
    for s in new
        .steps
        .iter()
        .filter(|s| s.start >= from && !s.daily_dose.is_zero())
    {
        let k = s.administrations.len();
        assert!(
            k <= k0,
            "step {}: {k} doses a day, more than the {k0} it started from",
            s.step
        );
        let final_phase = stop_from.is_some_and(|f| s.daily_dose <= f);
        assert!(
            k == k0 || s.daily_dose < down_to || final_phase,
            "step {} ({} mg): {k} doses a day instead of {k0}, above {down_to} mg where the old plan still gave {k0}",
            s.step,
            s.daily_dose
        );
        if on_liquid(new, s) == Some(true) && on_liquid(old, start) == Some(false) {
            assert!(
                old_liquid_max.is_some_and(|m| s.daily_dose <= m),
                "step {} ({} mg): on the liquid above where the old plan was",
                s.step,
                s.daily_dose
            );
        }
    }
}

/// A step back from the middle of step 3 of baclofen 60 mg: back to step
/// 2's dose for one interval, then the same cuts (baclofen's min_step
/// keeps 5 mg), with the rise marked.
#[test]
fn a_step_back_rises_once_to_the_previous_dose() {
    let (profile, plan) = original(0);
    let from = plan.steps[2].start + Days::new(3);
    let rev = Revision {
        revision: 0,
        from,
        change: change(1, 0),
        reason: None,
    };
    let new = revision::apply(&plan, &profile, &rev, today()).unwrap();
    check_revised(&profile, &plan, &new, from);
    let at = new.days.iter().find(|d| d.date == from).unwrap();
    assert_eq!(at.daily_dose, plan.steps[1].daily_dose);
    assert!(at.change.from < at.daily_dose);
}
