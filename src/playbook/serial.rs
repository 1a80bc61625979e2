//! `serial`: a play's hosts in batches, each running the whole play (handlers included) before the next, as Ansible's.

use serde_yaml::Value as Yaml;

use super::fields::show;

/// One batch size as written: a number of hosts or a percentage of the play's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Serial {
    Hosts(i64),
    Percent(f64),
}

/// `serial: 2`, `serial: "30%"`, or a list of them (the last repeats).
pub fn parse(v: &Yaml) -> Result<Vec<Serial>, String> {
    let one = |v: &Yaml| -> Result<Serial, String> {
        let bad = || {
            format!(
                "`serial` must be a number of hosts, a percentage or a list of them, got `{}`",
                show(v)
            )
        };
        match v {
            Yaml::Number(n) => n.as_i64().map(Serial::Hosts).ok_or_else(bad),
            Yaml::String(s) => {
                let s = s.trim();
                match s.strip_suffix('%') {
                    Some(p) => p
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|p| p.is_finite())
                        .map(Serial::Percent)
                        .ok_or_else(bad),
                    None => s.parse().map(Serial::Hosts).map_err(|_| bad()),
                }
            }
            _ => Err(bad()),
        }
    };
    match v {
        Yaml::Sequence(items) if items.is_empty() => Ok(Vec::new()),
        Yaml::Sequence(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

/// The sizes of the batches `total` hosts run in: a percentage is of all
/// the play's hosts (at least one); zero or less (and no `serial`) is all
/// that are left; the last size repeats — as ansible-core's
/// `_get_serialized_batches`.
pub fn batch_sizes(sizes: &[Serial], total: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = total;
    let mut at = 0;
    while left > 0 {
        let n = match sizes.get(at) {
            None => 0,
            Some(Serial::Hosts(n)) => *n,
            Some(Serial::Percent(p)) => {
                let n = (p / 100.0 * total as f64) as i64;
                if n == 0 {
                    1
                } else {
                    n
                }
            }
        };
        let n = if n <= 0 { left } else { (n as usize).min(left) };
        out.push(n);
        left -= n;
        if at + 1 < sizes.len() {
            at += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Yaml {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn batches_are_ansibles() {
        use Serial::{Hosts, Percent};
        // (serial, hosts, batch sizes) — checked against ansible-core's
        // _get_serialized_batches.
        let cases: &[(&[Serial], usize, &[usize])] = &[
            (&[], 5, &[5]),
            (&[Hosts(1)], 3, &[1, 1, 1]),
            (&[Hosts(2)], 5, &[2, 2, 1]),
            (&[Hosts(0)], 4, &[4]),
            (&[Hosts(10)], 3, &[3]),
            (&[Percent(30.0)], 10, &[3, 3, 3, 1]),
            (&[Percent(10.0)], 4, &[1, 1, 1, 1]),
            (&[Hosts(1), Hosts(5), Percent(50.0)], 20, &[1, 5, 10, 4]),
            (&[Hosts(1), Hosts(2)], 6, &[1, 2, 2, 1]),
            (&[Hosts(3)], 0, &[]),
        ];
        for (serial, total, want) in cases {
            assert_eq!(batch_sizes(serial, *total), *want, "{serial:?} of {total}");
        }
    }

    #[test]
    fn serial_is_read_as_ansible_writes_it() {
        use Serial::{Hosts, Percent};
        let cases: &[(&str, Result<Vec<Serial>, &str>)] = &[
            ("2", Ok(vec![Hosts(2)])),
            ("'30%'", Ok(vec![Percent(30.0)])),
            ("'3'", Ok(vec![Hosts(3)])),
            ("[1, '50%', 10]", Ok(vec![Hosts(1), Percent(50.0), Hosts(10)])),
            (
                "many",
                Err("`serial` must be a number of hosts, a percentage or a list of them, got `many`"),
            ),
            (
                "1.5",
                Err("`serial` must be a number of hosts, a percentage or a list of them, got `1.5`"),
            ),
            (
                "{a: 1}",
                Err("`serial` must be a number of hosts, a percentage or a list of them, got `{\"a\":1}`"),
            ),
        ];
        for (text, want) in cases {
            let got = parse(&yaml(text));
            assert_eq!(got, want.clone().map_err(String::from), "{text}");
        }
    }
}
