//! The page: a form sent by POST (patient names never reach an address
//! bar or a log), the plan as the step table with its chart and warnings,
//! and downloads of exactly that plan. Written with `maud`, which escapes
//! every value by construction; it loads nothing but this server's own
//! style sheet and a few lines of optional script.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use maud::{html, Markup, DOCTYPE};

use super::api;
use super::app::{problem, read_body, Shared as Ctx, State};
use super::draft::{self, Drafted, Refusal};
use super::fields::FormValues;
use crate::profile::{Profile, ProfileCatalog};
use crate::render::{self, text, Format, View};

const CSS: &str = include_str!("assets/taper.css");
const JS: &str = include_str!("assets/taper.js");

/// No icon: an empty answer keeps browsers from logging a 404.
pub(super) async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}

pub(super) async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

pub(super) async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    res
}

/// The profile the form is for: the one asked for, else baclofen, else
/// the first that loads.
fn chosen(catalog: &ProfileCatalog, asked: Option<&str>) -> Option<Profile> {
    let asked = asked
        .map(str::trim)
        .filter(|a| !a.is_empty() && !crate::profile::looks_like_path(a));
    asked
        .into_iter()
        .chain(["baclofen"])
        .chain(catalog.names().iter().map(String::as_str))
        .find_map(|name| catalog.load(name).ok())
}

/// `GET /`: the empty form (`?profile=NAME` chooses the profile).
pub(super) async fn index(Shared(state): Shared<State>, RawQuery(query): RawQuery) -> Response {
    let asked = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "profile")
        .map(|(_, v)| v.into_owned());
    let page = state
        .blocking(move |s| {
            let today = (s.clock)();
            let mut values = FormValues::default();
            values.set("start", &today.to_string());
            if let Some(a) = &asked {
                values.set("profile", a);
            }
            form_page(s, &values, &Problems::default(), None)
        })
        .await;
    match page {
        Ok(p) => (StatusCode::OK, Html(p)).into_response(),
        Err(u) => u.answer(false),
    }
}

/// The refusal shown on the page: next to its field, or above the form.
#[derive(Default)]
struct Problems {
    field: Option<&'static str>,
    message: Option<String>,
}

impl Problems {
    fn of(refusal: &Refusal) -> Problems {
        Problems {
            field: refusal.field(),
            message: Some(crate::terminal::escape(refusal.message()).into_owned()),
        }
    }

    fn for_field(&self, name: &str) -> Option<&str> {
        self.message.as_deref().filter(|_| self.field == Some(name))
    }

    fn for_form(&self) -> Option<&str> {
        self.message.as_deref().filter(|_| self.field.is_none())
    }
}

/// `POST /plan`: the plan under the form as typed, or the form with the
/// refusal next to its field. `action=choose` only re-shows the form for
/// the profile now selected.
pub(super) async fn plan(Shared(state): Shared<State>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r.answer(false),
    };
    let mut values = FormValues::parse(&body);
    if values.get("action") == Some("choose") {
        // The other profile's products, forms and markets are not this one's.
        for name in ["strengths", "form", "market", "switch_to"] {
            values.0.retain(|(k, _)| k != name);
        }
        let page = state
            .blocking(move |s| form_page(s, &values, &Problems::default(), None))
            .await;
        return match page {
            Ok(p) => Html(p).into_response(),
            Err(u) => u.answer(false),
        };
    }
    let page = state
        .draft(move |s| {
            let today = (s.clock)();
            match draft::draft(&values.fields(), &s.dirs, today) {
                Ok(d) => (
                    StatusCode::OK,
                    form_page(s, &values, &Problems::default(), Some((&d, today))),
                ),
                Err(r) => (r.status(), form_page(s, &values, &Problems::of(&r), None)),
            }
        })
        .await;
    match page {
        Ok((status, page)) => (status, Html(page)).into_response(),
        Err(u) => u.answer(false),
    }
}

/// The downloads a plan offers: (button value, label, format, view).
const DOWNLOADS: [(&str, &str, Format, View); 6] = [
    ("csv", "CSV (one row a day)", Format::Csv, View::Days),
    ("json", "JSON", Format::Json, View::Days),
    ("ics", "Calendar (ICS)", Format::Ics, View::Steps),
    (
        "html",
        "Printable calendar (HTML)",
        Format::Html,
        View::Steps,
    ),
    ("fhir", "FHIR R4 Bundle", Format::Fhir, View::Steps),
    ("fills", "Fills (CSV)", Format::Csv, View::Fills),
];

