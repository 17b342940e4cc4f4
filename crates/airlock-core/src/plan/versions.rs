//! Point in time (`source.version_at`): from a ListObjectVersions listing, the version of each
//! key that was current at a moment. Pure; `aws::versions` does the listing.
//!
//! The version current at moment T is the newest whose LastModified is not newer than T (a
//! version written exactly at T counts). When that version is a delete marker, or the key has
//! no version that old, the key did not exist at T and is not copied. Listings give
//! LastModified in whole seconds, so two versions can tie: S3 lists each key's versions newest
//! first, and [`VersionEntry::listed_order`] keeps that order so a tie is decided the way S3
//! ordered them (the latest first, then a delete marker before a version, then listing order).

use std::collections::BTreeMap;

use serde::Serialize;

use super::ObjectInfo;

/// One entry of a ListObjectVersions listing: a version or a delete marker.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct VersionEntry {
    pub key: String,
    /// `null` for objects written while versioning was off or suspended.
    pub version_id: String,
    /// Milliseconds since the epoch; None when the store listed no time (never chosen).
    pub modified_ms: Option<i64>,
    pub size: u64,
    /// ETag without quotes; delete markers have none.
    pub etag: Option<String>,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub storage_class: Option<String>,
    /// Position in its list of the listing (versions and delete markers are listed apart, each
    /// newest first): breaks ties between versions of the same second.
    pub listed_order: usize,
}

impl VersionEntry {
    /// Order of "newer" among versions of one key: time, then S3's latest flag, then a delete
    /// marker over a version of the same second, then the earlier place in the listing.
    fn recency(&self) -> (Option<i64>, bool, bool, std::cmp::Reverse<usize>) {
        (
            self.modified_ms,
            self.is_latest,
            self.delete_marker,
            std::cmp::Reverse(self.listed_order),
        )
    }
}

/// The entry current at `moment_ms` among `versions` (one key's, in any order), delete
/// markers included; None when the key had no version yet.
pub(crate) fn current_at(versions: &[VersionEntry], moment_ms: i64) -> Option<&VersionEntry> {
    versions
        .iter()
        .filter(|v| v.modified_ms.is_some_and(|ms| ms <= moment_ms))
        .max_by_key(|v| v.recency())
}

/// The object version to copy for one key at `moment_ms`: None when the key did not exist
/// then (no version yet, or a delete marker was current).
pub(crate) fn version_at(versions: &[VersionEntry], moment_ms: i64) -> Option<&VersionEntry> {
    current_at(versions, moment_ms).filter(|v| !v.delete_marker)
}

