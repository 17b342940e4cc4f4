//! HEAD and GET of a synthetic object: the size, ETag, LastModified and storage class it is
//! listed with, its bytes generated from its key's seed while streaming (any range), the
//! conditional headers (`If-Match` pins a ranged read as on S3), GLACIER objects refused (403
//! InvalidObjectState), and with `x-amz-checksum-mode: ENABLED` a real full-object CRC64NVME
//! of the whole object (computed by generating it once more; not on ranged reads, as S3).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use s3s::dto::*;
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{S3Result, StdError, s3_error};

use super::dataset::{Catalog, Listed};
use crate::checksum::{Algorithm, encode_crc};
use crate::conditions::{Conditions, Verdict, not_modified, precondition_failed};
use crate::seeded;

/// Bytes generated per body frame.
const FRAME_BYTES: u64 = 256 * 1024;

pub(crate) fn timestamp(unix_s: u64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(unix_s))
}

/// A found object: its listing and the seed of its bytes.
pub(crate) struct Found {
    pub listed: Listed,
    /// Seed of its bytes.
    pub seed: u64,
}

impl Found {
    fn etag(&self) -> ETag {
        ETag::Strong(self.listed.etag.clone())
    }

    fn last_modified(&self) -> Timestamp {
        timestamp(self.listed.last_modified_unix_s)
    }

    /// The class as S3 reports it in headers: nothing for STANDARD.
    fn storage_class(&self) -> Option<StorageClass> {
        let class = self.listed.storage_class;
        (class != "STANDARD").then(|| StorageClass::from_static(class))
    }

    /// The full-object CRC64NVME, base64; generating the whole object (on the blocking pool when
    /// it is big).
    async fn crc64nvme(&self) -> S3Result<String> {
        let (seed, size) = (self.seed, self.listed.size_bytes);
        let crc = match size <= 4 * FRAME_BYTES {
            true => crc_of(seed, size),
            false => tokio::task::spawn_blocking(move || crc_of(seed, size))
                .await
                .map_err(|e| s3_error!(InternalError, "checksum task failed: {e}"))?,
        };
        Ok(encode_crc(Algorithm::Crc64Nvme, crc))
    }
}

fn crc_of(seed: u64, size: u64) -> u64 {
    let mut digest = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme);
    let mut frame = vec![0u8; FRAME_BYTES as usize];
    let mut at = 0;
    while at < size {
        let len = (size - at).min(FRAME_BYTES) as usize;
        seeded::fill(seed, at, &mut frame[..len]);
        digest.update(&frame[..len]);
        at += len as u64;
    }
    digest.finalize()
}

fn checksum_mode(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED))
}

fn no_such_key() -> s3s::S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

impl Catalog {
    pub(crate) fn found(&self, key: &str) -> S3Result<Found> {
        let index = self.find(key).ok_or_else(no_such_key)?;
        Ok(Found {
            listed: self.listed(index),
            seed: seeded::object_seed(self.dataset.seed, key),
        })
    }

    pub(crate) async fn head_object(&self, input: &HeadObjectInput) -> S3Result<HeadObjectOutput> {
        let found = self.found(&input.key)?;
        let (etag, modified) = (found.etag(), found.last_modified());
        match Conditions::of_head(input).evaluate(Some(&etag), Some(&modified)) {
            Verdict::Failed => return Err(precondition_failed()),
            Verdict::NotModified => return Err(not_modified(Some(&etag), Some(&modified))),
            Verdict::Proceed => {}
        }
        let crc = match checksum_mode(input.checksum_mode.as_ref()) {
            true => Some(found.crc64nvme().await?),
            false => None,
        };
        Ok(HeadObjectOutput {
            content_length: Some(i64::try_from(found.listed.size_bytes).unwrap_or(i64::MAX)),
            content_type: Some("application/octet-stream".parse().expect("valid mime")),
            accept_ranges: Some("bytes".to_string()),
            e_tag: Some(etag),
            last_modified: Some(modified),
            storage_class: found.storage_class(),
            checksum_type: crc.is_some().then(full_object),
            checksum_crc64nvme: crc,
            ..Default::default()
        })
    }

    pub(crate) async fn get_object(&self, input: &GetObjectInput) -> S3Result<GetObjectOutput> {
        let found = self.found(&input.key)?;
        let (etag, modified) = (found.etag(), found.last_modified());
        match Conditions::of_get(input).evaluate(Some(&etag), Some(&modified)) {
            Verdict::Failed => return Err(precondition_failed()),
            Verdict::NotModified => return Err(not_modified(Some(&etag), Some(&modified))),
            Verdict::Proceed => {}
        }
        if found.listed.storage_class == "GLACIER" {
            return Err(s3_error!(
                InvalidObjectState,
                "The operation is not valid for the object's storage class"
            ));
        }
        let size = found.listed.size_bytes;
        let span = match &input.range {
            None => 0..size,
            Some(range) => range
                .check(size)
                .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))?,
        };
        let ranged = input.range.is_some();
        let crc = match checksum_mode(input.checksum_mode.as_ref()) && !ranged {
            true => Some(found.crc64nvme().await?),
            false => None,
        };
        let body = Generated {
            seed: found.seed,
            at: span.start,
            end: span.end,
        };
        Ok(GetObjectOutput {
            body: Some(StreamingBlob::new(body)),
            content_length: Some(i64::try_from(span.end - span.start).unwrap_or(i64::MAX)),
            content_range: ranged
                .then(|| format!("bytes {}-{}/{size}", span.start, span.end.saturating_sub(1))),
            content_type: Some("application/octet-stream".parse().expect("valid mime")),
            accept_ranges: Some("bytes".to_string()),
            e_tag: Some(etag),
            last_modified: Some(modified),
            storage_class: found.storage_class(),
            checksum_type: crc.is_some().then(full_object),
            checksum_crc64nvme: crc,
            ..Default::default()
        })
    }
}

fn full_object() -> ChecksumType {
    ChecksumType::from_static(ChecksumType::FULL_OBJECT)
}

/// An object's bytes `at..end`, generated a frame at a time as the body is sent.
struct Generated {
    seed: u64,
    at: u64,
    end: u64,
}

impl Stream for Generated {
    type Item = Result<Bytes, StdError>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.at >= this.end {
            return Poll::Ready(None);
        }
        let len = (this.end - this.at).min(FRAME_BYTES);
        let mut frame = BytesMut::zeroed(len as usize);
        seeded::fill(this.seed, this.at, &mut frame);
        this.at += len;
        Poll::Ready(Some(Ok(frame.freeze())))
    }
}

impl ByteStream for Generated {
    fn remaining_length(&self) -> RemainingLength {
        RemainingLength::new_exact(usize::try_from(self.end - self.at).unwrap_or(usize::MAX))
    }
}
