//! The script run for real by this machine's `sh`, on paths built to break naive quoting.

use super::*;
use sha2::{Digest, Sha256};

#[test]
fn awkward_paths_survive_the_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "it's a \"file\" with spaces",
        "back\\slash",
        "tab\there",
        "$(touch pwned)",
        "-n",
    ];
    let mut requests = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("content {i}\n")).unwrap();
        requests.push(FactRequest::File {
            path: path.to_str().unwrap().to_string(),
            content: true,
        });
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(gather_script(&requests))
        .output()
        .unwrap();
    assert!(out.status.success());
    let facts = parse(&out.stdout, &requests).unwrap();
    for (i, r) in requests.iter().enumerate() {
        let FactRequest::File { path, .. } = r else {
            unreachable!()
        };
        let want = format!("content {i}\n");
        let got = &facts.files[path];
        assert_eq!(got.kind, FileKind::File, "{path}");
        assert_eq!(got.content.as_deref(), Some(want.as_bytes()), "{path}");
        let sum = format!("{:x}", Sha256::digest(want.as_bytes()));
        assert_eq!(got.sha256.as_deref(), Some(sum.as_str()), "{path}");
    }
    assert!(!dir.path().join("pwned").exists());
    assert!(!std::path::Path::new("pwned").exists());
}

#[test]
fn listening_ports_module_support_and_routes_of_this_machine() {
    let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let v6 = std::net::TcpListener::bind("[::1]:0").ok();
    // Established connections come after the listeners in /proc/net/tcp;
    // the script must read past none of them to see every listener.
    let _client = std::net::TcpStream::connect(v4.local_addr().unwrap()).unwrap();
    let late = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(gather_script(&[]))
        .output()
        .unwrap();
    let facts = parse(&out.stdout, &[]).unwrap();
    for l in [Some(&v4), v6.as_ref(), Some(&late)].into_iter().flatten() {
        let port = l.local_addr().unwrap().port();
        assert!(
            facts.listening.contains(&port),
            "{port} in {:?}",
            facts.listening
        );
    }
    assert_eq!(
        facts.loadable_modules,
        std::path::Path::new("/proc/modules").exists()
    );
    let has_ip = std::process::Command::new("ip")
        .args(["-j", "route", "show"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_ip {
        assert!(facts.routes.iter().all(|r| r.dst.contains('/')));
        if let Some(d) = &facts.default_route {
            assert!(facts
                .routes
                .iter()
                .any(|r| r.dst == "0.0.0.0/0" && r.interface.as_ref() == Some(&d.interface)));
        }
    }
}
