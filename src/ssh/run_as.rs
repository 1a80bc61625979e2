//! The one rule for which user a command runs as on a host: Ansible's become, most specific setting first.

use super::Target;

/// A `become`/`become_user` pair as a task, a play or the command line sets it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Become<'a> {
    pub on: Option<bool>,
    pub user: Option<&'a str>,
}

/// The user to become for a command on `host`, None to run as the login
/// user. `layers` are the settings above the host's own, most specific
/// first (a task's, then its play's): the first that says `become` decides
/// whether, the first that names a user decides who, the host's inventory
/// settings (already merged with the CLI's `--become`) fill in the rest.
pub fn run_as(host: &Target, layers: &[Become]) -> Option<String> {
    let on = layers.iter().find_map(|l| l.on).unwrap_or(host.become_);
    on.then(|| {
        layers
            .iter()
            .find_map(|l| l.user)
            .unwrap_or(&host.become_user)
            .to_string()
    })
}

/// kubestrap's own bookkeeping on a host (its lock, the cluster's files)
/// always runs as root, through sudo when the login user is not root.
pub fn as_root() -> Option<&'static str> {
    Some("root")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(become_: bool, user: &str, become_user: &str) -> Target {
        Target {
            name: "h".into(),
            hostname: "h".into(),
            port: 22,
            user: user.into(),
            identity_files: Vec::new(),
            explicit_identities: false,
            jumps: Vec::new(),
            known_hosts: Vec::new(),
            become_,
            become_user: become_user.into(),
        }
    }

    #[test]
    fn the_most_specific_setting_wins() {
        let on = |u: Option<&'static str>| Become {
            on: Some(true),
            user: u,
        };
        let off = Become {
            on: Some(false),
            user: None,
        };
        let none = Become::default();
        let table: Vec<(Target, Vec<Become>, Option<&str>)> = vec![
            (host(false, "deploy", "root"), vec![], None),
            (host(true, "deploy", "root"), vec![], Some("root")),
            (host(true, "deploy", "root"), vec![off, on(None)], None),
            (
                host(false, "deploy", "root"),
                vec![none, on(Some("app"))],
                Some("app"),
            ),
            (
                host(false, "deploy", "root"),
                vec![on(None), on(Some("app"))],
                Some("app"),
            ),
            (
                host(true, "deploy", "postgres"),
                vec![none, none],
                Some("postgres"),
            ),
        ];
        for (h, layers, want) in table {
            assert_eq!(run_as(&h, &layers).as_deref(), want, "{layers:?}");
        }
    }
}
