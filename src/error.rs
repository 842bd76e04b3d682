//! The one error type of the library, and the exit code each failure maps to.
//!
//! Every variant carries the bad value and what is accepted, so `main` can
//! print a single `error: …` line. Usage and validation failures exit 2; I/O
//! failures exit 1.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// A bad value on the command line or in a request.
    #[error("{0}")]
    Usage(String),

    #[error("unknown profile '{name}'{}", suggestion_text(suggestion.as_deref(), known, *more))]
    UnknownProfile {
        name: String,
        /// The names shown: all of them when there are few, else the closest.
        known: Vec<String>,
        /// Known names not shown.
        more: usize,
        suggestion: Option<String>,
    },

    /// A profile file that is not one taper reads (not a regular file,
    /// too large, not UTF-8): bad input, exit 2.
    #[error("cannot read profile {path}: {message}")]
    ProfileRead { path: String, message: String },

    /// The system could not read a profile file (missing, no permission,
    /// a read error): an I/O error, exit 1, like every other I/O error.
    #[error("cannot read profile {path}: {message}")]
    ProfileIo { path: String, message: String },

    /// Located problems in a profile file, one per line.
    #[error("{}", .0.join("\n"))]
    InvalidProfile(Vec<String>),

    /// A plan that would break a hard limit (e.g. longer than ten years).
    #[error("{0}")]
    PlanRefused(String),

    #[error("output file {path} already exists (use --force to overwrite it)")]
    OutputExists { path: String },

    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },

    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },

    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn suggestion_text(suggestion: Option<&str>, known: &[String], more: usize) -> String {
    let mut s = format!(" (known profiles: {}", known.join(", "));
    if more > 0 {
        s.push_str(&format!(" and {more} more: see `taper profiles`"));
    }
    if let Some(m) = suggestion {
        s.push_str(&format!("; did you mean '{m}'?"));
    }
    s.push(')');
    s
}

impl Error {
    /// 2 for usage/validation, 1 for I/O.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::UnknownProfile { .. }
            | Error::InvalidProfile(_)
            | Error::PlanRefused(_) => 2,
            // A named profile file that cannot be read is bad input too.
            Error::ProfileRead { .. } => 2,
            Error::OutputExists { .. }
            | Error::ProfileIo { .. }
            | Error::Read { .. }
            | Error::Write { .. }
            | Error::Io(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
