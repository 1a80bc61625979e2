//! `kubestrap certs` and `certs renew` on a one-node cluster (node61): the expiry table, apply's warning about a certificate re-signed to end in 10 days, the renewal with its refreshed kubeconfig, and Ctrl-C while the manifests are out.

use std::path::Path;
use std::time::Duration;

use crate::cluster::calico_settings;
use crate::faults::{exists, wait_until, Background};
use crate::inventories::lab_cluster;
use crate::lab::Lab;
use crate::support::{s, Home, Run};

const HOST: &str = "node61";
const LEAVES: [&str; 11] = [
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
    "super-admin.conf",
];
/// Where `certs renew` keeps the manifests while their Pods stop.
const HOLDING: &str = "/etc/kubernetes/manifests.kubestrap-restart";
const CAS: [&str; 3] = ["ca", "etcd-ca", "front-proxy-ca"];
/// Re-signs apiserver.crt with the cluster CA: same key, subject and
/// extensions (SANs), ten days.
const RESIGN: &str = "set -e; cd /etc/kubernetes/pki; \
    openssl x509 -x509toreq -in apiserver.crt -signkey apiserver.key -copy_extensions copyall -out /tmp/apiserver.csr; \
    openssl x509 -req -in /tmp/apiserver.csr -CA ca.crt -CAkey ca.key -set_serial 0x4b53 -copy_extensions copyall -days 10 -out apiserver.crt; \
    rm -f /tmp/apiserver.csr";

fn run(home: &Home, lab: &Lab, inv: &Path, args: &[&str], limit: Duration) -> Run {
    let known_hosts = lab.known_hosts();
    let mut all = args.to_vec();
    all.extend_from_slice(&["-i", s(inv), "--known-hosts", s(&known_hosts)]);
    home.kubestrap_within(&all, limit)
}

/// The CERTIFICATES table's rows: (host, certificate, days left, CA column).
fn table(run: &Run) -> Vec<(String, String, String, String)> {
    let table = run
        .stdout
        .rsplit("CERTIFICATES ****")
        .next()
        .filter(|_| run.stdout.contains("CERTIFICATES ****"))
        .unwrap_or_else(|| panic!("no CERTIFICATES table:\n{}", run.all()));
    table
        .lines()
        .skip_while(|l| !l.starts_with("HOST "))
        .skip(1)
        .take_while(|l| l.starts_with("node"))
        .map(|l| {
            let cols: Vec<&str> = l
                .split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            assert_eq!(cols.len(), 5, "{l}");
            (
                cols[0].into(),
                cols[1].into(),
                cols[3].into(),
                cols[4].into(),
            )
        })
        .collect()
}

fn days(rows: &[(String, String, String, String)], name: &str) -> i64 {
    let row = rows
        .iter()
        .find(|r| r.1 == name)
        .unwrap_or_else(|| panic!("{name} not in {rows:?}"));
    row.2.parse().unwrap_or_else(|_| panic!("{row:?}"))
}

/// Whole days until the notAfter of a certificate on the host, by openssl.
fn days_left(lab: &Lab, cmd: &str) -> i64 {
    let end = lab.sh_ok(
        HOST,
        &format!("{cmd} | openssl x509 -noout -enddate | cut -d= -f2"),
    );
    let end = lab.sh_ok(HOST, &format!("date -d '{}' +%s", end.trim()));
    let now = lab.sh_ok(HOST, "date +%s");
    let (end, now): (i64, i64) = (end.trim().parse().unwrap(), now.trim().parse().unwrap());
    (end - now).div_euclid(86_400)
}

/// The client certificate (base64 PEM) a kubeconfig carries.
fn client_cert(kubeconfig: &str) -> String {
    kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("client-certificate-data:"))
        .unwrap_or_else(|| panic!("no client certificate in:\n{kubeconfig}"))
        .trim()
        .to_string()
}

