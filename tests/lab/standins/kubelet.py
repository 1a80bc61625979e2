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
#   - otherwise keeps running until SIGTERM (a later stage adds node status).
import os
import signal
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
    kubeconfig, bootstrap = fl.get("kubeconfig"), fl.get("bootstrap-kubeconfig")
    if kubeconfig and not os.path.exists(kubeconfig):
        if bootstrap and not os.path.exists(bootstrap):
            return fail("failed to run Kubelet: unable to load bootstrap kubeconfig: stat %s: no such file or directory" % bootstrap)
        if not bootstrap:
            return fail("failed to run Kubelet: invalid kubeconfig: stat %s: no such file or directory" % kubeconfig)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s.klog("I", "kubelet.go:1688", '"Started kubelet" (TEST STAND-IN: no pods, no node status)')
    while not stop:
        time.sleep(1)
    s.klog("I", "kubelet.go:1700", '"Shutting down kubelet"')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
