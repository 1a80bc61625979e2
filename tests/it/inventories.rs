//! Inventories for the lab's air-gapped clusters: its own Debian mirror and Kubernetes repository.

use crate::lab::Lab;

/// A kubestrap inventory for `hosts` (name, role) pointed at the lab's own
/// mirror and Kubernetes repository, as an air-gapped campus would be.
/// `cluster_extra` is more YAML under `cluster:`, indented by two spaces.
pub fn lab_cluster(
    lab: &Lab,
    hosts: &[(&str, &str)],
    pod_subnet: &str,
    cluster_extra: &str,
) -> String {
    let repo = lab.repo();
    let mut y = format!(
        "cluster:\n  name: lab\n  kubernetes_version: \"{version}\"\n  pod_subnet: {pod_subnet}\n  service_subnet: 10.233.0.0/18\n\
         \x20 apt_mirror:\n    uris: {deb}\n    suites: [{suite}]\n    components: [{comp}]\n    signed_by: {deb_key}\n\
         \x20 kubernetes_packages:\n    repository: {k8s}\n    key_url: {k8s_key}\n    key_fingerprint: {fpr}\n{cluster_extra}\
         defaults:\n  user: root\n  identity_file: {key}\nhosts:\n",
        version = repo.k8s_version,
        deb = repo.debian_url,
        suite = repo.debian_suite,
        comp = repo.debian_components,
        deb_key = repo.debian_key_url,
        k8s = repo.k8s_url,
        k8s_key = repo.k8s_key_url,
        fpr = repo.k8s_key_fingerprint,
        key = lab.key().display(),
    );
    for (h, role) in hosts {
        y.push_str(&format!(
            "  {h}:\n    address: {}\n    roles: [{role}]\n",
            lab.address(h)
        ));
    }
    y
}

/// The `changed=N` of `host`'s PLAY RECAP line.
pub fn changed(stdout: &str, host: &str) -> u32 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{host} ")) && l.contains(" : ok="))
        .unwrap_or_else(|| panic!("no recap line for {host}:\n{stdout}"));
    line.split("changed=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
