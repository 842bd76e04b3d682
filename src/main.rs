//! The `taper` binary: parse arguments, run, map errors to exit codes.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use taper::cli::{Cli, ColorChoice};
use taper::streams::{LenientWriter, StdoutWriter};
use taper::terminal::SafeWriter;

/// Whether file descriptor 1 was closed when the process started. Rust's
/// runtime quietly reopens a closed stdout on /dev/null before `main`, so
/// this is checked earlier, in a constructor: a run whose output would
/// vanish must not report success.
static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

#[ctor::ctor(unsafe)]
fn note_closed_stdout() {
    // SAFETY: `fcntl(F_GETFD)` only queries the descriptor table; nothing
    // else of the runtime is used before `main`.
    #[cfg(unix)]
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        STDOUT_CLOSED_AT_START.store(true, Ordering::Relaxed);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match cli.color() {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    let env = taper::Env {
        // The only clock read: the default start date is today's local date.
        today: chrono::Local::now().date_naive(),
        clock: || chrono::Local::now().date_naive(),
        taper_profiles: std::env::var_os("TAPER_PROFILES"),
        xdg_config_home: std::env::var_os("XDG_CONFIG_HOME"),
        home: std::env::var_os("HOME"),
        color,
        width: terminal_width(),
    };
    let stdout = StdoutWriter::new(
        std::io::stdout().lock(),
        STDOUT_CLOSED_AT_START.load(Ordering::Relaxed),
    );
    let reader_left = stdout.reader_left();
    let mut out = std::io::BufWriter::new(stdout);
    // Diagnostics never stop the work (a closed stderr must not turn a
    // written file into a failure), and never carry control characters.
    // Not locked for the whole run: `taper serve` logs from other threads.
    let mut err = SafeWriter::new(LenientWriter::new(std::io::stderr()));
    let result = taper::run(cli, &env, &mut out, &mut err)
        .and_then(|code| out.flush().map(|()| code).map_err(Into::into));
    let code = match result {
        Ok(code) => ExitCode::from(code),
        // A reader that closed stdout (`taper … | head -1`) chose to stop.
        Err(_) if reader_left.get() => ExitCode::SUCCESS,
        Err(e) => {
            // One `error:` line per problem (a profile check may find several).
            for line in e.to_string().lines() {
                let _ = writeln!(err, "error: {line}");
            }
            ExitCode::from(e.exit_code())
        }
    };
    let _ = err.flush();
    code
}

/// The table's width: `$COLUMNS` when it is a positive number (as clap and
/// most tools read it), else the terminal's own width when stdout is one.
fn terminal_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&w| w > 0);
    columns.or_else(|| {
        let stdout = std::io::stdout();
        if !stdout.is_terminal() {
            return None;
        }
        terminal_size::terminal_size_of(stdout).map(|(w, _)| usize::from(w.0))
    })
}
