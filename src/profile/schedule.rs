//! Custom schedules (`40x7,30x7,20x2w`), shared by `--schedule`, batch
//! rows and a profile's `schedule`: the syntax only, bounded before parsing.

use crate::dose::TypedAmount;
use crate::strategy::{CustomEntry, EVERY_DAYS};

use super::message::quoted;

/// Most entries in a custom schedule (`--schedule`, a batch row's
/// `schedule` or a profile's `schedule`), counted before parsing.
pub const MAX_SCHEDULE_ENTRIES: usize = 500;

/// Longest schedule text, in bytes, checked before it is split.
pub const MAX_SCHEDULE_BYTES: usize = 16 * 1024;

/// Parses a custom schedule `40x7,30x7,20x2w,5x14/2`: dose (mg, mcg or
/// bare) × days, optionally `/N` for a dose taken every N days. Only the
/// syntax is checked here; the plan checks that it falls.
pub fn parse_schedule(text: &str) -> Result<Vec<CustomEntry>, String> {
    let accepted = "accepted: comma-separated DOSExDAYS entries, each optionally /N for every N days, e.g. \"40x7,30x7,20x14,5x14/2\"";
    if text.trim().is_empty() {
        return Err(format!("schedule is empty ({accepted})"));
    }
    // Bounded before anything is split, parsed or quoted.
    if text.len() > MAX_SCHEDULE_BYTES {
        return Err(format!(
            "schedule is {} bytes long (accepted: at most {MAX_SCHEDULE_BYTES} bytes and {MAX_SCHEDULE_ENTRIES} entries)",
            text.len()
        ));
    }
    let entries = text.bytes().filter(|&b| b == b',').count() + 1;
    if entries > MAX_SCHEDULE_ENTRIES {
        return Err(format!(
            "schedule has {entries} entries (accepted: at most {MAX_SCHEDULE_ENTRIES})"
        ));
    }
    let mut out = Vec::with_capacity(entries);
    for entry in text.split(',') {
        let trimmed = entry.trim();
        let e = quoted(trimmed);
        let e = e.as_str();
        // `/N` first: the dose may end in a unit with an x in it.
        let (trimmed, every) = match trimmed.split_once('/') {
            Some((main, every)) => (main.trim_end(), Some(every)),
            None => (trimmed, None),
        };
        let Some((dose, days)) = trimmed.rsplit_once(['x', 'X', '×']) else {
            return Err(format!(
                "schedule entry '{e}' is not DOSExDAYS ({accepted})"
            ));
        };
        let amount = TypedAmount::parse(dose).map_err(|m| format!("schedule entry '{e}': {m}"))?;
        let mg = match amount.to_mg() {
            Ok(Some(mg)) => mg,
            Ok(None) => {
                return Err(format!(
                    "schedule entry '{e}': doses must be given in mg or mcg ({accepted})"
                ))
            }
            Err(m) => return Err(format!("schedule entry '{e}': {m}")),
        };
        let every_days = match every {
            Some(every) => parse_every(every, e)?,
            None => 1,
        };
        let days =
            crate::dose::parse_interval(days).map_err(|m| format!("schedule entry '{e}': {m}"))?;
        if days < every_days {
            return Err(format!(
                "schedule entry '{e}' lasts {days} days, fewer than its {every_days}-day gap (accepted: at least {every_days} days, e.g. 5x14/{every_days})"
            ));
        }
        out.push(CustomEntry {
            dose: mg,
            days,
            every_days,
        });
    }
    Ok(out)
}

/// The `N` of a `DOSExDAYS/N` entry (every N days).
fn parse_every(text: &str, entry: &str) -> Result<u32, String> {
    let (lo, hi) = (EVERY_DAYS.start(), EVERY_DAYS.end());
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| EVERY_DAYS.contains(n))
        .ok_or_else(|| {
            format!(
                "schedule entry '{entry}': '/{}' is not an every-N-days gap (accepted: /N with N from {lo} to {hi}, e.g. 5x14/2 = 5 mg every second day for 14 days)",
                quoted(text.trim())
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse() {
        let s = parse_schedule("40x7, 30 x 1w,2.5mgx14,500mcgx2w").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s[1].days, 7);
        assert_eq!(s[3].dose, crate::dose::Dose::parse_decimal("0.5").unwrap());
        assert!(s.iter().all(|e| e.every_days == 1));
        let alt = parse_schedule("5x14,5 x 2w/2,2.5x9/3").unwrap();
        assert_eq!((alt[1].days, alt[1].every_days), (14, 2));
        assert_eq!((alt[2].days, alt[2].every_days), (9, 3));
        for bad in [
            "",
            "40",
            "40x",
            "x7",
            "40x0",
            "-5x7",
            "40x7,,30x7",
            "4 kgx7",
            "5x14/1",
            "5x14/0",
            "5x14/8",
            "5x14/",
            "5x14/2.5",
            "5x1/2",
            "5/2x14",
        ] {
            assert!(parse_schedule(bad).is_err(), "{bad}");
        }
    }
}
