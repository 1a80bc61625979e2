//! Kernel modules: the ones loaded, and whether the kernel can load any at all.

use super::Kind;
use crate::facts::model::{FactRequest, Facts};
use crate::facts::sections::{body, first_line, lines, Section};

const MODULES: &str = "modules";
const LOADABLE: &str = "loadable-modules";

pub(crate) struct Modules;

impl Kind for Modules {
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!(
            "m {MODULES}; {{ cut -d' ' -f1 /proc/modules; ls /sys/module; }} 2>/dev/null\n\
             m {LOADABLE}; if [ -e /proc/modules ]; then echo yes; else echo no; fi\n"
        ));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        f.kernel_modules = lines(body(s, MODULES)).collect();
        f.loadable_modules = loadable(s)?;
        Ok(())
    }
}

/// `yes` or `no`; an absent section (older output) leaves the default, true.
fn loadable(s: &[Section<'_>]) -> Result<bool, String> {
    match first_line(s, LOADABLE).as_str() {
        "" | "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!(
            "fact section `{LOADABLE}`: expected yes or no, got {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::read;
    use super::*;

    /// (sections, loaded modules, loadable)
    #[test]
    fn module_sections_from_fixtures() {
        type Row<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], bool);
        let table: &[Row] = &[
            (&[], &[], true),
            (&[(LOADABLE, "yes\n")], &[], true),
            (
                &[
                    (MODULES, "overlay\nbr_netfilter\noverlay\n"),
                    (LOADABLE, "no\n"),
                ],
                &["br_netfilter", "overlay"],
                false,
            ),
        ];
        for (sections, modules, loadable) in table {
            let f = read(&Modules, sections, &[]).unwrap();
            let got: Vec<&str> = f.kernel_modules.iter().map(String::as_str).collect();
            assert_eq!((&got[..], f.loadable_modules), (*modules, *loadable));
        }
        let err = read(&Modules, &[(LOADABLE, "maybe\n")], &[]).unwrap_err();
        assert!(err.contains("`loadable-modules`"), "{err}");
    }
}
