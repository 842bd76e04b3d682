//! The TOML shape of a profile file, as written: every field that a
//! message may point at keeps its span, and unknown fields are refused.
//! Nothing here is checked: `validate` turns it into a `Profile`.

use serde::Deserialize;
use toml::Spanned;

use super::{Form, Split, StrategyKind};

/// A value with where it starts in the file, for located messages.
pub(super) type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) name: S<String>,
    pub(super) display_name: S<String>,
    pub(super) version: S<String>,
    pub(super) unit: S<String>,
    pub(super) doses_per_day: S<i64>,
    #[serde(default)]
    pub(super) doses_per_day_source: Option<S<String>>,
    #[serde(default)]
    pub(super) usual_max_daily: Option<S<String>>,
    #[serde(default)]
    pub(super) usual_max_daily_source: Option<S<String>>,
    #[serde(default)]
    pub(super) checkin_days: Option<S<Vec<i64>>>,
    #[serde(default)]
    pub(super) checkin_days_tool_default: bool,
    #[serde(default)]
    pub(super) liquid_step_ml: Option<S<String>>,
    pub(super) withdrawal_symptoms: S<Vec<String>>,
    pub(super) red_flags: S<Vec<String>>,
    #[serde(default)]
    pub(super) if_symptoms: Option<String>,
    #[serde(default)]
    pub(super) advice: Vec<String>,
    #[serde(default)]
    pub(super) cautions: Vec<String>,
    pub(super) formulation: S<Vec<RawFormulation>>,
    pub(super) default: S<RawDefault>,
    #[serde(default)]
    pub(super) limits: Option<S<RawLimits>>,
    #[serde(default)]
    pub(super) slow_below: Vec<S<RawSlowBelow>>,
    #[serde(default)]
    pub(super) occupancy: Option<S<RawOccupancy>>,
    #[serde(default)]
    pub(super) ending: Option<S<RawEnding>>,
    #[serde(default)]
    pub(super) doses: Option<S<RawDoses>>,
    #[serde(default)]
    pub(super) max_pieces: Option<S<i64>>,
    #[serde(default)]
    pub(super) max_pieces_source: Option<S<String>>,
    pub(super) source: S<Vec<S<RawSource>>>,
    #[serde(default)]
    pub(super) class: Option<S<String>>,
    #[serde(default)]
    pub(super) markets: Option<S<Vec<String>>>,
    #[serde(default)]
    pub(super) equivalence: Option<S<RawEquivalence>>,
    #[serde(default)]
    pub(super) mme: Option<S<RawMme>>,
    #[serde(default)]
    pub(super) switch: Option<S<RawSwitch>>,
    /// RxNorm ingredient code (RXCUI) of the drug.
    #[serde(default)]
    pub(super) rxnorm: Option<S<String>>,
    #[serde(default)]
    pub(super) rxnorm_source: Option<S<String>>,
    #[serde(default)]
    pub(super) controlled: Vec<S<RawControlled>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEquivalence {
    pub(super) reference: S<String>,
    pub(super) dose: S<String>,
    pub(super) reference_dose: S<String>,
    #[serde(default)]
    pub(super) low: Option<S<String>>,
    #[serde(default)]
    pub(super) high: Option<S<String>>,
    pub(super) source: S<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMme {
    pub(super) factor: S<String>,
    pub(super) source: S<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSwitch {
    pub(super) to: S<Vec<String>>,
    pub(super) interval_days: S<i64>,
    pub(super) source: S<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnding {
    pub(super) min_step: S<String>,
    pub(super) stop_from: S<String>,
    #[serde(default)]
    pub(super) final_hold_days: Option<S<i64>>,
    #[serde(default)]
    pub(super) final_doses_per_day: Option<S<i64>>,
    #[serde(default)]
    pub(super) tool_default: Vec<String>,
    #[serde(default)]
    pub(super) source: Option<S<String>>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDoses {
    #[serde(default)]
    pub(super) slots: Option<S<Vec<String>>>,
    #[serde(default)]
    pub(super) drop_order: Option<S<Vec<String>>>,
    #[serde(default)]
    pub(super) max_gap_hours: Option<S<i64>>,
    #[serde(default)]
    pub(super) alternate_days: Option<S<bool>>,
    #[serde(default)]
    pub(super) alternate_days_source: Option<S<String>>,
    #[serde(default)]
    pub(super) alternate_days_reason: Option<S<String>>,
    #[serde(default)]
    pub(super) tool_default: Vec<String>,
    #[serde(default)]
    pub(super) source: Option<S<String>>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFormulation {
    pub(super) form: S<Form>,
    #[serde(default)]
    pub(super) strength: Option<S<String>>,
    #[serde(default)]
    pub(super) concentration: Option<S<String>>,
    #[serde(default)]
    pub(super) split: Option<S<Split>>,
    #[serde(default)]
    pub(super) modified_release: bool,
    #[serde(default)]
    pub(super) restricted: bool,
    #[serde(default)]
    pub(super) label: Option<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
    #[serde(default)]
    pub(super) instructions: Option<String>,
    #[serde(default)]
    pub(super) group: Option<String>,
    #[serde(default)]
    pub(super) source: Option<S<String>>,
    #[serde(default)]
    pub(super) markets: Option<S<Vec<String>>>,
    /// Tablets or capsules per pack (solids), sold sizes.
    #[serde(default)]
    pub(super) packs: Option<S<RawPacks>>,
    /// mL per bottle (liquids), sold sizes.
    #[serde(default)]
    pub(super) bottle_ml: Option<S<RawPacks>>,
    #[serde(default)]
    pub(super) packs_source: Option<S<String>>,
    /// RxNorm clinical drug code (RXCUI).
    #[serde(default)]
    pub(super) rxnorm: Option<S<String>>,
    #[serde(default)]
    pub(super) rxnorm_source: Option<S<String>>,
}

/// Pack sizes: one list for every market, or a list per market
/// (`packs = { uk = [28], us = [100, 500] }`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawPacks {
    All(Vec<i64>),
    ByMarket(std::collections::BTreeMap<String, Vec<i64>>),
}

/// `[[controlled]]`: the drug's controlled-drug schedule in one market.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawControlled {
    pub(super) market: S<String>,
    pub(super) schedule: S<String>,
    pub(super) source: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefault {
    pub(super) strategy: S<StrategyKind>,
    #[serde(default)]
    pub(super) step: Option<S<String>>,
    #[serde(default)]
    pub(super) percent: Option<S<String>>,
    #[serde(default)]
    pub(super) occupancy_step: Option<S<String>>,
    #[serde(default)]
    pub(super) schedule: Option<S<String>>,
    pub(super) interval_days: S<i64>,
    #[serde(default)]
    pub(super) tool_default: Vec<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    #[serde(default)]
    pub(super) max_step_percent: Option<S<String>>,
    #[serde(default)]
    pub(super) max_step: Option<S<String>>,
    #[serde(default)]
    pub(super) min_interval_days: Option<S<i64>>,
    #[serde(default)]
    pub(super) min_total_days: Option<S<i64>>,
    #[serde(default)]
    pub(super) tool_default: Vec<String>,
    #[serde(default)]
    pub(super) source: Option<S<String>>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlowBelow {
    pub(super) dose: S<String>,
    pub(super) interval_days: S<i64>,
    #[serde(default)]
    pub(super) step: Option<S<String>>,
    #[serde(default)]
    pub(super) tool_default: bool,
    #[serde(default)]
    pub(super) source: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOccupancy {
    pub(super) emax: S<String>,
    pub(super) ed50: S<String>,
    pub(super) source: S<String>,
    #[serde(default)]
    pub(super) region: Option<String>,
    #[serde(default)]
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) key: S<String>,
    pub(super) title: S<String>,
    #[serde(default)]
    pub(super) year: Option<S<i64>>,
    #[serde(default)]
    pub(super) url: Option<String>,
}
