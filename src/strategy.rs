//! Taper strategies: the exact next dose each rule asks for.
//!
//! A strategy proposes an exact next dose from the current one; rounding it
//! to what the products can give is the stepper's job
//! ([`crate::stepper`]). It reads no clock, file or environment.

use serde::Serialize;

use crate::dose::{Dose, Percent, SCALE};
use crate::profile::{Occupancy, StrategyKind};

/// A resolved strategy with its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Strategy {
    /// Cut a fixed amount each step.
    Linear { step: Dose },
    /// Cut a percentage of the current dose each step.
    Percent { percent: Percent },
    /// Equal falls in receptor occupancy (percentage points) per step.
    Hyperbolic {
        occupancy_step: Percent,
        #[serde(skip)]
        model: Occupancy,
    },
    /// Explicit dose × days list.
    Custom { schedule: Vec<CustomEntry> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CustomEntry {
    pub dose: Dose,
    pub days: u32,
    /// The dose is taken every this many days (1 = daily; `5x14/2` = 5 mg
    /// every second day for 14 days). Omitted from JSON when daily.
    #[serde(skip_serializing_if = "is_daily")]
    pub every_days: u32,
}

/// Accepted gaps of an every-N-days entry: published schedules use 2
/// (alternate days); up to weekly is still a taper, longer is not.
pub const EVERY_DAYS: std::ops::RangeInclusive<u32> = 2..=7;

fn is_daily(n: &u32) -> bool {
    *n == 1
}

/// As typed: `40x7`, or `5x14/2` every second day.
impl std::fmt::Display for CustomEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.dose, self.days)?;
        if self.every_days > 1 {
            write!(f, "/{}", self.every_days)?;
        }
        Ok(())
    }
}

impl CustomEntry {
    /// A daily entry.
    pub fn daily(dose: Dose, days: u32) -> CustomEntry {
        CustomEntry {
            dose,
            days,
            every_days: 1,
        }
    }
}

impl Strategy {
    pub fn kind(&self) -> StrategyKind {
        match self {
            Strategy::Linear { .. } => StrategyKind::Linear,
            Strategy::Percent { .. } => StrategyKind::Percent,
            Strategy::Hyperbolic { .. } => StrategyKind::Hyperbolic,
            Strategy::Custom { .. } => StrategyKind::Custom,
        }
    }
}

/// Why a step's dose differs from what the strategy proposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Adjustment {
    /// The exact dose cannot be given; the next achievable dose above it
    /// (a smaller cut) was used.
    RoundedUp,
    /// Rounding up would have repeated the current dose, so the next
    /// achievable lower dose was used.
    NextLower,
    /// The proposal fell below the smallest dose the products can give.
    ToTarget,
    /// A custom schedule that starts by holding the current dose.
    Hold,
}

/// Hard cap on steps: a step lasts at least a day and plans are capped at
/// ten years, so more steps than this can never make a valid plan.
pub const MAX_STEPS: usize = 3653;

/// The strategy's exact next dose, or `None` when it has nothing left to
/// cut (the next step is the target).
pub fn next_exact(strategy: &Strategy, current: Dose) -> Result<Option<Dose>, String> {
    let overflow = || "dose arithmetic overflowed".to_string();
    Ok(match strategy {
        Strategy::Linear { step } => current.checked_sub(*step),
        Strategy::Percent { percent } => {
            let keep = 100 * SCALE - percent.micro();
            Some(
                current
                    .mul_div_ceil(keep, 100 * SCALE)
                    .ok_or_else(overflow)?,
            )
        }
        Strategy::Hyperbolic {
            occupancy_step,
            model,
        } => {
            let occ = occupancy_of(model, current).ok_or_else(overflow)?;
            let step = u128::from(occupancy_step.micro());
            // Within half a step of zero occupancy the next step is the
            // stop, so no phantom micro-dose is held (the last fall is then
            // at most 1.5 steps; more is warned).
            match occ.checked_sub(step) {
                Some(next) if next * 2 >= step && next > 0 => {
                    Some(dose_for_occupancy(model, next).ok_or_else(overflow)?)
                }
                _ => None,
            }
        }
        Strategy::Custom { .. } => None,
    })
}

/// Occupancy in micro-percentage-points: Emax·D/(ED50 + D), rounded down.
pub fn occupancy_of(model: &Occupancy, dose: Dose) -> Option<u128> {
    let emax = u128::from(model.emax.micro());
    let d = u128::from(dose.micro());
    let ed50 = u128::from(model.ed50.micro());
    emax.checked_mul(d)?.checked_div(ed50.checked_add(d)?)
}

/// The dose giving `occupancy` (micro-points): ED50·o/(Emax − o), rounded
/// up so the cut is never larger than asked.
pub fn dose_for_occupancy(model: &Occupancy, occupancy: u128) -> Option<Dose> {
    let emax = u128::from(model.emax.micro());
    let ed50 = u128::from(model.ed50.micro());
    let denom = emax.checked_sub(occupancy)?;
    if denom == 0 {
        return None;
    }
    let d = ed50.checked_mul(occupancy)?.div_ceil(denom);
    u64::try_from(d).ok().map(Dose::from_micro)
}

