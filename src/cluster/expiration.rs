//! `kubeadm certs check-expiration`'s text output read into typed rows: the certificates table and the certificate authorities table.
//!
//! kubeadm prints both tables with Go's tabwriter (columns padded by at
//! least three spaces, trailing spaces kept), after a few `[check-expiration]`
//! lines about where it read its configuration:
//!
//! ```text
//! CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
//! admin.conf                 Dec 30, 2020 23:36 UTC   364d            ca                      no
//! !MISSING! front-proxy-client
//!
//! CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
//! ca                      Dec 28, 2029 23:36 UTC   9y              no
//! ```
//!
//! RESIDUAL TIME is apimachinery's short human duration (`59s`, `59m`,
//! `23h`, `364d`, `9y`; `<invalid>` once expired); EXPIRES is UTC.

use crate::utc;

/// One row of either table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// kubeadm's name: `apiserver`, `admin.conf`, `etcd-ca` …
    pub name: String,
    /// Seconds since the epoch; None when kubeadm found no such file.
    pub expires: Option<i64>,
    pub residual: Residual,
    /// The CA that signed it (certificates only; None for a CA or a missing one).
    pub authority: Option<String>,
    /// kubeadm cannot renew it: its CA's key is not on this host.
    pub externally_managed: bool,
}

/// The RESIDUAL TIME column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Residual {
    /// About this many seconds left, at the column's precision (`364d`).
    Left(u64),
    /// `<invalid>`: already expired.
    Invalid,
    /// `!MISSING!`: kubeadm expected the file and found none.
    Missing,
}

/// Both tables of one host's output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expirations {
    pub certificates: Vec<Expiry>,
    pub authorities: Vec<Expiry>,
}

/// A line of the output that is not what kubeadm prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpirationError {
    #[error("line {line}: {problem}: `{text}`")]
    Row {
        line: usize,
        text: String,
        problem: &'static str,
    },
    #[error("no CERTIFICATE table in kubeadm's output")]
    NoTable,
}

#[derive(Clone, Copy, PartialEq)]
enum Table {
    None,
    Certificates,
    Authorities,
}

/// Read kubeadm's output (stdout) into both tables.
pub fn parse(output: &str) -> Result<Expirations, ExpirationError> {
    let mut out = Expirations::default();
    let mut table = Table::None;
    let mut seen_table = false;
    for (i, raw) in output.lines().enumerate() {
        let line = raw.trim_end();
        let cols: Vec<&str> = columns(line);
        match cols.first().copied() {
            None => table = Table::None,
            Some("CERTIFICATE") => {
                table = Table::Certificates;
                seen_table = true;
            }
            Some("CERTIFICATE AUTHORITY") => {
                table = Table::Authorities;
                seen_table = true;
            }
            Some(_) if table == Table::None => {}
            Some(first) => {
                let bad = |problem| ExpirationError::Row {
                    line: i + 1,
                    text: line.to_string(),
                    problem,
                };
                let row = match first.strip_prefix("!MISSING! ") {
                    Some(name) => missing(name),
                    None => row(&cols, table == Table::Certificates).map_err(bad)?,
                };
                match table {
                    Table::Certificates => out.certificates.push(row),
                    _ => out.authorities.push(row),
                }
            }
        }
    }
    if seen_table {
        Ok(out)
    } else {
        Err(ExpirationError::NoTable)
    }
}

/// A line's columns: runs of two or more spaces (or a tab) split them, so
/// EXPIRES (`Dec 30, 2020 23:36 UTC`) stays one.
fn columns(line: &str) -> Vec<&str> {
    let mut cols = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let b = rest.as_bytes();
        let end = (0..b.len())
            .find(|&i| b[i] == b'\t' || (b[i] == b' ' && b.get(i + 1) == Some(&b' ')))
            .unwrap_or(b.len());
        cols.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    cols
}

fn missing(name: &str) -> Expiry {
    Expiry {
        name: name.trim().to_string(),
        expires: None,
        residual: Residual::Missing,
        authority: None,
        externally_managed: false,
    }
}

fn row(cols: &[&str], with_authority: bool) -> Result<Expiry, &'static str> {
    let want = if with_authority { 5 } else { 4 };
    if cols.len() != want {
        return Err("not a row of kubeadm's table");
    }
    let expires = expires(cols[1]).ok_or("EXPIRES is not a date like `Dec 30, 2020 23:36 UTC`")?;
    let residual = residual(cols[2]).ok_or("RESIDUAL TIME is not like `364d` or `<invalid>`")?;
    let external = match cols[want - 1] {
        "yes" => true,
        "no" => false,
        _ => return Err("EXTERNALLY MANAGED is neither yes nor no"),
    };
    Ok(Expiry {
        name: cols[0].to_string(),
        expires: Some(expires),
        residual,
        authority: with_authority.then(|| cols[3].to_string()),
        externally_managed: external,
    })
}

/// `Dec 30, 2020 23:36 UTC`
fn expires(text: &str) -> Option<i64> {
    let mut w = text.split(' ');
    let month = utc::month(w.next()?)?;
    let day = w.next()?.strip_suffix(',')?.parse().ok()?;
    let year = w.next()?.parse().ok()?;
    let (h, m) = w.next()?.split_once(':')?;
    (w.next()? == "UTC" && w.next().is_none()).then_some(())?;
    utc::seconds(year, month, day, h.parse().ok()?, m.parse().ok()?, 0)
}

fn residual(text: &str) -> Option<Residual> {
    if text == "<invalid>" {
        return Some(Residual::Invalid);
    }
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    let n: u64 = text[..text.len() - 1].parse().ok()?;
    Some(Residual::Left(n * unit))
}

#[cfg(test)]
mod tests;
