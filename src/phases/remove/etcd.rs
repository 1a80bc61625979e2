//! A control plane's etcd member (a dead host's, or one `kubeadm reset` left behind), removed through a healthy control plane's etcd static Pod (`crictl exec … etcdctl`).
//!
//! kubeadm names each etcd member after its node. The member list is read
//! as JSON (IDs are uint64 numbers there) and `member remove` takes the ID
//! in hex, as etcdctl prints it. A member that is not in the list is gone
//! already: nothing to do, so a second `remove` changes nothing.

use crate::engine::session::sh_c;
use crate::engine::Runner;
use crate::phases::certs::step::{self, StepError};

const STEP: &str = "etcd member remove";

/// etcdctl inside the etcd container, with the healthcheck client's certificate.
fn etcdctl(args: &str) -> String {
    sh_c(&format!(
        "id=$(crictl ps --name etcd -q | head -n 1); \
         [ -n \"$id\" ] || {{ echo 'no running etcd container (crictl ps --name etcd)' >&2; exit 1; }}; \
         crictl exec \"$id\" etcdctl --endpoints=https://127.0.0.1:2379 \
         --cacert=/etc/kubernetes/pki/etcd/ca.crt \
         --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt \
         --key=/etc/kubernetes/pki/etcd/healthcheck-client.key {args}"
    ))
}

/// The hex ID of the member named `node` in `member list -w json`'s output.
pub fn member_id(json: &str, node: &str) -> Result<Option<String>, String> {
    let doc: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("member list is not JSON: {e}"))?;
    let members = doc["members"]
        .as_array()
        .ok_or("member list has no \"members\"")?;
    for m in members {
        if m["name"].as_str() == Some(node) {
            let id = m["ID"]
                .as_u64()
                .ok_or_else(|| format!("member {node} has no numeric ID"))?;
            return Ok(Some(format!("{id:x}")));
        }
    }
    Ok(None)
}

/// Remove `node`'s member through `via`: whether there was one to remove.
pub async fn remove_member(runner: &Runner, via: &str, node: &str) -> Result<bool, StepError> {
    let list = step::run(runner, via, STEP, &etcdctl("member list -w json")).await?;
    let id = member_id(&list, node).map_err(|problem| StepError::Output {
        host: via.to_string(),
        step: STEP,
        problem,
    })?;
    if let Some(id) = &id {
        step::run(runner, via, STEP, &etcdctl(&format!("member remove {id}"))).await?;
    }
    Ok(id.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids_are_hex_and_exact_beyond_f64() {
        let list = r#"{"header":{"cluster_id":1},"members":[
            {"ID":18446744073709551615,"name":"cp1","peerURLs":["https://10.0.0.1:2380"]},
            {"ID":1311768467294899695,"name":"cp2"}]}"#;
        assert_eq!(
            member_id(list, "cp1").unwrap().as_deref(),
            Some("ffffffffffffffff")
        );
        assert_eq!(
            member_id(list, "cp2").unwrap().as_deref(),
            Some("1234567890abcdef")
        );
        assert_eq!(member_id(list, "cp3").unwrap(), None);
        assert!(member_id("{", "cp1").is_err());
        assert!(member_id(r#"{"members":[{"name":"cp1","ID":"x"}]}"#, "cp1").is_err());
    }
}
