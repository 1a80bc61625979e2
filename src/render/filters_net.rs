//! Network filters: `ipaddr` (`ansible.utils.ipaddr`'s common queries) and `urlsplit`.

use std::net::IpAddr;

use minijinja::value::ValueKind;
use minijinja::{Environment, Error, State, Value};

use super::filters::{defined, invalid};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("ipaddr", ipaddr);
    env.add_filter("ansible.utils.ipaddr", ipaddr);
    env.add_filter("ansible.netcommon.ipaddr", ipaddr);
    env.add_filter("urlsplit", urlsplit);
}

/// An address with its prefix length (the host's own when none is written).
#[derive(Debug, Clone, Copy)]
struct Net {
    addr: IpAddr,
    prefix: u32,
}

impl Net {
    fn parse(s: &str) -> Option<Net> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = bits(addr);
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u32>() {
                Ok(n) if n <= max => n,
                // A netmask written out (`10.0.0.0/255.255.255.0`).
                _ => mask_len(p.parse().ok()?)?,
            },
        };
        Some(Net { addr, prefix })
    }

    fn value(&self) -> u128 {
        match self.addr {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        }
    }

    fn mask(&self) -> u128 {
        let max = bits(self.addr);
        let ones = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (128 - self.prefix)
        };
        ones >> (128 - max)
    }

    fn at(&self, v: u128) -> IpAddr {
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4((v as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(v.into()),
        }
    }

    fn network(&self) -> u128 {
        self.value() & self.mask()
    }

    fn broadcast(&self) -> u128 {
        let max = bits(self.addr);
        let all = if max == 128 {
            u128::MAX
        } else {
            (1u128 << max) - 1
        };
        self.network() | (!self.mask() & all)
    }
}

fn bits(a: IpAddr) -> u32 {
    if a.is_ipv4() {
        32
    } else {
        128
    }
}

/// The prefix length of a netmask (`255.255.255.0` → 24), if it is one.
fn mask_len(m: IpAddr) -> Option<u32> {
    let IpAddr::V4(m) = m else { return None };
    let v = u32::from(m);
    let ones = v.leading_ones();
    (v.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

/// `value | ipaddr(query)`: the value when it is an address or network
/// (`False` when not), or what the query asks of it: `address`, `network`,
/// `netmask`, `prefix`, `broadcast`, `size`, `host`, `net`, `cidr`,
/// `public`, `private`, or an integer N: the network's Nth address,
/// `addr/prefix`. A list keeps the elements that answer.
fn ipaddr(state: &State, v: &Value, query: Option<Value>) -> Result<Value, Error> {
    defined(state, v)?;
    if v.kind() == ValueKind::Seq {
        let mut out = Vec::new();
        for item in v.try_iter()? {
            let r = ipaddr(state, &item, query.clone())?;
            let refused = r.kind() == ValueKind::Bool && !r.is_true();
            if !refused && !r.is_none() {
                out.push(r);
            }
        }
        return Ok(Value::from(out));
    }
    let no = Value::from(false);
    let Some(text) = v
        .as_str()
        .map(str::to_string)
        .or_else(|| (v.kind() == ValueKind::Number).then(|| v.to_string()))
    else {
        return Ok(no);
    };
    let Some(net) = Net::parse(&text) else {
        return Ok(no);
    };
    let Some(query) = query.filter(|q| !q.is_none()) else {
        return Ok(v.clone());
    };
    if let Ok(n) = i64::try_from(query.clone()) {
        let size = net.broadcast() - net.network() + 1;
        let i = if n >= 0 {
            n as u128
        } else {
            size.wrapping_sub(n.unsigned_abs() as u128)
        };
        if i >= size {
            return Ok(no);
        }
        return Ok(Value::from(format!(
            "{}/{}",
            net.at(net.network() + i),
            net.prefix
        )));
    }
    let q = query.as_str().unwrap_or_default();
    let whole = net.prefix == bits(net.addr);
    Ok(match q {
        "address" if whole || net.value() != net.network() => Value::from(net.addr.to_string()),
        "address" => no,
        "host" if whole || net.value() != net.network() => {
            Value::from(format!("{}/{}", net.addr, net.prefix))
        }
        "host" => no,
        "network" => Value::from(net.at(net.network()).to_string()),
        "netmask" => Value::from(net.at(net.mask()).to_string()),
        "prefix" => Value::from(net.prefix),
        "broadcast" if !whole => Value::from(net.at(net.broadcast()).to_string()),
        "broadcast" => no,
        "size" => {
            Value::from(u64::try_from(net.broadcast() - net.network() + 1).unwrap_or(u64::MAX))
        }
        "net" if net.value() == net.network() && !whole => {
            Value::from(format!("{}/{}", net.addr, net.prefix))
        }
        "net" => no,
        "cidr" | "subnet" => Value::from(format!("{}/{}", net.at(net.network()), net.prefix)),
        "public" | "private" => {
            let private = is_private(net.addr);
            if private == (q == "private") {
                v.clone()
            } else {
                no
            }
        }
        other => {
            return Err(invalid(format!(
                "ipaddr: query `{other}` is not supported (kubestrap has address, host, network, \
                 netmask, prefix, broadcast, size, net, cidr, public, private and an index)"
            )))
        }
    })
}

/// Private, loopback, link-local and shared addresses, as not public.
fn is_private(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// `url | urlsplit(part)`: Python's urlsplit as a mapping (scheme, netloc,
/// path, query, fragment, username, password, hostname, port), or one part.
fn urlsplit(state: &State, v: &Value, part: Option<String>) -> Result<Value, Error> {
    defined(state, v)?;
    let url = v.as_str().unwrap_or_default();
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r))
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s.to_lowercase(), format!("//{r}"))
        }
        _ => (String::new(), url.to_string()),
    };
    let (rest, fragment) = rest
        .split_once('#')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap_or((rest.clone(), String::new()));
    let (rest, query) = rest
        .split_once('?')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap_or((rest.clone(), String::new()));
    let (netloc, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (r[..i].to_string(), r[i..].to_string()),
            None => (r.to_string(), String::new()),
        },
        None => (String::new(), rest.clone()),
    };
    let (userinfo, hostport) = match netloc.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h.to_string()),
        None => (None, netloc.clone()),
    };
    let (username, password) = match &userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Value::from(a), Value::from(b)),
            None => (Value::from(u.as_str()), Value::from(())),
        },
        None => (Value::from(()), Value::from(())),
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        match h.split_once(']') {
            Some((h, p)) => (h.to_string(), p.strip_prefix(':').unwrap_or("").to_string()),
            None => (h.to_string(), String::new()),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (hostport.clone(), String::new()),
        }
    };
    let port = if port.is_empty() {
        Value::from(())
    } else {
        Value::from(
            port.parse::<u16>()
                .map_err(|_| invalid(format!("urlsplit: bad port in {url:?}")))?,
        )
    };
    let hostname = if host.is_empty() {
        Value::from(())
    } else {
        Value::from(host.to_lowercase())
    };
    let parts = [
        ("fragment", Value::from(fragment)),
        ("hostname", hostname),
        ("netloc", Value::from(netloc)),
        ("password", password),
        ("path", Value::from(path)),
        ("port", port),
        ("query", Value::from(query)),
        ("scheme", Value::from(scheme)),
        ("username", username),
    ];
    match part {
        None => Ok(Value::from(
            parts
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )),
        Some(p) => parts
            .iter()
            .find(|(k, _)| *k == p)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| invalid(format!("urlsplit: unknown URL component: {p}"))),
    }
}
