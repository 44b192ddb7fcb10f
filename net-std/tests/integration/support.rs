//! Shared helpers: temporary certificate directories, server threads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{CertPaths, Channel, NetError, listen};

/// Timeout for operations that are expected to succeed.
pub const OK_TIMEOUT: Duration = Duration::from_secs(10);

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "ecdsa2pc-net-test-{}-{n}-{tag}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../certs/generate_certs.sh")
}

/// Runs `certs/generate_certs.sh DIR ARGS...`.
pub fn run_script(dir: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script())
        .arg(dir)
        .args(args)
        .output()
        .expect("bash runs")
}

/// A fresh directory with a CA, both party identities and the extra identity `other`.
pub fn certs(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    let out = run_script(dir.path(), &["--extra", "other"]);
    assert!(
        out.status.success(),
        "generate_certs.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

pub fn party(dir: &TempDir, party: Party) -> CertPaths {
    CertPaths::for_party(dir.path(), party)
}

/// Binds 127.0.0.1:0 and accepts one client in a thread; returns the address to
/// connect to and the thread. `after` runs on the accepted channel.
pub fn serve<T: Send + 'static>(
    paths: CertPaths,
    timeout: Duration,
    after: impl FnOnce(Channel) -> T + Send + 'static,
) -> (String, JoinHandle<Result<T, NetError>>) {
    let listener = listen("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || listener.accept(&paths, timeout).map(after));
    (addr.to_string(), handle)
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `openssl`'s SHA-256 of the DER SubjectPublicKeyInfo of a PEM certificate.
pub fn openssl_spki_sha256(cert: &Path) -> [u8; 32] {
    let pubkey = Command::new("openssl")
        .args(["x509", "-noout", "-pubkey", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    assert!(pubkey.status.success());
    let der_file = cert.with_extension("spki.der");
    let mut child = Command::new("openssl")
        .args(["pkey", "-pubin", "-outform", "DER", "-out"])
        .arg(&der_file)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&pubkey.stdout)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let der = std::fs::read(&der_file).unwrap();
    std::fs::remove_file(&der_file).unwrap();
    use sha2::Digest;
    sha2::Sha256::digest(&der).into()
}
