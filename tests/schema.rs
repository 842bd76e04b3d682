//! `docs/plan.schema.json` against taper's real JSON: every document
//! validates, the schema rejects documents that break it (so validation
//! cannot pass vacuously), and a quantity read from the JSON alone gives
//! the right dose.

mod common;

use serde_json::{json, Value};

fn plan(args: &[&str]) -> Value {
    let args = [
        &["plan"],
        args,
        &["--start", "2026-12-01", "--format", "json"],
    ]
    .concat();
    let out = common::run_ok(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    common::assert_valid_plan_json(&v);
    v
}

/// Exact decimal text → micro-units, parsed here from the text alone.
fn micro(text: &str) -> u128 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    assert!(frac.len() <= 6, "{text}");
    let frac = format!("{frac:0<6}");
    whole.parse::<u128>().unwrap() * 1_000_000 + frac.parse::<u128>().unwrap()
}

#[test]
fn the_schema_is_a_draft_2020_12_schema() {
    let schema: Value = serde_json::from_str(common::PLAN_SCHEMA).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(jsonschema::draft202012::meta::is_valid(&schema));
    assert_eq!(schema["properties"]["schema_version"]["const"], "1");
}

#[test]
fn every_view_and_profile_validates_and_quantities_add_up_to_the_dose() {
    let cases: &[&[&str]] = &[
        &["baclofen", "--dose", "60mg"],
        &[
            "baclofen",
            "--dose",
            "60mg",
            "--view",
            "steps",
            "--patient",
            "Smith, John",
        ],
        &["baclofen", "--dose", "12mg", "--strengths", "1mg/mL"],
        &["sertraline", "--dose", "100mg", "--strategy", "hyperbolic"],
        &["oxycodone", "--dose", "60mg"],
        &["diazepam", "--dose", "20mg"],
        &["gabapentin", "--dose", "1800mg"],
        &["tizanidine", "--dose", "24mg"],
        &[
            "prednisone",
            "--dose",
            "40mg",
            "--strategy",
            "custom",
            "--schedule",
            "40x7,30x7,20x7,10x7,5x7",
        ],
    ];
    let mut saw = std::collections::BTreeSet::new();
    for args in cases {
        let v = plan(args);
        assert_eq!(v["schema_version"], "1");
        let products = v["products"].as_array().unwrap();
        for step in v["steps"].as_array().unwrap() {
            for a in step["administrations"].as_array().unwrap() {
                let mut total = 0u128;
                for p in a["portions"].as_array().unwrap() {
                    let prod = &products[p["product"].as_u64().unwrap() as usize];
                    let q = &p["quantity"];
                    match q["kind"].as_str().unwrap() {
                        "units" => {
                            let units = micro(q["units"].as_str().unwrap());
                            let whole = q["whole"].as_u64().unwrap() as u128;
                            let part = q["part_pieces"].as_u64().unwrap() as u128;
                            let of = q["part_of"].as_u64().unwrap() as u128;
                            assert!(part < of, "{q}");
                            assert_eq!(units * of, (whole * of + part) * 1_000_000, "{q}");
                            saw.insert(q["units"].as_str().unwrap().to_string());
                            total += micro(prod["strength"].as_str().unwrap()) * units / 1_000_000;
                        }
                        "volume" => {
                            let ml = micro(q["ml"].as_str().unwrap());
                            total +=
                                micro(prod["concentration"].as_str().unwrap()) * ml / 1_000_000;
                        }
                        k => panic!("unknown kind {k}"),
                    }
                }
                assert_eq!(total, micro(a["amount"].as_str().unwrap()), "{args:?}: {a}");
            }
        }
    }
    // Whole, half and one-and-a-half tablets all occurred.
    for u in ["1", "0.5", "1.5"] {
        assert!(saw.contains(u), "no {u} in {saw:?}");
    }
}

/// A valid document with one change must fail validation.
fn rejected(base: &Value, what: &str, change: impl Fn(&mut Value)) {
    let mut doc = base.clone();
    change(&mut doc);
    assert!(
        !common::plan_schema_errors(&doc).is_empty(),
        "the schema accepted a document with {what}"
    );
}

