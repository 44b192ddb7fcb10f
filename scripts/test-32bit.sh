#!/usr/bin/env bash
# The core on 32-bit targets: builds ecdsa2pc-core with no std for the three microcontroller
# targets (Cortex-M4F, Cortex-M33, RISC-V 32; that nothing in its tree allocates is proven by
# the firmware, which links it with no global allocator), then runs the core's whole test
# suite on i686-unknown-linux-gnu, where crypto-bigint's limbs are 32 bits wide, so the
# arithmetic is tested with 32-bit limbs, not only compiled.
# Installs what it needs when it can (rustup targets; gcc-multilib with apt-get as root) and
# otherwise says how to get it.
set -euo pipefail
cd "$(dirname "$0")/.."

BARE_METAL=(thumbv7em-none-eabihf thumbv8m.main-none-eabihf riscv32imac-unknown-none-elf)
HOSTED32=i686-unknown-linux-gnu

need_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" && return 0
  command -v rustup >/dev/null 2>&1 && rustup target add "$1" && return 0
  echo "error: the Rust target $1 is missing: rustup target add $1" >&2
  exit 2
}

# A 32-bit C toolchain to link i686 test binaries (crt files and a 32-bit libc).
need_multilib() {
  local probe ok=0
  probe=$(mktemp -d)
  echo 'int main(void) { return 0; }' >"$probe/t.c"
  cc -m32 "$probe/t.c" -o "$probe/t" 2>/dev/null || ok=$?
  if [ "$ok" != 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing gcc-multilib (links 32-bit x86 test binaries)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-multilib) >/dev/null
    ok=0
    cc -m32 "$probe/t.c" -o "$probe/t" || ok=$?
  fi
  rm -rf "$probe"
  [ "$ok" = 0 ] && return 0
  echo "error: cannot link 32-bit x86 programs: install gcc-multilib (Debian/Ubuntu:" \
    "apt-get install gcc-multilib; Fedora: dnf install glibc-devel.i686 libgcc.i686)" >&2
  exit 2
}

for t in "${BARE_METAL[@]}"; do
  need_target "$t"
  echo "--- ecdsa2pc-core for $t (no std)"
  cargo build -p ecdsa2pc-core --release --locked --no-default-features --target "$t"
done

need_target "$HOSTED32"
need_multilib
echo "--- ecdsa2pc-core test suite on $HOSTED32 (32-bit limbs)"
cargo test -p ecdsa2pc-core --locked --target "$HOSTED32"
