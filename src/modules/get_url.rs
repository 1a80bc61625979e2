//! get_url: download a URL to a file on the host (with curl or wget there), checked against `checksum`, as Ansible's get_url.
//!
//! An existing `dest` is left alone unless `force: true` or a `checksum`
//! it does not match: with a sha256 checksum the answer comes from the
//! play's one fact gathering, so a converged re-run costs no command. The
//! download goes to a temporary file in dest's directory, is checked, gets
//! its mode and owner, then replaces dest atomically.

use serde_json::{json, Map, Value};

use super::file_facts::{fact, parent, path_arg, Attrs};
use super::stat::checksum_of;
use super::{literal, q, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FactUpdate, FileKind, FileState};

pub struct GetUrl;

const ALGORITHMS: &[&str] = &["sha1", "sha224", "sha256", "sha384", "sha512"];

impl Module for GetUrl {
    fn name(&self) -> &'static str {
        "get_url"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "url",
            "dest",
            "checksum",
            "mode",
            "owner",
            "group",
            "force",
            "timeout",
            "validate_certs",
        ]
    }

    fn unsupported(&self) -> &'static [(&'static str, &'static str)] {
        const WHY: &str =
            "not implemented by kubestrap's get_url (it downloads with curl or wget on the host)";
        &[
            ("headers", WHY),
            ("url_username", WHY),
            ("url_password", WHY),
            ("client_cert", WHY),
            ("client_key", WHY),
            ("use_proxy", WHY),
            ("tmp_dest", WHY),
            ("backup", WHY),
            ("validate", WHY),
        ]
    }

    fn refuse(&self, args: &Map<String, Value>) -> Vec<(String, String)> {
        match literal(args, "checksum").map(|c| parse_checksum(&c)) {
            Some(Err(e)) => vec![("checksum".into(), e)],
            _ => Vec::new(),
        }
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let dest = path_arg(args, &["dest"])?;
        let content = match args.str("checksum")? {
            Some(c) => parse_checksum(&c)?.0 != "sha256",
            None => false,
        };
        let mut out = vec![FactRequest::File {
            path: dest.clone(),
            content,
        }];
        if let Some(p) = parent(&dest) {
            out.push(FactRequest::File {
                path: p,
                content: false,
            });
        }
        Ok(out)
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let url = args.req_str("url")?;
        let dest = path_arg(args, &["dest"])?;
        if !url.starts_with("http://") && !url.starts_with("https://") && !url.starts_with("ftp://")
        {
            return Err(format!("url {url} is not an http, https or ftp URL"));
        }
        let checksum = args
            .str("checksum")?
            .map(|c| parse_checksum(&c))
            .transpose()?;
        let force = args.bool("force", false)?;
        let attrs = Attrs::from_args(args)?;
        let st = fact(ctx, &dest).ok_or_else(|| format!("no facts were gathered for {dest}"))?;
        match st.kind {
            FileKind::Directory => {
                return Err(format!(
                    "dest {dest} is a directory; kubestrap's get_url needs a file name"
                ))
            }
            FileKind::Missing => {}
            _ => {
                let matches = match &checksum {
                    Some((algo, hex)) => checksum_of(&dest, st, algo)? == *hex,
                    None => !force,
                };
                if matches {
                    return Ok(super::file_facts::attrs_plan(
                        &dest,
                        st,
                        &attrs,
                        false,
                        "file already exists".into(),
                    ));
                }
            }
        }
        if let Some(p) = parent(&dest) {
            if fact(ctx, &p).is_some_and(|f| f.kind == FileKind::Missing) {
                return Err(format!("Destination {p} does not exist"));
            }
        }
        let timeout: u64 = match args.str("timeout")? {
            Some(t) => t
                .parse()
                .map_err(|_| format!("argument `timeout` must be a number, got {t:?}"))?,
            None => 10,
        };
        let mut plan = Plan::run(
            "OK",
            script(&url, &dest, checksum.as_ref(), &attrs, timeout),
        );
        plan.diff = Some(format!("{dest} downloaded from {url}\n"));
        let old = (st.kind != FileKind::Missing).then_some(st);
        plan.updates = vec![FactUpdate::File(
            dest.clone(),
            FileState {
                kind: FileKind::File,
                sha256: checksum
                    .as_ref()
                    .filter(|(a, _)| a == "sha256")
                    .map(|(_, h)| h.clone()),
                mode: attrs.mode.or(old.and_then(|o| o.mode)).or(Some(0o644)),
                owner: attrs.owner.clone().or(old.and_then(|o| o.owner.clone())),
                group: attrs.group.clone().or(old.and_then(|o| o.group.clone())),
                ..FileState::default()
            },
        )];
        Ok(plan)
    }

    fn returns(&self, args: &Args, _ctx: &Context) -> Result<Map<String, Value>, String> {
        Ok(Map::from_iter([
            ("dest".to_string(), json!(path_arg(args, &["dest"])?)),
            ("url".to_string(), json!(args.req_str("url")?)),
        ]))
    }
}

/// `sha256:HEX` → ("sha256", "hex"); a checksum file's URL is refused.
fn parse_checksum(c: &str) -> Result<(String, String), String> {
    let (algo, hex) = c
        .split_once(':')
        .ok_or_else(|| format!("checksum {c:?} is not ALGORITHM:HEX"))?;
    if !ALGORITHMS.contains(&algo) {
        return Err(format!(
            "checksum: {algo} is not supported by kubestrap (one of {})",
            ALGORITHMS.join(", ")
        ));
    }
    if hex.contains("://") {
        return Err(
            "checksum: a URL of a checksum file is not supported by kubestrap: give ALGORITHM:HEX"
                .into(),
        );
    }
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("checksum {c:?} is not ALGORITHM:HEX"));
    }
    Ok((algo.to_string(), hex.to_lowercase()))
}

