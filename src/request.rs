//! What the user typed → a validated [`PlanRequest`].
//!
//! [`PlanOptions`] holds the raw text of each option, exactly as given on
//! the command line (or, later, in a batch row), so every source of requests
//! gets the same checks and the same messages. Resolution checks syntax,
//! then everything that needs the profile, and option conflicts, in one
//! place.

use crate::fills::MAX_SUPPLY_DAYS;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::dose::{parse_interval, Dose, Percent, TypedAmount};
use crate::error::Error;
use crate::formulation::{FormFilter, Kit, Selection};
use crate::profile::{parse_schedule, Profile, StrategyKind};
use crate::schedule::PlanRequest;
use crate::strategy::Strategy;

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
    /// `--final-hold DAYS`.
    pub final_hold: Option<String>,
    /// `--market us|uk|…`: only products sold there (default: the
    /// profile's first market).
    pub market: Option<String>,
    /// `--switch-to DRUG`: switch to this drug first, then taper it (see
    /// [`crate::switch`]; [`resolve`] itself ignores it).
    pub switch_to: Option<String>,
    /// `--switch-interval DAYS` [default: the profile's `[switch]`].
    pub switch_interval: Option<String>,
    /// `--supply DAYS`: dispense in fills of this many days.
    pub supply: Option<String>,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Parses `YYYY-MM-DD` with a four-digit year from 0001 to 9999: the only
/// years every output format (ISO dates, RFC 5545 `DATE`) can write.
pub fn parse_date(text: &str) -> Result<NaiveDate, Error> {
    let t = text.trim();
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok_shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10);
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) if ok_shape && chrono::Datelike::year(&d) >= 1 => Ok(d),
        _ => Err(usage(format!(
            "start date '{}' is not valid (accepted: a calendar date YYYY-MM-DD with a year from 0001 to 9999, e.g. 2026-12-01)",
            crate::terminal::escape(text)
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
    profile: impl Into<Arc<Profile>>,
    opts: &PlanOptions,
    today: NaiveDate,
) -> Result<PlanRequest, Error> {
    // Shared, not copied: a batch plans many rows from one profile.
    let profile: Arc<Profile> = profile.into();
    // Products first: mL doses need the selected liquid.
    let kit = select_kit(&profile, opts)?;
    let (start_dose, target) = doses(&profile, opts, &kit)?;
    let start = match given(&opts.start) {
        None => today,
        Some(s) => parse_date(s)?,
    };
    let doses_per_day = doses_per_day(&profile, opts)?;
    let (kind, from_profile) = strategy_kind(&profile, opts)?;
    let mut tool_defaults = Vec::new();
    if from_profile && profile.default.tool_default.iter().any(|t| t == "strategy") {
        tool_defaults.push("default.strategy".into());
    }
    let strategy = resolve_strategy(kind, &profile, opts, &kit, &mut tool_defaults)?;
    let interval_days = match given(&opts.interval) {
        Some(i) => parse_interval(i).map_err(usage)?,
        None => {
            if kind != StrategyKind::Custom {
                note_default(&profile, "interval_days", false, &mut tool_defaults);
            }
            profile.default.interval_days
        }
    };
    tool_defaults.extend(profile_tool_defaults(&profile, kind));
    check_every_days(&profile, &strategy)?;
    let final_hold = final_hold(opts, kind, target)?;
    if final_hold.is_some() {
        // The prescriber's hold replaces the profile's: not a tool default.
        tool_defaults.retain(|t| t != "ending.final_hold_days");
    }
    let market = market(&profile, opts)?;
    let supply_days = supply_days(opts)?;
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
        final_hold,
        keep_doses: None,
        market,
        supply_days,
    })
}

/// `--supply DAYS` (`28`, `28d`, `4w`), 1 to [`MAX_SUPPLY_DAYS`].
fn supply_days(opts: &PlanOptions) -> Result<Option<u32>, Error> {
    let Some(text) = given(&opts.supply) else {
        return Ok(None);
    };
    parse_interval(text)
        .ok()
        .filter(|d| *d <= MAX_SUPPLY_DAYS)
        .map(Some)
        .ok_or_else(|| {
            usage(format!(
                "supply '{}' is not valid (accepted: a whole number of days per fill from 1 to {MAX_SUPPLY_DAYS}, e.g. 28, 28d or 4w)",
                crate::terminal::escape(text.trim())
            ))
        })
}

/// Longest `--final-hold`: a year on the last dose is a maintenance
/// decision, not a taper's ending.
pub const MAX_FINAL_HOLD_DAYS: u32 = 365;