/// `POST /download`: one file of the plan the page showed, re-drafted
/// from the same fields (the start date fixed) and checked against the
/// fingerprint the page carried.
pub(super) async fn download(
    Shared(state): Shared<State>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r.answer(false),
    };
    let values = FormValues::parse(&body);
    let asked = values.get("format").unwrap_or("");
    let Some(&(_, _, format, view)) = DOWNLOADS.iter().find(|d| d.0 == asked) else {
        return problem(
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "download format '{}' is not valid (accepted: csv, json, ics, html, fhir, fills)",
                crate::terminal::escape(asked)
            ),
        );
    };
    let Some(expected) = values.get("fingerprint").map(str::to_string) else {
        return problem(
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a download needs the plan the page showed: draft the plan on the page, then use its download buttons",
        );
    };
    let result = state
        .draft(move |s| {
            let d = draft::draft(&values.fields(), &s.dirs, (s.clock)())?;
            if draft::fingerprint(&d) != expected {
                return Ok(None);
            }
            let bytes = draft::render(&d, format, view)?;
            Ok::<_, Refusal>(Some((d, bytes)))
        })
        .await;
    match result {
        Err(u) => u.answer(false),
        Ok(Err(r)) => problem(false, r.status(), r.message()),
        Ok(Ok(None)) => problem(
            false,
            StatusCode::CONFLICT,
            "this plan is no longer the one the page showed (a profile changed on the server): draft it again before downloading",
        ),
        Ok(Ok(Some((d, bytes)))) => {
            // The fills are a second CSV of the plan: their own name.
            let suffix = match view {
                View::Fills => "-fills.csv",
                _ => api::extension(format),
            };
            api::file_response(&d, format, bytes, suffix)
        }
    }
}

/// `GET /profiles/NAME`: what `taper profiles show NAME` prints.
pub(super) async fn profile(Shared(state): Shared<State>, Path(name): Path<String>) -> Response {
    let page = state
        .blocking(move |s| {
            let catalog = ProfileCatalog::scan(&s.dirs);
            let loaded = if crate::profile::looks_like_path(&name) {
                None
            } else {
                catalog.load(&name).ok()
            };
            let p = loaded?;
            let mut shown = Vec::new();
            render::profile::show(&p, &mut shown).ok()?;
            Some(layout(
                &format!("{} profile", p.display_name),
                html! {
                    p { a href={ "/?profile=" (p.name) } { "Draft a " (p.display_name) " plan" } }
                    h2 { (p.display_name) " profile" }
                    pre #profile-text { (String::from_utf8_lossy(&shown)) }
                },
            ))
        })
        .await;
    match page {
        Ok(Some(p)) => Html(p).into_response(),
        Ok(None) => problem(
            false,
            StatusCode::NOT_FOUND,
            "there is no such profile on this server (the form lists them all)",
        ),
        Err(u) => u.answer(false),
    }
}

/// The whole page for an error: what went wrong and the way back.
pub(super) fn error_page(status: StatusCode, message: &str) -> String {
    layout(
        status.canonical_reason().unwrap_or("Error"),
        html! {
            h2 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
            p.field-error #form-error role="alert" { (message) }
            p { a href="/" { "Back to the form" } }
        },
    )
}

/// Every page: the title, the draft banner, and the disclaimer.
fn layout(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · taper" }
                link rel="stylesheet" href="/assets/taper.css";
                script src="/assets/taper.js" defer {}
            }
            body {
                header {
                    p.brand { a href="/" { "taper" } " · dose-taper schedules" }
                    p.draft { "Draft for prescriber review" }
                }
                main { (body) }
                footer {
                    p.disclaimer #disclaimer { (crate::schedule::DISCLAIMER) }
                    p.small { "taper " (env!("CARGO_PKG_VERSION")) " · no user accounts: for a clinic's intranet or one machine" }
                }
            }
        }
    }
    .into_string()
}

/// The form for the chosen profile, kept as typed, with the refusal next
/// to its field and, once drafted, the plan under it.
fn form_page(
    s: &Ctx,
    values: &FormValues,
    problems: &Problems,
    plan: Option<(&Drafted, NaiveDate)>,
) -> String {
    let catalog = ProfileCatalog::scan(&s.dirs);
    let profile = chosen(&catalog, values.get("profile"));
    let title = plan.map_or("Draft a taper plan".to_string(), |(d, _)| {
        text::title(&d.plan)
    });
    layout(
        &title,
        html! {
            // A drafted plan comes first; the form, kept, follows it.
            h1 { "Draft a taper plan" }
            @if let Some((d, today)) = plan {
                (result(d, values, today))
                h2 { "Change the request" }
            }
            @if let Some(m) = problems.for_form() {
                p.field-error #form-error role="alert" { (m) }
            }
            (plan_form(&catalog, profile.as_ref(), values, problems))
        },
    )
}

