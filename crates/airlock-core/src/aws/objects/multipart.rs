//! The multipart calls on the target (part of [`super`]): CreateMultipartUpload with the
//! checksum the upload is completed with, UploadPart from a streamed body, Complete, Abort,
//! ListParts, and the multipart-upload listing used to clean orphans.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm as SdkChecksumAlgorithm, ChecksumType, CompletedMultipartUpload,
    CompletedPart,
};
use aws_smithy_types::body::SdkBody;

use super::super::SideClient;
use super::super::deadline;
use super::super::errors::s3_failure;
use super::super::listing::unquote;
use super::super::trailer::UnsignedPlain;
use super::{ChunkedUpload, WriteParams, WriteResult, ctx};
use crate::error::Result;
use crate::plan::ChecksumAlgorithm;

/// The checksum a multipart upload is created and completed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadChecksum {
    /// None (plain parts, or CRC64NVME trailers without a whole-object type: "trailer-parts").
    None,
    /// A FULL_OBJECT CRC64NVME (parts sent with CRC64NVME trailers).
    FullCrc64nvme,
    /// A COMPOSITE checksum of this algorithm, the source's (parts sent with its trailers): the
    /// target then reports the source's `value-N`.
    Composite(ChecksumAlgorithm),
}

fn sdk_algorithm(algorithm: ChecksumAlgorithm) -> SdkChecksumAlgorithm {
    match algorithm {
        ChecksumAlgorithm::Crc32 => SdkChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c => SdkChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64nvme => SdkChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1 => SdkChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256 => SdkChecksumAlgorithm::Sha256,
    }
}

/// Start a multipart upload with the `checksum` it will be completed with.
pub async fn create_multipart(
    side: &SideClient,
    key: &str,
    params: &WriteParams<'_>,
    checksum: UploadChecksum,
) -> Result<String> {
    let mut request = side
        .client
        .create_multipart_upload()
        .bucket(&side.bucket)
        .key(key);
    match checksum {
        UploadChecksum::None => {}
        UploadChecksum::FullCrc64nvme => {
            request = request
                .checksum_algorithm(SdkChecksumAlgorithm::Crc64Nvme)
                .checksum_type(ChecksumType::FullObject);
        }
        UploadChecksum::Composite(algorithm) => {
            request = request
                .checksum_algorithm(sdk_algorithm(algorithm))
                .checksum_type(ChecksumType::Composite);
        }
    }
    let out = apply_write_params!(request, params, key)
        .send()
        .await
        .map_err(|e| s3_failure(&e, ctx(side, "CreateMultipartUpload", key)))?;
    out.upload_id().map(str::to_string).ok_or_else(|| {
        crate::Error::internal(format!(
            "CreateMultipartUpload for '{key}' returned no upload id"
        ))
    })
}

/// What one UploadPart sends: aws-chunked with a checksum trailer the target checks, or a
/// plain body (`checksum = "md5"` / `"none"`; the ETag answered is the part's MD5).
pub enum PartBody {
    Chunked(ChunkedUpload),
    Plain { body: SdkBody, length: u64 },
}

/// Upload one part from a streamed body.
pub async fn upload_part_stream(
    side: &SideClient,
    key: &str,
    upload_id: &str,
    part_number: u32,
    upload: PartBody,
) -> Result<WriteResult> {
    let (body, length, wire_length, trailer) = match upload {
        PartBody::Chunked(c) => {
            let trailer = c.trailer();
            (c.body, c.length, c.encoded_length, Some(trailer))
        }
        PartBody::Plain { body, length } => (body, length, length, None),
    };
    let (body, taken) = deadline::counted(body);
    let request = side
        .data
        .upload_part()
        .bucket(&side.bucket)
        .key(key)
        .upload_id(upload_id)
        .part_number(part_number as i32)
        .content_length(length as i64)
        .body(ByteStream::new(body))
        .customize();
    let send = match trailer {
        Some(trailer) => request.interceptor(trailer).send(),
        None => request.interceptor(UnsignedPlain).send(),
    };
    let send = async {
        send.await
            .map_err(|e| s3_failure(&e, ctx(side, "UploadPart", key)).into())
    };
    let out = deadline::upload(side, "UploadPart", key, &taken, wire_length, send).await?;
    // A composite upload's part: the target's value of the trailer's algorithm.
    let echoed = match trailer.map(|t| t.algorithm) {
        Some(ChecksumAlgorithm::Crc32) => out.checksum_crc32(),
        Some(ChecksumAlgorithm::Crc32c) => out.checksum_crc32_c(),
        Some(ChecksumAlgorithm::Sha1) => out.checksum_sha1(),
        Some(ChecksumAlgorithm::Sha256) => out.checksum_sha256(),
        Some(ChecksumAlgorithm::Crc64nvme) | None => None,
    };
    Ok(WriteResult {
        etag: out.e_tag().map(unquote),
        crc64nvme: out.checksum_crc64_nvme().map(str::to_string),
        echoed: echoed.map(str::to_string),
    })
}

