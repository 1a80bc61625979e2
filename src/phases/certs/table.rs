//! Phase: every control plane's certificates and CAs as one table, the soonest expiry first.

use super::CertsRun;
use crate::cluster::expiration::{Expirations, Expiry};
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::{utc, ExitCode};

pub struct Table;

impl<'r> Phase<CertsRun<'r>> for Table {
    fn title(&self) -> &'static str {
        "table"
    }

    fn should_run(&self, ctx: &CertsRun<'r>) -> bool {
        !ctx.expiries.is_empty()
    }

    fn run<'a>(&'a mut self, ctx: &'a mut CertsRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            ctx.runner.emit(Event::Section {
                title: "CERTIFICATES".into(),
                lines: lines(&ctx.expiries, now()),
            });
            Flow::Next(ExitCode::Ok)
        })
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

const HEADER: [&str; 5] = ["HOST", "CERTIFICATE", "EXPIRES", "DAYS LEFT", "CA"];

/// The table's lines: a header, then one row per certificate and CA of
/// every host, missing ones first, then by expiry (soonest first), host and
/// name. DAYS LEFT is whole days from `now`; the CA column names the
/// signer, `(authority)` for a CA itself, `external` when kubeadm cannot
/// renew it (the CA's key is not on the host).
pub fn lines(expiries: &[(String, Expirations)], now: i64) -> Vec<String> {
    let mut rows: Vec<(Option<i64>, [String; 5])> = Vec::new();
    for (host, tables) in expiries {
        let certs = tables.certificates.iter().map(|c| (c, false));
        let cas = tables.authorities.iter().map(|c| (c, true));
        for (c, is_ca) in certs.chain(cas) {
            rows.push((c.expires, row(host, c, is_ca, now)));
        }
    }
    rows.sort_by(|(a, ra), (b, rb)| {
        (a.is_some(), a, &ra[0], &ra[1]).cmp(&(b.is_some(), b, &rb[0], &rb[1]))
    });
    let mut widths = HEADER.map(str::len);
    for (_, r) in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let header = HEADER.map(String::from);
    std::iter::once(&header)
        .chain(rows.iter().map(|(_, r)| r))
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:w$}"))
                .collect();
            cells.join("   ").trim_end().to_string()
        })
        .collect()
}

fn row(host: &str, c: &Expiry, is_ca: bool, now: i64) -> [String; 5] {
    let (expires, days) = match c.expires {
        None => ("missing".to_string(), "-".to_string()),
        Some(t) if t <= now => (utc::format(t), "expired".to_string()),
        Some(t) => (utc::format(t), utc::days_left(t, now).to_string()),
    };
    let signer = if is_ca {
        "(authority)".to_string()
    } else {
        c.authority.clone().unwrap_or_else(|| "-".into())
    };
    let ca = if c.externally_managed {
        format!("{signer} external")
    } else {
        signer
    };
    [host.to_string(), c.name.clone(), expires, days, ca]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::expiration::parse;

    /// 2026-12-07 14:00 UTC.
    const NOW: i64 = 1_796_652_000;

    const FIRST: &str = "CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Dec 07, 2027 13:00 UTC   364d            ca                      no      
apiserver                  Dec 17, 2026 13:00 UTC   9d              ca                      no      
etcd-server                Dec 07, 2027 13:00 UTC   364d            etcd-ca                 no      
front-proxy-client         Dec 07, 2027 13:00 UTC   364d            front-proxy-ca          yes     

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Dec 05, 2036 13:00 UTC   9y              no      
etcd-ca                 Dec 05, 2036 13:00 UTC   9y              no      
front-proxy-ca          Dec 05, 2036 13:00 UTC   9y              yes     
";

    const SECOND: &str = "CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Dec 01, 2026 13:00 UTC   <invalid>       ca                      no      
apiserver                  Dec 07, 2027 12:00 UTC   364d            ca                      no      
!MISSING! scheduler.conf                                                                     

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Dec 05, 2036 13:00 UTC   9y              no      
";

    #[test]
    fn one_table_for_every_control_plane_soonest_first() {
        let expiries = vec![
            ("cp1".to_string(), parse(FIRST).unwrap()),
            ("cp2".to_string(), parse(SECOND).unwrap()),
        ];
        insta::assert_snapshot!(lines(&expiries, NOW).join("\n"));
    }
}
