//! `kubestrap exec -m MODULE -a ARGS PATTERN`: one module, once, on every matching host, as Ansible's ad-hoc mode.
//!
//! The task becomes a one-task play held in memory (`hosts: PATTERN`, no
//! fact gathering, as `ansible` builds it) and runs through the engine as
//! `kubestrap run` runs a playbook, so every module, `--check`, `--diff`
//! and become behave as they do in a playbook; results are shown as
//! Ansible's ad-hoc mode shows them (`report::adhoc`).

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value as Yaml};

use super::connect::SshRequest;
use crate::engine::{RunRequest, Session};
use crate::playbook::Playbook;
use crate::{inventory, Error, ExitCode};

/// What `exec -m` was asked to run.
pub struct AdHocRequest {
    /// Inventory, `--limit`, forks, check, diff, extra vars.
    pub run: RunRequest,
    /// The play's `hosts:`.
    pub pattern: String,
    pub module: String,
    /// `-a`: `key=value` words, free-form text for command/shell, or a JSON object.
    pub args: Option<String>,
}

/// The name errors and `ansible_play_name`-style variables see for the play.
const PLAY_NAME: &str = "Ansible Ad-Hoc";

/// Modules that have nothing to do without arguments (Ansible's
/// `MODULE_REQUIRE_ARGS`, those kubestrap has).
const REQUIRE_ARGS: &[&str] = &["command", "shell"];

/// Run the module on every host the pattern selects; the exit code covers every host.
pub fn run(req: AdHocRequest, ssh: &SshRequest) -> Result<ExitCode, Error> {
    let inv = inventory::load_hosts(&req.run.inventory).map_err(Error::Inventory)?;
    let book = load_play(&req.pattern, &req.module, req.args.as_deref())?;
    let reach = ssh.reach_all(&inv)?;
    // The hosts the pattern and --limit both select are the run's: the
    // recap and the exit code count them alone.
    let hosts = crate::pattern::select_within(&inv, &req.pattern, &req.run.limit)?;
    let run = RunRequest {
        adhoc: true,
        limit: hosts.join(","),
        ..req.run
    };
    let session = Session::with_inventory(run, reach, inv, book, PathBuf::from("."))?;
    session.finish(async |runner| runner.run().await)
}

/// The one-task play, checked as a playbook is; errors name the module.
pub fn load_play(pattern: &str, module: &str, args: Option<&str>) -> Result<Playbook, Error> {
    let text = play_text(pattern, module, args)?;
    crate::playbook::load_str(Path::new("<ad-hoc>"), &text).map_err(|errs| {
        let msgs = errs.iter().map(|e| format!("-m {module}: {}", e.message));
        Error::Playbook(msgs.collect())
    })
}

/// The one-task play, as YAML the playbook parser reads.
pub fn play_text(pattern: &str, module: &str, args: Option<&str>) -> Result<String, Error> {
    let args = args.map(str::trim).filter(|a| !a.is_empty());
    let short = module.rsplit('.').next().unwrap_or(module);
    if args.is_none() && REQUIRE_ARGS.contains(&short) {
        return Err(Error::Playbook(vec![format!(
            "-m {module}: no argument passed (give the command with -a)"
        )]));
    }
    let args = match args {
        None => Yaml::Null,
        // A JSON object is the arguments as they are, as `ansible -a '{…}'`.
        Some(a) if a.starts_with('{') && a.ends_with('}') => {
            match serde_json::from_str::<serde_json::Value>(a) {
                Ok(v) => serde_yaml::to_value(v).unwrap_or(Yaml::String(a.into())),
                Err(_) => Yaml::String(a.into()),
            }
        }
        Some(a) => Yaml::String(a.into()),
    };
    let mut task = Mapping::new();
    task.insert("name".into(), module.into());
    task.insert(module.into(), args);
    let mut play = Mapping::new();
    play.insert("name".into(), PLAY_NAME.into());
    play.insert("hosts".into(), pattern.into());
    play.insert("gather_facts".into(), false.into());
    play.insert("tasks".into(), Yaml::Sequence(vec![Yaml::Mapping(task)]));
    serde_yaml::to_string(&Yaml::Sequence(vec![Yaml::Mapping(play)]))
        .map_err(|e| Error::Playbook(vec![format!("-m {module}: the arguments: {e}")]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(pattern: &str, module: &str, args: Option<&str>) -> Yaml {
        let text = play_text(pattern, module, args).unwrap();
        let book: Yaml = serde_yaml::from_str(&text).unwrap();
        book[0]["tasks"][0].clone()
    }

    #[test]
    fn arguments_reach_the_task_as_ansible_takes_them() {
        let table: Vec<(&str, Option<&str>, Yaml)> = vec![
            ("shell", Some("df -h"), "df -h".into()),
            ("ping", None, Yaml::Null),
            (
                "copy",
                Some(" src=a dest='/b c' "),
                "src=a dest='/b c'".into(),
            ),
            (
                "apt",
                Some(r#"{"name": "x", "state": "present"}"#),
                serde_yaml::from_str("{name: x, state: present}").unwrap(),
            ),
            ("debug", Some("{not json}"), "{not json}".into()),
        ];
        for (module, args, want) in table {
            assert_eq!(task("all", module, args)[module], want, "{module}");
        }
    }

    #[test]
    fn the_play_is_ansibles_ad_hoc_play() {
        let text = play_text("web:&db", "ping", None).unwrap();
        let book: Yaml = serde_yaml::from_str(&text).unwrap();
        assert_eq!(book[0]["hosts"], Yaml::from("web:&db"));
        assert_eq!(book[0]["gather_facts"], Yaml::from(false));
        assert_eq!(book[0]["name"], Yaml::from(PLAY_NAME));
    }

    #[test]
    fn command_modules_need_arguments() {
        for module in ["shell", "ansible.builtin.command"] {
            let err = play_text("all", module, Some("  "))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("-m {module}: no argument passed")),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_input_names_the_module() {
        let table = [
            ("copy", Some("nonsense"), "-m copy: "),
            ("no_such_module", None, "-m no_such_module: "),
        ];
        for (module, args, want) in table {
            let Err(err) = load_play("all", module, args) else {
                panic!("{module} {args:?} was taken");
            };
            let err = err.to_string();
            assert!(err.starts_with(want), "{err}");
        }
        assert!(load_play("all", "copy", Some("src=a dest=/b")).is_ok());
    }
}
