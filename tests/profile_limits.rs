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

use taper::profile::{
    self, parse_profile, ProfileCatalog, ProfileDirs, MAX_KNOWN_PROFILES_SHOWN,
    MAX_PROBLEMS_PER_KIND, MAX_USER_PROFILES,
};

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

// ------------------------------------------------------------ input bounds

/// `taper plan /dev/zero` read until memory ran out (4.9 GB in 10 s): a
/// device is refused before it is opened, naming the path.
#[cfg(unix)]
#[test]
fn dev_zero_is_refused_unread() {
    let r = taper(
        &[os("plan"), os("/dev/zero"), os("--dose"), os("10")],
        None,
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    let lines = r.error_lines();
    assert_eq!(lines.len(), 1, "{}", r.show());
    assert!(
        lines[0].starts_with(
            "error: cannot read profile /dev/zero: it is a character device, not a regular file"
        ),
        "{}",
        r.show()
    );
    assert_eq!(r.stdout_len, 0);
}

/// A regular file over the limit is refused by its size, and one that
/// grows is never read past the limit (see the unit test of the reader).
#[test]
fn oversized_profile_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    let f = fs::File::create(&path).unwrap();
    f.set_len(profile::MAX_PROFILE_BYTES + 1).unwrap();
    drop(f);
    let r = taper(
        &[os("plan"), path.as_os_str(), os("--dose"), os("10")],
        None,
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    let want = format!(
        "error: cannot read profile {}: the file is {} bytes, more than the limit of {} bytes (1 MiB) for a profile",
        path.display(),
        profile::MAX_PROFILE_BYTES + 1,
        profile::MAX_PROFILE_BYTES
    );
    assert_eq!(r.stderr.trim_end(), want, "{}", r.show());
}

/// A 200 MB display name used 590 MB and was printed in the plan: a
/// profile with a long string is refused by the file size limit (2 MB here
/// to keep the test small; any size above the limit is the same case).
#[test]
fn profile_with_a_huge_string_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = baclofen().replace(
        "display_name = \"Baclofen\"",
        &format!("display_name = \"{}\"", "A".repeat(2_000_000)),
    );
    let path = write(dir.path(), "big.toml", &text);
    let r = taper(
        &[os("plan"), path.as_os_str(), os("--dose"), os("10")],
        None,
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    assert!(
        r.stderr.contains("more than the limit of 1048576 bytes"),
        "{}",
        r.show()
    );
    assert_eq!(r.stdout_len, 0, "{}", r.show());
    assert!(r.stderr_len < 1024, "{}", r.show());
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A FIFO as the profile path hung: it is refused without being opened.
#[cfg(unix)]
#[test]
fn fifo_profile_path_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("x.toml");
    mkfifo(&fifo);
    for args in [
        vec![os("plan"), fifo.as_os_str(), os("--dose"), os("10")],
        vec![os("profiles"), os("check"), fifo.as_os_str()],
        vec![os("profiles"), os("show"), fifo.as_os_str()],
    ] {
        let r = taper(&args, None, None);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.show());
        assert!(
            r.stderr
                .contains("it is a FIFO (named pipe), not a regular file"),
            "{args:?}: {}",
            r.show()
        );
    }
    // So is a directory.
    let sub = dir.path().join("sub.toml");
    fs::create_dir(&sub).unwrap();
    let r = taper(
        &[os("plan"), sub.as_os_str(), os("--dose"), os("10")],
        None,
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    assert!(r.stderr.contains("it is a directory"), "{}", r.show());
}

/// `taper profiles` hung on a FIFO named x.toml in a profile folder: the
/// listing finishes, lists the built-ins, and never opens the FIFO.
#[cfg(unix)]
#[test]
fn listing_a_folder_with_a_fifo_finishes() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("x.toml"));
    let r = taper(&[os("profiles")], Some(dir.path().as_os_str()), None);
    assert_eq!(r.code, Some(0), "{}", r.show());
    for name in ["baclofen", "diazepam", "tizanidine"] {
        assert!(
            r.stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{}",
            r.show()
        );
    }
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("x "))
        .unwrap_or_else(|| panic!("no row for x.toml: {}", r.show()));
    assert!(
        row.contains("SKIPPED:")
            && row.contains("x.toml: it is a FIFO (named pipe), not a regular file: not read"),
        "{row}"
    );
    // Named, it is not found (and not opened) either.
    let r = taper(
        &[os("plan"), os("x"), os("--dose"), os("10")],
        Some(dir.path().as_os_str()),
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    assert!(r.stderr.contains("unknown profile 'x'"), "{}", r.show());
}

