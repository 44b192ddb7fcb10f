//! Fuzz regressions on stable Rust: every input under `fuzz/regressions/<target>/`, the honest
//! seed of every target and a set of hand-made nasty inputs go through the fuzz targets' own
//! code (`fuzz/src/harness.rs`, included below) with no panic.
//!
//! Without `--cfg fuzzing` the harness rebuilds each valid state per decodable input instead of
//! cloning it, so this needs no change to the core's types. A crash found by `fuzz/run.sh` is
//! copied to `fuzz/regressions/<target>/` and replayed here from then on.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../fuzz/src/harness.rs"]
mod harness;

use std::{fs, path::Path};

use ecdsa2pc_core::Error;
use ecdsa2pc_core::{abort_message, internals::wire};
use harness::{Outcome, TARGETS, honest_input, target};

/// The honest message of every target is accepted: the fuzzed states are valid ones, so the
/// fuzzer explores the rounds beyond their first check.
#[test]
fn honest_inputs_are_accepted() {
    for (name, run) in TARGETS {
        let input = honest_input(name).expect("honest input");
        assert_eq!(run(&input), Outcome::Accepted, "{name}");
    }
}

/// Inputs of every wrong and borderline shape, for every target.
fn nasty_inputs(honest: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let len = honest.len();
    let header = honest
        .get(..ecdsa2pc_core::internals::sizes::HEADER_LEN)
        .expect("header")
        .to_vec();
    let body = |byte: u8| {
        let mut v = header.clone();
        v.resize(len, byte);
        v
    };
    let mut longer = honest.to_vec();
    longer.push(0);
    vec![
        ("empty", Vec::new()),
        ("one byte", vec![wire::VERSION]),
        ("header only", header.clone()),
        ("abort message", abort_message(Error::Malformed).to_vec()),
        ("one short", honest.get(..len - 1).expect("short").to_vec()),
        ("one long", longer),
        ("all 0xff", vec![0xff; len]),
        ("header, then 0xff", body(0xff)),
        ("header, then 0x00", body(0x00)),
        (
            "largest frame of 0xff",
            vec![0xff; ecdsa2pc_core::MAX_MSG_LEN],
        ),
        (
            "past the largest frame",
            vec![0xff; ecdsa2pc_core::MAX_MSG_LEN + 1],
        ),
    ]
}

#[test]
fn nasty_inputs_do_not_panic() {
    for (name, run) in TARGETS {
        let honest = honest_input(name).expect("honest input");
        for (what, input) in nasty_inputs(&honest) {
            let outcome = run(&input);
            if input.len() != honest.len() {
                // Share files say InvalidShare for every defect; messages say Malformed.
                let expected = if name.starts_with("decode_share") {
                    Error::InvalidShare
                } else {
                    Error::Malformed
                };
                assert_eq!(outcome, Outcome::Undecodable(expected), "{name}: {what}");
            }
        }
    }
}

#[test]
fn regression_inputs_do_not_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let Ok(dirs) = fs::read_dir(&root) else {
        return; // No crash found yet.
    };
    for dir in dirs {
        let dir = dir.expect("regressions dir entry").path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("target dir name")
            .to_owned();
        let run = target(&name).unwrap_or_else(|| panic!("{}: no such fuzz target", dir.display()));
        for file in fs::read_dir(&dir).expect("target regressions") {
            let path = file.expect("regression file").path();
            if path.is_file() {
                let input = fs::read(&path).expect("regression input");
                eprintln!("{name}: {} → {:?}", path.display(), run(&input));
            }
        }
    }
}
