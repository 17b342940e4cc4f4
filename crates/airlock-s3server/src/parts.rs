//! A multipart object's part layout, kept as S3 keeps it: each part's size and checksums are
//! stored with the object at CompleteMultipartUpload, so that HEAD and GET with `partNumber=N`
//! answer that part's length and byte range with `x-amz-mp-parts-count`, GetObjectAttributes
//! lists the parts, and an upload made with a COMPOSITE checksum (CRC32, CRC32C, SHA-1,
//! SHA-256) reports its checksum-of-checksums as `value-N` with `x-amz-checksum-type:
//! COMPOSITE`, as S3 does.
//!
//! Depends on `checksum` and `meta` only; the faithful operations call it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

use super::checksum::{Hasher, Sums};
use super::meta::{FullChecksum, ObjectMeta, PartMeta, UploadMeta};

/// One part of a completed multipart object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredPart {
    pub size_bytes: u64,
    /// The part's checksums as UploadPart computed them (base64).
    #[serde(default)]
    pub sums: Sums,
}

/// The layout to keep for an object assembled from `parts` (in part order).
pub(crate) fn layout_of(parts: &[&PartMeta]) -> Vec<StoredPart> {
    parts
        .iter()
        .map(|p| StoredPart {
            size_bytes: p.size_bytes,
            sums: p.sums.clone(),
        })
        .collect()
}

/// The COMPOSITE checksum of an upload created with `x-amz-checksum-type: COMPOSITE` (the
/// default for CRC32, CRC32C, SHA-1 and SHA-256): the algorithm over the concatenated binary
/// part checksums, base64, then `-N`. `None` for other uploads or when a part lacks its value.
pub(crate) fn composite_of(upload: &UploadMeta, parts: &[StoredPart]) -> Option<FullChecksum> {
    let algorithm = upload.checksum_algorithm?;
    if upload.checksum_type.as_deref() != Some("COMPOSITE") {
        return None;
    }
    let mut hasher = Hasher::new(&[algorithm]);
    for part in parts {
        let raw = BASE64.decode(part.sums.get(algorithm)?).ok()?;
        hasher.update(&raw);
    }
    let (sums, _) = hasher.finish();
    let value = format!("{}-{}", sums.get(algorithm)?, parts.len());
    Some(FullChecksum { algorithm, value })
}

/// Part `number` of `parts`: its first and last byte and its size. 416 InvalidPartNumber for a
/// part the object does not have, as S3 answers.
pub(crate) fn part_range(parts: &[StoredPart], number: i32) -> S3Result<(u64, u64, u64)> {
    let index = usize::try_from(number).ok().and_then(|n| n.checked_sub(1));
    let Some(part) = index.and_then(|i| parts.get(i)) else {
        let mut error = S3Error::with_message(
            S3ErrorCode::Custom("InvalidPartNumber".into()),
            "The requested partnumber is not satisfiable",
        );
        error.set_status_code(hyper::StatusCode::RANGE_NOT_SATISFIABLE);
        return Err(error);
    };
    let first: u64 = parts[..index.unwrap_or_default()]
        .iter()
        .map(|p| p.size_bytes)
        .sum();
    let last = (first + part.size_bytes).saturating_sub(1);
    Ok((first, last, part.size_bytes))
}

/// `x-amz-mp-parts-count` for an object of `parts`.
pub(crate) fn parts_count(parts: &[StoredPart]) -> Option<PartsCount> {
    i32::try_from(parts.len()).ok()
}

/// A part asked for by `partNumber`: its first and last byte, its size, the object's part count.
pub(crate) type AskedPart = (u64, u64, u64, Option<i32>);

/// `partNumber=N` on a multipart object we know the layout of: the part's byte range, size and
/// the object's part count. `None` when no part was asked for or the layout is unknown (then
/// s3s-fs answers with the whole object, as S3 does for an object not uploaded in parts).
pub(crate) fn asked_part(
    part_number: Option<i32>,
    meta: Option<&ObjectMeta>,
) -> S3Result<Option<AskedPart>> {
    let (Some(number), Some(meta)) = (part_number, meta) else {
        return Ok(None);
    };
    if meta.parts.is_empty() {
        return Ok(None);
    }
    let (first, last, size) = part_range(&meta.parts, number)?;
    Ok(Some((first, last, size, parts_count(&meta.parts))))
}

