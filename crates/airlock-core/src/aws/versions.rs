//! Versioned buckets: ListObjectVersions (every page), the bucket's versioning state, and the
//! source as it was at a moment (`source.version_at`), chosen by the pure
//! [`crate::plan::versions`].
//!
//! A bucket that never had versioning enabled keeps no earlier versions (it lists each object
//! once, with version id `null`), so a point in time cannot be honoured there: that is an
//! error, not a silent copy of the current objects. A suspended bucket still holds the
//! versions written while it was enabled and is read like an enabled one (its `null` versions
//! are ordinary versions). GetBucketVersioning decides; when it cannot be read (no
//! `s3:GetBucketVersioning`, or a store whose answer does not parse, like moto's), the listing
//! decides: entries that are all `null` versions, with no delete marker, hold no history.

use super::SideClient;
use super::errors::{Context, s3_error, s3_failure};
use super::listing::unquote;
use super::url_keys::Keys;
use crate::config::filter::format_rfc3339;
use crate::error::{Error, Result};
use crate::plan::ObjectInfo;
use crate::plan::versions::{VersionEntry, objects_at};
use aws_sdk_s3::types::EncodingType;

fn context<'a>(side: &'a SideClient, operation: &'static str, key: &'a str) -> Context<'a> {
    Context {
        side: side.side,
        operation,
        bucket: &side.bucket,
        key: Some(key).filter(|k| !k.is_empty()),
    }
}

/// Every version and delete marker under `prefix`, across all pages. `on_page` sees the
/// running entry count.
pub async fn list_versions(
    side: &SideClient,
    prefix: &str,
    mut on_page: impl FnMut(usize),
) -> Result<Vec<VersionEntry>> {
    let mut entries = Vec::new();
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
    // Versions and delete markers come in two lists, each newest first per key.
    let (mut version_order, mut marker_order) = (0usize, 0usize);
    loop {
        let out = side
            .client
            .list_object_versions()
            .bucket(&side.bucket)
            .prefix(prefix)
            .encoding_type(EncodingType::Url)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .map_err(|e| {
                s3_error(
                    &e,
                    context(side, "ListObjectVersions", prefix),
                    side.region(),
                )
            })?;
        // Keys and key markers come URL-encoded when the store says so (not version ids).
        let keys = Keys::of(
            out.encoding_type(),
            (out.versions().iter().filter_map(|v| v.key()))
                .chain(out.delete_markers().iter().filter_map(|m| m.key()))
                .chain(out.next_key_marker()),
        );
        for v in out.versions() {
            let Some(key) = v.key() else { continue };
            entries.push(VersionEntry {
                key: keys.read(key),
                version_id: v.version_id().unwrap_or("null").to_string(),
                modified_ms: v.last_modified().and_then(|t| t.to_millis().ok()),
                size: v.size().unwrap_or(0).max(0) as u64,
                etag: v.e_tag().map(unquote),
                is_latest: v.is_latest() == Some(true),
                delete_marker: false,
                storage_class: v.storage_class().map(|c| c.as_str().to_string()),
                listed_order: version_order,
            });
            version_order += 1;
        }
        for m in out.delete_markers() {
            let Some(key) = m.key() else { continue };
            entries.push(VersionEntry {
                key: keys.read(key),
                version_id: m.version_id().unwrap_or("null").to_string(),
                modified_ms: m.last_modified().and_then(|t| t.to_millis().ok()),
                is_latest: m.is_latest() == Some(true),
                delete_marker: true,
                listed_order: marker_order,
                ..Default::default()
            });
            marker_order += 1;
        }
        on_page(entries.len());
        if out.is_truncated() != Some(true) {
            break;
        }
        let next = (
            out.next_key_marker().map(|k| keys.read(k)),
            out.next_version_id_marker().map(str::to_string),
        );
        // A store that says "truncated" without moving the markers would loop forever.
        if next.0.is_none() || next == (key_marker.clone(), version_marker.clone()) {
            break;
        }
        (key_marker, version_marker) = next;
    }
    Ok(entries)
}

/// Every version of exactly `key` (newest first as listed), delete markers included.
pub async fn key_versions(side: &SideClient, key: &str) -> Result<Vec<VersionEntry>> {
    let mut versions: Vec<VersionEntry> = list_versions(side, key, |_| {})
        .await?
        .into_iter()
        .filter(|v| v.key == key)
        .collect();
    versions.sort_by_key(|v| {
        std::cmp::Reverse((
            v.modified_ms,
            v.is_latest,
            v.delete_marker,
            std::cmp::Reverse(v.listed_order),
        ))
    });
    Ok(versions)
}

/// Whether the bucket has (or had) versioning: `Some(true)` enabled or suspended,
/// `Some(false)` never enabled, `None` when the state cannot be read.
pub async fn versioning_state(side: &SideClient) -> Option<bool> {
    let result = side
        .client
        .get_bucket_versioning()
        .bucket(&side.bucket)
        .send()
        .await;
    match result {
        Ok(out) => Some(out.status().is_some()),
        Err(e) => {
            let failure = s3_failure(&e, context(side, "GetBucketVersioning", ""));
            tracing::warn!(error = %failure, "cannot read the source bucket's versioning state; the version listing decides");
            None
        }
    }
}

/// Whether a listing shows no history at all: entries, every one a `null` version, no delete
/// marker (what a bucket that never had versioning lists).
pub fn lists_no_history(versions: &[VersionEntry]) -> bool {
    !versions.is_empty()
        && versions
            .iter()
            .all(|v| v.version_id == "null" && !v.delete_marker)
}

fn never_versioned(side: &SideClient, moment_ms: i64) -> Error {
    Error::config(format!(
        "version_at '{}': source bucket '{}' has never had versioning enabled, so it keeps no \
         earlier versions to copy; drop source.version_at / --version-at to copy the current \
         objects, or enable versioning for later point-in-time copies",
        format_rfc3339(moment_ms),
        side.bucket
    ))
}

/// The objects under `prefix` as they were at `moment_ms`, sorted by key, each with the
/// version id to read. `on_page` sees the running count of listed versions.
pub async fn objects_at_moment(
    side: &SideClient,
    prefix: &str,
    moment_ms: i64,
    on_page: impl FnMut(usize),
) -> Result<Vec<ObjectInfo>> {
    let state = versioning_state(side).await;
    if state == Some(false) {
        return Err(never_versioned(side, moment_ms));
    }
    let versions = list_versions(side, prefix, on_page).await?;
    if state.is_none() && lists_no_history(&versions) {
        return Err(never_versioned(side, moment_ms));
    }
    Ok(objects_at(versions, moment_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, delete_marker: bool) -> VersionEntry {
        VersionEntry {
            key: "k".into(),
            version_id: id.into(),
            delete_marker,
            ..Default::default()
        }
    }

    #[test]
    fn only_null_versions_without_markers_hold_no_history() {
        assert!(lists_no_history(&[
            entry("null", false),
            entry("null", false)
        ]));
        assert!(!lists_no_history(&[]), "an empty listing proves nothing");
        assert!(!lists_no_history(&[
            entry("null", false),
            entry("3HL4kqtJ", false)
        ]));
        assert!(
            !lists_no_history(&[entry("null", true)]),
            "a delete marker means versioning was on"
        );
    }
}
