#!/usr/bin/env bash
# vm.sh — real Debian 12 virtual machines (QEMU) for the VM test tier; the
# recipe and its measured facts are in docs/vm-tier.md. Needs root.
#
#   vm.sh image                  build the cached VM disk image (once)
#   vm.sh up VMDIR N             boot vm1..vmN (tears down an old VMDIR first)
#   vm.sh down VMDIR             tear everything down by PID (idempotent)
#   vm.sh sh VMDIR NAME -- CMD   run CMD as root on the VM over SSH (exit status passed on)
#   vm.sh reboot VMDIR NAME...   reboot VMs from inside, wait until each is back (new boot id)
#   vm.sh status VMDIR           which VMs are running
#
# Every VM starts as a fresh campus server does: swap on (a swap partition in
# /etc/fstab), its address from DHCP (ifupdown + dhclient), a unique
# machine-id and SMBIOS product_uuid, its own host keys made at first boot,
# a unique hostname (from the SMBIOS serial, written once at first boot).
#
# After `up`, VMDIR holds what tests/lab/lab.sh writes for a lab, so the
# integration tests' helpers read it the same way: id_ed25519 (operator key,
# for root and deploy), known_hosts, inventory.yaml (kubestrap format),
# hosts.txt ("name address"), repo.env (the lab's apt repositories, served on
# the bridge address), plus vms/NAME/{console.log,disk.qcow2,qemu.pid}.
#
# Environment: VM_BRIDGE (ksvm0), VM_NET (10.97.0: first three octets of the
# /24; the bridge is .1, vm i is .(10+i), by a fixed DHCP lease), VM_MEMORY
# (2048 MB: a control plane needs 1700), VM_CPUS (2), VM_ACCEL (kvm or tcg;
# default: kvm when /dev/kvm works and is not PVM, else tcg),
# VM_BOOT_TIMEOUT (900 s for all VMs of one `up` or `reboot` to answer SSH),
# VM_REPO_PORT (8080), LAB_MIRROR (Debian mirror for `image`, as lab.sh).
set -euo pipefail

RECIPE_VERSION=3   # bump when the image recipe below changes
SUITE=bookworm
# The lab root file system's packages (tests/lab/lab.sh) and what a real
# machine adds: a kernel, udev, a DHCP client. The lab's apt repository
# is computed against the lab's package set, so the image holds all of it.
LAB_PACKAGES=systemd,systemd-sysv,dbus,openssh-server,iproute2,sudo,kmod,procps,curl,ca-certificates,gnupg,ifupdown,netbase,openssl,iptables,python3
PACKAGES=$LAB_PACKAGES,udev,linux-image-amd64,initramfs-tools,isc-dhcp-client,e2fsprogs,util-linux,less
CACHE=/var/cache/kubestrap-vm
DISK_MB=8192
SWAP_MB=512
BASE_KEY=$(printf '%s\n' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
BASE=$CACHE/base-$BASE_KEY
IMAGE_KEY=$(printf '%s\n' "v$RECIPE_VERSION" "$SUITE" "$PACKAGES" "$DISK_MB" "$SWAP_MB" | sha256sum | cut -c1-12)
IMAGE=$CACHE/debian12-$IMAGE_KEY.qcow2
OPERATOR_KEY=$CACHE/operator/id_ed25519
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SH=$HERE/../lab/lab.sh
BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-900}
REPO_PORT=${VM_REPO_PORT:-8080}
SSH_OPTS=(-o BatchMode=yes -o ConnectTimeout=20 -o ServerAliveInterval=10 -o ServerAliveCountMax=3
    -o StrictHostKeyChecking=yes -o LogLevel=ERROR)

log() { printf 'vm: %s\n' "$*" >&2; }
die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
need_root() { [[ $(id -u) == 0 ]] || die "must run as root (bridge, taps, debootstrap)"; }
need_cmds() {
    local c missing=()
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
    ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (see .ci/run for the packages)"
}

