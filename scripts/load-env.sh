# Sourced by scripts/load-test.sh and scripts/load-compare.sh: the scratch directory, its
# certificates and lock registry, and one `ecdsa2pc serve` on loopback at a time.
# Sets: work (removed at exit, with any running service stopped), serve_pid.

work="$(mktemp -d)"
serve_pid=
stop_serve() {
  if [ -n "$serve_pid" ]; then kill -TERM "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  serve_pid=
}
cleanup() {
  stop_serve
  rm -rf "$work"
}
trap cleanup EXIT
certs/generate_certs.sh "$work/certs" >/dev/null
export ECDSA2PC_LOCK_DIR="$work/locks"

# start_serve BIN ADDR SHARES WORKERS LOG: starts the service and waits until it answers health.
start_serve() {
  "$1" serve --listen "$2" --certs "$work/certs" --shares "$3" \
    --workers "$4" --handshake-timeout 2 --log-format json 2>"$5" &
  serve_pid=$!
  for _ in $(seq 1 100); do
    "$1" health --server "$2" --certs "$work/certs" --timeout 1 -q >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$1" health --server "$2" --certs "$work/certs" --timeout 5 -q >/dev/null
}
