//! Faults around the run: broken or missing standard streams, signals
//! during a batch, special files as outputs, edge dates and control
//! characters on their way to the terminal. Real binary, real processes.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;

/// The binary, kept apart from the developer's profile folders.
fn taper() -> Command {
    Command::from_std(common::taper())
}

fn taper_process() -> Process {
    Process::cargo_bin("taper").unwrap()
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("taper")
}

/// A run whose stderr reader has already gone: every diagnostic write
/// fails with EPIPE.
fn run_with_closed_stderr(args: &[&str]) -> std::process::ExitStatus {
    let mut child = taper_process()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    child.wait().unwrap()
}

#[test]
fn a_closed_stderr_does_not_stop_a_plan_from_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    // This plan warns (a small step), so taper writes to stderr first.
    let status = run_with_closed_stderr(&[
        "plan",
        "baclofen",
        "--dose",
        "60",
        "--step",
        "0.3",
        "--interval",
        "1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(status.code(), Some(0));
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("date,day,step"), "{text:.80}");
}

#[test]
fn a_closed_stderr_keeps_the_batch_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    fs::write(
        &input,
        "id,profile,dose\np1,baclofen,60mg\np2,nosuch,60mg\np3,baclofen,30mg\n",
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    let status = run_with_closed_stderr(&[
        "batch",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(status.code(), Some(3), "rows were skipped: exit 3");
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.contains(",p1,") || text.contains("p1,"), "{text:.200}");
    assert!(text.contains("p3"));
}

#[test]
fn a_reader_closing_stdout_is_exit_0() {
    let mut child = taper_process()
        .args(["plan", "baclofen", "--dose", "60", "--view", "days"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn a_stdout_closed_from_the_start_is_exit_1() {
    let out = Process::new("sh")
        .arg("-c")
        .arg(format!(
            "exec '{}' plan baclofen --dose 60 >&-",
            bin().display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("standard output"), "{err}");
}

#[test]
fn a_closed_stdout_does_not_matter_when_writing_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("p.json");
    let out = Process::new("sh")
        .arg("-c")
        .arg(format!(
            "exec '{}' plan baclofen --dose 60 -o '{}' >&-",
            bin().display(),
            out_file.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    assert!(fs::read_to_string(&out_file).unwrap().starts_with('{'));
}

fn mkfifo(path: &Path) {
    let ok = Process::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success());
}

#[test]
fn force_never_replaces_a_fifo_or_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    mkfifo(&fifo);
    let sub = dir.path().join("folder.csv");
    fs::create_dir(&sub).unwrap();
    for target in [&fifo, &sub] {
        let out = taper()
            .args(["plan", "baclofen", "--dose", "60", "--force", "-o"])
            .arg(target)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{target:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--force replaces only regular files and symlinks"),
            "{err}"
        );
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(sub.is_dir());
    let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2, "no temporary file is left");
}

#[test]
fn force_never_replaces_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("null.csv");
    // Making a device node needs privileges; without them the FIFO test
    // above covers the same check.
    let made = Process::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        return;
    }
    let out = taper()
        .args(["plan", "baclofen", "--dose", "60", "--force", "-o"])
        .arg(&dev)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&dev)
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn force_still_replaces_a_regular_file_and_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.csv");
    fs::write(&file, "old").unwrap();
    let link = dir.path().join("b.csv");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    for target in [&file, &link] {
        taper()
            .args(["plan", "baclofen", "--dose", "60", "--force", "-o"])
            .arg(target)
            .assert()
            .success();
    }
    assert!(!fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::read_to_string(&link).unwrap().starts_with("date,"));
}

#[test]
fn a_failed_write_does_not_name_the_temporary_file() {
    let out = taper()
        .args([
            "plan",
            "baclofen",
            "--dose",
            "60",
            "-o",
            "/nonexistent-taper/x.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot write /nonexistent-taper/x.csv"),
        "{err}"
    );
    assert!(!err.contains(".taper-") && !err.contains(".tmp"), "{err}");
}

/// A batch input long enough that the run is still writing when the
/// signal arrives.
fn long_batch(dir: &Path) -> PathBuf {
    let input = dir.join("in.csv");
    let mut text = String::from("id,profile,dose,start\n");
    for i in 0..200_000 {
        text.push_str(&format!("p{i},baclofen,60mg,2026-12-01\n"));
    }
    fs::write(&input, text).unwrap();
    input
}

fn twins(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".taper-"))
        .collect()
}

