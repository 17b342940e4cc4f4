//! airlock's provenance key (`airlock-source-etag`) and S3's 2 KB limit on user metadata:
//! whether the key still fits beside the metadata carried from the source.
//!
//! Depends on `aws::listing` (the key's name) and `aws::objects` (the carried attributes).

use super::listing::COPIED_FROM_ETAG_META;
use super::objects::ObjectAttributes;

/// S3's limit on user metadata: the UTF-8 bytes of every key (without `x-amz-meta-`) and value.
const USER_METADATA_LIMIT_BYTES: usize = 2048;

/// Whether airlock's provenance key still fits beside the metadata carried from the source.
/// When it does not, the object is written without it (S3 would refuse the whole write with
/// MetadataTooLarge): the copy matters more than the note, and a later plan compares that
/// object by size and checksum instead. Said in the log, with the sizes.
pub(crate) fn fits(
    attributes: Option<&ObjectAttributes>,
    copied_from_etag: &str,
    key: &str,
) -> bool {
    let carried_bytes: usize = attributes.map_or(0, |attrs| {
        attrs
            .metadata
            .iter()
            .filter(|(k, _)| k.as_str() != COPIED_FROM_ETAG_META)
            .map(|(k, v)| k.len() + v.len())
            .sum()
    });
    let ours_bytes = COPIED_FROM_ETAG_META.len() + copied_from_etag.len();
    let fits = carried_bytes + ours_bytes <= USER_METADATA_LIMIT_BYTES;
    if !fits {
        tracing::warn!(
            "'{key}' has {carried_bytes} bytes of user metadata; with airlock's provenance key \
             '{COPIED_FROM_ETAG_META}' ({ours_bytes} bytes) it exceeds S3's 2 KB limit: written \
             without it, so a rerun compares it by size and checksum only"
        );
    }
    fits
}
