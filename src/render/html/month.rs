//! Large-print month pages for the fridge: one landscape page per calendar
//! month, the day's dose in 14 pt, what to take in 11 pt, markers in 9 pt.
//!
//! Landscape, because the seven columns are what is short of room: a
//! landscape cell is about 36 mm wide (Letter), enough for
//! `1½ × 10 mg tablet` on one line at 11 pt, where a portrait cell (26 mm)
//! would wrap every product name. Rows stretch to fill the page height.
//!
//! Every plan day has a symptom score to circle (0 none – 3 severe, 9 pt)
//! on its day-number line: the paper diary the legend and the overview
//! page explain.
//!
//! Handling instructions ("Split only on the score line", "Measure with an
//! oral syringe", up to 160 characters) go in a band under each week row
//! that has a day using the product: at 11 pt a day cell holds about six
//! short lines, which the dose and the tick boxes need, and the longest
//! built-in instruction alone would take ten.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use maud::{html, Markup};

use crate::cli::WeekStart;
use crate::formulation::Administration;
use crate::render::{text, Extras};
use crate::schedule::{Day, Event, Plan, Step};

/// Above this many administrations a day, day boxes show a tick box and
/// amount per administration, and the month's legend says what makes each
/// dose (the products do not fit a day box).
const COMPACT_ABOVE: usize = 4;

/// Per-step texts for the day boxes, built once.
struct StepBox {
    /// What makes each administration given.
    take: Vec<String>,
}

/// What every month page shares.
struct Ctx<'a> {
    plan: &'a Plan,
    extras: &'a Extras,
    boxes: Vec<StepBox>,
    compact: bool,
}

/// One page per calendar month of the plan.
pub(super) fn months(plan: &Plan, extras: &Extras) -> Markup {
    let (Some(first), Some(last)) = (plan.days.first(), plan.days.last()) else {
        return html! {};
    };
    let ctx = Ctx {
        plan,
        extras,
        boxes: plan
            .steps
            .iter()
            .map(|s| StepBox {
                // A day of two drugs names each dose's drug; other days
                // are of one drug, named in the page title and the day's
                // dose.
                take: s
                    .administrations
                    .iter()
                    .map(|a| match (&a.drug, s.drugs.len()) {
                        // A day of two drugs: each dose's drug, once.
                        (Some(d), 2..) => unbroken_amounts(&format!(
                            "{d}: {}",
                            text::administration_compact(plan, &a.portions)
                        )),
                        // A switch plan's fuller days: tablets named once.
                        _ if plan.switch.is_some() => {
                            unbroken_amounts(&text::administration_compact(plan, &a.portions))
                        }
                        _ => text::administration(plan, &a.portions),
                    })
                    .collect(),
            })
            .collect(),
        compact: plan.request.doses_per_day as usize > COMPACT_ABOVE,
    };
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
    html! {
        @for (i, m) in all.iter().enumerate() { (month_page(&ctx, *m, i + 1, all.len())) }
    }
}

/// The plan's day on `date`, if any (days are consecutive from the start).
fn day_on(plan: &Plan, date: NaiveDate) -> Option<&Day> {
    let start = plan.days.first()?.date;
    let i = usize::try_from((date - start).num_days()).ok()?;
    plan.days.get(i).filter(|d| d.date == date)
}

/// The first column's weekday and the seven column heads.
fn week_days(start: WeekStart) -> [Weekday; 7] {
    let first = match start {
        WeekStart::Monday => Weekday::Mon,
        WeekStart::Sunday => Weekday::Sun,
    };
    let mut days = [first; 7];
    for i in 1..7 {
        days[i] = days[i - 1].succ();
    }
    days
}

/// The month's grid as weeks of seven cells (`None`: not in this month).
fn weeks(first: NaiveDate, start: WeekStart) -> Vec<[Option<NaiveDate>; 7]> {
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let days_in_month = (next - first).num_days().max(28) as u32;
    let lead = match start {
        WeekStart::Monday => first.weekday().num_days_from_monday(),
        WeekStart::Sunday => first.weekday().num_days_from_sunday(),
    };
    let n = (lead + days_in_month).div_ceil(7);
    (0..n)
        .map(|w| {
            std::array::from_fn(|c| {
                (w * 7 + c as u32)
                    .checked_sub(lead)
                    .filter(|d| *d < days_in_month)
                    .and_then(|d| first.checked_add_days(Days::new(u64::from(d))))
            })
        })
        .collect()
}

