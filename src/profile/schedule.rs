//! Custom schedules (`40x7,30x7,20x2w`), shared by `--schedule`, batch
//! rows and a profile's `schedule`: the syntax only, bounded before parsing.

use crate::dose::{Dose, TypedAmount};

use super::message::quoted;

/// Most entries in a custom schedule (`--schedule`, a batch row's
/// `schedule` or a profile's `schedule`), counted before parsing.
pub const MAX_SCHEDULE_ENTRIES: usize = 500;

/// Longest schedule text, in bytes, checked before it is split.
pub const MAX_SCHEDULE_BYTES: usize = 16 * 1024;

/// Parses a custom schedule `40x7,30x7,20x2w`: dose (mg, mcg or bare) × days.
/// Only the syntax is checked here; the plan checks that it falls.
pub fn parse_schedule(text: &str) -> Result<Vec<(Dose, u32)>, String> {
    let accepted = "accepted: comma-separated DOSExDAYS entries, e.g. \"40x7,30x7,20x14\"";
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
        let days =
            crate::dose::parse_interval(days).map_err(|m| format!("schedule entry '{e}': {m}"))?;
        out.push((mg, days));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse() {
        let s = parse_schedule("40x7, 30 x 1w,2.5mgx14,500mcgx2w").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s[1].1, 7);
        assert_eq!(s[3].0, Dose::parse_decimal("0.5").unwrap());
        for bad in [
            "",
            "40",
            "40x",
            "x7",
            "40x0",
            "-5x7",
            "40x7,,30x7",
            "4 kgx7",
        ] {
            assert!(parse_schedule(bad).is_err(), "{bad}");
        }
    }
}