/// `--final-hold DAYS` (`14`, `14d`, `2w`): only for plans that stop and
/// whose steps taper by rule (a custom schedule's last entry gives its own
/// days).
fn final_hold(opts: &PlanOptions, kind: StrategyKind, target: Dose) -> Result<Option<u32>, Error> {
    let Some(text) = given(&opts.final_hold) else {
        return Ok(None);
    };
    let accepted = format!(
        "accepted: a whole number of days from 1 to {MAX_FINAL_HOLD_DAYS}, e.g. 14, 14d or 2w"
    );
    let days = parse_interval(text)
        .ok()
        .filter(|d| *d <= MAX_FINAL_HOLD_DAYS)
        .ok_or_else(|| {
            usage(format!(
                "final hold '{}' is not valid ({accepted})",
                crate::terminal::escape(text.trim())
            ))
        })?;
    if kind == StrategyKind::Custom {
        return Err(usage(
            "--final-hold does not apply to --strategy custom (the last schedule entry gives its own days, e.g. 5x14/2)",
        ));
    }
    if !target.is_zero() {
        return Err(usage(format!(
            "--final-hold applies to plans that stop, and this one ends at the target {target} mg (accepted: --final-hold with target 0)"
        )));
    }
    Ok(Some(days))
}

/// A custom schedule's every-N-days entries, refused where the profile's
/// sources advise against rest days.
fn check_every_days(profile: &Profile, strategy: &Strategy) -> Result<(), Error> {
    let Strategy::Custom { schedule } = strategy else {
        return Ok(());
    };
    let Some(entry) = schedule.iter().find(|e| e.every_days > 1) else {
        return Ok(());
    };
    match &profile.doses.alternate_days {
        Some(rule) if !rule.allowed => Err(usage(format!(
            "schedule entry {entry} doses every {} days, but the {} profile does not allow every-other-day dosing: {} [{}] (accepted: daily entries, e.g. {}x{})",
            entry.every_days,
            profile.name,
            rule.reason.as_deref().unwrap_or("its sources advise against it"),
            rule.source,
            entry.dose,
            entry.days
        ))),
        _ => Ok(()),
    }
}

/// An option's text, unless absent or blank (a blank batch cell means the
/// default).
fn given(o: &Option<String>) -> Option<&str> {
    o.as_deref().filter(|s| !s.trim().is_empty())
}