fn month_page(ctx: &Ctx, first: NaiveDate, n: usize, of: usize) -> Markup {
    let plan = ctx.plan;
    let grid = weeks(first, ctx.extras.week_start);
    let mut steps_here: Vec<u32> = Vec::new();
    for d in grid.iter().flatten().flatten() {
        if let Some(day) = day_on(plan, *d) {
            if !steps_here.contains(&day.step) {
                steps_here.push(day.step);
            }
        }
    }
    // A month whose fullest day needs many lines (two drugs on a switch
    // day, several doses of several products) gets the tight lines of a
    // six-week month, so it stays on its page.
    let two_drugs = steps_here
        .iter()
        .filter_map(|n| plan.steps.get(*n as usize - 1))
        .any(|s| s.drugs.len() > 1);
    let dense = two_drugs || (plan.switch.is_some() && month_lines(ctx, &grid) > DENSE_LINES);
    // The legend goes in the widest run of empty cells when one is wide
    // enough: it uses the height the row has anyway.
    let legend_row = grid
        .iter()
        .enumerate()
        .map(|(i, w)| (i, pads(w)))
        // A dense month's cells set lines close beside the legend's, which
        // then no longer reads as one text: it goes under the grid.
        .filter(|(_, (l, t))| !dense && (*l).max(*t) >= PADS_FOR_LEGEND)
        .max_by_key(|(i, (l, t))| ((*l).max(*t), std::cmp::Reverse(*i)))
        .map(|(i, _)| i);
    html! {
        section.sheet.month id={ "month-" (first.format("%Y-%m")) } {
            div.month-head {
                h2 { (first.format("%B %Y")) }
                p {
                    (text::drug_label(plan)) " taper · month " (n) " of " (of)
                    @if let Some(p) = &ctx.extras.patient { " · For: " (p) }
                }
            }
            table class={ "grid weeks-" (grid.len()) @if dense { " dense" } @if two_drugs { " two-drugs" } } {
                thead { tr {
                    @for wd in week_days(ctx.extras.week_start) { th { (wd) } }
                } }
                tbody {
                    @for (i, week) in grid.iter().enumerate() {
                        (week_rows(ctx, week, (legend_row == Some(i)).then(|| (legend(ctx, &steps_here), PADS_FOR_LEGEND)), dense))
                    }
                }
            }
            @if legend_row.is_none() { (legend(ctx, &steps_here)) }
        }
    }
}

fn cell_of(ctx: &Ctx, date: Option<NaiveDate>) -> Markup {
    match date {
        None => html! { td.pad {} },
        Some(date) => match day_on(ctx.plan, date) {
            None => html! { td.day.out data-date=(date) { span.dnum { (date.day()) } } },
            Some(day) => day_box(ctx, day),
        },
    }
}

/// `1½ × 10 mg` kept on one line (no-break spaces), so a narrow day box
/// never splits an amount from its unit or its count.
fn unbroken_amounts(text: &str) -> String {
    text.replace(" × ", "\u{a0}×\u{a0}")
        .replace(" mg", "\u{a0}mg")
        .replace(" mL", "\u{a0}mL")
}

/// Estimated lines of a month's grid (its fullest cell in each week, and
/// the weeks' bands of handling instructions) above which it is set tight.
const DENSE_LINES: usize = 30;

/// [`DENSE_LINES`]' estimate for one month.
fn month_lines(ctx: &Ctx, grid: &[[Option<NaiveDate>; 7]]) -> usize {
    let cell = |d: &NaiveDate| {
        let day = day_on(ctx.plan, *d)?;
        let i = day.step as usize - 1;
        Some(cell_lines(ctx.plan.steps.get(i)?, ctx.boxes.get(i)?))
    };
    let lines: usize = grid
        .iter()
        .map(|week| {
            let fullest = week.iter().flatten().filter_map(cell).max().unwrap_or(1);
            let band = usize::from(!how_lines(ctx.plan, week).is_empty());
            fullest + band
        })
        .sum();
    lines
}

