//! `taper serve`: the same engine behind a small web form and an HTTP API,
//! for a clinic's intranet or a single machine.
//!
//! hyper speaks HTTP (with a header-read timeout, which `axum::serve` does
//! not set), axum routes, and every handler ends in the same
//! [`crate::batch::read_fields`] → [`crate::batch::plan_fields`] →
//! [`crate::render`] path as `taper batch` and `taper plan`, so a plan from
//! the server is byte-identical to the command line's. Plans are drafted
//! on tokio's blocking threads, at most as many at once as there are cores;
//! at most `max_in_flight` are admitted (others get 503 and `Retry-After`).
//!
//! There are no user accounts: on a network, the clinic's proxy does the
//! authentication (see the README).

mod api;
mod app;
mod draft;
mod fields;
mod page;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::error::{Error, Result};
use crate::profile::ProfileDirs;

pub use api::{plan_answer, PlanAnswer};
pub use app::MAX_BODY_BYTES;

/// Most open connections; a connection beyond it is closed at once.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a stopping server waits for requests under way.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything `taper serve` needs, resolved from the command line.
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Plans admitted at once (drafting or waiting for a core).
    pub max_in_flight: usize,
    pub timeout: Duration,
    /// Where profiles are looked for, as for `taper plan`.
    pub dirs: ProfileDirs,
    /// Today's local date, read again for each request: a server runs
    /// for days.
    pub clock: fn() -> NaiveDate,
    /// Where request log lines go (`None`: nowhere, `-q`).
    pub log: Option<Box<dyn Write + Send>>,
}

/// Reads `--listen`: an IP address and a port.
pub fn parse_listen(text: &str) -> Result<SocketAddr> {
    text.trim().parse().map_err(|_| {
        Error::Usage(format!(
            "listen address '{}' is not valid (accepted: IP:PORT, e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080; port 0 picks a free port)",
            crate::terminal::escape(text)
        ))
    })
}

/// Runs the server until SIGINT or SIGTERM. The one line on `stdout` says
/// where it listens, once it does.
pub fn run(config: ServeConfig, stdout: &mut dyn Write) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()?;
    runtime.block_on(serve(config, cores, stdout))
}

async fn serve(mut config: ServeConfig, cores: usize, stdout: &mut dyn Write) -> Result<()> {
    let listener = TcpListener::bind(config.listen).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("cannot listen on {}: {e}", config.listen),
        ))
    })?;
    let local = listener.local_addr()?;
    let stop = shutdown_signal()?;
    let mut log = config.log.take();
    if let Some(w) = log.as_mut() {
        starting_notes(&config.dirs, local, w)?;
    }
    let state = app::State::new(&config, cores);
    let router = app::router(state, log);
    writeln!(stdout, "taper serve: listening on http://{local}/")?;
    stdout.flush()?;
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: let it pass.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            continue;
        };
        let service =
            hyper_util::service::TowerToHyperService::new(router.clone().map_request(
                |r: hyper::Request<hyper::body::Incoming>| r.map(axum::body::Body::new),
            ));
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
    Ok(())
}

/// What a person starting the server should know (on stderr, unless
/// `-q`): that anyone who can reach it can use it, and which user
/// profiles replace built-in ones.
fn starting_notes(dirs: &ProfileDirs, local: SocketAddr, w: &mut dyn Write) -> Result<()> {
    if !local.ip().is_loopback() {
        writeln!(
            w,
            "note: listening beyond this machine on {local}: taper has no user accounts, so anyone who can reach it can use it; put it behind the clinic's proxy for authentication"
        )?;
    }
    let catalog = crate::profile::ProfileCatalog::scan(dirs);
    for (name, path) in catalog.shadowed_builtins() {
        writeln!(
            w,
            "note: the user profile {} replaces the built-in profile '{name}'",
            crate::terminal::escape(&path.display().to_string())
        )?;
    }
    w.flush()?;
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are in place when
/// this returns, before the server says it listens: a signal sent at once
/// still stops it gracefully.
#[cfg(unix)]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
