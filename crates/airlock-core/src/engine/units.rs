//! The units of work the scheduler runs, each holding one slot of the concurrency window:
//! copying a `single` object, preparing a multipart upload (HEAD the source, resume from the
//! journal or create the upload), copying one part, and completing + verifying an upload.
//! Every unit retries its requests with the run's retry policy (`RunContext::retry`), which
//! reports retries, SlowDowns and successes to the run's observer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_types::body::SdkBody;
use tokio_util::sync::CancellationToken;

use super::context::RunContext;
use super::digest::DigestValues;
use super::events::ObjectId;
use super::journal::{JournalHeader, JournalPart};
use super::relay::{RelayBody, RelayOutcome};
use super::retry::UnitError;
use super::verify::{self, SourceExpectation, TargetCheck};
use crate::aws::objects::{self, FinishedPart, PutBody, SourceObject, WriteParams};
use crate::error::{Class, Error, S3Failure};
use crate::plan::{ChecksumAlgorithm, PlanItem, part_layout};

/// A failed PUT whose body broke because the *source* failed is a source error.
fn blame(error: Error, outcome: &RelayOutcome, shared: &RunContext, key: &str) -> Error {
    match outcome.source_error() {
        // Truncation, stalls, resets and checksum mismatches on the source are all transient
        // from here: the next attempt reads the range again.
        Some(message) => Error::from(S3Failure {
            side: crate::config::Side::Source,
            operation: "GetObject",
            bucket: shared.sides.source.bucket.clone(),
            key: Some(key.to_string()),
            status: None,
            code: None,
            message,
            class: Class::Retryable,
        }),
        None => error,
    }
}

/// The body of a single PUT. When the source promised a full-object CRC, the relay goes plain
/// and the target checks that same value (a header); otherwise it is framed as aws-chunked with
/// our CRC64NVME trailer.
fn put_body(
    relay: RelayBody,
    length: u64,
    source_crc: Option<(ChecksumAlgorithm, u64)>,
) -> PutBody {
    match source_crc {
        Some((algorithm, value)) => PutBody::Plain(objects::PlainUpload {
            body: SdkBody::from_body_1_x(relay),
            length,
            checksum: (algorithm, super::digest::encode(algorithm, value)),
        }),
        None => PutBody::Chunked(chunked(relay, length)),
    }
}

/// Frame a relay for the target: aws-chunked with a CRC64NVME trailer.
fn chunked(relay: RelayBody, length: u64) -> objects::ChunkedUpload {
    objects::ChunkedUpload {
        body: super::chunked::ChunkedBody::new(relay, length).into_sdk_body(),
        length,
        encoded_length: super::chunked::encoded_length(length),
    }
}

fn digests_of(outcome: &RelayOutcome, length: u64) -> Result<DigestValues, Error> {
    outcome
        .digests()
        .or_else(|| (length == 0).then(verify::empty_digests))
        .ok_or_else(|| Error::internal("the target accepted a body that was not read to its end"))
}

/// Result of a `single` copy.
pub struct SingleDone {
    pub bytes: u64,
    pub verification: super::events::Verification,
    pub attempts: u32,
}

