//! Unified diffs of file content for `--diff`, as Ansible shows them.

use std::time::Duration;

use similar::TextDiff;

/// Lines of context around each change, as `diff -u`.
const CONTEXT: usize = 3;

/// The unified diff from `before` to `after` of the file at `path`; None
/// when the content is the same. Binary content (a NUL byte) is described
/// rather than shown, as Ansible does.
pub fn unified(path: &str, before: &[u8], after: &[u8]) -> Option<String> {
    if before == after {
        return None;
    }
    if before.contains(&0) || after.contains(&0) {
        return Some(format!(
            "--- before: {path}\n+++ after: {path}\nBinary files differ\n"
        ));
    }
    // A deadline keeps a pathological 256 KiB diff from stalling the plan;
    // similar then falls back to a coarser (still correct) diff.
    let (before, after) = (
        String::from_utf8_lossy(before),
        String::from_utf8_lossy(after),
    );
    let diff = TextDiff::configure()
        .timeout(Duration::from_millis(500))
        .diff_lines(before.as_ref(), after.as_ref());
    let mut out = String::new();
    let mut unified = diff.unified_diff();
    unified
        .context_radius(CONTEXT)
        .header(&format!("before: {path}"), &format!("after: {path}"));
    out.push_str(&unified.to_string());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_has_no_diff() {
        assert_eq!(unified("/f", b"a\n", b"a\n"), None);
    }

    #[test]
    fn changed_line_is_shown_with_context() {
        let d = unified("/etc/x", b"a\nb\nc\n", b"a\nB\nc\n").unwrap();
        assert_eq!(
            d,
            "--- before: /etc/x\n+++ after: /etc/x\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }

    #[test]
    fn new_file_is_all_additions() {
        let d = unified("/n", b"", b"x\n").unwrap();
        assert!(d.ends_with("@@ -0,0 +1 @@\n+x\n"), "{d}");
    }

    #[test]
    fn missing_final_newline_is_flagged() {
        let d = unified("/n", b"a", b"a\n").unwrap();
        assert!(d.contains("\\ No newline at end of file"), "{d}");
    }

    #[test]
    fn binary_content_is_described() {
        let d = unified("/b", b"\0\x01", b"\0\x02").unwrap();
        assert!(d.contains("Binary files differ"));
    }
}
