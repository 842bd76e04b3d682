//! From a profile argument to a profile: a path is read as given; a name
//! is looked up in the user folders, then among the built-in profiles, and
//! never leaves those folders.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::Error;

use super::catalog::ProfileCatalog;
use super::message::quoted;
use super::{load_file, parse_profile, read_profile_text, Profile, BUILTIN_PROFILES};

/// Where user profiles are looked for, highest precedence first.
#[derive(Clone, Debug, Default)]
pub struct ProfileDirs {
    pub dirs: Vec<PathBuf>,
}

impl ProfileDirs {
    /// `--profiles-dir` first, then each directory in `$TAPER_PROFILES`
    /// (a path list like `$PATH`). The caller passes the environment in so
    /// that the library reads no globals.
    pub fn new(flag: Option<PathBuf>, env: Option<std::ffi::OsString>) -> ProfileDirs {
        let mut dirs = Vec::new();
        dirs.extend(flag);
        if let Some(v) = env {
            dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
        }
        ProfileDirs { dirs }
    }

    /// Adds the default user folder (see [`user_folder`]) last: after
    /// `--profiles-dir` and `$TAPER_PROFILES`, before the built-ins.
    pub fn with_user_folder(mut self, dir: Option<PathBuf>) -> ProfileDirs {
        self.dirs.extend(dir);
        self
    }
}

/// The default user profile folder, from the environment `main` gathered:
/// `$XDG_CONFIG_HOME/taper/profiles`, or `$HOME/.config/taper/profiles`
/// when `XDG_CONFIG_HOME` is unset, empty or relative (the XDG Base
/// Directory spec says relative paths are invalid and must be ignored).
/// `None` when neither gives an absolute folder: no guess at a relative one.
pub fn user_folder(
    xdg_config_home: Option<&std::ffi::OsStr>,
    home: Option<&std::ffi::OsStr>,
) -> Option<PathBuf> {
    let absolute = |v: Option<&std::ffi::OsStr>| {
        v.map(PathBuf::from)
            .filter(|p| !p.as_os_str().is_empty() && p.is_absolute())
    };
    let config = absolute(xdg_config_home).or_else(|| absolute(home).map(|h| h.join(".config")))?;
    Some(config.join("taper").join("profiles"))
}

/// A profile argument is a path when it contains `/` (or `\`) or ends in
/// `.toml`; otherwise it is a name that never leaves the profile directories.
pub fn looks_like_path(arg: &str) -> bool {
    arg.contains('/') || arg.contains('\\') || arg.to_ascii_lowercase().ends_with(".toml")
}

/// Loads a profile by name or path.
pub fn load(arg: &str, dirs: &ProfileDirs) -> Result<Profile, Error> {
    find(arg, dirs).map(|f| f.profile)
}

/// A profile found by name or path, and whether a user file replaced the
/// built-in profile of that name.
#[derive(Clone, Debug)]
pub struct Found {
    pub profile: Profile,
    /// The user profile file (from `--profiles-dir` or `$TAPER_PROFILES`)
    /// found instead of the built-in profile of the same name. `None` for
    /// built-ins, user profiles with names of their own, and paths.
    pub shadows_builtin: Option<PathBuf>,
}

impl Found {
    /// One line for stderr when a user file replaced a built-in profile,
    /// without a `note: ` prefix.
    pub fn shadow_note(&self) -> Option<String> {
        self.shadows_builtin.as_ref().map(|path| {
            format!(
                "the user profile {} replaces the built-in profile '{}'",
                crate::terminal::escape(&path.display().to_string()),
                self.profile.name
            )
        })
    }
}

/// Like [`load`], also telling whether a user file shadows a built-in.
/// A name is looked up file by file (no folder is listed); only a name
/// that is not found lists the folders, once, for the error message.
pub fn find(arg: &str, dirs: &ProfileDirs) -> Result<Found, Error> {
    find_with(
        arg,
        |name| dirs.dirs.iter().find_map(|dir| probe(dir, name)),
        |arg, name| ProfileCatalog::scan(dirs).unknown(arg, name),
    )
}

/// The search order every lookup shares: a path is loaded as given; a
/// name is a user file (`user_file` says where, folders in precedence
/// order), else a built-in, else `unknown(arg, name)`.
pub(super) fn find_with(
    arg: &str,
    user_file: impl FnOnce(&str) -> Option<PathBuf>,
    unknown: impl FnOnce(&str, &str) -> Error,
) -> Result<Found, Error> {
    if looks_like_path(arg) {
        return found_path(arg);
    }
    let name = normalized(arg);
    if valid_name(&name) {
        if let Some(path) = user_file(&name) {
            return found_user(path, &name);
        }
        if let Some(p) = builtin(&name) {
            return p.map(|profile| Found {
                profile,
                shadows_builtin: None,
            });
        }
    }
    Err(unknown(arg, &name))
}

