#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubectl.
#
# Installed as /usr/bin/kubectl by the lab's stand-in "kubectl" package
# (tests/lab/standins/build-debs.sh). Implemented: `version [--client]`,
# `get`, `apply -f`, `rollout status`, `wait --for=condition=...`, `delete`,
# `cordon`, `uncordon`, `drain` (kubectl_drain.py)
# against the lab's stand-in API server (apiserver.py), with the kubeconfig of
# --kubeconfig / $KUBECONFIG / ~/.kube/config (no default to admin.conf, as
# the real kubectl: otherwise localhost:8080 is refused). The server
# certificate is verified against the kubeconfig's CA. Other real
# subcommands exist and fail with "not implemented in the lab stand-in".
# Unknown flags and commands fail as kubectl's do ("error: ...", exit 1).
import os
import re
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the package directories
sys.path[:0] = [os.path.dirname(os.path.realpath(__file__)), "/usr/lib/kubestrap-standin/kubectl"]
import standin as s  # noqa: E402
from standin import Command, Flag, UsageError  # noqa: E402
import kubectl_drain  # noqa: E402

KUSTOMIZE = {30: "v5.0.4-0.20230601165947-6ce0bf390ce3", 31: "v5.4.2", 32: "v5.5.0", 33: "v5.6.0"}


class KubectlError(Exception):
    pass


def kubeconfig_path(fl):
    if fl.get("kubeconfig"):
        return fl["kubeconfig"]
    env = os.environ.get("KUBECONFIG", "")
    for p in env.split(":"):
        if p and os.path.exists(p):
            return p
    p = os.path.expanduser("~/.kube/config")
    return p if os.path.exists(p) else None


def cmd_version(cmd, args, fl):
    if args:
        raise KubectlError('unknown command "%s" for "kubectl version"' % args[0])
    info = s.version_info()
    kustomize = KUSTOMIZE.get(s.MINOR, "v5.4.2")
    out = fl["output"]
    if out not in ("", "json", "yaml"):
        raise KubectlError("--output must be 'yaml' or 'json'")
    if not fl["client"]:
        server = fl.get("server") or ("localhost:8080" if kubeconfig_path(fl) is None else None)
        if out == "":
            print("Client Version: %s\nKustomize Version: %s" % (s.GIT_VERSION, kustomize))
        if server:
            raise KubectlError("The connection to the server %s was refused - did you specify the right host or port?" % server, True)
        c = kubeconfig_for(fl)
        sv = call(c, "GET", "/version")
        if out == "":
            print("Server Version: %s" % sv.get("gitVersion"))
            return
        doc = {"clientVersion": info, "kustomizeVersion": kustomize, "serverVersion": sv}
        print(s.to_json(doc) if out == "json" else s.dump_yaml(doc), end="\n" if out == "json" else "")
        return
    doc = {"clientVersion": info, "kustomizeVersion": kustomize}
    if out == "json":
        print(s.to_json(doc))
    elif out == "yaml":
        print(s.to_yaml(doc))
    else:
        print("Client Version: %s\nKustomize Version: %s" % (s.GIT_VERSION, kustomize))


# ================================================================ talking to the (stand-in) API server
import json  # noqa: E402
import time  # noqa: E402

