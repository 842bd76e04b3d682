//! From a request's fields to a plan and its file: the one path the API,
//! the page and its downloads share, and the same as `taper batch`'s.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::batch::{self, RowFields};
use crate::error::Error;
use crate::profile::{self, Profile, ProfileCatalog, ProfileDirs};
use crate::render::{self, Extras, Format, View};
use crate::schedule::Plan;

/// A plan, with what its renderers need.
pub(super) struct Drafted {
    pub plan: Plan,
    pub extras: Extras,
}

/// Why a request gave no plan.
#[derive(Debug)]
pub(super) enum Refusal {
    /// What `taper plan` refuses with exit 2 (the same words): 422.
    Invalid(String),
    /// The same, about a field known without reading the message (which
    /// profile could not be loaded).
    About(&'static str, String),
    /// The server could not read what it needs: 500.
    Server(String),
}

impl Refusal {
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            Refusal::Invalid(_) | Refusal::About(..) => {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            }
            Refusal::Server(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Refusal::Invalid(m) | Refusal::About(_, m) | Refusal::Server(m) => m,
        }
    }

    /// The form field the refusal is about, if one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Refusal::About(field, _) => Some(field),
            Refusal::Invalid(m) => super::fields::field_of(m),
            Refusal::Server(_) => None,
        }
    }
}

/// Drafts the plan `fields` ask for, with profiles from the server's own
/// folders only.
pub(super) fn draft(
    fields: &RowFields,
    dirs: &ProfileDirs,
    today: NaiveDate,
) -> Result<Drafted, Refusal> {
    if let Some(p) = &fields.problem {
        return Err(Refusal::Invalid(p.clone()));
    }
    // Read per request, as each `taper plan` does: a profile file edited
    // or added on the server counts from the next request.
    let catalog = ProfileCatalog::scan(dirs);
    let profile = load(&catalog, "profile", fields.profile.as_deref().unwrap_or(""))?;
    let switch_to = match fields.switch_to() {
        Some(name) => Some(Arc::new(load(&catalog, "switch_to", name)?)),
        None => None,
    };
    let (plan, extras) =
        batch::plan_fields(Arc::new(profile), switch_to, fields, today).map_err(|e| refusal(&e))?;
    Ok(Drafted { plan, extras })
}

/// Loads a profile by name; a path is refused (no file on the server is
/// named by a request).
fn load(catalog: &ProfileCatalog, what: &'static str, name: &str) -> Result<Profile, Refusal> {
    if profile::looks_like_path(name) {
        return Err(Refusal::About(what, format!(
            "{what} '{}' is a file path; the server reads profiles only from its own profile folders (accepted: a profile name, see GET /api/profiles)",
            crate::terminal::escape(name)
        )));
    }
    catalog.find(name).map(|f| f.profile).map_err(|e| match e {
        // A file the server cannot read is the server's problem; its
        // path stays on the server.
        Error::ProfileIo { .. } => Refusal::Server(format!(
            "the server could not read the file of profile '{}' (its administrator can check it with `taper profiles`)",
            crate::terminal::escape(name)
        )),
        Error::UnknownProfile { .. } => Refusal::About(what, batch::one_line(&e)),
        other => Refusal::About(what, batch::profile_problem(name, &other)),
    })
}

fn refusal(e: &Error) -> Refusal {
    let message = batch::one_line(e);
    if e.exit_code() == 2 {
        Refusal::Invalid(message)
    } else {
        Refusal::Server(message)
    }
}

/// The plan's file in `format`: the bytes `taper plan --format` writes.
pub(super) fn render(d: &Drafted, format: Format, view: View) -> Result<Vec<u8>, Refusal> {
    let mut buf = Vec::with_capacity(32 * 1024);
    render::render_with(&d.plan, format, view, false, &d.extras, &mut buf)
        .map_err(|e| Refusal::Server(batch::one_line(&e)))?;
    Ok(buf)
}

/// The plan id every file of this plan carries.
pub(super) fn plan_id(d: &Drafted) -> &str {
    d.extras.plan_id.as_deref().unwrap_or("")
}

/// A download's file name: `baclofen-<plan id>.csv`, with only
/// characters every file system takes.
pub(super) fn file_name(d: &Drafted, suffix: &str) -> String {
    let safe = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    format!(
        "{}-{}{suffix}",
        safe(&d.plan.profile.name),
        safe(plan_id(d))
    )
}

/// A fingerprint of everything the plan says (its JSON, steps view): a
/// download checks it, so a file is never of another plan than the one
/// shown (a profile edited in between).
pub(super) fn fingerprint(d: &Drafted) -> String {
    let mut json = Vec::new();
    let _ = render::json::write(&d.plan, View::Steps, &d.extras, &mut json);
    let mut h = crate::identity::Fnv1a128::new();
    h.write(&json);
    format!("{:032x}", h.0)
}
