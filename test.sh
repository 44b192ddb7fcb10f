#!/usr/bin/env bash
# Runs every check of the project: formatting, lints, all tests, the core on 32-bit targets,
# the firmware example in QEMU and a fuzz smoke run (ECDSA2PC_FUZZ_SECONDS per target,
# default 30; needs the nightly toolchain).
# Works on a fresh clone: it checks (and where it can, installs) what it needs first.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*"; }
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ -n "${2:-}" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing $2 (needed for $1)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2") >/dev/null
    command -v "$1" >/dev/null 2>&1 && return 0
  fi
  echo "error: '$1' is required${2:+ (Debian package: $2)}; install it and rerun." >&2
  exit 2
}

need cargo
need openssl openssl
cargo fmt --version >/dev/null 2>&1 || { echo "error: rustfmt missing: rustup component add rustfmt" >&2; exit 2; }
cargo clippy --version >/dev/null 2>&1 || { echo "error: clippy missing: rustup component add clippy" >&2; exit 2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "constant time: variable-time calls only in allow-listed public-data functions"
scripts/check-vartime.sh
scripts/test-check-vartime.sh

step "cargo clippy (workspace, all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (workspace, broken or private links in public docs are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --locked

step "cargo test (workspace)"
cargo test --workspace --locked

# ---- issue 13: the core on 32-bit targets (begin) ----
step "core on 32-bit targets: no_std builds for Cortex-M4F, Cortex-M33, RISC-V 32; tests on i686"
scripts/test-32bit.sh
# ---- issue 13: the core on 32-bit targets (end) ----

# ---- issue 13: firmware in QEMU (begin) ----
step "firmware in QEMU (Cortex-M4): party 1, and party 0 (sign, keygen, refresh); signatures and RAM caps"
firmware/run-qemu.sh
# ---- issue 13: firmware in QEMU (end) ----

step "fuzz smoke run: every target for ${ECDSA2PC_FUZZ_SECONDS:-30} s (nightly toolchain)"
fuzz/run.sh "${ECDSA2PC_FUZZ_SECONDS:-30}"

step "all checks passed"
