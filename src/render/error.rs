//! RenderError and ExtraVarsError: what goes wrong rendering a template or an expression, or reading `-e`.

use minijinja::ErrorKind;

/// A template or expression that cannot be rendered.
/// Its Display is the one line shown after the task's `FILE:LINE: `.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A variable no scope defines.
    #[error("undefined variable `{name}`")]
    UndefinedVariable { name: String },
    /// An expression, or a part of one, that evaluated to undefined.
    #[error("undefined value in `{expr}`")]
    UndefinedIn { expr: String },
    /// Undefined, where minijinja knows no source text to show.
    #[error("undefined value")]
    Undefined,
    /// A template's own message (`mandatory('why')`).
    #[error("{0}")]
    Raised(String),
    #[error("syntax error: {detail}")]
    Syntax { detail: String },
    /// A filter, test or operation that failed.
    #[error("{kind}{}", if .detail.is_empty() { String::new() } else { format!(": {}", .detail) })]
    Failed { kind: ErrorKind, detail: String },
    /// A template file's error, with its name and (when known) line.
    #[error("{template}{}: {source}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    InTemplate {
        template: String,
        line: Option<usize>,
        #[source]
        source: Box<RenderError>,
    },
    /// A value that cannot become JSON (undefined, or not iterable as it claims).
    #[error("the expression produced an undefined value")]
    UndefinedResult,
    #[error("{0}")]
    Convert(#[source] minijinja::Error),
}

/// An `-e` argument that is neither key=value, a YAML mapping nor a readable @file.
#[derive(Debug, thiserror::Error)]
pub enum ExtraVarsError {
    /// `-e @FILE` that cannot be read.
    #[error("-e @{path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("-e {arg}: not a YAML mapping: {source}")]
    Yaml {
        arg: String,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("-e {arg}: extra vars must be a mapping")]
    NotMapping { arg: String },
    #[error("-e {pair:?}: expected key=value, @file.yaml or a YAML mapping")]
    Pair { pair: String },
    #[error("-e {pair:?}: empty variable name")]
    EmptyName { pair: String },
}

impl From<&minijinja::Error> for RenderError {
    /// One line for a minijinja error; undefined variables are named plainly.
    fn from(e: &minijinja::Error) -> RenderError {
        let detail = e.detail().unwrap_or_default();
        match e.kind() {
            ErrorKind::UndefinedError => match undefined_name(detail) {
                Some(name) => RenderError::UndefinedVariable { name: name.into() },
                // `mandatory('why')` brings its own message.
                None if !detail.is_empty() && !detail.contains("is undefined") => {
                    RenderError::Raised(detail.to_string())
                }
                None => match (e.template_source(), e.range()) {
                    (Some(src), Some(r)) if src.get(r.clone()).is_some() => {
                        RenderError::UndefinedIn {
                            expr: src[r].to_string(),
                        }
                    }
                    _ => RenderError::Undefined,
                },
            },
            ErrorKind::SyntaxError => RenderError::Syntax {
                detail: detail.to_string(),
            },
            kind => RenderError::Failed {
                kind,
                detail: detail.to_string(),
            },
        }
    }
}

impl From<minijinja::Error> for RenderError {
    fn from(e: minijinja::Error) -> RenderError {
        RenderError::from(&e)
    }
}

/// `x` from minijinja's "`x` is undefined".
fn undefined_name(detail: &str) -> Option<&str> {
    detail.strip_prefix('`')?.strip_suffix("` is undefined")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_error_names_template_and_line() {
        let inner = RenderError::UndefinedVariable { name: "x".into() };
        let e = RenderError::InTemplate {
            template: "a.j2".into(),
            line: Some(3),
            source: Box::new(inner),
        };
        assert_eq!(e.to_string(), "a.j2:3: undefined variable `x`");
        let e = RenderError::InTemplate {
            template: "a.j2".into(),
            line: None,
            source: Box::new(RenderError::Undefined),
        };
        assert_eq!(e.to_string(), "a.j2: undefined value");
    }

    #[test]
    fn a_failed_filter_shows_kind_and_detail() {
        let e = minijinja::Error::new(ErrorKind::InvalidOperation, "boom");
        let shown = RenderError::from(&e).to_string();
        assert_eq!(shown, format!("{}: boom", ErrorKind::InvalidOperation));
        let bare = minijinja::Error::from(ErrorKind::InvalidOperation);
        assert_eq!(
            RenderError::from(&bare).to_string(),
            ErrorKind::InvalidOperation.to_string()
        );
    }
}