# kind → (group, version, resource, namespaced, short names)
BUILTIN = {
    "Node": ("", "v1", "nodes", False, ("node", "no")), "Namespace": ("", "v1", "namespaces", False, ("namespace", "ns")),
    "Pod": ("", "v1", "pods", True, ("pod", "po")), "Service": ("", "v1", "services", True, ("service", "svc")),
    "ConfigMap": ("", "v1", "configmaps", True, ("configmap", "cm")), "Secret": ("", "v1", "secrets", True, ("secret",)),
    "ServiceAccount": ("", "v1", "serviceaccounts", True, ("serviceaccount", "sa")),
    "Endpoints": ("", "v1", "endpoints", True, ("ep",)), "PersistentVolume": ("", "v1", "persistentvolumes", False, ("pv",)),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims", True, ("pvc",)), "Event": ("", "v1", "events", True, ("ev",)),
    "LimitRange": ("", "v1", "limitranges", True, ("limits",)), "ResourceQuota": ("", "v1", "resourcequotas", True, ("quota",)),
    "Deployment": ("apps", "v1", "deployments", True, ("deployment", "deploy")),
    "DaemonSet": ("apps", "v1", "daemonsets", True, ("daemonset", "ds")),
    "StatefulSet": ("apps", "v1", "statefulsets", True, ("statefulset", "sts")),
    "ReplicaSet": ("apps", "v1", "replicasets", True, ("replicaset", "rs")),
    "ClusterRole": ("rbac.authorization.k8s.io", "v1", "clusterroles", False, ("clusterrole",)),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", False, ("clusterrolebinding",)),
    "Role": ("rbac.authorization.k8s.io", "v1", "roles", True, ("role",)),
    "RoleBinding": ("rbac.authorization.k8s.io", "v1", "rolebindings", True, ("rolebinding",)),
    "CustomResourceDefinition": ("apiextensions.k8s.io", "v1", "customresourcedefinitions", False, ("customresourcedefinition", "crd", "crds")),
    "PodDisruptionBudget": ("policy", "v1", "poddisruptionbudgets", True, ("poddisruptionbudget", "pdb")),
    "Job": ("batch", "v1", "jobs", True, ("job",)), "CronJob": ("batch", "v1", "cronjobs", True, ("cronjob", "cj")),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies", True, ("networkpolicy", "netpol")),
    "Ingress": ("networking.k8s.io", "v1", "ingresses", True, ("ingress", "ing")),
    "IngressClass": ("networking.k8s.io", "v1", "ingressclasses", False, ("ingressclass",)),
    "StorageClass": ("storage.k8s.io", "v1", "storageclasses", False, ("storageclass", "sc")),
    "CSIDriver": ("storage.k8s.io", "v1", "csidrivers", False, ("csidriver",)),
    "PriorityClass": ("scheduling.k8s.io", "v1", "priorityclasses", False, ("priorityclass", "pc")),
    "Lease": ("coordination.k8s.io", "v1", "leases", True, ("lease",)),
    "APIService": ("apiregistration.k8s.io", "v1", "apiservices", False, ("apiservice",)),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", False, ()),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", False, ()),
    "CertificateSigningRequest": ("certificates.k8s.io", "v1", "certificatesigningrequests", False, ("csr",)),
    "HorizontalPodAutoscaler": ("autoscaling", "v2", "horizontalpodautoscalers", True, ("hpa",)),
}


def kubeconfig_for(fl):
    path = kubeconfig_path(fl)
    if path is None:
        raise KubectlError("The connection to the server localhost:8080 was refused - did you specify the right host or port?", True)
    try:
        return s.Client.from_kubeconfig(path, timeout=request_timeout(fl))
    except FileNotFoundError:
        raise KubectlError("stat %s: no such file or directory" % path)
    except (s.APIError, s.YAMLError, KeyError, ValueError) as e:
        raise KubectlError("error loading config file \"%s\": %s" % (path, e))


def request_timeout(fl):
    t = s.parse_duration(fl.get("request-timeout") or "0")
    return t if t else 30


def call(c, method, path, body=None, ok404=False, context=""):
    try:
        return c.request(method, path, body, ok404=ok404)
    except s.APIError as e:
        raise api_error(e, c, context)


def api_error(e, c, context=""):
    if e.code == 0:
        msg = str(e)
        if "connection refused" in msg:
            return KubectlError("The connection to the server %s:%d was refused - did you specify the right host or port?" % (c.host, c.port), True)
        if "tls:" in msg:
            return KubectlError("Unable to connect to the server: %s" % msg.split(": ", 1)[-1], True)
        return KubectlError("Unable to connect to the server: %s" % msg, True)
    if e.code == 401:
        return KubectlError("You must be logged in to the server (Unauthorized)")
    reason = (e.status or {}).get("reason") or "Unknown"
    return KubectlError("Error from server (%s): %s%s" % (reason, context, e), True)


class Mapper:
    def __init__(self, c):
        self.c = c
        self.kinds = dict(BUILTIN)
        try:
            crds = c.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")["items"]
        except s.APIError:
            crds = []
        for crd in crds:
            sp = crd.get("spec") or {}
            names = sp.get("names") or {}
            vers = [v.get("name") for v in sp.get("versions") or [] if v.get("served", True)]
            if names.get("kind") and vers:
                self.kinds[names["kind"]] = (sp.get("group", ""), vers[0], names.get("plural", names["kind"].lower() + "s"),
                                             sp.get("scope", "Namespaced") == "Namespaced",
                                             tuple([names.get("singular", "")] + list(names.get("shortNames") or [])), vers)

    def by_kind(self, api_version, kind):
        m = self.kinds.get(kind)
        group = api_version.split("/")[0] if "/" in api_version else ""
        if m is None or m[0] != group:
            return None
        return m

    def by_name(self, word):
        w = word.lower()
        group = None
        if "." in w:
            w, group = w.split(".", 1)
        for kind, m in self.kinds.items():
            if (w in (m[2], kind.lower()) or w in m[4]) and (group is None or m[0] == group or m[0].startswith(group)):
                return kind, m
        raise KubectlError('the server doesn\'t have a resource type "%s"' % word)


