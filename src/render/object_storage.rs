//! S3-compatible object storage as Loki and Tempo take it. Credentials never appear in values:
//! both read AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment, filled from the
//! profile's Secret.

use serde_json::{json, Value};

use crate::profile::ObjectStorage;

/// The endpoint without its scheme (both clients want `host[:port]`), and whether it is plain HTTP.
pub fn s3_endpoint(store: &ObjectStorage) -> (String, bool) {
    let (rest, http) = match store.endpoint.strip_prefix("http://") {
        Some(rest) => (rest, true),
        None => (
            store
                .endpoint
                .strip_prefix("https://")
                .unwrap_or(&store.endpoint),
            false,
        ),
    };
    (
        rest.trim_end_matches('/').to_string(),
        http || store.insecure,
    )
}

/// `envFrom` entries that load the credentials Secret.
pub fn credentials_env_from(store: &ObjectStorage) -> Value {
    json!([{"secretRef": {"name": store.credentials_secret.as_str()}}])
}