/// GET -> PUT for one object, streamed, with checks on both hops.
pub async fn copy_single(
    shared: Arc<RunContext>,
    id: ObjectId,
    item: PlanItem,
    progress: Arc<AtomicU64>,
    cancel: CancellationToken,
) -> Result<SingleDone, UnitError> {
    let mut attempts = 0;
    let tagging = source_tags(&shared, id, &item, &cancel, &mut attempts).await?;
    let shared_ref = &shared;
    let check = TargetCheck {
        target: &shared.sides.target,
        mode: shared.transfer.verify,
    };
    let (bytes, verification) = shared_ref
        .retry
        .run(id, 1, &cancel, &mut attempts, |_| {
            let (item, progress, tagging) = (&item, progress.clone(), tagging.as_deref());
            async move {
                progress.store(0, Ordering::Relaxed);
                let get = objects::get_stream(
                    &shared_ref.sides.source,
                    &item.source_key,
                    item.source_version_id.as_deref(),
                    None,
                    pinned_etag(item),
                    true,
                )
                .await?;
                if get.length > crate::config::defaults::MAX_SINGLE_PUT.0 {
                    return Err(Error::plan(format!(
                        "'{}' is now {} bytes, above the 5 GiB single-PUT limit; make a new plan",
                        item.source_key, get.length
                    )));
                }
                let expectation =
                    SourceExpectation::of(&get.object, shared_ref.transfer.verify, true);
                let relay = RelayBody::new(
                    get.body,
                    get.length,
                    expectation.digest_plan,
                    shared_ref.gauge.clone(),
                    shared_ref.transfer.read_timeout,
                )
                .throttle(shared_ref.throttle.clone())
                .expect(expectation.expect.clone())
                .progress(progress);
                let outcome = relay.outcome();
                let params = WriteParams {
                    attributes: shared_ref
                        .transfer
                        .copy_metadata
                        .then_some(&get.object.attributes),
                    copied_from_etag: &get.object.etag,
                    options: &shared_ref.write,
                    tagging,
                };
                let put = objects::put_stream(
                    &shared_ref.sides.target,
                    &item.target_key,
                    put_body(relay, get.length, expectation.full_crc),
                    &params,
                )
                .await
                .map_err(|e| blame(e, &outcome, shared_ref, &item.source_key))?;
                let digests = digests_of(&outcome, get.length)?;
                let target = check
                    .single(
                        &item.target_key,
                        &put,
                        &digests,
                        get.length,
                        expectation.full_crc,
                    )
                    .await?;
                Ok((
                    get.length,
                    verify::verification(expectation.description, target),
                ))
            }
        })
        .await?;
    Ok(SingleDone {
        bytes,
        verification,
        attempts,
    })
}

/// With a pinned version, the ETag the plan recorded for it. A version never changes, except
/// S3's `null` version, which a write to a suspended bucket replaces in place: reads of a
/// pinned version also carry `If-Match` with this ETag, so they fail rather than copy other
/// bytes.
fn pinned_etag(item: &PlanItem) -> Option<&str> {
    item.source_version_id.as_ref()?;
    item.source_etag.as_deref()
}

pub(super) async fn source_tags(
    shared: &RunContext,
    id: ObjectId,
    item: &PlanItem,
    cancel: &CancellationToken,
    attempts: &mut u32,
) -> Result<Option<String>, UnitError> {
    if !shared.transfer.copy_tags {
        return Ok(None);
    }
    let mut tag_attempts = 0;
    let tags = shared
        .retry
        .run(id, 0, cancel, &mut tag_attempts, |_| {
            objects::get_tagging(
                &shared.single_shot.source,
                &item.source_key,
                item.source_version_id.as_deref(),
            )
        })
        .await;
    *attempts += tag_attempts.saturating_sub(1);
    tags
}

/// A multipart upload ready for its parts.
#[derive(Debug, Clone)]
pub struct Upload {
    pub upload_id: String,
    pub source: SourceObject,
    pub size: u64,
    pub part_size: u64,
    pub parts: u32,
    pub expectation: SourceExpectation,
    /// Parts already at the target (resume).
    pub done: Vec<JournalPart>,
    /// For a split object: the parts (`first..=last`) this run uploads. The other parts belong
    /// to other shards, and `airlock finalize` completes the upload, not this run.
    pub own: Option<(u32, u32)>,
}

