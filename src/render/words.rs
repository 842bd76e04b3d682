//! Whole numbers in English words, as controlled-drug prescriptions write
//! quantities: "fifty-three (53) tablets". UK usage puts "and" after the
//! hundreds ("one hundred and twelve"); US usage does not.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const GROUPS: [(u64, &str); 6] = [
    (1_000_000_000_000_000_000, "quintillion"),
    (1_000_000_000_000_000, "quadrillion"),
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// `n` in words: `fifty-three`, `one hundred and twelve` (`british`) or
/// `one hundred twelve`.
pub fn number(n: u64, british: bool) -> String {
    if n == 0 {
        return ONES[0].into();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut rest = n;
    for (size, name) in GROUPS {
        if rest >= size {
            parts.push(format!("{} {name}", below_thousand(rest / size, british)));
            rest %= size;
        }
    }
    if rest > 0 {
        // "one thousand and five": British usage joins a last group below
        // a hundred with "and".
        let and = british && !parts.is_empty() && rest < 100;
        let words = below_thousand(rest, british);
        parts.push(if and { format!("and {words}") } else { words });
    }
    parts.join(" ")
}

fn below_thousand(n: u64, british: bool) -> String {
    let (hundreds, rest) = (n / 100, n % 100);
    let tail = below_hundred(rest);
    match (hundreds, rest) {
        (0, _) => tail,
        (h, 0) => format!("{} hundred", ONES[h as usize]),
        (h, _) if british => format!("{} hundred and {tail}", ONES[h as usize]),
        (h, _) => format!("{} hundred {tail}", ONES[h as usize]),
    }
}

fn below_hundred(n: u64) -> String {
    match n {
        0..=19 => ONES[n as usize].into(),
        _ if n.is_multiple_of(10) => TENS[(n / 10) as usize].into(),
        _ => format!("{}-{}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_read_as_written_on_prescriptions() {
        assert_eq!(number(0, false), "zero");
        assert_eq!(number(7, false), "seven");
        assert_eq!(number(53, false), "fifty-three");
        assert_eq!(number(90, true), "ninety");
        assert_eq!(number(112, true), "one hundred and twelve");
        assert_eq!(number(112, false), "one hundred twelve");
        assert_eq!(number(500, true), "five hundred");
        assert_eq!(number(1005, true), "one thousand and five");
        assert_eq!(number(1005, false), "one thousand five");
        assert_eq!(
            number(12_345, true),
            "twelve thousand three hundred and forty-five"
        );
        assert_eq!(number(2_000_000, false), "two million");
        assert!(number(u64::MAX, false).starts_with("eighteen quintillion"));
    }
}
