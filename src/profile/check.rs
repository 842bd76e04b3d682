//! Collecting a profile's problems: each located as `FILE:LINE:COL`, at
//! most [`MAX_PROBLEMS_PER_KIND`] of a kind, so that a hostile file cannot
//! make the report grow with its problems.

use crate::dose::{Dose, Percent, SCALE};

use super::message::{quoted, quoted_long};
use super::raw::S;

/// Problems of one kind reported in full per profile file; the rest of
/// that kind are counted in one closing line.
pub const MAX_PROBLEMS_PER_KIND: usize = 10;

/// Byte offsets of line starts, for 1-based line and column of an offset
/// by binary search (the text is scanned once, not once per problem).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = text
            .get(start..offset)
            .map_or(offset - start, |l| l.chars().count());
        (line, col + 1)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(text, offset)
}

/// Collects located problems so `profiles check` can report them all, but
/// at most [`MAX_PROBLEMS_PER_KIND`] of each kind: a hostile file cannot
/// make the report, or the time to write it, grow with its problems.
pub(super) struct Checker<'a> {
    file: String,
    text: &'a str,
    lines: Option<LineIndex>,
    problems: Vec<String>,
    /// Problems seen per kind, in the order kinds were first seen.
    kinds: Vec<(&'static str, usize)>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(file: &str, text: &'a str) -> Checker<'a> {
        Checker {
            file: crate::terminal::escape(file).into_owned(),
            text,
            lines: None,
            problems: Vec::new(),
            kinds: Vec::new(),
        }
    }

    /// Counts a problem of `kind`; true when it is to be reported in full.
    fn counts(&mut self, kind: &'static str) -> bool {
        let seen = match self.kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => n,
            None => {
                self.kinds.push((kind, 0));
                &mut self.kinds.last_mut().expect("just pushed").1
            }
        };
        *seen += 1;
        *seen <= MAX_PROBLEMS_PER_KIND
    }

    pub(super) fn at(&mut self, kind: &'static str, offset: usize, message: impl AsRef<str>) {
        self.at_with(kind, offset, || message.as_ref().to_string());
    }

    /// Like [`Checker::at`], building the message only when it is shown
    /// (messages may compare a value with every accepted name).
    pub(super) fn at_with(
        &mut self,
        kind: &'static str,
        offset: usize,
        message: impl FnOnce() -> String,
    ) {
        if !self.counts(kind) {
            return;
        }
        let text = self.text;
        let (line, col) = self
            .lines
            .get_or_insert_with(|| LineIndex::new(text))
            .line_col(text, offset);
        self.problems
            .push(format!("{}:{line}:{col}: {}", self.file, message()));
    }

    pub(super) fn has_problems(&self) -> bool {
        !self.kinds.is_empty()
    }

    /// The reported problems, then one line per kind with more than
    /// [`MAX_PROBLEMS_PER_KIND`].
    pub(super) fn finish(self) -> Vec<String> {
        let mut out = self.problems;
        for (kind, n) in self.kinds {
            if n > MAX_PROBLEMS_PER_KIND {
                out.push(format!(
                    "{}: … and {} more {kind} problems (only the first {MAX_PROBLEMS_PER_KIND} of each kind are shown)",
                    self.file,
                    n - MAX_PROBLEMS_PER_KIND
                ));
            }
        }
        out
    }

    pub(super) fn positive_amount(&mut self, v: &S<String>, what: &'static str) -> Option<Dose> {
        match Dose::parse_decimal(v.get_ref()) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.at(what,
                    v.span().start,
                    format!("{what} must be greater than 0 (accepted: a positive decimal in quotes, e.g. \"10\" or \"2.5\")"),
                );
                None
            }
            Err(e) => {
                self.at(what,
                    v.span().start,
                    format!("{what} '{}' is not valid: {} (accepted: a positive decimal in quotes, e.g. \"10\" or \"2.5\")", quoted(v.get_ref()), quoted_long(&e.to_string())),
                );
                None
            }
        }
    }

    pub(super) fn percent(
        &mut self,
        v: &S<String>,
        what: &'static str,
        allow_100: bool,
    ) -> Option<Percent> {
        let parsed = Dose::parse_decimal(v.get_ref());
        let limit = if allow_100 {
            100 * SCALE
        } else {
            100 * SCALE - 1
        };
        match parsed {
            Ok(d) if !d.is_zero() && d.micro() <= limit => Some(Percent(d)),
            _ => {
                let range = if allow_100 {
                    "0 < P <= 100"
                } else {
                    "0 < P < 100"
                };
                self.at(what,
                    v.span().start,
                    format!("{what} '{}' is not a valid percentage (accepted: a decimal in quotes, {range})", quoted(v.get_ref())),
                );
                None
            }
        }
    }

    pub(super) fn days(&mut self, v: &S<i64>, what: &'static str) -> Option<u32> {
        let n = *v.get_ref();
        if (1..=3650).contains(&n) {
            Some(n as u32)
        } else {
            self.at(
                what,
                v.span().start,
                format!("{what} {n} is out of range (accepted: whole days from 1 to 3650)"),
            );
            None
        }
    }
}
