//! Exact dose arithmetic and the text forms of amounts.
//!
//! Doses are integer micro-units of the profile's unit (mg), so 7.5 mg is
//! exactly `7_500_000` and never drifts through `f64`. Every operation that
//! could overflow is checked and reported, never wrapped or saturated. This
//! module owns parsing of user-typed amounts (`60mg`, `100 mcg`, `2.5mL`),
//! intervals (`7`, `7d`, `2w`) and percentages, and the one `Display` that
//! every output uses, following ISMP's safe dose-designation conventions
//! (leading zero, no trailing zero).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Micro-units per unit: six decimal places are kept exactly.
pub const SCALE: u64 = 1_000_000;

/// The largest amount accepted from any input, in whole units. Far above any
/// real daily dose, yet small enough that products of two amounts fit `u128`
/// and sums over a ten-year plan fit `u64`.
pub const MAX_WHOLE: u64 = 1_000_000;

/// An exact non-negative amount in micro-units (of mg, or of mL for volumes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dose(u64);

impl Dose {
    pub const ZERO: Dose = Dose(0);

    pub const fn from_micro(micro: u64) -> Dose {
        Dose(micro)
    }

    pub const fn micro(self) -> u64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, saturating (sums of a day's doses never come near).
    pub fn plus(self, other: Dose) -> Dose {
        Dose(self.0.saturating_add(other.0))
    }

    pub fn checked_add(self, other: Dose) -> Option<Dose> {
        self.0.checked_add(other.0).map(Dose)
    }

    pub fn checked_sub(self, other: Dose) -> Option<Dose> {
        self.0.checked_sub(other.0).map(Dose)
    }

    pub fn checked_mul(self, n: u64) -> Option<Dose> {
        self.0.checked_mul(n).map(Dose)
    }

    /// Parses a plain non-negative decimal (`7.5`, `0.25`, `60`) exactly.
    /// Rejects signs, exponents, `inf`/`nan`, more than six decimals and
    /// values above [`MAX_WHOLE`], so nothing is ever rounded or wrapped.
    pub fn parse_decimal(text: &str) -> Result<Dose, DecimalError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DecimalError::Empty);
        }
        if t.starts_with('-') {
            return Err(DecimalError::Negative);
        }
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits_ok(whole) || !digits_ok(frac) {
            return Err(DecimalError::NotANumber);
        }
        if t.ends_with('.') {
            return Err(DecimalError::NotANumber);
        }
        let frac_trimmed = frac.trim_end_matches('0');
        if frac_trimmed.len() > 6 {
            return Err(DecimalError::TooPrecise);
        }
        let whole_trimmed = whole.trim_start_matches('0');
        if whole_trimmed.len() > 7 {
            return Err(DecimalError::TooLarge);
        }
        let w: u64 = if whole_trimmed.is_empty() {
            0
        } else {
            whole_trimmed.parse().map_err(|_| DecimalError::TooLarge)?
        };
        if w > MAX_WHOLE {
            return Err(DecimalError::TooLarge);
        }
        let mut f: u64 = 0;
        for (i, b) in frac_trimmed.bytes().enumerate() {
            f += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
        }
        let micro = w * SCALE + f;
        if micro > MAX_WHOLE * SCALE {
            return Err(DecimalError::TooLarge);
        }
        Ok(Dose(micro))
    }

    /// Converts a volume (micro-mL) to a dose given a concentration (micro-mg
    /// per mL). Exact: returns `None` if the result is not a whole micro-mg or
    /// overflows.
    pub fn from_volume(volume: Dose, concentration: Dose) -> Option<Dose> {
        let product = u128::from(volume.0) * u128::from(concentration.0);
        if product % u128::from(SCALE) != 0 {
            return None;
        }
        u64::try_from(product / u128::from(SCALE)).ok().map(Dose)
    }

    /// The volume (micro-mL) holding this dose at `concentration`, if exact.
    pub fn to_volume(self, concentration: Dose) -> Option<Dose> {
        if concentration.0 == 0 {
            return None;
        }
        let num = u128::from(self.0) * u128::from(SCALE);
        let c = u128::from(concentration.0);
        if num % c != 0 {
            return None;
        }
        u64::try_from(num / c).ok().map(Dose)
    }

    /// `self × numerator / denominator`, rounded up, in exact integers.
    pub fn mul_div_ceil(self, numerator: u64, denominator: u64) -> Option<Dose> {
        if denominator == 0 {
            return None;
        }
        let n = u128::from(self.0) * u128::from(numerator);
        let d = u128::from(denominator);
        u64::try_from(n.div_ceil(d)).ok().map(Dose)
    }

    /// `self × num / den` for two amounts (an equivalence, an MME factor),
    /// rounded half up to a micro-unit, and whether that was exact.
    pub fn scaled(self, num: Dose, den: Dose) -> (Dose, bool) {
        let n = u128::from(self.0) * u128::from(num.0);
        let d = u128::from(den.0.max(1));
        let q = (n * 2 + d) / (2 * d);
        (Dose(u64::try_from(q).unwrap_or(u64::MAX)), n % d == 0)
    }
}

