//! The text pages before the months: overview, step table, warning signs,
//! the prescriber's page and, with `--supply`, the prescriptions to fill.

use maud::{html, Markup};

use super::{chart, checkin_text, list, long_date};
use crate::fills::Fill;
use crate::render::{prescription, text};
use crate::schedule::{Plan, Step};

/// Page 1: who, what, when, the chart, what to dispense, who to call.
pub(super) fn overview(plan: &Plan, patient: Option<&str>) -> Markup {
    let r = &plan.request;
    let unit = &plan.profile.unit;
    let title = text::title(plan);
    let drug = match &plan.switch {
        Some(sw) => format!(
            "{}, switched to {} (steps 1 to {}), then {} tapered",
            sw.from.display_name, plan.profile.name, sw.last_step, plan.profile.name
        ),
        None => plan.profile.display_name.clone(),
    };
    let facts: [(&str, String); 7] = [
        ("Drug", drug),
        (
            "Starting dose",
            format!(
                "{}, {}",
                text::starting_dose(plan),
                text::frequency(r.doses_per_day)
            ),
        ),
        ("Target", text::target(plan)),
        ("Strategy", text::strategy(plan)),
        (
            "Dates",
            format!(
                "{} to {} ({} days, {} steps; the last day is the first at the target)",
                long_date(r.start),
                long_date(r.end),
                plan.days.len(),
                plan.steps.len()
            ),
        ),
        ("Products", text::phases(plan)),
        ("Check-ins", checkin_text(plan)),
    ];

    let gave_way: Vec<String> = plan
        .gave_way
        .iter()
        .map(|g| text::gave_way(plan, g))
        .collect();
    let n_warn = plan.warnings.len();
    html! {
        section.sheet.overview {
            header {
                p.draft { "Draft for prescriber review" }
                h1 { (title) }
                @if let Some(p) = patient {
                    p.patient { "For: " strong { (p) } }
                }
            }
            p.oversight { "Prescriber oversight: " (plan.disclaimer) }
            // `taper adjust`: which revision this is and what it replaces.
            @if let Some(rev) = plan.history.revisions.last() {
                p.revision {
                    strong { "Revision " (rev.revision) " from " (rev.from) ", replaces the calendar of revision " (rev.revision - 1) "." }
                    " " (text::revision(plan).unwrap_or_default()) "."
                }
            }
            dl.facts {
                @for (k, v) in &facts { dt { (k) } dd { (v) } }
                // The titles are listed in full for the prescriber: here
                // they would push the overview onto a second page.
                dt { "Sources" } dd { span.small { (text::shown_sources(plan).len()) " sources, listed on the page “For the prescriber”" } }
                dt { "Provenance" } dd { span.small { (text::provenance(plan)) } }
            }
            @if !gave_way.is_empty() {
                div.gave-way {
                    p { strong { "Rules that gave way" } " (the products could not keep them all):" }
                    (list(&gave_way))
                }
            }
            @if n_warn > 0 {
                p.warning {
                    strong { "WARNING:" }
                    " this plan is faster or higher than the profile's guidance ("
                    (n_warn) " warning" @if n_warn != 1 { "s" }
                    "; see the step table and page “For the prescriber”)."
                }
            }
            figure {
                (chart::chart(plan))
                figcaption.small {
                    "Daily dose (" (unit) ") on each day of the plan; dashed lines mark the first day of each step."
                }
            }
            (diary_help(plan))
            h3 { "Dispense for the whole plan" }
            (list(&text::dispense_lines(plan)))
            @if let Some(days) = plan.request.supply_days {
                p.small.fills-note {
                    "Prescribed in " (plan.fills.len()) " fill" @if plan.fills.len() != 1 { "s" }
                    " of " (days) " day" @if days != 1 { "s" }
                    ": each fill\u{2019}s instructions and quantities are on the page \u{201c}Prescriptions to fill\u{201d}."
                }
            }
            // A switch plan's two drugs' notes would push the overview onto
            // a second page: they are on the prescriber's page.
            @if plan.switch.is_none() { (product_notes(plan)) }
            h3 { "Your prescriber" }
            div.contact { div { "Name" } div { "Phone" } }
        }
    }
}

/// One page of the step table. Each cell carries its column name in
/// `data-label` so a phone-width screen can show a step as a block of
/// `label: value` lines instead of a clipped table.
pub(super) fn steps_page(plan: &Plan, chunk: &[Step], page: usize, pages: usize) -> Markup {
    let unit = &plan.profile.unit;
    let drug = &plan.profile.display_name;
    let daily = format!("Daily dose ({unit})");
    let doses = format!("Doses ({unit})");
    html! {
        section.sheet.steps-page {
            h2 {
                (drug) " steps"
                @if pages > 1 { " (page " (page) " of " (pages) ")" }
            }
            div.scroll {
                table.steps {
                    thead { tr {
                        th { "Step" } th { "From" } th { "To" } th { "Days" }
                        th { (daily) } th { "Change" } th { (doses) } th { "What to take" }
                    } }
                    tbody {
                        @for s in chunk { (step_row(plan, s, &daily, &doses)) }
                    }
                }
            }
            (product_instructions(plan, chunk))
        }
    }
}

