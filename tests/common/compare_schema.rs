//! Every `taper compare --format json` document is checked against the
//! published `docs/compare.schema.json` (draft 2020-12, formats asserted).

use std::sync::OnceLock;

use serde_json::Value;

/// The published compare schema, as shipped.
pub const COMPARE_SCHEMA: &str = include_str!("../../docs/compare.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(COMPARE_SCHEMA).expect("compare.schema.json is JSON");
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("compare.schema.json is not a valid schema: {e}"))
    })
}

/// Panics, naming every violation, unless `doc` is a valid compare document.
pub fn assert_valid_compare_json(doc: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "JSON does not match docs/compare.schema.json:\n{}",
        errors.join("\n")
    );
}
