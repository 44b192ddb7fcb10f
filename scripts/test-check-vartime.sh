#!/usr/bin/env bash
# The constant-time check must be able to fail: inject a vartime call into a secret module
# and an unjustified one into a public module, and expect both to be reported.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$here/../core/src" "$tmp/src"
"$here/check-vartime.sh" "$tmp/src" >/dev/null

sed -i '0,/^use /s//fn leak(x: \&crypto_bigint::U256) -> u32 { x.bit_width_vartime() }\nuse /' "$tmp/src/sign/p1.rs"
out="$("$here/check-vartime.sh" "$tmp/src" 2>&1 || true)"
grep -q "sign/p1.rs:.*in a module that handles secrets" <<<"$out" || { echo "not caught: $out"; exit 1; }

cp "$here/../core/src/sign/p1.rs" "$tmp/src/sign/p1.rs"
sed -i '0,/^use /s//fn unexplained(x: \&crypto_bigint::U256) -> u32 { x.bit_width_vartime() }\nuse /' "$tmp/src/pedersen.rs"
out="$("$here/check-vartime.sh" "$tmp/src" 2>&1 || true)"
grep -q "pedersen.rs:.*without a" <<<"$out" || { echo "not caught: $out"; exit 1; }
echo "test-check-vartime: ok (both violations caught)"