/// Every step in one table, `table#steps`, with the cells of the printed
/// step pages (`taper serve` shows it on screen), then the products'
/// handling instructions.
pub(super) fn step_table(plan: &Plan) -> Markup {
    let unit = &plan.profile.unit;
    let daily = format!("Daily dose ({unit})");
    let doses = format!("Doses ({unit})");
    html! {
        div.scroll {
            table.steps #steps {
                thead { tr {
                    th { "Step" } th { "From" } th { "To" } th { "Days" }
                    th { (daily) } th { "Change" } th { (doses) } th { "What to take" }
                } }
                tbody {
                    @for s in &plan.steps { (step_row(plan, s, &daily, &doses)) }
                }
            }
        }
        (product_instructions(plan, &plan.steps))
    }
}

fn step_row(plan: &Plan, s: &Step, daily: &str, doses: &str) -> Markup {
    html! {
        tr {
            td.num data-label="Step" { (s.step) }
            td.num data-label="From" { (s.start) }
            td.num data-label="To" { (s.end) }
            td.num data-label="Days" { (s.days) }
            td.num data-label=(daily) { (s.daily_dose) }
            td.num data-label="Change" { (text::step_change(s)) }
            td data-label=(doses) { (text::doses_named(s)) }
            td.take data-label="What to take" {
                (text::take(plan, s))
                @if let Some(a) = text::adjustment(plan, s) {
                    span.note { "Note: " (a) "." }
                }
                @for w in plan.warnings.iter().filter(|w| w.step == Some(s.step)) {
                    span.warn { "WARNING: " (text::warning(plan, w)) "." }
                }
            }
        }
    }
}

/// The prescriber's remark on each product the plan uses.
fn product_notes(plan: &Plan) -> Markup {
    html! {
        @for p in &plan.products {
            @if let Some(n) = &p.note { p.small { (p.name) ": " (n) } }
        }
    }
}

/// Handling instructions once per product under the table: on every row
/// they would push the table off its page.
fn product_instructions(plan: &Plan, chunk: &[Step]) -> Markup {
    let mut used: Vec<usize> = chunk
        .iter()
        .flat_map(|s| s.administrations.iter())
        .flat_map(|a| a.portions.iter().map(|p| p.product))
        .collect();
    used.sort_unstable();
    used.dedup();
    html! {
        @for p in used.iter().filter_map(|&i| plan.products.get(i)) {
            @if let Some(i) = &p.instructions {
                p.how { strong { (p.name) ":" } " " (text::sentence(i)) }
            }
        }
    }
}

/// Page 3, for the patient: what to watch for and what to do.
pub(super) fn safety_page(plan: &Plan) -> Markup {
    let rem = &plan.reminders;
    html! {
        section.sheet.safety {
            h2 { "Warning signs and what to do" }
            p { "Check in " (checkin_text(plan)) "." }
            h3 { "Withdrawal symptoms to watch for" }
            (list(&rem.withdrawal_symptoms))
            h3 { "Get urgent medical help for" }
            (list(&rem.red_flags))
            p.act { (rem.if_symptoms) }
            @if !rem.advice.is_empty() {
                h3 { "Good to know" }
                (list(&rem.advice))
            }
            p.oversight { (plan.disclaimer) }
        }
    }
}

/// Page 4: cautions, notes, tool defaults, provenance and the full sources.
pub(super) fn prescriber_page(plan: &Plan) -> Markup {
    let rem = &plan.reminders;
    // Warnings about one step are on its row in the step table.
    let plan_wide: Vec<_> = plan.warnings.iter().filter(|w| w.step.is_none()).collect();
    html! {
        section.sheet.prescriber {
            h2 { "For the prescriber" }
            @if !plan_wide.is_empty() {
                div.warning {
                    @for w in plan_wide { p { "WARNING: " (text::warning(plan, w)) "." } }
                }
            }
            @if let Some(summary) = text::switch_summary(plan) {
                h3 { "Switch" }
                p { (summary) }
                h3 { "Products" }
                (product_notes(plan))
            }
            @if let Some(summary) = text::mme_summary(plan) {
                h3 { "Morphine equivalents and overdose risk (CDC guidelines)" }
                p { (summary) }
                (list(&text::mme_advice(plan)))
            }
            @if !rem.cautions.is_empty() {
                h3 { "Cautions" }
                (list(&rem.cautions))
            }
            @if !plan.profile.notes.is_empty() {
                h3 { "Notes" }
                (list(&plan.profile.notes))
            }
            @if !plan.profile.tool_defaults.is_empty() {
                p.small {
                    "Tool defaults (no source gives these; confirm them): "
                    (plan.profile.tool_defaults.join(", ")) "."
                }
            }
            p.small { "Provenance: " (text::provenance(plan)) "." }
            h3 { "Sources" }
            ul.small.src {
                // Printed as text, never as a link: the page loads nothing.
                @for s in text::shown_sources(plan) {
                    li {
                        (s.title)
                        @if let Some(y) = s.year { " (" (y) ")" }
                        @if let Some(u) = &s.url { ". " (u) }
                    }
                }
            }
            p.oversight { (plan.disclaimer) }
        }
    }
}

