#!/usr/bin/env bash
# bench/endstate.sh — what the benchmark's host preparation left on every
# host, and whether it is the same as another tool left.
#
#   bench/endstate.sh LABDIR OUT.tsv [REFERENCE.tsv]
#   bench/endstate.sh --compare OUT.tsv REFERENCE.tsv
#
# Connects to every host of LABDIR/hosts.txt (in parallel, the lab's key and
# known_hosts, strict host key checking) and writes OUT.tsv, one line per
# host and managed thing, sorted:
#   HOST  PATH  SHA-256 of the content  MODE  OWNER  GROUP
# for every file bench/prepare-hosts.yaml (and bench/pyinfra/deploy.py)
# manages; for a directory the SHA-256 of its sorted entry names (a stray
# backup or temporary file left beside a managed one shows); "absent" for a
# missing path. Also the managed runtime state: net.ipv4.ip_forward and the
# number of active swap devices.
# With REFERENCE.tsv (the same from another tool's run on the same hosts),
# exits 1 on any difference, naming host and path (--compare: only that,
# for two fingerprints already taken), e.g.
#   endstate: node7 /etc/hosts: sha256 0f3a… mode 644 root root (pyinfra)
#             vs 9b1c… mode 644 root root (kubestrap)
# Keep PATHS in step with the playbook.
set -euo pipefail

PATHS=(
    /etc/fstab
    /etc/modules-load.d
    /etc/modules-load.d/k8s.conf
    /etc/sysctl.d
    /etc/sysctl.d/99-kubernetes.conf
    /etc/network/interfaces.d
    /etc/network/interfaces.d/eth0-static
    /etc/hosts
    /etc/hostname
    /etc/cluster-hosts
    /etc/containerd
    /etc/containerd/config.toml
)

die() { printf 'endstate: %s\n' "$*" >&2; exit 1; }

# compare OUT REF: one line per difference (host, path, both fingerprints).
compare() {
    [[ -s $1 ]] || die "$1: no fingerprint"
    [[ -s $2 ]] || die "$2: no reference fingerprint"
    LC_ALL=C join -t $'\t' -j1 -a1 -a2 -e '(no line)' -o 0,1.2,2.2 <(keyed "$1") <(keyed "$2") |
        awk -F'\t' -v a="$(basename "$1" .tsv)" -v b="$(basename "$2" .tsv)" '
            $2 != $3 { n++; if (n <= 20) printf "endstate: %s: %s (%s) vs %s (%s)\n", $1, $2, a, $3, b }
            END { if (n) { printf "endstate: %d difference(s) between %s and %s\n", n, a, b; exit 1 } }' >&2
}
keyed() { # "HOST PATH<TAB>fingerprint" per line, sorted for join
    awk -F'\t' '{ print $1 " " $2 "\t" $3 " mode " $4 " " $5 " " $6 }' "$1" | LC_ALL=C sort -t $'\t' -k1,1
}

if [[ ${1:-} == --compare ]]; then
    (($# == 3)) || die "usage: endstate.sh --compare OUT.tsv REFERENCE.tsv"
    compare "$2" "$3"
    exit
fi
(($# == 2 || $# == 3)) || die "usage: endstate.sh LABDIR OUT.tsv [REFERENCE.tsv]"
LABDIR=$1 OUT=$2 REF=${3:-}
[[ -s $LABDIR/hosts.txt ]] || die "$LABDIR/hosts.txt: no lab there"

# Run on each host by sh: one line per path, then the runtime state.
remote=$(
    cat <<'SH'
for p in "$@"; do
    if [ -d "$p" ]; then
        sum=$(ls -A "$p" | LC_ALL=C sort | sha256sum | cut -d' ' -f1)
    elif [ -e "$p" ]; then
        sum=$(sha256sum <"$p" | cut -d' ' -f1)
    else
        printf '%s\tabsent\t-\t-\t-\n' "$p"
        continue
    fi
    printf '%s\t%s\t%s\n' "$p" "$sum" "$(stat -c '%a	%U	%G' "$p")"
done
printf 'sysctl net.ipv4.ip_forward\t%s\t-\t-\t-\n' "$(cat /proc/sys/net/ipv4/ip_forward)"
printf 'active swap devices\t%s\t-\t-\t-\n' "$(tail -n +2 /proc/swaps | wc -l)"
SH
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Bounded: at most 64 connections at once (sshd's MaxStartups), each with a
# connect timeout; a host that cannot be read fails the check.
pids=()
while read -r name addr; do
    {
        ssh -i "$LABDIR/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=yes \
            -o UserKnownHostsFile="$LABDIR/known_hosts" -o GlobalKnownHostsFile=/dev/null \
            -o ControlMaster=no -o ControlPath=none -o ConnectTimeout=30 -F /dev/null \
            "root@$addr" sh -s -- "${PATHS[@]}" <<<"$remote" >"$tmp/$name.out" 2>"$tmp/$name.err" &&
            touch "$tmp/$name.ok"
    } &
    pids+=($!)
    if ((${#pids[@]} >= 64)); then
        wait "${pids[0]}" || true
        pids=("${pids[@]:1}")
    fi
done <"$LABDIR/hosts.txt"
wait
while read -r name _; do
    [[ -e $tmp/$name.ok ]] || die "$name: cannot read its state: $(tail -n 1 "$tmp/$name.err")"
    awk -v h="$name" '{ print h "\t" $0 }' "$tmp/$name.out"
done <"$LABDIR/hosts.txt" | LC_ALL=C sort >"$OUT"
expected=$(($(wc -l <"$LABDIR/hosts.txt") * (${#PATHS[@]} + 2)))
(($(wc -l <"$OUT") == expected)) || die "$OUT: $(wc -l <"$OUT") lines, expected $expected"

[[ -z $REF ]] || compare "$OUT" "$REF"
