//! `ProxyJump` hops: `[user@]host[:port]`, bracketed IPv6 and `ssh://` URIs, as OpenSSH reads.

/// One hop of a `ProxyJump` chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl JumpHost {
    /// Parses one hop: `[user@]host[:port]`, `[user@][v6addr][:port]` or
    /// `ssh://[user@]host[:port][/]`. `None` if malformed.
    pub fn parse(spec: &str) -> Option<JumpHost> {
        if let Some(rest) = spec.strip_prefix("ssh://") {
            return parse_ssh_uri(rest);
        }
        // The user part ends at the *last* '@', as in OpenSSH, so user names may contain '@'.
        let (user, hostport) = match spec.rfind('@') {
            Some(at) => (Some(&spec[..at]), &spec[at + 1..]),
            None => (None, spec),
        };
        if user.is_some_and(str::is_empty) {
            return None;
        }
        let (host, port) = split_host_port(hostport)?;
        Some(JumpHost {
            user: user.map(str::to_string),
            host,
            port,
        })
    }

    /// Parses a `ProxyJump` value: comma-separated hops, first hop first.
    pub fn parse_list(value: &str) -> Option<Vec<JumpHost>> {
        value.split(',').map(JumpHost::parse).collect()
    }
}

fn parse_ssh_uri(rest: &str) -> Option<JumpHost> {
    // A bare trailing '/' is allowed; any real path is not meaningful for a jump host.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        return None;
    }
    let (user, hostport) = match rest.rfind('@') {
        Some(at) => {
            // RFC 4251-style ";fingerprint=..." connection parameters are ignored, as OpenSSH does.
            let userinfo = &rest[..at];
            let user = userinfo.split(';').next().unwrap_or_default();
            (Some(percent_decode(user)?), &rest[at + 1..])
        }
        None => (None, rest),
    };
    if user.as_deref().is_some_and(str::is_empty) {
        return None;
    }
    let (host, port) = split_host_port(hostport)?;
    Some(JumpHost { user, host, port })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `host[:port]` or `[v6addr][:port]`; the host may not be empty.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']')?;
        let after = &inner[close + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&inner[..close], port)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '@') {
        return None;
    }
    let port = match port {
        Some(p) => Some(parse_port(p)?),
        None => None,
    };
    Some((host.to_string(), port))
}

/// OpenSSH's a2port: decimal 1..=65535 (service names are not supported).
pub(super) fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|&p| p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_host_parsing() {
        let cases = [
            ("h", Some((None, "h", None))),
            ("u@h:2", Some((Some("u"), "h", Some(2)))),
            ("a@b@h", Some((Some("a@b"), "h", None))),
            ("[::1]", Some((None, "::1", None))),
            ("ssh://h", Some((None, "h", None))),
            ("ssh://u;fingerprint=x@h:9", Some((Some("u"), "h", Some(9)))),
            ("", None),
            ("@h", None),
            ("h:", None),
            ("h:0", None),
            ("[::1", None),
            ("[::1]x", None),
            ("fe80::1", None),
            ("ssh://%zz@h", None),
        ];
        for (spec, want) in cases {
            let got = JumpHost::parse(spec);
            let want = want.map(|(u, h, p)| JumpHost {
                user: u.map(str::to_string),
                host: h.to_string(),
                port: p,
            });
            assert_eq!(got, want, "{spec:?}");
        }
        assert_eq!(JumpHost::parse_list("a,,b"), None);
    }
}
