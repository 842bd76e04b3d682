//! `taper adjust` through the real binary: each change, each refusal, the
//! revision in every output, batch rows, and calendars that replace the old
//! ones when merged by UID and SEQUENCE (read with the `ical` crate).

mod common;

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use common::{assert_valid_plan_json, taper};
use serde_json::Value;

const START: &str = "2026-12-01";

/// Writes `taper plan baclofen --dose 60mg` (plus `extra`) as JSON in `dir`.
fn plan_file(dir: &Path, extra: &[&str]) -> PathBuf {
    let path = dir.join("plan.json");
    let mut args = vec!["plan", "baclofen", "--dose", "60mg", "--start", START, "-o"];
    let p = path.to_str().unwrap().to_string();
    args.push(&p);
    args.extend_from_slice(extra);
    let out = taper().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn adjust(plan: &Path, args: &[&str]) -> std::process::Output {
    taper().arg("adjust").arg(plan).args(args).output().unwrap()
}

fn adjust_json(plan: &Path, args: &[&str]) -> Value {
    let out = adjust(plan, &[args, &["--format", "json"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_plan_json(&doc);
    doc
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (date, daily_dose) of every day.
fn days(doc: &Value) -> Vec<(String, String)> {
    doc["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().into(),
                d["daily_dose"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn dose_on(doc: &Value, date: &str) -> String {
    days(doc).into_iter().find(|d| d.0 == date).unwrap().1
}

fn kept_before(old: &Value, new: &Value, date: &str) {
    let old_days: Vec<_> = days(old)
        .into_iter()
        .filter(|d| d.0.as_str() < date)
        .collect();
    let new_days: Vec<_> = days(new)
        .into_iter()
        .filter(|d| d.0.as_str() < date)
        .collect();
    assert_eq!(old_days, new_days, "days before {date} changed");
    assert!(!old_days.is_empty());
}

/// Baclofen 60 mg: 55 mg from 12-01, 50 from 12-08, 45 from 12-15, 40
/// from 12-22, each 7 days.
#[test]
fn hold_keeps_the_dose_of_that_day_for_more_days() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &[]);
    let old = read(&plan);
    assert_eq!(old["revision"], 1);
    assert_eq!(old["revisions"], serde_json::json!([]));
    assert_eq!(old["options"]["dose"], "60mg");
    let new = adjust_json(
        &plan,
        &["--from", "2026-12-17", "--hold", "7", "--reason", "tired"],
    );
    kept_before(&old, &new, "2026-12-17");
    assert_eq!(new["revision"], 2);
    let rev = &new["revisions"][0];
    assert_eq!(rev["revision"], 2);
    assert_eq!(rev["from"], "2026-12-17");
    assert_eq!(rev["change"]["hold_days"], 7);
    assert_eq!(rev["reason"], "tired");
    // 45 mg until 12-21 as planned, then 7 more days; 40 mg from 12-29.
    assert_eq!(dose_on(&new, "2026-12-28"), "45");
    assert_eq!(dose_on(&new, "2026-12-29"), "40");
    assert_eq!(days(&new).len(), days(&old).len() + 7);
    assert!(new["revision_text"]
        .as_str()
        .unwrap()
        .contains("revision 2 from 2026-12-17"));
}

#[test]
fn back_returns_to_the_previous_dose_marked_as_the_one_rise() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &[]);
    let old = read(&plan);
    let out = adjust(
        &plan,
        &["--from", "2026-12-17", "--back", "--format", "json"],
    );
    assert!(out.status.success());
    let new: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_plan_json(&new);
    kept_before(&old, &new, "2026-12-17");
    assert_eq!(dose_on(&new, "2026-12-16"), "45");
    assert_eq!(dose_on(&new, "2026-12-17"), "50");
    // One interval at 50 mg, then the cuts again.
    assert_eq!(dose_on(&new, "2026-12-23"), "50");
    assert_eq!(dose_on(&new, "2026-12-24"), "45");
    let backs: Vec<&Value> = new["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "step_back")
        .collect();
    assert_eq!(backs.len(), 1);
    assert_eq!(backs[0]["detail"]["rise_date"], "2026-12-17");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("back up from 45 mg to 50 mg on 2026-12-17"),
        "{stderr}"
    );
}

#[test]
fn back_halves_a_custom_schedules_remaining_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    let out = taper()
        .args(["plan", "prednisone", "--dose", "40mg", "--start", START])
        .args(["--schedule", "40x7,30x7,20x7,10x7,5x7", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let new = adjust_json(&path, &["--from", "2026-12-10", "--back"]);
    let doses: Vec<String> = new["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["daily_dose"].as_str().unwrap().to_string())
        .collect();
    // Each remaining cut split in two, except 10 -> 5 mg: the plan's own
    // products cannot give 7.5 mg, and a change that does not ask for other
    // products never brings them in.
    assert_eq!(
        doses,
        ["40", "30", "40", "35", "30", "25", "20", "15", "10", "5", "0"]
    );
}

#[test]
fn slower_and_replans_change_only_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &[]);
    let old = read(&plan);
    let slow = adjust_json(&plan, &["--from", "2026-12-15", "--slower", "2"]);
    kept_before(&old, &slow, "2026-12-15");
    let steps = slow["steps"].as_array().unwrap();
    assert!(
        steps[2..steps.len() - 1].iter().all(|s| s["days"] == 14),
        "{steps:?}"
    );
    assert_eq!(slow["revisions"][0]["change"]["slower"], "2");
    let pct = adjust_json(
        &plan,
        &[
            "--from",
            "2026-12-15",
            "--strategy",
            "percent",
            "--percent",
            "20",
        ],
    );
    kept_before(&old, &pct, "2026-12-15");
    assert_eq!(pct["request"]["strategy"]["kind"], "percent");
    assert_eq!(pct["revisions"][0]["change"]["strategy"], "percent");
    assert_eq!(pct["revisions"][0]["change"]["options"]["percent"], "20");
}

#[test]
fn revisions_chain_to_revision_3_with_both_entries() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &[]);
    let second = dir.path().join("2.json");
    let out = adjust(
        &plan,
        &[
            "--from",
            "2026-12-17",
            "--back",
            "-o",
            second.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let third = adjust_json(&second, &["--from", "2027-01-05", "--hold", "3"]);
    assert_eq!(third["revision"], 3);
    let revs = third["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[0]["from"], "2026-12-17");
    assert_eq!(revs[1]["from"], "2027-01-05");
    kept_before(&read(&second), &third, "2027-01-05");
}

#[test]
fn every_output_names_the_revision() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &[]);
    let args = ["--from", "2026-12-17", "--hold", "7"];
    let table = adjust(&plan, &args);
    assert!(String::from_utf8_lossy(&table.stdout).contains("Revised: revision 2 from 2026-12-17"));
    let html = adjust(&plan, &[&args[..], &["--format", "html"]].concat());
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(html.contains("Revision 2 from 2026-12-17, replaces the calendar of revision 1"));
    let ics = adjust(&plan, &[&args[..], &["--format", "ics"]].concat());
    assert!(String::from_utf8_lossy(&ics.stdout)
        .replace("\r\n ", "")
        .contains("Revised: revision 2 from 2026-12-17"));
    let csv = adjust(&plan, &[&args[..], &["--format", "csv"]].concat());
    assert!(String::from_utf8_lossy(&csv.stderr).contains("note: revision 2 from 2026-12-17"));
    // The CSV file itself: each day's revision, and what changed on the
    // revision's first day.
    let mut rows = csv::Reader::from_reader(&csv.stdout[..]);
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (date, note, revision) = (col("date"), col("note"), col("revision"));
    for r in rows.records().map(Result::unwrap) {
        let expected = if &r[date] < "2026-12-17" { "1" } else { "2" };
        assert_eq!(&r[revision], expected, "{}", &r[date]);
        assert_eq!(
            r[note].starts_with("Revised from today (revision 2): hold"),
            &r[date] == "2026-12-17",
            "{}: {}",
            &r[date],
            &r[note]
        );
    }
}

/// Diazepam 20 mg goes on twice a day down to 5.6 mg; a step back from
/// 2027-05-10 (at 7.4 mg, 3.7 mL twice a day) must not give it once a day
/// earlier than the old plan did, nor in other forms.
#[test]
fn a_revision_keeps_doses_a_day_and_form_where_the_old_plan_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dz.json");
    let p = path.to_str().unwrap();
    let out = taper()
        .args([
            "plan",
            "diazepam",
            "--dose",
            "20mg",
            "--start",
            "2026-11-29",
            "-o",
            p,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let old = read(&path);
    let twice_down_to = |doc: &Value| {
        doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["administrations"].as_array().unwrap().len() == 2)
            .map(|s| s["daily_dose"].as_str().unwrap().parse::<f64>().unwrap())
            .fold(f64::MAX, f64::min)
    };
    for from in ["2027-05-10", "2026-11-29", "2027-02-01"] {
        let new = adjust_json(&path, &["--from", from, "--back"]);
        for s in new["steps"].as_array().unwrap() {
            if s["start"].as_str().unwrap() < from || s["daily_dose"] == "0" {
                continue;
            }
            let dose: f64 = s["daily_dose"].as_str().unwrap().parse().unwrap();
            let n = s["administrations"].as_array().unwrap().len();
            assert!(
                n == 2 || dose < twice_down_to(&old),
                "from {from}: step {} ({dose} mg) once a day",
                s["step"]
            );
        }
    }
}

#[test]
fn a_steps_view_plan_file_is_adjusted_too() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &["--view", "steps"]);
    assert_eq!(read(&plan)["days"], serde_json::json!([]));
    let new = adjust_json(&plan, &["--from", "2026-12-17", "--hold", "7"]);
    assert_eq!(new["revision"], 2);
    let mut doc = read(&plan);
    doc["steps"][1]["daily_dose"] = "45".into();
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, doc.to_string()).unwrap();
    refused(
        &edited,
        &["--from", "2026-12-17", "--hold", "7"],
        2,
        "step 2: daily_dose differs",
    );
}

