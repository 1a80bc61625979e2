//! Parsing config lines into items: keyword and argument splitting, quoting, value checks.
//!
//! Quoting follows OpenSSH's argv_split; values are validated here, so malformed lines are
//! errors whether or not their block ever applies.

use super::expand::validate_tokens;
use super::jump::parse_port;
use super::{Criterion, CriterionKind, Item, JumpHost, Setting};

/// Splits a line into its lowercased keyword and arguments; `None` for blank/comment lines.
pub(super) fn split_line(line: &str) -> Result<Option<(String, Vec<String>)>, String> {
    const WS: &[char] = &[' ', '\t', '\r', '\n', '\x0c'];
    let line = line.trim_matches(WS);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line
        .find(|c: char| WS.contains(&c) || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..end].to_ascii_lowercase();
    // Whitespace, or optional whitespace and exactly one '=' (ssh_config(5)).
    let rest = line[end..].trim_start_matches(WS);
    let rest = rest
        .strip_prefix('=')
        .unwrap_or(rest)
        .trim_start_matches(WS);
    let args = split_args(rest).ok_or_else(|| "invalid quotes".to_string())?;
    if args.is_empty() {
        return Err(format!("no argument after keyword \"{keyword}\""));
    }
    Ok(Some((keyword, args)))
}

/// OpenSSH's argv_split: whitespace-separated words, '…' or "…" quoting, backslash escapes
/// for quotes, backslash and (unquoted) space, and `#` at the start of a word ends the line.
/// `None` on an unterminated quote.
///
/// Not [`crate::shlex`]: ssh reads its config with these rules, which differ from a POSIX
/// shell's (a backslash escapes a quote even inside '…', any other backslash stays, `#`
/// starts a comment only at the start of a word), and a config must mean here what it
/// means to `ssh`.
fn split_args(s: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        match chars.peek() {
            None | Some('#') => return Some(args),
            Some(_) => {}
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&n)
                        if n == '\'' || n == '"' || n == '\\' || (quote.is_none() && n == ' ') =>
                    {
                        arg.push(n);
                        chars.next();
                    }
                    _ => arg.push('\\'),
                },
                ' ' | '\t' if quote.is_none() => break,
                '"' | '\'' if quote.is_none() => quote = Some(c),
                _ if quote == Some(c) => quote = None,
                _ => arg.push(c),
            }
        }
        if quote.is_some() {
            return None;
        }
        args.push(arg);
    }
}

/// Turns one directive into an item; `None` for keywords kubestrap ignores.
pub(super) fn parse_directive(keyword: &str, args: &[String]) -> Result<Option<Item>, String> {
    let setting = match keyword {
        "host" => {
            let mut patterns = Vec::with_capacity(args.len());
            for arg in args {
                let (negated, pattern) = match arg.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, arg.as_str()),
                };
                if pattern.is_empty() {
                    return Err("empty Host pattern".to_string());
                }
                patterns.push((negated, pattern.to_string()));
            }
            return Ok(Some(Item::Host(patterns)));
        }
        "match" => return parse_match(args).map(|c| Some(Item::Match(c))),
        "hostname" => {
            let v = single(keyword, args)?;
            validate_tokens(v, &['h'])?;
            Setting::HostName(v.to_string())
        }
        "user" => Setting::User(single(keyword, args)?.to_string()),
        "port" => {
            let v = single(keyword, args)?;
            Setting::Port(parse_port(v).ok_or_else(|| format!("bad port {v:?}"))?)
        }
        "identityfile" => Setting::IdentityFile(single(keyword, args)?.to_string()),
        "proxyjump" => {
            let v = single(keyword, args)?;
            if v.eq_ignore_ascii_case("none") {
                Setting::ProxyJump(Vec::new())
            } else {
                Setting::ProxyJump(
                    JumpHost::parse_list(v).ok_or_else(|| format!("invalid ProxyJump {v:?}"))?,
                )
            }
        }
        "userknownhostsfile" => {
            if args.iter().any(|a| a.is_empty()) {
                return Err(format!("empty argument to \"{keyword}\""));
            }
            if args.iter().any(|a| a.eq_ignore_ascii_case("none")) {
                if args.len() != 1 {
                    return Err(format!(
                        "\"none\" argument to \"{keyword}\" must appear alone"
                    ));
                }
                Setting::UserKnownHostsFile(Vec::new())
            } else {
                Setting::UserKnownHostsFile(args.to_vec())
            }
        }
        "connecttimeout" => Setting::ConnectTimeout(time_arg(keyword, args)?),
        "serveraliveinterval" => Setting::ServerAliveInterval(time_arg(keyword, args)?),
        "stricthostkeychecking" => {
            let v = single(keyword, args)?;
            let normalised = match v.to_ascii_lowercase().as_str() {
                "yes" | "true" => "yes",
                "no" | "false" | "off" => "no",
                "ask" => "ask",
                "accept-new" => "accept-new",
                _ => return Err(format!("unsupported StrictHostKeyChecking value {v:?}")),
            };
            Setting::StrictHostKeyChecking(normalised.to_string())
        }
        _ => return Ok(None),
    };
    Ok(Some(Item::Set(setting)))
}

