//! Listing a side like a folder (common prefixes + objects) or recursively, one page at a
//! time or all pages, and HEAD for the details a listing lacks (checksums, provenance).

use aws_sdk_s3::types::{ChecksumMode, ChecksumType, EncodingType, ServerSideEncryption};

use super::SideClient;
use super::errors::{Context, s3_error, s3_failure};
use super::url_keys::Keys;
use crate::error::Result;
use crate::plan::{Checksum, ChecksumAlgorithm, ObjectInfo};

/// User metadata key where airlock records the source ETag an object was copied from.
pub const COPIED_FROM_ETAG_META: &str = "airlock-source-etag";

/// One page (or all pages) of a listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Common prefixes ("folders"), full keys ending in the delimiter.
    pub prefixes: Vec<String>,
    pub objects: Vec<ObjectInfo>,
    /// Token for the next page; None on the last page.
    pub next: Option<String>,
}

/// One page of up to 1,000 keys under `prefix`. `recursive = false` groups keys by '/'.
pub async fn list_page(
    side: &SideClient,
    prefix: &str,
    recursive: bool,
    continuation: Option<String>,
) -> Result<Listing> {
    let mut request = side
        .client
        .list_objects_v2()
        .bucket(&side.bucket)
        .prefix(prefix)
        .encoding_type(EncodingType::Url)
        .set_continuation_token(continuation);
    if !recursive {
        request = request.delimiter("/");
    }
    let output = request.send().await.map_err(|e| {
        let ctx = Context {
            side: side.side,
            operation: "ListObjectsV2",
            bucket: &side.bucket,
            key: Some(prefix).filter(|p| !p.is_empty()),
        };
        s3_error(&e, ctx, side.region())
    })?;
    // Keys come URL-encoded when the store honoured `encoding-type=url` (it says so).
    let keys = Keys::of(
        output.encoding_type(),
        (output.contents().iter().filter_map(|o| o.key()))
            .chain(output.common_prefixes().iter().filter_map(|p| p.prefix())),
    );
    let prefixes = output
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix().map(|p| keys.read(p)))
        .collect();
    let objects = output
        .contents()
        .iter()
        .filter_map(|o| {
            Some(ObjectInfo {
                key: keys.read(o.key()?),
                size: o.size().unwrap_or(0).max(0) as u64,
                modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()),
                etag: o.e_tag().map(unquote),
                // A listing does not say how an object is encrypted.
                etag_md5: None,
                checksum: None,
                copied_from_etag: None,
                storage_class: o.storage_class().map(|c| c.as_str().to_string()),
                restored: None,
                version_id: None,
            })
        })
        .collect();
    let next = if output.is_truncated() == Some(true) {
        output.next_continuation_token().map(str::to_string)
    } else {
        None
    };
    Ok(Listing {
        prefixes,
        objects,
        next,
    })
}

