#!/usr/bin/env bash
# bench/run.sh — kubestrap against the OpenSSH floor, pyinfra and Ansible,
# side by side.
#
#   sudo bench/run.sh [N...]        (default: 10 50 150 500 1000)
#
# For every N it boots N sshd-only lab hosts (tests/lab/lab.sh with
# LAB_SSHD_ONLY=1) and measures, each figure the median of BENCH_REPS runs:
#   floor       N parallel `ssh HOST true`, fresh connections (BatchMode,
#               StrictHostKeyChecking against the lab's known_hosts,
#               ControlMaster no)
#   kubestrap   bench/prepare-hosts.yaml, first run on fresh hosts, then the
#               no-op re-run (--forks N)
#   pyinfra     bench/pyinfra/deploy.py, the same work written as a pyinfra
#               deploy (--parallel N), first run and no-op re-run, for
#               N <= BENCH_PYINFRA_MAX_N (default 500, as issue 20
#               allows; BENCH_PYINFRA_MAX_N=1000 measures N=1000 too)
#   ansible     the same playbook with ansible-playbook (forks N, pipelining),
#               first run and no-op re-run, for N <= BENCH_ANSIBLE_MAX_N
# Wall time, CPU time (user+sys of the process and its children) and peak
# RSS of the controlling process come from GNU time (/usr/bin/time).
# "Fresh hosts" = `lab.sh reset` (every host's disk back to first boot, same
# host keys, net.ipv4.ip_forward back to 0 in its network namespace) before
# each first run. Every run must end with every host ok (no unreachable, no
# failed), else the bench stops.
# End state: after every first run, bench/endstate.sh fingerprints every
# managed file (SHA-256, mode, owner, group) and the managed runtime state
# on every host; kubestrap's first fingerprint at each N is the reference,
# and any difference (another repetition, pyinfra, Ansible) stops the bench
# naming host and path.
# Where kubestrap's time goes: the `timings` section of its JSON reports
# (connect, gather, each task, handlers, recap), medians per N in the table.
# apply no-op (for 3 and 10 hosts whatever the N list, after the rows
# above; BENCH_APPLY=0 skips it): N systemd lab hosts (not sshd-only: kubeadm,
# kubelet and containerd need systemd; the lab's stand-ins and apt repo),
# node1 the control plane, the others workers (the lab's inventory.yaml),
# `kubestrap apply` once to converge (not timed, must exit 0), then
# BENCH_REPS times the floor on those hosts and the no-op re-run, which
# must exit 0 with every host in its --report and changed=0 on each; the
# table gives the most SSH commands one host ran (`ssh_execs` in the
# report's stats). That lab is torn down on exit, whatever happened.
#
# Environment: BENCH_REPS (3), BENCH_ANSIBLE_MAX_N (150), BENCH_PYINFRA_MAX_N
# (500), BENCH_ANSIBLE_VERSION (the `ansible` PyPI package, default 12.3.0 =
# ansible-core 2.19), BENCH_PYINFRA_VERSION (3.10.0), BENCH_OUT
# (bench/out/DATE), BENCH_LAB (/tmp/kubestrap-bench-lab), BENCH_BRIDGE
# (ksbr5), BENCH_NET24 (10.99.5, the lab's /24 for N <= 200), BENCH_NET16
# (10.100, its /16 above), BENCH_NO_BUILD=1 (use target/release/kubestrap as
# it is), BENCH_KUBESTRAP (a kubestrap binary to use instead, not built),
# BENCH_APPLY (1; 0 skips the apply rows), BENCH_APPLY_LAB, BENCH_APPLY_BRIDGE,
# BENCH_APPLY_NET (the systemd lab's directory, bridge and /24; default the
# sshd-only lab's, which is down by then), LAB_BOOT_TIMEOUT (lab.sh's, for a
# loaded machine).
# Needs root, cargo, python3 with venv, network access to PyPI (once) and
# to the Debian mirror (once, for the lab's root file system and `time`).
# The results table is printed and written to $BENCH_OUT/results.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
LAB=$ROOT/tests/lab/lab.sh
REPS=${BENCH_REPS:-3}
ANSIBLE_MAX_N=${BENCH_ANSIBLE_MAX_N:-150}
PYINFRA_MAX_N=${BENCH_PYINFRA_MAX_N:-500}
ANSIBLE_VERSION=${BENCH_ANSIBLE_VERSION:-12.3.0}
PYINFRA_VERSION=${BENCH_PYINFRA_VERSION:-3.10.0}
CACHE=/var/cache/kubestrap-bench
VENV=$CACHE/venv-ansible-$ANSIBLE_VERSION-pyinfra-$PYINFRA_VERSION
LABDIR=${BENCH_LAB:-/tmp/kubestrap-bench-lab}
OUT=${BENCH_OUT:-$HERE/out/$(date -u +%Y%m%dT%H%M%SZ)}
BRIDGE=${BENCH_BRIDGE:-ksbr5}
NET24=${BENCH_NET24:-10.99.5}
NET16=${BENCH_NET16:-10.100}
KS=${BENCH_KUBESTRAP:-$ROOT/target/release/kubestrap}
APPLY=${BENCH_APPLY:-1}
APPLY_Ns=(3 10)
APPLY_LAB=${BENCH_APPLY_LAB:-$LABDIR}
APPLY_BRIDGE=${BENCH_APPLY_BRIDGE:-$BRIDGE}
APPLY_NET=${BENCH_APPLY_NET:-$NET24}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

