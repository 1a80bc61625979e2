//! `--tags` / `--skip-tags` selection with Ansible's special tags (always, never, tagged, untagged, all).

/// Whether a task with `tags` runs under `--tags only` and `--skip-tags skip`.
pub fn selected(tags: &[String], only: &[String], skip: &[String]) -> bool {
    let has = |list: &[String], t: &str| list.iter().any(|x| x == t);
    let any_in = |list: &[String]| tags.iter().any(|t| has(list, t));
    if any_in(skip)
        || (has(skip, "tagged") && !tags.is_empty())
        || (has(skip, "untagged") && tags.is_empty())
    {
        return false;
    }
    let never = has(tags, "never");
    if only.is_empty() {
        return !never;
    }
    if any_in(only) {
        return true;
    }
    if has(tags, "always") {
        return true;
    }
    if never {
        return false;
    }
    has(only, "all")
        || (has(only, "tagged") && !tags.is_empty())
        || (has(only, "untagged") && tags.is_empty())
}

#[cfg(test)]
mod tests {
    use super::selected;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    /// (task tags, --tags, --skip-tags, runs?)
    type Case = (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        bool,
    );

    #[test]
    fn tags_select_as_in_ansible() {
        let table: &[Case] = &[
            (&[], &[], &[], true),
            (&["a"], &[], &[], true),
            (&["a"], &["a"], &[], true),
            (&["b"], &["a"], &[], false),
            (&[], &["a"], &[], false),
            (&["always"], &["a"], &[], true),
            (&["always"], &["a"], &["always"], false),
            (&["never"], &[], &[], false),
            (&["never", "debug"], &["debug"], &[], true),
            (&["a"], &[], &["a"], false),
            (&["a"], &["tagged"], &[], true),
            (&[], &["untagged"], &[], true),
            (&["a"], &["all"], &[], true),
        ];
        for (tags, only, skip, want) in table {
            assert_eq!(
                selected(&v(tags), &v(only), &v(skip)),
                *want,
                "tags={tags:?} only={only:?} skip={skip:?}"
            );
        }
    }
}
