#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kube-apiserver.
#
# Shipped in the stand-in kubeadm package as
# /usr/lib/kubestrap-standin/kubeadm/apiserver.py. `kubeadm init` (and a
# control-plane `kubeadm join`) writes the unit kubestrap-standin-apiserver.service
# (ExecStart: python3 apiserver.py STATEDIR) and the static Pod manifest
# /etc/kubernetes/manifests/kube-apiserver.yaml; the stand-in kubelet starts the
# unit while that manifest exists (as the real kubelet runs the static Pod).
#
# No secret is ever on its command line: everything is read from
#   STATEDIR/config.json  (0600) paths of the certificates, advertise address
#   DATA_DIR/member/snap/db (0600) every stored object and the etcd
#                         membership (etcd_db.py), DATA_DIR the --data-dir of
#                         etcd.yaml (/var/lib/etcd), read when it starts
# STATEDIR is /var/lib/kubestrap-standin/apiserver.
#
# It listens with TLS (the kubeadm-made apiserver.crt) on 0.0.0.0:6443 — so a
# kube-vip address added later answers too — and holds the other control-plane
# ports (127.0.0.1:10257, 127.0.0.1:10259) the way the real static Pods would,
# so kubeadm's port preflight checks see them taken; the stacked etcd member
# (2379 with TLS, 2380 held) is etcd_standin.py, run in this process.
#
# What it implements of the Kubernetes API (JSON only):
#   - generic REST storage for any /api/v1/... and /apis/G/V/... resource
#     (GET get/list, POST create, PUT replace, PATCH merge-patch, DELETE),
#     namespaces must exist; uid/resourceVersion/creationTimestamp/generation
#   - authentication: client certificates signed by the cluster CA (CN = user,
#     O = groups), bootstrap tokens ("Authorization: Bearer id.secret" checked
#     against kube-system/bootstrap-token-<id> Secrets: secret, expiration,
#     usage-bootstrap-authentication; expired or unknown → 401), requests
#     relayed by a replica (front-proxy-client certificate + X-Remote-User /
#     X-Remote-Group), else system:anonymous
#   - authorization (a fixed RBAC as kubeadm sets it up): cluster admins
#     (system:masters, kubeadm:cluster-admins) everything; anyone GET
#     kube-public/configmaps/cluster-info, /version, /healthz, /readyz, /livez;
#     bootstrap tokens: kubeadm-config/kubelet-config/kube-proxy ConfigMaps,
#     create CSRs, get nodes, get Secret kubeadm-certs (group
#     system:bootstrappers:kubeadm:default-node-token); nodes (system:nodes):
#     create/get/update themselves and their status
#   - the bootstrap signer: cluster-info gets jws-kubeconfig-<id> (detached
#     JWS, HS256, key = token secret) for every valid token with
#     usage-bootstrap-signing; the token cleaner deletes expired tokens; the
#     garbage collector deletes objects whose owner Secret is gone (the
#     kubeadm-certs Secret is owned by a 2 h token)
#   - CSR signing: a CertificateSigningRequest from a bootstrap token for
#     CN=system:node:<name>, O=system:nodes is approved and signed with the CA
#     at once (status.certificate)
#   - /version: the tag of the image in kube-apiserver.yaml (the version
#     deployed), copied at start to STATEDIR/manifest.running, which the
#     stand-in kubelet compares to the manifest to recreate the "Pod"
#   - the Pod eviction subresource, refused (429) while a selecting
#     PodDisruptionBudget allows no disruption
#   - computed status: Node Ready once a CNI DaemonSet (calico-node,
#     kube-flannel-ds, cilium, weave-net) has existed for 5 s and the node's
#     kubelet posted status within 40 s; DaemonSet/Deployment status from the
#     nodes (for `kubectl rollout status`)
# A replica (control-plane join) runs with "upstream" in config.json and
# relays every request to the first API server.
import http.server
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

sys.dont_write_bytecode = True
sys.path[:0] = [os.path.dirname(os.path.realpath(__file__)), "/usr/lib/kubestrap-standin/kubeadm"]
import standin as s  # noqa: E402
import etcd_standin  # noqa: E402
import etcd_db  # noqa: E402