/// A text field: label, input as typed, hint, and its refusal.
fn text_field(
    values: &FormValues,
    problems: &Problems,
    name: &str,
    label: &str,
    hint: &str,
) -> Markup {
    let id = format!("f-{name}");
    let error = problems.for_field(name);
    html! {
        div.field #{ "field-" (name) } {
            label for=(id) { (label) }
            input type="text" id=(id) name=(name) value=(values.get(name).unwrap_or(""))
                aria-invalid=[error.map(|_| "true")] aria-describedby={ (id) "-hint" };
            span.hint id={ (id) "-hint" } { (hint) }
            @if let Some(m) = error { p.field-error id={ (name) "-error" } role="alert" { (m) } }
        }
    }
}

/// A select: options (value, label), the typed value selected.
fn select_field(
    values: &FormValues,
    problems: &Problems,
    name: &str,
    label: &str,
    options: &[(String, String)],
) -> Markup {
    let id = format!("f-{name}");
    let current = values.get(name).unwrap_or("");
    let error = problems.for_field(name);
    html! {
        div.field #{ "field-" (name) } {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")] {
                @for (value, text) in options {
                    option value=(value) selected[value == current] { (text) }
                }
            }
            @if let Some(m) = error { p.field-error id={ (name) "-error" } role="alert" { (m) } }
        }
    }
}

fn options(default: &str, items: &[String]) -> Vec<(String, String)> {
    std::iter::once((String::new(), default.to_string()))
        .chain(items.iter().map(|i| (i.clone(), i.clone())))
        .collect()
}

fn plan_form(
    catalog: &ProfileCatalog,
    profile: Option<&Profile>,
    values: &FormValues,
    problems: &Problems,
) -> Markup {
    let profiles: Vec<(String, String)> = catalog
        .names()
        .iter()
        .map(|n| (n.clone(), n.clone()))
        .collect();
    let mut chosen_values = values.clone();
    if let Some(p) = profile {
        chosen_values.set("profile", &p.name);
    }
    let v = &chosen_values;
    html! {
        form #plan-form method="post" action="/plan" {
            fieldset {
                legend { "Patient and drug" }
                div.field-row {
                    (select_field(v, problems, "profile", "Drug profile", &profiles))
                    div.field {
                        button #choose type="submit" name="action" value="choose" { "Use this profile" }
                        @if let Some(p) = profile {
                            a #profile-details href={ "/profiles/" (p.name) } { "About the " (p.display_name) " profile" }
                        }
                    }
                }
                (text_field(v, problems, "patient", "Patient name", "Printed on the calendar and the files; never sent in an address or logged."))
                (text_field(v, problems, "dose", "Current total daily dose", "e.g. 60mg, 60 (the profile's unit), 100mcg, or 2.5mL with one liquid ticked."))
                (text_field(v, problems, "start", "First day of the first reduced dose", "YYYY-MM-DD."))
            }
            @if let Some(p) = profile { (taper_fields(p, v, problems)) (product_fields(p, v, problems)) }
            p.actions { button #draft type="submit" { "Draft the plan" } }
        }
    }
}

fn taper_fields(p: &Profile, v: &FormValues, problems: &Problems) -> Markup {
    let strategies: Vec<String> = ["linear", "percent", "hyperbolic", "custom"]
        .map(String::from)
        .to_vec();
    let default = format!("The profile's ({})", p.default.strategy.as_str());
    html! {
        fieldset {
            legend { "How to taper" }
            (select_field(v, problems, "strategy", "Strategy", &options(&default, &strategies)))
            (text_field(v, problems, "step", "Step (linear)", "Amount cut each step, e.g. 5mg."))
            (text_field(v, problems, "percent", "Percent (percent)", "Cut this % of the current dose each step, e.g. 10."))
            (text_field(v, problems, "occupancy_step", "Occupancy step (hyperbolic)", "Percentage points of receptor occupancy per step, e.g. 5."))
            (text_field(v, problems, "schedule", "Schedule (custom)", "Dose x days, e.g. 40x7,30x7,20x7,10x7,5x7."))
            (text_field(v, problems, "interval", "Days per step", "e.g. 7, 7d or 2w; blank: the profile's."))
            (text_field(v, problems, "target", "Target daily dose", "Blank or 0 stops completely."))
            (text_field(v, problems, "final_hold", "Hold the last dose", "Days, e.g. 14 or 2w; blank: the profile's."))
        }
    }
}

