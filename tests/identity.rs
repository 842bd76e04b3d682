//! Whose plan and which one, driven through the real binary: `--patient`
//! and `--plan-id` are checked before any work (exit 2, one line naming
//! the option, nothing written), batch rows get the same checks on their
//! `patient` and `plan_id` cells, and plan ids are stable and distinct.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn taper() -> Command {
    Command::from_std(common::taper())
}

const PLAN: [&str; 6] = common::BACLOFEN_PLAN;

fn plan_json(extra: &[&str]) -> Value {
    json_of(&[&PLAN[..], extra].concat())
}

/// `taper ARGS --format json`, checked against the schema.
fn json_of(args: &[&str]) -> Value {
    let out = taper()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    common::assert_valid_plan_json(&v);
    v
}

#[test]
fn patient_names_with_control_characters_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, shown) in [
        ("Smith\nJohn", r"Smith\nJohn"),
        ("Smith\tJohn", r"Smith\tJohn"),
        ("Smith\u{1b}[2JJohn", r"Smith\e[2JJohn"),
        ("Smith\u{7f}", r"Smith\u{7f}"),
        ("Smith\u{85}John", r"Smith\u{85}John"),
    ] {
        for format in ["ics", "html", "json"] {
            let path = dir.path().join(format!("out.{format}"));
            let out = taper()
                .args(PLAN)
                .args(["--patient", name, "-o"])
                .arg(&path)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{name:?} {format}");
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("error: --patient '"), "{stderr}");
            assert!(stderr.contains(shown), "{stderr}");
            assert!(stderr.contains("accepted:"), "{stderr}");
            assert!(
                !stderr.trim_end().contains(['\t', '\u{1b}', '\u{7f}']),
                "{stderr:?}"
            );
            assert!(out.stdout.is_empty());
            assert!(!path.exists(), "no output file for a refused request");
        }
    }
}

#[test]
fn patient_names_are_capped_at_100_characters() {
    let ok = "é".repeat(100);
    taper()
        .args(PLAN)
        .args(["--patient", &ok, "--format", "json"])
        .assert()
        .code(0);
    let long = "é".repeat(101);
    let out = taper()
        .args(PLAN)
        .args(["--patient", &long])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--patient is 101 characters long"),
        "{stderr}"
    );
    let blank = taper()
        .args(PLAN)
        .args(["--patient", " "])
        .output()
        .unwrap();
    assert_eq!(blank.status.code(), Some(2));
}

#[test]
fn plan_ids_outside_the_safe_set_exit_2() {
    for bad in ["", "a b", "../x", "a@b", "ü", &"x".repeat(65)] {
        let out = taper()
            .args(PLAN)
            .args(["--plan-id", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("error: --plan-id '"), "{stderr}");
        assert!(stderr.contains("accepted: 1 to 64 letters"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let v = plan_json(&["--plan-id", &"Az09._-".repeat(9)[..63]]);
    assert_eq!(v["plan_id"].as_str().unwrap().len(), 63);
}

#[test]
fn the_default_plan_id_is_stable_and_follows_patient_drug_start_and_dose() {
    let base = plan_json(&[]);
    let id = base["plan_id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_eq!(plan_json(&[])["plan_id"], id, "same request, same id");
    // The view and the output format do not change which plan it is.
    assert_eq!(plan_json(&["--view", "steps"])["plan_id"], id);
    let mut seen = std::collections::BTreeSet::from([id.to_string()]);
    for other in [
        plan_json(&["--patient", "J. Smith"]),
        plan_json(&["--patient", "K. Jones"]),
        json_of(&[
            "plan",
            "baclofen",
            "--dose",
            "60mg",
            "--start",
            "2026-12-02",
        ]),
        json_of(&[
            "plan",
            "baclofen",
            "--dose",
            "50mg",
            "--start",
            "2026-12-01",
        ]),
        json_of(&[
            "plan",
            "diazepam",
            "--dose",
            "20mg",
            "--start",
            "2026-12-01",
        ]),
    ] {
        assert!(seen.insert(other["plan_id"].as_str().unwrap().to_string()));
    }
    // --plan-id wins.
    assert_eq!(
        plan_json(&["--plan-id", "clinic-42"])["plan_id"],
        "clinic-42"
    );
}

#[test]
fn batch_checks_patient_and_plan_id_cells_and_derives_ids_per_row() {
    let input = "id,profile,dose,start,patient,plan_id\n\
        a,baclofen,60mg,2026-12-01,\"Smith, John\",\n\
        b,baclofen,60mg,2026-12-01,\"Smith, John\",\n\
        c,baclofen,60mg,2026-12-01,\"Tab\there\",\n\
        d,baclofen,60mg,2026-12-01,,own-id.1\n\
        e,baclofen,60mg,2026-12-01,,bad id\n";
    let out = taper()
        .args(["batch", "-", "--format", "jsonl"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(r"line 4 (id c): patient 'Tab\there' contains a control character"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6 (id e): plan_id 'bad id' is not valid"),
        "{stderr}"
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.iter().for_each(common::assert_valid_batch_line);
    let ids: Vec<&str> = lines.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "d"]);
    // Same patient, drug, date and dose on two rows: the row id keeps
    // their plans apart.
    assert_ne!(lines[0]["plan_id"], lines[1]["plan_id"]);
    assert_eq!(lines[0]["patient"], "Smith, John");
    assert_eq!(lines[2]["plan_id"], "own-id.1");
    // Stable across runs.
    let again = taper()
        .args(["batch", "-", "--format", "jsonl"])
        .write_stdin(input)
        .output()
        .unwrap();
    let first: Value = serde_json::from_str(
        String::from_utf8(again.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["plan_id"], lines[0]["plan_id"]);
}
