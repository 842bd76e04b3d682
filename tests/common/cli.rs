//! Running the real binary from the integration tests.

use std::process::{Command, Output};

/// Baclofen 60 mg a day from 2026-12-01: the request most tests start from.
pub const BACLOFEN_PLAN: [&str; 6] = [
    "plan",
    "baclofen",
    "--dose",
    "60mg",
    "--start",
    "2026-12-01",
];

/// The `taper` binary, kept apart from the developer's surroundings: no
/// `$TAPER_PROFILES`, no user profile folder (`$XDG_CONFIG_HOME` points
/// nowhere), no inherited `COLUMNS` or `NO_COLOR`.
pub fn taper() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("taper"));
    c.env_remove("TAPER_PROFILES")
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .env("XDG_CONFIG_HOME", "/nonexistent/taper-tests/config");
    c
}

/// `taper ARGS`, which must succeed (stderr shown when it does not).
pub fn run_ok(args: &[&str]) -> Output {
    let out = taper().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "taper {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
