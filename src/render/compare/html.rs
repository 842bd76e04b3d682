//! The compare page: one self-contained HTML file (inline CSS and SVG, no
//! scripts or links) with the disclaimer, the side-by-side table and one
//! chart overlaying every variant's daily dose (and receptor occupancy
//! when the profile has a model). Text is escaped by `maud`.

use std::io::Write;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::compare::Comparison;
use crate::dose::{Dose, SCALE};
use crate::error::Result;
use crate::schedule::DISCLAIMER;

/// Chart geometry, in SVG user units (legend rows added below).
const W: f64 = 760.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 700.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 220.0;
const LEGEND_ROW: f64 = 18.0;

/// Okabe–Ito colours (told apart with colour-blindness), with a dash each
/// so the curves stay apart in greyscale print too.
const STYLES: [(&str, &str); 8] = [
    ("#0072B2", ""),
    ("#D55E00", "8 4"),
    ("#009E73", "2 3"),
    ("#CC79A7", "10 3 2 3"),
    ("#E69F00", "5 5"),
    ("#56B4E9", "1 2"),
    ("#000000", "12 4"),
    ("#8C6D00", "6 2 2 2"),
];

const CSS: &str = "body{font:10pt/1.35 Arial,'Liberation Sans','DejaVu Sans',sans-serif;color:#111;max-width:260mm;margin:6mm auto;padding:0 5mm}\
h1{font-size:16pt;margin:0 0 1mm}.draft{font-weight:700;text-transform:uppercase;color:#a40000;margin:0}\
.oversight{border:.5mm solid #a40000;padding:1.5mm 2.5mm;font-weight:600}\
table.compare{border-collapse:collapse;width:100%;margin:3mm 0}table.compare th,table.compare td{border:.25mm solid #999;padding:1mm 1.5mm;vertical-align:top;text-align:left}\
table.compare th{background:#eee}td span.line{display:block}svg.chart{width:100%;height:auto;display:block}\
@media print{table.compare{font-size:8.5pt}tr{break-inside:avoid}}";