#[test]
fn the_schema_rejects_documents_that_break_it() {
    let days = plan(&["baclofen", "--dose", "60mg"]);
    let steps = plan(&["baclofen", "--dose", "60mg", "--view", "steps"]);
    assert!(common::plan_schema_errors(&days).is_empty());
    let q = "/steps/0/administrations/0/portions/0/quantity";
    assert_eq!(days.pointer(q).unwrap()["kind"], "units");
    rejected(&days, "no schema_version", |d| {
        d.as_object_mut().unwrap().remove("schema_version");
    });
    rejected(&days, "schema_version 2", |d| {
        d["schema_version"] = json!("2")
    });
    rejected(&days, "no plan_id", |d| {
        d.as_object_mut().unwrap().remove("plan_id");
    });
    rejected(&days, "a plan id with a slash", |d| {
        d["plan_id"] = json!("a/b")
    });
    rejected(&days, "units as a number", |d| {
        d.pointer_mut(q).unwrap()["units"] = json!(1.5)
    });
    rejected(&days, "units with a trailing zero", |d| {
        d.pointer_mut(q).unwrap()["units"] = json!("2.0")
    });
    rejected(&days, "the old pieces/split_into shape", |d| {
        *d.pointer_mut(q).unwrap() = json!({"kind": "units", "pieces": 2, "split_into": 2})
    });
    rejected(&days, "a part of 0", |d| {
        d.pointer_mut(q).unwrap()["part_of"] = json!(0)
    });
    rejected(&days, "an unknown field", |d| d["extra"] = json!(1));
    rejected(&days, "a dose as a number", |d| {
        d["steps"][0]["daily_dose"] = json!(55)
    });
    rejected(&days, "a month 13 date", |d| {
        d["days"][0]["date"] = json!("2026-13-01")
    });
    rejected(&days, "a patient with a newline", |d| {
        d["patient"] = json!("a\nb")
    });
    rejected(&days, "an unknown warning kind", |d| {
        d["warnings"] = json!([{"kind": "nope", "step": null, "detail": {}}])
    });
    rejected(&steps, "day rows in the steps view", |d| {
        d["days"] = days["days"].clone()
    });
    rejected(&days, "a batch id on a steps view", |d| {
        d["id"] = json!("r1");
        d["view"] = json!("steps");
        d["days"] = json!([]);
        d["notes"] = json!([]);
    });
}

mod agreement {
    //! The schema's rules for `patient` and `plan_id` are the binary's: any
    //! value the checks accept validates, and any plan id they refuse is
    //! refused by the schema too.

    use super::common;
    use proptest::prelude::*;
    use taper::identity::{check_patient, check_plan_id};
    use taper::render::{json, Extras, View};

    fn doc(extras: &Extras) -> serde_json::Value {
        use std::sync::OnceLock;
        static PLAN: OnceLock<taper::Plan> = OnceLock::new();
        let plan = PLAN.get_or_init(|| {
            let profile =
                taper::profile::load("baclofen", &taper::profile::ProfileDirs::default()).unwrap();
            let opts = taper::request::PlanOptions {
                dose: "60mg".into(),
                start: Some("2026-12-01".into()),
                ..Default::default()
            };
            let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            taper::schedule::build(&taper::request::resolve(profile, &opts, today).unwrap())
                .unwrap()
        });
        let mut out = Vec::new();
        json::write(plan, View::Steps, extras, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn accepted_patients_and_plan_ids_validate(
            patient in "\\PC{1,120}|[\\x00-\\x20a-z]{0,5}",
            id in "[A-Za-z0-9._-]{1,70}|\\PC{0,8}",
        ) {
            let extras = Extras {
                patient: Some(patient.clone()),
                plan_id: Some(id.clone()),
                ..Extras::default()
            };
            let errors = common::plan_schema_errors(&doc(&extras));
            let patient_ok = check_patient("--patient", &patient).is_ok();
            let id_ok = check_plan_id("--plan-id", &id).is_ok();
            if patient_ok && id_ok {
                prop_assert!(errors.is_empty(), "{patient:?} {id:?}: {errors:?}");
            }
            if !id_ok {
                prop_assert!(!errors.is_empty(), "the schema accepted plan id {id:?}");
            }
        }
    }
}
