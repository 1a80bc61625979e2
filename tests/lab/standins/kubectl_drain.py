# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubectl.
#
# `kubectl cordon|uncordon|drain NODE` of the stand-in kubectl (shipped beside
# standin.py in /usr/lib/kubestrap-standin/kubectl). Followed from kubectl
# 1.31 (staging/src/k8s.io/kubectl/pkg/cmd/drain, pkg/drain: cordon.go,
# filters.go, drain.go); written anew, nothing copied:
#   - cordon/uncordon set or clear the Node's spec.unschedulable: "node/X
#     cordoned", "node/X already cordoned", "node/X uncordoned", "node/X
#     already uncordoned"; an unknown node is the server's NotFound;
#   - drain cordons, then takes the Pods whose spec.nodeName is the node:
#     mirror Pods are skipped, finished Pods are deleted, DaemonSet-managed
#     ones fail unless --ignore-daemonsets (then a warning), Pods without a
#     controller fail unless --force, Pods with emptyDir volumes fail unless
#     --delete-emptydir-data; the rest are evicted through the eviction
#     subresource ("evicting pod ns/name", "pod/name evicted"); a refusal by
#     a PodDisruptionBudget (429) is retried every 5 s until --timeout (0:
#     forever), then drain fails with kubectl's "global timeout reached"
#     error and exit 1, the node left cordoned; "node/X drained" at the end.
import sys
import time

import standin as s
from standin import Command, Flag

DS_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DS_WARNING = "ignoring DaemonSet-managed Pods"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"
LOCAL_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_WARNING = "deleting Pods with local storage"
RETRY = 5.0


def err(msg):
    print(msg, file=sys.stderr, flush=True)


def get_node(k, c, name):
    return k.call(c, "GET", "/api/v1/nodes/" + name)


def set_unschedulable(k, c, name, want):
    """kubectl's cordon helper: (changed?) after patching spec.unschedulable."""
    n = get_node(k, c, name)
    if bool((n.get("spec") or {}).get("unschedulable")) == want:
        return False
    k.call(c, "PATCH", "/api/v1/nodes/" + name, {"spec": {"unschedulable": True if want else None}})
    return True


def cmd_cordon(k, args, fl, want):
    verb = "cordon" if want else "uncordon"
    if not args:
        raise k.KubectlError("USAGE: %s NODE [flags]\nSee 'kubectl %s -h' for help and examples" % (verb, verb))
    c = k.kubeconfig_for(fl)
    word = "cordoned" if want else "uncordoned"
    for name in args:
        changed = set_unschedulable(k, c, name, want)
        print("node/%s %s%s" % (name, "" if changed else "already ", word), flush=True)


def owner(p):
    return next((o for o in (p.get("metadata") or {}).get("ownerReferences") or [] if o.get("controller")), None)


def classify(p, fl):
    """(verdict, message): "skip", "delete", "warn" or "fatal", as kubectl's pod filters decide."""
    md, spec, st = p.get("metadata") or {}, p.get("spec") or {}, p.get("status") or {}
    if "kubernetes.io/config.mirror" in (md.get("annotations") or {}):
        return "skip", None
    if st.get("phase") in ("Succeeded", "Failed"):
        return "delete", None
    o = owner(p)
    if o and o.get("kind") == "DaemonSet":
        return ("warn", DS_WARNING) if fl.get("ignore-daemonsets") else ("fatal", DS_FATAL)
    verdict = ("delete", None)
    if not o:
        if not fl.get("force"):
            return "fatal", UNMANAGED_FATAL
        verdict = ("evict-warn", UNMANAGED_WARNING)
    if any("emptyDir" in v for v in spec.get("volumes") or []):
        if not (fl.get("delete-emptydir-data") or fl.get("delete-local-data")):
            return "fatal", LOCAL_FATAL
        verdict = ("evict-warn", LOCAL_WARNING)
    return verdict


def aggregate(errs):
    return errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"


def fail_node(k, name, errs):
    """kubectl's RunDrain after a failed node: the error, the pending nodes, then the error again (exit 1)."""
    err("error: unable to drain node \"%s\" due to error: %s, continuing command..." % (name, aggregate(errs)))
    err("There are pending nodes to be drained:\n %s" % name)
    if len(errs) == 1:
        err("error: " + errs[0])
    else:
        for e in errs:
            err(e)
    raise k.KubectlError(None, "silent")


