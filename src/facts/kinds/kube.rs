//! The cluster as a control plane sees it: every Node's kubelet version, cordon and role, and this host's kube-apiserver image.
//!
//! Asked for by cluster commands only. On a host with admin.conf and
//! kubectl, one `kubectl get nodes -o json` (bounded by a timeout) and a
//! read of the kube-apiserver static Pod manifest; elsewhere nothing runs.

use serde_json::Value as Json;

use super::Kind;
use crate::facts::model::{FactRequest, Facts, KubeNode, KubeState};
use crate::facts::sections::{body, Section};

const NODES: &str = "kube-nodes";
const NODES_ERROR: &str = "kube-nodes-error";
const APISERVER_IMAGE: &str = "kube-apiserver-image";
const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";
/// The label kubeadm puts on every control plane's Node.
const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";
const APISERVER_MANIFEST: &str = "/etc/kubernetes/manifests/kube-apiserver.yaml";

pub(crate) struct Kube;

impl Kind for Kube {
    fn script(&self, requests: &[FactRequest], s: &mut String) {
        if !requests.contains(&FactRequest::KubeCluster) {
            return;
        }
        // Only stdout is the JSON; on failure the command runs again for
        // its message (a warning on stderr must not spoil the JSON).
        let get = format!(
            "timeout 30 kubectl --kubeconfig={ADMIN_CONF} --request-timeout=20s get nodes -o json"
        );
        s.push_str(&format!(
            "m {APISERVER_IMAGE}; sed -n 's/^[[:space:]]*image:[[:space:]]*//p' {APISERVER_MANIFEST} 2>/dev/null | head -n 1\n\
             if [ -r {ADMIN_CONF} ] && command -v kubectl >/dev/null 2>&1; then \
             if kn=$({get} 2>/dev/null); then m {NODES}; printf '%s\\n' \"$kn\"; \
             else m {NODES_ERROR}; {get} 2>&1 >/dev/null | tail -n 2; fi; fi\n"
        ));
    }

    fn read(&self, s: &[Section], requests: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        if !requests.contains(&FactRequest::KubeCluster) {
            return Ok(());
        }
        let text = |name| String::from_utf8_lossy(body(s, name)).trim().to_string();
        let image = text(APISERVER_IMAGE);
        let mut state = KubeState {
            apiserver_image: (!image.is_empty()).then_some(image),
            ..KubeState::default()
        };
        if s.iter().any(|x| x.name == NODES) {
            state.nodes = Some(parse_nodes(&text(NODES)).map_err(|e| format!("{NODES}: {e}"))?);
        } else if s.iter().any(|x| x.name == NODES_ERROR) {
            let why = text(NODES_ERROR);
            state.nodes_error = Some(if why.is_empty() {
                "kubectl get nodes failed".into()
            } else {
                why.replace('\n', " ")
            });
        }
        f.kube = Some(state);
        Ok(())
    }
}

/// A NodeList as `kubectl get nodes -o json` prints it.
fn parse_nodes(json: &str) -> Result<Vec<KubeNode>, String> {
    let doc: Json = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let items = doc["items"].as_array().ok_or("no items in the node list")?;
    Ok(items
        .iter()
        .filter_map(|n| {
            Some(KubeNode {
                name: n["metadata"]["name"].as_str()?.to_string(),
                kubelet_version: n["status"]["nodeInfo"]["kubeletVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                unschedulable: n["spec"]["unschedulable"].as_bool().unwrap_or(false),
                control_plane: n["metadata"]["labels"].get(CONTROL_PLANE_LABEL).is_some(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::read;
    use super::*;

    #[test]
    fn cluster_views_from_fixtures() {
        let list = r#"{"apiVersion":"v1","kind":"List","items":[
            {"metadata":{"name":"cp1","labels":{"node-role.kubernetes.io/control-plane":""}},"spec":{},"status":{"nodeInfo":{"kubeletVersion":"v1.31.4"}}},
            {"metadata":{"name":"w1"},"spec":{"unschedulable":true},"status":{"nodeInfo":{"kubeletVersion":"v1.32.0"}}},
            {"metadata":{},"status":{}}]}"#;
        let asked = [FactRequest::KubeCluster];
        let f = read(
            &Kube,
            &[
                (APISERVER_IMAGE, "registry.k8s.io/kube-apiserver:v1.31.4\n"),
                (NODES, list),
            ],
            &asked,
        )
        .unwrap();
        let k = f.kube.unwrap();
        assert_eq!(
            k.apiserver_image.as_deref(),
            Some("registry.k8s.io/kube-apiserver:v1.31.4")
        );
        let nodes = k.nodes.unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(
            (
                nodes[1].name.as_str(),
                nodes[1].kubelet_version.as_str(),
                nodes[1].unschedulable
            ),
            ("w1", "v1.32.0", true)
        );
        assert!(!nodes[0].unschedulable);
        assert!(nodes[0].control_plane && !nodes[1].control_plane);

        // A worker: no manifest, no admin.conf, so no node list either.
        let f = read(&Kube, &[(APISERVER_IMAGE, "")], &asked).unwrap();
        let k = f.kube.unwrap();
        assert_eq!(
            (k.apiserver_image, k.nodes, k.nodes_error),
            (None, None, None)
        );

        let f = read(
            &Kube,
            &[
                (APISERVER_IMAGE, ""),
                (
                    NODES_ERROR,
                    "The connection to the server 10.0.0.1:6443 was refused\n",
                ),
            ],
            &asked,
        )
        .unwrap();
        assert!(f.kube.unwrap().nodes_error.unwrap().contains("refused"));

        assert!(read(&Kube, &[(NODES, "{not json")], &asked).is_err());
        // Not asked: nothing read.
        assert!(read(&Kube, &[(NODES, list)], &[]).unwrap().kube.is_none());
    }
}
