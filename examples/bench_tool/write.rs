//! Uploads for `fill` (seeded bytes) and `put-ceiling` (bytes from memory): PutObject below the
//! multipart threshold, else CreateMultipartUpload, UploadPart for every part, Complete. One
//! semaphore bounds the requests in flight across all objects.

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::Semaphore;

use crate::Checksum;
use crate::body;
use crate::dataset::{ObjectSpec, generate, pieces};

/// Where upload bytes come from.
#[derive(Clone)]
pub(crate) enum Source {
    /// The object's own seeded bytes, generated while sending.
    Generated,
    /// One buffer of seeded bytes cycled for every object.
    Memory(Bytes),
}

impl Source {
    /// A 16 MiB buffer for the PUT-only ceiling.
    pub(crate) fn memory() -> Source {
        let mut buffer = vec![0u8; 16 << 20];
        generate(1, 0, &mut buffer);
        Source::Memory(Bytes::from(buffer))
    }

    fn body(&self, object: &ObjectSpec, offset: u64, length: u64) -> ByteStream {
        match self {
            Source::Generated => body::generated(object.seed, offset, length),
            Source::Memory(buffer) => body::from_memory(buffer.clone(), length),
        }
    }
}

/// How to upload.
pub(crate) struct Uploads<'a> {
    pub client: &'a aws_sdk_s3::Client,
    pub bucket: &'a str,
    pub multipart_threshold: u64,
    pub part_size: u64,
    pub concurrency: usize,
    pub checksum: Checksum,
}

impl Uploads<'_> {
    /// Upload every object; fails on the first error.
    pub(crate) async fn upload(
        &self,
        objects: &[ObjectSpec],
        source: Source,
    ) -> Result<(), String> {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        futures::stream::iter(objects)
            .map(|object| self.object(object, &source, &permits))
            .buffer_unordered(self.concurrency)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// The algorithm named on PutObject, CreateMultipartUpload and UploadPart. The SDK default
    /// is CRC32, and the AWS CLI names it on CreateMultipartUpload too, so its multipart objects
    /// carry a COMPOSITE CRC32 (`value-N`).
    fn algorithm(&self) -> Option<ChecksumAlgorithm> {
        match self.checksum {
            Checksum::SdkDefault => Some(ChecksumAlgorithm::Crc32),
            Checksum::Crc64nvme => Some(ChecksumAlgorithm::Crc64Nvme),
            Checksum::None => None,
        }
    }

    async fn object(
        &self,
        object: &ObjectSpec,
        source: &Source,
        permits: &Semaphore,
    ) -> Result<(), String> {
        let key = &object.key;
        if object.size_bytes < self.multipart_threshold {
            let _permit = permits.acquire().await.expect("semaphore open");
            self.client
                .put_object()
                .bucket(self.bucket)
                .key(key)
                .content_length(object.size_bytes as i64)
                .set_checksum_algorithm(self.algorithm())
                .body(source.body(object, 0, object.size_bytes))
                .send()
                .await
                .map_err(|e| format!("PutObject '{key}': {}", error_text(&e)))?;
            return Ok(());
        }
        let upload_id = self
            .client
            .create_multipart_upload()
            .bucket(self.bucket)
            .key(key)
            .set_checksum_algorithm(self.algorithm())
            .send()
            .await
            .map_err(|e| format!("CreateMultipartUpload '{key}': {}", error_text(&e)))?
            .upload_id
            .ok_or_else(|| format!("no upload id for '{key}'"))?;
        let upload_id = upload_id.as_str();
        let parts = pieces(object.size_bytes, self.part_size);
        let mut completed: Vec<CompletedPart> =
            futures::stream::iter(parts.into_iter().enumerate())
                .map(|(index, (offset, length))| async move {
                    let _permit = permits.acquire().await.expect("semaphore open");
                    let number = index as i32 + 1;
                    let out = self
                        .client
                        .upload_part()
                        .bucket(self.bucket)
                        .key(key)
                        .upload_id(upload_id)
                        .part_number(number)
                        .content_length(length as i64)
                        .set_checksum_algorithm(self.algorithm())
                        .body(source.body(object, offset, length))
                        .send()
                        .await
                        .map_err(|e| format!("UploadPart {number} '{key}': {}", error_text(&e)))?;
                    Ok::<_, String>(
                        CompletedPart::builder()
                            .part_number(number)
                            .set_e_tag(out.e_tag)
                            .set_checksum_crc32(out.checksum_crc32)
                            .set_checksum_crc64_nvme(out.checksum_crc64_nvme)
                            .build(),
                    )
                })
                .buffer_unordered(self.concurrency)
                .try_collect()
                .await?;
        completed.sort_by_key(|part| part.part_number);
        self.client
            .complete_multipart_upload()
            .bucket(self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("CompleteMultipartUpload '{key}': {}", error_text(&e)))?;
        Ok(())
    }
}

/// The SDK error with its source chain, on one line.
pub(crate) fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
