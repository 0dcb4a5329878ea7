//! "Did you mean": the one place that decides which known name a mistyped one was meant to be.

/// The closest candidate, if it is close enough to be a likely typo. Case, `_` and `-` are
/// ignored first so `object_storage` finds `objectStorage`; then Jaro-Winkler ≥ 0.8, or an edit
/// distance ≤ 2 for words long enough that 2 edits are not most of them.
pub fn closest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let g = norm(given);
    if let Some(c) = candidates.iter().find(|c| norm(c) == g) {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| {
            let n = norm(c);
            (
                *c,
                strsim::jaro_winkler(&g, &n),
                strsim::levenshtein(&g, &n),
            )
        })
        .filter(|(_, jw, lev)| *jw >= 0.8 || (*lev <= 2 && g.chars().count() > 3))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.2.cmp(&a.2)))
        .map(|(c, _, _)| c)
}

/// `; did you mean `x`?` for the closest candidate, or nothing.
pub fn did_you_mean(given: &str, candidates: &[&str]) -> String {
    closest(given, candidates)
        .map(|best| format!("; did you mean `{best}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_key() {
        let keys = ["enabled", "retention", "storage", "values"];
        assert_eq!(closest("retension", &keys), Some("retention"));
        assert_eq!(closest("strage", &keys), Some("storage"));
        assert_eq!(closest("colour", &keys), None);
    }

    #[test]
    fn case_and_separators_are_ignored_first() {
        assert_eq!(
            closest("object_storage", &["mode", "objectStorage", "replicas"]),
            Some("objectStorage")
        );
        assert_eq!(closest("DEV", &["dev", "production", "ha"]), Some("dev"));
    }

    #[test]
    fn short_words_need_more_than_a_small_edit_distance() {
        // `ab` is 2 edits from `ha`, which is all of it: no suggestion.
        assert_eq!(closest("ab", &["ha", "production"]), None);
        assert_eq!(
            did_you_mean("prodution", &["dev", "production"]),
            "; did you mean `production`?"
        );
        assert_eq!(did_you_mean("zzz", &["dev", "production"]), "");
    }
}
