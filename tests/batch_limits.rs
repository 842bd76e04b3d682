//! Issue 8 in `taper batch`, driven as a user (or an attacker) would: the
//! real binary, real files and pipes. Large inputs are generated here, never
//! committed, and every bound is asserted by what it does (a limit error, a
//! short message, a guarded cell), never by timing.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod common;

/// The documented record limit (README "Limits").
const LIMIT: usize = 64 * 1024;

/// The binary, kept apart from the developer's profile folders.
fn taper() -> Command {
    Command::from_std(common::taper())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
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

#[test]
fn the_limit_is_the_documented_one() {
    assert_eq!(taper::batch::MAX_RECORD_BYTES, LIMIT);
}

/// One 2 MiB line: skipped as a bad row naming its line and the limit; the
/// rows around it are planned.
#[test]
fn a_2_mib_row_is_skipped_with_the_limit_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = b"id,profile,dose\na,baclofen,60mg\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 2 << 20));
    input.extend(b",baclofen,60mg\nc,baclofen,60mg\n");
    let input = write(dir.path(), "req.csv", &input);
    let out = taper()
        .args(["batch", "--view", "summary", "--start", "2026-12-01"])
        .arg(&input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "line 3 (id ?): the row is longer than 65536 bytes (the limit for one record of the request CSV)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("planned 2 row(s), skipped 1"), "{stderr}");
    let ids: Vec<String> = records(&out.stdout)
        .iter()
        .map(|r| r[0].to_string())
        .collect();
    assert_eq!(ids, ["a", "c"]);
}

/// A million line breaks inside one quoted field, streamed through stdin
/// with CRLF line endings: one skipped row, and the rows after it keep their
/// exact line numbers.
#[test]
fn a_million_quoted_line_breaks_are_one_skipped_row_and_lines_stay_exact() {
    let mut input = b"id,profile,dose\r\n\"".to_vec();
    for _ in 0..1_000_000 {
        input.extend(b"\r\n");
    }
    input.extend(b"\",baclofen,60mg\r\nb,baclofen,abc\r\nc,baclofen,60mg\r\n");
    let out = taper()
        .args(["batch", "-", "--view", "summary", "--start", "2026-12-01"])
        .write_stdin(input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2 (id ?): the row is longer than 65536 bytes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 1000003 (id b): dose 'abc'"),
        "{stderr}"
    );
    assert!(stderr.contains("planned 1 row(s), skipped 2"), "{stderr}");
    assert_eq!(records(&out.stdout).len(), 1);
}

/// The limit is on the record's bytes, its line ending aside: exactly the
/// limit is read, one byte more is not.
#[test]
fn a_row_at_the_limit_is_read_and_one_byte_more_is_not() {
    let tail = ",baclofen,60mg";
    let at_limit = "y".repeat(LIMIT - tail.len());
    let over = "z".repeat(LIMIT - tail.len() + 1);
    let input = format!("id,profile,dose\r\n{at_limit}{tail}\r\n{over}{tail}\r\nok{tail}\r\n");
    let out = taper()
        .args(["batch", "-", "--view", "summary", "--start", "2026-12-01"])
        .write_stdin(input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 3 (id ?): the row is longer than 65536 bytes"),
        "{stderr}"
    );
    let ids: Vec<String> = records(&out.stdout)
        .iter()
        .map(|r| r[0].to_string())
        .collect();
    assert_eq!(ids, [at_limit, "ok".to_string()]);
}

#[test]
fn an_over_long_row_stops_a_strict_batch_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = b"id,profile,dose\na,baclofen,60mg\n\"".to_vec();
    input.extend(std::iter::repeat_n(b'q', 2 << 20));
    input.extend(b"\",baclofen,60mg\n");
    let target = dir.path().join("plans.csv");
    taper()
        .args(["batch", "-", "--strict", "-o"])
        .arg(&target)
        .write_stdin(input)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "error: line 3 (id ?): the row is longer than 65536 bytes",
        ));
    assert!(!target.exists());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_over_long_header_is_a_usage_error() {
    let input = format!("id,profile,dose,{}\na,baclofen,60mg,\n", "h".repeat(LIMIT));
    taper()
        .args(["batch", "-"])
        .write_stdin(input)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(
            "error: the request header is longer than 65536 bytes",
        ));
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

