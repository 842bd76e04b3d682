//! The paper symptom diary of the HTML calendar, read back by the
//! `scraper` HTML5 parser: a 0–3 score in every plan day's cell (and only
//! there), and the overview's explanation with the profile's own
//! `if_symptoms` advice. Expectations come from the same request's JSON.

use scraper::{Html, Selector};
use serde_json::Value;

mod common;
use common::run_ok;

const REQUESTS: &[&[&str]] = &[
    &[
        "plan",
        "baclofen",
        "--dose",
        "60mg",
        "--start",
        "2026-12-01",
    ],
    &[
        "plan",
        "prednisone",
        "--dose",
        "40mg",
        "--start",
        "2026-12-01",
        "--strategy",
        "custom",
        "--schedule",
        "40x7,30x7,20x7,10x7,5x7",
    ],
    &[
        "plan",
        "sertraline",
        "--dose",
        "100mg",
        "--start",
        "2027-02-01",
        "--week-start",
        "sunday",
    ],
];

fn output(req: &[&str], format: &[&str]) -> Vec<u8> {
    let mut a = req.to_vec();
    a.extend(format);
    run_ok(&a).stdout
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

#[test]
fn every_plan_day_cell_has_a_zero_to_three_score_and_no_other_cell_has_one() {
    for req in REQUESTS {
        let html = String::from_utf8(output(req, &["--format", "html"])).unwrap();
        let plan: Value =
            serde_json::from_slice(&output(req, &["--format", "json", "--view", "days"])).unwrap();
        let days: Vec<&str> = plan["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["date"].as_str().unwrap())
            .collect();
        let doc = Html::parse_document(&html);
        let cells: Vec<_> = doc.select(&sel("td.in-plan")).collect();
        let dates: Vec<&str> = cells
            .iter()
            .map(|c| c.value().attr("data-date").unwrap())
            .collect();
        assert_eq!(dates, days, "{req:?}: one plan cell per plan day");
        for c in &cells {
            let diaries: Vec<_> = c.select(&sel(".diary")).collect();
            assert_eq!(diaries.len(), 1, "{req:?}: {}", c.html());
            let scores: Vec<String> = diaries[0]
                .select(&sel(".score"))
                .map(|s| s.text().collect())
                .collect();
            assert_eq!(scores, ["0", "1", "2", "3"]);
            let label: String = diaries[0].text().collect();
            assert!(label.starts_with("Symptoms"), "{label}");
        }
        let outside = sel("td.out .diary, td.pad .diary:not(.sample)");
        assert_eq!(
            doc.select(&outside).count(),
            0,
            "{req:?}: a diary outside the plan"
        );
        // Each month's legend explains the circles once.
        for month in doc.select(&sel("section.month")) {
            let legend: String = month
                .select(&sel(".legend"))
                .flat_map(|l| l.text())
                .collect();
            assert!(
                legend.contains("0123 symptoms that day: 0 none to 3 severe"),
                "{legend}"
            );
        }
    }
}

#[test]
fn the_overview_explains_the_diary_with_the_profiles_if_symptoms_advice() {
    let mut seen = Vec::new();
    for req in REQUESTS {
        let html = String::from_utf8(output(req, &["--format", "html"])).unwrap();
        let plan: Value = serde_json::from_slice(&output(req, &["--format", "json"])).unwrap();
        let advice = plan["reminders"]["if_symptoms"].as_str().unwrap();
        assert!(!advice.is_empty());
        let doc = Html::parse_document(&html);
        let help: Vec<String> = doc
            .select(&sel("section.overview .diary-help"))
            .map(|h| h.text().collect())
            .collect();
        assert_eq!(help.len(), 1, "{req:?}");
        let help = &help[0];
        assert!(
            help.contains("0 none, 1 mild, 2 moderate, 3 severe"),
            "{help}"
        );
        assert!(
            help.contains(&format!("When scores stay at 2 or 3: {advice}")),
            "{help}"
        );
        assert!(
            help.contains("Bring the pages to your prescriber"),
            "{help}"
        );
        seen.push(advice.to_string());
    }
    seen.dedup();
    assert_eq!(seen.len(), REQUESTS.len(), "each profile's own advice");
}
