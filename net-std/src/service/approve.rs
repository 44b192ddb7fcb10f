//! The approval hook: an operator's program that sees every sign and refresh request before
//! the service accepts it, and approves (exit 0) or refuses it.
//!
//! The program runs without a shell (the argument vector is given as is), with the request as
//! one JSON object on its standard input and nothing else of the service: its environment is
//! the service's own. It is bounded: a time limit, after which it is killed, and at most
//! [`MAX_OUTPUT`] bytes of its standard output and as many of its standard error are kept.
//! Anything but exit 0 within the limit refuses the request (fail closed), with the first line
//! of its output as the reason the client sees. What it writes on its standard error is
//! returned with the verdict ([`Decision::stderr`]) for the service to log as one event: it
//! never reaches the service's own standard error, which is the service's log (one JSON object
//! per line with `--log-format json`).
//!
//! On Unix the program runs in a process group of its own, and nothing of that group outlives
//! the decision: at the time limit the whole group is killed, and when the program exits by
//! itself whatever it left running in its group (a background child, a command of a script
//! that hung) is killed too (SIGKILL). A hook that needs work done after its answer must hand
//! it to something outside its process group. The reason is what the program wrote before it
//! exited, even if a child of it still held its output open. (A process that leaves the group,
//! with setsid for one, is beyond this: it is not killed, and while it holds the output or the
//! standard error open, the decision waits up to 200 ms more for their end and a reader thread
//! stays until it lets go; one that holds the standard input without reading keeps the thread
//! writing the request, with its copy of the request, until it lets go.)

use core::time::Duration;
use std::io::{self, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

/// Bytes of the hook's standard output kept (the rest is read and discarded).
pub const MAX_OUTPUT: usize = 4096;
/// The name of the threads that feed a hook its request and read its output.
const THREAD_NAME: &str = "ecdsa2pc-approve";
/// How often a running hook is checked for its exit.
const POLL: Duration = Duration::from_millis(5);
/// Time the output reader has, once the hook exited and its group was killed, to reach the end
/// of the output (the pipe closes as soon as the group is gone; a process that left the group
/// and holds the pipe gets no longer than this: what was read by then is the output).
const OUTPUT_GRACE: Duration = Duration::from_millis(200);

/// The program `--approve` names and its time limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApproveHook {
    /// The program and its arguments, run without a shell.
    pub argv: Vec<String>,
    /// Time the program has to exit; then it is killed and the request refused.
    pub timeout: Duration,
}

/// What the hook decided, and what it wrote on its standard error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Approved or refused.
    pub verdict: Verdict,
    /// The first [`MAX_OUTPUT`] bytes of its standard error (invalid UTF-8 replaced); empty if
    /// it wrote none, or never started.
    pub stderr: String,
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

impl Decision {
    /// A refusal before the hook ran: nothing on its standard error.
    fn unstarted(reason: &str, detail: String) -> Self {
        Self {
            verdict: refused(reason, detail),
            stderr: String::new(),
        }
    }
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
    pub fn decide(&self, request: &serde_json::Value) -> Decision {
        let Some((program, args)) = self.argv.split_first() else {
            return Decision::unstarted("the approval hook is empty", "no program".to_owned());
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A group of its own, so that what the hook starts can be killed with it.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                return Decision::unstarted(
                    "the approval hook could not be started",
                    format!("cannot start {program}: {e}"),
                );
            }
        };
        let stdout = reader(child.stdout.take());
        let stderr = reader(child.stderr.take());
        let verdict = self.verdict(&mut child, program, request, &stdout);
        // The hook has exited or was killed, with its group: the end of its standard error is
        // near (at most OUTPUT_GRACE if something outside the group holds it open).
        let stderr = collect(&stderr, Instant::now() + OUTPUT_GRACE);
        Decision {
            verdict,
            stderr: text(&stderr),
        }
    }

    /// Feeds `request` to the started hook and waits for its verdict: exit 0 within the time
    /// limit, else the first line of `stdout` as the reason.
    fn verdict(
        &self,
        child: &mut Child,
        program: &str,
        request: &serde_json::Value,
        stdout: &mpsc::Receiver<Vec<u8>>,
    ) -> Verdict {
        // The time limit covers the whole decision, writing the request included.
        let deadline = Instant::now() + self.timeout;
        // Written by a thread of its own: a hook that does not read its input cannot stall the
        // decision on a full pipe (the write ends when the hook's group is gone, at the latest
        // at the time limit, unless a process that left the group holds the pipe: module doc). A hook that does not read, or exits early, is its own business:
        // the decision is its exit status.
        if let Some(stdin) = child.stdin.take() {
            write_input(stdin, format!("{request}\n").into_bytes());
        }
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
                Ok(None) => {
                    kill(child);
                    let _ = child.wait();
                    return refused(
                        "the approval hook did not answer in time",
                        format!("{program} killed after {} ms", self.timeout.as_millis()),
                    );
                }
                Err(e) => {
                    kill(child);
                    return refused(
                        "the approval hook failed",
                        format!("cannot wait for {program}: {e}"),
                    );
                }
            }
        };
        // Whatever the hook left running in its group goes with it; that also closes its
        // output, so that the reader reaches the end of what the hook wrote.
        kill_group(child);
        if status.success() {
            return Verdict::Approved;
        }
        let output = text(&collect(stdout, Instant::now() + OUTPUT_GRACE));
        let line = output.lines().next().unwrap_or("").trim();
        let reason = if line.is_empty() {
            "refused by the approval hook (no reason given)"
        } else {
            line
        };
        refused(reason, format!("{program} exited with {status}"))
    }
}

