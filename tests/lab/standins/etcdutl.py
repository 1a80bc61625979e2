#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT etcd's etcdutl.
#
# Shipped in the stand-in kubeadm package as /usr/local/bin/etcdutl (library
# beside it in /usr/lib/kubestrap-standin/kubeadm). The real etcdutl is no part
# of kubeadm's packages: an operator restoring a stacked etcd takes it from the
# etcd release (or the etcd image) and runs it on the host, because the etcd
# container is stopped while its data directory is replaced. The stand-in
# plays that copy, in the place such a manual install puts it.
# etcdutl 3.5's commands (etcdutl/etcdutl; written anew, nothing copied), on
# the stand-in's db and snapshot files (etcd_db.py):
#   snapshot status FILE [-w simple|json|table]
#       "HASH, REVISION, TOTAL KEYS, TOTAL SIZE, VERSION" (hash in hex);
#       a truncated or foreign file fails as bbolt does ("file size too
#       small", "invalid database", "checksum error"), exit 1
#   snapshot restore FILE --data-dir DIR --name NAME --initial-cluster
#       N=URL,... --initial-advertise-peer-urls URL [--initial-cluster-token T]
#       [--skip-hash-check]
#       checks the sha256 etcd appends to a snapshot, refuses a DIR that
#       is not empty (an empty one is used) and an existing --wal-dir, writes DIR/member/snap/db (the objects of the snapshot, the
#       membership of --initial-cluster with etcd's member and cluster IDs
#       derived from the peer URLs and token) and DIR/member/wal
#   version
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path[:0] = ["/usr/lib/kubestrap-standin/kubeadm", os.path.dirname(os.path.realpath(__file__))]
import etcd_db  # noqa: E402

EXIT_ERROR, EXIT_BAD_ARGS = 1, 128
FLAGS = {"write-out": "simple", "data-dir": "", "name": "default", "initial-cluster": "default=http://localhost:2380",
         "initial-cluster-token": "etcd-cluster", "initial-advertise-peer-urls": "http://localhost:2380",
         "skip-hash-check": False, "wal-dir": "", "mark-compacted": False, "bump-revision": "0"}


