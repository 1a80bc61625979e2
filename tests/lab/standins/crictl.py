#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT the real crictl (cri-tools).
#
# The lab's stand-in "cri-tools" package keeps the real kubeadm package's
# dependency (kubeadm 1.30/1.31 Depends: cri-tools (>= 1.30.0)). It answers:
#   crictl --version
#   crictl ps [-a] [--name REGEX] [-q] [--state STATE] [-o table|json] [--no-trunc]
#       the control-plane "containers" the stand-in kubelet plays, while
#       their process — the stand-in API server unit — runs: etcd and
#       kube-apiserver from the manifests that unit started with (listed
#       until the kubelet stops them, even once the files are moved out),
#       kube-controller-manager and kube-scheduler while their manifest exists;
#       container IDs are 64 hex digits (sha256 of name and manifest, so a
#       changed manifest is a new container), 13 shown in the table as crictl;
#   crictl exec [-i] [-t] [-s] CONTAINER CMD [ARG...]
#       CONTAINER is an ID or a unique ID prefix of a running container; in the
#       etcd container `etcdctl` runs the stand-in etcdctl shipped with the
#       stand-in kubeadm (/usr/lib/kubestrap-standin/kubeadm/etcdctl.py), as the
#       real etcd image carries etcdctl; the exit code is the command's. The
#       command sees the container's mounts (etcd: --data-dir and the etcd
#       certificate directory) at their host paths; other paths are the
#       container's own file system (/var/lib/kubestrap-standin/containers/ID/
#       rootfs), not the host's. An unknown container is containerd's
#       NotFound, exit 1.
# Everything else fails, saying it is a stand-in.
import hashlib
import json
import os
import re
import subprocess
import sys
import time

VERSION = os.environ.get("STANDIN_CRICTL_VERSION", "@CRI_TOOLS_VERSION@")
MANIFESTS = "/etc/kubernetes/manifests"
STANDIN_LIB = "/usr/lib/kubestrap-standin/kubeadm"
APISERVER_UNIT = "kubestrap-standin-apiserver.service"
APISERVER_CONFIG = "/var/lib/kubestrap-standin/apiserver/config.json"
CONTAINERS = "/var/lib/kubestrap-standin/containers"
# what each container's image carries, as the stand-in can play it
BINARIES = {"etcd": {"etcdctl": "etcdctl.py"}}
PODS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
# the copies the stand-in API server makes of the manifests it started from
RUNNING = {"kube-apiserver": "/var/lib/kubestrap-standin/apiserver/manifest.running",
           "etcd": "/var/lib/kubestrap-standin/apiserver/etcd-manifest.running"}


class Fatal(Exception):
    pass


def fatal(msg):
    raise Fatal(msg)


def node_name():
    try:
        with open(APISERVER_CONFIG) as f:
            return json.load(f).get("nodeName") or os.uname().nodename
    except (OSError, ValueError):
        return os.uname().nodename


