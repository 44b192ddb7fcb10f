#!/usr/bin/env bash
# Constant-time discipline in core: `*_vartime` may appear only in modules that handle public
# data (the allow-list below), and each use carries a `// vartime: <why>` comment on one of
# the six lines above it. Code after a file's `#[cfg(test)]` is not checked.
# Usage: check-vartime.sh [CORE_SRC_DIR]   (default: core/src)
set -euo pipefail
cd "${1:-$(dirname "$0")/../core/src}"

allowed=(
  bigint.rs            # public bounds; rejection sampling leaks only the number of draws
  paillier/encrypt.rs  # helpers for proof verification on public ciphertexts
  paillier/validate.rs # the peer's modulus and ciphertexts are public
  pedersen.rs          # group constants and elements on the wire
  transcript.rs        # challenges are public
  wire/reader.rs       # bounds of received fields
  zk/dlog.rs zk/pdl.rs zk/paillier_key.rs zk/eq_paillier_pedersen.rs zk/eq_paillier_paillier.rs zk/range.rs
  zk/paillier_sigma.rs # the Paillier relation both equality proofs verify, on public values
)

status=0
while IFS= read -r file; do
  ok=0
  for a in "${allowed[@]}"; do [ "$file" = "$a" ] && ok=1; done
  awk -v file="$file" -v ok="$ok" '
    /#\[cfg\(test\)\]/ { exit }
    { hist[NR] = $0 }
    /_vartime/ && !/^[[:space:]]*\/\// {
      if (!ok) { printf "%s:%d: _vartime in a module that handles secrets\n", file, NR; bad = 1; next }
      just = 0
      for (i = NR; i >= NR - 6 && i > 0; i--) if (hist[i] ~ /vartime: /) just = 1
      if (!just) { printf "%s:%d: _vartime without a `// vartime: <why>` comment\n", file, NR; bad = 1 }
    }
    END { exit bad }
  ' "$file" || status=1
done < <(grep -rl "_vartime" --include=*.rs . | sed 's#^\./##' | sort)

if [ "$status" -ne 0 ]; then
  echo "check-vartime: FAILED (see docs/SECURITY.md, constant time)" >&2
  exit 1
fi
echo "check-vartime: ok"
