#!/usr/bin/env bash
# Constant-time discipline: a call to a variable-time function of our dependencies may appear
# only in a function on the allow-list below, which names functions (not files) that handle
# only public data, each with its reason. Scans core/src and net-std/src; code inside
# `#[cfg(test)]` items is skipped, code after them is checked.
#
# Usage: check-vartime.sh [ROOT]   (default: the repository; scans ROOT/core/src, ROOT/net-std/src)
#
# What counts as variable time (read from the sources of the versions in Cargo.lock):
# - every `*_vartime` item: crypto-bigint 0.7, k256 0.14 and elliptic-curve 0.14 mark every
#   variable-time operation with that suffix (pow_vartime, div_rem_vartime, rem_vartime,
#   invert_odd_mod_vartime, gcd_vartime, jacobi_symbol_vartime, random_mod_vartime,
#   FixedMontyParams::new_vartime, mul_by_generator_and_mul_add_vartime, ...);
# - crypto-primes 0.7, which has no constant-time function at all: is_prime, random_prime,
#   sieve_and_find, fips::is_prime, multicore::random_prime and everything in its hazmat module
#   (Miller-Rabin, Lucas, sieves) branch on the candidate's value;
# - ecdsa 0.17 verification and recovery: verify_prehash / verify_prehashed / verify_digest /
#   the Verifier and DigestVerifier traits / recover_from_* invert s with invert_vartime and
#   use mul_by_generator_and_mul_add_vartime;
# - our own wrappers of those (search_window, first_prime, generate_prime, generate_safe_prime).
# Not covered (review by hand): `==` on byte arrays and slices, `/` and `%` on machine integers.
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)