def obj_path(m, ns, name=""):
    g, v, res, namespaced = m[0], m[1], m[2], m[3]
    base = "/api/v1" if not g else "/apis/%s/%s" % (g, v)
    if namespaced and ns:
        base += "/namespaces/" + ns
    base += "/" + res
    return base + ("/" + name if name else "")


def type_name(kind, m):
    return kind.lower() + ("." + m[0] if m[0] else "")


def human_age(created):
    t = s.parse_rfc3339(created or "")
    if t is None:
        return "<unknown>"
    sec = int(time.time() - t)
    if sec < -1:
        return "<invalid>"
    if sec < 0:
        return "0s"
    if sec < 120:
        return "%ds" % sec
    mins = sec // 60
    if mins < 10:
        return "%dm%ds" % (mins, sec % 60) if sec % 60 else "%dm" % mins
    if mins < 180:
        return "%dm" % mins
    hours = sec // 3600
    if hours < 8:
        return "%dh%dm" % (hours, mins % 60) if mins % 60 else "%dh" % hours
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        return "%dd%dh" % (hours // 24, hours % 24) if hours % 24 else "%dd" % (hours // 24)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    return "%dy%dd" % (hours // 24 // 365, hours // 24 % 365)


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("   ".join(str(c).ljust(widths[i]) if i < len(r) - 1 else str(c) for i, c in enumerate(r)).rstrip())


def node_row(n, wide):
    md, st = n["metadata"], n.get("status") or {}
    ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), {})
    status = "Ready" if ready.get("status") == "True" else "NotReady"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in (md.get("labels") or {}) if k.startswith("node-role.kubernetes.io/"))
    row = [md["name"], status, ",".join(roles) or "<none>", human_age(md.get("creationTimestamp")),
           (st.get("nodeInfo") or {}).get("kubeletVersion", "")]
    if wide:
        addrs = {a["type"]: a["address"] for a in st.get("addresses") or []}
        info = st.get("nodeInfo") or {}
        row += [addrs.get("InternalIP", "<none>"), addrs.get("ExternalIP", "<none>"), info.get("osImage", ""),
                info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]
    return row


def jsonpath(obj, expr):
    """A subset of kubectl's JSONPath: {.a.b}, {.a[0]}, {.items[*].x}, text around."""
    out = []
    for lit, path in re.findall(r"([^{]*)(?:\{([^}]*)\})?", expr):
        out.append(lit)
        if not path:
            continue
        vals = [obj]
        for part in re.findall(r"\.([^.\[]+)|\[(\*|\d+)\]", path):
            name, idx = part
            nxt = []
            for v in vals:
                if name:
                    if isinstance(v, dict) and name in v:
                        nxt.append(v[name])
                elif isinstance(v, list):
                    nxt.extend(v if idx == "*" else v[int(idx):int(idx) + 1])
            vals = nxt
        out.append(" ".join(json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v) for v in vals))
    return "".join(out)


