//! Calendars of revised plans (`taper adjust`) that update in place.
//!
//! A calendar client that reads the old file and then the new one keeps,
//! per UID, the event with the highest `SEQUENCE` (RFC 5545 §3.8.7.4). So
//! every event gets `SEQUENCE` = (the revision in which it last changed) −
//! 1: an event unchanged since the plan was drafted keeps 0, the value its
//! first file implied. Every event an earlier revision had and this one
//! drops is written again with `STATUS:CANCELLED` and `SEQUENCE` =
//! (the revision that dropped it) − 1, above any it had while live.
//! "Changed" means any byte of the event other than `DTSTAMP` differs, as
//! this module compares the events the normal writer produces for each
//! revision in turn.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::error::Result;
use crate::render::Extras;
use crate::schedule::Plan;

/// `SEQUENCE` by UID.
pub(super) type Sequences = HashMap<String, u32>;

/// The day a revision's `DTSTAMP` names: its first day (revision 1: the
/// plan's first day), so output stays reproducible.
pub(super) fn stamp_date(plan: &Plan) -> NaiveDate {
    plan.history
        .revisions
        .last()
        .map_or(plan.request.start, |r| r.from)
}

/// Each event's `SEQUENCE` in `plan`, and the cancelled events (whole
/// `VEVENT` blocks) to add to its calendar.
pub(super) fn sequences(plan: &Plan, extras: &Extras) -> Result<(Sequences, Vec<Vec<u8>>)> {
    let mut chain: Vec<&Plan> = vec![plan];
    while let Some(prev) = chain.last().and_then(|p| p.history.previous.as_deref()) {
        chain.push(prev);
    }
    chain.reverse();
    let mut seq = Sequences::new();
    // Latest content of every UID ever written, in first-seen order.
    let mut content: HashMap<String, String> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    // UID → SEQUENCE of its cancellation, while it stays dropped.
    let mut dropped: HashMap<String, u32> = HashMap::new();
    for (k, p) in chain.iter().enumerate() {
        let k = k as u32;
        let mut buf = Vec::new();
        super::write_calendar(p, extras, None, &[], &mut buf)?;
        let mut now = HashSet::new();
        for (uid, block) in blocks(&String::from_utf8_lossy(&buf)) {
            let same = !dropped.contains_key(&uid) && content.get(&uid) == Some(&block);
            let n = if same { seq[&uid] } else { k };
            if !content.contains_key(&uid) {
                order.push(uid.clone());
            }
            seq.insert(uid.clone(), n);
            content.insert(uid.clone(), block);
            dropped.remove(&uid);
            now.insert(uid);
        }
        for uid in &order {
            if !now.contains(uid) && !dropped.contains_key(uid) {
                dropped.insert(uid.clone(), k);
            }
        }
    }
    let stamp = format!("{}T000000Z", stamp_date(plan).format("%Y%m%d"));
    let cancelled = order
        .iter()
        .filter_map(|uid| {
            let n = dropped.get(uid)?;
            Some(cancel(&content[uid], &stamp, *n))
        })
        .collect();
    Ok((seq, cancelled))
}

/// The `VEVENT` blocks of a calendar, each with its UID, without the
/// `DTSTAMP` line (which changes with every revision).
fn blocks(ics: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in ics.split_inclusive("\r\n") {
        if line == "BEGIN:VEVENT\r\n" {
            current = Some(String::new());
        }
        if let Some(c) = current.as_mut() {
            if !line.starts_with("DTSTAMP:") {
                c.push_str(line);
            }
        }
        if line == "END:VEVENT\r\n" {
            if let Some(block) = current.take() {
                let unfolded = block.replace("\r\n ", "");
                let uid = unfolded
                    .lines()
                    .find_map(|l| l.strip_prefix("UID:"))
                    .unwrap_or_default()
                    .to_string();
                out.push((uid, block));
            }
        }
    }
    out
}

/// An event block marked cancelled: `DTSTAMP`, `SEQUENCE` and
/// `STATUS:CANCELLED` after its (possibly folded) UID line.
fn cancel(block: &str, stamp: &str, sequence: u32) -> Vec<u8> {
    let mut out = String::with_capacity(block.len() + 64);
    let mut inserted = false;
    let mut after_uid = false;
    for line in block.split_inclusive("\r\n") {
        if after_uid && !line.starts_with(' ') && !inserted {
            out.push_str(&format!(
                "DTSTAMP:{stamp}\r\nSEQUENCE:{sequence}\r\nSTATUS:CANCELLED\r\n"
            ));
            inserted = true;
        }
        if line.starts_with("UID:") {
            after_uid = true;
        }
        out.push_str(line);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_drop_dtstamp_and_cancel_inserts_after_a_folded_uid() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:abc\r\n def\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let b = blocks(ics);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].0, "abcdef");
        assert!(!b[0].1.contains("DTSTAMP"));
        let c = String::from_utf8(cancel(&b[0].1, "20270101T000000Z", 2)).unwrap();
        assert_eq!(
            c,
            "BEGIN:VEVENT\r\nUID:abc\r\n def\r\nDTSTAMP:20270101T000000Z\r\nSEQUENCE:2\r\nSTATUS:CANCELLED\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
        );
    }
}
