//! Certificate expiries: every kubeadm certificate on the host and its notAfter, named as `kubeadm certs check-expiration` names it.
//!
//! Read with `openssl x509 -noout -enddate` from /etc/kubernetes/pki/*.crt,
//! pki/etcd/*.crt and the client certificates embedded in the kubeconfigs
//! kubeadm writes for the control plane. What does not exist is skipped;
//! a host without openssl answers with no certificate rather than failing
//! the gather. Asked for by `apply` only, in its one gather round trip.

use std::collections::BTreeMap;

use super::Kind;
use crate::facts::model::{FactRequest, Facts};
use crate::facts::sections::{body, lines, Section};
use crate::utc;

const CERT_EXPIRY: &str = "cert-expiry";

const PKI: &str = "/etc/kubernetes/pki/";
const KUBECONFIG_DIR: &str = "/etc/kubernetes/";
/// The kubeconfigs whose embedded client certificate kubeadm renews.
const KUBECONFIGS: [&str; 4] = [
    "admin.conf",
    "super-admin.conf",
    "controller-manager.conf",
    "scheduler.conf",
];

pub(crate) struct CertExpiry;

impl Kind for CertExpiry {
    fn script(&self, requests: &[FactRequest], s: &mut String) {
        if !requests.contains(&FactRequest::CertExpiry) {
            return;
        }
        let confs: Vec<String> = KUBECONFIGS
            .iter()
            .map(|c| format!("{KUBECONFIG_DIR}{c}"))
            .collect();
        s.push_str(&format!(
            "m {CERT_EXPIRY}\n\
             if command -v openssl >/dev/null 2>&1; then\n\
             for f in {PKI}*.crt {PKI}etcd/*.crt; do [ -f \"$f\" ] && printf '%s %s\\n' \"$f\" \"$(openssl x509 -noout -enddate -in \"$f\" 2>/dev/null)\"; done\n\
             for f in {}; do [ -f \"$f\" ] && printf '%s %s\\n' \"$f\" \"$(sed -n '/^ *client-certificate-data:/{{s/^ *client-certificate-data: *//p;q;}}' \"$f\" | base64 -d 2>/dev/null | openssl x509 -noout -enddate 2>/dev/null)\"; done\n\
             fi\n",
            confs.join(" ")
        ));
    }

    fn read(&self, s: &[Section], requests: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        if !requests.contains(&FactRequest::CertExpiry) {
            return Ok(());
        }
        let mut found = BTreeMap::new();
        for line in lines(body(s, CERT_EXPIRY)) {
            let Some((path, end)) = line.split_once(' ') else {
                continue;
            };
            // An unreadable certificate prints no date: skipped, as kubeadm
            // itself would report it, not the gather.
            let (Some(name), Some(date)) = (kubeadm_name(path), end.strip_prefix("notAfter="))
            else {
                continue;
            };
            let when = not_after(date)
                .ok_or_else(|| format!("`{CERT_EXPIRY}`: {path}: not a date: `{date}`"))?;
            found.insert(name, when);
        }
        f.cert_expiry = Some(found);
        Ok(())
    }
}

/// kubeadm's name for a certificate file: `pki/apiserver.crt` is
/// `apiserver`, `pki/etcd/server.crt` is `etcd-server`, `pki/etcd/ca.crt`
/// is `etcd-ca`, `admin.conf` is `admin.conf`.
fn kubeadm_name(path: &str) -> Option<String> {
    if let Some(file) = path.strip_prefix(PKI) {
        let stem = file.strip_suffix(".crt")?;
        return Some(match stem.strip_prefix("etcd/") {
            Some(etcd) => format!("etcd-{etcd}"),
            None => stem.to_string(),
        });
    }
    let conf = path.strip_prefix(KUBECONFIG_DIR)?;
    KUBECONFIGS.contains(&conf).then(|| conf.to_string())
}

