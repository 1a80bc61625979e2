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
