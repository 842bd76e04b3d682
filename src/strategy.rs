//! Taper strategies: the sequence of daily doses, before dates exist.
//!
//! A strategy proposes an exact next dose; this module rounds it to what the
//! kit can give without ever making the cut larger than the rule asked
//! (round *up*), takes the next lower achievable dose when rounding stalls,
//! and goes to the target once the proposal falls below the smallest dose
//! the products can give. It reads no clock, file or environment.

use serde::Serialize;

use crate::dose::{Dose, Percent, SCALE};
use crate::formulation::Kit;
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

/// One proposed step: the dose to give and, when it differs, the exact
/// dose the strategy asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProposedStep {
    pub dose: Dose,
    pub exact: Option<Dose>,
    pub adjustment: Option<Adjustment>,
    /// Days to hold, when the strategy fixes it (custom).
    pub hold: Option<u32>,
}

/// Hard cap on steps: a step lasts at least a day and plans are capped at
/// ten years, so more steps than this can never make a valid plan.
pub const MAX_STEPS: usize = 3653;

/// Runs the strategy from `start` down to `target`. The last step is always
/// the target. Errors are plain messages for the caller to wrap.
pub fn propose(
    strategy: &Strategy,
    start: Dose,
    target: Dose,
    kit: &Kit,
    doses_per_day: u32,
) -> Result<Vec<ProposedStep>, String> {
    if let Strategy::Custom { schedule } = strategy {
        return propose_custom(schedule, start, target);
    }
    let smallest = kit.smallest(doses_per_day);
    let mut steps = Vec::new();
    let mut current = start;
    while current > target {
        if steps.len() >= MAX_STEPS {
            return Err(format!(
                "the strategy needs more than {MAX_STEPS} steps to reach the target, longer than the 10-year limit"
            ));
        }
        let exact = next_exact(strategy, current)?;
        let step = match exact {
            None => ProposedStep {
                dose: target,
                exact: None,
                adjustment: None,
                hold: None,
            },
            Some(e) if e <= target => ProposedStep {
                dose: target,
                exact: (e != target).then_some(e),
                adjustment: None,
                hold: None,
            },
            Some(e) if target.is_zero() && smallest.is_none_or(|s| e < s) => ProposedStep {
                dose: target,
                exact: Some(e),
                adjustment: Some(Adjustment::ToTarget),
                hold: None,
            },
            Some(e) => {
                let below_current = Dose::from_micro(current.micro() - 1);
                // Tablets alone are easier to take than measured liquids: use
                // a solid-only dose when it keeps at least half the cut asked.
                let half_cut = current.micro().saturating_sub(e.micro()).div_ceil(2);
                let solid = kit
                    .next_solid_at_or_above(e, below_current, doses_per_day)
                    .filter(|s| current.micro() - s.micro() >= half_cut);
                match solid.or_else(|| kit.next_at_or_above(e, below_current, doses_per_day)) {
                    Some(r) if r > target => ProposedStep {
                        dose: r,
                        exact: (r != e).then_some(e),
                        adjustment: (r != e).then_some(Adjustment::RoundedUp),
                        hold: None,
                    },
                    _ => match kit.next_below(current, doses_per_day) {
                        Some(r) if r > target => ProposedStep {
                            dose: r,
                            exact: Some(e),
                            adjustment: Some(Adjustment::NextLower),
                            hold: None,
                        },
                        _ => ProposedStep {
                            dose: target,
                            exact: Some(e),
                            adjustment: Some(Adjustment::ToTarget),
                            hold: None,
                        },
                    },
                }
            }
        };
        current = step.dose;
        steps.push(step);
    }
    Ok(steps)
}

/// The strategy's exact next dose, or `None` when it has nothing left to
/// cut (the next step is the target).
fn next_exact(strategy: &Strategy, current: Dose) -> Result<Option<Dose>, String> {
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
            match occ.checked_sub(u128::from(occupancy_step.micro())) {
                None | Some(0) => None,
                Some(next) => Some(dose_for_occupancy(model, next).ok_or_else(overflow)?),
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

fn propose_custom(
    schedule: &[CustomEntry],
    start: Dose,
    target: Dose,
) -> Result<Vec<ProposedStep>, String> {
    let mut steps = Vec::new();
    let mut previous = start;
    for (i, e) in schedule.iter().enumerate() {
        let hold_current = i == 0 && e.dose == start;
        if !hold_current && e.dose >= previous {
            let what = if i == 0 {
                format!("the current dose ({start} mg)")
            } else {
                format!("entry {} ({} mg)", i, previous)
            };
            return Err(format!(
                "custom schedule entry {} ({} mg) does not fall below {what} (accepted: each dose lower than the one before; combine equal doses as one entry, e.g. 30x14)",
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
        steps.push(ProposedStep {
            dose: e.dose,
            exact: None,
            adjustment: hold_current.then_some(Adjustment::Hold),
            hold: Some(e.days),
        });
        previous = e.dose;
    }
    if previous > target {
        steps.push(ProposedStep {
            dose: target,
            exact: None,
            adjustment: None,
            hold: None,
        });
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formulation::Product;
    use crate::profile::Form;

    fn dose(t: &str) -> Dose {
        Dose::parse_decimal(t).unwrap()
    }

    fn kit_10mg_scored() -> Kit {
        Kit::from_products(
            vec![Product {
                name: "10 mg tablet".into(),
                key: "10mg".into(),
                form: Form::Tablet,
                strength: Some(dose("10")),
                concentration: None,
                split_into: 2,
                note: None,
            }],
            dose("0.1"),
        )
    }

    fn doses(steps: &[ProposedStep]) -> Vec<String> {
        steps.iter().map(|s| s.dose.to_string()).collect()
    }

    #[test]
    fn linear_steps_down_to_zero() {
        let s = propose(
            &Strategy::Linear { step: dose("10") },
            dose("30"),
            Dose::ZERO,
            &kit_10mg_scored(),
            3,
        )
        .unwrap();
        assert_eq!(doses(&s), ["20", "10", "0"]);
    }

    #[test]
    fn percent_rounds_up_and_takes_next_lower_on_stall() {
        let s = propose(
            &Strategy::Percent {
                percent: Percent(dose("10")),
            },
            dose("30"),
            Dose::ZERO,
            &kit_10mg_scored(),
            1,
        )
        .unwrap();
        // 27 → 30 would stall, so 25; 22.5 → 25 stalls → 20; ...; 5 → 4.5 is
        // below the smallest achievable dose (5) → 0.
        assert_eq!(doses(&s), ["25", "20", "15", "10", "5", "0"]);
        assert_eq!(s[0].adjustment, Some(Adjustment::NextLower));
        assert_eq!(s[5].adjustment, Some(Adjustment::ToTarget));
    }

    #[test]
    fn hyperbolic_matches_the_worked_check() {
        let model = Occupancy {
            emax: Percent(dose("92.01")),
            ed50: dose("7.72"),
            source: "x".into(),
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
        let e = |d: &str, n| CustomEntry {
            dose: dose(d),
            days: n,
        };
        let s = propose_custom(&[e("40", 7), e("30", 7)], dose("40"), Dose::ZERO).unwrap();
        assert_eq!(doses(&s), ["40", "30", "0"]);
        assert_eq!(s[0].adjustment, Some(Adjustment::Hold));
        assert!(propose_custom(&[e("30", 7), e("35", 7)], dose("40"), Dose::ZERO).is_err());
        assert!(propose_custom(&[e("50", 7)], dose("40"), Dose::ZERO).is_err());
    }
}