/// Every key of a listing as it was at `moment_ms`, sorted by key, each carrying its version
/// id. Keys that did not exist then are left out.
pub(crate) fn objects_at(versions: Vec<VersionEntry>, moment_ms: i64) -> Vec<ObjectInfo> {
    let mut by_key: BTreeMap<String, Vec<VersionEntry>> = BTreeMap::new();
    for version in versions {
        by_key.entry(version.key.clone()).or_default().push(version);
    }
    by_key
        .values()
        .filter_map(|versions| version_at(versions, moment_ms))
        .map(|v| ObjectInfo {
            key: v.key.clone(),
            size: v.size,
            modified_ms: v.modified_ms,
            etag: v.etag.clone(),
            storage_class: v.storage_class.clone(),
            version_id: Some(v.version_id.clone()),
            ..Default::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000_000;

    fn version(key: &str, id: &str, at: i64, order: usize) -> VersionEntry {
        VersionEntry {
            key: key.into(),
            version_id: id.into(),
            modified_ms: Some(at),
            size: id.len() as u64,
            etag: Some(format!("etag-{id}")),
            listed_order: order,
            ..Default::default()
        }
    }

    fn marker(key: &str, id: &str, at: i64, order: usize) -> VersionEntry {
        VersionEntry {
            delete_marker: true,
            etag: None,
            size: 0,
            ..version(key, id, at, order)
        }
    }

    fn chosen(versions: &[VersionEntry], moment: i64) -> Option<&str> {
        version_at(versions, moment).map(|v| v.version_id.as_str())
    }

    #[test]
    fn the_newest_version_not_newer_than_the_moment_is_chosen() {
        let mut latest = version("k", "v3", T + 2000, 0);
        latest.is_latest = true;
        let versions = [
            latest,
            version("k", "v2", T, 1),
            version("k", "v1", T - 5000, 2),
        ];
        assert_eq!(chosen(&versions, T - 5001), None, "before the first write");
        assert_eq!(
            chosen(&versions, T - 5000),
            Some("v1"),
            "written exactly then"
        );
        assert_eq!(chosen(&versions, T - 1), Some("v1"));
        assert_eq!(
            chosen(&versions, T),
            Some("v2"),
            "a tie at the moment counts"
        );
        assert_eq!(chosen(&versions, T + 1999), Some("v2"));
        assert_eq!(chosen(&versions, T + 2000), Some("v3"));
    }

    #[test]
    fn unsorted_input_gives_the_same_choice() {
        let sorted = [
            version("k", "new", T + 10, 0),
            version("k", "mid", T, 1),
            version("k", "old", T - 10, 2),
        ];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let shuffled: Vec<VersionEntry> = order.iter().map(|&i| sorted[i].clone()).collect();
            assert_eq!(chosen(&shuffled, T + 5), Some("mid"), "{order:?}");
            assert_eq!(chosen(&shuffled, T - 10), Some("old"), "{order:?}");
            assert_eq!(chosen(&shuffled, T + 10), Some("new"), "{order:?}");
        }
    }

    #[test]
    fn a_delete_marker_current_at_the_moment_means_no_copy() {
        let versions = [
            version("k", "again", T + 100, 0),
            marker("k", "dm", T, 0),
            version("k", "first", T - 100, 1),
        ];
        assert_eq!(chosen(&versions, T - 1), Some("first"));
        assert_eq!(chosen(&versions, T), None, "deleted exactly at the moment");
        assert_eq!(
            current_at(&versions, T + 50).map(|v| v.delete_marker),
            Some(true)
        );
        assert_eq!(chosen(&versions, T + 100), Some("again"), "recreated later");
    }

    #[test]
    fn ties_within_one_second_follow_the_listing() {
        // Two writes in the same second: S3 lists the newer one first.
        let versions = [version("k", "second", T, 1), version("k", "first", T, 2)];
        assert_eq!(chosen(&versions, T), Some("second"));
        let reversed = [versions[1].clone(), versions[0].clone()];
        assert_eq!(chosen(&reversed, T), Some("second"));
        // The latest flag wins a tie.
        let mut latest = version("k", "latest", T, 5);
        latest.is_latest = true;
        let versions = [version("k", "other", T, 0), latest];
        assert_eq!(chosen(&versions, T), Some("latest"));
        // A delete in the same second as a write is taken as after it.
        let versions = [version("k", "written", T, 0), marker("k", "deleted", T, 0)];
        assert_eq!(chosen(&versions, T), None);
    }

    #[test]
    fn versions_without_a_time_are_never_chosen() {
        let mut timeless = version("k", "timeless", 0, 0);
        timeless.modified_ms = None;
        assert_eq!(chosen(&[timeless.clone()], T), None);
        assert_eq!(
            chosen(&[timeless, version("k", "dated", T - 1, 1)], T),
            Some("dated")
        );
    }

    #[test]
    fn objects_at_groups_keys_sorts_them_and_carries_the_version() {
        let versions = vec![
            version("b", "b-new", T + 10, 0),
            version("a", "a-old", T - 10, 0),
            marker("gone", "dm", T - 5, 0),
            version("gone", "g1", T - 20, 0),
            version("later", "l1", T + 1, 0),
            version("b", "b-old", T - 1, 1),
        ];
        let objects = objects_at(versions, T);
        let picked: Vec<(&str, Option<&str>, u64)> = objects
            .iter()
            .map(|o| (o.key.as_str(), o.version_id.as_deref(), o.size))
            .collect();
        assert_eq!(picked, [("a", Some("a-old"), 5), ("b", Some("b-old"), 5)]);
        assert_eq!(objects[1].etag.as_deref(), Some("etag-b-old"));
        assert_eq!(objects[1].modified_ms, Some(T - 1));
    }
}