def unit_started():
    """When the stand-in API server unit (which plays these Pods) started, or None."""
    r = subprocess.run(["systemctl", "show", "-p", "ActiveState", "-p", "ActiveEnterTimestamp", "--timestamp=unix", APISERVER_UNIT],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    props = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    if props.get("ActiveState") != "active":
        return None
    try:
        return float(props.get("ActiveEnterTimestamp", "").lstrip("@"))
    except ValueError:
        return time.time()


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def running_manifest(name):
    """The spec a running container was made from. etcd and kube-apiserver
    run as long as the unit that plays them, from the manifests it started
    with (the API server keeps copies, as the kubelet keeps the running
    Pods' specs): a manifest moved out of the kubelet's directory leaves
    them listed until the kubelet has stopped them, as crictl lists a
    container until it exits. The other Pods are not played: listed while
    their manifest is there."""
    if name in RUNNING:
        return read(RUNNING[name]) or read(os.path.join(MANIFESTS, name + ".yaml"))
    return read(os.path.join(MANIFESTS, name + ".yaml"))


def containers():
    started = unit_started()
    if started is None:
        return []
    out = []
    node = node_name()
    for name in PODS:
        manifest = running_manifest(name)
        if manifest is None:
            continue
        m = re.search(rb"image: *(\S+)", manifest)
        image = m.group(1).decode() if m else name
        cid = hashlib.sha256(b"kubestrap-lab-standin container|" + name.encode() + b"|" + manifest).hexdigest()
        pod = hashlib.sha256(("kubestrap-lab-standin pod|%s-%s" % (name, node)).encode()).hexdigest()
        out.append({"id": cid, "podSandboxId": pod, "metadata": {"name": name, "attempt": 0},
                    "image": {"image": image}, "imageRef": "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
                    "state": "CONTAINER_RUNNING", "createdAt": str(int(started * 1e9)),
                    "labels": {"io.kubernetes.container.name": name, "io.kubernetes.pod.name": "%s-%s" % (name, node),
                               "io.kubernetes.pod.namespace": "kube-system"},
                    "annotations": {"kubestrap.lab/stand-in": "TEST STAND-IN container"}})
    return out


def human_duration(sec):
    """docker/go-units HumanDuration, as crictl's CREATED column."""
    s = int(sec)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return "%d seconds" % s
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return "%d minutes" % m
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return "%d hours" % h
    return "%d days" % (h // 24)


def flags(argv, spec, stop_at_positional=False):
    """pflag-like: spec maps long name → (short, takes value). (values,
    positional); with stop_at_positional, everything after the first
    positional word is positional (exec's command and its arguments)."""
    shorts = {v[0]: k for k, v in spec.items() if v[0]}
    vals, pos, i = {}, [], 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if pos and stop_at_positional:
            pos.append(a)
            continue
        if a == "--":
            pos += argv[i:]
            break
        if a.startswith("--"):
            name, eq, raw = a[2:].partition("=")
            names = [name]
        elif a.startswith("-") and len(a) > 1:
            names, eq, raw = [shorts.get(c, "?" + c) for c in a[1:]], "", ""
        else:
            pos.append(a)
            continue
        for n in names:
            if n not in spec:
                fatal("flag provided but not defined: -%s" % n.lstrip("?"))
            if spec[n][1]:
                if not eq:
                    if i >= len(argv):
                        fatal("flag needs an argument: -%s" % n)
                    raw = argv[i]
                    i += 1
                vals[n] = raw
            else:
                vals[n] = raw not in ("false", "0") if eq else True
    return vals, pos


def cmd_ps(argv):
    v, pos = flags(argv, {"all": ("a", False), "name": ("", True), "quiet": ("q", False), "state": ("", True),
                          "output": ("o", True), "no-trunc": ("", False), "verbose": ("v", False), "latest": ("l", False),
                          "last": ("n", True), "pod": ("p", True), "id": ("", True), "label": ("", True),
                          "image": ("", True), "namespace": ("", True), "resolve-image-path": ("r", False)})
    if pos:
        fatal("crictl ps takes no arguments")
    cs = containers()
    state = (v.get("state") or "").lower()
    if state and state not in ("created", "running", "exited", "unknown"):
        fatal("--state should be one of created, running, exited or unknown")
    if state:
        cs = [c for c in cs if c["state"] == "CONTAINER_" + state.upper()]
    elif not v.get("all"):
        cs = [c for c in cs if c["state"] == "CONTAINER_RUNNING"]
    if v.get("name"):
        try:
            rx = re.compile(v["name"])
        except re.error as e:
            fatal("invalid --name regular expression: %s" % e)
        cs = [c for c in cs if rx.search(c["metadata"]["name"])]
    if v.get("id"):
        cs = [c for c in cs if c["id"].startswith(v["id"])]
    if v.get("namespace"):
        cs = [c for c in cs if re.search(v["namespace"], c["labels"]["io.kubernetes.pod.namespace"])]
    out = v.get("output") or "table"
    if v.get("quiet"):
        for c in cs:
            print(c["id"])
        return 0
    if out == "json":
        print(json.dumps({"containers": cs}, indent=2))
        return 0
    if out != "table":
        fatal('unsupported output format "%s"' % out)
    trunc = (lambda x: x) if v.get("no-trunc") else (lambda x: x[:13])
    rows = [["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"]]
    now = time.time()
    for c in cs:
        rows.append([trunc(c["id"]), c["image"]["image"], human_duration(now - int(c["createdAt"]) / 1e9) + " ago",
                     "Running", c["metadata"]["name"], "0", trunc(c["podSandboxId"]), c["labels"]["io.kubernetes.pod.name"]])
    # text/tabwriter with minwidth 20, padding 3, as crictl's table
    widths = [max([20] + [len(r[i]) + 3 for r in rows]) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("".join(c.ljust(widths[i]) for i, c in enumerate(r[:-1])) + r[-1])
    return 0


def cmd_exec(argv):
    spec = {"interactive": ("i", False), "tty": ("t", False), "sync": ("s", False), "timeout": ("", True),
            "transport": ("r", True)}
    _, pos = flags(argv, spec, stop_at_positional=True)
    if len(pos) < 2:
        fatal("both container ID and command are required")
    want, cmd = pos[0], pos[1:]
    matches = [c for c in containers() if c["id"].startswith(want)]
    if len(matches) != 1:
        fatal('execing command in container: rpc error: code = NotFound desc = an error occurred when try to find container "%s": not found'
              % want)
    c = matches[0]
    script = BINARIES.get(c["metadata"]["name"], {}).get(os.path.basename(cmd[0]))
    if script is None or not os.path.exists(os.path.join(STANDIN_LIB, script)):
        fatal('execing command in container: rpc error: code = Unknown desc = failed to exec in container: failed to start exec "%s": '
              'OCI runtime exec failed: exec failed: unable to start container process: exec: "%s": executable file not found in $PATH: unknown'
              % (hashlib.sha256(" ".join(cmd).encode()).hexdigest(), cmd[0]))
    env = dict(os.environ, **container_env(c))
    return subprocess.run(["/usr/bin/python3", os.path.join(STANDIN_LIB, script)] + cmd[1:], env=env).returncode


def container_env(c):
    """What a process in the container sees of the host: its hostPath mounts
    (for etcd: the --data-dir and the directory of --cert-file, as kubeadm's
    etcd-data and etcd-certs volumes); any other path is the container's own
    file system, kept under CONTAINERS/<id>/rootfs and invisible on the host."""
    name = c["metadata"]["name"]
    mounts = []
    try:
        with open(os.path.join(MANIFESTS, name + ".yaml")) as f:
            text = f.read()
        for flag, fn in (("--data-dir=", lambda v: v), ("--cert-file=", os.path.dirname)):
            m = re.search(re.escape(flag) + r"(\S+)", text)
            if m:
                mounts.append(fn(m.group(1).strip("'\"")))
    except OSError:
        pass
    return {"KUBESTRAP_STANDIN_ROOTFS": os.path.join(CONTAINERS, c["id"], "rootfs"),
            "KUBESTRAP_STANDIN_MOUNTS": ":".join(mounts)}


def main(argv):
    if argv in (["--version"], ["-v"]):
        print("crictl version v%s" % VERSION)
        return 0
    # global flags crictl takes before the command
    while argv and argv[0].startswith("-") and argv[0] not in ("--version", "-v"):
        a = argv.pop(0)
        if "=" not in a and a in ("-r", "--runtime-endpoint", "-i", "--image-endpoint", "-t", "--timeout", "-c", "--config") and argv:
            argv.pop(0)
    try:
        if argv and argv[0] == "ps":
            return cmd_ps(argv[1:])
        if argv and argv[0] == "exec":
            return cmd_exec(argv[1:])
        fatal("crictl of the kubestrap lab is a TEST STAND-IN: %s is not implemented" % " ".join(argv or ["(no command)"]))
    except Fatal as e:
        print('time="%s" level=fatal msg="%s"' % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), str(e).replace('"', '\\"')),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
