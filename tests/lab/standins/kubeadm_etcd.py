# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubeadm.
#
# The stacked-etcd membership steps of the stand-in kubeadm (shipped beside
# standin.py in /usr/lib/kubestrap-standin/kubeadm), followed from kubeadm
# 1.31's cmd/kubeadm/app/phases/etcd/local.go, util/etcd/etcd.go and
# cmd/phases/reset/removeetcdmember.go (written anew, nothing copied):
#   - join --control-plane: AddMemberAsLearner (EtcdLearnerMode, on by
#     default in 1.31) for https://ADVERTISE:2380 — skipped when a member with
#     that peer URL is listed already (a listed member of the same name with
#     another peer URL is left alone, as kubeadm does), retried every 500ms for
#     up to 2m on errors; writes etcd.yaml with the whole initial cluster and
#     initial-cluster-state=existing; promotes the learner (retried until it is
#     in sync; a member that is no learner is "already promoted"); waits for
#     the cluster to be available;
#   - reset on a control plane (remove-etcd-member phase): with the cluster's
#     kubeadm-config it removes this node's member through the cluster — not
#     when it is the only member and the client reaches it at this node's own
#     address; "member not found" and no member for the peer URL count as
#     removed; any failure is kubeadm's warning "[reset] Failed to remove etcd
#     member: ..., please manually remove this etcd member using etcdctl" and
#     reset carries on; the data directory is emptied either way.
# The etcd endpoints come from the cluster as kubeadm's NewFromCluster reads
# them (through the API server): here the first API server's address in the
# stand-in's kube-system/kubestrap-standin-apiserver ConfigMap, port 2379,
# with the apiserver-etcd-client certificate, as kubeadm's client uses.
import os
import shutil
import time
import urllib.parse

import etcd_standin as etcd
import standin as s

API_CALL_TIMEOUT = 120.0  # kubeadm's EtcdAPICallTimeout
RETRY_INTERVAL = 0.5  # kubeadm's EtcdAPICallRetryInterval
HEALTHY_RETRIES, HEALTHY_INTERVAL = 8, 5.0  # etcdHealthyCheckRetries / etcdHealthyCheckInterval


class EtcdClientError(Exception):
    pass


class Client:
    """kubeadm's etcd client of the cluster (one endpoint: the first member)."""

    def __init__(self, api, pki):
        try:
            primary = api.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubestrap-standin-apiserver")["data"]["primary"]
        except (s.APIError, KeyError, TypeError) as e:
            raise EtcdClientError("could not list etcd Pods in the cluster: %s" % e)
        self.endpoints = [etcd.client_url(urllib.parse.urlsplit(primary).hostname)]
        self.pki = pki

    def call(self, path, body=None):
        try:
            code, obj = etcd.call(self.endpoints[0], path, body or {}, os.path.join(self.pki, "etcd/ca.crt"),
                                  os.path.join(self.pki, "apiserver-etcd-client.crt"), os.path.join(self.pki, "apiserver-etcd-client.key"))
        except etcd.ClientError:
            raise EtcdClientError("context deadline exceeded")
        if code != 200:
            raise EtcdClientError(obj.get("error") or "etcdserver: HTTP %d" % code)
        return obj

    def retry(self, fn):
        """kubeadm's wait.PollUntilContextTimeout(EtcdAPICallRetryInterval, EtcdAPICallTimeout): the last error."""
        t0, last = time.time(), None
        while time.time() - t0 <= API_CALL_TIMEOUT:
            try:
                return fn()
            except EtcdClientError as e:
                last = e
            time.sleep(RETRY_INTERVAL)
        raise last

    def members(self):
        return self.retry(lambda: self.call("/v3/cluster/member/list"))["members"]

    def member_id(self, peer):
        for m in self.members():
            if m["peerURLs"][0] == peer:
                return m["ID"]
        return None

    def add_learner(self, name, peer):
        def once():
            ms = self.call("/v3/cluster/member/list")["members"]
            if any(m["peerURLs"][0] == peer for m in ms):
                return ms
            try:
                return self.call("/v3/cluster/member/add", {"peerURLs": [peer], "isLearner": True})["members"]
            except EtcdClientError as e:
                if str(e) == etcd.ERR_PEER_URL_EXIST:
                    return self.call("/v3/cluster/member/list")["members"]
                raise
        ms = self.retry(once)
        # the member being added carries our name; an unstarted one its hex ID
        return [(name if m["peerURLs"][0] == peer else (m.get("name") or "%x" % m["ID"]), m["peerURLs"][0]) for m in ms]

    def promote(self, mid):
        m = next((x for x in self.members() if x["ID"] == mid), None)
        if m is None or not m.get("isLearner"):
            return  # "[etcd] Member %s already promoted."
        self.retry(lambda: self.call("/v3/cluster/member/promote", {"ID": mid}))

    def remove(self, mid):
        def once():
            try:
                return self.call("/v3/cluster/member/remove", {"ID": mid})
            except EtcdClientError as e:
                if str(e) == etcd.ERR_MEMBER_NOT_FOUND:
                    return None  # already removed
                raise
        self.retry(once)

    def wait_available(self):
        last = None
        for _ in range(HEALTHY_RETRIES):
            try:
                if self.call("/health").get("health") == "true":
                    return
                last = EtcdClientError("etcd cluster is not healthy")
            except EtcdClientError as e:
                last = e
            time.sleep(HEALTHY_INTERVAL)
        raise EtcdClientError("timeout waiting for etcd cluster to be available: %s" % last)


