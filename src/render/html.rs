//! Printable HTML calendar: one self-contained file (inline CSS and SVG, no
//! scripts, no fonts, images or links loaded from anywhere) that prints the
//! same offline on A4 and US Letter.
//!
//! Printed pages, in order (each starts a new page, so the count is
//! `3 + ceil(steps / STEPS_PER_PAGE) + months`):
//! 1. overview: patient, drug, doses, target, strategy, dates, the
//!    disclaimer, sources, a dose-over-time chart, dispensing totals and
//!    space for the prescriber's name and phone;
//! 2. the step table, [`STEPS_PER_PAGE`] steps a page;
//! 3. warning signs and what to do (for the patient);
//! 4. for the prescriber: cautions, notes, tool defaults, sources;
//! 5. one month grid per calendar month of the plan, a tick box per dose
//!    given that day, named by its slot, with the products' handling
//!    instructions.
//!
//! Pages 1, 3 and 4 hold profile text of varying length: a profile with
//! far more text than the built-in ones flows onto an extra page (never
//! clipped).
//!
//! Page boxes are sized for the smaller of the two papers (A4 is narrower,
//! Letter is shorter) and nothing clips: a box that is too full grows and
//! pushes the month onto a second page, which `.ci/check-calendars` counts.
//! All text from the plan, the profile and `--patient` is HTML-escaped.
//! Nothing here computes a dose: amounts and phrases come from [`Plan`]
//! and [`text`]; the only arithmetic is calendar layout and chart geometry.

use std::fmt::Write as _;
use std::io::Write;

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::dose::Dose;
use crate::error::Result;
use crate::render::{text, Extras};
use crate::schedule::{Day, Event, Plan, Step};

/// Step-table rows per printed page; a row may wrap to three lines.
pub const STEPS_PER_PAGE: usize = 12;

/// Above this many administrations a day, day boxes show a tick box and
/// amount per administration, and the month's legend says what makes each
/// dose (the products do not fit a box 27 mm wide).
const COMPACT_ABOVE: usize = 4;