/// How to keep the symptom diary of the month pages, and what to do when
/// the scores stay high: the profile's own `if_symptoms` advice, so the
/// patient acts on it and brings the record to the prescriber.
fn diary_help(plan: &Plan) -> Markup {
    html! {
        p.diary-help {
            strong { "Symptom diary: " }
            "circle each day\u{2019}s withdrawal symptoms on the calendar pages: 0 none, 1 mild, 2 moderate, 3 severe. When scores stay at 2 or 3: "
            strong.if-symptoms { (plan.reminders.if_symptoms) }
            " Bring the pages to your prescriber."
        }
    }
}

/// Style of the fills pages, added only to a `--supply` plan's document so
/// that a plan without one prints byte for byte as before.
pub(super) const FILLS_CSS: &str = "\
table.fills { width: 100%; border-collapse: collapse; font-size: 8.5pt; }
table.fills > thead > tr > th, table.fills > tbody > tr > td { border: .25mm solid #999; padding: .8mm 1.2mm; vertical-align: top; text-align: left; }
table.fills > thead > tr > th { background: #eee; }
table.fills > tbody > tr { break-inside: avoid; }
table.fills td.num { white-space: nowrap; }
table.fills > thead > tr > th:nth-child(3) { width: 50%; }
table.fills td.rx p { margin: 0 0 .8mm; }
table.fills td.rx p:last-child { margin: 0; }
table.dispense { width: 100%; border-collapse: collapse; }
table.dispense td { padding: 0 0 .6mm; vertical-align: top; }
table.dispense td.product { font-weight: 700; padding-right: 1.5mm; width: 38%; }
@media screen and (max-width: 640px) {
  table.fills > thead { display: none; }
  table.fills, table.fills > tbody, table.fills > tbody > tr, table.fills > tbody > tr > td { display: block; width: auto; }
  table.fills > tbody > tr { border: .25mm solid #999; margin-bottom: 2mm; }
  table.fills > tbody > tr > td { border: none; white-space: normal; padding: .4mm 1.5mm; }
  table.fills > tbody > tr > td::before { content: attr(data-label) \": \"; font-weight: 700; }
  table.fills { font-size: 11pt; }
}
";

/// One page of the prescriptions to fill (`--supply`): a row per fill with
/// its dates, each drug's prescription wording and what to dispense of
/// each product, for the prescriber writing them and the pharmacist
/// filling them. Wording and quantities come from [`prescription`].
pub(super) fn fills_page(plan: &Plan, chunk: &[Fill], page: usize, pages: usize) -> Markup {
    let days = plan.request.supply_days.unwrap_or_default();
    let n = plan.fills.len();
    html! {
        section.sheet.fills-page {
            h2 {
                "Prescriptions to fill"
                @if pages > 1 { " (page " (page) " of " (pages) ")" }
            }
            p.small {
                (n) " fill" @if n != 1 { "s" } " of " (days) " day" @if days != 1 { "s" }
                " from " (long_date(plan.request.start)) ", the last to the plan\u{2019}s end. "
                "Each fill\u{2019}s instructions, and the quantity of each product to dispense for its days"
                " (a controlled drug\u{2019}s also in words)."
            }
            div.scroll {
                table.fills {
                    thead { tr {
                        th { "Fill" } th { "Dates" } th { "Prescription" } th { "Dispense" }
                    } }
                    tbody {
                        @for f in chunk { (fill_row(plan, f)) }
                    }
                }
            }
            p.oversight { (plan.disclaimer) }
        }
    }
}

/// Every fill in one table, `table#fills`, with the rows of the printed
/// fills pages (`taper serve` shows it on screen).
pub(super) fn fills_table(plan: &Plan) -> Markup {
    html! {
        div.scroll {
            table.fills #fills {
                thead { tr {
                    th { "Fill" } th { "Dates" } th { "Prescription" } th { "Dispense" }
                } }
                tbody {
                    @for f in &plan.fills { (fill_row(plan, f)) }
                }
            }
        }
    }
}

fn fill_row(plan: &Plan, f: &Fill) -> Markup {
    html! {
        tr.fill {
            td.num data-label="Fill" { (f.fill) " of " (plan.fills.len()) }
            td.num.dates data-label="Dates" {
                (f.start) br; "to " (f.end) br;
                (f.days) " day" @if f.days != 1 { "s" }
            }
            td.rx data-label="Prescription" {
                @for p in prescription::wording(plan, f) { p { (p.text) } }
            }
            td.dispense data-label="Dispense" {
                table.dispense { tbody {
                    @for l in &f.lines {
                        tr {
                            td.product { (l.name) }
                            td.quantity { (prescription::quantity(plan, l)) }
                        }
                    }
                } }
            }
        }
    }
}
