//! The router, the shared state, and what every response goes through:
//! the time limit, the security headers and the one-line request log.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveDate;
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use super::{api, page, ServeConfig};
use crate::profile::ProfileDirs;

/// The largest request body: one request is one plan, and a batch row is
/// held to the same bound ([`crate::batch::MAX_RECORD_BYTES`]).
pub const MAX_BODY_BYTES: usize = crate::batch::MAX_RECORD_BYTES;

/// What every handler shares.
#[derive(Clone)]
pub(super) struct State(Arc<Shared>);

pub(super) struct Shared {
    pub dirs: ProfileDirs,
    pub clock: fn() -> NaiveDate,
    /// Plans admitted (drafting or waiting for a core): at most
    /// `--max-in-flight`, the rest are turned away at once.
    admitted: Semaphore,
    /// Plans drafting now: one per core.
    drafting: Semaphore,
    pub timeout: Duration,
}

/// Why work on a blocking thread gave nothing.
pub(super) enum Unserved {
    /// Too many plans in flight: 503.
    Busy,
    /// The work panicked (a bug): 500, and the server goes on.
    Failed,
}

impl Unserved {
    pub(super) fn answer(self, api: bool) -> Response {
        match self {
            Unserved::Busy => problem(
                api,
                StatusCode::SERVICE_UNAVAILABLE,
                "too many plans are being drafted at once; try again in a moment",
            ),
            Unserved::Failed => problem(
                api,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server failed while answering this request (a bug in taper: please report it)",
            ),
        }
    }
}

impl State {
    pub(super) fn new(config: &ServeConfig, cores: usize) -> State {
        State(Arc::new(Shared {
            dirs: config.dirs.clone(),
            clock: config.clock,
            admitted: Semaphore::new(config.max_in_flight.max(1)),
            drafting: Semaphore::new(cores.max(1)),
            timeout: config.timeout,
        }))
    }

    pub(super) fn shared(&self) -> &Shared {
        &self.0
    }

    /// Runs `work` (drafting a plan: CPU and profile files) on a blocking
    /// thread, once admitted and once a core is free.
    pub(super) async fn draft<T, F>(&self, work: F) -> Result<T, Unserved>
    where
        F: FnOnce(&Shared) -> T + Send + 'static,
        T: Send + 'static,
    {
        let Ok(_admitted) = self.0.admitted.try_acquire() else {
            return Err(Unserved::Busy);
        };
        let Ok(_core) = self.0.drafting.acquire().await else {
            return Err(Unserved::Busy);
        };
        self.blocking(work).await
    }

    /// Runs file-reading work (profile listings) on a blocking thread. A
    /// panic there is a bug: it answers 500, never stops the server.
    pub(super) async fn blocking<T, F>(&self, work: F) -> Result<T, Unserved>
    where
        F: FnOnce(&Shared) -> T + Send + 'static,
        T: Send + 'static,
    {
        let shared = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || work(&shared))
            .await
            .map_err(|_| Unserved::Failed)
    }
}

/// Where the request log goes.
type Log = Option<Arc<Mutex<Box<dyn Write + Send>>>>;

pub(super) fn router(state: State, log: Option<Box<dyn Write + Send>>) -> Router {
    let log: Log = log.map(|l| Arc::new(Mutex::new(l)));
    let timeout = state.shared().timeout;
    Router::new()
        .route("/", get(page::index))
        .route("/plan", post(page::plan))
        .route("/download", post(page::download))
        .route("/profiles/{name}", get(page::profile))
        .route("/assets/taper.css", get(page::css))
        .route("/assets/taper.js", get(page::js))
        .route("/favicon.ico", get(page::favicon))
        .route("/api/plan", post(api::plan))
        .route("/api/profiles", get(api::profiles))
        .route("/healthz", get(api::healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(not_allowed)
        .with_state(state)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let log = log.clone();
            guard(req, next, timeout, log)
        }))
}

/// The API answers in JSON; everything else is a page.
pub(super) fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz"
}

async fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    problem(
        is_api(path),
        StatusCode::NOT_FOUND,
        "there is nothing at this address (the page is at /, the API at /api/plan and /api/profiles)",
    )
}

async fn not_allowed(req: Request) -> Response {
    let path = req.uri().path();
    let message = format!(
        "{} is not answered at {} (the page takes GET and its forms POST; /api/plan takes POST, /api/profiles and /healthz GET)",
        req.method(),
        crate::terminal::escape(path)
    );
    problem(is_api(path), StatusCode::METHOD_NOT_ALLOWED, &message)
}

/// The API's error body, `{"error": …}`, its message escaped as the
/// command line prints it (no control character from a request).
pub(super) fn error_body(message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "error": crate::terminal::escape(message) }))
        .unwrap_or_default()
}

/// An error answer: `{"error": …}` for the API, a page for a browser.
pub(super) fn problem(api: bool, status: StatusCode, message: &str) -> Response {
    let mut res = if api {
        let json = HeaderValue::from_static("application/json");
        (status, [(header::CONTENT_TYPE, json)], error_body(message)).into_response()
    } else {
        let message = crate::terminal::escape(message);
        let page = page::error_page(status, &message);
        (status, axum::response::Html(page)).into_response()
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}

/// A request refused before any plan: its status and message.
pub(super) struct Rejected(pub StatusCode, pub String);

impl Rejected {
    pub(super) fn answer(self, api: bool) -> Response {
        problem(api, self.0, &self.1)
    }
}

/// Reads a request body of at most [`MAX_BODY_BYTES`]; a longer one is
/// refused (413) without being held.
pub(super) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Rejected> {
    let too_large = || {
        Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes (the limit for one plan request)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(b) => Ok(b.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(_) => Err(Rejected(
            StatusCode::BAD_REQUEST,
            "the request body could not be read to its end".into(),
        )),
    }
}

/// The time limit, the security headers and the log line, for every
/// request.
async fn guard(req: Request, next: Next, timeout: Duration, log: Log) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let api = is_api(&path);
    let mut res = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => problem(
            api,
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "the request took longer than {} s (the server's --timeout)",
                timeout.as_secs()
            ),
        ),
    };
    secure(res.headers_mut());
    if let Some(log) = log {
        // Method, path (never the query), status and time: nothing a
        // request carries inside it, so no patient name.
        let line = format!(
            "{} {} {} {} {:.1}ms\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            method,
            crate::terminal::escape(&path),
            res.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        if let Ok(mut w) = log.lock() {
            let _ = w.write_all(line.as_bytes());
            let _ = w.flush();
        }
    }
    res
}

/// The page's policy: only this server's own style sheet, script and
/// forms; no framing, no sniffing, no referrer, nothing cached (plans
/// carry patient names).
pub(super) const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn secure(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
}