#[test]
fn certs_lists_expiries_apply_warns_and_renew_renews() {
    let lab = Lab::from_env();
    let home = Home::new();
    let inv = home.path().join("inventory.yaml");
    let cluster = lab_cluster(
        &lab,
        &[(HOST, "control_plane")],
        "10.244.0.0/16",
        &calico_settings(),
    );
    std::fs::write(&inv, cluster).unwrap();
    let state = home.path().join(".kubestrap/lab");
    let minutes = |m: u64| Duration::from_secs(60 * m);

    // A fresh cluster: nothing to warn about.
    let built = run(&home, &lab, &inv, &["apply"], minutes(5));
    assert_eq!(built.code, 0, "{}", built.all());
    assert!(
        !built.all().contains("certificates expire"),
        "{}",
        built.all()
    );
    let first_kubeconfig = std::fs::read_to_string(state.join("kubeconfig")).unwrap();

    // `certs`: every leaf a year away, every CA ten years.
    let listed = run(&home, &lab, &inv, &["certs"], minutes(2));
    assert_eq!(listed.code, 0, "{}", listed.all());
    let rows = table(&listed);
    assert_eq!(rows.len(), LEAVES.len() + CAS.len(), "{rows:?}");
    assert!(rows.iter().all(|r| r.0 == HOST), "{rows:?}");
    for leaf in LEAVES {
        assert!((364..=365).contains(&days(&rows, leaf)), "{leaf}: {rows:?}");
    }
    for ca in CAS {
        assert!((3648..=3652).contains(&days(&rows, ca)), "{ca}: {rows:?}");
        assert!(
            rows.iter().any(|r| r.1 == ca && r.3 == "(authority)"),
            "{rows:?}"
        );
    }
    let apiserver = rows.iter().find(|r| r.1 == "apiserver").unwrap();
    assert_eq!(apiserver.3, "ca", "{rows:?}");

    // One leaf re-signed to end in ten days: apply warns, naming host,
    // certificate and days; `certs` lists it first.
    lab.sh_ok(HOST, RESIGN);
    // Ten days from this second: nine whole days and some, or ten.
    let ten = [9, 10];
    assert!(ten.contains(&days_left(&lab, "cat /etc/kubernetes/pki/apiserver.crt")));
    let warned = run(&home, &lab, &inv, &["apply"], minutes(3));
    assert_eq!(warned.code, 0, "{}", warned.all());
    let warning = warned
        .all()
        .lines()
        .find(|l| l.contains("certificates expire within 30 days"))
        .unwrap_or_else(|| panic!("no warning:\n{}", warned.all()))
        .to_string();
    assert!(
        warning.starts_with(&format!("[WARNING]: [{HOST}]: ")),
        "{warning}"
    );
    assert!(
        ten.iter()
            .any(|d| warning.contains(&format!("apiserver in {d} days ("))),
        "{warning}"
    );
    assert!(!warning.contains("etcd-server"), "{warning}");
    let listed = run(&home, &lab, &inv, &["certs"], minutes(2));
    let rows = table(&listed);
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_str()),
        ("apiserver", "9"),
        "{rows:?}"
    );

    // --check changes nothing.
    let checked = run(
        &home,
        &lab,
        &inv,
        &["certs", "renew", "--check"],
        minutes(2),
    );
    assert_eq!(checked.code, 0, "{}", checked.all());
    assert!(
        checked
            .stdout
            .contains("would run `kubeadm certs renew all`"),
        "{}",
        checked.all()
    );
    assert!(ten.contains(&days_left(&lab, "cat /etc/kubernetes/pki/apiserver.crt")));
    assert_eq!(
        std::fs::read_to_string(state.join("kubeconfig")).unwrap(),
        first_kubeconfig
    );

    // The renewal: a year again, the manifests back, the API server up.
    let renewed = run(&home, &lab, &inv, &["certs", "renew"], minutes(6));
    assert_eq!(renewed.code, 0, "{}", renewed.all());
    assert!(
        renewed.stdout.contains(&format!("{HOST}: renewed")),
        "{}",
        renewed.all()
    );
    assert!((364..=365).contains(&days_left(&lab, "cat /etc/kubernetes/pki/apiserver.crt")));
    let rows = table(&renewed);
    assert!((364..=365).contains(&days(&rows, "apiserver")), "{rows:?}");
    let manifests = lab.sh_ok(
        HOST,
        "ls /etc/kubernetes/manifests; ls -d /etc/kubernetes/manifests.* 2>&1 || true",
    );
    for m in [
        "etcd.yaml",
        "kube-apiserver.yaml",
        "kube-controller-manager.yaml",
        "kube-scheduler.yaml",
    ] {
        assert!(manifests.contains(m), "{manifests}");
    }
    assert!(manifests.contains("No such file"), "{manifests}");

    // The stored kubeconfig carries the renewed admin client certificate
    // (not the one apply stored), 0600, and the API server accepts it.
    let kubeconfig = std::fs::read_to_string(state.join("kubeconfig")).unwrap();
    let on_host = lab.sh_ok(HOST, "cat /etc/kubernetes/admin.conf");
    assert_eq!(client_cert(&kubeconfig), client_cert(&on_host));
    assert_ne!(client_cert(&kubeconfig), client_cert(&first_kubeconfig));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(state.join("kubeconfig"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let nodes = lab.sh_ok(
        HOST,
        &format!("cat > /tmp/renewed.conf <<'KUBECONFIG'\n{kubeconfig}KUBECONFIG\nkubectl --kubeconfig /tmp/renewed.conf get nodes; rm -f /tmp/renewed.conf"),
    );
    assert!(nodes.contains(HOST), "{nodes}");
    assert!((364..=365).contains(&days_left(
        &lab,
        "sed -n 's/^ *client-certificate-data: *//p' /etc/kubernetes/admin.conf | base64 -d"
    )));

    // Ctrl-C while the manifests are out: the clean-up puts every one back
    // (exit 130), and the kubelet brings the API server up again.
    let known_hosts = lab.known_hosts();
    let args: Vec<String> = [
        "certs",
        "renew",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&known_hosts),
    ]
    .map(String::from)
    .to_vec();
    let renewing = Background::start(&home, &args);
    assert!(
        wait_until(Duration::from_secs(90), || exists(&lab, HOST, HOLDING)),
        "the manifests never left their directory:\n{}",
        renewing.stdout()
    );
    renewing.signal("INT");
    let stopped = renewing.finish(minutes(1));
    assert_eq!(stopped.code, 130, "{}", stopped.all());
    assert!(
        stopped
            .stderr
            .contains(&format!("{HOST}: restart: interrupted")),
        "{}",
        stopped.all()
    );
    assert!(!exists(&lab, HOST, HOLDING), "{}", stopped.all());
    let manifests = lab.sh_ok(HOST, "ls /etc/kubernetes/manifests");
    assert_eq!(manifests.lines().count(), 4, "{manifests}");
    assert!(
        wait_until(Duration::from_secs(60), || lab
            .sh(
                HOST,
                "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes"
            )
            .status
            .success()),
        "the API server did not come back"
    );
}
