//! `taper serve` driven as a client would: the real binary on a free port
//! (`--listen 127.0.0.1:0`), its URL read from its first stdout line, every
//! request sent over HTTP with `reqwest`. Expectations come from the CLI
//! run with the same arguments (`taper plan`, `taper batch`, `taper
//! profiles`), never from the server's code. The contract is the `taper
//! serve` section of the README. No test measures time: the machine is
//! shared.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Arc, Barrier, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use scraper::{ElementRef, Html, Selector};
use serde_json::{json, Value};

const START: &str = "2026-12-01";
/// A patient name that must never reach the server's log.
const PATIENT: &str = "Zebulon Quartermain-Vex";
/// The largest request body the server reads (64 KiB).
const BODY_LIMIT: usize = 64 * 1024;
/// Every member a `POST /api/plan` object may have.
const MEMBERS: [&str; 21] = [
    "id",
    "profile",
    "dose",
    "start",
    "strategy",
    "step",
    "percent",
    "interval",
    "target",
    "doses_per_day",
    "strengths",
    "form",
    "schedule",
    "occupancy_step",
    "patient",
    "plan_id",
    "final_hold",
    "market",
    "switch_to",
    "switch_interval",
    "supply",
];
/// (`?format=`, `Accept`, `Content-Type`) of every answer format.
const FORMATS: [(&str, &str, &str); 6] = [
    ("json", "application/json", "application/json"),
    ("csv", "text/csv", "text/csv; charset=utf-8"),
    ("ics", "text/calendar", "text/calendar; charset=utf-8"),
    ("html", "text/html", "text/html; charset=utf-8"),
    ("fhir", "application/fhir+json", "application/fhir+json"),
    ("table", "text/plain", "text/plain; charset=utf-8"),
];
/// A request that takes the engine and the HTML renderer a while (a
/// 5%-a-step diazepam taper, a page of over a megabyte).
const HEAVY: [(&str, &str); 6] = [
    ("profile", "diazepam"),
    ("dose", "40mg"),
    ("start", START),
    ("strategy", "percent"),
    ("percent", "5"),
    ("interval", "28"),
];

// ------------------------------------------------------------------ the CLI

/// The real binary, kept apart from the developer's surroundings as
/// `common::taper()` keeps it: no `$TAPER_PROFILES`, no user profile
/// folder, no inherited `COLUMNS` or `NO_COLOR`. The server and the CLI
/// runs it is compared with get the same environment.
fn taper() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taper"));
    c.env_remove("TAPER_PROFILES")
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .env("XDG_CONFIG_HOME", "/nonexistent/taper-tests/config");
    c
}

fn run_cli<S: AsRef<OsStr>>(args: &[S], stdin: Option<&str>) -> Output {
    let mut c = taper();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run taper");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn show_args<S: AsRef<OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stdout of `taper ARGS`, which must succeed.
fn cli_ok<S: AsRef<OsStr>>(args: &[S]) -> Vec<u8> {
    let o = run_cli(args, None);
    assert!(
        o.status.success(),
        "taper {}: exit {:?}\n{}",
        show_args(args),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// What `taper ARGS` prints after `error: ` when it refuses them (exit 2).
fn cli_refusal<S: AsRef<OsStr>>(args: &[S]) -> String {
    let o = run_cli(args, None);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(2),
        "taper {} should be refused with exit 2:\n{err}",
        show_args(args)
    );
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    lines[0]["error: ".len()..].to_string()
}

/// What `taper batch` says of its one row (id `A`), built from `fields`,
/// when it skips it: the words after `line 2 (id A): `.
fn batch_refusal(fields: &[(&str, &str)]) -> String {
    let header: Vec<&str> = std::iter::once("id")
        .chain(fields.iter().map(|(k, _)| *k))
        .collect();
    let row: Vec<&str> = std::iter::once("A")
        .chain(fields.iter().map(|(_, v)| *v))
        .collect();
    let input = format!("{}\n{}\n", header.join(","), row.join(","));
    let o = run_cli(&["batch", "-", "-q"], Some(&input));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(3), "batch {input}: {err}");
    let prefix = "line 2 (id A): ";
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {err}"));
    line.to_string()
}

/// `taper plan` arguments for a request given as (member, value) pairs
/// (every member but `id` is a `taper plan` option of the same name).
fn plan_args(fields: &[(&str, &str)]) -> Vec<String> {
    let profile = fields
        .iter()
        .find(|(k, _)| *k == "profile")
        .expect("a request names its profile")
        .1;
    let mut args = vec!["plan".to_string(), profile.to_string()];
    for (k, v) in fields {
        match *k {
            "profile" => {}
            "id" => panic!("`id` has no `taper plan` option"),
            k => {
                args.push(format!("--{}", k.replace('_', "-")));
                args.push(v.to_string());
            }
        }
    }
    args
}

fn with(args: &[String], more: &[&str]) -> Vec<String> {
    args.iter()
        .cloned()
        .chain(more.iter().map(|s| s.to_string()))
        .collect()
}

/// The JSON object of a request given as (member, value) pairs.
fn object(fields: &[(&str, &str)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect(),
    )
}

// --------------------------------------------------------------- the server

/// A running `taper serve`, killed when dropped. `stop` ends it as an
/// operator would (a signal) and checks how it ended.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/`, from the first stdout line.
    base: String,
    /// `127.0.0.1:PORT`.
    addr: String,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    stopped: bool,
}

/// How a server ended.
struct Stopped {
    status: ExitStatus,
    stderr: String,
}

impl Server {
    /// `taper serve --listen 127.0.0.1:0 EXTRA...`.
    fn start(extra: &[&str]) -> Server {
        Server::start_with_env(extra, &[])
    }

    /// The same, with these environment variables set.
    fn start_with_env(extra: &[&str], env: &[(&str, &OsStr)]) -> Server {
        // A free port on localhost, unless the test says where.
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = taper()
            .arg("serve")
            .args(listen)
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start taper serve");
        let mut err = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut s = String::new();
            err.read_to_string(&mut s).expect("stderr is UTF-8");
            s
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let _ = tx.send(first);
            let mut rest = String::new();
            let _ = r.read_to_string(&mut rest);
            rest
        });
        let first = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let url = first
            .strip_prefix("taper serve: listening on ")
            .and_then(|u| u.strip_suffix('\n'))
            .filter(|u| u.starts_with("http://") && u.ends_with('/'));
        let Some(url) = url else {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!("taper serve {extra:?}: first stdout line {first:?}; stderr:\n{err}");
        };
        let addr = url["http://".len()..url.len() - 1].to_string();
        Server {
            child,
            base: url.to_string(),
            addr,
            stdout: Some(stdout),
            stderr: Some(stderr),
            stopped: false,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on the pid of a child this test started and has
        // not yet waited for.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
    }

    /// Sends `sig`, waits for the exit (30 s at most), collects stderr, and
    /// checks what the contract says of every server's end: nothing more
    /// on stdout than the listening line; each stderr line a request log
    /// line; the patient's name nowhere.
    fn stop_with(mut self, sig: libc::c_int) -> Stopped {
        self.signal(sig);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("taper serve did not stop within 30 s of signal {sig}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        self.stopped = true;
        let rest = self.stdout.take().unwrap().join().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        assert_eq!(rest, "", "stdout after the listening line");
        // Notes when it starts, then nothing but request lines.
        for line in stderr.lines().skip_while(|l| l.starts_with("note: ")) {
            assert_log_line(line, &stderr);
        }
        assert!(
            !stderr.contains(PATIENT),
            "the patient's name is in the server's stderr:\n{stderr}"
        );
        Stopped { status, stderr }
    }

    /// SIGTERM; the server must exit 0.
    fn stop(self) -> String {
        let s = self.stop_with(libc::SIGTERM);
        assert_eq!(s.status.code(), Some(0), "exit after SIGTERM\n{}", s.stderr);
        s.stderr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `<UTC time RFC 3339> <METHOD> <PATH> <STATUS> <N.N>ms`.
fn assert_log_line(line: &str, all: &str) {
    let parts: Vec<&str> = line.split(' ').collect();
    let ok = parts.len() == 5
        && chrono::DateTime::parse_from_rfc3339(parts[0])
            .is_ok_and(|t| t.offset().local_minus_utc() == 0)
        && !parts[1].is_empty()
        && parts[1].bytes().all(|b| b.is_ascii_uppercase())
        && parts[2].starts_with('/')
        && !parts[2].contains('?')
        && parts[3].len() == 3
        && parts[3]
            .parse::<u16>()
            .is_ok_and(|s| (100..600).contains(&s))
        && parts[4].strip_suffix("ms").is_some_and(|ms| {
            ms.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.len() == 1
                    && b.bytes().all(|c| c.is_ascii_digit())
            })
        });
    assert!(ok, "not a request log line: {line:?}\nstderr:\n{all}");
}