/// HEAD the source, then resume the journaled upload or create a new one (or, for a split
/// object, join the upload `airlock prepare` opened).
pub async fn prepare(
    shared: Arc<RunContext>,
    id: ObjectId,
    item: PlanItem,
    cancel: CancellationToken,
) -> Result<Upload, UnitError> {
    if let Some(split) = item.split.clone() {
        return super::split::join_split(shared, id, item, split, cancel).await;
    }
    let mut attempts = 0;
    let source = shared
        .retry
        .run(id, 0, &cancel, &mut attempts, |_| {
            objects::head_source(
                &shared.single_shot.source,
                &item.source_key,
                item.source_version_id.as_deref(),
            )
        })
        .await?;
    if pinned_etag(&item).is_some_and(|planned| planned != source.etag) {
        return Err(UnitError::Failed(Error::plan(format!(
            "version '{}' of '{}' changed since it was planned (ETag '{}', now '{}'); make a new plan",
            item.source_version_id.as_deref().unwrap_or_default(),
            item.source_key,
            item.source_etag.as_deref().unwrap_or_default(),
            source.etag
        ))));
    }
    let (part_size, parts) = if source.size == item.size {
        (item.part_size, item.parts)
    } else {
        let (size, count, _) = part_layout(source.size, shared.transfer.part_size);
        (size, count)
    };
    let expectation = SourceExpectation::of(&source, shared.transfer.verify, false);
    if let Some(upload) = resume(&shared, id, &item, &source, &expectation).await {
        return Ok(upload);
    }
    let tagging = source_tags(&shared, id, &item, &cancel, &mut attempts).await?;
    let params = WriteParams {
        attributes: shared.transfer.copy_metadata.then_some(&source.attributes),
        copied_from_etag: &source.etag,
        options: &shared.write,
        tagging: tagging.as_deref(),
    };
    let upload_id = shared
        .retry
        .run(id, 0, &cancel, &mut attempts, |_| {
            objects::create_multipart(&shared.single_shot.target, &item.target_key, &params)
        })
        .await?;
    if let Some(journal) = &shared.journal {
        journal.start(&JournalHeader {
            source_bucket: shared.sides.source.bucket.clone(),
            source_key: item.source_key.clone(),
            source_etag: source.etag.clone(),
            size: source.size,
            target_bucket: shared.sides.target.bucket.clone(),
            target_key: item.target_key.clone(),
            upload_id: upload_id.clone(),
            part_size,
            parts,
        })?;
    }
    Ok(Upload {
        upload_id,
        size: source.size,
        source,
        part_size,
        parts,
        expectation,
        done: Vec::new(),
        own: None,
    })
}

/// Pick up a journaled upload of the same source version, keeping only the parts the target
/// still has. A journal for another version is aborted and forgotten.
async fn resume(
    shared: &RunContext,
    id: ObjectId,
    item: &PlanItem,
    source: &SourceObject,
    expectation: &SourceExpectation,
) -> Option<Upload> {
    let journal = shared.journal.as_ref()?;
    let entry = journal.load(&item.target_key)?;
    let header = &entry.header;
    let target = &shared.sides.target;
    let same_version = header.source_etag == source.etag
        && header.size == source.size
        && header.source_key == item.source_key
        && header.target_bucket == target.bucket;
    if !same_version {
        tracing::info!(key = %item.target_key, "source changed since the journaled upload: starting over");
        if let Err(e) = objects::abort_multipart(target, &item.target_key, &header.upload_id).await
        {
            tracing::warn!(key = %item.target_key, upload_id = %header.upload_id, error = %e, "could not abort the journaled upload; 'airlock uploads abort' removes it");
            let left = super::events::LeftUpload {
                key: item.target_key.clone(),
                upload_id: header.upload_id.clone(),
                error: e.to_string(),
            };
            shared.retry.observer.upload_left(id, left);
        }
        journal.remove(&item.target_key);
        return None;
    }
    let listed = match objects::list_parts(target, &item.target_key, &header.upload_id).await {
        Ok(listed) => listed,
        Err(e) => {
            tracing::info!(key = %item.target_key, error = %e, "journaled upload is gone: starting over");
            journal.remove(&item.target_key);
            return None;
        }
    };
    let done: Vec<JournalPart> = entry
        .parts
        .into_iter()
        .filter(|p| listed.contains(&(p.part.part, p.part.size)))
        .collect();
    tracing::info!(key = %item.target_key, resumed = done.len(), parts = header.parts, "resuming upload");
    Some(Upload {
        upload_id: header.upload_id.clone(),
        source: source.clone(),
        size: header.size,
        part_size: header.part_size,
        parts: header.parts,
        expectation: expectation.clone(),
        done,
        own: None,
    })
}

