//! `taper batch` on fuzzed request files: it must never panic or fail with
//! anything but a usage error, its reports must be one line per skipped
//! row, every row must be either planned or skipped, and what it writes
//! must parse back (CSV with one column count, or one JSON object a line).
//!
//! Input: one flag byte, then the request file's bytes. Flag bits:
//! 1 = jsonl (else CSV), 2 = summary view (else days), 4 = --strict,
//! 8 = --start 2027-01-04 for every row, 16 = --interval 14 for every row,
//! 32 = fills view (over summary), 64 = FHIR ndjson (over jsonl).
#![no_main]

use libfuzzer_sys::fuzz_target;
use taper::batch::{self, BatchConfig, BatchFormat, BatchView, RowDefaults};
use taper::profile::ProfileDirs;

fn input_path() -> std::path::PathBuf {
    let dir = std::path::Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("taper-fuzz-batch-{}.csv", std::process::id()))
}

/// The rows the batch reader sees: records and malformed records alike.
fn input_rows(bytes: &[u8]) -> Option<u64> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    r.headers().ok()?;
    let mut record = csv::StringRecord::new();
    let mut n = 0;
    loop {
        match r.read_record(&mut record) {
            Ok(false) => return Some(n),
            Ok(true) | Err(_) => n += 1,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, csv_bytes)) = data.split_first() else {
        return;
    };
    let path = input_path();
    std::fs::write(&path, csv_bytes).expect("write the request file");
    let format = if flags & 64 != 0 {
        BatchFormat::Fhir
    } else if flags & 1 != 0 {
        BatchFormat::Jsonl
    } else {
        BatchFormat::Csv
    };
    let view = if flags & 32 != 0 {
        BatchView::Fills
    } else if flags & 2 != 0 {
        BatchView::Summary
    } else {
        BatchView::Days
    };
    let strict = flags & 4 != 0;
    let config = BatchConfig {
        input: Some(path.clone()),
        format,
        view,
        output: None,
        force: false,
        strict,
        out_dir: None,
        quiet: false,
        csv: Default::default(),
        defaults: RowDefaults {
            start: (flags & 8 != 0).then(|| "2027-01-04".to_string()),
            interval: (flags & 16 != 0).then(|| "14".to_string()),
            ..RowDefaults::default()
        },
    };
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let result = batch::run(
        config,
        &ProfileDirs::new(None, None),
        taper_fuzz::today(),
        &mut stdout,
        &mut stderr,
    );
    let _ = std::fs::remove_file(&path);
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return taper_fuzz::refused(e),
    };
    if strict {
        assert_eq!(outcome.skipped, 0, "a strict batch skipped rows");
    }
    if !strict {
        let rows = input_rows(csv_bytes).expect("the batch read a header the csv crate cannot");
        assert_eq!(
            outcome.planned + outcome.skipped,
            rows,
            "rows neither planned nor skipped"
        );
    }

    // One report line per skipped row, then the note (CSV) and the count.
    let err = String::from_utf8(stderr).expect("stderr is UTF-8");
    let extra = if format == BatchFormat::Csv { 2 } else { 1 };
    let reports = err.lines().filter(|l| l.starts_with("line ")).count() as u64;
    assert_eq!(
        reports, outcome.skipped,
        "not one report per skipped row:\n{err}"
    );
    // Every report stays on its line, whatever the cells hold (fixed after
    // a `strategy` cell with a line break split its report in two).
    assert_eq!(
        err.lines().count() as u64,
        outcome.skipped + extra,
        "stderr is not one line per skipped row:\n{err}"
    );

    match format {
        BatchFormat::Csv => {
            let mut r = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(stdout.as_slice());
            let header = r.headers().expect("output header").clone();
            let columns = match view {
                BatchView::Days => 1 + taper::render::csv::DAY_COLUMNS.len(),
                BatchView::Summary => batch::SUMMARY_COLUMNS.len(),
                BatchView::Fills => 1 + taper::render::csv::FILL_COLUMNS.len(),
            };
            assert_eq!(header.len(), columns);
            let mut n = 0u64;
            for rec in r.records() {
                let rec = rec.unwrap_or_else(|e| panic!("output CSV does not parse: {e}"));
                assert_eq!(rec.len(), columns);
                n += 1;
            }
            match view {
                BatchView::Summary => assert_eq!(n, outcome.planned, "one summary row a plan"),
                BatchView::Days => assert!(n >= outcome.planned, "a plan has days"),
                BatchView::Fills => assert!(n >= outcome.planned, "a plan has a fill"),
            }
        }
        BatchFormat::Jsonl => {
            let text = std::str::from_utf8(&stdout).expect("jsonl is UTF-8");
            let mut n = 0u64;
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("jsonl line does not parse: {e}"));
                assert!(v.get("id").is_some_and(|id| id.is_string()));
                n += 1;
            }
            assert_eq!(n, outcome.planned, "one JSON line a plan");
        }
        BatchFormat::Fhir => {
            let text = std::str::from_utf8(&stdout).expect("ndjson is UTF-8");
            let mut n = 0u64;
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("FHIR line does not parse: {e}"));
                assert_eq!(v["resourceType"], "Bundle");
                n += 1;
            }
            assert_eq!(n, outcome.planned, "one Bundle a plan");
        }
        BatchFormat::Ics | BatchFormat::Html => unreachable!("the target plans streams"),
    }
});
