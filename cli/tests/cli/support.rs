//! Shared helpers: temporary directories, certificates, free ports, running the binary.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};

/// The binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ecdsa2pc")
}

/// The per-user lock registry the binary uses in tests (`ECDSA2PC_LOCK_DIR`), under cargo's
/// scratch directory rather than the tester's `~/.local/state`: one per test (libtest runs
/// each test on a thread named after it). Many tests sign copies of one fixture key, and a
/// signing run's `.deciding` entry refuses that key to every other run sharing the registry
/// until it is decided, so a shared registry made concurrent tests refuse each other.
pub(crate) fn lock_dir() -> PathBuf {
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", "-");
    lock_root().join(test)
}

/// Where the per-test lock registries of this test process live (party 1's parameter pins
/// with them): a fresh directory per run, so no pin of an earlier run is found.
pub(crate) fn lock_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-test-locks")
        .join(std::process::id().to_string())
}

/// A directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "ecdsa2pc-cli-test-{}-{n}-{tag}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `certs/generate_certs.sh DIR`: a fresh CA and both party identities.
pub(crate) fn make_certs(dir: &Path) {
    make_certs_with(dir, &[]);
}

/// Runs `certs/generate_certs.sh DIR ARGS...` (e.g. `--extra other`).
pub(crate) fn make_certs_with(dir: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../certs/generate_certs.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(dir)
        .args(args)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "generate_certs.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A temporary directory with `certs/` made by the script.
pub(crate) fn dir_with_certs(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    make_certs(&dir.path().join("certs"));
    dir
}

/// `127.0.0.1:PORT` with a port that was free a moment ago.
pub(crate) fn free_addr() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("127.0.0.1:{port}")
}

/// Starts `ecdsa2pc demo --party N --server ADDR --certs CERTS ARGS...` with piped output.
pub(crate) fn spawn_party(party: u8, addr: &str, certs: &Path, args: &[&str]) -> Party {
    spawn_command("demo", party, addr, certs, args)
}

/// Starts `ecdsa2pc COMMAND --party N --server ADDR --certs CERTS ARGS...` with piped
/// output.
pub(crate) fn spawn_command(
    command: &str,
    party: u8,
    addr: &str,
    certs: &Path,
    args: &[&str],
) -> Party {
    spawn_command_with_lock_dir(command, party, addr, certs, args, &lock_dir())
}

/// [`spawn_command`] with the per-user state directory (lock registry, party 1's pins) at
/// `locks`.
pub(crate) fn spawn_command_with_lock_dir(
    command: &str,
    party: u8,
    addr: &str,
    certs: &Path,
    args: &[&str],
    locks: &Path,
) -> Party {
    let child = Command::new(bin())
        .env("ECDSA2PC_LOCK_DIR", locks)
        .args([command, "--party", &party.to_string(), "--server", addr])
        .arg("--certs")
        .arg(certs)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    Party {
        child: Some(child),
        stderr: None,
    }
}

/// A running party process, killed on drop (a failed assertion leaves no process behind).
pub(crate) struct Party {
    child: Option<Child>,
    /// Its stderr (the progress log) once [`Party::wait_for_stderr`] took it (kept open so
    /// the process can go on printing).
    stderr: Option<BufReader<ChildStderr>>,
}

impl Party {
    /// Reads the process's progress log (stderr) until a line contains `needle`; returns
    /// what was read. [`finish`] then returns only the rest of its log.
    pub(crate) fn wait_for_stderr(&mut self, needle: &str) -> String {
        if self.stderr.is_none() {
            let pipe = self.child.as_mut().and_then(|c| c.stderr.take());
            self.stderr = pipe.map(BufReader::new);
        }
        let reader = self.stderr.as_mut().expect("stderr is piped");
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("read stderr");
            assert!(n > 0, "no line with {needle:?} before the end:\n{seen}");
            seen.push_str(&line);
            if line.contains(needle) {
                return seen;
            }
        }
    }
}

impl Party {
    /// Sends the process `signal` (e.g. "TERM") with kill(1).
    pub(crate) fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("still running").id();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }
}

