# TEST STAND-IN for the kubestrap lab, NOT etcd: the stand-in's etcd database
# and snapshot files.
#
# Shipped in the stand-in kubeadm package as
# /usr/lib/kubestrap-standin/kubeadm/etcd_db.py. The first stand-in API server
# keeps every object and the etcd membership in DATA_DIR/member/snap/db, where
# DATA_DIR is the --data-dir of etcd.yaml (/var/lib/etcd), as etcd keeps its
# bbolt database there. The stand-in's db is not bbolt; it is laid out so that
# what etcd's tools check about a db and a snapshot holds the same way:
#   - pages of 4096 bytes: page 0 a header ("kubestrap lab TEST STAND-IN etcd
#     db", page count, payload length, payload sha256 — as bbolt's meta page
#     carries its high-water mark and a checksum), then the JSON payload {"objects", "rv", "etcd"} padded with
#     zeros to whole pages;
#   - a snapshot (`etcdctl snapshot save`) is the db followed by the sha256 of
#     the db (32 bytes), as etcd's snapshot stream appends it; so a snapshot's
#     size is 32 more than a multiple of 512 (etcd's hasChecksum test).
# Checks, as etcdutl makes them: a file shorter than a page → "file size too
# small"; a bad header or fewer pages than it counts → "invalid database"; a
# payload whose sha256 differs → "checksum error"; restore of a snapshot whose
# size has no hash → "snapshot missing hash but --skip-hash-check=false"; a hash
# that differs → "expected sha256 [..], got [..]".
import hashlib
import json
import os
import struct

PAGE = 4096
MAGIC = b"kubestrap lab TEST STAND-IN etcd db (not bbolt)\n"
SHA_SIZE = 32


class DBError(Exception):
    pass


def encode(state):
    payload = json.dumps(state, sort_keys=True).encode()
    body = payload + b"\0" * (-len(payload) % PAGE)
    header = MAGIC + b"format 1\npages %d\npayload %d\nsha256 %s\n" % (
        1 + len(body) // PAGE, len(payload), hashlib.sha256(payload).hexdigest().encode())
    return header.ljust(PAGE, b"\0") + body


def decode(data):
    if len(data) < PAGE:
        raise DBError("file size too small")
    head = data[:PAGE]
    if not head.startswith(MAGIC):
        raise DBError("invalid database")
    try:
        fields = dict(line.split(b" ", 1) for line in head[len(MAGIC):].split(b"\0", 1)[0].splitlines())
        pages, n, want = int(fields[b"pages"]), int(fields[b"payload"]), fields[b"sha256"].decode()
    except (ValueError, KeyError):
        raise DBError("invalid database")
    if len(data) < pages * PAGE:  # cut short: pages the header counts are missing
        raise DBError("invalid database")
    payload = data[PAGE:PAGE + n]
    if len(payload) != n:
        raise DBError("invalid database")
    if hashlib.sha256(payload).hexdigest() != want:
        raise DBError("checksum error")
    try:
        return json.loads(payload)
    except ValueError:
        raise DBError("invalid database")


def snapshot(db):
    return db + hashlib.sha256(db).digest()


def has_hash(size):
    return size % 512 == SHA_SIZE


def verify_snapshot(data, skip_hash_check=False):
    """The db inside a snapshot file, as etcdutl's restore checks it."""
    if has_hash(len(data)):
        db, stored = data[:-SHA_SIZE], data[-SHA_SIZE:]
        computed = hashlib.sha256(db).digest()
        if stored != computed:
            raise DBError("expected sha256 %s, got %s" % (go_bytes(stored), go_bytes(computed)))
    elif not skip_hash_check:
        raise DBError("snapshot missing hash but --skip-hash-check=false")
    else:
        db = data
    return db, decode(db)


def go_bytes(b):
    """Go's %v of a byte slice: [1 2 3]."""
    return "[" + " ".join(str(x) for x in b) + "]"


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _CRC32C[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def status(data):
    """etcdutl's dbStatus of a db (or snapshot) file: hash (crc32c over the
    keys and values), revision, total keys, total size, storage version."""
    state = decode(data[:-SHA_SIZE] if has_hash(len(data)) else data)
    h, keys = 0, 0
    for k, v in sorted((state.get("objects") or {}).items()):
        h = crc32c(k.encode() + json.dumps(v, sort_keys=True).encode(), h)
        keys += 1
    for m in sorted((state.get("etcd") or {}).get("members") or [], key=lambda m: m["ID"]):
        h = crc32c(struct.pack(">Q", m["ID"]) + json.dumps(m, sort_keys=True).encode(), h)
        keys += 1
    return {"hash": h, "revision": state.get("rv", 1), "totalKey": keys, "totalSize": len(data), "version": "3.5.0"}


def member_id(peer_urls, token):
    """etcd's NewMember ID: the first 8 bytes of sha1(sorted peer URLs + cluster token)."""
    return struct.unpack(">Q", hashlib.sha1("".join(sorted(peer_urls)).encode() + token.encode()).digest()[:8])[0]


def cluster_id(ids):
    """etcd's cluster ID: the first 8 bytes of sha1 of the sorted member IDs."""
    return struct.unpack(">Q", hashlib.sha1(b"".join(struct.pack(">Q", i) for i in sorted(ids))).digest()[:8])[0]


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def db_path(data_dir):
    return os.path.join(data_dir, "member", "snap", "db")


def data_dir_of(manifest_text, default="/var/lib/etcd"):
    """--data-dir of an etcd static Pod manifest."""
    for line in (manifest_text or "").splitlines():
        line = line.strip().lstrip("-").strip().strip("'\"")
        if line.startswith("--data-dir="):
            return line.split("=", 1)[1]
    return default
