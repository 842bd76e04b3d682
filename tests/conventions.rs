//! The command-line conventions users expect (issue 9, item 6) and
//! calendars for many patients (item 8), through the real binary:
//! completions, the man page, `-o -`, `profiles check -`, the XDG profile
//! folder, `-q`, `--times 8:00`, hints, failed writes, and
//! `taper batch --format ics|html --out-dir DIR`.

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;

mod common;
use scraper::{Html, Selector};

const START: &str = "2026-12-01";

/// taper with no profile folder from the environment: HOME and
/// XDG_CONFIG_HOME point at an empty folder unless a test sets them.
fn taper() -> Command {
    let mut c = Command::cargo_bin("taper").unwrap();
    c.env_remove("TAPER_PROFILES")
        .env_remove("NO_COLOR")
        .env("HOME", "/nonexistent-taper-home")
        .env_remove("XDG_CONFIG_HOME");
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("run taper")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("UTF-8")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `taper ARGS`, expecting exit 0; returns (stdout, stderr).
fn ok(args: &[&str]) -> (String, String) {
    let mut c = taper();
    c.args(args);
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    (text(&o.stdout), text(&o.stderr))
}

/// Runs `c`, expecting exit `code`, nothing on stdout and one `error:`
/// line containing every needle; returns that line.
fn fails(c: Command, code: i32, needles: &[&str]) -> String {
    let o = run(c);
    assert_eq!(o.status.code(), Some(code), "{}", show(&o));
    assert!(o.stdout.is_empty(), "{}", show(&o));
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want one stderr line:\n{}", show(&o));
    assert!(lines[0].starts_with("error: "), "{}", show(&o));
    for n in needles {
        assert!(lines[0].contains(n), "stderr lacks {n:?}:\n{}", show(&o));
    }
    lines[0].to_string()
}

fn fails_args(args: &[&str], code: i32, needles: &[&str]) -> String {
    let mut c = taper();
    c.args(args);
    fails(c, code, needles)
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built-in baclofen profile renamed, so which folder it came from
/// shows in the plan's first line.
fn write_variant(dir: &Path, name: &str, display_name: &str) {
    let src = fs::read_to_string(manifest_dir().join("profiles/baclofen.toml")).unwrap();
    let mut out = String::new();
    for line in src.lines() {
        if line.starts_with("name = ") {
            out.push_str(&format!("name = \"{name}\"\n"));
        } else if line.starts_with("display_name = ") {
            out.push_str(&format!("display_name = \"{display_name}\"\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(format!("{name}.toml")), out).unwrap();
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ------------------------------------------------ completions and man page

#[test]
fn completions_for_every_shell_name_the_commands_and_flags() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (script, stderr) = ok(&["completions", shell]);
        assert!(stderr.is_empty(), "{shell}: {stderr}");
        assert!(script.len() > 1000, "{shell}: {script}");
        for word in [
            "plan",
            "batch",
            "profiles",
            "completions",
            "dose",
            "strategy",
        ] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
        // Value enums are offered as completions.
        assert!(script.contains("hyperbolic"), "{shell}");
    }
    let mut c = taper();
    c.args(["completions", "tcsh"]);
    assert_eq!(run(c).status.code(), Some(2));
}

#[test]
fn the_bash_completion_script_parses() {
    let (script, _) = ok(&["completions", "bash"]);
    let dir = tempdir();
    let path = dir.path().join("taper.bash");
    fs::write(&path, &script).unwrap();
    let o = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(o.status.success(), "bash -n: {}", show(&o));
    // And defines the completion for `taper`.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p taper", path.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    assert!(text(&o.stdout).contains("taper"), "{}", show(&o));
}

fn have(tool: &str) -> bool {
    Command::new("which")
        .arg(tool)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let (page, stderr) = ok(&["man"]);
    assert!(stderr.is_empty(), "{stderr}");
    let th = page.lines().position(|l| l.starts_with(".TH taper 1"));
    assert!(th.is_some(), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION"] {
        assert!(page.lines().any(|l| l == section), "no {section}:\n{page}");
    }
    for sub in [
        "TAPER PLAN",
        "TAPER BATCH",
        "TAPER PROFILES CHECK",
        "TAPER MAN",
    ] {
        assert!(page.contains(&format!(".SH \"{sub}\"")), "no {sub}");
    }
    // roff spells a hyphen `\-`.
    for flag in ["dose", "out\\-dir", "quiet", "times"] {
        assert!(page.contains(&format!("\\-\\-{flag}")), "no --{flag}");
    }
    if have("groff") {
        let dir = tempdir();
        let path = dir.path().join("taper.1");
        fs::write(&path, &page).unwrap();
        let o = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", show(&o));
        assert!(o.stderr.is_empty(), "groff warns: {}", show(&o));
        let shown = text(&o.stdout);
        // groff may render hyphens as U+2010; compare without them.
        let plain = shown.replace(['\u{2010}', '\u{2212}'], "-");
        assert!(plain.contains("--dose"), "{plain}");
        assert!(
            plain.contains("Draft a day-by-day taper schedule"),
            "{plain}"
        );
    }
}

// ------------------------------------------------------------- -o - and stdin

#[test]
fn dash_output_is_stdout() {
    let dir = tempdir();
    let mut c = taper();
    c.current_dir(dir.path()).args([
        "plan", "baclofen", "--dose", "60mg", "--start", START, "-o", "-",
    ]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let table = text(&o.stdout);
    assert!(table.starts_with("Baclofen taper schedule"), "{table}");
    // Piped: never coloured.
    assert!(!table.contains('\x1b'));
    // Same bytes as without -o.
    let (plain, _) = ok(&["plan", "baclofen", "--dose", "60mg", "--start", START]);
    assert_eq!(table, plain);

    for (format, start) in [
        ("csv", "date,day,step"),
        ("json", "{"),
        ("ics", "BEGIN:VCALENDAR"),
    ] {
        let mut c = taper();
        c.current_dir(dir.path()).args([
            "plan", "baclofen", "--dose", "60mg", "--start", START, "--format", format, "-o", "-",
        ]);
        let o = run(c);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        assert!(text(&o.stdout).starts_with(start), "{format}: {}", show(&o));
        if format == "json" {
            common::assert_valid_plan_json(&serde_json::from_slice(&o.stdout).unwrap());
        }
    }

    let req = dir.path().join("req.csv");
    fs::write(&req, "id,profile,dose,start\np1,baclofen,60mg,2026-12-01\n").unwrap();
    let mut c = taper();
    c.current_dir(dir.path())
        .args(["batch", "req.csv", "-o", "-"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        text(&o.stdout).starts_with("id,date,day,step"),
        "{}",
        show(&o)
    );
    let (plain, _) = {
        let mut c = taper();
        c.current_dir(dir.path()).args(["batch", "req.csv"]);
        let o = run(c);
        (text(&o.stdout), o)
    };
    assert_eq!(text(&o.stdout), plain);
    // No file called `-` was made.
    assert!(!dir.path().join("-").exists());
}

fn check_stdin(profile_text: &str, extra: &[&str]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut c = taper();
    c.args(["profiles", "check", "-"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    // taper may refuse before reading (`-` given twice) and close the pipe.
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(profile_text.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn profiles_check_dash_reads_stdin() {
    let good = fs::read_to_string(manifest_dir().join("profiles/baclofen.toml")).unwrap();
    let o = check_stdin(&good, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        text(&o.stdout).starts_with("<stdin>: ok (profile 'baclofen'"),
        "{}",
        show(&o)
    );

    let o = check_stdin("name = \"bad\"\nunit = [\n", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = text(&o.stderr);
    // The array opened on line 2 is never closed.
    assert!(err.starts_with("error: <stdin>:2:"), "{err}");

    // Standard input can be read once only.
    let o = check_stdin(&good, &["-"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("only once"), "{}", show(&o));
}

#[test]
fn an_unreadable_profile_is_an_io_error() {
    // README: I/O errors exit 1; a file that is not a profile exits 2.
    let dir = tempdir();
    let missing = dir.path().join("missing.toml");
    let m = missing.to_str().unwrap();
    fails_args(&["profiles", "check", m], 1, &["cannot read profile", m]);
    fails_args(&["profiles", "show", m], 1, &["cannot read profile"]);
    fails_args(&["plan", m, "--dose", "60mg"], 1, &["cannot read profile"]);
    let d = dir.path().to_str().unwrap();
    fails_args(&["profiles", "check", d], 2, &["not a regular file"]);
}

// --------------------------------------------------------- XDG profile folder

fn plan_title(c: &mut Command) -> String {
    c.args(["plan", "mybac", "--dose", "60mg", "--start", START]);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    text(&o.stdout).lines().next().unwrap().to_string()
}

#[test]
fn the_user_profile_folder_follows_xdg() {
    let home = tempdir();
    let xdg = tempdir();
    write_variant(
        &home.path().join(".config/taper/profiles"),
        "mybac",
        "Home Bac",
    );

    // XDG_CONFIG_HOME unset, empty or relative: ~/.config/taper/profiles.
    for xdg_value in [None, Some(""), Some("relative/config")] {
        let mut c = taper();
        c.env("HOME", home.path());
        if let Some(v) = xdg_value {
            c.env("XDG_CONFIG_HOME", v);
        }
        assert!(
            plan_title(&mut c).starts_with("Home Bac taper"),
            "{xdg_value:?}"
        );
    }

    // An absolute XDG_CONFIG_HOME replaces ~/.config.
    let mut c = taper();
    c.env("HOME", home.path())
        .env("XDG_CONFIG_HOME", xdg.path());
    c.args(["plan", "mybac", "--dose", "60mg"]);
    fails(c, 2, &["unknown profile 'mybac'"]);
    write_variant(&xdg.path().join("taper/profiles"), "mybac", "Xdg Bac");
    let mut c = taper();
    c.env("HOME", home.path())
        .env("XDG_CONFIG_HOME", xdg.path());
    assert!(plan_title(&mut c).starts_with("Xdg Bac taper"));

    // $TAPER_PROFILES and --profiles-dir come first.
    let env = tempdir();
    write_variant(env.path(), "mybac", "Env Bac");
    let mut c = taper();
    c.env("XDG_CONFIG_HOME", xdg.path())
        .env("TAPER_PROFILES", env.path());
    assert!(plan_title(&mut c).starts_with("Env Bac taper"));

    // A user folder may replace a built-in, and says so.
    write_variant(
        &xdg.path().join("taper/profiles"),
        "baclofen",
        "Xdg Baclofen",
    );
    let mut c = taper();
    c.env("XDG_CONFIG_HOME", xdg.path())
        .args(["plan", "baclofen", "--dose", "60mg", "--start", START]);
    let o = run(c);
    assert!(
        text(&o.stdout).starts_with("Xdg Baclofen taper"),
        "{}",
        show(&o)
    );
    assert!(text(&o.stderr).contains("replaces the built-in profile 'baclofen'"));
}

#[test]
fn profiles_lists_the_folders_it_searched() {
    let home = tempdir();
    let flag = tempdir();
    let mut c = taper();
    c.env("HOME", home.path())
        .args(["profiles", "--profiles-dir"])
        .arg(flag.path());
    let o = run(c);
    // A missing user folder is no error.
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(o.stderr.is_empty(), "{}", show(&o));
    let out = text(&o.stdout);
    let tail: Vec<&str> = out.lines().skip_while(|l| !l.is_empty()).collect();
    let user = home.path().join(".config/taper/profiles");
    assert_eq!(
        tail,
        [
            "".to_string(),
            "Profile folders searched, in order (the first match wins):".to_string(),
            format!("  {} (--profiles-dir)", flag.path().display()),
            format!(
                "  {} (~/.config/taper/profiles, not present)",
                user.display()
            ),
            "  built-in profiles".to_string(),
        ],
        "{out}"
    );

    let xdg = tempdir();
    fs::create_dir_all(xdg.path().join("taper/profiles")).unwrap();
    let mut c = taper();
    c.env("XDG_CONFIG_HOME", xdg.path()).arg("profiles");
    let out = text(&run(c).stdout);
    let folder = xdg.path().join("taper/profiles");
    assert!(
        out.contains(&format!(
            "  {} ($XDG_CONFIG_HOME/taper/profiles)\n",
            folder.display()
        )),
        "{out}"
    );
}

// --------------------------------------------------------------------- quiet

#[test]
fn quiet_silences_notes_never_warnings_or_errors() {
    let base = ["plan", "baclofen", "--dose", "60mg", "--start", START];
    let csv = [&base[..], &["--format", "csv"]].concat();
    let (loud_out, loud_err) = ok(&csv);
    assert!(loud_err.starts_with("note: "), "{loud_err}");
    for q in ["-q", "--quiet"] {
        let (out, err) = ok(&[&csv[..], &[q]].concat());
        assert!(err.is_empty(), "{q}: {err}");
        assert_eq!(out, loud_out, "{q} changes the output");
    }
    // -q is global: before the subcommand too.
    let (_, err) = ok(&[&["-q"][..], &csv].concat());
    assert!(err.is_empty(), "{err}");

    // The disclaimer stays inside the formats that carry it.
    let (json, _) = ok(&[&base[..], &["--format", "json", "-q"]].concat());
    assert!(json.contains("prescriber oversight"), "{json}");
    common::assert_valid_plan_json(&serde_json::from_str(&json).unwrap());
    let (table, _) = ok(&[&base[..], &["-q"]].concat());
    assert!(table.contains("prescriber oversight"), "{table}");

    // Warnings stay.
    let fast = [&csv[..], &["--step", "20mg", "-q"]].concat();
    let (_, err) = ok(&fast);
    assert!(
        !err.is_empty() && err.lines().all(|l| l.starts_with("warning: ")),
        "{err}"
    );

    // Errors stay.
    fails_args(
        &["plan", "nosuch", "--dose", "60mg", "-q"],
        2,
        &["unknown profile"],
    );
}

#[test]
fn quiet_batch_reports_only_bad_rows() {
    let dir = tempdir();
    let req = dir.path().join("req.csv");
    fs::write(
        &req,
        "id,profile,dose,start\np1,baclofen,60mg,2026-12-01\np2,nosuch,60mg,2026-12-01\n",
    )
    .unwrap();
    let mut c = taper();
    c.args(["batch", "-q"]).arg(&req);
    let o = run(c);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("line 3 (id p2): unknown profile 'nosuch'"),
        "{err}"
    );
}

// --------------------------------------------------------------------- times

fn ics(extra: &[&str]) -> Output {
    let mut c = taper();
    c.args([
        "plan", "baclofen", "--dose", "60mg", "--start", START, "--format", "ics",
    ])
    .args(extra);
    run(c)
}

#[test]
fn times_accept_a_one_digit_hour() {
    let short = ics(&["--times", "8:00,14:00,20:00"]);
    assert_eq!(short.status.code(), Some(0), "{}", show(&short));
    let long = ics(&["--times", "08:00,14:00,20:00"]);
    assert_eq!(short.stdout, long.stdout);
    assert!(text(&short.stdout).contains("T080000"));
    let mixed = ics(&["--times", " 7:30, 9:05 ,21:45"]);
    assert_eq!(mixed.status.code(), Some(0), "{}", show(&mixed));
    assert!(text(&mixed.stdout).contains("T073000"));

    for bad in [
        "8", "8:0", "24:00", "08:00:00", "8:000", "008:00", "8h00", "+8:00", "-8:00", "8:60",
    ] {
        let o = ics(&[&format!("--times={bad},14:00,20:00")]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", show(&o));
        let err = text(&o.stderr);
        assert!(err.contains(&format!("time '{bad}'")), "{bad}: {err}");
        assert!(err.contains("H:MM or HH:MM"), "{err}");
    }
}

// --------------------------------------------------------------------- hints

#[test]
fn swapped_arguments_get_a_hint() {
    let line = fails_args(
        &["plan", "60mg", "--dose", "baclofen"],
        2,
        &["unknown profile '60mg'"],
    );
    assert!(
        line.ends_with("did you swap them? try: taper plan baclofen --dose 60mg"),
        "{line}"
    );
    let line = fails_args(&["plan", "60 mg", "--dose", "Diazepam"], 2, &[]);
    assert!(
        line.ends_with("try: taper plan Diazepam --dose '60 mg'"),
        "{line}"
    );
    // No hint when it would not help.
    for args in [
        ["plan", "60mg", "--dose", "nosuch"],
        ["plan", "baclofn", "--dose", "60mg"],
    ] {
        let line = fails_args(&args, 2, &["unknown profile"]);
        assert!(!line.contains("swap"), "{line}");
    }
}

#[test]
fn a_decimal_comma_gets_a_decimal_point_hint() {
    let plan = ["plan", "baclofen", "--start", START];
    for (flag, value, fixed) in [
        ("--dose", "60,5mg", "60.5mg"),
        ("--step", "2,5mg", "2.5mg"),
        ("--target", "7,5", "7.5"),
        ("--percent", "12,5", "12.5"),
    ] {
        let mut args = plan.to_vec();
        if flag != "--dose" {
            args.extend(["--dose", "60mg"]);
        }
        args.extend([flag, value]);
        let line = fails_args(&args, 2, &[value]);
        assert!(
            line.ends_with(&format!("(accepted: use a decimal point: {fixed})")),
            "{flag}: {line}"
        );
    }
    // A batch row gets the same message.
    let dir = tempdir();
    let req = dir.path().join("req.csv");
    fs::write(&req, "id,profile,dose\np1,baclofen,\"60,5mg\"\n").unwrap();
    let mut c = taper();
    c.arg("batch").arg(&req);
    let o = run(c);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("use a decimal point: 60.5mg"),
        "{}",
        show(&o)
    );
}

// -------------------------------------------------------------- failed write

#[test]
fn a_failed_write_never_shows_the_temporary_file() {
    let dir = tempdir();
    let target = dir.path().join("no/such/folder/x.csv");
    let t = target.to_str().unwrap();
    let line = fails_args(
        &["plan", "baclofen", "--dose", "60mg", "-o", t, "-q"],
        1,
        &["cannot write", t],
    );
    // The target is the only path named.
    let rest = line
        .strip_prefix(&format!("error: cannot write {t}: "))
        .expect(&line);
    assert!(!rest.contains('/') && !rest.contains(".taper-"), "{line}");
    // A read-only folder fails when the twin is created.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        fs::create_dir(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        let target = ro.join("x.csv");
        let o = run({
            let mut c = taper();
            c.args(["plan", "baclofen", "--dose", "60mg", "-q", "-o"])
                .arg(&target);
            c
        });
        // root may write anyway; otherwise the message names only the target.
        if o.status.code() == Some(1) {
            let err = text(&o.stderr);
            assert!(err.contains(target.to_str().unwrap()), "{err}");
            let t = target.to_str().unwrap();
            let rest = err
                .strip_prefix(&format!("error: cannot write {t}: "))
                .expect(&err);
            assert!(!rest.contains('/') && !rest.contains(".taper-"), "{err}");
        }
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

// -------------------------------------------------- batch calendars per row

const REQUESTS: &str = "id,profile,dose,start,patient\n\
p-001,baclofen,60mg,2026-12-01,\"Smith, John\"\n\
p-002,diazepam,20mg,2026-12-01,\n";

fn batch_in(dir: &Path, requests: &str, args: &[&str]) -> Output {
    let req = dir.join("requests.csv");
    fs::write(&req, requests).unwrap();
    let mut c = taper();
    c.current_dir(dir).arg("batch").arg(&req).args(args);
    run(c)
}

/// Files in `dir`, hidden ones included, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn parse_ics(bytes: &[u8]) -> ical::parser::ical::component::IcalCalendar {
    let mut cals: Vec<_> = ical::IcalParser::new(BufReader::new(bytes))
        .collect::<Result<_, _>>()
        .expect("the ical crate parses the calendar");
    assert_eq!(cals.len(), 1);
    cals.remove(0)
}

#[test]
fn batch_writes_one_calendar_per_row() {
    let dir = tempdir();
    let out = dir.path().join("cals");
    let o = batch_in(
        dir.path(),
        REQUESTS,
        &["--format", "ics", "--out-dir", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // DIR was created; one file per row; stdout lists them.
    assert_eq!(listing(&out), ["p-001.ics", "p-002.ics"]);
    let written: Vec<String> = text(&o.stdout).lines().map(String::from).collect();
    assert_eq!(
        written,
        [
            out.join("p-001.ics").display().to_string(),
            out.join("p-002.ics").display().to_string()
        ]
    );
    // Each is the calendar `taper plan` makes for that row.
    let cal = parse_ics(&fs::read(out.join("p-001.ics")).unwrap());
    assert!(!cal.events.is_empty());
    // A batch row's default plan id includes the row id (so two rows never
    // share one): `plan` gets the same id to give the same calendar.
    let first = fs::read_to_string(out.join("p-001.ics")).unwrap();
    let second = fs::read_to_string(out.join("p-002.ics")).unwrap();
    assert_ne!(plan_id_of(&first), plan_id_of(&second));
    let (plan, _) = ok(&[
        "plan",
        "baclofen",
        "--dose",
        "60mg",
        "--start",
        START,
        "--format",
        "ics",
        "--patient",
        "Smith, John",
        "--plan-id",
        &plan_id_of(&first),
    ]);
    assert_eq!(first, plan);
    let (plan, _) = ok(&[
        "plan",
        "diazepam",
        "--dose",
        "20mg",
        "--start",
        START,
        "--format",
        "ics",
        "--plan-id",
        &plan_id_of(&second),
    ]);
    assert_eq!(second, plan);

    // HTML likewise; -q lists nothing.
    let html_dir = dir.path().join("html");
    let o = batch_in(
        dir.path(),
        REQUESTS,
        &["--format", "HTML", "--out-dir", "html", "-q"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", show(&o));
    assert_eq!(listing(&html_dir), ["p-001.html", "p-002.html"]);
    let page = fs::read_to_string(html_dir.join("p-001.html")).unwrap();
    let doc = Html::parse_document(&page);
    let title = doc
        .select(&Selector::parse("title").unwrap())
        .next()
        .expect("a title")
        .text()
        .collect::<String>();
    assert!(title.contains("Baclofen"), "{title}");
    assert!(page.contains("Smith, John"));
}

#[test]
fn batch_calendar_ids_never_leave_the_folder() {
    let dir = tempdir();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let bad_ids = [
        "../x", "/abs", "a/b", ".", "..", ".hidden", "CON", "nul.txt", "a b", "a\\b",
    ];
    let mut requests = String::from("id,profile,dose,start\n");
    for id in bad_ids {
        requests.push_str(&format!("\"{id}\",baclofen,60mg,2026-12-01\n"));
    }
    requests.push_str("good,baclofen,60mg,2026-12-01\n");
    let o = batch_in(
        dir.path(),
        &requests,
        &["--format", "ics", "--out-dir", "out"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert_eq!(listing(&out), ["good.ics"]);
    assert_eq!(listing(dir.path()), ["out", "requests.csv"]);
    let err = text(&o.stderr);
    for (i, id) in bad_ids.iter().enumerate() {
        let line = format!(
            "line {} (id {id}): id '{id}' cannot name a calendar file",
            i + 2
        );
        assert!(err.contains(&line), "{line}\n{err}");
    }
    assert!(!Path::new("/abs.ics").exists());

    // With --strict the first bad id stops the run: nothing written, and a
    // folder the run created is removed again.
    let fresh = dir.path().join("fresh");
    let o = batch_in(
        dir.path(),
        &requests,
        &["--format", "ics", "--out-dir", "fresh", "--strict"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("line 2 (id ../x)"), "{}", show(&o));
    assert!(!fresh.exists());
}

#[test]
fn batch_calendars_never_overwrite_without_force() {
    let dir = tempdir();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("p-002.ics"), "mine").unwrap();
    let o = batch_in(
        dir.path(),
        REQUESTS,
        &["--format", "ics", "--out-dir", "out"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("p-002.ics already exists (use --force"),
        "{err}"
    );
    // Refused before anything was written: p-001 is not there either, and
    // no temporary twin is left.
    assert_eq!(listing(&out), ["p-002.ics"]);
    assert_eq!(fs::read_to_string(out.join("p-002.ics")).unwrap(), "mine");

    let o = batch_in(
        dir.path(),
        REQUESTS,
        &["--format", "ics", "--out-dir", "out", "--force"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(listing(&out), ["p-001.ics", "p-002.ics"]);
    assert!(fs::read_to_string(out.join("p-002.ics"))
        .unwrap()
        .starts_with("BEGIN:VCALENDAR"));
}

#[test]
fn batch_calendar_names_are_unique_per_batch() {
    let dir = tempdir();
    let requests = "id,profile,dose,start\n\
a1,baclofen,60mg,2026-12-01\n\
A1,diazepam,20mg,2026-12-01\n\
a1,baclofen,30mg,2026-12-01\n";
    let o = batch_in(
        dir.path(),
        requests,
        &["--format", "ics", "--out-dir", "out"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "line 3 (id A1): id 'A1' gives the file name A1.ics, already used by the row on line 2"
        ),
        "{err}"
    );
    assert!(err.contains("line 4 (id a1)"), "{err}");
    assert_eq!(listing(&dir.path().join("out")), ["a1.ics"]);
    // The first row's plan, not a later one's.
    assert!(fs::read_to_string(dir.path().join("out/a1.ics"))
        .unwrap()
        .contains("Baclofen 45 mg/day"));
}

#[test]
fn batch_out_dir_goes_with_ics_and_html_only() {
    let dir = tempdir();
    for (args, needle) in [
        (&["--format", "ics"][..], "needs --out-dir"),
        (
            &["--format", "html", "-o", "x.html", "--out-dir", "o"][..],
            "-o does not apply",
        ),
        (&["--out-dir", "o"][..], "--out-dir applies only"),
        (
            &["--format", "jsonl", "--out-dir", "o"][..],
            "--out-dir applies only",
        ),
    ] {
        let o = batch_in(dir.path(), REQUESTS, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
        assert!(text(&o.stderr).contains(needle), "{args:?}: {}", show(&o));
        assert!(o.stdout.is_empty());
    }
    assert_eq!(listing(dir.path()), ["requests.csv"]);
    // A missing parent is not created: exit 1.
    let o = batch_in(
        dir.path(),
        REQUESTS,
        &["--format", "ics", "--out-dir", "no/such"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(text(&o.stderr).contains("its parent folder must exist"));
    // A file where the folder should be: exit 1.
    let o = batch_in(
        dir.path(),
        REQUESTS,
        &["--format", "ics", "--out-dir", "requests.csv"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(text(&o.stderr).contains("not a folder"), "{}", show(&o));
}

// ---------------------------------------------------------------------- help

#[test]
fn short_and_long_help_differ_and_group_options() {
    let (short, _) = ok(&["plan", "-h"]);
    let (long, _) = ok(&["plan", "--help"]);
    assert!(short.len() * 3 / 2 < long.len(), "-h is not shorter");
    for heading in ["Taper:", "Products:", "Output:", "Calendar:", "Profiles:"] {
        assert!(
            short.lines().any(|l| l == heading),
            "-h lacks {heading}\n{short}"
        );
        assert!(long.lines().any(|l| l == heading), "--help lacks {heading}");
    }
    // The flags sit under their headings.
    let under = |help: &str, heading: &str, flag: &str| {
        let block: String = help
            .lines()
            .skip_while(|l| *l != heading)
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        block.contains(flag)
    };
    assert!(under(&short, "Taper:", "--strategy"));
    assert!(under(&short, "Products:", "--strengths"));
    assert!(under(&short, "Calendar:", "--times"));
    assert!(under(&short, "Output:", "--format"));
    assert!(under(&short, "Profiles:", "--profiles-dir"));
    // Only the long help has every example and the long explanations.
    let example = "taper plan sertraline --dose 100mg --strategy percent";
    assert!(long.contains(example) && !short.contains(example));
    assert!(long.contains("Use a decimal point") && !short.contains("Use a decimal point"));
    let (top_short, _) = ok(&["-h"]);
    let (top_long, _) = ok(&["--help"]);
    assert!(top_long.contains("Exit codes:") && !top_short.contains("Exit codes:"));
    for cmd in ["completions", "man"] {
        assert!(top_short.contains(cmd), "{top_short}");
    }
}

#[test]
fn color_is_offered_only_where_a_table_is_printed() {
    let (plan, _) = ok(&["plan", "--help"]);
    assert!(plan.contains("--color"));
    for args in [
        &["batch", "--help"][..],
        &["profiles", "--help"],
        &["profiles", "check", "--help"],
        &["completions", "--help"],
        &["--help"],
    ] {
        let (help, _) = ok(args);
        assert!(!help.contains("--color"), "{args:?}:\n{help}");
    }
    let mut c = taper();
    c.args(["profiles", "list", "--color", "never"]);
    assert_eq!(run(c).status.code(), Some(2));
}

#[test]
fn value_names_ignore_case() {
    let base = ["plan", "baclofen", "--dose", "60mg", "--start", START];
    let (lower, _) = ok(&[&base[..], &["--format", "csv", "--view", "days"]].concat());
    let (upper, _) = ok(&[&base[..], &["--format", "CSV", "--view", "Days"]].concat());
    assert_eq!(lower, upper);
    let (lower, _) = ok(&[&base[..], &["--strategy", "linear", "--color", "never"]].concat());
    let (upper, _) = ok(&[&base[..], &["--strategy", "Linear", "--color", "NEVER"]].concat());
    assert_eq!(lower, upper);
    let (script, _) = ok(&["completions", "Bash"]);
    assert!(script.contains("_taper"));
    // Still only the accepted values.
    let mut c = taper();
    c.args(base).args(["--format", "xls"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("possible values: table, csv, json, ics, html"));
}

#[test]
fn a_decimal_comma_in_a_schedule_gets_the_schedule_to_type() {
    let base = ["plan", "prednisone", "--dose", "40mg", "--start", START];
    let line = fails_args(
        &[&base[..], &["--schedule", "40x7,20x7,7,5x7,2,5x7"]].concat(),
        2,
        &["schedule entry '7'"],
    );
    assert!(
        line.ends_with("a decimal comma? use a decimal point: 40x7,20x7,7.5x7,2.5x7"),
        "{line}"
    );
    // No hint where merging would not help.
    let line = fails_args(&[&base[..], &["--schedule", "40x7,20"]].concat(), 2, &[]);
    assert!(!line.contains("decimal"), "{line}");
}

/// The plan id in a calendar's first UID (`<hash>-<plan id>@taper`).
fn plan_id_of(ics: &str) -> String {
    let uid = ics
        .lines()
        .find_map(|l| l.strip_prefix("UID:"))
        .expect("a UID");
    let (_, rest) = uid.split_once('-').expect("hash-planid");
    rest.trim_end_matches("@taper").to_string()
}
