//! Every fact kind as one unit: its section names, script fragment, parser and reading into [`Facts`].
//!
//! The gather script ([`super::script`]) is the kinds' fragments in the
//! order of [`KINDS`]; [`super::parse`] hands every kind the same output to
//! read its own sections from, in the same order. A kind names its sections
//! with consts that its fragment and its parser both use, so the two sides
//! cannot drift apart. The pending-handler record is a kind too, but lives
//! in [`super::pending`] with the scripts that write it.

use super::model::{FactRequest, Facts};
use super::sections::Section;
use crate::ssh::shell_quote;

mod certs;
mod clock;
mod commands;
mod files;
mod host;
mod kube;
mod modules;
mod network;
mod packages;
mod ports;
mod swap;
mod sysctls;
#[cfg(test)]
mod test_kit;
mod units;

/// One kind of fact, from the script's lines to its place in [`Facts`].
pub(crate) trait Kind: Sync {
    /// Append this kind's lines to the gather script; a kind whose items
    /// were not asked for adds nothing.
    fn script(&self, requests: &[FactRequest], s: &mut String);

    /// Read this kind's sections into `facts`. An unreadable section is an
    /// error naming it; a missing one leaves the fact as it was.
    fn read(&self, s: &[Section], requests: &[FactRequest], f: &mut Facts) -> Result<(), String>;
}

/// The names `pick` takes from `requests`, shell-quoted and joined by
/// spaces, for one command that answers them all; None when there are none.
fn quoted_names<'a>(
    requests: &'a [FactRequest],
    pick: impl Fn(&'a FactRequest) -> Option<&'a str>,
) -> Option<String> {
    let names: Vec<String> = requests.iter().filter_map(pick).map(shell_quote).collect();
    (!names.is_empty()).then(|| names.join(" "))
}

/// Every kind, in the order the script prints them. Parsing follows the
/// same order, so a later kind may refine what an earlier one set: asked-for
/// units win over the swap units' states from list-units.
pub(crate) const KINDS: &[&dyn Kind] = &[
    &host::Host,
    &network::Network,
    &swap::Swap,
    &modules::Modules,
    &ports::Ports,
    &commands::Commands,
    &clock::Clock,
    &super::pending::Pending,
    &files::Files,
    &packages::Packages,
    &units::Units,
    &sysctls::Sysctls,
    &certs::CertExpiry,
    &kube::Kube,
];

#[cfg(test)]
mod tests {
    use super::files::path_ok;
    use super::packages::package_ok;
    use super::units::unit_ok;

    #[test]
    fn names_that_could_forge_markers_or_options_are_left_out() {
        assert!(!path_ok("/a\nb"));
        assert!(path_ok("/etc/it's here"));
        assert!(package_ok("containerd"));
        assert!(package_ok("libc6:amd64"));
        assert!(package_ok("g++"));
        assert!(!package_ok("kube*"));
        assert!(!package_ok("-V"));
        assert!(!unit_ok("ssh*"));
        assert!(!unit_ok("42"));
        assert!(unit_ok("getty@tty1.service"));
    }
}