/// (method, path, status) of each log line.
fn log_entries(stderr: &str) -> Vec<(String, String, u16)> {
    stderr
        .lines()
        .map(|l| {
            let p: Vec<&str> = l.split(' ').collect();
            (p[1].to_string(), p[2].to_string(), p[3].parse().unwrap())
        })
        .collect()
}

// ---------------------------------------------------------------- requests

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// An answer, read whole.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn from(r: Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().expect("read the answer").to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn html(&self) -> Html {
        Html::parse_document(&self.text())
    }

    /// The one-line `error` of a JSON error answer.
    fn error(&self) -> String {
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "error content type {ct:?}: {}",
            self.text()
        );
        let v = self.json();
        let obj = v.as_object().expect("an error object");
        assert_eq!(obj.len(), 1, "only `error`: {v}");
        let e = obj["error"].as_str().expect("`error` is a string");
        assert!(!e.is_empty() && !e.contains('\n'), "one line: {e:?}");
        e.to_string()
    }

    fn show(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let cut: String = text.chars().take(2000).collect();
        format!("{} {:?}\n{cut}", self.status, self.headers)
    }
}

fn send(rb: RequestBuilder) -> Answer {
    Answer::from(rb.send().expect("send the request"))
}

/// `POST /api/plan{query}` with a JSON body and an optional Accept.
fn post_plan(c: &Client, s: &Server, query: &str, accept: Option<&str>, body: &Value) -> Answer {
    let mut rb = c.post(s.url(&format!("api/plan{query}"))).json(body);
    if let Some(a) = accept {
        rb = rb.header("accept", a);
    }
    send(rb)
}

/// A request sent by hand over a TCP stream (no header added, nothing
/// read ahead): the request bytes are written as given, then the answer is
/// read until the server closes the connection.
fn raw(addr: &str, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request).unwrap();
    read_answer(&mut stream)
}

/// Reads one answer: until it is complete, or the server closes the
/// connection (a reset after the answer is fine), or 60 s pass.
fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let mut end = None;
    loop {
        if let Some(a) = parse_raw(&buf, false) {
            return a;
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Err(e) => {
                end = Some(e);
                break;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    parse_raw(&buf, true).unwrap_or_else(|| {
        panic!(
            "no whole answer in {:?} (read error: {end:?})",
            String::from_utf8_lossy(&buf)
        )
    })
}

/// The answer in `buf`, if it is all there (`eof`: nothing more comes).
fn parse_raw(buf: &[u8], eof: bool) -> Option<Answer> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {status_line:?}"));
    let mut headers = HeaderMap::new();
    for l in lines {
        let (k, v) = l.split_once(':').unwrap();
        headers.append(
            HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(v.trim()).unwrap(),
        );
    }
    let rest = &buf[end + 4..];
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.to_str().unwrap().eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let eol = at + rest.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&rest[at..eol]).unwrap();
            let size =
                usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
            at = eol + 2;
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(at..at + size)?);
            at += size + 2;
        }
        body
    } else if let Some(n) = headers.get("content-length") {
        let n: usize = n.to_str().unwrap().parse().unwrap();
        rest.get(..n)?.to_vec()
    } else if eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// The headers every answer carries.
fn assert_secure(a: &Answer, what: &str) {
    let csp = a
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy\n{}", a.show()));
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{what}: Content-Security-Policy {csp:?}"
    );
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(a.header(name), Some(value), "{what}: {name}\n{}", a.show());
    }
}

/// Byte equality, with the first differing line shown when not.
fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let (g, w) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
    let at = g
        .lines()
        .zip(w.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| g.lines().count().min(w.lines().count()));
    panic!(
        "{what}: {} bytes, the CLI gives {}; first different line {}:\n  server: {:?}\n  cli:    {:?}",
        got.len(),
        want.len(),
        at + 1,
        g.lines().nth(at),
        w.lines().nth(at)
    );
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text_of(e: ElementRef) -> String {
    e.text().collect::<String>()
}

/// Whitespace runs as one space, trimmed.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn one<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
    let found: Vec<ElementRef> = doc.select(&sel(css)).collect();
    assert_eq!(found.len(), 1, "{css}: {} elements", found.len());
    found[0]
}

/// The cells of a step table's body rows.
fn step_cells(table: ElementRef) -> Vec<Vec<String>> {
    table
        .select(&sel("tbody tr"))
        .map(|tr| {
            tr.select(&sel("td"))
                .map(|td| squash(&text_of(td)))
                .collect()
        })
        .collect()
}

/// The CLI's printable HTML step table for `args` (`taper plan ...`).
fn cli_step_cells(args: &[String]) -> Vec<Vec<String>> {
    let html = String::from_utf8(cli_ok(&with(args, &["--format", "html"]))).unwrap();
    let doc = Html::parse_document(&html);
    // Its step table may run over several printed pages.
    doc.select(&sel("table.steps"))
        .flat_map(step_cells)
        .collect()
}

fn cli_json(args: &[String]) -> Value {
    serde_json::from_slice(&cli_ok(&with(args, &["--format", "json"]))).unwrap()
}

// =================================================================== tests

#[test]
fn healthz_answers_status_and_version() {
    let s = Server::start(&[]);
    let c = client();
    let a = send(c.get(s.url("healthz")));
    assert_eq!(a.status, 200, "{}", a.show());
    assert_secure(&a, "GET /healthz");
    assert!(a
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(a.json(), json!({"status": "ok", "version": "0.1.0"}));
    let log = s.stop();
    assert_eq!(
        log_entries(&log),
        [("GET".to_string(), "/healthz".to_string(), 200)]
    );
}

/// One row of `taper profiles`: (display name, version, origin), or the
/// problem of a profile that cannot be loaded.
fn cli_profile_rows(dir: &Path) -> BTreeMap<String, Result<(String, String, String), String>> {
    let out = cli_ok(&[
        OsStr::new("profiles"),
        OsStr::new("--profiles-dir"),
        dir.as_os_str(),
    ]);
    let text = String::from_utf8(out).unwrap();
    text.lines()
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let (name, rest) = l.split_once(' ').unwrap();
            let rest = rest.trim();
            let row = match rest.split_once(" version ") {
                Some((display, tail)) if !rest.starts_with("INVALID") => {
                    let (version, origin) = tail.trim().split_once(' ').unwrap();
                    Ok((
                        display.trim().to_string(),
                        version.to_string(),
                        origin.trim().to_string(),
                    ))
                }
                _ => Err(rest.to_string()),
            };
            (name.to_string(), row)
        })
        .collect()
}

fn user_profiles_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let baclofen = include_str!("../profiles/baclofen.toml")
        .replacen("name = \"baclofen\"", "name = \"mybaclofen\"", 1)
        .replacen(
            "display_name = \"Baclofen\"",
            "display_name = \"My Baclofen\"",
            1,
        );
    fs::write(dir.path().join("mybaclofen.toml"), baclofen).unwrap();
    fs::write(
        dir.path().join("broken.toml"),
        "name = \"broken\"\nthis is not toml\n",
    )
    .unwrap();
    dir
}