/// A schedule is bounded by its entries, counted before parsing, and by its
/// length; the error names the count and the limit.
#[test]
fn schedules_are_bounded_before_parsing() {
    let entries: Vec<String> = (0..600).map(|i| format!("{}x1", 600 - i)).collect();
    let schedule = entries.join(",");
    let r = taper(
        &[
            os("plan"),
            os("baclofen"),
            os("--dose"),
            os("600"),
            os("--strategy"),
            os("custom"),
            os("--schedule"),
            os(&schedule),
            os("--start"),
            os("2026-12-01"),
        ],
        None,
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    assert!(
        r.stderr.contains(&format!(
            "schedule has 600 entries (accepted: at most {})",
            profile::MAX_SCHEDULE_ENTRIES
        )),
        "{}",
        r.show()
    );
    // One 100 KB entry: refused by length, and not echoed back.
    let long = format!("{}x7", "1".repeat(100_000));
    let r = taper(
        &[
            os("plan"),
            os("baclofen"),
            os("--dose"),
            os("60"),
            os("--strategy"),
            os("custom"),
            os("--schedule"),
            os(&long),
        ],
        None,
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    assert!(
        r.stderr.contains("schedule is 100002 bytes long"),
        "{}",
        r.show()
    );
    assert!(r.stderr_len < 1024, "{}", r.show());
    // The library function, directly.
    let at_limit = vec!["1x1"; profile::MAX_SCHEDULE_ENTRIES].join(",");
    assert_eq!(
        profile::parse_schedule(&at_limit).unwrap().len(),
        profile::MAX_SCHEDULE_ENTRIES
    );
    let over = vec!["1x1"; profile::MAX_SCHEDULE_ENTRIES + 1].join(",");
    assert!(profile::parse_schedule(&over).is_err());
}

// ------------------------------------------------------ control characters

/// Profile text reached the terminal raw: a display name with an escape
/// sequence is a located error naming the field, and nothing raw is printed.
#[test]
fn control_characters_in_a_display_name_are_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = baclofen().replace(
        "display_name = \"Baclofen\"",
        "display_name = \"Bac\\u001b]0;pwned\\u0007\\u001b[2Jlofen\"",
    );
    let file = write(dir.path(), "esc.toml", &text);
    let line = text
        .lines()
        .position(|l| l.starts_with("display_name"))
        .unwrap()
        + 1;
    for args in [
        vec![os("profiles"), os("check"), file.as_os_str()],
        vec![os("plan"), file.as_os_str(), os("--dose"), os("60")],
        vec![os("profiles"), os("show"), file.as_os_str()],
    ] {
        let r = taper(&args, None, None);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.show());
        assert_eq!(
            r.stderr.trim_end(),
            format!(
                "error: {}:{line}:16: display_name contains the control character U+001B at character 4 (accepted: printable text on one line: no escape sequences, tabs, line breaks or bidirectional overrides)",
                file.display()
            ),
            "{args:?}: {}",
            r.show()
        );
        assert_eq!(r.stdout_len, 0, "{}", r.show());
    }
}

