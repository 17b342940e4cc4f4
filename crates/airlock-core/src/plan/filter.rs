//! Choosing what moves: the `[filter]` settings (and `--from-list` keys) applied to the source
//! listing before the plan is built, with a count of what each filter left out.
//!
//! Precedence. Every object must pass every filter that is set; an object that fails several
//! is counted once, against the first of them in this order:
//! 1. `from_list`: the key is one of the listed keys;
//! 2. `include`: the key, relative to the source prefix, matches at least one include glob
//!    (no include globs: everything passes);
//! 3. `exclude`: the relative key matches no exclude glob. Exclude wins over include;
//! 4. `min_size`, 5. `max_size` (both inclusive);
//! 6. `modified_after` (inclusive), 7. `modified_before` (exclusive). An object whose
//!    modification time is unknown fails a time filter: it cannot be shown to be in range.
//!
//! Globs: `*` and `?` stay within one path segment, `**` spans segments, `{a,b}` and `[abc]`
//! work; matching is case-sensitive, like S3 keys. Pure: no I/O (the key list is read by
//! `job::key_list`, the clock by the caller: both come in as [`Criteria`]).

use std::collections::HashSet;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use super::ObjectInfo;
use crate::config::FilterSettings;
use crate::error::{Error, Result};

/// How many objects (and bytes) one filter left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    /// The filter, as written: `include`, `exclude`, `min_size`, `from_list`, ...
    pub filter: String,
    /// Its value in words: `'**/*.parquet'`, `1 MiB`, `2026-11-20T13:00:00Z`.
    pub rule: String,
    pub objects: u64,
    pub bytes: u64,
}

/// What the filters did to the source listing; saved with the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// Source objects listed under the prefix, before filtering.
    pub listed: u64,
    /// One entry per filter that is set, in precedence order (zero counts included, so the
    /// plan shows every filter that was applied).
    pub excluded: Vec<Excluded>,
    /// Keys from `--from-list` that the source listing does not hold.
    pub missing: Vec<String>,
}

impl Selection {
    /// True when no filter was set.
    pub fn is_empty(&self) -> bool {
        self.excluded.is_empty() && self.missing.is_empty()
    }

    /// Objects left out by all filters together.
    pub fn excluded_objects(&self) -> u64 {
        self.excluded.iter().map(|e| e.objects).sum()
    }

    /// One line for summaries: `filters left out 4 of 7 objects: include 3, exclude 1`.
    pub fn one_line(&self) -> String {
        let counts: Vec<String> = self
            .excluded
            .iter()
            .map(|e| format!("{} {}", e.filter, e.objects))
            .collect();
        let mut line = format!(
            "filters left out {} of {} objects: {}",
            self.excluded_objects(),
            self.listed,
            counts.join(", ")
        );
        if !self.missing.is_empty() {
            line.push_str(&format!(
                "; {} listed key{} not found at the source",
                self.missing.len(),
                if self.missing.len() == 1 { "" } else { "s" }
            ));
        }
        line
    }
}

/// The `[filter]` settings with what applying them takes from outside the plan: the
/// `--from-list` keys and the moment relative bounds (`24h`) count back from.
#[derive(Debug, Clone, Copy)]
pub struct Criteria<'a> {
    pub settings: &'a FilterSettings,
    /// The keys of `settings.from_list` (read by the caller); None when it names no file.
    pub keys: Option<&'a [String]>,
    /// Milliseconds since the epoch: "now" for relative time bounds.
    pub now_ms: i64,
}

impl Criteria<'_> {
    /// Keep the objects of `listed` (keys under `prefix`) that pass every filter, in listing
    /// order, and count what each filter left out.
    pub fn select(
        &self,
        listed: Vec<ObjectInfo>,
        prefix: &str,
    ) -> Result<(Vec<ObjectInfo>, Selection)> {
        if self.settings.is_empty() {
            let selection = Selection {
                listed: listed.len() as u64,
                ..Default::default()
            };
            return Ok((listed, selection));
        }
        let keys = self.keys.map(<[String]>::to_vec);
        Ok(Filter::new(self.settings, prefix, keys, self.now_ms)?.apply(listed))
    }
}

/// One filter, ready to test objects.
enum Rule {
    FromList(HashSet<String>),
    Include(GlobSet),
    Exclude(GlobSet),
    MinSize(u64),
    MaxSize(u64),
    After(i64),
    Before(i64),
}

/// The compiled filters for one source prefix.
pub struct Filter {
    prefix: String,
    rules: Vec<(Rule, Excluded)>,
    from_list: Option<Vec<String>>,
    /// Keys of the key list seen in the listing.
    seen: HashSet<String>,
    /// Objects seen.
    listed: u64,
}

