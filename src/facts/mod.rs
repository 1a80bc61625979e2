//! Facts: one gather script per host, run in a single round trip, parsed into [`Facts`].

#[cfg(test)]
mod fixture_tests;
mod kinds;
#[cfg(all(test, target_os = "linux"))]
mod live_tests;
mod model;
mod parse;
pub mod pending;
pub mod rider;
mod script;
#[cfg(test)]
mod script_pin_tests;
mod sections;
mod vars;

pub use model::*;
pub use parse::parse;
pub use script::gather_script;
pub use vars::ansible_facts;
#[cfg(test)]
pub use vars::to_ansible_vars;

/// The requests to send: sorted, each once, and a path whose content is
/// asked for anywhere is asked for once, with content.
pub fn needed(requests: &[FactRequest]) -> Vec<FactRequest> {
    let set: std::collections::BTreeSet<&FactRequest> = requests.iter().collect();
    set.iter()
        .filter(|r| match r {
            FactRequest::File {
                path,
                content: false,
            } => !set.contains(&FactRequest::File {
                path: path.clone(),
                content: true,
            }),
            _ => true,
        })
        .map(|r| (*r).clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: bool) -> FactRequest {
        FactRequest::File {
            path: path.into(),
            content,
        }
    }

    #[test]
    fn needed_dedupes_sorts_and_lets_content_subsume() {
        let got = needed(&[
            FactRequest::Unit("ssh".into()),
            file("/b", false),
            file("/a", false),
            file("/a", true),
            FactRequest::Unit("ssh".into()),
            file("/b", false),
        ]);
        assert_eq!(
            got,
            vec![
                file("/a", true),
                file("/b", false),
                FactRequest::Unit("ssh".into())
            ]
        );
    }
}
