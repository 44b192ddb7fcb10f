#!/usr/bin/env bash
# Fuzzes every decoder and every round function of ecdsa2pc-core, and ecdsa2pc-net's request
# decoder, SECONDS per target.
#
# Usage: fuzz/run.sh [SECONDS]     (default 30; 31 targets, so ~31×SECONDS plus one build)
#
# Needs the nightly toolchain (libFuzzer instrumentation) and cargo-fuzz (installed here if
# missing). Builds every target once (release, debug assertions and overflow checks on,
# AddressSanitizer), regenerates the seed corpus, then runs the targets one after the other and
# stops at the first crash, whose input it copies to fuzz/regressions/<target>/ (tracked in git
# and replayed by core/tests/fuzz_regressions.rs on stable).
#
# Exit status: 0 no crash; 1 a crash (or a target that failed to run); 2 a missing
# prerequisite. With ECDSA2PC_FUZZ_OPTIONAL=1 a missing nightly toolchain prints
# "SKIPPED: …" and exits 0 instead.
set -euo pipefail

secs=${1:-30}
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: fuzz/run.sh [SECONDS]  (SECONDS: a positive integer, default 30)" >&2
  exit 2
fi
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
cd "$fuzz_dir/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
  msg="the nightly Rust toolchain is missing (cargo-fuzz needs it for libFuzzer and sanitizers); install it with: rustup toolchain install nightly"
  if [ "${ECDSA2PC_FUZZ_OPTIONAL:-}" = 1 ]; then
    echo "SKIPPED: $msg"
    exit 0
  fi
  echo "error: $msg (or set ECDSA2PC_FUZZ_OPTIONAL=1 to skip fuzzing)" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: installing it with 'cargo install cargo-fuzz --locked'"
  if ! cargo install cargo-fuzz --locked; then
    echo "error: could not install cargo-fuzz; install it with: cargo install cargo-fuzz --locked" >&2
    exit 2
  fi
fi

start=$(date +%s)
# Release build with debug assertions and overflow checks on (an overflow is a finding too),
# AddressSanitizer (cargo-fuzz's default).
echo "==> cargo +nightly fuzz build -O --debug-assertions"
cargo +nightly fuzz build -O --debug-assertions
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
# Where cargo put the binaries: fuzz/target by default, but CARGO_TARGET_DIR, a
# .cargo/config.toml build.target-dir or CARGO_BUILD_TARGET_DIR move it; cargo itself says where.
target_dir=$(cargo +nightly metadata --format-version 1 --no-deps --manifest-path "$fuzz_dir/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ -z "$target_dir" ] || [ ! -d "$target_dir" ]; then
  echo "error: cannot find cargo's target directory for fuzz/ ('cargo metadata' said: '${target_dir}')" >&2
  exit 1
fi
bin_dir="$target_dir/$triple/release"

echo "==> seed corpus"
SEED_BIN="$bin_dir/seed" "$fuzz_dir/seed_corpus.sh" "$fuzz_dir/corpus" >/dev/null

logs="$target_dir/run-logs"
mkdir -p "$logs"
targets=()
for f in "$fuzz_dir"/fuzz_targets/*.rs; do
  targets+=("$(basename "$f" .rs)")
done

echo "==> fuzzing ${#targets[@]} targets, ${secs} s each"
ran=0
crashes=0
for t in "${targets[@]}"; do
  ran=$((ran + 1))
  # Messages have one fixed length: a little room past it lets the fuzzer try wrong lengths.
  max_len=40000
  if [ -f "$fuzz_dir/corpus/$t/honest" ]; then
    max_len=$(($(stat -c %s "$fuzz_dir/corpus/$t/honest") + 64))
  fi
  mkdir -p "$fuzz_dir/corpus/$t"
  corpora=("$fuzz_dir/corpus/$t")
  [ -d "$fuzz_dir/regressions/$t" ] && corpora+=("$fuzz_dir/regressions/$t")
  rm -rf "$fuzz_dir/artifacts/$t"
  log="$logs/$t.log"
  status=0
  mkdir -p "$fuzz_dir/artifacts/$t"
  # The binaries built above, run directly (what `cargo fuzz run` does, minus its rebuild
  # check): every target fuzzes the same snapshot of the code.
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}" "$bin_dir/$t" \
    -artifact_prefix="$fuzz_dir/artifacts/$t/" -max_total_time="$secs" -rss_limit_mb=2048 \
    -max_len="$max_len" -timeout=60 -print_final_stats=1 "${corpora[@]}" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    printf '%-20s ok     %9s runs in %4s s (%s exec/s)\n' "$t" "${runs:-?}" "${took:-?}" "${speed:-?}"
    continue
  fi
  crashes=$((crashes + 1))
  printf '%-20s CRASH  %9s runs (exit %s), log: %s\n' "$t" "${runs:-?}" "$status" "$log"
  found=0
  for a in "$fuzz_dir/artifacts/$t"/*; do
    [ -f "$a" ] || continue
    mkdir -p "$fuzz_dir/regressions/$t"
    cp "$a" "$fuzz_dir/regressions/$t/"
    echo "    input kept as fuzz/regressions/$t/$(basename "$a")"
    found=1
  done
  [ "$found" = 1 ] || echo "    no crash input was written; see the log"
  grep -E "panicked at|ERROR: |SUMMARY: " "$log" | head -5 | sed 's/^/    /' || true
  break
done

echo "fuzz time: $(($(date +%s) - start)) s (build included)"
echo "fuzz: $ran targets, $crashes crashes"
[ "$crashes" -eq 0 ]