def join(api, cfg, write_manifest, say):
    """control-plane-join/etcd: CreateStackedEtcdStaticPodManifestFile."""
    peer = etcd.peer_url(cfg["adv"])
    c = Client(api, cfg["pki"])
    cluster = c.add_learner(cfg["name"], peer)
    say("[etcd] Announced new etcd member joining to the existing etcd cluster")
    say('[etcd] Creating static Pod manifest for "etcd"')
    write_manifest(cfg, cluster)
    mid = c.member_id(peer)
    if mid is None:
        raise EtcdClientError("no member id found for peer URL")
    c.promote(mid)
    say("[etcd] Waiting for the new etcd member to join the cluster. This can take up to %s"
        % s.go_duration(HEALTHY_RETRIES * HEALTHY_INTERVAL))
    c.wait_available()


def remove_local_member(api, cfg):
    """reset's RemoveStackedEtcdMemberFromCluster."""
    c = Client(api, cfg["pki"])
    members = c.members()
    if len(members) == 1 and etcd.client_url(cfg["adv"]) in c.endpoints:
        return  # the only remaining member: nothing to remove it from
    mid = c.member_id(etcd.peer_url(cfg["adv"]))
    if mid is None:
        return  # already removed
    c.remove(mid)


def clean_dir(d):
    if not os.path.isdir(d):
        return
    for n in os.listdir(d):
        p = os.path.join(d, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            os.unlink(p)


def reset_phase(api_or_error, cfg, manifest_data_dir, say, warn):
    """remove-etcd-member: `api_or_error` is the admin client, or why there is
    none (then kubeadm has no cluster configuration and only cleans up)."""
    data_dir = manifest_data_dir
    if not isinstance(api_or_error, Exception) and cfg is not None:
        data_dir = cfg.get("dataDir") or data_dir
        try:
            remove_local_member(api_or_error, cfg)
        except EtcdClientError as e:
            warn("[reset] Failed to remove etcd member: %s, please manually remove this etcd member using etcdctl" % e,
                 "removeetcdmember.go:69")
        else:
            clean_dir(data_dir)
            say("[reset] Deleted contents of the etcd data directory: %s" % data_dir)
            return
    else:
        warn("[reset] No kubeadm config, using etcd pod spec to get data directory", "removeetcdmember.go:105")
    if os.path.isdir(data_dir) and os.listdir(data_dir):
        clean_dir(data_dir)
        say("[reset] Deleted contents of the etcd data directory: %s" % data_dir)