#[test]
fn api_profiles_lists_builtins_user_profiles_and_problems() {
    let dir = user_profiles_dir();
    let s = Server::start(&["--profiles-dir", dir.path().to_str().unwrap()]);
    let c = client();
    let a = send(c.get(s.url("api/profiles")));
    assert_eq!(a.status, 200, "{}", a.show());
    assert_secure(&a, "GET /api/profiles");
    let v = a.json();
    assert_eq!(v["disclaimer"], disclaimer());
    let list = v["profiles"].as_array().expect("profiles array");
    let by_name: BTreeMap<&str, &Value> = list
        .iter()
        .map(|p| (p["name"].as_str().expect("every profile has a name"), p))
        .collect();
    assert_eq!(by_name.len(), list.len(), "a profile listed twice");

    let cli = cli_profile_rows(dir.path());
    let builtins: Vec<&str> = taper::profile::BUILTIN_PROFILES
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(builtins.len(), 26);
    for name in builtins.iter().copied().chain(["mybaclofen"]) {
        let p = by_name
            .get(name)
            .unwrap_or_else(|| panic!("{name} not listed"));
        let Ok((display, version, origin)) = &cli[name] else {
            panic!("{name}: the CLI lists a problem")
        };
        assert_eq!(p["display_name"], display.as_str(), "{name}");
        assert_eq!(p["version"], version.as_str(), "{name}");
        let want_origin = if name == "mybaclofen" {
            "user"
        } else {
            "built-in"
        };
        assert_eq!(origin == "built-in", want_origin == "built-in", "{name}");
        assert_eq!(p["origin"], want_origin, "{name}");
        assert!(p.get("problem").is_none(), "{name}: {p}");
        for key in ["unit", "default_strategy"] {
            assert!(
                p[key].as_str().is_some_and(|s| !s.is_empty()),
                "{name}.{key}"
            );
        }
        let markets = p["markets"].as_array().expect("markets");
        assert!(!markets.is_empty() && markets.iter().all(Value::is_string));
        let products = p["products"].as_array().expect("products");
        assert!(!products.is_empty(), "{name}: no products");
        for prod in products {
            for key in ["key", "name", "form"] {
                assert!(prod[key].is_string(), "{name} product {key}: {prod}");
            }
            assert!(prod["markets"].is_array() && prod["restricted"].is_boolean());
        }
        assert!(p["switch_to"]
            .as_array()
            .expect("switch_to")
            .iter()
            .all(Value::is_string));
    }
    // The same products the CLI accepts as --strengths.
    let refusal = cli_refusal(&plan_args(&[
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("strengths", "7mg"),
    ]));
    let accepted: BTreeSet<&str> = refusal
        .rsplit_once("(accepted: ")
        .unwrap()
        .1
        .trim_end_matches(')')
        .split(", ")
        .collect();
    let keys: BTreeSet<&str> = by_name["baclofen"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, accepted);
    let tablet = by_name["baclofen"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "10mg-tablet")
        .unwrap();
    assert_eq!(tablet["name"], "10 mg tablet");
    assert_eq!(tablet["form"], "tablet");
    assert_eq!(tablet["restricted"], false);
    assert_eq!(by_name["baclofen"]["unit"], "mg");
    assert!(by_name["lorazepam"]["switch_to"]
        .as_array()
        .unwrap()
        .contains(&json!("diazepam")));

    // The broken file: its name, origin and problem only.
    let broken = by_name.get("broken").expect("the broken profile is listed");
    let obj = broken.as_object().unwrap();
    assert_eq!(
        obj.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["name", "origin", "problem"]),
        "{broken}"
    );
    assert_eq!(broken["origin"], "user");
    let problem = broken["problem"].as_str().unwrap_or_default();
    assert!(
        !problem.trim().is_empty() && !problem.contains('\n'),
        "problem {problem:?}"
    );
    assert!(
        matches!(&cli["broken"], Err(p) if p.starts_with("INVALID")),
        "the CLI finds broken.toml invalid too"
    );
    assert_eq!(by_name.len(), 28, "26 built-ins, mybaclofen, broken");

    // The user profile plans.
    let fields = [
        ("profile", "mybaclofen"),
        ("dose", "60mg"),
        ("start", START),
    ];
    let a = post_plan(&c, &s, "?format=csv", None, &object(&fields));
    assert_eq!(a.status, 200, "{}", a.show());
    let args = with(
        &plan_args(&fields),
        &["--profiles-dir", dir.path().to_str().unwrap()],
    );
    assert_same(
        "mybaclofen csv",
        &a.body,
        &cli_ok(&with(&args, &["--format", "csv"])),
    );
    s.stop();
}

#[test]
fn a_user_profile_that_shadows_a_builtin_is_listed_once_as_user() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    fs::write(
        dir.path().join("baclofen.toml"),
        include_str!("../profiles/baclofen.toml").replacen(
            "display_name = \"Baclofen\"",
            "display_name = \"Clinic Baclofen\"",
            1,
        ),
    )
    .unwrap();
    // The CLI lists it (the user's file wins) and plans with it.
    let rows = cli_profile_rows(dir.path());
    let Ok((display, _, origin)) = &rows["baclofen"] else {
        panic!("the CLI cannot load the user's baclofen")
    };
    assert_eq!(display, "Clinic Baclofen");
    assert!(origin.contains("baclofen.toml"), "{origin}");

    let s = Server::start(&["--profiles-dir", &d]);
    let c = client();
    let v = send(c.get(s.url("api/profiles"))).json();
    let listed: Vec<&Value> = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "baclofen")
        .collect();
    assert_eq!(listed.len(), 1, "baclofen listed {} times", listed.len());
    assert_eq!(listed[0]["display_name"], "Clinic Baclofen");
    assert_eq!(listed[0]["origin"], "user");
    assert_eq!(v["profiles"].as_array().unwrap().len(), 26);

    let fields = [("profile", "baclofen"), ("dose", "60mg"), ("start", START)];
    let a = post_plan(&c, &s, "", None, &object(&fields));
    assert_eq!(a.status, 200, "{}", a.show());
    let want = cli_ok(&with(
        &plan_args(&fields),
        &["--profiles-dir", &d, "--format", "json"],
    ));
    assert_same("the user's baclofen", &a.body, &want);
    let stderr = s.stop();
    let note = format!(
        "note: the user profile {} replaces the built-in profile 'baclofen'",
        dir.path().join("baclofen.toml").display()
    );
    assert_eq!(stderr.lines().next(), Some(note.as_str()), "{stderr}");
}

#[test]
fn listening_beyond_this_machine_says_there_are_no_accounts() {
    let s = Server::start(&["--listen", "0.0.0.0:0"]);
    let stderr = s.stop();
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("note: listening beyond this machine on 0.0.0.0:")
            && first.contains("no user accounts")
            && first.contains("proxy"),
        "{stderr}"
    );
    // On localhost (every other test), no such note.
    let s = Server::start(&[]);
    assert!(!s.stop().contains("note:"));
}

#[test]
fn profiles_come_from_taper_profiles_and_the_user_folder_as_for_the_cli() {
    let env_dir = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let user_dir = config.path().join("taper").join("profiles");
    fs::create_dir_all(&user_dir).unwrap();
    let text = include_str!("../profiles/baclofen.toml");
    fs::write(
        env_dir.path().join("envbaclofen.toml"),
        text.replacen("name = \"baclofen\"", "name = \"envbaclofen\"", 1),
    )
    .unwrap();
    fs::write(
        user_dir.join("homebaclofen.toml"),
        text.replacen("name = \"baclofen\"", "name = \"homebaclofen\"", 1),
    )
    .unwrap();
    let env = [
        ("TAPER_PROFILES", env_dir.path().as_os_str()),
        ("XDG_CONFIG_HOME", config.path().as_os_str()),
    ];
    let s = Server::start_with_env(&[], &env);
    let c = client();
    let v = send(c.get(s.url("api/profiles"))).json();
    for name in ["envbaclofen", "homebaclofen"] {
        let p = v["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed"));
        assert_eq!(p["origin"], "user", "{name}");
        let fields = [("profile", name), ("dose", "60mg"), ("start", START)];
        let a = post_plan(&c, &s, "?format=csv", None, &object(&fields));
        assert_eq!(a.status, 200, "{name}: {}", a.show());
        let mut cli = taper();
        cli.envs(env.iter().copied())
            .args(with(&plan_args(&fields), &["--format", "csv"]));
        let o = cli.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same(name, &a.body, &o.stdout);
    }
    s.stop();
}

/// The requests compared in every format.
fn format_requests() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        vec![("profile", "baclofen"), ("dose", "60mg"), ("start", START)],
        vec![
            ("profile", "baclofen"),
            ("dose", "60mg"),
            ("start", START),
            ("patient", PATIENT),
        ],
        vec![
            ("profile", "diazepam"),
            ("dose", "20mg"),
            ("start", START),
            ("supply", "28"),
            ("patient", PATIENT),
        ],
        vec![
            ("profile", "sertraline"),
            ("dose", "100mg"),
            ("start", START),
            ("strategy", "hyperbolic"),
        ],
    ]
}

