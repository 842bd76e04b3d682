//! Printable HTML calendar: one self-contained file (inline CSS and SVG, no
//! scripts, no fonts, images or links loaded from anywhere) that prints the
//! same offline on A4 and US Letter.
//!
//! Printed pages, in order (each starts a new page, so the count is
//! `3 + ceil(steps / STEPS_PER_PAGE) + months`, plus
//! `ceil(fills / FILLS_PER_PAGE)` with `--supply`):
//! 1. overview: patient, drug, doses, target, strategy, dates, the
//!    disclaimer, sources, a dose-over-time chart, dispensing totals and
//!    space for the prescriber's name and phone;
//! 2. the step table, [`STEPS_PER_PAGE`] steps a page;
//! 3. warning signs and what to do (for the patient);
//! 4. for the prescriber: cautions, notes, tool defaults, sources;
//! 5. with `--supply` only: the prescriptions to fill, [`FILLS_PER_PAGE`]
//!    fills a page, each with its dates, the prescription wording of each
//!    drug and the quantity of each product to dispense (for the
//!    prescriber writing them and the pharmacist filling them);
//! 6. one large-print month grid per calendar month of the plan
//!    (landscape, see [`month`]).
//!
//! A plan without `--supply` prints exactly as before fills existed: the
//! fills pages and their style sheet are left out entirely.
//!
//! Pages 1, 3 and 4 hold profile text of varying length: a profile with
//! far more text than the built-in ones flows onto an extra page (never
//! clipped).
//!
//! The markup is written with `maud`, which escapes every interpolated
//! value by construction: text from the plan, the profile and `--patient`
//! can never become markup. Nothing here computes a dose: amounts and
//! phrases come from [`Plan`] and [`text`]; the only arithmetic is
//! calendar layout and chart geometry.

mod chart;
mod month;
mod pages;

use std::io::Write;

use chrono::NaiveDate;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::error::Result;
use crate::fills::Fill;
use crate::render::Extras;
use crate::schedule::Plan;

/// Step-table rows per printed page; a row may wrap to three lines.
pub const STEPS_PER_PAGE: usize = 12;

/// Fills per printed page (`--supply`); a switch fill's row, two drugs'
/// instructions and three products, is about eight lines.
pub const FILLS_PER_PAGE: usize = 8;

/// The print and screen style sheet (no URLs, no fonts to load).
const CSS: &str = include_str!("page.css");

/// Writes the whole document.
pub fn write(plan: &Plan, extras: &Extras, out: &mut dyn Write) -> Result<()> {
    let patient = extras.patient.as_deref();
    let step_pages = plan.steps.chunks(STEPS_PER_PAGE).count();
    // `plan.fills` always holds the whole plan as one fill: the pages are
    // for a plan cut into supply periods.
    let fills: &[Fill] = match plan.request.supply_days {
        Some(_) => &plan.fills,
        None => &[],
    };
    let fill_pages = fills.chunks(FILLS_PER_PAGE).count();
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content={ (plan.tool.name) " " (plan.tool.version) };
                title {
                    (crate::render::text::title(plan))
                    @if let Some(p) = patient { ": " (p) }
                }
                style { (PreEscaped(CSS)) }
                @if !fills.is_empty() { style { (PreEscaped(pages::FILLS_CSS)) } }
            }
            body {
                main {
                    (pages::overview(plan, patient))
                    @for (i, chunk) in plan.steps.chunks(STEPS_PER_PAGE).enumerate() {
                        (pages::steps_page(plan, chunk, i + 1, step_pages))
                    }
                    (pages::safety_page(plan))
                    (pages::prescriber_page(plan))
                    @for (i, chunk) in fills.chunks(FILLS_PER_PAGE).enumerate() {
                        (pages::fills_page(plan, chunk, i + 1, fill_pages))
                    }
                    (month::months(plan, extras))
                }
            }
        }
    };
    out.write_all(doc.into_string().as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The dose-over-time chart (inline SVG), for a page that shows a plan.
pub fn chart(plan: &Plan) -> Markup {
    chart::chart(plan)
}

/// Every step in one table (`table#steps`), the same cells as the printed
/// step pages, for a page that shows a plan.
pub fn step_table(plan: &Plan) -> Markup {
    pages::step_table(plan)
}

/// Every fill of a `--supply` plan in one table (`table#fills`), the
/// same rows as the printed fills pages, for a page that shows a plan.
pub fn fills_table(plan: &Plan) -> Markup {
    pages::fills_table(plan)
}

/// A bulleted list of plain texts.
fn list(items: &[String]) -> Markup {
    html! { ul { @for i in items { li { (i) } } } }
}

/// `Tue 1 Dec 2026`: unambiguous on both sides of the Atlantic.
fn long_date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

/// `2 and 5 days after each step starts, and on the last day`.
fn checkin_text(plan: &Plan) -> String {
    let days = plan
        .reminders
        .checkin_days
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" and ");
    if days.is_empty() {
        "on the last day".into()
    } else {
        format!("{days} days after each step starts (while the step lasts), and on the last day")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_text_is_escaped_by_construction() {
        let hostile = r#"<script>alert("x") & 'y'</script>"#;
        let out = html! { p title=(hostile) { (hostile) } }.into_string();
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(out.contains("&amp;"), "{out}");
        assert!(
            !out.contains(r#"="<"#) && out.contains("&quot;x&quot;"),
            "{out}"
        );
    }
}