/// openssl's `Dec  7 14:13:48 2027 GMT`.
fn not_after(date: &str) -> Option<i64> {
    let mut w = date.split_whitespace();
    let month = utc::month(w.next()?)?;
    let day = w.next()?.parse().ok()?;
    let mut hms = w.next()?.split(':').map(|n| n.parse::<u32>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    let year = w.next()?.parse().ok()?;
    (w.next()? == "GMT" && w.next().is_none()).then_some(())?;
    utc::seconds(year, month, day, h, m, sec)
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{read, script};
    use super::*;

    const ASKED: &[FactRequest] = &[FactRequest::CertExpiry];

    /// (section body, certificates read: name and date)
    #[test]
    fn expiries_from_fixtures() {
        let control_plane = "/etc/kubernetes/pki/apiserver.crt notAfter=Dec  7 14:13:48 2027 GMT
/etc/kubernetes/pki/ca.crt notAfter=Dec  5 14:13:48 2036 GMT
/etc/kubernetes/pki/front-proxy-client.crt notAfter=Dec 17 09:03:00 2026 GMT
/etc/kubernetes/pki/etcd/ca.crt notAfter=Dec  5 14:13:48 2036 GMT
/etc/kubernetes/pki/etcd/server.crt notAfter=Dec  7 14:13:48 2027 GMT
/etc/kubernetes/pki/broken.crt 
/etc/kubernetes/admin.conf notAfter=Dec  7 14:13:48 2027 GMT
/etc/kubernetes/kubelet.conf notAfter=Dec  7 14:13:48 2027 GMT
";
        type Row<'a> = (&'a str, &'a [(&'a str, (i64, u32, u32, u32, u32, u32))]);
        let table: &[Row] = &[
            ("", &[]),
            (
                control_plane,
                &[
                    ("admin.conf", (2027, 12, 7, 14, 13, 48)),
                    ("apiserver", (2027, 12, 7, 14, 13, 48)),
                    ("ca", (2036, 12, 5, 14, 13, 48)),
                    ("etcd-ca", (2036, 12, 5, 14, 13, 48)),
                    ("etcd-server", (2027, 12, 7, 14, 13, 48)),
                    ("front-proxy-client", (2026, 12, 17, 9, 3, 0)),
                ],
            ),
        ];
        for (text, want) in table {
            let f = read(&CertExpiry, &[(CERT_EXPIRY, text)], ASKED).unwrap();
            let want: BTreeMap<String, i64> = want
                .iter()
                .map(|(n, (y, mo, d, h, mi, s))| {
                    (
                        n.to_string(),
                        utc::seconds(*y, *mo, *d, *h, *mi, *s).unwrap(),
                    )
                })
                .collect();
            assert_eq!(f.cert_expiry, Some(want), "{text}");
        }
        let err = read(
            &CertExpiry,
            &[(CERT_EXPIRY, "/etc/kubernetes/pki/ca.crt notAfter=soon\n")],
            ASKED,
        )
        .unwrap_err();
        assert!(
            err.contains("/etc/kubernetes/pki/ca.crt: not a date"),
            "{err}"
        );
    }

    /// Every file kubeadm 1.31 keeps a certificate in, and the name
    /// `kubeadm certs check-expiration` (so `kubestrap certs`) gives it.
    #[test]
    fn files_get_kubeadms_names() {
        let table = [
            ("/etc/kubernetes/admin.conf", "admin.conf"),
            ("/etc/kubernetes/pki/apiserver.crt", "apiserver"),
            (
                "/etc/kubernetes/pki/apiserver-etcd-client.crt",
                "apiserver-etcd-client",
            ),
            (
                "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
                "apiserver-kubelet-client",
            ),
            (
                "/etc/kubernetes/controller-manager.conf",
                "controller-manager.conf",
            ),
            (
                "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
                "etcd-healthcheck-client",
            ),
            ("/etc/kubernetes/pki/etcd/peer.crt", "etcd-peer"),
            ("/etc/kubernetes/pki/etcd/server.crt", "etcd-server"),
            (
                "/etc/kubernetes/pki/front-proxy-client.crt",
                "front-proxy-client",
            ),
            ("/etc/kubernetes/scheduler.conf", "scheduler.conf"),
            ("/etc/kubernetes/super-admin.conf", "super-admin.conf"),
            ("/etc/kubernetes/pki/ca.crt", "ca"),
            ("/etc/kubernetes/pki/etcd/ca.crt", "etcd-ca"),
            ("/etc/kubernetes/pki/front-proxy-ca.crt", "front-proxy-ca"),
        ];
        for (path, name) in table {
            assert_eq!(kubeadm_name(path).as_deref(), Some(name), "{path}");
        }
        for other in [
            "/etc/kubernetes/kubelet.conf",
            "/etc/kubernetes/pki/sa.pub",
            "/tmp/x.crt",
        ] {
            assert_eq!(kubeadm_name(other), None, "{other}");
        }
    }

    #[test]
    fn only_asked_for_costs_a_line() {
        assert_eq!(script(&CertExpiry, &[]), "");
        assert_eq!(read(&CertExpiry, &[], &[]).unwrap().cert_expiry, None);
        assert_eq!(
            read(&CertExpiry, &[], ASKED).unwrap().cert_expiry,
            Some(BTreeMap::new())
        );
        let s = script(&CertExpiry, ASKED);
        assert!(s.contains("command -v openssl"), "{s}");
        for f in [
            "/etc/kubernetes/super-admin.conf",
            "/etc/kubernetes/pki/etcd/*.crt",
        ] {
            assert!(s.contains(f), "{s}");
        }
    }

    /// The fragment against the real openssl, sed and base64: a kubeconfig's
    /// embedded client certificate and a certificate file read the same.
    #[test]
    fn the_fragment_reads_real_certificates() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "k.pem",
                "-out",
                "c.pem",
                "-days",
                "10",
                "-subj",
                "/CN=t",
            ])
            .current_dir(dir)
            .output()
            .expect("openssl must be installed to run this test");
        assert!(made.status.success(), "{made:?}");
        let pem = std::fs::read(dir.join("c.pem")).unwrap();
        let b64 = data_encoding::BASE64.encode(&pem);
        std::fs::create_dir_all(dir.join("pki/etcd")).unwrap();
        std::fs::write(dir.join("pki/apiserver.crt"), &pem).unwrap();
        std::fs::write(
            dir.join("admin.conf"),
            format!("users:\n- name: a\n  user:\n    client-certificate-data: {b64}\n"),
        )
        .unwrap();
        let root = format!("{}/", dir.display());
        let script = script(&CertExpiry, ASKED)
            .replace(PKI, &format!("{root}pki/"))
            .replace(KUBECONFIG_DIR, &root)
            .replace("m cert-expiry\n", "");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let dates: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(dates.len(), 2, "{text}");
        assert_eq!(dates[0], dates[1], "{text}");
        let when = not_after(dates[0].strip_prefix("notAfter=").unwrap()).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        // -days 10 from this second or the one before.
        assert!((9..=10).contains(&utc::days_left(when, now)), "{text}");
    }
}
