//! The shipped playbooks and templates, compiled into the binary.
//!
//! The binary works anywhere without its source tree, yet every step stays
//! readable and changeable: `kubestrap apply --playbooks DIR` takes a
//! playbook from DIR when DIR has one of that name, and templates are looked
//! up in a playbook's `templates/` directory before these.

/// Playbooks by file name.
pub const PLAYBOOKS: &[(&str, &str)] = &[
    ("prepare.yaml", include_str!("../playbooks/prepare.yaml")),
    ("runtime.yaml", include_str!("../playbooks/runtime.yaml")),
    ("packages.yaml", include_str!("../playbooks/packages.yaml")),
    (
        "control-plane.yaml",
        include_str!("../playbooks/control-plane.yaml"),
    ),
    ("nodes.yaml", include_str!("../playbooks/nodes.yaml")),
    ("cni.yaml", include_str!("../playbooks/cni.yaml")),
    ("upgrade.yaml", include_str!("../playbooks/upgrade.yaml")),
    ("reset.yaml", include_str!("../playbooks/reset.yaml")),
    ("remove.yaml", include_str!("../playbooks/remove.yaml")),
];

/// Templates by the name a `template:` task gives as `src`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "containerd-config.toml.j2",
        include_str!("../templates/containerd-config.toml.j2"),
    ),
    (
        "kubeadm-init.yaml.j2",
        include_str!("../templates/kubeadm-init.yaml.j2"),
    ),
    (
        "kubeadm-join.yaml.j2",
        include_str!("../templates/kubeadm-join.yaml.j2"),
    ),
    (
        "kubeadm-token.yaml.j2",
        include_str!("../templates/kubeadm-token.yaml.j2"),
    ),
    (
        "kube-vip.yaml.j2",
        include_str!("../templates/kube-vip.yaml.j2"),
    ),
    (
        "network/ifupdown.j2",
        include_str!("../templates/network/ifupdown.j2"),
    ),
    (
        "network/netplan.j2",
        include_str!("../templates/network/netplan.j2"),
    ),
    (
        "network/networkd.j2",
        include_str!("../templates/network/networkd.j2"),
    ),
    (
        "network/networkmanager.j2",
        include_str!("../templates/network/networkmanager.j2"),
    ),
];

pub fn playbook(name: &str) -> Option<&'static str> {
    PLAYBOOKS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn template(name: &str) -> Option<&'static str> {
    TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_shipped_playbook_loads_without_problems() {
        for (name, text) in PLAYBOOKS {
            if let Err(errs) = crate::playbook::load_str(Path::new(name), text) {
                let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                panic!(
                    "shipped playbook {name} does not load:\n{}",
                    lines.join("\n")
                );
            }
        }
    }

    #[test]
    fn every_template_a_shipped_playbook_names_is_shipped() {
        for (name, text) in PLAYBOOKS {
            for line in text.lines() {
                // A templated src (copy's local file) is the sysadmin's, not shipped.
                if let Some(src) = line
                    .trim()
                    .strip_prefix("src: ")
                    .filter(|s| !s.contains("{{"))
                {
                    assert!(
                        template(src.trim()).is_some(),
                        "{name} renders {src}, which is not in TEMPLATES"
                    );
                }
            }
        }
    }
}
