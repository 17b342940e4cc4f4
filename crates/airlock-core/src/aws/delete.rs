//! DeleteObjects for mirror mode (and DeleteObject for one object airlock wrote and found
//! wrong): target keys in batches of at most 1,000 (S3's limit per
//! request), with every key's outcome reported (S3 answers per-key errors inside a 200).
//! Uses the side's control client, whose SDK retries cover throttling and dropped connections.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::SideClient;
use super::errors::{Context, s3_failure};
use crate::error::{Error, Result};

/// Most keys one DeleteObjects request may name.
pub(crate) const DELETE_BATCH: usize = 1000;

/// Delete `keys` (at most [`DELETE_BATCH`]) in one request. Returns the keys that failed with
/// their S3 error; an error for the request as a whole (every key failed) is `Err`.
pub(crate) async fn delete_batch(
    side: &SideClient,
    keys: &[String],
) -> Result<Vec<(String, String)>> {
    if keys.len() > DELETE_BATCH {
        return Err(Error::internal(format!(
            "a DeleteObjects batch of {} keys is above S3's limit of {DELETE_BATCH}",
            keys.len()
        )));
    }
    let objects = keys
        .iter()
        .map(|key| ObjectIdentifier::builder().key(key).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::internal(format!("DeleteObjects request: {e}")))?;
    let delete = Delete::builder()
        .set_objects(Some(objects))
        // Quiet: the answer lists only the keys that failed.
        .quiet(true)
        .build()
        .map_err(|e| Error::internal(format!("DeleteObjects request: {e}")))?;
    let first = keys.first().map(String::as_str).unwrap_or_default();
    let out = side
        .client
        .delete_objects()
        .bucket(&side.bucket)
        .delete(delete)
        .send()
        .await
        .map_err(|e| {
            s3_failure(
                &e,
                Context {
                    side: side.side,
                    operation: "DeleteObjects",
                    bucket: &side.bucket,
                    key: Some(first),
                },
            )
        })?;
    Ok(out
        .errors()
        .iter()
        .map(|e| {
            let why = match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => message.to_string(),
                (None, None) => "the target refused the deletion".to_string(),
            };
            (e.key().unwrap_or_default().to_string(), why)
        })
        .collect())
}

/// Delete one object (DeleteObject), e.g. one airlock wrote and then found wrong.
pub(crate) async fn delete_object(side: &SideClient, key: &str) -> Result<()> {
    side.client
        .delete_object()
        .bucket(&side.bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            s3_failure(
                &e,
                Context {
                    side: side.side,
                    operation: "DeleteObject",
                    bucket: &side.bucket,
                    key: Some(key),
                },
            )
        })?;
    Ok(())
}
