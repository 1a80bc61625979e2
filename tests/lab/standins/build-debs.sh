#!/usr/bin/env bash
# build-debs.sh OUTDIR — builds the lab's TEST STAND-IN Kubernetes packages
# (not Kubernetes!) with dpkg-deb, named and versioned as pkgs.k8s.io names
# them, so kubestrap installs them exactly as it would install the real ones:
#
#   kubeadm_<V>-1.1_amd64.deb   /usr/bin/kubeadm (kubeadm.py), $LIB/kubeadm/apiserver.py
#                               (the stand-in API server init starts), kubeadm_certs.py
#                               (`kubeadm certs`), kubeadm_upgrade.py (`kubeadm upgrade`), etcd_standin.py
#                               (the stacked etcd member the API server plays), kubeadm_etcd.py
#                               (kubeadm's etcd member steps), etcdctl.py (for `crictl exec`), etcd_db.py
#                               (the db and snapshot files), /usr/local/bin/etcdutl (etcdutl.py), and the kubelet
#                               drop-in /usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf
#                               Depends: cri-tools (>= 1.30.0)        [as the real 1.30/1.31]
#   kubelet_<V>-1.1_amd64.deb   /usr/bin/kubelet (kubelet.py), kubelet.service,
#                               /etc/default/kubelet, /var/lib/kubelet, /etc/kubernetes/manifests;
#                               enabled and started on install (it crash-loops until
#                               kubeadm writes /var/lib/kubelet/config.yaml)
#                               Depends: kubernetes-cni (>= 1.2.0), mount, util-linux
#                               Recommends: iptables (>= 1.8.4)       [as the real >= 1.28]
#   kubectl_<V>-1.1_amd64.deb   /usr/bin/kubectl (kubectl.py), $LIB/kubectl/kubectl_drain.py
#   cri-tools_<C>-1.1_amd64.deb /usr/bin/crictl stand-in (--version, ps, exec)
#   kubernetes-cni_<N>-1.1_amd64.deb  an empty /opt/cni/bin (no plugins)
#
# Environment: LAB_K8S_VERSIONS (space-separated, default $LAB_K8S_VERSION or
# 1.31.4; minors 1.30-1.33), LAB_CRI_TOOLS_VERSION (1.31.1),
# LAB_K8S_CNI_VERSION (1.5.1), SOURCE_DATE_EPOCH (file times; default fixed,
# so equal inputs give byte-identical .debs).
set -euo pipefail
OUT=${1:?usage: build-debs.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
VERSIONS=${LAB_K8S_VERSIONS:-${LAB_K8S_VERSION:-1.31.4}}
CRI_TOOLS=${LAB_CRI_TOOLS_VERSION:-1.31.1}
CNI=${LAB_K8S_CNI_VERSION:-1.5.1}
REV=1.1
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1733788800} # 2024-12-10
ARCH=amd64
MAINT="kubestrap lab <lab@kubestrap.invalid>"
LIB=/usr/lib/kubestrap-standin

