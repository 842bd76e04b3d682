//! The day's administrations: their names, and which are given up first.
//!
//! When a daily dose can no longer be spread evenly over the day, a plan
//! gives it in fewer administrations, explicitly, dropping slots in the
//! profile's `drop_order` (or, without one, from the middle of the day
//! outwards, keeping the evening dose longest). The number of
//! administrations never goes back up.

use crate::profile::Profile;

/// Names of `n` administrations: the profile's own when it names that many,
/// otherwise the usual names for the time of day.
pub fn names(profile: &Profile, n: u32) -> Vec<String> {
    if n == profile.doses_per_day && profile.doses.slots.len() == n as usize {
        return profile.doses.slots.clone();
    }
    let generic: &[&str] = match n {
        1 => &["morning"],
        2 => &["morning", "evening"],
        3 => &["morning", "midday", "evening"],
        4 => &["morning", "midday", "evening", "bedtime"],
        _ => &[],
    };
    if generic.is_empty() {
        return (1..=n).map(|i| format!("dose {i}")).collect();
    }
    generic.iter().map(|s| s.to_string()).collect()
}

/// The order in which the `n` slots are dropped (indices), profile order
/// first; the slot never listed last.
fn drop_sequence(profile: &Profile, n: u32) -> Vec<u32> {
    let names = names(profile, n);
    let mut seq: Vec<u32> = Vec::new();
    if n == profile.doses_per_day {
        for d in &profile.doses.drop_order {
            if let Some(i) = names.iter().position(|x| x == d) {
                seq.push(i as u32);
            }
        }
    }
    // Generic: interior slots from the middle outwards, then the first.
    let mut interior: Vec<u32> = (1..n.saturating_sub(1)).collect();
    let centre2 = i64::from(n) - 1; // twice the centre index
    interior.sort_by_key(|&i| ((2 * i64::from(i) - centre2).abs(), i));
    for i in interior.into_iter().chain([0, n.saturating_sub(1)]) {
        if i < n && !seq.contains(&i) {
            seq.push(i);
        }
    }
    seq
}

/// The fewest administrations a day before the final phase: enough for
/// the profile's longest gap between doses, and, where the profile names
/// its slots, every slot its `drop_order` does not list.
pub fn min_per_day(profile: &Profile, n: u32) -> u32 {
    let by_gap = profile.doses.min_per_day();
    let own_slots = n == profile.doses_per_day && profile.doses.slots.len() == n as usize;
    let listed = if own_slots {
        profile.doses.drop_order.len() as u32
    } else {
        n
    };
    by_gap.max(n.saturating_sub(listed)).clamp(1, n.max(1))
}

/// Indices (ascending) of the slots still given when only `k` of `n`
/// administrations remain.
pub fn kept(profile: &Profile, n: u32, k: u32) -> Vec<u32> {
    let k = k.clamp(1, n.max(1));
    let dropped: Vec<u32> = drop_sequence(profile, n)
        .into_iter()
        .take((n - k) as usize)
        .collect();
    (0..n).filter(|i| !dropped.contains(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{parse_profile, BUILTIN_PROFILES};

    fn baclofen() -> Profile {
        let text = BUILTIN_PROFILES
            .iter()
            .find(|(n, _)| *n == "baclofen")
            .unwrap()
            .1;
        parse_profile(text, "b", "built-in").unwrap()
    }

    #[test]
    fn generic_drop_keeps_the_evening_longest() {
        let p = baclofen();
        assert_eq!(kept(&p, 3, 3), [0, 1, 2]);
        assert_eq!(kept(&p, 3, 2), [0, 2]);
        assert_eq!(kept(&p, 3, 1), [2]);
        assert_eq!(kept(&p, 4, 2), [0, 3]);
        assert_eq!(kept(&p, 4, 1), [3]);
        assert_eq!(kept(&p, 5, 3), [0, 3, 4]);
        assert_eq!(names(&p, 6).len(), 6);
    }
}
