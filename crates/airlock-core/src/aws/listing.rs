//! Listing a side like a folder (common prefixes + objects) or recursively, one page at a
//! time or all pages, and HEAD for the details a listing lacks (checksums, provenance).

use aws_sdk_s3::types::{ChecksumMode, ChecksumType};

use super::SideClient;
use super::errors::{Context, s3_error, s3_failure};
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
    let prefixes = output
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix().map(str::to_string))
        .collect();
    let objects = output
        .contents()
        .iter()
        .filter_map(|o| {
            Some(ObjectInfo {
                key: o.key()?.to_string(),
                size: o.size().unwrap_or(0).max(0) as u64,
                modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()),
                etag: o.e_tag().map(unquote),
                checksum: None,
                copied_from_etag: None,
                storage_class: o.storage_class().map(|c| c.as_str().to_string()),
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
    let full_object = output.checksum_type() != Some(&ChecksumType::Composite);
    let checksum = [
        (ChecksumAlgorithm::Crc64nvme, output.checksum_crc64_nvme()),
        (ChecksumAlgorithm::Crc32c, output.checksum_crc32_c()),
        (ChecksumAlgorithm::Crc32, output.checksum_crc32()),
        (ChecksumAlgorithm::Sha256, output.checksum_sha256()),
        (ChecksumAlgorithm::Sha1, output.checksum_sha1()),
    ]
    .into_iter()
    .find_map(|(algorithm, value)| {
        value.map(|v| Checksum {
            algorithm,
            // Composite values look like 'base64-N'.
            full_object: full_object && !v.contains('-'),
            value: v.to_string(),
        })
    });
    Ok(Some(ObjectInfo {
        key: key.to_string(),
        size: output.content_length().unwrap_or(0).max(0) as u64,
        modified_ms: output.last_modified().and_then(|t| t.to_millis().ok()),
        etag: output.e_tag().map(unquote),
        checksum,
        copied_from_etag: output
            .metadata()
            .and_then(|m| m.get(COPIED_FROM_ETAG_META))
            .cloned(),
        storage_class: output.storage_class().map(|c| c.as_str().to_string()),
        version_id: version_id.map(str::to_string),
    }))
}

/// S3 ETags come quoted; we keep them bare.
pub fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}
