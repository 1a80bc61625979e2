# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubeadm.
#
# `kubeadm upgrade plan|apply|node` of the stand-in kubeadm (shipped beside
# standin.py in /usr/lib/kubestrap-standin/kubeadm). Followed from kubeadm
# 1.31 (cmd/kubeadm/app/cmd/upgrade, phases/upgrade: policy.go's
# EnforceVersionPolicies, compute.go's GetAvailableUpgrades, health.go) and
# its printed output; written anew, nothing copied:
#   - the cluster version is the API server's /version (the stand-in API
#     server reports the image tag of its manifest), kubelet versions are the
#     Nodes' status.nodeInfo.kubeletVersion, the kubeadm version is this
#     package's;
#   - apply enforces the version policy: mandatory errors (target below the
#     minimum, more than one minor above the cluster, more than one minor
#     below it, a minor above kubeadm's) fail always; skippable ones (a patch
#     above kubeadm's, kubeadm newer than the target's minor, kubelets more
#     than 3 minors older than the target, pre-releases) fail unless --force;
#   - apply asks "[upgrade] Are you sure you want to proceed? [y/N]: " unless
#     --yes/--force (EOF or any other answer: "won't proceed; ..."), checks the
#     static Pod manifests exist (health check StaticPodManifest) and that the
#     control-plane Nodes are Ready, rewrites etcd (when its version rises),
#     kube-apiserver, kube-controller-manager and kube-scheduler manifests
#     with the new image tags (backups in /etc/kubernetes/tmp), renews their
#     certificates unless --certificate-renewal=false, waits until the API
#     server answers at the new version, updates the kubeadm-config and
#     kubelet-config ConfigMaps and /var/lib/kubelet/config.yaml; it never
#     touches the kubelet package;
#   - plan has no dl.k8s.io: with no version, "stable" and "stable-1.Y" fall
#     back to kubeadm's own version with kubeadm's two warnings, as kubeadm
#     does offline; like kubeadm, plan shows what it computes and does not
#     enforce the policy (apply does);
#   - node: on a control plane (kube-apiserver.yaml exists) upgrades its
#     static Pods to the cluster's kubernetesVersion; on any node writes
#     /var/lib/kubelet/config.yaml from the kubelet-config ConfigMap.
import os
import shutil
import sys
import tempfile
import time

import kubeadm_certs
import standin as s
from standin import Command, Flag

KDIR = "/etc/kubernetes"
MANIFESTS = KDIR + "/manifests"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
TIMEOUT = 300.0  # kubeadm's UpgradeManifestTimeout, 5m0s
KUBELET_SKEW = 3  # MaximumAllowedMinorVersionKubeletSkew since kubeadm 1.28
MIN_CONTROL_PLANE = (s.MAJOR, s.MINOR - 1, 0)
# The control-plane components in kubeadm's upgrade order, with the certificates each renews.
COMPONENTS = (("etcd", ("etcd-server", "etcd-peer", "etcd-healthcheck-client")),
              ("kube-apiserver", ("apiserver", "apiserver-kubelet-client", "front-proxy-client", "apiserver-etcd-client")),
              ("kube-controller-manager", ("controller-manager.conf",)),
              ("kube-scheduler", ("scheduler.conf",)))


def vstr(v):
    return "v%d.%d.%d" % v


def parse_version(text):
    """(major, minor, patch, pre-release) of "v1.32.0" / "1.32.0-rc.1", or None."""
    import re
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?", text.strip())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4) or "") if m else None


def key(v):
    """Sort key of a parsed version: a pre-release sorts below its release."""
    return v[:3] + ((1, "") if not v[3] else (0, v[3]))


# ---------------------------------------------------------------- reading the cluster
def admin_client(k, path):
    try:
        return s.Client.from_kubeconfig(path, timeout=10)
    except FileNotFoundError:
        raise k.KubeadmError('couldn\'t create a Kubernetes client from file "%s": failed to load admin kubeconfig: '
                             'open %s: no such file or directory' % (path, path))
    except (OSError, s.APIError, s.YAMLError, KeyError, ValueError) as e:
        raise k.KubeadmError('couldn\'t create a Kubernetes client from file "%s": %s' % (path, e))