fn interrupted_batch_leaves_nothing(signal: &str, number: i32) {
    let dir = tempfile::tempdir().unwrap();
    let input = long_batch(dir.path());
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("days.csv");
    let mut child = taper_process()
        .arg("batch")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait (as a hang guard only) until the temporary twin exists.
    let deadline = Instant::now() + Duration::from_secs(120);
    while twins(&out_dir).is_empty() {
        assert!(Instant::now() < deadline, "no temporary file appeared");
        assert!(child.try_wait().unwrap().is_none(), "batch ended too soon");
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Process::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(number),
        "ended by {signal}: {status:?}"
    );
    assert_eq!(twins(&out_dir), Vec::<String>::new(), "after SIG{signal}");
    assert!(!out.exists(), "no partial output after SIG{signal}");
}

#[test]
fn sigint_during_a_batch_leaves_nothing_behind() {
    interrupted_batch_leaves_nothing("INT", 2);
}

#[test]
fn sigterm_during_a_batch_leaves_nothing_behind() {
    interrupted_batch_leaves_nothing("TERM", 15);
}

#[test]
fn sighup_during_a_batch_leaves_nothing_behind() {
    interrupted_batch_leaves_nothing("HUP", 1);
}

#[test]
fn dates_outside_years_1_to_9999_are_refused() {
    for start in [
        "-001-01-01",
        "0000-01-01",
        "+202-01-01",
        "10000-01-01",
        "2026-1-01",
    ] {
        let out = taper()
            .args(["plan", "baclofen", "--dose", "60"])
            .arg(format!("--start={start}"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{start}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(start) && err.contains("0001 to 9999"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    fs::write(
        &input,
        "id,profile,dose,start\na,baclofen,60mg,-001-01-01\n",
    )
    .unwrap();
    let out = taper().arg("batch").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("0001 to 9999"), "{err}");
}

fn ics_for_start(start: &str) -> std::process::Output {
    taper()
        .args(["plan", "baclofen", "--dose", "20", "--format", "ics"])
        .arg(format!("--start={start}"))
        .output()
        .unwrap()
}

#[test]
fn a_plan_may_end_on_9999_12_30_but_not_on_9999_12_31() {
    // Find the plan's length from an ordinary start, then place it so
    // that it ends on the last day a calendar can close.
    let out = taper()
        .args(["plan", "baclofen", "--dose", "20", "--format", "json"])
        .arg("--start=2026-01-01")
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::assert_valid_plan_json(&plan);
    let days = plan["days"].as_array().unwrap().len() as u64;
    let last_ok = chrono::NaiveDate::from_ymd_opt(9999, 12, 30).unwrap();
    let start = last_ok - chrono::Days::new(days - 1);
    let ok = ics_for_start(&start.to_string());
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let ics = String::from_utf8(ok.stdout).unwrap();
    assert!(ics.contains("DTEND;VALUE=DATE:99991231"));
    assert!(!ics.contains("DTEND;VALUE=DATE:+"));
    let late = ics_for_start(&(start + chrono::Days::new(1)).to_string());
    assert_eq!(late.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&late.stderr).contains("9999-12-31"));
}

#[test]
fn control_characters_in_names_never_reach_stderr_raw() {
    let hostile = "baclo\u{1b}]0;pwned\u{7}\u{1b}[2J";
    let out = taper()
        .args(["plan", hostile, "--dose", "60"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.contains(&0x1b), "{:?}", out.stderr);
    assert!(!out.stderr.contains(&0x07));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("baclo\\e]0;pwned"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    fs::write(
        &input,
        format!("id,profile,dose\n\"x{hostile}\",baclofen,abc\n"),
    )
    .unwrap();
    let out = taper().arg("batch").arg(&input).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        !out.stderr.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn profile_commands_escape_foreign_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("b\u{1b}]0;pwned\u{7}.toml");
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/baclofen.toml");
    fs::copy(builtin, &hostile).unwrap();
    let out = taper()
        .args(["profiles", "check"])
        .arg(&hostile)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07));
    assert!(String::from_utf8_lossy(&out.stdout).contains("b\\e]0;pwned\\u{7}.toml: ok"));
}

#[test]
fn a_user_profile_replacing_a_built_in_is_said_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/baclofen.toml");
    fs::copy(builtin, dir.path().join("baclofen.toml")).unwrap();
    let input = dir.path().join("in.csv");
    fs::write(&input, "id,profile,dose\na,baclofen,60mg\n").unwrap();
    let runs: [&[&str]; 3] = [
        &["plan", "baclofen", "--dose", "60", "--format", "csv"],
        &["profiles", "show", "baclofen"],
        &["batch", input.to_str().unwrap()],
    ];
    for args in runs {
        let out = taper()
            .args(args)
            .env("TAPER_PROFILES", dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("replaces the built-in profile 'baclofen'"),
            "{args:?}: {err}"
        );
        // Without the user folder there is no such note.
        let plain = taper()
            .args(args)
            .env_remove("TAPER_PROFILES")
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&plain.stderr).contains("replaces the built-in"));
    }
}
