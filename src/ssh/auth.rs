//! Public-key authentication: explicit identity files, then ssh-agent, then OpenSSH's default files.

use std::path::Path;
use std::sync::Arc;

use russh::client::{AuthResult, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey};

use super::target::Target;
use super::verifier::Verifier;
use super::SshError;

/// Try every key we have, in OpenSSH's order, until the server accepts one.
pub async fn authenticate(session: &mut Handle<Verifier>, target: &Target) -> Result<(), SshError> {
    let rsa_hash = session
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();
    let mut tried: Vec<String> = Vec::new();
    let mut agent = AgentClient::connect_env().await.ok();
    let agent_keys: Vec<PublicKey> = match agent.as_mut() {
        Some(a) => a
            .request_identities()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|id| match id {
                AgentIdentity::PublicKey { key, .. } => Some(key),
                AgentIdentity::Certificate { .. } => None,
            })
            .collect(),
        None => Vec::new(),
    };

    // Explicit identity files first (as `ssh -i`), then the agent, then defaults.
    let (explicit, defaults): (Vec<_>, Vec<_>) = if target.explicit_identities {
        (target.identity_files.clone(), Vec::new())
    } else {
        (Vec::new(), target.identity_files.clone())
    };
    for path in &explicit {
        if try_file(
            session,
            target,
            path,
            rsa_hash,
            &mut agent,
            &agent_keys,
            &mut tried,
            true,
        )
        .await?
        {
            return Ok(());
        }
    }
    if let Some(agent) = agent.as_mut() {
        for key in &agent_keys {
            tried.push(format!("agent key {}", key.algorithm().as_str()));
            let hash = if key.algorithm().is_rsa() {
                rsa_hash
            } else {
                None
            };
            if let Ok(AuthResult::Success) = session
                .authenticate_publickey_with(&target.user, key.clone(), hash, agent)
                .await
            {
                return Ok(());
            }
        }
    }
    for path in &defaults {
        if try_file(
            session,
            target,
            path,
            rsa_hash,
            &mut agent,
            &agent_keys,
            &mut tried,
            false,
        )
        .await?
        {
            return Ok(());
        }
    }
    Err(SshError::AuthFailed {
        host: target.name.clone(),
        user: target.user.clone(),
        tried: if tried.is_empty() {
            "no keys: no identity file found and no ssh-agent".into()
        } else {
            tried.join(", ")
        },
    })
}

/// Offer one identity file. A missing default file is skipped silently, as
/// OpenSSH does; a missing or unreadable explicit one is an error.
#[allow(clippy::too_many_arguments)]
async fn try_file(
    session: &mut Handle<Verifier>,
    target: &Target,
    path: &Path,
    rsa_hash: Option<russh::keys::HashAlg>,
    agent: &mut Option<AgentClient<tokio::net::UnixStream>>,
    agent_keys: &[PublicKey],
    tried: &mut Vec<String>,
    explicit: bool,
) -> Result<bool, SshError> {
    let key_error = |reason: String| SshError::KeyFile {
        host: target.name.clone(),
        path: path.to_path_buf(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(_) if !explicit => return Ok(false),
        Err(e) => return Err(key_error(e.to_string())),
    };
    tried.push(path.display().to_string());
    let key: PrivateKey = match russh::keys::decode_secret_key(&text, None) {
        Ok(k) => k,
        Err(russh::keys::Error::KeyIsEncrypted) => {
            // An encrypted key can still be used through the agent, if loaded there.
            let public = russh::keys::load_public_key(path.with_extension("pub")).ok();
            if let (Some(public), Some(agent)) = (public, agent.as_mut()) {
                if agent_keys.contains(&public) {
                    let hash = if public.algorithm().is_rsa() {
                        rsa_hash
                    } else {
                        None
                    };
                    let r = session
                        .authenticate_publickey_with(&target.user, public, hash, agent)
                        .await;
                    return Ok(matches!(r, Ok(AuthResult::Success)));
                }
            }
            return Err(key_error(
                "key is encrypted; add it to ssh-agent (ssh-add) so kubestrap can use it".into(),
            ));
        }
        Err(e) => return Err(key_error(format!("cannot read private key: {e}"))),
    };
    let hash = if key.algorithm().is_rsa() {
        rsa_hash
    } else {
        None
    };
    let result = session
        .authenticate_publickey(
            &target.user,
            PrivateKeyWithHashAlg::new(Arc::new(key), hash),
        )
        .await
        .map_err(|e| SshError::Connect {
            host: target.name.clone(),
            addr: target.display_addr(),
            reason: format!("authentication failed: {e}"),
        })?;
    Ok(matches!(result, AuthResult::Success))
}