/// Writes `input` to the hook's standard input and closes it, in a thread of its own. Should
/// no thread start, the hook reads an empty input (and a hook that checks its request refuses).
fn write_input(mut stdin: ChildStdin, input: Vec<u8>) {
    let _ = thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || stdin.write_all(&input));
}

/// Kept output as text: invalid UTF-8 replaced, except a character the [`MAX_OUTPUT`] cut
/// split at the end, which is dropped (rather than replaced, which would make the text longer
/// than the bytes kept).
fn text(bytes: &[u8]) -> String {
    let whole = match core::str::from_utf8(bytes) {
        // Only an incomplete sequence at the very end (error_len None): cut before it.
        Err(e) if e.error_len().is_none() => bytes.get(..e.valid_up_to()).unwrap_or(bytes),
        _ => bytes,
    };
    String::from_utf8_lossy(whole).into_owned()
}

/// A refusal with its reason for the client and its detail for the log.
fn refused(reason: &str, detail: String) -> Verdict {
    Verdict::Refused {
        reason: reason.to_owned(),
        detail,
    }
}

/// Reads one of the hook's output pipes in a thread of its own, so that a hook writing much
/// cannot block on a full pipe; the first [`MAX_OUTPUT`] bytes come through the returned
/// receiver as they are read, the rest is read and discarded. The thread ends at the end of
/// the output, which comes at the latest when the hook's group is killed. No pipe, or no
/// thread: a receiver that is at its end at once.
fn reader(pipe: Option<impl io::Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    if let Some(pipe) = pipe {
        let _ = thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || read_output(pipe, &tx));
    }
    rx
}

