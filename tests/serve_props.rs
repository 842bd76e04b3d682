//! `POST /api/plan` is `taper plan` over HTTP: for random requests over
//! every built-in profile (valid and invalid values, every format), the
//! server's answer is the command line's, byte for byte, and its refusals
//! carry the command line's words with 422.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};

/// The server under test, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taper"))
            .args(["serve", "--listen", "127.0.0.1:0", "-q"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("taper serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request: the batch-row fields, and the format asked for.
#[derive(Clone, Debug)]
struct Request {
    fields: Vec<(&'static str, String)>,
    format: &'static str,
    view: Option<&'static str>,
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn maybe(items: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(0.35, pick(items).prop_map(String::from))
}

fn request() -> impl Strategy<Value = Request> {
    let drug = (0..common::DOSES.len(), 0..3usize, pick(&["", "mg", " mg"]));
    let strategy = prop_oneof![
        Just(Vec::new()),
        maybe(&["5mg", "10", "0.5mg"]).prop_map(|v| {
            let mut f = vec![("strategy", "linear".to_string())];
            f.extend(v.map(|v| ("step", v)));
            f
        }),
        maybe(&["10", "25", "12.5"]).prop_map(|v| {
            let mut f = vec![("strategy", "percent".to_string())];
            f.extend(v.map(|v| ("percent", v)));
            f
        }),
        maybe(&["5", "10"]).prop_map(|v| {
            let mut f = vec![("strategy", "hyperbolic".to_string())];
            f.extend(v.map(|v| ("occupancy_step", v)));
            f
        }),
        maybe(&["40x7,20x7", "10x14,5x14/2"]).prop_map(|v| {
            let mut f = vec![("strategy", "custom".to_string())];
            f.extend(v.map(|v| ("schedule", v)));
            f
        }),
    ];
    let options = (
        maybe(&["7", "14", "2w"]),
        maybe(&["0", "1"]),
        maybe(&["1", "2", "3"]),
        maybe(&["28", "4w"]),
        maybe(&["us", "uk"]),
        maybe(&["J. Smith", "Ana María Núñez"]),
        maybe(&["tablet", "liquid"]),
        maybe(&["14"]),
    );
    let start = pick(&["2026-12-01", "2027-02-28"]);
    // At most one bad value a request, a third of the time.
    let bad = proptest::option::weighted(
        0.3,
        pick(&[
            ("dose", "abc"),
            ("start", "2026-13-01"),
            ("step", "0"),
            ("percent", "120"),
            ("occupancy_step", "abc"),
            ("schedule", "x"),
            ("interval", "0"),
            ("target", "abc"),
            ("doses_per_day", "13"),
            ("supply", "400"),
            ("market", "fr"),
            ("form", "x"),
            ("final_hold", "x"),
            ("strengths", "3mg"),
        ]),
    );
    let format = pick(&[
        ("json", None),
        ("json", Some("steps")),
        ("csv", None),
        ("csv", Some("steps")),
        ("csv", Some("fills")),
        ("ics", None),
        ("html", None),
        ("fhir", None),
        ("table", None),
    ]);
    (drug, strategy, options, start, format, bad).prop_map(
        |((d, level, unit), strategy, options, start, (format, view), bad)| {
            let (profile, doses) = common::DOSES[d];
            let mut fields = vec![
                ("profile", profile.to_string()),
                ("dose", format!("{}{unit}", doses[level])),
                ("start", start.to_string()),
            ];
            fields.extend(strategy);
            let (interval, target, per_day, supply, market, patient, form, hold) = options;
            for (name, value) in [
                ("interval", interval),
                ("target", target),
                ("doses_per_day", per_day),
                ("supply", supply),
                ("market", market),
                ("patient", patient),
                ("form", form),
                ("final_hold", hold),
            ] {
                fields.extend(value.map(|v| (name, v)));
            }
            if let Some((name, value)) = bad {
                fields.retain(|(k, _)| *k != name);
                fields.push((name, value.to_string()));
            }
            Request {
                fields,
                format,
                view,
            }
        },
    )
}

/// The same request on the command line.
fn cli_args(r: &Request) -> Vec<String> {
    let get = |name: &str| r.fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
    let mut args = vec![
        "plan".to_string(),
        get("profile").unwrap().clone(),
        "--dose".into(),
        get("dose").unwrap().clone(),
    ];
    for (name, value) in &r.fields {
        if !matches!(*name, "profile" | "dose") {
            args.push(format!("--{}", name.replace('_', "-")));
            args.push(value.clone());
        }
    }
    args.extend(["--format".to_string(), r.format.to_string()]);
    if let Some(v) = r.view {
        args.extend(["--view".to_string(), v.to_string()]);
    }
    args
}

/// True when the request planned, false when it was refused (both sides).
fn check(
    client: &reqwest::blocking::Client,
    server: &Server,
    r: &Request,
) -> Result<bool, TestCaseError> {
    let args = cli_args(r);
    let cli = Command::new(env!("CARGO_BIN_EXE_taper"))
        .args(&args)
        .env_remove("TAPER_PROFILES")
        .env("HOME", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let body: Map<String, Value> = r
        .fields
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect();
    let mut url = format!("{}api/plan?format={}", server.url, r.format);
    if let Some(v) = r.view {
        url.push_str(&format!("&view={v}"));
    }
    let answer = client.post(&url).json(&body).send().unwrap();
    let status = answer.status().as_u16();
    let bytes = answer.bytes().unwrap();
    match cli.status.code() {
        Some(0) => {
            prop_assert_eq!(
                status,
                200,
                "{:?}: {}",
                args,
                String::from_utf8_lossy(&bytes)
            );
            prop_assert!(
                bytes[..] == cli.stdout[..],
                "{:?}: the server's bytes differ from the CLI's",
                args
            );
            Ok(true)
        }
        Some(2) => {
            prop_assert_eq!(
                status,
                422,
                "{:?}: {}",
                args,
                String::from_utf8_lossy(&bytes)
            );
            let stderr = String::from_utf8_lossy(&cli.stderr);
            let want = stderr
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or_default();
            let got: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(
                got["error"].as_str().unwrap_or_default(),
                want,
                "{:?}",
                args
            );
            Ok(false)
        }
        other => Err(TestCaseError::fail(format!(
            "{args:?}: the CLI exited {other:?}"
        ))),
    }
}

#[test]
fn random_requests_answer_what_taper_plan_prints() {
    let server = Server::start();
    let client = reqwest::blocking::Client::new();
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let planned = std::cell::Cell::new(0u32);
    let refused = std::cell::Cell::new(0u32);
    runner
        .run(&request(), |r| {
            let cell = if check(&client, &server, &r)? {
                &planned
            } else {
                &refused
            };
            cell.set(cell.get() + 1);
            Ok(())
        })
        .unwrap();
    // The draws must be a real mix: plans in every format, and refusals.
    assert!(
        planned.get() >= 40,
        "only {} of 200 draws planned",
        planned.get()
    );
    assert!(
        refused.get() >= 20,
        "only {} of 200 draws refused",
        refused.get()
    );
}
