//! FHIR R4: the plan as a transaction `Bundle` of draft `MedicationRequest`s
//! that a health-record system can import.
//!
//! One request per fill and product (a prescription line dispenses one
//! product): its `dosageInstruction`s give the fill's doses of that product,
//! one per step and time of day, sharing the step's number as `sequence`;
//! its `dispenseRequest` gives the fill's quantity. Each request's
//! identifier is stable across revisions of a plan (plan id, fill,
//! product), and each entry is a conditional update on it, so importing a
//! revised plan replaces the requests of the one before. Doses are in UCUM
//! `mg` (tablets and capsules) or `mL` (liquids).

use std::io::Write;

use serde_json::{json, Map, Value};

use crate::dose::Dose;
use crate::error::{Error, Result};
use crate::fills::{Fill, FillLine};
use crate::formulation::{Administration, Portion, Product, Quantity};
use crate::identity::{self, Fnv1a128};
use crate::render::{prescription, text, Extras};
use crate::schedule::{Plan, Step};

const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const UCUM: &str = "http://unitsofmeasure.org";
/// Identifier systems: the plan, one request of it, and its revision.
pub const PLAN_SYSTEM: &str = "urn:taper:plan";
pub const REQUEST_SYSTEM: &str = "urn:taper:request";
pub const REVISION_SYSTEM: &str = "urn:taper:revision";

