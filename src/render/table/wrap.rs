//! Wrapping text to the terminal width. Lines break only at ASCII spaces, so
//! a date (`2026-12-15`) or a number is never split; an amount and its unit
//! are glued with [`glue`] so `15 mg` stays on one line too.

use unicode_width::UnicodeWidthStr;

/// Marks a space that must not break; [`wrap`] turns it back into a space.
const GLUE: char = '\u{a0}';

/// The narrowest layout taper draws: below this a date and its label no
/// longer fit, so a narrower width is treated as this one.
pub const MIN_WIDTH: usize = 30;

/// `text` with its spaces made unbreakable (for amounts such as `15 mg`).
pub fn glue(text: &str) -> String {
    text.replace(' ', "\u{a0}")
}

/// `text` with each amount kept on one line: `2 × 10 mg` breaks neither
/// around the `×` nor between a number and its unit.
pub fn glue_amounts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev = "";
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            let unit = word.trim_end_matches([',', ';', '.', ')']);
            let after_number = prev.ends_with(|c: char| c.is_ascii_digit() || "½¼¾".contains(c));
            let unit = matches!(unit, "mg" | "mL" | "mcg" | "µg" | "g") || unit.starts_with("mg/");
            let glued = word == "×" || prev == "×" || (after_number && unit);
            out.push(if glued { GLUE } else { ' ' });
        }
        out.push_str(word);
        prev = word;
    }
    out
}

/// Columns `text` takes on a terminal (ANSI codes are not part of it).
pub fn width(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// `text` wrapped to `width` columns: `first` starts the first line, `rest`
/// every following line (a hanging indent). Amounts stay whole
/// ([`glue_amounts`]); a word longer than a whole line is cut, so no line
/// is ever wider than `width`.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let opts = textwrap::Options::new(width.max(MIN_WIDTH))
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(true)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    textwrap::wrap(&glue_amounts(text), opts)
        .into_iter()
        .map(|l| l.replace(GLUE, " "))
        .collect()
}

/// Like [`wrap`] with no indent, as one cell text (lines joined by `\n`).
pub fn cell(text: &str, width: usize) -> String {
    let opts = textwrap::Options::new(width.max(1))
        .break_words(true)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    textwrap::wrap(text, opts)
        .iter()
        .map(|l| l.replace(GLUE, " "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The widest unbreakable piece of `text`.
pub fn longest_word(text: &str) -> usize {
    text.split(' ')
        .map(UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_only_at_spaces_and_keeps_glued_amounts() {
        let text = format!(
            "Dates: 2026-12-01 to 2027-02-16, then {} a day",
            glue("15 mg")
        );
        let lines = wrap(&text, 30, "", "  ");
        assert_eq!(
            lines,
            ["Dates: 2026-12-01 to", "  2027-02-16, then 15 mg a day"]
        );
        assert!(lines.iter().all(|l| width(l) <= 30));
    }

    #[test]
    fn amounts_stay_whole() {
        let text = glue_amounts("morning: 2 × 10 mg tablet; bedtime: 1½ × 10 mg tablet");
        let lines = wrap(&text, 30, "", "");
        assert_eq!(
            lines,
            ["morning: 2 × 10 mg tablet;", "bedtime: 1½ × 10 mg tablet"]
        );
    }

    #[test]
    fn cuts_a_word_longer_than_the_line() {
        let lines = wrap(&"x".repeat(70), 30, "", "  ");
        assert!(lines.iter().all(|l| width(l) <= 30), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), "x".repeat(70));
    }
}
