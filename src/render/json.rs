//! JSON: the whole [`Plan`] as documented in the README, plus the phrased
//! notes so scripts need not rebuild them. Amounts are exact decimal strings.
//!
//! The shape is published as `docs/plan.schema.json`. [`SCHEMA_VERSION`] is
//! raised on any change that removes or renames a field, and every change
//! to this shape updates the schema in the same commit.

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::identity;
use crate::render::{prescription, text, Extras, View};
use crate::schedule::Plan;

/// The `schema_version` of every document this module writes.
pub const SCHEMA_VERSION: &str = "1";

#[derive(Serialize)]
struct JsonPlan<'a> {
    schema_version: &'static str,
    /// `--plan-id`, or the default derived from the request.
    plan_id: String,
    /// Batch mode: the request's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    /// `--patient` (or the batch `patient` column), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    patient: Option<&'a str>,
    tool: &'a crate::schedule::ToolInfo,
    disclaimer: &'a str,
    profile: &'a crate::schedule::ProfileInfo,
    request: &'a crate::schedule::RequestInfo,
    products: &'a [crate::formulation::Product],
    phases: &'a [crate::schedule::PhaseInfo],
    gave_way: &'a [crate::schedule::GaveWay],
    steps: &'a [crate::schedule::Step],
    /// Empty in the steps view.
    days: &'a [crate::schedule::Day],
    dispense: &'a [crate::schedule::DispenseLine],
    /// What to dispense per supply period (the whole plan is one fill
    /// without `--supply`).
    fills: &'a [crate::fills::Fill],
    warnings: &'a [crate::schedule::Warning],
    reminders: &'a crate::schedule::Reminders,
    /// Opioids: morphine equivalents (omitted for other drugs).
    #[serde(skip_serializing_if = "Option::is_none")]
    mme: Option<&'a crate::mme::PlanMme>,
    /// `--switch-to`: the switch that opens the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    switch: Option<&'a crate::switch::SwitchInfo>,
    /// The switch in one paragraph, as the table prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    switch_text: Option<String>,
    /// The row granularity the caller asked for.
    view: &'static str,
    /// `strategy` as one line.
    strategy_text: String,
    /// `phases` as one line: which products, when.
    phase_text: String,
    /// Rules that gave way as sentences, aligned with `gave_way`.
    gave_way_text: Vec<String>,
    /// One note per day, aligned with `days` (empty when nothing is due).
    notes: Vec<String>,
    /// Warnings as sentences, aligned with `warnings`.
    warning_text: Vec<String>,
    /// Per step: doses and products as text, aligned with `steps`.
    step_text: Vec<StepText>,
    /// Per fill: the prescription wording, aligned with `fills`.
    fill_text: Vec<FillText>,
    /// The options the plan was made from (`taper adjust` rebuilds it).
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<&'a crate::revision::RecordedOptions>,
    /// 1 for a new plan; each `taper adjust` adds one.
    revision: u32,
    /// The adjustments, oldest first (empty for revision 1).
    revisions: &'a [crate::revision::Revision],
    /// `revisions` as one line (`null` for revision 1).
    revision_text: Option<String>,
}

#[derive(Serialize)]
struct FillText {
    /// The instructions, one per drug (two during a switch).
    prescriptions: Vec<prescription::Prescription>,
    /// The fill in one line, for the record.
    summary: String,
    /// Each line's quantity as written, aligned with `lines`.
    quantities: Vec<String>,
}

#[derive(Serialize)]
struct StepText {
    doses: String,
    /// What to take, with the products' handling instructions (the CSV
    /// `products` column).
    products: String,
}

pub fn write(plan: &Plan, view: View, extras: &Extras, out: &mut dyn Write) -> Result<()> {
    write_doc(plan, view, None, extras, true, out)
}

/// One compact line with the request id (batch `--format jsonl`).
pub fn write_line(plan: &Plan, id: &str, extras: &Extras, out: &mut dyn Write) -> Result<()> {
    write_doc(plan, View::Days, Some(id), extras, false, out)
}

fn write_doc(
    plan: &Plan,
    view: View,
    id: Option<&str>,
    extras: &Extras,
    pretty: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let patient = extras.patient.as_deref();
    let doc = JsonPlan {
        schema_version: SCHEMA_VERSION,
        plan_id: identity::plan_id_or_default(extras.plan_id.as_deref(), plan, patient, id),
        id,
        patient,
        tool: &plan.tool,
        disclaimer: plan.disclaimer,
        profile: &plan.profile,
        request: &plan.request,
        products: &plan.products,
        phases: &plan.phases,
        gave_way: &plan.gave_way,
        steps: &plan.steps,
        days: match view {
            View::Days => &plan.days,
            View::Steps | View::Fills => &[],
        },
        dispense: &plan.dispense,
        fills: &plan.fills,
        warnings: &plan.warnings,
        reminders: &plan.reminders,
        mme: plan.mme.as_ref(),
        switch: plan.switch.as_ref(),
        switch_text: text::switch_summary(plan),
        view: match view {
            View::Days => "days",
            View::Steps => "steps",
            View::Fills => "fills",
        },
        strategy_text: text::strategy(plan),
        phase_text: text::phases(plan),
        gave_way_text: plan
            .gave_way
            .iter()
            .map(|g| text::gave_way(plan, g))
            .collect(),
        notes: match view {
            View::Days => plan.days.iter().map(|d| text::day_note(plan, d)).collect(),
            View::Steps | View::Fills => Vec::new(),
        },
        warning_text: plan
            .warnings
            .iter()
            .map(|w| text::warning(plan, w))
            .collect(),
        step_text: plan
            .steps
            .iter()
            .map(|s| StepText {
                doses: text::doses(s),
                products: text::products(plan, s),
            })
            .collect(),
        fill_text: plan
            .fills
            .iter()
            .map(|f| FillText {
                prescriptions: prescription::wording(plan, f),
                summary: prescription::summary(plan, f),
                quantities: f
                    .lines
                    .iter()
                    .map(|l| prescription::quantity(plan, l))
                    .collect(),
            })
            .collect(),
        options: plan.history.options.as_ref(),
        revision: plan.history.revision(),
        revisions: &plan.history.revisions,
        revision_text: text::revision(plan),
    };
    if pretty {
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| Error::Io(e.into()))?;
    } else {
        serde_json::to_writer(&mut *out, &doc).map_err(|e| Error::Io(e.into()))?;
    }
    out.write_all(b"\n")?;
    Ok(())
}
