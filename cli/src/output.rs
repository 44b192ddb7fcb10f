//! Everything the CLI prints: the result alone on stdout (text, or one JSON object with
//! `--json`), progress lines and errors on stderr (progress silenced by `--quiet`).

use core::fmt::{self, Write as _};
use core::time::Duration;
use std::io::Write as _;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::error::{CliError, ExitStatus};

/// Width of a phase name padded with dots, so that the results line up.
const PHASE_WIDTH: usize = 16;

/// How a command reports: the `--json`, `--quiet` and `--verbose` switches every command
/// has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Style {
    /// `--json`: the result as one JSON object on stdout.
    pub(crate) json: bool,
    /// `--quiet`: no progress on stderr, only errors.
    pub(crate) quiet: bool,
    /// `--verbose`: more progress details and the causes of an error.
    pub(crate) verbose: bool,
}

/// Prints one party's progress on stderr, each line prefixed with `[party N]`: stdout is
/// kept for the result, so that `$(ecdsa2pc sign ...)` is the signature alone.
#[derive(Debug)]
pub(crate) struct Log {
    prefix: String,
    style: Style,
}

impl Log {
    /// A log whose lines start with `prefix` (e.g. `[party 0]`; empty for none).
    pub(crate) fn new(prefix: impl Into<String>, style: Style) -> Self {
        Self {
            prefix: prefix.into(),
            style,
        }
    }

    /// Whether `--verbose` was given.
    pub(crate) fn verbose(&self) -> bool {
        self.style.verbose && !self.style.quiet
    }

    /// One line of progress (none with `--quiet`).
    pub(crate) fn line(&self, text: impl fmt::Display) {
        if self.style.quiet {
            return;
        }
        if self.prefix.is_empty() {
            eprintln!("{text}");
        } else {
            eprintln!("{} {text}", self.prefix);
        }
    }

    /// One line of progress, only with `--verbose`.
    pub(crate) fn detail(&self, text: impl fmt::Display) {
        if self.verbose() {
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

/// What a successful command hands back: the result for stdout, its JSON fields, and a
/// one-line summary for the log.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// A summary line for stderr (`result: SUMMARY`); empty for none.
    pub(crate) summary: String,
    /// The result as printed without `--json` (may be binary, e.g. DER); empty for none.
    pub(crate) stdout: Vec<u8>,
    /// The result and its metadata for `--json`.
    pub(crate) json: Map<String, Value>,
}

impl Outcome {
    /// An outcome with only a summary (the command's result is a file or a side effect).
    pub(crate) fn summary(summary: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            ..Self::default()
        }
    }

    /// Adds one field to the JSON object.
    pub(crate) fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.json.insert(name.to_owned(), value.into());
        self
    }

    /// Sets the text printed on stdout without `--json` (a newline is added).
    pub(crate) fn text(mut self, text: impl fmt::Display) -> Self {
        self.stdout = format!("{text}\n").into_bytes();
        self
    }
}

/// Ends a command: the result on stdout (text, or the JSON object with `"ok": true`), and
/// `result: SUMMARY` on stderr; or `result: FAILED`, the error on stderr and, with `--json`,
/// `{"ok": false, "exit_code": N, "error": "...", "locked_share": B}` on stdout: one failure
/// object for every command, so a script reads one schema. Returns the exit status.
pub(crate) fn finish(log: &Log, style: Style, result: Result<Outcome, CliError>) -> ExitStatus {
    match result {
        Ok(outcome) => {
            if !outcome.summary.is_empty() {
                log.line(format_args!("result: {}", outcome.summary));
            }
            if style.json {
                let mut object = Map::new();
                object.insert("ok".to_owned(), Value::Bool(true));
                object.extend(outcome.json);
                print_json(object);
            } else {
                let mut out = std::io::stdout().lock();
                // A closed stdout (e.g. `| head -c0`) is the reader's choice, not our failure.
                let _ = out.write_all(&outcome.stdout).and_then(|()| out.flush());
            }
            ExitStatus::Success
        }
        Err(err) => fail(log, style, &err),
    }
}

/// The failure half of [`finish`], for commands that stop before they have a result.
pub(crate) fn fail(log: &Log, style: Style, err: &CliError) -> ExitStatus {
    let status = err.exit_status();
    log.line(format_args!(
        "result: FAILED (exit code {}); see the error below",
        status as u8
    ));
    report_error(err, style.verbose);
    if style.json {
        let mut object = Map::new();
        object.insert("ok".to_owned(), Value::Bool(false));
        object.insert("exit_code".to_owned(), Value::from(status as u8));
        object.insert("error".to_owned(), Value::String(err.to_string()));
        object.insert("locked_share".to_owned(), Value::Bool(err.locked_share()));
        print_json(object);
    }
    status
}

/// One JSON object on one line of stdout.
fn print_json(object: Map<String, Value>) {
    println!("{}", Value::Object(object));
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
