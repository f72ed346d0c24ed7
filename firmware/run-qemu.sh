#!/usr/bin/env bash
# Cargo runner: runs an ELF on QEMU's mps2-an386 (Cortex-M4 with FPU) and decodes its defmt
# output with defmt-print. `-icount shift=0` makes one instruction one nanosecond of
# virtual time, so SysTick (25 MHz) counts instructions/40 deterministically.
set -euo pipefail
elf="$1"
command -v qemu-system-arm >/dev/null || {
    echo "error: qemu-system-arm is missing: apt-get install -y --no-install-recommends qemu-system-arm" >&2
    exit 127
}
command -v defmt-print >/dev/null || {
    echo "error: defmt-print is missing: cargo install defmt-print --locked" >&2
    exit 127
}
timeout "${GHN_QEMU_TIMEOUT:-120}" qemu-system-arm -cpu cortex-m4 -machine mps2-an386 \
    -display none -monitor none -serial none -icount shift=0 \
    -semihosting-config enable=on,target=native -kernel "$elf" </dev/null \
    | defmt-print -e "$elf"