# FILE:FUNCTION (Type::method for methods, `(module)` for code outside functions) and why
# everything it gives a variable-time function is public. Prover code handles witnesses and
# is never listed (the script refuses a listed `prove*`).
allowed='
core/src/bigint.rs:random_below           the bound is public; rejection sampling leaks only how many draws failed, not the value kept
core/src/bigint.rs:order_shl              public constants shifted by public amounts
core/src/bigint.rs:order_sq_shl           public constants shifted by public amounts
core/src/bigint.rs:pow_sliding_vartime    sliding-window power for proof verification; its callers (on this list) pass public bases and exponents only
core/src/paillier/keygen.rs:(module)          key generation: the sieve factory of the prime search, a compile-time constant
core/src/paillier/keygen.rs:search_window     key generation: every prime generator is variable time; it runs once per key and a rejected candidate says nothing about the prime kept
core/src/paillier/keygen.rs:first_prime       key generation, through search_window (see there): one prime search, its windows in order
core/src/paillier/keygen.rs:generate_prime    key generation, through first_prime (see there)
core/src/paillier/keygen.rs:PrimeWindow::run  key generation, through search_window (see there): one window of a prime search as a work item, run on any thread
net-std/src/service/paillier_pool.rs:draw  key generation, through generate_prime (see there): the keys the service makes ahead in the background
net-std/src/params_secret.rs:SafePrimeSearch::run  key generation, through generate_safe_prime (see there): the two ring-Pedersen primes of party 0, searched once per identity of party 0
core/src/paillier/encrypt.rs:PublicKey::pow_nn_vartime  proof verification on public ciphertexts and challenges
core/src/paillier/encrypt.rs:PublicKey::encrypt_vartime proof verification: plaintext and nonce are the prover'"'"'s public responses
core/src/paillier/encrypt.rs:PublicKey::pow_n_vartime   proof verification on public roots
core/src/paillier/validate.rs:PublicKey::from_modulus   the peer'"'"'s modulus is public
core/src/paillier/validate.rs:PublicKey::from_odd       N (ours or the peer'"'"'s) is public
core/src/paillier/validate.rs:PublicKey::validate       ciphertexts on the wire are public
core/src/paillier/validate.rs:PublicKey::is_unit        the values checked are public wire values
core/src/paillier/validate.rs:PublicKey::is_unit_below_n  the values checked are public proof responses
core/src/pedersen.rs:(module)             group constants
core/src/pedersen.rs:hashed_root_h        the Legendre symbol of u, a public constant hashed from a fixed tag
core/src/pedersen.rs:subgroup_element     group elements on the wire are public
core/src/pedersen.rs:unit_element         group elements on the wire are public
core/src/transcript.rs:Xof::integer_mod   challenges and their modulus are public
core/src/wire/reader.rs:Reader::integer   bounds of received fields are public
core/src/sign.rs:verify                   verifies public signatures (P2 on Msg5, any verifier); P1 checks its own with verify_with_nonce
core/src/zk/paillier_key.rs:PaillierKeyProof::verify_root  verifier: N, the root and its challenge are public
core/src/zk/eq_paillier_pedersen.rs:(module)          compile-time bound on a public constant
core/src/zk/eq_paillier_pedersen.rs:Response::verify_commitment  verifier: statement and responses are public
core/src/zk/eq_paillier_pedersen.rs:pack              shl_vartime by a constant shift only; the values, public d_i or secret masks, are added in constant time
core/src/zk/paillier_sigma.rs:holds     verifier: statement and responses of the Paillier equality proofs are public
core/src/ring_pedersen.rs:RingPedersenParams::monty  checks of public ring-Pedersen parameters
core/src/ring_pedersen.rs:RingPedersenParams::monty_checked  Montgomery parameters of the public N̂
core/src/ring_pedersen.rs:RingPedersenParams::is_unit_below_n  unit checks of public proof commitments (π_c3'"'"'s W_j, A_j)
core/src/ring_pedersen.rs:CrtHalf::public_power  verifier with trapdoors: A_j and W_j of pi_c3 and the challenge are public; vartime only in the challenge exponent, the products mod a secret prime stay constant time
core/src/zk/sign_ciphertext.rs:SignCiphertextProof::check_ranges  verifier: bounds and units of the public proof
core/src/zk/sign_ciphertext.rs:SignCiphertextProof::verify  verifier without trapdoors: statement and proof are public (P1 uses verify_with_trapdoors, constant time in its secrets)
core/src/zk/sign_ciphertext.rs:SignCiphertextProof::pedersen_rhs  verifier: A_j·W_j^e from public commitments and challenge
core/src/ring_pedersen.rs:RingPedersenSecret::generate  parameter generation, through generate_safe_prime (see there)
core/src/ring_pedersen.rs:generate_safe_prime  parameter generation: every safe-prime search is variable time; it runs once per party-0 identity and a rejected candidate says nothing about the prime kept
core/src/ring_pedersen.rs:RingPedersenSecret::from_safe_primes  parameter generation from primes just made (tests, a pool): tested once, never at load (decode re-checks structure only)
core/src/zk/prm.rs:PrmProof::verify       verifier: parameters and proof are public
core/src/zk/range.rs:(module)             compile-time bound on a public constant
core/src/zk/range.rs:Response::verify_weighted  verifier: statement and responses are public
'

# Names of variable-time functions and traits (besides any identifier ending in `_vartime`).
deny='is_prime is_prime_with_rng random_prime search_window first_prime generate_prime generate_safe_prime is_safe_prime
sieve_and_find lucas_test MillerRabin SmallFactorsSieve SmallFactorsSieveFactory random_odd_integer
minimum_mr_iterations LucasCheck AStarBase SelfridgeBase BruteForceBase conventions_test
verify_prehash verify_prehashed verify_digest Verifier DigestVerifier
recover_from_prehash recover_from_digest recover_from_msg recover_from_prehash_noverify'

files=$(cd "$root" && find core/src net-std/src -name '*.rs' 2>/dev/null | sort)
[ -n "$files" ] || { echo "check-vartime: no sources under $root/core/src or $root/net-std/src" >&2; exit 2; }
used=$(mktemp)
trap 'rm -f "$used"' EXIT

status=0
for file in $files; do
  awk -v file="$file" -v deny="$deny" -v allowed="$allowed" -v used="$used" '
    BEGIN {
      n = split(deny, d, /[ \n\t]+/)
      for (i = 1; i <= n; i++) if (d[i] != "") denied[d[i]] = 1
      m = split(allowed, rows, "\n")
      for (i = 1; i <= m; i++) {
        if (split(rows[i], f, /[ \t]+/) < 2) continue
        if (index(f[1], file ":") == 1) ok[substr(f[1], length(file) + 2)] = 1
      }
      depth = 0; top = 0; pn = 0; in_block = 0; skip_at = -1; test_next = 0
      fn_pending = ""; impl_pending = ""; prevtok = ""; bad = 0
    }
    function ident_char(c) { return c ~ /[A-Za-z0-9_]/ }
    # The current function: Type::method, function, or (module) outside any function.
    function scope(    i, name) {
      name = ""
      for (i = top; i >= 1; i--) {
        if (name == "" && kind[i] == "fn") name = label[i]
        else if (name != "" && kind[i] == "fn") break
        else if (name != "" && kind[i] == "impl") return label[i] "::" name
      }
      return name == "" ? "(module)" : name
    }
    # The self type of an `impl` header line.
    function impl_type(s,    t, prev) {
      t = s
      sub(/^[ \t]*(unsafe[ \t]+)?impl/, "", t)
      prev = ""
      while (t != prev) { prev = t; gsub(/<[^<>]*>/, "", t) }
      if (t ~ /[ \t]for[ \t]/) sub(/^.*[ \t]for[ \t]+/, "", t)
      sub(/^[ \t&]+/, "", t)
      sub(/[^A-Za-z0-9_:].*$/, "", t)
      sub(/^.*::/, "", t)
      return t
    }
    function token(t,    where) {
      if (in_use) return
      if (prevtok == "fn") { fn_pending = t; pn0 = pn }
      else if (skip_at < 0 && !test_next && (t ~ /_vartime$/ || t in denied)) {
        where = scope()
        if (where in ok) print file ":" where >> used
        else {
          printf "%s:%d: %s (variable time) in %s, which is not on the allow-list of functions that handle only public data\n", file, FNR, t, where
          bad = 1
        }
      }
      prevtok = t
    }
    {
      # Strip comments, strings and char literals: braces and names in them do not count.
      line = $0; code = ""
      while (line != "") {
        if (in_block) {
          p = index(line, "*/")
          if (p == 0) { line = ""; break }
          line = substr(line, p + 2); in_block = 0; continue
        }
        c = substr(line, 1, 1); c2 = substr(line, 1, 2)
        if (c2 == "//") break
        if (c2 == "/*") { in_block = 1; line = substr(line, 3); continue }
        if (c == "\"") {
          line = substr(line, 2)
          while (line != "") {
            c = substr(line, 1, 1)
            if (c == "\\") { line = substr(line, 3); continue }
            line = substr(line, 2)
            if (c == "\"") break
          }
          code = code "\"\""
          continue
        }
        if (c == "'"'"'" && match(line, /^'"'"'(\\[^'"'"']+|[^\\'"'"'])'"'"'/)) {
          line = substr(line, RLENGTH + 1); code = code "'"'"'_'"'"'"; continue
        }
        code = code c; line = substr(line, 2)
      }

      if (code ~ /^[ \t]*#\[cfg\(test\)\][ \t]*$/) { test_next = 1; next }
      if (code ~ /^[ \t]*(pub(\([a-z]+\))?[ \t]+)?(unsafe[ \t]+)?impl([ \t<]|$)/) impl_pending = impl_type(code)

      # An import names a function without calling it.
      if (code ~ /^[ \t]*(pub(\([a-z]+\))?[ \t]+)?use[ \t]/) in_use = 1
      tok = ""; len = length(code)
      for (k = 1; k <= len + 1; k++) {
        c = k <= len ? substr(code, k, 1) : " "
        if (ident_char(c)) { tok = tok c; continue }
        if (tok != "") { token(tok); tok = "" }
        if (c != " " && c != "\t") prevtok = ""
        if (c == "(" || c == "[") pn++
        else if (c == ")" || c == "]") pn--
        else if (c == ";") {
          in_use = 0
          if (fn_pending != "" && pn == pn0) fn_pending = ""
          if (pn == 0) { impl_pending = ""; if (skip_at < 0) test_next = 0 }
        } else if (c == "{") {
          before = substr(code, 1, k - 1); sub(/[ \t]+$/, "", before)
          # `Foo<{ N }>` or `Foo<A, { N }>` in a signature: a const generic, not the body.
          generic = before ~ /[<,]$/ && before !~ /^[ \t]*$/
          depth++
          if (test_next && skip_at < 0) { skip_at = depth - 1; test_next = 0 }
          if (fn_pending != "" && !generic) { kind[++top] = "fn"; label[top] = fn_pending; at[top] = depth; fn_pending = "" }
          else if (impl_pending != "" && !generic) { kind[++top] = "impl"; label[top] = impl_pending; at[top] = depth; impl_pending = "" }
        } else if (c == "}") {
          if (top > 0 && at[top] == depth) top--
          depth--
          if (skip_at >= 0 && depth == skip_at) skip_at = -1
        }
      }
    }
    END { exit bad }
  ' "$root/$file" || status=1
done

# Every entry must still be needed, and none may cover prover code.
while read -r entry _; do
  [ -n "$entry" ] || continue
  fn=${entry#*:}
  case "${fn##*::}" in
  prove*)
    echo "check-vartime: allow-list entry $entry is prover code, which handles secrets: it may not be listed" >&2
    status=1
    ;;
  esac
  if ! grep -qxF "$entry" "$used"; then
    echo "check-vartime: allow-list entry $entry calls nothing variable-time (stale, or the function moved): remove or fix it" >&2
    status=1
  fi
done <<<"$allowed"

if [ "$status" -ne 0 ]; then
  echo "check-vartime: FAILED (see docs/SECURITY.md, constant time)" >&2
  exit 1
fi
echo "check-vartime: ok ($(wc -w <<<"$files") files, $(grep -c . <<<"$allowed") allow-listed functions)"