/// `Match` criteria, ANDed; unsupported ones make the block inapplicable.
fn parse_match(args: &[String]) -> Result<Vec<Criterion>, String> {
    let mut criteria = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (negated, name) = match arg.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, arg.as_str()),
        };
        let name = name.to_ascii_lowercase();
        let mut value = || {
            it.next()
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| format!("missing Match criteria for {name}"))
        };
        let kind = match name.as_str() {
            "all" => CriterionKind::All,
            "host" => CriterionKind::Host(value()?),
            "originalhost" => CriterionKind::OriginalHost(value()?),
            "canonical" | "final" => CriterionKind::Unsupported,
            "user" | "localuser" | "exec" | "localnetwork" | "tagged" | "version"
            | "sessiontype" | "command" => {
                value()?;
                CriterionKind::Unsupported
            }
            _ => {
                // Unknown criterion, unknown arity: the block cannot match, so stop here.
                criteria.push(Criterion {
                    negated,
                    kind: CriterionKind::Unsupported,
                });
                break;
            }
        };
        criteria.push(Criterion { negated, kind });
    }
    Ok(criteria)
}

/// Exactly one non-empty argument.
fn single<'a>(keyword: &str, args: &'a [String]) -> Result<&'a str, String> {
    match args {
        [v] if !v.is_empty() => Ok(v),
        [_] | [] => Err(format!("missing argument to \"{keyword}\"")),
        _ => Err(format!(
            "keyword \"{keyword}\" extra arguments at end of line"
        )),
    }
}

/// Exactly one argument, a time value in seconds.
fn time_arg(keyword: &str, args: &[String]) -> Result<u64, String> {
    let v = single(keyword, args)?;
    parse_time(v).ok_or_else(|| format!("invalid time value {v:?}"))
}

/// OpenSSH's convtime: `90`, `1m30s`, `2h`, `1w` …, in seconds, bounded by i32::MAX as there.
pub(super) fn parse_time(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let mult = match rest.bytes().next().map(|b| b.to_ascii_lowercase()) {
            None => 1,
            Some(b's') => 1,
            Some(b'm') => 60,
            Some(b'h') => 3600,
            Some(b'd') => 86400,
            Some(b'w') => 604800,
            Some(_) => return None,
        };
        // The unit, if any, is a single ASCII byte, so this stays on a char boundary.
        rest = rest.get(1..).unwrap_or_default();
        total = total.checked_add(n.checked_mul(mult)?)?;
    }
    (total <= i32::MAX as u64).then_some(total)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::load::Loader;
    use super::*;

    #[test]
    fn malformed_lines_are_errors_even_in_inactive_blocks() {
        let cases = [
            ("Host other\n  Port abc\n", 2, "bad port"),
            ("Port 0\n", 1, "bad port"),
            ("Port 65536\n", 1, "bad port"),
            ("Port 22 23\n", 1, "extra arguments"),
            ("User\n", 1, "no argument"),
            ("User \"\"\n", 1, "missing argument"),
            ("User \"unterminated\n", 1, "invalid quotes"),
            ("\n\nHostName %z.example\n", 3, "unknown token"),
            ("ProxyJump user@:22\n", 1, "invalid ProxyJump"),
            ("ProxyJump gw:ssh\n", 1, "invalid ProxyJump"),
            ("ProxyJump ssh://gw/path\n", 1, "invalid ProxyJump"),
            ("ConnectTimeout soon\n", 1, "invalid time"),
            ("ServerAliveInterval 99999999999\n", 1, "invalid time"),
            ("StrictHostKeyChecking maybe\n", 1, "StrictHostKeyChecking"),
            ("UserKnownHostsFile none ~/x\n", 1, "must appear alone"),
            ("Match host\n", 1, "missing Match criteria"),
            ("Match exec\n", 1, "missing Match criteria"),
            ("Host \"\"\n", 1, "empty Host pattern"),
            ("Host a\n  Include nope/*\n", 2, "without $HOME"),
        ];
        for (text, line, needle) in cases {
            let err = Loader { home: None }
                .parse(text, Path::new("/x/config"), 0)
                .expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert_eq!(err.file, Path::new("/x/config"));
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert!(err.to_string().starts_with(&format!("/x/config:{line}: ")));
        }
    }

    #[test]
    fn argument_splitting() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("a b\tc", Some(&["a", "b", "c"])),
            ("\"a b\" 'c d'", Some(&["a b", "c d"])),
            ("a\\ b", Some(&["a b"])),
            ("\"a\\\"b\"", Some(&["a\"b"])),
            ("a\\x", Some(&["a\\x"])),
            ("a #comment", Some(&["a"])),
            ("a#b", Some(&["a#b"])),
            ("\"#x\"", Some(&["#x"])),
            ("pre\"mid dle\"post", Some(&["premid dlepost"])),
            ("\"\"", Some(&[""])),
            ("\"open", None),
            // A backslash escapes either quote, inside '…' too (in a shell it would stay).
            ("'a\\'b'", Some(&["a'b"])),
            ("'a\\ b'", Some(&["a\\ b"])),
            ("\"a\\'b\"", Some(&["a'b"])),
            ("a\\\\b", Some(&["a\\b"])),
            ("'open", None),
        ];
        for (input, want) in cases {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(split_args(input), want, "{input:?}");
        }
    }

    #[test]
    fn parse_time_values() {
        let cases = [
            ("0", Some(0)),
            ("90", Some(90)),
            ("1m30s", Some(90)),
            ("1W1d", Some(691200)),
            ("2147483647", Some(2147483647)),
            ("2147483648", None),
            ("", None),
            ("m", None),
            ("5x", None),
            ("-1", None),
            ("99999999999999999999999", None),
            ("5é", None),
            ("5mé", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_time(s), want, "{s:?}");
        }
    }
}
