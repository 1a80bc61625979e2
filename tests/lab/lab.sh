#!/usr/bin/env bash
# lab.sh — machine-like Debian test hosts (systemd + sshd, own IP and hostname)
# in network namespaces on one Linux box; the recipe is LAB.md. Needs root.
#
#   lab.sh rootfs                      build the cached root file system (once)
#   lab.sh up LABDIR N                 boot node1..nodeN (tears down an old lab first;
#                                      with LAB_FIRST=K only nodeK..nodeN)
#   lab.sh down LABDIR                 tear everything down (idempotent)
#   lab.sh reset LABDIR                every host back to first boot (same keys)
#   lab.sh stop LABDIR NAME            kill one host; its address stops answering
#   lab.sh start LABDIR NAME           boot it again with the same disk and host keys
#   lab.sh wipe LABDIR NAME            one host back to first boot (same name,
#                                      address and host keys; running or stopped):
#                                      a dead server's replacement
#   lab.sh sh LABDIR NAME -- CMD...    run CMD inside the host (exit status passed on)
#   lab.sh status LABDIR               which hosts are running
#   lab.sh repo                        build the cached apt repositories (once)
#
# After `up`, LABDIR holds: id_ed25519 (operator key, for root, deploy, pwuser),
# known_hosts, inventory.yaml (kubestrap format), hosts.txt ("name address").
# Users: root (key), deploy (key, passwordless sudo), pwuser (key, sudo asks
# for the password "lab-sudo-pass").
#
# Environment: LAB_BRIDGE (ksbr0), LAB_NET (10.99.0: first three octets of a
# /24; the bridge is .1, host i is .(10+i); up to 200 hosts. Or two octets,
# e.g. 10.100, for a /16: the bridge is 10.100.0.1, host i is
# 10.100.(1+(i-1)/200).(10+(i-1)%200); up to 1000 hosts), LAB_MIRROR (Debian
# mirror URL for `rootfs`; default: the one apt on this machine uses),
# LAB_BOOT_TIMEOUT (60 s, per boot batch), LAB_FIRST (1: the first host `up`
# boots; a developer running one test boots only that test's hosts, with their
# usual names and addresses).
#
# Benchmark hosts: LAB_SSHD_ONLY=1 at `up` boots each host with `sshd -D -e`
# as its PID 1 instead of systemd (same netns, overlay disk, cgroups, users
# and keys; one ed25519 host key made at first boot; no systemctl inside).
# They boot in batches of LAB_BOOT_BATCH (default 50 sshd-only hosts; all at
# once for systemd hosts), each batch waiting until its sshds answer, so
# hundreds of hosts come up without a burst. Measured on 2 cores:
# see bench/RESULTS.md.
## Repository: LAB_K8S_VERSIONS (stand-in Kubernetes versions, space-separated,
# first one is the lab's default; default $LAB_K8S_VERSION, else
# "1.31.4 1.32.0 1.32.1 1.33.0"),
# LAB_REPO_PORT (8080).
#
# The lab's own apt repositories (air-gapped campus mirror; hosts reach
# nothing but the bridge). `lab.sh repo` builds them once into
# /var/cache/kubestrap-lab/repo-<key> (key: recipe, rootfs, versions, the
# stand-in sources); `up` builds them when missing, hard-links a copy into
# LABDIR/repo and serves it with `python3 -m http.server --bind BRIDGE-IP
# 8080` (PID in LABDIR/repo-http.pid, stopped by `down`). Layout, URLs as
# seen from a host (BRIDGE-IP = LAB_NET.1):
#   http://BRIDGE-IP:8080/debian/                      Debian-style archive
#       dists/bookworm/{Release,InRelease,Release.gpg}
#       dists/bookworm/main/binary-amd64/Packages{,.gz}
#       pool/main/*.deb         real bookworm .debs the rootfs lacks:
#                               containerd, runc (+ any dependency missing)
#       lab-archive.asc         signing key (lab GPG key 1)
#     deb822: Types: deb / URIs: http://BRIDGE-IP:8080/debian / Suites: bookworm
#             Components: main / Signed-By: /path/to/lab-archive.asc
#   http://BRIDGE-IP:8080/core:/stable:/v1.31/deb/     like pkgs.k8s.io (flat)
#       Release, InRelease, Release.gpg, Release.key (lab GPG key 2),
#       Packages{,.gz}, amd64/*.deb: TEST STAND-IN kubeadm, kubelet, kubectl
#       1.31.4-1.1, cri-tools 1.31.1-1.1, kubernetes-cni 1.5.1-1.1
#       (tests/lab/standins/; one such repository per minor in LAB_K8S_VERSIONS,
#       each holding every patch of that minor, as pkgs.k8s.io does)
#   http://BRIDGE-IP:8080/core:/stable:/v1.32/deb/     kubeadm, kubelet, kubectl
#       1.32.0-1.1 and 1.32.1-1.1 (+ the same cri-tools, kubernetes-cni)
#   http://BRIDGE-IP:8080/core:/stable:/v1.33/deb/     1.33.0-1.1
#     deb [signed-by=KEYRING] http://BRIDGE-IP:8080/core:/stable:/v1.31/deb/ /
#     (moving to the next minor means pointing this line at v1.32, then
#     apt-get update; all minors share the one Release.key)
# LABDIR/repo.env (KEY=value, shell-sourceable) names URLs, key URLs and
# fingerprints and versions; tests/it/lab.rs reads it (Lab::repo()).
# The two signing keys are made once (ed25519, no passphrase) in
# /var/cache/kubestrap-lab/repo-gnupg and survive repository rebuilds.
#
#   repo, first build: 2-3 s here (apt-get download of 28.6 MB from
#   deb.debian.org, dpkg-deb, gpg; the download dominates, so allow ~30 s on
#   a slow mirror); cached: 0 s. up copies it (hard links) and starts the
#   server in ~0.2 s; inside a host, apt-get update + install containerd
#   kubeadm kubelet kubectl take ~3 s. Needs apt-get, dpkg-scanpackages
#   (dpkg-dev), gpg (gnupg), python3 on the build machine. With the four
#   default versions the build makes 14 stand-in .debs (xz): 18 s measured
#   on the 2-core machine below under load, against 7 s for one version.
#
# Measured on a 2-core Debian 12 VM (kernel 6.18, cgroup v1 hybrid, no
# systemd on the build machine), while a second 6-host lab ran beside it:
#   rootfs, first build from the mirror: 55-67 s, 293 MB in /var/cache
#   up 3 hosts: 2.8-4.9 s    up 5: 4.3-7.2 s    up 6: 5.0 s
#     (most of it is ssh-keygen -A making RSA/ECDSA/ed25519 keys on first boot)
#   down 3: 0.6-0.8 s        down 5: 1.1-1.8 s  (clean poweroff, no SIGKILL needed)
#   stop one host: 0.2 s     start it again: 0.5-0.6 s
#   memory: ~17-18 MB per host charged to its memory cgroup (incl. page cache)
#   tests/run-all.sh, everything warm (6 hosts, 13 integration tests): 22 s
set -euo pipefail