/// Every kind of text field is checked, each error naming its field.
#[test]
fn control_characters_are_refused_in_every_text_field() {
    let base = baclofen();
    let cases: &[(&str, &str, &str)] = &[
        (
            "version = \"2026.11.4\"",
            "version = \"2026\\u009b1m\"",
            "version",
        ),
        (
            "  \"agitation or anxiety\",",
            "  \"agitation\\u202eor anxiety\",",
            "withdrawal_symptoms",
        ),
        ("  \"high fever\",", "  \"high\\tfever\",", "red_flags"),
        (
            "if_symptoms = \"If withdrawal",
            "if_symptoms = \"\\u2066If withdrawal",
            "if_symptoms",
        ),
        (
            "  \"Intrathecal (pump) baclofen is out of scope for this tool.\",",
            "  \"Intrathecal\\n(pump)\",",
            "cautions",
        ),
        (
            "  \"Never stop baclofen suddenly",
            "  \"\\u007fNever stop baclofen suddenly",
            "advice",
        ),
        (
            "label = \"oral solution\"",
            "label = \"oral\\u0085solution\"",
            "formulation.label",
        ),
        (
            "instructions = \"Measure with an oral syringe.\"",
            "instructions = \"Measure\\u001b[8m with an oral syringe.\"",
            "formulation.instructions",
        ),
        (
            "note = \"no score line: do not split\"",
            "note = \"no score line\\r do not split\"",
            "formulation.note",
        ),
        (
            "slots = [\"morning\", \"midday\", \"bedtime\"]",
            "slots = [\"morning\", \"mid\\u0000day\", \"bedtime\"]",
            "doses.slots",
        ),
        (
            "title = \"openFDA NDC records for baclofen oral solutions\"",
            "title = \"openFDA\\u2069 NDC\"",
            "source.title",
        ),
        (
            "url = \"https://api.fda.gov/drug/ndc.json?search=generic_name:baclofen\"",
            "url = \"https://x\\u001b]8;;https://evil\\u0007\"",
            "source.url",
        ),
        (
            "doses_per_day_source = \"US-tab\"",
            "doses_per_day_source = \"US-tab\\u001b\"",
            "doses_per_day_source",
        ),
    ];
    for (from, to, field) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let err = parse_profile(&text, "x.toml", "test")
            .unwrap_err()
            .to_string();
        let line = text
            .lines()
            .position(|l| l.contains(to.trim_start()))
            .unwrap()
            + 1;
        let want = format!("{field} contains the control character U+");
        let hit = err
            .lines()
            .find(|l| l.contains(&want))
            .unwrap_or_else(|| panic!("{field}: no control-character error:\n{err}"));
        assert!(
            hit.starts_with(&format!("x.toml:{line}:")),
            "{field}: {hit}"
        );
        // Nothing raw in the message.
        assert!(
            !err.lines()
                .any(|l| l.chars().any(taper::terminal::is_control)),
            "{err:?}"
        );
    }
    // Printable Unicode is fine.
    let text = base.replace(
        "display_name = \"Baclofen\"",
        "display_name = \"Baclofène ½ µg — 巴氯芬\"",
    );
    assert_eq!(
        parse_profile(&text, "x.toml", "test").unwrap().display_name,
        "Baclofène ½ µg — 巴氯芬"
    );
}

/// Text fields are bounded: short fields at MAX_NAME_CHARS, prose at
/// MAX_TEXT_CHARS (the file size bounds a profile, these bound what one
/// field can repeat on every day of a plan).
#[test]
fn text_fields_are_bounded() {
    let base = baclofen();
    let n = profile::MAX_NAME_CHARS;
    let text = base.replace(
        "display_name = \"Baclofen\"",
        &format!("display_name = \"{}\"", "B".repeat(n + 1)),
    );
    let err = parse_profile(&text, "x.toml", "test")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "display_name is {} characters long (accepted: at most {n})",
            n + 1
        )),
        "{err}"
    );
    let text = base.replace(
        "display_name = \"Baclofen\"",
        &format!("display_name = \"{}\"", "B".repeat(n)),
    );
    assert!(parse_profile(&text, "x.toml", "test").is_ok());

    let t = profile::MAX_TEXT_CHARS;
    let text = base.replace(
        "instructions = \"Measure with an oral syringe.\"",
        &format!("instructions = \"{}\"", "m".repeat(t + 1)),
    );
    let err = parse_profile(&text, "x.toml", "test")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "formulation.instructions is {} characters long (accepted: at most {t})",
            t + 1
        )),
        "{err}"
    );
    let text = base.replacen(
        "instructions = \"Measure with an oral syringe.\"",
        &format!("instructions = \"{}\"", "m".repeat(t)),
        1,
    );
    assert!(parse_profile(&text, "x.toml", "test").is_ok());
}

