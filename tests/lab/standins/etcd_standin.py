# TEST STAND-IN for the kubestrap lab, NOT etcd: the stand-in etcd member.
#
# Shipped in the stand-in kubeadm package as
# /usr/lib/kubestrap-standin/kubeadm/etcd_standin.py and run inside the
# stand-in API server process (apiserver.py), which plays the control plane's
# static Pods. It keeps what `etcdctl member ...` sees of a stacked etcd:
#
#   - the member list, in the first API server's db under "etcd"
#     ({"clusterID", "raftTerm", "members": [{"ID", "name", "peerURLs",
#     "clientURLs", "isLearner"}]}; IDs are random uint64 as etcd's) — created
#     by `kubeadm init` for the node (name = node name, peer
#     https://ADVERTISE:2380, client https://ADVERTISE:2379);
#   - a client listener on 127.0.0.1:2379 and ADVERTISE:2379 with TLS as etcd
#     runs it for kubeadm (--cert-file etcd/server.crt, --client-cert-auth:
#     a client certificate signed by etcd/ca.crt is required), answering JSON
#     on etcd's gRPC-gateway paths (/v3/cluster/member/list|add|remove|promote,
#     /v3/maintenance/status, /health);
#   - the peer port ADVERTISE:2380, held open: a member is "connected" (etcd's
#     transport ActiveSince) while its peer port accepts a connection.
#
# A replica (control-plane join) relays client requests to the first member's
# listener with its etcd peer certificate and "publishes" its name and client
# URL once started (etcd's publish of member attributes), which turns an
# "unstarted" member into a started one. Reconfiguration follows etcd 3.5's
# server checks with --strict-reconfig-check (kubeadm's default):
# mayAddMember, mayRemoveMember, mayPromoteMember.
import http.client
import http.server
import json
import os
import random
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse

CLIENT_PORT, PEER_PORT = 2379, 2380
VERSION = "3.5.15"

ERR_MEMBER_NOT_FOUND = "etcdserver: member not found"
ERR_PEER_URL_EXIST = "etcdserver: Peer URLs already exists"
ERR_UNHEALTHY = "etcdserver: unhealthy cluster"
ERR_NOT_ENOUGH_STARTED = "etcdserver: re-configuration failed due to not enough started members"
ERR_TOO_MANY_LEARNERS = "etcdserver: too many learner members in cluster"
ERR_NOT_LEARNER = "etcdserver: can only promote a learner member"
ERR_LEARNER_NOT_READY = "etcdserver: can only promote a learner member which is in sync with leader"
ERR_TIMEOUT = "etcdserver: request timed out"
MAX_LEARNERS = 1


class EtcdError(Exception):
    """An etcdserver error, as the gRPC status message the client prints."""


def peer_url(addr):
    return "https://%s:%d" % (addr, PEER_PORT)


def client_url(addr):
    return "https://%s:%d" % (addr, CLIENT_PORT)


def new_id(taken=()):
    while True:
        i = random.getrandbits(64)
        if i and i not in taken:
            return i


def new_cluster(name, addr):
    """The cluster `kubeadm init` starts: one member, this node."""
    mid = new_id()
    return {"clusterID": new_id((mid,)), "raftTerm": 2,
            "members": [{"ID": mid, "name": name, "peerURLs": [peer_url(addr)], "clientURLs": [client_url(addr)]}]}


def connected(member, self_peer, timeout=0.5):
    """etcd's transport view of a peer: this member always, another while its
    peer port accepts a TCP connection."""
    url = member["peerURLs"][0]
    if url == self_peer:
        return True
    u = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((u.hostname, u.port or PEER_PORT), timeout=timeout):
            return True
    except OSError:
        return False