#[test]
fn api_plan_answers_the_cli_bytes_in_every_format() {
    let s = Server::start(&[]);
    let c = client();
    for fields in format_requests() {
        let args = plan_args(&fields);
        let body = object(&fields);
        let plan = cli_json(&args);
        let plan_id = plan["plan_id"].as_str().unwrap();
        let warnings = plan["warnings"].as_array().unwrap().len().to_string();
        for (format, accept, content_type) in FORMATS {
            let want = cli_ok(&with(&args, &["--format", format]));
            let by_query = post_plan(&c, &s, &format!("?format={format}"), None, &body);
            let by_accept = post_plan(&c, &s, "", Some(accept), &body);
            for (how, a) in [("?format", &by_query), ("Accept", &by_accept)] {
                let what = format!("{args:?} {format} by {how}");
                assert_eq!(a.status, 200, "{what}: {}", a.show());
                assert_secure(a, &what);
                assert_eq!(a.header("content-type"), Some(content_type), "{what}");
                assert_same(&what, &a.body, &want);
                assert_eq!(a.header("taper-plan-id"), Some(plan_id), "{what}");
                assert_eq!(
                    a.header("taper-warnings"),
                    Some(warnings.as_str()),
                    "{what}"
                );
                if ["csv", "ics", "html", "table"].contains(&format) {
                    let cd = a.header("content-disposition").unwrap_or_default();
                    assert!(
                        cd.starts_with("attachment; filename=\"") && cd.ends_with('"'),
                        "{what}: Content-Disposition {cd:?}"
                    );
                }
            }
        }
    }
    s.stop();
}

#[test]
fn api_plan_format_negotiation() {
    let s = Server::start(&[]);
    let c = client();
    let fields = [("profile", "baclofen"), ("dose", "60mg"), ("start", START)];
    let args = plan_args(&fields);
    let body = object(&fields);
    let json_bytes = cli_ok(&with(&args, &["--format", "json"]));
    let csv_bytes = cli_ok(&with(&args, &["--format", "csv"]));

    // */* is JSON.
    let a = post_plan(&c, &s, "", Some("*/*"), &body);
    assert_eq!(a.status, 200, "{}", a.show());
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_same("Accept */*", &a.body, &json_bytes);

    // ?format wins over Accept, even one the server cannot answer.
    let a = post_plan(&c, &s, "?format=csv", Some("image/png"), &body);
    assert_eq!(a.status, 200, "{}", a.show());
    assert_same("?format=csv with Accept image/png", &a.body, &csv_bytes);
    let a = post_plan(&c, &s, "?format=csv", Some("application/json"), &body);
    assert_same("?format=csv with Accept JSON", &a.body, &csv_bytes);

    // An Accept that names none of the formats: 406.
    for accept in ["image/png", "application/xml"] {
        let a = post_plan(&c, &s, "", Some(accept), &body);
        assert_eq!(a.status, 406, "Accept {accept}: {}", a.show());
        assert_secure(&a, "406");
        a.error();
    }

    // No Accept at all (reqwest always sends one, so by hand): JSON.
    let text = body.to_string();
    let request = format!(
        "POST /api/plan HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        s.addr,
        text.len()
    );
    let a = raw(&s.addr, request.as_bytes());
    assert_eq!(a.status, 200, "no Accept: {}", a.show());
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_same("no Accept", &a.body, &json_bytes);

    // `curl -d` (the example in `taper serve --help`) labels the JSON as a
    // form; no label at all is fine too: the body is read as JSON.
    for ct in [Some("application/x-www-form-urlencoded"), None] {
        let mut rb = c.post(s.url("api/plan")).body(text.clone());
        if let Some(ct) = ct {
            rb = rb.header("content-type", ct);
        }
        let a = send(rb);
        assert_eq!(a.status, 200, "Content-Type {ct:?}: {}", a.show());
        assert_same(&format!("Content-Type {ct:?}"), &a.body, &json_bytes);
    }
    s.stop();
}

#[test]
fn api_plan_views_match_the_cli() {
    let s = Server::start(&[]);
    let c = client();
    let fields = [
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("supply", "28"),
    ];
    let args = plan_args(&fields);
    let body = object(&fields);
    for (view, format) in [
        ("steps", "csv"),
        ("steps", "json"),
        ("days", "csv"),
        ("days", "table"),
        ("fills", "csv"),
        ("fills", "json"),
        ("fills", "table"),
    ] {
        let want = cli_ok(&with(&args, &["--format", format, "--view", view]));
        let a = post_plan(
            &c,
            &s,
            &format!("?format={format}&view={view}"),
            None,
            &body,
        );
        assert_eq!(a.status, 200, "{view} {format}: {}", a.show());
        assert_same(&format!("view {view}, {format}"), &a.body, &want);
    }
    s.stop();
}

#[test]
fn api_plan_takes_numbers_and_nulls() {
    let s = Server::start(&[]);
    let c = client();
    let cases: [(Value, &[&str]); 3] = [
        (
            json!({"profile": "baclofen", "dose": 60, "start": START}),
            &["plan", "baclofen", "--dose", "60", "--start", START],
        ),
        (
            json!({"profile": "baclofen", "dose": 60, "start": START, "interval": 14,
                   "supply": 28, "final_hold": 14, "strategy": null, "step": "",
                   "patient": null, "target": 0}),
            &[
                "plan",
                "baclofen",
                "--dose",
                "60",
                "--start",
                START,
                "--interval",
                "14",
                "--supply",
                "28",
                "--final-hold",
                "14",
                "--target",
                "0",
            ],
        ),
        (
            json!({"profile": "sertraline", "dose": 100, "start": START,
                   "strategy": "percent", "percent": 12.5, "doses_per_day": 1}),
            &[
                "plan",
                "sertraline",
                "--dose",
                "100",
                "--start",
                START,
                "--strategy",
                "percent",
                "--percent",
                "12.5",
                "--doses-per-day",
                "1",
            ],
        ),
    ];
    for (body, args) in &cases {
        for format in ["json", "csv"] {
            let a = post_plan(&c, &s, &format!("?format={format}"), None, body);
            assert_eq!(a.status, 200, "{body} {format}: {}", a.show());
            let want = cli_ok(&with(
                &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                &["--format", format],
            ));
            assert_same(&format!("{body} {format}"), &a.body, &want);
        }
    }
    s.stop();
}

#[test]
fn api_plan_id_takes_part_in_the_plan_id_as_in_a_batch() {
    let s = Server::start(&[]);
    let c = client();
    let fields = [
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("patient", PATIENT),
    ];
    let mut body = object(&fields);
    body["id"] = json!("A17");
    let a = post_plan(&c, &s, "", None, &body);
    assert_eq!(a.status, 200, "{}", a.show());
    let served = a.json();
    let pid = served["plan_id"].as_str().unwrap();
    assert_eq!(a.header("taper-plan-id"), Some(pid));

    // The batch row with the same id gets the same plan id...
    let input = format!("id,profile,dose,start,patient\nA17,baclofen,60mg,{START},{PATIENT}\n");
    let o = run_cli(&["batch", "-", "--format", "jsonl", "-q"], Some(&input));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(line["plan_id"], pid, "batch jsonl plan_id");
    // ...not the one `taper plan` derives without an id...
    let plain = cli_json(&plan_args(&fields));
    assert_ne!(plain["plan_id"], pid, "the id took no part in the plan id");
    // ...and otherwise the bytes of `taper plan --plan-id` with it.
    let args = with(&plan_args(&fields), &["--plan-id", pid]);
    for (format, _, _) in FORMATS {
        let a = post_plan(&c, &s, &format!("?format={format}"), None, &body);
        assert_eq!(a.status, 200, "{format}: {}", a.show());
        assert_eq!(a.header("taper-plan-id"), Some(pid), "{format}");
        assert_same(
            &format!("id A17, {format}"),
            &a.body,
            &cli_ok(&with(&args, &["--format", format])),
        );
    }
    // A given plan_id wins over the derived one.
    body["plan_id"] = json!("clinic-7.a_b");
    let a = post_plan(&c, &s, "", None, &body);
    assert_eq!(a.status, 200, "{}", a.show());
    assert_eq!(a.header("taper-plan-id"), Some("clinic-7.a_b"));
    assert_eq!(a.json()["plan_id"], "clinic-7.a_b");
    s.stop();
}

