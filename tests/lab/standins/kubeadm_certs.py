# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubeadm.
#
# `kubeadm certs check-expiration` and `kubeadm certs renew all|NAME` of the
# stand-in kubeadm (shipped beside standin.py in /usr/lib/kubestrap-standin/kubeadm).
# Followed from kubeadm 1.31's cmd/kubeadm/app/cmd/certs.go and
# phases/certs/renewal (written anew, nothing copied):
#   - the handled certificates, sorted by name: the PKI leaves (signed by ca,
#     etcd-ca or front-proxy-ca) and the client certificates embedded in
#     admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf
#     (never kubelet.conf: the kubelet rotates its own); with external etcd
#     the etcd leaves, apiserver-etcd-client and etcd-ca are left out;
#   - the cluster configuration comes from --config, else the kubeadm-config
#     ConfigMap (when --kubeconfig loads), else defaults; --cert-dir (default
#     /etc/kubernetes/pki) is the directory used unless --config gave one;
#   - a CA whose key is absent is "externally managed": check-expiration says
#     "yes", renew prints "Detected external <ca>, <cert> can't be renewed"
#     and goes on (as kubeadm; not an error); a missing CA certificate fails;
#   - renew keeps subject (CN, O), SANs and extended key usages of the
#     existing certificate, makes a new RSA key and signs one year from the
#     local CA; a missing certificate prints "MISSING! <long name>";
#   - check-expiration prints kubeadm's tabwriter table (text) or the
#     output.kubeadm.k8s.io/v1alpha3 CertificateExpirationInfo (-o json|yaml;
#     the "Reading configuration" lines only in text).
import json
import os
import shutil
import tempfile
import time

import standin as s
from standin import Command, Flag

KUBECONFIG_DIR = "/etc/kubernetes"
DEFAULT_PKI = "/etc/kubernetes/pki"
OUTPUT_API = "output.kubeadm.k8s.io/v1alpha3"
DONE = ("Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, "
        "kube-scheduler and etcd, so that they can use the new certificates.")
