//! The source hop of a multipart source copied in its own part layout (the plan item's
//! [`SourceLayout`]): what to compute per part ([`expect_layout`]) and the check before
//! CompleteMultipartUpload ([`check_composite`]): the source's COMPOSITE CRC32/CRC32C or
//! SHA-1/SHA-256 (checksum of the concatenated binary part checksums, `-N`) or its multipart ETag (MD5 of the part MD5s, `-N`),
//! recomputed from the parts read. Only the same part boundaries give the same value, which is
//! why the copy uses the source's parts.
//!
//! May depend on `digest`, `verify` and `journal` of the engine; nothing else of the engine.

use md5::Digest as _;

use super::digest::{crc_algorithm, encode};
use super::journal::JournalPart;
use super::verify::{Check, Composite, SourceExpectation, hex};
use crate::aws::objects::{SourceObject, UploadChecksum};
use crate::config::{Side, VerifyMode, WriteChecksum};
use crate::error::{Class, Error, S3Failure};
use crate::plan::{ChecksumAlgorithm, SourceHop, SourceLayout};

/// Adjust `expectation` for a copy in the source's layout (`parts` parts of the layout's
/// size). A layout airlock could not use says why the source hop is size only.
pub(crate) fn expect_layout(
    expectation: &mut SourceExpectation,
    source: &SourceObject,
    layout: &SourceLayout,
    in_layout: bool,
    verify: VerifyMode,
) {
    if verify == VerifyMode::Size || expectation.full_crc.is_some() {
        return;
    }
    let pinned = format!("every part was pinned to ETag '{}'", source.etag);
    if let SourceHop::SizeOnly { reason } = &layout.check {
        expectation.description = Check::weak(format!("size only: {reason}; {pinned}"));
        return;
    }
    if !in_layout {
        return;
    }
    let parts = layout.parts;
    match &layout.check {
        SourceHop::Composite { algorithm } => {
            let reported = source
                .checksum
                .as_ref()
                .filter(|c| !c.full_object && c.algorithm == *algorithm);
            let Some(reported) = reported else {
                return;
            };
            let value = match reported.value.contains('-') {
                true => reported.value.clone(),
                // moto sends the composite value without its `-N`.
                false => format!("{}-{parts}", reported.value),
            };
            expectation.digest_plan.source_crc = Some(*algorithm);
            expectation.composite = Some(Composite::Crc {
                algorithm: *algorithm,
                value,
            });
            expectation.description = Check::digest(format!(
                "composite {} of the {parts} parts read (in the source's layout) matched the source's",
                name(*algorithm)
            ));
        }
        SourceHop::MultipartEtag if !source.kms_encrypted && source.etag.contains('-') => {
            expectation.digest_plan.md5 = true;
            expectation.composite = Some(Composite::Etag(source.etag.clone()));
            expectation.description = Check::digest(format!(
                "MD5s of the {parts} parts read (in the source's layout) matched the source's multipart ETag"
            ));
        }
        _ => {}
    }
}

fn name(algorithm: ChecksumAlgorithm) -> String {
    format!("{algorithm:?}").to_lowercase()
}

/// The algorithm the target upload is created with as COMPOSITE, so that the target reports
/// the source's own `value-N` (and a later plan compares the two): the source's composite
/// algorithm, when the copy is in its layout and parts go with trailers (`write` is
/// `trailer`). Plain parts (`md5`, `none`: stores without trailing checksums) carry no
/// checksum whose value is known before the bytes are sent, so they stay as they were.
pub(crate) fn target_composite(
    expectation: &SourceExpectation,
    write: WriteChecksum,
) -> Option<ChecksumAlgorithm> {
    match (&expectation.composite, write) {
        (Some(Composite::Crc { algorithm, .. }), WriteChecksum::Trailer) => Some(*algorithm),
        _ => None,
    }
}

/// The checksum a new upload is created with: COMPOSITE in `composite`, else FULL_OBJECT
/// CRC64NVME when `full_object`, else none.
pub(crate) fn upload_checksum(
    composite: Option<ChecksumAlgorithm>,
    full_object: bool,
) -> UploadChecksum {
    match composite {
        Some(algorithm) => UploadChecksum::Composite(algorithm),
        None if full_object => UploadChecksum::FullCrc64nvme,
        None => UploadChecksum::None,
    }
}

/// The composite value (`base64-N`) of `algorithm` over the parts' base64 checksums of it, in
/// part order; None when one is missing or malformed.
pub(crate) fn composite_of<'a>(
    algorithm: ChecksumAlgorithm,
    parts: impl IntoIterator<Item = Option<&'a str>>,
) -> Option<String> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let (mut raw, mut count) = (Vec::new(), 0usize);
    for value in parts {
        raw.extend(engine.decode(value?).ok()?);
        count += 1;
    }
    Some(format!("{}-{count}", digest_of(algorithm, &raw)?))
}

