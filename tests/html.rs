//! The large-print HTML month pages read back by the `scraper` HTML5
//! parser: week start, labelled tick boxes, handling instructions, the
//! phone-width step table and escaping. Expectations come from the same
//! request's JSON, never from the renderer's code.

use assert_cmd::Command;

mod common;
use chrono::{Datelike, NaiveDate, Weekday};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

fn args(more: &[&str]) -> Vec<String> {
    common::BACLOFEN_PLAN
        .iter()
        .chain(more)
        .map(|s| s.to_string())
        .collect()
}

fn run(args: &[String]) -> Vec<u8> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::run_ok(&args).stdout
}

fn html(args: &[String]) -> String {
    let mut a = args.to_vec();
    a.extend(["--format".into(), "html".into()]);
    String::from_utf8(run(&a)).unwrap()
}

fn plan_json(args: &[String]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json", "--view", "days"].map(String::from));
    serde_json::from_slice(&run(&a)).unwrap()
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Each cell of a week row with the weekday of its column (colspan counted).
fn cells_by_column(row: ElementRef, first: Weekday) -> Vec<(Weekday, ElementRef)> {
    let mut col = 0u32;
    let mut out = Vec::new();
    for td in row
        .children()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "td")
    {
        let span: u32 = td.value().attr("colspan").map_or(1, |c| c.parse().unwrap());
        let mut wd = first;
        for _ in 0..col {
            wd = wd.succ();
        }
        out.push((wd, td));
        col += span;
    }
    assert_eq!(col, 7, "a week row spans seven columns");
    out
}

#[test]
fn week_start_sets_the_first_column_of_every_month() {
    for (flag, first, head) in [
        (None, Weekday::Mon, "Mon"),
        (Some("monday"), Weekday::Mon, "Mon"),
        (Some("sunday"), Weekday::Sun, "Sun"),
    ] {
        let a = match flag {
            Some(f) => args(&["--week-start", f]),
            None => args(&[]),
        };
        let doc = Html::parse_document(&html(&a));
        let months: Vec<ElementRef> = doc.select(&sel("section.month")).collect();
        assert_eq!(months.len(), 3, "December, January, February");
        for m in months {
            let heads: Vec<String> = m
                .select(&sel("thead th"))
                .map(|t| t.text().collect())
                .collect();
            assert_eq!(heads.len(), 7);
            assert_eq!(heads[0], head, "{flag:?}");
            let mut dated = 0;
            for row in m.select(&sel("tr.week")) {
                for (wd, td) in cells_by_column(row, first) {
                    if let Some(d) = td.value().attr("data-date") {
                        let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
                        assert_eq!(date.weekday(), wd, "{d} under {wd} ({flag:?})");
                        dated += 1;
                    }
                }
            }
            assert!(dated >= 28);
        }
    }
}