/// Characters of what to take that fit one line of a day's cell (11 pt
/// narrow type in a seventh of a landscape Letter page), for
/// [`cell_lines`]; tick boxes with their labels take about as much room
/// as their label and two more characters.
const CHARS_PER_LINE: usize = 20;

/// A rough count of the lines a day of `step` fills: the date and dose
/// (a line more per further drug), the day number, and per group of
/// equal doses its tick boxes and what to take.
fn cell_lines(step: &Step, bx: &StepBox) -> usize {
    // (what to take, characters of its tick labels, doses in the group)
    let mut groups: Vec<(&str, usize, usize)> = Vec::new();
    for (a, take) in step.administrations.iter().zip(&bx.take) {
        let ticks = a.slot.chars().count() + 2;
        match groups.iter_mut().find(|(t, _, _)| *t == take.as_str()) {
            Some((_, chars, n)) => {
                *chars += ticks;
                *n += 1;
            }
            None => groups.push((take, ticks, 1)),
        }
    }
    let take: usize = groups
        .iter()
        .map(|(t, ticks, n)| {
            // A group of more than one dose says " each".
            let each = if *n > 1 { 5 } else { 0 };
            ticks.div_ceil(CHARS_PER_LINE) + (t.chars().count() + each).div_ceil(CHARS_PER_LINE)
        })
        .sum();
    step.drugs.len().max(1) + 1 + take
}

/// Pad cells at the start or end of a week that can hold its handling
/// instructions instead of a band row (first and last weeks of a month).
const PADS_FOR_BAND: usize = 3;

/// Pad cells wide enough (about 150 mm) to hold the month's legend.
const PADS_FOR_LEGEND: usize = 4;

/// Pad cells that can hold a week's handling instructions: three, or in a
/// row whose fullest day is taller than the instructions in fewer cells,
/// as few as that.
fn band_pads(ctx: &Ctx, week: &[Option<NaiveDate>; 7], how: &[(&str, String)]) -> usize {
    let chars: usize = how
        .iter()
        .map(|(name, t)| name.chars().count() + t.chars().count() + 2)
        .sum();
    let fullest = week
        .iter()
        .flatten()
        .filter_map(|d| {
            let day = day_on(ctx.plan, *d)?;
            let i = day.step as usize - 1;
            Some(cell_lines(ctx.plan.steps.get(i)?, ctx.boxes.get(i)?))
        })
        .max()
        .unwrap_or(0);
    (1..PADS_FOR_BAND)
        .find(|&n| chars.div_ceil(CHARS_PER_LINE * n) < fullest)
        .unwrap_or(PADS_FOR_BAND)
}

/// The empty cells at the start and at the end of a week.
fn pads(week: &[Option<NaiveDate>; 7]) -> (usize, usize) {
    let lead = week.iter().take_while(|c| c.is_none()).count();
    let trail = week.iter().rev().take_while(|c| c.is_none()).count();
    (lead, trail)
}

/// One week row, and its handling instructions: in a band row under it,
/// or, where the week starts or ends with enough empty cells, in those
/// (with the month's legend when `legend` is given), which keeps six-week
/// months on one page.
/// `legend`: the month's legend and the pad cells it needs.
/// `dense`: the month is set tight, and the instructions may take fewer
/// empty cells of a tall row.
fn week_rows(
    ctx: &Ctx,
    week: &[Option<NaiveDate>; 7],
    legend: Option<(Markup, usize)>,
    dense: bool,
) -> Markup {
    let how = how_lines(ctx.plan, week);
    let (lead, trail) = pads(week);
    let (legend, need) = match legend {
        Some((l, pads)) => (Some(l), pads),
        None if dense => (None, band_pads(ctx, week, &how)),
        None => (None, PADS_FOR_BAND),
    };
    let (skip_front, skip_back) = match () {
        _ if how.is_empty() && legend.is_none() => (0, 0),
        _ if lead >= need => (lead, 0),
        _ if trail >= need => (0, trail),
        _ => (0, 0),
    };
    let inner = &week[skip_front..7 - skip_back];
    let pad = html! { (how_items(&how)) @if let Some(l) = &legend { (l) } };
    html! {
        tr.week {
            @if skip_front > 0 { td.pad.how colspan=(skip_front) { (pad) } }
            @for cell in inner { (cell_of(ctx, *cell)) }
            @if skip_back > 0 { td.pad.how colspan=(skip_back) { (pad) } }
        }
        @if !how.is_empty() && skip_front == 0 && skip_back == 0 {
            tr.how { td.how colspan="7" { (how_items(&how)) } }
        }
    }
}

