//! The parser over outputs in kubeadm's documented format.

use super::*;

const DAY: u64 = 86_400;

/// kubeadm 1.31 on a fresh control plane (trailing spaces as tabwriter leaves them).
const FRESH: &str = "[check-expiration] Reading configuration from the \"kubeadm-config\" ConfigMap in namespace \"kube-system\"...
[check-expiration] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.

CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Aug 19, 2026 09:03 UTC   364d            ca                      no      
apiserver                  Aug 19, 2026 09:03 UTC   364d            ca                      no      
apiserver-etcd-client      Aug 19, 2026 09:03 UTC   364d            etcd-ca                 no      
apiserver-kubelet-client   Aug 19, 2026 09:03 UTC   364d            ca                      no      
controller-manager.conf    Aug 19, 2026 09:03 UTC   364d            ca                      no      
etcd-healthcheck-client    Aug 19, 2026 09:03 UTC   364d            etcd-ca                 no      
etcd-peer                  Aug 19, 2026 09:03 UTC   364d            etcd-ca                 no      
etcd-server                Aug 19, 2026 09:03 UTC   364d            etcd-ca                 no      
front-proxy-client         Aug 19, 2026 09:03 UTC   364d            front-proxy-ca          no      
scheduler.conf             Aug 19, 2026 09:03 UTC   364d            ca                      no      
super-admin.conf           Aug 19, 2026 09:03 UTC   364d            ca                      no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              no      
etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no      
front-proxy-ca          Aug 17, 2035 09:03 UTC   9y              no      
";

/// An older cluster: one certificate expired, one within hours, the
/// cluster CA's key kept off the host (externally managed), a missing file.
const AGED: &str = "[check-expiration] Reading configuration from the cluster...
[check-expiration] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'

CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Dec 30, 2020 23:36 UTC   <invalid>       ca                      yes
apiserver                  Dec 31, 2020 11:00 UTC   11h             ca                      yes
!MISSING! front-proxy-client                                                                
etcd-server                Jan 01, 2021 00:00 UTC   42m             etcd-ca                 no

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Dec 28, 2029 23:36 UTC   8y              yes
etcd-ca                 Dec 28, 2029 23:36 UTC   59s             no
";

fn row(
    name: &str,
    date: (i64, u32, u32, u32, u32),
    residual: Residual,
    ca: Option<&str>,
    ext: bool,
) -> Expiry {
    let (y, mo, d, h, mi) = date;
    Expiry {
        name: name.into(),
        expires: Some(crate::utc::seconds(y, mo, d, h, mi, 0).unwrap()),
        residual,
        authority: ca.map(Into::into),
        externally_managed: ext,
    }
}

#[test]
fn a_fresh_control_planes_tables() {
    let e = parse(FRESH).unwrap();
    let names: Vec<&str> = e.certificates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "admin.conf",
            "apiserver",
            "apiserver-etcd-client",
            "apiserver-kubelet-client",
            "controller-manager.conf",
            "etcd-healthcheck-client",
            "etcd-peer",
            "etcd-server",
            "front-proxy-client",
            "scheduler.conf",
            "super-admin.conf"
        ]
    );
    let leaf = (2026, 8, 19, 9, 3);
    assert_eq!(
        e.certificates[1],
        row(
            "apiserver",
            leaf,
            Residual::Left(364 * DAY),
            Some("ca"),
            false
        )
    );
    assert_eq!(
        e.certificates[8],
        row(
            "front-proxy-client",
            leaf,
            Residual::Left(364 * DAY),
            Some("front-proxy-ca"),
            false
        )
    );
    let ca = (2035, 8, 17, 9, 3);
    assert_eq!(
        e.authorities,
        ["ca", "etcd-ca", "front-proxy-ca"].map(|n| row(
            n,
            ca,
            Residual::Left(9 * 365 * DAY),
            None,
            false
        ))
    );
}

#[test]
fn expired_missing_and_externally_managed_rows() {
    let e = parse(AGED).unwrap();
    assert_eq!(
        e.certificates,
        [
            row(
                "admin.conf",
                (2020, 12, 30, 23, 36),
                Residual::Invalid,
                Some("ca"),
                true
            ),
            row(
                "apiserver",
                (2020, 12, 31, 11, 0),
                Residual::Left(11 * 3600),
                Some("ca"),
                true
            ),
            Expiry {
                name: "front-proxy-client".into(),
                expires: None,
                residual: Residual::Missing,
                authority: None,
                externally_managed: false,
            },
            row(
                "etcd-server",
                (2021, 1, 1, 0, 0),
                Residual::Left(42 * 60),
                Some("etcd-ca"),
                false
            ),
        ]
    );
    assert_eq!(
        e.authorities,
        [
            row(
                "ca",
                (2029, 12, 28, 23, 36),
                Residual::Left(8 * 365 * DAY),
                None,
                true
            ),
            row(
                "etcd-ca",
                (2029, 12, 28, 23, 36),
                Residual::Left(59),
                None,
                false
            ),
        ]
    );
}

/// (output, the error's text)
#[test]
fn what_kubeadm_does_not_print_is_refused_with_its_line() {
    let header =
        "CERTIFICATE   EXPIRES   RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n";
    let table: &[(String, &str)] = &[
        ("".into(), "no CERTIFICATE table in kubeadm's output"),
        (
            "error execution phase: no admin.conf\n".into(),
            "no CERTIFICATE table",
        ),
        (
            format!("{header}apiserver   Dec 30 2020 23:36 UTC   364d   ca   no\n"),
            "line 2: EXPIRES is not a date like `Dec 30, 2020 23:36 UTC`: `apiserver   Dec 30 2020",
        ),
        (
            format!("{header}apiserver   Dec 30, 2020 23:36 UTC   soon   ca   no\n"),
            "line 2: RESIDUAL TIME is not like",
        ),
        (
            format!("{header}apiserver   Dec 30, 2020 23:36 UTC   364d   ca   maybe\n"),
            "line 2: EXTERNALLY MANAGED is neither yes nor no",
        ),
        (
            format!("{header}apiserver   Dec 30, 2020 23:36 UTC   364d\n"),
            "line 2: not a row of kubeadm's table",
        ),
        (
            format!("{header}apiserver   Feb 30, 2021 23:36 UTC   364d   ca   no\n"),
            "line 2: EXPIRES is not a date",
        ),
    ];
    for (output, want) in table {
        let err = parse(output).unwrap_err().to_string();
        assert!(err.contains(want), "{output:?}: {err}");
    }
}
