//! How exec shows and counts each host's result.

use std::sync::Arc;

use super::command::exec_result;
use super::recap::classify;
use crate::report::reporter::Recording;
use crate::report::text::Text;
use crate::report::{Event, Outcome, Reporter};
use crate::ssh::{Output, SshError};
use crate::ExitCode;
use std::time::Duration;

/// A host's block of output as the text reporter prints it.
fn format_result(name: &str, result: &Result<Output, SshError>) -> String {
    let recording = Arc::new(Recording::default());
    Text::new(recording.clone()).emit(&Event::Exec {
        host: name.into(),
        result: exec_result(result),
    });
    recording.text().trim_end_matches('\n').to_string()
}

fn out(rc: u32, stdout: &[u8], stderr: &[u8]) -> Result<Output, SshError> {
    Ok(Output {
        exit_status: Some(rc),
        stdout: stdout.to_vec(),
        stderr: stderr.to_vec(),
        ..Default::default()
    })
}

#[test]
fn results_read_like_ansible_ad_hoc() {
    let unreachable = Err(SshError::ConnectTimeout {
        host: "n3".into(),
        addr: "10.0.0.3:22".into(),
        after: Duration::from_secs(10),
    });
    let table: Vec<(Result<Output, SshError>, &str, Outcome, ExitCode)> = vec![
        (
            out(0, b"n1\n", b""),
            "n | CHANGED | rc=0 >>\nn1",
            Outcome::Changed,
            ExitCode::Ok,
        ),
        (
            out(2, b"", b"no such file\n"),
            "n | FAILED | rc=2 >>\nno such file",
            Outcome::Failed,
            ExitCode::HostFailed,
        ),
        (
            out(0, b"\xff\xfeok", b""),
            "n | CHANGED | rc=0 >>\n\u{fffd}\u{fffd}ok",
            Outcome::Changed,
            ExitCode::Ok,
        ),
        (
            unreachable,
            "n | UNREACHABLE! => n3: connection to 10.0.0.3:22 timed out after 10s",
            Outcome::Unreachable,
            ExitCode::Unreachable,
        ),
    ];
    for (result, text, outcome, code) in table {
        assert_eq!(format_result("n", &result), text);
        assert_eq!(classify(&result), (outcome, code));
    }
}

#[test]
fn host_key_problems_outrank_other_failures() {
    let e = SshError::HostKeyUnknown {
        host: "n".into(),
        key_type: "ssh-ed25519".into(),
        fingerprint: "SHA256:abc".into(),
        known_hosts: "kh".into(),
    };
    assert_eq!(classify(&Err(e)), (Outcome::Unreachable, ExitCode::HostKey));
    assert!(
        ExitCode::HostKey > ExitCode::Unreachable && ExitCode::Unreachable > ExitCode::HostFailed
    );
}
