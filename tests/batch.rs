//! `taper batch` driven as a user would: real binary, real files, outputs
//! parsed back with the csv and serde_json crates.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use proptest::prelude::*;

/// The binary, kept apart from the developer's profile folders.
fn taper() -> Command {
    Command::from_std(common::taper())
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn records(bytes: &[u8]) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().clone();
    let rows = r.records().collect::<Result<Vec<_>, _>>().unwrap();
    (header, rows)
}

const MIXED: &str = "id,profile,dose,start\n\
p1,baclofen,60mg,2026-12-01\n\
p2,nosuch,60mg,2026-12-01\n\
p3,tizanidine,24mg,2026-12-01\n\
p4,baclofen,abc,2026-12-01\n\
p5,baclofen,30mg,2026-12-01\n";

#[test]
fn mixed_rows_skip_the_bad_ones_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "req.csv", MIXED);
    let out = taper()
        .arg("batch")
        .arg(&input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line 3 (id p2): unknown profile 'nosuch'"),
        "{stderr}"
    );
    assert!(stderr.contains("line 5 (id p4): dose 'abc'"), "{stderr}");
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("planned 3 row(s), skipped 2"),
        "{stderr}"
    );
    let (header, rows) = records(&out.stdout);
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        [
            "id",
            "date",
            "day",
            "step",
            "daily_dose",
            "unit",
            "change",
            "doses",
            "products",
            "note",
            "revision",
            "mme",
            "drugs"
        ]
    );
    // Good rows are complete: each patient ends on its stop day at 0.
    let ids: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    for id in ["p1", "p3", "p5"] {
        let last = rows.iter().rfind(|r| &r[0] == id).unwrap();
        assert_eq!(&last[4], "0", "{id} does not end at 0");
    }
    assert!(!ids.contains(&"p2") && !ids.contains(&"p4"));
}

#[test]
fn strict_stops_at_the_first_bad_row_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "req.csv", MIXED);
    let target = dir.path().join("plans.csv");
    taper()
        .args(["batch", "--strict", "-o"])
        .arg(&target)
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("error: line 3 (id p2)"));
    assert!(!target.exists());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp files left behind"
    );
    // To stdout: nothing at all.
    taper()
        .args(["batch", "--strict"])
        .arg(&input)
        .assert()
        .code(2)
        .stdout("");
}

#[test]
fn all_good_rows_exit_0_and_output_files_are_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "req.csv", "id,profile,dose\na,baclofen,60mg\n");
    let target = dir.path().join("out.csv");
    taper()
        .args(["batch", "--start", "2026-12-01", "-o"])
        .arg(&target)
        .arg(&input)
        .assert()
        .code(0);
    let first = fs::read(&target).unwrap();
    taper()
        .args(["batch", "--start", "2026-12-01", "-o"])
        .arg(&target)
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("already exists"));
    assert_eq!(fs::read(&target).unwrap(), first, "existing file clobbered");
    taper()
        .args(["batch", "--force", "--start", "2026-12-01", "-o"])
        .arg(&target)
        .arg(&input)
        .assert()
        .code(0);
}

#[test]
fn stdin_bom_crlf_quotes_and_column_order() {
    let input = "\u{feff}dose,\"profile\",start,id\r\n60mg,baclofen,2026-12-01,\"a, \"\"quoted\"\" id\"\r\n";
    let out = taper()
        .args(["batch", "-", "--view", "summary"])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let (_, rows) = records(&out.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "a, \"quoted\" id");
    assert_eq!(&rows[0][1], "baclofen");
    assert_eq!(&rows[0][6], "2026-12-01");
}

#[test]
fn unknown_and_missing_columns_are_usage_errors() {
    taper()
        .args(["batch", "-"])
        .write_stdin("id,profile,dose,colour\na,baclofen,60mg,red\n")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains("unknown column 'colour'"));
    taper()
        .args(["batch", "-"])
        .write_stdin("id,dose\na,60mg\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no 'profile' column"));
}

#[test]
fn malformed_csv_is_reported_with_its_line() {
    let input = "id,profile,dose\na,baclofen,60mg\nb,baclofen\nc,baclofen,30mg\n";
    taper()
        .args(["batch", "-", "--start", "2026-12-01", "--view", "summary"])
        .write_stdin(input)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("line 3 (id ?): malformed CSV"));
}

#[test]
fn flags_are_defaults_and_cells_override_them() {
    let input = "id,profile,dose,interval\na,baclofen,60mg,\nb,baclofen,60mg,14\n";
    let out = taper()
        .args([
            "batch",
            "-",
            "--view",
            "summary",
            "--interval",
            "3",
            "--start",
            "2026-12-01",
        ])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let (_, rows) = records(&out.stdout);
    // 10 steps held 3 days, the last dose held the profile's 7-day final
    // hold, then the stop day; vs 11 × 14 + 1 (the final hold is shorter
    // than 14 days).
    assert_eq!(&rows[0][8], "38");
    assert_eq!(&rows[1][8], "155");
}

