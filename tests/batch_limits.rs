//! Issue 8 in `taper batch`, driven as a user (or an attacker) would: the
//! real binary, real files and pipes. Large inputs are generated here, never
//! committed, and every bound is asserted by what it does (a limit error, a
//! short message, a guarded cell), never by timing.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn taper() -> Command {
    Command::cargo_bin("taper").unwrap()
}

fn records(bytes: &[u8]) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(bytes)
        .records()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A profile whose every text starts like a formula: the `-a1-sum` of the
/// issue, with slot names, instructions and symptoms to match.
fn hostile_profile(dir: &Path) {
    let text = include_str!("../profiles/baclofen.toml")
        .replace("name = \"baclofen\"", "name = \"-a1-sum\"")
        .replace(
            "display_name = \"Baclofen\"",
            "display_name = \"=Danger()\"",
        )
        .replace(
            "slots = [\"morning\", \"midday\", \"bedtime\"]",
            "slots = [\"=a\", \"@b\", \"+c\"]",
        )
        .replace(
            "drop_order = [\"midday\", \"morning\"]",
            "drop_order = [\"@b\", \"=a\"]",
        )
        .replace(
            "\"Split only on the score line.\"",
            "\"-Split only on the score line.\"",
        )
        .replace("\"trouble sleeping\",", "\"=trouble sleeping\",");
    assert!(text.contains("\"=a\"") && text.contains("-a1-sum"));
    fs::write(dir.join("-a1-sum.toml"), text).unwrap();
}

/// No cell of the output starts with a formula character unless it is a
/// number (`change` is a signed number).
fn assert_guarded(rows: &[csv::StringRecord]) {
    for row in rows {
        for cell in row {
            let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !formula || cell.parse::<f64>().is_ok(),
                "unguarded cell {cell:?} in {row:?}"
            );
        }
    }
}

#[test]
fn every_user_text_cell_is_guarded_in_plan_and_batch_alike() {
    let dir = tempfile::tempdir().unwrap();
    hostile_profile(dir.path());
    // The summary's profile column (the reproducer).
    let summary = taper()
        .arg("--profiles-dir")
        .arg(dir.path())
        .args(["batch", "-", "--view", "summary", "--start", "2026-12-01"])
        .write_stdin("id,profile,dose\n@id,-a1-sum,55mg\n")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let summary = records(&summary);
    assert_eq!(&summary[0][0], "'@id");
    assert_eq!(&summary[0][1], "'-a1-sum");
    assert_guarded(&summary);
    // Days: products start with a slot name; byte-identical to `plan`.
    let plan = taper()
        .arg("--profiles-dir")
        .arg(dir.path())
        .args([
            "plan",
            "--dose",
            "55mg",
            "--start",
            "2026-12-01",
            "--format",
            "csv",
        ])
        .args(["--", "-a1-sum"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let plan_rows = records(&plan);
    assert!(
        plan_rows.iter().any(|r| r[7].starts_with("'=a: ")),
        "no slot-led products cell: {:?}",
        &plan_rows[0]
    );
    assert_guarded(&plan_rows);
    let batch = taper()
        .arg("--profiles-dir")
        .arg(dir.path())
        .args(["batch", "-", "--start", "2026-12-01"])
        .write_stdin("id,profile,dose\nx1,-a1-sum,55mg\n")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let expected: String = text(&plan)
        .lines()
        .skip(1)
        .map(|l| format!("x1,{l}\n"))
        .collect();
    let got: String = text(&batch)
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(got, expected);
    // The steps view too.
    let steps = taper()
        .arg("--profiles-dir")
        .arg(dir.path())
        .args([
            "plan",
            "--dose",
            "55mg",
            "--start",
            "2026-12-01",
            "--format",
            "csv",
        ])
        .args(["--view", "steps", "--", "-a1-sum"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert_guarded(&records(&steps));
}