impl Filter {
    /// Compile `settings` for keys under `prefix`. `keys` are the `--from-list` keys (already
    /// read); `now_ms` resolves relative times (`24h`).
    pub fn new(
        settings: &FilterSettings,
        prefix: &str,
        keys: Option<Vec<String>>,
        now_ms: i64,
    ) -> Result<Filter> {
        let mut rules = Vec::new();
        let entry = |filter: &str, rule: String| Excluded {
            filter: filter.to_string(),
            rule,
            objects: 0,
            bytes: 0,
        };
        if let Some(keys) = &keys {
            let source = settings
                .from_list
                .as_ref()
                .map_or("the key list".to_string(), |p| format!("'{}'", p.display()));
            rules.push((
                Rule::FromList(keys.iter().cloned().collect()),
                entry("from_list", format!("{} keys in {source}", keys.len())),
            ));
        }
        if !settings.include.is_empty() {
            rules.push((
                Rule::Include(globs("include", &settings.include)?),
                entry("include", quoted(&settings.include)),
            ));
        }
        if !settings.exclude.is_empty() {
            rules.push((
                Rule::Exclude(globs("exclude", &settings.exclude)?),
                entry("exclude", quoted(&settings.exclude)),
            ));
        }
        if let Some(min) = settings.min_size {
            rules.push((Rule::MinSize(min.0), entry("min_size", min.to_string())));
        }
        if let Some(max) = settings.max_size {
            rules.push((Rule::MaxSize(max.0), entry("max_size", max.to_string())));
        }
        if let Some(after) = settings.modified_after {
            let ms = after.resolve(now_ms);
            rules.push((Rule::After(ms), entry("modified_after", rfc3339(ms))));
        }
        if let Some(before) = settings.modified_before {
            let ms = before.resolve(now_ms);
            rules.push((Rule::Before(ms), entry("modified_before", rfc3339(ms))));
        }
        Ok(Filter {
            prefix: prefix.to_string(),
            rules,
            from_list: keys,
            seen: HashSet::new(),
            listed: 0,
        })
    }

    /// Keep the objects that pass every filter (in listing order) and count the rest.
    pub fn apply(mut self, listed: Vec<ObjectInfo>) -> (Vec<ObjectInfo>, Selection) {
        let mut kept = Vec::with_capacity(listed.len());
        for object in listed {
            if self.keep(&object) {
                kept.push(object);
            }
        }
        (kept, self.finish())
    }

    /// Whether one listed object passes every filter; a left-out one is counted against the
    /// first filter it fails. What [`Filter::apply`] does to a listing, one object at a time.
    pub fn keep(&mut self, object: &ObjectInfo) -> bool {
        self.listed += 1;
        let relative = object
            .key
            .strip_prefix(self.prefix.as_str())
            .unwrap_or(&object.key);
        if let Some((Rule::FromList(keys), _)) = self.rules.first()
            && keys.contains(&object.key)
        {
            // Only listed keys are remembered: memory is bounded by the key list.
            self.seen.insert(object.key.clone());
        }
        let failed = self
            .rules
            .iter_mut()
            .find(|(rule, _)| !passes(rule, object, relative));
        match failed {
            Some((_, count)) => {
                count.objects += 1;
                count.bytes += object.size;
                false
            }
            None => true,
        }
    }

    /// What the filters left out of everything [`Filter::keep`] saw.
    pub fn finish(self) -> Selection {
        let mut missing: Vec<String> = self
            .from_list
            .unwrap_or_default()
            .into_iter()
            .filter(|key| !self.seen.contains(key))
            .collect();
        missing.sort();
        missing.dedup();
        Selection {
            listed: self.listed,
            excluded: self.rules.into_iter().map(|(_, e)| e).collect(),
            missing,
        }
    }
}

fn passes(rule: &Rule, object: &ObjectInfo, relative: &str) -> bool {
    match rule {
        Rule::FromList(keys) => keys.contains(&object.key),
        Rule::Include(set) => set.is_match(relative),
        Rule::Exclude(set) => !set.is_match(relative),
        Rule::MinSize(min) => object.size >= *min,
        Rule::MaxSize(max) => object.size <= *max,
        Rule::After(ms) => object.modified_ms.is_some_and(|m| m >= *ms),
        Rule::Before(ms) => object.modified_ms.is_some_and(|m| m < *ms),
    }
}

fn globs(key: &str, patterns: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                Error::config(format!(
                    "{key} '{pattern}' is not a glob ({}): write one like '**/*.parquet'",
                    e.kind()
                ))
            })?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| Error::config(format!("{key}: cannot build the globs ({e})")))
}

