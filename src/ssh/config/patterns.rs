//! `*`/`?` wildcard patterns and pattern lists, and whether a `Host` or `Match` line applies.

use super::{Criterion, CriterionKind};

/// Whether a `Host` line applies: some pattern matches the alias and no negated one does.
pub(super) fn host_line_matches(patterns: &[(bool, String)], alias: &str) -> bool {
    let mut matched = false;
    for (negated, pattern) in patterns {
        // Case-sensitive on purpose: `ssh -G FOO` does not apply `Host foo`.
        if wildcard_match(pattern, alias) {
            if *negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

/// Whether a `Match` line applies: every criterion holds. `current_host` is the HostName
/// obtained so far (with `%h` expanded), or the alias when there is none yet.
pub(super) fn match_line_matches(criteria: &[Criterion], alias: &str, current_host: &str) -> bool {
    criteria.iter().all(|c| {
        let hit = match &c.kind {
            CriterionKind::All => true,
            CriterionKind::Host(list) => {
                match_pattern_list(current_host, list) == ListMatch::Positive
            }
            CriterionKind::OriginalHost(list) => {
                match_pattern_list(alias, list) == ListMatch::Positive
            }
            CriterionKind::Unsupported => return false,
        };
        hit != c.negated
    })
}

/// Result of matching against a comma-separated pattern list (OpenSSH match_pattern_list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListMatch {
    NoMatch,
    Positive,
    /// A `!pattern` matched: the list rejects the string whatever else matches.
    Negated,
}

/// Case-insensitive (ASCII) match of `s` against a comma-separated list of `*`/`?` patterns,
/// some possibly `!`-negated.
pub(crate) fn match_pattern_list(s: &str, list: &str) -> ListMatch {
    let s = s.to_ascii_lowercase();
    let mut result = ListMatch::NoMatch;
    for sub in list.split(',') {
        let (negated, pattern) = match sub.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, sub),
        };
        if wildcard_match(&pattern.to_ascii_lowercase(), &s) {
            if negated {
                return ListMatch::Negated;
            }
            result = ListMatch::Positive;
        }
    }
    result
}

/// `*` matches any run of characters, `?` exactly one; everything else is literal.
/// Greedy with single-star backtracking: linear-ish, so hostile patterns cannot blow up.
pub(crate) fn wildcard_match(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_and_pattern_lists() {
        let cases = [
            ("*", "", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("?.lan", "a.lan", true),
            ("?.lan", "ab.lan", false),
            (
                "*a*a*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("10.0.*", "10.0.3.4", true),
        ];
        for (p, s, want) in cases {
            assert_eq!(wildcard_match(p, s), want, "{p} vs {s}");
        }
        assert_eq!(match_pattern_list("GW.lan", "*.LAN"), ListMatch::Positive);
        assert_eq!(
            match_pattern_list("gw.lan", "*.lan,!gw.*"),
            ListMatch::Negated
        );
        assert_eq!(match_pattern_list("x", "a,b"), ListMatch::NoMatch);
    }
}
