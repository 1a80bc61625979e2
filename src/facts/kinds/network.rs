//! Interfaces, routes and nameservers, from `ip -j addr`, `ip -j route` (`-6` for IPv6) and resolv.conf.

use super::Kind;
use crate::facts::model::{FactRequest, Facts, Interface, Route, RouteEntry};
use crate::facts::sections::{body, lines, Section};
use serde::Deserialize;

const IP_ADDR: &str = "ip-addr";
const IP_ROUTE: &str = "ip-route";
const IP_ROUTE6: &str = "ip-route6";
const RESOLV: &str = "resolv";

pub(crate) struct Network;

impl Kind for Network {
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!(
            "m {IP_ADDR}; ip -j addr show 2>/dev/null\n\
             m {IP_ROUTE}; ip -j route show 2>/dev/null\n\
             m {IP_ROUTE6}; ip -j -6 route show 2>/dev/null\n\
             m {RESOLV}; [ -r /etc/resolv.conf ] && while read -r k v _; do [ \"$k\" = nameserver ] && printf '%s\\n' \"$v\"; done < /etc/resolv.conf\n"
        ));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        let mut routes = self::routes(body(s, IP_ROUTE), IP_ROUTE)?;
        routes.extend(self::routes(body(s, IP_ROUTE6), IP_ROUTE6)?);
        f.interfaces = interfaces(body(s, IP_ADDR))?;
        f.default_route = default_route(&routes);
        f.routes = routes;
        f.dns = lines(body(s, RESOLV)).collect();
        Ok(())
    }
}

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
    dst: Option<String>,
    gateway: Option<String>,
    dev: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    protocol: Option<String>,
}

/// Interfaces in the kernel's order; empty output (no `ip`) gives none.
pub(crate) fn interfaces(body: &[u8]) -> Result<Vec<Interface>, String> {
    if body.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let links: Vec<Link> = serde_json::from_slice(body)
        .map_err(|e| format!("fact section `{IP_ADDR}`: not the JSON of `ip -j addr`: {e}"))?;
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

/// Every route of one family's main table, in the kernel's order; empty
/// output (no `ip`, IPv6 off) gives none. `section` names the family's
/// section for errors and tells a bare `default` which family it is.
pub(crate) fn routes(body: &[u8], section: &str) -> Result<Vec<RouteEntry>, String> {
    if body.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let v6 = section.ends_with('6');
    let routes: Vec<RouteJson> = serde_json::from_slice(body)
        .map_err(|e| format!("fact section `{section}`: not the JSON of `ip -j route`: {e}"))?;
    Ok(routes
        .into_iter()
        .filter_map(|r| {
            let dst = match r.dst?.as_str() {
                "default" if v6 => "::/0".to_string(),
                "default" => "0.0.0.0/0".to_string(),
                d if d.contains('/') => d.to_string(),
                d if d.contains(':') => format!("{d}/128"),
                d => format!("{d}/32"),
            };
            Some(RouteEntry {
                dst,
                gateway: r.gateway,
                interface: r.dev,
                kind: r.kind.unwrap_or_else(|| "unicast".into()),
                protocol: r.protocol,
            })
        })
        .collect())
}

/// The first IPv4 default route with a device: the kernel lists the
/// preferred (lowest metric) first; a multipath one names no single device.
pub(crate) fn default_route(routes: &[RouteEntry]) -> Option<Route> {
    routes
        .iter()
        .filter(|r| r.dst == "0.0.0.0/0")
        .find_map(|r| {
            Some(Route {
                interface: r.interface.clone()?,
                gateway: r.gateway.clone().unwrap_or_default(),
            })
        })
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
        let only_dst = routes(b"[{\"dst\":\"default\"}]", "ip-route").unwrap();
        assert_eq!(default_route(&only_dst), None);
        assert_eq!(routes(b"\n", "ip-route").unwrap(), []);
    }

    #[test]
    fn routes_get_prefixes_and_defaults_their_family() {
        let v4 = routes(
            br#"[{"dst":"default","gateway":"10.0.0.1","dev":"eth0","protocol":"dhcp","flags":[]},
                {"dst":"10.0.0.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.0.0.11","flags":[]},
                {"type":"blackhole","dst":"10.233.64.0/26","protocol":"bird","flags":[]},
                {"dst":"192.168.9.9","gateway":"10.0.0.1","dev":"eth0","flags":[]},
                {"nexthops":[{"gateway":"10.0.0.2","dev":"eth0"}]}]"#,
            "ip-route",
        )
        .unwrap();
        let dsts: Vec<&str> = v4.iter().map(|r| r.dst.as_str()).collect();
        assert_eq!(
            dsts,
            [
                "0.0.0.0/0",
                "10.0.0.0/24",
                "10.233.64.0/26",
                "192.168.9.9/32"
            ]
        );
        assert_eq!(v4[2].kind, "blackhole");
        assert_eq!(v4[2].interface, None);
        assert_eq!(v4[0].protocol.as_deref(), Some("dhcp"));
        assert_eq!(
            default_route(&v4),
            Some(Route {
                gateway: "10.0.0.1".into(),
                interface: "eth0".into()
            })
        );
        let v6 = routes(
            br#"[{"dst":"fd00::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
                {"dst":"default","gateway":"fd00::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"},
                {"dst":"fd00::5","dev":"eth0","flags":[]}]"#,
            "ip-route6",
        )
        .unwrap();
        let dsts: Vec<&str> = v6.iter().map(|r| r.dst.as_str()).collect();
        assert_eq!(dsts, ["fd00::/64", "::/0", "fd00::5/128"]);
        assert_eq!(default_route(&v6), None, "the default route fact is IPv4");
    }

    #[test]
    fn broken_json_names_its_section() {
        assert!(interfaces(b"[{").unwrap_err().contains("ip-addr"));
        assert!(routes(b"nope", "ip-route6")
            .unwrap_err()
            .contains("`ip-route6`"));
    }
}

