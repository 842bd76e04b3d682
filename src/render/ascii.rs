//! ASCII spellings for `--ascii` CSV: spreadsheets that guess a legacy
//! charset show `×` as `Ã—`, so every character is written in ASCII. The
//! symbols taper writes itself get the spelling a prescriber expects
//! (`1½ ×` → `1 1/2 x`, `µg` → `mcg`); any other text (patient names,
//! profile prose) is transliterated by `deunicode` (`Zoë` → `Zoe`).

use std::borrow::Cow;

/// `text` in ASCII only; borrowed when it already is.
pub fn spell(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        if let Some(fraction) = fraction(c) {
            // A mixed number needs a space: `1½` → `1 1/2`.
            if out.ends_with(|p: char| p.is_ascii_digit()) {
                out.push(' ');
            }
            out.push_str(fraction);
            continue;
        }
        match c {
            // `µg` is written `mcg` (ISMP: never `µg`, never `ug`).
            'µ' | 'μ' if chars.peek() == Some(&'g') => out.push_str("mc"),
            'µ' | 'μ' => out.push('u'),
            _ => out.push_str(symbol(c).unwrap_or_else(|| transliterate(c))),
        }
    }
    Cow::Owned(out)
}

/// Vulgar fractions, as the numbers they are.
fn fraction(c: char) -> Option<&'static str> {
    Some(match c {
        '½' => "1/2",
        '¼' => "1/4",
        '¾' => "3/4",
        '⅓' => "1/3",
        '⅔' => "2/3",
        '⅛' => "1/8",
        '⅜' => "3/8",
        '⅝' => "5/8",
        '⅞' => "7/8",
        _ => return None,
    })
}

/// The symbols taper's own text uses, and their usual neighbours.
fn symbol(c: char) -> Option<&'static str> {
    Some(match c {
        '×' => "x",
        '−' | '–' | '‐' | '‑' => "-",
        '—' => "--",
        '→' => "->",
        '←' => "<-",
        '·' | '•' => "-",
        '≥' => ">=",
        '≤' => "<=",
        '≈' => "~",
        '±' => "+/-",
        '‘' | '’' | '′' => "'",
        '“' | '”' | '″' => "\"",
        '…' => "...",
        '°' => " degrees",
        '\u{a0}' | '\u{2009}' | '\u{202f}' => " ",
        _ => return None,
    })
}

/// Anything else, by `deunicode`; `?` for what it cannot spell.
fn transliterate(c: char) -> &'static str {
    match deunicode::deunicode_char(c) {
        Some(s) if s.is_ascii() => s,
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_tapers_symbols() {
        assert_eq!(
            spell("morning: 2 × 10 mg tablet; bedtime: 1½ × 10 mg tablet"),
            "morning: 2 x 10 mg tablet; bedtime: 1 1/2 x 10 mg tablet"
        );
        assert_eq!(spell("½ × 10 mg, ¼, 2¾"), "1/2 x 10 mg, 1/4, 2 3/4");
        assert_eq!(spell("−5 → 0 · ≥ 2 ≤ 3"), "-5 -> 0 - >= 2 <= 3");
        assert_eq!(spell("25 µg, 50 μg, 5 µL"), "25 mcg, 50 mcg, 5 uL");
        assert_eq!(
            spell("“dilute” ‘first’ – then—stop…"),
            "\"dilute\" 'first' - then--stop..."
        );
    }

    #[test]
    fn transliterates_other_text() {
        assert_eq!(spell("Zoë Ångström-Müller"), "Zoe Angstrom-Muller");
        assert!(spell("李小龍 😀 \u{10ffff}").is_ascii());
        assert!(matches!(spell("plain"), Cow::Borrowed("plain")));
    }
}
