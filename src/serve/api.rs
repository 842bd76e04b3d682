//! The HTTP API: `POST /api/plan`, `GET /api/profiles`, `GET /healthz`.

use axum::body::Body;
use axum::extract::{RawQuery, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::app::{error_body, read_body, Rejected, State};
use super::draft::{self, Drafted};
use super::fields::{self, BadBody};
use crate::profile::ProfileCatalog;
use crate::profile::ProfileDirs;
use crate::render::{Format, View};
use chrono::NaiveDate;

pub(super) async fn healthz() -> Response {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") })).into_response()
}

/// Every profile the server can plan with, and what a request may name.
pub(super) async fn profiles(Shared(state): Shared<State>) -> Response {
    match state
        .blocking(|s| listing(&ProfileCatalog::scan(&s.dirs)))
        .await
    {
        Ok(list) => Json(json!({
            "profiles": list,
            "disclaimer": crate::schedule::DISCLAIMER,
        }))
        .into_response(),
        Err(u) => u.answer(true),
    }
}

fn listing(catalog: &ProfileCatalog) -> Vec<Value> {
    catalog
        .list()
        .into_iter()
        // A user file that replaces a built-in one is listed once, as the
        // user's (the one a request gets).
        .filter(|l| !l.skipped)
        .map(|l| {
            let origin = if l.origin == "built-in" { "built-in" } else { "user" };
            match catalog.load(&l.name) {
                Ok(p) => profile_json(&p, origin),
                Err(_) => json!({
                    "name": l.name,
                    "origin": origin,
                    "problem": "this profile file is not a valid taper profile (its administrator can check it with `taper profiles check`)",
                }),
            }
        })
        .collect()
}

fn profile_json(p: &crate::profile::Profile, origin: &str) -> Value {
    let products: Vec<Value> = p
        .formulations
        .iter()
        .map(|f| {
            json!({
                "key": f.key(&p.unit),
                "name": f.name(&p.unit),
                "form": f.form.as_str(),
                "markets": f.markets,
                "restricted": f.restricted,
            })
        })
        .collect();
    json!({
        "name": p.name,
        "display_name": p.display_name,
        "version": p.version,
        "origin": origin,
        "unit": p.unit,
        "markets": p.markets,
        "default_strategy": p.default.strategy.as_str(),
        "products": products,
        "switch_to": p.switch.as_ref().map(|s| s.to.clone()).unwrap_or_default(),
    })
}

/// What `?format=` or `Accept` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Answer {
    pub format: Format,
    pub view: Option<View>,
}

pub(super) const FORMATS: [(&str, Format, &str); 6] = [
    ("json", Format::Json, "application/json"),
    ("csv", Format::Csv, "text/csv; charset=utf-8"),
    ("ics", Format::Ics, "text/calendar; charset=utf-8"),
    ("html", Format::Html, "text/html; charset=utf-8"),
    ("fhir", Format::Fhir, "application/fhir+json"),
    ("table", Format::Table, "text/plain; charset=utf-8"),
];

/// The file name ending of each format.
pub(super) fn extension(format: Format) -> &'static str {
    match format {
        Format::Json => ".json",
        Format::Csv => ".csv",
        Format::Ics => ".ics",
        Format::Html => ".html",
        Format::Fhir => ".fhir.json",
        Format::Table => ".txt",
    }
}

pub(super) fn content_type(format: Format) -> &'static str {
    FORMATS
        .iter()
        .find(|(_, f, _)| *f == format)
        .map_or("application/octet-stream", |(_, _, t)| t)
}

/// Reads `?format=` and `?view=`, else `Accept`.
fn answer(query: Option<&str>, accept: Option<&str>) -> Result<Answer, Rejected> {
    let invalid = |m: String| Err(Rejected(StatusCode::UNPROCESSABLE_ENTITY, m));
    let mut format = None;
    let mut view = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "format" => match FORMATS
                .iter()
                .find(|(n, _, _)| *n == value.trim().to_ascii_lowercase())
            {
                Some((_, f, _)) => format = Some(*f),
                None => {
                    return invalid(format!(
                        "format '{}' is not valid (accepted: json, csv, ics, html, fhir, table)",
                        crate::terminal::escape(&value)
                    ))
                }
            },
            "view" => match value.trim().to_ascii_lowercase().as_str() {
                "steps" => view = Some(View::Steps),
                "days" => view = Some(View::Days),
                "fills" => view = Some(View::Fills),
                _ => {
                    return invalid(format!(
                        "view '{}' is not valid (accepted: steps, days, fills)",
                        crate::terminal::escape(&value)
                    ))
                }
            },
            other => {
                return invalid(format!(
                    "unknown query parameter '{}' (accepted: format, view)",
                    crate::terminal::escape(other)
                ))
            }
        }
    }
    let format = match format {
        Some(f) => f,
        None => from_accept(accept)?,
    };
    Ok(Answer { format, view })
}

