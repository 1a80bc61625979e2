#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubelet.
#
# Installed as /usr/bin/kubelet by the lab's stand-in "kubelet" package
# (tests/lab/standins/build-debs.sh), started by the package's kubelet.service
# (Restart=always, RestartSec=10) with the flags of kubeadm's drop-in
# 10-kubeadm.conf. It runs no pods. Like the real kubelet it:
#   - answers `kubelet --version` ("Kubernetes v1.31.4") and --version=raw;
#   - rejects unknown flags: `"command failed" err="failed to parse kubelet
#     flag: unknown flag: --x"`, exit 1;
#   - exits 1 while its --config file (/var/lib/kubelet/config.yaml, written
#     by kubeadm init/join) is missing, so the unit crash-loops until then;
#   - exits 1 when neither --kubeconfig nor --bootstrap-kubeconfig exists;
#   - refuses to run (exit 1) when its cgroupDriver (kubeadm writes systemd)
#     differs from containerd's (SystemdCgroup = true in /etc/containerd/config.toml
#     means systemd) or containerd's socket is missing;
#   - otherwise serves healthz on 127.0.0.1:10248 (kubeadm waits for it), holds
#     port 10250, registers its Node with the client certificate of
#     kubelet.conf and posts status every 10 s; plays the static Pods the lab
#     can play: starts kubestrap-standin-apiserver.service while
#     kube-apiserver.yaml exists (stops it when the file goes, restarts it
#     when the file differs from the one it runs; checked every second, or
#     every fileCheckFrequency of config.yaml when that is shorter: the real
#     kubelet watches the directory and relists it every fileCheckFrequency,
#     default 20s), and kube-vip (kube-vip.yaml: env address or
#     vip_address + vip_interface): the first control plane with a local API
#     server takes the VIP as /32 when nobody answers on it.
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # leave no __pycache__ in the package directories
sys.path[:0] = [os.path.dirname(os.path.realpath(__file__)), "/usr/lib/kubestrap-standin/kubelet"]
import standin as s  # noqa: E402
from standin import Flag  # noqa: E402

STRING_FLAGS = """address authorization-mode bootstrap-kubeconfig cert-dir cgroup-driver cgroup-root
client-ca-file cloud-provider cluster-dns cluster-domain config config-dir container-log-max-files
container-log-max-size container-runtime-endpoint cpu-manager-policy enforce-node-allocatable
eviction-hard eviction-soft eviction-soft-grace-period feature-gates hairpin-mode healthz-bind-address
healthz-port hostname-override image-credential-provider-bin-dir image-credential-provider-config
image-gc-high-threshold image-gc-low-threshold image-service-endpoint kube-api-burst kube-api-qps
kube-reserved kubeconfig kubelet-cgroups lock-file log-flush-frequency logging-format max-pods
node-ip node-labels node-status-update-frequency pod-cidr pod-infra-container-image
pod-manifest-path port provider-id read-only-port register-with-taints resolv-conf root-dir
runtime-cgroups runtime-request-timeout system-reserved tls-cert-file tls-cipher-suites
tls-min-version tls-private-key-file v vmodule volume-plugin-dir log-file log-dir
topology-manager-policy memory-manager-policy reserved-cpus seccomp-default
""".split()
BOOL_FLAGS = """anonymous-auth authentication-token-webhook cgroups-per-qos fail-swap-on
make-iptables-util-chains protect-kernel-defaults register-node rotate-certificates
rotate-server-certificates serialize-image-pulls exit-on-lock-contention help
""".split()


def fail(err):
    s.klog("E", "run.go:72", '"command failed" err="%s"' % err.replace("\\", "\\\\").replace('"', '\\"'))
    return 1


def parse(argv):
    flags = {n: Flag(n) for n in STRING_FLAGS}
    flags.update({n: Flag(n, "bool") for n in BOOL_FLAGS})
    flags["help"].short = "h"
    flags["v"].short = "v"
    values = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if not a.startswith("-") or a == "-":
            continue  # the real kubelet ignores positional arguments too
        name, eq, raw = a.lstrip("-").partition("=")
        if name == "version":  # NoOptDefVal "true"; also "raw" and "false"
            values["version"] = raw if eq else "true"
            continue
        f = flags.get(name) or next((x for x in flags.values() if x.short == name), None)
        if f is None:
            raise s.UsageError("failed to parse kubelet flag: unknown flag: %s" % a.split("=")[0])
        if f.kind == "bool":
            values[f.name] = (raw if eq else "true") not in ("false", "0")
        elif eq:
            values[f.name] = raw
        elif i < len(argv):
            values[f.name] = argv[i]
            i += 1
        else:
            raise s.UsageError("failed to parse kubelet flag: flag needs an argument: %s" % a)
    return values


