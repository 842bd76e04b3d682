//! A load check of `taper serve`, not a test: starts the release binary on
//! a free port, sends `SERVE_LOAD_REQUESTS` (default 2,000) `POST
//! /api/plan` JSON requests from `SERVE_LOAD_CLIENTS` (default 32)
//! concurrent clients, checks that every answer is 200 and a plan, and
//! prints the throughput, latency percentiles and the server's peak RSS.
//! Exits 1 when an answer is not a plan.
//!
//! Run with `cargo bench --bench serve_load`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const START: &str = "2026-12-01";

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{name}={v:?}: want a whole number above 0")),
        Err(_) => default,
    }
}

/// A realistic mix of requests (profile name, body).
fn mix() -> Vec<(&'static str, Value)> {
    vec![
        (
            "baclofen",
            json!({"profile": "baclofen", "dose": "60mg", "start": START}),
        ),
        (
            "diazepam",
            json!({"profile": "diazepam", "dose": "20mg", "supply": "28", "start": START}),
        ),
        (
            "sertraline",
            json!({"profile": "sertraline", "dose": "100mg", "strategy": "hyperbolic",
                   "start": START}),
        ),
        (
            "oxycodone",
            json!({"profile": "oxycodone", "dose": "60mg", "start": START}),
        ),
        (
            "prednisone",
            json!({"profile": "prednisone", "dose": "40mg", "start": START}),
        ),
    ]
}

/// What was wrong with an answer, if anything.
fn check(profile: &str, status: u16, body: &[u8]) -> Option<String> {
    if status != 200 {
        let text = String::from_utf8_lossy(body);
        return Some(format!("{profile}: status {status}: {text:.300}"));
    }
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some(format!("{profile}: not JSON: {e}")),
    };
    let is_plan = v["plan_id"].as_str().is_some_and(|s| !s.is_empty())
        && v["profile"]["name"] == profile
        && v["steps"].as_array().is_some_and(|s| !s.is_empty())
        && v["days"].as_array().is_some_and(|d| !d.is_empty());
    (!is_plan).then(|| format!("{profile}: 200 but not a {profile} plan"))
}

/// One answer: latency, status, problem.
type Outcome = (Duration, u16, Option<String>);

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

fn vm_hwm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn main() {
    let requests = env_usize("SERVE_LOAD_REQUESTS", 2000);
    let clients = env_usize("SERVE_LOAD_CLIENTS", 32);
    // Never shed load: this measures plans, not the 503 path.
    let max_in_flight = clients.max(32).to_string();

    let mut child = Command::new(env!("CARGO_BIN_EXE_taper"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--max-in-flight", &max_in_flight, "--timeout", "60"])
        .env_remove("TAPER_PROFILES")
        .env("XDG_CONFIG_HOME", "/nonexistent/taper-bench/config")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start taper serve");
    let pid = child.id();
    let mut stderr = child.stderr.take().unwrap();
    let log = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let Some(base) = first
        .trim_end()
        .strip_prefix("taper serve: listening on ")
        .map(str::to_string)
    else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "taper serve did not start: {first:?}\n{}",
            log.join().unwrap()
        );
    };
    let url = format!("{base}api/plan");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mix = Arc::new(mix());
    let (outcomes, wall) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(clients)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        // Warm up: each request of the mix once, one at a time.
        for (profile, body) in mix.iter() {
            let r = client.post(&url).json(body).send().await.unwrap();
            let status = r.status().as_u16();
            let bytes = r.bytes().await.unwrap();
            if let Some(problem) = check(profile, status, &bytes) {
                panic!("warm-up: {problem}");
            }
        }
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (client, url, mix, next) = (
                    client.clone(),
                    url.clone(),
                    Arc::clone(&mix),
                    Arc::clone(&next),
                );
                tokio::spawn(async move {
                    let mut out: Vec<Outcome> = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= requests {
                            break out;
                        }
                        let (profile, body) = &mix[i % mix.len()];
                        let t0 = Instant::now();
                        let outcome = match client.post(&url).json(body).send().await {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                match r.bytes().await {
                                    Ok(b) => {
                                        let problem = check(profile, status, &b);
                                        (t0.elapsed(), status, problem)
                                    }
                                    Err(e) => (t0.elapsed(), status, Some(format!("body: {e}"))),
                                }
                            }
                            Err(e) => (t0.elapsed(), 0, Some(format!("request: {e}"))),
                        };
                        out.push(outcome);
                    }
                })
            })
            .collect();
        let mut all = Vec::with_capacity(requests);
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (all, started.elapsed())
    });
    drop(rt);

    let peak_rss = vm_hwm(pid);
    // SAFETY: kill(2) on the pid of the child started above, not yet waited for.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    let log = log.join().unwrap();

    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.0).collect();
    latencies.sort();
    let non_200 = outcomes.iter().filter(|o| o.1 != 200).count();
    let problems: Vec<&String> = outcomes.iter().filter_map(|o| o.2.as_ref()).collect();
    println!(
        "taper serve load check: POST /api/plan, JSON, a mix of {} requests",
        mix.len()
    );
    println!("requests:          {}", outcomes.len());
    println!("clients:           {clients}");
    println!("wall time:         {:.3} s", wall.as_secs_f64());
    println!(
        "plans per second:  {:.1}",
        outcomes.len() as f64 / wall.as_secs_f64()
    );
    println!(
        "latency ms:        p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    println!("non-200 answers:   {non_200}");
    println!("not a plan:        {}", problems.len());
    println!("server peak RSS:   {peak_rss} (VmHWM)");
    println!("server log lines:  {}", log.lines().count());
    println!("server exit:       {status}");
    for p in problems.iter().take(5) {
        println!("  problem: {p}");
    }
    if !problems.is_empty() || outcomes.len() != requests || !status.success() {
        std::process::exit(1);
    }
}
