//! Reading a profile file without trusting it: only a regular file is
//! opened, and reading stops one byte past [`MAX_PROFILE_BYTES`].

use std::path::Path;

use crate::error::Error;

use super::{parse_profile, Profile};

/// Largest profile file read, in bytes (1 MiB); the built-in profiles are
/// under 8 KB each.
pub const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

/// Reads and validates a profile file.
pub fn load_file(path: &Path) -> Result<Profile, Error> {
    let text = read_profile_text(path)?;
    parse_profile(
        &text,
        &path.display().to_string(),
        &path.display().to_string(),
    )
}

/// Reads and validates a profile from a stream (`taper profiles check -`),
/// with the same size limit as a file; `label` stands for the file name in
/// `FILE:LINE:COL` messages.
pub fn load_reader(r: impl std::io::Read, label: &str) -> Result<Profile, Error> {
    let text = read_limited(r, Path::new(label), MAX_PROFILE_BYTES)?;
    parse_profile(&text, label, label)
}

/// What a path is when it is not a regular file, for messages.
pub(super) fn file_kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, t: std::fs::FileType) -> Error {
    Error::ProfileRead {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: format!(
            "it is {}, not a regular file (accepted: a regular .toml file; devices, FIFOs and directories are refused without being read)",
            file_kind(t)
        ),
    }
}

fn too_large(path: &Path, size: Option<u64>, limit: u64) -> Error {
    let size = size.map_or_else(
        || "more than".to_string(),
        |n| format!("{n} bytes, more than"),
    );
    Error::ProfileRead {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: format!(
            "the file is {size} the limit of {limit} bytes{} for a profile",
            if limit == MAX_PROFILE_BYTES {
                " (1 MiB)"
            } else {
                ""
            }
        ),
    }
}

/// Reads a profile file's text, refusing anything but a regular file of at
/// most [`MAX_PROFILE_BYTES`].
///
/// The path's metadata is checked *before* it is opened: opening a FIFO
/// for reading blocks until a writer appears, and a device such as
/// `/dev/zero` never ends, so neither may be opened at all. (Opening with
/// `O_NONBLOCK` and checking with `fstat` would also close the window
/// between the check and the open, but needs the `libc` crate; the opened
/// file is checked again, and read through a bounded reader, so a file
/// swapped in after the check can at worst block, never exhaust memory.)
pub fn read_profile_text(path: &Path) -> Result<String, Error> {
    let read_err = |e: std::io::Error| Error::ProfileIo {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    if meta.len() > MAX_PROFILE_BYTES {
        return Err(too_large(path, Some(meta.len()), MAX_PROFILE_BYTES));
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    read_limited(file, path, MAX_PROFILE_BYTES)
}

/// Reads at most `limit` bytes of UTF-8 text; more is an error, and no
/// more than `limit + 1` bytes are ever read (files in `/proc` report size
/// 0, and a file may grow while it is read).
fn read_limited(r: impl std::io::Read, path: &Path, limit: u64) -> Result<String, Error> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::ProfileIo {
            path: crate::terminal::escape(&path.display().to_string()).into_owned(),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, None, limit));
    }
    String::from_utf8(bytes).map_err(|e| Error::ProfileRead {
        path: crate::terminal::escape(&path.display().to_string()).into_owned(),
        message: format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_limit() {
        // An endless reader (what /dev/zero is) stops one byte past the limit.
        let err = read_limited(std::io::repeat(0), Path::new("/dev/zero"), 1000)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cannot read profile /dev/zero: the file is more than the limit of 1000 bytes for a profile"
        );
        let ok = read_limited(&b"name = 1"[..], Path::new("x"), 8).unwrap();
        assert_eq!(ok, "name = 1");
        let err = read_limited(&b"ab\xffc"[..], Path::new("x"), 8)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not UTF-8 text (invalid byte at offset 2)"),
            "{err}"
        );
    }
}
