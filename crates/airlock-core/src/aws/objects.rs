//! The object operations the engine uses, with SDK errors converted to ours: HEAD and GET on
//! the source (ranged, `If-Match`), PUT and the multipart calls on the target with the write
//! options (metadata, tags, storage class, SSE, ACL), and the multipart-upload listing used to
//! clean orphans. Data requests use the side's `data` client (no SDK retries: the engine
//! retries with its own backoff and SlowDown control).

use std::collections::HashMap;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    ChecksumAlgorithm as SdkChecksumAlgorithm, ChecksumMode, ChecksumType,
    CompletedMultipartUpload, CompletedPart, ObjectCannedAcl, ServerSideEncryption, StorageClass,
};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::date_time::Format;

use super::SideClient;
use super::deadline;
use super::errors::{Context, s3_failure};
use super::listing::{COPIED_FROM_ETAG_META, checksum_of, unquote};
use super::trailer::{UnsignedPlain, UnsignedTrailer};
use crate::config::{Sse, WriteOptions};
use crate::error::Result;
use crate::plan::{Checksum, ChecksumAlgorithm};

/// Standard headers and user metadata carried from source to target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectAttributes {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    pub metadata: HashMap<String, String>,
}

/// What the source says about the object being copied.
#[derive(Debug, Clone, Default)]
pub struct SourceObject {
    pub size: u64,
    pub etag: String,
    /// Full-object checksum when the source has one.
    pub checksum: Option<Checksum>,
    /// SSE-KMS, DSSE-KMS and SSE-C objects have ETags that are not MD5s of their bytes.
    pub kms_encrypted: bool,
    /// From a HEAD: the archive the object sits in when it cannot be read before a restore
    /// (`GLACIER`, `DEEP_ARCHIVE`, or an Intelligent-Tiering `ARCHIVE_ACCESS` /
    /// `DEEP_ARCHIVE_ACCESS` tier), and no restored copy is readable.
    pub archived: Option<String>,
    pub attributes: ObjectAttributes,
}

impl SourceObject {
    /// Whether the ETag is the MD5 of the bytes (single-part upload, not KMS).
    pub fn etag_is_md5(&self) -> bool {
        !self.kms_encrypted && !self.etag.contains('-') && self.etag.len() == 32
    }
}

/// Whether this encryption makes the ETag something other than the MD5 of the bytes: SSE-KMS
/// (`aws:kms`), DSSE-KMS (`aws:kms:dsse`) or a customer key (SSE-C, which S3 reports with
/// `x-amz-server-side-encryption-customer-algorithm`).
pub(crate) fn opaque_etag(
    encryption: Option<&ServerSideEncryption>,
    customer_algorithm: Option<&str>,
) -> bool {
    matches!(
        encryption,
        Some(ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse)
    ) || customer_algorithm.is_some()
}

/// The archive a HEAD shows an object in, unless a restored copy is readable.
fn archived(
    storage_class: Option<&str>,
    archive_status: Option<&str>,
    restore: Option<&str>,
) -> Option<String> {
    if super::listing::restored(restore) {
        return None;
    }
    archive_status
        .or(storage_class.filter(|c| crate::plan::ARCHIVED_CLASSES.contains(c)))
        .map(str::to_string)
}

/// An open GET whose body will be streamed.
pub struct GetStream {
    pub body: SdkBody,
    /// Bytes this response will carry.
    pub length: u64,
    pub object: SourceObject,
}

/// How the target object is written.
#[derive(Debug, Clone, Copy)]
pub struct WriteParams<'a> {
    /// Carried attributes, or None when metadata is not copied.
    pub attributes: Option<&'a ObjectAttributes>,
    /// Recorded as `x-amz-meta-airlock-source-etag` so later plans can prove equality.
    pub copied_from_etag: &'a str,
    pub options: &'a WriteOptions,
    /// URL-encoded tag set (`k=v&k2=v2`).
    pub tagging: Option<&'a str>,
}

/// A target write's answer.
#[derive(Debug, Clone, Default)]
pub struct WriteResult {
    pub etag: Option<String>,
    /// The CRC64NVME the target computed over what it received, when it reports one.
    pub crc64nvme: Option<String>,
    /// For a [`PutBody::Plain`]: the target's checksum of that algorithm, when it reports one.
    pub echoed: Option<String>,
}

fn ctx<'a>(side: &'a SideClient, operation: &'static str, key: &'a str) -> Context<'a> {
    Context {
        side: side.side,
        operation,
        bucket: &side.bucket,
        key: Some(key),
    }
}