RECIPE_VERSION=2   # bump when the rootfs preparation below changes
SUITE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,openssh-server,iproute2,sudo,kmod,procps,curl,ca-certificates,gnupg,ifupdown,netbase,openssl,iptables,python3
CACHE=/var/cache/kubestrap-lab
PWUSER_PASSWORD=lab-sudo-pass
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-60}

ROOTFS_KEY=$(printf '%s\n' "v$RECIPE_VERSION" "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
ROOTFS=$CACHE/rootfs-$ROOTFS_KEY

REPO_RECIPE_VERSION=1   # bump when the repository build below changes
REPO_DEBIAN_PACKAGES="containerd runc"   # plus whatever they need that the rootfs lacks
# The first is the inventory's version; the others are what upgrades go to
# (two patches of 1.32, so patch and minor upgrades both have a target).
K8S_VERSIONS=${LAB_K8S_VERSIONS:-${LAB_K8S_VERSION:-1.31.4 1.32.0 1.32.1 1.33.0}}
REPO_PORT=${LAB_REPO_PORT:-8080}
STANDINS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/standins
REPO_KEYS=$CACHE/repo-gnupg
repo_key() {
    { printf '%s\n' "v$REPO_RECIPE_VERSION" "$ROOTFS_KEY" "$REPO_DEBIAN_PACKAGES" "$K8S_VERSIONS" \
        "${LAB_CRI_TOOLS_VERSION:-}" "${LAB_K8S_CNI_VERSION:-}"
      (cd "$STANDINS" && find . -type f ! -name '*.pyc' | LC_ALL=C sort | xargs sha256sum); } |
        sha256sum | cut -c1-12
}

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

need_root() { [[ $(id -u) == 0 ]] || die "must run as root (network namespaces, mounts, debootstrap)"; }
need_cmds() {
    local c missing=()
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
    ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (apt-get install -y debootstrap openssh-client iproute2 util-linux)"
}

# ---------------------------------------------------------------- processes
# A PID file holds "pid starttime" so a recycled PID is never signalled.
# A zombie counts as gone: its parent may be a build-machine init that reaps late.
proc_start() { awk '{ sub(/^.*\) /, ""); if ($1 != "Z") print $20 }' "/proc/$1/stat" 2>/dev/null; }
write_pidfile() { echo "$2 $(proc_start "$2")" >"$1"; }
# Prints the PID recorded in $1 if that very process still runs.
live_pid() {
    local pid start
    [[ -s $1 ]] || return 1
    read -r pid start <"$1" || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -n $start && $(proc_start "$pid") == "$start" ]] || return 1
    echo "$pid"
}
first_child() { # the child of $1 (unshare --fork has exactly one)
    local c
    c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
    c=${c%% *}
    [[ -n $c ]] && echo "$c"
}

# ---------------------------------------------------------------- rootfs
debian_mirror() {
    if [[ -n ${LAB_MIRROR:-} ]]; then echo "$LAB_MIRROR"; return; fi
    local f uri
    # deb822 files: the first URIs of a stanza whose Suites name the release
    # itself (not -security, which is a different archive layout).
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        uri=$(awk -v suite="$SUITE" '
            /^[ \t]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
            tolower($1) == "uris:" { u = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
            END { if (u != "" && s) print u }' "$f" | head -n1)
        [[ -n $uri ]] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        uri=$(awk -v suite="$SUITE" '$1 == "deb" {
                i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; exit } }' "$f")
        [[ -n $uri ]] && { echo "$uri"; return; }
    done
    die "no Debian mirror for $SUITE found in /etc/apt/sources.list{,.d/}; set LAB_MIRROR"
}

cmd_rootfs() {
    need_root
    if ! command -v debootstrap >/dev/null 2>&1; then
        # A newcomer's first run: get the one package the recipe needs.
        log "installing debootstrap with apt-get"
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } >&2 ||
            die "debootstrap is not installed and apt-get could not install it"
    fi
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    flock -w 900 9 || die "another rootfs build holds $CACHE/.lock"
    if [[ -x $ROOTFS/lib/systemd/systemd ]]; then
        log "rootfs ready: $ROOTFS"
        return
    fi
    local mirror tmp t0=$SECONDS
    mirror=$(debian_mirror)
    tmp=$CACHE/.build-$ROOTFS_KEY.$$
    rm -rf "$CACHE"/.build-"$ROOTFS_KEY".*  # leftovers of interrupted builds
    log "debootstrap $SUITE from $mirror into $tmp (about a minute)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$mirror" \
        >"$CACHE/debootstrap-$ROOTFS_KEY.log" 2>&1 ||
        die "debootstrap failed; see $CACHE/debootstrap-$ROOTFS_KEY.log"
    prepare_rootfs "$tmp"
    mv -T "$tmp" "$ROOTFS"
    # Older recipes' root file systems go, unless a running lab still uses one.
    local old
    for old in "$CACHE"/rootfs-*; do
        [[ $old == "$ROOTFS" || ! -d $old ]] && continue
        if findmnt -rn -t overlay -o OPTIONS | grep -qF "lowerdir=$old,"; then
            log "keeping $old: a running lab uses it"
        else
            rm -rf "$old"
        fi
    done
    log "rootfs ready: $ROOTFS ($((SECONDS - t0)) s)"
}

prepare_rootfs() {
    local r=$1
    chroot "$r" systemctl enable ssh.service >/dev/null 2>&1
    # Units that wait for hardware a namespace host does not have, or that
    # would touch the build machine's kernel state (systemd-binfmt flushes the
    # kernel's global binfmt_misc rules; modules-load loads modules), or
    # prompt on first boot.
    chroot "$r" systemctl mask \
        getty@tty1.service serial-getty@ttyS0.service console-getty.service \
        getty.target systemd-firstboot.service systemd-udevd.service \
        systemd-udev-trigger.service systemd-udev-settle.service \
        systemd-modules-load.service systemd-remount-fs.service \
        sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
        sys-fs-fuse-connections.mount dev-hugepages.mount \
        systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
        proc-sys-fs-binfmt_misc.mount \
        systemd-networkd-wait-online.service ifupdown-wait-online.service \
        apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
        >/dev/null 2>&1
    rm -f "$r"/etc/ssh/ssh_host_*
    mkdir -p "$r/etc/systemd/system/ssh.service.d"
    cat >"$r/etc/systemd/system/ssh.service.d/lab-hostkeys.conf" <<'EOF'
# kubestrap lab: each host makes its own host keys on first boot.
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF
    # Every host gets its own machine-id (written by `up`); an empty one here
    # would mean "first boot" to systemd.
    : >"$r/etc/machine-id"
    chroot "$r" useradd --create-home --shell /bin/bash deploy
    chroot "$r" useradd --create-home --shell /bin/bash --groups sudo pwuser
    chroot "$r" usermod --password '*' deploy   # no password, key login only
    echo "pwuser:$PWUSER_PASSWORD" | chroot "$r" chpasswd
    echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' >"$r/etc/sudoers.d/deploy"
    chmod 0440 "$r/etc/sudoers.d/deploy"
    chroot "$r" visudo -c >/dev/null || die "sudoers check failed in $r"
    chroot "$r" apt-get clean
    echo "kubestrap-lab rootfs $ROOTFS_KEY recipe v$RECIPE_VERSION" >"$r/etc/kubestrap-lab"
}

