//! Writing output files without ever leaving a partial or clobbered file:
//! render fully in memory, write a temporary file in the target's
//! directory, then rename it into place.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Refuses an existing target unless `force` (exit 1).
pub fn check_target(path: &Path, force: bool) -> Result<()> {
    if !force && path.exists() {
        return Err(Error::OutputExists {
            path: path.display().to_string(),
        });
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    check_target(path, force)?;
    let mut file = AtomicFile::create(path)?;
    file.writer().write_all(bytes).map_err(|e| Error::Write {
        path: path.display().to_string(),
        message: os_message(e),
    })?;
    file.persist(force)
}

/// A file written progressively into a temporary twin and renamed into
/// place only by [`AtomicFile::persist`]; dropping it removes the twin, so
/// an interrupted or failed run leaves nothing behind.
pub struct AtomicFile {
    path: std::path::PathBuf,
    writer: std::io::BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let write_err = |e: std::io::Error| Error::Write {
            path: path.display().to_string(),
            message: os_message(e),
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let tmp = temp_builder().tempfile_in(dir).map_err(write_err)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            writer: std::io::BufWriter::with_capacity(256 * 1024, tmp),
        })
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.writer
    }

    /// Flushes and renames into place (refusing an existing file unless
    /// `force`).
    pub fn persist(self, force: bool) -> Result<()> {
        let path = self.path;
        let write_err = |e: std::io::Error| Error::Write {
            path: path.display().to_string(),
            message: os_message(e),
        };
        let tmp = self
            .writer
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        tmp.as_file().sync_all().map_err(write_err)?;
        if force {
            keep_permissions(&path, tmp.path());
            tmp.persist(&path).map_err(|e| write_err(e.error))?;
        } else {
            tmp.persist_noclobber(&path).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::OutputExists {
                        path: path.display().to_string(),
                    }
                } else {
                    write_err(e.error)
                }
            })?;
        }
        Ok(())
    }
}

/// Temporary twins are hidden dot-files; on Unix they are created with the
/// usual 0666 less the umask (not tempfile's private 0600), so the renamed
/// output has the permissions any other new file would have.
fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(".taper-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// The operating system's words for an error, without the temporary file's
/// name that `tempfile` adds (the user never asked for that file).
fn os_message(e: std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => e.to_string(),
    }
}

/// `--force` replaces a file's contents, not its access rights: a file the
/// user made private stays private.
fn keep_permissions(existing: &Path, replacement: &Path) {
    if let Ok(meta) = std::fs::metadata(existing) {
        let _ = std::fs::set_permissions(replacement, meta.permissions());
    }
}
