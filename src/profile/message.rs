//! How text from a profile, a folder or the command line appears in a
//! message: quoted briefly with control characters escaped, and compared
//! with the accepted names so that a long list is cut to the closest few.

/// Most accepted values named in one message: the closest ones, then how
/// many others there are.
pub const MAX_NAMES_SHOWN: usize = 5;

/// Characters of a value compared when looking for the closest accepted
/// name (string similarity costs the product of the lengths).
const SIMILARITY_CHARS: usize = 64;

/// Characters of a foreign value quoted in a message.
const QUOTED_CHARS: usize = 60;

/// At most `n` characters of `s` (then `…`), control characters escaped.
fn cut(s: &str, n: usize) -> String {
    let cut = match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    };
    crate::terminal::escape(&cut).into_owned()
}

/// Like [`quoted`] for longer text (a parser's message): at most 300
/// characters.
pub(super) fn quoted_long(s: &str) -> String {
    cut(s, 300)
}

/// A foreign value as quoted in a message: at most [`QUOTED_CHARS`]
/// characters, control characters escaped.
pub(super) fn quoted(s: &str) -> String {
    cut(s, QUOTED_CHARS)
}

/// The first [`SIMILARITY_CHARS`] characters of `s`.
fn similarity_prefix(s: &str) -> &str {
    s.char_indices()
        .nth(SIMILARITY_CHARS)
        .map_or(s, |(i, _)| &s[..i])
}

/// The `n` names most like `value` (Jaro-Winkler on their first
/// [`SIMILARITY_CHARS`] characters), best first, ties by name.
pub(super) fn closest<'a>(
    value: &str,
    names: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<(f64, &'a str)> {
    let v = similarity_prefix(value);
    let mut best: Vec<(f64, &'a str)> = Vec::with_capacity(n + 1);
    for name in names {
        let score = strsim::jaro_winkler(v, similarity_prefix(name));
        let better = |o: &(f64, &str)| score > o.0 || (score == o.0 && name < o.1);
        if best.len() < n || best.last().is_some_and(better) {
            let at = best.iter().position(better).unwrap_or(best.len());
            best.insert(at, (score, name));
            best.truncate(n);
        }
    }
    best
}

/// `accepted` names for a message: all of them when there are at most
/// [`MAX_NAMES_SHOWN`], else the closest to `value` and how many others.
pub(super) fn some_names<'a>(value: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.len() <= MAX_NAMES_SHOWN {
        return names
            .iter()
            .map(|n| quoted(n))
            .collect::<Vec<_>>()
            .join(", ");
    }
    let shown: Vec<String> = closest(value, names.iter().copied(), MAX_NAMES_SHOWN)
        .into_iter()
        .map(|(_, n)| quoted(n))
        .collect();
    format!(
        "{} and {} others",
        shown.join(", "),
        names.len() - shown.len()
    )
}