impl Drop for Party {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A finished process: exit code and its output as text.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    /// The stdout bytes as written (binary DER is not text).
    pub(crate) stdout_raw: Vec<u8>,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from_output(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stdout_raw: out.stdout.clone(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The rest of the progress-log (stderr) line that contains `label` (e.g.
    /// `"signature #1 (DER): "`).
    pub(crate) fn field(&self, label: &str) -> String {
        self.stderr
            .lines()
            .find_map(|line| {
                line.split_once(label)
                    .map(|(_, rest)| rest.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no '{label}' in the log:\n{}", self.stderr))
    }
}

impl core::fmt::Display for Run {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Waits for a spawned party.
pub(crate) fn finish(mut party: Party) -> Run {
    let child = party.child.take().expect("not finished yet");
    Run::from_output(child.wait_with_output().expect("wait"))
}

/// Runs the binary with `args` to completion.
pub(crate) fn run(args: &[&str]) -> Run {
    run_with_lock_dir(args, &lock_dir())
}

/// [`run`] with the per-user lock registry at `locks`.
pub(crate) fn run_with_lock_dir(args: &[&str], locks: &Path) -> Run {
    Run::from_output(
        Command::new(bin())
            .env("ECDSA2PC_LOCK_DIR", locks)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary starts"),
    )
}

/// Decodes hex (test helper).
pub(crate) fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

/// Runs `openssl ARGS...`.
pub(crate) fn openssl(args: &[&str]) -> Run {
    Run::from_output(
        Command::new("openssl")
            .args(args)
            .output()
            .expect("the openssl command is installed"),
    )
}

/// Starts `ecdsa2pc serve --listen ADDR --certs CERTS --shares SHARES ARGS...` with piped output
/// (its log is on stderr); it runs until killed (on drop).
pub(crate) fn spawn_serve(addr: &str, certs: &Path, shares: &Path, args: &[&str]) -> Party {
    let child = Command::new(bin())
        .env("ECDSA2PC_LOCK_DIR", lock_dir())
        .args(["serve", "--listen", addr])
        .arg("--certs")
        .arg(certs)
        .arg("--shares")
        .arg(shares)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    Party {
        child: Some(child),
        stderr: None,
    }
}

/// Starts the binary with `args` under `ulimit -f BLOCKS` (1024-byte blocks) and with
/// SIGXFSZ ignored, so that a write past the limit fails with EFBIG ("File too large") as on
/// a full disk, instead of killing the process. Needs no privilege: any process may lower
/// its own limit, and an ignored signal stays ignored across exec.
pub(crate) fn spawn_size_limited(blocks: u32, args: &[&str]) -> Party {
    spawn_under_ulimit(&["-f", &blocks.to_string()], args)
}

/// Starts the binary with `args` under `ulimit LIMIT...` (e.g. `["-n", "300"]`: soft and
/// hard open-file limits; `["-Sn", "300"]`: the soft one only), with SIGXFSZ ignored.
pub(crate) fn spawn_under_ulimit(limit: &[&str], args: &[&str]) -> Party {
    let child = Command::new("bash")
        .args([
            "-c",
            r#"n=$1; ulimit "${@:2:n}" && trap '' XFSZ && exec "$0" "${@:n+2}""#,
            bin(),
            &limit.len().to_string(),
        ])
        .args(limit)
        .args(args)
        .env("ECDSA2PC_LOCK_DIR", lock_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash starts");
    Party {
        child: Some(child),
        stderr: None,
    }
}

/// Party 0's commitment-parameter secret over the core's fixture safe primes, for tests that
/// play party 0 in-process (the binary makes or loads its own).
pub(crate) fn params_secret() -> ecdsa2pc_core::RingPedersenSecret {
    let (p, q) = crate::safe_primes::SAFE_PRIME_PAIRS[0];
    ecdsa2pc_core::RingPedersenSecret::from_safe_primes(
        &mut ecdsa2pc_net::rng::os_rng().unwrap(),
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}
