//! Facts under the names Ansible's setup module gives them, so playbooks written for Ansible work.
//!
//! Types follow Ansible too: counts and sizes are numbers, but `prefix` and
//! the `date_time` values are strings, as setup prints them.

use super::model::{Facts, Interface};
use serde_json::{json, Map, Value};
use std::net::{IpAddr, Ipv4Addr};

/// `ansible_*` variables, plus all of them again without the prefix under
/// `ansible_facts`, as JSON: the reference form the tests check facts (and
/// the runner's shared form, `playbook::session::fact_values`) against.
#[cfg(test)]
pub fn to_ansible_vars(f: &Facts) -> Map<String, Value> {
    let facts = ansible_facts(f);
    let mut vars: Map<String, Value> = facts
        .iter()
        .map(|(k, v)| (format!("ansible_{k}"), v.clone()))
        .collect();
    vars.insert("ansible_facts".into(), Value::Object(facts));
    vars
}

/// The facts without their `ansible_` prefix: what `ansible_facts` holds.
pub fn ansible_facts(f: &Facts) -> Map<String, Value> {
    let mut m = Map::new();
    // Interfaces first, so a strangely named one cannot shadow a base fact.
    for i in &f.interfaces {
        m.insert(interface_key(&i.name), interface(i));
    }
    let short = f.hostname.split('.').next().unwrap_or_default();
    let major = f.os.version_id.split('.').next().unwrap_or_default();
    let v4: Vec<(Ipv4Addr, u8)> = f.interfaces.iter().flat_map(ipv4s).collect();
    let v6: Vec<String> = f
        .interfaces
        .iter()
        .flat_map(|i| &i.addresses)
        .filter_map(|a| a.split_once('/'))
        .filter(|(a, _)| {
            a.parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_ipv6() && !ip.is_loopback())
        })
        .map(|(a, _)| a.to_string())
        .collect();
    let base = json!({
        "hostname": short,
        "nodename": f.hostname,
        "fqdn": f.hostname,
        "distribution": distribution(&f.os.id),
        "distribution_version": f.os.version_id,
        "distribution_major_version": major,
        "distribution_release": f.os.codename,
        "os_family": os_family(&f.os.id),
        "machine_id": f.machine_id,
        "product_uuid": f.product_uuid.as_deref().unwrap_or("NA"),
        "processor_vcpus": f.cpus,
        "processor_nproc": f.cpus,
        "memtotal_mb": f.memory_mb,
        // After `swapoff -a` the kernel's total is 0 whatever meminfo said.
        "swaptotal_mb": if f.swaps.is_empty() { 0 } else { f.swap_total_mb },
        "default_ipv4": default_ipv4(f),
        "interfaces": f.interfaces.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        "all_ipv4_addresses": v4.iter().filter(|(a, _)| !a.is_loopback())
            .map(|(a, _)| a.to_string()).collect::<Vec<_>>(),
        "all_ipv6_addresses": v6,
        "dns": { "nameservers": f.dns },
        "date_time": { "epoch": f.time.to_string(), "epoch_int": f.time.to_string() },
    });
    if let Value::Object(base) = base {
        m.extend(base);
    }
    m
}

/// Ansible's key for an interface: `br-1a2b` becomes `br_1a2b`, `flannel.1` `flannel_1`.
fn interface_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn ipv4s(i: &Interface) -> Vec<(Ipv4Addr, u8)> {
    i.addresses
        .iter()
        .filter_map(|a| {
            let (ip, prefix) = a.split_once('/')?;
            Some((ip.parse().ok()?, prefix.parse().ok().filter(|p| *p <= 32)?))
        })
        .collect()
}

/// `{address, netmask, network, prefix}` as Ansible prints an IPv4 address.
fn ipv4_fields(addr: Ipv4Addr, prefix: u8) -> Map<String, Value> {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    let network = Ipv4Addr::from(u32::from(addr) & mask);
    let mut m = Map::new();
    m.insert("address".into(), json!(addr.to_string()));
    m.insert("netmask".into(), json!(Ipv4Addr::from(mask).to_string()));
    m.insert("network".into(), json!(network.to_string()));
    m.insert("prefix".into(), json!(prefix.to_string()));
    m
}

fn interface(i: &Interface) -> Value {
    let mut m = Map::new();
    m.insert("device".into(), json!(i.name));
    m.insert("active".into(), json!(i.up));
    if let Some(mac) = &i.mac {
        m.insert("macaddress".into(), json!(mac));
    }
    if let Some(mtu) = i.mtu {
        m.insert("mtu".into(), json!(mtu));
    }
    let v4 = ipv4s(i);
    if let Some((addr, prefix)) = v4.first() {
        m.insert("ipv4".into(), Value::Object(ipv4_fields(*addr, *prefix)));
    }
    if v4.len() > 1 {
        let more: Vec<Value> = v4[1..]
            .iter()
            .map(|(a, p)| Value::Object(ipv4_fields(*a, *p)))
            .collect();
        m.insert("ipv4_secondaries".into(), Value::Array(more));
    }
    let v6: Vec<Value> = i
        .addresses
        .iter()
        .filter_map(|a| a.split_once('/'))
        .filter(|(a, _)| a.contains(':'))
        .map(|(a, p)| json!({ "address": a, "prefix": p }))
        .collect();
    if !v6.is_empty() {
        m.insert("ipv6".into(), Value::Array(v6));
    }
    Value::Object(m)
}

