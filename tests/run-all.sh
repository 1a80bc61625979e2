#!/usr/bin/env bash
# The one command that runs every test: style checks, unit tests, the static
# release binary (`cargo build-static`, README's "one static binary"), then the
# integration tests against a lab of LAB_HOSTS machine-like hosts
# (tests/lab/lab.sh), which is always torn down again. Run as root from
# anywhere in a clone.
#
# The lab is run-all's own: its directory, bridge and network differ from the
# quick start's (/tmp/kubestrap-lab on ksbr0, 10.99.0), so a quick-start lab
# that is up stays up and untouched.
#
#   LABDIR      lab directory (default /tmp/kubestrap-test-lab)
#   LAB_BRIDGE  the lab's bridge (default ksbrtest)
#   LAB_NET     the lab's /24 (default 10.99.100)
#   LAB_HOSTS   number of lab hosts (default 64: tests/it/main.rs gives node1..node64 jobs)
#   extra arguments are passed to the integration test binary, e.g. a filter:
#   tests/run-all.sh lab_
#
# Assumes what README's quick start installs (debootstrap, dpkg-dev, gnupg,
# python3, openssh-client, iproute2, util-linux) and a reachable Debian mirror
# (.ci/run installs those and the tools some tests drive); the lab's root file
# system and apt repository are built once and cached in /var/cache/kubestrap-lab.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
LABDIR=${LABDIR:-/tmp/kubestrap-test-lab}
export LAB_BRIDGE=${LAB_BRIDGE:-ksbrtest} LAB_NET=${LAB_NET:-10.99.100}
LAB_HOSTS=${LAB_HOSTS:-64}
LAB=tests/lab/lab.sh

unit=0 it=0
echo "== style: cargo fmt --check, cargo clippy -D warnings" >&2
cargo fmt --check || unit=$?
cargo clippy --all-targets -- -D warnings || unit=$?
echo "== unit tests" >&2
cargo test --lib --bins || unit=$?
# Tests that need a tool CI installs (ansible-core): ignored by a plain
# `cargo test`, run here, where a missing tool fails them.
cargo test --lib -- --ignored ansible_examples_match_live_ansible_inventory || unit=$?
# Built here, before the lab, so the release build's minutes of CPU do not
# compete with the lab tests; tests/it/release.rs checks what it made.
echo "== static release binary: cargo build-static" >&2
cargo build-static || unit=$?

echo "== lab: root file system" >&2
if ! "$LAB" rootfs; then
    echo "run-all: building the lab root file system failed" >&2
    exit 1
fi

down() { "$LAB" down "$LABDIR" || echo "run-all: lab teardown failed" >&2; }
trap down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== lab: $LAB_HOSTS hosts in $LABDIR" >&2
if "$LAB" up "$LABDIR" "$LAB_HOSTS"; then
    echo "== integration tests" >&2
    KUBESTRAP_LAB=$(realpath "$LABDIR") cargo test --test it -- "$@" || it=$?
else
    echo "run-all: bringing up the lab failed" >&2
    it=1
fi

echo "== unit tests: $( ((unit)) && echo FAILED || echo ok); integration tests: $( ((it)) && echo FAILED || echo ok)" >&2
((unit == 0 && it == 0))