const CSS: &str = r#"
@page { size: auto; margin: 10mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #e8e8e8; color: #111;
  font: 10pt/1.3 "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
.sheet { background: #fff; max-width: 190mm; margin: 6mm auto; padding: 7mm;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); }
h1 { font-size: 17pt; margin: 0 0 1mm; }
h2 { font-size: 13pt; margin: 0 0 2mm; }
h3 { font-size: 10.5pt; margin: 3mm 0 1mm; }
p { margin: 0 0 1.5mm; }
ul { margin: 0 0 1.5mm; padding-left: 5mm; }
.draft { font-weight: 700; letter-spacing: .05em; text-transform: uppercase; color: #a40000; margin: 0; }
.patient { font-size: 12pt; }
.oversight { border: .5mm solid #a40000; padding: 1.5mm 2.5mm; font-weight: 600; }
.warning { border: .5mm solid #a40000; background: #fdecec; padding: 1.5mm 2.5mm; }
.act { border: .5mm solid #111; background: #f2f2f2; padding: 1.5mm 2.5mm; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: 28mm 1fr; gap: .8mm 3mm; margin: 2mm 0; }
dl.facts dt { font-weight: 700; }
dl.facts dd { margin: 0; }
.small { font-size: 8pt; color: #333; }
.src { overflow-wrap: anywhere; }
figure { margin: 2mm 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-family: inherit; fill: #111; }
table.steps { width: 100%; border-collapse: collapse; font-size: 8.5pt; }
table.steps th, table.steps td { border: .25mm solid #999; padding: .8mm 1.2mm; vertical-align: top; text-align: left; }
table.steps th { background: #eee; }
table.steps td.num { text-align: right; white-space: nowrap; }
table.steps tr { break-inside: avoid; }
table.steps .note { display: block; font-size: 7.5pt; color: #333; }
table.steps .warn { display: block; font-size: 7.5pt; color: #a40000; font-weight: 600; }
.contact { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm 6mm; margin-top: 2mm; }
.contact div { border-bottom: .3mm solid #111; padding-top: 6mm; font-size: 8pt; }
.month-head { display: flex; justify-content: space-between; align-items: baseline; gap: 4mm; margin-bottom: 1.5mm; }
.month-head h2 { margin: 0; font-size: 16pt; white-space: nowrap; }
.month-head p { margin: 0; font-size: 8pt; text-align: right; }
table.grid { width: 100%; border-collapse: collapse; table-layout: fixed; }
table.grid th { font-size: 8pt; padding: .8mm; border: .3mm solid #777; background: #eee; }
table.grid td { border: .3mm solid #777; vertical-align: top; padding: .7mm .9mm;
  font: 6.8pt/1.18 "Arial Narrow", "Liberation Sans Narrow", "DejaVu Sans Condensed", "Helvetica Neue", Arial, sans-serif;
  overflow-wrap: anywhere; }
.weeks-4 td { height: 50mm; }
.weeks-5 td { height: 40mm; }
.weeks-6 td { height: 33mm; }
td.pad { background: #fafafa; }
td.out { background: #f1f1f1; color: #888; }
td.step-start { border-top: .9mm solid #111; }
.dhead { display: flex; flex-wrap: wrap; align-items: center; gap: .6mm; }
.dnum { font-size: 11pt; font-weight: 700; line-height: 1; margin-right: .6mm; }
.badge { display: inline-block; border: .25mm solid #111; border-radius: .8mm; padding: 0 .6mm;
  font-size: 5.8pt; font-weight: 700; text-transform: uppercase; line-height: 1.35; }
.badge.new { background: #111; color: #fff; }
.badge.check { background: #fff; }
.badge.final { background: #a40000; border-color: #a40000; color: #fff; }
.badge.warn { border-color: #a40000; color: #a40000; }
.daily { font-weight: 700; font-size: 8pt; margin-top: .5mm; }
.daily span { font-weight: 400; font-size: 6.8pt; }
ul.take { list-style: none; padding: 0; margin: .4mm 0 0; }
ul.take li { display: flex; gap: .8mm; align-items: flex-start; margin-top: .5mm; }
ul.take.compact li { display: inline-flex; margin-right: 1.2mm; }
ul.take li.none { color: #777; }
.tick { flex: none; width: 2.7mm; height: 2.7mm; border: .3mm solid #111; background: #fff; margin-top: .1mm; }
.wd { display: none; }
.dayno { color: #555; font-size: 5.8pt; margin-top: .5mm; }
.instr { font-size: 5.6pt; line-height: 1.12; margin-top: .5mm; color: #222; }
b.slot { font-weight: 700; }
ul.take li.same { display: block; }
.slots { display: flex; flex-wrap: wrap; gap: .3mm 1mm; font-weight: 700; }
.slots .slot { display: inline-flex; align-items: center; gap: .5mm; }
p.how { font-size: 8pt; margin: 1.5mm 0 0; }
.gave-way { border: .3mm solid #777; padding: 1mm 2.5mm; margin: 0 0 1.5mm; }
.legend { font-size: 7pt; margin-top: 1.5mm; }
.legend p { margin: 0 0 .8mm; }
@media print {
  body { background: none; }
  .sheet { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  .sheet + .sheet { break-before: page; }
}
@media screen and (max-width: 640px) {
  .sheet { margin: 0; padding: 4mm; box-shadow: none; }
  dl.facts { grid-template-columns: 1fr; }
  .scroll { overflow-x: auto; }
  .wd { display: inline; }
  table.grid thead, td.pad, td.out { display: none; }
  table.grid, table.grid tbody, table.grid tr, table.grid td { display: block; width: auto; height: auto; }
  table.grid td { margin-bottom: 1mm; font-size: 10pt; }
}
"#;

/// Writes the whole document.
pub fn write(plan: &Plan, extras: &Extras, out: &mut dyn Write) -> Result<()> {
    let mut h = String::with_capacity(256 * 1024);
    let patient = extras.patient.as_deref();
    let drug = esc(&plan.profile.display_name);
    let title = match patient {
        Some(p) => format!("{drug} taper schedule: {}", esc(p)),
        None => format!("{drug} taper schedule"),
    };
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        h,
        "<meta name=\"generator\" content=\"{} {}\">",
        esc(plan.tool.name),
        esc(plan.tool.version)
    );
    let _ = writeln!(
        h,
        "<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>"
    );
    overview(&mut h, plan, patient);
    let step_pages = plan.steps.chunks(STEPS_PER_PAGE).count();
    for (i, chunk) in plan.steps.chunks(STEPS_PER_PAGE).enumerate() {
        steps_page(&mut h, plan, chunk, i + 1, step_pages);
    }
    safety_page(&mut h, plan);
    prescriber_page(&mut h, plan);
    months(&mut h, plan, patient);
    h.push_str("</main>\n</body>\n</html>\n");
    out.write_all(h.as_bytes())?;
    Ok(())
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn list(h: &mut String, items: &[String]) {
    h.push_str("<ul>");
    for i in items {
        let _ = write!(h, "<li>{}</li>", esc(i));
    }
    h.push_str("</ul>\n");
}

/// `Tue 1 Dec 2026`: unambiguous on both sides of the Atlantic.
fn long_date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

fn overview(h: &mut String, plan: &Plan, patient: Option<&str>) {
    let r = &plan.request;
    let unit = &plan.profile.unit;
    let drug = esc(&plan.profile.display_name);
    h.push_str("<section class=\"sheet overview\">\n<header>\n");
    h.push_str("<p class=\"draft\">Draft for prescriber review</p>\n");
    let _ = writeln!(h, "<h1>{drug} taper schedule</h1>");
    if let Some(p) = patient {
        let _ = writeln!(
            h,
            "<p class=\"patient\">For: <strong>{}</strong></p>",
            esc(p)
        );
    }
    h.push_str("</header>\n");
    let _ = writeln!(
        h,
        "<p class=\"oversight\">Prescriber oversight: {}</p>",
        esc(plan.disclaimer)
    );
    h.push_str("<dl class=\"facts\">\n");
    let mut fact = |k: &str, v: String| {
        let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
    };
    fact("Drug", drug.clone());
    fact(
        "Starting dose",
        esc(&format!(
            "{} a day, {}",
            text::amount(r.start_dose, unit),
            text::frequency(r.doses_per_day)
        )),
    );
    fact("Target", esc(&text::target(plan)));
    fact("Strategy", esc(&text::strategy(plan)));
    fact(
        "Dates",
        esc(&format!(
            "{} to {} ({} days, {} steps; the last day is the first at the target)",
            long_date(r.start),
            long_date(r.end),
            plan.days.len(),
            plan.steps.len()
        )),
    );
    fact("Products", esc(&text::phases(plan)));
    fact("Check-ins", esc(&checkin_text(plan)));
    fact(
        "Sources",
        format!("<span class=\"small\">{}</span>", esc(&text::sources(plan))),
    );
    fact(
        "Provenance",
        format!(
            "<span class=\"small\">{}</span>",
            esc(&text::provenance(plan))
        ),
    );
    h.push_str("</dl>\n");
    if !plan.gave_way.is_empty() {
        h.push_str("<div class=\"gave-way\"><p><strong>Rules that gave way</strong> (the products could not keep them all):</p>");
        list(
            h,
            &plan
                .gave_way
                .iter()
                .map(|g| text::gave_way(plan, g))
                .collect::<Vec<_>>(),
        );
        h.push_str("</div>\n");
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"warning\"><strong>WARNING:</strong> this plan is faster or higher than the profile's guidance ({} warning{}; see the step table and page “For the prescriber”).</p>",
            plan.warnings.len(),
            if plan.warnings.len() == 1 { "" } else { "s" }
        );
    }
    h.push_str("<figure>\n");
    chart(h, plan);
    let _ = writeln!(
        h,
        "<figcaption class=\"small\">Daily dose ({}) on each day of the plan; dashed lines mark the first day of each step.</figcaption>\n</figure>",
        esc(unit)
    );
    h.push_str("<h3>Dispense for the whole plan</h3>\n");
    list(h, &text::dispense_lines(plan));
    for p in &plan.products {
        if let Some(n) = &p.note {
            let _ = writeln!(h, "<p class=\"small\">{}: {}</p>", esc(&p.name), esc(n));
        }
    }
    h.push_str(
        "<h3>Your prescriber</h3>\n<div class=\"contact\"><div>Name</div><div>Phone</div></div>\n",
    );
    h.push_str("</section>\n");
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

fn steps_page(h: &mut String, plan: &Plan, chunk: &[Step], page: usize, pages: usize) {
    let unit = esc(&plan.profile.unit);
    let drug = esc(&plan.profile.display_name);
    h.push_str("<section class=\"sheet steps-page\">\n");
    if pages > 1 {
        let _ = writeln!(h, "<h2>{drug} steps (page {page} of {pages})</h2>");
    } else {
        let _ = writeln!(h, "<h2>{drug} steps</h2>");
    }
    let _ = writeln!(
        h,
        "<div class=\"scroll\"><table class=\"steps\">\n<thead><tr><th>Step</th><th>From</th><th>To</th><th>Days</th><th>Daily dose ({unit})</th><th>Change</th><th>Doses ({unit})</th><th>What to take</th></tr></thead>\n<tbody>"
    );
    for s in chunk {
        let _ = write!(
            h,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}",
            s.step,
            s.start,
            s.end,
            s.days,
            esc(&s.daily_dose.to_string()),
            esc(&s.change.to_string()),
            esc(&text::doses(s)),
            esc(&text::take(plan, s))
        );
        if let Some(a) = text::adjustment(plan, s) {
            let _ = write!(h, "<span class=\"note\">Note: {}.</span>", esc(&a));
        }
        for w in plan.warnings.iter().filter(|w| w.step == Some(s.step)) {
            let _ = write!(
                h,
                "<span class=\"warn\">WARNING: {}.</span>",
                esc(&text::warning(plan, w))
            );
        }
        h.push_str("</td></tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
    // Handling instructions once per product under the table: on every
    // row they would push the table off its page.
    let mut used: Vec<usize> = chunk
        .iter()
        .flat_map(|s| s.administrations.iter())
        .flat_map(|a| a.portions.iter().map(|p| p.product))
        .collect();
    used.sort_unstable();
    used.dedup();
    for p in used.iter().filter_map(|&i| plan.products.get(i)) {
        if let Some(i) = &p.instructions {
            let _ = writeln!(
                h,
                "<p class=\"how\"><strong>{}:</strong> {}</p>",
                esc(&p.name),
                esc(&text::sentence(i))
            );
        }
    }
    h.push_str("</section>\n");
}

fn safety_page(h: &mut String, plan: &Plan) {
    let rem = &plan.reminders;
    h.push_str("<section class=\"sheet safety\">\n<h2>Warning signs and what to do</h2>\n");
    let _ = writeln!(h, "<p>Check in {}.</p>", esc(&checkin_text(plan)));
    h.push_str("<h3>Withdrawal symptoms to watch for</h3>\n");
    list(h, &rem.withdrawal_symptoms);
    h.push_str("<h3>Get urgent medical help for</h3>\n");
    list(h, &rem.red_flags);
    let _ = writeln!(h, "<p class=\"act\">{}</p>", esc(&rem.if_symptoms));
    if !rem.advice.is_empty() {
        h.push_str("<h3>Good to know</h3>\n");
        list(h, &rem.advice);
    }
    let _ = writeln!(h, "<p class=\"oversight\">{}</p>", esc(plan.disclaimer));
    h.push_str("</section>\n");
}

/// Cautions, notes, tool defaults, provenance and the full sources.
fn prescriber_page(h: &mut String, plan: &Plan) {
    let rem = &plan.reminders;
    h.push_str("<section class=\"sheet prescriber\">\n<h2>For the prescriber</h2>\n");
    // Warnings about one step are on its row in the step table.
    let plan_wide: Vec<_> = plan.warnings.iter().filter(|w| w.step.is_none()).collect();
    if !plan_wide.is_empty() {
        h.push_str("<div class=\"warning\">");
        for w in plan_wide {
            let _ = write!(h, "<p>WARNING: {}.</p>", esc(&text::warning(plan, w)));
        }
        h.push_str("</div>\n");
    }
    if !rem.cautions.is_empty() {
        h.push_str("<h3>Cautions</h3>\n");
        list(h, &rem.cautions);
    }
    if !plan.profile.notes.is_empty() {
        h.push_str("<h3>Notes</h3>\n");
        list(h, &plan.profile.notes);
    }
    if !plan.profile.tool_defaults.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"small\">Tool defaults (no source gives these; confirm them): {}.</p>",
            esc(&plan.profile.tool_defaults.join(", "))
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"small\">Provenance: {}.</p>",
        esc(&text::provenance(plan))
    );
    h.push_str("<h3>Sources</h3>\n<ul class=\"small src\">");
    for s in &plan.profile.sources {
        let mut line = s.title.clone();
        if let Some(y) = s.year {
            line.push_str(&format!(" ({y})"));
        }
        // Printed as text, never as a link: the page loads nothing.
        if let Some(u) = &s.url {
            line.push_str(&format!(". {u}"));
        }
        let _ = write!(h, "<li>{}</li>", esc(&line));
    }
    h.push_str("</ul>\n");
    let _ = writeln!(h, "<p class=\"oversight\">{}</p>", esc(plan.disclaimer));
    h.push_str("</section>\n");
}

/// Per-step texts for the day boxes, built once.
struct StepBox {
    /// `20 + 20 + 15`.
    doses: String,
    /// What makes each administration given.
    take: Vec<String>,
    /// The products' handling instructions, once.
    instructions: Option<String>,
}

fn months(h: &mut String, plan: &Plan, patient: Option<&str>) {
    let (Some(first), Some(last)) = (plan.days.first(), plan.days.last()) else {
        return;
    };
    let boxes: Vec<StepBox> = plan
        .steps
        .iter()
        .map(|s| StepBox {
            doses: text::doses(s),
            take: s
                .administrations
                .iter()
                .map(|a| text::administration(plan, &a.portions))
                .collect(),
            instructions: text::instructions(plan, s),
        })
        .collect();
    let mut month = first.date.with_day(1).unwrap_or(first.date);
    let last_month = last.date.with_day(1).unwrap_or(last.date);
    let mut all = Vec::new();
    while month <= last_month {
        all.push(month);
        match month.checked_add_months(Months::new(1)) {
            Some(m) => month = m,
            None => break,
        }
    }
    for (i, m) in all.iter().enumerate() {
        month_page(h, plan, patient, &boxes, *m, i + 1, all.len());
    }
}

/// The plan's day on `date`, if any (days are consecutive from the start).
fn day_on(plan: &Plan, date: NaiveDate) -> Option<&Day> {
    let start = plan.days.first()?.date;
    let i = usize::try_from((date - start).num_days()).ok()?;
    plan.days.get(i).filter(|d| d.date == date)
}

fn month_page(
    h: &mut String,
    plan: &Plan,
    patient: Option<&str>,
    boxes: &[StepBox],
    first: NaiveDate,
    n: usize,
    of: usize,
) {
    let drug = esc(&plan.profile.display_name);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let days_in_month = (next - first).num_days().max(28) as u32;
    let lead = first.weekday().num_days_from_monday();
    let weeks = (lead + days_in_month).div_ceil(7);
    let compact = plan.request.doses_per_day as usize > COMPACT_ABOVE;
    let _ = writeln!(
        h,
        "<section class=\"sheet month\" id=\"month-{}\">",
        first.format("%Y-%m")
    );
    let who = patient.map_or(String::new(), |p| format!(" · For: {}", esc(p)));
    let _ = writeln!(
        h,
        "<div class=\"month-head\"><h2>{}</h2><p>{drug} taper{who} · month {n} of {of}<br>Tick each box when the dose is taken.</p></div>",
        first.format("%B %Y")
    );
    let _ = writeln!(
        h,
        "<table class=\"grid weeks-{weeks}\">\n<thead><tr><th>Mon</th><th>Tue</th><th>Wed</th><th>Thu</th><th>Fri</th><th>Sat</th><th>Sun</th></tr></thead>\n<tbody>"
    );
    let mut steps_here: Vec<u32> = Vec::new();
    for cell in 0..weeks * 7 {
        if cell % 7 == 0 {
            h.push_str("<tr>");
        }
        let date = cell
            .checked_sub(lead)
            .filter(|d| *d < days_in_month)
            .and_then(|d| first.checked_add_days(Days::new(u64::from(d))));
        match date {
            None => h.push_str("<td class=\"pad\"></td>"),
            Some(date) => match day_on(plan, date) {
                None => {
                    let _ = write!(
                        h,
                        "<td class=\"day out\" data-date=\"{date}\"><span class=\"dnum\">{}</span></td>",
                        date.day()
                    );
                }
                Some(day) => {
                    if !steps_here.contains(&day.step) {
                        steps_here.push(day.step);
                    }
                    day_box(h, plan, boxes, day, compact);
                }
            },
        }
        if cell % 7 == 6 {
            h.push_str("</tr>\n");
        }
    }
    h.push_str("</tbody>\n</table>\n<div class=\"legend\">\n");
    h.push_str("<p><span class=\"badge new\">New dose</span> a step starts: the dose changes today. <span class=\"badge check\">Check-in</span> check for withdrawal symptoms. <span class=\"badge final\">Last day</span> the last day of the plan.</p>\n");
    if compact {
        for s in steps_here
            .iter()
            .filter_map(|n| plan.steps.get(*n as usize - 1))
        {
            let _ = writeln!(
                h,
                "<p>Step {} (from {}): {}.</p>",
                s.step,
                s.start,
                esc(&text::products(plan, s))
            );
        }
    }
    let _ = writeln!(
        h,
        "<p><strong>{}</strong> Get urgent medical help for: {}.</p>",
        esc(&plan.reminders.if_symptoms),
        esc(&plan.reminders.red_flags.join("; "))
    );
    let _ = writeln!(h, "<p>{}</p>", esc(plan.disclaimer));
    h.push_str("</div>\n</section>\n");
}

fn day_box(h: &mut String, plan: &Plan, boxes: &[StepBox], day: &Day, compact: bool) {
    let unit = esc(&plan.profile.unit);
    let idx = day.step as usize - 1;
    let (Some(step), Some(bx)) = (plan.steps.get(idx), boxes.get(idx)) else {
        return;
    };
    let is_start = day
        .events
        .iter()
        .any(|e| matches!(e, Event::StepStart { .. }));
    let is_check = day
        .events
        .iter()
        .any(|e| matches!(e, Event::CheckIn { .. }));
    let is_final = day.events.contains(&Event::Final);
    let warned = day
        .events
        .iter()
        .any(|e| matches!(e, Event::Warning { .. }));
    let mut class = String::from("day in-plan");
    for (on, c) in [
        (is_start, " step-start"),
        (is_check, " check-in"),
        (is_final, " final"),
    ] {
        if on {
            class.push_str(c);
        }
    }
    let _ = write!(
        h,
        "<td class=\"{class}\" data-date=\"{}\"><div class=\"dhead\"><time class=\"dnum\" datetime=\"{}\">{}<span class=\"wd\"> {}</span></time>",
        day.date,
        day.date,
        day.date.day(),
        day.date.format("%a")
    );
    if is_start && !is_final {
        h.push_str("<span class=\"badge new\">New dose</span>");
    }
    if is_check {
        h.push_str("<span class=\"badge check\">Check-in</span>");
    }
    if is_final {
        h.push_str("<span class=\"badge final\">Last day</span>");
    }
    if warned {
        h.push_str("<span class=\"badge warn\">Warning</span>");
    }
    h.push_str("</div>");
    if day.daily_dose.is_zero() {
        let _ = write!(
            h,
            "<div class=\"daily\">0 {unit}: stop</div><ul class=\"take\"><li class=\"none\">Take no {}</li></ul>",
            esc(&plan.profile.display_name)
        );
    } else {
        let _ = write!(
            h,
            "<div class=\"daily\">{} {unit} <span>= {}</span></div>",
            esc(&day.daily_dose.to_string()),
            esc(&bx.doses),
        );
        let _ = write!(
            h,
            "<ul class=\"take{}\">",
            if compact { " compact" } else { "" }
        );
        // Only the doses given today, each named by its slot.
        let named = plan.request.doses_per_day > 1
            && step
                .administrations
                .iter()
                .all(|a| text::informative_slot(&a.slot));
        let label = |i: usize, slot: &str| {
            if text::informative_slot(slot) {
                slot.to_string()
            } else {
                format!("dose {}", i + 1)
            }
        };
        let admins = &step.administrations;
        let all_same = admins
            .windows(2)
            .all(|w| w[0].amount == w[1].amount && w[0].portions == w[1].portions);
        if named && all_same && admins.len() > 1 && !compact {
            // One line of tick boxes, one per slot, then what each is.
            h.push_str("<li class=\"same\"><span class=\"slots\">");
            for (i, a) in admins.iter().enumerate() {
                let _ = write!(
                    h,
                    "<span class=\"slot\"><span class=\"tick\" title=\"{}\"></span>{}</span> ",
                    esc(&label(i, &a.slot)),
                    esc(&a.slot)
                );
            }
            let _ = write!(
                h,
                "</span><span>{} each time</span></li>",
                esc(bx.take.first().map_or("", String::as_str))
            );
        } else {
            for (i, (a, take)) in admins.iter().zip(&bx.take).enumerate() {
                let slot = if named {
                    format!("<b class=\"slot\">{}</b> ", esc(&a.slot))
                } else {
                    String::new()
                };
                if compact {
                    let _ = write!(
                        h,
                        "<li><span class=\"tick\" title=\"{}\"></span>{slot}{} {unit}</li>",
                        esc(&label(i, &a.slot)),
                        esc(&a.amount.to_string())
                    );
                } else {
                    let _ = write!(
                        h,
                        "<li><span class=\"tick\" title=\"{}\"></span><span>{slot}{}</span></li>",
                        esc(&label(i, &a.slot)),
                        esc(take)
                    );
                }
            }
        }
        h.push_str("</ul>");
        if let Some(i) = &bx.instructions {
            let _ = write!(h, "<div class=\"instr\">{}</div>", esc(i));
        }
    }
    let _ = write!(
        h,
        "<div class=\"dayno\">Day {} of {} · step {}</div></td>",
        day.day,
        plan.days.len(),
        day.step
    );
}

/// Chart geometry, in SVG user units.
const W: f64 = 720.0;
const H: f64 = 250.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 708.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 200.0;

/// A tick step of 1, 2 or 5 × 10ⁿ micro-units giving at most 6 intervals.
fn nice_step(max: u64) -> u64 {
    let raw = max.div_ceil(6).max(1);
    let mut p: u64 = 1;
    loop {
        for m in [1, 2, 5] {
            if let Some(s) = p.checked_mul(m) {
                if s >= raw {
                    return s;
                }
            }
        }
        match p.checked_mul(10) {
            Some(n) => p = n,
            None => return raw,
        }
    }
}

/// The dose-over-time chart: a step line of each day's dose from the
/// starting dose, step boundaries dashed, axes labelled with units.
fn chart(h: &mut String, plan: &Plan) {
    let unit = esc(&plan.profile.unit);
    let (Some(first), Some(last)) = (plan.days.first(), plan.days.last()) else {
        return;
    };
    let n_days = plan.days.len() as f64;
    let top_dose = plan
        .steps
        .iter()
        .map(|s| s.daily_dose.micro())
        .chain([plan.request.start_dose.micro()])
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(top_dose);
    let y_max = top_dose.div_ceil(step) * step;
    let x = |day_index: f64| LEFT + (RIGHT - LEFT) * day_index / n_days;
    let y = |micro: u64| BOTTOM - (BOTTOM - TOP) * micro as f64 / y_max as f64;
    let index = |d: NaiveDate| (d - first.date).num_days() as f64;

    let _ = writeln!(
        h,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"chart-title\"><title id=\"chart-title\">Daily dose of {} from {} to {}</title>",
        esc(&plan.profile.display_name),
        first.date,
        last.date
    );
    // Horizontal grid and y labels.
    let mut v = 0;
    while v <= y_max {
        let yy = y(v);
        let _ = writeln!(
            h,
            "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{RIGHT}\" y2=\"{yy:.1}\" stroke=\"#ddd\" stroke-width=\"1\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            LEFT - 5.0,
            yy + 4.0,
            Dose::from_micro(v)
        );
        v += step;
    }
    // Step boundaries, numbered when there is room.
    let min_gap = 14.0;
    let mut last_label = f64::NEG_INFINITY;
    for s in &plan.steps {
        let xx = x(index(s.start));
        if s.step > 1 {
            let _ = writeln!(
                h,
                "<line x1=\"{xx:.1}\" y1=\"{TOP}\" x2=\"{xx:.1}\" y2=\"{BOTTOM}\" stroke=\"#777\" stroke-width=\"0.8\" stroke-dasharray=\"3 3\"/>"
            );
        }
        let mid = (xx + x(index(s.end) + 1.0)) / 2.0;
        if mid - last_label >= min_gap {
            let _ = writeln!(
                h,
                "<text x=\"{mid:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                TOP - 6.0,
                s.step
            );
            last_label = mid;
        }
    }
    let _ = writeln!(
        h,
        "<text x=\"{LEFT}\" y=\"{:.1}\" font-size=\"9\" fill=\"#555\">step</text>",
        TOP - 15.0
    );
    // The dose line: the starting dose at day 1's left edge, then each step.
    let mut points = format!("{:.1},{:.1}", x(0.0), y(plan.request.start_dose.micro()));
    for s in &plan.steps {
        let yy = y(s.daily_dose.micro());
        let _ = write!(
            points,
            " {:.1},{yy:.1} {:.1},{yy:.1}",
            x(index(s.start)),
            x(index(s.end) + 1.0)
        );
    }
    let _ = writeln!(
        h,
        "<polyline points=\"{points}\" fill=\"none\" stroke=\"#0b4f8a\" stroke-width=\"2.2\" stroke-linejoin=\"round\"/>"
    );
    // Axes.
    let _ = writeln!(
        h,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{BOTTOM}\" stroke=\"#111\"/><line x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{RIGHT}\" y2=\"{BOTTOM}\" stroke=\"#111\"/>"
    );
    // Date ticks: weekly on short plans, else month starts (thinned).
    let span = plan.days.len();
    let mut ticks: Vec<NaiveDate> = Vec::new();
    if span <= 45 {
        ticks.extend(plan.days.iter().step_by(7).map(|d| d.date));
    } else {
        let mut m = first.date.with_day(1).unwrap_or(first.date);
        while m <= last.date {
            if m >= first.date {
                ticks.push(m);
            }
            match m.checked_add_months(Months::new(1)) {
                Some(n) => m = n,
                None => break,
            }
        }
        let every = ticks.len().div_ceil(8).max(1);
        ticks = ticks.into_iter().step_by(every).collect();
    }
    for (i, t) in ticks.iter().enumerate() {
        let xx = x(index(*t));
        let label = if i == 0 || t.month() == 1 {
            t.format("%-d %b %Y").to_string()
        } else {
            t.format("%-d %b").to_string()
        };
        let _ = writeln!(
            h,
            "<line x1=\"{xx:.1}\" y1=\"{BOTTOM}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#111\"/><text x=\"{xx:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{label}</text>",
            BOTTOM + 4.0,
            BOTTOM + 17.0
        );
    }
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">Date</text>",
        (LEFT + RIGHT) / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        h,
        "<text transform=\"translate(16 {:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">Daily dose ({unit})</text>",
        (TOP + BOTTOM) / 2.0
    );
    h.push_str("</svg>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dose::SCALE;

    #[test]
    fn escapes_every_html_special() {
        assert_eq!(
            esc(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn nice_steps_are_1_2_5_times_a_power_of_ten() {
        let mg = SCALE;
        assert_eq!(nice_step(60 * mg), 10 * mg);
        assert_eq!(nice_step(100 * mg), 20 * mg);
        assert_eq!(nice_step(mg / 2), 100_000);
        assert_eq!(nice_step(1), 1);
    }
}
