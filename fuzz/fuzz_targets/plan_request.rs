//! A built-in profile with fuzzed option text, as `taper plan` would get
//! it: resolve → build → every engine rule → every renderer.
//!
//! Input: `key=value` lines (see `taper_fuzz::TextRequest`), e.g.
//! `profile=baclofen\ndose=60mg\nstep=5mg\n`. A `profile=` that is not a
//! built-in name picks one by its length, so every input plans something.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taper::profile::{self, ProfileDirs};
use taper_fuzz::{plan_and_check, refused, TextRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let req = TextRequest::parse(text, "");
    if req.bad_strategy {
        return;
    }
    // Only built-in profiles: no directories, and never a path (a path
    // would read this machine's files).
    let dirs = ProfileDirs::new(None, None);
    let names = profile::all_names(&dirs);
    let wanted = req.profile.clone().unwrap_or_default();
    let name = if names
        .iter()
        .any(|n| *n == wanted.trim().to_ascii_lowercase())
    {
        wanted
    } else {
        names[wanted.len() % names.len()].clone()
    };
    let p = match profile::load(&name, &dirs) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    plan_and_check(p, &req);
});
