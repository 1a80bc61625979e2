//! Listening TCP ports, IPv4 and IPv6, read from /proc/net/tcp{,6}.

use super::Kind;
use crate::facts::model::{FactRequest, Facts};
use crate::facts::sections::{body, lines, Section};
use std::collections::BTreeSet;

const TCP_LISTEN: &str = "tcp-listen";

pub(crate) struct Ports;

impl Kind for Ports {
    /// /proc rather than `ss`: the kernel lists listening sockets before all
    /// others (tcp_get_idx walks the listening hash first), so the loop stops
    /// at the first other state and reads a few lines, however many
    /// connections a busy node holds.
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!(
            "m {TCP_LISTEN}; for f in /proc/net/tcp /proc/net/tcp6; do [ -r \"$f\" ] && while read -r _ a _ st _; do case $st in st) ;; 0A) printf '%s\\n' \"${{a##*:}}\";; *) break;; esac; done < \"$f\"; done\n"
        ));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        f.listening = listening(s)?;
        Ok(())
    }
}

/// One hex port per line, from the local address column of /proc/net/tcp{,6}.
fn listening(s: &[Section<'_>]) -> Result<BTreeSet<u16>, String> {
    lines(body(s, TCP_LISTEN))
        .map(|l| {
            let hex = l.trim();
            let hex = hex.rsplit_once(':').map_or(hex, |(_, p)| p);
            u16::from_str_radix(hex, 16)
                .map_err(|_| format!("fact section `{TCP_LISTEN}`: expected a hex port, got {l:?}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::read;
    use super::*;

    /// (section body, ports)
    #[test]
    fn listening_ports_from_fixtures() {
        let table: &[(&str, &[u16])] = &[
            ("", &[]),
            ("0016\n", &[22]),
            ("192B\n0016\n192B\n0100007F:2A0B\n", &[22, 6443, 10763]),
        ];
        for (text, ports) in table {
            let f = read(&Ports, &[(TCP_LISTEN, text)], &[]).unwrap();
            let got: Vec<u16> = f.listening.iter().copied().collect();
            assert_eq!(&got, ports, "{text:?}");
        }
        for bad in ["ZZ\n", "1FFFF\n"] {
            let err = read(&Ports, &[(TCP_LISTEN, bad)], &[]).unwrap_err();
            assert!(err.contains("`tcp-listen`"), "{err}");
        }
    }
}