/// Greatest common divisor, used to find the finest grid a set of products
/// can measure.
pub fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    Empty,
    Negative,
    NotANumber,
    TooPrecise,
    TooLarge,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecimalError::Empty => "it is empty",
            DecimalError::Negative => "it is negative",
            DecimalError::NotANumber => "it is not a plain decimal number",
            DecimalError::TooPrecise => "it has more than 6 decimal places",
            DecimalError::TooLarge => "it is larger than 1000000",
        })
    }
}

/// Plain decimal text: no unit, no trailing zeros, leading zero kept
/// (`7.5`, `60`, `0.5`). This is the only place amounts become text.
impl fmt::Display for Dose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / SCALE;
        let frac = self.0 % SCALE;
        if frac == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{frac:06}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl Serialize for Dose {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dose {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Dose::parse_decimal(&text)
            .map_err(|e| serde::de::Error::custom(format!("'{text}' is not a valid amount: {e}")))
    }
}

/// A signed change between two doses, shown as `-5`, `0` or `+2.5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub from: Dose,
    pub to: Dose,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use std::cmp::Ordering::*;
        match self.to.cmp(&self.from) {
            Equal => f.write_str("0"),
            Less => write!(f, "-{}", Dose(self.from.0 - self.to.0)),
            Greater => write!(f, "+{}", Dose(self.to.0 - self.from.0)),
        }
    }
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The unit an amount was typed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypedUnit {
    /// No unit: the profile's own unit.
    Bare,
    Mg,
    Mcg,
    Ml,
}

/// An amount as the user typed it, before the profile resolves its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypedAmount {
    pub value: Dose,
    pub unit: TypedUnit,
}

impl TypedAmount {
    /// Parses `60mg`, `60 mg`, `60`, `0.1mg`, `100mcg`, `2.5mL`.
    pub fn parse(text: &str) -> Result<TypedAmount, String> {
        let t = text.trim();
        if let Some(fixed) = decimal_point(t).filter(|f| TypedAmount::parse(f).is_ok()) {
            return Err(format!(
                "'{text}' has a decimal comma (accepted: use a decimal point: {fixed})"
            ));
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let unit = match unit.trim().to_ascii_lowercase().as_str() {
            "" => TypedUnit::Bare,
            "mg" => TypedUnit::Mg,
            "mcg" | "microgram" | "micrograms" => TypedUnit::Mcg,
            "ml" => TypedUnit::Ml,
            other => {
                return Err(format!(
                    "'{text}' has unknown unit '{other}' (accepted: mg, mcg, mL, or a bare number in the profile's unit)"
                ))
            }
        };
        let num = num.strip_prefix('+').unwrap_or(num);
        let value = Dose::parse_decimal(num).map_err(|e| {
            format!("'{text}' is not a valid amount: {e} (accepted: a positive number with an optional unit, e.g. 60mg, 7.5 mg, 100mcg, 2.5mL)")
        })?;
        Ok(TypedAmount { value, unit })
    }

    /// The amount in mg when it was typed in mg, mcg or bare; `None` for mL,
    /// which needs a liquid's concentration. mcg → mg is exact because the
    /// micro-scale keeps six decimals; mcg with more than three decimals is
    /// refused rather than rounded.
    pub fn to_mg(self) -> Result<Option<Dose>, String> {
        match self.unit {
            TypedUnit::Bare | TypedUnit::Mg => Ok(Some(self.value)),
            TypedUnit::Mcg => {
                if !self.value.0.is_multiple_of(1000) {
                    return Err(format!(
                        "{} mcg is more precise than 0.001 mcg, which taper cannot hold exactly",
                        self.value
                    ));
                }
                Ok(Some(Dose(self.value.0 / 1000)))
            }
            TypedUnit::Ml => Ok(None),
        }
    }
}

/// `60,5mg` → `60.5mg`: the text with its one comma between two digits
/// made a decimal point, for a hint (many locales write a decimal comma;
/// taper never guesses, it says what to type).
pub fn decimal_point(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut commas = b.iter().enumerate().filter(|(_, &c)| c == b',');
    let (i, _) = commas.next()?;
    let between_digits =
        i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit);
    (commas.next().is_none() && between_digits).then(|| text.replacen(',', ".", 1))
}

/// Parses a hold length: `7`, `7d`, `2w`. Between 1 day and 10 years.
pub fn parse_interval(text: &str) -> Result<u32, String> {
    let t = text.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = t.strip_suffix('w') {
        (n.trim(), 7u64)
    } else if let Some(n) = t.strip_suffix('d') {
        (n.trim(), 1u64)
    } else {
        (t.as_str(), 1u64)
    };
    let accepted = "accepted: a whole number of days from 1 to 3650, e.g. 7, 7d or 2w";
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || num.len() > 6 {
        return Err(format!("interval '{text}' is not valid ({accepted})"));
    }
    let n: u64 = num
        .parse()
        .map_err(|_| format!("interval '{text}' is not valid ({accepted})"))?;
    let days = n * mult;
    if days == 0 || days > 3650 {
        return Err(format!("interval '{text}' is out of range ({accepted})"));
    }
    Ok(days as u32)
}