# ---------------------------------------------------------------- apt repositories
# GNUPGHOME with the two lab signing keys, made once. Prints nothing.
ensure_repo_keys() {
    local uid
    install -d -m 0700 "$REPO_KEYS"
    for uid in "kubestrap lab archive <archive@lab.kubestrap.invalid>" \
        "kubestrap lab pkgs.k8s.io stand-in <k8s@lab.kubestrap.invalid>"; do
        if ! GNUPGHOME=$REPO_KEYS gpg --batch --quiet --no-auto-check-trustdb --list-secret-keys "=$uid" >/dev/null 2>&1; then
            GNUPGHOME=$REPO_KEYS gpg --batch --quiet --passphrase '' --quick-gen-key "$uid" ed25519 sign never 2>/dev/null ||
                die "gpg could not make the lab key $uid"
        fi
    done
}
key_fpr() { # key_fpr EMAIL → fingerprint
    GNUPGHOME=$REPO_KEYS gpg --batch --quiet --no-auto-check-trustdb --with-colons --list-keys "<$1>" | awk -F: '$1 == "fpr" { print $10; exit }'
}
# sign_release DIR EMAIL: DIR/Release → InRelease, Release.gpg
sign_release() {
    local g=(env GNUPGHOME="$REPO_KEYS" gpg --batch --yes --quiet --pinentry-mode loopback --passphrase ''
        --digest-algo SHA512 --local-user "<$2>")
    "${g[@]}" --clearsign -o "$1/InRelease" "$1/Release"
    "${g[@]}" --armor --detach-sign -o "$1/Release.gpg" "$1/Release"
}
# release_hashes DIR FILE...: the checksum sections of a Release file.
release_hashes() {
    local dir=$1 f algo
    shift
    for algo in MD5Sum:md5sum SHA256:sha256sum SHA512:sha512sum; do
        echo "${algo%%:*}:"
        for f in "$@"; do
            printf ' %s %16d %s\n' "$("${algo#*:}" <"$dir/$f" | cut -d' ' -f1)" "$(stat -c %s "$dir/$f")" "$f"
        done
    done
}
# scan DIR SUBDIR: Packages{,.gz} in DIR for the .debs under DIR/SUBDIR.
scan_packages() { # scan_packages RUN-IN SUBDIR OUT-DIR
    (cd "$1" && dpkg-scanpackages --multiversion "$2" /dev/null 2>/dev/null) >"$3/Packages"
    [[ -s $3/Packages ]] || die "dpkg-scanpackages found no packages in $1/$2"
    gzip -9n <"$3/Packages" >"$3/Packages.gz"
}

# Which Debian packages must the mirror hold? Ask apt on this machine, with
# its package lists but the rootfs's dpkg status, what installing
# REPO_DEBIAN_PACKAGES into the rootfs would take. Prints "name=version" lines.
debian_closure() {
    # shellcheck disable=SC2086  # a list of package names
    apt-get -s -q -o Dir::State::status="$ROOTFS/var/lib/dpkg/status" \
        -o APT::Install-Recommends=false -o Debug::NoLocking=true \
        install $REPO_DEBIAN_PACKAGES 2>&1 |
        awk '/^Inst / { v = $3; if (v ~ /^\[/) v = $4; gsub(/[()]/, "", v); print $2 "=" v }'
}

build_debian_repo() { # build_debian_repo DIR (→ DIR/debian)
    local d=$1/debian pkgs dists
    mkdir -p "$d/pool/main"
    mapfile -t pkgs < <(debian_closure)
    ((${#pkgs[@]})) || die "apt-get cannot resolve '$REPO_DEBIAN_PACKAGES' for the rootfs (run apt-get update?): $(debian_closure | tail -n3)"
    log "debian mirror: downloading ${pkgs[*]}"
    chown _apt "$d/pool/main" 2>/dev/null || true # apt-get download runs as _apt
    (cd "$d/pool/main" && apt-get download -q "${pkgs[@]}" >"$1/download.log" 2>&1) ||
        die "apt-get download ${pkgs[*]} failed: $(tail -n3 "$1/download.log")"
    chown -R root:root "$d/pool"
    dists=$d/dists/$SUITE
    mkdir -p "$dists/main/binary-amd64"
    scan_packages "$d" pool "$dists/main/binary-amd64"
    {
        echo "Origin: kubestrap-lab"
        echo "Label: kubestrap-lab Debian"
        echo "Suite: stable"
        echo "Codename: $SUITE"
        echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
        echo "Architectures: amd64"
        echo "Components: main"
        echo "Description: kubestrap lab mirror: Debian $SUITE packages the lab rootfs lacks"
        release_hashes "$dists" main/binary-amd64/Packages main/binary-amd64/Packages.gz
    } >"$dists/Release"
    sign_release "$dists" archive@lab.kubestrap.invalid
    GNUPGHOME=$REPO_KEYS gpg --batch --armor --export "<archive@lab.kubestrap.invalid>" >"$d/lab-archive.asc"
    printf '%s\n' "${pkgs[@]}" >"$1/debian-packages.txt"
}

build_k8s_repos() { # build_k8s_repos DIR (→ DIR/core:/stable:/v1.M/deb per minor)
    local dir=$1 v minor r
    LAB_K8S_VERSIONS=$K8S_VERSIONS "$STANDINS/build-debs.sh" "$dir/k8s-debs" >/dev/null ||
        die "building the stand-in packages failed"
    for v in $K8S_VERSIONS; do
        minor=${v%.*}
        r=$dir/core:/stable:/v$minor/deb
        mkdir -p "$r/amd64"
        ln -f "$dir/k8s-debs/"*"_$v-1.1_amd64.deb" "$r/amd64/"
        ln -f "$dir/k8s-debs/"{cri-tools,kubernetes-cni}_*.deb "$r/amd64/"
    done
    for r in "$dir"/core:/stable:/v*/deb; do
        scan_packages "$r" amd64 "$r"
        minor=$(basename "$(dirname "$r")")
        {
            echo "Origin: obs://build.opensuse.org/isv:kubernetes:core:stable:$minor/deb (kubestrap lab stand-in)"
            echo "Label: isv:kubernetes:core:stable:$minor (kubestrap lab stand-in)"
            echo "Architectures: amd64"
            echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
            release_hashes "$r" Packages Packages.gz
        } >"$r/Release"
        sign_release "$r" k8s@lab.kubestrap.invalid
        GNUPGHOME=$REPO_KEYS gpg --batch --armor --export "<k8s@lab.kubestrap.invalid>" >"$r/Release.key"
    done
    rm -rf "$dir/k8s-debs"
}

cmd_repo() {
    need_root
    local c
    for c in apt-get dpkg-scanpackages dpkg-deb gpg gzip; do
        command -v "$c" >/dev/null 2>&1 ||
            die "missing $c (apt-get install -y dpkg-dev gnupg apt)"
    done
    [[ -x $ROOTFS/lib/systemd/systemd ]] || (cmd_rootfs) || die "no rootfs at $ROOTFS and building it failed"
    local key repo tmp t0=$SECONDS old
    key=$(repo_key)
    repo=$CACHE/repo-$key
    mkdir -p "$CACHE"
    exec 8>"$CACHE/.repo.lock"
    flock -w 900 8 || die "another repository build holds $CACHE/.repo.lock"
    if [[ -f $repo/repo-facts.env ]]; then
        log "repo ready: $repo"
        return
    fi
    tmp=$CACHE/.repo-build-$key.$$
    rm -rf "$CACHE"/.repo-build-"$key".*
    mkdir -p "$tmp"
    ensure_repo_keys
    build_debian_repo "$tmp"
    build_k8s_repos "$tmp"
    local first=${K8S_VERSIONS%% *}
    {
        echo "DEBIAN_PATH=debian"
        echo "DEBIAN_SUITE=$SUITE"
        echo "DEBIAN_KEY_FINGERPRINT=$(key_fpr archive@lab.kubestrap.invalid)"
        echo "K8S_PATH=core:/stable:/v${first%.*}/deb/"
        echo "K8S_KEY_FINGERPRINT=$(key_fpr k8s@lab.kubestrap.invalid)"
        echo "K8S_VERSION=$first"
        echo "K8S_PACKAGE_VERSION=$first-1.1"
        echo "K8S_VERSIONS=\"$K8S_VERSIONS\""
        echo "CONTAINERD_VERSION=$(sed -n 's/^containerd=//p' "$tmp/debian-packages.txt")"
        echo "RUNC_VERSION=$(sed -n 's/^runc=//p' "$tmp/debian-packages.txt")"
    } >"$tmp/repo-facts.env"
    GNUPGHOME=$REPO_KEYS gpgconf --kill gpg-agent 2>/dev/null || true
    mv -T "$tmp" "$repo"
    # Keep the three newest repositories (labs serve hard-linked copies).
    # shellcheck disable=SC2012  # names are repo-<hex>
    for old in $(ls -1dt "$CACHE"/repo-[0-9a-f]* 2>/dev/null | tail -n +4); do
        [[ $old == "$repo" ]] || rm -rf "$old"
    done
    log "repo ready: $repo ($((SECONDS - t0)) s)"
}

# Serving: a copy of the repository in LABDIR/repo, python3's http.server
# bound to the bridge address only.
repo_dir() { echo "$CACHE/repo-$(repo_key)"; }
python_bin() {
    if [[ -x /usr/bin/python3 ]]; then echo /usr/bin/python3; else command -v python3 || die "python3 is missing"; fi
}
start_repo_server() {
    local src pid i
    src=$(repo_dir)
    [[ -f $src/repo-facts.env ]] || die "repository $src is missing"
    stop_repo_server
    rm -rf "$LABDIR/repo"
    cp -al "$src" "$LABDIR/repo" 2>/dev/null || cp -a "$src" "$LABDIR/repo"
    setsid "$(python_bin)" -m http.server --bind "$GATEWAY" --directory "$LABDIR/repo" "$REPO_PORT" \
        </dev/null >"$LABDIR/repo-http.log" 2>&1 &
    pid=$!
    write_pidfile "$LABDIR/repo-http.pid" "$pid"
    for ((i = 0; i < 100; i++)); do
        if timeout 1 bash -c "exec 3<>/dev/tcp/$GATEWAY/$REPO_PORT" 2>/dev/null; then
            write_repo_env
            return 0
        fi
        live_pid "$LABDIR/repo-http.pid" >/dev/null ||
            die "repository server exited: $(tail -n3 "$LABDIR/repo-http.log")"
        sleep 0.05
    done
    die "repository server not answering on $GATEWAY:$REPO_PORT"
}
stop_repo_server() {
    local pid i
    pid=$(live_pid "$LABDIR/repo-http.pid") || { rm -f "$LABDIR/repo-http.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        live_pid "$LABDIR/repo-http.pid" >/dev/null || break
        sleep 0.05
    done
    live_pid "$LABDIR/repo-http.pid" >/dev/null && kill -KILL "$pid" 2>/dev/null
    rm -f "$LABDIR/repo-http.pid"
}
write_repo_env() {
    local base="http://$GATEWAY:$REPO_PORT" DEBIAN_PATH DEBIAN_SUITE DEBIAN_KEY_FINGERPRINT K8S_PATH \
        K8S_KEY_FINGERPRINT K8S_VERSION K8S_PACKAGE_VERSION K8S_VERSIONS CONTAINERD_VERSION RUNC_VERSION
    # shellcheck disable=SC1091
    source "$LABDIR/repo/repo-facts.env"
    cat >"$LABDIR/repo.env.tmp" <<EOF
# The lab's apt repositories, written by tests/lab/lab.sh up (see its header).
REPO_BASE_URL=$base
DEBIAN_URL=$base/$DEBIAN_PATH
DEBIAN_SUITE=$DEBIAN_SUITE
DEBIAN_COMPONENTS=main
DEBIAN_KEY_URL=$base/$DEBIAN_PATH/lab-archive.asc
DEBIAN_KEY_FINGERPRINT=$DEBIAN_KEY_FINGERPRINT
K8S_URL=$base/$K8S_PATH
K8S_KEY_URL=$base/${K8S_PATH}Release.key
K8S_KEY_FINGERPRINT=$K8S_KEY_FINGERPRINT
K8S_VERSION=$K8S_VERSION
K8S_PACKAGE_VERSION=$K8S_PACKAGE_VERSION
K8S_VERSIONS="$K8S_VERSIONS"
CONTAINERD_VERSION=$CONTAINERD_VERSION
RUNC_VERSION=$RUNC_VERSION
EOF
    mv "$LABDIR/repo.env.tmp" "$LABDIR/repo.env"
}

# ---------------------------------------------------------------- lab state
# LABDIR/lab.env pins bridge, network and rootfs for the lab's whole life, so
# down/stop/start work whatever the environment says later.
load_lab() {
    LABDIR=$(realpath -m "$1")
    if [[ ${2:-} != fresh && -f $LABDIR/lab.env ]]; then
        # shellcheck disable=SC1091
        source "$LABDIR/lab.env"
    else
        BRIDGE=${LAB_BRIDGE:-ksbr0}
        NET=${LAB_NET:-10.99.0}
        LOWER=$ROOTFS
        SSHD_ONLY=${LAB_SSHD_ONLY:-0}
    fi
    SSHD_ONLY=${SSHD_ONLY:-0}
    if [[ $NET =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; then
        PREFIX=24; GATEWAY=$NET.1; MAX_HOSTS=200
    elif [[ $NET =~ ^[0-9]{1,3}\.[0-9]{1,3}$ ]]; then
        PREFIX=16; GATEWAY=$NET.0.1; MAX_HOSTS=1000
    else
        die "LAB_NET must be the first three octets of a /24 (10.99.0) or two of a /16 (10.100) (got $NET)"
    fi
    ((${#BRIDGE} <= 8)) || die "LAB_BRIDGE must be at most 8 characters (got $BRIDGE)"
}
save_lab() {
    printf 'BRIDGE=%q\nNET=%q\nLOWER=%q\nSSHD_ONLY=%q\n' "$BRIDGE" "$NET" "$LOWER" "$SSHD_ONLY" >"$LABDIR/lab.env"
}
hostdir() { echo "$LABDIR/hosts/$1"; }
netns_of() { echo "$BRIDGE-$1"; }
index_of() { cat "$(hostdir "$1")/index"; }
veth_of() { echo "v$BRIDGE-$(index_of "$1")"; }
addr_of() {
    local i
    i=$(index_of "$1")
    if ((PREFIX == 24)); then
        echo "$NET.$((10 + i))"
    else # 200 hosts per third octet, from NET.1.10: no .0/.255 host addresses
        echo "$NET.$((1 + (i - 1) / 200)).$((10 + (i - 1) % 200))"
    fi
}
lab_hosts() { # names, in index order
    local d
    for d in "$LABDIR"/hosts/*/index; do
        [[ -f $d ]] && echo "$(cat "$d") $(basename "$(dirname "$d")")"
    done | sort -n | cut -d' ' -f2
}
init_pid() { live_pid "$(hostdir "$1")/init.pid"; }
known_host() { [[ -f $(hostdir "$1")/index ]] || die "no host $1 in $LABDIR"; }

# ---------------------------------------------------------------- network
ensure_bridge() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        # nf_call_iptables 0: a build machine with br_netfilter and a DROP
        # FORWARD policy (Docker's) must not filter host-to-host traffic.
        ip link add "$BRIDGE" type bridge nf_call_iptables 0 nf_call_ip6tables 0 \
            nf_call_arptables 0 2>/dev/null || ip link add "$BRIDGE" type bridge
        ip addr add "$GATEWAY/$PREFIX" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
}
delete_bridge_if_unused() {
    ip link show "$BRIDGE" >/dev/null 2>&1 || return 0
    if [[ -z $(ls -A "/sys/class/net/$BRIDGE/brif" 2>/dev/null) ]]; then
        ip link del "$BRIDGE" 2>/dev/null || true
    fi
}
setup_net() {
    local name=$1 ns veth addr
    ns=$(netns_of "$name"); veth=$(veth_of "$name"); addr=$(addr_of "$name")
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$veth" 2>/dev/null || true
    ip netns add "$ns"
    # A fixed MAC per host: a restarted host keeps its NIC, so neither the
    # build machine nor the other hosts hold a stale ARP entry for it (that
    # costs ~30 s of dropped SYNs).
    ip link add "$veth" type veth peer name eth0 netns "$ns" \
        address "$(printf '02:6b:73:00:%02x:%02x' $(($(index_of "$name") / 256)) $(($(index_of "$name") % 256)))"
    ip neigh flush dev "$BRIDGE" to "$addr" 2>/dev/null || true
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/$PREFIX" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$GATEWAY"
}
teardown_net() {
    local name=$1
    ip netns del "$(netns_of "$name")" 2>/dev/null || true
    ip link del "$(veth_of "$name")" 2>/dev/null || true
}

# ---------------------------------------------------------------- cgroups
# Each host gets its own cgroup (kubestrap-lab/BRIDGE-NAME) in every cgroup
# hierarchy, and fresh cgroup mounts inside its cgroup namespace. Without
# that, every host's systemd would see and use the build machine's root
# cgroups and all hosts would share system.slice/ssh.service and the like.
cgroup_mounts() { # "fstype mountpoint fs-options" of the build machine
    findmnt -rn -t cgroup,cgroup2 -o FSTYPE,TARGET,FS-OPTIONS
}
cgroup_dirs() { # this host's cgroup directory in every hierarchy
    local _t m _o
    while read -r _t m _o; do echo "$m/kubestrap-lab/$BRIDGE-$1"; done < <(cgroup_mounts)
}
make_cgroups() {
    local d parent f
    for d in $(cgroup_dirs "$1"); do
        mkdir -p "$d"
        # cpuset (v1) refuses tasks until cpus and mems are set.
        for f in cpuset.cpus cpuset.mems; do
            [[ -f $d/$f && -z $(cat "$d/$f") ]] || continue
            parent=$(dirname "$d")
            [[ -n $(cat "$parent/$f") ]] || cat "$(dirname "$parent")/$f" >"$parent/$f"
            cat "$parent/$f" >"$d/$f"
        done
    done
}
remove_cgroups() { # after the host's processes are gone; bounded retries
    local d i
    for d in $(cgroup_dirs "$1"); do
        for ((i = 0; i < 20; i++)); do
            [[ -d $d ]] || break
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [[ -d $d ]] && sleep 0.05
        done
        [[ -d $d ]] && log "$1: could not remove cgroup $d"
        rmdir "$(dirname "$d")" 2>/dev/null || true
    done
}
host_memory() { # bytes charged to the host's memory cgroup
    local d
    for d in $(cgroup_dirs "$1"); do
        [[ -f $d/memory.usage_in_bytes ]] && { cat "$d/memory.usage_in_bytes"; return; }
        [[ -f $d/memory.current ]] && { cat "$d/memory.current"; return; }
    done
    echo 0
}

# ---------------------------------------------------------------- one host
# Creates the host's directories; its disk is an overlay over the cached rootfs.
create_host() {
    local name=$1 index=$2 d
    d=$(hostdir "$name")
    mkdir -p "$d/upper" "$d/work" "$d/root"
    echo "$index" >"$d/index"
}
mount_root() {
    local name=$1 d
    d=$(hostdir "$name")
    mountpoint -q "$d/root" && return 0
    [[ -d $LOWER ]] || die "rootfs $LOWER is missing; run: $0 rootfs"
    mount -t overlay "lab-$name" -o "lowerdir=$LOWER,upperdir=$d/upper,workdir=$d/work" "$d/root"
}
umount_root() {
    local d
    d=$(hostdir "$1")
    if mountpoint -q "$d/root" 2>/dev/null; then
        umount -R -l "$d/root" 2>/dev/null || true
    fi
}
# Files the host must have before it boots; written through the overlay so
# directory owners and modes stay those of the rootfs.
place_files() {
    local name=$1 r u home addr
    r=$(hostdir "$name")/root
    addr=$(addr_of "$name")
    echo "$name" >"$r/etc/hostname"
    cat >"$r/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$name
$addr	$name

::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$r/etc/machine-id"
    echo >>"$r/etc/machine-id"
    for u in root deploy pwuser; do
        home=$(awk -F: -v u="$u" '$1 == u { print $6 }' "$r/etc/passwd")
        [[ -n $home ]] || die "user $u missing in rootfs"
        install -d -m 0700 "$r$home/.ssh"
        install -m 0600 "$LABDIR/id_ed25519.pub" "$r$home/.ssh/authorized_keys"
        chown -R --reference="$r$home" "$r$home/.ssh"
    done
}
boot_host() {
    local name=$1 d r ns up_pid init i
    d=$(hostdir "$name"); r=$d/root; ns=$(netns_of "$name")
    rm -f "$d/unshare.pid" "$d/init.pid"
    # setsid: the host outlives this script and its terminal. The wrapper
    # writes its own PID, then execs into ip → unshare, keeping that PID.
    # container=: tells systemd it is a container, so it leaves the shared
    # kernel alone (no swapoff of the build machine's swap, no unmount sweep
    # at poweroff) and skips hardware units.
    make_cgroups "$name"
    # The wrapper enters the host's cgroups before unshare makes them the
    # root of its cgroup namespace; inside, /sys/fs/cgroup is mounted afresh
    # so systemd sees only its own subtree.
    # shellcheck disable=SC2016,SC2034  # expanded by the new shells
    # An sshd-only host (benchmarks) runs `sshd -D -e` as its PID 1: it
    # needs no cgroup mounts, makes one ed25519 host key on first boot and
    # reaps its sessions' children itself.
    LAB_CGDIRS=$(cgroup_dirs "$name") LAB_CGROOT=$(findmnt -rn -o FSTYPE /sys/fs/cgroup || true) \
    LAB_CGMOUNTS=$( ((SSHD_ONLY)) || cgroup_mounts) LAB_SSHD_ONLY=$SSHD_ONLY \
    setsid sh -c 'echo "$$" >"$1"; shift
                  for c in $LAB_CGDIRS; do echo "$$" >"$c/cgroup.procs" || exit 1; done
                  exec "$@"' sh "$d/unshare.pid.tmp" \
        ip netns exec "$ns" \
        unshare --mount --uts --pid --ipc --cgroup --fork \
        sh -c 'set -e; hostname "$1"; r=$2
               mount -t proc proc "$r/proc"
               mount --rbind /sys "$r/sys"
               mount --rbind /dev "$r/dev"
               if [ -n "$LAB_CGMOUNTS" ]; then
                   # ip netns exec gave us a fresh sysfs: usually nothing here.
                   if mountpoint -q "$r/sys/fs/cgroup"; then umount -R -l "$r/sys/fs/cgroup"; fi
                   [ "$LAB_CGROOT" = tmpfs ] && mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs "$r/sys/fs/cgroup"
                   echo "$LAB_CGMOUNTS" | while read -r t m o; do
                       mkdir -p "$r$m"; mount -t "$t" -o "$o" cgroup "$r$m"
                   done
               fi
               if [ "$LAB_SSHD_ONLY" = 1 ]; then
                   exec /usr/bin/env -i container=kubestrap-lab PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/chroot "$r" /bin/sh -c "
                       mkdir -p -m 0755 /run/sshd
                       k=/etc/ssh/ssh_host_ed25519_key
                       [ -s \$k ] || ssh-keygen -q -t ed25519 -N \"\" -f \$k
                       exec /usr/sbin/sshd -D -e -o HostKey=\$k"
               fi
               exec /usr/bin/env -i container=kubestrap-lab TERM=linux PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/chroot "$r" /lib/systemd/systemd --system' \
        sh "$name" "$r" </dev/null >"$d/console.log" 2>&1 &
    # Up to BOOT_TIMEOUT for the unshare and its child: a loaded 2-core
    # machine booting dozens of hosts can take more than 10 s here.
    local deadline=$((SECONDS + BOOT_TIMEOUT))
    while ((SECONDS < deadline)); do
        if [[ -s $d/unshare.pid.tmp ]]; then
            up_pid=$(cat "$d/unshare.pid.tmp")
            if init=$(first_child "$up_pid"); then
                write_pidfile "$d/unshare.pid" "$up_pid"
                write_pidfile "$d/init.pid" "$init"
                rm -f "$d/unshare.pid.tmp"
                return 0
            fi
        fi
        sleep 0.01
    done
    die "$name: namespace init did not appear (see $d/console.log)"
}
# Prints nothing and returns 0 when the host is ready, else the reason.
host_ready() {
    local name=$1 init state
    init=$(init_pid "$name") || { echo "init died (see $(hostdir "$name")/console.log)"; return 2; }
    timeout 1 bash -c "exec 3<>/dev/tcp/$(addr_of "$name")/22" 2>/dev/null ||
        { echo "sshd not answering on port 22"; return 1; }
    ((SSHD_ONLY)) && return 0
    state=$(timeout 3 nsenter -t "$init" -m -u -i -n -p -r -w systemctl is-system-running 2>/dev/null) || true
    case $state in
        running | degraded) return 0 ;;
        *) echo "systemctl is-system-running: ${state:-no answer}"; return 1 ;;
    esac
}
wait_ready() { # wait_ready NAME...; bounded by BOOT_TIMEOUT
    local pending=("$@") still name why deadline=$((SECONDS + BOOT_TIMEOUT)) rc
    declare -A reason=()
    while ((${#pending[@]})); do
        still=()
        for name in "${pending[@]}"; do
            rc=0; why=$(host_ready "$name") || rc=$?
            if ((rc == 2)); then die "$name: $why"; fi
            if ((rc == 0)); then
                ((SSHD_ONLY)) || report_degraded "$name"
            else
                still+=("$name"); reason[$name]=$why
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]})) || break
        if ((SECONDS >= deadline)); then
            for name in "${pending[@]}"; do log "$name not ready: ${reason[$name]}"; done
            die "hosts not ready after ${BOOT_TIMEOUT} s: ${pending[*]} (console logs in $LABDIR/hosts/*/console.log)"
        fi
        sleep 0.1
    done
}
report_degraded() {
    local failed
    failed=$(lab_exec "$1" systemctl --failed --no-legend --plain 2>/dev/null | awk '{ print $1 }' | tr '\n' ' ') || true
    [[ -z ${failed// /} ]] || log "$1: degraded, failed units: $failed"
}
lab_exec() { # lab_exec NAME CMD...
    local name=$1 init
    shift
    init=$(init_pid "$name") || die "$name is not running"
    nsenter -t "$init" -m -u -i -n -p -C -r -w -- "$@"
}
# Stops one host: clean poweroff when asked, SIGKILL of its init otherwise or
# when poweroff takes too long. Killing PID 1 of a pid namespace ends every
# process in it.
# An `up` interrupted between launch and recording leaves only the wrapper's
# PID; adopt it if that process's arguments name this host's root.
adopt_pids() {
    local d up init
    d=$(hostdir "$1")
    [[ -s $d/unshare.pid.tmp && ! -s $d/init.pid ]] || return 0
    up=$(cat "$d/unshare.pid.tmp")
    if [[ $up =~ ^[0-9]+$ ]] && tr '\0' '\n' <"/proc/$up/cmdline" 2>/dev/null | grep -qxF "$d/root"; then
        write_pidfile "$d/unshare.pid" "$up"
        init=$(first_child "$up") && write_pidfile "$d/init.pid" "$init"
    fi
    rm -f "$d/unshare.pid.tmp"
}
halt_hosts() { # halt_hosts graceful|kill NAME...
    local mode=$1 name init up i left
    shift
    for name in "$@"; do adopt_pids "$name"; done
    if [[ $mode == graceful ]] && ((!SSHD_ONLY)); then
        for name in "$@"; do
            init=$(init_pid "$name") || continue
            timeout 2 nsenter -t "$init" -m -u -i -n -p -r -w systemctl poweroff --no-block \
                >/dev/null 2>&1 || true
        done
        for ((i = 0; i < 30; i++)); do # up to 3 s for a clean poweroff
            left=0
            for name in "$@"; do init_pid "$name" >/dev/null && left=1; done
            ((left)) || break
            sleep 0.1
        done
    fi
    for name in "$@"; do
        if init=$(init_pid "$name"); then
            [[ $mode == graceful ]] && ((!SSHD_ONLY)) && log "$name: poweroff too slow, killing init $init"
            kill -KILL "$init" 2>/dev/null || true
        fi
    done
    for name in "$@"; do
        for ((i = 0; i < 50; i++)); do # up to 5 s for the kernel to reap
            init_pid "$name" >/dev/null || break
            sleep 0.1
        done
        init_pid "$name" >/dev/null && log "$name: init still alive after SIGKILL"
        # unshare exits once its child is gone; kill it if it lingers.
        for ((i = 0; i < 20; i++)); do
            up=$(live_pid "$(hostdir "$name")/unshare.pid") || break
            ((i == 10)) && kill -KILL "$up" 2>/dev/null
            sleep 0.05
        done
        rm -f "$(hostdir "$name")"/{init,unshare}.pid
    done
}
teardown_host() {
    remove_cgroups "$1"
    umount_root "$1"
    teardown_net "$1"
}
# prepare_host NAME: network, disk and files of a host that is not running.
prepare_host() {
    setup_net "$1"
    mount_root "$1"
    place_files "$1"
}
# each_host FUNC NAME...: FUNC NAME for every host, up to LAB_JOBS (default
# 2 x cores) at once; fails when any of them failed.
each_host() {
    local func=$1 name jobs failed=0 done_pid
    local -A running=()
    shift
    jobs=${LAB_JOBS:-$((2 * $(nproc)))}
    for name in "$@"; do
        while ((${#running[@]} >= jobs)); do
            done_pid=
            wait -n -p done_pid "${!running[@]}" || failed=1
            [[ -n $done_pid ]] || die "each_host: lost track of its jobs"
            unset "running[$done_pid]"
        done
        ("$func" "$name") &
        running[$!]=1
    done
    while ((${#running[@]})); do
        done_pid=
        wait -n -p done_pid "${!running[@]}" || failed=1
        [[ -n $done_pid ]] || die "each_host: lost track of its jobs"
        unset "running[$done_pid]"
    done
    ((!failed)) || die "$func failed for some hosts (see above)"
}
start_hosts() { # start_hosts NAME...: network, disk, boot, wait
    local name batch i
    ensure_bridge
    each_host prepare_host "$@"
    # Bounded, paced boot: a batch at a time, each waiting for its sshds (and
    # systemds), so hundreds of first boots (key generation) do not all
    # compete for the CPU at once. Systemd hosts boot all at once, as before.
    batch=${LAB_BOOT_BATCH:-$( ((SSHD_ONLY)) && echo 50 || echo $#)}
    [[ $batch =~ ^[1-9][0-9]*$ ]] || die "LAB_BOOT_BATCH must be a positive number (got $batch)"
    local names=("$@")
    for ((i = 0; i < ${#names[@]}; i += batch)); do
        for name in "${names[@]:i:batch}"; do boot_host "$name"; done
        wait_ready "${names[@]:i:batch}"
    done
}

# ---------------------------------------------------------------- outputs
write_outputs() {
    local name addr f first=1 type key rest
    : >"$LABDIR/known_hosts.tmp"
    : >"$LABDIR/hosts.txt.tmp"
    {
        echo "# kubestrap lab inventory, written by tests/lab/lab.sh. The hosts reach"
        echo "# nothing but this lab's bridge, so they use its own Debian mirror and"
        echo "# Kubernetes repository, as an air-gapped campus would, and a local"
        echo "# Calico-shaped manifest."
        echo "cluster:"
        echo "  name: lab"
        # A subshell, so repo.env's names stay out of this script.
        (
            # shellcheck source=/dev/null
            . "$LABDIR/repo.env"
            echo "  kubernetes_version: \"$K8S_VERSION\""
            echo "  apt_mirror:"
            echo "    uris: $DEBIAN_URL"
            echo "    suites: [$DEBIAN_SUITE]"
            echo "    components: [$DEBIAN_COMPONENTS]"
            echo "    signed_by: $DEBIAN_KEY_URL"
            echo "  kubernetes_packages:"
            echo "    repository: $K8S_URL"
            echo "    key_url: $K8S_KEY_URL"
            echo "    key_fingerprint: $K8S_KEY_FINGERPRINT"
            echo "  calico:"
            echo "    manifest_file: $(cd "$STANDINS/../../fixtures/calico" && pwd)/calico.yaml"
        )
        echo "defaults:"
        echo "  user: root"
        echo "  identity_file: id_ed25519"
        echo "hosts:"
    } >"$LABDIR/inventory.yaml.tmp"
    for name in $(lab_hosts); do
        addr=$(addr_of "$name")
        echo "$name $addr" >>"$LABDIR/hosts.txt.tmp"
        for f in "$(hostdir "$name")"/upper/etc/ssh/ssh_host_*_key.pub; do
            [[ -f $f ]] || die "$name: no host keys in $(dirname "$f")"
            read -r type key rest <"$f"
            echo "$addr $type $key" >>"$LABDIR/known_hosts.tmp"
        done
        printf '  %s:\n    address: %s\n    roles: [%s]\n' "$name" "$addr" \
            "$( ((first)) && echo control_plane || echo worker)" >>"$LABDIR/inventory.yaml.tmp"
        first=0
    done
    for f in known_hosts hosts.txt inventory.yaml; do mv "$LABDIR/$f.tmp" "$LABDIR/$f"; done
}

# ---------------------------------------------------------------- commands
cmd_up() {
    local n=$2 first=${LAB_FIRST:-1} i names=() t0 cur
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number (got $n)"
    [[ $first =~ ^[1-9][0-9]*$ ]] && ((first <= n)) || die "LAB_FIRST must be a number from 1 to N=$n (got $first)"
    need_root; need_cmds ip unshare nsenter setsid ssh-keygen mount flock
    t0=$EPOCHREALTIME
    if [[ -d $1/hosts ]]; then
        log "tearing down the old lab in $1"
        cmd_down "$1"
    fi
    load_lab "$1" fresh
    if ((n > MAX_HOSTS)); then
        die "N must be 1..$MAX_HOSTS for LAB_NET=$NET (got $n)"
    fi
    [[ -x $ROOTFS/lib/systemd/systemd ]] || (cmd_rootfs) || die "no rootfs at $ROOTFS and building it failed"
    [[ -f $(repo_dir)/repo-facts.env ]] || (cmd_repo) || die "building the lab's apt repositories failed"
    if findmnt -rn -o TARGET | grep -qF "$LABDIR/"; then
        die "something is still mounted under $LABDIR; not deleting it"
    fi
    rm -rf "$LABDIR/hosts" "$LABDIR"/{known_hosts,inventory.yaml,hosts.txt,id_ed25519,id_ed25519.pub,repo,repo.env}
    mkdir -p "$LABDIR/hosts"
    save_lab
    ssh-keygen -q -t ed25519 -N '' -C "kubestrap-lab-operator" -f "$LABDIR/id_ed25519"
    # Each systemd takes inotify instances; 128 per user runs out near 20 hosts.
    cur=$(sysctl -n fs.inotify.max_user_instances)
    if ((cur < 1024 + 64 * n)); then sysctl -qw fs.inotify.max_user_instances=$((1024 + 64 * n)); fi
    cur=$(sysctl -n fs.inotify.max_user_watches)
    if ((cur < 524288)); then sysctl -qw fs.inotify.max_user_watches=524288; fi
    # Hundreds of hosts on one bridge: the build machine's ARP table must
    # hold them all (default hard limit 1024, pruning from 512 entries).
    cur=$(sysctl -n net.ipv4.neigh.default.gc_thresh3)
    if ((cur < 2 * n + 256)); then
        sysctl -qw net.ipv4.neigh.default.gc_thresh2=$((2 * n + 128)) net.ipv4.neigh.default.gc_thresh3=$((2 * n + 256))
    fi
    for ((i = first; i <= n; i++)); do
        create_host "node$i" "$i"
        names+=("node$i")
    done
    ensure_bridge
    start_repo_server
    start_hosts "${names[@]}"
    write_outputs
    log "$((n - first + 1)) hosts up in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s; inventory: $LABDIR/inventory.yaml"
    cat "$LABDIR/hosts.txt"
}

# Every host back to its first boot, as if reinstalled with the same
# identity: stopped, its disk emptied but for its SSH host keys, booted
# again. Network namespaces stay. For benchmarks' "first run on fresh hosts".
reset_disk() {
    local d
    d=$(hostdir "$1")
    umount_root "$1"
    remove_cgroups "$1"
    mkdir -p "$d/keep"
    cp -a "$d"/upper/etc/ssh/ssh_host_* "$d/keep/" 2>/dev/null || true
    rm -rf "$d/upper" "$d/work"
    mkdir -p "$d/upper/etc/ssh" "$d/work"
    cp -a "$d"/keep/ssh_host_* "$d/upper/etc/ssh/" 2>/dev/null || true
    rm -rf "$d/keep"
    mount_root "$1"
    place_files "$1"
}
cmd_reset() {
    local names=() name batch i
    need_root
    load_lab "$1"
    mapfile -t names < <(lab_hosts)
    ((${#names[@]})) || die "no hosts in $LABDIR"
    local t0=$EPOCHREALTIME
    halt_hosts kill "${names[@]}"
    each_host reset_disk "${names[@]}"
    batch=${LAB_BOOT_BATCH:-$( ((SSHD_ONLY)) && echo 50 || echo ${#names[@]})}
    for ((i = 0; i < ${#names[@]}; i += batch)); do
        for name in "${names[@]:i:batch}"; do boot_host "$name"; done
        wait_ready "${names[@]:i:batch}"
    done
    log "${#names[@]} hosts reset in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
}

cmd_down() {
    local names=() name
    need_root
    load_lab "$1"
    stop_repo_server
    [[ -d $LABDIR/hosts ]] || { delete_bridge_if_unused; return 0; }
    mapfile -t names < <(lab_hosts)
    if ((${#names[@]})); then
        halt_hosts graceful "${names[@]}"
        for name in "${names[@]}"; do teardown_host "$name"; done
    fi
    # Anything else mounted under the lab (half-made hosts) goes too.
    local m
    for m in $(findmnt -rn -o TARGET | grep -F "$LABDIR/" | sort -r || true); do
        umount -R -l "$m" 2>/dev/null || true
    done
    delete_bridge_if_unused
    log "lab in $LABDIR is down"
}

cmd_stop() {
    need_root; load_lab "$1"; known_host "$2"
    halt_hosts kill "$2"
    teardown_host "$2"
    log "$2 stopped"
}

cmd_start() {
    need_root; load_lab "$1"; known_host "$2"
    if init_pid "$2" >/dev/null; then log "$2 already running"; return 0; fi
    teardown_host "$2"
    start_hosts "$2"
    log "$2 started"
}

# One host reinstalled: as `reset` does for every host, for NAME alone.
cmd_wipe() {
    need_root; load_lab "$1"; known_host "$2"
    if init_pid "$2" >/dev/null; then halt_hosts kill "$2"; fi
    teardown_host "$2"
    reset_disk "$2"
    start_hosts "$2"
    log "$2 wiped and booted"
}

cmd_sh() {
    need_root; load_lab "$1"; known_host "$2"
    local name=$2
    shift 2
    [[ ${1:-} == -- ]] && shift
    (($#)) || set -- /bin/bash -l
    local rc=0
    lab_exec "$name" "$@" || rc=$?
    return $rc
}

cmd_status() {
    load_lab "$1"
    local name init
    for name in $(lab_hosts); do
        if init=$(init_pid "$name"); then
            echo "$name $(addr_of "$name") running init=$init"
        else
            echo "$name $(addr_of "$name") stopped"
        fi
    done
}

main() {
    (($#)) || usage
    local cmd=$1
    shift
    case $cmd in
        rootfs) (($# == 0)) || usage; cmd_rootfs ;;
        repo) (($# == 0)) || usage; cmd_repo ;;
        up) (($# == 2)) || usage; cmd_up "$@" ;;
        down) (($# == 1)) || usage; cmd_down "$@" ;;
        reset) (($# == 1)) || usage; cmd_reset "$@" ;;
        stop) (($# == 2)) || usage; cmd_stop "$@" ;;
        start) (($# == 2)) || usage; cmd_start "$@" ;;
        wipe) (($# == 2)) || usage; cmd_wipe "$@" ;;
        sh) (($# >= 2)) || usage; cmd_sh "$@" ;;
        status) (($# == 1)) || usage; cmd_status "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}
main "$@"