fn how_items(lines: &[(&str, String)]) -> Markup {
    html! {
        @for (name, t) in lines { span.how-item { b { (name) ":" } " " (t) } " " }
    }
}

/// The products' handling instructions for the plan days of one week, each
/// product once, in the order first used.
fn how_lines<'a>(plan: &'a Plan, week: &[Option<NaiveDate>; 7]) -> Vec<(&'a str, String)> {
    let mut used: Vec<usize> = Vec::new();
    for day in week.iter().flatten().filter_map(|d| day_on(plan, *d)) {
        let Some(step) = plan.steps.get(day.step as usize - 1) else {
            continue;
        };
        if step.daily_dose.is_zero() {
            continue;
        }
        for p in step.administrations.iter().flat_map(|a| &a.portions) {
            if !used.contains(&p.product) {
                used.push(p.product);
            }
        }
    }
    used.iter()
        .filter_map(|&i| plan.products.get(i))
        .filter_map(|p| {
            let t = p.instructions.as_deref()?.trim();
            (!t.is_empty()).then(|| (p.name.as_str(), text::sentence(t)))
        })
        .collect()
}

fn legend(ctx: &Ctx, steps_here: &[u32]) -> Markup {
    let plan = ctx.plan;
    html! {
        div.legend {
            @if ctx.compact {
                @for s in steps_here.iter().filter_map(|n| plan.steps.get(*n as usize - 1)) {
                    p.steps { "Step " (s.step) " (from " (s.start) "): " (text::sentence(&text::products(plan, s))) }
                }
            }
            p {
                "Tick each box when the dose is taken. "
                span.diary.sample { @for n in 0..=3u8 { span.score { (n) } } }
                " symptoms that day: 0 none to 3 severe. "
                span.badge.new { "New dose" } " a step starts: the dose changes today. "
                span.badge.check { "Check-in" } " check for withdrawal symptoms. "
                span.badge.final { "Last day" } " the last day of the plan. "
                strong { (plan.reminders.if_symptoms) }
                " Get urgent medical help for: " (plan.reminders.red_flags.join("; ")) ". "
                (plan.disclaimer)
            }
        }
    }
}

/// The label next to a tick box: the dose's time from `--times`, else its
/// slot name, else `dose N`.
fn tick_label(extras: &Extras, i: usize, a: &Administration) -> String {
    if let Some(t) = extras.times.get(a.slot_index as usize) {
        return t.format("%H:%M").to_string();
    }
    slot_name(i, a)
}

/// The slot's name when it tells the time of day, else `dose N`.
fn slot_name(i: usize, a: &Administration) -> String {
    if text::informative_slot(&a.slot) {
        a.slot.clone()
    } else {
        format!("dose {}", i + 1)
    }
}

/// A tick box with its label; `title` names the slot for screen readers.
fn tick(ctx: &Ctx, i: usize, a: &Administration) -> Markup {
    html! {
        span.tick-label {
            span.tick title=(slot_name(i, a)) {}
            b.when { (tick_label(ctx.extras, i, a)) }
        }
    }
}

