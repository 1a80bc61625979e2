//! slurp: a remote file's content, base64-encoded (`content`, `encoding`, `source`), never a change.
//!
//! The content comes with the play's one fact gathering, so a slurp costs
//! no command of its own; kubestrap brings back files up to 256 KiB this way
//! and refuses larger ones with their size.

use serde_json::{Map, Value};

use super::file_facts::{content_of, fact, path_arg};
use super::{Args, Context, Module, Plan};
use crate::facts::{FactRequest, FileKind};

pub struct Slurp;

const SRC: &[&str] = &["src", "path"];

impl Module for Slurp {
    fn name(&self) -> &'static str {
        "slurp"
    }

    fn params(&self) -> &'static [&'static str] {
        SRC
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![FactRequest::File {
            path: path_arg(args, SRC)?,
            content: true,
        }])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        // Read here too, so a missing file fails under --check as well.
        self.returns(args, ctx)?;
        Ok(Plan::noop(format!("{} read", path_arg(args, SRC)?)))
    }

    fn returns(&self, args: &Args, ctx: &Context) -> Result<Map<String, Value>, String> {
        let src = path_arg(args, SRC)?;
        let st = fact(ctx, &src).ok_or_else(|| format!("no facts were gathered for {src}"))?;
        let bytes = match st.kind {
            FileKind::Missing => return Err(format!("file not found: {src}")),
            FileKind::Directory => {
                return Err(format!("source is a directory and must be a file: {src}"))
            }
            _ => content_of(&src, st)?,
        };
        Ok(Map::from_iter([
            (
                "content".to_string(),
                Value::from(data_encoding::BASE64.encode(bytes)),
            ),
            ("encoding".to_string(), Value::from("base64")),
            ("source".to_string(), Value::from(src)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, dir, facts_of_files, file, missing, with_ctx};
    use super::*;
    use crate::facts::FileState;

    fn slurp(a: Value, st: FileState) -> Result<Map<String, Value>, String> {
        with_ctx(&facts_of_files(&[("/etc/a", st)]), |ctx| {
            let plan = Slurp.check(&args(a.clone()), ctx)?;
            assert!(!plan.changed && plan.actions.is_empty());
            Slurp.returns(&args(a), ctx)
        })
    }

    #[test]
    fn returns_base64_or_ansibles_error() {
        let r = slurp(json!({"src": "/etc/a"}), file("hi\n")).unwrap();
        assert_eq!(
            Value::Object(r),
            json!({"content": "aGkK", "encoding": "base64", "source": "/etc/a"})
        );
        let r = slurp(json!({"path": "/etc/a"}), file("")).unwrap();
        assert_eq!(r["content"], json!(""));
        assert_eq!(
            Slurp.needs(&args(json!({"src": "/etc/a"}))).unwrap(),
            vec![FactRequest::File {
                path: "/etc/a".into(),
                content: true
            }]
        );
        let cases = [
            (missing(), "file not found: /etc/a"),
            (dir(), "source is a directory and must be a file: /etc/a"),
        ];
        for (st, want) in cases {
            assert_eq!(slurp(json!({"src": "/etc/a"}), st).unwrap_err(), want);
        }
        let mut big = file("");
        big.content = None;
        big.size = Some(300_000);
        let err = slurp(json!({"src": "/etc/a"}), big).unwrap_err();
        assert!(err.starts_with("/etc/a is 300000 bytes"), "{err}");
    }
}