# ---------------------------------------------------------------- processes
# A PID file holds "pid starttime" so a recycled PID is never signalled.
proc_start() { awk '{ sub(/^.*\) /, ""); if ($1 != "Z") print $20 }' "/proc/$1/stat" 2>/dev/null; }
write_pidfile() { echo "$2 $(proc_start "$2")" >"$1"; }
live_pid() {
    local pid start
    [[ -s $1 ]] || return 1
    read -r pid start <"$1" || return 1
    [[ $pid =~ ^[0-9]+$ && -n ${start:-} && $(proc_start "$pid") == "$start" ]] || return 1
    echo "$pid"
}
# stop_pid FILE: TERM, up to 10 s, then KILL; removes FILE.
stop_pid() {
    local pid i
    if pid=$(live_pid "$1"); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            live_pid "$1" >/dev/null || break
            sleep 0.1
        done
        if live_pid "$1" >/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$1"
}

# ---------------------------------------------------------------- image
debian_mirror() {
    if [[ -n ${LAB_MIRROR:-} ]]; then echo "$LAB_MIRROR"; return; fi
    local uri
    uri=$(awk -v suite="$SUITE" '
        /^[ \t]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
        tolower($1) == "uris:" { u = $2 }
        tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
        END { if (u != "" && s) print u }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
    [[ -n $uri ]] || uri=$(awk -v suite="$SUITE" '$1 == "deb" {
            i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i + 1) == suite) { print $i; exit } }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
    [[ -n $uri ]] || die "no Debian mirror for $SUITE in /etc/apt/sources.list{,.d/}; set LAB_MIRROR"
    echo "$uri"
}

cmd_image() {
    need_root
    need_cmds debootstrap parted mkfs.ext4 mkswap grub-mkimage qemu-img ssh-keygen
    [[ -f /usr/lib/grub/i386-pc/boot.img ]] || die "missing GRUB's BIOS images (apt-get install grub-pc-bin)"
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    flock -w 1800 9 || die "another image build holds $CACHE/.lock"
    if [[ -f $IMAGE ]]; then
        log "image ready: $IMAGE"
        return
    fi
    operator_key
    local t0=$SECONDS tmp root mirror
    tmp=$CACHE/.build-$IMAGE_KEY.$$
    rm -rf "$CACHE"/.build-"$IMAGE_KEY".*
    mkdir -p "$tmp" "$CACHE/debs"
    root=$tmp/root
    if [[ ! -x $BASE/usr/bin/apt-get ]]; then
        mirror=$(debian_mirror)
        log "debootstrap $SUITE from $mirror (a few minutes when cold)"
        rm -rf "$BASE.tmp"
        # --cache-dir keeps the .debs: a new base downloads only what changed.
        debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PACKAGES" \
            "$SUITE" "$BASE.tmp" "$mirror" >"$CACHE/debootstrap-$BASE_KEY.log" 2>&1 ||
            die "debootstrap failed; see $CACHE/debootstrap-$BASE_KEY.log"
        chroot "$BASE.tmp" apt-get clean
        mv -T "$BASE.tmp" "$BASE"
        log "debootstrap done ($((SECONDS - t0)) s)"
    fi
    # The image recipe works on a copy: the debootstrapped base is kept.
    cp -a "$BASE" "$root"
    local root_uuid swap_uuid
    root_uuid=$(cat /proc/sys/kernel/random/uuid)
    swap_uuid=$(cat /proc/sys/kernel/random/uuid)
    prepare_root "$root" "$root_uuid" "$swap_uuid"
    make_disk "$tmp" "$root" "$root_uuid" "$swap_uuid"
    mv "$tmp/disk.qcow2" "$IMAGE"
    rm -rf "$tmp"
    local old
    for old in "$CACHE"/debian12-*.qcow2 "$CACHE"/base-*; do
        [[ $old == "$IMAGE" || $old == "$BASE" ]] || rm -rf "$old"
    done
    log "image ready: $IMAGE ($((SECONDS - t0)) s)"
}

