//! The object operations the engine uses, with SDK errors converted to ours: HEAD and GET on
//! the source (ranged, `If-Match`), PUT and the multipart calls on the target with the write
//! options (metadata, tags, storage class, SSE, ACL), and the multipart-upload listing used to
//! clean orphans. Data requests use the side's `data` client (no SDK retries: the engine
//! retries with its own backoff and SlowDown control).

use std::collections::HashMap;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, ServerSideEncryption};
use aws_smithy_types::body::SdkBody;

use super::SideClient;
use super::deadline;
use super::errors::{Context, s3_failure};
use super::listing::{checksum_of, unquote};
use super::trailer::{UnsignedPlain, UnsignedTrailer};
use crate::config::WriteOptions;
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

/// Apply write options and carried attributes to a PutObject or CreateMultipartUpload builder
/// (paths in full: module `multipart` uses it too).
macro_rules! apply_write_params {
    ($request:expr, $params:expr, $key:expr) => {{
        let params: &crate::aws::objects::WriteParams<'_> = $params;
        let mut request = $request;
        if let Some(attrs) = params.attributes {
            request = request
                .set_content_type(attrs.content_type.clone())
                .set_content_encoding(attrs.content_encoding.clone())
                .set_content_disposition(attrs.content_disposition.clone())
                .set_content_language(attrs.content_language.clone())
                .set_cache_control(attrs.cache_control.clone())
                .set_expires(attrs.expires.as_deref().and_then(|e| {
                    aws_sdk_s3::primitives::DateTime::from_str(
                        e,
                        aws_smithy_types::date_time::Format::HttpDate,
                    )
                    .ok()
                }));
            for (k, v) in &attrs.metadata {
                if k != crate::aws::listing::COPIED_FROM_ETAG_META {
                    request = request.metadata(k, v);
                }
            }
        }
        if crate::aws::provenance::fits(params.attributes, params.copied_from_etag, $key) {
            request = request.metadata(
                crate::aws::listing::COPIED_FROM_ETAG_META,
                params.copied_from_etag,
            );
        }
        if let Some(class) = &params.options.storage_class {
            request = request.storage_class(aws_sdk_s3::types::StorageClass::from(class.as_str()));
        }
        match &params.options.sse {
            Some(crate::config::Sse::Aes256) => {
                request =
                    request.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            }
            Some(crate::config::Sse::Kms { key_id }) => {
                request = request
                    .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                    .set_ssekms_key_id(key_id.clone());
            }
            None => {}
        }
        if let Some(acl) = &params.options.acl {
            request = request.acl(aws_sdk_s3::types::ObjectCannedAcl::from(acl.as_str()));
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

// The multipart calls (create, upload part, complete, abort, list parts and uploads): a child
// module, so the write-params macro above reaches it.
mod multipart;
pub use multipart::*;