/// The best format `Accept` names (by quality, then order); no header is
/// JSON.
fn from_accept(accept: Option<&str>) -> Result<Format, Rejected> {
    let Some(accept) = accept else {
        return Ok(Format::Json);
    };
    let mut ranges: Vec<(f32, &str)> = accept
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let range = pieces.next()?.trim();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0 && !range.is_empty()).then_some((q, range))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    let found = ranges.iter().find_map(|(_, range)| {
        let range = range.to_ascii_lowercase();
        match range.as_str() {
            "*/*" | "application/*" => Some(Format::Json),
            "text/*" => Some(Format::Table),
            // The type each format is sent as, without its parameters.
            exact => FORMATS
                .iter()
                .find(|(_, _, t)| t.split(';').next() == Some(exact))
                .map(|(_, f, _)| *f),
        }
    });
    found.ok_or_else(|| {
        Rejected(
            StatusCode::NOT_ACCEPTABLE,
            "none of the types in Accept can be answered (accepted: application/json, text/csv, text/calendar, text/html, application/fhir+json, text/plain; or ?format=json|csv|ics|html|fhir|table)".into(),
        )
    })
}

/// `POST /api/plan`: a batch row's fields as JSON, the plan back.
pub(super) async fn plan(
    Shared(state): Shared<State>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r.answer(true),
    };
    // A header that is not text names no type taper writes (406).
    let accept = headers
        .get(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let answered = state
        .draft(move |s| {
            plan_answer(
                query.as_deref(),
                accept.as_deref(),
                &body,
                &s.dirs,
                (s.clock)(),
            )
        })
        .await;
    match answered {
        Err(u) => u.answer(true),
        Ok(a) => a.into_response(),
    }
}

/// What `POST /api/plan` answers, before it is an HTTP response: public so
/// that the fuzz target drives the very code the server runs.
#[derive(Clone, Debug)]
pub struct PlanAnswer {
    pub status: u16,
    pub content_type: &'static str,
    /// The plan's file, or `{"error": …}`.
    pub body: Vec<u8>,
    /// A plan's id (`Taper-Plan-Id`), warning count (`Taper-Warnings`)
    /// and, for anything but JSON, its attachment's file name.
    pub plan: Option<(String, usize, Option<String>)>,
}

/// Answers a `POST /api/plan` with this query string, `Accept` header and
/// body, drafting with profiles from `dirs` on `today`.
pub fn plan_answer(
    query: Option<&str>,
    accept: Option<&str>,
    body: &[u8],
    dirs: &ProfileDirs,
    today: NaiveDate,
) -> PlanAnswer {
    let refused = |status: StatusCode, message: &str| PlanAnswer {
        status: status.as_u16(),
        content_type: "application/json",
        body: error_body(message),
        plan: None,
    };
    let answer = match answer(query, accept) {
        Ok(a) => a,
        Err(Rejected(status, m)) => return refused(status, &m),
    };
    let fields = match fields::from_json(body) {
        Ok(f) => f,
        Err(BadBody::NotJson(m)) => return refused(StatusCode::BAD_REQUEST, &m),
        Err(BadBody::Invalid(m)) => return refused(StatusCode::UNPROCESSABLE_ENTITY, &m),
    };
    let drafted = draft::draft(&fields, dirs, today).and_then(|d| {
        let view = answer.view.unwrap_or(answer.format.default_view());
        let bytes = draft::render(&d, answer.format, view)?;
        Ok((d, bytes))
    });
    match drafted {
        Err(r) => refused(r.status(), r.message()),
        Ok((d, bytes)) => PlanAnswer {
            status: 200,
            content_type: content_type(answer.format),
            body: bytes,
            plan: Some((
                draft::plan_id(&d).to_string(),
                d.plan.warnings.len(),
                (answer.format != Format::Json)
                    .then(|| draft::file_name(&d, extension(answer.format))),
            )),
        },
    }
}

impl IntoResponse for PlanAnswer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, self.body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if let Some((id, warnings, file)) = self.plan {
            plan_headers(h, &id, warnings, file.as_deref());
        }
        res
    }
}

/// `Taper-Plan-Id`, `Taper-Warnings`, and the attachment's name.
fn plan_headers(h: &mut HeaderMap, id: &str, warnings: usize, file: Option<&str>) {
    if let Ok(v) = HeaderValue::from_str(id) {
        h.insert("taper-plan-id", v);
    }
    h.insert("taper-warnings", HeaderValue::from(warnings));
    if let Some(v) =
        file.and_then(|f| HeaderValue::from_str(&format!("attachment; filename=\"{f}\"")).ok())
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
}

/// A download's file (the page's buttons), with its type, name and plan
/// headers.
pub(super) fn file_response(d: &Drafted, format: Format, bytes: Vec<u8>, suffix: &str) -> Response {
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(format)),
    );
    let name = draft::file_name(d, suffix);
    plan_headers(h, draft::plan_id(d), d.plan.warnings.len(), Some(&name));
    res
}