/// `--form` and `--strengths` → the products the plan may use.
fn select_kit(profile: &Profile, opts: &PlanOptions) -> Result<Kit, Error> {
    let form = match given(&opts.form).map(|s| s.trim().to_ascii_lowercase()) {
        None => None,
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
    let market = market(profile, opts)?;
    Kit::new(
        profile,
        &Selection {
            strengths,
            form,
            market,
        },
    )
    .map_err(usage)
}

/// `--market`: one of the profile's markets, or its first.
pub fn market(profile: &Profile, opts: &PlanOptions) -> Result<String, Error> {
    let Some(m) = given(&opts.market).map(|m| m.trim().to_ascii_lowercase()) else {
        return Ok(profile.markets[0].clone());
    };
    if profile.markets.contains(&m) {
        return Ok(m);
    }
    Err(usage(format!(
        "market '{}' has no {} products in this profile (accepted: {})",
        crate::terminal::escape(&m),
        profile.display_name,
        profile.markets.join(", ")
    )))
}

/// The starting dose and the target, in mg.
fn doses(profile: &Profile, opts: &PlanOptions, kit: &Kit) -> Result<(Dose, Dose), Error> {
    let start_dose = amount_to_mg(&opts.dose, "dose", kit, profile)?;
    if start_dose.is_zero() {
        return Err(usage(format!(
            "dose '{}' must be greater than 0 (accepted: the current total daily dose, e.g. 60mg)",
            opts.dose
        )));
    }
    let target = match given(&opts.target) {
        None => Dose::ZERO,
        Some(t) => amount_to_mg(t, "target", kit, profile)?,
    };
    if target >= start_dose {
        return Err(usage(format!(
            "target {target} mg is not below the dose {start_dose} mg (accepted: a target lower than the current dose; 0 stops completely)"
        )));
    }
    Ok((start_dose, target))
}

fn doses_per_day(profile: &Profile, opts: &PlanOptions) -> Result<u32, Error> {
    match given(&opts.doses_per_day) {
        None => Ok(profile.doses_per_day),
        Some(t) => match t.trim().parse::<u32>() {
            Ok(n) if (1..=12).contains(&n) => Ok(n),
            _ => Err(usage(format!(
                "doses per day '{t}' is not valid (accepted: a whole number from 1 to 12)"
            ))),
        },
    }
}

/// The strategy: explicit, implied by its one parameter, or the profile's
/// (then `true`). A parameter of another strategy is a usage error.
fn strategy_kind(profile: &Profile, opts: &PlanOptions) -> Result<(StrategyKind, bool), Error> {
    let params = [
        (given(&opts.step).is_some(), StrategyKind::Linear, "--step"),
        (
            given(&opts.percent).is_some(),
            StrategyKind::Percent,
            "--percent",
        ),
        (
            given(&opts.occupancy_step).is_some(),
            StrategyKind::Hyperbolic,
            "--occupancy-step",
        ),
        (
            given(&opts.schedule).is_some(),
            StrategyKind::Custom,
            "--schedule",
        ),
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
    Ok((kind, opts.strategy.is_none() && implied.is_empty()))
}

/// Records `default.<field>` when the profile's value is used and no
/// source gives it.
fn note_default(profile: &Profile, field: &str, user_given: bool, out: &mut Vec<String>) {
    if !user_given && profile.default.tool_default.iter().any(|t| t == field) {
        out.push(format!("default.{field}"));
    }
}

/// The strategy's parameters, from the options or the profile's default.
fn resolve_strategy(
    kind: StrategyKind,
    profile: &Profile,
    opts: &PlanOptions,
    kit: &Kit,
    tool_defaults: &mut Vec<String>,
) -> Result<Strategy, Error> {
    Ok(match kind {
        StrategyKind::Linear => {
            let step = match given(&opts.step) {
                Some(s) => amount_to_mg(s, "step", kit, profile)?,
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
            note_default(profile, "step", given(&opts.step).is_some(), tool_defaults);
            Strategy::Linear { step }
        }
        StrategyKind::Percent => {
            let percent = match given(&opts.percent) {
                Some(p) => Percent::parse_open(p).map_err(usage)?,
                None => profile.default.percent.ok_or_else(|| {
                    usage(format!("--strategy percent needs --percent (the {} profile has no default percent)", profile.name))
                })?,
            };
            note_default(
                profile,
                "percent",
                given(&opts.percent).is_some(),
                tool_defaults,
            );
            Strategy::Percent { percent }
        }
        StrategyKind::Hyperbolic => {
            let Some(model) = profile.occupancy.clone() else {
                return Err(usage(format!(
                    "--strategy hyperbolic needs a sourced receptor-occupancy model, and the {} profile has none (accepted strategies for it: linear, percent, custom)",
                    profile.name
                )));
            };
            let occupancy_step = match given(&opts.occupancy_step) {
                Some(p) => Percent::parse_open(p).map_err(|m| usage(m.replace("percent", "occupancy step")))?,
                None => profile.default.occupancy_step.ok_or_else(|| {
                    usage("--strategy hyperbolic needs --occupancy-step (percentage points per step, e.g. 5)")
                })?,
            };
            note_default(
                profile,
                "occupancy_step",
                given(&opts.occupancy_step).is_some(),
                tool_defaults,
            );
            Strategy::Hyperbolic {
                occupancy_step,
                model,
            }
        }
        StrategyKind::Custom => {
            if given(&opts.interval).is_some() {
                return Err(usage(
                    "--interval does not apply to --strategy custom (each schedule entry gives its own days, e.g. 40x7)",
                ));
            }
            let entries = match given(&opts.schedule) {
                Some(s) => parse_schedule(s).map_err(|m| usage(schedule_hint(s, m)))?,
                None => profile.default.schedule.clone().ok_or_else(|| {
                    usage(format!("--strategy custom needs --schedule (e.g. \"40x7,30x7\"); the {} profile has none", profile.name))
                })?,
            };
            Strategy::Custom { schedule: entries }
        }
    })
}

/// `40x7,7,5x7`: a schedule that fails because a decimal comma split an
/// entry (`7` then `5x7`) gets the schedule to type, `40x7,7.5x7`, when
/// that one parses. Otherwise the message stays as it was.
fn schedule_hint(text: &str, message: String) -> String {
    let mut fixed: Vec<String> = Vec::new();
    let mut merged = false;
    for entry in text.split(',') {
        let joins = fixed.last().is_some_and(|prev: &String| {
            let prev = prev.trim_end();
            !prev.contains(['x', 'X', '×'])
                && prev.ends_with(|c: char| c.is_ascii_digit())
                && entry.starts_with(|c: char| c.is_ascii_digit())
        });
        match fixed.last_mut() {
            Some(prev) if joins => {
                prev.push('.');
                prev.push_str(entry);
                merged = true;
            }
            _ => fixed.push(entry.to_string()),
        }
    }
    let fixed = fixed.join(",");
    if merged && parse_schedule(&fixed).is_ok() {
        format!("{message}; a decimal comma? use a decimal point: {fixed}")
    } else {
        message
    }
}

/// The profile values behind the limits, check-ins, slower holds, regimen
/// and ending that no source gives (the prescriber should confirm them).
fn profile_tool_defaults(profile: &Profile, kind: StrategyKind) -> Vec<String> {
    let mut out: Vec<String> = profile
        .limits
        .tool_default
        .iter()
        .map(|t| format!("limits.{t}"))
        .collect();
    if profile.checkin_days_tool_default {
        out.push("checkin_days".into());
    }
    for r in &profile.slow_below {
        if r.tool_default && kind != StrategyKind::Custom {
            out.push(format!("slow_below.{}", r.dose));
        }
    }
    out.extend(regimen_tool_defaults(profile, kind));
    out
}
