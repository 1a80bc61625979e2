#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubeadm.
#
# Installed as /usr/bin/kubeadm by the lab's stand-in "kubeadm" package
# (tests/lab/standins/build-debs.sh). It imitates the command-line contract of
# the real kubeadm of the version it was built for (see standin.py) so
# kubestrap's integration tests can drive it; it creates no cluster.
#
# Implemented: `kubeadm version [-o short|yaml|json]`,
# `kubeadm config images list [--kubernetes-version V] [--image-repository R]
# [--config F] [-o text|json|yaml]`. Every other real subcommand exists but
# fails with "not implemented in the lab stand-in" (a later stage adds
# init/join/reset/token). Unknown flags and subcommands fail as kubeadm's do:
# the message, "To see the stack trace of this error execute with --v=5 or
# higher", exit status 1.
import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the package directories
sys.path[:0] = [os.path.dirname(os.path.realpath(__file__)), "/usr/lib/kubestrap-standin/kubeadm"]
import standin as s  # noqa: E402
from standin import Command, Flag, UsageError  # noqa: E402

DEFAULT_REPOSITORY = "registry.k8s.io"
# What the kubeadm binary of each minor release hard-codes (constants.go of
# the x.y.0 release; 1.31.x kept etcd 3.5.15-0 through 1.31.4).
CONSTANTS = {
    30: {"pause": "3.9", "coredns": "v1.11.1", "etcd": {28: "3.5.12-0", 29: "3.5.12-0", 30: "3.5.12-0"}},
    31: {"pause": "3.10", "coredns": "v1.11.3", "etcd": {29: "3.5.15-0", 30: "3.5.15-0", 31: "3.5.15-0"}},
    32: {"pause": "3.10", "coredns": "v1.11.3", "etcd": {30: "3.5.16-0", 31: "3.5.16-0", 32: "3.5.16-0"}},
    33: {"pause": "3.10", "coredns": "v1.12.0", "etcd": {31: "3.5.21-0", 32: "3.5.21-0", 33: "3.5.21-0"}},
}
K = CONSTANTS[s.MINOR]
MIN_CONTROL_PLANE = (s.MAJOR, s.MINOR - 1, 0)
CONFIG_APIS_OK = ("kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4")
# Flags kubeadm lets --config be mixed with (cmd/kubeadm/app/cmd/util ValidateMixedArguments).
MIX_OK = {"config", "ignore-preflight-errors", "dry-run", "kubeconfig", "v", "rootfs",
          "print-join-command", "node-name", "certificate-key", "upload-certs",
          "skip-phases", "allow-missing-template-keys", "output", "help", "show-managed-fields"}


class KubeadmError(Exception):
    pass


def warn(msg, where="version.go:104"):
    s.klog("W", where, msg)


# ---------------------------------------------------------------- versions
def resolve_version(v):
    """kubernetesVersion → "vX.Y.Z" as kubeadm's KubernetesReleaseVersion:
    a version is used as is; a label (stable, stable-1, latest-1.31, ...)
    needs dl.k8s.io, which the lab cannot reach, so kubeadm falls back to
    its own version with two warnings."""
    v = v.strip()
    if s.semver(v):
        return v if v.startswith("v") else "v" + v
    if v.startswith(("stable", "latest", "ci/", "release/")) or v in ("stable", "latest"):
        label = v.split("/", 1)[-1]
        url = "https://dl.k8s.io/release/%s.txt" % label
        warn('could not fetch a Kubernetes version from the internet: unable to get URL "%s": '
             'Get "%s": dial tcp: lookup dl.k8s.io: no such host' % (url, url))
        warn("falling back to the local client version: %s" % s.GIT_VERSION, "version.go:105")
        return s.GIT_VERSION
    raise KubeadmError('version "%s" doesn\'t match patterns for neither semantic version nor labels (stable, latest, ...)' % v)


