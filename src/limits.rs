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
        let slow = self
            .profile
            .slow_below
            .iter()
            .filter(|r| from <= r.dose)
            .filter_map(|r| r.step)
            .min();
        match (self.limits.max_step, slow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn within_percent(&self, from: Dose, cut: u64) -> Option<bool> {
        self.limits.max_step_percent.map(|p| {
            u128::from(cut) * u128::from(100 * SCALE)
                <= u128::from(p.micro()) * u128::from(from.micro())
        })
    }

    /// Whether the cut from `from` to `to` needs a warning. `is_last` marks
    /// the plan's last step (the target day).
    pub fn cut_warned(&self, from: Dose, to: Dose, is_last: bool, target: Dose) -> bool {
        let Some(cut) = from.micro().checked_sub(to.micro()).filter(|c| *c > 0) else {
            return false;
        };
        let pct = self.within_percent(from, cut);
        let abs = self.absolute_at(from).map(|m| cut <= m.micro());
        if is_last && to.is_zero() && target.is_zero() {
            if self
                .profile
                .ending
                .as_ref()
                .is_some_and(|e| from <= e.stop_from)
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
    let cut = from.micro().saturating_sub(to.micro());
    let tenths = (u128::from(cut) * 1000 * 2 / u128::from(from.micro().max(1))).div_ceil(2);
    Dose::from_micro((tenths as u64).saturating_mul(SCALE / 10))
}
