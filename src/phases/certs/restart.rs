//! Restarting a control plane's static Pods the way kubeadm's documentation says: each manifest out of the kubelet's directory for one fileCheckFrequency, then back.
//!
//! kubernetes.io, "Certificate Management with kubeadm": after `kubeadm
//! certs renew`, "temporarily remove the file from /etc/kubernetes/manifests/
//! and wait for 20 seconds (see the fileCheckFrequency value in
//! KubeletConfiguration)"; the kubelet stops the Pod, and recreates it once
//! the file is back. The manifests wait in a directory beside it that the
//! kubelet does not watch, on the same file system (a rename each way).

use std::time::Duration;

pub const MANIFESTS: &str = "/etc/kubernetes/manifests";
/// Where the manifests wait while their Pods stop.
pub const HOLDING: &str = "/etc/kubernetes/manifests.kubestrap-restart";
pub const KUBELET_CONFIG: &str = "/var/lib/kubelet/config.yaml";
/// The kubelet's default fileCheckFrequency.
pub const DEFAULT_FREQUENCY: Duration = Duration::from_secs(20);
/// A longer fileCheckFrequency than this is not waited for in full.
const MAX_FREQUENCY: Duration = Duration::from_secs(300);

/// Moves every manifest out (a run stopped before left in the holding
/// directory is treated as moved out already), prints the kubelet's
/// fileCheckFrequency as `frequency VALUE` and each manifest as `out NAME`.
/// Fails when there is no manifest to restart.
pub fn move_out_script() -> String {
    format!(
        "set -e\n\
         mkdir -p {HOLDING}\n\
         printf 'frequency %s\\n' \"$(sed -n 's/^fileCheckFrequency:[[:space:]]*//p' {KUBELET_CONFIG} 2>/dev/null | tr -d '\"')\"\n\
         for f in {MANIFESTS}/*.yaml; do [ -e \"$f\" ] || continue; mv -f \"$f\" {HOLDING}/; done\n\
         n=0\n\
         for f in {HOLDING}/*.yaml; do [ -e \"$f\" ] || continue; printf 'out %s\\n' \"${{f##*/}}\"; n=$((n+1)); done\n\
         [ \"$n\" -gt 0 ] || {{ echo 'no static Pod manifest in {MANIFESTS}' >&2; rmdir {HOLDING}; exit 1; }}\n"
    )
}

/// Puts every manifest back and removes the holding directory; safe to
/// run again, and when nothing was moved.
pub fn move_back_script() -> String {
    format!(
        "[ -d {HOLDING} ] || exit 0\n\
         for f in {HOLDING}/*.yaml; do [ -e \"$f\" ] || continue; mv -f \"$f\" {MANIFESTS}/ || exit 1; done\n\
         rmdir {HOLDING}\n"
    )
}

/// What the move-out script printed: the frequency to wait and the
/// manifests moved.
pub fn moved(output: &str) -> (Duration, Vec<String>) {
    let mut frequency = DEFAULT_FREQUENCY;
    let mut names = Vec::new();
    for line in output.lines() {
        if let Some(v) = line.strip_prefix("frequency ") {
            frequency = go_duration(v.trim())
                .filter(|d| !d.is_zero())
                .unwrap_or(DEFAULT_FREQUENCY)
                .min(MAX_FREQUENCY);
        } else if let Some(n) = line.strip_prefix("out ") {
            names.push(n.to_string());
        }
    }
    (frequency, names)
}

/// A Go duration as KubeletConfiguration writes it: `20s`, `1m0s`, `1.5s`, `500ms`.
fn go_duration(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (printed by the move-out script, frequency, manifests)
    #[test]
    fn what_was_moved_from_fixtures() {
        let s = Duration::from_secs;
        let table: &[(&str, Duration, &[&str])] = &[
            (
                "frequency \nout etcd.yaml\nout kube-apiserver.yaml\n",
                s(20),
                &["etcd.yaml", "kube-apiserver.yaml"],
            ),
            (
                "frequency 5s\nout kube-apiserver.yaml\n",
                s(5),
                &["kube-apiserver.yaml"],
            ),
            ("frequency 1m0s\n", s(60), &[]),
            ("frequency 1.5s\n", Duration::from_millis(1500), &[]),
            ("frequency 0s\n", s(20), &[]),
            ("frequency soon\n", s(20), &[]),
            ("frequency 2h\n", s(300), &[]),
        ];
        for (out, freq, names) in table {
            assert_eq!(
                moved(out),
                (*freq, names.iter().map(|n| n.to_string()).collect()),
                "{out}"
            );
        }
    }

    /// The scripts against a real shell in a scratch tree: out, out again
    /// (nothing left behind twice), back, back again.
    #[test]
    fn manifests_go_out_and_come_back() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().display().to_string();
        let local = |script: String| {
            script
                .replace("/etc/kubernetes", &format!("{root}/etc"))
                .replace("/var/lib/kubelet", &format!("{root}/kubelet"))
        };
        let sh = |script: String| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(local(script))
                .output()
                .unwrap()
        };
        std::fs::create_dir_all(format!("{root}/etc/manifests")).unwrap();
        std::fs::create_dir_all(format!("{root}/kubelet")).unwrap();
        std::fs::write(
            format!("{root}/kubelet/config.yaml"),
            "kind: KubeletConfiguration\nfileCheckFrequency: 7s\n",
        )
        .unwrap();
        let empty = sh(move_out_script());
        assert!(!empty.status.success());
        assert!(String::from_utf8_lossy(&empty.stderr).contains("no static Pod manifest"));
        for m in ["etcd.yaml", "kube-apiserver.yaml"] {
            std::fs::write(format!("{root}/etc/manifests/{m}"), m).unwrap();
        }
        let out = sh(move_out_script());
        assert!(out.status.success(), "{out:?}");
        let want = (
            Duration::from_secs(7),
            vec!["etcd.yaml".to_string(), "kube-apiserver.yaml".to_string()],
        );
        assert_eq!(moved(&String::from_utf8_lossy(&out.stdout)), want);
        assert_eq!(
            std::fs::read_dir(format!("{root}/etc/manifests"))
                .unwrap()
                .count(),
            0
        );
        let again = sh(move_out_script());
        assert_eq!(moved(&String::from_utf8_lossy(&again.stdout)), want);
        for _ in 0..2 {
            assert!(sh(move_back_script()).status.success());
            assert_eq!(
                std::fs::read_to_string(format!("{root}/etc/manifests/etcd.yaml")).unwrap(),
                "etcd.yaml"
            );
            assert!(
                !std::path::Path::new(&format!("{root}/etc/manifests.kubestrap-restart")).exists()
            );
        }
    }
}
