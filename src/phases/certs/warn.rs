//! Phase (apply): one warning line per control plane whose kubeadm certificates expire within 30 days, read from the gathered facts.

use std::collections::BTreeMap;

use crate::inventory::Role;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::utc;
use crate::ExitCode;

/// A certificate this close to its end (or past it) is worth a warning.
pub const WARN_DAYS: i64 = 30;

pub struct ExpiryWarning;

impl<'r> Phase<ClusterRun<'r>> for ExpiryWarning {
    fn title(&self) -> &'static str {
        "certificate expiry"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let runner = &*ctx.runner;
            for s in runner.sessions.iter().flatten() {
                let control_plane = runner
                    .inventory
                    .host(&s.name)
                    .is_some_and(|h| h.roles.contains(&Role::ControlPlane));
                let Some(f) = s.facts.as_ref().filter(|_| control_plane) else {
                    continue;
                };
                let Some(expiry) = &f.cert_expiry else {
                    continue;
                };
                if let Some(msg) = warning(expiry, f.time) {
                    runner.emit(Event::Warning {
                        host: s.name.clone(),
                        msg,
                    });
                }
            }
            Flow::Next(ExitCode::Ok)
        })
    }
}

/// The warning for one host's certificates (kubeadm's names → notAfter) as
/// seen at `now` on its clock, soonest first; None when none is near.
pub fn warning(expiry: &BTreeMap<String, i64>, now: i64) -> Option<String> {
    let mut near: Vec<(&String, i64)> = expiry
        .iter()
        .map(|(name, &end)| (name, end))
        .filter(|(_, end)| utc::days_left(*end, now) < WARN_DAYS)
        .collect();
    if near.is_empty() {
        return None;
    }
    near.sort_by_key(|(name, end)| (*end, name.to_string()));
    let each: Vec<String> = near
        .iter()
        .map(|(name, end)| {
            let days = utc::days_left(*end, now);
            let when = utc::format(*end);
            if *end <= now {
                format!("{name} expired on {when}")
            } else {
                format!("{name} in {days} days ({when})")
            }
        })
        .collect();
    Some(format!(
        "certificates expire within {WARN_DAYS} days: {}; renew them with `kubestrap certs renew -i INVENTORY`",
        each.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_765_000_000;
    const DAY: i64 = utc::DAY;

    /// (certificates: name and seconds from now, the warning)
    #[test]
    fn warnings_from_fixtures() {
        type Row<'a> = (&'a [(&'a str, i64)], Option<&'a str>);
        let table: &[Row] = &[
            (&[], None),
            (&[("apiserver", 364 * DAY), ("ca", 3650 * DAY)], None),
            (&[("apiserver", 30 * DAY)], None),
            (
                &[("apiserver", 30 * DAY - 1), ("ca", 3650 * DAY)],
                Some("certificates expire within 30 days: apiserver in 29 days (Jan 05, 2026 05:46 UTC); renew them with `kubestrap certs renew -i INVENTORY`"),
            ),
            (
                &[("apiserver", 10 * DAY - 60), ("admin.conf", -3 * DAY), ("etcd-server", 400 * DAY)],
                Some("certificates expire within 30 days: admin.conf expired on Dec 03, 2025 05:46 UTC, apiserver in 9 days (Dec 16, 2025 05:45 UTC); renew them with `kubestrap certs renew -i INVENTORY`"),
            ),
        ];
        for (certs, want) in table {
            let expiry: BTreeMap<String, i64> = certs
                .iter()
                .map(|(n, d)| (n.to_string(), NOW + d))
                .collect();
            assert_eq!(warning(&expiry, NOW).as_deref(), *want, "{certs:?}");
        }
    }
}