// ------------------------------------------------- folders and names

/// A profile folder of `n` files `drug0000.toml`…; empty files, since only
/// their names matter to these tests.
fn folder_of(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        fs::File::create(dir.path().join(format!("drug{i:04}.toml"))).unwrap();
    }
    dir
}

fn dirs_of(dir: &Path) -> ProfileDirs {
    ProfileDirs {
        dirs: vec![dir.to_path_buf()],
    }
}

/// An unknown name with thousands of user profiles listed every name
/// (220 KB per error before): the closest few and a count.
#[test]
fn unknown_profile_names_the_closest_few() {
    let dir = folder_of(5000);
    let r = taper(
        &[os("plan"), os("nosuch"), os("--dose"), os("10")],
        Some(dir.path().as_os_str()),
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.show());
    assert_eq!(r.error_lines().len(), 1, "{}", r.show());
    assert!(r.stderr_len < 1024, "{}", r.show());
    let known = MAX_USER_PROFILES + taper::profile::BUILTIN_PROFILES.len();
    assert!(
        r.stderr.contains(&format!(
            "and {} more: see `taper profiles`)",
            known - MAX_KNOWN_PROFILES_SHOWN
        )),
        "{}",
        r.show()
    );
    // A near miss is still suggested.
    let r = taper(
        &[os("plan"), os("drug0O12"), os("--dose"), os("10")],
        Some(dir.path().as_os_str()),
        None,
    );
    assert!(r.stderr.contains("did you mean 'drug0"), "{}", r.show());
    // The built-ins alone: the closest, and the suggestion.
    let r = taper(
        &[os("plan"), os("baclofn"), os("--dose"), os("10")],
        None,
        None,
    );
    assert!(
        r.stderr.contains("known profiles: ") && r.stderr.contains("did you mean 'baclofen'?"),
        "{}",
        r.show()
    );
}

/// 2,000 unknown names in a batch with 20,000 profile files printed 298 MB:
/// each row's error is short (200 names and 5,000 files here).
#[test]
fn batch_of_unknown_names_prints_short_errors() {
    let dir = folder_of(5000);
    let work = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,profile,dose\n");
    for i in 0..200 {
        csv.push_str(&format!("r{i},unknown{i:04},60mg\n"));
    }
    let input = write(work.path(), "rows.csv", &csv);
    let r = taper(
        &[os("batch"), input.as_os_str()],
        Some(dir.path().as_os_str()),
        None,
    );
    assert_eq!(r.code, Some(3), "{}", r.show());
    assert!(r.stderr_len < 200 * 512, "{}", r.show());
    assert_eq!(
        count_containing(&r.error_lines(), "unknown profile 'unknown"),
        200,
        "{}",
        r.show()
    );
}

/// A folder of thousands of profiles is listed up to MAX_USER_PROFILES,
/// with a row saying so; a file beyond it is still found by name.
#[test]
fn listing_is_bounded_and_says_so() {
    let dir = folder_of(1500);
    let r = taper(&[os("profiles")], Some(dir.path().as_os_str()), None);
    assert_eq!(r.code, Some(0), "{}", r.show());
    // The profile rows end at the blank line before the folders searched.
    let rows: Vec<&str> = r.stdout.lines().take_while(|l| !l.is_empty()).collect();
    let builtins = taper::profile::BUILTIN_PROFILES.len();
    assert_eq!(rows.len(), MAX_USER_PROFILES + builtins + 1, "{}", r.show());
    let note = rows
        .iter()
        .find(|l| l.contains("SKIPPED:"))
        .unwrap_or_else(|| panic!("{}", r.show()));
    assert!(
        note.contains(&format!(
            "1500 profile files: only the first {MAX_USER_PROFILES} by name are listed"
        )),
        "{note}"
    );

    // Library level: names and skipped entries, and a lookup past the limit.
    let last = dir.path().join("drug1499.toml");
    fs::write(
        &last,
        baclofen().replace("name = \"baclofen\"", "name = \"drug1499\""),
    )
    .unwrap();
    let catalog = ProfileCatalog::scan(&dirs_of(dir.path()));
    assert_eq!(catalog.names().len(), MAX_USER_PROFILES + builtins);
    assert!(!catalog.names().iter().any(|n| n == "drug1499"));
    assert_eq!(catalog.skipped().len(), 1);
    assert_eq!(catalog.load("drug1499").unwrap().name, "drug1499");
    assert_eq!(
        profile::load("drug1499", &dirs_of(dir.path()))
            .unwrap()
            .name,
        "drug1499"
    );
}

