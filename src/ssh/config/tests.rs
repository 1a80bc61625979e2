//! Shared test fixtures, and the robustness test that spans parsing, resolution and ProxyJump.

use std::path::{Path, PathBuf};

use super::load::Loader;
use super::parse::parse_time;
use super::resolve::LocalEnv;
use super::JumpHost;

/// A fixed local machine: home `/home/me`, user `me`, and only `$KEYS` set.
pub(super) fn env() -> LocalEnv {
    LocalEnv {
        home: Some(PathBuf::from("/home/me")),
        user: Some("me".to_string()),
        var: Box::new(|name| (name == "KEYS").then(|| "/keys".to_string())),
    }
}

/// Deterministic junk built from the characters the parser treats specially: any input
/// must give a value or an error, never a panic.
#[test]
fn arbitrary_input_never_panics() {
    const PIECES: &[&str] = &[
        "Host ",
        "Match ",
        "host ",
        "!",
        "*",
        "?",
        "HostName ",
        "%",
        "%h",
        "%%",
        "Port ",
        "IdentityFile ",
        "~",
        "~/",
        "${",
        "}",
        "ProxyJump ",
        "ssh://",
        "@",
        ":",
        "[",
        "]",
        ",",
        "\"",
        "'",
        "\\",
        "#",
        "=",
        " ",
        "\t",
        "\n",
        "é",
        "0",
        "65535",
        "1m",
        "none",
        "ConnectTimeout ",
        "UserKnownHostsFile ",
        "Include ",
        "all",
        "/",
        "%4",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        let mut text = String::new();
        for _ in 0..(seed % 24) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
        }
        let parsed = Loader { home: None }.parse(&text, Path::new("f"), 0);
        if let Ok(cfg) = parsed {
            for host in ["", "a", "%h", "é*"] {
                let _ = cfg.resolve_with(host, &env());
            }
        }
        let _ = JumpHost::parse_list(&text);
        let _ = parse_time(&text);
    }
}