fn day_box(ctx: &Ctx, day: &Day) -> Markup {
    let plan = ctx.plan;
    let idx = day.step as usize - 1;
    let (Some(step), Some(bx)) = (plan.steps.get(idx), ctx.boxes.get(idx)) else {
        return html! { td.day.out data-date=(day.date) {} };
    };
    let has = |f: fn(&Event) -> bool| day.events.iter().any(f);
    let is_start = has(|e| matches!(e, Event::StepStart { .. }));
    let is_check = has(|e| matches!(e, Event::CheckIn { .. }));
    let is_final = day.events.contains(&Event::Final);
    let warned = has(|e| matches!(e, Event::Warning { .. }));
    let unit = &plan.profile.unit;
    html! {
        td.day.in-plan.step-start[is_start].check-in[is_check].final[is_final].two-drugs[step.drugs.len() > 1] data-date=(day.date) {
            div.dhead {
                time.dnum datetime=(day.date) { (day.date.day()) span.wd { " " (day.date.format("%a")) } }
                @if is_start && !is_final { span.badge.new { "New dose" } }
                @if is_check { span.badge.check { "Check-in" } }
                @if is_final { span.badge.final { "Last day" } }
                @if warned { span.badge.warn { "Warning" } }
                @if day.rest_day {
                    span.daily { "0 " (unit) ": rest day" }
                } @else if day.daily_dose.is_zero() {
                    span.daily { "0 " (unit) ": stop" }
                } @else if step.drugs.len() > 1 {
                    // A switch day: each drug's own dose, never the sum.
                    @for d in &step.drugs {
                        span.daily.drug { span.drug-name { (d.drug) } " " (d.daily_dose) " " (unit) }
                    }
                } @else {
                    span.daily { (day.daily_dose) " " (unit) }
                }
            }
            // The step number went to the title to make room for the diary
            // on this line (a three-digit day would wrap it otherwise); the
            // NEW DOSE badges and the step table still mark the steps.
            div.dayno title={ "step " (day.step) } {
                span.dayno-text { "Day " (day.day) " of " (plan.days.len()) }
                (diary())
            }
            @if day.rest_day {
                ul.take { li.none { (text::rest_note(step)) } }
            } @else if day.daily_dose.is_zero() {
                ul.take { li.none { "Take no " (plan.profile.display_name) } }
            } @else {
                (take_list(ctx, step, bx))
            }
        }
    }
}

/// The paper symptom diary of one plan day: a score from 0 (none) to 3
/// (severe) to circle, so the patient brings a day-by-day record that a
/// hold or a slower taper can be based on (the legend and the overview
/// explain it). It shares the day-number line: a line of its own made the
/// fullest months spill onto a second page.
fn diary() -> Markup {
    html! {
        span.diary title="Symptoms today: circle 0 (none) to 3 (severe)" {
            span.diary-label { "Symptoms" }
            @for n in 0..=3u8 { span.score { (n) } }
        }
    }
}

/// The day's doses, each with its labelled tick box, doses that are the
/// same (amount and products) on one line: `[] morning [] midday 2 × 10 mg
/// tablet`. Above [`COMPACT_ABOVE`] doses a day, only the amounts.
fn take_list(ctx: &Ctx, step: &Step, bx: &StepBox) -> Markup {
    let admins = &step.administrations;
    let unit = &ctx.plan.profile.unit;
    if ctx.compact {
        return html! {
            ul.take.compact {
                @for (i, a) in admins.iter().enumerate() {
                    li {
                        (tick(ctx, i, a))
                        span.amount { @if let Some(d) = &a.drug { (d) " " } (a.amount) " " (unit) }
                    }
                }
            }
        };
    }
    // Groups of identical doses, in the order they first come in the day.
    let mut groups: Vec<(Vec<usize>, &str)> = Vec::new();
    for (i, (a, take)) in admins.iter().zip(&bx.take).enumerate() {
        match groups
            .iter_mut()
            .find(|(g, _)| admins[g[0]].amount == a.amount && admins[g[0]].portions == a.portions)
        {
            Some((g, _)) => g.push(i),
            None => groups.push((vec![i], take.as_str())),
        }
    }
    html! {
        ul.take {
            @for (g, take) in &groups {
                li {
                    @for i in g { (tick(ctx, *i, &admins[*i])) " " }
                    span.what { (take) @if g.len() > 1 { " each" } }
                }
            }
        }
    }
}
