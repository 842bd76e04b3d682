//! The profile folders read once: an index of their `*.toml` files
//! (bounded, and opening none), names resolved against it, and the listing
//! of `taper profiles`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;

use super::find::{find_with, is_builtin, load_named_file, probe, Found, ProfileDirs};
use super::message::{closest, quoted};
use super::read::file_kind;
use super::{parse_profile, Profile, BUILTIN_PROFILES};

/// Most user profile files indexed over all profile folders, in
/// precedence order and by name within a folder: what `taper profiles`
/// lists and what an unknown name is compared with. Files beyond it are
/// still found by their exact name.
pub const MAX_USER_PROFILES: usize = 1000;

/// Most entries read from one profile folder.
pub const MAX_DIR_ENTRIES: usize = 100_000;

/// Most profile names listed in an unknown-profile error: all of them up
/// to this many, else the closest ones and how many others there are.
pub const MAX_KNOWN_PROFILES_SHOWN: usize = 10;

/// The profile folders, read once: resolves many names (a batch) without
/// reading a folder again, and lists them.
#[derive(Clone, Debug)]
pub struct ProfileCatalog {
    dirs: Vec<DirIndex>,
    /// Built-in and indexed user profile names, sorted, deduplicated.
    names: Vec<String>,
    skipped: Vec<Skipped>,
}

#[derive(Clone, Debug)]
struct DirIndex {
    dir: PathBuf,
    /// `(name, path)` of each regular `*.toml` file, sorted.
    files: Vec<(String, PathBuf)>,
    /// `<name>.toml` files by name: what a lookup by name opens.
    exact: HashMap<String, PathBuf>,
    /// False when not every entry was read or indexed (an unreadable
    /// folder, more entries than the limits): names then not indexed are
    /// looked up on disk.
    complete: bool,
}

impl DirIndex {
    fn lookup(&self, name: &str) -> Option<PathBuf> {
        match self.exact.get(name) {
            Some(p) => Some(p.clone()),
            None if !self.complete => probe(&self.dir, name),
            None => None,
        }
    }
}

/// A profile folder entry that was not indexed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The entry, or the folder when it was not read in full.
    pub path: PathBuf,
    pub reason: String,
}

impl ProfileCatalog {
    /// Reads each profile folder once, looking at entries' types only: no
    /// file is opened, so a FIFO or device named `*.toml` is skipped (and
    /// reported by [`ProfileCatalog::skipped`]), never read.
    pub fn scan(dirs: &ProfileDirs) -> ProfileCatalog {
        let mut budget = MAX_USER_PROFILES;
        let mut skipped = Vec::new();
        let mut indexes = Vec::new();
        for dir in &dirs.dirs {
            let index = scan_dir(dir, budget, &mut skipped);
            budget -= index.files.len();
            indexes.push(index);
        }
        let mut names: Vec<String> = BUILTIN_PROFILES
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(
                indexes
                    .iter()
                    .flat_map(|d| d.files.iter().map(|(n, _)| n.clone())),
            )
            .collect();
        names.sort();
        names.dedup();
        ProfileCatalog {
            dirs: indexes,
            names,
            skipped,
        }
    }

    /// Built-in and user profile names, sorted (at most
    /// [`MAX_USER_PROFILES`] user ones).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Entries passed over: non-regular `*.toml` entries (FIFOs, devices,
    /// directories, broken links) and folders not read in full.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Indexed user profile files `(name, path)`, in precedence order.
    pub fn user_files(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.dirs
            .iter()
            .flat_map(|d| d.files.iter().map(|(n, p)| (n.as_str(), p.as_path())))
    }

    /// Indexed user files that replace a built-in profile of the same
    /// name (the file that wins, once per name), for a note on stderr.
    pub fn shadowed_builtins(&self) -> Vec<(&str, &Path)> {
        let mut seen = HashSet::new();
        self.user_files()
            .filter(|(name, _)| is_builtin(name) && seen.insert(*name))
            .collect()
    }

    /// Loads a profile by name or path, as [`load`](super::load) does.
    pub fn load(&self, arg: &str) -> Result<Profile, Error> {
        self.find(arg).map(|f| f.profile)
    }

    /// Loads a profile by name or path, as [`find`](fn@super::find) does,
    /// without reading any folder again.
    pub fn find(&self, arg: &str) -> Result<Found, Error> {
        find_with(
            arg,
            |name| self.dirs.iter().find_map(|d| d.lookup(name)),
            |arg, name| self.unknown(arg, name),
        )
    }

    /// The error for a name that is not found: the closest known names
    /// (all of them when there are few) and a suggestion when one is close.
    pub(super) fn unknown(&self, arg: &str, name: &str) -> Error {
        let close = closest(
            name,
            self.names.iter().map(String::as_str),
            MAX_KNOWN_PROFILES_SHOWN,
        );
        let suggestion = close
            .first()
            .filter(|(score, _)| *score > 0.8)
            .map(|(_, n)| n.to_string());
        let known = if self.names.len() <= MAX_KNOWN_PROFILES_SHOWN {
            self.names.clone()
        } else {
            let mut shown: Vec<String> = close.iter().map(|(_, n)| n.to_string()).collect();
            shown.sort();
            shown
        };
        Error::UnknownProfile {
            name: quoted(arg),
            more: self.names.len() - known.len(),
            known,
            suggestion,
        }
    }