fn product_fields(p: &Profile, v: &FormValues, problems: &Problems) -> Markup {
    let ticked = v.all("strengths");
    let error = problems.for_field("strengths");
    let mut forms: Vec<String> = p
        .formulations
        .iter()
        .map(|f| f.form.as_str().to_string())
        .collect();
    forms.sort();
    forms.dedup();
    let switches = p.switch.as_ref().map(|s| s.to.clone()).unwrap_or_default();
    html! {
        fieldset {
            legend { "Products and doses" }
            div.field #field-strengths {
                p.label { "Products on hand " span.hint { "(none ticked: the profile's usual choice)" } }
                @for (i, f) in p.formulations.iter().enumerate() {
                    @let key = f.key(&p.unit);
                    label.check for={ "f-strengths-" (i) } {
                        input type="checkbox" id={ "f-strengths-" (i) } name="strengths" value=(key)
                            checked[ticked.contains(&key.as_str())];
                        " " (f.name(&p.unit)) " "
                        span.hint { "(" (f.markets.join(", ")) @if f.restricted { "; only when ticked" } ")" }
                    }
                }
                @if let Some(m) = error { p.field-error #strengths-error role="alert" { (m) } }
            }
            (select_field(v, problems, "form", "Form", &options("Any", &forms)))
            (select_field(v, problems, "market", "Market", &options(&format!("The profile's ({})", p.markets.first().map_or("", String::as_str)), &p.markets)))
            (text_field(v, problems, "doses_per_day", "Doses a day", &format!("Blank: the profile's ({}).", p.doses_per_day)))
            (text_field(v, problems, "supply", "Days per prescription", "e.g. 28: what to dispense every 28 days, with prescription wording."))
            @if !switches.is_empty() {
                (select_field(v, problems, "switch_to", "Switch to", &options("No switch", &switches)))
                (text_field(v, problems, "switch_interval", "Switch: days per step", "Blank: the profile's."))
            }
        }
    }
}

/// The plan under the form: title, warnings in plain sight, chart, step
/// table, what to dispense, and the downloads.
fn result(d: &Drafted, values: &FormValues, today: NaiveDate) -> Markup {
    let plan = &d.plan;
    let supply = plan.request.supply_days.is_some();
    html! {
        section #plan {
            h2 { (text::title(plan)) @if let Some(p) = &d.extras.patient { ": " (p) } }
            p.oversight { (plan.disclaimer) }
            dl.facts {
                dt { "Starting dose" } dd { (text::starting_dose(plan)) }
                dt { "Target" } dd { (text::target(plan)) }
                dt { "Strategy" } dd { (text::strategy(plan)) }
                dt { "Dates" } dd { (plan.request.start) " to " (plan.request.end) " (" (plan.days.len()) " days, " (plan.steps.len()) " steps)" }
                dt { "Products" } dd { (text::phases(plan)) }
                @if let Some(sw) = text::switch_summary(plan) { dt { "Switch" } dd { (sw) } }
                @if let Some(mme) = text::mme_summary(plan) { dt { "Morphine equivalents" } dd { (mme) } }
                dt { "Plan id" } dd { (draft::plan_id(d)) }
            }
            @if !plan.warnings.is_empty() {
                h3 { "Warnings" }
                ul #warnings {
                    @for w in &plan.warnings { li.warning { "WARNING: " (text::warning(plan, w)) } }
                }
            }
            figure { (render::html::chart(plan)) }
            (render::html::step_table(plan))
            h3 { "Dispense for the whole plan" }
            ul #dispense { @for line in text::dispense_lines(plan) { li { (line) } } }
            @if supply {
                h3 { "Prescriptions to fill" }
                p.small { "Each fill's instructions and the quantity of each product to dispense for its days (a controlled drug's also in words)." }
                (render::html::fills_table(plan))
            }
            p.small { (text::provenance(plan)) }
            (downloads(d, values, today, supply))
        }
    }
}

/// The download buttons: the request as hidden fields, the start date
/// fixed (a blank start meant today), and the plan's fingerprint.
fn downloads(d: &Drafted, values: &FormValues, today: NaiveDate, supply: bool) -> Markup {
    let mut hidden = values.clone();
    hidden
        .0
        .retain(|(k, _)| k != "action" && k != "format" && k != "fingerprint");
    if hidden.get("start").is_none_or(|s| s.trim().is_empty()) {
        hidden.set("start", &today.to_string());
    }
    html! {
        form #downloads method="post" action="/download" {
            h3 { "Download this plan" }
            @for (k, v) in &hidden.0 { input type="hidden" name=(k) value=(v); }
            input type="hidden" name="fingerprint" value=(draft::fingerprint(d));
            @for (value, label, ..) in DOWNLOADS.iter().filter(|d| supply || d.0 != "fills") {
                button type="submit" name="format" value=(value) { (label) }
            }
        }
    }
}