/// Download to a temporary file beside dest, check, set attributes, rename.
fn script(
    url: &str,
    dest: &str,
    checksum: Option<&(String, String)>,
    a: &Attrs,
    timeout: u64,
) -> String {
    let (u, p) = (q(url), q(dest));
    let mut s = format!(
        "set -e\np={p}\nd=$(dirname -- \"$p\")\nt=$(mktemp \"$d/.kubestrap.XXXXXX\")\ntrap 'rm -f \"$t\"' EXIT\n\
         if command -v curl >/dev/null 2>&1; then curl -fsSL --max-time {timeout} -o \"$t\" -- {u}\n\
         elif command -v wget >/dev/null 2>&1; then wget -q -T {timeout} -O \"$t\" -- {u}\n\
         else echo 'get_url: neither curl nor wget is on the host' >&2; exit 127; fi\n"
    );
    if let Some((algo, hex)) = checksum {
        s.push_str(&format!(
            "a=$({algo}sum \"$t\" | cut -d' ' -f1)\n\
             if [ \"$a\" != {hex} ]; then echo \"The checksum for $t did not match {hex}; it was: $a.\" >&2; exit 1; fi\n"
        ));
    }
    match a.mode {
        Some(m) => s.push_str(&format!("chmod {m:o} \"$t\"\n")),
        None => s.push_str(
            "if [ -e \"$p\" ]; then chmod --reference=\"$p\" \"$t\"; else chmod 644 \"$t\"; fi\n",
        ),
    }
    s.push_str("if [ -e \"$p\" ]; then chown --reference=\"$p\" \"$t\"; fi\n");
    let spec = match (&a.owner, &a.group) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.clone()),
        (None, Some(g)) => Some(format!(":{g}")),
        (None, None) => None,
    };
    if let Some(spec) = spec {
        s.push_str(&format!("chown {} \"$t\"\n", q(&spec)));
    }
    s.push_str("sync \"$t\"\nmv -f -- \"$t\" \"$p\"\ntrap - EXIT\n");
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::file_facts::sha256_hex;
    use super::super::test_kit::{args, check_files, dir, file, missing, only_run};
    use super::*;

    const URL: &str = "http://10.0.0.1:8000/tool.tar.gz";
    const DEST: &str = "/opt/tool.tar.gz";

    /// (what, args, dest's state, whether it downloads)
    #[test]
    fn downloads_only_what_is_not_there() {
        let sum = format!("sha256:{}", sha256_hex(b"bits"));
        let other = format!("sha256:{}", sha256_hex(b"other"));
        let table: Vec<(&str, Value, FileState, bool)> = vec![
            ("missing", json!({}), missing(), true),
            ("there, no checksum", json!({}), file("bits"), false),
            ("there, force", json!({"force": true}), file("bits"), true),
            (
                "checksum matches",
                json!({"checksum": sum}),
                file("bits"),
                false,
            ),
            (
                "checksum differs",
                json!({"checksum": other}),
                file("bits"),
                true,
            ),
            (
                "sha1 from the content",
                json!({"checksum": "sha1:C9E1E8C63A32CB4B6FBEB0D4C2A9E8B2E0B6BBC1"}),
                file("bits"),
                true,
            ),
        ];
        for (what, extra, st, downloads) in table {
            let mut a = json!({"url": URL, "dest": DEST});
            a.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let plan = check_files(&GetUrl, a, &[(DEST, st), ("/opt", dir())])
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(plan.changed, downloads, "{what}: {plan:?}");
            if !downloads {
                assert_eq!(plan.msg, "file already exists", "{what}");
            }
        }
        let plan = check_files(
            &GetUrl,
            json!({"url": URL, "dest": DEST, "checksum": sum, "mode": "0600"}),
            &[(DEST, missing()), ("/opt", dir())],
        )
        .unwrap();
        let (s, _) = only_run(&plan);
        assert!(
            s.contains("curl -fsSL --max-time 10 -o \"$t\" -- 'http://10.0.0.1:8000/tool.tar.gz'"),
            "{s}"
        );
        assert!(s.contains("a=$(sha256sum \"$t\" | cut -d' ' -f1)"), "{s}");
        assert!(s.find("sha256sum").unwrap() < s.find("mv -f").unwrap());
        assert!(s.contains("chmod 600 \"$t\""), "{s}");
    }

    #[test]
    fn refusals_and_errors_name_the_argument() {
        let refused =
            |c: &str| GetUrl.refuse(&args(json!({"url": URL, "dest": DEST, "checksum": c})).0);
        assert_eq!(
            refused("md5:abc"),
            vec![("checksum".to_string(), "checksum: md5 is not supported by kubestrap (one of sha1, sha224, sha256, sha384, sha512)".to_string())]
        );
        assert_eq!(
            refused("sha256:https://x/SHA256SUMS")[0].1,
            "checksum: a URL of a checksum file is not supported by kubestrap: give ALGORITHM:HEX"
        );
        assert!(refused("sha256:ab12").is_empty());
        let err = check_files(
            &GetUrl,
            json!({"url": "file:///etc/passwd", "dest": DEST}),
            &[(DEST, missing()), ("/opt", dir())],
        )
        .unwrap_err();
        assert_eq!(
            err,
            "url file:///etc/passwd is not an http, https or ftp URL"
        );
    }
}
