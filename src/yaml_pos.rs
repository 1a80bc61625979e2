//! Find the line of a key or list item in block-style YAML, since serde_yaml keeps no value positions.
//!
//! One locator for every YAML file kubestrap reads: the inventory asks for key
//! paths (`hosts` → `cp1` → `port`), playbooks for paths through lists as well
//! (play 0 → `tasks` → task 2 → `copy`). It reads indentation alone, which is
//! all hand-written files use; when a step cannot be found (flow style,
//! anchors) it stops at the deepest node it did find, so a problem is always
//! reported near the right place.

/// One step of a path: a mapping key or the n-th item of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    Item(usize),
}

/// A `- ` item or a `key:` found at some column; a line like `- name: x`
/// holds two nodes, the item and the key inside it.
#[derive(Debug)]
struct Node {
    line: usize,
    indent: usize,
    key: Option<String>,
}

/// The nodes of one YAML document, in text order.
pub struct YamlPos {
    nodes: Vec<Node>,
}

impl YamlPos {
    pub fn new(text: &str) -> YamlPos {
        let mut nodes = Vec::new();
        for (idx, raw) in text.lines().enumerate() {
            let content = raw.trim_start_matches(' ');
            if content.is_empty()
                || content.starts_with('#')
                || content.starts_with("---")
                || content.starts_with("...")
            {
                continue;
            }
            let mut indent = raw.len() - content.len();
            let mut rest = content;
            while rest == "-" || rest.starts_with("- ") {
                nodes.push(Node {
                    line: idx + 1,
                    indent,
                    key: None,
                });
                let after = rest[1..].trim_start_matches(' ');
                indent += rest.len() - after.len();
                rest = after;
            }
            if let Some(key) = key_of(rest) {
                nodes.push(Node {
                    line: idx + 1,
                    indent,
                    key: Some(key),
                });
            }
        }
        YamlPos { nodes }
    }

    /// 1-based line of the node at `path`, or of the deepest one found
    /// (1 when not even the first step is found).
    pub fn line_of(&self, path: &[Step]) -> usize {
        let mut at: Option<usize> = None;
        for step in path {
            let next = self.children(at).into_iter().filter(|&i| match step {
                Step::Key(k) => self.nodes[i].key.as_deref() == Some(*k),
                Step::Item(_) => self.nodes[i].key.is_none(),
            });
            let found = match step {
                Step::Key(_) => next.into_iter().next(),
                Step::Item(n) => next.into_iter().nth(*n),
            };
            match found {
                Some(i) => at = Some(i),
                None => break,
            }
        }
        at.map_or(1, |i| self.nodes[i].line)
    }

    /// [`line_of`](Self::line_of) for a path of mapping keys only
    /// (e.g. `["hosts", "cp1", "port"]`), as the inventory formats have.
    pub fn line_of_keys(&self, keys: &[&str]) -> usize {
        let steps: Vec<Step> = keys.iter().map(|k| Step::Key(k)).collect();
        self.line_of(&steps)
    }

    /// The direct children of a node (of the document when `None`): the nodes
    /// after it, indented deeper, at the column of the first one. A key's
    /// sequence may also sit at the key's own column (`tasks:\n- name: x`).
    fn children(&self, parent: Option<usize>) -> Vec<usize> {
        let (start, pindent, is_key) = match parent {
            None => (0, None, false),
            Some(p) => (
                p + 1,
                Some(self.nodes[p].indent),
                self.nodes[p].key.is_some(),
            ),
        };
        let mut column = None;
        let mut out = Vec::new();
        for (i, node) in self.nodes.iter().enumerate().skip(start) {
            let inside = match pindent {
                None => true,
                Some(p) => node.indent > p || (is_key && node.key.is_none() && node.indent == p),
            };
            if !inside {
                break;
            }
            let c = *column.get_or_insert(node.indent);
            if node.indent == c {
                out.push(i);
            }
        }
        out
    }
}

/// The key a line defines, plain or quoted, if it defines one.
fn key_of(content: &str) -> Option<String> {
    for quote in ['"', '\''] {
        if let Some(rest) = content.strip_prefix(quote) {
            let end = rest.find(quote)?;
            let after = &rest[end + 1..];
            return is_colon(after).then(|| rest[..end].to_string());
        }
    }
    let mut search = 0;
    while let Some(pos) = content[search..].find(':') {
        let at = search + pos;
        if is_colon(&content[at..]) {
            let key = content[..at].trim_end();
            let flow = key.starts_with(['{', '[', '|', '>', '&', '*', '!']);
            return (!key.is_empty() && !flow).then(|| key.to_string());
        }
        search = at + 1;
    }
    None
}

/// Is this `:` a mapping colon (followed by a space or the end of line)?
fn is_colon(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::{Item, Key};

    /// An inventory: key paths only.
    const INVENTORY: &str = "\
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
        let y = YamlPos::new(INVENTORY);
        assert_eq!(y.line_of_keys(&["hosts", "cp1", "port"]), 6);
        assert_eq!(y.line_of_keys(&["hosts", "cp2", "port"]), 8);
        assert_eq!(y.line_of_keys(&["hosts", "cp2", "network", "gateway"]), 10);
    }

    #[test]
    fn falls_back_to_parent_line() {
        let y = YamlPos::new(INVENTORY);
        assert_eq!(y.line_of_keys(&["hosts", "cp1", "user"]), 4);
        assert_eq!(y.line_of_keys(&["nothing"]), 1);
        // `port` of cp1 must not be found inside cp2's block.
        assert_eq!(y.line_of_keys(&["hosts", "cp2", "address"]), 7);
    }

    #[test]
    fn a_key_is_a_direct_child_not_a_deeper_namesake() {
        let y = YamlPos::new(
            "all:\n  children:\n    g:\n      hosts:\n        h2:\n  hosts:\n    h1:\n      x: 1\n",
        );
        assert_eq!(y.line_of_keys(&["all", "hosts", "h1", "x"]), 8);
        assert_eq!(y.line_of_keys(&["all", "children", "g", "hosts", "h2"]), 5);
    }

    /// A playbook: lists of lists, keys behind dashes, a block scalar.
    const PLAYBOOK: &str = "\
# comment
- name: first
  hosts: all
  tasks:
  - name: a
    command: ls
  - shell: |
      echo x: y
      - not an item
  -   copy:
        dest: /x
- hosts: workers
  vars:
    \"quoted\": 1
  handlers:
    - name: h
      listen: t
";

    #[test]
    fn finds_items_and_keys() {
        let l = YamlPos::new(PLAYBOOK);
        assert_eq!(l.line_of(&[Item(0)]), 2);
        assert_eq!(l.line_of(&[Item(1)]), 12);
        assert_eq!(l.line_of(&[Item(0), Key("tasks"), Item(1)]), 7);
        assert_eq!(
            l.line_of(&[Item(0), Key("tasks"), Item(2), Key("copy"), Key("dest")]),
            11
        );
        assert_eq!(l.line_of(&[Item(1), Key("vars"), Key("quoted")]), 14);
        assert_eq!(
            l.line_of(&[Item(1), Key("handlers"), Item(0), Key("listen")]),
            17
        );
    }

    #[test]
    fn falls_back_to_the_deepest_node_found() {
        let l = YamlPos::new(PLAYBOOK);
        assert_eq!(l.line_of(&[Item(0), Key("tasks"), Item(7)]), 4);
        assert_eq!(l.line_of(&[Item(0), Key("vars")]), 2);
        assert_eq!(l.line_of(&[Item(5)]), 1);
        assert_eq!(YamlPos::new("").line_of(&[Item(0)]), 1);
    }
}
