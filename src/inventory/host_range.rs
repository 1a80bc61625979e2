//! Expand Ansible host ranges: `node[1:3]`, `node[01:10]`, `rack[a:c]`, `node[1:10:2]`.
//!
//! Follows Ansible's `expand_hostname_range`, but rejects what Ansible
//! silently turns into zero hosts (a reversed range), because an inventory
//! that quietly loses nodes is worse than one that does not load.

use serde_json::Value;

/// More hosts than any cluster kubestrap bootstraps; stops `node[0:99999999]`
/// from eating the operator's memory.
const MAX_HOSTS: usize = 10_000;

/// A host range that stands for no list of hosts.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad host range {pattern:?}: {problem}")]
pub struct RangeError {
    pub pattern: String,
    pub problem: RangeProblem,
}

/// What is wrong with a host range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeProblem {
    #[error("'[' without a closing ']'")]
    Unclosed,
    #[error("a range is [begin:end] or [begin:end:step]")]
    Shape,
    #[error("the range has no end value")]
    NoEnd,
    #[error("the step must be a positive whole number")]
    Step,
    #[error("begin must not come after end")]
    LettersReversed,
    #[error("begin and end must both be numbers or both single letters")]
    Mixed,
    #[error("begin must not be greater than end")]
    NumbersReversed,
    #[error("zero-padded begin and end must have the same width")]
    Width,
    #[error("expands to more than {MAX_HOSTS} hosts")]
    TooMany,
}

/// Every host name a pattern stands for; a pattern without `[` is itself.
pub fn expand(pattern: &str) -> Result<Vec<String>, RangeError> {
    let mut out = Vec::new();
    expand_into(pattern, pattern, &mut out)?;
    Ok(out)
}

fn expand_into(whole: &str, pattern: &str, out: &mut Vec<String>) -> Result<(), RangeError> {
    let Some(open) = pattern.find('[') else {
        out.push(pattern.to_string());
        return Ok(());
    };
    let bad = |problem| {
        Err(RangeError {
            pattern: whole.to_string(),
            problem,
        })
    };
    let Some(close_rel) = pattern[open..].find(']') else {
        return bad(RangeProblem::Unclosed);
    };
    let close = open + close_rel;
    let (head, spec, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let bounds: Vec<&str> = spec.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return bad(RangeProblem::Shape);
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return bad(RangeProblem::NoEnd);
    }
    let step = match bounds.get(2) {
        None => 1,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return bad(RangeProblem::Step),
        },
    };
    let items: Vec<String> = if is_letter(beg) && is_letter(end) {
        let (b, e) = (beg.as_bytes()[0], end.as_bytes()[0]);
        if letter_index(b) > letter_index(e) {
            return bad(RangeProblem::LettersReversed);
        }
        // Ansible walks string.ascii_letters, so [x:B] runs on into capitals.
        LETTERS[letter_index(b)..=letter_index(e)]
            .iter()
            .step_by(step)
            .map(|c| (*c as char).to_string())
            .collect()
    } else {
        let (Ok(b), Ok(e)) = (beg.parse::<u64>(), end.parse::<u64>()) else {
            return bad(RangeProblem::Mixed);
        };
        if b > e {
            return bad(RangeProblem::NumbersReversed);
        }
        // A leading zero asks for zero-padded names of the same width.
        let width = if beg.len() > 1 && beg.starts_with('0') {
            if beg.len() != end.len() {
                return bad(RangeProblem::Width);
            }
            beg.len()
        } else {
            0
        };
        if (e - b) / step as u64 >= MAX_HOSTS as u64 {
            return bad(RangeProblem::TooMany);
        }
        (b..=e)
            .step_by(step)
            .map(|n| format!("{n:0width$}"))
            .collect()
    };
    for item in items {
        if out.len() >= MAX_HOSTS {
            return bad(RangeProblem::TooMany);
        }
        expand_into(whole, &format!("{head}{item}{tail}"), out)?;
    }
    Ok(())
}

/// Split `host:port` and `[v6addr]:port`; a colon inside a range's brackets is not a port.
pub fn split_port(pattern: &str) -> (&str, Option<Value>) {
    let port_of = |digits: &str| -> Option<Value> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(match digits.parse::<u64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(digits.to_string()),
        })
    };
    if let Some(rest) = pattern.strip_prefix('[') {
        if let Some((inner, digits)) = rest.rsplit_once("]:") {
            if let Some(p) = port_of(digits) {
                return (inner, Some(p));
            }
        }
    }
    // The host part may contain `[a:b]` ranges but no other colon.
    let mut depth = 0i32;
    let mut colons = Vec::new();
    for (i, c) in pattern.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => colons.push(i),
            _ => {}
        }
    }
    if let [i] = colons[..] {
        if let Some(p) = port_of(&pattern[i + 1..]) {
            return (&pattern[..i], Some(p));
        }
    }
    (pattern, None)
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn is_letter(s: &str) -> bool {
    s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic()
}

fn letter_index(c: u8) -> usize {
    LETTERS.iter().position(|&l| l == c).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{expand, split_port};

    #[test]
    fn numeric_alpha_padded_and_stride() {
        assert_eq!(expand("node[1:3]").unwrap(), ["node1", "node2", "node3"]);
        assert_eq!(expand("n[08:10]").unwrap(), ["n08", "n09", "n10"]);
        assert_eq!(expand("r[a:c]x").unwrap(), ["rax", "rbx", "rcx"]);
        assert_eq!(expand("n[1:10:4]").unwrap(), ["n1", "n5", "n9"]);
        assert_eq!(expand("[a:b][1:2]").unwrap(), ["a1", "a2", "b1", "b2"]);
        assert_eq!(expand("plain").unwrap(), ["plain"]);
    }

    #[test]
    fn rejects_bad_ranges() {
        assert_eq!(
            expand("node[3:1]").unwrap_err().to_string(),
            "bad host range \"node[3:1]\": begin must not be greater than end"
        );
        assert!(expand("n[1:2:0]").is_err());
        assert!(expand("n[01:100]").is_err());
        assert!(expand("n[1:x]").is_err());
        assert!(expand("n[1:3").is_err());
        assert!(expand("n[0:99999999]").is_err());
    }

    #[test]
    fn ports_split_outside_ranges() {
        assert_eq!(split_port("node1:2222").0, "node1");
        assert_eq!(split_port("node[1:3]").0, "node[1:3]");
        assert_eq!(split_port("node[1:3]:2222").0, "node[1:3]");
        assert_eq!(split_port("[fe80::1]:22").0, "fe80::1");
        assert_eq!(split_port("fe80::1").0, "fe80::1");
    }
}
