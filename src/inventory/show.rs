//! `kubestrap inventory show`: the resolved inventory as a table or as JSON.
//!
//! Shows what kubestrap will actually use after defaults, group vars and
//! aliases are applied, so a sysadmin can check an Ansible inventory's reading
//! before anything connects.

use super::model::{Inventory, Role};

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

/// Render for humans (`json = false`) or as pretty JSON of the whole model.
pub fn render_show(inv: &Inventory, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(inv)
            .map(|s| s + "\n")
            .unwrap_or_else(|e| format!("{{\"error\": {:?}}}\n", e.to_string()));
    }
    let rows: Vec<[String; 8]> = inv
        .hosts
        .iter()
        .map(|h| {
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
                h.port.map_or("-".into(), |p| p.to_string()),
                h.user.clone().unwrap_or_else(|| "-".into()),
                h.identity_file
                    .as_ref()
                    .map_or("-".into(), |p| p.display().to_string()),
                become_,
                if roles.is_empty() {
                    "-".into()
                } else {
                    roles.join(",")
                },
                h.ip.map_or("-".into(), |ip| ip.to_string()),
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
    let c = &inv.cluster;
    let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    out.push_str(&format!(
        "\ncluster: name={} kubernetes_version={} control_plane_endpoint={} pod_subnet={} service_subnet={}\n",
        field(&c.name),
        field(&c.kubernetes_version),
        field(&c.control_plane_endpoint),
        field(&c.pod_subnet),
        field(&c.service_subnet),
    ));
    out
}
