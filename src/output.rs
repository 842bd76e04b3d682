//! Writing output files without ever leaving a partial or clobbered file:
//! write a temporary twin in the target's directory, then rename it into
//! place and sync the directory. The twin is removed when the run fails,
//! and also when SIGINT, SIGTERM or SIGHUP ends the run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::error::{Error, Result};

/// Refuses an existing target unless `force` (exit 1); even with `force`,
/// only a regular file or a symlink is replaced, never a device, a FIFO
/// or a directory.
pub fn check_target(path: &Path, force: bool) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !force {
        return Err(Error::OutputExists {
            path: path.display().to_string(),
        });
    }
    let kind = meta.file_type();
    if kind.is_file() || kind.is_symlink() {
        return Ok(());
    }
    Err(Error::Write {
        path: path.display().to_string(),
        message: format!(
            "it is {}; --force replaces only regular files and symlinks",
            describe_kind(&kind)
        ),
    })
}

fn describe_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Temporary twins alive right now, for the signal handler to remove.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs, once, a handler for SIGINT, SIGTERM and SIGHUP that removes
/// every live temporary twin and then lets the signal end the process as
/// it would have (so the parent still sees "killed by SIGINT").
fn remove_twins_on_signal() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let twins = live();
                    for twin in twins.iter() {
                        let _ = std::fs::remove_file(twin);
                    }
                    // Keeps the lock: no new twin appears before the end.
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
        }
    });
}

/// Unregisters a twin when its file is gone (persisted or dropped).
struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        live().retain(|p| p != &self.0);
    }
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
    path: PathBuf,
    writer: std::io::BufWriter<tempfile::NamedTempFile>,
    registered: Registered,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let write_err = |e: std::io::Error| Error::Write {
            path: path.display().to_string(),
            message: os_message(e),
        };
        let (tmp, registered) = registered_twin(path).map_err(write_err)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            writer: std::io::BufWriter::with_capacity(256 * 1024, tmp),
            registered,
        })
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.writer
    }

    /// Flushes and renames into place (refusing an existing file unless
    /// `force`).
    pub fn persist(self, force: bool) -> Result<()> {
        let path = self.path;
        let _registered = self.registered;
        let write_err = |e: std::io::Error| Error::Write {
            path: path.display().to_string(),
            message: os_message(e),
        };
        let tmp = self
            .writer
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        tmp.as_file().sync_all().map_err(write_err)?;
        rename_into_place(tmp.into_temp_path(), &path, force)
    }
}

/// A finished file in its hidden temporary twin (no file handle kept
/// open), waiting to be renamed into place: a batch of calendars stages
/// every file first and renames them only when every row is done, so a
/// failed or `--strict` run writes none. Dropping it removes the twin.
pub struct StagedFile {
    path: PathBuf,
    tmp: tempfile::TempPath,
    _registered: Registered,
}

impl StagedFile {
    /// Writes `bytes` into a synced twin of `path`, in `path`'s folder.
    pub fn create(path: &Path, bytes: &[u8]) -> Result<StagedFile> {
        let write_err = |e: std::io::Error| Error::Write {
            path: path.display().to_string(),
            message: os_message(e),
        };
        let (mut tmp, registered) = registered_twin(path).map_err(write_err)?;
        tmp.write_all(bytes).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        Ok(StagedFile {
            path: path.to_path_buf(),
            tmp: tmp.into_temp_path(),
            _registered: registered,
        })
    }

    /// The file's final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the twin into place, refusing an existing file unless
    /// `force` (as [`AtomicFile::persist`] does).
    pub fn persist(self, force: bool) -> Result<()> {
        let StagedFile {
            path,
            tmp,
            _registered,
        } = self;
        rename_into_place(tmp, &path, force)
    }
}

/// A hidden twin of `path` in its folder, registered so that a signal
/// removes it (the handler is installed with the first twin).
fn registered_twin(path: &Path) -> std::io::Result<(tempfile::NamedTempFile, Registered)> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    remove_twins_on_signal();
    let mut twins = live();
    let tmp = temp_builder().tempfile_in(dir)?;
    twins.push(tmp.path().to_path_buf());
    let registered = Registered(tmp.path().to_path_buf());
    Ok((tmp, registered))
}

/// Renames a finished, synced twin to `path`, refusing an existing file
/// unless `force`, and syncs the folder.
fn rename_into_place(tmp: tempfile::TempPath, path: &Path, force: bool) -> Result<()> {
    let write_err = |e: std::io::Error| Error::Write {
        path: path.display().to_string(),
        message: os_message(e),
    };
    // The target may have changed since the run began.
    check_target(path, force)?;
    // No signal handler removes files while the twin becomes the target.
    let _twins = live();
    if force {
        keep_permissions(path, &tmp);
        tmp.persist(path).map_err(|e| write_err(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::OutputExists {
                    path: path.display().to_string(),
                }
            } else {
                write_err(e.error)
            }
        })?;
    }
    sync_parent(path).map_err(write_err)
}

/// Makes the rename itself durable: without it a crash soon after could
/// leave the folder without the new name.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot sync a directory; the data is synced.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOTSUP)) => Ok(()),
        other => other,
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
    if let Some(code) = e.raw_os_error() {
        return std::io::Error::from_raw_os_error(code).to_string();
    }
    // `tempfile` wraps the OS error as `{error} at path "{twin}"`, and its
    // wrapper type is private: cut the twin's name off the text.
    let text = e.to_string();
    match text.rfind(" at path \"") {
        Some(at) if text[at..].contains("/.taper-") || text[at..].contains("\".taper-") => {
            text[..at].to_string()
        }
        _ => text,
    }
}

/// `--force` replaces a file's contents, not its access rights: a file the
/// user made private stays private.
fn keep_permissions(existing: &Path, replacement: &Path) {
    if let Ok(meta) = std::fs::metadata(existing) {
        let _ = std::fs::set_permissions(replacement, meta.permissions());
    }
}
