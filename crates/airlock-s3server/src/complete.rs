//! The checks CompleteMultipartUpload makes before s3s-fs assembles the object, and the
//! full-object checksum: combined from the parts' CRCs (no byte is read again) and compared with
//! the value the client sent. They run first because s3s-fs consumes the upload as it goes, so a
//! refusal from it would lose the upload, while S3 keeps it.

use s3s::dto::*;
use s3s::{S3Result, s3_error};

use super::checksum::{combine_crcs, dto_sums, encode_crc};
use super::meta::{FullChecksum, UploadMeta};
use super::parts::{StoredPart, layout_of};

/// S3's minimum size of every part but the last.
const MIN_PART_SIZE_BYTES: u64 = 5 * 1024 * 1024;

/// What Complete stores with the object: its full-object checksum, if the upload has one, and
/// its part layout.
pub(super) struct Completed {
    pub full_checksum: Option<FullChecksum>,
    pub parts: Vec<StoredPart>,
}

/// S3's checks on the listed parts, then the full-object checksum to store, if the upload has
/// one (BadDigest if the client sent a different value). `small_parts_ok`: a kinder store that
/// accepts parts under 5 MiB (behaviour `set_small_parts_allowed`).
pub(super) fn check_complete(
    upload: &UploadMeta,
    input: &CompleteMultipartUploadInput,
    small_parts_ok: bool,
) -> S3Result<Completed> {
    let listed = input
        .multipart_upload
        .as_ref()
        .and_then(|m| m.parts.as_ref());
    let listed = listed.map(Vec::as_slice).unwrap_or_default();
    if listed.is_empty() {
        return Err(s3_error!(InvalidPart, "You must specify at least one part"));
    }
    let sent_type = input
        .checksum_type
        .as_ref()
        .map(|t| t.as_str().to_ascii_uppercase());
    if sent_type.is_some() && sent_type != upload.checksum_type {
        return Err(s3_error!(
            InvalidRequest,
            "The upload was created with checksum type {}",
            upload.checksum_type.as_deref().unwrap_or("none")
        ));
    }
    let mut parts = Vec::with_capacity(listed.len());
    for (i, given) in listed.iter().enumerate() {
        let number = given.part_number.unwrap_or_default();
        // s3s-fs assembles parts 1..=N only; S3 allows gaps but airlock never leaves any.
        if usize::try_from(number).ok() != Some(i + 1) {
            return Err(s3_error!(
                InvalidPartOrder,
                "parts must be numbered 1, 2, 3, ... in order"
            ));
        }
        let Some(part) = upload.parts.get(&number) else {
            return Err(s3_error!(
                InvalidPart,
                "Part {number} has not been uploaded."
            ));
        };
        let etag_differs = given.e_tag.as_ref().is_some_and(|e| e.value() != part.etag);
        let sums_differ = dto_sums!(read given)
            .present()
            .any(|(alg, value)| part.sums.get(alg) != Some(value));
        if etag_differs || sums_differ {
            return Err(s3_error!(
                InvalidPart,
                "Part {number}: the ETag or checksum given does not match the uploaded part."
            ));
        }
        parts.push(part);
    }
    let all_but_last = &parts[..parts.len() - 1];
    if let Some(small) = all_but_last
        .iter()
        .find(|p| p.size_bytes < MIN_PART_SIZE_BYTES)
        && !small_parts_ok
    {
        return Err(s3_error!(
            EntityTooSmall,
            "Part {} is smaller than 5 MiB and not the last part.",
            small.part_number
        ));
    }
    let total_bytes: u64 = parts.iter().map(|p| p.size_bytes).sum();
    if let Some(expected) = input.mpu_object_size
        && u64::try_from(expected).ok() != Some(total_bytes)
    {
        return Err(s3_error!(
            InvalidRequest,
            "x-amz-mp-object-size {expected} does not match the parts' total of {total_bytes} bytes"
        ));
    }
    let layout = layout_of(&parts);
    let Some(alg) = upload.full_object_crc() else {
        return Ok(Completed {
            full_checksum: None,
            parts: layout,
        });
    };
    let part_crcs = parts
        .iter()
        .map(|p| p.sums.get(alg).map(|v| (v, p.size_bytes)));
    let part_crcs: Option<Vec<(&str, u64)>> = part_crcs.collect();
    let combined = part_crcs.and_then(|crcs| combine_crcs(alg, crcs));
    let Some(combined) = combined else {
        return Err(s3_error!(
            InternalError,
            "a part of this upload has no {} checksum",
            alg.name()
        ));
    };
    let value = encode_crc(alg, combined);
    if let Some(sent) = dto_sums!(read input).get(alg)
        && sent != value
    {
        return Err(s3_error!(
            BadDigest,
            "The {} you specified did not match the calculated checksum.",
            alg.name()
        ));
    }
    Ok(Completed {
        full_checksum: Some(FullChecksum {
            algorithm: alg,
            value,
        }),
        parts: layout,
    })
}