# CA name (as shown) → (base name under the certificate dir, name in error messages)
CAS = {"ca": ("ca", "CA"), "etcd-ca": ("etcd/ca", "etcd CA"), "front-proxy-ca": ("front-proxy-ca", "front-proxy CA")}
# name → (long name, "pki" base name or kubeconfig file name, CA name, is_kubeconfig)
CERTS = {
    "admin.conf": ("certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself", "admin.conf", "ca", True),
    "apiserver": ("certificate for serving the Kubernetes API", "apiserver", "ca", False),
    "apiserver-etcd-client": ("certificate the apiserver uses to access etcd", "apiserver-etcd-client", "etcd-ca", False),
    "apiserver-kubelet-client": ("certificate for the API server to connect to kubelet", "apiserver-kubelet-client", "ca", False),
    "controller-manager.conf": ("certificate embedded in the kubeconfig file for the controller manager to use",
                                "controller-manager.conf", "ca", True),
    "etcd-healthcheck-client": ("certificate for liveness probes to healthcheck etcd", "etcd/healthcheck-client", "etcd-ca", False),
    "etcd-peer": ("certificate for etcd nodes to communicate with each other", "etcd/peer", "etcd-ca", False),
    "etcd-server": ("certificate for serving etcd", "etcd/server", "etcd-ca", False),
    "front-proxy-client": ("certificate for the front proxy client", "front-proxy-client", "front-proxy-ca", False),
    "scheduler.conf": ("certificate embedded in the kubeconfig file for the scheduler manager to use", "scheduler.conf", "ca", True),
    "super-admin.conf": ("certificate embedded in the kubeconfig file for the super-admin", "super-admin.conf", "ca", True),
}
ETCD_ONLY = ("apiserver-etcd-client", "etcd-healthcheck-client", "etcd-peer", "etcd-server")


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Manager:
    """The certificates of one node's control plane, as kubeadm's renewal manager sees them."""

    def __init__(self, k, cluster, pki):
        self.k, self.pki = k, pki
        external_etcd = bool((cluster.get("etcd") or {}).get("external"))
        self.names = sorted(n for n in CERTS if not (external_etcd and n in ETCD_ONLY))
        self.cas = sorted(c for c in CAS if not (external_etcd and c == "etcd-ca"))

    def path(self, base, ext):
        return os.path.join(self.pki, base + ext)

    def exists(self, name):
        _, base, _, kc = CERTS[name]
        return os.path.exists(os.path.join(KUBECONFIG_DIR, base) if kc else self.path(base, ".crt"))

    def external(self, ca):
        """kubeadm's UsingExternal*CA: the CA certificate must load; no key means external."""
        base, ux = CAS[ca]
        crt = self.path(base, ".crt")
        try:
            info = s.cert_info(read(crt))
        except OSError as e:
            raise self.k.KubeadmError("Error checking external CA condition for %s certificate authority: failure loading certificate for %s: "
                                      "couldn't load the certificate file %s: %s" % (base, ux, crt, self.k.os_error(e)))
        except s.CryptoError as e:
            raise self.k.KubeadmError("Error checking external CA condition for %s certificate authority: failure loading certificate for %s: %s"
                                      % (base, ux, e))
        if not info["ca"]:
            raise self.k.KubeadmError("Error checking external CA condition for %s certificate authority: certificate %s is not a CA" % (base, ux))
        return not os.path.exists(self.path(base, ".key"))

    def read(self, name):
        """(PEM, kubeconfig document or None) of a certificate, failing as kubeadm's readers do."""
        _, base, _, kc = CERTS[name]
        if not kc:
            crt = self.path(base, ".crt")
            try:
                pem = read(crt)
                s.cert_info(pem)
            except (OSError, s.CryptoError) as e:
                raise self.k.KubeadmError("failed to load existing certificate %s: %s" % (base, e))
            return pem, None
        f = os.path.join(KUBECONFIG_DIR, base)
        try:
            with open(f) as fh:
                doc = s.load_yaml_all(fh.read())[0]
        except (OSError, s.YAMLError, IndexError) as e:
            raise self.k.KubeadmError("failed to load kubeConfig file %s: %s" % (f, e))
        ctx = next((c.get("context") or {} for c in doc.get("contexts") or [] if c.get("name") == doc.get("current-context")), None)
        if ctx is None:
            raise self.k.KubeadmError("invalid kubeConfig file %s: missing context %s" % (f, doc.get("current-context")))
        user = next((u.get("user") or {} for u in doc.get("users") or [] if u.get("name") == ctx.get("user")), None)
        if user is None:
            raise self.k.KubeadmError("invalid kubeConfig file %s: missing authInfo %s" % (f, ctx.get("user")))
        if not user.get("client-certificate-data"):
            raise self.k.KubeadmError("kubeConfig file %s does not have an embedded client certificate" % f)
        pem = s.unb64(user["client-certificate-data"])
        if not s.cert_pem_ok(pem):
            raise self.k.KubeadmError("kubeConfig file %s does not contain a valid client certificate" % f)
        return pem, doc

    def expiration(self, name):
        ext = self.external(CERTS[name][2])
        return s.cert_info(self.read(name)[0])["not_after"], ext

    def renew(self, name):
        """True when renewed, False when its CA is external (kubeadm's RenewUsingLocalCA)."""
        _, base, ca, kc = CERTS[name]
        if self.external(ca):
            return False
        pem, doc = self.read(name)
        info = s.cert_info(pem)
        ca_crt, ca_key = self.path(CAS[ca][0], ".crt"), self.path(CAS[ca][0], ".key")
        d = tempfile.mkdtemp(prefix="kubeadm-standin-renew-")
        try:
            key = os.path.join(d, "k")
            s.gen_key(key)
            cert = s.sign_csr(s.make_csr(key, info["cn"], info["orgs"]), ca_crt, ca_key, info["usage"] or "client",
                              info["dns"], info["ips"], days=365)
            with open(key, "rb") as f:
                key_pem = f.read()
        except s.CryptoError as e:
            raise self.k.KubeadmError("failed to renew certificate %s: %s" % (name, e))
        finally:
            shutil.rmtree(d, ignore_errors=True)
        if not kc:
            s.write_private(self.path(base, ".key"), key_pem, 0o600)
            s.write_private(self.path(base, ".crt"), cert, 0o644)
            return True
        ctx = next(c["context"] for c in doc["contexts"] if c.get("name") == doc.get("current-context"))
        for u in doc["users"]:
            if u.get("name") == ctx.get("user"):
                u["user"]["client-certificate-data"] = s.b64(cert)
                u["user"]["client-key-data"] = s.b64(key_pem)
        s.write_private(os.path.join(KUBECONFIG_DIR, base), s.dump_yaml(doc), 0o600)
        return True