(($(id -u) == 0)) || die "must run as root (the lab needs network namespaces and mounts)"
Ns=("$@")
((${#Ns[@]})) || Ns=(10 50 150 500 1000)

# ------------------------------------------------------------ tools
if [[ ! -x /usr/bin/time ]]; then
    log "installing GNU time"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time; } >&2 ||
        die "apt-get install time failed"
fi
if [[ -n ${BENCH_KUBESTRAP:-} ]]; then
    [[ -x $KS ]] || die "BENCH_KUBESTRAP=$KS: not an executable"
    log "using BENCH_KUBESTRAP=$KS (not built)"
elif [[ ${BENCH_NO_BUILD:-0} == 1 && -x $KS ]]; then
    log "using the kubestrap already built: $KS"
else
    log "building kubestrap (release)"
    (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
fi
if [[ ! -x $VENV/bin/ansible-playbook || ! -x $VENV/bin/pyinfra ]]; then
    log "installing ansible==$ANSIBLE_VERSION and pyinfra==$PYINFRA_VERSION from PyPI into $VENV"
    mkdir -p "$CACHE"
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
    "$VENV/bin/pip" install -q "ansible==$ANSIBLE_VERSION" "pyinfra==$PYINFRA_VERSION" ||
        die "pip install ansible pyinfra failed"
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
# pyinfra's inventory: a Python file, every host with the lab's key and
# known_hosts, strict host key checking, as root like the other tools.
pyinfra_inventory() {
    {
        echo "# The lab's hosts for pyinfra (written by bench/run.sh)."
        echo "_ssh = {"
        echo "    \"ssh_user\": \"root\","
        echo "    \"ssh_key\": \"$LABDIR/id_ed25519\","
        echo "    \"ssh_known_hosts_file\": \"$LABDIR/known_hosts\","
        echo "    \"ssh_strict_host_key_checking\": \"yes\","
        echo "}"
        echo "hosts = ["
        awk '{ print "    (\"" $1 "\", {\"ssh_hostname\": \"" $2 "\", **_ssh})," }' "$LABDIR/hosts.txt"
        echo "]"
    } >"$LABDIR/pyinfra_inventory.py"
}
# pyinfra prints no recap: every host must have connected, no operation
# may have failed anywhere, and on the first run every host must have
# changed something, on the re-run none.
check_pyinfra() { # check_pyinfra LOG N changed|unchanged
    awk -v n="$2" -v want="$3" '
        /^[ \t]*\[[A-Za-z0-9._-]+\][ \t]/ {
            h = $1
            if ($2 == "Connected") hosts[h] = 1
            else if ($2 == "Success") changed[h]++
            else if ($2 != "No" && $2 != "Ready:") { bad++; if (bad <= 5) print "pyinfra: " $0 }
        }
        /^[ \t]*Grand total/ { total = 1; if ($5 != "-" && $5 != 0) bad++ }
        END {
            for (h in hosts) {
                seen++
                if (want == "changed" && !changed[h]) bad++
                if (want == "unchanged" && changed[h]) bad++
            }
            if (seen != n || bad || !total) { printf "pyinfra: %d of %d hosts, %d bad\n", seen, n, bad; exit 1 }
        }
    ' "$1" || die "$1: not every host came through as expected ($3)"
}
# Every host back to first boot: `lab.sh reset` gives each a fresh disk;
# its network namespace (and so net.ipv4.ip_forward, which the playbook
# sets at run time) outlives that, so it goes back to the kernel's 0 too.
fresh_hosts() {
    local name
    "$LAB" reset "$LABDIR" >>"$OUT/lab-reset.log" 2>&1 || die "lab reset failed (see $OUT/lab-reset.log)"
    while read -r name _; do
        ip netns exec "$BRIDGE-$name" sysctl -qw net.ipv4.ip_forward=0 ||
            die "$name: cannot reset net.ipv4.ip_forward in netns $BRIDGE-$name"
    done <"$LABDIR/hosts.txt"
}
# After a first run: every host's managed files and state; the first
# kubestrap run at this N is the reference the others must equal.
endstate() { # endstate N TOOL REP
    local ref=$OUT/n$1-endstate-kubestrap-1.tsv
    if [[ $2 == kubestrap && $3 == 1 ]]; then ref=; fi
    "$HERE/endstate.sh" "$LABDIR" "$OUT/n$1-endstate-$2-$3.tsv" ${ref:+"$ref"} ||
        die "N=$1: $2 (run $3) did not leave the hosts as kubestrap did (see above; fingerprints in $OUT/n$1-endstate-*.tsv)"
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
    if (($1 <= 200)); then net=$NET24; else net=$NET16; fi
    log "N=$1: booting $1 sshd-only lab hosts on $BRIDGE ($net)"
    LAB_SSHD_ONLY=1 LAB_BRIDGE=$BRIDGE LAB_NET=$net "$LAB" up "$LABDIR" "$1" >"$OUT/lab-up-$1.log" 2>&1 ||
        { tail -n 20 "$OUT/lab-up-$1.log" >&2; die "lab up $1 failed"; }
    ansible_inventory
    pyinfra_inventory
}
# One run of each tool: run_TOOL N LABEL PHASE REP, checked as it must end.
want() { [[ $1 == first ]] && echo changed || echo unchanged; }
run_kubestrap() {
    timed "$2" "$KS" run "$HERE/prepare-hosts.yaml" -i "$LABDIR/inventory.yaml" \
        --known-hosts "$LABDIR/known_hosts" --forks "$1" --report "$OUT/$2.json"
    check_recap "$OUT/$2.log" "$1" "$(want "$3")"
}
run_pyinfra() {
    # From its directory: the deploy imports bench_facts.py.
    timed "$2" env -C "$HERE/pyinfra" "$VENV/bin/pyinfra" -y --parallel "$1" \
        "$LABDIR/pyinfra_inventory.py" deploy.py
    check_pyinfra "$OUT/$2.log" "$1" "$(want "$3")"
}
run_ansible() {
    local cp=/tmp/ksb-cp-$$-$4-$3
    mkdir -p "$cp"
    ANSIBLE_CONFIG=$HERE/ansible.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=$cp \
        ANSIBLE_LOCAL_TEMP=$OUT/ansible-tmp ANSIBLE_NOCOLOR=1 \
        timed "$2" "$VENV/bin/ansible-playbook" -i "$LABDIR/ansible-hosts.ini" \
        --forks "$1" "$HERE/prepare-hosts.yaml"
    close_masters "$cp"
    check_recap "$OUT/$2.log" "$1" "$(want "$3")"
}
# measure N TOOL: BENCH_REPS times on fresh hosts (the lab is fresh for
# kubestrap's first), the first run, its end state, the no-op re-run.
measure() {
    local r phase label
    for ((r = 1; r <= REPS; r++)); do
        [[ $2 == kubestrap && $r == 1 ]] || fresh_hosts
        for phase in first noop; do
            label=n$1-$2-$phase-$r
            "run_$2" "$1" "$label" "$phase" "$r"
            record "$1" "$2" "$phase" "$r" "$label"
            [[ $phase == noop ]] || endstate "$1" "$2" "$r"
        done
    done
}
# Per N: the floor, then each tool.
for n in "${Ns[@]}"; do
    lab_up "$n"
    for ((r = 1; r <= REPS; r++)); do
        timed "n$n-floor-$r" bash -c floor_run
        record "$n" floor connect "$r" "n$n-floor-$r"
    done
    measure "$n" kubestrap
    if ((n <= PYINFRA_MAX_N)); then
        measure "$n" pyinfra
    else
        log "N=$n: pyinfra skipped (BENCH_PYINFRA_MAX_N=$PYINFRA_MAX_N)"
    fi
    if ((n <= ANSIBLE_MAX_N)); then
        measure "$n" ansible
    else
        log "N=$n: Ansible skipped (BENCH_ANSIBLE_MAX_N=$ANSIBLE_MAX_N)"
    fi
done
"$LAB" down "$LABDIR" >"$OUT/lab-down.log" 2>&1 || log "lab down failed (see $OUT/lab-down.log)"

# ------------------------------------------------------------ apply no-op
# The apply rows' systemd lab: down on any exit once booted, and its state
# directories (they hold the cluster CA's key) removed with it.
apply_lab_down() {
    "$LAB" down "$APPLY_LAB" >>"$OUT/apply-lab-down.log" 2>&1 ||
        log "apply lab down failed (see $OUT/apply-lab-down.log)"
    rm -rf "$APPLY_LAB"/state-n*
}
# A no-op re-run's report: every host in it, none changed, failed or
# unreachable; prints the most SSH commands one host ran (ssh_execs).
apply_noop_report() { # apply_noop_report JSON N
    /usr/bin/python3 - "$1" "$2" <<'EOF' || die "$1: not every host came through unchanged"
import json, sys
stats = json.load(open(sys.argv[1], encoding="utf-8"))["stats"]
bad = sorted(h for h, s in stats.items() if s["changed"] or s["failed"] or s["unreachable"])
if len(stats) != int(sys.argv[2]) or bad:
    sys.exit(f"report: {len(stats)} of {sys.argv[2]} hosts; changed, failed or unreachable: {' '.join(bad) or '-'}")
print(max(s["ssh_execs"] for s in stats.values()))
EOF
}
run_apply() { # run_apply N LABEL: one apply on the lab's cluster, must exit 0
    timed "$2" "$KS" apply -i "$APPLY_LAB/inventory.yaml" --known-hosts "$APPLY_LAB/known_hosts" \
        --state-dir "$APPLY_LAB/state-n$1" --report "$OUT/$2.json"
}
if [[ $APPLY == 1 ]]; then
    trap 'close_all_masters; apply_lab_down' EXIT
    LABDIR=$APPLY_LAB # the hosts floor_run connects to
    for n in "${APPLY_Ns[@]}"; do
        log "N=$n: booting $n systemd lab hosts on $APPLY_BRIDGE ($APPLY_NET) for apply"
        LAB_BRIDGE=$APPLY_BRIDGE LAB_NET=$APPLY_NET "$LAB" up "$APPLY_LAB" "$n" >"$OUT/apply-lab-up-$n.log" 2>&1 ||
            { tail -n 20 "$OUT/apply-lab-up-$n.log" >&2; die "apply lab up $n failed"; }
        log "N=$n: apply to converge (not timed)"
        run_apply "$n" "apply-n$n-converge"
        for ((r = 1; r <= REPS; r++)); do
            timed "apply-n$n-floor-$r" bash -c floor_run
            record "$n" apply-floor connect "$r" "apply-n$n-floor-$r"
            run_apply "$n" "apply-n$n-noop-$r"
            record "$n" apply noop "$r" "apply-n$n-noop-$r"
            execs=$(apply_noop_report "$OUT/apply-n$n-noop-$r.json" "$n")
            printf '%s\t%s\n' "$n" "$execs" >>"$OUT/apply-ssh.tsv"
        done
    done
    apply_lab_down
    trap close_all_masters EXIT
fi

# ------------------------------------------------------------ the table
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.1f", a / b }'; }
# verdict TEXT OK(0|1|-) FIGURES: one row of the targets table.
verdict() {
    case $2 in
        1) echo "| $1 | **met**: $3 |" ;;
        0) echo "| $1 | **not met**: $3 |" ;;
        *) echo "| $1 | not measured in this run |" ;;
    esac
}
# cmp A OP B: 1 when "A OP B" holds, - when a figure is missing.
cmp() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
    if (a == "-" || b == "-") { print "-"; exit }
    print (op == "<=") ? (a + 0 <= b + 0) : (a + 0 >= b + 0) }'; }