/// A part read answered 416: the range, computed from the pinned version's size, is past the
/// end of what the key holds now, so the object was replaced by a shorter one. Some servers
/// check the range before `If-Match` (s3s-fs does); either way the source changed.
fn shrunk_is_changed(error: Error) -> Error {
    match error.s3() {
        Some(failure) if failure.status == Some(416) => Error::from(S3Failure {
            class: Class::SourceChanged,
            ..failure.clone()
        }),
        _ => error,
    }
}

/// Byte range `first..=last` of a part.
pub fn part_range(upload: &Upload, part: u32) -> (u64, u64) {
    let first = u64::from(part - 1) * upload.part_size;
    let last = (first + upload.part_size).min(upload.size) - 1;
    (first, last)
}

/// Ranged GET (pinned to the source ETag) -> UploadPart, with per-part checks.
pub async fn copy_part(
    shared: Arc<RunContext>,
    id: ObjectId,
    item: Arc<PlanItem>,
    upload: Arc<Upload>,
    part: u32,
    progress: Arc<AtomicU64>,
    cancel: CancellationToken,
) -> Result<(JournalPart, u32), UnitError> {
    let mut attempts = 0;
    let (first, last) = part_range(&upload, part);
    let length = last - first + 1;
    let shared_ref = &shared;
    let check = TargetCheck {
        target: &shared.sides.target,
        mode: shared.transfer.verify,
    };
    let journal_part = shared_ref
        .retry
        .run(id, part, &cancel, &mut attempts, |_| {
            let (item, upload, progress) = (&item, &upload, progress.clone());
            async move {
                progress.store(0, Ordering::Relaxed);
                let source = &shared_ref.sides.source;
                let get = objects::get_stream(
                    source,
                    &item.source_key,
                    item.source_version_id.as_deref(),
                    Some((first, last)),
                    Some(&upload.source.etag),
                    false,
                )
                .await
                .map_err(shrunk_is_changed)?;
                if get.length != length {
                    return Err(Error::from(S3Failure {
                        side: crate::config::Side::Source,
                        operation: "GetObject",
                        bucket: source.bucket.clone(),
                        key: Some(item.source_key.clone()),
                        status: None,
                        code: None,
                        message: format!(
                            "range {first}-{last} answered {} bytes instead of {length}",
                            get.length
                        ),
                        class: Class::Retryable,
                    }));
                }
                let relay = RelayBody::new(
                    get.body,
                    length,
                    upload.expectation.digest_plan,
                    shared_ref.gauge.clone(),
                    shared_ref.transfer.read_timeout,
                )
                .throttle(shared_ref.throttle.clone())
                .progress(progress);
                let outcome = relay.outcome();
                let put = objects::upload_part_stream(
                    &shared_ref.sides.target,
                    &item.target_key,
                    &upload.upload_id,
                    part,
                    chunked(relay, length),
                )
                .await
                .map_err(|e| blame(e, &outcome, shared_ref, &item.source_key))?;
                let digests = digests_of(&outcome, length)?;
                check.part(&item.target_key, part, &put, &digests)?;
                Ok(JournalPart {
                    part: FinishedPart {
                        part,
                        etag: put.etag.unwrap_or_default(),
                        crc64nvme: super::digest::encode(
                            crate::plan::ChecksumAlgorithm::Crc64nvme,
                            digests.crc64nvme,
                        ),
                        size: length,
                    },
                    source_crc: digests.source_crc.map(|(_, v)| v),
                    md5: digests.md5.map(|m| verify::hex(&m)),
                })
            }
        })
        .await?;
    // A split object's parts are found again by ListParts, not in this host's journal.
    if let Some(journal) = &shared.journal
        && item.split.is_none()
        && let Err(e) = journal.record(&item.target_key, &journal_part)
    {
        tracing::warn!(error = %e, "could not journal a finished part; a resume would send it again");
    }
    Ok((journal_part, attempts))
}