def load_cluster(k, fl, prefix, quiet=False):
    """(ClusterConfiguration dict, certificate dir) as kubeadm's getInternalCfg finds them."""
    say = (lambda *a: None) if quiet else k.say
    if not fl.get("config"):
        try:
            c = s.Client.from_kubeconfig(fl.get("kubeconfig") or KUBECONFIG_DIR + "/admin.conf", timeout=5)
        except (OSError, s.APIError, s.YAMLError, KeyError, ValueError):
            c = None  # no client: kubeadm falls back to defaults without a word
        if c is not None:
            say("[%s] Reading configuration from the cluster..." % prefix)
            say("[%s] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'" % prefix)
            try:
                cm = c.request("GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
                docs = s.load_yaml_all((cm.get("data") or {}).get("ClusterConfiguration") or "")
                say()
                return (docs[0] if docs and isinstance(docs[0], dict) else {}), fl.get("cert-dir") or DEFAULT_PKI
            except (s.APIError, s.YAMLError):
                say("[%s] Error reading configuration from the Cluster. Falling back to default configuration\n" % prefix)
        return {}, fl.get("cert-dir") or DEFAULT_PKI
    cluster = k.load_cluster_config(fl["config"])
    return cluster, cluster.get("certificatesDir") or DEFAULT_PKI


def entry(name, not_after=None, ext=False, ca_name=None):
    """One output.kubeadm.k8s.io/v1alpha3 Certificate, fields in the Go struct's order."""
    e = {"name": name, "expirationDate": None, "residualTime": 0, "externallyManaged": False}
    if not_after is not None:
        e.update(expirationDate=s.rfc3339(not_after), residualTime=int(not_after - time.time()), externallyManaged=ext)
    if ca_name:
        e["caName"] = ca_name
    e["missing"] = not_after is None
    return e


def expiration_info(m):
    certs, cas = [], []
    for n in m.names:
        if m.exists(n):
            na, ext = m.expiration(n)
            certs.append(entry(n, na, ext, CERTS[n][2]))
        else:
            certs.append(entry(n))
    for ca in m.cas:
        crt = m.path(CAS[ca][0], ".crt")
        if os.path.exists(crt):
            ext = m.external(ca)
            cas.append(entry(ca, s.cert_info(read(crt))["not_after"], ext))
        else:
            cas.append(entry(ca))
    return {"kind": "CertificateExpirationInfo", "apiVersion": OUTPUT_API, "certificates": certs, "certificateAuthorities": cas}


def text_table(info):
    def when(e):
        return time.strftime("%b %d, %Y %H:%M UTC", time.gmtime(s.parse_rfc3339(e["expirationDate"])))

    def yes_no(b):
        return "%-8s" % ("yes" if b else "no")

    lines = ["CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED"]
    for e in info["certificates"]:
        lines.append("!MISSING! %s\t\t\t\t" % e["name"] if e["missing"] else
                     "\t".join((e["name"], when(e), s.short_human_duration(e["residualTime"]), e["caName"], yes_no(e["externallyManaged"]))))
    lines += ["", "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED"]
    for e in info["certificateAuthorities"]:
        lines.append("!MISSING! %s\t\t\t" % e["name"] if e["missing"] else
                     "\t".join((e["name"], when(e), s.short_human_duration(e["residualTime"]), yes_no(e["externallyManaged"]))))
    return "\n".join(s.tabwrite(lines))


def cmd_check_expiration(k, fl):
    out = fl.get("output") or "text"
    if out not in ("text", "json", "yaml"):
        if out.split("=", 1)[0] in ("go-template", "go-template-file", "template", "templatefile", "jsonpath", "jsonpath-as-json", "jsonpath-file"):
            raise k.KubeadmError("could not construct output printer: -o %s is not implemented in the kubestrap lab's TEST STAND-IN kubeadm" % out)
        raise k.KubeadmError('could not construct output printer: unable to match a printer suitable for the output format "%s", '
                             "allowed formats are: json,yaml,text" % out)
    cluster, pki = load_cluster(k, fl, "check-expiration", quiet=out != "text")
    info = expiration_info(Manager(k, cluster, pki))
    if out == "json":
        print(json.dumps(info, indent=4))
    elif out == "yaml":
        print(s.dump_yaml(info), end="")
    else:
        print(text_table(info))


def renew_one(k, m, name):
    long_name, _, ca, _ = CERTS[name]
    if name not in m.names or not m.exists(name):
        k.say("MISSING! %s" % long_name)
    elif m.renew(name):
        k.say("%s renewed" % long_name)
    else:
        k.say("Detected external %s, %s can't be renewed" % (CAS[ca][0], long_name))


def cmd_renew(k, name, fl):
    cluster, pki = load_cluster(k, fl, "renew")
    m = Manager(k, cluster, pki)
    if name == "all":
        for n in m.names:
            renew_one(k, m, n)
        k.say("\n" + DONE)
    else:
        renew_one(k, m, name)


def no_args(fn):
    """cobra.NoArgs: a positional argument is an unknown command."""
    def run(cmd, args, fl):
        if args:
            raise s.UsageError('unknown command "%s" for "%s"' % (args[0], cmd.path()), cmd)
        fn(fl)
    return run


def command(k):
    """`kubeadm certs` with check-expiration and renew; k is the kubeadm module (its errors, say, read)."""
    common = [Flag("config", help="Path to a kubeadm configuration file."),
              Flag("cert-dir", default=DEFAULT_PKI, help="The path where to save the certificates"),
              Flag("kubeconfig", default=KUBECONFIG_DIR + "/admin.conf",
                   help="The kubeconfig file to use when talking to the cluster.")]
    certs = Command("certs", aliases=("certificates",), short="Commands related to handling kubernetes certificates")
    certs.add(Command("check-expiration", no_args(lambda fl: cmd_check_expiration(k, fl)),
                      common + [Flag("output", short="o", default="text",
                                     help="Output format. One of: text|json|yaml|go-template|go-template-file|template|templatefile|"
                                          "jsonpath|jsonpath-as-json|jsonpath-file."),
                                Flag("allow-missing-template-keys", "bool", True), Flag("show-managed-fields", "bool")],
                      args="none", short="Check certificates expiration for a Kubernetes cluster"))
    renew = Command("renew", short="Renew certificates for a Kubernetes cluster")
    for n in sorted(CERTS) + ["all"]:
        renew.add(Command(n, no_args((lambda name: lambda fl: cmd_renew(k, name, fl))(n)), common,
                          args="none", short="Renew all available certificates" if n == "all" else "Renew the %s" % CERTS[n][0]))
    certs.add(renew)
    certs.add(Command("certificate-key", k.not_implemented, short="Generate certificate keys", args="loose"),
              Command("generate-csr", k.not_implemented, short="Generate keys and certificate signing requests", args="loose"))
    return certs