both() { if [[ $1 == - || $2 == - ]]; then echo -; else echo $(($1 && $2)); fi; }
# table_row N TOOL PHASE LABEL FLOOR-WALL [EXTRA-CELL]: the medians of one
# run, nothing when it was not measured.
table_row() {
    local w
    w=$(median "$1" "$2" "$3" wall)
    [[ $w == - ]] && return 0
    echo "| $1 | $4 | $w | $(median "$1" "$2" "$3" cpu) | $(median "$1" "$2" "$3" rss) | $(ratio "$w" "$5")x |${6:+ $6 |}"
}
{
    echo "| N | run | wall s | CPU s (user+sys) | peak RSS MB | wall / floor |"
    echo "|---:|---|---:|---:|---:|---:|"
    for n in "${Ns[@]}"; do
        fl=$(median "$n" floor connect wall)
        for run in "floor connect" "kubestrap first" "kubestrap noop" "pyinfra first" "pyinfra noop" "ansible first" "ansible noop"; do
            read -r tool phase <<<"$run"
            label=$tool; [[ $tool == floor ]] && label="floor (ssh true)" || label="$tool $phase"
            table_row "$n" "$tool" "$phase" "$label" "$fl"
        done
    done
    if [[ $APPLY == 1 ]]; then
        echo
        echo "apply no-op re-run on a converged cluster (N systemd lab hosts: 1 control plane, N-1 workers):"
        echo
        echo "| N | run | wall s | CPU s (user+sys) | peak RSS MB | wall / floor | SSH commands per host (max) |"
        echo "|---:|---|---:|---:|---:|---:|---:|"
        for n in "${APPLY_Ns[@]}"; do
            fl=$(median "$n" apply-floor connect wall)
            table_row "$n" apply-floor connect "floor (ssh true)" "$fl" 1
            table_row "$n" apply noop "kubestrap apply noop" "$fl" \
                "$(awk -F'\t' -v n="$n" '$1 == n && $2 > m { m = $2 } END { print m + 0 }' "$OUT/apply-ssh.tsv")"
        done
    fi
    for tool in pyinfra ansible; do
        echo
        echo "$tool / kubestrap (median wall):"
        for n in "${Ns[@]}"; do
            for phase in first noop; do
                a=$(median "$n" "$tool" "$phase" wall); k=$(median "$n" kubestrap "$phase" wall)
                [[ $a == - || $k == - ]] && continue
                echo "- N=$n $phase run: $(ratio "$a" "$k")x"
            done
        done
    done
    echo
    echo "Where kubestrap's time goes (median wall seconds per phase, from the timings section of --report):"
    echo
    /usr/bin/python3 "$HERE/timings.py" "$OUT" "${Ns[@]}"
    echo
    echo "Targets (issue 20):"
    echo
    echo "| target | status |"
    echo "|---|---|"
    fl=$(median 150 floor connect wall)
    k=$(median 150 kubestrap noop wall); p=$(median 150 pyinfra noop wall)
    verdict "no-op re-run at N=150 ≥ 5x faster than pyinfra and ≤ 0.5x the floor" \
        "$(both "$(cmp "$(ratio "$p" "$k")" ">=" 5)" "$(cmp "$(ratio "$k" "$fl")" "<=" 0.5)")" \
        "kubestrap $k s, pyinfra $p s ($(ratio "$p" "$k")x), floor $fl s ($(ratio "$k" "$fl")x)"
    k=$(median 150 kubestrap first wall); p=$(median 150 pyinfra first wall)
    verdict "first run at N=150 ≤ 1.2x the floor and ≥ 3x faster than pyinfra" \
        "$(both "$(cmp "$(ratio "$k" "$fl")" "<=" 1.2)" "$(cmp "$(ratio "$p" "$k")" ">=" 3)")" \
        "kubestrap $k s, floor $fl s ($(ratio "$k" "$fl")x), pyinfra $p s ($(ratio "$p" "$k")x)"
    big=$(median 1000 kubestrap noop wall)
    verdict "N=1000: every host in the recap (none dropped)" "$([[ $big == - ]] && echo - || echo 1)" \
        "every kubestrap run ended with all 1000 hosts in the recap, 0 unreachable, 0 failed; the bench stops otherwise"
    rss=$(awk -F'\t' '$1 == 1000 && $2 == "kubestrap" { m = ($8 > m) ? $8 : m } END { if (m) printf "%.0f", m / 1024; else print "-" }' "$DATA")
    verdict "N=1000: peak RSS of the controller ≤ 200 MB" "$(cmp "$rss" "<=" 200)" "$rss MB, the largest of its runs"
    cpu=$(median 1000 kubestrap noop cpu)
    ms=$(awk -v c="$cpu" -v n=1000 'BEGIN { if (c == "-") print "-"; else printf "%.2f", c * 1000 / n }')
    verdict "N=1000: controller CPU ≤ 5 ms per host on the no-op" "$(cmp "$ms" "<=" 5)" "$ms ms per host ($cpu s user+sys)"
} >"$OUT/results.md"
{
    echo
    echo "kubestrap $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo '+local changes') ($KS), $(ssh -V 2>&1), $("$VENV/bin/ansible" --version 2>/dev/null | head -n1 || true), pyinfra $("$VENV/bin/pyinfra" --version 2>/dev/null | awk '{ print $2 }'), $(nproc) cores, $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "command: bench/run.sh ${Ns[*]} (BENCH_REPS=$REPS BENCH_PYINFRA_MAX_N=$PYINFRA_MAX_N BENCH_ANSIBLE_MAX_N=$ANSIBLE_MAX_N BENCH_APPLY=$APPLY)"
    echo "end state: every first run left the same files, modes, owners and runtime state as kubestrap's first (bench/endstate.sh)"
} >>"$OUT/results.md"
cat "$OUT/results.md"