#[test]
fn api_plan_refusals_are_422_with_the_cli_words() {
    let s = Server::start(&[]);
    let c = client();
    let base = [("profile", "baclofen"), ("dose", "60mg"), ("start", START)];
    let refuse = |body: &Value| -> String {
        let a = post_plan(&c, &s, "", None, body);
        assert_eq!(a.status, 422, "{body}: {}", a.show());
        assert_secure(&a, "422");
        a.error()
    };
    fn changed<'a>(
        base: &[(&'a str, &'a str)],
        member: &'a str,
        value: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut f: Vec<_> = base.iter().copied().filter(|(k, _)| *k != member).collect();
        f.push((member, value));
        f
    }

    // Exactly what `taper plan` prints after `error: `.
    let cases: Vec<Vec<(&str, &str)>> = vec![
        changed(&base, "dose", "abc"),
        changed(&base, "dose", "-5mg"),
        [
            changed(&base, "percent", "120"),
            vec![("strategy", "percent")],
        ]
        .concat(),
        changed(&base, "percent", "120"),
        changed(&base, "start", "2026-13-01"),
        changed(&base, "strengths", "7mg"),
        changed(&base, "profile", "nosuch"),
        changed(&base, "interval", "0"),
        changed(&base, "supply", "0"),
        changed(&base, "market", "zz"),
        changed(&base, "form", "powder"),
        [
            vec![("profile", "lorazepam"), ("dose", "3mg"), ("start", START)],
            vec![("switch_to", "nosuch")],
        ]
        .concat(),
    ];
    for fields in &cases {
        let want = cli_refusal(&plan_args(fields));
        assert_eq!(refuse(&object(fields)), want, "{fields:?}");
    }
    // Where `taper plan` words it for its option (`--patient`) or clap
    // refuses it (`--strategy`), a batch row's words.
    let long_name = "x".repeat(101);
    for fields in [
        changed(&base, "patient", &long_name),
        changed(&base, "plan_id", "a b"),
        changed(&base, "strategy", "bogus"),
    ] {
        let want = batch_refusal(&fields);
        assert_eq!(refuse(&object(&fields)), want, "{fields:?}");
    }

    // An unknown member.
    let mut body = object(&base);
    body["x"] = json!("1");
    let e = refuse(&body);
    assert!(e.starts_with("unknown field 'x' (accepted: "), "{e}");
    for m in MEMBERS {
        assert!(e.contains(m), "{e} does not name {m}");
    }

    // A profile (or switch_to) that looks like a path: never read.
    for path in [
        "../x.toml",
        "/etc/passwd",
        "baclofen.toml",
        "profiles/baclofen",
    ] {
        for member in ["profile", "switch_to"] {
            let mut body = object(&base);
            body[member] = json!(path);
            let e = refuse(&body);
            assert!(
                !e.contains("root:") && !e.contains("invalid unquoted key"),
                "{member} {path}: {e}"
            );
        }
    }

    // Values that are not a string, number or null.
    for value in [json!(["60mg"]), json!({"mg": 60}), json!(true)] {
        let mut body = object(&base);
        body["dose"] = value.clone();
        let e = refuse(&body);
        assert!(e.contains("dose"), "dose {value}: {e}");
    }

    // profile and dose are required; null and "" are "not given".
    for missing in ["profile", "dose"] {
        for absent in [None, Some(Value::Null), Some(json!(""))] {
            let mut body = object(&base);
            match &absent {
                None => {
                    body.as_object_mut().unwrap().remove(missing);
                }
                Some(v) => body[missing] = v.clone(),
            }
            let e = refuse(&body);
            assert!(e.contains(missing), "{missing} {absent:?}: {e}");
        }
    }
    // Still serving.
    let a = post_plan(&c, &s, "", None, &object(&base));
    assert_eq!(a.status, 200, "{}", a.show());
    s.stop();
}

#[test]
fn api_plan_bodies_that_are_not_a_json_object_are_400() {
    let s = Server::start(&[]);
    let c = client();
    for body in [
        "not json",
        "",
        "{\"profile\": \"baclofen\",",
        "[1, 2]",
        "[{\"profile\": \"baclofen\", \"dose\": \"60mg\"}]",
        "\"baclofen\"",
        "42",
        "null",
    ] {
        let a = send(
            c.post(s.url("api/plan"))
                .header("content-type", "application/json")
                .body(body),
        );
        assert_eq!(a.status, 400, "{body:?}: {}", a.show());
        assert_secure(&a, "400");
        a.error();
    }
    s.stop();
}

/// A JSON request of exactly `len` bytes (spaces before its last brace).
fn padded_body(len: usize) -> String {
    let head = format!("{{\"profile\":\"baclofen\",\"dose\":\"60mg\",\"start\":\"{START}\"");
    format!("{head}{}}}", " ".repeat(len - head.len() - 1))
}

#[test]
fn bodies_over_64_kib_are_413() {
    let s = Server::start(&[]);
    let c = client();
    let want = cli_ok(&with(
        &plan_args(&[("profile", "baclofen"), ("dose", "60mg"), ("start", START)]),
        &["--format", "json"],
    ));
    // 64 KiB is still read.
    let body = padded_body(BODY_LIMIT);
    assert_eq!(body.len(), BODY_LIMIT);
    let a = send(
        c.post(s.url("api/plan"))
            .header("content-type", "application/json")
            .body(body),
    );
    assert_eq!(a.status, 200, "{}", a.show());
    assert_same("a 64 KiB body", &a.body, &want);
    // One byte more is not.
    let a = send(
        c.post(s.url("api/plan"))
            .header("content-type", "application/json")
            .body(padded_body(BODY_LIMIT + 1)),
    );
    assert_eq!(a.status, 413, "{}", a.show());
    assert_secure(&a, "413");
    // Nor a larger body sent in chunks, without a length. (By hand:
    // reqwest streams such a body from another thread and reports the
    // server's early close as a send error, not the 413 it got.)
    let big = padded_body(BODY_LIMIT + 8 * 1024).into_bytes();
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "POST /api/plan HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.addr
    );
    let mut sending = stream.write_all(head.as_bytes());
    for piece in big.chunks(4096) {
        if sending.is_err() {
            break;
        }
        sending = stream
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .and_then(|()| stream.write_all(piece))
            .and_then(|()| stream.write_all(b"\r\n"));
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let a = read_answer(&mut stream);
    assert_eq!(a.status, 413, "chunked: {}", a.show());
    assert_secure(&a, "413 (chunked)");
    // The page's form too.
    let big_name = "x".repeat(BODY_LIMIT);
    let a = send(c.post(s.url("plan")).form(&[
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("patient", big_name.as_str()),
    ]));
    assert_eq!(a.status, 413, "POST /plan: {}", a.show());
    assert_secure(&a, "413 (POST /plan)");
    s.stop();
}

#[test]
fn a_request_slower_than_the_timeout_is_408() {
    let s = Server::start(&["--timeout", "1"]);
    // Headers, then part of the promised body, and nothing more: only the
    // server's own timeout can answer.
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "POST /api/plan HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"profile\":",
        s.addr
    );
    stream.write_all(head.as_bytes()).unwrap();
    let a = read_answer(&mut stream);
    assert_eq!(a.status, 408, "{}", a.show());
    assert_secure(&a, "408");
    drop(stream);
    let a = send(client().get(s.url("healthz")));
    assert_eq!(a.status, 200);
    s.stop();
}

#[test]
fn an_unreadable_user_profile_is_500() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    // A file whose every read fails with EIO, even for root: the server's
    // own memory at address 0.
    std::os::unix::fs::symlink("/proc/self/mem", dir.path().join("eio.toml")).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let unreadable = dir.path().join("unreadable.toml");
    fs::write(
        &unreadable,
        include_str!("../profiles/baclofen.toml").replacen(
            "name = \"baclofen\"",
            "name = \"unreadable\"",
            1,
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&unreadable, fs::Permissions::from_mode(0o000)).unwrap();
    }
    let mut names = vec!["eio"];
    if !root {
        // root reads a file of mode 000 anyway
        names.push("unreadable");
    }
    let s = Server::start(&["--profiles-dir", &d]);
    let c = client();
    for name in names {
        let fields = [("profile", name), ("dose", "60mg"), ("start", START)];
        // The CLI fails on it with an I/O error (exit 1), not a refusal.
        let o = run_cli(&with(&plan_args(&fields), &["--profiles-dir", &d]), None);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let a = post_plan(&c, &s, "", None, &object(&fields));
        assert_eq!(a.status, 500, "{name}: {}", a.show());
        assert_secure(&a, "500");
        a.error();
    }
    let a = post_plan(
        &c,
        &s,
        "",
        None,
        &object(&[("profile", "baclofen"), ("dose", "60mg"), ("start", START)]),
    );
    assert_eq!(a.status, 200, "still serving after a 500: {}", a.show());
    s.stop();
}

