//! Every JSON document taper writes is checked against the published
//! schema, `docs/plan.schema.json`, with a real JSON Schema validator
//! (draft 2020-12, formats asserted), so the schema and the output cannot
//! drift apart unnoticed.

use std::sync::OnceLock;

use serde_json::Value;

/// The published schema, as shipped.
pub const PLAN_SCHEMA: &str = include_str!("../../docs/plan.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(PLAN_SCHEMA).expect("plan.schema.json is JSON");
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("plan.schema.json is not a valid draft 2020-12 schema: {e}"))
    })
}

/// Each violation as `instance path: message`.
pub fn plan_schema_errors(doc: &Value) -> Vec<String> {
    validator()
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Panics, naming every violation, unless `doc` is a valid plan document
/// (`taper plan --format json`).
pub fn assert_valid_plan_json(doc: &Value) {
    let errors = plan_schema_errors(doc);
    assert!(
        errors.is_empty(),
        "JSON does not match docs/plan.schema.json:\n{}",
        errors.join("\n")
    );
}

/// Like [`assert_valid_plan_json`] for one `taper batch --format jsonl`
/// line, which must also carry the row's `id`.
pub fn assert_valid_batch_line(doc: &Value) {
    assert_valid_plan_json(doc);
    assert!(
        doc.get("id").is_some_and(Value::is_string),
        "jsonl line without an id"
    );
}
