#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT etcd's etcdctl.
#
# Shipped in the stand-in kubeadm package as
# /usr/lib/kubestrap-standin/kubeadm/etcdctl.py: the etcdctl of the stand-in
# etcd "image", run by the stand-in crictl for `crictl exec ETCD etcdctl ...`
# (the real etcdctl lives in the etcd container only, not on the host).
# ETCDCTL_API=3 semantics of etcdctl 3.5 (etcdctl/ctlv3; written anew, nothing
# copied), against the stand-in members of etcd_standin.py:
#   global flags --endpoints (default 127.0.0.1:2379), --cacert, --cert, --key,
#   -w/--write-out simple|json|table, --hex, --dial-timeout, --command-timeout
#   (and ETCDCTL_* environment variables); TLS as etcdctl's: the server's
#   certificate is verified against --cacert (else the system roots), the
#   member requires a client certificate signed by its CA — a wrong or missing
#   one is the client's "context deadline exceeded", exit 1; an unreadable
#   file is exit 128 (ExitBadArgs);
#   member list      "ID, status, name, peer addrs, client addrs, is learner"
#                    (IDs in hex; json: the MemberListResponse, IDs as uint64)
#   member remove ID "Member %16x removed from cluster %16x"; errors as etcd's
#                    server gives them ("etcdserver: member not found", ...)
#   endpoint health [--cluster], endpoint status [--cluster]
#   snapshot save FILE  one endpoint only; the member's db with etcd's sha256
#                    appended (etcd_db.py), "Snapshot saved at FILE"; FILE is
#                    a path of the container: under a mount (the data
#                    directory /var/lib/etcd, the etcd certificates) it is on
#                    the host, else in the container's own file system
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path[:0] = [os.path.dirname(os.path.realpath(__file__)), "/usr/lib/kubestrap-standin/kubeadm"]
import etcd_standin as etcd  # noqa: E402

EXIT_ERROR, EXIT_BAD_ARGS = 1, 128
GLOBAL = {"endpoints": "s", "cacert": "s", "cert": "s", "key": "s", "write-out": "s", "hex": "b",
          "dial-timeout": "s", "command-timeout": "s", "keepalive-time": "s", "keepalive-timeout": "s",
          "insecure-skip-tls-verify": "b", "insecure-transport": "b", "insecure-discovery": "b", "user": "s",
          "password": "s", "debug": "b", "discovery-srv": "s", "discovery-srv-name": "s", "cluster": "b",
          "print-value-only": "b"}
SHORT = {"w": "write-out"}