/// Base64 of `algorithm` over `raw` (a composite's concatenated part checksums).
fn digest_of(algorithm: ChecksumAlgorithm, raw: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    match algorithm {
        ChecksumAlgorithm::Sha1 => Some(engine.encode(sha1::Sha1::digest(raw))),
        ChecksumAlgorithm::Sha256 => Some(engine.encode(sha2::Sha256::digest(raw))),
        _ => {
            let crc = crc_algorithm(algorithm)?;
            Some(encode(algorithm, crc_fast::checksum(crc, raw)))
        }
    }
}

/// A composite value without its `-N`, and N (moto sends no `-N`: then `parts`).
pub(crate) fn split_composite(value: &str, parts: usize) -> (&str, usize) {
    match value
        .rsplit_once('-')
        .and_then(|(v, n)| Some((v, n.parse().ok()?)))
    {
        Some((value, count)) => (value, count),
        None => (value, parts),
    }
}

/// Recompute the composite from the parts read (all of them, in part order) and compare it with
/// the source's. `Ok(None)` when a resumed part lacks its value (then nothing can be said);
/// `Err` on a mismatch: the object must not be completed.
pub(crate) fn check_composite(
    composite: &Composite,
    parts: &[JournalPart],
    bucket: &str,
    key: &str,
) -> Result<Option<()>, Error> {
    let count = parts.len();
    let (got, want, what) = match composite {
        Composite::Crc { algorithm, value } => {
            // Each part's value: as computed while streaming (or listed), base64.
            let values: Vec<Option<String>> = parts
                .iter()
                .map(|part| {
                    part.part.checksum.clone().or_else(|| {
                        crc_algorithm(*algorithm)?;
                        Some(encode(*algorithm, part.source_crc?))
                    })
                })
                .collect();
            let Some(got) = composite_of(*algorithm, values.iter().map(|v| v.as_deref())) else {
                return Ok(None);
            };
            (got, value.clone(), name(*algorithm))
        }
        Composite::Etag(etag) => {
            let mut md5 = md5::Md5::new();
            for part in parts {
                let Some(bytes) = part.md5.as_deref().and_then(decode_hex) else {
                    return Ok(None);
                };
                md5.update(bytes);
            }
            let got = format!("{}-{count}", hex(&md5.finalize()));
            (got, etag.to_ascii_lowercase(), "multipart ETag".to_string())
        }
    };
    if got == want {
        return Ok(Some(()));
    }
    Err(Error::from(S3Failure {
        side: Side::Source,
        operation: "GetObject",
        bucket: bucket.to_string(),
        key: Some(key.to_string()),
        status: None,
        code: Some("ChecksumMismatch".into()),
        message: format!(
            "the parts read do not match the source's {what} (read {got}, source says {want}); not completed"
        ),
        class: Class::Fatal,
    }))
}

fn decode_hex(text: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if text.len() != 32 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::objects::FinishedPart;

    fn part(n: u32, data: &[u8]) -> JournalPart {
        let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data);
        JournalPart {
            part: FinishedPart {
                part: n,
                etag: String::new(),
                crc64nvme: String::new(),
                size: data.len() as u64,
                checksum: None,
            },
            source_crc: Some(crc),
            md5: Some(hex(&md5::Md5::digest(data))),
        }
    }

    #[test]
    fn composite_crc_and_multipart_etag_are_recomputed_from_the_parts() {
        let parts = [part(1, b"first part "), part(2, b"second")];
        let mut raw = Vec::new();
        let mut md5s = Vec::new();
        for p in &parts {
            raw.extend((p.source_crc.unwrap() as u32).to_be_bytes());
            md5s.extend(decode_hex(p.md5.as_deref().unwrap()).unwrap());
        }
        let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, &raw);
        let value = format!("{}-2", encode(ChecksumAlgorithm::Crc32c, crc));
        let good = Composite::Crc {
            algorithm: ChecksumAlgorithm::Crc32c,
            value: value.clone(),
        };
        assert!(matches!(
            check_composite(&good, &parts, "b", "k"),
            Ok(Some(()))
        ));
        let etag = format!("{}-2", hex(&md5::Md5::digest(&md5s)));
        let good = Composite::Etag(etag.to_uppercase());
        assert!(matches!(
            check_composite(&good, &parts, "b", "k"),
            Ok(Some(()))
        ));
        // One byte different in part 2: both checks fail.
        let bad = [part(1, b"first part "), part(2, b"secOnd")];
        let crc = Composite::Crc {
            algorithm: ChecksumAlgorithm::Crc32c,
            value,
        };
        assert!(check_composite(&crc, &bad, "b", "k").is_err());
        assert!(check_composite(&Composite::Etag(etag), &bad, "b", "k").is_err());
    }
}
