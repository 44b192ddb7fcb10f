#!/usr/bin/env bash
# Run the ecdsa2pc demo: both parties on this machine, talking over mutual TLS.
#
#   ./run_demo.sh
#
# Checks that cargo and openssl are installed, creates the demo certificates in ./certs if
# they are missing (certs/generate_certs.sh), builds the release binary, starts party 0
# and party 1 in the background, waits for both, prints both logs, checks the first
# signature with `openssl dgst -verify`, and the third (under the BIP32 child m/0/1) with
# `ecdsa2pc verify` against the joint key's xpub. Exits non-zero (and says why) if either
# party failed, the parties disagree, or a check rejects a signature.
#
# Environment:
#   ECDSA2PC_ADDR      address party 0 listens on and party 1 connects to
#                      (default localhost:8443; it must be free)
#   ECDSA2PC_MESSAGE   message to sign (default: the binary's default message)
#   ECDSA2PC_TIMEOUT   seconds each party waits for the other (default 60)
#
# Output goes to ./demo-out/ (git-ignored): party0.log, party1.log, and per party the
# files public-key.pem, message.txt and signature.der (the first signature), key.xpub,
# child-message.txt and child-signature.der (the one under m/0/1).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# Build into the workspace's own ./target, whatever the caller's environment says.
unset CARGO_TARGET_DIR

addr="${ECDSA2PC_ADDR:-localhost:8443}"
timeout_secs="${ECDSA2PC_TIMEOUT:-60}"
out="demo-out"
bin="target/release/ecdsa2pc"

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'run_demo.sh: error: %s\n' "$*" >&2
    exit 1
}

if ! command -v cargo >/dev/null 2>&1; then
    die "'cargo' is not installed. Install Rust with rustup (https://rustup.rs), e.g.
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
then open a new shell (or run 'source \$HOME/.cargo/env') and rerun ./run_demo.sh."
fi
if ! command -v openssl >/dev/null 2>&1; then
    die "'openssl' is not installed (needed for the demo certificates and the final check).
  Install it, e.g. 'sudo apt-get install openssl' (Debian/Ubuntu), 'sudo dnf install openssl'
  (Fedora) or 'brew install openssl' (macOS), then rerun ./run_demo.sh."
fi
[[ "$timeout_secs" =~ ^[1-9][0-9]*$ ]] || die "ECDSA2PC_TIMEOUT must be a positive number of seconds (got '$timeout_secs')"

if [[ -f certs/ca-cert.pem && -f certs/server-cert.pem && -f certs/server-key.pem &&
    -f certs/client1-cert.pem && -f certs/client1-key.pem ]]; then
    say "using the existing certificates in ./certs"
else
    say "creating demo certificates in ./certs"
    bash certs/generate_certs.sh certs
fi

say "building (cargo build --release -p ecdsa2pc)"
cargo build --release -p ecdsa2pc
[[ -x "$bin" ]] || die "the build did not produce $bin"

rm -rf -- "$out"
mkdir -p -- "$out/party0" "$out/party1"

msg_args=()
[[ -z "${ECDSA2PC_MESSAGE:-}" ]] || msg_args=(--message "$ECDSA2PC_MESSAGE")

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

say "starting party 0 (listens on $addr) and party 1 (connects to it)"
"$bin" demo --party 0 --server "$addr" --certs certs --timeout "$timeout_secs" \
    --out-dir "$out/party0" "${msg_args[@]}" >"$out/party0.log" 2>&1 &
pids+=("$!")
"$bin" demo --party 1 --server "$addr" --certs certs --timeout "$timeout_secs" \
    --out-dir "$out/party1" "${msg_args[@]}" >"$out/party1.log" 2>&1 &
pids+=("$!")

