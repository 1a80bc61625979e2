//! `kubestrap inventory show`: the resolved inventory as a table or as JSON.
//!
//! Shows what kubestrap will actually use after defaults, group vars and
//! aliases are applied, so a sysadmin can check an Ansible inventory's reading
//! before anything connects.

use super::model::{Inventory, Role};

/// What applies where the inventory says nothing, worked out by the caller
/// (ssh_config and OpenSSH's defaults, the cluster defaults).
#[derive(Debug, Clone, Default)]
pub struct Effective {
    /// Per host, in inventory order: port, user and identity as SSH will
    /// use them; None when the host could not be resolved.
    pub hosts: Vec<Option<(u16, String, String)>>,
    /// The cluster's settings, defaults filled in: (key, value).
    pub cluster: Vec<(&'static str, String)>,
}

const HEADERS: [&str; 8] = [
    "HOST",
    "ADDRESS",
    "PORT",
    "USER",
    "IDENTITY",
    "BECOME",
    "ROLES",
    "CLUSTER IP",
];

/// Render for humans (`json = false`), with the effective value wherever
/// the inventory leaves one unset, or as pretty JSON of the whole model.
pub fn render_show(inv: &Inventory, json: bool, effective: &Effective) -> String {
    if json {
        return serde_json::to_string_pretty(inv)
            .map(|s| s + "\n")
            .unwrap_or_else(|e| format!("{{\"error\": {:?}}}\n", e.to_string()));
    }
    let rows: Vec<[String; 8]> = inv
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let ssh = effective.hosts.get(i).cloned().flatten();
            let roles: Vec<&str> = h
                .roles
                .iter()
                .map(|r| match r {
                    Role::ControlPlane => "control_plane",
                    Role::Worker => "worker",
                })
                .collect();
            let become_ = match (h.become_, &h.become_user) {
                (false, _) => "no".to_string(),
                (true, None) => "yes".to_string(),
                (true, Some(u)) => format!("yes ({u})"),
            };
            [
                h.name.clone(),
                h.ssh_target().to_string(),
                h.port
                    .or(ssh.as_ref().map(|s| s.0))
                    .map_or("-".into(), |p| p.to_string()),
                h.user
                    .clone()
                    .or(ssh.as_ref().map(|s| s.1.clone()))
                    .unwrap_or_else(|| "-".into()),
                h.identity_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .or(ssh.map(|s| s.2))
                    .unwrap_or_else(|| "-".into()),
                become_,
                if roles.is_empty() {
                    "-".into()
                } else {
                    roles.join(",")
                },
                // The node IP is the SSH address unless `ip` names another.
                h.ip.map(|ip| ip.to_string())
                    .unwrap_or_else(|| h.ssh_target().to_string()),
            ]
        })
        .collect();

    let mut widths = HEADERS.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(&HEADERS.map(String::from));
    for row in &rows {
        line(row);
    }
    let settings: Vec<String> = effective
        .cluster
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    out.push_str(&format!("\ncluster: {}\n", settings.join(" ")));
    out
}