/// One scan resolves many names: the folder is not read again (a file
/// added after the scan is not seen, a file removed is missed).
#[test]
fn catalog_reads_folders_once() {
    let dir = tempfile::tempdir().unwrap();
    let variant =
        |name: &str| baclofen().replace("name = \"baclofen\"", &format!("name = \"{name}\""));
    write(dir.path(), "mybac.toml", &variant("mybac"));
    write(dir.path(), "gone.toml", &variant("gone"));
    let catalog = ProfileCatalog::scan(&dirs_of(dir.path()));
    write(dir.path(), "late.toml", &variant("late"));
    fs::remove_file(dir.path().join("gone.toml")).unwrap();
    for _ in 0..3 {
        assert_eq!(catalog.load("mybac").unwrap().name, "mybac");
        assert_eq!(catalog.load("diazepam").unwrap().name, "diazepam");
        // A path the system cannot read is an I/O error: exit 1.
        assert_eq!(catalog.load("./no/such.toml").unwrap_err().exit_code(), 1);
    }
    let err = catalog.load("late").unwrap_err().to_string();
    assert!(err.starts_with("unknown profile 'late'"), "{err}");
    // The scan knew `gone` and `mybac` besides the built-ins.
    let known = taper::profile::BUILTIN_PROFILES.len() + 2;
    assert!(
        err.contains(&format!("and {} more", known - MAX_KNOWN_PROFILES_SHOWN)),
        "{err}"
    );
    let err = catalog.load("gone").unwrap_err().to_string();
    assert!(err.starts_with("cannot read profile"), "{err}");
    // The one-shot functions see the folder as it is now.
    assert_eq!(
        profile::load("late", &dirs_of(dir.path())).unwrap().name,
        "late"
    );
    assert!(profile::all_names(&dirs_of(dir.path())).contains(&"late".to_string()));
}

/// `TAPER_PROFILES=.` let a baclofen.toml replace the built-in with only
/// the provenance line showing it: the caller is told which file shadows it.
#[test]
fn shadowing_a_builtin_is_reported_to_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "baclofen.toml",
        &baclofen().replace("display_name = \"Baclofen\"", "display_name = \"Mine\""),
    );
    write(
        dir.path(),
        "mybac.toml",
        &baclofen().replace("name = \"baclofen\"", "name = \"mybac\""),
    );
    let dirs = dirs_of(dir.path());
    let catalog = ProfileCatalog::scan(&dirs);
    for found in [
        profile::find("baclofen", &dirs).unwrap(),
        catalog.find("Baclofen").unwrap(),
    ] {
        assert_eq!(found.profile.display_name, "Mine");
        assert_eq!(found.shadows_builtin.as_deref(), Some(path.as_path()));
        assert_eq!(
            found.shadow_note().unwrap(),
            format!(
                "the user profile {} replaces the built-in profile 'baclofen'",
                path.display()
            )
        );
    }
    for found in [
        profile::find("mybac", &dirs).unwrap(),
        catalog.find("mybac").unwrap(),
        profile::find("diazepam", &dirs).unwrap(),
        catalog.find(path.to_str().unwrap()).unwrap(),
    ] {
        assert_eq!(found.shadows_builtin, None);
        assert_eq!(found.shadow_note(), None);
    }
}
