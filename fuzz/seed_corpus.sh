#!/usr/bin/env bash
# Regenerates the seed corpus from one deterministic honest keygen and signing run:
# <dir>/<target>/honest (the honest message the target takes) and <dir>/<target>/abort.
#
# Usage: fuzz/seed_corpus.sh [DIR]        (default: fuzz/corpus, which git ignores)
# SEED_BIN=<path> runs an already built `seed` binary (run.sh passes the one `cargo fuzz build`
# made); otherwise it is built here with the default toolchain (stable is fine).
set -euo pipefail
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$fuzz_dir/corpus}")
if [ -n "${SEED_BIN:-}" ]; then
  if [ ! -x "$SEED_BIN" ]; then
    echo "error: SEED_BIN=$SEED_BIN is not an executable (build it with 'cargo fuzz build', or unset SEED_BIN to build it here)" >&2
    exit 2
  fi
  "$SEED_BIN" "$out"
else
  cargo run --quiet --release --locked --manifest-path "$fuzz_dir/Cargo.toml" --bin seed -- "$out"
fi
