//! The Grafana admin Secret named by the profile: created with a random password when missing,
//! left alone when present. The password is never printed, logged or put in an error.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};
use kube::Client;

/// The keys the Grafana chart reads (`grafana.admin.userKey`/`passwordKey`).
pub const USER_KEY: &str = "admin-user";
pub const PASSWORD_KEY: &str = "admin-password";
const ADMIN_USER: &str = "admin";
const PASSWORD_LEN: usize = 32;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{action} Secret `{name}` in namespace `{namespace}`: {source}")]
    Api {
        action: &'static str,
        name: String,
        namespace: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("no randomness available for the Grafana admin password: {0}")]
    Random(String),
}

/// A random password of 32 letters and digits (~190 bits), without modulo bias.
pub fn random_password() -> Result<String, SecretError> {
    let mut out = String::with_capacity(PASSWORD_LEN);
    // 248 = 4 × 62: bytes at or above it are rejected so every character is equally likely.
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    while out.len() < PASSWORD_LEN {
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf).map_err(|e| SecretError::Random(e.to_string()))?;
        for b in buf.into_iter().filter(|b| *b < limit) {
            if out.len() == PASSWORD_LEN {
                break;
            }
            out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
        }
    }
    Ok(out)
}

/// Creates the Secret when it does not exist. Returns whether it was created.
pub async fn ensure_admin_secret(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<bool, SecretError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let err = |action, source| SecretError::Api {
        action,
        name: name.to_string(),
        namespace: namespace.to_string(),
        source: Box::new(source),
    };
    if api
        .get_opt(name)
        .await
        .map_err(|e| err("reading", e))?
        .is_some()
    {
        return Ok(false);
    }
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                "obsctl".to_string(),
            )])),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([
            (
                USER_KEY.to_string(),
                ByteString(ADMIN_USER.as_bytes().to_vec()),
            ),
            (
                PASSWORD_KEY.to_string(),
                ByteString(random_password()?.into_bytes()),
            ),
        ])),
        ..Default::default()
    };
    match api.create(&PostParams::default(), &secret).await {
        Ok(_) => Ok(true),
        // Created concurrently by someone else: theirs stands.
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(e) => Err(err("creating", e)),
    }
}

/// The command that prints the password, for the line `up` shows after creating the Secret.
pub fn read_command(namespace: &str, name: &str) -> String {
    format!("kubectl -n {namespace} get secret {name} -o jsonpath='{{.data.{PASSWORD_KEY}}}' | base64 -d")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_32_alphanumerics_and_differ() {
        let a = random_password().unwrap();
        let b = random_password().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_read_command_names_the_key() {
        assert_eq!(
            read_command("monitoring", "grafana-admin"),
            "kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d"
        );
    }
}
