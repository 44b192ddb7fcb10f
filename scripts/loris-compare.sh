#!/usr/bin/env bash
# Signing under a slow-loris crowd (issue 11's "accept loop that survives the internet"): for
# each of two `ecdsa2pc` binaries, alternating, a fresh `serve` on loopback (4 workers,
# handshake timeout 2 s, as scripts/load-env.sh starts it), a crowd of IDLE connections that open and never send a byte (each one
# reopened as soon as the service drops it), and `load --clients 8 --signs SIGNS` meanwhile.
# Then the same load without the crowd, as the baseline of that binary in that round.
#
# Usage: scripts/loris-compare.sh BIN_A BIN_B [IDLE] [SIGNS] [ROUNDS]  (defaults 200, 10, 1)
# Prints one line per load run: the label (A or B, "crowd" or "quiet") and the load command's
# table row, or the start of the load command's error output if it gave no row.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: scripts/loris-compare.sh BIN_A BIN_B [IDLE] [SIGNS] [ROUNDS]" >&2; exit 2; }
bins=("$1" "$2")
idle="${3:-200}"
signs="${4:-10}"
rounds="${5:-1}"
for b in "${bins[@]}"; do
  [ -x "$b" ] || { echo "error: $b is not an executable (build it first)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "error: python3 is required for the idle crowd" >&2; exit 2; }
source scripts/load-env.sh
addr="${ECDSA2PC_LOAD_ADDR:-127.0.0.1:8565}"
# The crowd: IDLE sockets held open, each reopened when the service closes it, until killed.
crowd() {
  python3 - "$addr" "$idle" <<'PY' &
import selectors, socket, sys
host, port = sys.argv[1].rsplit(":", 1)
sel = selectors.DefaultSelector()
def open_one():
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    except OSError:
        pass
for _ in range(int(sys.argv[2])):
    open_one()
while True:
    for key, _ in sel.select(timeout=1):
        sel.unregister(key.fileobj)
        key.fileobj.close()
        open_one()
PY
  crowd_pid=$!
  sleep 1
}
load() {
  local row
  row="$("$1" load --server "$addr" --certs "$work/certs" --shares "$work/run/client" \
    --server-pid "$serve_pid" --clients 8 --signs "$signs" --timeout 60 2>"$work/run/load.log")" \
    || true
  if [ -n "$row" ]; then
    echo "$row"
  else
    echo "no result: $(grep -o 'error: [0-9]* of [0-9]* signatures failed; first: .*' "$work/run/load.log" \
      || tail -n 1 "$work/run/load.log")"
  fi
}
one() {
  local label=$1 bin=$2
  rm -rf "$work/run" "$ECDSA2PC_LOCK_DIR"
  mkdir -m 700 -p "$work/run/shares" "$work/run/client"
  start_serve "$bin" "$addr" "$work/run/shares" 4 "$work/run/serve.log"
  "$bin" load --server "$addr" --certs "$work/certs" --shares "$work/run/client" --clients 8 --signs 1 -q >/dev/null
  echo "$label quiet $(load "$bin")"
  crowd
  echo "$label crowd $(load "$bin")"
  kill "$crowd_pid" 2>/dev/null || true
  wait "$crowd_pid" 2>/dev/null || true
  stop_serve
}
for _ in $(seq 1 "$rounds"); do
  one A "${bins[0]}"
  one B "${bins[1]}"
done
