//! `kubestrap apply` end to end on fresh lab hosts: init, joins, Calico, re-runs, a new node, HA, secrets.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::inventories::{changed, lab_cluster};
use crate::lab::Lab;
use crate::support::{s, Home, Run};

const FIRST: [(&str, &str); 3] = [
    ("node16", "control_plane"),
    ("node17", "worker"),
    ("node18", "worker"),
];
const FOURTH: (&str, &str) = ("node19", "worker");
const HA: [(&str, &str); 3] = [
    ("node20", "control_plane"),
    ("node21", "control_plane"),
    ("node22", "control_plane"),
];
const POD_SUBNET: &str = "10.244.0.0/16";

pub fn calico_settings() -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calico/calico.yaml");
    format!(
        "  calico:\n    manifest_file: {}\n    mtu: 1400\n",
        manifest.display()
    )
}

fn apply(home: &Home, inv: &Path, lab: &Lab, extra: &[&str]) -> Run {
    let known_hosts = lab.known_hosts();
    let mut args = vec!["apply", "-i", s(inv), "--known-hosts", s(&known_hosts)];
    args.extend_from_slice(extra);
    home.kubestrap(&args)
}

/// The lines of the NODES table kubestrap prints last, by node name.
fn node_rows(run: &Run) -> Vec<Vec<String>> {
    let table = run
        .stdout
        .split("NODES ****")
        .nth(1)
        .unwrap_or_else(|| panic!("no NODES table:\n{}", run.stdout));
    let table = table.split("PLAY RECAP").next().unwrap_or_default();
    table
        .lines()
        .filter(|l| l.starts_with("node"))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// kubeadm's documented openssl pipeline on the control plane's ca.crt.
fn openssl_hash(lab: &Lab, host: &str) -> String {
    let out = lab.sh_ok(
        host,
        "openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex",
    );
    format!("sha256:{}", out.trim().rsplit(' ').next().unwrap())
}

/// Every process command line on `hosts`, sampled until stopped (bounded:
/// at most 10 minutes), so a test can prove no secret was ever on one.
pub struct ProcessWatch {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<String>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProcessWatch {
    pub fn start(lab_dir: PathBuf, hosts: Vec<String>) -> ProcessWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(String::new()));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !stop2.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(600) {
                for h in &hosts {
                    let out = Command::new(Lab::script())
                        .args([
                            "sh",
                            &lab_dir.to_string_lossy(),
                            h,
                            "--",
                            "ps",
                            "-eo",
                            "args",
                        ])
                        .output();
                    if let Ok(out) = out {
                        seen2
                            .lock()
                            .unwrap()
                            .push_str(&String::from_utf8_lossy(&out.stdout));
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        ProcessWatch {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let seen = self.seen.lock().unwrap().clone();
        seen
    }
}

/// The secrets in the state directory: the whole token and its secret half,
/// the certificate key, and the CA key's base64 lines.
pub fn secrets(state: &Path) -> Vec<String> {
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("token.json")).unwrap()).unwrap();
    let key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("certificate-key.json")).unwrap())
            .unwrap();
    let mut out = vec![
        format!(
            "{}.{}",
            token["id"].as_str().unwrap(),
            token["secret"].as_str().unwrap()
        ),
        token["secret"].as_str().unwrap().to_string(),
        key["key"].as_str().unwrap().to_string(),
    ];
    let ca_key = std::fs::read_to_string(state.join("ca.key")).unwrap();
    out.extend(
        ca_key
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 20)
            .map(str::to_string),
    );
    assert!(out.len() >= 4, "secrets found: {}", out.len());
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn apply_bootstraps_a_cluster_and_later_joins_just_a_new_host() {
    let lab = Lab::from_env();
    let home = Home::new();
    let inv = home.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        lab_cluster(&lab, &FIRST, POD_SUBNET, &calico_settings()),
    )
    .unwrap();
    let state = home.path().join(".kubestrap/lab");
    let report = home.path().join("report.json");

    // 1. From fresh hosts to a cluster, at the most verbose log level, while
    //    watching every process command line on the hosts.
    let names: Vec<String> = FIRST.iter().map(|(h, _)| h.to_string()).collect();
    let watch = ProcessWatch::start(lab.dir().to_path_buf(), names.clone());
    let first = apply(&home, &inv, &lab, &["-vvv", "--report", s(&report)]);
    let processes = watch.finish();
    assert_eq!(first.code, 0, "{}", first.all());
    let rows = node_rows(&first);
    for (h, _) in FIRST {
        let row = rows
            .iter()
            .find(|r| r[0] == h)
            .unwrap_or_else(|| panic!("{h} not in the node table:\n{}", first.stdout));
        assert_eq!(row[1], "Ready", "{row:?}");
    }
    assert_eq!(rows.len(), 3, "{rows:?}");

    // The discovery hash kubestrap computed is what openssl says of the CA.
    let printed = first
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("cluster CA: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the cluster CA's hash is printed");
    assert_eq!(printed, openssl_hash(&lab, "node16"));

    // Calico got the inventory's pod subnet, node-IP autodetection and MTU.
    let applied = lab.sh_ok("node16", "cat /etc/kubernetes/kubestrap/calico.yaml");
    assert!(
        applied.contains(&format!(
            "- name: CALICO_IPV4POOL_CIDR\n              value: \"{POD_SUBNET}\""
        )),
        "{applied}"
    );
    assert!(
        applied.contains("value: \"kubernetes-internal-ip\""),
        "{applied}"
    );
    assert!(applied.contains("veth_mtu: \"1400\""), "{applied}");
    assert!(!applied.contains("192.168.0.0/16"), "{applied}");

    // No token, certificate key or CA key in the output, logs, report or
    // any process command line; the state directory and kubeconfig are private.
    let report_text = std::fs::read_to_string(&report).unwrap();
    for secret in secrets(&state) {
        assert!(
            !first.all().contains(&secret),
            "a secret is in the output or logs"
        );
        assert!(!report_text.contains(&secret), "a secret is in the report");
        assert!(
            !processes.contains(&secret),
            "a secret was on a command line"
        );
    }
    assert!(
        processes.contains("kubeadm join --config"),
        "the watch saw the joins: it really watched"
    );
    assert_eq!(mode(&state), 0o700);
    for f in [
        "ca.key",
        "ca.crt",
        "token.json",
        "certificate-key.json",
        "kubeconfig",
    ] {
        assert_eq!(mode(&state.join(f)), 0o600, "{f}");
    }
    assert!(
        !lab.sh_ok("node16", "ls /etc/kubernetes")
            .contains("kubestrap-init.yaml"),
        "secret-holding config removed"
    );
    let kubeconfig = home.kubestrap(&["kubeconfig", "-i", s(&inv)]);
    assert_eq!(kubeconfig.code, 0, "{}", kubeconfig.all());
    assert!(
        kubeconfig
            .stdout
            .contains(&format!("server: https://{}:6443", lab.address("node16"))),
        "{}",
        kubeconfig.stdout
    );

    // 2. Again: nothing changes anywhere, and a converged cluster costs at
    //    most two SSH commands per host (the facts gather with the lock
    //    riding along, then the unlock), counted by the JSON report.
    let again_report = home.path().join("again.json");
    let again = apply(&home, &inv, &lab, &["--report", s(&again_report)]);
    assert_eq!(again.code, 0, "{}", again.all());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again_report).unwrap()).unwrap();
    for (h, _) in FIRST {
        assert_eq!(changed(&again.stdout, h), 0, "{h}:\n{}", again.stdout);
        let execs = json["stats"][h]["ssh_execs"].as_u64();
        assert!(
            execs.is_some_and(|n| (1..=2).contains(&n)),
            "{h}: a no-op apply made {execs:?} SSH commands: {}",
            json["stats"]
        );
    }

    // 3. A fourth host in the inventory: it joins, the others are untouched.
    let mut four = FIRST.to_vec();
    four.push(FOURTH);
    std::fs::write(
        &inv,
        lab_cluster(&lab, &four, POD_SUBNET, &calico_settings()),
    )
    .unwrap();
    let grown = apply(&home, &inv, &lab, &[]);
    assert_eq!(grown.code, 0, "{}", grown.all());
    assert!(
        node_rows(&grown)
            .iter()
            .any(|r| r[0] == FOURTH.0 && r[1] == "Ready"),
        "{}",
        grown.stdout
    );
    assert!(changed(&grown.stdout, FOURTH.0) > 0);
    for (h, _) in FIRST {
        assert_eq!(
            changed(&grown.stdout, h),
            0,
            "{h} was touched:\n{}",
            grown.stdout
        );
    }
}