class Cluster:
    """The membership on the first member (the stand-in's raft leader);
    `state` is the API server's persisted STATE, `save` writes it."""

    def __init__(self, state, save, self_peer):
        self.state, self.save, self.self_peer = state, save, self_peer

    @property
    def c(self):
        return self.state["etcd"]

    def members(self):
        return self.c["members"]

    def listed(self):
        """The members as etcd lists them (RaftCluster.Members: by ID)."""
        return sorted(self.members(), key=lambda m: m["ID"])

    def voting(self):
        return [m for m in self.members() if not m.get("isLearner")]

    def find(self, mid):
        return next((m for m in self.members() if m["ID"] == mid), None)

    def header(self, peer=None):
        me = next((m for m in self.members() if m["peerURLs"][0] == (peer or self.self_peer)), None)
        return {"cluster_id": self.c["clusterID"], "member_id": me["ID"] if me else 0, "raft_term": self.c["raftTerm"]}

    def has_quorum(self, active=None):
        voting = self.voting()
        active = active if active is not None else [m for m in voting if connected(m, self.self_peer)]
        return len(active) >= len(voting) // 2 + 1

    def commit(self):
        self.state["rv"] = self.state.get("rv", 1) + 1
        self.save()

    def add(self, peer_urls, learner):
        if not peer_urls:
            raise EtcdError("etcdserver: member peer URLs must not be empty")
        if any(u in m["peerURLs"] for m in self.members() for u in peer_urls):
            raise EtcdError(ERR_PEER_URL_EXIST)
        voting = self.voting()
        active = [m for m in voting if connected(m, self.self_peer)]
        if not self.has_quorum(active):
            raise EtcdError(ERR_TIMEOUT)
        if learner:
            if sum(1 for m in self.members() if m.get("isLearner")) >= MAX_LEARNERS:
                raise EtcdError(ERR_TOO_MANY_LEARNERS)
        else:
            # IsReadyToAddVotingMember: started voters reach the quorum of the grown cluster
            started = sum(1 for m in voting if m.get("name"))
            if started < (len(voting) + 1) // 2 + 1:
                raise EtcdError(ERR_NOT_ENOUGH_STARTED)
        # isConnectedFullySince: every voting member is connected
        if len(active) != len(voting):
            raise EtcdError(ERR_UNHEALTHY)
        m = {"ID": new_id([x["ID"] for x in self.members()]), "peerURLs": list(peer_urls)}
        if learner:
            m["isLearner"] = True
        self.members().append(m)
        self.commit()
        return m

    def remove(self, mid):
        m = self.find(mid)
        if m is None:
            raise EtcdError(ERR_MEMBER_NOT_FOUND)
        voting = self.voting()
        active = [x for x in voting if connected(x, self.self_peer)]
        if not self.has_quorum(active):
            raise EtcdError(ERR_TIMEOUT)
        if not m.get("isLearner"):
            # IsReadyToRemoveVotingMember: the started voters left reach their quorum
            rest = [x for x in voting if x["ID"] != mid]
            if sum(1 for x in rest if x.get("name")) < len(rest) // 2 + 1:
                raise EtcdError(ERR_NOT_ENOUGH_STARTED)
            # a member that is down is safe to remove; else the active quorum must survive
            if m["peerURLs"][0] == self.self_peer or m in active:
                if len(active) - 1 < 1 + (len(voting) - 1) // 2:
                    raise EtcdError(ERR_UNHEALTHY)
        self.members().remove(m)
        self.commit()

    def promote(self, mid):
        m = self.find(mid)
        if m is None:
            raise EtcdError(ERR_MEMBER_NOT_FOUND)
        if not m.get("isLearner"):
            raise EtcdError(ERR_NOT_LEARNER)
        voting = self.voting()
        if not self.has_quorum():
            raise EtcdError(ERR_TIMEOUT)
        # a learner is "in sync" once it started (published) and answers on its peer port
        if not m.get("name") or not connected(m, self.self_peer):
            raise EtcdError(ERR_LEARNER_NOT_READY)
        started = sum(1 for x in voting if x.get("name"))
        if started + 1 < (len(voting) + 1) // 2 + 1:
            raise EtcdError(ERR_NOT_ENOUGH_STARTED)
        m.pop("isLearner", None)
        self.commit()

    def publish(self, peer, name, client_urls):
        m = next((x for x in self.members() if x["peerURLs"][0] == peer), None)
        if m is None:
            raise EtcdError(ERR_MEMBER_NOT_FOUND)
        if m.get("name") != name or m.get("clientURLs") != client_urls:
            m["name"], m["clientURLs"] = name, client_urls
            self.commit()

    def status(self, peer, db_size):
        me = next((m for m in self.members() if m["peerURLs"][0] == peer), None)
        leader = next((m for m in self.members() if m["peerURLs"][0] == self.self_peer), None)
        rv = self.state.get("rv", 1)
        out = {"header": dict(self.header(peer), revision=rv), "version": VERSION, "dbSize": db_size,
               "leader": leader["ID"] if leader and self.has_quorum() else 0, "raftIndex": rv,
               "raftTerm": self.c["raftTerm"], "raftAppliedIndex": rv, "dbSizeInUse": db_size}
        if me and me.get("isLearner"):
            out["isLearner"] = True
        return out

    def handle(self, path, body, peer, db_size):
        """One client request (relayed ones name the member they reached)."""
        peer = peer or self.self_peer
        if path == "/v3/cluster/member/list":
            return {"header": self.header(peer), "members": self.listed()}
        if path == "/v3/cluster/member/add":
            m = self.add(body.get("peerURLs") or [], bool(body.get("isLearner")))
            return {"header": self.header(peer), "member": m, "members": self.listed()}
        if path == "/v3/cluster/member/remove":
            self.remove(int(body.get("ID") or 0))
            return {"header": self.header(peer), "members": self.listed()}
        if path == "/v3/cluster/member/promote":
            self.promote(int(body.get("ID") or 0))
            return {"header": self.header(peer), "members": self.listed()}
        if path == "/v3/maintenance/status":
            return self.status(peer, db_size)
        if path == "/standin/publish":
            self.publish(peer, body.get("name") or "", body.get("clientURLs") or [])
            return {"header": self.header(peer)}
        if path == "/v3/maintenance/snapshot":
            # the db as the member holds it, with the sha256 etcd appends to the stream
            import base64
            import etcd_db
            blob = etcd_db.snapshot(etcd_db.encode(self.state))
            return {"header": dict(self.header(peer), revision=self.state.get("rv", 1)), "blob": base64.b64encode(blob).decode()}
        if path == "/health":
            ok = self.has_quorum()
            return {"health": "true" if ok else "false", "reason": "" if ok else "RAFT NO LEADER"}
        raise LookupError(path)