/// Every page under `prefix`, concatenated. `on_page` sees the running object count.
pub async fn list_all(
    side: &SideClient,
    prefix: &str,
    recursive: bool,
    mut on_page: impl FnMut(usize),
) -> Result<Listing> {
    let mut all = Listing::default();
    let mut token = None;
    loop {
        let page = list_page(side, prefix, recursive, token).await?;
        all.prefixes.extend(page.prefixes);
        all.objects.extend(page.objects);
        on_page(all.objects.len());
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(all)
}

/// HEAD one object with checksum mode: size, ETag, full-object checksum, provenance.
/// `Ok(None)` when the key does not exist.
pub async fn head(side: &SideClient, key: &str) -> Result<Option<ObjectInfo>> {
    head_version(side, key, None).await
}

/// [`head`] of one version of the object (`None`: the latest).
pub async fn head_version(
    side: &SideClient,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<ObjectInfo>> {
    let result = side
        .client
        .head_object()
        .bucket(&side.bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string))
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await;
    let output = match result {
        Ok(output) => output,
        Err(e) => {
            let failure = s3_failure(
                &e,
                Context {
                    side: side.side,
                    operation: "HeadObject",
                    bucket: &side.bucket,
                    key: Some(key),
                },
            );
            if failure.class == crate::error::Class::NotFound {
                return Ok(None);
            }
            return Err(failure.into());
        }
    };
    let checksum = checksum_of(
        output.checksum_type(),
        output.e_tag(),
        [
            (ChecksumAlgorithm::Crc64nvme, output.checksum_crc64_nvme()),
            (ChecksumAlgorithm::Crc32c, output.checksum_crc32_c()),
            (ChecksumAlgorithm::Crc32, output.checksum_crc32()),
            (ChecksumAlgorithm::Sha256, output.checksum_sha256()),
            (ChecksumAlgorithm::Sha1, output.checksum_sha1()),
        ],
    );
    Ok(Some(ObjectInfo {
        key: key.to_string(),
        size: output.content_length().unwrap_or(0).max(0) as u64,
        modified_ms: output.last_modified().and_then(|t| t.to_millis().ok()),
        etag: output.e_tag().map(unquote),
        etag_md5: output.e_tag().map(|etag| {
            etag_is_md5(
                &unquote(etag),
                output.server_side_encryption(),
                output.sse_customer_algorithm(),
            )
        }),
        checksum,
        copied_from_etag: output
            .metadata()
            .and_then(|m| m.get(COPIED_FROM_ETAG_META))
            .cloned(),
        storage_class: output.storage_class().map(|c| c.as_str().to_string()),
        restored: Some(restored(output.restore())),
        version_id: version_id.map(str::to_string),
    }))
}

/// Whether an ETag is the MD5 of the object's bytes: 32 hex digits of a single-part upload
/// whose encryption does not make it opaque ([`super::objects::opaque_etag`]; SSE-S3 `AES256`
/// ETags are MD5s).
pub fn etag_is_md5(
    etag: &str,
    encryption: Option<&ServerSideEncryption>,
    customer_algorithm: Option<&str>,
) -> bool {
    !super::objects::opaque_etag(encryption, customer_algorithm)
        && etag.len() == 32
        && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The checksum a HEAD or GET reports, with its kind. A multipart object's checksum (ETag
/// `...-N`) is composite unless `x-amz-checksum-type: FULL_OBJECT` says otherwise or the
/// algorithm is CRC64NVME (always full-object): some stores (moto) send a composite value
/// without the `-N` suffix and without the type, and taking it for a full-object checksum
/// would fail a good object. A value with a `-N` suffix is always composite.
pub(crate) fn checksum_of(
    checksum_type: Option<&ChecksumType>,
    etag: Option<&str>,
    values: [(ChecksumAlgorithm, Option<&str>); 5],
) -> Option<Checksum> {
    let multipart = etag.is_some_and(|e| unquote(e).contains('-'));
    values.into_iter().find_map(|(algorithm, value)| {
        let full_object = match checksum_type {
            Some(ChecksumType::FullObject) => true,
            Some(ChecksumType::Composite) => false,
            _ => algorithm == ChecksumAlgorithm::Crc64nvme || !multipart,
        };
        value.map(|v| Checksum {
            algorithm,
            full_object: full_object && !v.contains('-'),
            value: v.to_string(),
        })
    })
}

/// Whether HEAD's `x-amz-restore` says a restored copy is readable (`ongoing-request="false"`).
pub(crate) fn restored(restore: Option<&str>) -> bool {
    restore.is_some_and(|r| r.replace(' ', "").contains("ongoing-request=\"false\""))
}

/// S3 ETags come quoted; we keep them bare.
pub fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reported(kind: Option<ChecksumType>, etag: &str, algorithm: ChecksumAlgorithm) -> bool {
        let mut values = [
            (ChecksumAlgorithm::Crc64nvme, None),
            (ChecksumAlgorithm::Crc32c, None),
            (ChecksumAlgorithm::Crc32, None),
            (ChecksumAlgorithm::Sha256, None),
            (ChecksumAlgorithm::Sha1, None),
        ];
        for slot in &mut values {
            if slot.0 == algorithm {
                slot.1 = Some("AAAA");
            }
        }
        checksum_of(kind.as_ref(), Some(etag), values)
            .expect("a checksum")
            .full_object
    }

    #[test]
    fn a_multipart_checksum_is_composite_unless_its_type_says_full_object() {
        use ChecksumAlgorithm::{Crc32, Crc64nvme};
        // moto: a multipart CRC32 without suffix and without type.
        assert!(!reported(None, "\"abc-2\"", Crc32));
        assert!(reported(Some(ChecksumType::FullObject), "\"abc-2\"", Crc32));
        assert!(!reported(Some(ChecksumType::Composite), "\"abc-2\"", Crc32));
        // CRC64NVME is always full-object; a single PUT's checksum is too.
        assert!(reported(None, "\"abc-2\"", Crc64nvme));
        assert!(reported(
            None,
            "\"0123456789abcdef0123456789abcdef\"",
            Crc32
        ));
    }
}