#[test]
fn formula_injection_is_guarded_and_numbers_stay_numbers() {
    let input = "id,profile,dose\n=HYPERLINK(\"x\"),baclofen,60mg\n-2,baclofen,60mg\n";
    let out = taper()
        .args(["batch", "-", "--start", "2026-12-01"])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let (_, rows) = records(&out.stdout);
    assert!(rows.iter().any(|r| &r[0] == "'=HYPERLINK(\"x\")"));
    assert!(rows.iter().any(|r| &r[0] == "'-2"));
    // Numeric columns are untouched: change is a plain signed number.
    assert!(rows.iter().all(|r| r[6].parse::<f64>().is_ok()));
}

#[test]
fn output_keeps_input_order_under_parallelism() {
    let profiles = [
        "baclofen",
        "sertraline",
        "tizanidine",
        "gabapentin",
        "oxycodone",
        "diazepam",
        "prednisone",
    ];
    let doses = ["60mg", "100mg", "24mg", "1800mg", "60mg", "20mg", "40mg"];
    let mut input = String::from("id,profile,dose,start\n");
    for i in 0..700 {
        input.push_str(&format!(
            "id{i:04},{},{},2026-12-01\n",
            profiles[i % 7],
            doses[i % 7]
        ));
    }
    let out = taper()
        .args(["batch", "-", "--view", "summary"])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let (_, rows) = records(&out.stdout);
    let ids: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
    let expected: Vec<String> = (0..700).map(|i| format!("id{i:04}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn jsonl_lines_are_the_plan_json_with_an_id() {
    let input =
        "id,profile,dose,start\na,baclofen,60mg,2026-12-01\nb,sertraline,100mg,2026-12-01\n";
    let out = taper()
        .args(["batch", "-", "--format", "jsonl"])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for (line, id) in lines.iter().zip(["a", "b"]) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        common::assert_valid_batch_line(&v);
        assert_eq!(v["id"], id);
        for field in [
            "tool",
            "disclaimer",
            "profile",
            "request",
            "products",
            "steps",
            "days",
            "dispense",
            "warnings",
            "reminders",
        ] {
            assert!(v.get(field).is_some(), "{field} missing");
        }
        assert!(v["disclaimer"]
            .as_str()
            .unwrap()
            .contains("prescriber oversight"));
    }
    // The same object `taper plan --format json` prints, plus the id; the
    // default plan id is derived from the row id too, so it differs.
    let plan = taper()
        .args([
            "plan",
            "baclofen",
            "--dose",
            "60mg",
            "--start",
            "2026-12-01",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let mut from_plan: serde_json::Value = serde_json::from_slice(&plan).unwrap();
    common::assert_valid_plan_json(&from_plan);
    from_plan["id"] = "a".into();
    let from_batch: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_ne!(from_plan["plan_id"], from_batch["plan_id"]);
    from_plan["plan_id"] = from_batch["plan_id"].clone();
    assert_eq!(from_plan, from_batch);
}

#[test]
fn summary_totals_equal_the_sum_over_the_days_view() {
    let input = "id,profile,dose,start,strengths\na,baclofen,30mg,2026-12-01,10mg\nb,tizanidine,24mg,2026-12-01,\n";
    let summary = taper()
        .args(["batch", "-", "--view", "summary"])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let days = taper()
        .args(["batch", "-"])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let (_, summary) = records(&summary);
    let (_, days) = records(&days);
    for row in &summary {
        let id = &row[0];
        let mine: Vec<&csv::StringRecord> = days.iter().filter(|d| &d[0] == id).collect();
        assert_eq!(row[8].parse::<usize>().unwrap(), mine.len(), "days");
        let steps = mine
            .iter()
            .map(|d| &d[3])
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert_eq!(row[9].parse::<usize>().unwrap(), steps, "steps");
        assert_eq!(&row[6], &mine.first().unwrap()[1], "start");
        assert_eq!(&row[7], &mine.last().unwrap()[1], "end");
    }
    // a: 10 mg scored tablets only; halves pooled: count the tablets by hand.
    let a_days: Vec<&csv::StringRecord> = days.iter().filter(|d| &d[0] == "a").collect();
    let halves: u64 = a_days
        .iter()
        .map(|d| {
            let mg: f64 = d[4].parse().unwrap();
            (mg / 5.0).round() as u64
        })
        .sum();
    assert_eq!(
        &summary[0][11],
        format!("10 mg tablet × {}", halves.div_ceil(2)).as_str()
    );
}

#[test]
fn product_keys_in_cells_are_unique_and_an_ambiguous_one_skips_the_row() {
    // `4mg` names a tizanidine tablet and a capsule: that row is skipped,
    // naming both keys; the full keys plan.
    let input = "id,profile,dose,strengths\n\
        t1,tizanidine,24mg,4mg\n\
        t2,tizanidine,24mg,4mg-tablet\n\
        t3,tizanidine,24mg,\"4mg-capsule,6mg-capsule\"\n\
        b1,baclofen,30mg,10mg-tablet\n";
    let out = taper()
        .args(["batch", "-", "--view", "summary", "--start", "2027-01-04"])
        .write_stdin(input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line 2 (id t1):") && stderr.contains("4mg-tablet, 4mg-capsule"),
        "{stderr}"
    );
    let (_, rows) = records(&out.stdout);
    let ids: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(ids, ["t2", "t3", "b1"]);
    // Each plan dispenses one group only: tablets or capsules, never both.
    assert!(
        rows[0][11].contains("tablet") && !rows[0][11].contains("capsule"),
        "{:?}",
        &rows[0][11]
    );
    assert!(
        rows[1][11].contains("capsule") && !rows[1][11].contains("tablet"),
        "{:?}",
        &rows[1][11]
    );
    assert!(
        rows[2][11].starts_with("10 mg tablet × ") && !rows[2][11].contains(';'),
        "{:?}",
        &rows[2][11]
    );
}

#[test]
fn a_missing_input_file_is_an_io_error() {
    taper()
        .args(["batch", "/nonexistent/requests.csv"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("requests.csv"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// A batch row is byte-identical to `taper plan --format csv` (days view)
    /// with the id in front.
    #[test]
    fn batch_rows_equal_plan_rows(
        which in 0usize..7,
        dose_step in 1u32..12,
        interval in prop::option::of(1u32..30),
        strengths in prop::option::of(0usize..2),
        strategy in prop::option::of(prop_oneof![
            (1u32..40).prop_map(|p| ("percent", p.to_string())),
            (1u32..4).prop_map(|k| ("step", k.to_string())),
        ]),
    ) {
        let (profile, unit_dose, strength_opts) = [
            ("baclofen", 5, ["10mg", "5mg-tablet,20mg-tablet"]),
            // Tizanidine 4 mg is a tablet and a capsule: the full key.
            ("tizanidine", 2, ["4mg-tablet", "4mg-capsule,6mg-capsule"]),
            ("diazepam", 2, ["2mg", "5mg-tablet,1mg/mL"]),
            ("prednisone", 5, ["5mg-tablet", "10mg,1mg"]),
            ("sertraline", 25, ["50mg", "25mg-tablet,20mg/mL"]),
            ("oxycodone", 5, ["5mg-tablet", "10mg,1mg/mL"]),
            ("gabapentin", 100, ["100mg-capsule", "300mg,50mg/mL"]),
        ][which];
        let dose = format!("{}mg", unit_dose * dose_step);
        let mut plan_args = vec!["plan".to_string(), profile.into(), "--dose".into(), dose.clone(), "--start".into(), "2026-12-01".into(), "--format".into(), "csv".into()];
        let mut header = "id,profile,dose,start".to_string();
        let mut row = format!("x1,{profile},{dose},2026-12-01");
        if let Some(i) = interval {
            plan_args.extend(["--interval".into(), i.to_string()]);
            header.push_str(",interval");
            row.push_str(&format!(",{i}"));
        }
        if let Some(s) = strengths {
            plan_args.extend(["--strengths".into(), strength_opts[s].into()]);
            header.push_str(",strengths");
            row.push_str(&format!(",\"{}\"", strength_opts[s]));
        }
        if let Some((column, value)) = &strategy {
            // `step` in the profile's unit steps of the dose grid.
            let value = if *column == "step" {
                format!("{}mg", unit_dose * value.parse::<u32>().unwrap())
            } else {
                value.clone()
            };
            plan_args.extend([format!("--{column}"), value.clone()]);
            header.push_str(&format!(",{column}"));
            row.push_str(&format!(",{value}"));
        }
        let plan = taper().args(&plan_args).output().unwrap();
        let batch = taper().args(["batch", "-"]).write_stdin(format!("{header}\n{row}\n")).output().unwrap();
        if plan.status.code() == Some(0) {
            prop_assert_eq!(batch.status.code(), Some(0));
            let plan_text = String::from_utf8(plan.stdout).unwrap();
            let batch_text = String::from_utf8(batch.stdout).unwrap();
            let expected: String = plan_text.lines().skip(1).map(|l| format!("x1,{l}\n")).collect();
            let got: String = batch_text.lines().skip(1).map(|l| format!("{l}\n")).collect();
            // Multi-line quoted notes never occur, so line-wise prefixing is exact.
            prop_assert_eq!(got, expected);
        } else {
            // The same refusal, reported as a skipped row with the same message.
            prop_assert_eq!(batch.status.code(), Some(3));
            let plan_err = String::from_utf8(plan.stderr).unwrap();
            let message = plan_err.lines().find(|l| l.starts_with("error: ")).unwrap().trim_start_matches("error: ");
            let batch_err = String::from_utf8(batch.stderr).unwrap();
            prop_assert!(batch_err.contains(message), "{} vs {}", message, batch_err);
        }
    }
}
