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
# [--config F] [-o text|json|yaml]`, `kubeadm init --config F [--upload-certs]
# [--skip-phases ..] [--ignore-preflight-errors ..]`, `kubeadm init phase
# upload-certs --upload-certs [--config F]`, `kubeadm join --config F`,
# `kubeadm token create|list|delete|generate`, `kubeadm reset -f`,
# `kubeadm config validate --config F` (see README.md for the contract).
# Other real subcommands exist but fail with "not implemented in the lab
# stand-in". Unknown flags and subcommands fail as kubeadm's do:
# the message, "To see the stack trace of this error execute with --v=5 or
# higher", exit status 1.
import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the package directories
sys.path[:0] = [os.path.dirname(os.path.realpath(__file__)), "/usr/lib/kubestrap-standin/kubeadm"]
import standin as s  # noqa: E402
from standin import Command, Flag, UsageError  # noqa: E402
import kubeadm_certs  # noqa: E402
import kubeadm_upgrade  # noqa: E402
import kubeadm_etcd  # noqa: E402

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
          "skip-phases", "allow-missing-template-keys", "output", "help", "show-managed-fields",
          "skip-token-print", "skip-certificate-key-print", "allow-experimental-api"}


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
def read_config_docs(path):
    """The YAML documents of a --config file, failing as kubeadm does when it cannot read or parse it."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise KubeadmError('unable to read config from "%s" : %s' % (path, os_error(e)))
    try:
        docs = s.load_yaml_all(text)
    except s.YAMLError as e:
        raise KubeadmError("error converting YAML to JSON: yaml: %s" % e)
    return docs


def load_cluster_config(path):
    docs = read_config_docs(path)
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


# ================================================================ cluster commands
# init / join / token / reset / init phase upload-certs / config validate.
# Files written are the real kubeadm's; the "static Pods" are played by the
# stand-in kubelet (kubelet.py) and the stand-in API server (apiserver.py).
import ipaddress  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

KDIR = "/etc/kubernetes"
MANIFESTS = KDIR + "/manifests"
KUBELET_DIR = "/var/lib/kubelet"
STATEDIR = "/var/lib/kubestrap-standin/apiserver"
UNIT = "kubestrap-standin-apiserver.service"
UNIT_PATH = "/etc/systemd/system/" + UNIT
LIBDIR = "/usr/lib/kubestrap-standin/kubeadm"
DEFAULT_CRI = "unix:///var/run/containerd/containerd.sock"
CONTROL_PLANE_PODS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
DEFAULT_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
CERTS_TTL = 2 * 3600
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
               "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


class PhaseError(KubeadmError):
    def __init__(self, phase, msg):
        super().__init__("error execution phase %s: %s" % (phase, msg))


def say(msg=""):
    print(msg, flush=True)


# ---------------------------------------------------------------- config schema (strict decoding)
A = "any"  # free-form value
S, B, I, L = "string", "bool", "int", "list"
ARGS = "args"  # v1beta4: [{name, value}]; v1beta3: map[string]string
NODEREG = {"name": S, "criSocket": S, "taints": A, "kubeletExtraArgs": ARGS, "ignorePreflightErrors": [S],
           "imagePullPolicy": S, "imagePullSerial": B}
ENDPOINT = {"advertiseAddress": S, "bindPort": I}
TIMEOUTS = {k: S for k in ("controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall",
                           "etcdAPICall", "tlsBootstrap", "discovery", "upgradeManifests")}
COMPONENT = {"extraArgs": ARGS, "extraVolumes": A, "extraEnvs": A}
TOKEN = {"token": S, "description": S, "ttl": "duration", "expires": S, "usages": [S], "groups": [S]}
SCHEMA = {
    "InitConfiguration": {"bootstrapTokens": [TOKEN], "nodeRegistration": NODEREG, "localAPIEndpoint": ENDPOINT,
                          "certificateKey": S, "skipPhases": [S], "patches": {"directory": S}, "dryRun": B,
                          "timeouts": TIMEOUTS},
    "ClusterConfiguration": {
        "etcd": {"local": {"imageRepository": S, "imageTag": S, "dataDir": S, "extraArgs": ARGS, "extraEnvs": A,
                           "serverCertSANs": [S], "peerCertSANs": [S]},
                 "external": {"endpoints": [S], "caFile": S, "certFile": S, "keyFile": S}},
        "networking": {"serviceSubnet": S, "podSubnet": S, "dnsDomain": S},
        "kubernetesVersion": S, "controlPlaneEndpoint": S,
        "apiServer": dict(COMPONENT, certSANs=[S], timeoutForControlPlane="duration"),
        "controllerManager": COMPONENT, "scheduler": COMPONENT,
        "dns": {"imageRepository": S, "imageTag": S, "disabled": B}, "proxy": {"disabled": B},
        "certificatesDir": S, "imageRepository": S, "featureGates": A, "clusterName": S,
        "encryptionAlgorithm": S, "certificateValidityPeriod": "duration", "caCertificateValidityPeriod": "duration"},
    "JoinConfiguration": {
        "nodeRegistration": NODEREG, "caCertPath": S,
        "discovery": {"bootstrapToken": {"token": S, "apiServerEndpoint": S, "caCertHashes": [S],
                                         "unsafeSkipCAVerification": B},
                      "file": {"kubeConfigPath": S}, "tlsBootstrapToken": S, "timeout": "duration"},
        "controlPlane": {"localAPIEndpoint": ENDPOINT, "certificateKey": S},
        "skipPhases": [S], "patches": {"directory": S}, "dryRun": B, "timeouts": TIMEOUTS},
    "ResetConfiguration": {"cleanupTmpDir": B, "certificatesDir": S, "criSocket": S, "dryRun": B, "force": B,
                           "ignorePreflightErrors": [S], "skipPhases": [S], "unmountFlags": A},
}
V1BETA3_ONLY = {("ClusterConfiguration", "apiServer", "timeoutForControlPlane"), ("JoinConfiguration", "discovery", "timeout")}
V1BETA4_ONLY = {("InitConfiguration", "timeouts"), ("JoinConfiguration", "timeouts"), ("InitConfiguration", "dryRun"),
                ("JoinConfiguration", "dryRun"), ("ClusterConfiguration", "encryptionAlgorithm"),
                ("ClusterConfiguration", "certificateValidityPeriod"), ("ClusterConfiguration", "caCertificateValidityPeriod"),
                ("ClusterConfiguration", "etcd", "local", "extraEnvs"), ("ClusterConfiguration", "apiServer", "extraEnvs"),
                ("ClusterConfiguration", "controllerManager", "extraEnvs"), ("ClusterConfiguration", "scheduler", "extraEnvs"),
                ("InitConfiguration", "nodeRegistration", "imagePullSerial"), ("JoinConfiguration", "nodeRegistration", "imagePullSerial")}
GO_TYPE = {S: "string", B: "bool", I: "int32", "duration": "v1.Duration"}


def go_kind(v):
    return {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}.get(type(v), "null")


def check_schema(doc, schema, path, kind, version, unknown, fatal):
    for k, v in doc.items():
        if path == () and k in ("apiVersion", "kind"):
            continue
        full = path + (k,)
        if (kind,) + full in (V1BETA3_ONLY if version == "v1beta4" else V1BETA4_ONLY) or k not in schema:
            unknown.append(".".join(full))
            continue
        sch = schema[k]
        where = "Go struct field %s.%s" % (kind, ".".join(full))
        if v is None or sch == A:
            continue
        if sch == ARGS:
            if version == "v1beta4":
                if not isinstance(v, list):
                    fatal.append("json: cannot unmarshal %s into %s of type []%s.Arg" % (go_kind(v), where, version))
                    continue
                for i, a in enumerate(v):
                    if not isinstance(a, dict) or set(a) - {"name", "value"}:
                        if isinstance(a, dict):
                            unknown.extend("%s[%d].%s" % (".".join(full), i, x) for x in sorted(set(a) - {"name", "value"}))
                        else:
                            fatal.append("json: cannot unmarshal %s into %s of type %s.Arg" % (go_kind(a), where, version))
            elif not isinstance(v, dict):
                fatal.append("json: cannot unmarshal %s into %s of type map[string]string" % (go_kind(v), where))
            continue
        if isinstance(sch, dict):
            if not isinstance(v, dict):
                fatal.append("json: cannot unmarshal %s into %s of type %s.%s" % (go_kind(v), where, version, k[0].upper() + k[1:]))
            else:
                check_schema(v, sch, full, kind, version, unknown, fatal)
        elif isinstance(sch, list):
            if not isinstance(v, list):
                fatal.append("json: cannot unmarshal %s into %s of type []%s" % (go_kind(v), where, "string" if sch[0] == S else version + ".BootstrapToken"))
                continue
            for i, item in enumerate(v):
                if isinstance(sch[0], dict):
                    if not isinstance(item, dict):
                        fatal.append("json: cannot unmarshal %s into %s of type %s.BootstrapToken" % (go_kind(item), where, version))
                    else:
                        check_schema(item, sch[0], path + ("%s[%d]" % (k, i),), kind, version, unknown, fatal)
                elif not isinstance(item, str):
                    fatal.append("json: cannot unmarshal %s into %s of type string" % (go_kind(item), where))
        elif sch == "duration":
            if not isinstance(v, str):
                fatal.append("json: cannot unmarshal %s into %s of type v1.Duration" % (go_kind(v), where))
            elif s.parse_duration(v) is None:
                fatal.append('time: invalid duration "%s"' % v)
        elif sch == S and not isinstance(v, str):
            if k == "kubernetesVersion" and isinstance(v, (int, float)):
                fatal.append("json: cannot unmarshal number into %s of type string" % where)
            elif not isinstance(v, (int, float)) or isinstance(v, bool):
                fatal.append("json: cannot unmarshal %s into %s of type string" % (go_kind(v), where))
            else:
                fatal.append("json: cannot unmarshal number into %s of type string" % where)
        elif sch == B and not isinstance(v, bool):
            fatal.append("json: cannot unmarshal %s into %s of type bool" % (go_kind(v), where))
        elif sch == I and (not isinstance(v, int) or isinstance(v, bool)):
            fatal.append("json: cannot unmarshal %s into %s of type int32" % (go_kind(v), where))


def load_config(path, want, strict=False):
    """Reads a kubeadm --config file: {kind: doc}. `want` is "init" or "join"."""
    docs = read_config_docs(path)
    out = {}
    for d in docs:
        if d is None:
            continue
        if not isinstance(d, dict):
            raise KubeadmError("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go value of type map[string]interface {}" % go_kind(d))
        api, kind = d.get("apiVersion") or "", d.get("kind") or ""
        if not kind:
            raise KubeadmError("Object 'Kind' is missing in '%s'" % json.dumps(d, separators=(",", ":"))[:200])
        if not api:
            raise KubeadmError("Object 'apiVersion' is missing in '%s'" % json.dumps(d, separators=(",", ":"))[:200])
        gvk = 'schema.GroupVersionKind{Group:"%s", Version:"%s", Kind:"%s"}' % (api.split("/")[0] if "/" in api else "", api.split("/")[-1], kind)
        if api.startswith("kubeadm.k8s.io/"):
            if api not in CONFIG_APIS_OK:
                raise KubeadmError(
                    'your configuration file uses an old API spec: "%s". Please use kubeadm v1.22 instead and run '
                    "'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, "
                    "similar spec using a newer API version." % api)
            if kind not in SCHEMA:
                raise KubeadmError('no kind "%s" is registered for version "%s" in scheme "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"' % (kind, api))
            version = api.split("/")[1]
            if version == "v1beta3":
                warn('your configuration file uses a deprecated API spec: "%s" (kind: "%s"). Please use \'kubeadm config migrate '
                     "--old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version." % (api, kind),
                     "common.go:101")
            unknown, fatal = [], []
            check_schema(d, SCHEMA[kind], (), kind, version, unknown, fatal)
            if fatal:
                raise KubeadmError(fatal[0])
            if unknown:
                msg = "error unmarshaling configuration %s: strict decoding error: %s" % (
                    gvk, ", ".join('unknown field "%s"' % u for u in unknown))
                if strict:
                    raise KubeadmError(msg)
                warn(msg, "initconfiguration.go:331" if want == "init" else "joinconfiguration.go:115")
            if kind in out:
                raise KubeadmError('invalid configuration for GroupVersionKind %s: kind and apiVersion is mandatory information that must be specified' % gvk)
            out[kind] = dict(d, _version=version)
        elif kind == "KubeletConfiguration" and api == "kubelet.config.k8s.io/v1beta1":
            out[kind] = d
        elif kind == "KubeProxyConfiguration" and api == "kubeproxy.config.k8s.io/v1alpha1":
            out[kind] = d
        else:
            warn("[config] WARNING: Ignored configuration document with GroupVersionKind %s" % gvk.replace("schema.GroupVersionKind", ""), "utils.go:69")
    if want == "join":
        for k in list(out):
            if k != "JoinConfiguration":
                warn("[config] WARNING: Ignored YAML document with GroupVersionKind %s" % k, "utils.go:69")
        if "JoinConfiguration" not in out:
            raise KubeadmError("no JoinConfiguration found in the supplied config")
    return out


def args_map(v, version):
    """extraArgs as a list of (name, value)."""
    if not v:
        return []
    if version == "v1beta4":
        return [(a.get("name", ""), str(a.get("value", ""))) for a in v]
    return sorted((k, str(x)) for k, x in v.items())


def valid_ip(v):
    try:
        ipaddress.ip_address(v)
        return True
    except ValueError:
        return False


def split_hostport(v):
    """host, port of "host[:port]" (port may be empty)."""
    if v.startswith("["):
        m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", v)
        return (m.group(1), m.group(2) or "") if m else (None, None)
    if v.count(":") > 1:
        return (v, "") if valid_ip(v) else (None, None)
    host, _, port = v.partition(":")
    return host, port


def valid_host(h):
    return bool(h) and (valid_ip(h) or bool(DNS1123.match(h)))


def fail_validation(errs):
    if errs:
        raise KubeadmError(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")


def validate_token(t, field):
    if not s.TOKEN_RE.match(t or ""):
        raise KubeadmError('%sthe bootstrap token "%s" was not of the form "%s"' % (field, t, s.TOKEN_RE_TEXT))


def timeouts(doc, version):
    t = {"controlPlaneComponentHealthCheck": 240.0, "kubeletHealthCheck": 240.0, "kubernetesAPICall": 60.0,
         "tlsBootstrap": 300.0, "discovery": 300.0}
    if version == "v1beta4":
        for k, v in (doc.get("timeouts") or {}).items():
            d = s.parse_duration(v)
            if d is None:
                raise KubeadmError('time: invalid duration "%s"' % v)
            t[k] = d
    return t


def node_name(nodereg, errs, field="nodeRegistration.name"):
    name = nodereg.get("name") or socket.gethostname().lower()
    if not DNS1123.match(name) or len(name) > 253:
        errs.append('%s: Invalid value: "%s": %s' % (field, name, DNS1123_MSG))
    return name


def cidrs(v):
    out = []
    for part in str(v).split(","):
        out.append(ipaddress.ip_network(part.strip(), strict=False))
    return out


def build_init(fl):
    """The effective init configuration from --config (or flags)."""
    if fl["config"]:
        mixed = sorted(n for n in fl["_set"] if n not in MIX_OK)
        if mixed:
            raise KubeadmError("can not mix '--config' with arguments %s" % ("[" + " ".join(mixed) + "]"))
        docs = load_config(fl["config"], "init")
    else:
        docs = {}
        nodereg = {"criSocket": fl.get("cri-socket") or None, "name": fl.get("node-name") or None}
        initc = {"_version": "v1beta4", "nodeRegistration": {k: v for k, v in nodereg.items() if v},
                 "localAPIEndpoint": {"advertiseAddress": fl.get("apiserver-advertise-address") or "",
                                      "bindPort": int(fl.get("apiserver-bind-port") or 6443)}}
        if fl.get("token"):
            initc["bootstrapTokens"] = [{"token": fl["token"], "ttl": fl.get("token-ttl") or "24h0m0s"}]
        docs["InitConfiguration"] = initc
        docs["ClusterConfiguration"] = {"_version": "v1beta4", "kubernetesVersion": fl.get("kubernetes-version") or "stable-1",
                                        "controlPlaneEndpoint": fl.get("control-plane-endpoint") or "",
                                        "networking": {"podSubnet": fl.get("pod-network-cidr") or "",
                                                       "serviceSubnet": fl.get("service-cidr") or "10.96.0.0/12"},
                                        "imageRepository": fl.get("image-repository") or DEFAULT_REPOSITORY}
    initc = docs.get("InitConfiguration") or {"_version": "v1beta4"}
    cluster = docs.get("ClusterConfiguration") or {"_version": initc["_version"]}
    kubelet = docs.get("KubeletConfiguration") or {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}
    proxy = docs.get("KubeProxyConfiguration")
    errs = []
    # bootstrap tokens
    tokens = []
    for i, t in enumerate(initc.get("bootstrapTokens") or [{}]):
        tok = t.get("token") or gen_token()
        validate_token(tok, "")
        ttl = t.get("ttl")
        ttl = 86400.0 if ttl is None else s.parse_duration(ttl)
        usages = t.get("usages") or ["signing", "authentication"]
        for u in usages:
            if u not in ("signing", "authentication"):
                errs.append('bootstrapTokens[%d].usages: Invalid value: "%s": usages can be "authentication" or "signing"' % (i, u))
        groups = t.get("groups") or [DEFAULT_TOKEN_GROUP]
        for g in groups:
            if not re.fullmatch(r"system:bootstrappers(:[a-z0-9:-]{0,255}[a-z0-9])?", g):
                errs.append('bootstrapTokens[%d].groups: Invalid value: "%s": bootstrap group "%s" is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z)' % (i, g, g))
        tokens.append({"token": tok, "ttl": ttl, "usages": usages, "groups": groups, "description": t.get("description") or "",
                       "expires": t.get("expires")})
    nodereg = dict(initc.get("nodeRegistration") or {})
    if fl.get("node-name"):
        nodereg["name"] = fl["node-name"]
    name = node_name(nodereg, errs)
    ep = initc.get("localAPIEndpoint") or {}
    adv = ep.get("advertiseAddress") or s.default_address()
    if not valid_ip(adv):
        errs.append('localAPIEndpoint.advertiseAddress: Invalid value: "%s": cannot parse IP address' % adv)
    port = ep.get("bindPort") or 6443
    if not 0 < int(port) < 65536:
        errs.append('localAPIEndpoint.bindPort: Invalid value: %s: port number must be between 1 and 65535, inclusive' % port)
    key = initc.get("certificateKey") or fl.get("certificate-key") or ""
    if key:
        try:
            if len(bytes.fromhex(key)) != 32:
                errs.append('certificateKey: Invalid value: "%s": invalid certificate key size %d, the key must be 32 bytes' % (key, len(bytes.fromhex(key))))
        except ValueError:
            errs.append('certificateKey: Invalid value: "%s": certificate key decoding error: encoding/hex: invalid byte' % key)
    cpe = cluster.get("controlPlaneEndpoint") or ""
    if cpe:
        host, p = split_hostport(cpe)
        if not valid_host(host) or (p and not (p.isdigit() and 0 < int(p) < 65536)):
            errs.append('controlPlaneEndpoint: Invalid value: "%s": must be a valid host[:port] (an IP address or a DNS-1123 subdomain)' % cpe)
    net = cluster.get("networking") or {}
    svc = net.get("serviceSubnet") or "10.96.0.0/12"
    pod = net.get("podSubnet") or ""
    svcn = podn = None
    try:
        svcn = cidrs(svc)
    except ValueError:
        errs.append('networking.serviceSubnet: Invalid value: "%s": couldn\'t parse subnet' % svc)
    if pod:
        try:
            podn = cidrs(pod)
        except ValueError:
            errs.append('networking.podSubnet: Invalid value: "%s": couldn\'t parse subnet' % pod)
    if svcn and podn and any(a.overlaps(b) for a in svcn for b in podn if a.version == b.version):
        errs.append('networking.podSubnet: Invalid value: "%s": the pod subnet overlaps with the service subnet "%s"' % (pod, svc))
    dns_domain = net.get("dnsDomain") or "cluster.local"
    for component in ("apiServer", "controllerManager", "scheduler"):
        for n, _ in args_map((cluster.get(component) or {}).get("extraArgs"), cluster["_version"]):
            if not n:
                errs.append("%s.extraArgs: Required value: name is required" % component)
    if (kubelet.get("cgroupDriver") or "systemd") not in ("systemd", "cgroupfs"):
        errs.append('cgroupDriver: Invalid value: "%s": must be "systemd" or "cgroupfs"' % kubelet.get("cgroupDriver"))
    fail_validation(errs)
    version = resolve_version(str(cluster.get("kubernetesVersion") or "stable-1"))
    check_min_version(version)
    if s.semver(version)[1] > s.MINOR:
        warn("Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. Kubernetes version: %s. Kubeadm version: %d.%d.x"
             % (version, s.MAJOR, s.MINOR), "version.go:271")
    t = timeouts(initc, initc["_version"])
    if initc["_version"] == "v1beta3" and (cluster.get("apiServer") or {}).get("timeoutForControlPlane"):
        t["controlPlaneComponentHealthCheck"] = s.parse_duration(cluster["apiServer"]["timeoutForControlPlane"])
    return {"init": initc, "cluster": cluster, "kubelet": kubelet, "proxy": proxy, "tokens": tokens, "name": name,
            "adv": adv, "port": int(port), "key": key, "cpe": cpe, "svc": svc, "svcn": svcn, "pod": pod,
            "dnsDomain": dns_domain, "version": version, "timeouts": t, "nodereg": nodereg,
            "pki": cluster.get("certificatesDir") or KDIR + "/pki",
            "repo": cluster.get("imageRepository") or DEFAULT_REPOSITORY,
            "clusterName": cluster.get("clusterName") or "kubernetes",
            "skip": set((initc.get("skipPhases") or []) + fl.get("skip-phases", [])),
            "ignore": set(x.lower() for x in (nodereg.get("ignorePreflightErrors") or []) + fl.get("ignore-preflight-errors", []))}


def gen_token():
    import secrets
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(6)) + "." + "".join(secrets.choice(alphabet) for _ in range(16))


def endpoint_url(cfg):
    cpe = cfg["cpe"]
    if cpe:
        host, port = split_hostport(cpe)
        return "https://%s:%s" % ("[%s]" % host if ":" in host else host, port or cfg["port"])
    return "https://%s:%d" % (cfg["adv"], cfg["port"])


# ---------------------------------------------------------------- preflight
def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def port_in_use(port):
    sk = socket.socket()
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sk.bind(("0.0.0.0", port))
        return False
    except OSError:
        return True
    finally:
        sk.close()


def cri_error(endpoint):
    path = endpoint[len("unix://"):] if endpoint.startswith("unix://") else endpoint
    sk = socket.socket(socket.AF_UNIX)
    try:
        sk.settimeout(2)
        sk.connect(path)
    except OSError as e:
        reason = "no such file or directory" if isinstance(e, FileNotFoundError) else "connection refused" if isinstance(e, ConnectionRefusedError) else str(e)
        return ('container runtime is not running: validate service connection: validate CRI v1 runtime API for endpoint "%s": '
                'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix %s: connect: %s"'
                % (endpoint, path, reason))
    finally:
        sk.close()
    conf = read("/etc/containerd/config.toml") or ""
    if re.search(r'^\s*disabled_plugins\s*=\s*\[[^\]]*"(io\.containerd\.grpc\.v1\.)?cri"', conf, re.M):
        return ('container runtime is not running: validate service connection: validate CRI v1 runtime API for endpoint "%s": '
                'rpc error: code = Unimplemented desc = unknown service runtime.v1.RuntimeService' % endpoint)
    return None


def preflight(checks, ignore, phase="preflight"):
    """checks: list of (name, error-or-None, is_warning)."""
    errors, warnings = [], []
    for name, msg, is_warn in checks:
        if not msg:
            continue
        if is_warn or "all" in ignore or name.lower() in ignore:
            warnings.append((name, msg))
        else:
            errors.append((name, msg))
    for name, msg in warnings:
        say("\t[WARNING %s]: %s" % (name, msg))
    if errors:
        lines = "".join("\t[ERROR %s]: %s\n" % e for e in errors)
        raise KubeadmError("error execution phase %s: [preflight] Some fatal errors occurred:\n%s"
                           "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`"
                           % (phase, lines))


def kubelet_version_check(control_plane_version=None):
    """kubeadm's KubeletVersion check: the installed kubelet (`kubelet --version`)
    must not be older than kubeadm supports (3 minors) nor, when the control
    plane's version is known (init, control-plane join), of a newer minor."""
    try:
        out = subprocess.run(["kubelet", "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    except OSError as e:
        return ("KubeletVersion", "couldn't get kubelet version: %s" % e, False)
    m = re.search(r"v(\d+\.\d+\.\d+\S*)", out)
    if not m:
        return ("KubeletVersion", "couldn't get kubelet version: cannot parse output: %s" % out.strip(), False)
    kv = s.semver(m.group(1))
    if kv < (s.MAJOR, s.MINOR - 3, 0):
        return ("KubeletVersion", 'Kubelet version "%s" is lower than kubeadm can support. Please upgrade kubelet' % m.group(1), False)
    cv = s.semver(control_plane_version) if control_plane_version else None
    if cv and (kv[0] > cv[0] or kv[1] > cv[1]):
        return ("KubeletVersion", 'the kubelet version is higher than the control plane version. This is not a supported version skew '
                'and may lead to a malfunctional cluster. Kubelet version: "%s" Control plane version: "%s"'
                % (m.group(1), control_plane_version.lstrip("v")), False)
    return ("KubeletVersion", None, False)


def common_checks(cri, kubelet_cfg, control_plane, manifests_check=True):
    c = []
    if os.geteuid() != 0:
        raise KubeadmError("error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR IsPrivilegedUser]: user is not running as root\n"
                           "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`")
    err = cri_error(cri)
    c.append(("CRI", err, False))
    swaps = (read("/proc/swaps") or "").strip().splitlines()[1:]
    if swaps:
        if kubelet_cfg.get("failSwapOn") is False:
            c.append(("Swap", "swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, or disable swap on the node", True))
        else:
            c.append(("Swap", "running with swap on is not supported. Please disable swap", False))
    if (read("/proc/sys/net/ipv4/ip_forward") or "").strip() != "1":
        c.append(("FileContent--proc-sys-net-ipv4-ip_forward", "/proc/sys/net/ipv4/ip_forward contents are not set to 1", False))
    enabled = subprocess.run(["systemctl", "is-enabled", "kubelet.service"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    if enabled != "enabled":
        c.append(("Service-Kubelet", "kubelet service is not enabled, please run 'systemctl enable kubelet.service'", True))
    c.append(("Port-10250", "Port 10250 is in use" if port_in_use(10250) else None, False))
    if control_plane:
        ncpu = os.cpu_count() or 1
        try:
            ncpu = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            pass
        c.append(("NumCPU", "the number of available CPUs %d is less than the required 2" % ncpu if ncpu < 2 else None, False))
        mem = 0
        m = re.search(r"MemTotal:\s+(\d+)", read("/proc/meminfo") or "")
        if m:
            mem = int(m.group(1)) // 1024
        c.append(("Mem", "the system RAM (%d MB) is less than the minimum 1700 MB" % mem if mem < 1700 else None, False))
        for p in (6443, 10257, 10259, 2379, 2380):
            c.append(("Port-%d" % p, "Port %d is in use" % p if port_in_use(p) else None, False))
        if manifests_check:
            for pod in CONTROL_PLANE_PODS:
                f = "%s/%s.yaml" % (MANIFESTS, pod)
                c.append(("FileAvailable-%s" % f.replace("/", "-"), "%s already exists" % f if os.path.exists(f) else None, False))
        try:
            if os.listdir("/var/lib/etcd"):
                c.append(("DirAvailable--var-lib-etcd", "/var/lib/etcd is not empty", False))
        except FileNotFoundError:
            pass
    return c


# ---------------------------------------------------------------- certificates and kubeconfigs
def pki_path(cfg, name):
    return os.path.join(cfg["pki"], name)


def load_or_make_ca(cfg, base, cn, label):
    crt, key = pki_path(cfg, base + ".crt"), pki_path(cfg, base + ".key")
    if os.path.exists(crt) and os.path.exists(key):
        try:
            a = s.openssl("x509", "-in", crt, "-noout", "-pubkey")
            b = s.openssl("pkey", "-in", key, "-pubout")
        except s.CryptoError as e:
            raise PhaseError("certs/" + label, "failure loading %s certificate authority: %s" % (label, e))
        if a != b:
            raise PhaseError("certs/" + label, "failure loading %s certificate authority: private key does not match public key" % label)
        text = s.openssl("x509", "-in", crt, "-noout", "-text").decode()
        if "CA:TRUE" not in text:
            raise PhaseError("certs/" + label, "failure loading %s certificate authority: %s certificate is not a certificate authority" % (label, label))
        say("[certs] Using existing %s certificate authority" % label)
        return
    if os.path.exists(crt) and not os.path.exists(key):
        raise PhaseError("certs/" + label, "failure loading %s certificate authority: couldn't load the private key file %s: open %s: no such file or directory"
                         % (label, key, key))
    say('[certs] Generating "%s" certificate and key' % label)
    s.make_ca(crt, key, cn)


def leaf(cfg, base, label, ca, cn, orgs=(), usage="client", dns=(), ips=()):
    crt, key = pki_path(cfg, base + ".crt"), pki_path(cfg, base + ".key")
    if os.path.exists(crt) and os.path.exists(key):
        say("[certs] Using existing %s certificate and key on disk" % label)
        return
    say('[certs] Generating "%s" certificate and key' % label)
    if dns or ips:
        say("[certs] %s serving cert is signed for DNS names [%s] and IPs [%s]" % (label, " ".join(dns), " ".join(ips)))
    s.make_cert(crt, key, pki_path(cfg, ca + ".crt"), pki_path(cfg, ca + ".key"), cn, orgs, usage, dns, ips)


def make_pki(cfg, have_cas=False):
    os.makedirs(cfg["pki"] + "/etcd", exist_ok=True)
    say('[certs] Using certificateDir folder "%s"' % cfg["pki"])
    if not have_cas:
        load_or_make_ca(cfg, "ca", "kubernetes", "ca")
    svc_ip = str(next(iter(cfg["svcn"][0].hosts()))) if cfg["svcn"] else "10.96.0.1"
    dns = [cfg["name"], "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + cfg["dnsDomain"]]
    ips = [svc_ip, cfg["adv"]]
    host = split_hostport(cfg["cpe"])[0] if cfg["cpe"] else None
    for san in ([host] if host else []) + list((cfg["cluster"].get("apiServer") or {}).get("certSANs") or []):
        (ips if valid_ip(san) else dns).append(san) if san not in ips + dns else None
    leaf(cfg, "apiserver", "apiserver", "ca", "kube-apiserver", (), "server", dns, ips)
    leaf(cfg, "apiserver-kubelet-client", "apiserver-kubelet-client", "ca", "kube-apiserver-kubelet-client", ("kubeadm:cluster-admins",))
    if not have_cas:
        load_or_make_ca(cfg, "front-proxy-ca", "front-proxy-ca", "front-proxy-ca")
    leaf(cfg, "front-proxy-client", "front-proxy-client", "front-proxy-ca", "front-proxy-client")
    if not have_cas:
        load_or_make_ca(cfg, "etcd/ca", "etcd-ca", "etcd/ca")
    edns, eips = [cfg["name"], "localhost"], [cfg["adv"], "127.0.0.1", "::1"]
    leaf(cfg, "etcd/server", "etcd/server", "etcd/ca", cfg["name"], (), "both", edns, eips)
    leaf(cfg, "etcd/peer", "etcd/peer", "etcd/ca", cfg["name"], (), "both", edns, eips)
    leaf(cfg, "etcd/healthcheck-client", "etcd/healthcheck-client", "etcd/ca", "kube-etcd-healthcheck-client")
    leaf(cfg, "apiserver-etcd-client", "apiserver-etcd-client", "etcd/ca", "kube-apiserver-etcd-client")
    if not os.path.exists(pki_path(cfg, "sa.key")):
        say('[certs] Generating "sa" key and public key')
        s.gen_key(pki_path(cfg, "sa.key"))
        s.write_private(pki_path(cfg, "sa.pub"), s.openssl("pkey", "-in", pki_path(cfg, "sa.key"), "-pubout"), 0o644)


def write_kubeconfig(cfg, fname, cn, orgs, server):
    ca = read(pki_path(cfg, "ca.crt"))
    d = tempfile_dir()
    try:
        key = os.path.join(d, "k")
        s.gen_key(key)
        cert = s.sign_csr(s.make_csr(key, cn, orgs), pki_path(cfg, "ca.crt"), pki_path(cfg, "ca.key"), "client")
        with open(key, "rb") as f:
            kp = f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    s.write_private(os.path.join(KDIR, fname), s.kubeconfig(server, cfg["clusterName"], cn if fname != "kubelet.conf" else "system:node:" + cfg["name"], ca, cert, kp))


def tempfile_dir():
    import tempfile
    return tempfile.mkdtemp(prefix="kubeadm-standin-")


def kubelet_client_cert(cfg, name):
    """/var/lib/kubelet/pki/kubelet-client-current.pem (cert + key), as after TLS bootstrap."""
    pem_dir = KUBELET_DIR + "/pki"
    os.makedirs(pem_dir, exist_ok=True)
    d = tempfile_dir()
    try:
        key = os.path.join(d, "k")
        s.gen_key(key)
        cert = s.sign_csr(s.make_csr(key, "system:node:" + name, ("system:nodes",)), pki_path(cfg, "ca.crt"), pki_path(cfg, "ca.key"))
        with open(key, "rb") as f:
            kp = f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    write_client_pem(cert, kp)


def write_client_pem(cert, key):
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S")
    path = "%s/pki/kubelet-client-%s.pem" % (KUBELET_DIR, stamp)
    s.write_private(path, cert + key)
    cur = KUBELET_DIR + "/pki/kubelet-client-current.pem"
    try:
        os.unlink(cur)
    except FileNotFoundError:
        pass
    os.symlink(path, cur)


def kubelet_kubeconfig(server, cluster, name, ca):
    pem = KUBELET_DIR + "/pki/kubelet-client-current.pem"
    s.write_private(KDIR + "/kubelet.conf", s.kubeconfig(server, cluster, "system:node:" + name, ca, cert_file=pem, key_file=pem))


# ---------------------------------------------------------------- static pods, kubelet files
def flag_list(defaults, extra):
    d = dict(defaults)
    for n, v in extra:
        d[n] = v
    return ["--%s=%s" % (k, v) for k, v in sorted(d.items())]


def static_pod(name, image, command, port, probe_host, scheme="HTTPS"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"labels": {"component": name, "tier": "control-plane"}, "name": name, "namespace": "kube-system",
                         "annotations": {"kubestrap.lab/stand-in": "TEST STAND-IN: played by the lab's stand-in kubelet/apiserver"}},
            "spec": {"containers": [{"command": command, "image": image, "imagePullPolicy": "IfNotPresent", "name": name,
                                     "livenessProbe": {"httpGet": {"host": probe_host, "path": "/livez" if name == "kube-apiserver" else "/healthz",
                                                                   "port": port, "scheme": scheme}}}],
                     "hostNetwork": True, "priority": 2000001000, "priorityClassName": "system-node-critical",
                     "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
            "status": {}}


def write_manifests(cfg, etcd=True):
    os.makedirs(MANIFESTS, exist_ok=True)
    v, repo, pki, adv = cfg["version"], cfg["repo"], cfg["pki"], cfg["adv"]
    ver = cfg["cluster"]["_version"]
    comp = lambda c: args_map((cfg["cluster"].get(c) or {}).get("extraArgs"), ver)  # noqa: E731
    say('[control-plane] Using manifest folder "%s"' % MANIFESTS)
    api = flag_list({"advertise-address": adv, "allow-privileged": "true", "authorization-mode": "Node,RBAC",
                     "client-ca-file": pki + "/ca.crt", "enable-admission-plugins": "NodeRestriction",
                     "enable-bootstrap-token-auth": "true", "etcd-servers": "https://127.0.0.1:2379",
                     "etcd-cafile": pki + "/etcd/ca.crt", "etcd-certfile": pki + "/apiserver-etcd-client.crt",
                     "etcd-keyfile": pki + "/apiserver-etcd-client.key", "secure-port": str(cfg["port"]),
                     "service-cluster-ip-range": cfg["svc"], "tls-cert-file": pki + "/apiserver.crt",
                     "tls-private-key-file": pki + "/apiserver.key", "service-account-key-file": pki + "/sa.pub",
                     "service-account-signing-key-file": pki + "/sa.key",
                     "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
                     "proxy-client-cert-file": pki + "/front-proxy-client.crt", "proxy-client-key-file": pki + "/front-proxy-client.key",
                     "requestheader-client-ca-file": pki + "/front-proxy-ca.crt", "requestheader-allowed-names": "front-proxy-client",
                     "requestheader-username-headers": "X-Remote-User", "requestheader-group-headers": "X-Remote-Group",
                     "kubelet-client-certificate": pki + "/apiserver-kubelet-client.crt",
                     "kubelet-client-key": pki + "/apiserver-kubelet-client.key"}, comp("apiServer"))
    cm_defaults = {"authentication-kubeconfig": KDIR + "/controller-manager.conf", "authorization-kubeconfig": KDIR + "/controller-manager.conf",
                   "bind-address": "127.0.0.1", "client-ca-file": pki + "/ca.crt", "cluster-name": cfg["clusterName"],
                   "cluster-signing-cert-file": pki + "/ca.crt", "cluster-signing-key-file": pki + "/ca.key",
                   "controllers": "*,bootstrapsigner,tokencleaner", "kubeconfig": KDIR + "/controller-manager.conf",
                   "leader-elect": "true", "root-ca-file": pki + "/ca.crt", "service-account-private-key-file": pki + "/sa.key",
                   "use-service-account-credentials": "true"}
    if cfg["pod"]:
        cm_defaults.update({"allocate-node-cidrs": "true", "cluster-cidr": cfg["pod"], "service-cluster-ip-range": cfg["svc"]})
    pods = [("kube-apiserver", ["kube-apiserver"] + api, cfg["port"], adv),
            ("kube-controller-manager", ["kube-controller-manager"] + flag_list(cm_defaults, comp("controllerManager")), 10257, "127.0.0.1"),
            ("kube-scheduler", ["kube-scheduler"] + flag_list({"authentication-kubeconfig": KDIR + "/scheduler.conf",
                                                                "authorization-kubeconfig": KDIR + "/scheduler.conf",
                                                                "bind-address": "127.0.0.1", "kubeconfig": KDIR + "/scheduler.conf",
                                                                "leader-elect": "true"}, comp("scheduler")), 10259, "127.0.0.1")]
    for name, cmd, port, host in pods:
        say('[control-plane] Creating static Pod manifest for "%s"' % name)
        m = static_pod(name, "%s/%s:%s" % (repo, name, v), cmd, port, host)
        s.write_private("%s/%s.yaml" % (MANIFESTS, name), s.dump_yaml(m), 0o600)
    if etcd:
        write_etcd_manifest(cfg)


def write_etcd_manifest(cfg, initial_cluster=None):
    """etcd.yaml: a new cluster of this node, or (join) the members listed
    with this one, as --initial-cluster with --initial-cluster-state=existing."""
    v, repo, pki, adv, ver = cfg["version"], cfg["repo"], cfg["pki"], cfg["adv"], cfg["cluster"]["_version"]
    local = (cfg["cluster"].get("etcd") or {}).get("local") or {}
    etcd_img = "%s/etcd:%s" % (local.get("imageRepository") or repo, local.get("imageTag") or etcd_version(v))
    flags = {"advertise-client-urls": "https://%s:2379" % adv, "cert-file": pki + "/etcd/server.crt",
             "data-dir": local.get("dataDir") or "/var/lib/etcd", "initial-advertise-peer-urls": "https://%s:2380" % adv,
             "initial-cluster": "%s=https://%s:2380" % (cfg["name"], adv), "key-file": pki + "/etcd/server.key",
             "listen-client-urls": "https://127.0.0.1:2379,https://%s:2379" % adv,
             "listen-peer-urls": "https://%s:2380" % adv, "name": cfg["name"],
             "peer-cert-file": pki + "/etcd/peer.crt", "peer-key-file": pki + "/etcd/peer.key",
             "peer-trusted-ca-file": pki + "/etcd/ca.crt", "trusted-ca-file": pki + "/etcd/ca.crt"}
    if initial_cluster:
        flags["initial-cluster"] = ",".join("%s=%s" % m for m in initial_cluster)
        flags["initial-cluster-state"] = "existing"
    else:
        say('[etcd] Creating static Pod manifest for local etcd in "%s"' % MANIFESTS)
    cmd = ["etcd"] + flag_list(flags, args_map(local.get("extraArgs"), ver))
    s.write_private(MANIFESTS + "/etcd.yaml", s.dump_yaml(static_pod("etcd", etcd_img, cmd, 2381, "127.0.0.1", "HTTP")), 0o600)


def kubelet_files(kubelet_doc, cri, pause_repo, extra_args, node_ip=None):
    os.makedirs(KUBELET_DIR, exist_ok=True)
    args = [("container-runtime-endpoint", cri), ("pod-infra-container-image", "%s/pause:%s" % (pause_repo, K["pause"]))]
    if node_ip:
        args.append(("node-ip", node_ip))
    names = {n for n, _ in extra_args}
    args = [(n, v) for n, v in args if n not in names] + list(extra_args)
    flags = " ".join("--%s=%s" % (n, v) for n, v in args)
    say('[kubelet-start] Writing kubelet environment file with flags to file "%s/kubeadm-flags.env"' % KUBELET_DIR)
    s.write_private(KUBELET_DIR + "/kubeadm-flags.env", 'KUBELET_KUBEADM_ARGS="%s"\n' % flags, 0o644)
    say('[kubelet-start] Writing kubelet configuration to file "%s/config.yaml"' % KUBELET_DIR)
    s.write_private(KUBELET_DIR + "/config.yaml", kubelet_doc if isinstance(kubelet_doc, str) else s.dump_yaml(kubelet_doc), 0o644)


def kubelet_config_doc(kubelet, cfg):
    doc = dict(kubelet)
    doc.setdefault("apiVersion", "kubelet.config.k8s.io/v1beta1")
    doc.setdefault("kind", "KubeletConfiguration")
    doc.setdefault("cgroupDriver", "systemd")
    svc_ip = cfg["svcn"][0] if cfg.get("svcn") else ipaddress.ip_network("10.96.0.0/12")
    doc.setdefault("clusterDNS", [str(svc_ip.network_address + 10)])
    doc.setdefault("clusterDomain", cfg["dnsDomain"])
    doc.setdefault("staticPodPath", MANIFESTS)
    doc.setdefault("rotateCertificates", True)
    doc.setdefault("authentication", {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                                      "x509": {"clientCAFile": cfg["pki"] + "/ca.crt"}})
    doc.setdefault("authorization", {"mode": "Webhook"})
    return doc


def systemctl(*args):
    return subprocess.run(["systemctl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def restart_kubelet():
    say("[kubelet-start] Starting the kubelet")
    systemctl("daemon-reload")
    r = systemctl("restart", "kubelet.service")
    if r.returncode != 0:
        warn("[kubelet-start] WARNING: unable to start the kubelet service: [%s]" % r.stderr.strip(), "kubelet.go:52")


def wait_kubelet(timeout, phase):
    say("[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to %s" % s.go_duration(timeout))
    t0 = time.time()
    while True:
        try:
            with socket.create_connection(("127.0.0.1", 10248), timeout=2) as sk:
                sk.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if b"200" in sk.recv(64):
                    say("[kubelet-check] The kubelet is healthy after %.9fs" % (time.time() - t0))
                    return
        except OSError:
            pass
        if time.time() - t0 > timeout:
            break
        time.sleep(0.5)
    say("[kubelet-check] The kubelet is not healthy after %s\n\nUnfortunately, an error has occurred, likely caused by:\n"
        "\t- The kubelet is not running\n\t- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)\n\n"
        "If you are on a systemd-powered system, you can try to troubleshoot the error with the following commands:\n"
        "\t- 'systemctl status kubelet'\n\t- 'journalctl -xeu kubelet'\n" % s.go_duration(timeout))
    raise PhaseError(phase, "failed while waiting for the kubelet: context deadline exceeded")


def retry_api(fn, timeout, what):
    t0 = time.time()
    while True:
        try:
            return fn()
        except s.APIError as e:
            if e.code and e.code not in (429, 500, 503):
                raise
            if time.time() - t0 > timeout:
                raise KubeadmError("%s: %s" % (what, e))
            time.sleep(1)


# ---------------------------------------------------------------- API server unit
def write_apiserver_unit(cfg, upstream=None):
    os.makedirs(STATEDIR, mode=0o700, exist_ok=True)
    os.chmod(STATEDIR, 0o700)
    s.write_private(STATEDIR + "/config.json", json.dumps({"pki": cfg["pki"], "advertiseAddress": cfg["adv"],
                                                           "bindPort": cfg["port"], "upstream": upstream,
                                                           "nodeName": cfg["name"]}, indent=1))
    s.write_private(UNIT_PATH, "# TEST STAND-IN for the kubestrap lab (not Kubernetes): plays the kube-apiserver static Pod.\n"
                    "# Started and stopped by the stand-in kubelet while %s/kube-apiserver.yaml exists.\n"
                    "[Unit]\nDescription=kubestrap lab TEST STAND-IN kube-apiserver (not Kubernetes)\n\n"
                    "[Service]\nExecStart=/usr/bin/python3 %s/apiserver.py %s\nRestart=on-failure\nRestartSec=2\n" % (MANIFESTS, LIBDIR, STATEDIR), 0o644)
    systemctl("daemon-reload")


def wait_apiserver(url, ca, timeout):
    say("[api-check] Waiting for a healthy API server. This can take up to %s" % s.go_duration(timeout))
    t0 = time.time()
    c = s.Client(url, ca_pem=ca, timeout=3)
    last = None
    while time.time() - t0 <= timeout:
        try:
            c.request("GET", "/healthz")
            say("[api-check] The API server is healthy after %.9fs" % (time.time() - t0))
            return
        except s.APIError as e:
            last = e
        time.sleep(0.5)
    raise PhaseError("wait-control-plane", "could not check API server health: %s" % last)


# ---------------------------------------------------------------- API helpers
def admin_client(path=KDIR + "/admin.conf", timeout=10):
    try:
        return s.Client.from_kubeconfig(path, timeout)
    except FileNotFoundError:
        raise KubeadmError("failed to load admin kubeconfig: open %s: no such file or directory" % path)
    except s.APIError as e:
        raise KubeadmError(str(e))


def token_secret(tok, ttl, usages, groups, description, expires=None):
    tid, sec = tok.split(".")
    data = {"token-id": tid, "token-secret": sec}
    if description:
        data["description"] = description
    if expires:
        data["expiration"] = expires
    elif ttl:
        data["expiration"] = s.rfc3339(time.time() + ttl)
    for u in usages:
        data["usage-bootstrap-" + u] = "true"
    if groups:
        data["auth-extra-groups"] = ",".join(groups)
    return {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": "bootstrap-token-" + tid, "namespace": "kube-system"},
            "data": {k: s.b64(v) for k, v in data.items()}}


def create_or_update(c, path, obj):
    name = obj["metadata"]["name"]
    if c.request("GET", path + "/" + name, ok404=True) is None:
        return c.request("POST", path, obj)
    return c.request("PUT", path + "/" + name, obj)


def create_tokens(c, tokens, fail_if_exists=False):
    """kubeadm's UpdateOrCreateTokens: init updates a token that exists,
    `kubeadm token create` (failIfExists) refuses it."""
    for t in tokens:
        tid = t["token"].split(".")[0]
        path = "/api/v1/namespaces/kube-system/secrets/bootstrap-token-" + tid
        if fail_if_exists:
            try:
                exists = c.request("GET", path, ok404=True) is not None
            except s.APIError as e:
                raise KubeadmError('failed to create or update bootstrap token with name bootstrap-token-%s: %s' % (tid, e))
            if exists:
                raise KubeadmError('a token with id "%s" already exists' % tid)
        sec = token_secret(t["token"], t["ttl"], t["usages"], t["groups"], t["description"], t.get("expires"))
        try:
            create_or_update(c, "/api/v1/namespaces/kube-system/secrets", sec)
        except s.APIError as e:
            raise KubeadmError('failed to create or update bootstrap token with name bootstrap-token-%s: %s' % (tid, e))


def upload_certs(c, cfg, key):
    say('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace')
    kb = bytes.fromhex(key)
    tok = gen_token()
    owner = token_secret(tok, CERTS_TTL, [], [], "Proxy for managing TTL for the kubeadm-certs secret")
    owner = c.request("POST", "/api/v1/namespaces/kube-system/secrets", owner)
    data = {}
    files = ["ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub", "etcd/ca.crt", "etcd/ca.key"]
    for fname in files:
        try:
            with open(pki_path(cfg, fname), "rb") as f:
                data[fname.replace("/", "-")] = s.b64(s.seal(kb, f.read()))
        except FileNotFoundError:
            data[fname.replace("/", "-")] = ""
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "kubeadm-certs", "namespace": "kube-system",
                           "ownerReferences": [{"apiVersion": "v1", "kind": "Secret", "name": owner["metadata"]["name"],
                                                "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
              "data": data}
    create_or_update(c, "/api/v1/namespaces/kube-system/secrets", secret)
    say("[upload-certs] Using certificate key:\n%s" % key)


def cluster_config_yaml(cfg):
    doc = {k: v for k, v in cfg["cluster"].items() if not k.startswith("_")}
    doc.update({"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "kubernetesVersion": cfg["version"],
                "certificatesDir": cfg["pki"], "clusterName": cfg["clusterName"], "imageRepository": cfg["repo"],
                "networking": {"dnsDomain": cfg["dnsDomain"], "serviceSubnet": cfg["svc"]}})
    if cfg["pod"]:
        doc["networking"]["podSubnet"] = cfg["pod"]
    if cfg["cpe"]:
        doc["controlPlaneEndpoint"] = cfg["cpe"]
    # v1beta3 extraArgs (maps) are stored as v1beta4 lists, as kubeadm converts them
    for comp in ("apiServer", "controllerManager", "scheduler"):
        if isinstance((doc.get(comp) or {}).get("extraArgs"), dict):
            doc[comp] = dict(doc[comp], extraArgs=[{"name": n, "value": v} for n, v in args_map(doc[comp]["extraArgs"], "v1beta3")])
    return s.dump_yaml(doc)


def configmap(ns, name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def wait_node(c, name, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            n = c.request("GET", "/api/v1/nodes/" + name, ok404=True)
            if n:
                return n
        except s.APIError:
            pass
        time.sleep(0.5)
    raise KubeadmError('error patching Node "%s": timed out waiting for the condition' % name)


def mark_control_plane(c, name, taints, phase="mark-control-plane"):
    say('[mark-control-plane] Marking the node %s as control-plane by adding the labels: '
        '[node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]' % name)
    if taints is None:
        taints = [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    if taints:
        say("[mark-control-plane] Marking the node %s as control-plane by adding the taints [%s]"
            % (name, " ".join("%s:%s" % (t.get("key"), t.get("effect")) for t in taints)))
    try:
        wait_node(c, name, 60)
    except KubeadmError as e:
        raise PhaseError(phase, str(e))
    c.request("PATCH", "/api/v1/nodes/" + name, {"metadata": {"labels": {"node-role.kubernetes.io/control-plane": "",
                                                                         "node.kubernetes.io/exclude-from-external-load-balancers": ""}},
                                                 "spec": {"taints": taints}})


# ---------------------------------------------------------------- kubeadm init
def cmd_init(cmd, args, fl):
    if args:
        raise KubeadmError('unknown command "%s" for "kubeadm init"' % args[0])
    cfg = build_init(fl)
    ver = cfg["init"]["_version"]
    cri = cfg["nodereg"].get("criSocket") or DEFAULT_CRI
    say("[init] Using Kubernetes version: %s" % cfg["version"])
    if "preflight" not in cfg["skip"]:
        say("[preflight] Running pre-flight checks")
        preflight(common_checks(cri, cfg["kubelet"], True) + [kubelet_version_check(cfg["version"])], cfg["ignore"])
        say("[preflight] Pulling images required for setting up a Kubernetes cluster\n"
            "[preflight] This might take a minute or two, depending on the speed of your internet connection\n"
            "[preflight] You can also perform this action beforehand using 'kubeadm config images pull'")
    if cfg["kubelet"].get("cgroupDriver", "systemd") != "systemd":
        pass  # kubeadm accepts it; the kubelet then disagrees with containerd (see kubelet.py)
    # certs
    make_pki(cfg)
    # kubeconfigs
    server = endpoint_url(cfg)
    local = "https://%s:%d" % (cfg["adv"], cfg["port"])
    os.makedirs(KDIR, exist_ok=True)
    say('[kubeconfig] Using kubeconfig folder "%s"' % KDIR)
    for fname, cn, orgs, srv in (("admin.conf", "kubernetes-admin", ("kubeadm:cluster-admins",), server),
                                 ("super-admin.conf", "kubernetes-super-admin", ("system:masters",), server),
                                 ("controller-manager.conf", "system:kube-controller-manager", (), local),
                                 ("scheduler.conf", "system:kube-scheduler", (), local)):
        say('[kubeconfig] Writing "%s" kubeconfig file' % fname)
        write_kubeconfig(cfg, fname, cn, orgs, srv)
    say('[kubeconfig] Writing "kubelet.conf" kubeconfig file')
    kubelet_client_cert(cfg, cfg["name"])
    ca = read(pki_path(cfg, "ca.crt"))
    kubelet_kubeconfig(server, cfg["clusterName"], cfg["name"], ca)
    # control plane
    write_manifests(cfg)
    write_apiserver_unit(cfg)
    kdoc = kubelet_config_doc(cfg["kubelet"], cfg)
    kubelet_files(kdoc, cri, cfg["repo"], args_map(cfg["nodereg"].get("kubeletExtraArgs"), ver))
    restart_kubelet()
    say('[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "%s"' % MANIFESTS)
    wait_kubelet(cfg["timeouts"]["kubeletHealthCheck"], "wait-control-plane")
    wait_apiserver(local, ca, cfg["timeouts"]["controlPlaneComponentHealthCheck"])
    c = admin_client(KDIR + "/super-admin.conf", 10)
    api_t = cfg["timeouts"]["kubernetesAPICall"]
    # upload-config
    say('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace')
    retry_api(lambda: create_or_update(c, "/api/v1/namespaces/kube-system/configmaps",
                                       configmap("kube-system", "kubeadm-config", {"ClusterConfiguration": cluster_config_yaml(cfg)})),
              api_t, "error execution phase upload-config/kubeadm: error uploading the kubeadm ClusterConfiguration")
    say('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the kubelets in the cluster')
    create_or_update(c, "/api/v1/namespaces/kube-system/configmaps", configmap("kube-system", "kubelet-config", {"kubelet": s.dump_yaml(kdoc)}))
    create_or_update(c, "/api/v1/namespaces/kube-system/configmaps",
                     configmap("kube-system", "kubestrap-standin-apiserver", {"primary": local, "note": "TEST STAND-IN: the first API server, for replicas"}))
    # upload-certs
    if fl.get("upload-certs") and "upload-certs" not in cfg["skip"]:
        key = cfg["key"] or os.urandom(32).hex()
        cfg["key"] = key
        upload_certs(c, cfg, key)
    else:
        say("[upload-certs] Skipping phase. Please see --upload-certs")
    # mark-control-plane
    taints = cfg["nodereg"].get("taints") if "taints" in cfg["nodereg"] else None
    mark_control_plane(c, cfg["name"], taints)
    # bootstrap tokens
    say("[bootstrap-token] Using token: %s" % cfg["tokens"][0]["token"])
    say("[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles")
    create_tokens(c, cfg["tokens"])
    say('[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace')
    ci = s.dump_yaml({"apiVersion": "v1", "clusters": [{"cluster": {"certificate-authority-data": s.b64(ca), "server": server}, "name": ""}],
                      "contexts": None, "current-context": "", "kind": "Config", "preferences": {}, "users": None}, sort=False)
    create_or_update(c, "/api/v1/namespaces/kube-public/configmaps", configmap("kube-public", "cluster-info", {"kubeconfig": ci}))
    say('[kubelet-finalize] Updating "/etc/kubernetes/kubelet.conf" to point to a rotatable kubelet client certificate and key')
    # addons
    if not {"addon", "addon/coredns"} & cfg["skip"] and not (cfg["cluster"].get("dns") or {}).get("disabled"):
        dns = cfg["cluster"].get("dns") or {}
        img = "%s/coredns:%s" % (dns.get("imageRepository") or (cfg["repo"] + "/coredns" if cfg["repo"] == DEFAULT_REPOSITORY else cfg["repo"]),
                                 dns.get("imageTag") or K["coredns"])
        create_or_update(c, "/apis/apps/v1/namespaces/kube-system/deployments",
                         {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
                          "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                   "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}},
                                                "spec": {"containers": [{"name": "coredns", "image": img}],
                                                         "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                                                         {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}}})
        say("[addons] Applied essential addon: CoreDNS")
    if not {"addon", "addon/kube-proxy"} & cfg["skip"] and not (cfg["cluster"].get("proxy") or {}).get("disabled"):
        pdoc = dict(cfg["proxy"] or {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration"})
        if cfg["pod"]:
            pdoc.setdefault("clusterCIDR", cfg["pod"])
        create_or_update(c, "/api/v1/namespaces/kube-system/configmaps", configmap("kube-system", "kube-proxy", {"config.conf": s.dump_yaml(pdoc)}))
        create_or_update(c, "/apis/apps/v1/namespaces/kube-system/daemonsets",
                         {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
                          "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                                   "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}},
                                                "spec": {"containers": [{"name": "kube-proxy", "image": "%s/kube-proxy:%s" % (cfg["repo"], cfg["version"])}],
                                                         "tolerations": [{"operator": "Exists"}]}}}})
        say("[addons] Applied essential addon: kube-proxy")
    if "show-join-command" in cfg["skip"]:
        return
    pin = s.pubkey_pin(ca)
    tok = cfg["tokens"][0]["token"] if not fl.get("skip-token-print") else "<value withheld>"
    target = cfg["cpe"] or "%s:%d" % (cfg["adv"], cfg["port"])
    join = "kubeadm join %s --token %s \\\n\t--discovery-token-ca-cert-hash %s " % (target, tok, pin)
    say("\nYour Kubernetes control-plane has initialized successfully!\n\n"
        "To start using your cluster, you need to run the following as a regular user:\n\n"
        "  mkdir -p $HOME/.kube\n  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n"
        "  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n\n"
        "Alternatively, if you are the root user, you can run:\n\n  export KUBECONFIG=/etc/kubernetes/admin.conf\n\n"
        "You should now deploy a pod network to the cluster.\n"
        'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:\n'
        "  https://kubernetes.io/docs/concepts/cluster-administration/addons/\n")
    if cfg["cpe"]:
        if fl.get("upload-certs"):
            key = cfg["key"] if not fl.get("skip-certificate-key-print") else "<value withheld>"
            say("You can now join any number of control-plane nodes running the following command on each as root:\n\n  %s\\\n\t--control-plane --certificate-key %s\n\n"
                "Please note that the certificate-key gives access to cluster sensitive data, keep it secret!\n"
                "As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n"
                '"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.\n' % (join, key))
        else:
            say("You can now join any number of control-plane nodes by copying certificate authorities\n"
                "and service account keys on each node and then running the following as root:\n\n  %s\\\n\t--control-plane \n" % join)
    say("Then you can join any number of worker nodes by running the following on each as root:\n\n%s" % join)


def cmd_upload_certs(cmd, args, fl):
    if not fl.get("upload-certs"):
        say("[upload-certs] Skipping phase. Please see --upload-certs")
        return
    cfg = build_init(fl) if fl.get("config") else {"pki": KDIR + "/pki", "key": fl.get("certificate-key") or ""}
    key = cfg.get("key") or fl.get("certificate-key") or os.urandom(32).hex()
    c = admin_client(fl.get("kubeconfig") or KDIR + "/admin.conf")
    try:
        upload_certs(c, cfg, key)
    except s.APIError as e:
        raise PhaseError("upload-certs", "error uploading certs: %s" % e)


# ---------------------------------------------------------------- kubeadm join
def cmd_join(cmd, args, fl):
    if not fl.get("config"):
        raise KubeadmError("the kubestrap lab's TEST STAND-IN kubeadm implements `kubeadm join --config FILE` only")
    mixed = sorted(n for n in fl["_set"] if n not in MIX_OK)
    if mixed:
        raise KubeadmError("can not mix '--config' with arguments %s" % ("[" + " ".join(mixed) + "]"))
    docs = load_config(fl["config"], "join")
    j = docs["JoinConfiguration"]
    ver = j["_version"]
    errs = []
    nodereg = dict(j.get("nodeRegistration") or {})
    if fl.get("node-name"):
        nodereg["name"] = fl["node-name"]
    name = node_name(nodereg, errs)
    disc = j.get("discovery") or {}
    bt = disc.get("bootstrapToken")
    if bt is None and not disc.get("file"):
        errs.append("discovery: Invalid value: \"\": bootstrapToken or file must be set")
    if bt is not None and disc.get("file"):
        errs.append("discovery: Invalid value: \"\": bootstrapToken and file cannot both be set")
    if disc.get("file"):
        raise KubeadmError("file-based discovery is not implemented in the kubestrap lab's TEST STAND-IN kubeadm")
    bt = bt or {}
    tls_token = disc.get("tlsBootstrapToken") or bt.get("token") or ""
    if not bt.get("token"):
        errs.append('discovery.bootstrapToken.token: Invalid value: "": the bootstrap token is invalid')
    if not tls_token:
        errs.append('discovery.tlsBootstrapToken: Invalid value: "": the bootstrap token is invalid')
    ep = bt.get("apiServerEndpoint") or ""
    host, port = split_hostport(ep) if ep else (None, None)
    if not ep:
        errs.append('discovery.bootstrapToken.apiServerEndpoint: Invalid value: "": discovery.bootstrapToken.apiServerEndpoint must be set')
    elif not valid_host(host) or not port or not port.isdigit():
        errs.append('discovery.bootstrapToken.apiServerEndpoint: Invalid value: "%s": address %s: missing port in address' % (ep, ep) if not port
                    else 'discovery.bootstrapToken.apiServerEndpoint: Invalid value: "%s": invalid address' % ep)
    hashes = bt.get("caCertHashes") or []
    if not hashes and not bt.get("unsafeSkipCAVerification"):
        errs.append('discovery.bootstrapToken: Invalid value: "": using token-based discovery without caCertHashes can be unsafe. '
                    'Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue')
    for h in hashes:
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", h.lower()):
            errs.append('discovery.bootstrapToken.caCertHashes: Invalid value: "%s": invalid hash "%s", expected a "sha256" hash' % (h, h)
                        if not h.lower().startswith("sha256:") else
                        'discovery.bootstrapToken.caCertHashes: Invalid value: "%s": invalid hash "%s", expected a 32 byte SHA-256 hash' % (h, h))
    cp = j.get("controlPlane")
    adv = None
    if cp is not None:
        cpe_ = cp.get("localAPIEndpoint") or {}
        adv = cpe_.get("advertiseAddress") or s.default_address()
        if not valid_ip(adv):
            errs.append('controlPlane.localAPIEndpoint.advertiseAddress: Invalid value: "%s": cannot parse IP address' % adv)
        key = cp.get("certificateKey") or ""
        if key:
            try:
                if len(bytes.fromhex(key)) != 32:
                    errs.append('controlPlane.certificateKey: Invalid value: "%s": invalid certificate key size %d, the key must be 32 bytes' % (key, len(bytes.fromhex(key))))
            except ValueError:
                errs.append('controlPlane.certificateKey: Invalid value: "%s": certificate key decoding error: encoding/hex: invalid byte' % key)
    fail_validation(errs)
    for t, f in ((bt.get("token"), "discovery.bootstrapToken.token: "), (tls_token, "discovery.tlsBootstrapToken: ")):
        validate_token(t, "")
    t = timeouts(j, ver)
    if ver == "v1beta3" and disc.get("timeout"):
        t["discovery"] = s.parse_duration(disc["timeout"])
    ignore = set(x.lower() for x in (nodereg.get("ignorePreflightErrors") or []) + fl.get("ignore-preflight-errors", []))
    skip = set((j.get("skipPhases") or []) + fl.get("skip-phases", []))
    cri = nodereg.get("criSocket") or DEFAULT_CRI
    # preflight
    if "preflight" not in skip:
        say("[preflight] Running pre-flight checks")
        checks = common_checks(cri, {}, False) + [kubelet_version_check()]
        checks.append(("FileAvailable--etc-kubernetes-kubelet.conf", KDIR + "/kubelet.conf already exists" if os.path.exists(KDIR + "/kubelet.conf") else None, False))
        checks.append(("FileAvailable--etc-kubernetes-bootstrap-kubelet.conf", KDIR + "/bootstrap-kubelet.conf already exists" if os.path.exists(KDIR + "/bootstrap-kubelet.conf") else None, False))
        if cp is None:
            ca_path = j.get("caCertPath") or KDIR + "/pki/ca.crt"
            checks.append(("FileAvailable-" + ca_path.replace("/", "-"), "%s already exists" % ca_path if os.path.exists(ca_path) else None, False))
        preflight(checks, ignore)
    # discovery
    say("[preflight] Reading configuration from the cluster...")
    say("[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'")
    try:
        cluster_kc = discover(ep, bt.get("token"), hashes, t["discovery"])
    except KubeadmError as e:
        raise PhaseError("preflight", "couldn't validate the identity of the API Server: %s" % e)
    ca = s.unb64(cluster_kc["certificate-authority-data"]).decode()
    server = cluster_kc["server"]
    tc = s.Client(server, ca_pem=ca, token=tls_token, timeout=10)
    try:
        kcm = retry_api(lambda: tc.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"), t["kubernetesAPICall"],
                        "unable to fetch the kubeadm-config ConfigMap")
    except s.APIError as e:
        raise PhaseError("preflight", "unable to fetch the kubeadm-config ConfigMap: %s" % api_msg(e, "configmaps", "kubeadm-config"))
    cluster = (s.load_yaml_all(kcm["data"]["ClusterConfiguration"]) or [{}])[0]
    cfg = None
    if cp is not None:
        if not cluster.get("controlPlaneEndpoint"):
            raise PhaseError("preflight", "\nOne or more conditions for hosting a new control plane instance is not satisfied.\n\n"
                             "unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address\n\n"
                             "Please ensure that:\n* The cluster has a stable controlPlaneEndpoint address.\n"
                             "* The certificates that must be shared among control plane instances are provided.\n")
        say("[preflight] Running pre-flight checks before initializing the new control plane instance")
        if "preflight" not in skip:
            preflight(common_checks(cri, {}, True) + [kubelet_version_check(cluster.get("kubernetesVersion"))], ignore)
        net = cluster.get("networking") or {}
        cfg = {"cluster": dict(cluster, _version="v1beta4"), "name": name, "adv": adv, "port": int((cp.get("localAPIEndpoint") or {}).get("bindPort") or 6443),
               "cpe": cluster["controlPlaneEndpoint"], "svc": net.get("serviceSubnet") or "10.96.0.0/12", "pod": net.get("podSubnet") or "",
               "dnsDomain": net.get("dnsDomain") or "cluster.local", "version": cluster.get("kubernetesVersion") or s.GIT_VERSION,
               "pki": cluster.get("certificatesDir") or KDIR + "/pki", "repo": cluster.get("imageRepository") or DEFAULT_REPOSITORY,
               "clusterName": cluster.get("clusterName") or "kubernetes"}
        cfg["svcn"] = cidrs(cfg["svc"])
        key = cp.get("certificateKey") or ""
        if key:
            say('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace')
            download_certs(tc, cfg, key)
        else:
            missing = [f for f in ("ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key")
                       if not os.path.exists(pki_path(cfg, f))]
            if missing:
                p = pki_path(cfg, missing[0])
                raise PhaseError("preflight", "\nOne or more conditions for hosting a new control plane instance is not satisfied.\n\n"
                                 "failure loading certificate for CA: couldn't load the certificate file %s: open %s: no such file or directory\n\n"
                                 "Please ensure that:\n* The cluster has a stable controlPlaneEndpoint address.\n"
                                 "* The certificates that must be shared among control plane instances are provided.\n" % (p, p))
        pin_ok = s.pubkey_pin(read(pki_path(cfg, "ca.crt")))
        if pin_ok != s.pubkey_pin(ca):
            raise PhaseError("control-plane-prepare/certs", "the CA certificate in %s does not match the cluster's CA" % pki_path(cfg, "ca.crt"))
        say("[control-plane-prepare] Generating certificates")
        make_pki(cfg, have_cas=True)
        say('[kubeconfig] Using kubeconfig folder "%s"' % KDIR)
        for fname, cn, orgs, srv in (("admin.conf", "kubernetes-admin", ("kubeadm:cluster-admins",), endpoint_url(cfg)),
                                     ("controller-manager.conf", "system:kube-controller-manager", (), "https://%s:%d" % (adv, cfg["port"])),
                                     ("scheduler.conf", "system:kube-scheduler", (), "https://%s:%d" % (adv, cfg["port"]))):
            say('[kubeconfig] Writing "%s" kubeconfig file' % fname)
            write_kubeconfig(cfg, fname, cn, orgs, srv)
        write_manifests(cfg, etcd=False)  # etcd.yaml once the member is announced (control-plane-join/etcd)
        try:
            primary = tc.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubestrap-standin-apiserver")["data"]["primary"]
        except (s.APIError, KeyError):
            primary = server
        write_apiserver_unit(cfg, upstream=primary)
    # kubelet-start: TLS bootstrap with the token
    try:
        existing = tc.request("GET", "/api/v1/nodes/" + name, ok404=True)
    except s.APIError:
        existing = None
    if existing and any(c.get("type") == "Ready" and c.get("status") == "True" for c in (existing.get("status") or {}).get("conditions") or []):
        raise PhaseError("kubelet-start", 'a Node with name "%s" and status "Ready" already exists in the cluster. You must delete the existing Node or change the name of this new joining Node' % name)
    kcfg = tc.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubelet-config")
    kubelet_files(kcfg["data"]["kubelet"], cri, cluster.get("imageRepository") or DEFAULT_REPOSITORY,
                  args_map(nodereg.get("kubeletExtraArgs"), ver))
    say("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
    tls_bootstrap(tc, server, cluster.get("clusterName") or "kubernetes", name, ca, t["tlsBootstrap"])
    restart_kubelet()
    wait_kubelet(t["kubeletHealthCheck"], "kubelet-start")
    if cp is not None:
        nc = s.Client.from_kubeconfig(KDIR + "/admin.conf")
        try:
            kubeadm_etcd.join(nc, cfg, write_etcd_manifest, say)
        except kubeadm_etcd.EtcdClientError as e:
            raise PhaseError("control-plane-join/etcd", "error creating local etcd static pod manifest file: %s" % e)
        say("[control-plane-join] Using existing control plane... (TEST STAND-IN: this replica relays to %s)" % primary)
        wait_apiserver("https://%s:%d" % (adv, cfg["port"]), ca, t["controlPlaneComponentHealthCheck"])
        mark_control_plane(nc, name, nodereg.get("taints") if "taints" in nodereg else None, "control-plane-join/mark-control-plane")
        say("\nThis node has joined the cluster and a new control plane instance was created:\n\n"
            "* Certificate signing request was sent to apiserver and approval was received.\n"
            "* The Kubelet was informed of the new secure connection details.\n"
            "* Control plane label and taint were applied to the new node.\n"
            "* The Kubernetes control plane instances scaled up.\n"
            "* A new etcd member was added to the local/stacked etcd cluster.\n\n"
            "To start administering your cluster from this node, you need to run the following as a regular user:\n\n"
            "\tmkdir -p $HOME/.kube\n\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n"
            "\tsudo chown $(id -u):$(id -g) $HOME/.kube/config\n\n"
            "Run 'kubectl get nodes' to see this node join the cluster.\n")
    else:
        say("\nThis node has joined the cluster:\n"
            "* Certificate signing request was sent to apiserver and a response was received.\n"
            "* The Kubelet was informed of the new secure connection details.\n\n"
            "Run 'kubectl get nodes' on the control-plane to see this node join the cluster.\n")


def api_msg(e, res, name):
    return str(e)


def discover(endpoint, token, hashes, timeout):
    """Token discovery as kubeadm's discovery/token: returns the cluster entry
    of the validated cluster-info kubeconfig."""
    tid, tsec = s.TOKEN_RE.match(token).groups()
    url = "https://" + endpoint
    insecure = s.Client(url, insecure=True, timeout=10)
    path = "/api/v1/namespaces/kube-public/configmaps/cluster-info"

    def get_cluster_info(c):
        t0, last = time.time(), None
        interval = min(5.0, timeout)
        while True:
            try:
                cm = c.request("GET", path)
                if ("jws-kubeconfig-" + tid) in (cm.get("data") or {}):
                    return cm
                last = 'could not find a JWS signature in the cluster-info ConfigMap for token ID "%s"' % tid
            except s.APIError as e:
                last = "failed to request the cluster-info ConfigMap: %s" % e
            if time.time() - t0 + interval > timeout:
                raise KubeadmError(last)
            time.sleep(interval)

    cm = get_cluster_info(insecure)
    data = cm.get("data") or {}
    kc_text = data.get("kubeconfig")
    if not kc_text:
        raise KubeadmError("there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up for token bootstrapping, can't connect")
    jws = data.get("jws-kubeconfig-" + tid)
    if not jws:
        raise KubeadmError('token id "%s" is invalid for this cluster or it has expired. Use "kubeadm token create" on the control-plane node to create a new valid token' % tid)
    if not s.jws_valid(jws, kc_text, tid, tsec):
        raise KubeadmError("failed to verify JWS signature of received cluster info object, can't trust this API Server")
    try:
        kc = s.load_yaml_all(kc_text)[0]
        cluster = kc["clusters"][0]["cluster"]
    except (s.YAMLError, IndexError, KeyError, TypeError):
        raise KubeadmError("malformed kubeconfig in the cluster-info ConfigMap")
    if not hashes:
        return cluster
    ca = s.unb64(cluster["certificate-authority-data"]).decode()
    pin = s.pubkey_pin(ca)
    if pin.lower() not in [h.lower() for h in hashes]:
        raise KubeadmError('cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "%s" are pinned' % pin)
    secure = s.Client(url, ca_pem=ca, timeout=10)
    try:
        cm2 = get_cluster_info(secure)
    except KubeadmError:
        raise
    if cm2["data"].get("kubeconfig") != kc_text:
        raise KubeadmError("the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was different from the first")
    return cluster


def download_certs(tc, cfg, key):
    try:
        secret = tc.request("GET", "/api/v1/namespaces/kube-system/secrets/kubeadm-certs", ok404=True)
    except s.APIError as e:
        raise PhaseError("control-plane-prepare/download-certs", "error downloading certs: error downloading the secret: %s" % e)
    if secret is None:
        raise PhaseError("control-plane-prepare/download-certs",
                         'error downloading certs: error downloading the secret: Secret "kubeadm-certs" was not found in the "kube-system" Namespace. '
                         "This Secret might have expired. Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a new one")
    kb = bytes.fromhex(key)
    out = {}
    try:
        for k, v in (secret.get("data") or {}).items():
            out[k] = s.unseal(kb, s.unb64(v)) if v else b""
    except s.CryptoError as e:
        raise PhaseError("control-plane-prepare/download-certs", "error downloading certs: error decoding secret data with provided key: %s" % e)
    os.makedirs(cfg["pki"] + "/etcd", exist_ok=True)
    for k, v in out.items():
        if not v:
            continue
        fname = k.replace("etcd-", "etcd/", 1) if k.startswith("etcd-") else k
        s.write_private(pki_path(cfg, fname), v, 0o600 if fname.endswith(".key") else 0o644)


def tls_bootstrap(tc, server, cluster, name, ca, timeout):
    os.makedirs(KDIR + "/pki", exist_ok=True)
    if not os.path.exists(KDIR + "/pki/ca.crt"):
        s.write_private(KDIR + "/pki/ca.crt", ca, 0o644)
    d = tempfile_dir()
    try:
        key = os.path.join(d, "k")
        s.gen_key(key)
        csr = s.make_csr(key, "system:node:" + name, ("system:nodes",))
        with open(key, "rb") as f:
            kp = f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    body = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"generateName": "csr-"},
            "spec": {"request": s.b64(csr), "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                     "usages": ["digital signature", "client auth"]}}
    try:
        r = retry_api(lambda: tc.request("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", body), timeout,
                      "error execution phase kubelet-start: timed out waiting for the TLS bootstrap")
    except s.APIError as e:
        raise PhaseError("kubelet-start", "failed to run Kubelet: unable to create certificate signing request: %s" % e)
    cert = (r.get("status") or {}).get("certificate")
    if not cert:
        raise PhaseError("kubelet-start", "the certificate signing request was denied")
    os.makedirs(KUBELET_DIR + "/pki", exist_ok=True)
    write_client_pem(s.unb64(cert), kp)
    kubelet_kubeconfig(server, cluster, name, ca)


# ---------------------------------------------------------------- kubeadm token
def token_client(fl):
    return admin_client(fl.get("kubeconfig") or KDIR + "/admin.conf")


def cmd_token_create(cmd, args, fl):
    tok, ttl, usages, groups, desc = None, None, None, None, fl.get("description") or ""
    if fl.get("config"):
        docs = load_config(fl["config"], "init")
        bts = (docs.get("InitConfiguration") or {}).get("bootstrapTokens") or [{}]
        b = bts[0]
        tok = b.get("token")
        ttl = s.parse_duration(b["ttl"]) if b.get("ttl") else None
        usages, groups, desc = b.get("usages"), b.get("groups"), b.get("description") or desc
    if args:
        tok = args[0]
    tok = tok or gen_token()
    validate_token(tok, "")
    if ttl is None:
        ttl = s.parse_duration(fl.get("ttl") or "24h0m0s")
        if ttl is None:
            raise KubeadmError('invalid argument "%s" for "--ttl" flag: time: invalid duration "%s"' % (fl["ttl"], fl["ttl"]))
    usages = usages or [u for u in (fl.get("usages") or ["signing", "authentication"])]
    groups = groups or fl.get("groups") or [DEFAULT_TOKEN_GROUP]
    c = token_client(fl)
    try:
        create_tokens(c, [{"token": tok, "ttl": ttl, "usages": usages, "groups": groups, "description": desc}], fail_if_exists=True)
    except KubeadmError:
        raise
    if fl.get("print-join-command"):
        kc = s.load_yaml_all(read(fl.get("kubeconfig") or KDIR + "/admin.conf"))[0]
        cl = kc["clusters"][0]["cluster"]
        pin = s.pubkey_pin(s.unb64(cl["certificate-authority-data"]).decode())
        say("kubeadm join %s --token %s --discovery-token-ca-cert-hash %s " % (cl["server"].replace("https://", ""), tok, pin))
    else:
        say(tok)


def cmd_token_list(cmd, args, fl):
    c = token_client(fl)
    items = c.request("GET", "/api/v1/namespaces/kube-system/secrets")["items"]
    rows = []
    for o in items:
        if o.get("type") != "bootstrap.kubernetes.io/token":
            continue
        d = {k: s.unb64(v).decode() for k, v in (o.get("data") or {}).items()}
        exp = d.get("expiration")
        left = (s.parse_rfc3339(exp) - time.time()) if exp else None
        ttl = "<forever>" if left is None else ("%dh" % (left // 3600) if left >= 3600 else "%dm" % (left // 60) if left >= 60 else "%ds" % left)
        usages = ",".join(sorted(k[len("usage-bootstrap-"):] for k, v in d.items() if k.startswith("usage-bootstrap-") and v == "true")) or "<none>"
        rows.append({"token": "%s.%s" % (d.get("token-id"), d.get("token-secret")), "ttl": ttl, "expires": exp or "<never>",
                     "usages": usages, "description": d.get("description") or "<none>", "groups": d.get("auth-extra-groups") or "<none>"})
    out = fl.get("output") or "text"
    if out == "json":
        for r in rows:
            print(s.to_json({"kind": "BootstrapToken", "apiVersion": "output.kubeadm.k8s.io/v1alpha3", "token": r["token"],
                             "description": r["description"], "expires": r["expires"], "usages": r["usages"].split(","),
                             "groups": r["groups"].split(",")}))
        return
    fmt = "%-23s   %-10s  %-20s   %-24s %-58s %s"
    print(fmt % ("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"))
    for r in rows:
        print(fmt % (r["token"], r["ttl"], r["expires"], r["usages"], r["description"], r["groups"]))


def cmd_token_delete(cmd, args, fl):
    if not args:
        raise KubeadmError("missing subcommand; 'token delete' is missing token of form \"%s\" or \"%s\"" % (s.TOKEN_RE_TEXT, "^([a-z0-9]{6})$"))
    c = token_client(fl)
    for a in args:
        tid = a.split(".")[0]
        try:
            c.request("DELETE", "/api/v1/namespaces/kube-system/secrets/bootstrap-token-" + tid)
        except s.APIError as e:
            raise KubeadmError('failed to delete bootstrap token "%s": %s' % (tid, e))
        say('bootstrap token "%s" deleted' % tid)


def cmd_token_generate(cmd, args, fl):
    say(gen_token())


# ---------------------------------------------------------------- kubeadm reset
def cmd_reset(cmd, args, fl):
    if not fl.get("force"):
        raise KubeadmError("the kubestrap lab's TEST STAND-IN kubeadm needs `kubeadm reset -f` (it cannot ask for confirmation)")
    say("[preflight] Running pre-flight checks")
    is_cp = os.path.exists(MANIFESTS + "/kube-apiserver.yaml")
    if not is_cp:
        say('W%s [reset] The kubeadm-config ConfigMap could not be fetched or this node is not a control plane' % time.strftime("%m%d %H:%M:%S"))
        say("[reset] No etcd config found. Assuming external etcd")
    else:
        reset_etcd_member()
    say("[reset] Stopping the kubelet service")
    systemctl("stop", "kubelet.service")
    release_vip()
    systemctl("stop", UNIT)
    systemctl("disable", UNIT)
    for p in (UNIT_PATH,):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
    systemctl("daemon-reload")
    shutil.rmtree(STATEDIR, ignore_errors=True)
    say('[reset] Unmounting mounted directories in "/var/lib/kubelet"')
    dirs = [MANIFESTS, KUBELET_DIR, KDIR + "/pki"]
    say("[reset] Deleting contents of directories: [%s]" % " ".join(dirs))
    for d in dirs + ["/var/lib/etcd"]:
        if os.path.isdir(d):
            for n in os.listdir(d):
                p = os.path.join(d, n)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    os.unlink(p)
    files = [KDIR + "/" + f for f in ("admin.conf", "super-admin.conf", "kubelet.conf", "bootstrap-kubelet.conf", "controller-manager.conf", "scheduler.conf")]
    say("[reset] Deleting files: [%s]" % " ".join(files))
    for f in files:
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass
    say("\nThe reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d\n\n"
        "The reset process does not reset or clean up iptables rules or IPVS tables.\n"
        'If you wish to reset iptables, you must do so manually by using the "iptables" command.\n\n'
        "If your cluster was setup to utilize IPVS, run ipvsadm --clear (or similar)\nto reset your system's IPVS tables.\n\n"
        "The reset process does not clean your kubeconfig files and you must remove them manually.\n"
        "Please, check the contents of the $HOME/.kube/config file.")


def reset_etcd_member():
    """remove-etcd-member: the cluster configuration comes from the kubeadm-config
    ConfigMap (through admin.conf) and the node's advertise address from its
    kube-apiserver manifest, as kubeadm reads them; without them only cleans up."""
    data_dir = "/var/lib/etcd"
    try:
        pod = s.load_yaml_all(read(MANIFESTS + "/etcd.yaml") or "")[0]
        data_dir = next(v["hostPath"]["path"] for v in pod["spec"]["volumes"] if v.get("name") == "etcd-data")
    except (s.YAMLError, IndexError, KeyError, TypeError, StopIteration, AttributeError):
        pass
    cfg, api = None, None
    try:
        api = admin_client(KDIR + "/admin.conf", 10)
        cm = api.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
        cluster = (s.load_yaml_all(cm["data"]["ClusterConfiguration"]) or [{}])[0] or {}
        pod = s.load_yaml_all(read(MANIFESTS + "/kube-apiserver.yaml"))[0]
        flags = dict(a[2:].split("=", 1) for a in pod["spec"]["containers"][0]["command"][1:] if a.startswith("--") and "=" in a)
        local = (cluster.get("etcd") or {}).get("local") or {}
        cfg = {"adv": flags.get("advertise-address"), "pki": cluster.get("certificatesDir") or KDIR + "/pki",
               "dataDir": local.get("dataDir") or "/var/lib/etcd"}
    except (KubeadmError, s.APIError) as e:
        warn("[reset] Unable to fetch the kubeadm-config ConfigMap from cluster: failed to get config map: %s" % e, "reset.go:124")
        api = e
    except (s.YAMLError, IndexError, KeyError, TypeError, AttributeError) as e:
        warn("[reset] Unable to fetch the kubeadm-config ConfigMap from cluster: %s" % e, "reset.go:124")
        api = KubeadmError(str(e))
    kubeadm_etcd.reset_phase(api, cfg, data_dir, say, warn)


def release_vip():
    """kube-vip's static Pod goes away with reset: its address leaves the interface."""
    text = read(MANIFESTS + "/kube-vip.yaml")
    if not text:
        return
    try:
        env = kube_vip_env(s.load_yaml_all(text)[0])
    except (s.YAMLError, IndexError, TypeError, AttributeError):
        return
    addr, dev = env.get("vip_address") or env.get("address"), env.get("vip_interface")
    if addr and dev:
        subprocess.run(["ip", "addr", "del", addr + "/32", "dev", dev], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kube_vip_env(pod):
    env = {}
    for c in ((pod or {}).get("spec") or {}).get("containers") or []:
        for e in c.get("env") or []:
            if isinstance(e, dict) and "name" in e:
                env[e["name"]] = str(e.get("value", ""))
    return env


def cmd_config_validate(cmd, args, fl):
    if not fl.get("config"):
        raise KubeadmError("the --config flag is mandatory")
    docs = load_config(fl["config"], "validate", strict=True)
    if "JoinConfiguration" in docs and "InitConfiguration" not in docs and "ClusterConfiguration" not in docs:
        pass
    else:
        build_init({"config": fl["config"], "_set": {"config"}, "skip-phases": [], "ignore-preflight-errors": []})
    say("ok")


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
    config.add(Command("validate", cmd_config_validate, [Flag("config"), Flag("allow-experimental-api", "bool")],
                       short="Read a list of configuration API files and validate them"))
    for name in ("migrate", "print"):
        config.add(Command(name, not_implemented, args="loose"))
    root.add(config)
    init_flags = [Flag("config"), Flag("upload-certs", "bool"), Flag("skip-phases", "list"), Flag("ignore-preflight-errors", "list"),
                  Flag("certificate-key"), Flag("skip-token-print", "bool"), Flag("skip-certificate-key-print", "bool"),
                  Flag("dry-run", "bool"), Flag("node-name"), Flag("pod-network-cidr"), Flag("service-cidr"),
                  Flag("service-dns-domain"), Flag("control-plane-endpoint"), Flag("apiserver-advertise-address"),
                  Flag("apiserver-bind-port"), Flag("apiserver-cert-extra-sans"), Flag("kubernetes-version"), Flag("token"),
                  Flag("token-ttl"), Flag("cri-socket"), Flag("image-repository"), Flag("feature-gates"), Flag("cert-dir"),
                  Flag("patches")]
    init = Command("init", cmd_init, init_flags, short="Run this command in order to set up the Kubernetes control plane")
    phase = Command("phase", short="Use this command to invoke single phase of the init workflow")
    phase.add(Command("upload-certs", cmd_upload_certs, [Flag("config"), Flag("upload-certs", "bool"), Flag("certificate-key"),
                                                         Flag("skip-certificate-key-print", "bool"), Flag("kubeconfig", default=""),
                                                         Flag("dry-run", "bool")],
                      short="Upload certificates to kubeadm-certs"))
    for name in ("preflight", "certs", "kubeconfig", "etcd", "control-plane", "kubelet-start", "wait-control-plane", "upload-config",
                 "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon", "show-join-command"):
        phase.add(Command(name, not_implemented, args="loose"))
    init.add(phase)
    root.add(init)
    join_flags = [Flag("config"), Flag("ignore-preflight-errors", "list"), Flag("skip-phases", "list"), Flag("node-name"),
                  Flag("token"), Flag("discovery-token"), Flag("tls-bootstrap-token"), Flag("discovery-token-ca-cert-hash", "list"),
                  Flag("discovery-token-unsafe-skip-ca-verification", "bool"), Flag("discovery-file"), Flag("control-plane", "bool"),
                  Flag("certificate-key"), Flag("apiserver-advertise-address"), Flag("apiserver-bind-port"), Flag("cri-socket"),
                  Flag("dry-run", "bool"), Flag("patches")]
    root.add(Command("join", cmd_join, join_flags, short="Run this on any machine you wish to join an existing cluster"))
    token = Command("token", persistent=[Flag("kubeconfig", default=""), Flag("dry-run", "bool")],
                    short="Manage bootstrap tokens")
    token.add(Command("create", cmd_token_create, [Flag("config"), Flag("ttl"), Flag("usages", "list"), Flag("groups", "list"),
                                                   Flag("description"), Flag("print-join-command", "bool"), Flag("certificate-key")],
                      short="Create bootstrap tokens on the server"),
              Command("list", cmd_token_list, [Flag("output", short="o", default="text"), Flag("allow-missing-template-keys", "bool", True),
                                               Flag("show-managed-fields", "bool")], short="List bootstrap tokens on the server"),
              Command("delete", cmd_token_delete, short="Delete bootstrap tokens on the server"),
              Command("generate", cmd_token_generate, short="Generate and print a bootstrap token, but do not create it on the server"))
    root.add(token)
    root.add(Command("reset", cmd_reset, [Flag("force", "bool", short="f"), Flag("ignore-preflight-errors", "list"),
                                          Flag("skip-phases", "list"), Flag("cert-dir"), Flag("cri-socket"), Flag("config"),
                                          Flag("cleanup-tmp-dir", "bool"), Flag("dry-run", "bool"), Flag("kubeconfig", default="")],
                     short="Performs a best effort revert of changes made to this host by 'kubeadm init' or 'kubeadm join'"))
    root.add(kubeadm_certs.command(sys.modules[__name__]))
    root.add(kubeadm_upgrade.command(sys.modules[__name__]))
    for name in ("kubeconfig", "alpha", "completion"):
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
