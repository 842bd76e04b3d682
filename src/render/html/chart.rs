//! The dose-over-time chart on the overview page: inline SVG, so the page
//! loads nothing and prints sharp at any size.

use chrono::{Datelike, Months, NaiveDate};
use maud::{html, Markup};

use crate::dose::Dose;
use crate::schedule::Plan;

/// Chart geometry, in SVG user units (28 units lower than before the
/// symptom diary's explanation joined the overview, which must stay one
/// page).
const W: f64 = 720.0;
const H: f64 = 222.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 708.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 172.0;

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

/// One decimal, as SVG coordinates are written.
fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// The dose-over-time chart: a step line of each day's dose from the
/// starting dose, step boundaries dashed, axes labelled with units.
pub(super) fn chart(plan: &Plan) -> Markup {
    let unit = &plan.profile.unit;
    let (Some(first), Some(last)) = (plan.days.first(), plan.days.last()) else {
        return html! {};
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

    let grid: Vec<u64> = (0..=y_max / step).map(|i| i * step).collect();
    // Step boundaries, numbered when there is room.
    let mut labels: Vec<(f64, u32)> = Vec::new();
    let mut last_label = f64::NEG_INFINITY;
    for s in &plan.steps {
        let mid = (x(index(s.start)) + x(index(s.end) + 1.0)) / 2.0;
        if mid - last_label >= 14.0 {
            labels.push((mid, s.step));
            last_label = mid;
        }
    }
    // The dose line: the starting dose at day 1's left edge, then each step.
    let mut points = format!("{:.1},{:.1}", x(0.0), y(plan.request.start_dose.micro()));
    for s in &plan.steps {
        let yy = y(s.daily_dose.micro());
        points.push_str(&format!(
            " {:.1},{yy:.1} {:.1},{yy:.1}",
            x(index(s.start)),
            x(index(s.end) + 1.0)
        ));
    }
    let ticks = date_ticks(plan, first.date, last.date);
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-labelledby="chart-title" {
            title id="chart-title" {
                "Daily dose of " (plan.profile.display_name) " from " (first.date) " to " (last.date)
            }
            @for v in &grid {
                line x1=(LEFT) y1=(f1(y(*v))) x2=(RIGHT) y2=(f1(y(*v))) stroke="#ddd" stroke-width="1" {}
                text x=(f1(LEFT - 5.0)) y=(f1(y(*v) + 4.0)) font-size="11" text-anchor="end" {
                    (Dose::from_micro(*v))
                }
            }
            @for s in plan.steps.iter().filter(|s| s.step > 1) {
                @let xx = f1(x(index(s.start)));
                line x1=(xx) y1=(TOP) x2=(xx) y2=(BOTTOM) stroke="#777" stroke-width="0.8" stroke-dasharray="3 3" {}
            }
            @for (mid, n) in &labels {
                text x=(f1(*mid)) y=(f1(TOP - 6.0)) font-size="9" text-anchor="middle" fill="#555" { (n) }
            }
            text x=(LEFT) y=(f1(TOP - 15.0)) font-size="9" fill="#555" { "step" }
            polyline points=(points) fill="none" stroke="#0b4f8a" stroke-width="2.2" stroke-linejoin="round" {}
            line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(BOTTOM) stroke="#111" {}
            line x1=(LEFT) y1=(BOTTOM) x2=(RIGHT) y2=(BOTTOM) stroke="#111" {}
            @for (xx, label) in ticks.iter().map(|(d, l)| (f1(x(index(*d))), l)) {
                line x1=(xx) y1=(BOTTOM) x2=(xx) y2=(f1(BOTTOM + 4.0)) stroke="#111" {}
                text x=(xx) y=(f1(BOTTOM + 17.0)) font-size="11" text-anchor="middle" { (label) }
            }
            text x=(f1((LEFT + RIGHT) / 2.0)) y=(f1(H - 12.0)) font-size="12" text-anchor="middle" { "Date" }
            text transform={ "translate(16 " (f1((TOP + BOTTOM) / 2.0)) ") rotate(-90)" } font-size="12" text-anchor="middle" {
                "Daily dose (" (unit) ")"
            }
        }
    }
}

/// Date ticks with their labels: weekly on short plans, else month starts
/// (thinned to at most 8).
fn date_ticks(plan: &Plan, first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, String)> {
    let mut ticks: Vec<NaiveDate> = Vec::new();
    if plan.days.len() <= 45 {
        ticks.extend(plan.days.iter().step_by(7).map(|d| d.date));
    } else {
        let mut m = first.with_day(1).unwrap_or(first);
        while m <= last {
            if m >= first {
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
    ticks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let label = if i == 0 || t.month() == 1 {
                t.format("%-d %b %Y").to_string()
            } else {
                t.format("%-d %b").to_string()
            };
            (*t, label)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dose::SCALE;

    #[test]
    fn nice_steps_are_1_2_5_times_a_power_of_ten() {
        let mg = SCALE;
        assert_eq!(nice_step(60 * mg), 10 * mg);
        assert_eq!(nice_step(100 * mg), 20 * mg);
        assert_eq!(nice_step(mg / 2), 100_000);
        assert_eq!(nice_step(1), 1);
    }
}