#[test]
fn a_bad_week_start_is_a_usage_error_naming_the_choices() {
    let out = Command::cargo_bin("taper")
        .unwrap()
        .args(args(&["--week-start", "friday", "--format", "html"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("friday") && err.contains("monday") && err.contains("sunday"));
    assert!(out.stdout.is_empty());
}

/// The labels next to a day cell's tick boxes, in order.
fn tick_labels(td: ElementRef) -> Vec<String> {
    td.select(&sel(".tick-label"))
        .map(|l| {
            assert_eq!(l.select(&sel(".tick")).count(), 1, "one box per label");
            l.select(&sel("b.when")).flat_map(|b| b.text()).collect()
        })
        .collect()
}

/// Day cells with the plan's doses given that day, from the JSON.
fn check_ticks(a: &[String], label: impl Fn(&Value) -> String) {
    let plan = plan_json(a);
    let doc = Html::parse_document(&html(a));
    let mut seen = 0;
    for td in doc.select(&sel("td.in-plan")) {
        let date = td.value().attr("data-date").unwrap();
        let day = plan["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] == date)
            .unwrap();
        let step = &plan["steps"][day["step"].as_u64().unwrap() as usize - 1];
        let want: Vec<String> = step["administrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(&label)
            .collect();
        assert_eq!(tick_labels(td), want, "{date}");
        seen += want.len();
    }
    assert!(seen > 100);
}

#[test]
fn tick_boxes_are_labelled_with_their_slot_names() {
    check_ticks(&args(&[]), |a| a["slot"].as_str().unwrap().to_string());
}

#[test]
fn tick_boxes_are_labelled_with_their_times_from_times() {
    let times = ["07:30", "13:00", "21:15"];
    check_ticks(&args(&["--times", "07:30,13:00,21:15"]), |a| {
        times[a["slot_index"].as_u64().unwrap() as usize].to_string()
    });
}

#[test]
fn handling_instructions_are_in_every_week_with_a_dose() {
    let a = args(&[]);
    let plan = plan_json(&a);
    let text = plan["products"][0]["instructions"].as_str().unwrap();
    assert_eq!(text, "Split only on the score line.");
    let doc = Html::parse_document(&html(&a));
    let mut weeks = 0;
    for row in doc.select(&sel("section.month tr.week")) {
        let dosing = row
            .select(&sel("td.in-plan"))
            .any(|td| !td.text().collect::<String>().contains("stop"));
        let mut band: String = row.select(&sel("td.how")).flat_map(|e| e.text()).collect();
        if let Some(next) = row.next_siblings().find_map(ElementRef::wrap) {
            if next.value().classes().any(|c| c == "how") {
                band.extend(next.text());
            }
        }
        assert_eq!(band.matches(text).count(), usize::from(dosing), "{band}");
        weeks += usize::from(dosing);
    }
    assert!(weeks >= 11, "78 days span at least 11 weeks");
}

#[test]
fn step_table_cells_carry_their_column_labels_for_phone_width() {
    let doc = Html::parse_document(&html(&args(&[])));
    let table = doc.select(&sel("table.steps")).next().unwrap();
    let heads: Vec<String> = table
        .select(&sel("thead th"))
        .map(|t| t.text().collect())
        .collect();
    assert!(heads.contains(&"What to take".to_string()));
    for row in table.select(&sel("tbody tr")) {
        let labels: Vec<&str> = row
            .select(&sel("td"))
            .map(|td| td.value().attr("data-label").unwrap())
            .collect();
        assert_eq!(labels, heads);
    }
    let css: String = doc.select(&sel("style")).flat_map(|e| e.text()).collect();
    assert!(css.contains("content: attr(data-label)"), "stacked rows");
}

#[test]
fn a_hostile_patient_name_stays_text_everywhere() {
    let name = r#"<script>alert("x")</script> O'Brien & "Jr." <b>bold</b>"#;
    let source = html(&args(&["--patient", name]));
    assert!(!source.contains("<script>") && !source.contains("<b>bold"));
    let doc = Html::parse_document(&source);
    assert_eq!(doc.select(&sel("script")).count(), 0);
    assert_eq!(
        doc.select(&sel("body b"))
            .filter(|b| b.text().any(|t| t == "bold"))
            .count(),
        0
    );
    let title: String = doc
        .select(&sel("head > title"))
        .flat_map(|e| e.text())
        .collect();
    assert!(title.ends_with(name), "{title}");
    let months: Vec<ElementRef> = doc.select(&sel(".month-head p")).collect();
    assert_eq!(months.len(), 3);
    for p in months {
        let t: String = p.text().collect();
        assert!(t.contains(&format!("For: {name}")), "{t}");
    }
}

#[test]
fn every_month_has_one_legend_with_the_disclaimer_and_red_flags() {
    // January 2027 from Sunday is a six-week month: its legend moves into
    // the empty cells of a week; December's stays under the grid.
    let a = args(&["--week-start", "sunday"]);
    let plan = plan_json(&a);
    let doc = Html::parse_document(&html(&a));
    let disclaimer = plan["disclaimer"].as_str().unwrap();
    let mut in_cells = 0;
    for m in doc.select(&sel("section.month")) {
        let legends: Vec<ElementRef> = m.select(&sel(".legend")).collect();
        assert_eq!(legends.len(), 1);
        let t: String = legends[0].text().collect();
        assert!(t.contains(disclaimer), "{t}");
        for flag in plan["reminders"]["red_flags"].as_array().unwrap() {
            assert!(t.contains(flag.as_str().unwrap()), "{flag}");
        }
        in_cells += m.select(&sel("td.pad .legend")).count();
    }
    assert!(
        in_cells >= 1,
        "a six-week month keeps its legend in a week's empty cells"
    );
}

/// Text of an element, whitespace as the page shows it.
fn text_of(e: ElementRef) -> String {
    e.text().collect::<String>().trim().to_string()
}

#[test]
fn supply_plans_list_every_fill_with_its_wording_and_quantities() {
    let diazepam = [
        "plan",
        "diazepam",
        "--dose",
        "20mg",
        "--start",
        "2026-12-01",
    ];
    let switch = [
        "plan",
        "lorazepam",
        "--dose",
        "3mg",
        "--start",
        "2026-12-01",
        "--switch-to",
        "diazepam",
    ];
    for base in [&diazepam[..], &switch[..]] {
        let a: Vec<String> = base
            .iter()
            .chain(&["--supply", "28"])
            .map(|s| s.to_string())
            .collect();
        let plan = plan_json(&a);
        let fills = plan["fills"].as_array().unwrap();
        let texts = plan["fill_text"].as_array().unwrap();
        assert!(fills.len() >= 13, "{base:?}: {} fills", fills.len());
        let doc = Html::parse_document(&html(&a));
        let pages: Vec<ElementRef> = doc.select(&sel("section.fills-page")).collect();
        let per_page = taper::render::html::FILLS_PER_PAGE;
        assert_eq!(pages.len(), fills.len().div_ceil(per_page), "{base:?}");
        // Before the months, after the prescriber's page.
        let sections: Vec<ElementRef> = doc.select(&sel("main > section")).collect();
        let first = sections
            .iter()
            .position(|s| s.value().classes().any(|c| c == "fills-page"))
            .unwrap();
        assert!(sections[first - 1]
            .value()
            .classes()
            .any(|c| c == "prescriber"));
        assert!(sections[first + pages.len()]
            .value()
            .classes()
            .any(|c| c == "month"));
        let rows: Vec<ElementRef> = doc.select(&sel("table.fills > tbody > tr")).collect();
        assert_eq!(rows.len(), fills.len(), "{base:?}: one row per fill");
        for ((row, fill), text) in rows.iter().zip(fills).zip(texts) {
            let n = fill["fill"].as_u64().unwrap();
            let cell = |label: &str| {
                row.select(&sel(&format!(r#"td[data-label="{label}"]"#)))
                    .next()
                    .unwrap()
            };
            assert_eq!(text_of(cell("Fill")), format!("{n} of {}", fills.len()));
            let dates = text_of(cell("Dates"));
            for key in ["start", "end"] {
                assert!(dates.contains(fill[key].as_str().unwrap()), "{dates}");
            }
            assert!(dates.contains(&format!("{} days", fill["days"])), "{dates}");
            let wording: Vec<String> = cell("Prescription")
                .select(&sel("p"))
                .map(text_of)
                .collect();
            let want: Vec<&str> = text["prescriptions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["text"].as_str().unwrap())
                .collect();
            assert_eq!(wording, want, "fill {n}");
            let lines: Vec<(String, String)> = cell("Dispense")
                .select(&sel("table.dispense tr"))
                .map(|tr| {
                    let td = |c: &str| text_of(tr.select(&sel(c)).next().unwrap());
                    (td("td.product"), td("td.quantity"))
                })
                .collect();
            let want: Vec<(String, String)> = fill["lines"]
                .as_array()
                .unwrap()
                .iter()
                .zip(text["quantities"].as_array().unwrap())
                .map(|(l, q)| {
                    let name = l["name"].as_str().unwrap().to_string();
                    (name, q.as_str().unwrap().to_string())
                })
                .collect();
            assert_eq!(lines, want, "fill {n}");
            assert!(!want.is_empty());
        }
        // The switch's first fill gives both drugs.
        if base == &switch[..] {
            assert_eq!(texts[0]["prescriptions"].as_array().unwrap().len(), 2);
        }
        let overview = text_of(doc.select(&sel("section.overview")).next().unwrap());
        assert!(
            overview.contains(&format!("Prescribed in {} fills of 28 days", fills.len())),
            "{overview}"
        );
        for p in &pages {
            let t = text_of(*p);
            assert!(t.ends_with(plan["disclaimer"].as_str().unwrap()), "{t}");
        }
    }
}

#[test]
fn without_supply_there_are_no_fills_pages() {
    for a in [
        args(&[]),
        [
            "plan",
            "diazepam",
            "--dose",
            "20mg",
            "--start",
            "2026-12-01",
        ]
        .map(String::from)
        .to_vec(),
    ] {
        let source = html(&a);
        let doc = Html::parse_document(&source);
        assert_eq!(doc.select(&sel(".fills-page, table.fills")).count(), 0);
        assert_eq!(doc.select(&sel("head > style")).count(), 1);
        assert!(!source.contains("Prescriptions to fill") && !source.contains("Prescribed in"));
    }
}
