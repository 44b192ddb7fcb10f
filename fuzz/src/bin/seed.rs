//! Writes the seed corpus: for every fuzz target, the honest message it takes
//! (`<dir>/<target>/honest`) and an abort message (`<dir>/<target>/abort`).
//!
//! Usage: `seed <corpus dir>` (`fuzz/seed_corpus.sh` runs it).

use std::{fs, path::PathBuf, process::ExitCode};

use ecdsa2pc_core::Error;
use ecdsa2pc_core::abort_message;
use ecdsa2pc_fuzz::{TARGETS, honest_input};

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: seed <corpus dir>");
        return ExitCode::from(2);
    };
    for (name, _) in TARGETS {
        let target_dir = dir.join(name);
        let honest = honest_input(name).expect("every target has an honest input");
        let written = fs::create_dir_all(&target_dir)
            .and_then(|()| fs::write(target_dir.join("honest"), &honest))
            .and_then(|()| fs::write(target_dir.join("abort"), abort_message(Error::Malformed)));
        if let Err(e) = written {
            eprintln!("seed: cannot write {}: {e}", target_dir.display());
            return ExitCode::FAILURE;
        }
        println!("seed: {name}: {} bytes", honest.len());
    }
    ExitCode::SUCCESS
}
