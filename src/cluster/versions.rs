//! Kubernetes release versions (`1.31.4`, `v1.31.4`, a package's `1.31.4-1.1`) and their order.

use std::fmt;

/// A Kubernetes release, major.minor.patch; ordered as releases are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KubeVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KubeVersion {
            major,
            minor,
            patch,
        }
    }

    /// `1.31.4` or `v1.31.4`; a pre-release or build suffix (`-rc.1`,
    /// `+abc`) is ignored, so a release candidate counts as its release.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let core = t.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let mut num = || -> Option<u32> {
            let p = parts.next()?;
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let v = KubeVersion::new(num()?, num()?, num()?);
        parts.next().is_none().then_some(v)
    }

    /// A Debian package version of pkgs.k8s.io (`1.31.4-1.1`, with or
    /// without an epoch) as the release it packages.
    pub fn from_package(text: &str) -> Option<Self> {
        let t = text.split_once(':').map_or(text, |(_, rest)| rest);
        let upstream = t.rsplit_once('-').map_or(t, |(u, _)| u);
        Self::parse(upstream)
    }

    /// The image tag and kubeadm's spelling: `v1.31.4`.
    pub fn tag(&self) -> String {
        format!("v{self}")
    }

    /// `1.31`, as pkgs.k8s.io names a repository.
    pub fn minor_name(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// The same minor release line.
    pub fn same_minor(&self, other: &KubeVersion) -> bool {
        (self.major, self.minor) == (other.major, other.minor)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_fixtures() {
        type Parts = Option<(u32, u32, u32)>;
        let table: &[(&str, Parts)] = &[
            ("1.31.4", Some((1, 31, 4))),
            ("v1.32.0", Some((1, 32, 0))),
            (" v1.33.10 ", Some((1, 33, 10))),
            ("v1.32.0-rc.1", Some((1, 32, 0))),
            ("v1.31.4+k3s1", Some((1, 31, 4))),
            ("1.31", None),
            ("1.31.4.5", None),
            ("1.x.4", None),
            ("", None),
            ("v", None),
            ("1..4", None),
        ];
        for (text, want) in table {
            let got = KubeVersion::parse(text).map(|v| (v.major, v.minor, v.patch));
            assert_eq!(got, *want, "{text:?}");
        }
    }

    #[test]
    fn package_versions_from_fixtures() {
        let table: &[(&str, Option<&str>)] = &[
            ("1.31.4-1.1", Some("1.31.4")),
            ("1:1.32.0-1.1", Some("1.32.0")),
            ("1.33.0", Some("1.33.0")),
            ("garbage-1.1", None),
        ];
        for (text, want) in table {
            let got = KubeVersion::from_package(text).map(|v| v.to_string());
            assert_eq!(got.as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn releases_order_by_number_not_text() {
        let v = |s| KubeVersion::parse(s).unwrap();
        assert!(v("1.31.10") > v("1.31.9"));
        assert!(v("1.32.0") > v("1.31.10"));
        assert!(v("2.0.0") > v("1.99.99"));
        assert_eq!(v("v1.31.4").tag(), "v1.31.4");
        assert_eq!(v("1.31.4").minor_name(), "1.31");
        assert!(v("1.31.4").same_minor(&v("1.31.9")));
    }
}
