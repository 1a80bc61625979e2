#!/usr/bin/env bash
# Checks vagrant/Vagrantfile without booting a VM, the way CI does (.ci/run):
#   ruby -c                    its Ruby syntax
#   vagrant validate           Vagrant's own checks of every machine's settings,
#                              for the default lab and a bigger Debian one:
#     libvirt                  in full, with the vagrant-libvirt plugin
#                              (Debian: apt install vagrant-libvirt)
#     VirtualBox               everything but the provider block
#                              (--ignore-provider): VirtualBox is not in
#                              Debian's archive, and without VBoxManage vagrant
#                              refuses to look at its settings
# A missing ruby or vagrant is an error, never a silent pass. Needs no network
# and no hypervisor; writes nothing into the clone.
set -euo pipefail
cd "$(dirname "$0")"

for c in ruby vagrant; do
    command -v "$c" >/dev/null || { echo "check.sh: $c is not installed (apt-get install ruby vagrant vagrant-libvirt)" >&2; exit 1; }
done

ruby -c Vagrantfile

dot=$(mktemp -d)
trap 'rm -rf "$dot"' EXIT
export VAGRANT_DOTFILE_PATH=$dot/.vagrant VAGRANT_CHECKPOINT_DISABLE=1
export KUBESTRAP_SSH_PUBKEY=/dev/null   # not needed by validate; keeps $HOME out of it

validate() { # validate PROVIDER [vagrant validate options]; environment: the lab's knobs
    local provider=$1
    shift
    echo "check.sh: vagrant validate $* (provider $provider; ${LAB_DESC})" >&2
    VAGRANT_DEFAULT_PROVIDER=$provider vagrant validate "$@"
}

for lab in "" "KUBESTRAP_CONTROL_PLANES=3 KUBESTRAP_WORKERS=4 KUBESTRAP_OS=debian12"; do
    LAB_DESC=${lab:-defaults}
    (
        # shellcheck disable=SC2086 # the knobs are words on purpose
        [[ -n $lab ]] && export $lab
        if vagrant plugin list 2>/dev/null | grep -q '^vagrant-libvirt'; then
            validate libvirt
        else
            echo "check.sh: vagrant-libvirt is not installed: libvirt's settings are not checked" >&2
        fi
        if command -v VBoxManage >/dev/null; then
            validate virtualbox
        else
            validate virtualbox --ignore-provider
        fi
    )
done
echo "check.sh: Vagrantfile ok" >&2