    /// Lists built-in and user profiles; a user profile shadows a built-in
    /// one. Skipped entries are listed as such.
    pub fn list(&self) -> Vec<Listing> {
        let mut out: Vec<Listing> = Vec::new();
        let mut claimed: HashSet<&str> = HashSet::new();
        for (name, path) in self.user_files() {
            if !claimed.insert(name) {
                continue;
            }
            let shadows_builtin = is_builtin(name);
            let origin = path.display().to_string();
            out.push(match load_named_file(path, name) {
                Ok(p) => Listing {
                    name: name.to_string(),
                    display_name: p.display_name,
                    version: p.version,
                    origin,
                    problem: None,
                    shadows_builtin,
                    skipped: false,
                },
                Err(e) => Listing {
                    name: name.to_string(),
                    display_name: String::new(),
                    version: String::new(),
                    origin,
                    problem: Some(e.to_string()),
                    shadows_builtin,
                    skipped: false,
                },
            });
        }
        for (name, text) in BUILTIN_PROFILES {
            if claimed.contains(name) {
                continue;
            }
            let listing = match parse_profile(text, name, "built-in") {
                Ok(p) => Listing {
                    name: name.to_string(),
                    display_name: p.display_name,
                    version: p.version,
                    origin: "built-in".into(),
                    problem: None,
                    shadows_builtin: false,
                    skipped: false,
                },
                Err(e) => Listing {
                    name: name.to_string(),
                    display_name: String::new(),
                    version: String::new(),
                    origin: "built-in".into(),
                    problem: Some(e.to_string()),
                    shadows_builtin: false,
                    skipped: false,
                },
            };
            out.push(listing);
        }
        for s in &self.skipped {
            let name = match s.path.extension() {
                Some(x) if x == "toml" => s
                    .path
                    .file_stem()
                    .map_or_else(String::new, |n| n.to_string_lossy().to_ascii_lowercase()),
                _ => "…".to_string(),
            };
            out.push(Listing {
                name,
                display_name: String::new(),
                version: String::new(),
                origin: s.path.display().to_string(),
                problem: Some(format!("{}: {}", s.path.display(), s.reason)),
                shadows_builtin: false,
                skipped: true,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// Indexes one folder's regular `*.toml` files, at most `budget` of them.
fn scan_dir(dir: &Path, budget: usize, skipped: &mut Vec<Skipped>) -> DirIndex {
    let mut index = DirIndex {
        dir: dir.to_path_buf(),
        files: Vec::new(),
        exact: HashMap::new(),
        complete: true,
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        // Missing or unreadable: names are looked up on disk, as before.
        index.complete = false;
        return index;
    };
    for (read, entry) in entries.enumerate() {
        if read == MAX_DIR_ENTRIES {
            index.complete = false;
            skipped.push(Skipped {
                path: dir.to_path_buf(),
                reason: format!(
                    "more than {MAX_DIR_ENTRIES} entries: only the first {MAX_DIR_ENTRIES} read were considered"
                ),
            });
            break;
        }
        let Ok(entry) = entry else {
            index.complete = false;
            continue;
        };
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let stem = stem.to_ascii_lowercase();
        // The entry's type, following a link with stat; never an open.
        let kind = match entry.file_type() {
            Ok(t) if t.is_symlink() => std::fs::metadata(&path).map(|m| m.file_type()),
            other => other,
        };
        match kind {
            Ok(t) if t.is_file() => index.files.push((stem, path)),
            Ok(t) => skipped.push(Skipped {
                reason: format!("it is {}, not a regular file: not read", file_kind(t)),
                path,
            }),
            Err(e) => skipped.push(Skipped {
                reason: format!("cannot be read: {e}"),
                path,
            }),
        }
    }
    index.files.sort();
    if index.files.len() > budget {
        skipped.push(Skipped {
            path: dir.to_path_buf(),
            reason: format!(
                "{} profile files: only the first {budget} by name are listed (at most {MAX_USER_PROFILES} over all profile folders; others are found by exact name)",
                index.files.len()
            ),
        });
        index.files.truncate(budget);
        index.complete = false;
    }
    for (name, path) in &index.files {
        if path.file_name().and_then(|f| f.to_str()) == Some(&format!("{name}.toml")) {
            index
                .exact
                .entry(name.clone())
                .or_insert_with(|| path.clone());
        }
    }
    index
}

/// Every profile name: built-in and user, deduplicated, sorted (at most
/// [`MAX_USER_PROFILES`] user ones).
pub fn all_names(dirs: &ProfileDirs) -> Vec<String> {
    ProfileCatalog::scan(dirs).names
}

/// User profile files (`<dir>/<name>.toml`) in precedence order (at most
/// [`MAX_USER_PROFILES`]; non-regular entries are left out).
pub fn user_files(dirs: &ProfileDirs) -> Vec<(String, PathBuf)> {
    ProfileCatalog::scan(dirs)
        .user_files()
        .map(|(n, p)| (n.to_string(), p.to_path_buf()))
        .collect()
}

/// One row of `taper profiles`.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub name: String,
    pub display_name: String,
    pub version: String,
    pub origin: String,
    /// Set when the profile could not be loaded, or why it was skipped.
    pub problem: Option<String>,
    /// Built-in profiles hidden by a user profile of the same name.
    pub shadows_builtin: bool,
    /// A folder entry that was not read (not a regular file), or a folder
    /// not read in full.
    pub skipped: bool,
}

/// Lists built-in and user profiles; a user profile shadows a built-in one.
pub fn list(dirs: &ProfileDirs) -> Vec<Listing> {
    ProfileCatalog::scan(dirs).list()
}