/// A row may name any file as its profile; if it is not a profile, the
/// message says so and nothing about what is in it.
#[test]
fn a_row_naming_a_file_that_is_not_a_profile_learns_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let shadow = write(
        dir.path(),
        "shadow",
        b"root:$6$saltsalt$0123456789abcdef:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    );
    let binary = write(dir.path(), "blob", b"\xff\xfe\x00secret\x80");
    let toml = write(dir.path(), "other.toml", b"password = \"hunter2\"\n");
    let input = format!(
        "id,profile,dose\na,{},60mg\nb,{},60mg\nc,{},60mg\n",
        shadow.display(),
        binary.display(),
        toml.display()
    );
    let out = taper()
        .args(["batch", "-"])
        .write_stdin(input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    for (line, id, path) in [(2, "a", &shadow), (3, "b", &binary), (4, "c", &toml)] {
        let p = path.display();
        let expected = format!(
            "line {line} (id {id}): profile file {p} is not a valid taper profile (check it with `taper profiles check {p}`)\n"
        );
        assert!(stderr.contains(&expected), "{stderr}");
    }
    for secret in [
        "root", "daemon", "secret", "password", "hunter2", ":1:", "UTF-8",
    ] {
        assert!(!stderr.contains(secret), "{secret} leaked: {stderr}");
    }
    // `profiles check` still locates the problem for the owner.
    taper()
        .args(["profiles", "check"])
        .arg(&toml)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!("{}:1:", toml.display())));
}

/// Control characters from a row (its id, a cell a message quotes) reach
/// stderr escaped, with or without `--strict`.
#[test]
fn row_text_in_messages_is_escaped() {
    let input = "id,profile,dose\n\"a\u{1b}]0;pwned\u{7}\",\"x\u{1b}[2J\",60mg\n";
    let out = taper()
        .args(["batch", "-"])
        .write_stdin(input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains(['\u{1b}', '\u{7}']), "{stderr:?}");
    assert!(
        stderr.contains("line 2 (id a\\e]0;pwned\\u{7}): unknown profile 'x\\e[2J'"),
        "{stderr}"
    );
    let out = taper()
        .args(["batch", "-", "--strict"])
        .write_stdin(input)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains(['\u{1b}', '\u{7}']), "{stderr:?}");
    assert!(
        stderr.contains("error: line 2 (id a\\e]0;pwned\\u{7})"),
        "{stderr}"
    );
    // A header the batch refuses is quoted escaped too.
    let out = taper()
        .args(["batch", "-"])
        .write_stdin("id,profile,dose,\u{1b}[31mred\n")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(stderr.contains("unknown column '\\e[31mred'"), "{stderr}");
}

/// With many user profiles, an unknown name's message lists a few of them,
/// not all.
#[test]
fn unknown_profile_messages_stay_short() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        write(dir.path(), &format!("user{i:02}.toml"), b"");
    }
    let out = taper()
        .arg("--profiles-dir")
        .arg(dir.path())
        .args(["batch", "-"])
        .write_stdin("id,profile,dose\na,nosuch,60mg\n")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("line 2 (id a): unknown profile 'nosuch' (known profiles: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    // The built-in and 40 user names: the 10 closest, then a count.
    let more = taper::profile::BUILTIN_PROFILES.len() + 40 - 10;
    assert!(
        line.ends_with(&format!(" and {more} more: see `taper profiles`)")),
        "{line}"
    );
    assert_eq!(line.matches(", ").count(), 9, "{line}");
}

/// Many distinct bad profile names all get their message (the cache keeps
/// only some of them; evicted names are simply looked up again).
#[test]
fn more_distinct_profile_names_than_the_cache_holds_all_get_their_answer() {
    let mut input = String::from("id,profile,dose,start\n");
    for i in 0..300 {
        let profile = if i % 3 == 0 {
            "baclofen".to_string()
        } else {
            format!("nosuch{i}")
        };
        input.push_str(&format!("r{i},{profile},60mg,2026-12-01\n"));
    }
    let out = taper()
        .args(["batch", "-", "--view", "summary"])
        .write_stdin(input)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("planned 100 row(s), skipped 200"),
        "{stderr}"
    );
    assert!(stderr.contains("line 301 (id r299): unknown profile 'nosuch299'"));
    assert_eq!(records(&out.stdout).len(), 100);
}
