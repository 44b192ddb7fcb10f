//! Everything the CLI prints: progress lines on stdout, errors on stderr.

use core::fmt::{self, Write as _};
use core::time::Duration;
use std::time::Instant;

use crate::error::{CliError, ExitStatus};

/// Width of a phase name padded with dots, so that the results line up.
const PHASE_WIDTH: usize = 16;

/// Prints one party's progress on stdout, each line prefixed with `[party N]`.
#[derive(Debug)]
pub(crate) struct Log {
    prefix: String,
    verbose: bool,
}

impl Log {
    /// A log whose lines start with `prefix` (e.g. `[party 0]`).
    pub(crate) fn new(prefix: impl Into<String>, verbose: bool) -> Self {
        Self {
            prefix: prefix.into(),
            verbose,
        }
    }

    /// Whether `--verbose` was given.
    pub(crate) fn verbose(&self) -> bool {
        self.verbose
    }

    /// One line of output.
    pub(crate) fn line(&self, text: impl fmt::Display) {
        println!("{} {text}", self.prefix);
    }

    /// One line of output, only with `--verbose`.
    pub(crate) fn detail(&self, text: impl fmt::Display) {
        if self.verbose {
            self.line(format_args!("  {text}"));
        }
    }

    /// Runs one phase and prints `name ...... ok  (N ms)  note` or `name ...... FAILED`.
    ///
    /// `note` turns the result into the text after the duration (empty for none).
    pub(crate) fn phase<T>(
        &self,
        name: &str,
        run: impl FnOnce() -> Result<T, CliError>,
        note: impl FnOnce(&T) -> String,
    ) -> Result<T, CliError> {
        let start = Instant::now();
        let result = run();
        let elapsed = start.elapsed();
        match &result {
            Ok(value) => {
                let note = note(value);
                let sep = if note.is_empty() { "" } else { "  " };
                self.line(format_args!(
                    "{} ok  ({}){sep}{note}",
                    dotted(name),
                    millis(elapsed)
                ));
            }
            Err(_) => self.line(format_args!(
                "{} FAILED  ({})",
                dotted(name),
                millis(elapsed)
            )),
        }
        result
    }

    /// Prints a phase result that is not timed (e.g. an expected failure).
    pub(crate) fn result(&self, name: &str, outcome: impl fmt::Display) {
        self.line(format_args!("{} {outcome}", dotted(name)));
    }
}

/// `name` padded with a space and dots to [`PHASE_WIDTH`].
fn dotted(name: &str) -> String {
    let mut s = String::with_capacity(PHASE_WIDTH + 2);
    s.push_str(name);
    s.push(' ');
    while s.chars().count() < PHASE_WIDTH {
        s.push('.');
    }
    s
}

/// A duration in whole milliseconds, e.g. `412 ms`.
pub(crate) fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Prints `error: <message>` on stderr; with `verbose` also the `source()` chain; and a
/// prominent warning if the error means a key share was locked.
pub(crate) fn report_error(err: &CliError, verbose: bool) {
    eprintln!("error: {err}");
    if verbose {
        let mut source = core::error::Error::source(err);
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
    }
    if err.locked_share() {
        eprintln!();
        eprintln!("error: ************************************************************");
        eprintln!("error: *  KEY SHARE LOCKED: a final signature failed to verify.    *");
        eprintln!("error: *  The peer may be trying to extract the secret key.        *");
        eprintln!("error: *  Do not sign with this key again; run a new keygen.       *");
        eprintln!("error: ************************************************************");
    }
}

/// Ends a command: prints `result: SUMMARY`, or `result: FAILED` and the error; returns the
/// exit status.
pub(crate) fn finish(log: &Log, verbose: bool, result: Result<String, CliError>) -> ExitStatus {
    match result {
        Ok(summary) => {
            log.line(format_args!("result: {summary}"));
            ExitStatus::Success
        }
        Err(err) => {
            log.line(format_args!(
                "result: FAILED (exit code {}); see the error below",
                err.exit_status() as u8
            ));
            report_error(&err, verbose);
            err.exit_status()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_dots() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(dotted("keygen"), "keygen .........");
        assert_eq!(dotted("a-very-long-phase-name"), "a-very-long-phase-name ");
        assert_eq!(millis(Duration::from_micros(412_900)), "412 ms");
    }
}