fn quoted(patterns: &[String]) -> String {
    patterns
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2026-11-20T13:00:00Z` for milliseconds since the epoch.
pub fn rfc3339(ms: i64) -> String {
    let time = if ms >= 0 {
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64)
    } else {
        std::time::UNIX_EPOCH - std::time::Duration::from_millis(ms.unsigned_abs())
    };
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ByteSize, TimeBound};

    fn object(key: &str, size: u64, modified_ms: Option<i64>) -> ObjectInfo {
        ObjectInfo {
            key: key.into(),
            size,
            modified_ms,
            ..Default::default()
        }
    }

    fn keys(objects: &[ObjectInfo]) -> Vec<&str> {
        objects.iter().map(|o| o.key.as_str()).collect()
    }

    #[test]
    fn globs_match_the_key_relative_to_the_prefix_and_exclude_wins() {
        let settings = FilterSettings {
            include: vec!["**/*.parquet".into(), "clients/*/daily/2026-11-*/**".into()],
            exclude: vec!["**/_tmp/**".into()],
            ..Default::default()
        };
        let listed = vec![
            object("in/a.parquet", 1, None),
            object("in/deep/er/b.parquet", 2, None),
            object("in/c.csv", 4, None),
            object("in/clients/acme/daily/2026-11-03/x.csv", 8, None),
            object("in/clients/acme/daily/2026-10-03/x.csv", 16, None),
            // `*` does not cross '/': two segments where the glob has one.
            object("in/clients/acme/eu/daily/2026-11-03/x.csv", 32, None),
            object("in/_tmp/d.parquet", 64, None),
        ];
        let filter = Filter::new(&settings, "in/", None, 0).unwrap();
        let (kept, selection) = filter.apply(listed);
        assert_eq!(
            keys(&kept),
            [
                "in/a.parquet",
                "in/deep/er/b.parquet",
                "in/clients/acme/daily/2026-11-03/x.csv"
            ]
        );
        assert_eq!(selection.listed, 7);
        let counts: Vec<(&str, u64, u64)> = selection
            .excluded
            .iter()
            .map(|e| (e.filter.as_str(), e.objects, e.bytes))
            .collect();
        assert_eq!(counts, [("include", 3, 4 + 16 + 32), ("exclude", 1, 64)]);
    }

    #[test]
    fn each_object_counts_against_the_first_filter_it_fails() {
        let day = 86_400_000;
        let now = 100 * day;
        let settings = FilterSettings {
            min_size: Some(ByteSize(10)),
            max_size: Some(ByteSize(100)),
            modified_after: Some(TimeBound::Ago(std::time::Duration::from_secs(7 * 86400))),
            modified_before: Some(TimeBound::At(now - day)),
            ..Default::default()
        };
        let listed = vec![
            object("ok", 10, Some(now - 2 * day)),
            object("ok-max", 100, Some(now - 7 * day)),
            // Too small and too old: counted once, against min_size.
            object("small-old", 9, Some(now - 30 * day)),
            object("big", 101, Some(now - 2 * day)),
            object("old", 50, Some(now - 7 * day - 1)),
            object("recent", 50, Some(now - day)),
            object("no-time", 50, None),
        ];
        let (kept, selection) = Filter::new(&settings, "", None, now).unwrap().apply(listed);
        assert_eq!(keys(&kept), ["ok", "ok-max"]);
        let counts: Vec<(&str, u64)> = selection
            .excluded
            .iter()
            .map(|e| (e.filter.as_str(), e.objects))
            .collect();
        assert_eq!(
            counts,
            [
                ("min_size", 1),
                ("max_size", 1),
                ("modified_after", 2),
                ("modified_before", 1)
            ]
        );
        assert_eq!(selection.excluded[2].rule, rfc3339(now - 7 * day));
    }

    #[test]
    fn from_list_keeps_listed_keys_and_reports_missing_ones() {
        let listed = vec![
            object("p/a", 1, None),
            object("p/b", 1, None),
            object("p/c", 1, None),
        ];
        let list = vec!["p/c".to_string(), "p/gone".into(), "p/a".into()];
        let (kept, selection) = Filter::new(&FilterSettings::default(), "p/", Some(list), 0)
            .unwrap()
            .apply(listed);
        assert_eq!(keys(&kept), ["p/a", "p/c"]);
        assert_eq!(selection.missing, ["p/gone"]);
        assert_eq!(selection.excluded[0].filter, "from_list");
        assert_eq!(selection.excluded[0].objects, 1);
    }

    #[test]
    fn no_filters_keep_everything_and_report_nothing() {
        let listed = vec![object("a", 1, None), object("b", 2, None)];
        let (kept, selection) = Filter::new(&FilterSettings::default(), "", None, 0)
            .unwrap()
            .apply(listed.clone());
        assert_eq!(kept, listed);
        assert!(selection.is_empty());
    }
}
