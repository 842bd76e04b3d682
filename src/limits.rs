//! The fastest taper the profile's sources support, as one rule used both
//! to choose a regimen and to warn about a plan.
//!
//! A cut is within guidance when it is within `max_step_percent` of the
//! dose before it, or within the absolute `max_step` (narrowed by a
//! low-dose phase's own `step`). The last cut, to a stop, is different: the
//! absolute limit no longer excuses it; only stopping from at or below the
//! ending's `stop_from` (the dose the sources name for stopping) does.

use crate::dose::{Dose, SCALE};
use crate::profile::{Limits, Profile};

/// The profile's step limits, ready to judge cuts.
pub struct Rules<'a> {
    profile: &'a Profile,
    limits: &'a Limits,
}

impl<'a> Rules<'a> {
    pub fn new(profile: &'a Profile) -> Rules<'a> {
        Rules {
            profile,
            limits: &profile.limits,
        }
    }

    /// The absolute limit at `from`: `max_step`, or a low-dose phase's
    /// smaller step.
    pub fn absolute_at(&self, from: Dose) -> Option<Dose> {
        self.absolute_at_every(from, 1)
    }

    /// The absolute limit at an average daily dose of `from` taken every
    /// `every` days (`from / every`, compared without dividing).
    fn absolute_at_every(&self, from: Dose, every: u32) -> Option<Dose> {
        let every = u128::from(every.max(1));
        let slow = self
            .profile
            .slow_below
            .iter()
            .filter(|r| u128::from(from.micro()) <= u128::from(r.dose.micro()) * every)
            .filter_map(|r| r.step)
            .min();
        match (self.limits.max_step, slow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the cut from `from` to `to` needs a warning. `is_last` marks
    /// the plan's last step (the target day).
    pub fn cut_warned(&self, from: Dose, to: Dose, is_last: bool, target: Dose) -> bool {
        self.cut_warned_every((from, 1), (to, 1), is_last, target)
    }

    /// [`Rules::cut_warned`] for doses taken every N days: the cut is in
    /// the average daily dose (`dose / every`), judged exactly by
    /// multiplying out the divisions.
    pub fn cut_warned_every(
        &self,
        (from, from_every): (Dose, u32),
        (to, to_every): (Dose, u32),
        is_last: bool,
        target: Dose,
    ) -> bool {
        let (fe, te) = (u128::from(from_every.max(1)), u128::from(to_every.max(1)));
        // Both averages times fe * te.
        let before = u128::from(from.micro()) * te;
        let after = u128::from(to.micro()) * fe;
        let Some(cut) = before.checked_sub(after).filter(|c| *c > 0) else {
            return false;
        };
        let pct = self
            .limits
            .max_step_percent
            .map(|p| cut * u128::from(100 * SCALE) <= u128::from(p.micro()) * before);
        let abs = self
            .absolute_at_every(from, from_every)
            .map(|m| cut <= u128::from(m.micro()) * fe * te);
        if is_last && to.is_zero() && target.is_zero() {
            if self
                .profile
                .ending
                .as_ref()
                .is_some_and(|e| u128::from(from.micro()) <= u128::from(e.stop_from.micro()) * fe)
            {
                return false;
            }
            // Only the percentage limit judges a stop; without one, the
            // absolute limit does.
            return match (pct, abs) {
                (Some(p), _) => !p,
                (None, Some(a)) => !a,
                (None, None) => false,
            };
        }
        match (pct, abs) {
            (None, None) => false,
            (p, a) => !p.unwrap_or(false) && !a.unwrap_or(false),
        }
    }
}

/// A cut as a percentage of the dose before it, one decimal, rounded half
/// up, in exact integers.
pub fn cut_percent(from: Dose, to: Dose) -> Dose {
    cut_percent_every((from, 1), (to, 1))
}

/// The cut in the average daily dose of doses taken every N days, as a
/// percentage of the average before it (0 when it does not fall).
pub fn cut_percent_every(from: (Dose, u32), to: (Dose, u32)) -> Dose {
    average_change_percent(from, to).0
}

/// The rise in the average daily dose, as a percentage of the average
/// before it (0 when it does not rise), like [`cut_percent_every`].
pub fn rise_percent_every(from: (Dose, u32), to: (Dose, u32)) -> Dose {
    average_change_percent(from, to).1
}

/// (fall, rise) of the average daily dose from `from` to `to`, each a
/// percentage of the average before, one decimal, rounded half up; both
/// averages are multiplied out by the other's every-N so nothing divides.
fn average_change_percent((from, fe): (Dose, u32), (to, te): (Dose, u32)) -> (Dose, Dose) {
    let (fe, te) = (u128::from(fe.max(1)), u128::from(te.max(1)));
    let before = u128::from(from.micro()) * te;
    let after = u128::from(to.micro()) * fe;
    let percent = |change: u128| {
        let tenths = (change * 1000 * 2 / before.max(1)).div_ceil(2);
        Dose::from_micro(
            u64::try_from(tenths)
                .unwrap_or(u64::MAX / SCALE)
                .saturating_mul(SCALE / 10),
        )
    };
    (
        percent(before.saturating_sub(after)),
        percent(after.saturating_sub(before)),
    )
}
