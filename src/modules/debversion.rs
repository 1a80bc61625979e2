//! Debian version strings: dpkg's ordering and Ansible's `pkg=1.2*` matching.

use std::cmp::Ordering;

/// Compare two Debian versions as `dpkg --compare-versions` does
/// (epoch, then upstream version, then revision; `~` sorts before anything).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| compare_part(ua, ub))
        .then_with(|| compare_part(ra, rb))
}

fn split(v: &str) -> (u64, &str, &str) {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(u64::MAX), r)
        }
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((u, r)) => (epoch, u, r),
        None => (epoch, rest, ""),
    }
}

/// dpkg's weight of a non-digit character: `~` first, then the end of the
/// string, then letters, then everything else.
fn order(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(c) => c as i32 + 256,
    }
}

fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefix, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            let (oa, ob) = (order(ca), order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            if ca.is_some() {
                i += 1;
            }
            if cb.is_some() {
                j += 1;
            }
        }
        // Then the digit run, as a number (leading zeros ignored).
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let na = trim_zeros(&a[si..i]);
        let nb = trim_zeros(&b[sj..j]);
        let c = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    &d[n..]
}

/// Whether `installed` matches the requested `want`: exact, or a shell
/// glob (`1.30.*`) as Ansible's apt matches `pkg=1.30*` with fnmatch.
pub fn matches(installed: &str, want: &str) -> bool {
    if !want.contains(['*', '?', '[']) {
        return installed == want;
    }
    glob(installed.as_bytes(), want.as_bytes())
}

fn glob(s: &[u8], p: &[u8]) -> bool {
    // Iterative matcher with one backtrack point: linear enough for versions.
    let (mut si, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    si += 1;
                    pi += 1;
                    continue;
                }
                b'[' => {
                    if let Some((hit, next)) = class(s[si], &p[pi..]) {
                        if hit {
                            si += 1;
                            pi += next;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        si += 1;
                        pi += 1;
                        continue;
                    }
                }
                c if c == s[si] => {
                    si += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// Match `c` against the class at the start of `p` (`[...]`); None when the
/// class is not closed (then `[` is literal). Returns (hit, class length).
fn class(c: u8, p: &[u8]) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == b']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn dpkg_ordering() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.1", Less),
            ("1.10", "1.9", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0+b1", Less),
            ("1:1.0", "2.0", Greater),
            ("1.30.2-1.1", "1.30.10-1.1", Less),
            ("1.30.2-1.1", "1.30.2-1.2", Less),
            ("1.6.20~ds1-1", "1.6.20-1", Less),
            ("007", "7", Equal),
            ("1.0a", "1.0", Greater),
            ("1.0-1", "1.0", Greater),
            ("", "0", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn glob_matching() {
        assert!(matches("1.30.2-1.1", "1.30.2-1.1"));
        assert!(!matches("1.30.2-1.1", "1.30.2"));
        assert!(matches("1.30.2-1.1", "1.30.*"));
        assert!(matches("1.30.2-1.1", "1.30.?-*"));
        assert!(!matches("1.31.0-1.1", "1.30*"));
        assert!(matches("1.30.2", "1.30.[0-3]"));
        assert!(!matches("1.30.5", "1.30.[!5]"));
        assert!(matches("a[b", "a[b"));
        assert!(matches("x", "*"));
    }
}
