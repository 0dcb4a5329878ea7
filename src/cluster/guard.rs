//! The context guard: a profile that names its cluster's kube context is never applied to
//! another cluster by accident.

/// The profile names one context and the kubeconfig's current context is another.
#[derive(Debug, thiserror::Error)]
#[error(
    "profile `{profile}` is for kube context `{wanted}`, but the current context is `{current}`; \
     switch with `kubectl config use-context {wanted}`, or pass --context {current} to use this one anyway"
)]
pub struct WrongContext {
    pub profile: String,
    pub wanted: String,
    pub current: String,
}

/// Allows `chosen` when the profile names no context, names this one, or the user chose it
/// explicitly with `--context` (an explicit choice is never second-guessed).
pub fn check_context(
    profile: &str,
    wanted: Option<&str>,
    chosen: &str,
    explicit: bool,
) -> Result<(), WrongContext> {
    match wanted {
        Some(wanted) if wanted != chosen && !explicit => Err(WrongContext {
            profile: profile.to_string(),
            wanted: wanted.to_string(),
            current: chosen.to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_current_context_is_refused_unless_chosen_explicitly() {
        let err = check_context("production", Some("prod-eu"), "kind-dev", false).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`prod-eu`") && text.contains("`kind-dev`"),
            "{text}"
        );
        assert!(text.contains("--context kind-dev"), "{text}");
        assert!(check_context("production", Some("prod-eu"), "kind-dev", true).is_ok());
        assert!(check_context("production", Some("prod-eu"), "prod-eu", false).is_ok());
        assert!(check_context("dev", None, "anything", false).is_ok());
    }
}
