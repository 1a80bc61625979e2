#!/usr/bin/env bash
# Prints the kubestrap inventory for the VMs vagrant/Vagrantfile boots, from
# the same environment variables (KUBESTRAP_CONTROL_PLANES, KUBESTRAP_WORKERS,
# KUBESTRAP_NET, KUBESTRAP_USER; see the Vagrantfile). With none set it prints
# inventory/vagrant.yaml exactly (a test checks that):
#
#   KUBESTRAP_CONTROL_PLANES=3 KUBESTRAP_WORKERS=4 vagrant/inventory.sh > inventory/vagrant-3-4.yaml
#   kubestrap inventory check -i inventory/vagrant-3-4.yaml
#
# With several control planes the endpoint stays cp1's address (no virtual
# IP): kube-vip would hold a virtual IP on the default route's interface,
# which on these VMs is the NAT interface only Vagrant uses.
set -euo pipefail

cps=${KUBESTRAP_CONTROL_PLANES:-1}
workers=${KUBESTRAP_WORKERS:-2}
net=${KUBESTRAP_NET:-192.168.56}
user=${KUBESTRAP_USER:-kubestrap}
if ! [[ $cps =~ ^[1-9]$ && $workers =~ ^[0-9]+$ ]] || ((workers > 79)); then
    echo "inventory.sh: KUBESTRAP_CONTROL_PLANES must be 1-9 and KUBESTRAP_WORKERS 0-79" >&2
    exit 2
fi

cat <<YAML
# The VMs of vagrant/Vagrantfile: $cps control plane(s), $workers worker(s) on $net.0/24.
# Written by vagrant/inventory.sh; see README.md, "Try it on Vagrant VMs".
#
#   kubestrap inventory check -i inventory/vagrant.yaml
#   kubestrap apply -i inventory/vagrant.yaml
cluster:
  name: vagrant
  kubernetes_version: "1.31.4"
YAML
cat <<YAML
  # Vagrant already wrote each VM's private address as static configuration,
  # and the default route belongs to the NAT interface only Vagrant uses, so
  # kubestrap leaves the network configuration alone.
  static_ip: false
  # Calico from a file next to the Vagrantfile (a relative path is relative
  # to the directory kubestrap runs in, here the repository's root). Fetch
  # it once, as README.md shows, or use manifest_url with manifest_sha256.
  calico:
    version: v3.29.1
    manifest_file: vagrant/calico.yaml
defaults:
  # Created by the Vagrantfile with your public key and passwordless sudo.
  user: $user
  become: true
  # No identity_file: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa,
  # the key whose .pub the Vagrantfile installed.
hosts:
YAML
for ((i = 1; i <= cps; i++)); do
    printf '  cp%d:\n    address: %s.%d\n    roles: [control_plane]\n' "$i" "$net" $((10 + i))
done
for ((i = 1; i <= workers; i++)); do
    printf '  w%d:\n    address: %s.%d\n    roles: [worker]\n' "$i" "$net" $((20 + i))
done