STATEDIR = "/var/lib/kubestrap-standin/apiserver"
CNI_DAEMONSETS = ("calico-node", "kube-flannel-ds", "cilium", "weave-net")
CNI_SETTLE = 5.0
NODE_GRACE = 40.0
BASE_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
ADMIN_GROUPS = ("system:masters", "kubeadm:cluster-admins")
# resources of the core and common groups that are cluster-scoped
CLUSTER_SCOPED = {"nodes", "namespaces", "persistentvolumes", "clusterroles", "clusterrolebindings",
                  "customresourcedefinitions", "storageclasses", "priorityclasses", "apiservices",
                  "mutatingwebhookconfigurations", "validatingwebhookconfigurations", "ingressclasses",
                  "csidrivers", "csinodes", "runtimeclasses", "certificatesigningrequests", "volumeattachments",
                  "podsecuritypolicies", "validatingadmissionpolicies", "validatingadmissionpolicybindings"}

MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
ETCD_MANIFEST = "/etc/kubernetes/manifests/etcd.yaml"
DB = etcd_db.db_path("/var/lib/etcd")  # the --data-dir of etcd.yaml, at start
VERSION_INFO = s.version_info()
LOCK = threading.RLock()
CONFIG = {}
STATE = {"objects": {}, "rv": 1}


def log(msg):
    s.klog("I", "apiserver.go:1", msg, sys.stdout)


def save():
    os.makedirs(os.path.dirname(DB), mode=0o700, exist_ok=True)
    s.write_private(DB, etcd_db.encode(STATE))


def key_of(group, res, ns, name):
    return "%s|%s|%s|%s" % (group, res, ns or "", name)


def status(code, reason, message, details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message, "reason": reason, "code": code}
    if details:
        st["details"] = details
    return code, st


def not_found(res, name, group=""):
    gr = res + ("." + group if group else "")
    return status(404, "NotFound", '%s "%s" not found' % (gr, name), {"name": name, "kind": res})


# ---------------------------------------------------------------- controllers
def now():
    return time.time()


def objects(group=None, res=None, ns=None):
    for k, o in list(STATE["objects"].items()):
        g, r, n, _ = k.split("|", 3)
        if (group is None or g == group) and (res is None or r == res) and (ns is None or n == ns):
            yield k, o


def token_secrets():
    for k, o in objects("", "secrets", "kube-system"):
        if o.get("type") == "bootstrap.kubernetes.io/token":
            yield k, o


def secret_data(o, name):
    v = (o.get("data") or {}).get(name)
    if v is not None:
        try:
            return s.unb64(v).decode()
        except ValueError:
            return None
    return (o.get("stringData") or {}).get(name)


def token_expired(o):
    exp = secret_data(o, "expiration")
    if not exp:
        return False
    t = s.parse_rfc3339(exp)
    return t is None or t <= now()


def controllers():
    """Token cleaner, garbage collector, bootstrap signer (run on every request)."""
    changed = False
    for k, o in list(token_secrets()):
        if token_expired(o):
            del STATE["objects"][k]
            changed = True
    uids = {o["metadata"].get("uid") for _, o in objects()}
    for k, o in list(objects()):
        refs = o.get("metadata", {}).get("ownerReferences") or []
        if refs and not any(r.get("uid") in uids for r in refs):
            del STATE["objects"][k]
            changed = True
    ck = key_of("", "configmaps", "kube-public", "cluster-info")
    ci = STATE["objects"].get(ck)
    if ci is not None:
        data = ci.setdefault("data", {})
        want = {}
        content = data.get("kubeconfig", "")
        for _, o in token_secrets():
            if secret_data(o, "usage-bootstrap-signing") == "true":
                tid, sec = secret_data(o, "token-id"), secret_data(o, "token-secret")
                if tid and sec:
                    want["jws-kubeconfig-" + tid] = s.jws_detached(content, tid, sec)
        have = {k2: v for k2, v in data.items() if k2.startswith("jws-kubeconfig-")}
        if have != want:
            for k2 in have:
                del data[k2]
            data.update(want)
            changed = True
    if changed:
        STATE["rv"] += 1
        save()