/// A part's own checksums, reported with checksum mode for `partNumber=N`.
pub(crate) fn part_sums(meta: &ObjectMeta, number: i32, enabled: bool) -> Sums {
    let index = usize::try_from(number - 1).ok();
    match index.and_then(|i| meta.parts.get(i)) {
        Some(part) if enabled => part.sums.clone(),
        _ => Sums::default(),
    }
}

/// The part list GetObjectAttributes answers: parts after `marker`, at most `max` of them.
pub(crate) fn attributes_parts(
    parts: &[StoredPart],
    marker: Option<i32>,
    max: Option<i32>,
) -> GetObjectAttributesParts {
    let start = usize::try_from(marker.unwrap_or(0)).unwrap_or(0);
    let max = usize::try_from(max.unwrap_or(1000))
        .unwrap_or(1000)
        .min(1000);
    let listed: Vec<ObjectPart> = parts
        .iter()
        .enumerate()
        .skip(start)
        .take(max)
        .map(|(i, p)| ObjectPart {
            checksum_crc32: p.sums.crc32.clone(),
            checksum_crc32c: p.sums.crc32c.clone(),
            checksum_crc64nvme: p.sums.crc64nvme.clone(),
            checksum_sha1: p.sums.sha1.clone(),
            checksum_sha256: p.sums.sha256.clone(),
            part_number: i32::try_from(i + 1).ok(),
            size: i64::try_from(p.size_bytes).ok(),
        })
        .collect();
    let end = start + listed.len();
    GetObjectAttributesParts {
        is_truncated: Some(end < parts.len()),
        max_parts: i32::try_from(max).ok(),
        next_part_number_marker: i32::try_from(end).ok(),
        part_number_marker: marker,
        parts: Some(listed),
        total_parts_count: parts_count(parts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Algorithm;

    fn part(data: &[u8], alg: Algorithm) -> StoredPart {
        let mut hasher = Hasher::new(&[alg]);
        hasher.update(data);
        let (sums, size_bytes) = hasher.finish();
        StoredPart { size_bytes, sums }
    }

    fn upload(alg: Algorithm, kind: &str) -> UploadMeta {
        UploadMeta {
            upload_id: "u".into(),
            bucket: "b".into(),
            key: "k".into(),
            initiated_unix_ms: 0,
            checksum_algorithm: Some(alg),
            checksum_type: Some(kind.into()),
            tags: Vec::new(),
            encryption: None,
            storage_class: None,
            parts: Default::default(),
        }
    }

    #[test]
    fn composite_is_the_checksum_of_the_part_checksums_with_the_part_count() {
        let parts = [
            part(b"hello ", Algorithm::Crc32),
            part(b"world", Algorithm::Crc32),
        ];
        let mut raw = Vec::new();
        for p in &parts {
            raw.extend(BASE64.decode(p.sums.crc32.as_ref().unwrap()).unwrap());
        }
        let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &raw) as u32;
        let expected = format!("{}-2", BASE64.encode(crc.to_be_bytes()));
        let composite = composite_of(&upload(Algorithm::Crc32, "COMPOSITE"), &parts).unwrap();
        assert_eq!(composite.value, expected);
        assert!(composite_of(&upload(Algorithm::Crc32, "FULL_OBJECT"), &parts).is_none());
    }

    #[test]
    fn part_ranges_follow_the_stored_sizes() {
        let parts = [
            part(&[0; 10], Algorithm::Crc32),
            part(&[0; 4], Algorithm::Crc32),
        ];
        assert_eq!(part_range(&parts, 1).unwrap(), (0, 9, 10));
        assert_eq!(part_range(&parts, 2).unwrap(), (10, 13, 4));
        assert!(part_range(&parts, 3).is_err());
        assert!(part_range(&parts, 0).is_err());
    }
}