/// Reads `output` to its end, sending its first [`MAX_OUTPUT`] bytes to `tx` as they come and
/// discarding the rest (also once nobody receives any more).
fn read_output(mut output: impl io::Read, tx: &mpsc::Sender<Vec<u8>>) {
    let mut buf = [0_u8; 4096];
    let mut kept = 0;
    loop {
        match output.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let keep = n.min(MAX_OUTPUT - kept);
                if keep > 0 {
                    kept += keep;
                    let _ = tx.send(buf[..keep].to_vec());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// What the reader sent until the end of the output or `deadline`, whichever comes first.
fn collect(rx: &mpsc::Receiver<Vec<u8>>, deadline: Instant) -> Vec<u8> {
    let mut output = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => output.extend_from_slice(&chunk),
            // The end of the output (the reader is gone), or no more time.
            Err(_) => return output,
        }
    }
}

/// Kills the hook that did not exit (it is not reaped yet, so its process group is still its
/// own): its whole group, and the hook itself should that fail.
fn kill(child: &mut Child) {
    kill_group(child);
    let _ = child.kill();
}

/// Kills (SIGKILL) the process group of `child`, which it leads (best effort: an error, such as
/// a group with nothing left in it, is ignored). Once the hook is reaped its pid could in theory
/// be reused, but not while anything of its group is left, and only a new group leader would
/// share the number: the group is killed right after the hook's exit is seen.
#[cfg(target_os = "linux")]
fn kill_group(child: &Child) {
    use rustix::process::{Pid, Signal, kill_process_group};
    // Never 0 or 1 (the caller's own group; init): a spawned child is neither.
    let Ok(id) = i32::try_from(child.id()) else {
        return;
    };
    if let Some(pid) = Pid::from_raw(id).filter(|_| id > 1) {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

/// Kills (SIGKILL) the process group of `child`, which it leads, with the system's `kill`
/// (best effort: this crate has no unsafe code, and no system call binding here).
#[cfg(all(unix, not(target_os = "linux")))]
fn kill_group(child: &Child) {
    let id = child.id();
    if id <= 1 {
        return;
    }
    let group = format!("-{id}");
    for kill in ["/bin/kill", "/usr/bin/kill", "kill"] {
        let ran = Command::new(kill)
            .args(["-s", "KILL", "--", &group])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if ran.is_ok() {
            return;
        }
    }
}

/// No process groups: only the hook itself is killed.
#[cfg(not(unix))]
fn kill_group(_child: &Child) {}

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
        .decide(&request)
        .verdict;
        assert_eq!(v, Verdict::Approved);
    }

    #[test]
    fn another_exit_refuses_with_the_first_line() {
        let v = sh("echo 'over the daily limit'; echo second; exit 3", 5000)
            .decide(&serde_json::json!({}))
            .verdict;
        let Verdict::Refused { reason, detail } = v else {
            panic!("approved")
        };
        assert_eq!(reason, "over the daily limit");
        assert!(detail.contains('3'), "{detail}");
        let Verdict::Refused { reason, .. } =
            sh("exit 1", 5000).decide(&serde_json::json!({})).verdict
        else {
            panic!("approved")
        };
        assert_eq!(reason, "refused by the approval hook (no reason given)");
    }

    #[test]
    fn a_hook_that_hangs_is_killed_and_refuses() {
        let start = Instant::now();
        let Verdict::Refused { reason, .. } =
            hook("sleep 30", 200).decide(&serde_json::json!({})).verdict
        else {
            panic!("approved")
        };
        assert_eq!(reason, "the approval hook did not answer in time");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_hook_that_reads_nothing_of_a_large_request_is_still_timed_out() {
        // More than a pipe's buffer: writing it blocks until the hook is gone.
        let request = serde_json::json!({ "pad": "x".repeat(1 << 20) });
        let start = Instant::now();
        let Verdict::Refused { reason, .. } = hook("sleep 30", 200).decide(&request).verdict else {
            panic!("approved")
        };
        assert_eq!(reason, "the approval hook did not answer in time");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_missing_hook_refuses_and_output_is_capped() {
        let Verdict::Refused { reason, detail } = hook("/nonexistent/approve-hook", 1000)
            .decide(&serde_json::json!({}))
            .verdict
        else {
            panic!("approved")
        };
        assert_eq!(reason, "the approval hook could not be started");
        assert!(detail.contains("/nonexistent/approve-hook"), "{detail}");
        // A flood of output on one line: the reason is cut, the hook is not blocked.
        let Verdict::Refused { reason, .. } =
            sh("head -c 1000000 /dev/zero | tr '\\0' x; exit 1", 5000)
                .decide(&serde_json::json!({}))
                .verdict
        else {
            panic!("approved")
        };
        assert_eq!(reason.len(), MAX_OUTPUT);
        assert_eq!(ApproveHook::parse("  ", Duration::ZERO), None);
    }

    /// The hook's standard error comes back with the verdict, whatever the verdict, capped
    /// like its output; a flood of it blocks nothing, and it never counts as the reason.
    #[test]
    fn the_hooks_standard_error_comes_back_with_the_verdict_capped() {
        let decision = sh("echo checking >&2; echo 'limit ok' >&2; exit 0", 5000)
            .decide(&serde_json::json!({}));
        assert_eq!(decision.verdict, Verdict::Approved);
        assert_eq!(decision.stderr, "checking\nlimit ok\n");
        let decision =
            sh("echo 'no such key' >&2; echo refused; exit 3", 5000).decide(&serde_json::json!({}));
        assert_eq!(decision.stderr, "no such key\n");
        let Verdict::Refused { reason, .. } = decision.verdict else {
            panic!("approved")
        };
        assert_eq!(reason, "refused");
        let decision = sh("head -c 1000000 /dev/zero | tr '\\0' e >&2; exit 1", 5000)
            .decide(&serde_json::json!({}));
        assert_eq!(decision.stderr.len(), MAX_OUTPUT);
        let Verdict::Refused { reason, .. } = decision.verdict else {
            panic!("approved")
        };
        assert_eq!(reason, "refused by the approval hook (no reason given)");
        // Killed at its time limit: what it wrote before is kept.
        let decision = sh("echo waiting >&2; sleep 30", 1000).decide(&serde_json::json!({}));
        assert_eq!(decision.stderr, "waiting\n");
        // A character the cut splits is dropped, not replaced: the text stays within the cap.
        let decision = sh(
            "head -c 4095 /dev/zero | tr '\\0' e >&2; printf '\\303\\251' >&2; exit 0",
            5000,
        )
        .decide(&serde_json::json!({}));
        assert_eq!(decision.stderr, "e".repeat(MAX_OUTPUT - 1));
        // Never started: nothing.
        let decision = hook("/nonexistent/approve-hook", 1000).decide(&serde_json::json!({}));
        assert_eq!(decision.stderr, "");
    }

    /// A fresh path in the temporary directory for a hook to write a pid to.
    #[cfg(unix)]
    fn pid_file(name: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "ecdsa2pc-approve-{name}-{}.pid",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        path
    }

    /// Whether the `sleep` a hook left behind (its pid in `file`) still runs, allowing `wait`
    /// for a kill to take effect. A zombie (waiting for a reaper) counts as gone.
    #[cfg(unix)]
    fn sleep_survives(file: &std::path::Path, wait: Duration) -> bool {
        let pid: u32 = std::fs::read_to_string(file)
            .expect("the hook wrote its child's pid")
            .trim()
            .parse()
            .expect("a pid");
        let _ = std::fs::remove_file(file);
        let alive = || {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // "pid (comm) state ...": the same sleep, not a reused pid, and not a zombie.
            let comm = stat
                .split_once(" (")
                .and_then(|(_, rest)| rest.rsplit_once(") "));
            matches!(comm, Some((comm, rest)) if comm == "sleep" && !rest.starts_with(['Z', 'X']))
        };
        let start = Instant::now();
        while alive() {
            if start.elapsed() > wait {
                // Do not leave it behind even when the test fails.
                let _ = Command::new("kill")
                    .args(["-s", "KILL", &pid.to_string()])
                    .status();
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Whether a reader thread of some hook is still there after `wait` (other tests run hooks
    /// in parallel, so this waits for a moment with none).
    #[cfg(target_os = "linux")]
    fn reader_threads_remain(wait: Duration) -> bool {
        let count = || {
            std::fs::read_dir("/proc/self/task")
                .map(|tasks| {
                    tasks
                        .filter_map(Result::ok)
                        .filter(|task| {
                            std::fs::read_to_string(task.path().join("comm"))
                                // The kernel keeps 15 bytes of a thread's name.
                                .is_ok_and(|comm| comm.starts_with("ecdsa2pc-approv"))
                        })
                        .count()
                })
                .unwrap_or(0)
        };
        let start = Instant::now();
        while count() > 0 {
            if start.elapsed() > wait {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[cfg(unix)]
    #[test]
    fn a_hook_that_hangs_with_a_child_is_killed_with_its_child() {
        let file = pid_file("hangs");
        let script = format!("sleep 1000 & echo $! > '{}'; wait", file.display());
        let start = Instant::now();
        let verdict = sh(&script, 300).decide(&serde_json::json!({})).verdict;
        let elapsed = start.elapsed();
        // First, so that a failing test leaves no process behind.
        let survives = sleep_survives(&file, Duration::from_secs(1));
        let Verdict::Refused { reason, .. } = verdict else {
            panic!("approved")
        };
        assert_eq!(reason, "the approval hook did not answer in time");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert!(!survives, "the hook's child outlived the timeout");
        #[cfg(target_os = "linux")]
        assert!(
            !reader_threads_remain(Duration::from_secs(6)),
            "the hook's output reader did not end"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_background_child_holding_the_output_neither_hides_the_reason_nor_outlives_the_hook() {
        let file = pid_file("refuses");
        let script = format!(
            "sleep 1000 & echo $! > '{}'; echo refuse; exit 1",
            file.display()
        );
        let start = Instant::now();
        let verdict = sh(&script, 5000).decide(&serde_json::json!({})).verdict;
        let elapsed = start.elapsed();
        // First, so that a failing test leaves no process behind.
        let survives = sleep_survives(&file, Duration::from_secs(1));
        let Verdict::Refused { reason, detail } = verdict else {
            panic!("approved")
        };
        assert_eq!(reason, "refuse");
        assert!(detail.contains("exit"), "{detail}");
        // Far below the 5 s limit (a loaded machine gets slack): the exit was seen at once.
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        assert!(!survives, "the hook's background child outlived it");
        // The same when the hook approves.
        let file = pid_file("approves");
        let script = format!("sleep 1000 & echo $! > '{}'; exit 0", file.display());
        let start = Instant::now();
        let verdict = sh(&script, 5000).decide(&serde_json::json!({})).verdict;
        let elapsed = start.elapsed();
        let survives = sleep_survives(&file, Duration::from_secs(1));
        assert_eq!(verdict, Verdict::Approved);
        // Far below the 5 s limit (a loaded machine gets slack): the exit was seen at once.
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        assert!(
            !survives,
            "the approving hook's background child outlived it"
        );
        #[cfg(target_os = "linux")]
        assert!(
            !reader_threads_remain(Duration::from_secs(6)),
            "the hook's output reader did not end"
        );
    }
}
