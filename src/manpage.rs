//! `taper man`: one roff manual page for the whole tool.
//!
//! clap_mangen writes a page per command; users type `man taper` and
//! expect the plan options there, so every subcommand's synopsis, options
//! and examples follow the top page as sections of their own.

use std::io::Write;

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::Cli;
use crate::error::Result;

/// Writes the page to `out`.
pub fn write(out: &mut dyn Write) -> Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut page = Vec::new();
    Man::new(cmd.clone()).render(&mut page)?;
    for sub in cmd.get_subcommands() {
        section(sub, &mut page)?;
        for inner in sub.get_subcommands() {
            section(inner, &mut page)?;
        }
    }
    out.write_all(ascii_roff(&String::from_utf8_lossy(&page)).as_bytes())?;
    Ok(())
}

/// roff input is ASCII (groff reads other bytes as Latin-1 and warns):
/// help text such as "× as x" is written with groff's `\[uXXXX]` escapes,
/// which man-db and mandoc both render.
fn ascii_roff(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for c in page.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}

/// One subcommand as a `.SH` section, its parts as `.SS` subsections.
fn section(cmd: &clap::Command, out: &mut dyn Write) -> Result<()> {
    let name = cmd
        .get_bin_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_uppercase();
    let man = Man::new(cmd.clone());
    let mut buf = Vec::new();
    man.render_description_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.get_after_help().is_some() || cmd.get_after_long_help().is_some() {
        man.render_extra_section(&mut buf)?;
    }
    writeln!(out, ".SH \"{name}\"")?;
    let text = String::from_utf8_lossy(&buf);
    for line in text.lines() {
        match line.strip_prefix(".SH ") {
            Some("DESCRIPTION") => {}
            Some("EXTRA") => writeln!(out, ".SS EXAMPLES")?,
            Some(heading) => writeln!(out, ".SS {heading}")?,
            None => writeln!(out, "{line}")?,
        }
    }
    Ok(())
}
