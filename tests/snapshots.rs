//! Reviewed snapshots of every renderer for fixed requests. A change to
//! what people read shows up here as a diff to review, not by accident.

mod common;

use chrono::NaiveDate;
use taper::profile::{load, ProfileDirs};
use taper::render::{render, Format, View};
use taper::request::{resolve, PlanOptions};
use taper::schedule::build;

fn rendered(profile: &str, opts: PlanOptions, format: Format, view: View) -> String {
    let profile = load(profile, &ProfileDirs::default()).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let req = resolve(profile, &opts, today).unwrap();
    let plan = build(&req).unwrap();
    let mut out = Vec::new();
    render(&plan, format, view, false, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn opts(dose: &str) -> PlanOptions {
    PlanOptions {
        dose: dose.into(),
        start: Some("2026-12-01".into()),
        ..PlanOptions::default()
    }
}

#[test]
fn baclofen_default_table() {
    insta::assert_snapshot!(rendered(
        "baclofen",
        opts("60mg"),
        Format::Table,
        View::Steps
    ));
}

#[test]
fn baclofen_default_csv_days() {
    insta::assert_snapshot!(rendered("baclofen", opts("60mg"), Format::Csv, View::Days));
}

#[test]
fn baclofen_10mg_tablets_csv_steps() {
    let o = PlanOptions {
        strengths: Some("10mg".into()),
        ..opts("30mg")
    };
    insta::assert_snapshot!(rendered("baclofen", o, Format::Csv, View::Steps));
}

#[test]
fn baclofen_too_fast_json() {
    let o = PlanOptions {
        step: Some("20mg".into()),
        interval: Some("2".into()),
        ..opts("60mg")
    };
    let text = rendered("baclofen", o, Format::Json, View::Steps);
    common::assert_valid_plan_json(&serde_json::from_str(&text).unwrap());
    insta::assert_snapshot!(text);
}

#[test]
fn sertraline_hyperbolic_table_days() {
    let o = PlanOptions {
        occupancy_step: Some("10".into()),
        interval: Some("2w".into()),
        ..opts("50mg")
    };
    insta::assert_snapshot!(rendered("sertraline", o, Format::Table, View::Steps));
}

#[test]
fn prednisone_custom_csv_days() {
    let o = PlanOptions {
        schedule: Some("40x7,30x7,20x7,10x7,5x7".into()),
        ..opts("40mg")
    };
    insta::assert_snapshot!(rendered("prednisone", o, Format::Csv, View::Days));
}

#[test]
fn tizanidine_maintenance_target_table() {
    let o = PlanOptions {
        target: Some("6mg".into()),
        ..opts("24mg")
    };
    insta::assert_snapshot!(rendered("tizanidine", o, Format::Table, View::Days));
}

/// The default plan of each built-in profile at its typical dose, as a
/// prescriber first sees it.
fn default_plan(profile: &str, dose: &str) -> String {
    let o = PlanOptions {
        dose: dose.into(),
        start: Some("2027-01-04".into()),
        ..PlanOptions::default()
    };
    rendered(profile, o, Format::Table, View::Steps)
}

#[test]
fn default_plan_baclofen_60mg() {
    insta::assert_snapshot!(default_plan("baclofen", "60mg"));
}

#[test]
fn default_plan_tizanidine_24mg() {
    insta::assert_snapshot!(default_plan("tizanidine", "24mg"));
}

#[test]
fn default_plan_diazepam_20mg() {
    insta::assert_snapshot!(default_plan("diazepam", "20mg"));
}

#[test]
fn default_plan_prednisone_40mg() {
    insta::assert_snapshot!(default_plan("prednisone", "40mg"));
}

#[test]
fn default_plan_sertraline_100mg() {
    insta::assert_snapshot!(default_plan("sertraline", "100mg"));
}

#[test]
fn default_plan_oxycodone_60mg() {
    insta::assert_snapshot!(default_plan("oxycodone", "60mg"));
}

#[test]
fn default_plan_gabapentin_1800mg() {
    insta::assert_snapshot!(default_plan("gabapentin", "1800mg"));
}

/// The profiles added for issue 11, each at its typical dose in its
/// default market (named snapshots, one file per drug).
const TYPICAL: [(&str, &str); 19] = [
    ("alprazolam", "2mg"),
    ("chlordiazepoxide", "30mg"),
    ("citalopram", "20mg"),
    ("clonazepam", "2mg"),
    ("escitalopram", "10mg"),
    ("fluoxetine", "20mg"),
    ("hydromorphone", "16mg"),
    ("lorazepam", "3mg"),
    ("methylprednisolone", "32mg"),
    ("morphine", "60mg"),
    ("oxazepam", "45mg"),
    ("paroxetine", "20mg"),
    ("prednisolone", "40mg"),
    ("pregabalin", "300mg"),
    ("temazepam", "20mg"),
    ("tramadol", "200mg"),
    ("venlafaxine", "150mg"),
    ("zolpidem", "10mg"),
    ("zopiclone", "7.5mg"),
];

#[test]
fn default_plans_of_the_issue_11_profiles() {
    for (profile, dose) in TYPICAL {
        let name = format!("default_plan_{profile}_{dose}");
        insta::assert_snapshot!(name, default_plan(profile, dose));
    }
}

/// A switch plan (issue 11): both drugs on the switch days, then the
/// diazepam taper.
fn switch_plan(profile: &str, dose: &str, market: &str, format: Format, view: View) -> String {
    let from = load(profile, &ProfileDirs::default()).unwrap();
    let to = load("diazepam", &ProfileDirs::default()).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let o = PlanOptions {
        dose: dose.into(),
        start: Some("2027-01-04".into()),
        market: Some(market.into()),
        switch_to: Some("diazepam".into()),
        ..PlanOptions::default()
    };
    let plan = taper::switch::build(from.into(), to.into(), &o, today).unwrap();
    let mut out = Vec::new();
    render(&plan, format, view, false, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn switch_plans_of_the_switchable_profiles() {
    for (profile, dose, market) in [
        ("lorazepam", "3mg", "us"),
        ("alprazolam", "1.5mg", "us"),
        ("clonazepam", "2mg", "uk"),
        ("oxazepam", "45mg", "uk"),
        ("temazepam", "20mg", "uk"),
        ("zolpidem", "10mg", "us"),
        ("zopiclone", "7.5mg", "uk"),
    ] {
        let name = format!("switch_{profile}_{dose}_{market}");
        insta::assert_snapshot!(
            name,
            switch_plan(profile, dose, market, Format::Table, View::Steps)
        );
    }
}

#[test]
fn switch_lorazepam_csv_days() {
    insta::assert_snapshot!(switch_plan(
        "lorazepam",
        "3mg",
        "us",
        Format::Csv,
        View::Days
    ));
}
