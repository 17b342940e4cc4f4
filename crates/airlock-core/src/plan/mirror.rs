//! Mirror mode's half of the plan: target objects to delete because the source has no
//! counterpart. Each deletion is shown, saved and reviewed like any other route (`delete`).
//!
//! Which target objects are candidates (the rule, stated once):
//! 1. the object is under the target prefix (the listing only holds those);
//! 2. its source counterpart (the source prefix + the key relative to the target prefix) is
//!    not in the source listing, filtered or not: an object the filters left out at the source
//!    still counts as a counterpart, so its copy at the target survives;
//! 3. the filters would have selected it: it is judged by every `[filter]` rule (and
//!    `--from-list`) as if it were that source key, with the target object's size and
//!    modification time. A target object the filters exclude is never deleted, so a filtered
//!    mirror only touches the slice of the bucket it was asked to manage.
//!
//! Pure: the filters (and the `--from-list` keys, read by the caller) come in as
//! [`Criteria`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::ObjectInfo;
use super::filter::Criteria;
use crate::config::SideSettings;
use crate::error::Result;

/// Why every deletion is planned, in the plan's words.
pub const DELETE_REASON: &str = "no source counterpart";

/// Always `delete`: lets a deletion sit beside the copy routes in JSON and text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeleteRoute {
    #[default]
    Delete,
}

/// One target object the plan deletes (mirror mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub route: DeleteRoute,
    /// Full key in the target bucket.
    pub target_key: String,
    pub size: u64,
    /// ETag the target listed at planning time, if any: a saved plan deletes the object only
    /// while the target still lists this ETag, size and modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Modification time the target listed at planning time (ms since the epoch), if any:
    /// catches an overwrite on stores whose listings carry no ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_ms: Option<i64>,
    pub reason: String,
}

/// Objects and bytes the plan deletes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteTotals {
    pub objects: u64,
    pub bytes: u64,
}

impl DeleteTotals {
    pub fn of(deletions: &[Deletion]) -> Self {
        DeleteTotals {
            objects: deletions.len() as u64,
            bytes: deletions.iter().map(|d| d.size).sum(),
        }
    }
}

