//! `taper convert`: a dose of one drug as its equivalent of another of its
//! class (through the class's reference drug, with the published range),
//! or, for opioids, as morphine milligram equivalents only.
//!
//! Equivalences are estimates that vary widely between sources and
//! patients: the result carries the range wherever a profile gives one,
//! and the arithmetic is exact until the last micro-unit (rounded half up,
//! and then said to be "about").

use crate::dose::Dose;
use crate::error::Error;
use crate::profile::{Equivalence, Profile};

/// One drug's equivalence used in a conversion, for the sources line.
#[derive(Clone, Debug)]
pub struct Used {
    pub drug: String,
    pub equivalence: Equivalence,
}

/// What `taper convert` found.
#[derive(Clone, Debug)]
pub enum Conversion {
    /// `amount` of `from` is taken as `equivalent` of `to`.
    Equivalent {
        from: String,
        amount: Dose,
        to: String,
        equivalent: Dose,
        /// The equivalent is exact (no rounding to a micro-unit).
        exact: bool,
        /// The published range, when the profiles give one.
        range: Option<(Dose, Dose)>,
        used: Vec<Used>,
    },
    /// An opioid: morphine milligram equivalents a day only.
    Mme {
        from: String,
        amount: Dose,
        mme: Dose,
        exact: bool,
        mme_factor: Dose,
        source: String,
        note: Option<String>,
    },
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// An opioid's MME; any other drug's equivalent of `to` (by default its
/// class's reference drug). `to` is `None` or the other drug's profile.
pub fn convert(from: &Profile, amount: Dose, to: Option<&Profile>) -> Result<Conversion, Error> {
    if to.is_some_and(|t| t.name == from.name) {
        return Err(usage(format!(
            "--to {} names the same drug (accepted: another drug of its class)",
            from.name
        )));
    }
    if let Some(m) = &from.mme {
        if let Some(t) = to {
            return Err(usage(format!(
                "taper does not convert {} to {}: it prints morphine milligram equivalents only, because the CDC 2022 guideline advises against using them to choose a dose of another opioid (accepted: taper convert {} {}mg)",
                from.name, t.name, from.name, amount
            )));
        }
        let (mme, exact) = crate::mme::of_exact(amount, m.factor);
        return Ok(Conversion::Mme {
            from: from.name.clone(),
            amount,
            mme,
            exact,
            mme_factor: m.factor,
            source: m.source.clone(),
            note: m.note.clone(),
        });
    }
    let reverse = to.and_then(|t| {
        t.equivalence
            .as_ref()
            .filter(|e| e.reference == from.name)
            .map(|e| (t, e))
    });
    if let (None, Some((t, e))) = (&from.equivalence, reverse) {
        return Ok(from_reference(from, amount, t, e));
    }
    let Some(eq) = &from.equivalence else {
        return Err(usage(format!(
            "profile '{}' gives no equivalence to another drug (accepted: a profile with [equivalence] or [mme], listed by taper profiles show)",
            from.name
        )));
    };
    match to {
        None => Ok(to_reference(from, amount, eq)),
        Some(t) if t.name == eq.reference => Ok(to_reference(from, amount, eq)),
        Some(t) => through_reference(from, amount, eq, t),
    }
}

/// The reference drug's equivalent of `amount`.
fn to_reference(from: &Profile, amount: Dose, eq: &Equivalence) -> Conversion {
    let (equivalent, exact) = amount.scaled(eq.reference_dose, eq.dose);
    let range = eq
        .low
        .zip(eq.high)
        .map(|(l, h)| (amount.scaled(l, eq.dose).0, amount.scaled(h, eq.dose).0));
    Conversion::Equivalent {
        from: from.name.clone(),
        amount,
        to: eq.reference.clone(),
        equivalent,
        exact,
        range,
        used: vec![Used {
            drug: from.name.clone(),
            equivalence: eq.clone(),
        }],
    }
}

/// `amount` of the reference drug `from` as `to`, which is given as an
/// equivalent of it (the range turned round).
fn from_reference(from: &Profile, amount: Dose, to: &Profile, teq: &Equivalence) -> Conversion {
    let (equivalent, exact) = amount.scaled(teq.dose, teq.reference_dose);
    let range = teq
        .low
        .zip(teq.high)
        .map(|(l, h)| (amount.scaled(teq.dose, h).0, amount.scaled(teq.dose, l).0));
    Conversion::Equivalent {
        from: from.name.clone(),
        amount,
        to: to.name.clone(),
        equivalent,
        exact,
        range,
        used: vec![Used {
            drug: to.name.clone(),
            equivalence: teq.clone(),
        }],
    }
}

/// `amount` of `from` as `to`, both given as equivalents of the same
/// reference drug: the widest range the two give.
fn through_reference(
    from: &Profile,
    amount: Dose,
    eq: &Equivalence,
    to: &Profile,
) -> Result<Conversion, Error> {
    let Some(teq) = to
        .equivalence
        .as_ref()
        .filter(|t| t.reference == eq.reference)
    else {
        return Err(usage(format!(
            "taper cannot convert {} to {}: {} is given as an equivalent of {} and {} is not (accepted: --to {} or a drug given as an equivalent of it)",
            from.name, to.name, from.name, eq.reference, to.name, eq.reference
        )));
    };
    let (reference, ref_exact) = amount.scaled(eq.reference_dose, eq.dose);
    let (equivalent, exact) = reference.scaled(teq.dose, teq.reference_dose);
    let lo_ref = eq.low.map_or(reference, |l| amount.scaled(l, eq.dose).0);
    let hi_ref = eq.high.map_or(reference, |h| amount.scaled(h, eq.dose).0);
    let lo = lo_ref
        .scaled(teq.dose, teq.high.unwrap_or(teq.reference_dose))
        .0;
    let hi = hi_ref
        .scaled(teq.dose, teq.low.unwrap_or(teq.reference_dose))
        .0;
    let range = (eq.low.is_some() || teq.low.is_some()).then_some((lo, hi));
    Ok(Conversion::Equivalent {
        from: from.name.clone(),
        amount,
        to: to.name.clone(),
        equivalent,
        exact: exact && ref_exact,
        range,
        used: vec![
            Used {
                drug: from.name.clone(),
                equivalence: eq.clone(),
            },
            Used {
                drug: to.name.clone(),
                equivalence: teq.clone(),
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(t: &str) -> Dose {
        Dose::parse_decimal(t).unwrap()
    }

    #[test]
    fn scaling_is_exact_or_says_it_rounded() {
        assert_eq!(d("3").scaled(d("10"), d("1")), (d("30"), true));
        assert_eq!(d("25").scaled(d("10"), d("25")), (d("10"), true));
        let (v, exact) = d("10").scaled(d("1"), d("3"));
        assert!(!exact);
        assert_eq!(v, d("3.333333"));
    }
}