def fetch_config(k, c, prefix):
    """The ClusterConfiguration of the kubeadm-config ConfigMap, as kubeadm's FetchInitConfigurationFromCluster."""
    k.say("[%s] Reading configuration from the cluster..." % prefix)
    k.say("[%s] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'" % prefix)
    try:
        cm = c.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
    except s.APIError as e:
        if e.code == 404:
            raise k.KubeadmError('[%s] FATAL: the ConfigMap "kubeadm-config" in the kube-system namespace used for getting '
                                 "configuration information was not found" % prefix)
        raise k.KubeadmError("[%s] FATAL: unable to fetch the kubeadm-config ConfigMap: %s" % (prefix, e))
    docs = s.load_yaml_all((cm.get("data") or {}).get("ClusterConfiguration") or "")
    return cm, (docs[0] if docs and isinstance(docs[0], dict) else {})


def cluster_version(k, c):
    info = c.request("GET", "/version")
    v = parse_version(info.get("gitVersion", ""))
    if v is None:
        raise k.KubeadmError("[upgrade/version] FATAL: Unable to fetch cluster version: couldn't parse cluster version %s"
                             % info.get("gitVersion"))
    return info["gitVersion"], v


def nodes(c):
    return c.request("GET", "/api/v1/nodes").get("items") or []


def kubelet_versions(c):
    """{version: [node names]} from the Nodes' status."""
    out = {}
    for n in nodes(c):
        v = ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")
        if v:
            out.setdefault(v, []).append(n["metadata"]["name"])
    return out


def ready(n):
    return any(x.get("type") == "Ready" and x.get("status") == "True" for x in (n.get("status") or {}).get("conditions") or [])


def health_checks(k, c, ignore):
    """kubeadm's CheckClusterHealth, as far as the lab can run it."""
    k.say("[upgrade] Running cluster health checks")
    cps = [n for n in nodes(c) if "node-role.kubernetes.io/control-plane" in ((n.get("metadata") or {}).get("labels") or {})]
    not_ready = [n["metadata"]["name"] for n in cps if not ready(n)]
    missing = ["%s/%s.yaml" % (MANIFESTS, p) for p in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
               if not os.path.exists("%s/%s.yaml" % (MANIFESTS, p))]
    checks = [("ControlPlaneNodesReady", "there are NotReady control-planes in the cluster: [%s]" % " ".join(not_ready) if not_ready else
               ("couldn't find any control-plane nodes in the cluster" if not cps else None)),
              ("StaticPodManifest", "The control plane seems to be Static Pod-hosted, but some of the manifests don't seem to exist on disk. "
               "This probably means you're running 'kubeadm upgrade' on a remote machine, which is not supported for a Static Pod-hosted "
               "cluster. Manifest files not found: [%s]" % " ".join(missing) if missing else None)]
    errors = []
    for name, msg in checks:
        if not msg:
            continue
        if "all" in ignore or name.lower() in ignore:
            k.say("\t[WARNING %s]: %s" % (name, msg))
        else:
            errors.append("\t[ERROR %s]: %s\n" % (name, msg))
    if errors:
        raise k.KubeadmError("[upgrade/health] FATAL: [preflight] Some fatal errors occurred:\n%s"
                             "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`"
                             % "".join(errors))


