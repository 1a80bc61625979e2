//! The static release binary README promises: built by `cargo build-static`, it needs no shared library and works.
//!
//! tests/run-all.sh builds it before the lab boots (README's command, as
//! written); here the binary it left must have no dynamic loader, log in to
//! node59 and find a host by name through /etc/hosts: the places where a
//! static glibc binary could fail while a dynamic one works are ring's C and
//! assembly code in every handshake and glibc's resolver without its shared
//! libraries.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::lab::Lab;
use crate::support::{s, Home};

/// Where `cargo build-static` leaves the binary (README says the same).
const STATIC_BIN: &str = "target/x86_64-unknown-linux-gnu/release/kubestrap";

/// ELF program header type of the dynamic loader's path (PT_INTERP).
const PT_INTERP: u32 = 3;

/// The program header types of a 64-bit little-endian ELF file.
fn program_header_types(elf: &[u8]) -> Vec<u32> {
    assert_eq!(
        &elf[..6],
        b"\x7fELF\x02\x01",
        "not a 64-bit little-endian ELF file"
    );
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count)
        .map(|i| {
            let at = phoff + i * size;
            u32::from_le_bytes(elf[at..at + 4].try_into().unwrap())
        })
        .collect()
}

/// The static binary `cargo build-static` made; a missing one fails the test.
fn static_binary() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(STATIC_BIN);
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build-static` first (tests/run-all.sh does)",
        bin.display()
    );
    bin
}

/// Runs the static binary with this $HOME and no ssh-agent: exit code and all its output.
fn run_static(bin: &Path, home: &Home, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin)
        .args(args)
        .env("HOME", home.path())
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("$ {} {}\n{text}", bin.display(), args.join(" "));
    (out.status.code(), text)
}

#[test]
fn static_binary_has_no_loader_logs_in_and_resolves_names() {
    let lab = Lab::from_env();
    let bin = static_binary();
    let elf = std::fs::read(&bin).unwrap();
    assert!(
        !program_header_types(&elf).contains(&PT_INTERP),
        "{} asks for a dynamic loader: it is not static",
        bin.display()
    );

    // A login and a command on a lab host: key exchange, host key and
    // signatures all go through ring inside the static binary.
    let home = Home::new();
    let (_d, inventory) = lab.write_inventory(&["node59"], "root");
    let known_hosts = lab.known_hosts();
    let args = [
        "exec",
        "-i",
        s(&inventory),
        "--known-hosts",
        s(&known_hosts),
        "--",
        "uname",
        "-n",
    ];
    let (code, text) = run_static(&bin, &home, &args);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("node59 | CHANGED | rc=0 >>\nnode59\n"),
        "{text}"
    );

    // A host named `localhost`: the static binary's resolver reads
    // /etc/hosts and connects to the listener behind that name (which never
    // speaks SSH, so kubestrap gives up after --connect-timeout).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let named = home.path().join("named.yaml");
    std::fs::write(
        &named,
        format!(
            "cluster:\n  name: lab\ndefaults:\n  user: root\nhosts:\n  here:\n    address: localhost\n    port: {port}\n    roles: [control_plane]\n"
        ),
    )
    .unwrap();
    let args = [
        "exec",
        "-i",
        s(&named),
        "--connect-timeout",
        "1",
        "--retries",
        "0",
        "--",
        "true",
    ];
    let (code, text) = run_static(&bin, &home, &args);
    assert_eq!(code, Some(4), "{text}");
    assert!(!text.contains("lookup"), "{text}");
    listener.set_nonblocking(true).unwrap();
    assert!(
        listener.accept().is_ok(),
        "kubestrap never connected to localhost:{port}:\n{text}"
    );
}
