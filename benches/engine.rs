//! The engine alone: resolve + build one patient's plan for each strategy,
//! and render it as batch CSV rows. Run with `cargo bench --bench engine`.

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use taper::profile::{load, ProfileDirs};
use taper::request::{resolve, PlanOptions};
use taper::schedule::build;

fn options(dose: &str, f: impl FnOnce(&mut PlanOptions)) -> PlanOptions {
    let mut o = PlanOptions {
        dose: dose.into(),
        start: Some("2026-12-01".into()),
        ..PlanOptions::default()
    };
    f(&mut o);
    o
}

fn engine(c: &mut Criterion) {
    let dirs = ProfileDirs::default();
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let cases = [
        ("linear/baclofen-60mg", "baclofen", options("60mg", |_| {})),
        (
            "percent/oxycodone-60mg",
            "oxycodone",
            options("60mg", |o| o.percent = Some("10".into())),
        ),
        (
            "hyperbolic/sertraline-100mg",
            "sertraline",
            options("100mg", |o| o.occupancy_step = Some("5".into())),
        ),
        (
            "custom/prednisone-40mg",
            "prednisone",
            options("40mg", |o| {
                o.schedule = Some("40x7,30x7,20x7,10x7,5x7".into())
            }),
        ),
    ];
    let mut group = c.benchmark_group("plan");
    for (name, profile, opts) in &cases {
        let profile = load(profile, &dirs).unwrap();
        group.bench_function(*name, |b| {
            b.iter(|| {
                let req = resolve(profile.clone(), black_box(opts), today).unwrap();
                black_box(build(&req).unwrap())
            })
        });
    }
    group.finish();

    let profile = load("baclofen", &dirs).unwrap();
    let plan = build(&resolve(profile, &cases[0].2, today).unwrap()).unwrap();
    c.bench_function("render/csv-days-baclofen-60mg", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(32 * 1024);
            taper::render::csv::write_day_rows(black_box(&plan), &["p1"], &mut buf);
            buf
        })
    });

    // Issue 12: a plan with fills of 28 days, then its FHIR Bundle.
    let diazepam = load("diazepam", &dirs).unwrap();
    let supply = options("20mg", |o| o.supply = Some("28".into()));
    c.bench_function("plan+fills/diazepam-20mg-supply-28", |b| {
        b.iter(|| {
            let req = resolve(diazepam.clone(), black_box(&supply), today).unwrap();
            black_box(build(&req).unwrap())
        })
    });
    let plan = build(&resolve(diazepam, &supply, today).unwrap()).unwrap();
    let extras = taper::render::Extras::default();
    c.bench_function("render/fhir-diazepam-20mg-supply-28", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(256 * 1024);
            taper::render::fhir::write(black_box(&plan), &extras, &mut buf).unwrap();
            buf
        })
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