# ---------------------------------------------------------------- the version policy
def policy_errors(target_str, target, cluster_str, cluster, kubelets, allow_exp=False, allow_rc=False):
    """(mandatory, skippable) errors of kubeadm's EnforceVersionPolicies."""
    mandatory, skippable = [], []
    kubeadm_v = (s.MAJOR, s.MINOR, s.PATCH, "")
    pre = bool(target[3])
    if key(target) < key(MIN_CONTROL_PLANE + ("",)):
        mandatory.append('Specified version to upgrade to "%s" is equal to or lower than the minimum supported version "%s". '
                         "Please specify a higher version to upgrade to" % (target_str, cluster_str))
    if target[1] > cluster[1] + 1:
        (skippable if pre else mandatory).append('Specified version to upgrade to "%s" is too high; kubeadm can upgrade only 1 minor '
                                                 "version at a time" % target_str)
    if target[1] < cluster[1] - 1:
        (skippable if pre else mandatory).append('Specified version to downgrade to "%s" is too low; kubeadm can downgrade only 1 minor '
                                                 "version at a time" % target_str)
    if key(kubeadm_v) < key(target):
        if target[1] > kubeadm_v[1]:
            (skippable if pre else mandatory).append('Specified version to upgrade to "%s" is at least one minor release higher than the '
                                                     "kubeadm minor release (%d > %d). Such an upgrade is not supported"
                                                     % (target_str, target[1], kubeadm_v[1]))
        else:
            skippable.append('Specified version to upgrade to "%s" is higher than the kubeadm version "%s". Upgrade kubeadm first using '
                             "the tool you used to install kubeadm" % (target_str, s.GIT_VERSION))
    if kubeadm_v[0] > target[0] or kubeadm_v[1] > target[1]:
        skippable.append("Kubeadm version %s can only be used to upgrade to Kubernetes version %d.%d" % (s.GIT_VERSION, s.MAJOR, s.MINOR))
    if pre and not allow_exp and not (target[3].startswith("rc") and allow_rc):
        skippable.append('Specified version to upgrade to "%s" is an unstable version and such upgrades weren\'t allowed via setting '
                         "the --allow-*-upgrades flags" % target_str)
    old = [v for v in kubelets if parse_version(v) and target[1] > parse_version(v)[1] + KUBELET_SKEW]
    if old:
        skippable.append("There are kubelets in this cluster that are too old that have these versions [%s]" % " ".join(sorted(old)))
    return mandatory, skippable


def format_errors(errs):
    return "".join("\t- %s\n" % e for e in errs)


def enforce_policy(k, target_str, target, cluster_str, cluster, kubelets, fl):
    k.say('[upgrade/version] You have chosen to change the cluster version to "%s"' % target_str)
    k.say("[upgrade/versions] Cluster version: %s" % cluster_str)
    k.say("[upgrade/versions] kubeadm version: %s" % s.GIT_VERSION)
    mandatory, skippable = policy_errors(target_str, target, cluster_str, cluster, kubelets,
                                         fl.get("allow-experimental-upgrades"), fl.get("allow-release-candidate-upgrades"))
    if mandatory:
        raise k.KubeadmError("[upgrade/version] FATAL: the --version argument is invalid due to these fatal errors:\n\n%s\n"
                             "Please fix the misalignments highlighted above and try upgrading again" % format_errors(mandatory))
    if skippable:
        if not fl.get("force"):
            raise k.KubeadmError("[upgrade/version] FATAL: the --version argument is invalid due to these errors:\n\n%s\n"
                                 "Can be bypassed if you pass the --force flag" % format_errors(skippable))
        sys.stdout.write("[upgrade/version] Found %d potential version compatibility errors but skipping since the --force flag is set: \n\n%s"
                         % (len(skippable), format_errors(skippable)))
        sys.stdout.flush()


