#!/usr/bin/env bash
# Constant-time smoke test (non-gating): fixed-vs-random timing of P1's secret arithmetic
# (core/examples/dudect.rs lists the targets), Welch's t-test. Results: docs/SECURITY.md.
# Usage: scripts/dudect.sh [SAMPLES]   (default 4000; noisy machines need more)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p ecdsa2pc-core --example dudect -- "${1:-4000}"
