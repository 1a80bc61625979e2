//! Expansion of `%`-tokens, `~` and `${VAR}` in config values (ssh_config(5) TOKENS).

use std::path::Path;

/// HostName knows only `%h` (the alias) and `%%`; validated at parse time.
pub(super) fn expand_hostname(raw: &str, alias: &str) -> String {
    expand_percent(raw, &|c| (c == 'h').then(|| alias.to_string()))
}

/// Expands `%x` via `lookup` and `%%` to `%`; unknown tokens stay as written.
pub(super) fn expand_percent(s: &str, lookup: &dyn Fn(char) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match lookup(t) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push('%');
                    out.push(t);
                }
            },
            None => out.push('%'),
        }
    }
    out
}

/// Expands `${NAME}`; undefined variables stay as written.
pub(super) fn expand_env(s: &str, var: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match var(name) {
                    Some(v) if !name.is_empty() => out.push_str(&v),
                    _ => out.push_str(&rest[start..start + 2 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `~` and `~/…` become the home directory; `~user` is left alone (no passwd lookups).
pub(super) fn expand_tilde(s: &str, home: Option<&Path>) -> String {
    match home {
        Some(home) if s == "~" => home.to_string_lossy().into_owned(),
        Some(home) if s.starts_with("~/") => {
            format!(
                "{}{}",
                home.to_string_lossy().trim_end_matches('/'),
                &s[1..]
            )
        }
        _ => s.to_string(),
    }
}

/// Parse-time check that `v` uses only `%%`, `%` followed by one of `allowed`.
pub(super) fn validate_tokens(v: &str, allowed: &[char]) -> Result<(), String> {
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%') => {}
                Some(t) if allowed.contains(&t) => {}
                Some(t) => return Err(format!("unknown token %{t} in {v:?}")),
                None => return Err(format!("trailing '%' in {v:?}")),
            }
        }
    }
    Ok(())
}
