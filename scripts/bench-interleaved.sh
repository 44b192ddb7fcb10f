#!/usr/bin/env bash
# Compares builds of the `phases` bench (core/benches/phases.rs) on a loaded machine: runs them
# in turn, ROUNDS times, with the same seeds, so that load drifts hit all of them alike, then
# prints per phase each build's median, p10, p90 and max over all rounds, and the ratio of
# each build's median to the first build's.
#
# Usage: bench-interleaved.sh ROUNDS "PHASE... [--n N]" BIN_A BIN_B [BIN_C ...]
#   BIN_*: copies of target/release/deps/phases-* built from the revisions to compare
#   (`cargo bench -p ecdsa2pc-core --bench phases --no-run` prints the path).
# Example: bench-interleaved.sh 5 "paillier_keygen --n 10" /tmp/base /tmp/new
set -euo pipefail
rounds=$1
phases=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    # shellcheck disable=SC2086 # the phase list is meant to split into words
    "$bin" $phases --seed "$((round * 1000))" | awk -v b="$(basename "$bin")" '$1 == "SAMPLE" { print b, $2, $3 }' >>"$out"
  done
done
first=$(basename "$1")
printf '%-28s %-10s %6s %10s %10s %10s %10s %7s\n' phase build n median p10 p90 max ratio
for phase in $(awk '{ print $2 }' "$out" | awk '!seen[$0]++'); do
  base=""
  for bin in "$@"; do
    b=$(basename "$bin")
    stats=$(awk -v b="$b" -v p="$phase" '$1 == b && $2 == p { print $3 }' "$out" | sort -g | awk '
      { v[NR] = $1 }
      END {
        if (NR == 0) exit
        i50 = int((NR - 1) * 0.5 + 0.5) + 1; i10 = int((NR - 1) * 0.1 + 0.5) + 1; i90 = int((NR - 1) * 0.9 + 0.5) + 1
        printf "%d %.3f %.3f %.3f %.3f\n", NR, v[i50], v[i10], v[i90], v[NR]
      }')
    [ -n "$stats" ] || continue
    read -r n med p10 p90 max <<<"$stats"
    if [ "$b" = "$first" ]; then base=$med; fi
    ratio=$(awk -v m="$med" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", m / b; else print "-" }')
    printf '%-28s %-10s %6s %10s %10s %10s %10s %7s\n' "$phase" "$b" "$n" "$med" "$p10" "$p90" "$max" "$ratio"
  done
done
