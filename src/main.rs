//! The `taper` binary: parse arguments, run, map errors to exit codes.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use taper::cli::{Cli, ColorChoice};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    let env = taper::Env {
        // The only clock read: the default start date is today's local date.
        today: chrono::Local::now().date_naive(),
        taper_profiles: std::env::var_os("TAPER_PROFILES"),
        color,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr().lock();
    let result = taper::run(cli, &env, &mut out, &mut err)
        .and_then(|code| out.flush().map(|()| code).map_err(Into::into));
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`taper … | head -1`) is the reader's choice, not an error.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // One `error:` line per problem (a profile check may find several).
            for line in e.to_string().lines() {
                let _ = writeln!(err, "error: {line}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