def cni_since():
    t = None
    for _, o in objects("apps", "daemonsets"):
        if o["metadata"]["name"] in CNI_DAEMONSETS:
            c = s.parse_rfc3339(o["metadata"].get("creationTimestamp")) or now()
            t = c if t is None else min(t, c)
    return t


def node_ready(o):
    hb = (o.get("status") or {}).get("_standinHeartbeat", 0)
    cni = cni_since()
    fresh = now() - hb < NODE_GRACE
    if not fresh:
        return False, "NodeStatusUnknown", "Kubelet stopped posting node status."
    if cni is None or now() - cni < CNI_SETTLE:
        return False, "KubeletNotReady", ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                                          "message:Network plugin returns error: cni plugin not initialized")
    return True, "KubeletReady", "kubelet is posting ready status"


def present(key, o):
    """A copy of the stored object with its computed status."""
    o = json.loads(json.dumps(o))
    g, r, ns, name = key.split("|", 3)
    if r == "nodes":
        st = o.setdefault("status", {})
        hb = st.pop("_standinHeartbeat", 0)
        ready, reason, msg = node_ready(STATE["objects"][key])
        st["conditions"] = [{"type": "Ready", "status": "True" if ready else ("Unknown" if reason == "NodeStatusUnknown" else "False"),
                             "reason": reason, "message": msg, "lastHeartbeatTime": s.rfc3339(hb),
                             "lastTransitionTime": o["metadata"].get("creationTimestamp")}]
    elif g == "apps" and r in ("daemonsets", "deployments"):
        nodes = [(k, n) for k, n in objects("", "nodes")]
        spec = o.get("spec") or {}
        tol = ((spec.get("template") or {}).get("spec") or {}).get("tolerations") or []
        tolerate_all = any(t.get("operator") == "Exists" and not t.get("key") for t in tol)
        eligible = [(k, n) for k, n in nodes if tolerate_all or not any(
            t.get("effect") == "NoSchedule" for t in ((n.get("spec") or {}).get("taints") or []))]
        created = s.parse_rfc3339(o["metadata"].get("creationTimestamp")) or now()
        settled = now() - created >= CNI_SETTLE
        gen = o["metadata"].get("generation", 1)
        if r == "daemonsets":
            is_cni = name in CNI_DAEMONSETS
            avail = [1 for k, n in eligible if now() - (n.get("status") or {}).get("_standinHeartbeat", 0) < NODE_GRACE
                     and settled and (is_cni or node_ready(n)[0])]
            o["status"] = {"currentNumberScheduled": len(eligible), "desiredNumberScheduled": len(eligible),
                           "numberAvailable": len(avail), "numberReady": len(avail), "numberMisscheduled": 0,
                           "updatedNumberScheduled": len(eligible), "observedGeneration": gen}
            if len(avail) < len(eligible):
                o["status"]["numberUnavailable"] = len(eligible) - len(avail)
        else:
            want = spec.get("replicas", 1)
            ready_nodes = [1 for k, n in nodes if node_ready(n)[0]]
            avail = want if (ready_nodes and settled) else 0
            o["status"] = {"observedGeneration": gen, "replicas": want, "updatedReplicas": want,
                           "readyReplicas": avail, "availableReplicas": avail}
            if want - avail:
                o["status"]["unavailableReplicas"] = want - avail
    return o


# ---------------------------------------------------------------- authn / authz
def authenticate(h):
    cert = None
    try:
        cert = h.connection.getpeercert()
    except (AttributeError, ValueError):
        cert = None
    if cert:
        subj = dict()
        orgs = []
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "organizationName":
                    orgs.append(v)
                subj[k] = v
        issuer = {k: v for rdn in cert.get("issuer", ()) for k, v in rdn}
        if issuer.get("commonName") == "front-proxy-ca":
            if subj.get("commonName") != "front-proxy-client":
                return None
            user = h.headers.get("X-Remote-User")
            if user:
                return user, h.headers.get_all("X-Remote-Group") or []
            return "system:anonymous", ["system:unauthenticated"]
        return subj.get("commonName", ""), orgs
    auth = h.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        tok = auth[7:].strip()
        m = s.TOKEN_RE.match(tok)
        if not m:
            return None
        o = STATE["objects"].get(key_of("", "secrets", "kube-system", "bootstrap-token-" + m.group(1)))
        if not o or token_expired(o) or secret_data(o, "token-secret") != m.group(2) \
                or secret_data(o, "usage-bootstrap-authentication") != "true":
            return None
        groups = ["system:bootstrappers"] + [g for g in (secret_data(o, "auth-extra-groups") or "").split(",") if g]
        return "system:bootstrap:" + m.group(1), groups
    if auth:
        return None
    return "system:anonymous", ["system:unauthenticated"]


