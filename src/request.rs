//! What the user typed → a validated [`PlanRequest`].
//!
//! [`PlanOptions`] holds the raw text of each option, exactly as given on
//! the command line (or, later, in a batch row), so every source of requests
//! gets the same checks and the same messages. Resolution checks syntax,
//! then everything that needs the profile, and option conflicts, in one
//! place.

use chrono::NaiveDate;

use crate::dose::{parse_interval, Dose, Percent, TypedAmount};
use crate::error::Error;
use crate::formulation::{FormFilter, Kit, Selection};
use crate::profile::{parse_schedule, Profile, StrategyKind};
use crate::schedule::PlanRequest;
use crate::strategy::{CustomEntry, Strategy};

/// Raw plan options; `None` means "use the default".
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    pub dose: String,
    pub start: Option<String>,
    pub strategy: Option<StrategyKind>,
    pub step: Option<String>,
    pub percent: Option<String>,
    pub occupancy_step: Option<String>,
    pub schedule: Option<String>,
    pub interval: Option<String>,
    pub target: Option<String>,
    pub doses_per_day: Option<String>,
    pub strengths: Option<String>,
    pub form: Option<String>,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, Error> {
    let t = text.trim();
    let ok_shape = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) if ok_shape => Ok(d),
        _ => Err(usage(format!(
            "start date '{text}' is not valid (accepted: a calendar date YYYY-MM-DD, e.g. 2026-12-01)"
        ))),
    }
}

/// Converts a typed amount to mg, using the kit's single liquid for mL.
fn amount_to_mg(text: &str, what: &str, kit: &Kit, profile: &Profile) -> Result<Dose, Error> {
    let typed = TypedAmount::parse(text).map_err(|m| usage(format!("{what} {m}")))?;
    match typed.to_mg().map_err(|m| usage(format!("{what} {m}")))? {
        Some(mg) => Ok(mg),
        None => {
            let liquids: Vec<_> = kit
                .products
                .iter()
                .filter(|p| p.concentration.is_some())
                .collect();
            match liquids.as_slice() {
                [one] => {
                    let conc = one.concentration.unwrap_or_default();
                    Dose::from_volume(typed.value, conc).ok_or_else(|| {
                        usage(format!("{what} '{text}' cannot be converted exactly to mg"))
                    })
                }
                [] => Err(usage(format!(
                    "{what} '{text}' is a volume, but no {} liquid is selected (accepted: mg or mcg{})",
                    profile.display_name,
                    if profile.has_liquid() { ", or choose one liquid with --strengths" } else { "" }
                ))),
                many => Err(usage(format!(
                    "{what} '{text}' is ambiguous: {} liquids differ in strength ({}); choose one with --strengths, or give the dose in mg",
                    profile.display_name,
                    many.iter().map(|p| p.key.as_str()).collect::<Vec<_>>().join(", ")
                ))),
            }
        }
    }
}

/// The profile values behind the regimen and the ending that no source
/// gives (the prescriber should confirm them).
fn regimen_tool_defaults(profile: &Profile, kind: StrategyKind) -> Vec<String> {
    let mut out = Vec::new();
    if profile.max_pieces_tool_default {
        out.push("max_pieces".to_string());
    }
    for t in &profile.doses.tool_default {
        out.push(format!("doses.{t}"));
    }
    if kind != StrategyKind::Custom {
        if let Some(e) = &profile.ending {
            for t in &e.tool_default {
                out.push(format!("ending.{t}"));
            }
        }
    }
    out
}