/// The default route's interface and its first IPv4 address; `{}` without one, as Ansible.
fn default_ipv4(f: &Facts) -> Value {
    let Some(route) = &f.default_route else {
        return json!({});
    };
    let Some(i) = f.interfaces.iter().find(|i| i.name == route.interface) else {
        return json!({ "interface": route.interface, "gateway": route.gateway });
    };
    let mut m = ipv4s(i)
        .first()
        .map(|(a, p)| ipv4_fields(*a, *p))
        .unwrap_or_default();
    m.insert("interface".into(), json!(i.name));
    m.insert("alias".into(), json!(i.name));
    m.insert("gateway".into(), json!(route.gateway));
    if let Some(mac) = &i.mac {
        m.insert("macaddress".into(), json!(mac));
    }
    if let Some(mtu) = i.mtu {
        m.insert("mtu".into(), json!(mtu));
    }
    Value::Object(m)
}

/// Ansible's spelling of os-release's ID.
fn distribution(id: &str) -> String {
    match id {
        "debian" => "Debian".into(),
        "ubuntu" => "Ubuntu".into(),
        "linuxmint" => "Linux Mint".into(),
        "pop" => "Pop!_OS".into(),
        "centos" => "CentOS".into(),
        "rhel" => "RedHat".into(),
        "opensuse-leap" | "opensuse" => "openSUSE Leap".into(),
        "sles" => "SLES".into(),
        "" => "NA".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|first| first.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

fn os_family(id: &str) -> &'static str {
    match id {
        "debian" | "ubuntu" | "raspbian" | "linuxmint" | "pop" | "kali" | "devuan" | "neon" => {
            "Debian"
        }
        "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "ol" | "amzn" => "RedHat",
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" | "sles" => "Suse",
        "arch" | "manjaro" => "Archlinux",
        "alpine" => "Alpine",
        _ => "NA",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Route;

    fn host() -> Facts {
        Facts {
            hostname: "node1.lab.example".into(),
            os: crate::facts::OsInfo {
                id: "debian".into(),
                version_id: "12".into(),
                codename: "bookworm".into(),
                ..Default::default()
            },
            interfaces: vec![Interface {
                name: "br-1a".into(),
                mac: Some("02:00:00:00:00:01".into()),
                mtu: Some(1500),
                up: true,
                addresses: vec![
                    "10.0.0.11/24".into(),
                    "10.0.0.12/24".into(),
                    "fe80::1/64".into(),
                ],
            }],
            default_route: Some(Route {
                gateway: "10.0.0.1".into(),
                interface: "br-1a".into(),
            }),
            swap_total_mb: 2048,
            ..Default::default()
        }
    }

    #[test]
    fn names_and_shapes_match_ansible() {
        let v = to_ansible_vars(&host());
        assert_eq!(v["ansible_hostname"], "node1");
        assert_eq!(v["ansible_nodename"], "node1.lab.example");
        assert_eq!(v["ansible_distribution"], "Debian");
        assert_eq!(v["ansible_os_family"], "Debian");
        assert_eq!(v["ansible_product_uuid"], "NA");
        assert_eq!(v["ansible_swaptotal_mb"], 0, "no active swap");
        let d = &v["ansible_default_ipv4"];
        assert_eq!(d["address"], "10.0.0.11");
        assert_eq!(d["netmask"], "255.255.255.0");
        assert_eq!(d["network"], "10.0.0.0");
        assert_eq!(d["prefix"], "24");
        assert_eq!(d["gateway"], "10.0.0.1");
        let i = &v["ansible_br_1a"];
        assert_eq!(i["device"], "br-1a");
        assert_eq!(i["ipv4_secondaries"][0]["address"], "10.0.0.12");
        assert_eq!(i["ipv6"][0]["prefix"], "64");
        assert_eq!(v["ansible_facts"]["br_1a"], *i);
        assert_eq!(v["ansible_facts"]["default_ipv4"], *d);
        assert!(!v["ansible_facts"]
            .as_object()
            .unwrap()
            .contains_key("ansible_hostname"));
    }

    #[test]
    fn odd_prefixes_do_not_panic() {
        let mut f = host();
        f.interfaces[0].addresses = vec!["10.0.0.1/0".into(), "10.0.0.2/99".into(), "x/y".into()];
        let v = to_ansible_vars(&f);
        assert_eq!(v["ansible_default_ipv4"]["netmask"], "0.0.0.0");
        assert_eq!(
            to_ansible_vars(&Facts::default())["ansible_default_ipv4"],
            json!({})
        );
    }
}
