//! What the single-object, multipart and split paths share around one streamed GET -> PUT: the
//! ETag a read of a pinned version must match, the source's tags (when they are copied), whose
//! fault a failed write was, the digests a finished relay computed, and the aws-chunked framing
//! of a relay for the target.
//!
//! May depend on `context`, `retry`, `relay`, `chunked`, `digest`, `events` and `verify` of the
//! engine; not on the paths that use it or anything above them.

use tokio_util::sync::CancellationToken;

use super::chunked::{ChunkedBody, encoded_length};
use super::context::RunContext;
use super::digest::DigestValues;
use super::events::ObjectId;
use super::relay::{RelayBody, RelayOutcome};
use super::retry::UnitError;
use super::verify;
use crate::aws::objects::{self, ChunkedUpload};
use crate::config::Side;
use crate::error::{Class, Error, S3Failure};
use crate::plan::{ChecksumAlgorithm, PlanItem};

/// With a pinned version, the ETag the plan recorded for it. A version never changes, except
/// S3's `null` version, which a write to a suspended bucket replaces in place: reads of a
/// pinned version also carry `If-Match` with this ETag, so they fail rather than copy other
/// bytes.
pub(crate) fn pinned_etag(item: &PlanItem) -> Option<&str> {
    item.source_version_id.as_ref()?;
    item.source_etag.as_deref()
}

/// The source object's tags as a query string, when tags are copied. Only the retries count
/// towards `attempts` (the first attempt belongs to the unit's own request).
pub(crate) async fn source_tags(
    ctx: &RunContext,
    id: ObjectId,
    item: &PlanItem,
    cancel: &CancellationToken,
    attempts: &mut u32,
) -> Result<Option<String>, UnitError> {
    if !ctx.transfer.copy_tags {
        return Ok(None);
    }
    let mut tag_attempts = 0;
    let tags = ctx
        .retry
        .run(id, 0, cancel, &mut tag_attempts, |_| {
            objects::get_tagging(
                &ctx.single_shot.source,
                &item.source_key,
                item.source_version_id.as_deref(),
            )
        })
        .await;
    *attempts += tag_attempts.saturating_sub(1);
    tags
}

/// A failed PUT whose body broke because the *source* failed is a source error.
pub(crate) fn blame(error: Error, outcome: &RelayOutcome, ctx: &RunContext, key: &str) -> Error {
    match outcome.source_error() {
        // Truncation, stalls, resets and checksum mismatches on the source are all transient
        // from here: the next attempt reads the range again.
        Some(message) => Error::from(S3Failure {
            side: Side::Source,
            operation: "GetObject",
            bucket: ctx.sides.source.bucket.clone(),
            key: Some(key.to_string()),
            status: None,
            code: None,
            message,
            class: Class::Retryable,
        }),
        None => error,
    }
}

/// What the relay computed over a body the target accepted.
pub(crate) fn digests_of(outcome: &RelayOutcome, length: u64) -> Result<DigestValues, Error> {
    outcome
        .digests()
        .or_else(|| (length == 0).then(verify::empty_digests))
        .ok_or_else(|| Error::internal("the target accepted a body that was not read to its end"))
}

/// Frame a relay for the target: aws-chunked with a CRC64NVME trailer.
pub(crate) fn chunked(relay: RelayBody, length: u64) -> ChunkedUpload {
    chunked_as(relay, length, ChecksumAlgorithm::Crc64nvme)
}

/// [`chunked`] with a trailer of `algorithm` (a composite upload's part), whose value the
/// relay computes (its digest plan's source algorithm).
pub(crate) fn chunked_as(
    relay: RelayBody,
    length: u64,
    algorithm: ChecksumAlgorithm,
) -> ChunkedUpload {
    ChunkedUpload {
        body: ChunkedBody::new(relay, length, algorithm).into_sdk_body(),
        length,
        encoded_length: encoded_length(length, algorithm),
        algorithm,
    }
}