def allowed(user, groups, verb, group, res, ns, name, sub):
    if any(g in ADMIN_GROUPS for g in groups):
        return True
    if verb == "get" and res == "configmaps" and ns == "kube-public" and name == "cluster-info":
        return True
    if "system:bootstrappers" in groups:
        if verb == "get" and res == "configmaps" and ns == "kube-system" and name in ("kubeadm-config", "kubelet-config", "kube-proxy", "kubestrap-standin-apiserver"):
            return True
        if res == "certificatesigningrequests" and verb in ("create", "get"):
            return True
        if res == "nodes" and verb == "get":
            return True
        if verb == "get" and res == "secrets" and ns == "kube-system" and name == "kubeadm-certs" \
                and "system:bootstrappers:kubeadm:default-node-token" in groups:
            return True
    if "system:nodes" in groups and user.startswith("system:node:"):
        me = user[len("system:node:"):]
        if res == "nodes" and (verb in ("create", "list") or name == me):
            return True
        if res == "configmaps" and verb == "get" and ns == "kube-system":
            return True
    return False


def forbidden(user, verb, group, res, ns, name):
    scope = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
    what = '%s "%s"' % (res, name) if name else res
    return status(403, "Forbidden", '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s'
                  % (what, user, verb, res, group, scope))


# ---------------------------------------------------------------- REST
def parse_path(path):
    """(group, version, namespace, resource, name, subresource) or None."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3:
        ns, res, rest = rest[1], rest[2], rest[3:]
    else:
        ns, res, rest = "", rest[0], rest[1:]
    name = rest[0] if rest else ""
    sub = rest[1] if len(rest) > 1 else ""
    return group, version, ns, res, name, sub


def merge(a, b):
    if not isinstance(b, dict) or not isinstance(a, dict):
        return b
    out = dict(a)
    for k, v in b.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(a.get(k), v)
    return out


def namespace_exists(ns):
    return ns in BASE_NAMESPACES or key_of("", "namespaces", "", ns) in STATE["objects"]


def handle(method, path, query, body, ident):
    if path in ("/healthz", "/readyz", "/livez"):
        return 200, "ok"
    if path == "/version":
        return 200, VERSION_INFO
    p = parse_path(path)
    if p is None:
        return status(404, "NotFound", "the server could not find the requested resource")
    group, version, ns, res, name, sub = p
    if not ident:
        return status(401, "Unauthorized", "Unauthorized")
    user, groups = ident
    verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    if not allowed(user, groups, verb, group, res, ns, name, sub):
        return forbidden(user, verb, group, res, ns, name)
    if method == "POST" and group == "" and res == "pods" and sub == "eviction":
        return evict(ns, name)
    if method == "GET" and not name:
        items = [present(k, o) for k, o in sorted(objects(group, res, ns if ns else None))]
        sel = query.get("fieldSelector", [""])[0]
        if sel.startswith("metadata.name="):
            items = [i for i in items if i["metadata"]["name"] == sel.split("=", 1)[1]]
        kind = items[0]["kind"] + "List" if items else "List"
        return 200, {"kind": kind, "apiVersion": (group + "/" if group else "") + version,
                     "metadata": {"resourceVersion": str(STATE["rv"])}, "items": items}
    key = key_of(group, res, ns, name)
    if method == "GET":
        if key not in STATE["objects"]:
            return not_found(res, name, group)
        return 200, present(key, STATE["objects"][key])
    if method == "DELETE":
        if key not in STATE["objects"]:
            return not_found(res, name, group)
        o = STATE["objects"].pop(key)
        STATE["rv"] += 1
        save()
        return 200, o
    if not isinstance(body, dict):
        return status(400, "BadRequest", "the body of the request was in an unknown format")
    if method == "POST":
        name = (body.get("metadata") or {}).get("name") or ""
        if not name and (body.get("metadata") or {}).get("generateName"):
            name = body["metadata"]["generateName"] + uuid.uuid4().hex[:5]
            body["metadata"]["name"] = name
        if not name:
            return status(422, "Invalid", "%s is invalid: metadata.name: Required value: name or generateName is required" % res)
        key = key_of(group, res, ns, name)
        if ns and not namespace_exists(ns):
            return status(404, "NotFound", 'namespaces "%s" not found' % ns)
        if key in STATE["objects"]:
            return status(409, "AlreadyExists", '%s "%s" already exists' % (res + ("." + group if group else ""), name))
        o = dict(body)
        md = o.setdefault("metadata", {})
        md["name"] = name
        if ns:
            md["namespace"] = ns
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = s.rfc3339(now())
        md["generation"] = 1
        if res == "nodes":
            o.setdefault("status", {})["_standinHeartbeat"] = now()
        if res == "namespaces":
            o.setdefault("status", {})["phase"] = "Active"
        if res == "certificatesigningrequests":
            code, err = sign_csr(o, user, groups)
            if code:
                return code, err
    else:  # PUT / PATCH
        if key not in STATE["objects"]:
            return not_found(res, name, group)
        old = STATE["objects"][key]
        if sub == "status":
            o = json.loads(json.dumps(old))
            o["status"] = merge(old.get("status") or {}, (body.get("status") or {})) if method == "PATCH" else (body.get("status") or {})
            if res == "nodes":
                o["status"]["_standinHeartbeat"] = now()
        else:
            o = merge(old, body) if method == "PATCH" else dict(body)
            o["status"] = old.get("status", o.get("status"))
            md = o.setdefault("metadata", {})
            for f in ("uid", "creationTimestamp", "name"):
                md[f] = old["metadata"].get(f)
            if ns:
                md["namespace"] = ns
            if json.dumps(o.get("spec"), sort_keys=True) != json.dumps(old.get("spec"), sort_keys=True) or \
                    json.dumps(o.get("data"), sort_keys=True) != json.dumps(old.get("data"), sort_keys=True):
                md["generation"] = old["metadata"].get("generation", 1) + 1
            else:
                md["generation"] = old["metadata"].get("generation", 1)
    if res == "secrets" and o.get("stringData"):
        data = dict(o.get("data") or {})
        data.update({k: s.b64(str(v)) for k, v in o.pop("stringData").items()})
        o["data"] = data
    STATE["rv"] += 1
    o["metadata"]["resourceVersion"] = str(STATE["rv"])
    STATE["objects"][key] = o
    save()
    controllers()
    return (201 if method == "POST" else 200), present(key, o)


def selects(selector, labels):
    """A LabelSelector (matchLabels, matchExpressions) against labels; {} selects everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if (op == "In" and labels.get(k) not in vals) or (op == "NotIn" and k in labels and labels[k] in vals) or \
                (op == "Exists" and k not in labels) or (op == "DoesNotExist" and k in labels):
            return False
    return True


