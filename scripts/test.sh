#!/usr/bin/env bash
# The whole test suite. Installs what a fresh Debian machine lacks, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# ghn-core must keep building for the Cortex-M4F target.
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || {
    echo "error: 'rustup target add thumbv7em-none-eabihf' failed" >&2
    exit 1
}

# The firmware tests run the Cortex-M4F build under QEMU's mps2-an386.
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-system-arm) >/dev/null || {
            echo "error: 'apt-get install -y --no-install-recommends qemu-system-arm' failed" >&2
            exit 1
        }
    else
        echo "error: qemu-system-arm is missing: apt-get install -y --no-install-recommends qemu-system-arm" >&2
        exit 1
    fi
fi

# The sweep test starts a real single-node SLURM cluster (slurmctld, slurmd, munged).
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 \
    || ! command -v munged >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends slurmctld slurmd slurm-client munge) >/dev/null || {
            echo "error: 'apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge' failed" >&2
            exit 1
        }
    else
        echo "error: SLURM is missing: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge" >&2
        exit 1
    fi
fi

# The end-to-end tests compare with an independent NumPy implementation and open the
# outputs with NumPy.
if ! python3 -c 'import numpy' 2>/dev/null; then
    python3 -m pip install --quiet numpy || {
        echo "error: python3 with numpy is needed: 'python3 -m pip install numpy' failed" >&2
        exit 1
    }
fi

cargo test --workspace
# The micromath feature changes f32 math crate-wide, so its accuracy test runs in a
# build of its own.
cargo test -p ghn-tests --features micromath --test micromath
