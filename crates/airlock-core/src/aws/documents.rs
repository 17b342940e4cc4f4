//! Documents (shard reports, plan files) kept in any bucket of one side's account: PUT, GET and
//! list them (whole, or streamed from and to a file for large plan files). `s3://BUCKET/PREFIX/` locations are parsed here too. Not for data: objects
//! are copied by the engine, streamed.

use aws_sdk_s3::primitives::ByteStream;

use super::SideClient;
use super::errors::{Context, s3_failure};
use crate::error::{Error, Result};

/// An `s3://bucket/key-or-prefix` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// A key, or a prefix when empty or ending in '/'.
    pub key: String,
}

impl S3Location {
    /// `Ok(None)` when `text` is not an `s3://` URL.
    pub fn parse(text: &str) -> Result<Option<S3Location>> {
        let Some(rest) = text.strip_prefix("s3://") else {
            return Ok(None);
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::usage(format!(
                "'{text}' names no bucket: write s3://BUCKET/PREFIX/"
            )));
        }
        Ok(Some(S3Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
        }))
    }

    /// Whether this names a prefix (a "folder") rather than one object.
    pub fn is_prefix(&self) -> bool {
        self.key.is_empty() || self.key.ends_with('/')
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// The same account's clients, pointed at another bucket.
fn in_bucket(side: &SideClient, bucket: &str) -> SideClient {
    let mut other = side.clone();
    other.bucket = bucket.to_string();
    other
}

/// PUT `body` at `bucket`/`key` with `side`'s credentials.
pub async fn put(side: &SideClient, bucket: &str, key: &str, body: Vec<u8>) -> Result<()> {
    side.client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| {
            s3_failure(
                &e,
                Context {
                    side: side.side,
                    operation: "PutObject",
                    bucket,
                    key: Some(key),
                },
            )
        })?;
    Ok(())
}

/// GET a whole (small) object.
pub async fn get(side: &SideClient, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let context = Context {
        side: side.side,
        operation: "GetObject",
        bucket,
        key: Some(key),
    };
    let out = side
        .client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| s3_failure(&e, context))?;
    let bytes = out.body.collect().await.map_err(|e| {
        Error::from(crate::error::S3Failure {
            side: side.side,
            operation: "GetObject",
            bucket: bucket.to_string(),
            key: Some(key.to_string()),
            status: None,
            code: None,
            message: format!("reading the body failed: {e}"),
            class: crate::error::Class::Retryable,
        })
    })?;
    Ok(bytes.into_bytes().to_vec())
}

/// Parts of an upload of a large document ([`put_file`]); S3's least is 5 MiB.
const DOCUMENT_PART_SIZE: usize = 8 * 1024 * 1024;

/// PUT the file at `path` at `bucket`/`key`, streamed: one PUT when it is small, else a
/// multipart upload of [`DOCUMENT_PART_SIZE`] parts read one at a time (a plan file of
/// millions of objects; memory holds one part).
pub async fn put_file(
    side: &SideClient,
    bucket: &str,
    key: &str,
    path: &std::path::Path,
) -> Result<()> {
    let context = |operation| Context {
        side: side.side,
        operation,
        bucket,
        key: Some(key),
    };
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(path, e))?;
    let first = read_part(&mut file).await.map_err(|e| Error::io(path, e))?;
    if first.len() < DOCUMENT_PART_SIZE {
        return put(side, bucket, key, first).await;
    }
    let upload = side
        .client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| s3_failure(&e, context("CreateMultipartUpload")))?;
    let upload_id = upload.upload_id().unwrap_or_default().to_string();
    let uploaded = async {
        let mut parts = Vec::new();
        let mut body = first;
        for number in 1.. {
            if body.is_empty() {
                break;
            }
            let sent = side
                .client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| s3_failure(&e, context("UploadPart")))?;
            parts.push(
                aws_sdk_s3::types::CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(sent.e_tag().map(str::to_string))
                    .build(),
            );
            body = read_part(&mut file).await.map_err(|e| Error::io(path, e))?;
        }
        side.client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                aws_sdk_s3::types::CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| s3_failure(&e, context("CompleteMultipartUpload")))?;
        Ok::<_, Error>(())
    }
    .await;
    if uploaded.is_err() {
        // Leave no half upload behind (best effort: the error above is what matters).
        let _ = side
            .client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    uploaded
}

/// The next part of a file being uploaded (empty at its end).
async fn read_part(file: &mut tokio::fs::File) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut part = Vec::with_capacity(DOCUMENT_PART_SIZE);
    file.take(DOCUMENT_PART_SIZE as u64)
        .read_to_end(&mut part)
        .await?;
    Ok(part)
}

/// GET an object into the file at `path`, streamed (memory holds one chunk).
pub async fn get_to_file(
    side: &SideClient,
    bucket: &str,
    key: &str,
    path: &std::path::Path,
) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let context = Context {
        side: side.side,
        operation: "GetObject",
        bucket,
        key: Some(key),
    };
    let mut out = side
        .client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| s3_failure(&e, context))?;
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| Error::io(path, e))?;
    while let Some(chunk) = out.body.next().await {
        let chunk = chunk.map_err(|e| {
            Error::from(crate::error::S3Failure {
                side: side.side,
                operation: "GetObject",
                bucket: bucket.to_string(),
                key: Some(key.to_string()),
                status: None,
                code: None,
                message: format!("reading the body failed: {e}"),
                class: crate::error::Class::Retryable,
            })
        })?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::io(path, e))?;
    }
    file.flush().await.map_err(|e| Error::io(path, e))?;
    Ok(())
}

/// Keys directly under `prefix` in `bucket` (not in deeper "folders").
pub async fn list(side: &SideClient, bucket: &str, prefix: &str) -> Result<Vec<String>> {
    let listing = super::list_all(&in_bucket(side, bucket), prefix, false, |_| {}).await?;
    Ok(listing.objects.into_iter().map(|o| o.key).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_locations() {
        let l = S3Location::parse("s3://reports/run-7/").unwrap().unwrap();
        assert_eq!((l.bucket.as_str(), l.key.as_str()), ("reports", "run-7/"));
        assert!(l.is_prefix());
        let l = S3Location::parse("s3://reports").unwrap().unwrap();
        assert!(l.is_prefix());
        let l = S3Location::parse("s3://reports/one.json").unwrap().unwrap();
        assert!(!l.is_prefix());
        assert!(S3Location::parse("/tmp/reports").unwrap().is_none());
        let e = S3Location::parse("s3:///x").unwrap_err().to_string();
        assert!(e.contains("'s3:///x'"), "{e}");
    }
}
