#!/usr/bin/env bash
# bench/run.sh — kubestrap against the OpenSSH floor and Ansible, side by side.
#
#   sudo bench/run.sh [N...]        (default: 10 50 150 500)
#
# For every N it boots N sshd-only lab hosts (tests/lab/lab.sh with
# LAB_SSHD_ONLY=1) and measures, each figure the median of BENCH_REPS runs:
#   floor       N parallel `ssh HOST true`, fresh connections (BatchMode,
#               StrictHostKeyChecking against the lab's known_hosts,
#               ControlMaster no)
#   kubestrap   bench/prepare-hosts.yaml, first run on fresh hosts, then the
#               no-op re-run (--forks N)
#   ansible     the same playbook with ansible-playbook (forks N, pipelining),
#               first run and no-op re-run, for N <= BENCH_ANSIBLE_MAX_N
# Wall time, CPU time (user+sys of the process and its children) and peak
# RSS of the controlling process come from GNU time (/usr/bin/time).
# "Fresh hosts" = `lab.sh reset` (every host's disk back to first boot, same
# host keys) before each first run. Every run must end with every host ok
# (no unreachable, no failed), else the bench stops.
#
# Environment: BENCH_REPS (3), BENCH_ANSIBLE_MAX_N (150), BENCH_ANSIBLE_VERSION
# (the `ansible` PyPI package, default 12.3.0 = ansible-core 2.19),
# BENCH_OUT (bench/out/DATE), BENCH_LAB (/tmp/kubestrap-bench-lab),
# BENCH_NO_BUILD=1 (use target/release/kubestrap as it is).
# Needs root, cargo, python3 with venv, network access to PyPI (once) and
# to the Debian mirror (once, for the lab's root file system and `time`).
# The results table is printed and written to $BENCH_OUT/results.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
LAB=$ROOT/tests/lab/lab.sh
REPS=${BENCH_REPS:-3}
ANSIBLE_MAX_N=${BENCH_ANSIBLE_MAX_N:-150}
ANSIBLE_VERSION=${BENCH_ANSIBLE_VERSION:-12.3.0}
CACHE=/var/cache/kubestrap-bench
VENV=$CACHE/venv-ansible-$ANSIBLE_VERSION
LABDIR=${BENCH_LAB:-/tmp/kubestrap-bench-lab}
OUT=${BENCH_OUT:-$HERE/out/$(date -u +%Y%m%dT%H%M%SZ)}
BRIDGE=ksbr5
KS=$ROOT/target/release/kubestrap

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

