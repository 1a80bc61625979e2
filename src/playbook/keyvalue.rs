//! Ansible's inline module arguments: `copy: src=a dest=b` and free-form `command: ls creates=/x`.
//!
//! Words are split on whitespace outside quotes and outside `{{ }}`,
//! `{% %}` and `{# #}`, as Ansible's `split_args` does, so
//! `msg="a b" path={{ dir }}/x` gives two words.

use serde_json::{Map, Value};

/// Words of a free-form command that Ansible takes as arguments rather than
/// as part of the command (`command: kubeadm init creates=/etc/kubernetes/admin.conf`).
const FREE_FORM_KEYS: &[&str] = &[
    "creates",
    "removes",
    "chdir",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

/// Parse `text` into arguments. For a free-form module the words that are not
/// `FREE_FORM_KEYS` pairs stay as written, newlines included, under
/// `_raw_params`; for any other module every word must be `key=value`.
pub fn parse(text: &str, free_form: bool) -> Result<Map<String, Value>, String> {
    let mut args = Map::new();
    let mut removed: Vec<(usize, usize)> = Vec::new();
    for (start, end) in words(text) {
        let word = &text[start..end];
        let pair = split_pair(word);
        match pair {
            Some((k, v)) if !free_form || FREE_FORM_KEYS.contains(&k) => {
                args.insert(k.to_string(), Value::String(decode(unquote(v))));
                removed.push((start, end));
            }
            _ if free_form => {}
            _ => return Err(format!("expected key=value arguments, got `{word}`")),
        }
    }
    if free_form {
        let raw = if removed.is_empty() {
            text.to_string()
        } else {
            cut(text, &removed)
        };
        if !raw.trim().is_empty() {
            args.insert("_raw_params".into(), Value::String(raw));
        }
    }
    Ok(args)
}

/// `text` without the given word spans and the blanks that followed them.
fn cut(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for &(start, end) in spans {
        out.push_str(&text[at..start]);
        let rest = &text[end..];
        at = end + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    }
    out.push_str(&text[at..]);
    out.trim().to_string()
}

/// `key=value` when the word starts with an identifier followed by `=`.
fn split_pair(word: &str) -> Option<(&str, &str)> {
    let (k, v) = word.split_once('=')?;
    let ident = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ident.then_some((k, v))
}

/// Byte spans of the words of `text`.
///
/// Not [`crate::shlex`]: Ansible's split_args only finds where words are;
/// quotes and backslashes stay in them (a free-form command goes to the
/// shell as written) and a `{{ }}`, `{% %}` or `{# #}` block is never cut.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut jinja = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if start.is_none() {
            if c.is_whitespace() {
                continue;
            }
            start = Some(i);
        }
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if jinja == 0 => quote = Some(c),
            (None, '{') if matches!(next, Some('{' | '%' | '#')) => {
                jinja += 1;
                chars.next();
            }
            (None, '}' | '%' | '#') if jinja > 0 && next == Some('}') => {
                jinja -= 1;
                chars.next();
            }
            (None, _) if jinja == 0 && c.is_whitespace() => {
                if let Some(s) = start.take() {
                    spans.push((s, i));
                }
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// The backslash escapes Ansible decodes in inline values.
fn decode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(e @ ('\\' | '"' | '\'')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(text: &str, free: bool) -> Value {
        Value::Object(parse(text, free).unwrap())
    }

    #[test]
    fn key_value_words() {
        let cases = [
            ("src=a dest=b", json!({"src": "a", "dest": "b"})),
            (
                "content=\"a b\" dest='/x y'",
                json!({"content": "a b", "dest": "/x y"}),
            ),
            (
                "dest={{ dir }}/x mode=0644",
                json!({"dest": "{{ dir }}/x", "mode": "0644"}),
            ),
            (
                "msg={{ 'a b' | upper }}",
                json!({"msg": "{{ 'a b' | upper }}"}),
            ),
            ("line=\"a\\tb\"", json!({"line": "a\tb"})),
            ("", json!({})),
        ];
        for (text, want) in cases {
            assert_eq!(ok(text, false), want, "{text}");
        }
    }

    #[test]
    fn non_pairs_are_errors_for_ordinary_modules() {
        assert_eq!(
            parse("src=a oops", false).unwrap_err(),
            "expected key=value arguments, got `oops`"
        );
    }

    #[test]
    fn free_form_keeps_the_command_and_pulls_out_its_options() {
        let cases = [
            ("ls -l", json!({"_raw_params": "ls -l"})),
            (
                "kubeadm init --config=/x creates=/etc/kubernetes/admin.conf",
                json!({"_raw_params": "kubeadm init --config=/x", "creates": "/etc/kubernetes/admin.conf"}),
            ),
            (
                "chdir=/tmp make  all",
                json!({"_raw_params": "make  all", "chdir": "/tmp"}),
            ),
            (
                "echo a=b 'c d=e'",
                json!({"_raw_params": "echo a=b 'c d=e'"}),
            ),
            (
                "set -e\necho 1\n",
                json!({"_raw_params": "set -e\necho 1\n"}),
            ),
            ("removes=/x", json!({"removes": "/x"})),
            (
                "echo {{ a | default('x y') }}",
                json!({"_raw_params": "echo {{ a | default('x y') }}"}),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(ok(text, true), want, "{text:?}");
        }
    }

    #[test]
    fn words_keep_quotes_and_template_blocks() {
        let cases: &[(&str, &[&str])] = &[
            ("a  b\tc", &["a", "b", "c"]),
            ("msg=\"a b\" x", &["msg=\"a b\"", "x"]),
            ("'c d=e' f", &["'c d=e'", "f"]),
            ("x=\"a\\\" b\" y", &["x=\"a\\\" b\"", "y"]),
            ("a\\ b", &["a\\", "b"]),
            ("p={{ dir }}/x m=1", &["p={{ dir }}/x", "m=1"]),
            // A block ends at its own `%}`, as in Ansible: text between blocks splits.
            (
                "{% if a %}x y{% endif %} z",
                &["{% if a %}x", "y{% endif %}", "z"],
            ),
            (
                "{% if a == 'b c' %}x{% endif %}",
                &["{% if a == 'b c' %}x{% endif %}"],
            ),
            ("{# a b #} c", &["{# a b #}", "c"]),
            ("v={{ 'a b' }}", &["v={{ 'a b' }}"]),
            ("set -e\necho 1", &["set", "-e", "echo", "1"]),
            ("", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = words(text).iter().map(|&(s, e)| &text[s..e]).collect();
            assert_eq!(got, *want, "{text:?}");
        }
    }

    #[test]
    fn unbalanced_quotes_do_not_panic() {
        let _ = parse("a='x", false);
        let _ = parse("\"", true);
        let _ = parse("{{ x", true);
        let _ = parse("x=\\", false);
    }
}