pub(super) fn found_path(arg: &str) -> Result<Found, Error> {
    load_file(Path::new(arg)).map(|profile| Found {
        profile,
        shadows_builtin: None,
    })
}

pub(super) fn found_user(path: PathBuf, name: &str) -> Result<Found, Error> {
    let profile = load_named_file(&path, name)?;
    let shadows_builtin = is_builtin(name).then_some(path);
    Ok(Found {
        profile,
        shadows_builtin,
    })
}

pub(super) fn normalized(arg: &str) -> String {
    arg.trim().to_ascii_lowercase()
}

/// Names never leave the profile folders: no separators, no dots.
pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub(super) fn is_builtin(name: &str) -> bool {
    BUILTIN_PROFILES.iter().any(|(n, _)| *n == name)
}

pub(super) fn builtin(name: &str) -> Option<Result<Profile, Error>> {
    let i = BUILTIN_PROFILES.iter().position(|(n, _)| *n == name)?;
    // Built-in texts are part of the binary: each is parsed once per
    // process (a server drafts thousands of plans from them), then copied.
    static PARSED: OnceLock<Vec<OnceLock<Profile>>> = OnceLock::new();
    let cache = PARSED.get_or_init(|| BUILTIN_PROFILES.iter().map(|_| OnceLock::new()).collect());
    if let Some(p) = cache[i].get() {
        return Some(Ok(p.clone()));
    }
    let text = BUILTIN_PROFILES[i].1;
    let parsed = parse_profile(text, &format!("<built-in>/{name}.toml"), "built-in");
    if let Ok(p) = &parsed {
        let _ = cache[i].set(p.clone());
    }
    Some(parsed)
}

/// `<dir>/<name>.toml` when it is a regular file. Only its metadata is
/// read: a FIFO or device of that name is passed over, never opened.
pub(super) fn probe(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = dir.join(format!("{name}.toml"));
    std::fs::metadata(&path)
        .is_ok_and(|m| m.is_file())
        .then_some(path)
}

/// Loads `<dir>/<name>.toml`, whose `name` must be `<name>`: a plan's
/// provenance must name the profile the user asked for.
pub(super) fn load_named_file(path: &Path, name: &str) -> Result<Profile, Error> {
    let text = read_profile_text(path)?;
    let shown = path.display().to_string();
    let p = parse_profile(&text, &shown, &shown)?;
    if p.name != name {
        let (line, col) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with("name") && l.contains('='))
            .map_or((1, 1), |(i, l)| (i + 1, l.find('"').map_or(1, |c| c + 1)));
        return Err(Error::InvalidProfile(vec![format!(
            "{}:{line}:{col}: name '{}' does not match the file name (accepted: name = \"{name}\" in {name}.toml)",
            crate::terminal::escape(&shown),
            quoted(&p.name)
        )]));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert!(looks_like_path("./x"));
        assert!(looks_like_path("my.TOML"));
        assert!(!looks_like_path("baclofen"));
        let dirs = ProfileDirs::default();
        let err = load("baclofn", &dirs).unwrap_err();
        assert!(err.to_string().contains("did you mean 'baclofen'"), "{err}");
        assert!(load("BACLOFEN", &dirs).is_ok());
        assert!(load("../baclofen", &dirs).is_err());
    }

    #[test]
    fn the_user_folder_follows_xdg() {
        use std::ffi::OsStr;
        let folder =
            |x: Option<&str>, h: Option<&str>| user_folder(x.map(OsStr::new), h.map(OsStr::new));
        let xdg = Some(PathBuf::from("/x/taper/profiles"));
        let home = Some(PathBuf::from("/h/.config/taper/profiles"));
        assert_eq!(folder(Some("/x"), Some("/h")), xdg);
        assert_eq!(folder(None, Some("/h")), home);
        // Empty and relative values are ignored, as the spec says.
        assert_eq!(folder(Some(""), Some("/h")), home);
        assert_eq!(folder(Some("rel/dir"), Some("/h")), home);
        assert_eq!(folder(Some("rel"), None), None);
        assert_eq!(folder(None, Some("relative-home")), None);
        assert_eq!(folder(None, None), None);
    }
}
