//! The approval hook: an operator's program that sees every sign and refresh request before
//! the service accepts it, and approves (exit 0) or refuses it.
//!
//! The program runs without a shell (the argument vector is given as is), with the request as
//! one JSON object on its standard input and nothing else of the service: its environment is
//! the service's own, its standard error goes to the service's standard error. It is bounded:
//! a time limit, after which it is killed, and at most [`MAX_OUTPUT`] bytes of its standard
//! output are kept. Anything but exit 0 within the limit refuses the request (fail closed),
//! with the first line of its output as the reason the client sees.

use core::time::Duration;
use std::io::{self, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

/// Bytes of the hook's standard output kept (the rest is read and discarded).
pub const MAX_OUTPUT: usize = 4096;
/// How often a running hook is checked for its exit.
const POLL: Duration = Duration::from_millis(5);

/// The program `--approve` names and its time limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApproveHook {
    /// The program and its arguments, run without a shell.
    pub argv: Vec<String>,
    /// Time the program has to exit; then it is killed and the request refused.
    pub timeout: Duration,
}

/// What the hook decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Exit 0.
    Approved,
    /// Anything else: the reason for the client, and what happened for the service's log.
    Refused {
        /// The hook's first output line (or a description of what went wrong).
        reason: String,
        /// Why, for the log: exit status, timeout, failure to start.
        detail: String,
    },
}

impl ApproveHook {
    /// The hook `command` split at whitespace (no quoting, no shell: for shell features write
    /// a script, or give `sh -c SCRIPT` with a SCRIPT that has no spaces), with `timeout`.
    /// `None` for a command with no word.
    #[must_use]
    pub fn parse(command: &str, timeout: Duration) -> Option<Self> {
        let argv: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        (!argv.is_empty()).then_some(Self { argv, timeout })
    }

    /// Runs the hook with `request` (one JSON object) on its standard input.
    #[must_use]
    pub fn decide(&self, request: &serde_json::Value) -> Verdict {
        let refused = |reason: &str, detail: String| Verdict::Refused {
            reason: reason.to_owned(),
            detail,
        };
        let Some((program, args)) = self.argv.split_first() else {
            return refused("the approval hook is empty", "no program".to_owned());
        };
        let spawned = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                return refused(
                    "the approval hook could not be started",
                    format!("cannot start {program}: {e}"),
                );
            }
        };
        // A hook that does not read its input, or exits early, is its own business: the
        // decision is its exit status.
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(format!("{request}\n").as_bytes());
        }
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            // Read in a thread so that a hook writing much output cannot block on a full pipe;
            // only the first MAX_OUTPUT bytes are kept.
            let _ = thread::Builder::new()
                .name("ecdsa2pc-approve".into())
                .spawn(move || {
                    let mut kept = Vec::new();
                    let mut stdout = stdout;
                    let _ = (&mut stdout).take(MAX_OUTPUT as u64).read_to_end(&mut kept);
                    let _ = io::copy(&mut stdout, &mut io::sink());
                    let _ = tx.send(kept);
                });
        }
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return refused(
                        "the approval hook did not answer in time",
                        format!("{program} killed after {} ms", self.timeout.as_millis()),
                    );
                }
                Err(e) => {
                    let _ = child.kill();
                    return refused(
                        "the approval hook failed",
                        format!("cannot wait for {program}: {e}"),
                    );
                }
            }
        };
        if status.success() {
            return Verdict::Approved;
        }
        // The output is complete once the hook has exited (unless it left a child holding the
        // pipe: then there is no reason line, only the status).
        let output = rx.recv_timeout(POLL * 20).unwrap_or_default();
        let text = String::from_utf8_lossy(&output);
        let line = text.lines().next().unwrap_or("").trim();
        let reason = if line.is_empty() {
            "refused by the approval hook (no reason given)"
        } else {
            line
        };
        refused(reason, format!("{program} exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(command: &str, ms: u64) -> ApproveHook {
        ApproveHook::parse(command, Duration::from_millis(ms)).unwrap()
    }

    fn sh(script: &str, ms: u64) -> ApproveHook {
        ApproveHook {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            timeout: Duration::from_millis(ms),
        }
    }

    #[test]
    fn exit_0_approves_and_the_request_is_on_stdin() {
        let request = serde_json::json!({ "operation": "sign", "key_id": "ab" });
        let v = sh(
            r#"grep -q '"operation":"sign"' && exit 0; echo no; exit 1"#,
            5000,
        )
        .decide(&request);
        assert_eq!(v, Verdict::Approved);
    }

    #[test]
    fn another_exit_refuses_with_the_first_line() {
        let v = sh("echo 'over the daily limit'; echo second; exit 3", 5000)
            .decide(&serde_json::json!({}));
        let Verdict::Refused { reason, detail } = v else {
            panic!("approved")
        };
        assert_eq!(reason, "over the daily limit");
        assert!(detail.contains('3'), "{detail}");
        let Verdict::Refused { reason, .. } = sh("exit 1", 5000).decide(&serde_json::json!({}))
        else {
            panic!("approved")
        };
        assert_eq!(reason, "refused by the approval hook (no reason given)");
    }

    #[test]
    fn a_hook_that_hangs_is_killed_and_refuses() {
        let start = Instant::now();
        let Verdict::Refused { reason, .. } = hook("sleep 30", 200).decide(&serde_json::json!({}))
        else {
            panic!("approved")
        };
        assert_eq!(reason, "the approval hook did not answer in time");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_missing_hook_refuses_and_output_is_capped() {
        let Verdict::Refused { reason, detail } =
            hook("/nonexistent/approve-hook", 1000).decide(&serde_json::json!({}))
        else {
            panic!("approved")
        };
        assert_eq!(reason, "the approval hook could not be started");
        assert!(detail.contains("/nonexistent/approve-hook"), "{detail}");
        // A flood of output on one line: the reason is cut, the hook is not blocked.
        let Verdict::Refused { reason, .. } =
            sh("head -c 1000000 /dev/zero | tr '\\0' x; exit 1", 5000)
                .decide(&serde_json::json!({}))
        else {
            panic!("approved")
        };
        assert_eq!(reason.len(), MAX_OUTPUT);
        assert_eq!(ApproveHook::parse("  ", Duration::ZERO), None);
    }
}
