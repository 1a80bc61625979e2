//! Masking every known secret value in what kubestrap prints, logs or reports.
//!
//! Secrets are registered once kubestrap knows them (the bootstrap token and
//! its secret part, the certificate key, the CA key, the sudo password, the
//! values a `no_log` task was given); every line of output, log and report
//! goes through [`text`] or [`json`] on its way out. Masking where output is
//! produced, rather than hiding whole results, lets a failing task show its
//! reason while no secret shows with it.

use std::sync::RwLock;

use serde_json::Value as Json;

/// What a secret is replaced with (Ansible's mask for no_log values).
pub const MASK: &str = "********";

/// Lines of a multi-line secret (a PEM key) shorter than this are not
/// masked on their own: too short to be more than a fragment, too likely to
/// occur in ordinary text.
const MIN_LINE: usize = 16;

/// A set of secret values and the masking of them.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Mask `value` from now on. A multi-line value (a PEM key) is also
    /// masked line by line, so a line of it shown alone is caught too; a
    /// value shaped like a bootstrap token (`id.secret`) also masks its
    /// secret part (the id alone is public: kubeadm prints it in its own
    /// messages).
    pub fn add(&mut self, value: &str) {
        if let Some(secret) = token_secret(value) {
            self.add(secret);
        }
        let mut add_one = |v: &str| {
            if !v.is_empty() && !self.secrets.iter().any(|s| s == v) {
                self.secrets.push(v.to_string());
            }
        };
        add_one(value);
        let value = value.trim_end_matches('\n');
        if value.contains('\n') {
            add_one(value);
            for line in value.lines().map(str::trim) {
                if line.len() >= MIN_LINE && !line.starts_with("-----") {
                    add_one(line);
                }
            }
        }
    }

    /// `text` with every occurrence of every secret replaced by [`MASK`].
    /// Occurrences that overlap or touch (two secrets sharing characters,
    /// one inside another) become one mask, so no part of either shows.
    pub fn text(&self, text: &str) -> String {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for s in &self.secrets {
            let mut from = 0;
            while let Some(at) = text[from..].find(s.as_str()) {
                let start = from + at;
                spans.push((start, start + s.len()));
                // Next search one character on: occurrences may overlap.
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut shown = 0;
        let mut i = 0;
        while i < spans.len() {
            let (start, mut end) = spans[i];
            while i + 1 < spans.len() && spans[i + 1].0 <= end {
                i += 1;
                end = end.max(spans[i].1);
            }
            out.push_str(&text[shown..start]);
            out.push_str(MASK);
            shown = end;
            i += 1;
        }
        out.push_str(&text[shown..]);
        out
    }

    /// `value` with every string in it (keys too) masked.
    pub fn json(&self, value: &Json) -> Json {
        match value {
            Json::String(s) => Json::String(self.text(s)),
            Json::Array(a) => Json::Array(a.iter().map(|v| self.json(v)).collect()),
            Json::Object(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (self.text(k), self.json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The secret part of a bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`).
fn token_secret(value: &str) -> Option<&str> {
    let (id, secret) = value.split_once('.')?;
    let part = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    (part(id, 6) && part(secret, 16)).then_some(secret)
}

/// The secrets of this process: output anywhere is masked against them.
static KNOWN: RwLock<Redactor> = RwLock::new(Redactor {
    secrets: Vec::new(),
});

/// Mask `value` in all output from now on (see [`Redactor::add`]).
pub fn register(value: &str) {
    if let Ok(mut r) = KNOWN.write() {
        r.add(value);
    }
}

/// `s` with every registered secret masked.
pub fn text(s: &str) -> String {
    match KNOWN.read() {
        Ok(r) => r.text(s),
        // A poisoned lock means a panic elsewhere; show nothing rather than a secret.
        Err(_) => MASK.to_string(),
    }
}

/// `v` with every registered secret masked.
pub fn json(v: &Json) -> Json {
    match KNOWN.read() {
        Ok(r) => r.json(v),
        Err(_) => Json::String(MASK.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "abcdef.0123456789abcdef";
    const CERT_KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const CA_KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\n\
        OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n\
        1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n\
        -----END PRIVATE KEY-----\n";

    fn redactor() -> Redactor {
        let mut r = Redactor::default();
        r.add(TOKEN);
        r.add(CERT_KEY);
        r.add(CA_KEY);
        r.add("lab-sudo-pass");
        r
    }

    /// (text as produced, text as shown)
    const CASES: &[(&str, &str)] = &[
        ("nothing secret here", "nothing secret here"),
        (
            "could not find a JWS signature in the cluster-info ConfigMap for token ID \"abcdef\"",
            "could not find a JWS signature in the cluster-info ConfigMap for token ID \"abcdef\"",
        ),
        (
            "--token abcdef.0123456789abcdef --x",
            "--token ******** --x",
        ),
        ("token-secret: 0123456789abcdef", "token-secret: ********"),
        ("x0123456789abcdefx", "x********x"),
        // Two occurrences back to back are one mask; two apart are two.
        ("0123456789abcdef0123456789abcdef", "********"),
        (
            "a abcdef.0123456789abcdef b 0123456789abcdef",
            "a ******** b ********",
        ),
        // A password sharing characters with the token's secret part.
        ("[sudo] lab-sudo-pass", "[sudo] ********"),
        (
            "certificateKey: \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
            "certificateKey: \"********\"",
        ),
        (
            "line: OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n",
            "line: ********\n",
        ),
        ("unicode é 0123456789abcdef é", "unicode é ******** é"),
    ];

    #[test]
    fn every_secret_is_masked_and_nothing_else() {
        let r = redactor();
        for (given, shown) in CASES {
            assert_eq!(r.text(given), *shown, "for {given:?}");
        }
    }

    #[test]
    fn a_whole_pem_key_is_one_mask_with_nothing_of_it_left() {
        let r = redactor();
        let shown = r.text(&format!("key:\n{CA_KEY}done"));
        assert_eq!(shown, "key:\n********done");
    }

    #[test]
    fn overlapping_and_nested_secrets_leave_no_part_visible() {
        let mut r = Redactor::default();
        // One secret inside another, and two that overlap.
        r.add("secretvalue");
        r.add("value");
        r.add("overlapXYZ");
        r.add("XYZtail");
        assert_eq!(r.text("a secretvalue b value c"), "a ******** b ******** c");
        assert_eq!(r.text("overlapXYZtail!"), "********!");
        // A secret repeating itself overlaps with itself.
        let mut r = Redactor::default();
        r.add("aba");
        assert_eq!(r.text("xababax"), "x********x");
    }

    #[test]
    fn json_strings_and_keys_are_masked() {
        let r = redactor();
        let v = serde_json::json!({
            "stdout": "kubeadm join --token abcdef.0123456789abcdef",
            "lines": ["0123456789abcdef", 3],
            "lab-sudo-pass": true,
        });
        let shown = r.json(&v).to_string();
        for s in ["0123456789abcdef", "lab-sudo-pass"] {
            assert!(!shown.contains(s), "{shown}");
        }
        assert!(shown.contains("kubeadm join --token ********"), "{shown}");
    }

    #[test]
    fn empty_values_mask_nothing() {
        let mut r = Redactor::default();
        r.add("");
        assert_eq!(r.text("as is"), "as is");
        // Only a value shaped like a token gives up its part after the dot.
        r.add("config.yaml-secret");
        assert_eq!(
            r.text("config.yaml-secret yaml-secret"),
            "******** yaml-secret"
        );
    }
}
