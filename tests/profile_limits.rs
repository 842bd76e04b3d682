//! Issue 8, hostile profiles: every reproducer the tester found is a test
//! here, asserting a bound by construction (a limit error, a capped number
//! of message lines, a bounded output size), never a time. A hang is caught
//! by a generous kill guard around each run of the binary.
//!
//! Set `TAPER_TEST_BIN` to run the binary tests against another build
//! (e.g. an older release, to see them fail there).

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use taper::profile::{self, parse_profile, MAX_PROBLEMS_PER_KIND};

// ---------------------------------------------------------------- helpers

/// Longest a run may take before it counts as hung (a hang detector only:
/// the runs here take well under a second when they do not hang).
const HANG: Duration = Duration::from_secs(60);

/// Most bytes of stdout or stderr read back into a test.
const READ_BACK: u64 = 4 << 20;

fn bin() -> PathBuf {
    std::env::var_os("TAPER_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("taper"))
}

fn baclofen() -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("profiles")
            .join("baclofen.toml"),
    )
    .unwrap()
}

/// What a run of the binary gave; outputs are read back at most
/// [`READ_BACK`] bytes each, their full sizes are kept.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    stdout_len: u64,
    stderr_len: u64,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "exit {:?}, stdout {} B, stderr {} B\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout_len,
            self.stderr_len,
            head(&self.stdout),
            head(&self.stderr)
        )
    }

    fn error_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