#[test]
fn three_control_planes_behind_a_virtual_ip() {
    let lab = Lab::from_env();
    let home = Home::new();
    let vip = format!("{}.250", lab.address("node20").rsplit_once('.').unwrap().0);
    let settings = format!(
        "{}  control_plane_endpoint: {vip}:6443\n",
        calico_settings()
    );
    let inv = home.path().join("inventory.yaml");
    std::fs::write(&inv, lab_cluster(&lab, &HA, POD_SUBNET, &settings)).unwrap();
    let run = apply(&home, &inv, &lab, &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains(&format!(
            "endpoint: {vip}:6443 (virtual IP held by kube-vip)"
        )),
        "{}",
        run.stdout
    );
    let rows = node_rows(&run);
    for (h, _) in HA {
        let row = rows
            .iter()
            .find(|r| r[0] == h)
            .unwrap_or_else(|| panic!("{h} missing:\n{}", run.stdout));
        assert_eq!(row[1], "Ready", "{row:?}");
        assert!(row[2].contains("control-plane"), "{row:?}");
        let manifest = lab.sh_ok(h, "cat /etc/kubernetes/manifests/kube-vip.yaml");
        assert!(
            manifest.contains(&format!("value: \"{vip}\"")),
            "{h}: {manifest}"
        );
        assert!(
            manifest.contains("path: \"/etc/kubernetes/admin.conf\""),
            "{h} kept super-admin.conf: {manifest}"
        );
    }
    // The extra control planes got the cluster's certificates through the
    // upload that only the certificate key opens.
    for h in ["node21", "node22"] {
        lab.sh_ok(
            h,
            "test -s /etc/kubernetes/pki/ca.key && test -s /etc/kubernetes/pki/sa.key",
        );
    }
    let again = apply(&home, &inv, &lab, &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    for (h, _) in HA {
        assert_eq!(changed(&again.stdout, h), 0, "{h}:\n{}", again.stdout);
    }
}

#[test]
fn ca_hash_agrees_with_openssl_on_rsa_and_ecdsa_cas() {
    let home = Home::new();
    let dir = home.path();
    let keygen: [(&str, &[&str]); 2] = [
        (
            "rsa",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
        ),
        (
            "ec",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ],
        ),
    ];
    for (name, args) in keygen {
        let key = dir.join(format!("{name}.key"));
        let crt = dir.join(format!("{name}.crt"));
        let ok = |c: &mut Command| {
            assert!(c
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap()
                .success())
        };
        ok(Command::new("openssl").args(args).arg("-out").arg(&key));
        ok(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-new",
                "-subj",
                "/CN=kubernetes",
                "-days",
                "3650",
                "-key",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&crt));
        let pipeline = format!(
            "openssl x509 -pubkey -noout -in {} | openssl {} -pubin -outform der 2>/dev/null | openssl dgst -sha256 -hex",
            crt.display(),
            if name == "rsa" { "rsa" } else { "pkey" }
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(&pipeline)
            .output()
            .unwrap();
        let expected = format!(
            "sha256:{}",
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .rsplit(' ')
                .next()
                .unwrap()
        );
        let run = home.kubestrap(&["ca-hash", s(&crt)]);
        assert_eq!(run.code, 0, "{}", run.all());
        assert_eq!(run.stdout.trim(), expected, "{name}");
    }
}