/// Checks a custom schedule against the current dose and the target: each
/// entry below the one before (a first entry equal to the current dose is a
/// hold), none below the target. An every-N-days entry may repeat the dose
/// before it when it is taken less often (`5x14,5x14/2`): fewer dose days
/// are the cut.
pub fn validate_custom(schedule: &[CustomEntry], start: Dose, target: Dose) -> Result<(), String> {
    let mut previous = start;
    let mut previous_every = 1;
    for (i, e) in schedule.iter().enumerate() {
        let hold_current = i == 0 && e.dose == start && e.every_days == 1;
        let less_often = e.dose == previous && e.every_days > previous_every;
        if !hold_current && !less_often && e.dose >= previous {
            let what = if i == 0 {
                format!("the current dose ({start} mg)")
            } else {
                format!("entry {} ({} mg)", i, previous)
            };
            return Err(format!(
                "custom schedule entry {} ({} mg) does not fall below {what} (accepted: each dose lower than the one before, or the same dose taken less often, e.g. 5x14,5x14/2; combine equal doses as one entry, e.g. 30x14)",
                i + 1,
                e.dose
            ));
        }
        if e.dose < target {
            return Err(format!(
                "custom schedule entry {} ({} mg) is below the target {target} mg",
                i + 1,
                e.dose
            ));
        }
        if e.every_days > 1 && e.dose <= target {
            return Err(format!(
                "custom schedule entry {} ({} mg every {} days) is not above the target {target} mg (accepted: every-N-days entries for doses above the target; the plan ends at the target)",
                i + 1,
                e.dose,
                e.every_days
            ));
        }
        previous = e.dose;
        previous_every = e.every_days;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dose(t: &str) -> Dose {
        Dose::parse_decimal(t).unwrap()
    }

    #[test]
    fn hyperbolic_matches_the_worked_check() {
        let model = Occupancy {
            emax: Percent(dose("92.01")),
            ed50: dose("7.72"),
            source: "x".into(),
            region: None,
            note: None,
        };
        // 80 % occupancy ↔ 51.4 mg in the clinical notes' worked check.
        let d = dose_for_occupancy(&model, 80 * u128::from(SCALE)).unwrap();
        assert_eq!(d.to_string(), "51.423814");
        let o = occupancy_of(&model, dose("50")).unwrap();
        assert_eq!(o / u128::from(SCALE / 10), 797); // 79.7 %
    }

    #[test]
    fn custom_rejects_rises_and_allows_a_leading_hold() {
        let e = |d: &str, n| CustomEntry::daily(dose(d), n);
        assert!(validate_custom(&[e("40", 7), e("30", 7)], dose("40"), Dose::ZERO).is_ok());
        assert!(validate_custom(&[e("30", 7), e("35", 7)], dose("40"), Dose::ZERO).is_err());
        assert!(validate_custom(&[e("50", 7)], dose("40"), Dose::ZERO).is_err());
        assert!(validate_custom(&[e("5", 7)], dose("40"), dose("10")).is_err());
    }

    #[test]
    fn an_every_n_days_entry_may_repeat_the_dose_less_often() {
        let e = |d: &str, n, every| CustomEntry {
            dose: dose(d),
            days: n,
            every_days: every,
        };
        let zero = Dose::ZERO;
        assert!(validate_custom(&[e("10", 7, 1), e("10", 7, 2)], dose("20"), zero).is_ok());
        assert!(validate_custom(&[e("10", 7, 2), e("10", 7, 3)], dose("20"), zero).is_ok());
        // The starting dose taken every other day is a cut, not a hold.
        assert!(validate_custom(&[e("20", 7, 2)], dose("20"), zero).is_ok());
        // Back to daily, or as often as before, is not a cut.
        assert!(validate_custom(&[e("10", 7, 2), e("10", 7, 1)], dose("20"), zero).is_err());
        assert!(validate_custom(&[e("10", 7, 2), e("10", 7, 2)], dose("20"), zero).is_err());
        assert!(validate_custom(&[e("10", 7, 1), e("10", 7, 1)], dose("20"), zero).is_err());
        // At the target the plan ends: no rest days at it.
        assert!(validate_custom(&[e("10", 7, 2)], dose("20"), dose("10")).is_err());
    }

    #[test]
    fn hyperbolic_ends_without_a_phantom_step() {
        let model = Occupancy {
            emax: Percent(dose("100")),
            ed50: dose("1"),
            source: "x".into(),
            region: None,
            note: None,
        };
        let s = Strategy::Hyperbolic {
            occupancy_step: Percent(dose("10")),
            model,
        };
        // 0.111111 mg is 10 % occupancy: the next step is the stop.
        assert_eq!(next_exact(&s, dose("0.111112")).unwrap(), None);
        assert!(next_exact(&s, dose("0.25")).unwrap().is_some());
    }
}
