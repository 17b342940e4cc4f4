//! Small documents (shard reports) kept in any bucket of one side's account: PUT, GET and list
//! them whole. `s3://BUCKET/PREFIX/` locations are parsed here too. Not for data: objects
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
