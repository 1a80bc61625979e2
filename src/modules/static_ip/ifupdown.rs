//! /etc/network/interfaces with the pinned interface handed over to kubestrap's own file.

/// Lines kubestrap comments out start with this, so they read as its doing.
pub const DISABLED: &str = "# (kubestrap static_ip) ";

/// Words that open a stanza in interfaces(5); any other line belongs to the
/// stanza above it.
const STANZA: [&str; 8] = [
    "iface",
    "mapping",
    "auto",
    "source",
    "source-directory",
    "rename",
    "no-auto-down",
    "no-scripts",
];

fn opens_stanza(word: &str) -> bool {
    STANZA.contains(&word) || word.starts_with("allow-")
}

/// `interfaces` with every `iface IFACE inet …` stanza commented out (the
/// inet6 ones stay), IFACE taken off `auto`/`allow-*` lines (kubestrap's file
/// says `auto IFACE`), and a `source` line for `own_file` appended unless
/// the file already reads interfaces.d.
pub fn release_interface(interfaces: &str, iface: &str, own_file: &str) -> String {
    let mut out = String::with_capacity(interfaces.len() + 128);
    let mut in_pinned = false;
    let mut sources_dir = false;
    let dir = own_file.rsplit_once('/').map_or("", |(d, _)| d);
    for line in interfaces.split_inclusive('\n') {
        let t = line.trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        let first = words.first().copied().unwrap_or("");
        if first.starts_with('#') || t.is_empty() {
            out.push_str(line);
            continue;
        }
        if opens_stanza(first) {
            in_pinned =
                first == "iface" && words.get(1) == Some(&iface) && words.get(2) == Some(&"inet");
            if matches!(first, "source" | "source-directory")
                && words
                    .get(1)
                    .is_some_and(|p| p.contains("interfaces.d") || p.starts_with(dir))
            {
                sources_dir = true;
            }
            if first == "auto" || first.starts_with("allow-") {
                let rest: Vec<&str> = words[1..].iter().copied().filter(|w| *w != iface).collect();
                if rest.len() + 1 != words.len() {
                    out.push_str(DISABLED);
                    out.push_str(line);
                    if !rest.is_empty() {
                        out.push_str(&format!("{first} {}\n", rest.join(" ")));
                    }
                    continue;
                }
            }
        }
        if in_pinned {
            out.push_str(DISABLED);
        }
        out.push_str(line);
    }
    if !sources_dir {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "\n# Added by kubestrap (static_ip): the pinned interface's stanza.\nsource {own_file}\n"
        ));
    }
    out
}
