#!/usr/bin/env bash
# End-to-end benchmark over mutual TLS on loopback: two processes, one persistent connection.
# Usage: ./bench.sh [KEYGENS] [SIGNS] [REFRESHES]   (defaults 5 300 5)
# Prints party 0's table (median, p99, throughput per operation) and party 1's.
set -euo pipefail
cd "$(dirname "$0")"
unset CARGO_TARGET_DIR
command -v cargo >/dev/null || { echo "error: cargo is required (https://rustup.rs)" >&2; exit 2; }
[ -f certs/ca-cert.pem ] || certs/generate_certs.sh
cargo build --release --quiet -p ecdsa2pc
bin=target/release/ecdsa2pc
addr="${ECDSA2PC_BENCH_ADDR:-127.0.0.1:8553}"
k="${1:-5}"; s="${2:-300}"; r="${3:-5}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bin" bench --party 0 --server "$addr" --keygens "$k" --signs "$s" --refreshes "$r" >"$out/p0.log" 2>&1 &
p0=$!
"$bin" bench --party 1 --server "$addr" --keygens "$k" --signs "$s" --refreshes "$r" >"$out/p1.log" 2>&1 &
p1=$!
status=0
wait "$p0" || status=1
wait "$p1" || status=1
echo "== party 0 (P1) =="; grep -E '^\[party 0\] (\||precomputation)' "$out/p0.log" | sed 's/^\[party 0\] //' || cat "$out/p0.log"
echo "== party 1 (P2) =="; grep -E '^\[party 1\] (\||precomputation)' "$out/p1.log" | sed 's/^\[party 1\] //' || cat "$out/p1.log"
if [ "$status" -ne 0 ]; then
  echo "bench failed; logs:"; cat "$out/p0.log" "$out/p1.log"
fi
exit "$status"