def confirm(k):
    """kubeadm's InteractivelyConfirmAction: only "y" or "yes" proceeds; EOF is no answer."""
    sys.stdout.write("[upgrade] Are you sure you want to proceed? [y/N]: ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip()
    if answer.lower() not in ("y", "yes"):
        raise k.KubeadmError("won't proceed; the user didn't answer (Y|y) in order to continue")


# ---------------------------------------------------------------- static Pods
def read_manifest(path):
    with open(path) as f:
        return s.load_yaml_all(f.read())[0]


def image_tag(pod):
    image = pod["spec"]["containers"][0]["image"]
    return image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""


def with_tag(pod, tag):
    c = pod["spec"]["containers"][0]
    c["image"] = c["image"].rsplit(":", 1)[0] + ":" + tag
    return pod


def wait_apiserver_version(k, c, want, timeout):
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        try:
            got = c.request("GET", "/version").get("gitVersion")
            if got == want:
                return
            last = "the API server reports %s" % got
        except s.APIError as e:
            last = str(e)
        time.sleep(1)
    raise k.KubeadmError("couldn't upgrade control plane. kubeadm has tried to recover everything into the earlier state. Errors faced: "
                         "[timed out waiting for the condition: %s]" % last)


def static_pod_upgrade(k, c, cluster, version, renew, etcd_upgrade, prefix):
    """kubeadm's PerformStaticPodUpgrade for the components on this node."""
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S")
    os.makedirs(KDIR + "/tmp", exist_ok=True)
    upgraded = tempfile.mkdtemp(prefix="kubeadm-upgraded-manifests", dir=KDIR + "/tmp")
    backup = "%s/tmp/kubeadm-backup-manifests-%s" % (KDIR, stamp)
    os.makedirs(backup, exist_ok=True)
    k.say('[upgrade/staticpods] Writing new Static Pod manifests to "%s"' % upgraded)
    certs = kubeadm_certs.Manager(k, cluster, cluster.get("certificatesDir") or KDIR + "/pki")
    for name, renewals in COMPONENTS:
        path = "%s/%s.yaml" % (MANIFESTS, name)
        if not os.path.exists(path):
            continue  # external etcd: no local etcd manifest
        pod = read_manifest(path)
        old_text = s.dump_yaml(pod)
        tag = version
        if name == "etcd":
            if not etcd_upgrade:
                continue
            tag = k.etcd_version(version)
            if key(parse_version(tag.split("-")[0])) < key(parse_version(image_tag(pod).split("-")[0]) or (0, 0, 0, "")):
                k.say("[upgrade/etcd] etcd %s is newer than %s, the version for Kubernetes %s: not downgrading it" % (image_tag(pod), tag, version))
                continue
        s.write_private("%s/%s.yaml" % (upgraded, name), s.dump_yaml(with_tag(pod, tag)), 0o600)
        k.say('[upgrade/staticpods] Preparing for "%s" upgrade' % name)
        if renew:
            for cert in renewals:
                if certs.exists(cert):
                    k.say("[upgrade/staticpods] Renewing %s certificate" % cert)
                    certs.renew(cert)
        if s.dump_yaml(pod) == old_text:
            k.say("[upgrade/staticpods] Current and new manifests of %s are equal, skipping upgrade" % name)
            continue
        shutil.copy2(path, "%s/%s.yaml" % (backup, name))
        if name == "etcd":
            k.say('[upgrade/staticpods] Restarting the etcd static pod and backing up its manifest to "%s/etcd.yaml"' % backup)
        else:
            k.say('[upgrade/staticpods] Moving new manifest to "%s" and backing up old manifest to "%s/%s.yaml"' % (path, backup, name))
        os.replace("%s/%s.yaml" % (upgraded, name), path)
        k.say("[upgrade/staticpods] Waiting for the kubelet to restart the component")
        k.say("[upgrade/staticpods] This can take up to %s" % s.go_duration(TIMEOUT))
        if name == "kube-apiserver":
            try:
                wait_apiserver_version(k, c, version, TIMEOUT)
            except k.KubeadmError:
                shutil.copy2("%s/%s.yaml" % (backup, name), path)  # roll back, as kubeadm does
                raise
        k.say("[apiclient] Found 1 Pods for label selector component=%s" % name)
        k.say('[upgrade/staticpods] Component "%s" upgraded successfully!' % name)
        if name == "etcd":
            k.say("[upgrade/etcd] Waiting for etcd to become available")
    shutil.rmtree(upgraded, ignore_errors=True)


def write_kubelet_config(k, c):
    """The kubelet-config ConfigMap to /var/lib/kubelet/config.yaml, the old file backed up first."""
    cm = c.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubelet-config")
    if os.path.exists(KUBELET_CONFIG):
        os.makedirs(KDIR + "/tmp", exist_ok=True)
        d = tempfile.mkdtemp(prefix="kubeadm-kubelet-config", dir=KDIR + "/tmp")
        k.say("[upgrade] Backing up kubelet config file to %s/config.yaml" % d)
        shutil.copy2(KUBELET_CONFIG, d + "/config.yaml")
    k.say('[kubelet-start] Writing kubelet configuration to file "%s"' % KUBELET_CONFIG)
    s.write_private(KUBELET_CONFIG, cm["data"]["kubelet"], 0o644)
    return cm


# ---------------------------------------------------------------- commands
def cmd_apply(k, args, fl):
    k.say("[preflight] Running pre-flight checks.")
    c = admin_client(k, fl.get("kubeconfig") or KDIR + "/admin.conf")
    cm, cluster = fetch_config(k, c, "upgrade/config")
    if len(args) != 1:
        raise k.KubeadmError("[upgrade/config] FATAL: missing one or more required arguments. Required arguments: [version]"
                             if not args else "[upgrade/config] FATAL: too many arguments. Required arguments: [version]")
    ignore = set(x.lower() for x in fl.get("ignore-preflight-errors") or [])
    health_checks(k, c, ignore)
    target = parse_version(args[0])
    if target is None:
        raise k.KubeadmError("unable to parse normalized version %s as a semantic version" % args[0])
    target_str = args[0] if args[0].startswith("v") else "v" + args[0]
    cluster_str, cluster_v = cluster_version(k, c)
    enforce_policy(k, target_str, target, cluster_str, cluster_v, kubelet_versions(c), fl)
    if not (fl.get("yes") or fl.get("force") or fl.get("dry-run")):
        confirm(k)
    if fl.get("dry-run"):
        raise k.KubeadmError("`kubeadm upgrade apply --dry-run` is not implemented in the kubestrap lab's TEST STAND-IN kubeadm")
    k.say("[upgrade/prepull] Pulling images required for setting up a Kubernetes cluster")
    k.say("[upgrade/prepull] This might take a minute or two, depending on the speed of your internet connection")
    k.say("[upgrade/prepull] You can also perform this action beforehand using 'kubeadm config images pull'")
    k.say('[upgrade/apply] Upgrading your Static Pod-hosted control plane to version "%s" (timeout: %s)...' % (target_str, s.go_duration(TIMEOUT)))
    try:
        static_pod_upgrade(k, c, cluster, target_str, fl.get("certificate-renewal", True), fl.get("etcd-upgrade", True), "upgrade/apply")
    except k.KubeadmError as e:
        raise k.KubeadmError("[upgrade/apply] FATAL: %s" % e)
    k.say('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace')
    cluster["kubernetesVersion"] = target_str
    cm["data"]["ClusterConfiguration"] = s.dump_yaml(cluster)
    k.create_or_update(c, "/api/v1/namespaces/kube-system/configmaps", k.configmap("kube-system", "kubeadm-config", cm["data"]))
    k.say('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the kubelets in the cluster')
    kcm = c.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubelet-config")
    k.create_or_update(c, "/api/v1/namespaces/kube-system/configmaps", k.configmap("kube-system", "kubelet-config", kcm["data"]))
    write_kubelet_config(k, c)
    for line in ("Configured RBAC rules to allow Node Bootstrap tokens to get nodes",
                 "Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term certificate credentials",
                 "Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a Node Bootstrap Token",
                 "Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster"):
        k.say("[bootstrap-token] " + line)
    k.say("[addons] Applied essential addon: CoreDNS")
    k.say("[addons] Applied essential addon: kube-proxy")
    k.say('\n[upgrade/successful] SUCCESS! Your cluster was upgraded to "%s". Enjoy!\n' % target_str)
    k.say("[upgrade/kubelet] Now that your control plane is upgraded, please proceed with upgrading your kubelets if you haven't already done so.")


def resolve(k, label, given):
    """The OfflineVersionGetter: the given version for any label, else the
    label resolved as kubeadm does without dl.k8s.io (its own version)."""
    v = given or k.resolve_version(label)
    return v, parse_version(v)


def cmd_plan(k, args, fl):
    if (fl.get("output") or "text") != "text":
        raise k.KubeadmError("`kubeadm upgrade plan -o %s` is not implemented in the kubestrap lab's TEST STAND-IN kubeadm" % fl["output"])
    if len(args) > 1:
        raise k.KubeadmError("[upgrade/config] FATAL: too many arguments. Required arguments: [version]")
    k.say("[preflight] Running pre-flight checks.")
    c = admin_client(k, fl.get("kubeconfig") or KDIR + "/admin.conf")
    _, cluster = fetch_config(k, c, "upgrade/config")
    health_checks(k, c, set(x.lower() for x in fl.get("ignore-preflight-errors") or []))
    given = None
    if args:
        if parse_version(args[0]) is None:
            raise k.KubeadmError("unable to parse normalized version %s as a semantic version" % args[0])
        given = args[0] if args[0].startswith("v") else "v" + args[0]
    k.say("[upgrade] Fetching available versions to upgrade to")
    me = os.uname().nodename
    api_pod = read_manifest(MANIFESTS + "/kube-apiserver.yaml")
    cur_str = image_tag(api_pod)
    cur = parse_version(cur_str)
    k.say("[upgrade/versions] Cluster version: %d.%d.%d" % cur[:3])
    k.say("[upgrade/versions] kubeadm version: %s" % s.GIT_VERSION)
    stable_str, stable = resolve(k, "stable", given)
    k.say("[upgrade/versions] Target version: %s" % stable_str)
    upgrades = []
    minor_possible = key(cur) < key(stable)
    if key(stable) >= key(cur):
        branch = "%d.%d" % cur[:2]
        patch_str, patch = resolve(k, "stable-" + branch, given)
        k.say("[upgrade/versions] Latest version in the v%s series: %s" % (branch, patch_str))
        minor_possible = key(patch) < key(stable)
        if key(cur) < key(patch):
            upgrades.append(("version in the v%s series" % branch, patch_str))
    if minor_possible:
        upgrades.append(("stable version", stable_str))
    k.say()
    if not upgrades:
        k.say("Awesome, you're up-to-date! Enjoy!")
        return
    kubelets = kubelet_versions(c)
    etcd_path = MANIFESTS + "/etcd.yaml"
    etcd_cur = image_tag(read_manifest(etcd_path)) if os.path.exists(etcd_path) else None
    for desc, target_str in upgrades:
        rows = ["COMPONENT\tNODE\tCURRENT\tTARGET"]
        for v in sorted(kubelets):
            for n in kubelets[v]:
                rows.append("kubelet\t%s\t%s\t%s" % (n, v, target_str))
        if len(kubelets) > 1 or target_str not in kubelets:
            k.say("Components that must be upgraded manually after you have upgraded the control plane with 'kubeadm upgrade apply':")
            k.say("\n".join(s.tabwrite(rows)))
            k.say()
        k.say("Upgrade to the latest %s:\n" % desc)
        rows = ["COMPONENT\tNODE\tCURRENT\tTARGET"]
        for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            f = "%s/%s.yaml" % (MANIFESTS, comp)
            rows.append("%s\t%s\t%s\t%s" % (comp, me, image_tag(read_manifest(f)) if os.path.exists(f) else cur_str, target_str))
        rows.append("kube-proxy\t\t%d.%d.%d\t%s" % (cur[:3] + (target_str,)))
        coredns = k.CONSTANTS.get(s.MINOR, {}).get("coredns", "")
        rows.append("CoreDNS\t\t%s\t%s" % (coredns, coredns))
        if etcd_cur:
            rows.append("etcd\t%s\t%s\t%s" % (me, etcd_cur, k.etcd_version(target_str)))
        k.say("\n".join(s.tabwrite(rows)))
        k.say("\nYou can now apply the upgrade by executing the following command:\n\n\tkubeadm upgrade apply %s\n" % target_str)
        if target_str != s.GIT_VERSION and key(parse_version(target_str)) > key((s.MAJOR, s.MINOR, s.PATCH, "")):
            k.say("Note: Before you can perform this upgrade, you have to update kubeadm to %s.\n" % target_str)
        k.say("_____________________________________________________________________\n")
    k.say("\nThe table below shows the current state of component configs as understood by this version of kubeadm.\n"
          "Configs that have a \"yes\" mark in the \"MANUAL UPGRADE REQUIRED\" column require manual config upgrade or\n"
          "resetting to kubeadm defaults before a successful upgrade can be performed. The version to manually\n"
          "upgrade to is denoted in the \"PREFERRED VERSION\" column.\n")
    k.say("\n".join(s.tabwrite(["API GROUP\tCURRENT VERSION\tPREFERRED VERSION\tMANUAL UPGRADE REQUIRED",
                                "kubeproxy.config.k8s.io\tv1alpha1\tv1alpha1\tno", "kubelet.config.k8s.io\tv1beta1\tv1beta1\tno"])))
    k.say("_____________________________________________________________________\n")


def cmd_node(k, args, fl):
    if args:
        raise s.UsageError('unknown command "%s" for "kubeadm upgrade node"' % args[0])
    skip = set(fl.get("skip-phases") or [])
    control_plane = os.path.exists(MANIFESTS + "/kube-apiserver.yaml")
    path = fl.get("kubeconfig") or KDIR + "/kubelet.conf"
    try:
        c = s.Client.from_kubeconfig(path, timeout=10)
    except (OSError, s.APIError, s.YAMLError, KeyError, ValueError) as e:
        raise k.KubeadmError('couldn\'t create a Kubernetes client from file "%s": %s' % (path, k.os_error(e) if isinstance(e, OSError) else e))
    try:
        _, cluster = fetch_config(k, c, "upgrade")
    except k.KubeadmError as e:
        raise k.KubeadmError("unable to fetch the kubeadm-config ConfigMap: %s" % e)
    version = cluster.get("kubernetesVersion") or ""
    if "preflight" not in skip:
        k.say("[preflight] Running pre-flight checks")
        if control_plane:
            k.say("[preflight] Pulling images required for setting up a Kubernetes cluster")
            k.say("[preflight] This might take a minute or two, depending on the speed of your internet connection")
            k.say("[preflight] You can also perform this action beforehand using 'kubeadm config images pull'")
        else:
            k.say("[preflight] Skipping prepull. Not a control plane node.")
    if "control-plane" not in skip:
        if not control_plane:
            k.say("[upgrade] Skipping phase. Not a control plane node.")
        else:
            v = parse_version(version)
            if v is None:
                raise k.PhaseError("control-plane", 'unable to parse the cluster\'s kubernetesVersion "%s"' % version)
            if v[1] > s.MINOR:
                # kubeadm has no static Pod specs for a newer minor than its own: upgrade kubeadm first
                raise k.PhaseError("control-plane", 'Specified version to upgrade to "%s" is at least one minor release higher than the '
                                   "kubeadm minor release (%d > %d). Such an upgrade is not supported" % (version, v[1], s.MINOR))
            k.say('[upgrade] Upgrading your Static Pod-hosted control plane instance to version "%s"...' % version)
            try:
                static_pod_upgrade(k, c, cluster, version, fl.get("certificate-renewal", True), fl.get("etcd-upgrade", True), "upgrade")
            except k.KubeadmError as e:
                raise k.PhaseError("control-plane", "couldn't complete the static pod upgrade: %s" % e)
            k.say("[upgrade] The control plane instance for this node was successfully updated!")
    if "addon" not in skip:
        if not control_plane:
            k.say("[upgrade] Skipping phase. Not a control plane node.")
        else:
            k.say("[addons] Applied essential addon: CoreDNS")
            k.say("[addons] Applied essential addon: kube-proxy")
    if "kubelet-config" not in skip:
        try:
            write_kubelet_config(k, c)
        except s.APIError as e:
            raise k.PhaseError("kubelet-config", "failed to download the kubelet configuration: %s" % e)
    k.say("[upgrade] The configuration for this node was successfully updated!")
    k.say("[upgrade] Now you should go ahead and upgrade the kubelet package using your package manager.")


def command(k):
    """`kubeadm upgrade` with plan, apply and node; k is the kubeadm module."""
    plan_apply = [Flag("config"), Flag("kubeconfig", default=KDIR + "/admin.conf"), Flag("ignore-preflight-errors", "list"),
                  Flag("allow-experimental-upgrades", "bool"), Flag("allow-release-candidate-upgrades", "bool"),
                  Flag("feature-gates"), Flag("print-config", "bool")]
    up = Command("upgrade", short="Upgrade your cluster smoothly to a newer version with this command")
    up.add(Command("apply", lambda cmd, args, fl: cmd_apply(k, args, fl),
                   plan_apply + [Flag("yes", "bool", short="y"), Flag("force", "bool", short="f"), Flag("dry-run", "bool"),
                                 Flag("etcd-upgrade", "bool", True), Flag("certificate-renewal", "bool", True), Flag("patches"),
                                 Flag("skip-phases", "list")],
                   short="Upgrade your Kubernetes cluster to the specified version"),
           Command("plan", lambda cmd, args, fl: cmd_plan(k, args, fl),
                   plan_apply + [Flag("output", short="o", default="text"), Flag("allow-missing-template-keys", "bool", True),
                                 Flag("show-managed-fields", "bool")],
                   short="Check which versions are available to upgrade to and validate whether your current cluster is upgradeable."),
           Command("node", lambda cmd, args, fl: cmd_node(k, args, fl),
                   [Flag("kubeconfig", default=KDIR + "/kubelet.conf"), Flag("dry-run", "bool"), Flag("etcd-upgrade", "bool", True),
                    Flag("certificate-renewal", "bool", True), Flag("skip-phases", "list"), Flag("ignore-preflight-errors", "list"),
                    Flag("patches"), Flag("config")],
                   short="Upgrade commands for a node in the cluster"),
           Command("diff", k.not_implemented, args="loose", short="Show what differences would be applied to existing static pod manifests."))
    return up
