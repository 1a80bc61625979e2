//! Find the line of a key path in block-style YAML, since serde_yaml keeps no value positions.
//!
//! The locator is deliberately simple: it follows indentation, which is all a
//! hand-written inventory uses. When a key cannot be found (flow style, anchors,
//! quoting it does not understand) it falls back to the deepest parent it did
//! find, so a problem is always reported near the right place.

/// Indexes the lines of one YAML document for key-path lookups.
pub struct YamlLines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> YamlLines<'a> {
    pub fn new(text: &'a str) -> Self {
        YamlLines {
            lines: text.lines().collect(),
        }
    }

    /// 1-based line of the last key of `path` (e.g. `["hosts", "cp1", "port"]`),
    /// or of the deepest parent found; 1 when not even the first key is found.
    pub fn line_of(&self, path: &[&str]) -> usize {
        let mut found = 0;
        let mut start = 0;
        let mut parent_indent: isize = -1;
        for key in path {
            match self.find_key(key, start, parent_indent) {
                Some((idx, indent)) => {
                    found = idx + 1;
                    start = idx + 1;
                    parent_indent = indent as isize;
                }
                None => break,
            }
        }
        found.max(1)
    }

    /// Search the block that begins at `start` and ends at the first line
    /// indented no deeper than its parent.
    fn find_key(&self, key: &str, start: usize, parent_indent: isize) -> Option<(usize, usize)> {
        for (idx, raw) in self.lines.iter().enumerate().skip(start) {
            let content = raw.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
                continue;
            }
            let mut indent = raw.len() - content.len();
            if indent as isize <= parent_indent {
                return None;
            }
            // A key may sit behind a sequence dash (`- name: x`).
            let mut rest = content;
            while let Some(after) = rest.strip_prefix("- ") {
                let trimmed = after.trim_start_matches(' ');
                indent += rest.len() - trimmed.len();
                rest = trimmed;
            }
            if key_matches(rest, key) {
                return Some((idx, indent));
            }
        }
        None
    }
}

/// Does this line (indentation removed) define `key`, plain or quoted?
fn key_matches(content: &str, key: &str) -> bool {
    for quote in ["", "\"", "'"] {
        let candidate = format!("{quote}{key}{quote}:");
        if let Some(rest) = content.strip_prefix(&candidate) {
            if rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t') {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
cluster:
  name: x
hosts:
  cp1:
    address: 10.0.0.1
    port: 22
  \"cp2\":
    port: 23
    network:
      gateway: 1.2.3.4
";

    #[test]
    fn finds_nested_keys_by_indentation() {
        let y = YamlLines::new(DOC);
        assert_eq!(y.line_of(&["hosts", "cp1", "port"]), 6);
        assert_eq!(y.line_of(&["hosts", "cp2", "port"]), 8);
        assert_eq!(y.line_of(&["hosts", "cp2", "network", "gateway"]), 10);
    }

    #[test]
    fn falls_back_to_parent_line() {
        let y = YamlLines::new(DOC);
        assert_eq!(y.line_of(&["hosts", "cp1", "user"]), 4);
        assert_eq!(y.line_of(&["nothing"]), 1);
        // `port` of cp1 must not be found inside cp2's block.
        assert_eq!(y.line_of(&["hosts", "cp2", "address"]), 7);
    }
}