/// Writes the whole document.
pub fn write(cmp: &Comparison, out: &mut dyn Write) -> Result<()> {
    let drug = &cmp.profile.display_name;
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (drug) " taper: " (cmp.variants.len()) " variants compared" }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    p.draft { "Draft for prescriber review" }
                    h1 { (drug) ": " (cmp.variants.len()) " taper variants from "
                        (cmp.start_dose) " " (cmp.profile.unit) " a day" }
                    p.oversight { (DISCLAIMER) }
                    (table(cmp))
                    figure { (chart(cmp)) }
                }
            }
        }
    };
    out.write_all(doc.into_string().as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The metrics table: variants as columns, as in the terminal.
fn table(cmp: &Comparison) -> Markup {
    html! {
        table.compare {
            thead { tr { th {} @for i in 1..=cmp.variants.len() { th scope="col" { "Variant " (i) } } } }
            tbody {
                @for (label, cells) in super::rows(cmp) {
                    tr {
                        th scope="row" { (label) }
                        @for c in &cells { td { @for line in c.lines() { span.line { (line) } } } }
                    }
                }
            }
        }
    }
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// A tick step of 1, 2 or 5 × 10ⁿ micro-units giving at most 6 intervals.
fn nice_step(max: u64) -> u64 {
    let raw = max.div_ceil(6).max(1);
    let mut p: u64 = 1;
    while p <= raw {
        for m in [1, 2, 5] {
            if p.saturating_mul(m) >= raw {
                return p.saturating_mul(m);
            }
        }
        p = p.saturating_mul(10);
    }
    p
}

/// Every variant's daily dose as a step path from the starting dose, and
/// its occupancy (right axis, 0–100 %) as a thinner path of the same
/// style when the profile has a model; a legend row per variant below.
fn chart(cmp: &Comparison) -> Markup {
    let unit = &cmp.profile.unit;
    let days = cmp
        .variants
        .iter()
        .filter_map(|v| v.curve.last().map(|p| p.to_day))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let top = cmp
        .variants
        .iter()
        .flat_map(|v| v.curve.iter().map(|p| p.dose.micro()))
        .chain([cmp.start_dose.micro()])
        .max()
        .unwrap_or(1)
        .max(1);
    let step = nice_step(top);
    let y_max = top.div_ceil(step) * step;
    let x = |day: u32| LEFT + (RIGHT - LEFT) * f64::from(day) / days;
    let y = |micro: u64| BOTTOM - (BOTTOM - TOP) * micro as f64 / y_max as f64;
    let y_occ = |micro: u64| BOTTOM - (BOTTOM - TOP) * micro as f64 / (100 * SCALE) as f64;
    let has_occ = cmp.start_occupancy.is_some();
    let path = |start: u64, pts: Vec<(u32, u32, u64)>, yf: &dyn Fn(u64) -> f64| {
        let mut d = format!("M{},{}", f1(x(0)), f1(yf(start)));
        for (a, b, v) in pts {
            d.push_str(&format!(" V{} H{} H{}", f1(yf(v)), f1(x(a)), f1(x(b))));
        }
        d
    };
    let grid: Vec<u64> = (0..=y_max / step).map(|i| i * step).collect();
    let legend_top = BOTTOM + 42.0;
    let h = legend_top + LEGEND_ROW * cmp.variants.len() as f64 + 6.0;
    let x_ticks: Vec<u32> = {
        let every = (days as u32).div_ceil(8).max(7).div_ceil(7) * 7;
        (0..=days as u32).step_by(every as usize).collect()
    };
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (f1(h)) } role="img" aria-labelledby="compare-title" {
            title id="compare-title" { "Daily dose of " (cmp.profile.display_name) " under each variant" }
            @for v in &grid {
                line x1=(LEFT) y1=(f1(y(*v))) x2=(RIGHT) y2=(f1(y(*v))) stroke="#ddd" {}
                text x=(f1(LEFT - 5.0)) y=(f1(y(*v) + 4.0)) font-size="11" text-anchor="end" { (Dose::from_micro(*v)) }
            }
            @if has_occ {
                @for pct in [0u64, 25, 50, 75, 100] {
                    text x=(f1(RIGHT + 5.0)) y=(f1(y_occ(pct * SCALE) + 4.0)) font-size="11" { (pct) "%" }
                }
                text transform={ "translate(" (f1(W - 14.0)) " " (f1((TOP + BOTTOM) / 2.0)) ") rotate(90)" } font-size="12" text-anchor="middle" { "Receptor occupancy (thin lines)" }
            }
            @for (i, v) in cmp.variants.iter().enumerate() {
                @let (colour, dash) = STYLES[i % STYLES.len()];
                @let pts = v.curve.iter().map(|p| (p.from_day, p.to_day, p.dose.micro())).collect();
                path.dose data-variant=(i + 1) d=(path(cmp.start_dose.micro(), pts, &y)) fill="none" stroke=(colour) stroke-width="2.2" stroke-dasharray=(dash) {}
                @if let Some(start) = cmp.start_occupancy {
                    @let pts = v.curve.iter().map(|p| (p.from_day, p.to_day, p.occupancy.unwrap_or_default().micro())).collect();
                    path.occupancy data-variant=(i + 1) d=(path(start.micro(), pts, &y_occ)) fill="none" stroke=(colour) stroke-width="1" stroke-dasharray=(dash) opacity="0.8" {}
                }
            }
            line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(BOTTOM) stroke="#111" {}
            line x1=(LEFT) y1=(BOTTOM) x2=(RIGHT) y2=(BOTTOM) stroke="#111" {}
            @for t in &x_ticks {
                line x1=(f1(x(*t))) y1=(BOTTOM) x2=(f1(x(*t))) y2=(f1(BOTTOM + 4.0)) stroke="#111" {}
                text x=(f1(x(*t))) y=(f1(BOTTOM + 16.0)) font-size="11" text-anchor="middle" { (t) }
            }
            text x=(f1((LEFT + RIGHT) / 2.0)) y=(f1(BOTTOM + 32.0)) font-size="12" text-anchor="middle" { "Days from the start" }
            text transform={ "translate(16 " (f1((TOP + BOTTOM) / 2.0)) ") rotate(-90)" } font-size="12" text-anchor="middle" { "Daily dose (" (unit) ")" }
            g.legend {
                @for (i, v) in cmp.variants.iter().enumerate() {
                    @let (colour, dash) = STYLES[i % STYLES.len()];
                    @let yy = legend_top + LEGEND_ROW * i as f64;
                    line x1=(LEFT) y1=(f1(yy)) x2=(f1(LEFT + 40.0)) y2=(f1(yy)) stroke=(colour) stroke-width="2.2" stroke-dasharray=(dash) {}
                    text x=(f1(LEFT + 48.0)) y=(f1(yy + 4.0)) font-size="11" { "Variant " (i + 1) ": " (v.options) }
                }
            }
        }
    }
}