def evict(k, c, p, deadline, timeout_str):
    ns, name = p["metadata"].get("namespace") or "default", p["metadata"]["name"]
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
    print("evicting pod %s/%s" % (ns, name), flush=True)
    while True:
        if deadline is not None and time.time() >= deadline:
            return 'error when evicting pods/"%s" -n "%s": global timeout reached: %s' % (name, ns, timeout_str)
        try:
            c.request("POST", "/api/v1/namespaces/%s/pods/%s/eviction" % (ns, name), body)
            break
        except s.APIError as e:
            if e.code == 404:
                break
            if e.code == 429:
                err('error when evicting pods/"%s" -n "%s" (will retry after 5s): %s' % (name, ns, e))
                time.sleep(RETRY if deadline is None else max(0.0, min(RETRY, deadline - time.time())))
                continue
            return 'error when evicting pods/"%s" -n "%s": %s' % (name, ns, e)
    print("pod/%s evicted" % name, flush=True)
    return None


def cmd_drain(k, args, fl):
    if len(args) != 1:
        raise k.KubectlError("USAGE: drain NODE [flags]\nSee 'kubectl drain -h' for help and examples")
    name = args[0]
    c = k.kubeconfig_for(fl)
    timeout = s.parse_duration(fl.get("timeout") or "0s")
    if timeout is None:
        raise s.UsageError('invalid argument "%s" for "--timeout" flag: time: invalid duration "%s"' % (fl["timeout"], fl["timeout"]))
    changed = set_unschedulable(k, c, name, True)
    print("node/%s %scordoned" % (name, "" if changed else "already "), flush=True)
    pods = [p for p in k.call(c, "GET", "/api/v1/pods").get("items") or [] if (p.get("spec") or {}).get("nodeName") == name]
    fatal, warnings, todo = {}, {}, []
    for p in sorted(pods, key=lambda p: ((p["metadata"].get("namespace") or ""), p["metadata"]["name"])):
        verdict, msg = classify(p, fl)
        ref = "%s/%s" % (p["metadata"].get("namespace") or "default", p["metadata"]["name"])
        if verdict == "fatal":
            fatal.setdefault(msg, []).append(ref)
        elif verdict == "warn":
            warnings.setdefault(msg, []).append(ref)
        elif verdict != "skip":
            if verdict == "evict-warn":
                warnings.setdefault(msg, []).append(ref)
            todo.append(p)
    if fatal:
        fail_node(k, name, ["cannot delete %s: %s" % (m, ", ".join(refs)) for m, refs in fatal.items()])
    if warnings:
        err("Warning: " + "; ".join("%s: %s" % (m, ", ".join(refs)) for m, refs in warnings.items()))
    deadline = time.time() + timeout if timeout else None
    errs = [e for e in (evict(k, c, p, deadline, s.go_duration(timeout)) for p in todo) if e]
    if errs:
        fail_node(k, name, errs)
    print("node/%s drained" % name, flush=True)


def commands(k):
    """cordon, uncordon and drain; k is the kubectl module (its client, errors)."""
    sel = [Flag("selector", short="l"), Flag("dry-run", default="none")]
    return (Command("cordon", lambda cmd, args, fl: cmd_cordon(k, args, fl, True), sel, short="Mark node as unschedulable"),
            Command("uncordon", lambda cmd, args, fl: cmd_cordon(k, args, fl, False), sel, short="Mark node as schedulable"),
            Command("drain", lambda cmd, args, fl: cmd_drain(k, args, fl),
                    sel + [Flag("force", "bool"), Flag("ignore-daemonsets", "bool"), Flag("delete-emptydir-data", "bool"),
                           Flag("delete-local-data", "bool"), Flag("grace-period", "int", -1), Flag("timeout", default="0s"),
                           Flag("pod-selector"), Flag("disable-eviction", "bool"), Flag("skip-wait-for-delete-timeout", "int"),
                           Flag("chunk-size", "int", 500)],
                    short="Drain node in preparation for maintenance"))