#[test]
fn batch_rows_are_picked_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "id,profile,dose,start\nA1,baclofen,60mg,2026-12-01\nB2,diazepam,20mg,2026-12-01\n",
    )
    .unwrap();
    let jsonl = dir.path().join("out.jsonl");
    let out = taper()
        .args(["batch", "--format", "jsonl", "-o"])
        .arg(&jsonl)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = adjust_json(
        &jsonl,
        &["--id", "B2", "--from", "2026-12-20", "--hold", "7"],
    );
    assert_eq!(doc["profile"]["name"], "diazepam");
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        doc["plan_id"], line["plan_id"],
        "the row's plan id (and so its UIDs) is kept"
    );
    let missing = adjust(&jsonl, &["--id", "C3", "--hold", "7"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no row with id 'C3'"));
    let no_id = adjust(&jsonl, &["--hold", "7"]);
    assert_eq!(no_id.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_id.stderr).contains("--id"));
}

/// One line on stderr, exit `code`, no output file.
fn refused(plan: &Path, args: &[&str], code: i32, says: &str) {
    let dir = plan.parent().unwrap();
    let target = dir.join("never.json");
    let out = adjust(plan, &[args, &["-o", target.to_str().unwrap()]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(says), "{args:?}: {stderr}");
    assert!(!target.exists(), "no partial output");
}

#[test]
fn bad_adjustments_are_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &[]);
    refused(
        &plan,
        &["--from", "2026-11-30", "--hold", "7"],
        2,
        "outside the plan",
    );
    refused(
        &plan,
        &["--from", "2027-03-01", "--hold", "7"],
        2,
        "outside the plan",
    );
    refused(&plan, &["--from", "2026-12-10"], 2, "needs a change");
    refused(
        &plan,
        &["--from", "2026-12-10", "--hold", "7", "--back"],
        2,
        "cannot be combined",
    );
    refused(
        &plan,
        &["--from", "2026-12-10", "--hold", "0"],
        2,
        "--hold '0'",
    );
    refused(
        &plan,
        &["--from", "2026-12-10", "--slower", "0.5"],
        2,
        "--slower '0.5'",
    );
    refused(
        &plan,
        &["--from", "2026-13-01", "--back"],
        2,
        "--from date '2026-13-01'",
    );
    refused(
        &plan,
        &["--from", "2026-12-10", "--percent", "150"],
        2,
        "percent",
    );
    let last = read(&plan)["request"]["end"].as_str().unwrap().to_string();
    refused(
        &plan,
        &["--from", &last, "--hold", "3"],
        2,
        "already stopped",
    );
    refused(
        &dir.path().join("missing.json"),
        &["--hold", "3"],
        1,
        "cannot read",
    );
}