class Exit(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def parse(argv):
    fl = {"endpoints": os.environ.get("ETCDCTL_ENDPOINTS", "127.0.0.1:2379"), "write-out": os.environ.get("ETCDCTL_WRITE_OUT", "simple"),
          "cacert": os.environ.get("ETCDCTL_CACERT", ""), "cert": os.environ.get("ETCDCTL_CERT", ""),
          "key": os.environ.get("ETCDCTL_KEY", ""), "hex": False, "cluster": False}
    words, i = [], 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            words += argv[i:]
            break
        if a.startswith("--") or (a.startswith("-") and len(a) > 1 and a[1:2] in SHORT):
            name, eq, raw = (a[2:].partition("=") if a.startswith("--") else (SHORT[a[1]], "=" if len(a) > 2 else "", a[2:].lstrip("=")))
            kind = GLOBAL.get(name)
            if kind is None:
                raise Exit(EXIT_ERROR, "unknown flag: --%s" % name)
            if kind == "b":
                fl[name] = raw not in ("false", "0") if eq else True
                continue
            if not eq:
                if i >= len(argv):
                    raise Exit(EXIT_ERROR, "flag needs an argument: --%s" % name)
                raw = argv[i]
                i += 1
            fl[name] = raw
        elif a.startswith("-") and len(a) > 1:
            raise Exit(EXIT_ERROR, "unknown shorthand flag: '%s' in %s" % (a[1], a))
        else:
            words.append(a)
    if fl["write-out"] not in ("simple", "json", "table", "fields", "protobuf"):
        raise Exit(4, "unsupported output format: %s" % fl["write-out"])  # ExitBadFeature
    return words, fl


def host_path(p):
    """Where a path of the container is on the host (crictl exec tells the
    container's mounts and root); outside a container, the path itself."""
    root = os.environ.get("KUBESTRAP_STANDIN_ROOTFS")
    p = os.path.normpath(os.path.join("/", p))
    if not root:
        return p
    for m in filter(None, os.environ.get("KUBESTRAP_STANDIN_MOUNTS", "").split(":")):
        if p == m or p.startswith(m.rstrip("/") + "/"):
            return p
    return root + p


class Conn:
    """The client: TLS when an endpoint says https or any TLS file is given."""

    def __init__(self, fl):
        fl = dict(fl)
        for n in ("cacert", "cert", "key"):
            if fl[n]:
                if not os.access(host_path(fl[n]), os.R_OK):
                    raise Exit(EXIT_BAD_ARGS, "open %s: no such file or directory" % fl[n])
                fl[n] = host_path(fl[n])
        if bool(fl["cert"]) != bool(fl["key"]):
            raise Exit(EXIT_BAD_ARGS, "KeyFile and CertFile must both be present[key: %s, cert: %s]" % (fl["key"], fl["cert"]))
        self.fl = fl
        tls = any(fl[n] for n in ("cacert", "cert", "key"))
        self.endpoints = [self.url(e, tls) for e in fl["endpoints"].split(",") if e]

    @staticmethod
    def url(e, tls):
        if "://" in e:
            return e
        return ("https://" if tls else "http://") + e

    def one(self, endpoint, path, body=None):
        return etcd.call(endpoint, path, body or {}, self.fl["cacert"] or None, self.fl["cert"] or None,
                         self.fl["key"] or None, timeout=5)

    def request(self, path, body=None):
        """The cluster's answer through the first endpoint that answers."""
        last = None
        for ep in self.endpoints:
            try:
                code, obj = self.one(ep, path, body)
            except etcd.ClientError as e:
                last = (ep, e)
                continue
            if code != 200:
                raise Exit(EXIT_ERROR, obj.get("error") or "etcdserver: HTTP %d" % code)
            return obj
        if last:
            log_retry(last[0], last[1])
        raise Exit(EXIT_ERROR, "context deadline exceeded")


def log_retry(endpoint, err):
    """The gRPC client's log line before it gives up, as etcdctl 3.5 prints it."""
    print(json.dumps({"level": "warn", "ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "logger": "etcd-client",
                      "caller": "v3@v3.5.15/retry_interceptor.go:62", "msg": "retrying of unary invoker failed",
                      "target": "etcd-endpoints://0xc000454000/%s" % endpoint.split("://", 1)[-1], "attempt": 0,
                      "error": "rpc error: code = DeadlineExceeded desc = latest balancer error: last connection error: "
                               "connection error: desc = \"%s\"" % str(err).replace('"', '\\"')}, separators=(",", ":")),
          file=sys.stderr)


def table(hdr, rows):
    """olekukonko/tablewriter as etcdctl renders it: centred upper-case header."""
    w = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(hdr)]
    line = "+" + "+".join("-" * (x + 2) for x in w) + "+"
    out = [line, "|" + "|".join(" " + h.upper().center(w[i]) + " " for i, h in enumerate(hdr)) + "|", line]
    for r in rows:
        out.append("|" + "|".join(" " + (c.rjust(w[i]) if c.isdigit() or c in ("true", "false") else c.ljust(w[i])) + " "
                                  for i, c in enumerate(r)) + "|")
    out.append(line)
    print("\n".join(out))