(($(id -u) == 0)) || die "must run as root (the lab needs network namespaces and mounts)"
Ns=("$@")
((${#Ns[@]})) || Ns=(10 50 150 500)

# ------------------------------------------------------------ tools
if [[ ! -x /usr/bin/time ]]; then
    log "installing GNU time"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time; } >&2 ||
        die "apt-get install time failed"
fi
if [[ ${BENCH_NO_BUILD:-0} == 1 && -x $KS ]]; then
    log "using the kubestrap already built: $KS"
else
    log "building kubestrap (release)"
    (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
fi
if [[ ! -x $VENV/bin/ansible-playbook ]]; then
    log "installing ansible==$ANSIBLE_VERSION from PyPI into $VENV"
    mkdir -p "$CACHE"
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
    "$VENV/bin/pip" install -q "ansible==$ANSIBLE_VERSION" || die "pip install ansible failed"
fi
mkdir -p "$OUT"
DATA=$OUT/runs.tsv
printf 'n\ttool\tphase\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\n' >"$DATA"

# ------------------------------------------------------------ measuring
# timed LABEL CMD...: run CMD under GNU time; appends "wall user sys maxrss"
# to $OUT/LABEL.time, output in $OUT/LABEL.log. Fails when CMD fails.
timed() {
    local label=$1
    shift
    /usr/bin/time -o "$OUT/$label.time" -f '%e %U %S %M' "$@" >"$OUT/$label.log" 2>&1 ||
        { tail -n 20 "$OUT/$label.log" >&2; die "$label failed (log: $OUT/$label.log)"; }
}
record() { # record N TOOL PHASE REP LABEL
    local wall user sys rss
    read -r wall user sys rss <"$OUT/$5.time"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$wall" "$user" "$sys" "$rss" >>"$DATA"
    log "$(printf '%-28s wall %7.2f s  cpu %7.2f s  rss %6d MB' "$5" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" $((rss / 1024)))"
}
# Every host in the PLAY RECAP, none unreachable or failed; "changed" when
# the first run must have changed every host, "unchanged" when none may.
check_recap() { # check_recap LOG N changed|unchanged
    awk -v n="$2" -v want="$3" '
        /^PLAY RECAP/ { on = 1; next }
        on && /:[ \t]+ok=/ {
            hosts++
            for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            if (v["unreachable"] != 0 || v["failed"] != 0) bad++
            if (want == "changed" && v["changed"] == 0) bad++
            if (want == "unchanged" && v["changed"] != 0) bad++
        }
        END { if (hosts != n || bad) { printf "recap: %d of %d hosts, %d bad\n", hosts, n, bad; exit 1 } }
    ' "$1" || die "$1: not every host came through as expected ($3)"
}

floor_run() { # N parallel ssh HOST true, fresh connections
    local addr pids=() rc=0 p
    while read -r _ addr; do
        ssh -n -i "$LABDIR/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=yes \
            -o UserKnownHostsFile="$LABDIR/known_hosts" -o GlobalKnownHostsFile=/dev/null \
            -o ControlMaster=no -o ControlPath=none -o ConnectTimeout=30 \
            -F /dev/null "root@$addr" true &
        pids+=($!)
    done <"$LABDIR/hosts.txt"
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    return $rc
}
export -f floor_run
export LABDIR

ansible_inventory() {
    {
        echo "[all]"
        awk '{ print $1 " ansible_host=" $2 }' "$LABDIR/hosts.txt"
        echo "[all:vars]"
        echo "ansible_user=root"
        echo "ansible_ssh_private_key_file=$LABDIR/id_ed25519"
        echo "ansible_ssh_common_args='-o UserKnownHostsFile=$LABDIR/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes'"
    } >"$LABDIR/ansible-hosts.ini"
}
# Ansible's ControlPersist masters of one run: closed after it (not timed),
# so the next run starts on fresh connections.
close_masters() {
    local s
    for s in "$1"/*; do
        if [[ -S $s ]]; then ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1 || true; fi
    done
    rm -rf "$1"
}

# Interrupted or failed: no Ansible ssh masters left behind (the lab stays
# up for a look; `tests/lab/lab.sh down $LABDIR` ends it).
close_all_masters() {
    local d
    for d in /tmp/ksb-cp-"$$"-*; do if [[ -d $d ]]; then close_masters "$d"; fi; done
}
trap close_all_masters EXIT

median() { # median COLUMN-EXPR over runs.tsv rows of N TOOL PHASE
    awk -F'\t' -v n="$1" -v t="$2" -v p="$3" -v c="$4" '
        $1 == n && $2 == t && $3 == p {
            if (c == "cpu") x[k++] = $6 + $7; else if (c == "wall") x[k++] = $5; else x[k++] = $8 / 1024 }
        END {
            if (!k) { print "-"; exit }
            for (i = 0; i < k; i++) for (j = i + 1; j < k; j++) if (x[j] < x[i]) { s = x[i]; x[i] = x[j]; x[j] = s }
            m = (k % 2) ? x[int(k / 2)] : (x[k / 2 - 1] + x[k / 2]) / 2
            printf (c == "rss") ? "%.0f" : "%.2f", m
        }' "$DATA"
}

# ------------------------------------------------------------ the runs
lab_up() { # lab_up N
    local net
    if (($1 <= 200)); then net=10.99.5; else net=10.100; fi
    log "N=$1: booting $1 sshd-only lab hosts on $BRIDGE ($net)"
    LAB_SSHD_ONLY=1 LAB_BRIDGE=$BRIDGE LAB_NET=$net "$LAB" up "$LABDIR" "$1" >"$OUT/lab-up-$1.log" 2>&1 ||
        { tail -n 20 "$OUT/lab-up-$1.log" >&2; die "lab up $1 failed"; }
    ansible_inventory
}
# The floor and kubestrap for every N first, then Ansible (much slower) for
# N <= BENCH_ANSIBLE_MAX_N.
for n in "${Ns[@]}"; do
    lab_up "$n"
    for ((r = 1; r <= REPS; r++)); do
        timed "n$n-floor-$r" bash -c floor_run
        record "$n" floor connect "$r" "n$n-floor-$r"
    done
    for ((r = 1; r <= REPS; r++)); do
        ((r == 1)) || "$LAB" reset "$LABDIR" >>"$OUT/lab-reset-$n.log" 2>&1 || die "lab reset failed"
        for phase in first noop; do
            label=n$n-kubestrap-$phase-$r
            timed "$label" "$KS" run "$HERE/prepare-hosts.yaml" -i "$LABDIR/inventory.yaml" \
                --known-hosts "$LABDIR/known_hosts" --forks "$n" --report "$OUT/$label.json"
            check_recap "$OUT/$label.log" "$n" "$([[ $phase == first ]] && echo changed || echo unchanged)"
            record "$n" kubestrap "$phase" "$r" "$label"
        done
    done
done
for n in "${Ns[@]}"; do
    if ((n > ANSIBLE_MAX_N)); then
        log "N=$n: Ansible skipped (BENCH_ANSIBLE_MAX_N=$ANSIBLE_MAX_N)"
        continue
    fi
    lab_up "$n"
    for ((r = 1; r <= REPS; r++)); do
        ((r == 1)) || "$LAB" reset "$LABDIR" >>"$OUT/lab-reset-$n.log" 2>&1 || die "lab reset failed"
        for phase in first noop; do
            label=n$n-ansible-$phase-$r
            cp=/tmp/ksb-cp-$$-$r-$phase
            mkdir -p "$cp"
            ANSIBLE_CONFIG=$HERE/ansible.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=$cp \
                ANSIBLE_LOCAL_TEMP=$OUT/ansible-tmp ANSIBLE_NOCOLOR=1 \
                timed "$label" "$VENV/bin/ansible-playbook" -i "$LABDIR/ansible-hosts.ini" \
                --forks "$n" "$HERE/prepare-hosts.yaml"
            close_masters "$cp"
            check_recap "$OUT/$label.log" "$n" "$([[ $phase == first ]] && echo changed || echo unchanged)"
            record "$n" ansible "$phase" "$r" "$label"
        done
    done
done
"$LAB" down "$LABDIR" >"$OUT/lab-down.log" 2>&1 || log "lab down failed (see $OUT/lab-down.log)"

# ------------------------------------------------------------ the table
{
    echo "| N | run | wall s | CPU s (user+sys) | peak RSS MB | wall / floor |"
    echo "|---:|---|---:|---:|---:|---:|"
    for n in "${Ns[@]}"; do
        fl=$(median "$n" floor connect wall)
        for row in "floor connect" "kubestrap first" "kubestrap noop" "ansible first" "ansible noop"; do
            read -r tool phase <<<"$row"
            w=$(median "$n" "$tool" "$phase" wall)
            [[ $w == - ]] && continue
            ratio=$(awk -v a="$w" -v b="$fl" 'BEGIN { printf "%.1fx", a / b }')
            label=$tool; [[ $tool == floor ]] && label="floor (ssh true)" || label="$tool $phase"
            echo "| $n | $label | $w | $(median "$n" "$tool" "$phase" cpu) | $(median "$n" "$tool" "$phase" rss) | $ratio |"
        done
    done
    echo
    echo "Ansible / kubestrap (median wall):"
    for n in "${Ns[@]}"; do
        for phase in first noop; do
            a=$(median "$n" ansible "$phase" wall); k=$(median "$n" kubestrap "$phase" wall)
            [[ $a == - || $k == - ]] && continue
            echo "- N=$n $phase run: $(awk -v a="$a" -v k="$k" 'BEGIN { printf "%.1fx", a / k }')"
        done
    done
} >"$OUT/results.md"
{
    echo
    echo "kubestrap $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo '+local changes'), $(ssh -V 2>&1), $("$VENV/bin/ansible" --version | head -n1), $(nproc) cores, $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "command: bench/run.sh ${Ns[*]} (BENCH_REPS=$REPS BENCH_ANSIBLE_MAX_N=$ANSIBLE_MAX_N)"
} >>"$OUT/results.md"
cat "$OUT/results.md"