/// A percentage held exactly in micro-percent (12.5 % = 12_500_000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(pub Dose);

impl Percent {
    /// Parses `10`, `12.5`, `10%`; accepts only 0 < P < 100.
    pub fn parse_open(text: &str) -> Result<Percent, String> {
        let t = text.trim();
        let t = t.strip_suffix('%').unwrap_or(t);
        let accepted = "accepted: a number greater than 0 and less than 100, e.g. 10 or 12.5";
        if let Some(fixed) = decimal_point(t).filter(|f| Dose::parse_decimal(f).is_ok()) {
            return Err(format!(
                "percent '{text}' has a decimal comma (accepted: use a decimal point: {fixed})"
            ));
        }
        let p = Dose::parse_decimal(t)
            .map_err(|e| format!("percent '{text}' is not valid: {e} ({accepted})"))?;
        if p.is_zero() || p.micro() >= 100 * SCALE {
            return Err(format!("percent '{text}' is out of range ({accepted})"));
        }
        Ok(Percent(p))
    }

    pub fn micro(self) -> u64 {
        self.0.micro()
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(t: &str) -> Dose {
        Dose::parse_decimal(t).unwrap()
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(d("7.5").micro(), 7_500_000);
        assert_eq!(d("0.1").micro(), 100_000);
        assert_eq!(d("60").micro(), 60_000_000);
        assert_eq!(d("0.000001").micro(), 1);
        assert_eq!(d("007.50").micro(), 7_500_000);
        assert_eq!(d(".5").micro(), 500_000);
    }

    #[test]
    fn rejects_bad_decimals() {
        for bad in [
            "",
            "-1",
            "1e3",
            "inf",
            "NaN",
            "1.2.3",
            "1.",
            "0.0000001",
            "99999999",
            "1,5",
            ".",
        ] {
            assert!(Dose::parse_decimal(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn displays_ismp_style() {
        assert_eq!(d("7.5").to_string(), "7.5");
        assert_eq!(d("5.0").to_string(), "5");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("0.125").to_string(), "0.125");
        assert_eq!(Dose::ZERO.to_string(), "0");
    }

    #[test]
    fn typed_amounts() {
        let a = TypedAmount::parse("60 mg").unwrap();
        assert_eq!(a.to_mg().unwrap(), Some(d("60")));
        let a = TypedAmount::parse("100mcg").unwrap();
        assert_eq!(a.to_mg().unwrap(), Some(d("0.1")));
        let a = TypedAmount::parse("2.5mL").unwrap();
        assert_eq!(a.unit, TypedUnit::Ml);
        assert!(TypedAmount::parse("60 kg").is_err());
        assert!(TypedAmount::parse("-5mg").is_err());
        assert!(TypedAmount::parse("mg").is_err());
    }

    #[test]
    fn a_decimal_comma_gets_a_hint() {
        let e = TypedAmount::parse("60,5mg").unwrap_err();
        assert!(e.ends_with("use a decimal point: 60.5mg)"), "{e}");
        let e = TypedAmount::parse("2,5 mL").unwrap_err();
        assert!(e.ends_with("use a decimal point: 2.5 mL)"), "{e}");
        let e = Percent::parse_open("12,5").unwrap_err();
        assert!(e.ends_with("use a decimal point: 12.5)"), "{e}");
        // No hint where a point would not help either.
        for bad in ["60,5,5mg", ",5mg", "60,mg", "60,5kg"] {
            let e = TypedAmount::parse(bad).unwrap_err();
            assert!(!e.contains("decimal point"), "{bad}: {e}");
        }
    }

    #[test]
    fn volumes_convert_exactly() {
        assert_eq!(Dose::from_volume(d("2.5"), d("2")), Some(d("5")));
        assert_eq!(d("5").to_volume(d("2")), Some(d("2.5")));
        assert_eq!(d("1").to_volume(d("3")), None);
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("7"), Ok(7));
        assert_eq!(parse_interval("7d"), Ok(7));
        assert_eq!(parse_interval("2w"), Ok(14));
        for bad in ["0", "-7", "1.5", "7x", "", "w", "99999w"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percents() {
        assert_eq!(Percent::parse_open("12.5").unwrap().micro(), 12_500_000);
        for bad in ["0", "100", "150", "-3", "abc"] {
            assert!(Percent::parse_open(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changes_are_signed() {
        let c = Change {
            from: d("10"),
            to: d("7.5"),
        };
        assert_eq!(c.to_string(), "-2.5");
        let c = Change {
            from: d("10"),
            to: d("10"),
        };
        assert_eq!(c.to_string(), "0");
    }
}