#[test]
fn a_changed_profile_or_an_edited_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &[]);
    let mut doc = read(&plan);
    doc["profile"]["version"] = "1999.1.1".into();
    let old_version = dir.path().join("old-version.json");
    std::fs::write(&old_version, doc.to_string()).unwrap();
    refused(
        &old_version,
        &["--from", "2026-12-10", "--hold", "3"],
        2,
        "--allow-profile-change",
    );
    let out = adjust(
        &old_version,
        &[
            "--from",
            "2026-12-10",
            "--hold",
            "3",
            "--allow-profile-change",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A newer profile that gives other days cannot keep the history.
    let mut doc = read(&plan);
    doc["profile"]["version"] = "1999.1.1".into();
    doc["steps"][0]["days"] = 6.into();
    let other = dir.path().join("other-days.json");
    std::fs::write(&other, doc.to_string()).unwrap();
    let out = adjust(
        &other,
        &[
            "--from",
            "2026-12-10",
            "--hold",
            "3",
            "--allow-profile-change",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be kept"));

    let mut doc = read(&plan);
    doc["days"][3]["daily_dose"] = "60".into();
    doc["steps"][0]["daily_dose"] = "60".into();
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, doc.to_string()).unwrap();
    refused(
        &edited,
        &["--from", "2026-12-10", "--hold", "3"],
        2,
        "does not match what taper rebuilds",
    );
}

// ------------------------------------------------------------ calendars

/// (SEQUENCE, DTSTAMP, cancelled, event without those) by UID, as the
/// `ical` crate reads the calendar.
type Events = HashMap<String, (u32, String, bool, Vec<(String, String)>)>;

fn events(ics: &[u8]) -> Events {
    let cal = ical::IcalParser::new(BufReader::new(ics))
        .next()
        .unwrap()
        .unwrap();
    let mut out = Events::new();
    for e in cal.events {
        let prop = |name: &str| {
            e.properties
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.value.clone())
        };
        let uid = prop("UID").unwrap();
        let seq = prop("SEQUENCE").map_or(0, |s| s.parse().unwrap());
        let stamp = prop("DTSTAMP").unwrap();
        let cancelled = prop("STATUS").as_deref() == Some("CANCELLED");
        let body = e
            .properties
            .iter()
            .filter(|p| !["DTSTAMP", "SEQUENCE", "STATUS"].contains(&p.name.as_str()))
            .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
            .collect();
        assert!(
            out.insert(uid, (seq, stamp, cancelled, body)).is_none(),
            "a UID twice in one file"
        );
    }
    out
}

/// Reads calendars in order, keeping per UID the highest SEQUENCE, then
/// the latest DTSTAMP (RFC 5546 §2.1.5), as calendar clients do; then
/// drops cancelled events.
fn merged(files: &[&[u8]]) -> Events {
    let mut all = Events::new();
    for f in files {
        for (uid, e) in events(f) {
            if all
                .get(&uid)
                .is_none_or(|old| (e.0, &e.1) > (old.0, &old.1))
            {
                all.insert(uid, e);
            }
        }
    }
    all.retain(|_, e| !e.2);
    all
}

#[test]
fn calendars_merged_by_uid_and_sequence_hold_exactly_the_new_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &["--times", "8:00,14:00,20:00"]);
    let old_ics = taper()
        .args([
            "plan",
            "baclofen",
            "--dose",
            "60mg",
            "--start",
            START,
            "--times",
            "8:00,14:00,20:00",
            "--format",
            "ics",
        ])
        .output()
        .unwrap()
        .stdout;
    for change in [
        &["--hold", "10"][..],
        &["--back"],
        &["--interval", "14"],
        &["--back", "--slower", "2"],
    ] {
        let args = [&["--from", "2026-12-17"][..], change, &["--format", "ics"]].concat();
        let out = adjust(&plan, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let new = events(&out.stdout);
        let live: Events = new.clone().into_iter().filter(|(_, e)| !e.2).collect();
        assert!(
            new.values().any(|e| e.2),
            "{change:?}: some old events are cancelled"
        );
        let m = merged(&[&old_ics, &out.stdout]);
        assert_eq!(m.len(), live.len(), "{change:?}");
        for (uid, e) in &live {
            assert_eq!(m.get(uid).map(|x| &x.3), Some(&e.3), "{change:?}: {uid}");
        }
        // Kept events keep their UIDs: every old event before the date is
        // still there, or cancelled.
        for (uid, o) in events(&old_ics) {
            let n = new.get(&uid);
            assert!(
                n.is_some(),
                "{change:?}: old event {uid} neither kept nor cancelled"
            );
            let n = n.unwrap();
            if n.3 != o.3 || n.2 {
                assert!(
                    n.0 > o.0,
                    "{change:?}: {uid} changed without a higher SEQUENCE"
                );
            }
        }
        let stamps = String::from_utf8_lossy(&out.stdout);
        assert!(stamps
            .lines()
            .filter(|l| l.starts_with("DTSTAMP:"))
            .all(|l| l.trim_end() == "DTSTAMP:20261217T000000Z"));
    }
}