# ---------------------------------------------------------------- the listener
class Member:
    """This host's member: serves the client port, holds the peer port."""

    def __init__(self, config, state, lock, save):
        self.config, self.state, self.lock = config, state, lock
        self.adv = config.get("advertiseAddress")
        self.pki = config["pki"]
        self.self_peer = peer_url(self.adv)
        self.upstream = None
        if config.get("upstream"):
            self.upstream = urllib.parse.urlsplit(config["upstream"]).hostname
        self.cluster = None if self.upstream else Cluster(state, save, self.self_peer)
        if self.cluster is not None and "etcd" not in state:
            state["etcd"] = new_cluster(config.get("nodeName") or socket.gethostname(), self.adv)
            save()
        elif self.cluster is not None:
            # publish this member's attributes (after a restore they are unset)
            try:
                self.cluster.publish(self.self_peer, config.get("nodeName") or socket.gethostname(), [client_url(self.adv)])
            except EtcdError:
                pass

    def db_size(self):
        return len(json.dumps(self.state.get("objects", {})))

    def serve(self, log):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.pki, "etcd/server.crt"), os.path.join(self.pki, "etcd/server.key"))
        ctx.load_verify_locations(os.path.join(self.pki, "etcd/ca.crt"))
        ctx.verify_mode = ssl.CERT_REQUIRED  # --client-cert-auth=true
        member = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                code, obj = member.request(self.path, raw, self.headers.get("X-Standin-Peer"))
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def finish_request(self, request, client_address):
                try:
                    request.settimeout(15)
                    conn = ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    request.close()
                    return
                Handler(conn, client_address, self)

        held = []
        for host in ("127.0.0.1", self.adv):
            try:
                srv = Server((host, CLIENT_PORT), Handler)
            except OSError as e:
                log("etcd stand-in could not listen on %s:%d: %s" % (host, CLIENT_PORT, e))
                continue
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            held.append(srv)
        sk = socket.socket()
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sk.bind((self.adv, PEER_PORT))
            sk.listen(16)
            held.append(sk)
            threading.Thread(target=self._accept_peers, args=(sk,), daemon=True).start()
        except OSError as e:
            log("etcd stand-in could not hold %s:%d: %s" % (self.adv, PEER_PORT, e))
        if self.upstream:
            threading.Thread(target=self._publish, args=(log,), daemon=True).start()
        log('"serving client traffic securely" address="127.0.0.1:%d,%s:%d" standIn="kubestrap lab TEST STAND-IN etcd"%s'
            % (CLIENT_PORT, self.adv, CLIENT_PORT, ' relaysTo="%s"' % client_url(self.upstream) if self.upstream else ""))
        return held

    @staticmethod
    def _accept_peers(sk):
        while True:
            try:
                c, _ = sk.accept()
                c.close()
            except OSError:
                return

    def _publish(self, log):
        """etcd's publish: once running, the member records its name and client URL."""
        body = {"name": self.config.get("nodeName") or socket.gethostname(), "clientURLs": [client_url(self.adv)]}
        for _ in range(3600):
            code, obj = self.relay("/standin/publish", json.dumps(body).encode(), self.self_peer)
            if code == 200:
                log('"published local member to cluster through raft" name="%s"' % body["name"])
                return
            time.sleep(1)

    def request(self, path, raw, peer):
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return 400, {"error": "invalid JSON", "code": 3}
        if self.upstream:
            return self.relay(path, raw, peer or self.self_peer)
        with self.lock:
            try:
                return 200, self.cluster.handle(path, body if isinstance(body, dict) else {}, peer, self.db_size())
            except EtcdError as e:
                return 400, {"error": str(e), "message": str(e), "code": 5 if str(e) == ERR_MEMBER_NOT_FOUND else 9}
            except LookupError:
                return 404, {"error": "Not Found", "code": 5}

    def relay(self, path, raw, peer):
        """A replica's member forwards to the leader (the first member)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(self.pki, "etcd/ca.crt"))
        ctx.load_cert_chain(os.path.join(self.pki, "etcd/peer.crt"), os.path.join(self.pki, "etcd/peer.key"))
        conn = http.client.HTTPSConnection(self.upstream, CLIENT_PORT, context=ctx, timeout=5)
        try:
            conn.request("POST", path, body=raw, headers={"Content-Type": "application/json", "X-Standin-Peer": peer})
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"{}")
        except (OSError, ValueError, http.client.HTTPException):
            return 503, {"error": ERR_TIMEOUT, "message": ERR_TIMEOUT, "code": 14}
        finally:
            conn.close()


# ---------------------------------------------------------------- the client side
class ClientError(Exception):
    """A request that did not get an answer (dial, TLS): etcd's client retries
    until its deadline, so callers report "context deadline exceeded"."""


def call(endpoint, path, body, cacert=None, cert=None, key=None, timeout=5):
    """POST one request to a member; (status, JSON) or ClientError(reason)."""
    u = urllib.parse.urlsplit(endpoint if "://" in endpoint else "http://" + endpoint)
    ctx = None
    if u.scheme == "https":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if cacert:
            ctx.load_verify_locations(cacert)
        else:
            ctx.load_default_certs()
        if cert:
            ctx.load_cert_chain(cert, key or cert)
    port = u.port or CLIENT_PORT
    conn = http.client.HTTPSConnection(u.hostname, port, context=ctx, timeout=timeout) if ctx \
        else http.client.HTTPConnection(u.hostname, port, timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    except ssl.SSLCertVerificationError as e:
        # Go's wording for the usual cases (X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, _UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
        why = "certificate signed by unknown authority" if e.verify_code in (19, 20, 21) else e.verify_message
        raise ClientError("transport: authentication handshake failed: tls: failed to verify certificate: x509: %s" % why)
    except ssl.SSLError as e:
        reason = "remote error: tls: certificate required" if "CERTIFICATE_REQUIRED" in str(e) else \
            "remote error: tls: bad certificate" if ("ALERT" in str(e) or "UNKNOWN_CA" in str(e)) else str(e)
        raise ClientError("transport: authentication handshake failed: %s" % reason)
    except (http.client.HTTPException, ValueError) as e:
        raise ClientError("error reading from server: %s" % (e or "EOF"))
    except ConnectionRefusedError:
        raise ClientError('transport: Error while dialing: dial tcp %s:%d: connect: connection refused' % (u.hostname, port))
    except OSError as e:
        reason = "i/o timeout" if isinstance(e, socket.timeout) else (e.strerror or str(e)).lower()
        raise ClientError('transport: Error while dialing: dial tcp %s:%d: %s' % (u.hostname, port, reason))
    finally:
        conn.close()