/// Resolves options against a profile. `today` is the default start date
/// (passed in so the library never reads the clock).
pub fn resolve(
    profile: Profile,
    opts: &PlanOptions,
    today: NaiveDate,
) -> Result<PlanRequest, Error> {
    let mut tool_defaults = Vec::new();
    let is_default = |field: &str| profile.default.tool_default.iter().any(|t| t == field);

    // Products first: mL doses need the selected liquid.
    let form = match opts.form.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        None => None,
        Some(f) if f.is_empty() => None,
        Some(f) => Some(match f.as_str() {
            "tablet" | "tablets" => FormFilter::Tablet,
            "capsule" | "capsules" => FormFilter::Capsule,
            "liquid" | "solution" => FormFilter::Liquid,
            _ => {
                return Err(usage(format!(
                    "form '{f}' is not valid (accepted: tablet, capsule, liquid)"
                )))
            }
        }),
    };
    let strengths: Vec<String> = opts
        .strengths
        .as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let kit = Kit::new(&profile, &Selection { strengths, form }).map_err(usage)?;

    let start_dose = amount_to_mg(&opts.dose, "dose", &kit, &profile)?;
    if start_dose.is_zero() {
        return Err(usage(format!(
            "dose '{}' must be greater than 0 (accepted: the current total daily dose, e.g. 60mg)",
            opts.dose
        )));
    }
    let target = match opts.target.as_deref().filter(|t| !t.trim().is_empty()) {
        None => Dose::ZERO,
        Some(t) => amount_to_mg(t, "target", &kit, &profile)?,
    };
    if target >= start_dose {
        return Err(usage(format!(
            "target {target} mg is not below the dose {start_dose} mg (accepted: a target lower than the current dose; 0 stops completely)"
        )));
    }

    let start = match opts.start.as_deref().filter(|t| !t.trim().is_empty()) {
        None => today,
        Some(s) => parse_date(s)?,
    };

    let doses_per_day = match opts
        .doses_per_day
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        None => profile.doses_per_day,
        Some(t) => match t.trim().parse::<u32>() {
            Ok(n) if (1..=12).contains(&n) => n,
            _ => {
                return Err(usage(format!(
                    "doses per day '{t}' is not valid (accepted: a whole number from 1 to 12)"
                )))
            }
        },
    };

    // Strategy: explicit, implied by its one parameter, or the profile's.
    let given = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    let params = [
        (given(&opts.step), StrategyKind::Linear, "--step"),
        (given(&opts.percent), StrategyKind::Percent, "--percent"),
        (
            given(&opts.occupancy_step),
            StrategyKind::Hyperbolic,
            "--occupancy-step",
        ),
        (given(&opts.schedule), StrategyKind::Custom, "--schedule"),
    ];
    let implied: Vec<_> = params.iter().filter(|p| p.0).collect();
    let kind = match (opts.strategy, implied.as_slice()) {
        (Some(k), _) => k,
        (None, []) => profile.default.strategy,
        (None, [one]) => one.1,
        (None, many) => {
            return Err(usage(format!(
                "{} cannot be combined (each belongs to a different strategy)",
                many.iter().map(|p| p.2).collect::<Vec<_>>().join(" and ")
            )))
        }
    };
    for (is_given, owner, flag) in params {
        if is_given && owner != kind {
            return Err(usage(format!(
                "{flag} does not apply to --strategy {} (it belongs to --strategy {})",
                kind.as_str(),
                owner.as_str()
            )));
        }
    }
    let from_profile = opts.strategy.is_none() && implied.is_empty();
    if from_profile && is_default("strategy") {
        tool_defaults.push("default.strategy".into());
    }
    let uses_profile_param = |field: &str, user_given: bool, tool_defaults: &mut Vec<String>| {
        if !user_given && is_default(field) {
            tool_defaults.push(format!("default.{field}"));
        }
    };

    let strategy = match kind {
        StrategyKind::Linear => {
            let step = match opts.step.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(s) => amount_to_mg(s, "step", &kit, &profile)?,
                None => profile.default.step.ok_or_else(|| {
                    usage(format!(
                        "--strategy linear needs --step (the {} profile has no default step)",
                        profile.name
                    ))
                })?,
            };
            if step.is_zero() {
                return Err(usage(format!(
                    "step '{}' must be greater than 0 (accepted: an amount cut each step, e.g. 5mg)",
                    opts.step.as_deref().unwrap_or("0")
                )));
            }
            uses_profile_param("step", given(&opts.step), &mut tool_defaults);
            Strategy::Linear { step }
        }
        StrategyKind::Percent => {
            let percent = match opts.percent.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(p) => Percent::parse_open(p).map_err(usage)?,
                None => profile.default.percent.ok_or_else(|| {
                    usage(format!("--strategy percent needs --percent (the {} profile has no default percent)", profile.name))
                })?,
            };
            uses_profile_param("percent", given(&opts.percent), &mut tool_defaults);
            Strategy::Percent { percent }
        }
        StrategyKind::Hyperbolic => {
            let Some(model) = profile.occupancy.clone() else {
                return Err(usage(format!(
                    "--strategy hyperbolic needs a sourced receptor-occupancy model, and the {} profile has none (accepted strategies for it: linear, percent, custom)",
                    profile.name
                )));
            };
            let occupancy_step = match opts.occupancy_step.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(p) => Percent::parse_open(p).map_err(|m| usage(m.replace("percent", "occupancy step")))?,
                None => profile.default.occupancy_step.ok_or_else(|| {
                    usage("--strategy hyperbolic needs --occupancy-step (percentage points per step, e.g. 5)")
                })?,
            };
            uses_profile_param(
                "occupancy_step",
                given(&opts.occupancy_step),
                &mut tool_defaults,
            );
            Strategy::Hyperbolic {
                occupancy_step,
                model,
            }
        }
        StrategyKind::Custom => {
            if given(&opts.interval) {
                return Err(usage(
                    "--interval does not apply to --strategy custom (each schedule entry gives its own days, e.g. 40x7)",
                ));
            }
            let entries = match opts.schedule.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(s) => parse_schedule(s).map_err(usage)?,
                None => profile.default.schedule.clone().ok_or_else(|| {
                    usage(format!("--strategy custom needs --schedule (e.g. \"40x7,30x7\"); the {} profile has none", profile.name))
                })?,
            };
            Strategy::Custom {
                schedule: entries
                    .into_iter()
                    .map(|(dose, days)| CustomEntry { dose, days })
                    .collect(),
            }
        }
    };

    let interval_days = match opts.interval.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(i) => parse_interval(i).map_err(usage)?,
        None => {
            if kind != StrategyKind::Custom && is_default("interval_days") {
                tool_defaults.push("default.interval_days".into());
            }
            profile.default.interval_days
        }
    };

    for t in &profile.limits.tool_default {
        tool_defaults.push(format!("limits.{t}"));
    }
    if profile.checkin_days_tool_default {
        tool_defaults.push("checkin_days".into());
    }
    for r in &profile.slow_below {
        if r.tool_default && kind != StrategyKind::Custom {
            tool_defaults.push(format!("slow_below.{}", r.dose));
        }
    }
    tool_defaults.extend(regimen_tool_defaults(&profile, kind));

    Ok(PlanRequest {
        profile,
        start_dose,
        target,
        start,
        strategy,
        interval_days,
        doses_per_day,
        kit,
        tool_defaults_used: tool_defaults,
    })
}
