//! The standard streams as the binary wants them: stdout failures told
//! apart (the reader left, or there was never a stdout), stderr failures
//! ignored.

use std::cell::Cell;
use std::io::{self, Write};
use std::rc::Rc;

/// Stdout that remembers whether the reader closed the pipe (EPIPE: the
/// reader's choice, exit 0) and refuses to write when stdout was closed
/// before the program started (EBADF: the output has nowhere to go).
pub struct StdoutWriter<W: Write> {
    inner: W,
    closed_at_start: bool,
    reader_left: Rc<Cell<bool>>,
}

impl<W: Write> StdoutWriter<W> {
    pub fn new(inner: W, closed_at_start: bool) -> StdoutWriter<W> {
        StdoutWriter {
            inner,
            closed_at_start,
            reader_left: Rc::new(Cell::new(false)),
        }
    }

    /// Set once a write fails because the reader closed the pipe.
    pub fn reader_left(&self) -> Rc<Cell<bool>> {
        self.reader_left.clone()
    }

    fn check(&self, result: io::Result<usize>) -> io::Result<usize> {
        result.map_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.reader_left.set(true);
                e
            } else {
                io::Error::new(e.kind(), format!("cannot write to standard output: {e}"))
            }
        })
    }
}

impl<W: Write> Write for StdoutWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed_at_start {
            return Err(io::Error::other(
                "cannot write to standard output: it was closed when taper started (os error 9)",
            ));
        }
        let result = self.inner.write(buf);
        self.check(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed_at_start {
            return Ok(());
        }
        let result = self.inner.flush().map(|()| 0);
        self.check(result).map(|_| ())
    }
}

/// A writer whose failures are dropped: diagnostics are a courtesy, and a
/// closed or full stderr must not change what the run does or its exit code.
pub struct LenientWriter<W: Write> {
    inner: Option<W>,
}

impl<W: Write> LenientWriter<W> {
    pub fn new(inner: W) -> LenientWriter<W> {
        LenientWriter { inner: Some(inner) }
    }
}

impl<W: Write> Write for LenientWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(w) = &mut self.inner {
            if w.write_all(buf).is_err() {
                // Stop trying after the first failure.
                self.inner = None;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(w) = &mut self.inner {
            if w.flush().is_err() {
                self.inner = None;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(self.0))
        }
    }

    #[test]
    fn only_a_broken_pipe_counts_as_the_reader_leaving() {
        let mut w = StdoutWriter::new(Failing(io::ErrorKind::BrokenPipe), false);
        assert!(w.write(b"x").is_err());
        assert!(w.reader_left().get());
        let mut w = StdoutWriter::new(Failing(io::ErrorKind::StorageFull), false);
        let e = w.write(b"x").unwrap_err();
        assert!(!w.reader_left().get());
        assert!(e.to_string().starts_with("cannot write to standard output"));
        let mut w = StdoutWriter::new(Vec::new(), true);
        assert!(w.write(b"x").is_err());
        assert!(!w.reader_left().get());
    }

    #[test]
    fn stderr_failures_are_dropped() {
        let mut w = LenientWriter::new(Failing(io::ErrorKind::BrokenPipe));
        assert_eq!(w.write(b"abc").unwrap(), 3);
        assert!(w.flush().is_ok());
    }
}
