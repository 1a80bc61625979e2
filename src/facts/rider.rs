//! A caller's own short script riding along with the gather, so both cost one round trip.
//!
//! `apply` takes its host lock this way: the lock script runs first (so the
//! lock file the facts then read is the one it left), its output and exit
//! status come back in a `rider` section after the facts. The rider runs in
//! its own `/bin/sh -c`, so its `set -e` or `exit` cannot end the gather.

use super::script::tail;
use super::sections::split;
use crate::ssh::shell_quote;

/// What the rider printed (stdout and stderr) and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiderOutput {
    pub status: i32,
    pub output: Vec<u8>,
}

/// The section the rider's report comes back in: `rider <exit status>`.
const SECTION: &str = "rider";

/// `gather` (the script from [`super::gather_script`]) with `rider` run
/// before it and reported after it.
pub fn with_rider(gather: &str, rider: &str) -> String {
    let end = tail();
    let facts = gather.strip_suffix(&end).unwrap_or(gather);
    format!(
        "ks_rider=$(/bin/sh -c {} 2>&1); ks_rider_rc=$?\n{facts}m {SECTION} \"$ks_rider_rc\"\nprintf '%s\\n' \"$ks_rider\"\n{end}",
        shell_quote(rider)
    )
}

/// The rider's result from the gather's output; None when there was none.
pub fn rider_output(output: &[u8]) -> Option<RiderOutput> {
    let sections = split(output).ok()?;
    let (status, body) = sections.iter().find_map(|s| {
        let status = s.name.strip_prefix(SECTION)?.strip_prefix(' ')?;
        Some((status, s.body))
    })?;
    let status = status.trim().parse().ok()?;
    let mut out = body.to_vec();
    // printf added one newline after the captured text (which $() stripped).
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    Some(RiderOutput {
        status,
        output: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The combined script really runs in sh: facts parse as before and the
    /// rider's exit status and output come back, even when it exits early.
    #[test]
    fn the_rider_runs_first_and_reports_after_the_facts() {
        let requests = super::super::needed(&[]);
        let gather = super::super::gather_script(&requests);
        for (rider, status, text) in [
            ("echo taken", 0, "taken"),
            (
                "set -e\necho 'held by x'\nexit 75\necho never",
                75,
                "held by x",
            ),
            ("false", 1, ""),
        ] {
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(with_rider(&gather, rider))
                .output()
                .unwrap();
            assert!(out.status.success(), "{rider}");
            super::super::parse(&out.stdout, &requests).expect("facts still parse");
            let r = rider_output(&out.stdout).unwrap();
            assert_eq!((r.status, r.output.as_slice()), (status, text.as_bytes()));
        }
        let plain = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&gather)
            .output()
            .unwrap();
        assert_eq!(rider_output(&plain.stdout), None);
    }
}