// ---------------------------------------------------------------- the page

/// The form's controls other than the product tick boxes.
const TEXT_CONTROLS: [&str; 18] = [
    "profile",
    "dose",
    "start",
    "strategy",
    "step",
    "percent",
    "interval",
    "occupancy_step",
    "schedule",
    "target",
    "doses_per_day",
    "form",
    "market",
    "supply",
    "final_hold",
    "switch_to",
    "switch_interval",
    "patient",
];

/// Every form field a browser posts (empty when not filled in), with the
/// values in `set` (several values of one name, as checkboxes send them).
fn browser_form(set: &[(&str, &str)]) -> Vec<(String, String)> {
    let text = TEXT_CONTROLS;
    let mut out: Vec<(String, String)> = text
        .iter()
        .map(|name| {
            let v = set.iter().find(|(k, _)| k == name).map_or("", |(_, v)| *v);
            (name.to_string(), v.to_string())
        })
        .collect();
    out.extend(
        set.iter()
            .filter(|(k, _)| !text.contains(k))
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    out
}

/// The disclaimer every plan carries (from `taper plan`'s JSON).
fn disclaimer() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let v = cli_json(&plan_args(&[
            ("profile", "baclofen"),
            ("dose", "60mg"),
            ("start", START),
        ]));
        v["disclaimer"].as_str().unwrap().to_string()
    })
}

fn assert_disclaimer(doc: &Html, what: &str) {
    let d = doc
        .select(&sel("footer p.disclaimer"))
        .next()
        .unwrap_or_else(|| panic!("{what}: no footer p.disclaimer"));
    let t = squash(&text_of(d));
    assert!(
        t.contains(&squash(disclaimer())),
        "{what}: disclaimer {t:?}"
    );
}

fn attr<'a>(e: ElementRef<'a>, name: &str) -> Option<&'a str> {
    e.value().attr(name)
}

#[test]
fn the_form_page() {
    let s = Server::start(&[]);
    let c = client();
    let a = send(c.get(s.url("")));
    assert_eq!(a.status, 200, "{}", a.show());
    assert_secure(&a, "GET /");
    assert!(a.header("content-type").unwrap().starts_with("text/html"));
    let doc = a.html();
    assert_disclaimer(&doc, "GET /");
    let form = one(&doc, "form#plan-form");
    assert_eq!(
        attr(form, "method").map(str::to_ascii_lowercase).as_deref(),
        Some("post")
    );
    assert_eq!(attr(form, "action"), Some("/plan"));
    // The switch controls are only on profiles that have a switch.
    for name in TEXT_CONTROLS
        .into_iter()
        .filter(|n| !n.starts_with("switch_"))
    {
        let e = one(&doc, &format!("form#plan-form #f-{name}"));
        assert_eq!(attr(e, "name"), Some(name), "#f-{name}");
    }
    for select in ["profile", "strategy", "form", "market"] {
        assert_eq!(
            one(&doc, &format!("#f-{select}")).value().name(),
            "select",
            "#f-{select}"
        );
    }
    let strategies: Vec<&str> = doc
        .select(&sel("#f-strategy option"))
        .map(|o| attr(o, "value").unwrap_or_default())
        .collect();
    assert_eq!(
        strategies,
        ["", "linear", "percent", "hyperbolic", "custom"]
    );
    let profiles: BTreeSet<&str> = doc
        .select(&sel("#f-profile option"))
        .map(|o| attr(o, "value").unwrap_or_default())
        .collect();
    for (name, _) in taper::profile::BUILTIN_PROFILES {
        assert!(profiles.contains(name), "{name} not offered");
    }
    let start = attr(one(&doc, "#f-start"), "value").unwrap_or_default();
    assert!(
        chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d").is_ok(),
        "start prefilled with {start:?}"
    );
    one(&doc, "form#plan-form button#draft");
    let choose = one(&doc, "form#plan-form button#choose");
    assert_eq!(attr(choose, "name"), Some("action"));
    assert_eq!(attr(choose, "value"), Some("choose"));

    // ?profile= preselects, with that profile's products as checkboxes.
    let api = send(c.get(s.url("api/profiles"))).json();
    let products_of = |name: &str| -> Vec<String> {
        api["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap().to_string())
            .collect()
    };
    let check_selected = |doc: &Html, name: &str| {
        let selected: Vec<&str> = doc
            .select(&sel("#f-profile option[selected]"))
            .map(|o| attr(o, "value").unwrap())
            .collect();
        assert_eq!(selected, [name]);
        let boxes: Vec<ElementRef> = doc
            .select(&sel("input[type=checkbox][name=strengths]"))
            .collect();
        let keys: BTreeSet<String> = boxes
            .iter()
            .map(|b| attr(*b, "value").unwrap().to_string())
            .collect();
        assert_eq!(
            keys,
            products_of(name).into_iter().collect::<BTreeSet<_>>(),
            "{name}: strengths checkboxes"
        );
        for (i, b) in boxes.iter().enumerate() {
            assert_eq!(attr(*b, "id"), Some(format!("f-strengths-{i}").as_str()));
            assert_eq!(attr(*b, "checked"), None, "none checked by default");
        }
        let link = one(doc, "a#profile-details");
        assert!(
            attr(link, "href").is_some_and(|h| h.ends_with(&format!("/profiles/{name}"))),
            "{:?}",
            attr(link, "href")
        );
    };
    let a = send(c.get(s.url("?profile=sertraline")));
    assert_eq!(a.status, 200);
    check_selected(&a.html(), "sertraline");

    // A profile with switches (lorazepam to diazepam) offers them, "" for
    // none. (Baclofen has none, and its form shows no switch controls.)
    let a = send(c.get(s.url("?profile=lorazepam")));
    assert_eq!(a.status, 200);
    let doc = a.html();
    check_selected(&doc, "lorazepam");
    for name in ["switch_to", "switch_interval"] {
        let e = one(&doc, &format!("form#plan-form #f-{name}"));
        assert_eq!(attr(e, "name"), Some(name), "#f-{name}");
    }
    assert_eq!(one(&doc, "#f-switch_to").value().name(), "select");
    let targets: Vec<&str> = doc
        .select(&sel("#f-switch_to option"))
        .map(|o| attr(o, "value").unwrap_or_default())
        .collect();
    assert_eq!(targets.first(), Some(&""), "{targets:?}");
    assert!(targets.contains(&"diazepam"), "{targets:?}");

    // The "choose" button re-shows the form for the profile now selected.
    let a = send(c.post(s.url("plan")).form(&browser_form(&[
        ("profile", "baclofen"),
        ("action", "choose"),
    ])));
    assert_eq!(a.status, 200, "{}", a.show());
    let doc = a.html();
    check_selected(&doc, "baclofen");
    assert_eq!(doc.select(&sel("section#plan")).count(), 0);
    assert_disclaimer(&doc, "choose");
    s.stop();
}

#[test]
fn the_page_plans_like_the_cli_and_downloads_its_bytes() {
    let s = Server::start(&[]);
    let c = client();
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("profile", "baclofen"), ("dose", "60mg"), ("start", START)],
        vec![
            ("profile", "sertraline"),
            ("dose", "100mg"),
            ("start", START),
            ("strategy", "hyperbolic"),
            ("patient", PATIENT),
        ],
        vec![
            ("profile", "diazepam"),
            ("dose", "20mg"),
            ("start", START),
            ("supply", "28"),
        ],
    ];
    for fields in &cases {
        let args = plan_args(fields);
        let a = send(c.post(s.url("plan")).form(&browser_form(fields)));
        assert_eq!(a.status, 200, "{fields:?}: {}", a.show());
        assert_secure(&a, "POST /plan");
        let doc = a.html();
        assert_disclaimer(&doc, "POST /plan");
        one(&doc, "form#plan-form");
        assert_eq!(
            attr(one(&doc, "#f-dose"), "value"),
            fields.iter().find(|f| f.0 == "dose").map(|f| f.1),
            "the form is kept"
        );
        let plan = one(&doc, "section#plan");
        assert!(plan.select(&sel("h2")).next().is_some(), "a title");
        assert!(plan.select(&sel("svg.chart")).next().is_some(), "chart");
        let table = plan
            .select(&sel("table#steps"))
            .next()
            .expect("table#steps");
        let cells = step_cells(table);
        let json = cli_json(&args);
        assert_eq!(
            cells.len(),
            json["steps"].as_array().unwrap().len(),
            "one row per step"
        );
        assert_eq!(cells, cli_step_cells(&args), "{fields:?}: step cells");
        let heads: Vec<String> = table
            .select(&sel("thead th"))
            .map(|th| squash(&text_of(th)))
            .collect();
        assert_eq!(heads.len(), 8, "{heads:?}");
        assert_eq!(heads[0], "Step");
        assert_eq!(heads[7], "What to take");
        let warnings = json["warnings"].as_array().unwrap().len();
        match warnings {
            0 => assert_eq!(plan.select(&sel("ul#warnings")).count(), 0),
            n => assert_eq!(plan.select(&sel("ul#warnings li.warning")).count(), n),
        }

        // The downloads form carries the request; each button's answer is
        // the CLI's bytes, named <profile>-<plan id>.<ext>.
        let dl = plan
            .select(&sel("form#downloads"))
            .next()
            .expect("form#downloads");
        assert_eq!(
            attr(dl, "method").map(str::to_ascii_lowercase).as_deref(),
            Some("post")
        );
        assert_eq!(attr(dl, "action"), Some("/download"));
        let hidden: Vec<(String, String)> = dl
            .select(&sel("input[type=hidden]"))
            .map(|i| {
                (
                    attr(i, "name").unwrap().to_string(),
                    attr(i, "value").unwrap_or_default().to_string(),
                )
            })
            .collect();
        let buttons: BTreeSet<&str> = dl
            .select(&sel("button[name=format]"))
            .map(|b| attr(b, "value").unwrap())
            .collect();
        let supply = fields.iter().any(|f| f.0 == "supply");
        let mut want_buttons = BTreeSet::from(["csv", "json", "ics", "html", "fhir"]);
        if supply {
            want_buttons.insert("fills");
        }
        assert_eq!(buttons, want_buttons);
        let profile = fields[0].1;
        let pid = json["plan_id"].as_str().unwrap();
        for format in buttons {
            let mut form = hidden.clone();
            form.push(("format".into(), format.into()));
            let a = send(c.post(s.url("download")).form(&form));
            assert_eq!(a.status, 200, "download {format}: {}", a.show());
            assert_secure(&a, "POST /download");
            let (cli_more, name): (&[&str], String) = match format {
                "fills" => (
                    &["--format", "csv", "--view", "fills"],
                    format!("{profile}-{pid}-fills.csv"),
                ),
                "fhir" => (&["--format", "fhir"], format!("{profile}-{pid}.fhir.json")),
                f => (&["--format", f], format!("{profile}-{pid}.{f}")),
            };
            assert_same(
                &format!("{fields:?} download {format}"),
                &a.body,
                &cli_ok(&with(&args, cli_more)),
            );
            assert_eq!(
                a.header("content-disposition"),
                Some(format!("attachment; filename=\"{name}\"").as_str()),
                "download {format}"
            );
        }
    }

    // Checked strengths are the product list.
    let fields = [
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("strengths", "10mg-tablet"),
        ("strengths", "5mg-tablet"),
    ];
    let a = send(c.post(s.url("plan")).form(&browser_form(&fields)));
    assert_eq!(a.status, 200, "{}", a.show());
    let doc = a.html();
    let args = plan_args(&[
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("strengths", "10mg-tablet,5mg-tablet"),
    ]);
    assert_eq!(step_cells(one(&doc, "table#steps")), cli_step_cells(&args));
    let checked: BTreeSet<&str> = doc
        .select(&sel("input[name=strengths][checked]"))
        .map(|b| attr(b, "value").unwrap())
        .collect();
    assert_eq!(checked, BTreeSet::from(["10mg-tablet", "5mg-tablet"]));
    s.stop();
}

