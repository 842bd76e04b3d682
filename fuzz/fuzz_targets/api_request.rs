//! `POST /api/plan` as `taper serve` answers it: the very function its
//! handler runs ([`taper::serve::plan_answer`]), on a fuzzed body, query
//! and `Accept`. It must never panic; the status is 200, 400, 406 or 422
//! (built-in profiles only, so never 500); a refusal is `{"error": "…"}`
//! with one line of text and no control character; a plan comes in the
//! type asked for, carries its id, and parses as that type.
//!
//! Input: one flag byte, then the body. Flag bits 0-2: `?format=` (json,
//! csv, ics, html, fhir, table, none, or a bad one); 3-4: `?view=` (none,
//! steps, days, fills); 5-7: the `Accept` header (none, `*/*`, text/csv,
//! a weighted list, image/png, text/html, `application/json;q=0`,
//! text/plain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use taper::profile::ProfileDirs;
use taper::serve::plan_answer;

const FORMATS: [Option<&str>; 8] = [
    Some("json"),
    Some("csv"),
    Some("ics"),
    Some("html"),
    Some("fhir"),
    Some("table"),
    None,
    Some("bogus"),
];
const VIEWS: [Option<&str>; 4] = [None, Some("steps"), Some("days"), Some("fills")];
const ACCEPTS: [Option<&str>; 8] = [
    None,
    Some("*/*"),
    Some("text/csv"),
    Some("text/calendar;q=0.5, application/fhir+json"),
    Some("image/png"),
    Some("text/html"),
    Some("application/json;q=0"),
    Some("text/plain"),
];

fn query(flags: u8) -> Option<String> {
    let parts: Vec<String> = [
        FORMATS[usize::from(flags & 7)].map(|f| format!("format={f}")),
        VIEWS[usize::from((flags >> 3) & 3)].map(|v| format!("view={v}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("&"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let query = query(flags);
    let accept = ACCEPTS[usize::from(flags >> 5)];
    // Only built-in profiles: no folders (a path is refused, never read).
    let dirs = ProfileDirs::new(None, None);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let a = plan_answer(query.as_deref(), accept, body, &dirs, today);
    match a.status {
        200 => {
            let (id, _, file) = a.plan.as_ref().expect("a plan carries its headers");
            assert!(!id.is_empty());
            match a.content_type {
                "application/json" | "application/fhir+json" => {
                    assert!(file.is_some() == (a.content_type != "application/json"));
                    serde_json::from_slice::<serde_json::Value>(&a.body).expect("JSON parses");
                }
                "text/csv; charset=utf-8" => {
                    let mut r = csv::ReaderBuilder::new().from_reader(&a.body[..]);
                    for record in r.records() {
                        record.expect("CSV parses, one column count");
                    }
                }
                "text/calendar; charset=utf-8" => assert!(a.body.starts_with(b"BEGIN:VCALENDAR\r\n")),
                "text/html; charset=utf-8" => assert!(a.body.starts_with(b"<!DOCTYPE html>")),
                "text/plain; charset=utf-8" => {
                    std::str::from_utf8(&a.body).expect("the table is UTF-8");
                }
                other => panic!("a plan as {other}"),
            }
        }
        400 | 406 | 422 => {
            assert!(a.plan.is_none());
            let v: serde_json::Value = serde_json::from_slice(&a.body).expect("the error is JSON");
            let obj = v.as_object().expect("an object");
            assert_eq!(obj.len(), 1, "{v}");
            let message = obj["error"].as_str().expect("a text");
            assert!(!message.is_empty());
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
        s => panic!("status {s}: {}", String::from_utf8_lossy(&a.body)),
    }
});