def main(argv):
    try:
        fl = parse(argv)
    except s.UsageError as e:
        return fail(str(e))
    if fl.get("help"):
        print("The kubelet is the primary \"node agent\" that runs on each node.\n"
              "(TEST STAND-IN for the kubestrap lab, not Kubernetes)\n\nUsage:\n  kubelet [flags]")
        return 0
    v = fl.get("version", "false")
    if v == "raw":
        print("version.Info{%s}" % s.go_struct(s.version_info())[len("&version.Info{"):-1])
        return 0
    if v not in ("false", "0"):
        print("Kubernetes %s" % s.GIT_VERSION)
        return 0
    s.klog("I", "server.go:486", '"Kubelet version" kubeletVersion="%s" standIn="kubestrap lab TEST STAND-IN, runs no pods"' % s.GIT_VERSION)
    config = fl.get("config")
    if config:
        try:
            with open(config) as f:
                docs = s.load_yaml_all(f.read())
        except FileNotFoundError:
            return fail("failed to load kubelet config file, path: %s, error: failed to load Kubelet config file %s, "
                        'error failed to read kubelet config file "%s", error: open %s: no such file or directory'
                        % (config, config, config, config))
        except (OSError, s.YAMLError) as e:
            return fail("failed to load kubelet config file, path: %s, error: %s" % (config, e))
        doc = docs[0] if docs and isinstance(docs[0], dict) else {}
        if doc.get("kind") != "KubeletConfiguration":
            return fail('failed to load kubelet config file, path: %s, error: failed to decode: no kind "%s" is registered'
                        % (config, doc.get("kind", "")))
    else:
        doc = {}
    kubeconfig, bootstrap = fl.get("kubeconfig"), fl.get("bootstrap-kubeconfig")
    if kubeconfig and not os.path.exists(kubeconfig):
        if bootstrap and not os.path.exists(bootstrap):
            return fail("failed to run Kubelet: unable to load bootstrap kubeconfig: stat %s: no such file or directory" % bootstrap)
        if not bootstrap:
            return fail("failed to run Kubelet: invalid kubeconfig: stat %s: no such file or directory" % kubeconfig)
    # The cgroup driver must agree with the container runtime's (containerd's
    # runc option SystemdCgroup); a mismatch breaks real clusters.
    if config:
        driver = doc.get("cgroupDriver") or "cgroupfs"  # the kubelet's own default; kubeadm writes systemd
        runtime = containerd_cgroup_driver()
        if runtime is None:
            return fail("failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "
                        '"unix:///var/run/containerd/containerd.sock": rpc error: code = Unavailable desc = connection error: '
                        'desc = "transport: Error while dialing: dial unix /var/run/containerd/containerd.sock: connect: no such file or directory"')
        if driver != runtime:
            return fail('failed to run Kubelet: misconfiguration: kubelet cgroup driver: "%s" is different from container runtime '
                        'cgroup driver: "%s" (containerd: /etc/containerd/config.toml SystemdCgroup)' % (driver, runtime))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    try:
        servers = [serve(("127.0.0.1", int(doc.get("healthzPort") or 10248)), b"ok"),
                   serve(("0.0.0.0", int(doc.get("port") or 10250)), b"Unauthorized", 401)]
    except OSError as e:
        return fail("failed to run Kubelet: listen tcp: %s" % e)
    s.klog("I", "kubelet.go:1688", '"Started kubelet" (TEST STAND-IN: runs static Pods as the lab\'s stand-ins only)')
    node = Node(fl, doc)
    static_dir = doc.get("staticPodPath") or fl.get("pod-manifest-path") or ""
    # The real kubelet watches staticPodPath (inotify) and relists it every
    # fileCheckFrequency (default 20s); the stand-in looks every second, or
    # more often when fileCheckFrequency is shorter, so a manifest moved out
    # for fileCheckFrequency (the documented way to restart a static Pod) is
    # always seen gone.
    check = min(1.0, s.parse_duration(doc.get("fileCheckFrequency") or "20s") or 20.0)
    last = 0.0
    while not stop:
        try:
            if static_dir:
                static_pods(static_dir)
            if time.time() - last >= (10 if node.registered else 1):
                last = time.time()
                node.sync()
        except Exception as e:  # a stand-in loop must not die on one bad pass
            s.klog("E", "kubelet.go:2400", '"Stand-in sync failed" err="%s"' % e)
        time.sleep(check)
    for srv in servers:
        srv.shutdown()
    s.klog("I", "kubelet.go:1700", '"Shutting down kubelet"')
    return 0


