#!/usr/bin/env bash
# The constant-time check must be able to fail: each case below plants one violation in a
# copy of the sources (or of the allow-list) and expects exactly that report; a clean copy
# must pass, and names in comments and strings must not count.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$here/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
check="$here/check-vartime.sh"

fresh() {
  rm -rf "$tmp/core" "$tmp/net-std"
  mkdir -p "$tmp/core" "$tmp/net-std"
  cp -r "$repo/core/src" "$tmp/core/src"
  cp -r "$repo/net-std/src" "$tmp/net-std/src"
}

# inject FILE FN LINE: LINE becomes the first statement of the first function FN in FILE.
inject() {
  local file="$tmp/$1"
  grep -q "fn $2\\b" "$file" || { echo "test-check-vartime: no fn $2 in $1 (update this test)"; exit 1; }
  awk -v fn="fn $2" -v add="$3" '
    !done && index($0, fn) { seen = 1 }
    { print }
    seen && !done && /\{[ \t]*$/ { print add; done = 1 }
  ' "$file" >"$file.new"
  mv "$file.new" "$file"
}

# expect NAME PATTERN [CHECK]: the check fails and its output matches PATTERN.
expect() {
  local out
  if out="$("${3:-$check}" "$tmp" 2>&1)"; then
    echo "test-check-vartime: NOT CAUGHT: $1 (the check passed)"
    exit 1
  fi
  grep -qE "$2" <<<"$out" || { echo "test-check-vartime: NOT CAUGHT: $1; output was:"; echo "$out"; exit 1; }
  echo "caught: $1"
}

fresh
"$check" "$tmp" >/dev/null || { echo "test-check-vartime: the clean tree fails"; exit 1; }

fresh
inject core/src/sign/p1.rs 'finish(self' 'let _ = self.k1.invert_vartime();'
expect "a *_vartime call in signing (secret k1)" \
  '^core/src/sign/p1.rs:[0-9]+: invert_vartime .* in AwaitDecryption::finish,'

fresh
inject core/src/paillier/keygen.rs from_primes 'let _ = crypto_primes::is_prime(Flavor::Any, p);'
expect "is_prime on the secret Paillier primes (share load)" \
  '^core/src/paillier/keygen.rs:[0-9]+: is_prime .* in SecretKey::from_primes,'

fresh
inject core/src/sign/p1.rs 'finish(self' 'let _ = super::VerifyingKey::from_affine(self.big_r).map(|k| k.verify_prehash(&self.digest, &sig));'
expect "verify_prehash on P1's unreleased signature" \
  '^core/src/sign/p1.rs:[0-9]+: verify_prehash .* in AwaitDecryption::finish,'

fresh
inject core/src/zk/paillier_key.rs prove_with 'let _ = key.public_key().modulus().bits_vartime();'
expect "a vartime call in prover code of a file whose verifier is allow-listed" \
  '^core/src/zk/paillier_key.rs:[0-9]+: bits_vartime .* in PaillierKeyProof::prove_with,'

fresh
grep -q '#\[cfg(test)\]' "$tmp/core/src/pedersen.rs"
printf '\nfn after_the_tests(x: &U2048) -> u32 {\n    x.bits_vartime()\n}\n' >>"$tmp/core/src/pedersen.rs"
expect "code after a #[cfg(test)] module" \
  '^core/src/pedersen.rs:[0-9]+: bits_vartime .* in after_the_tests,'

fresh
printf '\nfn leak(x: &crypto_bigint::U256) -> u32 {\n    x.bits_vartime()\n}\n' >>"$tmp/net-std/src/store.rs"
expect "a vartime call in net-std" '^net-std/src/store.rs:[0-9]+: bits_vartime .* in leak,'

fresh
sed 's#^core/src/zk/paillier_key.rs:PaillierKeyProof::verify_root #core/src/zk/paillier_key.rs:PaillierKeyProof::prove  a wrong entry\n&#' "$check" >"$tmp/check.sh"
chmod +x "$tmp/check.sh"
expect "an allow-list entry for prover code" 'PaillierKeyProof::prove is prover code' "$tmp/check.sh"

fresh
sed 's#^core/src/zk/paillier_key.rs:PaillierKeyProof::verify_root #core/src/zk/paillier_key.rs:PaillierKeyProof::gone  a stale entry\n&#' "$check" >"$tmp/check.sh"
chmod +x "$tmp/check.sh"
expect "a stale allow-list entry" 'PaillierKeyProof::gone calls nothing variable-time' "$tmp/check.sh"

# Names in comments and strings are not calls.
fresh
inject core/src/sign/p1.rs finish '// is_prime(p) and verify_prehash are mentioned here
let _ = "k.invert_vartime() { is_prime }";'
"$check" "$tmp" >/dev/null || { echo "test-check-vartime: a comment or a string was reported"; exit 1; }
echo "not reported: names in comments and strings"

echo "test-check-vartime: ok (every case caught)"