#[cfg(test)]
mod kind_tests {
    use super::super::test_kit::read;
    use super::*;

    /// (sections, interface names, default gateway, route count, nameservers)
    #[test]
    fn network_sections_from_fixtures() {
        type Row<'a> = (
            &'a [(&'a str, &'a str)],
            &'a [&'a str],
            Option<&'a str>,
            usize,
            &'a [&'a str],
        );
        let table: &[Row] = &[
            (&[], &[], None, 0, &[]),
            (
                &[
                    (
                        IP_ADDR,
                        r#"[{"ifname":"lo","flags":["UP"]},{"ifname":"eth0","flags":["UP"],"addr_info":[{"local":"10.0.0.5","prefixlen":24}]}]"#,
                    ),
                    (
                        IP_ROUTE,
                        r#"[{"dst":"default","gateway":"10.0.0.1","dev":"eth0"}]"#,
                    ),
                    (IP_ROUTE6, r#"[{"dst":"fe80::/64","dev":"eth0"}]"#),
                    (RESOLV, "10.0.0.2\n1.1.1.1\n"),
                ],
                &["lo", "eth0"],
                Some("10.0.0.1"),
                2,
                &["10.0.0.2", "1.1.1.1"],
            ),
        ];
        for (sections, names, gateway, routes, dns) in table {
            let f = read(&Network, sections, &[]).unwrap();
            let got: Vec<&str> = f.interfaces.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(&got, names);
            assert_eq!(
                f.default_route.as_ref().map(|r| r.gateway.as_str()),
                *gateway
            );
            assert_eq!(f.routes.len(), *routes);
            assert_eq!(&f.dns, dns);
        }
        for bad in [IP_ADDR, IP_ROUTE, IP_ROUTE6] {
            let err = read(&Network, &[(bad, "{\n")], &[]).unwrap_err();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }
}