def print_objects(objs, kind, m, fl, single):
    out = fl.get("output") or ""
    if out == "json" or out == "yaml":
        doc = objs[0] if single else {"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {"resourceVersion": ""}}
        print(json.dumps(doc, indent=4) if out == "json" else s.dump_yaml(doc), end="\n" if out == "json" else "")
        return
    if out == "name":
        for o in objs:
            print("%s/%s" % (type_name(kind, m), o["metadata"]["name"]))
        return
    if out.startswith("jsonpath="):
        doc = objs[0] if single else {"apiVersion": "v1", "items": objs, "kind": "List"}
        print(jsonpath(doc, out[len("jsonpath="):].strip("'")), end="")
        return
    if out not in ("", "wide"):
        raise KubectlError('unable to match a printer suitable for the output format "%s", allowed formats are: '
                           "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml" % out)
    if not objs:
        ns = fl.get("namespace") or "default"
        print("No resources found" + ("" if not m[3] or fl.get("all-namespaces") else " in %s namespace." % ns), file=sys.stderr)
        return
    allns = fl.get("all-namespaces") and m[3]
    if kind == "Node":
        head = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        if out == "wide":
            head += ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
        table([head] + [node_row(o, out == "wide") for o in objs])
        return
    rows = []
    for o in objs:
        md, st = o["metadata"], o.get("status") or {}
        if kind == "DaemonSet":
            sel = ",".join("%s=%s" % kv for kv in sorted((((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector", {}).items())) or "<none>"
            r = [md["name"], st.get("desiredNumberScheduled", 0), st.get("currentNumberScheduled", 0), st.get("numberReady", 0),
                 st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0), sel, human_age(md.get("creationTimestamp"))]
        elif kind == "Deployment":
            r = [md["name"], "%d/%d" % (st.get("readyReplicas", 0), (o.get("spec") or {}).get("replicas", 1)),
                 st.get("updatedReplicas", 0), st.get("availableReplicas", 0), human_age(md.get("creationTimestamp"))]
        elif kind in ("ConfigMap", "Secret"):
            r = [md["name"]] + ([o.get("type", "Opaque")] if kind == "Secret" else []) + [len(o.get("data") or {}), human_age(md.get("creationTimestamp"))]
        elif kind == "Namespace":
            r = [md["name"], st.get("phase", "Active"), human_age(md.get("creationTimestamp"))]
        else:
            r = [md["name"], human_age(md.get("creationTimestamp"))]
        rows.append(([md.get("namespace", "")] if allns else []) + r)
    head = {"DaemonSet": ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
            "Deployment": ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], "ConfigMap": ["NAME", "DATA", "AGE"],
            "Secret": ["NAME", "TYPE", "DATA", "AGE"], "Namespace": ["NAME", "STATUS", "AGE"]}.get(kind, ["NAME", "AGE"])
    table([(["NAMESPACE"] if allns else []) + head] + rows)


def split_targets(args):
    """[(typeword, name-or-None)] from `TYPE [NAME...]` or `TYPE/NAME ...`."""
    if not args:
        raise KubectlError("you must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.")
    if "/" in args[0]:
        out = []
        for a in args:
            if "/" not in a:
                raise KubectlError("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'")
            t, n = a.split("/", 1)
            out.append((t, n))
        return out
    return [(args[0], n) for n in args[1:]] or [(args[0], None)]


def cmd_get(cmd, args, fl):
    c = kubeconfig_for(fl)
    mp = Mapper(c)
    ns = fl.get("namespace") or "default"
    targets = split_targets(args)
    objs, kind, m = [], None, None
    single = len(targets) == 1 and targets[0][1] is not None
    for t, name in targets:
        kind, m = mp.by_name(t)
        if name:
            o = call(c, "GET", obj_path(m, ns, name), ok404=True)
            if o is None:
                raise KubectlError('Error from server (NotFound): %s "%s" not found' % (m[2] + ("." + m[0] if m[0] else ""), name), True)
            objs.append(o)
        else:
            path = obj_path(m, "" if fl.get("all-namespaces") else ns)
            items = call(c, "GET", path)["items"]
            sel = fl.get("selector")
            if sel:
                items = [i for i in items if label_match(i, sel)]
            objs += items
    print_objects(objs, kind, m, fl, single)


def label_match(o, sel):
    labels = (o.get("metadata") or {}).get("labels") or {}
    for term in sel.split(","):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def read_manifest(f):
    if f == "-":
        return "<stdin>", sys.stdin.read()
    try:
        with open(f) as fh:
            return f, fh.read()
    except FileNotFoundError:
        raise KubectlError('the path "%s" does not exist' % f)
    except IsADirectoryError:
        texts = []
        for n in sorted(os.listdir(f)):
            if n.endswith((".yaml", ".yml", ".json")):
                with open(os.path.join(f, n)) as fh:
                    texts.append(fh.read())
        return f, "\n---\n".join(texts)


def cmd_apply(cmd, args, fl):
    if not fl.get("filename"):
        raise KubectlError("must specify one of -f and -k")
    docs = []
    for f in fl["filename"]:
        name, text = read_manifest(f)
        try:
            for d in s.load_yaml_all(text):
                if d is None:
                    continue
                if isinstance(d, dict) and d.get("kind") == "List" and isinstance(d.get("items"), list):
                    docs += [(name, i) for i in d["items"]]
                else:
                    docs.append((name, d))
        except s.YAMLError as e:
            raise KubectlError("error parsing %s: error converting YAML to JSON: yaml: %s" % (name, e))
    for name, d in docs:
        errs = []
        if not isinstance(d, dict):
            raise KubectlError("error validating \"%s\": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false" % name)
        if not d.get("apiVersion"):
            errs.append("apiVersion not set")
        if not d.get("kind"):
            errs.append("kind not set")
        if errs:
            raise KubectlError('error validating "%s": error validating data: [%s]; if you choose to ignore these errors, turn validation off with --validate=false'
                               % (name, ", ".join(errs)))
    c = kubeconfig_for(fl)
    mp = Mapper(c)
    failed = False
    for fname, d in docs:
        md = d.get("metadata") or {}
        m = mp.by_kind(d["apiVersion"], d["kind"])
        if m is None:
            print('error: resource mapping not found for name: "%s" namespace: "%s" from "%s": no matches for kind "%s" in version "%s"\n'
                  "ensure CRDs are installed first" % (md.get("name", ""), md.get("namespace", ""), fname, d["kind"], d["apiVersion"]), file=sys.stderr)
            failed = True
            continue
        if not md.get("name"):
            print('error: error when retrieving current configuration of:\nResource: "%s", GroupVersionKind: "%s"\nName: "", Namespace: ""\nfrom server for: "%s": resource name may not be empty'
                  % (m[2], d["apiVersion"] + ", Kind=" + d["kind"], fname), file=sys.stderr)
            failed = True
            continue
        ns = (md.get("namespace") or fl.get("namespace") or "default") if m[3] else ""
        if fl.get("namespace") and md.get("namespace") and md["namespace"] != fl["namespace"]:
            print("error: the namespace from the provided object \"%s\" does not match the namespace \"%s\". You must pass '--namespace=%s' to perform this operation."
                  % (md["namespace"], fl["namespace"], md["namespace"]), file=sys.stderr)
            failed = True
            continue
        obj = json.loads(json.dumps(d))
        if ns:
            obj["metadata"]["namespace"] = ns
        last = json.dumps(obj, sort_keys=True, separators=(",", ":"))
        obj["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = last + "\n"
        tn = "%s/%s" % (type_name(d["kind"], m), md["name"])
        try:
            cur = c.request("GET", obj_path(m, ns, md["name"]), ok404=True)
            if cur is None:
                c.request("POST", obj_path(m, ns), obj)
                print("%s created" % tn)
            elif ((cur.get("metadata") or {}).get("annotations") or {}).get("kubectl.kubernetes.io/last-applied-configuration") == last + "\n":
                print("%s unchanged" % tn)
            else:
                c.request("PUT", obj_path(m, ns, md["name"]), obj)
                print("%s configured" % tn)
        except s.APIError as e:
            err = api_error(e, c, 'error when creating "%s": ' % fname)
            if e.code == 0 or e.code == 401:
                raise err
            print(err.args[0], file=sys.stderr)
            failed = True
    if failed:
        raise KubectlError(None, "silent")


def deadline(fl, default):
    t = s.parse_duration(fl.get("timeout") or default)
    if t is None:
        raise KubectlError('invalid argument "%s" for "--timeout" flag: time: invalid duration "%s"' % (fl.get("timeout"), fl.get("timeout")))
    return t


def cmd_rollout_status(cmd, args, fl):
    c = kubeconfig_for(fl)
    mp = Mapper(c)
    (t, name), = split_targets(args)[:1]
    kind, m = mp.by_name(t)
    if kind not in ("DaemonSet", "Deployment", "StatefulSet"):
        raise KubectlError("no status viewer has been implemented for %s" % kind)
    ns = fl.get("namespace") or "default"
    timeout = deadline(fl, "0s")
    t0, last = time.time(), None
    while True:
        o = call(c, "GET", obj_path(m, ns, name), ok404=True)
        if o is None:
            raise KubectlError('Error from server (NotFound): %s.%s "%s" not found' % (m[2], m[0], name), True)
        st, gen = o.get("status") or {}, o["metadata"].get("generation", 1)
        if kind == "DaemonSet":
            want, upd, av = st.get("desiredNumberScheduled", 0), st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0)
            done = gen <= st.get("observedGeneration", 0) and upd >= want and av >= want
            msg = ('Waiting for daemon set "%s" rollout to finish: %d out of %d new pods have been updated...' % (name, upd, want) if upd < want
                   else 'Waiting for daemon set "%s" rollout to finish: %d of %d updated pods are available...' % (name, av, want))
            ok = 'daemon set "%s" successfully rolled out' % name
        else:
            want = (o.get("spec") or {}).get("replicas", 1)
            av = st.get("availableReplicas", 0)
            done = av >= want
            msg = 'Waiting for deployment "%s" rollout to finish: %d of %d updated replicas are available...' % (name, av, want)
            ok = 'deployment "%s" successfully rolled out' % name
        if done:
            print(ok)
            return
        if msg != last:
            print(msg, flush=True)
            last = msg
        if not fl.get("watch", True):
            return
        if timeout and time.time() - t0 > timeout:
            raise KubectlError("timed out waiting for the condition")
        time.sleep(1)


def cmd_wait(cmd, args, fl):
    cond = fl.get("for") or ""
    if not cond.startswith("condition="):
        if cond in ("delete",) or cond.startswith("jsonpath="):
            raise KubectlError("`kubectl wait --for=%s` is not implemented in the kubestrap lab's TEST STAND-IN kubectl" % cond)
        raise KubectlError('unrecognized condition: "%s"' % cond)
    want = cond[len("condition="):]
    ctype, _, cval = want.partition("=")
    cval = cval or "True"
    c = kubeconfig_for(fl)
    mp = Mapper(c)
    ns = fl.get("namespace") or "default"
    timeout = deadline(fl, "30s")
    if fl.get("all") or fl.get("selector"):
        if not args:
            raise KubectlError("you must specify the type of resource")
        kind, m = mp.by_name(args[0])
        items = call(c, "GET", obj_path(m, ns))["items"]
        if fl.get("selector"):
            items = [i for i in items if label_match(i, fl["selector"])]
        names = [i["metadata"]["name"] for i in items]
        if not names:
            raise KubectlError("no matching resources found")
        targets = [(kind, m, n) for n in names]
    else:
        targets = []
        for t, n in split_targets(args):
            if n is None:
                raise KubectlError("resource(s) were provided, but no name was specified")
            kind, m = mp.by_name(t)
            targets.append((kind, m, n))
    t0 = time.time()
    for kind, m, n in targets:
        while True:
            o = call(c, "GET", obj_path(m, ns, n), ok404=True)
            conds = ((o or {}).get("status") or {}).get("conditions") or []
            if o is not None and any(x.get("type", "").lower() == ctype.lower() and str(x.get("status")).lower() == cval.lower() for x in conds):
                print("%s/%s condition met" % (type_name(kind, m), n))
                break
            if time.time() - t0 > timeout:
                raise KubectlError("timed out waiting for the condition on %s/%s" % (m[2], n))
            time.sleep(1)


def cmd_delete(cmd, args, fl):
    c = kubeconfig_for(fl)
    mp = Mapper(c)
    ns = fl.get("namespace") or "default"
    targets = []
    if fl.get("filename"):
        for f in fl["filename"]:
            name, text = read_manifest(f)
            for d in s.load_yaml_all(text):
                if isinstance(d, dict):
                    m = mp.by_kind(d.get("apiVersion", ""), d.get("kind", ""))
                    if m:
                        targets.append((d["kind"], m, d["metadata"]["name"], (d["metadata"].get("namespace") or ns) if m[3] else ""))
    else:
        for t, n in split_targets(args):
            kind, m = mp.by_name(t)
            targets.append((kind, m, n, ns if m[3] else ""))
    failed = False
    for kind, m, n, tns in targets:
        o = call(c, "DELETE", obj_path(m, tns, n), ok404=True)
        if o is None:
            print('Error from server (NotFound): %s "%s" not found' % (m[2] + ("." + m[0] if m[0] else ""), n), file=sys.stderr)
            failed = True
        else:
            print('%s "%s" deleted' % (type_name(kind, m), n))
    if failed:
        raise KubectlError(None, "silent")


def not_implemented(cmd, args, fl):
    raise KubectlError("`%s` is not implemented in the kubestrap lab's TEST STAND-IN kubectl" % cmd.path())


def build():
    persistent = [Flag("kubeconfig"), Flag("context"), Flag("cluster"), Flag("user"),
                  Flag("namespace", short="n"), Flag("server", short="s"), Flag("request-timeout", default="0"),
                  Flag("insecure-skip-tls-verify", "bool"), Flag("certificate-authority"),
                  Flag("client-certificate"), Flag("client-key"), Flag("token"), Flag("v", short="v")]
    root = Command("kubectl", persistent=persistent, short="kubectl controls the Kubernetes cluster manager (TEST STAND-IN).")
    root.add(Command("version", cmd_version, [Flag("client", "bool"), Flag("output", short="o")],
                     short="Print the client and server version information"))
    out = Flag("output", short="o")
    root.add(Command("get", cmd_get, [out, Flag("all-namespaces", "bool", short="A"), Flag("selector", short="l"),
                                      Flag("show-labels", "bool"), Flag("watch", "bool", short="w")],
                     short="Display one or many resources"))
    root.add(Command("apply", cmd_apply, [Flag("filename", "list", short="f"), Flag("recursive", "bool", short="R"),
                                          Flag("validate", default="strict"), Flag("dry-run", default="none"),
                                          Flag("server-side", "bool"), Flag("force-conflicts", "bool"), Flag("wait", "bool"),
                                          Flag("output", short="o"), Flag("prune", "bool"), Flag("selector", short="l")],
                     short="Apply a configuration to a resource by file name or stdin"))
    rollout = Command("rollout", short="Manage the rollout of a resource")
    rollout.add(Command("status", cmd_rollout_status, [Flag("timeout", default="0s"), Flag("watch", "bool", True, short="w"),
                                                       Flag("revision", "int")],
                        short="Show the status of the rollout"))
    root.add(rollout)
    root.add(Command("wait", cmd_wait, [Flag("for"), Flag("timeout", default="30s"), Flag("all", "bool"),
                                        Flag("selector", short="l"), Flag("all-namespaces", "bool", short="A")],
                     short="Experimental: Wait for a specific condition on one or many resources"))
    root.add(Command("delete", cmd_delete, [Flag("filename", "list", short="f"), Flag("wait", "bool", True),
                                            Flag("ignore-not-found", "bool"), Flag("timeout", default="0s")],
                     short="Delete resources by file names, stdin, resources and names, or by resources and label selector"))
    root.add(*kubectl_drain.commands(sys.modules[__name__]))
    for name in ("create", "describe", "logs", "exec",
                 "cluster-info", "config", "label", "annotate", "patch",
                 "taint", "api-resources", "auth", "top", "edit", "replace", "scale", "run", "expose"):
        root.add(Command(name, not_implemented, args="loose"))
    return root


def main(argv):
    root = build()
    argv = hoist_global_flags(root, list(argv))
    cmd = root
    for w in argv:
        if w.startswith("-") or w not in cmd.subs:
            break
        cmd = cmd.subs[w]
    try:
        if cmd.args == "loose":
            not_implemented(cmd, [], {})
        cmd, args, fl = s.parse(root, argv)
        if fl.get("help"):
            print(s.help_text(cmd))
            return 0
        if cmd.run is None:
            if args:
                raise UsageError('unknown command "%s" for "kubectl"' % args[0], cmd)
            print(s.help_text(cmd))
            return 0
        cmd.run(cmd, args, fl)
        return 0
    except UsageError as e:
        print("error: %s" % e, file=sys.stderr)
        if "flag" in str(e):
            print("See '%s --help' for usage." % (e.cmd or root).path(), file=sys.stderr)
        return 1
    except KubectlError as e:
        if len(e.args) > 1 and e.args[1] == "silent":
            return 1
        bare = len(e.args) > 1 and e.args[1]
        print(("%s" if bare else "error: %s") % e.args[0], file=sys.stderr)
        return 1


def hoist_global_flags(root, argv):
    """kubectl takes its global flags before the command too
    (`kubectl --kubeconfig F -n ns get nodes`): move them after it."""
    flags = root.all_flags()
    shorts = {f.short: f for f in flags.values() if f.short}
    moved = []
    while argv and argv[0].startswith("-") and argv[0] != "--":
        a = argv.pop(0)
        moved.append(a)
        if "=" in a:
            continue
        f = flags.get(a[2:]) if a.startswith("--") else shorts.get(a[1:2]) if len(a) == 2 else None
        if f is not None and f.kind != "bool" and argv:
            moved.append(argv.pop(0))
    return argv + moved


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
