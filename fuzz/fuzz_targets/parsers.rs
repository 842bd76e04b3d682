//! Every text parser of taper on the same input: none may panic, and each
//! value accepted must be in range and survive being written out and read
//! back (the `Display` forms are the ones every output uses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use taper::dose::{parse_interval, Dose, Percent, TypedAmount, TypedUnit, MAX_WHOLE, SCALE};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // Plain decimals: exact, in range, and `Display` reads back the same.
    if let Ok(d) = Dose::parse_decimal(text) {
        assert!(
            d.micro() <= MAX_WHOLE * SCALE,
            "{text:?} → {d} above the maximum"
        );
        let shown = d.to_string();
        assert_eq!(
            Dose::parse_decimal(&shown),
            Ok(d),
            "{text:?} → {shown:?} does not read back"
        );
        assert!(!shown.starts_with('.'), "no leading zero in {shown:?}");
        if shown.contains('.') {
            assert!(!shown.ends_with('0'), "trailing zero in {shown:?}");
        }
    }

    // Typed amounts: the unit reads back too, and mcg → mg is exact.
    if let Ok(a) = TypedAmount::parse(text) {
        assert!(a.value.micro() <= MAX_WHOLE * SCALE);
        let unit = match a.unit {
            TypedUnit::Bare => "",
            TypedUnit::Mg => "mg",
            TypedUnit::Mcg => "mcg",
            TypedUnit::Ml => "mL",
        };
        let shown = format!("{}{unit}", a.value);
        assert_eq!(TypedAmount::parse(&shown), Ok(a), "{text:?} → {shown:?}");
        match (a.unit, a.to_mg()) {
            (TypedUnit::Ml, r) => assert_eq!(r, Ok(None)),
            (TypedUnit::Mcg, Ok(Some(mg))) => assert_eq!(mg.micro() * 1000, a.value.micro()),
            (TypedUnit::Mcg, Err(_)) => assert_ne!(a.value.micro() % 1000, 0),
            (_, r) => assert_eq!(r, Ok(Some(a.value))),
        }
    }

    if let Ok(days) = parse_interval(text) {
        assert!((1..=3650).contains(&days), "{text:?} → {days} days");
        assert_eq!(parse_interval(&days.to_string()), Ok(days));
        assert_eq!(parse_interval(&format!("{days}d")), Ok(days));
    }

    if let Ok(p) = Percent::parse_open(text) {
        assert!(p.micro() > 0 && p.micro() < 100 * SCALE, "{text:?} → {p}");
        assert_eq!(Percent::parse_open(&p.to_string()), Ok(p));
    }

    if let Ok(date) = taper::request::parse_date(text) {
        use chrono::Datelike;
        // Years 1 to 9999 only: what ISO dates and RFC 5545 can write
        // (fixed after this target found `-026-02-20` accepted as year -26).
        assert!(
            (1..=9999).contains(&date.year()),
            "{text:?} → year {}",
            date.year()
        );
        let shown = date.format("%Y-%m-%d").to_string();
        assert_eq!(
            taper::request::parse_date(&shown).ok(),
            Some(date),
            "{text:?} → {shown:?}"
        );
    }

    if let Ok(entries) = taper::profile::parse_schedule(text) {
        assert!(!entries.is_empty() && entries.len() <= 1000);
        let shown: Vec<String> = entries
            .iter()
            .map(|e| {
                assert!((1..=3650).contains(&e.days));
                assert!(e.every_days == 1 || taper::strategy::EVERY_DAYS.contains(&e.every_days));
                assert!(e.days >= e.every_days);
                e.to_string()
            })
            .collect();
        let shown = shown.join(",");
        assert_eq!(
            taper::profile::parse_schedule(&shown),
            Ok(entries),
            "{text:?} → {shown:?}"
        );
    }

    // `--times` with as many doses a day as it has entries (so it can pass).
    let n = text.split(',').count().min(12) as u32;
    if let Ok(times) = taper::parse_times(text, n) {
        assert_eq!(times.len(), n as usize);
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        let shown: Vec<String> = times
            .iter()
            .map(|t| t.format("%H:%M").to_string())
            .collect();
        let shown = shown.join(",");
        assert_eq!(
            taper::parse_times(&shown, n).ok(),
            Some(times),
            "{text:?} → {shown:?}"
        );
    }
});
