//! A service whose process runs out of file descriptors says so, with the limit to raise,
//! pauses accepting instead of spinning, and serves again once descriptors are free.
//!
//! Its own test binary: it lowers the process's open-file limit and fills it, which would
//! break any test running beside it. Linux only (`/proc/self/fd`).

#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs,
    unreachable_pub
)]

#[allow(dead_code)]
#[path = "integration/fixtures.rs"]
mod fixtures;
#[allow(dead_code)]
#[path = "integration/support.rs"]
mod support;

use std::fs::File;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ecdsa2pc_core::Party;
use ecdsa2pc_net::connect;
use ecdsa2pc_net::service::{Service, ServiceConfig, fetch_health};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// What the service logs when `accept` finds no descriptor (`SystemError::OutOfFiles`).
const OUT_OF_FILES: &str = "no file descriptor left to accept a connection";

/// Lines of `log` that say the service ran out of descriptors.
fn out_of_files_lines(log: &Mutex<Vec<String>>) -> Vec<String> {
    let lines = log.lock().unwrap();
    lines
        .iter()
        .filter(|l| l.contains(OUT_OF_FILES))
        .cloned()
        .collect()
}

/// Opens `/dev/null` until the process has no descriptor left: the files that hold them.
fn take_every_descriptor() -> Vec<File> {
    let mut held = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return held,
            Err(e) => panic!("opening /dev/null: {e}"),
        }
    }
}

#[test]
fn out_of_descriptors_the_service_says_so_pauses_and_serves_once_they_are_back() {
    let dir = support::certs("service-out-of-files");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let mut config = ServiceConfig::new(&shares);
    config.lock_dir = None;
    config.paillier_pool = 0;
    config
        .params_file()
        .write_new(&fixtures::params_secret(0))
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let service = Service::bind(
        "127.0.0.1:0",
        &support::party(&dir, Party::P1),
        config,
        Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned())),
    )
    .unwrap();
    let addr = service.local_addr().unwrap().to_string();
    let stop = service.shutdown_handle();
    let running = thread::spawn(move || service.run());
    let client = support::party(&dir, Party::P2);
    let health = |what: &str| {
        let mut ch =
            connect(&addr, &client, support::OK_TIMEOUT).unwrap_or_else(|e| panic!("{what}: {e}"));
        fetch_health(&mut ch).unwrap_or_else(|e| panic!("{what}: {e}"))
    };
    // Serving: its workers and tables are up before the descriptors go.
    health("before");

    // Something else in the process takes every descriptor, under a limit lowered to a few
    // more than are open (the service raised it at bind; filling a large one takes long).
    let limit = getrlimit(Resource::Nofile);
    let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(open + 64),
            maximum: limit.maximum,
        },
    )
    .unwrap();
    let mut held = take_every_descriptor();
    // One given back for a connection, which the kernel completes and queues: the service's
    // accept then finds no descriptor for it.
    drop(held.pop());
    let queued = TcpStream::connect(&addr).unwrap();
    let start = Instant::now();
    while out_of_files_lines(&log).len() < 2 && start.elapsed() < Duration::from_secs(30) {
        thread::sleep(Duration::from_millis(20));
    }
    let said = out_of_files_lines(&log);
    let paused_for = start.elapsed();
    // Said with the fix, and retried after a pause: a spinning accept would have logged
    // thousands of lines in the time two pauses take.
    assert!(said.len() >= 2, "{:#?}", log.lock().unwrap());
    assert!(said[0].contains("ulimit -n"), "{said:#?}");
    thread::sleep(Duration::from_millis(500));
    let retries = out_of_files_lines(&log).len();
    assert!(
        retries <= 2 + (paused_for + Duration::from_millis(500)).as_millis() as usize / 100,
        "{retries} attempts in {paused_for:?} and 500 ms: accepting did not pause"
    );

    // Descriptors back: the queued connection is taken, and a client is served.
    drop(held);
    setrlimit(Resource::Nofile, limit).unwrap();
    let h = health("after");
    assert_eq!(h.keys, 0);
    drop(queued);
    stop.stop();
    running.join().unwrap().unwrap();
}
