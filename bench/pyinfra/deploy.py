"""The benchmark's host preparation as a pyinfra deploy.

Run from this directory (bench/run.sh does): pyinfra -y INVENTORY deploy.py

The same work as bench/prepare-hosts.yaml, task for task, in pyinfra's own
idiom: read-only probes are facts (pyinfra runs them while it plans, before
any change, as the playbook runs them before the tasks that use them), the
handler is an operation guarded by the change it follows. bench/endstate.sh
checks after every first run that this leaves the same files as kubestrap
and Ansible do; keep the two in step.
"""

import io
import os

from bench_facts import default_ipv4
from pyinfra import host, inventory
from pyinfra.facts.server import Command
from pyinfra.operations import files, server

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSCTL_FILE = "/etc/sysctl.d/99-kubernetes.conf"


def template_vars():
    """What the playbook's templates see: this host's name and facts, and
    every host's facts by name (hostvars)."""
    hostvars = {h.name: {"ansible_default_ipv4": default_ipv4(h)} for h in inventory}
    return {
        "inventory_hostname": host.name,
        "ansible_default_ipv4": hostvars[host.name]["ansible_default_ipv4"],
        "groups": {"all": [h.name for h in inventory]},
        "hostvars": hostvars,
    }


def version_tuple(text):
    """Leading numbers of a version string: "6.1.0-18-amd64" -> (6, 1, 0)."""
    out = []
    for part in text.replace("-", ".").split("."):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)


def put(name, src, dest):
    """The playbook's copy module: root-owned, 0644."""
    files.put(name=name, src=src, dest=dest, user="root", group="root", mode="644")


# Read-only probes (the playbook's register + changed_when: false tasks).
kernel_release = host.get_fact(Command, "uname -r")
swap_devices = host.get_fact(Command, "swapon --show=NAME --noheadings | wc -l")
ip_forward_now = host.get_fact(Command, "cat /proc/sys/net/ipv4/ip_forward")
ipv4 = default_ipv4(host)

if int(swap_devices or 0) > 0:
    server.shell(name="Swap off now (only when the host has swap active)", commands=["swapoff -a"])

files.replace(
    name="Swap entries in /etc/fstab commented out",
    path="/etc/fstab",
    text=r"^([^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]+.*)$",
    replace=r"# \1",
    extended_regex=True,
)

# overlay needs kernel 4.0 or later.
if version_tuple(kernel_release) >= (4, 0):
    put(
        "Kernel modules for containerd and kube-proxy loaded at boot",
        io.StringIO("overlay\nbr_netfilter\n"),
        "/etc/modules-load.d/k8s.conf",
    )

# Written as Ansible's sysctl module writes it ("key=value"); pyinfra's own
# server.sysctl writes "key = value" and would not leave the same file.
sysctl_file = files.line(
    name="IP forwarding",
    path=SYSCTL_FILE,
    line=r"^net\.ipv4\.ip_forward[[:space:]]*=.*$",
    replace="net.ipv4.ip_forward=1",
)

if ip_forward_now != "1":
    server.shell(
        name="IP forwarding on now (only when it is off)",
        commands=["sysctl -w net.ipv4.ip_forward=1"],
    )

def template(name, src, dest):
    """The playbook's template module: root-owned, 0644, the playbook's
    own template file rendered with Ansible's trim_blocks."""
    files.template(
        name=name,
        src=os.path.join(BENCH, "templates", src),
        dest=dest,
        user="root",
        group="root",
        mode="644",
        jinja_env_kwargs={"trim_blocks": True},
        **TEMPLATE_VARS,
    )


TEMPLATE_VARS = template_vars()
template(
    "Static address pinned (a file only; not applied)",
    "eth0-static.j2",
    "/etc/network/interfaces.d/eth0-static",
)

address = ipv4["address"]
files.line(
    name="This host in /etc/hosts",
    path="/etc/hosts",
    line="^" + address.replace(".", r"\.") + "[[:space:]].*$",
    replace=f"{address} {host.name}.k8s.bench {host.name}",
)

put("Hostname (permanent)", io.StringIO(f"{host.name}-k8s\n"), "/etc/hostname")

template(
    "Every host of the cluster by name (from all hosts' facts)",
    "cluster-hosts.j2",
    "/etc/cluster-hosts",
)

files.directory(
    name="containerd configuration directory",
    path="/etc/containerd",
    user="root",
    group="root",
    mode="755",
)

put(
    "containerd configuration",
    os.path.join(BENCH, "files", "containerd-config.toml"),
    "/etc/containerd/config.toml",
)

# The playbook's handler: once, after everything else, when the file changed.
server.shell(
    name="Apply sysctl file",
    commands=[f"sysctl -p {SYSCTL_FILE}"],
    _if=sysctl_file.did_change,
)
