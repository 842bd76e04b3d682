//! Morphine milligram equivalents (MME): the levels the CDC guidelines
//! discuss as markers of overdose risk, and what they advise there. These
//! are class facts for every opioid profile, so they live here with their
//! sources rather than in each profile.

use crate::dose::{Dose, SCALE};

/// A daily MME level a guideline discusses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    pub mme: Dose,
    pub source: &'static str,
}

/// CDC 2022 (Dowell D et al., MMWR Recomm Rep 2022;71(3)), recommendation
/// 8: offer naloxone when risk factors are present, such as dosages of
/// 50 MME a day or more.
pub const NALOXONE_FROM: Level = Level {
    mme: Dose::from_micro(50 * SCALE),
    source: "CDC 2022 (MMWR Recomm Rep 71(3)), recommendation 8",
};

/// CDC 2016 (Dowell D et al., MMWR Recomm Rep 2016;65(1)), recommendation
/// 5: avoid increasing dosage to 90 MME a day or more, or justify it.
pub const HIGH_FROM: Level = Level {
    mme: Dose::from_micro(90 * SCALE),
    source: "CDC 2016 (MMWR Recomm Rep 65(1)), recommendation 5",
};

/// The levels, lowest first.
pub const LEVELS: [Level; 2] = [NALOXONE_FROM, HIGH_FROM];

/// MME of `dose` at `factor` MME per unit, rounded half up to a
/// micro-unit (factors such as 0.2 or 1.5 give exact values for doses
/// written to a few decimals).
pub fn of(dose: Dose, factor: Dose) -> Dose {
    of_exact(dose, factor).0
}

/// [`of`], and whether no rounding was needed.
pub fn of_exact(dose: Dose, factor: Dose) -> (Dose, bool) {
    dose.scaled(factor, Dose::from_micro(SCALE))
}

/// The highest level at or below `mme`, if any.
pub fn level_of(mme: Dose) -> Option<Level> {
    LEVELS.iter().rev().find(|l| mme >= l.mme).copied()
}

/// CDC 2022, recommendation 5: after stopping (or a large cut), tolerance
/// is lost and the old dose can cause an overdose.
pub const TOLERANCE_SOURCE: &str = "CDC 2022 (MMWR Recomm Rep 71(3)), recommendation 5";

/// Where an opioid plan's daily MME falls below a level.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Crossing {
    /// The level, MME a day.
    pub level: Dose,
    /// The guideline that discusses it.
    pub level_source: &'static str,
    /// The first step below it.
    pub step: u32,
}

/// An opioid plan's morphine equivalents. JSON `mme`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PlanMme {
    /// MME per unit of the drug (the profile's `[mme] factor`).
    pub factor: Dose,
    /// Key of the profile source that gives the factor.
    pub source: String,
    /// MME a day at the starting dose.
    pub start: Dose,
    /// Where the plan falls below each level it starts at or above.
    pub below: Vec<Crossing>,
    /// The starting dose is at or above the level where the CDC 2022
    /// guideline advises offering naloxone.
    pub naloxone_advised: bool,
}

/// A step's daily dose and its MME, as the summary needs them.
pub struct StepDose {
    pub step: u32,
    pub daily: Dose,
}

/// The summary of a plan's MME, from its starting dose and steps.
pub fn summary(factor: Dose, source: &str, start_dose: Dose, steps: &[StepDose]) -> PlanMme {
    let start = of(start_dose, factor);
    let below = LEVELS
        .iter()
        .rev()
        .filter(|l| start >= l.mme)
        .filter_map(|l| {
            steps
                .iter()
                .find(|s| of(s.daily, factor) < l.mme)
                .map(|s| Crossing {
                    level: l.mme,
                    level_source: l.source,
                    step: s.step,
                })
        })
        .collect();
    PlanMme {
        factor,
        source: source.to_string(),
        start,
        below,
        naloxone_advised: start >= NALOXONE_FROM.mme,
    }
}