class Exit(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def parse(argv):
    fl, words, i = dict(FLAGS), [], 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a.startswith("-") and len(a) > 1:
            name, eq, raw = a.lstrip("-").partition("=")
            name = {"w": "write-out"}.get(name, name)
            if name not in FLAGS:
                raise Exit(EXIT_ERROR, "unknown flag: %s" % a.split("=", 1)[0])
            if isinstance(FLAGS[name], bool):
                fl[name] = raw not in ("false", "0") if eq else True
                continue
            if not eq:
                if i >= len(argv):
                    raise Exit(EXIT_ERROR, "flag needs an argument: --%s" % name)
                raw = argv[i]
                i += 1
            fl[name] = raw
        else:
            words.append(a)
    return words, fl


def log(level, caller, msg, **kw):
    line = {"level": level, "ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "caller": caller, "msg": msg}
    line.update(kw)
    print(json.dumps(line, separators=(",", ":")), file=sys.stderr)


def read(path):
    try:
        return etcd_db.read_file(path)
    except OSError as e:
        raise Exit(EXIT_ERROR, "open %s: %s" % (path, (e.strerror or str(e)).lower()))


def human_bytes(n):
    if n < 10:
        return "%d B" % n
    units, e, v = ["B", "kB", "MB", "GB", "TB"], 0, float(n)
    while v >= 1000 and e < len(units) - 1:
        v /= 1000
        e += 1
    return ("%.0f %s" if v >= 10 else "%.1f %s") % (v, units[e])


def status(args, fl):
    if len(args) != 1:
        raise Exit(EXIT_BAD_ARGS, "snapshot filename expected")
    try:
        st = etcd_db.status(read(args[0]))
    except etcd_db.DBError as e:
        raise Exit(EXIT_ERROR, str(e))
    row = ["%x" % st["hash"], str(st["revision"]), str(st["totalKey"]), human_bytes(st["totalSize"]), st["version"]]
    if fl["write-out"] == "json":
        print(json.dumps(st, separators=(",", ":")))
    elif fl["write-out"] == "table":
        hdr = ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE", "VERSION"]
        w = [max(len(h), len(c)) for h, c in zip(hdr, row)]
        line = "+" + "+".join("-" * (x + 2) for x in w) + "+"
        print(line)
        print("|" + "|".join(" " + h.center(w[i]) + " " for i, h in enumerate(hdr)) + "|")
        print(line)
        print("|" + "|".join(" " + (c.rjust(w[i]) if c.isdigit() else c.ljust(w[i])) + " " for i, c in enumerate(row)) + "|")
        print(line)
    elif fl["write-out"] == "simple":
        print(", ".join(row))
    else:
        raise Exit(4, "unsupported output format: %s" % fl["write-out"])


def initial_cluster(fl):
    """--initial-cluster as etcd's URLsMap: name → [peer URLs]."""
    out = {}
    for part in filter(None, fl["initial-cluster"].split(",")):
        name, eq, url = part.partition("=")
        if not eq or "://" not in url:
            raise Exit(EXIT_ERROR, 'failed to parse --initial-cluster "%s"' % fl["initial-cluster"])
        out.setdefault(name, []).append(url)
    return out


def dir_empty(path):
    """etcd's fileutil.DirEmpty: false when the directory cannot be read."""
    try:
        return not os.listdir(path)
    except OSError:
        return False


def restore(args, fl):
    if len(args) != 1:
        raise Exit(EXIT_BAD_ARGS, "snapshot filename expected")
    path = args[0]
    data_dir = fl["data-dir"] or fl["name"] + ".etcd"
    cluster = initial_cluster(fl)
    mine = sorted(filter(None, fl["initial-advertise-peer-urls"].split(",")))
    if fl["name"] not in cluster:
        raise Exit(EXIT_ERROR, 'couldn\'t find local name "%s" in the initial cluster configuration' % fl["name"])
    if sorted(cluster[fl["name"]]) != mine:
        raise Exit(EXIT_ERROR, '--initial-cluster has %s=%s but missing from --initial-advertise-peer-urls=%s'
                   % (fl["name"], ",".join(cluster[fl["name"]]), ",".join(mine)))
    # etcd 3.5 (etcdutl/snapshot/v3_snapshot.go): an existing data dir is
    # fine only while empty; an explicit --wal-dir must not exist
    if os.path.exists(data_dir) and not dir_empty(data_dir):
        raise Exit(EXIT_ERROR, 'data-dir "%s" not empty or could not be read' % data_dir)
    if fl["wal-dir"] and os.path.exists(fl["wal-dir"]):
        raise Exit(EXIT_ERROR, 'wal-dir "%s" exists' % fl["wal-dir"])
    snap_dir, wal_dir = os.path.join(data_dir, "member", "snap"), fl["wal-dir"] or os.path.join(data_dir, "member", "wal")
    log("info", "snapshot/v3_snapshot.go:248", "restoring snapshot", path=path, **{"wal-dir": wal_dir, "data-dir": data_dir,
                                                                                 "snap-dir": snap_dir})
    try:
        _, state = etcd_db.verify_snapshot(read(path), fl["skip-hash-check"])
    except etcd_db.DBError as e:
        raise Exit(EXIT_ERROR, str(e))
    token = fl["initial-cluster-token"]
    members = [{"ID": etcd_db.member_id(urls, token), "name": name, "peerURLs": sorted(urls), "clientURLs": []}
               for name, urls in sorted(cluster.items())]
    state["etcd"] = {"clusterID": etcd_db.cluster_id([m["ID"] for m in members]), "raftTerm": 2, "members": members}
    os.makedirs(snap_dir, mode=0o700, exist_ok=True)
    os.makedirs(wal_dir, mode=0o700, exist_ok=True)
    os.chmod(data_dir, 0o700)
    db = os.path.join(snap_dir, "db")
    fd = os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(etcd_db.encode(state))
    log("info", "snapshot/v3_snapshot.go:269", "restored snapshot", path=path, **{"wal-dir": wal_dir, "data-dir": data_dir,
                                                                                "snap-dir": snap_dir})


COMMANDS = {("snapshot", "status"): status, ("snapshot", "restore"): restore}


def main(argv):
    try:
        if argv in (["version"], ["--version"]):
            print("etcdutl version: 3.5.15\nAPI version: 3.5")
            return 0
        words, fl = parse(argv)
        fn = COMMANDS.get(tuple(words[:2]))
        if fn is None:
            raise Exit(EXIT_ERROR, 'unknown command "%s" for "etcdutl" (the kubestrap lab\'s TEST STAND-IN etcdutl knows: %s)'
                       % (" ".join(words[:2]) or "(none)", ", ".join(" ".join(k) for k in COMMANDS)))
        fn(words[2:], fl)
        return 0
    except Exit as e:
        print("Error: %s" % e, file=sys.stderr)
        return e.code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