def scaled(v, total, round_up):
    """An IntOrString of a PodDisruptionBudget ("50%" or 2) against total pods."""
    import math
    if isinstance(v, str) and v.endswith("%"):
        f = int(v[:-1]) * total / 100.0
        return math.ceil(f) if round_up else math.floor(f)
    return int(v)


def evict(ns, name):
    """The eviction subresource: deletes the Pod unless a PodDisruptionBudget
    selecting it allows no disruption (computed as the disruption controller
    does: healthy matching Pods minus the desired healthy count), then 429."""
    key = key_of("", "pods", ns, name)
    pod = STATE["objects"].get(key)
    if pod is None:
        return not_found("pods", name)
    labels = (pod.get("metadata") or {}).get("labels") or {}
    pdbs = [o for _, o in objects("policy", "poddisruptionbudgets", ns) if selects((o.get("spec") or {}).get("selector"), labels)]
    if len(pdbs) > 1:
        return status(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
    if pdbs:
        spec = pdbs[0].get("spec") or {}
        pods = [o for _, o in objects("", "pods", ns) if selects(spec.get("selector"), (o.get("metadata") or {}).get("labels") or {})]
        healthy = len([o for o in pods if (o.get("status") or {}).get("phase", "Running") == "Running"])
        if spec.get("minAvailable") is not None:
            desired = scaled(spec["minAvailable"], len(pods), True)
        elif spec.get("maxUnavailable") is not None:
            desired = len(pods) - scaled(spec["maxUnavailable"], len(pods), True)
        else:
            desired = len(pods)
        if healthy - desired <= 0:
            pdb = pdbs[0]["metadata"]["name"]
            return status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                          {"causes": [{"reason": "DisruptionBudget",
                                       "message": "The disruption budget %s needs %d healthy pods and has %d currently" % (pdb, desired, healthy)}]})
    STATE["objects"].pop(key)
    STATE["rv"] += 1
    save()
    return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def sign_csr(o, user, groups):
    spec = o.get("spec") or {}
    try:
        csr = s.unb64(spec.get("request", "")).decode()
        cn, orgs = s.csr_subject(csr)
    except (ValueError, s.CryptoError) as e:
        return status(422, "Invalid", "CertificateSigningRequest is invalid: spec.request: Invalid value: []byte{...}: %s" % e)
    if not (cn or "").startswith("system:node:") or orgs != ["system:nodes"]:
        o["status"] = {"conditions": [{"type": "Denied", "status": "True", "reason": "StandinDenied",
                                       "message": "only kubelet client certificates (CN=system:node:<name>, O=system:nodes) are signed"}]}
        return None, None
    pki = CONFIG["pki"]
    cert = s.sign_csr(csr.encode(), os.path.join(pki, "ca.crt"), os.path.join(pki, "ca.key"), "client")
    o["status"] = {"certificate": s.b64(cert),
                   "conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved",
                                   "message": "Auto approving kubelet client certificate after SubjectAccessReview."}]}
    return None, None


