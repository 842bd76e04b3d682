//! `taper convert` as text: the equivalent with its range and sources, or
//! an opioid's morphine equivalents with what the guideline says of them.

use std::io::Write;

use crate::convert::Conversion;
use crate::error::Result;
use crate::mme;
use crate::render::text::{amount, approx};

/// Every conversion says what it is, as every plan does.
pub const DISCLAIMER: &str = "This conversion is a draft aid for prescribers. It must be used under prescriber oversight and is not medical advice; do not change a dose without your prescriber.";

/// How a result is introduced: exact, or rounded.
fn about(exact: bool) -> &'static str {
    if exact {
        "="
    } else {
        "≈ (about)"
    }
}

pub fn write(c: &Conversion, out: &mut dyn Write) -> Result<()> {
    match c {
        Conversion::Equivalent {
            from,
            amount: a,
            to,
            equivalent,
            exact,
            range,
            used,
        } => {
            writeln!(
                out,
                "{} {from} {} {} mg {to} (equivalent dose, an estimate)",
                amount(*a, "mg"),
                about(*exact),
                approx(*equivalent).trim_start_matches("about ")
            )?;
            match range {
                Some((lo, hi)) => writeln!(
                    out,
                    "Published range: {} mg to {} mg {to}: sources disagree this widely, so use the range, not one number.",
                    approx(*lo),
                    approx(*hi)
                )?,
                None => writeln!(out, "Published range: none given by the profiles.")?,
            }
            for u in used {
                let e = &u.equivalence;
                writeln!(
                    out,
                    "Equivalence used: {} {} = {} {} [{}]{}",
                    amount(e.dose, "mg"),
                    u.drug,
                    amount(e.reference_dose, "mg"),
                    e.reference,
                    e.source,
                    e.note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                )?;
            }
            writeln!(
                out,
                "Equivalences between drugs of a class vary between sources and between patients: judge by the patient's response, and switch one dose at a time."
            )?;
        }
        Conversion::Mme {
            from,
            amount: a,
            mme: m,
            exact,
            mme_factor,
            source,
            note,
        } => {
            writeln!(
                out,
                "{} {from} a day by mouth {} {} MME a day (morphine milligram equivalents; 1 mg {from} = {mme_factor} MME) [{source}]",
                amount(*a, "mg"),
                about(*exact),
                m
            )?;
            if let Some(n) = note {
                writeln!(out, "  note: {n}")?;
            }
            writeln!(
                out,
                "MME compare opioid doses for overdose risk; they are not a conversion table. The CDC 2022 guideline advises against using them to choose the dose of another opioid: cross-tolerance is incomplete, so a switch needs a lower dose than MME suggest and close follow-up. taper plans no switches between opioids."
            )?;
            if *m >= mme::NALOXONE_FROM.mme {
                writeln!(
                    out,
                    "At {} MME a day or more, offer naloxone ({}).",
                    mme::NALOXONE_FROM.mme,
                    mme::NALOXONE_FROM.source
                )?;
            }
            if *m >= mme::HIGH_FROM.mme {
                writeln!(
                    out,
                    "{} MME a day or more is a dose the guidelines discuss as a marker of higher overdose risk ({}).",
                    mme::HIGH_FROM.mme,
                    mme::HIGH_FROM.source
                )?;
            }
        }
    }
    writeln!(out, "{DISCLAIMER}")?;
    Ok(())
}