/// One finished part for CompleteMultipartUpload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FinishedPart {
    pub part: u32,
    pub etag: String,
    /// Base64 CRC64NVME of the part's bytes (as computed while streaming).
    pub crc64nvme: String,
    pub size: u64,
    /// For a composite upload: the part's checksum of its algorithm (base64), as sent or as
    /// ListParts reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// The checksum a CompleteMultipartUpload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompleteChecksum<'a> {
    /// None: plain parts, "trailer-parts".
    None,
    /// The full-object CRC64NVME for the target to check; each part's CRC64NVME listed.
    FullCrc64nvme(&'a str),
    /// A composite upload of this algorithm: each part's checksum listed
    /// ([`FinishedPart::checksum`]).
    Composite(ChecksumAlgorithm),
}

/// Complete the upload with `checksum`: the full-object CRC64NVME for the target to check, the
/// parts' composite checksums, or nothing (parts sent plain).
pub async fn complete_multipart(
    side: &SideClient,
    key: &str,
    upload_id: &str,
    parts: &[FinishedPart],
    checksum: CompleteChecksum<'_>,
) -> Result<WriteResult> {
    let completed: Vec<CompletedPart> = parts
        .iter()
        .map(|p| {
            let part = CompletedPart::builder()
                .part_number(p.part as i32)
                .e_tag(format!("\"{}\"", p.etag));
            let value = p.checksum.clone();
            match checksum {
                CompleteChecksum::FullCrc64nvme(_) => part.checksum_crc64_nvme(&p.crc64nvme),
                CompleteChecksum::Composite(ChecksumAlgorithm::Crc32) => {
                    part.set_checksum_crc32(value)
                }
                CompleteChecksum::Composite(ChecksumAlgorithm::Crc32c) => {
                    part.set_checksum_crc32_c(value)
                }
                CompleteChecksum::Composite(ChecksumAlgorithm::Sha1) => {
                    part.set_checksum_sha1(value)
                }
                CompleteChecksum::Composite(ChecksumAlgorithm::Sha256) => {
                    part.set_checksum_sha256(value)
                }
                CompleteChecksum::Composite(ChecksumAlgorithm::Crc64nvme)
                | CompleteChecksum::None => part,
            }
            .build()
        })
        .collect();
    let mut request = side
        .data
        .complete_multipart_upload()
        .bucket(&side.bucket)
        .key(key)
        .upload_id(upload_id);
    match checksum {
        CompleteChecksum::FullCrc64nvme(full) => {
            request = request
                .checksum_crc64_nvme(full)
                .checksum_type(ChecksumType::FullObject);
        }
        CompleteChecksum::Composite(_) => {
            request = request.checksum_type(ChecksumType::Composite);
        }
        CompleteChecksum::None => {}
    }
    let send = request
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send();
    let send = async {
        send.await
            .map_err(|e| s3_failure(&e, ctx(side, "CompleteMultipartUpload", key)).into())
    };
    let limit = deadline::COMPLETE_TIMEOUT.max(side.read_timeout);
    let out = deadline::answer(side, "CompleteMultipartUpload", key, limit, send).await?;
    Ok(WriteResult {
        etag: out.e_tag().map(unquote),
        crc64nvme: out.checksum_crc64_nvme().map(str::to_string),
        echoed: None,
    })
}

