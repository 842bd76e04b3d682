//! Switching to another drug before tapering (`--switch-to`): the
//! substitution the sources describe for short-acting benzodiazepines and
//! z-drugs (NHS Scotland, NICE CKS, the Ashton Manual).
//!
//! One administration at a time, the last of the day first, is replaced by
//! its equivalent in the new drug, rounded down to what the new drug's
//! products give in one administration, a step every interval; once only
//! the new drug is taken, it is tapered by its own profile. Rounding down
//! keeps the promise that no day gives more than the day before, in the
//! profile's equivalence. The result is one [`Plan`]: the switch steps come
//! first and carry [`Step::drugs`]; every administration names its drug.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::dose::{parse_interval, Change, Dose};
use crate::error::Error;
use crate::formulation::{Administration, Kit, Portion, Product, Quantity};
use crate::limits::Rules;
use crate::profile::{Equivalence, Form, Profile, Source, StrategyKind, MAX_SWITCH_INTERVAL_DAYS};
use crate::request::{resolve, PlanOptions};
use crate::schedule::{
    self, DrugDose, Plan, Step, Warning, WarningDetail, WarningKind, MAX_PLAN_DAYS,
};
use crate::strategy::{CustomEntry, Strategy};

/// What a switch plan says about its switch. JSON `switch`.
#[derive(Clone, Debug, Serialize)]
pub struct SwitchInfo {
    /// The drug taken now.
    pub from: FromDrug,
    /// The drug switched to and tapered (the plan's `profile`).
    pub to: String,
    /// The old drug's daily dose, in its unit.
    pub dose: Dose,
    /// Its equivalent in the new drug (by `equivalence`), rounded to a
    /// micro-unit.
    pub equivalent_dose: Dose,
    /// The new drug's daily dose once the switch is done: each
    /// administration's equivalent, rounded down to what the products give.
    pub switched_dose: Dose,
    /// Administrations a day, as taken now and through the switch.
    pub doses_per_day: u32,
    /// Days between two substitution steps.
    pub interval_days: u32,
    /// Whether `--switch-interval` set it (else the profile's `[switch]`).
    pub interval_given: bool,
    /// The administrations in the order they are switched (the last of
    /// the day first): step k makes the k-th replacement.
    pub replacements: Vec<Replacement>,
    /// The switch steps are steps 1 to `last_step`.
    pub last_step: u32,
    pub equivalence: Equivalence,
    /// The `[switch]` source, and its note.
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One administration switched: at step `step`, `slot`'s `from_dose` of
/// the old drug becomes `to_dose` of the new one.
#[derive(Clone, Debug, Serialize)]
pub struct Replacement {
    pub step: u32,
    pub slot: String,
    pub from_dose: Dose,
    /// `from_dose`'s equivalent, rounded half up to a micro-unit.
    pub equivalent_dose: Dose,
    /// What the new drug's products give: the equivalent rounded down.
    pub to_dose: Dose,
}

/// The old drug's profile, for provenance.
#[derive(Clone, Debug, Serialize)]
pub struct FromDrug {
    pub name: String,
    pub display_name: String,
    pub version: String,
    pub origin: String,
    pub unit: String,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Whether the sources describe switching `from` to `to`; the message names
/// what is supported.
pub fn check_supported<'a>(
    from: &'a Profile,
    to: &Profile,
) -> Result<(&'a crate::profile::Switch, &'a Equivalence), Error> {
    let Some(sw) = &from.switch else {
        return Err(usage(format!(
            "no switch from {} is planned: its profile gives no sourced [switch] (accepted: --switch-to from a profile that has one: {}; see taper profiles show {})",
            from.name,
            switchable_builtins(),
            from.name
        )));
    };
    let eq = from.equivalence.as_ref().filter(|e| e.reference == to.name);
    match eq {
        Some(eq) if sw.to.contains(&to.name) => Ok((sw, eq)),
        _ => Err(usage(format!(
            "switching {} to {} is not one the sources describe (accepted: --switch-to {})",
            from.name,
            crate::terminal::escape(&to.name),
            sw.to.join(", ")
        ))),
    }
}

/// The built-in profiles with a `[switch]`, as `lorazepam to diazepam,
/// …`, for a refusal's message (parsed only then).
fn switchable_builtins() -> String {
    crate::profile::BUILTIN_PROFILES
        .iter()
        .filter_map(|(name, text)| crate::profile::parse_profile(text, name, "built-in").ok())
        .filter_map(|p| {
            let sw = p.switch.as_ref()?;
            Some(format!("{} to {}", p.name, sw.to.join(" or ")))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--switch-interval`, or the profile's.
fn interval(opts: &PlanOptions, sw: &crate::profile::Switch) -> Result<(u32, bool), Error> {
    let Some(text) = opts
        .switch_interval
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok((sw.interval_days, false));
    };
    parse_interval(text)
        .ok()
        .filter(|d| (1..=MAX_SWITCH_INTERVAL_DAYS).contains(d))
        .map(|d| (d, true))
        .ok_or_else(|| {
            usage(format!(
                "switch interval '{}' is not valid (accepted: a whole number of days from 1 to {MAX_SWITCH_INTERVAL_DAYS}, e.g. 7, 7d or 1w)",
                crate::terminal::escape(text.trim())
            ))
        })
}

/// Refuses the options that do not apply to a switch plan.
fn check_options(opts: &PlanOptions) -> Result<(), Error> {
    if opts.strategy == Some(StrategyKind::Custom) || opts.schedule.is_some() {
        return Err(usage(
            "--switch-to does not take a custom schedule (the switch sets the first steps; accepted strategies after it: linear, percent, hyperbolic)",
        ));
    }
    Ok(())
}

/// The old drug as taken now: its daily dose split into administrations
/// with its own products (its profile's regimen rules), in its market.
struct Current {
    request: crate::schedule::PlanRequest,
    products: Vec<Product>,
    administrations: Vec<Administration>,
    warnings: Vec<Warning>,
    /// Its own rules that gave way (a piece limit at a high dose).
    gave_way: Vec<schedule::GaveWay>,
}

fn current(from: &Arc<Profile>, opts: &PlanOptions, today: NaiveDate) -> Result<Current, Error> {
    let base = PlanOptions {
        dose: opts.dose.clone(),
        start: opts.start.clone(),
        doses_per_day: opts.doses_per_day.clone(),
        market: opts.market.clone(),
        ..PlanOptions::default()
    };
    let mut req = resolve(Arc::clone(from), &base, today)?;
    let dose = req.start_dose;
    req.strategy = Strategy::Custom {
        schedule: vec![CustomEntry {
            dose,
            days: 1,
            every_days: 1,
        }],
    };
    req.target = Dose::ZERO;
    let refused = || {
        usage(format!(
            "{} {dose} mg a day cannot be given {} with the {} products of market {}, so the switch has no doses to replace (accepted: a daily dose its products give, another --doses-per-day, or another --market)",
            from.name,
            crate::render::text::frequency(req.doses_per_day),
            from.name,
            req.market
        ))
    };
    let plan = schedule::build(&req).map_err(|e| match e {
        Error::Usage(_) => refused(),
        e => e,
    })?;
    let first = plan.steps.first().filter(|s| s.daily_dose == dose);
    let Some(first) = first.filter(|s| s.doses_per_day == req.doses_per_day) else {
        return Err(refused());
    };
    let warnings = plan
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::AboveUsualMaximum)
        .map(|w| with_drug_named(w, &from.name))
        .collect();
    let gave_way = plan
        .gave_way
        .iter()
        .filter(|g| !matches!(g, schedule::GaveWay::FewerDoses { .. }))
        .cloned()
        .collect();
    Ok(Current {
        gave_way,
        administrations: first.administrations.clone(),
        products: plan.products,
        request: req,
        warnings,
    })
}

/// `amount × reference_dose / dose`, rounded down to a micro-unit (never
/// more than the equivalent) and half up (the display value).
fn equivalent(amount: Dose, eq: &Equivalence) -> (Dose, Dose) {
    let n = u128::from(amount.micro()) * u128::from(eq.reference_dose.micro());
    let d = u128::from(eq.dose.micro().max(1));
    let down = Dose::from_micro(u64::try_from(n / d).unwrap_or(u64::MAX));
    (down, amount.scaled(eq.reference_dose, eq.dose).0)
}

/// One administration of the new drug: its amount and what makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Made {
    amount: Dose,
    /// Kit indices and quantities.
    portions: Vec<(usize, Quantity)>,
    pieces: u32,
}

/// The largest amount up to `limit` that `members` (kit indices of solids)
/// give in one administration of at most `max_pieces` pieces.
fn solid_made(kit: &Kit, members: &[usize], limit: Dose, max_pieces: u32) -> Option<Made> {
    let piece = |i: usize| {
        let p = &kit.products[i];
        p.strength.unwrap_or_default().micro() / p.split_into.max(1)
    };
    let mut best: Option<Made> = None;
    let mut counts = vec![0u32; members.len()];
    loop {
        let pieces: u32 = counts.iter().sum();
        let amount: u64 = members
            .iter()
            .zip(&counts)
            .map(|(&m, &c)| piece(m) * u64::from(c))
            .sum();
        let fits = pieces > 0 && pieces <= max_pieces && amount <= limit.micro();
        let better = best.as_ref().is_none_or(|b| {
            (amount, std::cmp::Reverse(pieces)) > (b.amount.micro(), std::cmp::Reverse(b.pieces))
        });
        if fits && better {
            best = Some(Made {
                amount: Dose::from_micro(amount),
                portions: members
                    .iter()
                    .zip(&counts)
                    .filter(|(_, &c)| c > 0)
                    .map(|(&m, &c)| {
                        let split_into = kit.products[m].split_into.max(1);
                        (
                            m,
                            Quantity::Units {
                                pieces: u64::from(c),
                                split_into,
                            },
                        )
                    })
                    .collect(),
                pieces,
            });
        }
        // Next combination of counts, each up to max_pieces.
        let mut i = 0;
        loop {
            if i == counts.len() {
                return best;
            }
            counts[i] += 1;
            if counts[i] <= max_pieces {
                break;
            }
            counts[i] = 0;
            i += 1;
        }
    }
}

/// The largest amount up to `limit` one liquid measures (whole measuring
/// steps).
fn liquid_made(kit: &Kit, i: usize, limit: Dose) -> Option<Made> {
    let conc = kit.products[i].concentration?.micro();
    let step_ml = kit.liquid_step_ml.micro().max(1);
    // mg per measuring step, in micro-units: conc × step / SCALE.
    let per = u128::from(conc) * u128::from(step_ml) / u128::from(crate::dose::SCALE);
    let per = u64::try_from(per).ok().filter(|p| *p > 0)?;
    let steps = limit.micro() / per;
    (steps > 0).then(|| Made {
        amount: Dose::from_micro(steps * per),
        portions: vec![(
            i,
            Quantity::Volume {
                ml: Dose::from_micro(steps * step_ml),
            },
        )],
        pieces: 1,
    })
}

/// Most pieces one administration of the new drug may take when the
/// profile's piece limit would cut the equivalent (as the engine lets the
/// limit give way for a high dose, rather than cut it).
const MAX_RELAXED_PIECES: u32 = 12;

/// Each limit's administration within the profile's piece limit, or, when
/// more pieces give more of the equivalent, with the fewest more pieces
/// that do (then also the pieces used, for a [`schedule::GaveWay`]).
fn made_within(
    kit: &Kit,
    limits: &[Dose],
    max_pieces: u32,
    prefer: &[usize],
) -> Option<(Vec<Made>, Option<u32>)> {
    let total = |made: &[Made]| made.iter().map(|m| m.amount.micro()).sum::<u64>();
    let strict = made_all(kit, limits, max_pieces, prefer);
    let cap = MAX_RELAXED_PIECES.max(max_pieces);
    let Some(relaxed) = made_all(kit, limits, cap, prefer) else {
        return strict.map(|m| (m, None));
    };
    if strict.as_ref().is_some_and(|s| total(s) >= total(&relaxed)) {
        return strict.map(|m| (m, None));
    }
    let best = total(&relaxed);
    (max_pieces + 1..=cap)
        .filter_map(|n| made_all(kit, limits, n, prefer))
        .find(|m| total(m) == best)
        .map(|m| {
            let used = m.iter().map(|x| x.pieces).max();
            (m, used)
        })
}

/// Each limit's administration, made with one set of products: solids
/// (one or two strengths) when they give every one, else one liquid. The
/// set that gives the most wins; then one using the products in `prefer`
/// (kit indices the taper uses), then fewer pieces.
fn made_all(kit: &Kit, limits: &[Dose], max_pieces: u32, prefer: &[usize]) -> Option<Vec<Made>> {
    let solids: Vec<usize> = (0..kit.products.len())
        .filter(|&i| kit.products[i].strength.is_some())
        .collect();
    let mut sets: Vec<Vec<usize>> = solids.iter().map(|&i| vec![i]).collect();
    for (a, &i) in solids.iter().enumerate() {
        for &j in &solids[a + 1..] {
            sets.push(vec![i, j]);
        }
    }
    let mut candidates: Vec<Vec<Made>> = sets
        .iter()
        .filter_map(|set| {
            limits
                .iter()
                .map(|&l| solid_made(kit, set, l, max_pieces))
                .collect::<Option<Vec<Made>>>()
        })
        .collect();
    if candidates.is_empty() {
        candidates = (0..kit.products.len())
            .filter(|&i| kit.products[i].form == Form::Liquid)
            .filter_map(|i| {
                limits
                    .iter()
                    .map(|&l| liquid_made(kit, i, l))
                    .collect::<Option<Vec<Made>>>()
            })
            .collect();
    }
    candidates.into_iter().min_by_key(|made| {
        let total: u64 = made.iter().map(|m| m.amount.micro()).sum();
        let mut used: Vec<usize> = made
            .iter()
            .flat_map(|m| m.portions.iter().map(|p| p.0))
            .collect();
        used.sort_unstable();
        used.dedup();
        let outside = used.iter().filter(|i| !prefer.contains(i)).count();
        let pieces: u32 = made.iter().map(|m| m.pieces).sum();
        (std::cmp::Reverse(total), outside, pieces, used.len())
    })
}

/// The switch made with the liquid the taper starts on, and the taper
/// from its (finer, so never smaller) total, when that taper also starts
/// on the liquid; `None` otherwise.
fn on_the_taper_liquid(
    kit: &Kit,
    limits: &[Dose],
    taper: &Plan,
    build_taper: &dyn Fn(Dose) -> Result<Plan, Error>,
) -> Result<Option<(Vec<Made>, Plan)>, Error> {
    let first_liquid = |plan: &Plan| -> Option<String> {
        let step = plan.steps.first()?;
        let p = step.administrations.first()?.portions.first()?;
        let product = &plan.products[p.product];
        (product.form == Form::Liquid).then(|| product.key.clone())
    };
    let Some(key) = first_liquid(taper) else {
        return Ok(None);
    };
    let Some(i) = kit.products.iter().position(|p| p.key == key) else {
        return Ok(None);
    };
    let Some(made) = limits
        .iter()
        .map(|&l| liquid_made(kit, i, l))
        .collect::<Option<Vec<Made>>>()
    else {
        return Ok(None);
    };
    let total = made.iter().fold(Dose::ZERO, |a, m| a.plus(m.amount));
    if total == taper.request.start_dose {
        return Ok(Some((made, taper.clone())));
    }
    let again = build_taper(total)?;
    Ok((first_liquid(&again).as_deref() == Some(key.as_str())).then_some((made, again)))
}

/// The drug switched to: its taper's options from the request's, and the
/// messages that name the switch.
struct NewDrug<'a> {
    to: &'a Arc<Profile>,
    opts: &'a PlanOptions,
    today: NaiveDate,
    /// The first day after the switch.
    start: NaiveDate,
    /// Its own doses a day, never more than are taken now.
    doses_per_day: u32,
}

impl NewDrug<'_> {
    /// The taper's request from `dose` a day.
    fn request(&self, dose: Dose) -> Result<schedule::PlanRequest, Error> {
        let opts = PlanOptions {
            dose: format!("{dose}mg"),
            start: Some(self.start.to_string()),
            doses_per_day: Some(self.doses_per_day.to_string()),
            switch_to: None,
            switch_interval: None,
            ..self.opts.clone()
        };
        resolve(Arc::clone(self.to), &opts, self.today).map_err(|e| match e {
            Error::Usage(msg) if msg.starts_with("target") => usage(format!(
                "{msg}; after the switch the {} dose is {dose} mg a day",
                self.to.name
            )),
            e => e,
        })
    }

    fn taper(&self, dose: Dose) -> Result<Plan, Error> {
        schedule::build(&self.request(dose)?)
    }
}

/// The switch's administrations of the new drug and the taper after it.
struct Chosen {
    made: Vec<Made>,
    taper: Plan,
    kit: Kit,
    /// The piece limit gave way, to this many pieces.
    relaxed: Option<u32>,
}

/// Makes each administration's equivalent (`limits`) with the new drug's
/// products, preferring those its taper uses, and plans the taper from
/// their total.
fn choose(new: &NewDrug, limits: &[Dose], unmade: &dyn Fn() -> Error) -> Result<Chosen, Error> {
    let floor_total = limits.iter().fold(Dose::ZERO, |a, &b| a.plus(b));
    if floor_total.is_zero() {
        return Err(unmade());
    }
    // The new drug's products, as the options select them.
    let kit = new.request(floor_total)?.kit;
    let max_pieces = new.to.max_pieces;
    let (made, _) = made_within(&kit, limits, max_pieces, &[]).ok_or_else(unmade)?;
    let taper = new.taper(made.iter().fold(Dose::ZERO, |a, m| a.plus(m.amount)))?;
    // Prefer the products the taper uses (same total: it ranks first).
    let prefer: Vec<usize> = (0..kit.products.len())
        .filter(|&i| taper.products.iter().any(|p| p.key == kit.products[i].key))
        .collect();
    let (made, relaxed) = made_within(&kit, limits, max_pieces, &prefer).ok_or_else(unmade)?;
    // A taper given with a liquid from its first step: the switch uses that
    // liquid too, so the patient does not take tablets for a week first.
    Ok(
        match on_the_taper_liquid(&kit, limits, &taper, &|d| new.taper(d))? {
            Some((made, taper)) => Chosen {
                made,
                taper,
                kit,
                relaxed: None,
            },
            None => Chosen {
                made,
                taper,
                kit,
                relaxed,
            },
        },
    )
}

/// The first day after a switch of `m` steps of `interval_days`.
fn after_switch(current: &Current, m: u32, interval_days: u32) -> Result<NaiveDate, Error> {
    let switch_days = u64::from(m) * u64::from(interval_days);
    if switch_days >= MAX_PLAN_DAYS {
        return Err(usage("the switch alone would last more than 10 years"));
    }
    current
        .request
        .start
        .checked_add_days(Days::new(switch_days))
        .ok_or_else(|| {
            Error::PlanRefused("the switch runs past the last date taper can write".into())
        })
}

/// Builds a switch plan: `from` at `opts.dose`, switched to `to`, then
/// `to` tapered with the options' strategy, interval, target and products.
pub fn build(
    from: Arc<Profile>,
    to: Arc<Profile>,
    opts: &PlanOptions,
    today: NaiveDate,
) -> Result<Plan, Error> {
    let (sw, eq) = check_supported(&from, &to)?;
    let (interval_days, interval_given) = interval(opts, sw)?;
    check_options(opts)?;
    let current = current(&from, opts, today)?;
    let m = current.administrations.len() as u32;
    let limits: Vec<Dose> = current
        .administrations
        .iter()
        .map(|a| equivalent(a.amount, eq).0)
        .collect();
    let new = NewDrug {
        to: &to,
        opts,
        today,
        start: after_switch(&current, m, interval_days)?,
        doses_per_day: m.min(to.doses_per_day),
    };
    let unmade = || {
        usage(format!(
            "the {} equivalent of {} {} mg a day in {m} doses cannot be given with the selected {} products (accepted: a larger dose, fewer --doses-per-day, or other --strengths)",
            to.name, from.name, current.request.start_dose, to.name
        ))
    };
    let chosen = choose(&new, &limits, &unmade)?;
    let parts = Parts {
        from: &from,
        to: &to,
        current: &current,
        made: &chosen.made,
        kit: &chosen.kit,
        taper: &chosen.taper,
        interval_days,
    };
    let mut plan = assemble(&parts)?;
    add_gave_way(&mut plan, &current.gave_way, chosen.relaxed, to.max_pieces);
    let info = switch_info(&parts, sw, eq, interval_given);
    plan.request.start_dose = info.equivalent_dose;
    plan.switch = Some(info);
    Ok(plan)
}

/// Rules that gave way for either drug's doses, each said once.
fn add_gave_way(plan: &mut Plan, old: &[schedule::GaveWay], relaxed: Option<u32>, max_pieces: u32) {
    let mut gave_way = old.to_vec();
    if let Some(used) = relaxed {
        gave_way.push(schedule::GaveWay::PieceLimit {
            limit: max_pieces,
            used,
        });
    }
    for g in gave_way {
        if !plan.gave_way.contains(&g) {
            plan.gave_way.insert(0, g);
        }
    }
}

/// What the plan says about its switch.
fn switch_info(
    parts: &Parts,
    sw: &crate::profile::Switch,
    eq: &Equivalence,
    interval_given: bool,
) -> SwitchInfo {
    let (from, current) = (parts.from, parts.current);
    let (equivalent_dose, _) = current
        .request
        .start_dose
        .scaled(eq.reference_dose, eq.dose);
    SwitchInfo {
        from: FromDrug {
            name: from.name.clone(),
            display_name: from.display_name.clone(),
            version: from.version.clone(),
            origin: from.origin.clone(),
            unit: from.unit.clone(),
        },
        to: parts.to.name.clone(),
        dose: current.request.start_dose,
        equivalent_dose,
        switched_dose: parts.made.iter().fold(Dose::ZERO, |a, m| a.plus(m.amount)),
        doses_per_day: current.administrations.len() as u32,
        interval_days: parts.interval_days,
        interval_given,
        replacements: current
            .administrations
            .iter()
            .zip(parts.made)
            .rev()
            .enumerate()
            .map(|(k, (a, made))| Replacement {
                step: k as u32 + 1,
                slot: a.slot.clone(),
                from_dose: a.amount,
                equivalent_dose: equivalent(a.amount, eq).1,
                to_dose: made.amount,
            })
            .collect(),
        last_step: current.administrations.len() as u32,
        equivalence: eq.clone(),
        source: from
            .sources
            .iter()
            .find(|s| s.key == sw.source)
            .cloned()
            .unwrap_or_else(|| from.sources[0].clone()),
        note: sw.note.clone(),
    }
}

/// What [`assemble`] joins.
struct Parts<'a> {
    from: &'a Profile,
    to: &'a Profile,
    current: &'a Current,
    made: &'a [Made],
    kit: &'a Kit,
    taper: &'a Plan,
    interval_days: u32,
}

/// A product of one drug in a plan of two: named with its drug.
fn with_drug(p: &Product, drug: &str) -> Product {
    Product {
        name: format!("{drug} {}", p.name),
        drug: Some(drug.to_string()),
        ..p.clone()
    }
}

/// The merged product list: the old drug's, then the new drug's (the
/// switch's and the taper's), each in plan order; and where each went.
struct Merged {
    products: Vec<Product>,
    /// Old plan index → merged index.
    old: Vec<usize>,
    /// Kit index → merged index (switch portions).
    kit: Vec<Option<usize>>,
    /// Taper plan index → merged index.
    taper: Vec<usize>,
}

fn merge_products(parts: &Parts) -> Merged {
    let mut products: Vec<Product> = parts
        .current
        .products
        .iter()
        .map(|p| with_drug(p, &parts.from.name))
        .collect();
    let old: Vec<usize> = (0..products.len()).collect();
    let mut new: Vec<Product> = parts.taper.products.clone();
    for m in parts.made {
        for (i, _) in &m.portions {
            let p = &parts.kit.products[*i];
            if !new.iter().any(|n| n.key == p.key) {
                new.push(p.clone());
            }
        }
    }
    new.sort_by_key(Product::plan_order);
    let base = products.len();
    let at = |key: &str, list: &[Product]| list.iter().position(|n| n.key == key);
    let kit = parts
        .kit
        .products
        .iter()
        .map(|p| at(&p.key, &new).map(|i| base + i))
        .collect();
    let taper = parts
        .taper
        .products
        .iter()
        .map(|p| base + at(&p.key, &new).unwrap_or(0))
        .collect();
    products.extend(new.iter().map(|p| with_drug(p, &parts.to.name)));
    Merged {
        products,
        old,
        kit,
        taper,
    }
}

/// The switch steps, then the taper's steps renumbered, in one plan.
fn assemble(parts: &Parts) -> Result<Plan, Error> {
    let merged = merge_products(parts);
    let mut steps = switch_steps(parts, &merged)?;
    let m = steps.len() as u32;
    let mut warnings = parts.current.warnings.clone();
    warnings.extend(switch_warnings(parts, &steps));
    let slot_names: Vec<String> = parts
        .current
        .administrations
        .iter()
        .map(|a| a.slot.clone())
        .collect();
    let shift = |w: &Warning| Warning {
        step: w.step.map(|s| s + m),
        ..w.clone()
    };
    let taper = parts.taper;
    warnings.extend(taper.warnings.iter().map(|w| match w.kind {
        WarningKind::AboveUsualMaximum => with_drug_named(w, &parts.to.name),
        _ => shift(w),
    }));
    for s in &taper.steps {
        let mut s = s.clone();
        s.step += m;
        s.phase += 1;
        for a in &mut s.administrations {
            // The patient keeps the times of day they had.
            a.slot_index = old_slot(&slot_names, a, taper.request.doses_per_day);
            if let Some(name) = slot_names.get(a.slot_index as usize) {
                a.slot = name.clone();
            }
            a.drug = Some(parts.to.name.clone());
            for p in &mut a.portions {
                p.product = merged.taper[p.product];
            }
        }
        steps.push(s);
    }
    let total_days: u64 = steps.iter().map(|s| u64::from(s.days)).sum();
    let mut plan = taper.clone();
    plan.days = schedule::day_rows_for(
        steps[0].change.from,
        &parts.to.checkin_days,
        &steps,
        &warnings,
        total_days,
    )?;
    plan.phases = schedule::phases(&steps, &merged.products);
    plan.dispense = schedule::dispense_totals(&merged.products, &steps);
    plan.fills = crate::fills::fills(
        &merged.products,
        &steps,
        steps[0].start,
        plan.request.supply_days,
    );
    plan.gave_way = taper
        .gave_way
        .iter()
        .map(|g| match g {
            schedule::GaveWay::FewerDoses {
                step,
                doses_per_day,
            } => schedule::GaveWay::FewerDoses {
                step: step + m,
                doses_per_day: *doses_per_day,
            },
            g => g.clone(),
        })
        .collect();
    plan.products = merged.products;
    plan.request.start = steps[0].start;
    plan.request.doses_per_day = m;
    plan.steps = steps;
    plan.warnings = warnings;
    plan.reminders = reminders(parts.from, parts.to);
    for s in &parts.from.sources {
        if !plan.profile.sources.iter().any(|x| x.title == s.title) {
            plan.profile.sources.push(s.clone());
        }
    }
    plan.mme = None;
    Ok(plan)
}

/// Which of the day's administrations as taken now (`names`) a taper
/// administration is, when the new drug is given `k` times a day: the one
/// of the same name, else the last of the day for the taper's last, else
/// the same place. `--times` and the slot names then stay the patient's.
fn old_slot(names: &[String], a: &Administration, k: u32) -> u32 {
    let m = names.len() as u32;
    if k == m {
        return a.slot_index;
    }
    if let Some(i) = names.iter().position(|n| *n == a.slot) {
        return i as u32;
    }
    if a.slot_index + 1 == k {
        m.saturating_sub(1)
    } else {
        a.slot_index
    }
}

/// Step k replaces the last k administrations of the day.
fn switch_steps(parts: &Parts, merged: &Merged) -> Result<Vec<Step>, Error> {
    let old = &parts.current.administrations;
    let m = old.len();
    let eq_of = |a: &Administration| {
        let eq = parts.from.equivalence.as_ref();
        eq.map_or(a.amount, |e| equivalent(a.amount, e).1)
    };
    let mut steps: Vec<Step> = Vec::with_capacity(m);
    let mut previous = old.iter().fold(Dose::ZERO, |t, a| t.plus(eq_of(a)));
    let mut start = parts.current.request.start;
    for k in 1..=m {
        let mut admins = Vec::with_capacity(m);
        let (mut old_total, mut new_total, mut total) = (Dose::ZERO, Dose::ZERO, Dose::ZERO);
        for (j, a) in old.iter().enumerate() {
            if j + k >= m {
                let made = &parts.made[j];
                admins.push(Administration {
                    slot: a.slot.clone(),
                    slot_index: a.slot_index,
                    amount: made.amount,
                    drug: Some(parts.to.name.clone()),
                    portions: made
                        .portions
                        .iter()
                        .map(|(i, q)| Portion {
                            product: merged.kit[*i].unwrap_or(0),
                            quantity: *q,
                        })
                        .collect(),
                });
                new_total = new_total.plus(made.amount);
                total = total.plus(made.amount);
            } else {
                admins.push(Administration {
                    drug: Some(parts.from.name.clone()),
                    portions: a
                        .portions
                        .iter()
                        .map(|p| Portion {
                            product: merged.old[p.product],
                            quantity: p.quantity,
                        })
                        .collect(),
                    ..a.clone()
                });
                old_total = old_total.plus(a.amount);
                total = total.plus(eq_of(a));
            }
        }
        let days = parts.interval_days;
        let end = start
            .checked_add_days(Days::new(u64::from(days) - 1))
            .ok_or_else(|| {
                Error::PlanRefused("the switch runs past the last date taper can write".into())
            })?;
        let mut drugs = Vec::new();
        if !old_total.is_zero() {
            drugs.push(DrugDose {
                drug: parts.from.name.clone(),
                daily_dose: old_total,
                doses_per_day: (m - k) as u32,
            });
        }
        drugs.push(DrugDose {
            drug: parts.to.name.clone(),
            daily_dose: new_total,
            doses_per_day: k as u32,
        });
        steps.push(Step {
            step: k as u32,
            start,
            end,
            days,
            daily_dose: total,
            change: Change {
                from: previous,
                to: total,
            },
            exact_dose: None,
            adjustment: None,
            phase: 1,
            doses_per_day: m as u32,
            administrations: admins,
            final_phase: false,
            is_final: false,
            every_days: 1,
            rhythm: None,
            mme: None,
            drugs,
        });
        previous = total;
        start = end.checked_add_days(Days::new(1)).ok_or_else(|| {
            Error::PlanRefused("the switch runs past the last date taper can write".into())
        })?;
    }
    Ok(steps)
}

/// A usual-maximum warning that names its drug (a switch plan has two).
fn with_drug_named(w: &Warning, name: &str) -> Warning {
    let mut w = w.clone();
    if let WarningDetail::Maximum { drug, .. } = &mut w.detail {
        *drug = Some(name.to_string());
    }
    w
}

/// A switch step whose rounding loses more than the new drug's profile
/// allows in one step is warned, as any cut is.
fn switch_warnings(parts: &Parts, steps: &[Step]) -> Vec<Warning> {
    let rules = Rules::new(parts.to);
    steps
        .iter()
        .filter_map(|s| schedule::cut_warning(parts.to, &rules, s, Dose::ZERO))
        .collect()
}

/// Both drugs' reminders, each line once: the old drug's withdrawal signs
/// matter during the switch, the new drug's after it.
fn reminders(from: &Profile, to: &Profile) -> schedule::Reminders {
    let both = |a: &[String], b: &[String]| {
        let mut out: Vec<String> = b.to_vec();
        for x in a {
            if !out.contains(x) {
                out.push(x.clone());
            }
        }
        out
    };
    let mut checkin_days = to.checkin_days.clone();
    checkin_days.sort_unstable();
    schedule::Reminders {
        withdrawal_symptoms: both(&from.withdrawal_symptoms, &to.withdrawal_symptoms),
        red_flags: both(&from.red_flags, &to.red_flags),
        if_symptoms: to.if_symptoms.clone(),
        checkin_days,
        advice: both(&from.advice, &to.advice),
        cautions: both(&from.cautions, &to.cautions),
    }
}