/// Writes the plan's Bundle, pretty-printed.
pub fn write(plan: &Plan, extras: &Extras, out: &mut dyn Write) -> Result<()> {
    let bundle = bundle(plan, extras, None);
    serde_json::to_writer_pretty(&mut *out, &bundle).map_err(|e| Error::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// One compact line (batch `--format fhir`, ndjson), for row `id`.
pub fn write_line(plan: &Plan, id: &str, extras: &Extras, out: &mut dyn Write) -> Result<()> {
    let bundle = bundle(plan, extras, Some(id));
    serde_json::to_writer(&mut *out, &bundle).map_err(|e| Error::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The Bundle as a JSON value.
pub fn bundle(plan: &Plan, extras: &Extras, row_id: Option<&str>) -> Value {
    let patient = extras.patient.as_deref();
    let plan_id = identity::plan_id_or_default(extras.plan_id.as_deref(), plan, patient, row_id);
    let provenance = format!(
        "Drafted by {}; sources: {}.",
        text::provenance(plan),
        text::all_sources(plan)
    );
    let mut entries: Vec<Value> = Vec::new();
    for f in &plan.fills {
        // Phrased once per fill, shared by its products' requests.
        let words = FillWords {
            summary: prescription::summary(plan, f),
            wording: prescription::wording(plan, f),
            provenance: &provenance,
        };
        for l in &f.lines {
            entries.push(entry(plan, extras, &plan_id, (f, &words), l));
        }
    }
    let mut bundle = json!({
        "resourceType": "Bundle",
        "identifier": {"system": PLAN_SYSTEM, "value": plan_id},
        "type": "transaction",
    });
    // FHIR JSON has no empty arrays: a plan that is only a stop has no
    // fill, so no request.
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

/// The request's identifier value: `<plan id>.fill-2.diazepam-5mg-tablet`.
fn request_id(plan_id: &str, fill: &Fill, product: &Product) -> String {
    let key = product.key.replace('/', "-per-");
    let drug = match &product.drug {
        Some(d) => format!("{d}-"),
        None => String::new(),
    };
    format!("{plan_id}.fill-{}.{drug}{key}", fill.fill)
}

/// A UUID (version 8, RFC 9562) from a stable hash of `text`: the same
/// request always gets the same `fullUrl`.
fn uuid_of(text: &str) -> String {
    let mut h = Fnv1a128::new();
    h.write_field("taper-fhir-uuid-1");
    h.write_field(text);
    let mut v = h.0;
    v = (v & !(0xF << 76)) | (0x8 << 76);
    v = (v & !(0x3 << 62)) | (0x2 << 62);
    let x = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// A fill's words for the requests' notes.
struct FillWords<'a> {
    summary: String,
    wording: Vec<prescription::Prescription>,
    provenance: &'a str,
}

fn entry(
    plan: &Plan,
    extras: &Extras,
    plan_id: &str,
    (fill, words): (&Fill, &FillWords),
    line: &FillLine,
) -> Value {
    let Some(product) = plan.products.get(line.product) else {
        return Value::Null;
    };
    let id = request_id(plan_id, fill, product);
    json!({
        "fullUrl": format!("urn:uuid:{}", uuid_of(&id)),
        "resource": medication_request(plan, extras, plan_id, &id, (fill, words), line, product),
        "request": {
            "method": "PUT",
            "url": format!("MedicationRequest?identifier={REQUEST_SYSTEM}|{id}"),
        },
    })
}

fn medication_request(
    plan: &Plan,
    extras: &Extras,
    plan_id: &str,
    id: &str,
    (fill, words): (&Fill, &FillWords),
    line: &FillLine,
    product: &Product,
) -> Value {
    let revision = plan.history.revision();
    let mut r = Map::new();
    r.insert("resourceType".into(), json!("MedicationRequest"));
    r.insert(
        "identifier".into(),
        json!([
            {"system": REQUEST_SYSTEM, "value": id},
            {"system": REVISION_SYSTEM, "value": format!("{plan_id}.r{revision}")},
        ]),
    );
    r.insert(
        "groupIdentifier".into(),
        json!({"system": PLAN_SYSTEM, "value": plan_id}),
    );
    // A draft for the prescriber to review and sign.
    r.insert("status".into(), json!("draft"));
    r.insert("intent".into(), json!("order"));
    r.insert(
        "category".into(),
        json!([{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
            "code": "community",
            "display": "Community",
        }]}]),
    );
    r.insert(
        "medicationCodeableConcept".into(),
        medication(plan, line.product, product),
    );
    let subject = extras.patient.as_deref().unwrap_or("Patient not named");
    r.insert("subject".into(), json!({"display": subject}));
    r.insert("note".into(), notes(plan, words, line));
    let dosage = dosage_instructions(plan, extras, fill, line.product);
    r.insert("dosageInstruction".into(), Value::Array(dosage));
    r.insert("dispenseRequest".into(), dispense_request(fill, line));
    Value::Object(r)
}

/// The product by name (`Diazepam 5 mg tablet`) and its RxNorm code when
/// the profile gives one.
fn medication(plan: &Plan, index: usize, product: &Product) -> Value {
    let drug = prescription::drug_display(plan, product.drug.as_deref());
    let name = text::product_name(plan, index, true);
    let text = format!("{drug} {name}");
    match &product.rxnorm {
        Some(code) => json!({
            "coding": [{"system": RXNORM, "code": code, "display": text}],
            "text": text,
        }),
        None => json!({"text": text}),
    }
}

/// The disclaimer, the fill in one line, its wording for the product's
/// drug, a controlled drug's quantity in words, and the provenance.
fn notes(plan: &Plan, words: &FillWords, line: &FillLine) -> Value {
    let mut notes = vec![plan.disclaimer.to_string()];
    notes.push(words.summary.clone());
    notes.extend(
        words
            .wording
            .iter()
            .filter(|p| p.drug == line.drug)
            .map(|p| p.text.clone()),
    );
    if let Some(schedule) = &line.controlled {
        notes.push(format!(
            "Controlled drug ({schedule}): dispense {}.",
            prescription::quantity(plan, line)
        ));
    }
    notes.push(words.provenance.to_string());
    Value::Array(notes.into_iter().map(|t| json!({"text": t})).collect())
}

/// One instruction per step of the fill and time of day that gives the
/// product.
fn dosage_instructions(plan: &Plan, extras: &Extras, fill: &Fill, product: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for run in &fill.runs {
        let Some(step) = plan.steps.get(run.step as usize - 1) else {
            continue;
        };
        // The first dose day of the run: a step given every N days keeps
        // its rhythm across fills.
        let Some(first) = first_dose_day(step, run.start) else {
            continue;
        };
        if first > run.end {
            continue;
        }
        for a in &step.administrations {
            for p in a.portions.iter().filter(|p| p.product == product) {
                out.push(dosage(plan, extras, step, a, p, (first, run.end)));
            }
        }
    }
    out
}

fn first_dose_day(step: &Step, from: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    let offset = (from - step.start).num_days().max(0) as u64;
    let every = u64::from(step.every_days.max(1));
    let first = offset.div_ceil(every) * every;
    step.start.checked_add_days(chrono::Days::new(first))
}

fn dosage(
    plan: &Plan,
    extras: &Extras,
    step: &Step,
    a: &Administration,
    p: &Portion,
    (start, end): (chrono::NaiveDate, chrono::NaiveDate),
) -> Value {
    let mut repeat = Map::new();
    repeat.insert(
        "boundsPeriod".into(),
        json!({"start": start.to_string(), "end": end.to_string()}),
    );
    repeat.insert("frequency".into(), json!(1));
    repeat.insert("period".into(), json!(step.every_days.max(1)));
    repeat.insert("periodUnit".into(), json!("d"));
    match extras.times.get(a.slot_index as usize) {
        Some(t) => {
            repeat.insert(
                "timeOfDay".into(),
                json!([t.format("%H:%M:%S").to_string()]),
            );
        }
        None => {
            if let Some(code) = event_timing(&a.slot) {
                repeat.insert("when".into(), json!([code]));
            }
        }
    }
    let mut d = Map::new();
    d.insert("sequence".into(), json!(step.step));
    d.insert("text".into(), json!(dose_text(plan, a)));
    let instructions = plan
        .products
        .get(p.product)
        .and_then(|x| x.instructions.clone());
    if let Some(i) = instructions {
        d.insert("patientInstruction".into(), json!(i));
    }
    d.insert("timing".into(), json!({"repeat": Value::Object(repeat)}));
    d.insert(
        "route".into(),
        json!({"coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}]}),
    );
    d.insert(
        "doseAndRate".into(),
        json!([{
            "type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/dose-rate-type",
                "code": "ordered",
                "display": "Ordered",
            }]},
            "doseQuantity": dose_quantity(plan, p),
        }]),
    );
    Value::Object(d)
}

/// The whole administration, so each product's line shows the full dose:
/// `1 × 5 mg tablet + 2 × 2 mg tablet (9 mg) in the morning`.
fn dose_text(plan: &Plan, a: &Administration) -> String {
    let unit = text::drug_unit(plan, a.drug.as_deref());
    let when = if text::informative_slot(&a.slot) {
        format!(" ({})", a.slot)
    } else {
        String::new()
    };
    format!(
        "Take {} ({}) by mouth{when}",
        text::administration(plan, &a.portions),
        text::amount(a.amount, unit)
    )
}

/// FHIR `EventTiming` for the slot names profiles use.
fn event_timing(slot: &str) -> Option<&'static str> {
    Some(match slot {
        "morning" => "MORN",
        "midday" | "noon" => "NOON",
        "afternoon" => "AFT",
        "evening" => "EVE",
        "bedtime" => "HS",
        "night" => "NIGHT",
        _ => return None,
    })
}

/// mg of the product in the portion (strength × units), or mL of a liquid.
fn dose_quantity(plan: &Plan, p: &Portion) -> Value {
    let product = plan.products.get(p.product);
    match p.quantity {
        Quantity::Units { pieces, split_into } => {
            let strength = product.and_then(|x| x.strength).unwrap_or_default();
            let mg = strength.micro() * pieces / split_into.max(1);
            quantity(Dose::from_micro(mg), "mg")
        }
        Quantity::Volume { ml } => quantity(ml, "mL"),
    }
}

fn quantity(value: Dose, code: &str) -> Value {
    json!({"value": number(value), "unit": code, "system": UCUM, "code": code})
}

/// An exact decimal as a JSON number. Doses have at most six decimals and
/// are far below 2^53 millionths, so the shortest form of the nearest
/// double is the decimal itself.
fn number(d: Dose) -> Value {
    let scale = crate::dose::SCALE;
    if d.micro().is_multiple_of(scale) {
        return json!(d.micro() / scale);
    }
    serde_json::Number::from_f64(d.micro() as f64 / scale as f64).map_or(Value::Null, Value::Number)
}

fn dispense_request(fill: &Fill, line: &FillLine) -> Value {
    let (unit, code) = match line.unit {
        "mL" => ("mL", "mL"),
        "capsule" => ("capsule", "{capsule}"),
        _ => ("tablet", "{tablet}"),
    };
    json!({
        "numberOfRepeatsAllowed": 0,
        "quantity": {"value": number(line.quantity), "unit": unit, "system": UCUM, "code": code},
        "expectedSupplyDuration": {"value": fill.days, "unit": "days", "system": UCUM, "code": "d"},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = uuid_of("x.fill-1.5mg-tablet");
        assert_eq!(a, uuid_of("x.fill-1.5mg-tablet"));
        assert_ne!(a, uuid_of("x.fill-2.5mg-tablet"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn decimals_stay_exact() {
        let d = |s: &str| Dose::parse_decimal(s).unwrap();
        assert_eq!(number(d("7.5")).to_string(), "7.5");
        assert_eq!(number(d("0.1")).to_string(), "0.1");
        assert_eq!(number(d("12")).to_string(), "12");
        assert_eq!(number(d("877.8")).to_string(), "877.8");
        assert_eq!(number(d("0.000001")).to_string(), "1e-6");
    }
}