# Each party ends on its own within its timeouts; the global limit only guards against a
# hang. Once one party has failed, the other gets a short grace period to report what it
# saw (the failing party normally tells it), then it is stopped instead of waiting out
# its whole timeout.
readonly GRACE_SECS=5
deadline=$((SECONDS + 4 * timeout_secs))
status=(running running)
while [[ "${status[0]}" == running || "${status[1]}" == running ]]; do
    for i in 0 1; do
        [[ "${status[$i]}" == running ]] || continue
        if ! kill -0 "${pids[$i]}" 2>/dev/null; then
            rc=0
            wait "${pids[$i]}" || rc=$?
            status[i]=$rc
            if [[ $rc -ne 0 ]] && ((SECONDS + GRACE_SECS < deadline)); then
                deadline=$((SECONDS + GRACE_SECS))
                stop_reason="stopped by run_demo.sh ${GRACE_SECS} s after party $i failed"
            fi
        fi
    done
    if ((SECONDS >= deadline)); then
        for i in 0 1; do
            if [[ "${status[$i]}" == running ]]; then
                kill "${pids[$i]}" 2>/dev/null || true
                wait "${pids[$i]}" 2>/dev/null || true
                status[i]="${stop_reason:-killed after the global timeout of $((4 * timeout_secs)) s}"
            fi
        done
    fi
    sleep 0.2
done
trap - EXIT

for i in 0 1; do
    echo
    echo "==================== party $i log ($out/party$i.log) ===================="
    cat "$out/party$i.log"
done
echo "=========================================================================="
echo

failed=0
for i in 0 1; do
    case "${status[$i]}" in
        0) say "party $i: ok (exit code 0)" ;;
        1) say "party $i: FAILED (exit code 1: protocol or verification failure)"; failed=1 ;;
        2) say "party $i: FAILED (exit code 2: usage or configuration error)"; failed=1 ;;
        3) say "party $i: FAILED (exit code 3: network error)"; failed=1 ;;
        *) say "party $i: FAILED (${status[$i]})"; failed=1 ;;
    esac
done

if [[ $failed -eq 0 ]]; then
    key0="$(grep -o 'public key (SEC1 compressed): [0-9a-f]*' "$out/party0.log" || true)"
    key1="$(grep -o 'public key (SEC1 compressed): [0-9a-f]*' "$out/party1.log" || true)"
    sig0="$(grep -o 'signature #1 (DER): [0-9a-f]*' "$out/party0.log" || true)"
    sig1="$(grep -o 'signature #1 (DER): [0-9a-f]*' "$out/party1.log" || true)"
    child0="$(grep -o 'signature #3 (DER): [0-9a-f]*' "$out/party0.log" || true)"
    child1="$(grep -o 'signature #3 (DER): [0-9a-f]*' "$out/party1.log" || true)"
    if [[ -n "$key0" && "$key0" == "$key1" && -n "$sig0" && "$sig0" == "$sig1" &&
        -n "$child0" && "$child0" == "$child1" ]]; then
        say "both parties output the same public key and signatures"
    else
        say "FAILED: the parties' public keys or signatures differ"
        failed=1
    fi
    for i in 0 1; do
        d="$out/party$i"
        say "openssl check of party $i's files:" \
            "openssl dgst -sha256 -verify $d/public-key.pem -signature $d/signature.der $d/message.txt"
        if result="$(openssl dgst -sha256 -verify "$d/public-key.pem" \
            -signature "$d/signature.der" "$d/message.txt" 2>&1)" &&
            [[ "$result" == *"Verified OK"* ]]; then
            echo "    $result"
        else
            echo "    $result"
            say "FAILED: OpenSSL does not accept party $i's signature"
            failed=1
        fi
    done
    # The signature under m/0/1, against the child that the xpub derives there (as any
    # BIP32 wallet would): party 0's files (party 1's are the same, as checked above for #1).
    d="$out/party0"
    child=(verify --public-key "$d/key.xpub" --path m/0/1 --signature "$d/child-signature.der"
        --message-file "$d/child-message.txt")
    say "check of the signature under m/0/1 with the xpub: ecdsa2pc ${child[*]}"
    if result="$("$bin" "${child[@]}" 2>&1)"; then
        echo "    ${result//$'\n'/$'\n'    }"
    else
        echo "    ${result//$'\n'/$'\n'    }"
        say "FAILED: the signature under m/0/1 does not verify against the xpub's child"
        failed=1
    fi
fi

if grep -q "already in use" "$out/party0.log"; then
    say "hint: $addr is taken; run e.g. 'ECDSA2PC_ADDR=localhost:9443 ./run_demo.sh'"
fi

echo
if [[ $failed -eq 0 ]]; then
    say "demo succeeded: two-party keygen, two signatures and one under the BIP32 path" \
        "m/0/1 over mutual TLS, verified by both parties, OpenSSL and the xpub"
else
    say "demo FAILED: see the messages above (logs are in $out/)" >&2
    exit 1
fi