# The operator's key, made once; its public half is baked into the image.
operator_key() {
    [[ -f $OPERATOR_KEY ]] && return
    install -d -m 0700 "$(dirname "$OPERATOR_KEY")"
    ssh-keygen -q -t ed25519 -N '' -C kubestrap-vm-operator -f "$OPERATOR_KEY"
}

prepare_root() {
    local r=$1 root_uuid=$2 swap_uuid=$3 u home kernel initrd
    chroot "$r" systemctl enable ssh.service >/dev/null 2>&1
    chroot "$r" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
        getty@tty1.service >/dev/null 2>&1
    rm -f "$r"/etc/ssh/ssh_host_*
    mkdir -p "$r/etc/systemd/system/ssh.service.d"
    cat >"$r/etc/systemd/system/ssh.service.d/kubestrap-vm-hostkeys.conf" <<'EOF'
# kubestrap VM image: each VM makes its own host keys on first boot.
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF
    # Empty: systemd makes the machine-id at first boot (from the VM's
    # unique SMBIOS UUID under QEMU).
    : >"$r/etc/machine-id"
    rm -f "$r/var/lib/dbus/machine-id"
    echo debian >"$r/etc/hostname"
    cat >"$r/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	debian

::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
    # The hostname comes once from the SMBIOS serial "kubestrap-hostname:NAME"
    # (vm.sh up sets it), as an installer would have written it.
    cat >"$r/usr/local/sbin/kubestrap-vm-hostname" <<'EOF'
#!/bin/sh
# kubestrap VM image: name this VM once, from its SMBIOS serial.
set -e
[ "$(cat /etc/hostname)" = debian ] || exit 0
serial=$(cat /sys/class/dmi/id/product_serial 2>/dev/null || true)
name=${serial#kubestrap-hostname:}
[ "$name" != "$serial" ] && [ -n "$name" ] || exit 0
echo "$name" >/etc/hostname
sed -i "s/^127\.0\.1\.1\t.*/127.0.1.1\t$name/" /etc/hosts
hostname "$name"
EOF
    chmod 0755 "$r/usr/local/sbin/kubestrap-vm-hostname"
    cat >"$r/etc/systemd/system/kubestrap-vm-hostname.service" <<'EOF'
[Unit]
Description=Name this VM from its SMBIOS serial (kubestrap VM image)
DefaultDependencies=no
After=local-fs.target
Before=network-pre.target systemd-hostnamed.service
Wants=network-pre.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/kubestrap-vm-hostname

[Install]
WantedBy=sysinit.target
EOF
    chroot "$r" systemctl enable kubestrap-vm-hostname.service >/dev/null 2>&1
    # An emulated VM on a busy machine can take longer than systemd's 90 s
    # for udev to announce the swap partition; without the longer timeout
    # the first boot would come up without swap.
    cat >"$r/etc/fstab" <<EOF
# /etc/fstab: as the Debian installer writes it for a root and a swap partition.
UUID=$root_uuid	/	ext4	errors=remount-ro	0	1
UUID=$swap_uuid	none	swap	sw,x-systemd.device-timeout=10min	0	0
EOF
    cat >"$r/etc/network/interfaces" <<'EOF'
# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface (auto: networking.service raises it at
# boot; udev's allow-hotplug path left it down on this image)
auto eth0
iface eth0 inet dhcp
EOF
    # The console log shows the network each boot came up with.
    cat >"$r/etc/systemd/system/kubestrap-vm-netlog.service" <<'EOF'
[Unit]
Description=Show the network on the console (kubestrap VM image)
After=network.target ssh.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'ip -br link; ip -br -4 addr; ip route'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
    chroot "$r" systemctl enable kubestrap-vm-netlog.service >/dev/null 2>&1
    chroot "$r" useradd --create-home --shell /bin/bash deploy
    chroot "$r" usermod --password '*' deploy
    echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' >"$r/etc/sudoers.d/deploy"
    chmod 0440 "$r/etc/sudoers.d/deploy"
    for u in root deploy; do
        home=$(awk -F: -v u="$u" '$1 == u { print $6 }' "$r/etc/passwd")
        install -d -m 0700 "$r$home/.ssh"
        install -m 0600 "$OPERATOR_KEY.pub" "$r$home/.ssh/authorized_keys"
        chroot "$r" chown -R "$u:" "$home/.ssh"
    done
    kernel=$(cd "$r/boot" && ls vmlinuz-* | sort -V | tail -n1)
    initrd=$(cd "$r/boot" && ls initrd.img-* | sort -V | tail -n1)
    [[ -n $kernel && -n $initrd ]] || die "no kernel or initrd in $r/boot"
    mkdir -p "$r/boot/grub"
    cp -r /usr/lib/grub/i386-pc "$r/boot/grub/"
    # net.ifnames=0: the NIC is eth0, as in the Vagrant boxes' convention.
    cat >"$r/boot/grub/grub.cfg" <<EOF
set timeout=1
menuentry 'Debian GNU/Linux (kubestrap VM image)' {
    linux /boot/$kernel root=UUID=$root_uuid ro console=tty0 console=ttyS0,115200 net.ifnames=0
    initrd /boot/$initrd
}
EOF
    chroot "$r" apt-get clean
    echo "kubestrap-vm image $IMAGE_KEY recipe v$RECIPE_VERSION" >"$r/etc/kubestrap-vm"
}

# A raw disk: MBR, ext4 root from ROOTDIR, swap partition, GRUB's BIOS boot
# code; then qcow2. No loop devices (docs/vm-tier.md says why).
make_disk() {
    local tmp=$1 r=$2 root_uuid=$3 swap_uuid=$4 raw=$1/disk.raw parts p1_start p1_end p2_start p2_end core
    rm -f "$raw"
    truncate -s "${DISK_MB}M" "$raw"
    # parted asks udevadm to settle, which a build machine need not have.
    parted -s "$raw" mklabel msdos \
        mkpart primary ext4 1MiB "$((DISK_MB - SWAP_MB))MiB" \
        mkpart primary linux-swap "$((DISK_MB - SWAP_MB))MiB" 100% set 1 boot on 2>/dev/null || die "parted failed on $raw"
    parts=$(parted -s -m "$raw" unit B print 2>/dev/null)
    p1_start=$(awk -F: '$1 == 1 { sub(/B$/, "", $2); print $2 }' <<<"$parts")
    p1_end=$(awk -F: '$1 == 1 { sub(/B$/, "", $3); print $3 }' <<<"$parts")
    p2_start=$(awk -F: '$1 == 2 { sub(/B$/, "", $2); print $2 }' <<<"$parts")
    p2_end=$(awk -F: '$1 == 2 { sub(/B$/, "", $3); print $3 }' <<<"$parts")
    mkfs.ext4 -q -F -L root -U "$root_uuid" -E "offset=$p1_start" -d "$r" "$raw" \
        "$(((p1_end + 1 - p1_start) / 1024))k" || die "mkfs.ext4 -d failed"
    truncate -s $((p2_end + 1 - p2_start)) "$tmp/swap.img"
    mkswap -q -U "$swap_uuid" "$tmp/swap.img" >/dev/null
    dd if="$tmp/swap.img" of="$raw" bs=1M seek=$((p2_start / 1048576)) conv=notrunc,sparse status=none
    core=$tmp/core.img
    grub-mkimage -O i386-pc -o "$core" -p '(hd0,msdos1)/boot/grub' \
        biosdisk part_msdos ext2 normal linux configfile search echo test boot gzio
    (($(stat -c %s "$core") < p1_start - 512)) || die "GRUB core.img does not fit before the first partition"
    # boot.img's code only (440 bytes): the partition table stays.
    dd if=/usr/lib/grub/i386-pc/boot.img of="$raw" bs=440 count=1 conv=notrunc status=none
    dd if="$core" of="$raw" bs=512 seek=1 conv=notrunc status=none
    qemu-img convert -O qcow2 "$raw" "$tmp/disk.qcow2"
    rm -f "$raw" "$tmp/swap.img"
}

# ---------------------------------------------------------------- VM set state
load_vms() {
    VMDIR=$(realpath -m "$1")
    if [[ ${2:-} != fresh && -f $VMDIR/vm.env ]]; then
        # shellcheck disable=SC1091
        source "$VMDIR/vm.env"
    else
        BRIDGE=${VM_BRIDGE:-ksvm0}
        NET=${VM_NET:-10.97.0}
    fi
    [[ $NET =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "VM_NET must be the first three octets of a /24 (got $NET)"
    ((${#BRIDGE} <= 9)) || die "VM_BRIDGE must be at most 9 characters (got $BRIDGE)"
    GATEWAY=$NET.1
}
save_vms() { printf 'BRIDGE=%q\nNET=%q\n' "$BRIDGE" "$NET" >"$VMDIR/vm.env"; }
vmdir_of() { echo "$VMDIR/vms/$1"; }
index_of() { cat "$(vmdir_of "$1")/index"; }
addr_of() { echo "$NET.$((10 + $(index_of "$1")))"; }
tap_of() { echo "${BRIDGE}t$(index_of "$1")"; }
mac_of() { printf '52:54:00:6b:%02x:%02x' $(($(index_of "$1") / 256)) $(($(index_of "$1") % 256)); }
vm_names() {
    local d
    for d in "$VMDIR"/vms/*/index; do
        [[ -f $d ]] && echo "$(cat "$d") $(basename "$(dirname "$d")")"
    done | sort -n | cut -d' ' -f2
}
known_vm() { [[ -f $(vmdir_of "$1")/index ]] || die "no VM $1 in $VMDIR"; }

accel() {
    if [[ -n ${VM_ACCEL:-} ]]; then echo "$VM_ACCEL"; return; fi
    # PVM (nested KVM for PVM guest kernels only) cannot run Debian's kernel.
    if [[ -w /dev/kvm && ! -d /sys/module/kvm_pvm ]]; then echo kvm; else echo tcg; fi
}

# ---------------------------------------------------------------- up / down
cmd_up() {
    need_root
    local n=${2:-}
    [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 50)) || usage
    need_cmds qemu-system-x86_64 qemu-img dnsmasq ssh ssh-keyscan ip python3
    load_vms "$1"
    [[ -d $VMDIR ]] && (cmd_down "$VMDIR")
    load_vms "$1" fresh
    [[ -f $IMAGE ]] || cmd_image
    local repo
    repo=$(lab_repo)
    mkdir -p "$VMDIR/vms"
    save_vms
    install -m 0600 "$OPERATOR_KEY" "$VMDIR/id_ed25519"
    install -m 0644 "$OPERATOR_KEY.pub" "$VMDIR/id_ed25519.pub"
    ensure_bridge
    local i name
    for ((i = 1; i <= n; i++)); do
        name=vm$i
        mkdir -p "$(vmdir_of "$name")"
        echo "$i" >"$(vmdir_of "$name")/index"
    done
    start_dnsmasq
    start_repo_server "$repo"
    local t0=$SECONDS mode
    mode=$(accel)
    log "booting $n VMs ($mode) on $BRIDGE ($GATEWAY/24)"
    for name in $(vm_names); do boot_vm "$name" "$mode"; done
    wait_ssh $(vm_names) || die "VMs did not answer SSH within ${BOOT_TIMEOUT}s (consoles: $VMDIR/vms/*/console.log)"
    write_files
    log "up: $n VMs in $((SECONDS - t0)) s"
}

ensure_bridge() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge nf_call_iptables 0 nf_call_ip6tables 0 \
            nf_call_arptables 0 2>/dev/null || ip link add "$BRIDGE" type bridge
        ip addr add "$GATEWAY/24" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
}

# DHCP on the bridge only: a fixed lease per MAC, the bridge as router,
# no DNS (port 0), nothing else served.
start_dnsmasq() {
    local args=() name pid i
    for name in $(vm_names); do
        args+=("--dhcp-host=$(mac_of "$name"),$(addr_of "$name"),$name")
    done
    stop_pid "$VMDIR/dnsmasq.pid"
    : >"$VMDIR/dnsmasq.leases"
    setsid dnsmasq --keep-in-foreground --port=0 --bind-interfaces --interface="$BRIDGE" \
        --except-interface=lo --listen-address="$GATEWAY" --dhcp-range="$NET.10,$NET.250,255.255.255.0,12h" \
        --dhcp-leasefile="$VMDIR/dnsmasq.leases" --dhcp-authoritative --log-dhcp --log-facility=- \
        --conf-file=/dev/null --pid-file= --user=root "${args[@]}" \
        </dev/null >"$VMDIR/dnsmasq.log" 2>&1 &
    pid=$!
    write_pidfile "$VMDIR/dnsmasq.pid" "$pid"
    for ((i = 0; i < 20; i++)); do
        sleep 0.1
        live_pid "$VMDIR/dnsmasq.pid" >/dev/null || die "dnsmasq exited: $(tail -n3 "$VMDIR/dnsmasq.log")"
    done
}

# The lab's apt repositories (tests/lab/lab.sh repo): the same files and
# repo.env, served on this bridge's address.
lab_repo() {
    local out dir
    out=$("$LAB_SH" repo 2>&1) || die "lab.sh repo failed: $out"
    dir=$(sed -n 's/^lab: repo ready: \([^ ]*\).*/\1/p' <<<"$out" | tail -n1)
    [[ -f $dir/repo-facts.env ]] || die "lab.sh repo named no repository: $out"
    echo "$dir"
}
start_repo_server() {
    local src=$1 pid i
    stop_pid "$VMDIR/repo-http.pid"
    rm -rf "$VMDIR/repo"
    cp -al "$src" "$VMDIR/repo" 2>/dev/null || cp -a "$src" "$VMDIR/repo"
    setsid python3 -m http.server --bind "$GATEWAY" --directory "$VMDIR/repo" "$REPO_PORT" \
        </dev/null >"$VMDIR/repo-http.log" 2>&1 &
    pid=$!
    write_pidfile "$VMDIR/repo-http.pid" "$pid"
    for ((i = 0; i < 100; i++)); do
        if timeout 1 bash -c "exec 3<>/dev/tcp/$GATEWAY/$REPO_PORT" 2>/dev/null; then
            write_repo_env
            return 0
        fi
        live_pid "$VMDIR/repo-http.pid" >/dev/null || die "repository server exited: $(tail -n3 "$VMDIR/repo-http.log")"
        sleep 0.1
    done
    die "repository server not answering on $GATEWAY:$REPO_PORT"
}
# repo.env in the format tests/lab/lab.sh writes (tests/it/lab.rs reads it).
write_repo_env() {
    local base="http://$GATEWAY:$REPO_PORT" DEBIAN_PATH DEBIAN_SUITE DEBIAN_KEY_FINGERPRINT K8S_PATH \
        K8S_KEY_FINGERPRINT K8S_VERSION K8S_PACKAGE_VERSION K8S_VERSIONS CONTAINERD_VERSION RUNC_VERSION
    # shellcheck disable=SC1091
    source "$VMDIR/repo/repo-facts.env"
    {
        echo "# The lab's apt repositories on the VM bridge, written by tests/vm/vm.sh up."
        echo "REPO_BASE_URL=$base"
        echo "DEBIAN_URL=$base/$DEBIAN_PATH"
        echo "DEBIAN_SUITE=$DEBIAN_SUITE"
        echo "DEBIAN_COMPONENTS=main"
        echo "DEBIAN_KEY_URL=$base/$DEBIAN_PATH/lab-archive.asc"
        echo "DEBIAN_KEY_FINGERPRINT=$DEBIAN_KEY_FINGERPRINT"
        echo "K8S_URL=$base/$K8S_PATH"
        echo "K8S_KEY_URL=$base/${K8S_PATH}Release.key"
        echo "K8S_KEY_FINGERPRINT=$K8S_KEY_FINGERPRINT"
        echo "K8S_VERSION=$K8S_VERSION"
        echo "K8S_PACKAGE_VERSION=$K8S_PACKAGE_VERSION"
        echo "K8S_VERSIONS=\"$K8S_VERSIONS\""
        echo "CONTAINERD_VERSION=$CONTAINERD_VERSION"
        echo "RUNC_VERSION=$RUNC_VERSION"
    } >"$VMDIR/repo.env.tmp"
    mv "$VMDIR/repo.env.tmp" "$VMDIR/repo.env"
}

boot_vm() {
    local name=$1 mode=$2 d tap accel_args pid
    d=$(vmdir_of "$name"); tap=$(tap_of "$name")
    ip link del "$tap" 2>/dev/null || true
    ip tuntap add dev "$tap" mode tap
    ip link set "$tap" master "$BRIDGE" up
    ip neigh flush dev "$BRIDGE" to "$(addr_of "$name")" 2>/dev/null || true
    rm -f "$d/disk.qcow2" "$d/qemu.pid" "$d/console.log"
    qemu-img create -q -f qcow2 -b "$IMAGE" -F qcow2 "$d/disk.qcow2"
    [[ -f $d/uuid ]] || cat /proc/sys/kernel/random/uuid >"$d/uuid"
    if [[ $mode == kvm ]]; then
        accel_args=(-accel kvm -cpu host)
    else
        accel_args=(-accel tcg,thread=multi,tb-size=256 -cpu max)
    fi
    qemu-system-x86_64 -name "$name" -machine pc "${accel_args[@]}" \
        -smp "${VM_CPUS:-2}" -m "${VM_MEMORY:-2048}" \
        -drive "file=$d/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" \
        -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=$(mac_of "$name")" \
        -device virtio-rng-pci \
        -smbios "type=1,uuid=$(cat "$d/uuid"),serial=kubestrap-hostname:$name" \
        -serial "file:$d/console.log" -display none -monitor none \
        -daemonize -pidfile "$d/qemu.pidfile" </dev/null >"$d/qemu.log" 2>&1 ||
        die "$name: qemu failed: $(tail -n3 "$d/qemu.log")"
    pid=$(cat "$d/qemu.pidfile")
    write_pidfile "$d/qemu.pid" "$pid"
}

# ssh_ready NAME: sshd answers at the VM's address with a host key.
ssh_ready() { ssh-keyscan -T 10 -t ed25519 "$(addr_of "$1")" 2>/dev/null | grep -q ssh-ed25519; }
wait_ssh() {
    local deadline=$((SECONDS + BOOT_TIMEOUT)) name pending=("$@") left
    while ((${#pending[@]})); do
        left=()
        for name in "${pending[@]}"; do
            live_pid "$(vmdir_of "$name")/qemu.pid" >/dev/null || die "$name: qemu exited (see $(vmdir_of "$name")/qemu.log)"
            ssh_ready "$name" || left+=("$name")
        done
        pending=("${left[@]}")
        ((${#pending[@]})) || break
        ((SECONDS < deadline)) || { log "not answering: ${pending[*]}"; return 1; }
        sleep 5
    done
}

# known_hosts from each VM's sshd over the test's own bridge (nothing else
# is on it), then a real login checked against it.
write_files() {
    local name addr
    : >"$VMDIR/known_hosts.tmp"; : >"$VMDIR/hosts.txt.tmp"
    for name in $(vm_names); do
        addr=$(addr_of "$name")
        ssh-keyscan -T 20 "$addr" 2>/dev/null | sort >>"$VMDIR/known_hosts.tmp"
        echo "$name $addr" >>"$VMDIR/hosts.txt.tmp"
    done
    mv "$VMDIR/known_hosts.tmp" "$VMDIR/known_hosts"
    for name in $(vm_names); do
        vm_ssh "$name" true || die "$name: ssh login with the operator key failed"
    done
    {
        echo "# kubestrap VM tier, written by tests/vm/vm.sh up"
        echo "cluster:"
        echo "  name: vm"
        echo "defaults:"
        echo "  user: root"
        echo "  identity_file: $VMDIR/id_ed25519"
        echo "hosts:"
        for name in $(vm_names); do
            echo "  $name:"
            echo "    address: $(addr_of "$name")"
        done
    } >"$VMDIR/inventory.yaml"
    mv "$VMDIR/hosts.txt.tmp" "$VMDIR/hosts.txt"
}

vm_ssh() {
    local name=$1
    shift
    ssh "${SSH_OPTS[@]}" -i "$VMDIR/id_ed25519" -o UserKnownHostsFile="$VMDIR/known_hosts" \
        "root@$(addr_of "$name")" "$@"
}

cmd_down() {
    need_root
    load_vms "$1"
    [[ -d $VMDIR ]] || return 0
    local name
    for name in $(vm_names); do
        stop_pid "$(vmdir_of "$name")/qemu.pid"
        ip link del "$(tap_of "$name")" 2>/dev/null || true
        rm -f "$(vmdir_of "$name")/disk.qcow2"
    done
    stop_pid "$VMDIR/dnsmasq.pid"
    stop_pid "$VMDIR/repo-http.pid"
    if ip link show "$BRIDGE" >/dev/null 2>&1 && [[ -z $(ls -A "/sys/class/net/$BRIDGE/brif" 2>/dev/null) ]]; then
        ip link del "$BRIDGE" 2>/dev/null || true
    fi
    rm -rf "$VMDIR/repo" "$VMDIR/hosts.txt"
    log "down: $VMDIR"
}

cmd_sh() {
    load_vms "$1"
    known_vm "$2"
    [[ ${3:-} == -- ]] || usage
    local name=$2
    shift 3
    vm_ssh "$name" "$(printf '%q ' "$@")"
}

# Reboot from inside (as an operator would), then wait until sshd answers
# with a new boot id. The address may have changed to a pinned one: the
# VM keeps its address, so the same one is polled.
cmd_reboot() {
    load_vms "$1"
    shift
    local name ids=() i=0 deadline=$((SECONDS + BOOT_TIMEOUT)) pending left
    for name in "$@"; do
        known_vm "$name"
        ids+=("$(vm_ssh "$name" cat /proc/sys/kernel/random/boot_id)") || die "$name: no boot id"
    done
    for name in "$@"; do
        vm_ssh "$name" 'systemd-run --on-active=1 --timer-property=AccuracySec=100ms systemctl reboot' >/dev/null ||
            die "$name: could not schedule the reboot"
    done
    pending=("$@")
    declare -A old
    for name in "$@"; do old[$name]=${ids[i++]}; done
    while ((${#pending[@]})); do
        sleep 5
        left=()
        for name in "${pending[@]}"; do
            local now
            now=$(vm_ssh "$name" cat /proc/sys/kernel/random/boot_id 2>/dev/null) || now=
            [[ -n $now && $now != "${old[$name]}" ]] || left+=("$name")
        done
        pending=("${left[@]}")
        ((${#pending[@]})) || break
        ((SECONDS < deadline)) || die "not back within ${BOOT_TIMEOUT}s after reboot: ${pending[*]}"
    done
}

cmd_status() {
    load_vms "$1"
    local name
    for name in $(vm_names); do
        if live_pid "$(vmdir_of "$name")/qemu.pid" >/dev/null; then
            echo "$name $(addr_of "$name") running"
        else
            echo "$name $(addr_of "$name") stopped"
        fi
    done
}

case ${1:-} in
image) cmd_image ;;
up) (($# == 3)) || usage; cmd_up "$2" "$3" ;;
down) (($# == 2)) || usage; cmd_down "$2" ;;
sh) (($# >= 5)) || usage; shift; cmd_sh "$@" ;;
reboot) (($# >= 3)) || usage; shift; cmd_reboot "$@" ;;
status) (($# == 2)) || usage; cmd_status "$2" ;;
*) usage ;;
esac
