//! A whole profile file from the fuzzer: parse → (if valid) plan with the
//! profile's defaults → every engine rule → every renderer.
//!
//! Input: TOML text. Comment lines `#!key=value` at any place give plan
//! options (see `taper_fuzz::TextRequest`); without `#!dose=` the dose is
//! the profile's usual maximum, else twice its largest strength times its
//! doses a day, else 10.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taper::dose::Dose;
use taper_fuzz::{plan_and_check, refused, TextRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let profile = match taper::profile::parse_profile(text, "fuzz.toml", "fuzz") {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    // Rendering the profile (`taper profiles show`) must work too.
    let mut shown = Vec::new();
    taper::render::profile::show(&profile, &mut shown).expect("profiles show");
    let mut req = TextRequest::parse(text, "#!");
    if req.bad_strategy {
        return;
    }
    if req.opts.dose.trim().is_empty() {
        let largest = profile
            .formulations
            .iter()
            .filter_map(|f| f.strength)
            .max()
            .and_then(|s| s.checked_mul(2 * u64::from(profile.doses_per_day)));
        let dose = profile
            .usual_max_daily
            .or(largest)
            .unwrap_or(Dose::from_micro(10_000_000));
        req.opts.dose = dose.to_string();
    }
    plan_and_check(profile, &req);
});