fn head(s: &str) -> &str {
    match s.char_indices().nth(3000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Runs the binary with `args`, `TAPER_PROFILES` set to `profiles` (or
/// unset), in `cwd`. Outputs go to files so a runaway writer cannot fill a
/// pipe or the test's memory; a run longer than [`HANG`] is killed and fails.
fn taper(args: &[&OsStr], profiles: Option<&OsStr>, cwd: Option<&Path>) -> Run {
    let out = tempfile::tempdir().unwrap();
    let so = out.path().join("stdout");
    let se = out.path().join("stderr");
    let mut c = Command::new(bin());
    c.args(args)
        .env_remove("TAPER_PROFILES")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&so).unwrap())
        .stderr(fs::File::create(&se).unwrap());
    if let Some(p) = profiles {
        c.env("TAPER_PROFILES", p);
    }
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let started = Instant::now();
    let mut child = c.spawn().expect("start taper");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("taper {args:?} still running after {HANG:?}: hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| {
        let mut s = Vec::new();
        fs::File::open(p)
            .unwrap()
            .take(READ_BACK)
            .read_to_end(&mut s)
            .unwrap();
        String::from_utf8_lossy(&s).into_owned()
    };
    Run {
        code: status.code(),
        stdout: read(&so),
        stderr: read(&se),
        stdout_len: fs::metadata(&so).unwrap().len(),
        stderr_len: fs::metadata(&se).unwrap().len(),
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// `taper profiles check FILE`.
fn check(file: &Path) -> Run {
    taper(&[os("profiles"), os("check"), file.as_os_str()], None, None)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

/// A problem line of `kind` as the binary prints it.
fn count_containing(lines: &[&str], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

// ------------------------------------------------- linear profile checking

/// 20,000 problems in one file (24 s before, 40,000 error lines): at most
/// MAX_PROBLEMS_PER_KIND lines of each kind, then one "and K more" line.
#[test]
fn twenty_thousand_problems_give_a_few_lines_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = baclofen();
    for _ in 0..20_000 {
        text.push_str("\n[[formulation]]\nform = \"tablet\"\nstrength = \"0\"\n");
    }
    let file = write(dir.path(), "many.toml", &text);
    let r = check(&file);
    assert_eq!(r.code, Some(2), "{}", r.show());
    let lines = r.error_lines();
    assert!(
        lines.iter().all(|l| l.starts_with("error: ")),
        "{}",
        r.show()
    );
    assert_eq!(
        count_containing(&lines, "strength must be greater than 0"),
        MAX_PROBLEMS_PER_KIND,
        "{}",
        r.show()
    );
    assert_eq!(
        count_containing(&lines, "listed twice"),
        MAX_PROBLEMS_PER_KIND,
        "{}",
        r.show()
    );
    let more = |n: usize, kind: &str| format!("and {n} more {kind} problems");
    assert_eq!(
        count_containing(&lines, &more(20_000 - MAX_PROBLEMS_PER_KIND, "strength")),
        1,
        "{}",
        r.show()
    );
    assert_eq!(
        count_containing(
            &lines,
            &more(19_999 - MAX_PROBLEMS_PER_KIND, "duplicate formulation")
        ),
        1,
        "{}",
        r.show()
    );
    assert_eq!(lines.len(), 2 * MAX_PROBLEMS_PER_KIND + 2, "{}", r.show());
    // The reported lines are located: FILE:LINE:COL, the first new
    // formulation's strength on its own line.
    let first_new = text.lines().position(|l| l == "strength = \"0\"").unwrap() + 1;
    let want = format!("{}:{first_new}:12: strength", file.display());
    assert!(r.stderr.contains(&want), "want {want}\n{}", r.show());
}

/// 10,000 formulations naming an unknown source, with 10,000 source keys
/// (1.1 GB of stderr before: every message listed every key).
#[test]
fn unknown_sources_name_a_few_keys_not_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = baclofen();
    for i in 0..10_000 {
        text.push_str(&format!(
            "[[formulation]]\nform=\"tablet\"\nstrength=\"{}\"\nsource=\"n{i}\"\n",
            i + 100
        ));
    }
    for i in 0..10_000 {
        text.push_str(&format!("[[source]]\nkey=\"k{i}\"\ntitle=\"t\"\n"));
    }
    assert!(text.len() as u64 <= profile::MAX_PROFILE_BYTES);
    let file = write(dir.path(), "sources.toml", &text);
    let r = check(&file);
    assert_eq!(r.code, Some(2), "{}", r.show());
    assert!(r.stderr_len < 8 * 1024, "{}", r.show());
    let lines = r.error_lines();
    assert_eq!(
        count_containing(&lines, "is not in this profile's [[source]] list"),
        MAX_PROBLEMS_PER_KIND,
        "{}",
        r.show()
    );
    // 6 built-in keys + 10,000: the closest few are named, the rest counted.
    assert!(
        r.stderr
            .contains(&format!("and {} others", 10_006 - profile::MAX_NAMES_SHOWN)),
        "{}",
        r.show()
    );
    assert!(
        r.stderr.contains(&format!(
            "and {} more source reference problems",
            10_000 - MAX_PROBLEMS_PER_KIND
        )),
        "{}",
        r.show()
    );
}

/// Many duplicate source keys (the duplicate check was quadratic): reported
/// a few at a time.
#[test]
fn duplicate_source_keys_are_capped() {
    let mut text = baclofen();
    for _ in 0..20_000 {
        text.push_str("[[source]]\nkey=\"US-tab\"\ntitle=\"t\"\n");
    }
    let err = parse_profile(&text, "dup.toml", "test")
        .unwrap_err()
        .to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        count_containing(&lines, "is used twice"),
        MAX_PROBLEMS_PER_KIND
    );
    assert!(
        err.contains(&format!(
            "and {} more duplicate source key problems",
            20_000 - MAX_PROBLEMS_PER_KIND
        )),
        "{err}"
    );
    assert_eq!(lines.len(), MAX_PROBLEMS_PER_KIND + 1, "{err}");
}

/// A profile with many distinct sources (50,000 took 6.4 s) still loads
/// when it fits the size limit.
#[test]
fn many_distinct_sources_load() {
    let mut text = baclofen();
    for i in 0..20_000 {
        text.push_str(&format!("[[source]]\nkey=\"k{i}\"\ntitle=\"t\"\n"));
    }
    let p = parse_profile(&text, "many.toml", "test").unwrap();
    assert_eq!(p.sources.len(), 20_006);
}