# ---------------------------------------------------------------- helpers of the running kubelet
APISERVER_UNIT = "kubestrap-standin-apiserver.service"


def containerd_cgroup_driver():
    """"systemd" when containerd's runc runtime has SystemdCgroup = true,
    "cgroupfs" otherwise; None when containerd's socket is missing."""
    if not os.path.exists("/run/containerd/containerd.sock"):
        return None
    try:
        with open("/etc/containerd/config.toml") as f:
            text = f.read()
    except OSError:
        return "cgroupfs"
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"SystemdCgroup\s*=\s*(\S+)", line)
        if m:
            return "systemd" if m.group(1) == "true" else "cgroupfs"
    return "cgroupfs"


def serve(addr, body, code=200):
    import http.server
    import threading

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Srv(http.server.ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True

    srv = Srv(addr, H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def systemctl(*args):
    return subprocess.run(["systemctl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# The stand-in API server copies the manifests it started from here (what the
# real kubelet keeps as the running Pods' spec hashes).
RUNNING_MANIFEST = "/var/lib/kubestrap-standin/apiserver/manifest.running"
RUNNING_ETCD_MANIFEST = "/var/lib/kubestrap-standin/apiserver/etcd-manifest.running"


def read_bytes(path):
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def static_pods(path):
    """The static Pods the lab can play: the stand-in API server with the
    stacked etcd member it hosts (while kube-apiserver.yaml and etcd.yaml
    exist — the API server is of no use without its etcd; recreated when
    either manifest differs from the one it runs, as the kubelet recreates a
    static Pod whose manifest changed) and kube-vip (while kube-vip.yaml exists)."""
    content = read_bytes(os.path.join(path, "kube-apiserver.yaml"))
    etcd = read_bytes(os.path.join(path, "etcd.yaml"))
    active = systemctl("is-active", APISERVER_UNIT).stdout.strip() in ("active", "activating")
    if content is not None and etcd is not None and os.path.exists("/etc/systemd/system/" + APISERVER_UNIT):
        running, running_etcd = read_bytes(RUNNING_MANIFEST), read_bytes(RUNNING_ETCD_MANIFEST)
        if not active:
            s.klog("I", "kubelet.go:2000", '"Starting static pod" pod="kube-system/kube-apiserver" (TEST STAND-IN: %s)' % APISERVER_UNIT)
            systemctl("start", APISERVER_UNIT)
        elif (running is not None and running != content) or (running_etcd is not None and running_etcd != etcd):
            pod = "kube-apiserver" if running != content else "etcd"
            s.klog("I", "kubelet.go:2000", '"Static pod manifest changed, recreating" pod="kube-system/%s"' % pod)
            for f in (RUNNING_MANIFEST, RUNNING_ETCD_MANIFEST):
                try:
                    os.unlink(f)
                except FileNotFoundError:
                    pass
            systemctl("restart", APISERVER_UNIT)
    elif active:
        pod = "kube-apiserver" if content is None else "etcd"
        s.klog("I", "kubelet.go:2000", '"Stopping static pod" pod="kube-system/%s"' % pod)
        systemctl("stop", APISERVER_UNIT)
    kube_vip(path, content is not None)


def kube_vip(path, local_apiserver):
    """kube-vip's ARP mode, as far as the lab needs it: the first control
    plane running it (with a local API server up) takes the VIP as /32 on
    vip_interface; others do not while the VIP answers."""
    f = os.path.join(path, "kube-vip.yaml")
    if not os.path.exists(f):
        return
    try:
        with open(f) as fh:
            pod = s.load_yaml_all(fh.read())[0]
        env = {}
        for c in (pod.get("spec") or {}).get("containers") or []:
            for e in c.get("env") or []:
                env[e.get("name")] = str(e.get("value", ""))
    except (OSError, s.YAMLError, IndexError, AttributeError, TypeError) as e:
        s.klog("E", "file.go:187", '"Could not process manifest file" err="%s" path="%s"' % (e, f))
        return
    addr, dev = env.get("vip_address") or env.get("address"), env.get("vip_interface")
    if not addr or not dev:
        return
    port = int(env.get("port") or 6443)
    if addr in s.host_addresses():
        return
    if not local_apiserver or not answers("127.0.0.1", port):
        return
    if answers(addr, port, 1.0):
        return  # another node holds it
    r = subprocess.run(["ip", "addr", "add", addr + "/32", "dev", dev], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode == 0:
        subprocess.run(["ip", "neigh", "flush", "dev", dev], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # gratuitous ARP is not needed on the lab bridge; neighbours resolve it on demand
        s.klog("I", "kube-vip.go:1", '"Node is assuming leadership of the cluster" vip="%s" interface="%s" (TEST STAND-IN kube-vip)' % (addr, dev))
    else:
        s.klog("E", "kube-vip.go:1", '"Could not add the VIP" vip="%s" err="%s"' % (addr, r.stderr.strip()))


def answers(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Node:
    """Registers the Node and posts its status every 10 s (the API server
    marks it NotReady 40 s after the last post)."""

    def __init__(self, fl, doc):
        self.fl, self.doc = fl, doc
        self.registered = False
        self.client = None
        env = {}
        try:
            with open("/var/lib/kubelet/kubeadm-flags.env") as f:
                m = re.search(r'KUBELET_KUBEADM_ARGS="([^"]*)"', f.read())
                if m:
                    for a in m.group(1).split():
                        k, _, v = a.lstrip("-").partition("=")
                        env[k] = v
        except OSError:
            pass
        self.name = (fl.get("hostname-override") or env.get("hostname-override") or socket.gethostname()).lower()
        self.ip = fl.get("node-ip") or env.get("node-ip") or s.default_address()

    def sync(self):
        kc = self.fl.get("kubeconfig")
        if not kc or not os.path.exists(kc):
            return
        if self.client is None:
            self.client = s.Client.from_kubeconfig(kc, timeout=5)
        try:
            if not self.registered:
                n = self.client.request("GET", "/api/v1/nodes/" + self.name, ok404=True)
                if n is None:
                    self.client.request("POST", "/api/v1/nodes", self.node_object())
                    s.klog("I", "kubelet_node_status.go:76", '"Successfully registered node" node="%s"' % self.name)
                self.registered = True
            self.client.request("PATCH", "/api/v1/nodes/%s/status" % self.name, {"status": self.node_object()["status"]})
        except s.APIError as e:
            if e.code == 404 and self.registered:
                # as the real kubelet: registration happens once per start; a
                # deleted Node is not recreated until the kubelet restarts
                s.klog("E", "kubelet_node_status.go:535", '"Error updating node status, will retry" err="error getting node \\"%s\\": nodes \\"%s\\" not found"'
                       % (self.name, self.name))
                return
            s.klog("E", "kubelet_node_status.go:95", '"Unable to register node with API server" err="%s" node="%s"' % (e, self.name))

    def node_object(self):
        labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux",
                  "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux"}
        for kv in (self.fl.get("node-labels") or "").split(","):
            if "=" in kv:
                k, v = kv.split("=", 1)
                labels[k] = v
        osimage = "Debian GNU/Linux"
        try:
            with open("/etc/os-release") as f:
                m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
                osimage = m.group(1) if m else osimage
        except OSError:
            pass
        ctr = "containerd://unknown"
        try:
            out = subprocess.run(["containerd", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.split()
            ctr = "containerd://" + (out[2] if len(out) > 2 else "unknown")
        except OSError:
            pass
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.name, "labels": labels,
                             "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                                             "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
                "spec": {},
                "status": {"addresses": [{"type": "InternalIP", "address": self.ip}, {"type": "Hostname", "address": self.name}],
                           "nodeInfo": {"kubeletVersion": s.GIT_VERSION, "kubeProxyVersion": "", "osImage": osimage,
                                        "kernelVersion": os.uname().release, "containerRuntimeVersion": ctr,
                                        "operatingSystem": "linux", "architecture": "amd64"}}}

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