def human_bytes(n):
    """go-humanize Bytes (SI units)."""
    if n < 10:
        return "%d B" % n
    units = ["B", "kB", "MB", "GB", "TB"]
    e, v = 0, float(n)
    while v >= 1000 and e < len(units) - 1:
        v /= 1000
        e += 1
    return ("%.0f %s" if v >= 10 else "%.1f %s") % (v, units[e])


def dump(obj):
    print(json.dumps(obj, separators=(",", ":")))


# ---------------------------------------------------------------- member
def member_list(args, fl):
    r = Conn(fl).request("/v3/cluster/member/list")
    if fl["write-out"] == "json":
        return dump(r)
    hdr = ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"]
    rows = [["%x" % m["ID"], "started" if m.get("name") else "unstarted", m.get("name", ""), ",".join(m.get("peerURLs") or []),
             ",".join(m.get("clientURLs") or []), "true" if m.get("isLearner") else "false"] for m in r["members"]]
    if fl["write-out"] == "table":
        return table(hdr, rows)
    for row in rows:
        print(", ".join(row))


def member_id_arg(args):
    if len(args) != 1:
        raise Exit(EXIT_BAD_ARGS, "member ID is not provided")
    try:
        return int(args[0], 16)
    except ValueError:
        raise Exit(EXIT_BAD_ARGS, 'bad member ID arg (strconv.ParseUint: parsing "%s": invalid syntax), expecting ID in Hex' % args[0])


def member_remove(args, fl):
    mid = member_id_arg(args)
    r = Conn(fl).request("/v3/cluster/member/remove", {"ID": mid})
    if fl["write-out"] == "json":
        return dump(r)
    print("Member %16x removed from cluster %16x" % (mid, r["header"]["cluster_id"]))


def member_promote(args, fl):
    mid = member_id_arg(args)
    r = Conn(fl).request("/v3/cluster/member/promote", {"ID": mid})
    if fl["write-out"] == "json":
        return dump(r)
    print("Member %16x promoted in cluster %16x" % (mid, r["header"]["cluster_id"]))


# ---------------------------------------------------------------- endpoint
def cluster_endpoints(c, fl):
    if not fl["cluster"]:
        return c.endpoints
    r = c.request("/v3/cluster/member/list")
    return [u for m in r["members"] for u in m.get("clientURLs") or []]


def endpoint_health(args, fl):
    c = Conn(fl)
    results = []
    for ep in cluster_endpoints(c, fl):
        t0 = time.time()
        err = None
        try:
            code, obj = c.one(ep, "/health")
            if code != 200 or obj.get("health") != "true":
                err = "failed to commit proposal: context deadline exceeded"
        except etcd.ClientError as e:
            log_retry(ep, e)
            err = "failed to commit proposal: context deadline exceeded"
        results.append({"endpoint": ep, "health": err is None, "took": "%.6fms" % ((time.time() - t0) * 1000)}
                       | ({"error": err} if err else {}))
    if fl["write-out"] == "json":
        dump(results)
    elif fl["write-out"] == "table":
        table(["endpoint", "health", "took", "error"],
              [[r["endpoint"], "true" if r["health"] else "false", r["took"], r.get("error", "")] for r in results])
    else:
        for r in results:
            if r["health"]:
                print("%s is healthy: successfully committed proposal: took = %s" % (r["endpoint"], r["took"]))
            else:
                print("%s is unhealthy: %s" % (r["endpoint"], r["error"]), file=sys.stderr)
    if not all(r["health"] for r in results):
        raise Exit(EXIT_ERROR, "unhealthy cluster")


