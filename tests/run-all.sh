#!/usr/bin/env bash
# The one command that runs every test: style checks, unit tests, then the
# integration tests against a lab of LAB_HOSTS machine-like hosts
# (tests/lab/lab.sh), which is always torn down again, while the static
# release binary (`cargo build-static`, README's "one static binary") builds
# at low priority beside them for the tests that check it. Run as root from
# anywhere in a clone.
#
# The lab is run-all's own: its directory, bridge and network differ from the
# quick start's (/tmp/kubestrap-lab on ksbr0, 10.99.0), so a quick-start lab
# that is up stays up and untouched.
#
# `tests/run-all.sh --vm-only` runs the VM tier instead: real Debian VMs
# (tests/vm/vm.sh) and the tests in tests/vm/, torn down again. It is not
# part of the default run yet: on a heavily loaded 2-core machine one
# emulated `apply` took longer than its 15-minute bound (see README).
#
#   LABDIR      lab directory (default /tmp/kubestrap-test-lab)
#   LAB_BRIDGE  the lab's bridge (default ksbrtest)
#   LAB_NET     the lab's /24 (default 10.99.100)
#   LAB_HOSTS   number of lab hosts (default 88: tests/it/main.rs gives node1..node88 jobs)
#   VMDIR       VM tier directory (default /tmp/kubestrap-vms)
#   VM_HOSTS    number of VMs (default 5: tests/vm/main.rs gives vm1..vm5 jobs)
#   --vm-only   as first argument: only the VM tier (image, VMs, VM tests)
#   extra arguments are passed to the test binary, e.g. a filter:
#   tests/run-all.sh lab_      tests/run-all.sh --vm-only vm_cluster
#
# Assumes what README's quick start installs (debootstrap, dpkg-dev, gnupg,
# python3, openssh-client, iproute2, util-linux) and a reachable Debian mirror
# (.ci/run installs those and the tools some tests drive); the lab's root file
# system and apt repository are built once and cached in /var/cache/kubestrap-lab.
# The VM tier also needs qemu-system-x86 (from bookworm-backports),
# dnsmasq-base, parted and grub-pc-bin; its image is cached in
# /var/cache/kubestrap-vm.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
LABDIR=${LABDIR:-/tmp/kubestrap-test-lab}
export LAB_BRIDGE=${LAB_BRIDGE:-ksbrtest} LAB_NET=${LAB_NET:-10.99.100}
LAB_HOSTS=${LAB_HOSTS:-88}
# 88 systemd hosts boot in one batch; on a busy 2-core machine that can take
# longer than lab.sh's 60 s default (an upper bound, not a sleep).
export LAB_BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-300}
LAB=tests/lab/lab.sh
VMDIR=${VMDIR:-/tmp/kubestrap-vms}
VM_HOSTS=${VM_HOSTS:-5}
VM=tests/vm/vm.sh

# The VM tier: image (cached in /var/cache/kubestrap-vm), VMs, tests, teardown.
vm_tier() {
    local rc=0
    echo "== VM tier: image" >&2
    "$VM" image || { echo "run-all: building the VM image failed" >&2; return 1; }
    trap 'vm_down' EXIT
    echo "== VM tier: $VM_HOSTS VMs in $VMDIR" >&2
    if "$VM" up "$VMDIR" "$VM_HOSTS"; then
        echo "== VM tests" >&2
        # Every VM test at once: each has its own VMs, and they mostly wait.
        KUBESTRAP_VMS=$(realpath "$VMDIR") cargo test --test vm -- --test-threads=8 "$@" || rc=$?
    else
        echo "run-all: bringing up the VMs failed" >&2
        rc=1
    fi
    vm_down
    trap - EXIT
    return "$rc"
}
vm_down() { "$VM" down "$VMDIR" || echo "run-all: VM teardown failed" >&2; }

if [[ ${1:-} == --vm-only ]]; then
    shift
    trap 'exit 130' INT
    trap 'exit 143' TERM
    vm=0
    vm_tier "$@" || vm=$?
    echo "== VM tests: $( ((vm)) && echo FAILED || echo ok)" >&2
    exit $((vm != 0))
fi

unit=0 it=0
echo "== style: cargo fmt --check, cargo clippy -D warnings" >&2
cargo fmt --check || unit=$?
cargo clippy --all-targets -- -D warnings || unit=$?
echo "== unit tests" >&2
cargo test --lib --bins || unit=$?
# Tests that need a tool CI installs (ansible-core): ignored by a plain
# `cargo test`, run here, where a missing tool fails them.
cargo test --lib -- --ignored match_live_ansible_inventory || unit=$?
# The integration tests' binary, built now and run directly below, so that
# no cargo holds the build directory's lock while the release build runs.
echo "== integration test binary" >&2
it_bin=$(cargo test --test it --no-run --message-format=json |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "it" and m.get("executable"):
        print(m["executable"])') || unit=$?

echo "== lab: root file system" >&2
if ! "$LAB" rootfs; then
    echo "run-all: building the lab root file system failed" >&2
    exit 1
fi

static_pid=
down() {
    # An interrupted run stops its background release build too.
    [[ -n $static_pid ]] && kill "$static_pid" 2>/dev/null
    "$LAB" down "$LABDIR" || echo "run-all: lab teardown failed" >&2
}
trap down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The static release binary (`cargo build-static`) builds at the lowest CPU
# priority beside the lab's boot and the integration tests, which mostly
# wait on their hosts: its minutes of CPU fill the idle time instead of
# adding to the run. The two tests that use it (tests/it/release.rs, and
# README's ldd line in tests/it/readme.rs) run once it is there.
STATIC_TESTS=(release:: readme::readme_commands_run_against_the_lab)
static_log=$(mktemp)
echo "== static release binary: cargo build-static (in the background, log below when done)" >&2
nice -n 19 cargo build-static >"$static_log" 2>&1 &
static_pid=$!
static_done() {
    local rc=0
    wait "$static_pid" || rc=$?
    static_pid=
    echo "== static release binary: cargo build-static $( ((rc)) && echo FAILED || echo ok)" >&2
    cat "$static_log" >&2
    rm -f "$static_log"
    return "$rc"
}

lab_tests() { KUBESTRAP_LAB=$(realpath "$LABDIR") "$it_bin" "$@"; }
echo "== lab: $LAB_HOSTS hosts in $LABDIR" >&2
if [[ -z $it_bin ]]; then
    echo "run-all: the integration tests did not build" >&2
    static_done || unit=1
    it=1
elif "$LAB" up "$LABDIR" "$LAB_HOSTS"; then
    if (($#)); then
        # A filter: every matching test once the static binary is there.
        static_done || unit=1
        echo "== integration tests" >&2
        lab_tests "$@" || it=$?
    else
        skips=()
        for t in "${STATIC_TESTS[@]}"; do skips+=(--skip "$t"); done
        echo "== integration tests (all but ${STATIC_TESTS[*]})" >&2
        lab_tests "${skips[@]}" || it=$?
        static_done || unit=1
        echo "== integration tests on the static binary: ${STATIC_TESTS[*]}" >&2
        lab_tests "${STATIC_TESTS[@]}" || it=$?
    fi
else
    echo "run-all: bringing up the lab failed" >&2
    static_done || unit=1
    it=1
fi

echo "== unit tests: $( ((unit)) && echo FAILED || echo ok); integration tests: $( ((it)) && echo FAILED || echo ok)" >&2
((unit == 0 && it == 0))