def check_min_version(v):
    if s.semver(v) < MIN_CONTROL_PLANE:
        raise KubeadmError(
            "this version of kubeadm only supports deploying clusters with the control plane version >= %d.%d.%d. Current version: %s"
            % (MIN_CONTROL_PLANE + (v,)))


def etcd_version(v):
    minor = s.semver(v)[1]
    table = K["etcd"]
    if minor in table:
        return table[minor]
    nearest = table[min(table) if minor < min(table) else max(table)]
    warn("could not find officially supported version of etcd for Kubernetes %s, falling back to the nearest etcd version (%s)"
         % (v, nearest), "etcd.go:63")
    return nearest


# ---------------------------------------------------------------- config files
def load_cluster_config(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise KubeadmError('unable to read config from "%s" : %s' % (path, os_error(e)))
    try:
        docs = s.load_yaml_all(text)
    except s.YAMLError as e:
        raise KubeadmError("error converting YAML to JSON: yaml: %s" % e)
    cluster = {}
    for d in docs:
        if not isinstance(d, dict):
            continue
        api, kind = d.get("apiVersion", ""), d.get("kind", "")
        if api.startswith("kubeadm.k8s.io/") and api not in CONFIG_APIS_OK:
            raise KubeadmError(
                'your configuration file uses an old API spec: "%s". Please use kubeadm v1.22 instead and run '
                "'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, "
                "similar spec using a newer API version." % api)
        if kind == "ClusterConfiguration":
            cluster = d
    return cluster


def os_error(e):
    reason = {2: "no such file or directory", 13: "permission denied", 21: "is a directory"}.get(e.errno, e.strerror.lower())
    return "open %s: %s" % (e.filename, reason)


# ---------------------------------------------------------------- commands
def cmd_version(cmd, args, fl):
    info = s.version_info()
    out = fl["output"]
    if out == "":
        print("kubeadm version: %s" % s.go_struct(info))
    elif out == "short":
        print(s.GIT_VERSION)
    elif out == "json":
        print(s.to_json({"clientVersion": info}))
    elif out == "yaml":
        print(s.to_yaml({"clientVersion": info}))
    else:
        raise KubeadmError("invalid output format: %s" % out)


def images(version, repo, cluster):
    tag = version.replace("+", "_")
    out = ["%s/%s:%s" % (repo, c, tag) for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")]
    if not (cluster.get("proxy") or {}).get("disabled"):
        out.append("%s/kube-proxy:%s" % (repo, tag))
    dns = cluster.get("dns") or {}
    if not dns.get("disabled"):
        dns_repo = dns.get("imageRepository") or (repo + "/coredns" if repo == DEFAULT_REPOSITORY else repo)
        out.append("%s/coredns:%s" % (dns_repo, dns.get("imageTag") or K["coredns"]))
    out.append("%s/pause:%s" % (repo, K["pause"]))
    etcd = cluster.get("etcd") or {}
    if "external" not in etcd:
        local = etcd.get("local") or {}
        out.append("%s/etcd:%s" % (local.get("imageRepository") or repo, local.get("imageTag") or etcd_version(version)))
    return out


def cmd_images_list(cmd, args, fl):
    if args:
        raise KubeadmError('unknown command "%s" for "kubeadm config images list"' % args[0])
    cluster = {}
    if fl["config"]:
        mixed = sorted(n for n in fl["_set"] if n not in MIX_OK)
        if mixed:
            raise KubeadmError("can not mix '--config' with arguments %s" % ("[" + " ".join(mixed) + "]"))
        cluster = load_cluster_config(fl["config"])
        version = str(cluster.get("kubernetesVersion") or "stable-1")
        repo = cluster.get("imageRepository") or DEFAULT_REPOSITORY
    else:
        version = fl["kubernetes-version"]
        repo = fl["image-repository"]
    version = resolve_version(version)
    check_min_version(version)
    imgs = images(version, repo, cluster)
    out = fl["output"]
    if out == "text":
        print("\n".join(imgs))
    elif out == "json":
        print(s.to_json({"kind": "Images", "apiVersion": "output.kubeadm.k8s.io/v1alpha3", "images": imgs}, 4))
    elif out == "yaml":
        print("apiVersion: output.kubeadm.k8s.io/v1alpha3\nimages:\n" + "".join("- %s\n" % i for i in imgs) + "kind: Images")
    else:
        raise KubeadmError('unable to match a printer suitable for the output format "%s", allowed formats are: json,text,yaml' % out)


def not_implemented(cmd, args, fl):
    raise KubeadmError("`%s` is not implemented in the kubestrap lab's TEST STAND-IN kubeadm" % cmd.path())


def build():
    persistent = [Flag("v", short="v", help="number for the log level verbosity"),
                  Flag("rootfs", help="The path to the 'real' host root filesystem.")]
    root = Command("kubeadm", persistent=persistent,
                   short="kubeadm: easily bootstrap a secure Kubernetes cluster (TEST STAND-IN)")
    out_flag = [Flag("output", short="o", help="Output format; available options are 'yaml', 'json' and 'short'")]
    root.add(Command("version", cmd_version, out_flag, short="Print the version of kubeadm"))
    config = Command("config", persistent=[Flag("kubeconfig", default="/etc/kubernetes/admin.conf")],
                     short="Manage configuration for a kubeadm cluster")
    imgs = Command("images", short="Interact with container images used by kubeadm")
    list_flags = [
        Flag("allow-missing-template-keys", "bool", True),
        Flag("config", help="Path to a kubeadm configuration file."),
        Flag("feature-gates", help="A set of key=value pairs that describe feature gates"),
        Flag("image-repository", default=DEFAULT_REPOSITORY, help="Choose a container registry to pull control plane images from"),
        Flag("kubernetes-version", default="stable-1", help="Choose a specific Kubernetes version for the control plane."),
        Flag("output", short="o", default="text", help="Output format. One of: text|json|yaml."),
        Flag("show-managed-fields", "bool"),
    ]
    imgs.add(Command("list", cmd_images_list, list_flags, short="Print a list of images kubeadm will use"),
             Command("pull", not_implemented, short="Pull images used by kubeadm", args="loose"))
    config.add(imgs)
    for name in ("migrate", "print", "validate"):
        config.add(Command(name, not_implemented, args="loose"))
    root.add(config)
    for name in ("init", "join", "reset", "token", "upgrade", "certs", "kubeconfig", "alpha", "completion"):
        root.add(Command(name, not_implemented, args="loose"))
    return root


def main(argv):
    root = build()
    try:
        cmd, args, fl = parse_cmd(root, argv)
        if fl.get("help"):
            print(s.help_text(cmd))
            return 0
        if cmd.run is None:
            if args:
                raise UsageError('unknown command "%s" for "%s"' % (args[0], cmd.path()), cmd)
            print(s.help_text(cmd))
            return 0
        cmd.run(cmd, args, fl)
        return 0
    except (UsageError, KubeadmError) as e:
        print(e, file=sys.stderr)
        print("To see the stack trace of this error execute with --v=5 or higher", file=sys.stderr)
        return 1


def parse_cmd(root, argv):
    # Subcommands the stand-in does not implement yet take any flags.
    cmd = root
    for w in argv:
        if w.startswith("-") or w not in cmd.subs:
            break
        cmd = cmd.subs[w]
    if cmd.args == "loose":
        return cmd, [], {"help": "--help" in argv or "-h" in argv}
    cmd, args, fl = s.parse(root, argv)
    fl["_set"] = set_flags(cmd, argv)
    return cmd, args, fl


def set_flags(cmd, argv):
    names = set()
    shorts = {f.short: f.name for f in cmd.all_flags().values() if f.short}
    for a in argv:
        if a == "--":
            break
        if a.startswith("--"):
            names.add(a[2:].split("=", 1)[0])
        elif a.startswith("-") and len(a) > 1 and a[1] in shorts:
            names.add(shorts[a[1]])
    return names


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
