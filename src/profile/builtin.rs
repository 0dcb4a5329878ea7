//! The shipped profiles, embedded so `--profile dev` works from any directory.

const BUILTINS: [(&str, &str); 3] = [
    ("dev", include_str!("../../stacks/dev.yaml")),
    ("production", include_str!("../../stacks/production.yaml")),
    ("ha", include_str!("../../stacks/ha.yaml")),
];

/// Built-in profile names, in the order `profile list` shows them.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(name, _)| *name).collect()
}

/// The YAML text of a built-in profile.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
