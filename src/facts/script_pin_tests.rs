//! The gather script's exact text, pinned by snapshots so a refactor shows it changed nothing.
//!
//! Hosts run this text and [`super::parse`] reads its output, so any byte
//! that moves here is a change of behaviour: review a failing snapshot as
//! one, never accept it blindly.

use super::fixture_tests::file;
use super::*;

/// Every kind of request, with names the script must quote or leave out.
fn every_kind() -> Vec<FactRequest> {
    vec![
        file("/etc/hostname", true),
        file("/etc/ssh", false),
        file("/tmp/it's a \"file\" with spaces", true),
        file("/bad\nnewline", true),
        file("", false),
        FactRequest::Package("containerd".into()),
        FactRequest::Package("libc6:amd64".into()),
        FactRequest::Package("kube*".into()),
        FactRequest::Unit("ssh.service".into()),
        FactRequest::Unit("getty@tty1.service".into()),
        FactRequest::Unit("x;rm -rf /".into()),
        FactRequest::Unit("42".into()),
        FactRequest::Sysctl("net.ipv4.ip_forward".into()),
        FactRequest::Sysctl("net.ipv4.conf.eth0/10.rp_filter".into()),
        FactRequest::Sysctl("/../../etc/shadow".into()),
        FactRequest::CertExpiry,
    ]
}

#[test]
fn base_only_script_is_unchanged() {
    insta::assert_snapshot!(gather_script(&[]));
}

#[test]
fn script_for_every_kind_of_request_is_unchanged() {
    insta::assert_snapshot!(gather_script(&every_kind()));
}

/// Files only (content asked for none), and the rest only: each kind's
/// fragment stands alone, with no trace of the kinds not asked for.
#[test]
fn scripts_for_single_kinds_are_unchanged() {
    insta::assert_snapshot!(
        "files_without_content",
        gather_script(&[file("/etc/a", false)])
    );
    insta::assert_snapshot!(
        "no_files",
        gather_script(&[
            FactRequest::Package("sudo".into()),
            FactRequest::Unit("kubelet".into()),
            FactRequest::Sysctl("vm.swappiness".into()),
        ])
    );
}