def endpoint_status(args, fl):
    c = Conn(fl)
    out, failed = [], False
    for ep in cluster_endpoints(c, fl):
        try:
            code, obj = c.one(ep, "/v3/maintenance/status")
        except etcd.ClientError as e:
            log_retry(ep, e)
            print("Failed to get the status of endpoint %s (context deadline exceeded)" % ep, file=sys.stderr)
            failed = True
            continue
        if code != 200:
            print("Failed to get the status of endpoint %s (%s)" % (ep, obj.get("error")), file=sys.stderr)
            failed = True
            continue
        out.append({"Endpoint": ep, "Status": obj})
    if fl["write-out"] == "json":
        dump(out)
    else:
        hdr = ["endpoint", "ID", "version", "db size", "is leader", "is learner", "raft term", "raft index", "raft applied index", "errors"]
        rows = [[o["Endpoint"], "%x" % o["Status"]["header"]["member_id"], o["Status"]["version"], human_bytes(o["Status"]["dbSize"]),
                 str(o["Status"]["leader"] == o["Status"]["header"]["member_id"]).lower(), str(bool(o["Status"].get("isLearner"))).lower(),
                 str(o["Status"]["raftTerm"]), str(o["Status"]["raftIndex"]), str(o["Status"]["raftAppliedIndex"]), ""] for o in out]
        if fl["write-out"] == "table":
            table(hdr, rows)
        else:
            for r in rows:
                print(", ".join(r))
    if failed:
        raise Exit(EXIT_ERROR, "context deadline exceeded")


# ---------------------------------------------------------------- snapshot
def info(caller, msg, **kw):
    """One of etcd's zap log lines (stderr)."""
    line = {"level": "info", "ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "caller": caller, "msg": msg}
    line.update(kw)
    print(json.dumps(line, separators=(",", ":")), file=sys.stderr)


def snapshot_save(args, fl):
    import base64
    if len(args) != 1:
        raise Exit(EXIT_BAD_ARGS, "snapshot save expects one argument")
    c = Conn(fl)
    if len(c.endpoints) != 1:
        raise Exit(EXIT_BAD_ARGS, "snapshot must be requested to one selected node, not multiple [%s]" % " ".join(c.endpoints))
    path = args[0]
    part = path + ".part"
    info("snapshot/v3_snapshot.go:65", "created temporary db file", path=part)
    t0 = time.time()
    info("snapshot/v3_snapshot.go:73", "fetching snapshot", endpoint=c.endpoints[0])
    blob = base64.b64decode(c.request("/v3/maintenance/snapshot")["blob"])
    try:
        os.makedirs(os.path.dirname(host_path(part)), exist_ok=True)
        with open(host_path(part), "wb") as f:
            f.write(blob)
        os.chmod(host_path(part), 0o600)
        os.replace(host_path(part), host_path(path))
    except OSError as e:
        raise Exit(EXIT_ERROR, "could not write %s: %s" % (path, e.strerror))
    info("snapshot/v3_snapshot.go:88", "fetched snapshot", endpoint=c.endpoints[0], size=human_bytes(len(blob)),
         took="%.6fs" % (time.time() - t0))
    info("snapshot/v3_snapshot.go:97", "saved", path=path)
    print("Snapshot saved at %s" % path)


COMMANDS = {("snapshot", "save"): snapshot_save, ("member", "list"): member_list, ("member", "remove"): member_remove, ("member", "promote"): member_promote,
            ("endpoint", "health"): endpoint_health, ("endpoint", "status"): endpoint_status}


def main(argv):
    if os.environ.get("ETCDCTL_API", "3") != "3":
        print("Error: the kubestrap lab's TEST STAND-IN etcdctl speaks ETCDCTL_API=3 only", file=sys.stderr)
        return EXIT_BAD_ARGS
    try:
        if argv in (["version"], ["--version"]):
            print("etcdctl version: %s\nAPI version: 3.5" % etcd.VERSION)
            return 0
        words, fl = parse(argv)
        fn = COMMANDS.get(tuple(words[:2]))
        if fn is None:
            what = " ".join(words[:2]) or "(none)"
            raise Exit(EXIT_ERROR, 'unknown command "%s" for "etcdctl" (the kubestrap lab\'s TEST STAND-IN etcdctl knows: %s)'
                       % (what, ", ".join(" ".join(k) for k in COMMANDS)))
        fn(words[2:], fl)
        return 0
    except Exit as e:
        print("Error: %s" % e, file=sys.stderr)
        return e.code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
