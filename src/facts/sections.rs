//! Splitting the gather script's output into its named sections.

/// First bytes of every section marker line.
pub(crate) const MARK: &[u8] = b"\x1eKS:";

/// The first section (`begin <format>`) and the last, around every kind's.
pub(crate) const BEGIN: &str = "begin";
pub(crate) const END: &str = "end";

/// One section: its name (`os-release`, `content 3`, …) and its raw body.
#[derive(Debug)]
pub(crate) struct Section<'a> {
    pub name: &'a str,
    pub body: &'a [u8],
}

/// All sections in output order. Text before the first marker (a login
/// banner, a `sudo` lecture on stdout) is ignored; a missing `begin` or
/// `end` means this is not, or not all of, the script's output.
pub(crate) fn split(output: &[u8]) -> Result<Vec<Section<'_>>, String> {
    let mut sections: Vec<Section<'_>> = Vec::new();
    let mut pos = 0;
    let mut open: Option<(&str, usize)> = None;
    while pos <= output.len() {
        let end = output[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(output.len(), |i| pos + i);
        let line = &output[pos..end];
        if let Some(name) = line.strip_prefix(MARK) {
            if let Some((n, start)) = open.take() {
                sections.push(Section {
                    name: n,
                    body: &output[start..pos],
                });
            }
            let name = std::str::from_utf8(name)
                .map_err(|_| "fact output: a section marker is not UTF-8".to_string())?;
            open = Some((name.trim_end_matches('\r'), (end + 1).min(output.len())));
        }
        pos = end + 1;
    }
    if let Some((n, start)) = open {
        sections.push(Section {
            name: n,
            body: &output[start..],
        });
    }
    match sections.first() {
        Some(s) if s.name.starts_with(BEGIN) => {}
        _ => {
            return Err(
                "fact output: no `begin` section: not the output of the gather script".into(),
            )
        }
    }
    if !sections.iter().any(|s| s.name == END) {
        return Err("fact output: no `end` section: the output was cut short".into());
    }
    Ok(sections)
}

/// The body of the first section called `name`, empty when absent.
pub(crate) fn body<'a>(sections: &[Section<'a>], name: &str) -> &'a [u8] {
    sections
        .iter()
        .find(|s| s.name == name)
        .map_or(&[], |s| s.body)
}

/// The first line of section `name`, trimmed; empty when absent.
pub(crate) fn first_line(s: &[Section<'_>], name: &str) -> String {
    lines(body(s, name))
        .next()
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

/// A section holding one number; empty means unknown (0).
pub(crate) fn number<T: std::str::FromStr + Default>(
    s: &[Section<'_>],
    name: &str,
) -> Result<T, String> {
    let text = first_line(s, name);
    if text.is_empty() {
        return Ok(T::default());
    }
    text.parse()
        .map_err(|_| format!("fact section `{name}`: expected a number, got {text:?}"))
}

/// The body as text, lines without their newline.
pub(crate) fn lines(body: &[u8]) -> impl Iterator<Item = String> + '_ {
    body.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| String::from_utf8_lossy(l).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_hold_what_lies_between_markers() {
        let out = b"banner\n\x1eKS:begin 1\n\x1eKS:a\nx\ny\n\x1eKS:b\n\x1eKS:end\n";
        let s = split(out).unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(body(&s, "a"), b"x\ny\n");
        assert_eq!(body(&s, "b"), b"");
        assert_eq!(body(&s, "nope"), b"");
    }

    #[test]
    fn cut_short_and_foreign_output_are_errors() {
        assert!(split(b"").unwrap_err().contains("begin"));
        assert!(split(b"\x1eKS:begin 1\n\x1eKS:a\n")
            .unwrap_err()
            .contains("cut short"));
    }
}
