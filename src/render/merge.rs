//! Deep merge of Helm values: `values/<chart>.yaml` ← profile-derived ← the profile's `values:`.

use yaml_serde::Value;

/// Merges `overlay` into `base`: mappings key by key (recursively), anything else replaced.
/// Keys keep the base's order; new keys are appended, so output stays deterministic.
pub fn deep_merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Mapping(base_map), Value::Mapping(overlay_map)) => {
            for (key, value) in overlay_map {
                match base_map.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base_map.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Converts a `serde_json::Value` built with `json!` into a YAML value (same shape and order).
pub fn yaml(value: serde_json::Value) -> Value {
    yaml_serde::to_value(value).expect("a JSON value always converts to YAML")
}

/// Reads a nested key: `get(&v, &["loki", "storage", "type"])`.
pub fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        yaml_serde::from_str(s).unwrap()
    }

    #[test]
    fn maps_merge_recursively_and_overlay_wins() {
        let mut base = parse("a: {b: 1, c: 2}\nd: [1, 2]\n");
        deep_merge(&mut base, parse("a: {c: 3, e: 4}\nd: [9]\n"));
        assert_eq!(base, parse("a: {b: 1, c: 3, e: 4}\nd: [9]\n"));
    }

    #[test]
    fn base_key_order_is_kept_and_new_keys_appended() {
        let mut base = parse("z: 1\na: 1\n");
        deep_merge(&mut base, parse("m: 1\nz: 2\n"));
        let keys: Vec<_> = base
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn scalar_replaces_map_and_null_is_kept_for_helm_to_delete() {
        let mut base = parse("a: {b: 1}\n");
        deep_merge(&mut base, parse("a: null\n"));
        assert_eq!(base, parse("a: null\n"));
    }

    #[test]
    fn get_walks_nested_keys() {
        let v = parse("a: {b: {c: 5}}\n");
        assert_eq!(get(&v, &["a", "b", "c"]).and_then(Value::as_i64), Some(5));
        assert!(get(&v, &["a", "x"]).is_none());
    }
}
