//! Python's `shlex.split` (POSIX mode), the word splitting Ansible uses for commands and INI inventory lines.
//!
//! One implementation for both callers: the `command` module (and
//! `modprobe`'s `params`) split a command line as Ansible's command module
//! does with `shlex.split(args)`, and the INI inventory splits host lines as
//! Ansible's INI plugin does with `shlex.split(line, comments=True)`.
//!
//! Two other splitters in kubestrap follow different rules on purpose and
//! are not this one: ssh_config arguments (`ssh::config::parse`, OpenSSH's
//! argv_split: backslash escapes only quotes, backslash and space, and works
//! inside single quotes too) and inline `k=v` task arguments
//! (`playbook::keyvalue`, Ansible's split_args: words keep their quotes and
//! `{{ }}` blocks).

use std::fmt;

/// Why a line could not be split (Python's `ValueError` messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// A quote was opened and never closed.
    NoClosingQuotation,
    /// The line ends in a backslash.
    NoEscapedCharacter,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitError::NoClosingQuotation => "no closing quotation",
            SplitError::NoEscapedCharacter => "no escaped character",
        })
    }
}

/// Whether `#` outside quotes starts a comment that runs to the end of its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comments {
    Kept,
    Stripped,
}

/// shlex's whitespace: these four only (not form feed or other Unicode space).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Split `s` into words as `shlex.split(s, comments=...)` does: blanks
/// separate words; `'…'` keeps everything literally; in `"…"` a backslash
/// escapes only `"` and `\`; elsewhere a backslash escapes any character,
/// a newline included.
pub fn split(s: &str, comments: Comments) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has started (possibly empty: `''` is one empty word).
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if is_blank(c) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if comments == Comments::Stripped => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                // The comment ends at the end of its line; the next line counts.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SplitError::NoClosingQuotation),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => return Err(SplitError::NoEscapedCharacter),
                        },
                        Some(c) => word.push(c),
                        None => return Err(SplitError::NoClosingQuotation),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(e) => word.push(e),
                    None => return Err(SplitError::NoEscapedCharacter),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input, `shlex.split(input)`, `shlex.split(input, comments=True)`,
    /// as printed by Python 3.11's shlex.
    const CASES: &[(&str, &[&str], &[&str])] = &[
        (
            "echo hello world",
            &["echo", "hello", "world"],
            &["echo", "hello", "world"],
        ),
        ("  a   b  ", &["a", "b"], &["a", "b"]),
        (
            "echo 'a b' \"c d\"",
            &["echo", "a b", "c d"],
            &["echo", "a b", "c d"],
        ),
        ("a\\ b c", &["a b", "c"], &["a b", "c"]),
        ("x'y'\"z\"", &["xyz"], &["xyz"]),
        (
            "echo \"a\\\"b\" 'c\\d'",
            &["echo", "a\"b", "c\\d"],
            &["echo", "a\"b", "c\\d"],
        ),
        ("echo \"\\n\"", &["echo", "\\n"], &["echo", "\\n"]),
        ("echo ''", &["echo", ""], &["echo", ""]),
        ("\"\"", &[""], &[""]),
        ("ls #x", &["ls", "#x"], &["ls"]),
        ("a=b#c d", &["a=b#c", "d"], &["a=b"]),
        ("h a=\"x y\" #c", &["h", "a=x y", "#c"], &["h", "a=x y"]),
        ("h a='x#y'", &["h", "a=x#y"], &["h", "a=x#y"]),
        ("h a=\"x#y\"", &["h", "a=x#y"], &["h", "a=x#y"]),
        ("h a=b\\ c", &["h", "a=b c"], &["h", "a=b c"]),
        ("h a=b\\#c", &["h", "a=b#c"], &["h", "a=b#c"]),
        ("x #c\ny", &["x", "#c", "y"], &["x", "y"]),
        ("echo \"a\\$b\"", &["echo", "a\\$b"], &["echo", "a\\$b"]),
        ("echo \"a\\`b\"", &["echo", "a\\`b"], &["echo", "a\\`b"]),
        ("a\\\nb", &["a\nb"], &["a\nb"]),
        ("echo \"a\\\nb\"", &["echo", "a\\\nb"], &["echo", "a\\\nb"]),
        ("'a\\'", &["a\\"], &["a\\"]),
        ("a\tb\rc\nd", &["a", "b", "c", "d"], &["a", "b", "c", "d"]),
        ("a\u{b}b\u{c}c", &["a\u{b}b\u{c}c"], &["a\u{b}b\u{c}c"]),
        ("", &[], &[]),
    ];

    #[test]
    fn splits_as_python_shlex_does() {
        for (input, kept, stripped) in CASES {
            assert_eq!(split(input, Comments::Kept).unwrap(), *kept, "{input:?}");
            assert_eq!(
                split(input, Comments::Stripped).unwrap(),
                *stripped,
                "{input:?} with comments"
            );
        }
    }

    #[test]
    fn unfinished_lines_are_errors() {
        let cases = [
            ("echo 'open", SplitError::NoClosingQuotation),
            ("echo \"open", SplitError::NoClosingQuotation),
            ("h a='x", SplitError::NoClosingQuotation),
            ("echo \\", SplitError::NoEscapedCharacter),
            ("echo \"a\\", SplitError::NoEscapedCharacter),
        ];
        for (input, want) in cases {
            assert_eq!(split(input, Comments::Kept), Err(want), "{input:?}");
        }
        // A comment does not hide an open quote before it.
        assert_eq!(
            split("a 'b #c", Comments::Stripped),
            Err(SplitError::NoClosingQuotation)
        );
    }
}