/// HEAD the source object (one version of it when `version_id` is given) with checksum
/// mode (multipart setup).
pub async fn head_source(
    side: &SideClient,
    key: &str,
    version_id: Option<&str>,
) -> Result<SourceObject> {
    let out = side
        .client
        .head_object()
        .bucket(&side.bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string))
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .map_err(|e| s3_failure(&e, ctx(side, "HeadObject", key)))?;
    Ok(SourceObject {
        size: out.content_length().unwrap_or(0).max(0) as u64,
        etag: out.e_tag().map(unquote).unwrap_or_default(),
        checksum: checksum_of(
            out.checksum_type(),
            out.e_tag(),
            [
                (ChecksumAlgorithm::Crc64nvme, out.checksum_crc64_nvme()),
                (ChecksumAlgorithm::Crc32c, out.checksum_crc32_c()),
                (ChecksumAlgorithm::Crc32, out.checksum_crc32()),
                (ChecksumAlgorithm::Sha256, out.checksum_sha256()),
                (ChecksumAlgorithm::Sha1, out.checksum_sha1()),
            ],
        ),
        kms_encrypted: opaque_etag(out.server_side_encryption(), out.sse_customer_algorithm()),
        archived: archived(
            out.storage_class().map(|c| c.as_str()),
            out.archive_status().map(|a| a.as_str()),
            out.restore(),
        ),
        attributes: ObjectAttributes {
            content_type: out.content_type().map(str::to_string),
            content_encoding: out
                .content_encoding()
                .and_then(super::trailer::stored_encoding),
            content_disposition: out.content_disposition().map(str::to_string),
            content_language: out.content_language().map(str::to_string),
            cache_control: out.cache_control().map(str::to_string),
            expires: out.expires_string().map(str::to_string),
            metadata: out.metadata().cloned().unwrap_or_default(),
        },
    })
}

/// GET the object, or a byte range `first..=last` of it, pinned to `if_match` when given and
/// to one version when `version_id` is given (point-in-time copies).
/// `checksum_mode` asks for the full-object checksum (only meaningful without a range).
pub async fn get_stream(
    side: &SideClient,
    key: &str,
    version_id: Option<&str>,
    range: Option<(u64, u64)>,
    if_match: Option<&str>,
    checksum_mode: bool,
) -> Result<GetStream> {
    let mut request = side
        .data
        .get_object()
        .bucket(&side.bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string));
    if let Some((first, last)) = range {
        request = request.range(format!("bytes={first}-{last}"));
    }
    if let Some(etag) = if_match {
        request = request.if_match(format!("\"{etag}\""));
    }
    if checksum_mode {
        request = request.checksum_mode(ChecksumMode::Enabled);
    }
    let send = async {
        request
            .send()
            .await
            .map_err(|e| s3_failure(&e, ctx(side, "GetObject", key)).into())
    };
    let out = deadline::answer(side, "GetObject", key, side.read_timeout, send).await?;
    let length = out.content_length().unwrap_or(0).max(0) as u64;
    let total = out
        .content_range()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(length);
    let object = SourceObject {
        size: total,
        etag: out.e_tag().map(unquote).unwrap_or_default(),
        checksum: if range.is_none() {
            checksum_of(
                out.checksum_type(),
                out.e_tag(),
                [
                    (ChecksumAlgorithm::Crc64nvme, out.checksum_crc64_nvme()),
                    (ChecksumAlgorithm::Crc32c, out.checksum_crc32_c()),
                    (ChecksumAlgorithm::Crc32, out.checksum_crc32()),
                    (ChecksumAlgorithm::Sha256, out.checksum_sha256()),
                    (ChecksumAlgorithm::Sha1, out.checksum_sha1()),
                ],
            )
        } else {
            None
        },
        kms_encrypted: opaque_etag(out.server_side_encryption(), out.sse_customer_algorithm()),
        archived: None,
        attributes: ObjectAttributes {
            content_type: out.content_type().map(str::to_string),
            content_encoding: out
                .content_encoding()
                .and_then(super::trailer::stored_encoding),
            content_disposition: out.content_disposition().map(str::to_string),
            content_language: out.content_language().map(str::to_string),
            cache_control: out.cache_control().map(str::to_string),
            expires: out.expires_string().map(str::to_string),
            metadata: out.metadata().cloned().unwrap_or_default(),
        },
    };
    Ok(GetStream {
        body: out.body.into_inner(),
        length,
        object,
    })
}