# ---------------------------------------------------------------- HTTP
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-standin"

    def log_message(self, fmt, *args):  # never log headers (bearer tokens)
        log('"HTTP" verb="%s" URI="%s" status=%s' % (self.command, self.path.split("?")[0], args[1] if len(args) > 1 else "?"))

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return "invalid"

    def _send(self, code, obj):
        data = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if isinstance(obj, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _do(self):
        u = urllib.parse.urlsplit(self.path)
        body = self._body() if self.command in ("POST", "PUT", "PATCH") else None
        if CONFIG.get("upstream"):
            return self._relay(u, body)
        with LOCK:
            controllers()
            ident = authenticate(self)
            try:
                code, obj = handle(self.command, u.path, urllib.parse.parse_qs(u.query), body, ident)
            except Exception as e:  # keep serving; report like an internal error
                code, obj = status(500, "InternalError", "Internal error occurred: %s" % e)
        self._send(code, obj)

    def _relay(self, u, body):
        """Replica: relay to the first API server, as an authenticating proxy."""
        import http.client
        ident = authenticate(self)
        up = urllib.parse.urlsplit(CONFIG["upstream"])
        pki = CONFIG["pki"]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
        ctx.load_cert_chain(os.path.join(pki, "front-proxy-client.crt"), os.path.join(pki, "front-proxy-client.key"))
        headers = {"Content-Type": "application/json"}
        auth = self.headers.get("Authorization")
        if ident is None:
            return self._send(*status(401, "Unauthorized", "Unauthorized"))
        if auth:
            headers["Authorization"] = auth
        elif ident[0] != "system:anonymous":
            headers["X-Remote-User"] = ident[0]
        conn = http.client.HTTPSConnection(up.hostname, up.port or 443, context=ctx, timeout=15)
        try:
            if ident[0] != "system:anonymous" and not auth:
                conn.putrequest(self.command, self.path)
                data = json.dumps(body).encode() if body is not None else b""
                for k, v in headers.items():
                    conn.putheader(k, v)
                for g in ident[1]:
                    conn.putheader("X-Remote-Group", g)
                conn.putheader("Content-Length", str(len(data)))
                conn.endheaders(data)
            else:
                conn.request(self.command, self.path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
            r = conn.getresponse()
            raw = r.read()
        except OSError as e:
            return self._send(*status(503, "ServiceUnavailable", "error trying to reach the first API server: %s" % e))
        finally:
            conn.close()
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = raw.decode(errors="replace")
        self._send(r.status, obj)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _do


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx):
        self.ctx = ctx
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(30)
        return sock, addr

    def finish_request(self, request, client_address):
        try:
            conn = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        self.RequestHandlerClass(conn, client_address, self)


def hold_port(host, port):
    sk = socket.socket()
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sk.bind((host, port))
        sk.listen(16)
    except OSError as e:
        log("could not hold %s:%d: %s" % (host, port, e))
        return None
    return sk


def deployed_version(manifest):
    """/version as the control plane is deployed: the tag of the static Pod's
    image (registry.k8s.io/kube-apiserver:v1.32.0), as a real API server
    reports the version of the image it runs; the package's version when the
    manifest names none."""
    import hashlib
    info = s.version_info()
    try:
        pod = s.load_yaml_all(manifest.decode())[0]
        image = pod["spec"]["containers"][0]["image"]
    except (ValueError, s.YAMLError, IndexError, KeyError, TypeError, AttributeError):
        return info
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
    v = s.semver(tag)
    if not v:
        return info
    info.update({"major": str(v[0]), "minor": str(v[1]), "gitVersion": tag,
                 "gitCommit": hashlib.sha1(("kubestrap-lab-standin %s" % tag).encode()).hexdigest()})
    return info


def main(argv):
    global STATEDIR, CONFIG, STATE, VERSION_INFO, DB
    if argv:
        STATEDIR = argv[0]
    # What the kubelet started: it recreates this "Pod" when the manifest differs.
    try:
        with open(MANIFEST, "rb") as f:
            manifest = f.read()
        s.write_private(os.path.join(STATEDIR, "manifest.running"), manifest)
        VERSION_INFO = deployed_version(manifest)
    except OSError:
        pass
    try:  # the etcd "Pod" this process plays, and where its data lives
        with open(ETCD_MANIFEST, "rb") as f:
            etcd_manifest = f.read()
        s.write_private(os.path.join(STATEDIR, "etcd-manifest.running"), etcd_manifest)
        DB = etcd_db.db_path(etcd_db.data_dir_of(etcd_manifest.decode()))
    except OSError:
        pass
    with open(os.path.join(STATEDIR, "config.json")) as f:
        CONFIG = json.load(f)
    if not CONFIG.get("upstream"):
        try:
            STATE = etcd_db.decode(etcd_db.read_file(DB))
        except FileNotFoundError:
            save()
        except etcd_db.DBError as e:  # as etcd, which does not start on a broken db
            log('"etcd stand-in cannot open its database" path="%s" err="%s"' % (DB, e))
            return 1
    pki = CONFIG["pki"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(pki, "apiserver.crt"), os.path.join(pki, "apiserver.key"))
    cafile = tempfile.NamedTemporaryFile("w", delete=False)
    for n in ("ca.crt", "front-proxy-ca.crt"):
        try:
            with open(os.path.join(pki, n)) as f:
                cafile.write(f.read())
        except FileNotFoundError:
            pass
    cafile.close()
    ctx.load_verify_locations(cafile.name)
    os.unlink(cafile.name)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    port = int(CONFIG.get("bindPort", 6443))
    srv = Server(("0.0.0.0", port), ctx)
    held = [hold_port("127.0.0.1", 10257), hold_port("127.0.0.1", 10259)]
    if CONFIG.get("advertiseAddress") and os.path.exists(os.path.join(pki, "etcd/server.crt")):
        # the stacked etcd member of this control plane (etcd_standin.py)
        try:
            held += etcd_standin.Member(CONFIG, STATE, LOCK, save).serve(log)
        except (OSError, ssl.SSLError) as e:
            log('"etcd stand-in not started" err="%s"' % e)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    log('"Serving securely" address="0.0.0.0:%d" standIn="kubestrap lab TEST STAND-IN kube-apiserver"%s'
        % (port, ' upstream="%s"' % CONFIG["upstream"] if CONFIG.get("upstream") else ""))
    srv.serve_forever()
    log('"Shutting down"')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
