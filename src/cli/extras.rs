//! Shell completions and the man page, generated from the clap definition in [`super`].
//!
//! Both are printed to stdout so packagers and users put them where their
//! system looks: `kubestrap completions bash > …/completions/kubestrap`,
//! `kubestrap man > …/man1/kubestrap.1`.

use std::io::Write;

use clap::CommandFactory;

use super::Cli;
use crate::{Error, ExitCode};

/// The shells `kubestrap completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "kubestrap", &mut out);
    out
}

/// The man page (section 1, roff), every subcommand included.
pub fn man_page() -> Result<Vec<u8>, std::io::Error> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    render_command_list(&mut out, &cmd)?;
    // One section per subcommand (and per nested one), with its options and
    // examples, so `man kubestrap` holds what `--help` shows.
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render_subcommand(&mut out, &format!("kubestrap {}", sub.get_name()), sub)?;
    }
    let mut tail = Vec::new();
    man.render_extra_section(&mut tail)?;
    man.render_version_section(&mut tail)?;
    // clap_mangen calls after_help "EXTRA"; kubestrap's is examples first.
    let tail = String::from_utf8_lossy(&tail).replace("\n.SH EXTRA\n", "\n.SH EXAMPLES\n");
    out.extend_from_slice(tail.as_bytes());
    Ok(out)
}

/// The COMMANDS list. clap_mangen's would point at kubestrap-exec(1) and
/// such, pages that do not exist: every command is a section of this page.
fn render_command_list(out: &mut Vec<u8>, cmd: &clap::Command) -> Result<(), std::io::Error> {
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("kubestrap {}", sub.get_name());
        writeln!(out, ".TP\n\\fB{}\\fR", roff(&name))?;
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        writeln!(
            out,
            "{} (section \\fB{}\\fR below).",
            roff(about.trim_end_matches('.')),
            roff(&name.to_uppercase())
        )?;
    }
    Ok(())
}

/// Text made safe for roff: backslashes and hyphens escaped, no line
/// starting with a control character.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.chars().next() {
        Some('.' | '\'') => format!("\\&{escaped}"),
        _ => escaped,
    }
}

fn render_subcommand(
    out: &mut Vec<u8>,
    path: &str,
    sub: &clap::Command,
) -> Result<(), std::io::Error> {
    let children: Vec<&clap::Command> = sub
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    if children.is_empty() {
        writeln!(out, ".SH \"{}\"", path.to_uppercase())?;
        let mut page = Vec::new();
        let man = clap_mangen::Man::new(sub.clone().bin_name(path));
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
        man.render_extra_section(&mut page)?;
        // Demote the sub-page's sections to subsections of this one.
        let page = String::from_utf8_lossy(&page)
            .replace("\n.SH ", "\n.SS ")
            .replace("\n.SS EXTRA\n", "\n.SS EXAMPLES\n");
        let page = match page.strip_prefix(".SH ") {
            Some(rest) => format!(".SS {rest}"),
            None => page,
        };
        out.extend_from_slice(page.as_bytes());
    }
    for child in children {
        render_subcommand(out, &format!("{path} {}", child.get_name()), child)?;
    }
    Ok(())
}

/// Show `bytes` (a completion script, the man page) as a document on
/// stdout; a closed pipe (`| head`) ends kubestrap quietly.
pub fn print(bytes: &[u8]) -> Result<ExitCode, Error> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    crate::report::say(crate::report::Event::Document(text));
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_completion_knows_every_subcommand_and_flag() {
        let script = String::from_utf8(completions(Shell::Bash)).unwrap();
        for word in [
            "apply",
            "exec",
            "inventory",
            "kubeconfig",
            "ca-hash",
            "--accept-new-host-keys",
        ] {
            assert!(script.contains(word), "{word} missing");
        }
        assert!(
            script.contains("complete -F"),
            "a bash completion: {script}"
        );
    }

    #[test]
    fn zsh_and_fish_completions_are_their_shells_own() {
        let zsh = String::from_utf8(completions(Shell::Zsh)).unwrap();
        assert!(zsh.starts_with("#compdef kubestrap"), "{zsh}");
        let fish = String::from_utf8(completions(Shell::Fish)).unwrap();
        assert!(fish.contains("complete -c kubestrap"), "{fish}");
        assert!(fish.contains("apply"));
    }

    #[test]
    fn man_page_is_roff_with_every_command_and_its_examples() {
        let page = String::from_utf8(man_page().unwrap()).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains("\n.TH kubestrap 1"),
            "{page}"
        );
        assert!(page.contains(".TH kubestrap 1"), "{page}");
        for section in [
            ".SH \"KUBESTRAP APPLY\"",
            ".SH \"KUBESTRAP INVENTORY CHECK\"",
            ".SH \"KUBESTRAP COMPLETIONS\"",
        ] {
            assert!(page.contains(section), "{section} missing");
        }
        assert!(page.contains("kubestrap apply \\-i inventory.yaml \\-\\-until prepared"));
        assert!(
            !page.contains("(1)"),
            "no pointer to a kubestrap-COMMAND(1) page that does not exist"
        );
        assert!(
            page.contains(".SH COMMANDS\n.TP\n\\fBkubestrap exec\\fR\n"),
            "{page}"
        );
        assert!(page.contains("Exit codes"), "the exit codes are in it");
        assert!(
            !page.contains("EXTRA"),
            "clap_mangen's section name is replaced"
        );
    }
}