/// Target objects with no source counterpart that the filters would have selected (rule in
/// the module docs), in target listing order. `source_keys` is the unfiltered source listing.
pub(crate) fn deletions(
    source_keys: &HashSet<String>,
    target: &[ObjectInfo],
    source: &SideSettings,
    target_side: &SideSettings,
    filter: &Criteria<'_>,
) -> Result<Vec<Deletion>> {
    // Target objects without a counterpart, renamed to the source key they would have had.
    // airlock's own objects (`[target] state_prefix`: uploads' state objects) are never
    // candidates.
    let own = target_side.write.state_prefix.as_str();
    let orphans: Vec<(ObjectInfo, &ObjectInfo)> = target
        .iter()
        .filter(|object| !object.key.starts_with(own))
        .filter_map(|object| {
            let relative = object.key.strip_prefix(target_side.prefix.as_str())?;
            let source_key = format!("{}{relative}", source.prefix);
            (!source_keys.contains(&source_key)).then(|| {
                (
                    ObjectInfo {
                        key: source_key,
                        ..object.clone()
                    },
                    object,
                )
            })
        })
        .collect();
    if orphans.is_empty() {
        return Ok(Vec::new());
    }
    let as_source: Vec<ObjectInfo> = orphans.iter().map(|(o, _)| o.clone()).collect();
    let (selected, _) = filter.select(as_source, &source.prefix)?;
    let selected: HashSet<&str> = selected.iter().map(|o| o.key.as_str()).collect();
    Ok(orphans
        .iter()
        .filter(|(renamed, _)| selected.contains(renamed.key.as_str()))
        .map(|(_, object)| Deletion {
            route: DeleteRoute::Delete,
            target_key: object.key.clone(),
            size: object.size,
            etag: object.etag.clone(),
            modified_ms: object.modified_ms,
            reason: DELETE_REASON.to_string(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ByteSize, FilterSettings, Side};

    /// The filters as a plan applies them (no key list; relative times count from 0).
    fn criteria(settings: &FilterSettings) -> Criteria<'_> {
        Criteria {
            settings,
            keys: None,
            now_ms: 0,
        }
    }

    fn side(which: Side, prefix: &str) -> SideSettings {
        let text = format!(
            "[source]\nbucket = \"s-bucket\"\nprefix = \"{}\"\n[target]\nbucket = \"t-bucket\"\nprefix = \"{}\"\n",
            if which == Side::Source { prefix } else { "" },
            if which == Side::Target { prefix } else { "" },
        );
        let settings = crate::config::parse_settings(&text, "test").unwrap();
        match which {
            Side::Source => settings.source,
            Side::Target => settings.target,
        }
    }

    fn object(key: &str, size: u64) -> ObjectInfo {
        ObjectInfo {
            key: key.into(),
            size,
            ..Default::default()
        }
    }

    fn keys(deletions: &[Deletion]) -> Vec<&str> {
        deletions.iter().map(|d| d.target_key.as_str()).collect()
    }

    #[test]
    fn only_target_objects_without_a_source_counterpart_are_deleted() {
        let source_keys: HashSet<String> = ["in/a", "in/sub/b"].map(String::from).into();
        let target = [
            object("out/a", 1),
            object("out/gone", 2),
            object("out/sub/b", 3),
            object("out/sub/gone", 4),
        ];
        let found = deletions(
            &source_keys,
            &target,
            &side(Side::Source, "in/"),
            &side(Side::Target, "out/"),
            &criteria(&FilterSettings::default()),
        )
        .unwrap();
        assert_eq!(keys(&found), ["out/gone", "out/sub/gone"]);
        assert!(found.iter().all(|d| d.reason == DELETE_REASON));
        assert_eq!(
            DeleteTotals::of(&found),
            DeleteTotals {
                objects: 2,
                bytes: 6
            }
        );
    }

    #[test]
    fn airlock_state_objects_are_never_deleted() {
        let source_keys: HashSet<String> = HashSet::new();
        let target = [object(".airlock/uploads/ab.json", 1), object("gone", 2)];
        let found = deletions(
            &source_keys,
            &target,
            &side(Side::Source, ""),
            &side(Side::Target, ""),
            &criteria(&FilterSettings::default()),
        )
        .unwrap();
        assert_eq!(keys(&found), ["gone"]);
    }

    #[test]
    fn target_objects_the_filters_exclude_are_never_candidates() {
        // 'in/keep.csv' is not listed at the source at all; the include filter selects only
        // parquet, so its target copy survives. 'in/x.parquet' exists at the source (excluded
        // there by min_size), so its target copy has a counterpart and survives too.
        let source_keys: HashSet<String> = ["in/x.parquet"].map(String::from).into();
        let target = [
            object("out/keep.csv", 1),
            object("out/x.parquet", 100),
            object("out/old.parquet", 100),
            object("out/tiny.parquet", 1),
        ];
        let filter = FilterSettings {
            include: vec!["**/*.parquet".into()],
            min_size: Some(ByteSize(10)),
            ..Default::default()
        };
        let found = deletions(
            &source_keys,
            &target,
            &side(Side::Source, "in/"),
            &side(Side::Target, "out/"),
            &criteria(&filter),
        )
        .unwrap();
        assert_eq!(keys(&found), ["out/old.parquet"]);
    }

    #[test]
    fn a_deletion_serializes_with_route_delete() {
        let d = Deletion {
            route: DeleteRoute::Delete,
            target_key: "out/gone".into(),
            size: 5,
            etag: None,
            modified_ms: None,
            reason: DELETE_REASON.into(),
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["route"], "delete");
        assert_eq!(json["target_key"], "out/gone");
        assert_eq!(json["reason"], "no source counterpart");
    }
}