/// A plan drafted from a profile file given by path is rebuilt from that
/// file (its JSON `profile.origin`), not looked up by name.
#[test]
fn a_plan_from_a_profile_file_is_rebuilt_from_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = taper::profile::BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == "baclofen")
        .unwrap()
        .1
        .replacen("name = \"baclofen\"", "name = \"mybaclofen\"", 1);
    assert!(text.contains("name = \"mybaclofen\""));
    let toml = dir.path().join("mybaclofen.toml");
    std::fs::write(&toml, text).unwrap();
    let plan = dir.path().join("p.json");
    let out = taper()
        .args(["plan"])
        .arg(&toml)
        .args(["--dose", "60mg", "--start", START, "-o"])
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = adjust_json(&plan, &["--from", "2026-12-10", "--hold", "3"]);
    assert_eq!(new["profile"]["name"], "mybaclofen");
    assert_eq!(new["revision"], 2);
}

/// A plan's `--final-hold` survives the rebuild, and `adjust --final-hold`
/// changes it from DATE on.
#[test]
fn final_hold_is_kept_and_can_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_file(dir.path(), &["--final-hold", "14"]);
    let old = read(&plan);
    assert_eq!(old["options"]["final_hold"], "14");
    let last_dose_days = |doc: &Value| {
        let steps = doc["steps"].as_array().unwrap();
        steps[steps.len() - 2]["days"].as_u64().unwrap()
    };
    assert_eq!(last_dose_days(&old), 14);
    // A hold elsewhere rebuilds the plan with its final hold.
    let held = adjust_json(&plan, &["--from", "2026-12-17", "--hold", "3"]);
    kept_before(&old, &held, "2026-12-17");
    assert_eq!(last_dose_days(&held), 14);
    let longer = adjust_json(&plan, &["--from", "2026-12-17", "--final-hold", "28"]);
    kept_before(&old, &longer, "2026-12-17");
    assert_eq!(last_dose_days(&longer), 28);
    assert_eq!(
        longer["revisions"][0]["change"]["options"]["final_hold"],
        "28"
    );
}
