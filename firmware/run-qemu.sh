#!/usr/bin/env bash
# The firmware example, end to end: builds the two no_std, no_main, allocator-free images for
# the Cortex-M4 board QEMU emulates (MPS2 AN386, thumbv7em-none-eabihf), runs
#   1. party 1 in firmware: verification of party 0's ring-Pedersen parameters (Π^prm), keygen,
#      sign (party 1 proves π_c3), refresh, sign, against party 0 on the host;
#   2. party 0 in firmware: signing (verifying π_c3 before decrypting) with a share and
#      party 0's parameter secret provisioned from the host, then keygen and refresh on the
#      device (its own Paillier prime searches), each followed by a signature, against
#      party 1 on the host;
# each after inputs the firmware must refuse (the error each names is checked), over the
# emulated UART, verifies every signature with k256, checks the RAM caps (party 1 <= 128 KiB
# per run and <= 96 KiB to sign, party 0 <= 128 KiB per keygen or refresh and <= 64 KiB to
# sign: static RAM + painted-stack peak) and
# writes the figures to firmware/target/qemu-report.md ($CARGO_TARGET_DIR/qemu-report.md if
# that is set). Exits non-zero on any failure.
# Installs what it can (the rustup target; qemu-system-arm with apt-get as root) and says how
# to get anything else.
set -euo pipefail
cd "$(dirname "$0")"

TARGET=thumbv7em-none-eabihf
QEMU=${QEMU:-qemu-system-arm}
OUT=${CARGO_TARGET_DIR:-target}
REPORT=$OUT/qemu-report.md

if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  rustup target add "$TARGET" || {
    echo "error: the Rust target $TARGET is missing: rustup target add $TARGET" >&2
    exit 2
  }
fi

if ! command -v "$QEMU" >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing qemu-system-arm (emulates the firmware's board)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm) >/dev/null
  fi
fi
if ! command -v "$QEMU" >/dev/null 2>&1; then
  echo "error: $QEMU is required (Debian/Ubuntu: apt-get install qemu-system-arm;" \
    "Fedora: dnf install qemu-system-arm; macOS: brew install qemu)" >&2
  exit 2
fi
if ! "$QEMU" -machine help | grep -q '^mps2-an386 '; then
  echo "error: $QEMU does not emulate the mps2-an386 board (QEMU 4.2 or later needed)" >&2
  exit 2
fi

echo "--- formatting, lints and unit tests of the firmware crates (not in the main workspace)"
cargo fmt --all -- --check
cargo clippy --locked --release -p ecdsa2pc-firmware --target "$TARGET" -- -D warnings
cargo clippy --locked --release -p ecdsa2pc-firmware-host -- -D warnings
cargo test --locked --release -p ecdsa2pc-firmware-proto -p ecdsa2pc-firmware-host

echo "--- building the firmware images ($TARGET) and the host party"
cargo build --locked --release -p ecdsa2pc-firmware --target "$TARGET"
cargo build --locked --release -p ecdsa2pc-firmware-host

echo "--- running both scenarios in QEMU"
mkdir -p "$OUT"
"$OUT/release/ecdsa2pc-firmware-host" \
  --qemu "$QEMU" \
  --party1 "$OUT/$TARGET/release/party1" \
  --party0 "$OUT/$TARGET/release/party0" \
  --report "$REPORT"
echo "--- figures written to $REPORT"
