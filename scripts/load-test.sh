#!/usr/bin/env bash
# Load test of `ecdsa2pc serve` over mutual TLS on loopback (issue 11): starts one service,
# runs the load generator at C = 1, 8 and 32 concurrent clients and once more at C = 8 with
# junk connections mixed in, and prints one table.
#
# Usage: scripts/load-test.sh [SIGNS_PER_CLIENT]     (default 20)
# Environment: ECDSA2PC_LOAD_ADDR (default 127.0.0.1:8563), ECDSA2PC_LOAD_WORKERS (serve
# --workers, default 4), ECDSA2PC_BIN (a built binary instead of `cargo build --release`).
# Certificates and shares live in a temporary directory removed at the end. The keys are
# made once (keygen, then reused by every run). Exit status: 0 if every run had zero errors.
set -euo pipefail
cd "$(dirname "$0")/.."
signs="${1:-20}"
if ! [[ "$signs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/load-test.sh [SIGNS_PER_CLIENT]  (a positive integer, default 20)" >&2
  exit 2
fi
if [ -n "${ECDSA2PC_BIN:-}" ]; then
  bin="$ECDSA2PC_BIN"
else
  unset CARGO_TARGET_DIR
  command -v cargo >/dev/null || { echo "error: cargo is required (https://rustup.rs)" >&2; exit 2; }
  cargo build --release --quiet -p ecdsa2pc
  bin=target/release/ecdsa2pc
fi
addr="${ECDSA2PC_LOAD_ADDR:-127.0.0.1:8563}"
workers="${ECDSA2PC_LOAD_WORKERS:-4}"
source scripts/load-env.sh
mkdir -m 700 "$work/shares" "$work/client"
start_serve "$bin" "$addr" "$work/shares" "$workers" "$work/serve.log"

status=0
rows=()
run() {
  local row
  if row="$("$bin" load --server "$addr" --certs "$work/certs" --shares "$work/client" \
      --server-pid "$serve_pid" --signs "$signs" "$@" 2>"$work/load.log")"; then
    rows+=("$row")
  else
    status=1
    rows+=("$row  (FAILED: $*)")
    tail -n 8 "$work/load.log" >&2
  fi
}
# The keys first (32: one per client of the largest run), outside the figures.
"$bin" load --server "$addr" --certs "$work/certs" --shares "$work/client" \
  --clients 32 --signs 1 -q >/dev/null
run --clients 1
run --clients 8
run --clients 32
run --clients 8 --junk

echo "serve --workers $workers on $addr, $signs signatures per client, $(nproc) CPUs"
echo "| clients | keys | signs | errors |    sig/s |  p50 ms  |  p99 ms  |  max ms  | CPU ms/sig |  junk |"
echo "|---------|------|-------|--------|----------|----------|----------|----------|------------|-------|"
printf '%s\n' "${rows[@]}"
dropped=$(grep -c '"event":"dropped"' "$work/serve.log" || true)
echo "service log: $(grep -c '"event":"request"' "$work/serve.log" || true) requests, $dropped connections dropped"
exit "$status"