#[test]
fn the_page_refuses_with_the_cli_words_next_to_the_field() {
    let s = Server::start(&[]);
    let c = client();
    let typed_patient = "O'Brien \"<script>alert(1)</script>\" & co";
    for (field, value) in [
        ("dose", "abc"),
        ("start", "2026-13-01"),
        ("percent", "120"),
        ("profile", "nosuch"),
    ] {
        let mut fields = vec![
            ("profile", "baclofen"),
            ("dose", "60mg"),
            ("start", START),
            ("patient", typed_patient),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let want = cli_refusal(&plan_args(&fields));
        let a = send(c.post(s.url("plan")).form(&browser_form(&fields)));
        assert_eq!(a.status, 422, "{field} {value}: {}", a.show());
        assert_secure(&a, "422 page");
        assert!(
            !a.text().contains("<script>alert(1)"),
            "the patient's name is not escaped"
        );
        let doc = a.html();
        assert_disclaimer(&doc, "422 page");
        let err = one(&doc, &format!("p.field-error#{field}-error"));
        assert_eq!(squash(&text_of(err)), squash(&want), "{field} {value}");
        assert_eq!(doc.select(&sel("section#plan")).count(), 0);
        // Every value as typed.
        for (k, v) in &fields {
            let e = one(&doc, &format!("#f-{k}"));
            let kept = if e.value().name() == "select" {
                e.select(&sel("option[selected]"))
                    .next()
                    .and_then(|o| attr(o, "value"))
            } else {
                attr(e, "value")
            };
            if *k == "profile" && *v == "nosuch" {
                continue; // not an option of the select
            }
            assert_eq!(kept, Some(*v), "{field} {value}: #f-{k} kept");
        }
    }
    // A refusal that names no single field: above the form.
    let fields = [
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("strategy", "linear"),
        ("step", "0.1mg"),
        ("interval", "365"),
    ];
    let want = cli_refusal(&plan_args(&fields));
    let a = send(c.post(s.url("plan")).form(&browser_form(&fields)));
    assert_eq!(a.status, 422, "{}", a.show());
    let doc = a.html();
    let err = one(&doc, "p.field-error#form-error");
    assert_eq!(squash(&text_of(err)), squash(&want));
    assert_eq!(
        doc.select(&sel("p.field-error")).count(),
        1,
        "only #form-error"
    );
    s.stop();
}

#[test]
fn the_profile_page_shows_the_profile_text() {
    let s = Server::start(&[]);
    let c = client();
    for name in ["baclofen", "lorazepam"] {
        let a = send(c.get(s.url(&format!("profiles/{name}"))));
        assert_eq!(a.status, 200, "{}", a.show());
        assert_secure(&a, "GET /profiles/NAME");
        let doc = a.html();
        assert_disclaimer(&doc, "profile page");
        let pre = text_of(one(&doc, "pre#profile-text"));
        let cli = String::from_utf8(cli_ok(&["profiles", "show", name])).unwrap();
        assert_eq!(pre.trim(), cli.trim(), "{name}");
    }
    s.stop();
}

#[test]
fn every_kind_of_answer_carries_the_security_headers() {
    let s = Server::start(&[]);
    let c = client();
    let answers = [
        ("GET /", send(c.get(s.url("")))),
        ("GET /healthz", send(c.get(s.url("healthz")))),
        ("GET /api/profiles", send(c.get(s.url("api/profiles")))),
        (
            "GET /profiles/baclofen",
            send(c.get(s.url("profiles/baclofen"))),
        ),
        ("GET /nosuch", send(c.get(s.url("nosuch")))),
        ("GET /api/nosuch", send(c.get(s.url("api/nosuch")))),
        (
            "POST /api/plan",
            post_plan(
                &c,
                &s,
                "?format=ics",
                None,
                &object(&[("profile", "baclofen"), ("dose", "60mg"), ("start", START)]),
            ),
        ),
        (
            "POST /api/plan (413)",
            send(c.post(s.url("api/plan")).body(padded_body(BODY_LIMIT + 1))),
        ),
    ];
    for (what, a) in &answers {
        assert_secure(a, what);
    }
    assert_eq!(answers[4].1.status, 404);
    assert_eq!(answers[5].1.status, 404);
    assert_eq!(answers[7].1.status, 413);
    s.stop();
}

#[test]
fn the_log_has_one_line_per_request_and_never_the_patient() {
    let s = Server::start(&[]);
    let c = client();
    let fields = [
        ("profile", "baclofen"),
        ("dose", "60mg"),
        ("start", START),
        ("patient", PATIENT),
    ];
    let mut sent = Vec::new();
    let a = post_plan(&c, &s, "?format=html", None, &object(&fields));
    assert_eq!(a.status, 200);
    assert!(a.text().contains(PATIENT), "the plan names the patient");
    sent.push(("POST", "/api/plan", 200));
    let mut bad = object(&fields);
    bad["dose"] = json!("abc");
    assert_eq!(post_plan(&c, &s, "", None, &bad).status, 422);
    sent.push(("POST", "/api/plan", 422));
    let a = send(c.post(s.url("plan")).form(&browser_form(&fields)));
    assert_eq!(a.status, 200);
    sent.push(("POST", "/plan", 200));
    let q: &[(&str, &str)] = &[("profile", "baclofen"), ("patient", PATIENT)];
    assert_eq!(send(c.get(s.url("")).query(q)).status, 200);
    sent.push(("GET", "/", 200));
    // A name in the query string (whatever the answer): not logged either.
    let q: &[(&str, &str)] = &[("format", "csv"), ("patient", PATIENT)];
    let status = send(c.post(s.url("api/plan")).query(q).json(&object(&fields))).status;
    sent.push(("POST", "/api/plan", status));
    assert_eq!(send(c.get(s.url("x/y"))).status, 404);
    sent.push(("GET", "/x/y", 404));
    drop(c);
    let log = s.stop(); // checks every line's format and the name's absence
    let want: Vec<(String, String, u16)> = sent
        .iter()
        .map(|(m, p, st)| (m.to_string(), p.to_string(), *st))
        .collect();
    assert_eq!(log_entries(&log), want, "{log}");
}

#[test]
fn concurrent_requests_each_get_their_own_plan() {
    let s = Server::start(&["--max-in-flight", "64", "--timeout", "120"]);
    let formats = ["json", "csv", "ics", "table"];
    let requests: Vec<(Vec<(&str, String)>, &str)> = (0..64)
        .map(|i| {
            let fields = vec![
                ("profile", "baclofen".to_string()),
                ("dose", format!("{}mg", 10 + i)),
                ("start", START.to_string()),
            ];
            (fields, formats[i % formats.len()])
        })
        .collect();
    // The CLI's bytes for each, worked out in parallel.
    let expected: Vec<Vec<u8>> = thread::scope(|sc| {
        let handles: Vec<_> = requests
            .iter()
            .map(|(fields, format)| {
                let format: &str = format;
                sc.spawn(move || {
                    let f: Vec<(&str, &str)> =
                        fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    cli_ok(&with(&plan_args(&f), &["--format", format]))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let c = client();
    let barrier = Arc::new(Barrier::new(requests.len()));
    let answers: Vec<Answer> = thread::scope(|sc| {
        let handles: Vec<_> = requests
            .iter()
            .map(|(fields, format)| {
                let format: &str = format;
                let (c, s, barrier) = (&c, &s, Arc::clone(&barrier));
                sc.spawn(move || {
                    let body = Value::Object(
                        fields
                            .iter()
                            .map(|(k, v)| (k.to_string(), json!(v)))
                            .collect(),
                    );
                    barrier.wait();
                    post_plan(c, s, &format!("?format={format}"), None, &body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, (a, want)) in answers.iter().zip(&expected).enumerate() {
        assert_eq!(a.status, 200, "request {i}: {}", a.show());
        assert_same(&format!("request {i} ({:?})", requests[i]), &a.body, want);
    }
    drop(c);
    let log = s.stop();
    assert_eq!(log.lines().count(), 64, "{log}");
}

#[test]
fn over_max_in_flight_is_503_with_retry_after() {
    let s = Server::start(&["--max-in-flight", "1", "--timeout", "120"]);
    let args = plan_args(&HEAVY);
    let want = cli_ok(&with(&args, &["--format", "html"]));
    let body = object(&HEAVY);
    let c = client();
    let n = 64;
    let barrier = Arc::new(Barrier::new(n));
    let answers: Vec<Answer> = thread::scope(|sc| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (c, s, body, barrier) = (&c, &s, &body, Arc::clone(&barrier));
                sc.spawn(move || {
                    barrier.wait();
                    post_plan(c, s, "?format=html", None, body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut busy = 0;
    let mut ok = 0;
    for a in &answers {
        match a.status {
            503 => {
                busy += 1;
                assert_eq!(a.header("retry-after"), Some("1"), "{}", a.show());
                assert_secure(a, "503");
            }
            200 => {
                ok += 1;
                assert_same("a heavy plan beside 503s", &a.body, &want);
            }
            _ => panic!("neither 200 nor 503: {}", a.show()),
        }
    }
    assert!(
        busy >= 1,
        "64 heavy requests at once with --max-in-flight 1: no 503"
    );
    assert!(ok >= 1, "no request planned");
    // The slot is free again.
    let a = post_plan(&c, &s, "?format=html", None, &body);
    assert_eq!(a.status, 200, "{}", a.show());
    drop(c);
    s.stop();
}

#[test]
fn a_bad_listen_value_exits_2_with_one_error_line() {
    for listen in [
        "nonsense",
        "127.0.0.1",
        "127.0.0.1:99999",
        "300.1.1.1:80",
        "",
    ] {
        let o = taper()
            .args(["serve", "--listen", listen])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--listen {listen:?}: {err}");
        assert!(o.stdout.is_empty(), "--listen {listen:?}: stdout");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "--listen {listen:?}: {err}");
        assert!(lines[0].starts_with("error: "), "{err}");
    }
}

#[test]
fn sigterm_and_sigint_stop_the_server_with_exit_0() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let s = Server::start(&[]);
        let a = send(client().get(s.url("healthz")));
        assert_eq!(a.status, 200);
        let stopped = s.stop_with(sig);
        assert_eq!(
            stopped.status.code(),
            Some(0),
            "signal {sig}: {}",
            stopped.stderr
        );
        assert_eq!(stopped.stderr.lines().count(), 1, "{}", stopped.stderr);
    }
    // -q: no request lines.
    let s = Server::start(&["-q"]);
    let a = send(client().get(s.url("healthz")));
    assert_eq!(a.status, 200);
    assert_eq!(s.stop(), "", "-q logs nothing");
}

#[test]
fn a_method_an_address_does_not_take_is_405_in_its_own_kind() {
    let s = Server::start(&[]);
    let c = client();
    let a = send(c.delete(s.url("api/plan")));
    assert_eq!(a.status, 405, "{}", a.show());
    assert_eq!(a.header("allow"), Some("POST"), "{}", a.show());
    assert_secure(&a, "405 (API)");
    let v: Value = serde_json::from_slice(&a.body).expect("a JSON error");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("DELETE is not answered at /api/plan")),
        "{}",
        a.show()
    );
    // The page's addresses answer with a page.
    let a = send(c.get(s.url("plan")));
    assert_eq!(a.status, 405, "{}", a.show());
    assert!(a.header("content-type").unwrap().starts_with("text/html"));
    let doc = a.html();
    assert!(text_of(one(&doc, "#form-error")).starts_with("GET is not answered at /plan"));
    assert_disclaimer(&doc, "405 page");
    s.stop();
}

#[test]
fn control_characters_in_a_refused_value_are_escaped_as_the_cli_prints_them() {
    let s = Server::start(&[]);
    let c = client();
    for fields in [
        [("profile", "baclofen"), ("dose", "6\u{8}0mg")],
        [("profile", "baclofen"), ("dose", "60mg\u{1b}[31m")],
    ] {
        let a = post_plan(&c, &s, "", None, &object(&fields));
        assert_eq!(a.status, 422, "{}", a.show());
        let got = a.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(!got.chars().any(char::is_control), "{got:?}");
        assert_eq!(got, cli_refusal(&plan_args(&fields)));
    }
    // The page shows the same words next to the field.
    let form = [
        ("profile", "baclofen"),
        ("dose", "6\u{8}0mg"),
        ("start", START),
    ];
    let a = send(c.post(s.url("plan")).form(&form));
    assert_eq!(a.status, 422, "{}", a.show());
    let shown = text_of(one(&a.html(), "#dose-error"));
    assert_eq!(
        shown,
        cli_refusal(&plan_args(&[
            ("profile", "baclofen"),
            ("dose", "6\u{8}0mg")
        ]))
    );
    s.stop();
}
