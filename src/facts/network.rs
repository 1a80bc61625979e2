//! Interfaces and the default route, from `ip -j addr` and `ip -j route show default`.

use super::model::{Interface, Route};
use serde::Deserialize;

#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    ifname: String,
    #[serde(default)]
    flags: Vec<String>,
    mtu: Option<u32>,
    address: Option<String>,
    #[serde(default)]
    addr_info: Vec<Addr>,
}

#[derive(Deserialize)]
struct Addr {
    local: Option<String>,
    prefixlen: Option<u8>,
}

#[derive(Deserialize)]
struct RouteJson {
    gateway: Option<String>,
    dev: Option<String>,
}

/// Interfaces in the kernel's order; empty output (no `ip`) gives none.
pub(crate) fn interfaces(body: &[u8]) -> Result<Vec<Interface>, String> {
    if body.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let links: Vec<Link> = serde_json::from_slice(body)
        .map_err(|e| format!("fact section `ip-addr`: not the JSON of `ip -j addr`: {e}"))?;
    Ok(links
        .into_iter()
        // Some iproute2 versions print `{}` for links of other namespaces.
        .filter(|l| !l.ifname.is_empty())
        .map(|l| Interface {
            up: l.flags.iter().any(|f| f == "UP"),
            addresses: l
                .addr_info
                .iter()
                .filter_map(|a| Some(format!("{}/{}", a.local.as_ref()?, a.prefixlen?)))
                .collect(),
            name: l.ifname,
            mac: l.address.filter(|a| !a.is_empty()),
            mtu: l.mtu,
        })
        .collect())
}

/// The first default route: the kernel lists the preferred (lowest metric) first.
pub(crate) fn default_route(body: &[u8]) -> Result<Option<Route>, String> {
    if body.trim_ascii().is_empty() {
        return Ok(None);
    }
    let routes: Vec<RouteJson> = serde_json::from_slice(body).map_err(|e| {
        format!("fact section `ip-route`: not the JSON of `ip -j route show default`: {e}")
    })?;
    Ok(routes.into_iter().find_map(|r| {
        Some(Route {
            interface: r.dev?,
            gateway: r.gateway.unwrap_or_default(),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_but_valid_json_is_taken_as_far_as_it_goes() {
        let i = interfaces(br#"[{}, {"ifname":"wg0","flags":["POINTOPOINT"],"addr_info":[{}]}]"#)
            .unwrap();
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].name, "wg0");
        assert!(!i[0].up);
        assert!(i[0].addresses.is_empty());
        assert_eq!(default_route(b"[{\"dst\":\"default\"}]").unwrap(), None);
        assert_eq!(default_route(b"\n").unwrap(), None);
    }

    #[test]
    fn broken_json_names_its_section() {
        assert!(interfaces(b"[{").unwrap_err().contains("ip-addr"));
        assert!(default_route(b"nope").unwrap_err().contains("ip-route"));
    }
}