/// The object's tags (of one version when `version_id` is given), URL-encoded for the
/// `Tagging` parameter (None when it has none).
pub async fn get_tagging(
    side: &SideClient,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<String>> {
    let out = side
        .client
        .get_object_tagging()
        .bucket(&side.bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| s3_failure(&e, ctx(side, "GetObjectTagging", key)))?;
    if out.tag_set().is_empty() {
        return Ok(None);
    }
    let encoded: Vec<String> = out
        .tag_set()
        .iter()
        .map(|t| format!("{}={}", url_encode(t.key()), url_encode(t.value())))
        .collect();
    Ok(Some(encoded.join("&")))
}

fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Apply write options and carried attributes to a PutObject or CreateMultipartUpload builder.
macro_rules! apply_write_params {
    ($request:expr, $params:expr, $key:expr) => {{
        let params: &WriteParams<'_> = $params;
        let mut request = $request;
        if let Some(attrs) = params.attributes {
            request = request
                .set_content_type(attrs.content_type.clone())
                .set_content_encoding(attrs.content_encoding.clone())
                .set_content_disposition(attrs.content_disposition.clone())
                .set_content_language(attrs.content_language.clone())
                .set_cache_control(attrs.cache_control.clone())
                .set_expires(
                    attrs
                        .expires
                        .as_deref()
                        .and_then(|e| DateTime::from_str(e, Format::HttpDate).ok()),
                );
            for (k, v) in &attrs.metadata {
                if k != COPIED_FROM_ETAG_META {
                    request = request.metadata(k, v);
                }
            }
        }
        if super::provenance::fits(params.attributes, params.copied_from_etag, $key) {
            request = request.metadata(COPIED_FROM_ETAG_META, params.copied_from_etag);
        }
        if let Some(class) = &params.options.storage_class {
            request = request.storage_class(StorageClass::from(class.as_str()));
        }
        match &params.options.sse {
            Some(Sse::Aes256) => {
                request = request.server_side_encryption(ServerSideEncryption::Aes256)
            }
            Some(Sse::Kms { key_id }) => {
                request = request
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .set_ssekms_key_id(key_id.clone());
            }
            None => {}
        }
        if let Some(acl) = &params.options.acl {
            request = request.acl(ObjectCannedAcl::from(acl.as_str()));
        }
        if let Some(tagging) = params.tagging {
            request = request.tagging(tagging);
        }
        request
    }};
}

/// A streamed body already framed as `aws-chunked` with a checksum trailer
/// (`engine::chunked::ChunkedBody`), and its payload length.
pub struct ChunkedUpload {
    pub body: SdkBody,
    pub length: u64,
    pub encoded_length: u64,
    /// The trailer's algorithm: CRC64NVME, or a composite upload's (the source's) algorithm.
    pub algorithm: ChecksumAlgorithm,
}

impl ChunkedUpload {
    fn trailer(&self) -> UnsignedTrailer {
        UnsignedTrailer {
            decoded_length: self.length,
            encoded_length: self.encoded_length,
            algorithm: self.algorithm,
        }
    }
}

/// A plain streamed body and the source's own full-object checksum of it, sent as an
/// `x-amz-checksum-*` header: the target checks what it received against the source's value.
/// Cheaper for both sides than `aws-chunked` framing (nothing to frame or decode, one checksum
/// less), and only possible when the value is known before the first byte is sent.
pub struct PlainUpload {
    pub body: SdkBody,
    pub length: u64,
    /// A CRC algorithm (CRC32, CRC32C or CRC64NVME) and its base64 value; None for a body sent
    /// without any checksum header (`checksum = "md5"` / `"none"`).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// Base64 `Content-MD5` of the bytes, when known before sending: the target refuses bytes
    /// that do not match it (400 BadDigest).
    pub content_md5: Option<String>,
}

/// What a single PUT sends.
pub enum PutBody {
    Chunked(ChunkedUpload),
    Plain(PlainUpload),
}

/// PUT a streamed body; the target checks its CRC64NVME trailer, or for a plain body the
/// checksum header.
pub async fn put_stream(
    side: &SideClient,
    key: &str,
    upload: PutBody,
    params: &WriteParams<'_>,
) -> Result<WriteResult> {
    let (body, length, wire_length, sent, content_md5, plain) = match upload {
        PutBody::Chunked(c) => (c.body, c.length, c.encoded_length, None, None, false),
        PutBody::Plain(p) => (p.body, p.length, p.length, p.checksum, p.content_md5, true),
    };
    let (body, taken) = deadline::counted(body);
    let mut request = side
        .data
        .put_object()
        .bucket(&side.bucket)
        .key(key)
        .content_length(length as i64)
        .set_content_md5(content_md5)
        .body(ByteStream::new(body));
    match &sent {
        Some((ChecksumAlgorithm::Crc32, v)) => request = request.checksum_crc32(v),
        Some((ChecksumAlgorithm::Crc32c, v)) => request = request.checksum_crc32_c(v),
        Some((ChecksumAlgorithm::Crc64nvme, v)) => request = request.checksum_crc64_nvme(v),
        Some((other, _)) => {
            return Err(crate::error::Error::internal(format!(
                "a plain PUT needs a CRC checksum, not {other:?}"
            )));
        }
        None => {}
    }
    let request = apply_write_params!(request, params, key).customize();
    let request = match plain {
        true => request.interceptor(UnsignedPlain),
        false => request.interceptor(UnsignedTrailer {
            decoded_length: length,
            encoded_length: wire_length,
            algorithm: ChecksumAlgorithm::Crc64nvme,
        }),
    };
    let send = async {
        request
            .send()
            .await
            .map_err(|e| s3_failure(&e, ctx(side, "PutObject", key)).into())
    };
    let out = deadline::upload(side, "PutObject", key, &taken, wire_length, send).await?;
    let echoed = sent.and_then(|(algorithm, _)| match algorithm {
        ChecksumAlgorithm::Crc32 => out.checksum_crc32(),
        ChecksumAlgorithm::Crc32c => out.checksum_crc32_c(),
        _ => out.checksum_crc64_nvme(),
    });
    Ok(WriteResult {
        etag: out.e_tag().map(unquote),
        crc64nvme: out.checksum_crc64_nvme().map(str::to_string),
        echoed: echoed.map(str::to_string),
    })
}

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
        let keys = super::url_keys::Keys::of(
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
