//! Address checks the inventory needs: DNS names, CIDR blocks, subnet membership.
//!
//! Small enough to write here rather than pull in a crate; IPv4 and IPv6 are
//! handled alike by working on the address as a 128-bit number.

use std::net::IpAddr;

/// Why a text is no `ADDR/PREFIX`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("missing /PREFIX")]
    NoPrefix,
    #[error("{addr:?} is not an IP address")]
    NotIp { addr: String },
    #[error("prefix length must be 0-{max}")]
    PrefixLength { max: u8 },
}

/// An address block such as `10.233.64.0/18`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parse `ADDR/PREFIX`; host bits may be set (`10.0.0.11/24` names an
    /// interface address as well as its network).
    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let (addr, prefix) = s.split_once('/').ok_or(CidrError::NoPrefix)?;
        let addr: IpAddr = addr.parse().map_err(|_| CidrError::NotIp {
            addr: addr.to_string(),
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = match prefix.parse() {
            Ok(p) if p <= max => p,
            _ => return Err(CidrError::PrefixLength { max }),
        };
        Ok(Cidr { addr, prefix })
    }

    fn bits(&self) -> (u128, u32) {
        match self.addr {
            IpAddr::V4(a) => (u32::from(a) as u128, 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    }

    fn network(&self) -> u128 {
        let (bits, width) = self.bits();
        bits & mask(self.prefix, width)
    }

    /// Does the block contain `ip` (same family only)?
    pub fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let other = Cidr {
            addr: ip,
            prefix: self.prefix,
        };
        other.network() == self.network()
    }

    pub fn has_host_bits(&self) -> bool {
        self.bits().0 != self.network()
    }

    /// Do two blocks share any address?
    pub fn overlaps(&self, other: &Cidr) -> bool {
        if self.addr.is_ipv4() != other.addr.is_ipv4() {
            return false;
        }
        let shorter = if self.prefix <= other.prefix {
            self
        } else {
            other
        };
        let longer = if self.prefix <= other.prefix {
            other
        } else {
            self
        };
        shorter.contains(longer.addr)
    }
}

fn mask(prefix: u8, width: u32) -> u128 {
    let prefix = u32::from(prefix);
    if prefix == 0 {
        0
    } else {
        let all = if width == 128 {
            u128::MAX
        } else {
            (1u128 << width) - 1
        };
        all & !((1u128 << (width - prefix)) - 1)
    }
}

/// An IP address or a DNS name (RFC 1123 labels; `_` allowed, as in many LANs).
pub fn is_address(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok() || is_dns_name(s)
}

pub fn is_dns_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    // All-numeric dotted text is a mistyped IPv4 address, not a name.
    if s.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    s.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_overlap_and_membership() {
        let pods = Cidr::parse("10.233.64.0/18").unwrap();
        let svc = Cidr::parse("10.233.0.0/18").unwrap();
        assert!(!pods.overlaps(&svc));
        assert!(Cidr::parse("10.0.0.0/8").unwrap().overlaps(&svc));
        let iface = Cidr::parse("10.0.0.11/24").unwrap();
        assert!(iface.contains("10.0.0.1".parse().unwrap()));
        assert!(!iface.contains("10.0.1.1".parse().unwrap()));
        assert!(Cidr::parse("fd00::/64")
            .unwrap()
            .contains("fd00::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0.0").is_err());
    }

    #[test]
    fn names_and_addresses() {
        assert!(is_address("10.0.0.1"));
        assert!(is_address("cp1.lab.example.com"));
        assert!(is_address("fe80::1"));
        assert!(!is_address("10.0.0.300"));
        assert!(!is_address("bad name"));
        assert!(!is_address("-x"));
    }
}