/// Abort an upload (its parts are deleted by the target).
pub async fn abort_multipart(side: &SideClient, key: &str, upload_id: &str) -> Result<()> {
    side.client
        .abort_multipart_upload()
        .bucket(&side.bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
        .map_err(|e| s3_failure(&e, ctx(side, "AbortMultipartUpload", key)))?;
    Ok(())
}

/// Parts already at the target for an upload: (part number, size).
pub async fn list_parts(side: &SideClient, key: &str, upload_id: &str) -> Result<Vec<(u32, u64)>> {
    let parts = list_part_details(side, key, upload_id).await?;
    Ok(parts.into_iter().map(|p| (p.part, p.size)).collect())
}

/// Parts already at the target for an upload, with the ETag and CRC64NVME the target reports
/// for each (an empty checksum when it reports none) and a composite upload's part checksum,
/// in part order.
pub async fn list_part_details(
    side: &SideClient,
    key: &str,
    upload_id: &str,
) -> Result<Vec<FinishedPart>> {
    let mut parts = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = side
            .client
            .list_parts()
            .bucket(&side.bucket)
            .key(key)
            .upload_id(upload_id)
            .set_part_number_marker(marker.clone())
            .send()
            .await
            .map_err(|e| s3_failure(&e, ctx(side, "ListParts", key)))?;
        for p in out.parts() {
            if let Some(n) = p.part_number() {
                let composite = [
                    p.checksum_crc32(),
                    p.checksum_crc32_c(),
                    p.checksum_sha1(),
                    p.checksum_sha256(),
                ];
                parts.push(FinishedPart {
                    part: n as u32,
                    etag: p.e_tag().map(unquote).unwrap_or_default(),
                    crc64nvme: p.checksum_crc64_nvme().unwrap_or_default().to_string(),
                    size: p.size().unwrap_or(0).max(0) as u64,
                    checksum: composite.into_iter().flatten().next().map(str::to_string),
                });
            }
        }
        match (out.is_truncated(), out.next_part_number_marker()) {
            (Some(true), Some(next)) if marker.as_deref() != Some(next) => {
                marker = Some(next.to_string())
            }
            _ => break,
        }
    }
    parts.sort_by_key(|p| p.part);
    Ok(parts)
}

/// An in-progress multipart upload at the target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UploadInfo {
    pub key: String,
    pub upload_id: String,
    /// Start time, ms since the epoch.
    pub initiated_ms: Option<i64>,
}

/// Every in-progress multipart upload under `prefix`.
pub async fn list_uploads(side: &SideClient, prefix: &str) -> Result<Vec<UploadInfo>> {
    let mut uploads = Vec::new();
    let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let out = side
            .client
            .list_multipart_uploads()
            .bucket(&side.bucket)
            .prefix(prefix)
            .encoding_type(aws_sdk_s3::types::EncodingType::Url)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await
            .map_err(|e| {
                let failure = s3_failure(&e, ctx(side, "ListMultipartUploads", prefix));
                if failure.status == Some(501) || failure.code.as_deref() == Some("NotImplemented") {
                    // s3s-fs, s3rver: no listing at all. Not "0 uploads", and nothing to retry.
                    let status = failure.status.map_or(String::new(), |s| format!("{s} "));
                    let code = failure.code.as_deref().unwrap_or("NotImplemented");
                    return crate::error::Error::usage(format!(
                        "the {} store does not list multipart uploads (ListMultipartUploads: {status}{code}): use the store's own tools",
                        side.side
                    ));
                }
                failure.into()
            })?;
        let keys = super::super::url_keys::Keys::of(
            out.encoding_type(),
            (out.uploads().iter().filter_map(|u| u.key())).chain(out.next_key_marker()),
        );
        for u in out.uploads() {
            if let (Some(key), Some(id)) = (u.key(), u.upload_id()) {
                uploads.push(UploadInfo {
                    key: keys.read(key),
                    upload_id: id.to_string(),
                    initiated_ms: u.initiated().and_then(|t| t.to_millis().ok()),
                });
            }
        }
        if out.is_truncated() != Some(true) {
            break;
        }
        let next = (
            out.next_key_marker().map(|k| keys.read(k)),
            out.next_upload_id_marker().map(str::to_string),
        );
        if next == (key_marker.clone(), id_marker.clone()) || next.0.is_none() {
            break;
        }
        (key_marker, id_marker) = next;
    }
    Ok(uploads)
}
