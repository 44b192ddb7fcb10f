#!/usr/bin/env bash
# Compares the service CPU per signature of two `ecdsa2pc` binaries in one run (issue 11's
# figure; machines are noisy, so the two alternate): for each round and binary, a fresh
# `serve` on loopback with 8 keys, then `load --clients 8 --signs SIGNS` twice.
#
# Usage: scripts/load-compare.sh BIN_A BIN_B [ROUNDS] [SIGNS]   (defaults 2 rounds, 8 signs)
# Prints one line per load run: the binary's label (A or B) and the load command's table row.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: scripts/load-compare.sh BIN_A BIN_B [ROUNDS] [SIGNS]" >&2; exit 2; }
bins=("$1" "$2")
rounds="${3:-2}"
signs="${4:-8}"
for b in "${bins[@]}"; do
  [ -x "$b" ] || { echo "error: $b is not an executable (build it first)" >&2; exit 2; }
done
source scripts/load-env.sh
addr="${ECDSA2PC_LOAD_ADDR:-127.0.0.1:8564}"
one() {
  local label=$1 bin=$2 run="$work/run"
  rm -rf "$run" "$ECDSA2PC_LOCK_DIR"
  mkdir -m 700 -p "$run/shares" "$run/client"
  start_serve "$bin" "$addr" "$run/shares" 4 "$run/serve.log"
  "$bin" load --server "$addr" --certs "$work/certs" --shares "$run/client" --clients 8 --signs 1 -q >/dev/null
  for _ in 1 2; do
    echo "$label $("$bin" load --server "$addr" --certs "$work/certs" --shares "$run/client" \
      --server-pid "$serve_pid" --clients 8 --signs "$signs" 2>"$run/load.log")"
  done
  stop_serve
}
for _ in $(seq 1 "$rounds"); do
  one A "${bins[0]}"
  one B "${bins[1]}"
done
