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
work="$(mktemp -d)"
serve_pid=
cleanup() {
  if [ -n "$serve_pid" ]; then kill -TERM "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
certs/generate_certs.sh "$work/certs" >/dev/null
mkdir -m 700 "$work/shares" "$work/client"
export ECDSA2PC_LOCK_DIR="$work/locks"
"$bin" serve --listen "$addr" --certs "$work/certs" --shares "$work/shares" \
  --workers "$workers" --handshake-timeout 2 --log-format json 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 100); do
  "$bin" health --server "$addr" --certs "$work/certs" --timeout 1 -q >/dev/null 2>&1 && break
  sleep 0.1
done
"$bin" health --server "$addr" --certs "$work/certs" --timeout 5 -q >/dev/null

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