die() { printf 'build-debs: error: %s\n' "$*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb missing (package dpkg)"
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# control FILE-in-root PACKAGE VERSION SECTION "DEPENDS" "RECOMMENDS" SUMMARY
control() {
    local root=$1 pkg=$2 ver=$3 section=$4 deps=$5 recs=$6 summary=$7 size
    mkdir -p "$root/DEBIAN"
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    {
        echo "Package: $pkg"
        echo "Version: $ver"
        echo "Architecture: $ARCH"
        echo "Maintainer: $MAINT"
        echo "Installed-Size: $size"
        [[ -n $deps ]] && echo "Depends: $deps"
        [[ -n $recs ]] && echo "Recommends: $recs"
        echo "Section: $section"
        echo "Priority: optional"
        echo "Homepage: https://kubernetes.io"
        echo "Description: TEST STAND-IN for the kubestrap lab, not Kubernetes: $summary"
        echo " A python3 test double built by kubestrap's tests/lab/standins/build-debs.sh."
        echo " It imitates the command-line contract of the real package of this name"
        echo " and version for integration tests. It is not Kubernetes."
    } >"$root/DEBIAN/control"
}
build() { # build ROOT → OUT/<Package>_<Version>_<Arch>.deb
    local root=$1 name
    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    name=$(sed -n 's/^Package: //p' "$root/DEBIAN/control")_$(sed -n 's/^Version: //p' "$root/DEBIAN/control")_$ARCH.deb
    dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/$name" >/dev/null
    echo "$OUT/$name"
}
tool() { # tool ROOT NAME VERSION: /usr/bin/NAME and its library directory
    local root=$1 name=$2 ver=$3 commit
    install -D -m 0755 "$HERE/$name.py" "$root/usr/bin/$name"
    install -D -m 0644 "$HERE/standin.py" "$root$LIB/$name/standin.py"
    commit=$(printf 'kubestrap-lab-standin v%s' "$ver" | sha1sum | cut -c1-40)
    cat >"$root$LIB/$name/standin_build.py" <<PY
# TEST STAND-IN for the kubestrap lab, not Kubernetes: build facts.
VERSION = "$ver"
GIT_COMMIT = "$commit"  # not a Kubernetes commit: sha1 of "kubestrap-lab-standin v$ver"
BUILD_DATE = "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
GO_VERSION = "go1.22.9"
PY
    install -D -m 0644 /dev/stdin "$root/usr/share/doc/$name/README.stand-in" <<TXT
This $name is a TEST STAND-IN for the kubestrap lab, not Kubernetes.
Source: kubestrap tests/lab/standins/$name.py (version $ver).
TXT
}

for v in $VERSIONS; do
    [[ $v =~ ^1\.(3[0-3])\.[0-9]+$ ]] || die "unsupported Kubernetes version $v (stand-ins know 1.30.x-1.33.x)"
    minor=${BASH_REMATCH[1]}
    # kubeadm: the real 1.30/1.31 packages depend on cri-tools only; 1.32+ on nothing.
    r=$WORK/kubeadm-$v
    tool "$r" kubeadm "$v"
    # the stand-in kube-apiserver that `kubeadm init` / control-plane joins run
    install -D -m 0644 "$HERE/apiserver.py" "$r$LIB/kubeadm/apiserver.py"
    install -D -m 0644 "$HERE/kubeadm_certs.py" "$r$LIB/kubeadm/kubeadm_certs.py"
    install -D -m 0644 "$HERE/kubeadm_upgrade.py" "$r$LIB/kubeadm/kubeadm_upgrade.py"
    # the stacked etcd member the API server process plays, kubeadm's etcd
    # steps, and the etcdctl of the etcd "image" (run by `crictl exec`)
    install -D -m 0644 "$HERE/etcd_standin.py" "$r$LIB/kubeadm/etcd_standin.py"
    install -D -m 0644 "$HERE/kubeadm_etcd.py" "$r$LIB/kubeadm/kubeadm_etcd.py"
    install -D -m 0755 "$HERE/etcdctl.py" "$r$LIB/kubeadm/etcdctl.py"
    # the etcd db / snapshot format, and etcdutl where an operator's manual
    # install puts it (the real one is not in kubeadm's packages)
    install -D -m 0644 "$HERE/etcd_db.py" "$r$LIB/kubeadm/etcd_db.py"
    install -D -m 0755 "$HERE/etcdutl.py" "$r/usr/local/bin/etcdutl"
    install -D -m 0644 "$HERE/pkg/10-kubeadm.conf" "$r/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
    deps=""; ((minor < 32)) && deps="cri-tools (>= 1.30.0)"
    control "$r" kubeadm "$v-$REV" admin "$deps" "" "Command-line utility for administering a Kubernetes cluster"
    build "$r"

    r=$WORK/kubelet-$v
    tool "$r" kubelet "$v"
    install -D -m 0644 "$HERE/pkg/kubelet.service" "$r/usr/lib/systemd/system/kubelet.service"
    install -D -m 0644 "$HERE/pkg/kubelet.default" "$r/etc/default/kubelet"
    mkdir -p "$r/var/lib/kubelet" "$r/etc/kubernetes/manifests"
    control "$r" kubelet "$v-$REV" net "kubernetes-cni (>= 1.2.0), mount, util-linux" "iptables (>= 1.8.4)" \
        "Node agent for Kubernetes clusters"
    echo /etc/default/kubelet >"$r/DEBIAN/conffiles"
    cat >"$r/DEBIAN/postinst" <<'SH'
#!/bin/sh
# TEST STAND-IN kubelet (kubestrap lab): enable and (re)start the unit, as the
# real package's %systemd_post does.
set -e
if [ "$1" = configure ]; then
    systemctl enable kubelet.service >/dev/null 2>&1 || true
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null 2>&1 || true
        systemctl restart kubelet.service >/dev/null 2>&1 || true
    fi
fi
SH
    cat >"$r/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop kubelet.service >/dev/null 2>&1 || true
fi
SH
    cat >"$r/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = purge ] || [ "$1" = remove ]; then
    systemctl disable kubelet.service >/dev/null 2>&1 || true
    [ -d /run/systemd/system ] && systemctl daemon-reload >/dev/null 2>&1 || true
fi
SH
    chmod 0755 "$r"/DEBIAN/{postinst,prerm,postrm}
    build "$r"

    r=$WORK/kubectl-$v
    tool "$r" kubectl "$v"
    install -D -m 0644 "$HERE/kubectl_drain.py" "$r$LIB/kubectl/kubectl_drain.py"
    control "$r" kubectl "$v-$REV" admin "" "" "Command-line utility for interacting with a Kubernetes cluster"
    build "$r"
done

r=$WORK/cri-tools
install -D -m 0755 /dev/null "$r/usr/bin/crictl"
sed "s/@CRI_TOOLS_VERSION@/$CRI_TOOLS/" "$HERE/crictl.py" >"$r/usr/bin/crictl"
control "$r" cri-tools "$CRI_TOOLS-$REV" admin "" "" "Command-line utility for interacting with a container runtime"
build "$r"

r=$WORK/kubernetes-cni
mkdir -p "$r/opt/cni/bin"
install -D -m 0644 /dev/stdin "$r/usr/share/doc/kubernetes-cni/README.stand-in" <<TXT
This kubernetes-cni is a TEST STAND-IN for the kubestrap lab: it only makes
/opt/cni/bin (the real package ships the CNI reference plugins $CNI).
TXT
control "$r" kubernetes-cni "$CNI-$REV" net "" "" "Binaries required to provision kubernetes container networking"
build "$r"
