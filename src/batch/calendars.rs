//! `taper batch --format ics|html --out-dir DIR`: one calendar file per
//! row, `DIR/<id>.ics` (or `.html`).
//!
//! A row's id becomes a file name only when it is plainly safe (see
//! [`check_id`]): refused, never rewritten, so the name a clinic sees is
//! always its own id. Every file is staged in a hidden twin in `DIR` and
//! renamed into place only when the whole batch is done, so an existing
//! file (without `--force`), an I/O error or a bad row under `--strict`
//! leaves `DIR` as it was.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::{check_target, StagedFile};

/// Longest id used as a file name, in bytes (file systems allow 255).
pub const MAX_ID_FILE_CHARS: usize = 100;

/// Device names Windows reserves in any folder, with any extension.
const WINDOWS_RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

const ACCEPTED: &str = "accepted as a file name: ASCII letters, digits, '-', '_' and '.', not starting with '.', at most 100 characters, not a Windows device name such as CON or NUL";

/// Refuses an id that could not safely name a file on every common
/// system: path separators and `..` (traversal), a leading dot (hidden
/// files, `.` and `..`), NUL and control characters, spaces and
/// non-ASCII (look-alike and normalisation differences between systems),
/// and Windows device names.
pub fn check_id(id: &str) -> std::result::Result<(), String> {
    let plain = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let stem = id.split('.').next().unwrap_or("").to_ascii_lowercase();
    if !plain
        || id.is_empty()
        || id.starts_with('.')
        || id.len() > MAX_ID_FILE_CHARS
        || WINDOWS_RESERVED.contains(&stem.as_str())
    {
        return Err(format!(
            "id '{}' cannot name a calendar file ({ACCEPTED})",
            crate::terminal::escape(id)
        ));
    }
    Ok(())
}

/// The calendar files of one batch, staged until [`Folder::commit`].
pub struct Folder {
    dir: PathBuf,
    extension: &'static str,
    force: bool,
    staged: Vec<StagedFile>,
    /// Lower-cased file names taken so far, with the line of the row that
    /// took each (case-insensitive file systems would merge `A` and `a`).
    taken: HashMap<String, u64>,
    /// The folder was made by this run: removed again if nothing is written.
    created: bool,
}

impl Folder {
    /// Opens `dir`, creating it when missing (its parent must exist: a
    /// mistyped path does not grow a tree of folders).
    pub fn open(dir: &Path, extension: &'static str, force: bool) -> Result<Folder> {
        let write_err = |message: String| Error::Write {
            path: dir.display().to_string(),
            message,
        };
        let created = match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => false,
            Ok(_) => return Err(write_err("it exists and is not a folder".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(dir).map_err(|e| {
                    write_err(format!(
                        "cannot create the folder: {e} (its parent folder must exist)"
                    ))
                })?;
                true
            }
            Err(e) => return Err(write_err(e.to_string())),
        };
        Ok(Folder {
            dir: dir.to_path_buf(),
            extension,
            force,
            staged: Vec::new(),
            taken: HashMap::new(),
            created,
        })
    }

    /// Stages one row's file. `Ok(Err(message))` is a problem of this row
    /// (its name is taken by an earlier row); `Err` stops the whole run
    /// (the file exists without `--force`, or cannot be written).
    pub fn add(
        &mut self,
        line: u64,
        id: &str,
        bytes: &[u8],
    ) -> Result<std::result::Result<(), String>> {
        let name = format!("{id}.{}", self.extension);
        if let Some(first) = self.taken.get(&name.to_ascii_lowercase()) {
            return Ok(Err(format!(
                "id '{id}' gives the file name {name}, already used by the row on line {first} (accepted: ids that differ in more than letter case)"
            )));
        }
        let path = self.dir.join(&name);
        // Refused as soon as it is seen, before anything is written.
        check_target(&path, self.force)?;
        self.staged.push(StagedFile::create(&path, bytes)?);
        self.taken.insert(name.to_ascii_lowercase(), line);
        Ok(Ok(()))
    }

    /// Renames every staged file into place, in input order; returns
    /// their paths.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let staged = std::mem::take(&mut self.staged);
        let mut written = Vec::with_capacity(staged.len());
        for file in staged {
            let path = file.path().to_path_buf();
            file.persist(self.force)?;
            written.push(path);
        }
        // Something was written (or nothing was asked): the folder stays.
        self.created = false;
        Ok(written)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        // Twins first, then the folder this run made, if it is empty.
        self.staged.clear();
        if self.created {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_ids_name_files() {
        for ok in ["p-001", "A_2", "smith.john", "x", "con-1", "Nullish"] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(MAX_ID_FILE_CHARS + 1);
        for bad in [
            "", ".", "..", "../x", "/abs", "a/b", "a\\b", ".hidden", "a\0b", "a b", "é", "CON",
            "nul.txt", "com1", "Lpt9", "a\nb", &long,
        ] {
            let err = check_id(bad).unwrap_err();
            assert!(err.contains("cannot name a calendar file"), "{bad}: {err}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// An accepted id always names a file directly inside the folder:
        /// no id reaches another folder, whatever its characters.
        #[test]
        fn accepted_ids_stay_in_the_folder(id in "[a-zA-Z0-9./\\\\_ :-]{0,12}|\\PC{0,8}") {
            if check_id(&id).is_ok() {
                let dir = Path::new("out");
                let path = dir.join(format!("{id}.ics"));
                prop_assert_eq!(path.parent(), Some(dir));
                let name = format!("{id}.ics");
                prop_assert_eq!(path.file_name().and_then(|n| n.to_str()), Some(name.as_str()));
                // Hidden files and `.`/`..` are refused; dots inside a name
                // (`A..1`) are only dots.
                prop_assert!(!id.starts_with('.'));
                prop_assert!(Path::new(&id)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))));
            }
        }
    }
}
