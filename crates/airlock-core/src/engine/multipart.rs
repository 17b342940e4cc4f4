//! The multipart path: [`prepare`] an upload (HEAD the source, then resume the journaled upload
//! of the same version, or with no journal here the one the target's state object records, or
//! create a new one: COMPOSITE in the source's algorithm for a composite source copied in its
//! parts, else as the write mode says), and [`copy_part`] each part (a ranged GET pinned to the
//! source ETag, streamed into UploadPart with a CRC64NVME trailer, or the source algorithm's for
//! a composite upload, checked, journaled). Completing is `complete`'s
//! job; a split object's upload is joined by the split path instead of prepared here.
//!
//! May depend on `context`, `retry`, `verify`, `upload`, `stream`, `journal`, `state`, `adopt`,
//! `relay`, `digest`, `source_parts` and `events` of the engine; not on the single or split paths, nor on the scheduler.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_types::body::SdkBody;
use tokio_util::sync::CancellationToken;

use super::adopt::{abort_stale, adopt};
use super::context::RunContext;
use super::digest;
use super::events::ObjectId;
use super::journal::{JournalHeader, JournalPart};
use super::relay::RelayBody;
use super::retry::UnitError;
use super::source_parts;
use super::state::{self, UploadState};
use super::stream::{blame, chunked_as, digests_of, pinned_etag, source_tags};
use super::upload::Upload;
use super::verify::{self, Composite, SourceExpectation, TargetCheck};
use crate::aws::objects::{self, FinishedPart, PartBody, SourceObject, WriteParams};
use crate::config::{Side, WriteChecksum};
use crate::error::{Class, Error, S3Failure};
use crate::plan::{ChecksumAlgorithm, PlanItem, part_layout};

/// HEAD the source, then resume the journaled upload or create a new one.
pub(crate) async fn prepare(
    ctx: Arc<RunContext>,
    id: ObjectId,
    item: PlanItem,
    cancel: CancellationToken,
) -> Result<Upload, UnitError> {
    let mut attempts = 0;
    let source = ctx
        .retry
        .run(id, 0, &cancel, &mut attempts, |_| {
            objects::head_source(
                &ctx.single_shot.source,
                &item.source_key,
                item.source_version_id.as_deref(),
            )
        })
        .await?;
    // An archived source answers every GET 403 InvalidObjectState: fail it before a target
    // upload is opened.
    if let Some(archive) = &source.archived {
        return Err(UnitError::Failed(Error::plan(format!(
            "'{}' is archived ({archive}): restore it first (S3 RestoreObject), then run again",
            item.source_key
        ))));
    }
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
        let (size, count, _) = part_layout(source.size, ctx.transfer.part_size);
        (size, count)
    };
    let mut expectation = SourceExpectation::of(&source, ctx.transfer.verify, false);
    if let Some(layout) = &item.source_layout {
        // The plan's layout holds for the version it was learnt from, copied in its parts.
        let in_layout = layout.part_size == Some(part_size)
            && source.size == item.size
            && item.source_etag.as_deref().is_none_or(|e| e == source.etag);
        let verify = ctx.transfer.verify;
        source_parts::expect_layout(&mut expectation, &source, layout, in_layout, verify);
    }
    // `checksum = "md5"`: every part's ETag is checked against the MD5 of its bytes.
    // "trailer-parts": the part MD5s let the final ETag check the whole object.
    expectation.digest_plan.md5 |= ctx.write_mode() == WriteChecksum::Md5 || ctx.trailer_parts();
    // A composite source copied in its layout: the target upload is composite in its algorithm.
    let composite = source_parts::target_composite(&expectation, ctx.write_mode());
    let journaled = (ctx.journal.as_ref()).is_some_and(|j| j.load(&item.target_key).is_some());
    if let Some(upload) = resume(&ctx, id, &item, &source, &expectation, composite).await {
        return Ok(upload);
    }
    if !journaled {
        let layout = (part_size, parts);
        let expected = (&expectation, composite);
        if let Some(upload) = adopt(&ctx, id, &item, &source, expected, layout).await {
            return Ok(upload);
        }
    }
    let tagging = source_tags(&ctx, id, &item, &cancel, &mut attempts).await?;
    let params = WriteParams {
        attributes: ctx.transfer.copy_metadata.then_some(&source.attributes),
        copied_from_etag: &source.etag,
        options: &ctx.write,
        tagging: tagging.as_deref(),
    };
    let checksum = source_parts::upload_checksum(composite, ctx.full_object());
    let upload_id = ctx
        .retry
        .run(id, 0, &cancel, &mut attempts, |_| {
            objects::create_multipart(&ctx.single_shot.target, &item.target_key, &params, checksum)
        })
        .await?;
    if let Some(journal) = &ctx.journal {
        journal.start(&JournalHeader {
            source_bucket: ctx.sides.source.bucket.clone(),
            source_key: item.source_key.clone(),
            source_etag: source.etag.clone(),
            size: source.size,
            target_bucket: ctx.sides.target.bucket.clone(),
            target_key: item.target_key.clone(),
            upload_id: upload_id.clone(),
            part_size,
            parts,
        })?;
    }
    let record = UploadState {
        target_key: item.target_key.clone(),
        upload_id: upload_id.clone(),
        source_key: item.source_key.clone(),
        source_etag: source.etag.clone(),
        source_version_id: item.source_version_id.clone(),
        size: source.size,
        part_size,
        parts,
        checksum: super::upload::mode_name(ctx.write_mode_name(), composite),
        created_ms: state::now_ms(),
    };
    state::save(&ctx.sides.target, &ctx.write, &record).await;
    Ok(Upload {
        upload_id,
        size: source.size,
        source,
        part_size,
        parts,
        expectation,
        done: Vec::new(),
        own: None,
        composite,
    })
}

/// Pick up a journaled upload of the same source version, keeping only the parts the target
/// still has. A journal for another version is aborted and forgotten.
async fn resume(
    ctx: &RunContext,
    id: ObjectId,
    item: &PlanItem,
    source: &SourceObject,
    expectation: &SourceExpectation,
    composite: Option<ChecksumAlgorithm>,
) -> Option<Upload> {
    let journal = ctx.journal.as_ref()?;
    let entry = journal.load(&item.target_key)?;
    let header = &entry.header;
    let target = &ctx.sides.target;
    let same_version = header.source_etag == source.etag
        && header.size == source.size
        && header.source_key == item.source_key
        && header.target_bucket == target.bucket;
    if !same_version {
        tracing::info!(key = %item.target_key, "source changed since the journaled upload: starting over");
        abort_stale(ctx, id, &item.target_key, &header.upload_id, "journaled").await;
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
        composite,
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
pub(crate) fn part_range(upload: &Upload, part: u32) -> (u64, u64) {
    let first = u64::from(part - 1) * upload.part_size;
    let last = (first + upload.part_size).min(upload.size) - 1;
    (first, last)
}

/// Ranged GET (pinned to the source ETag) -> UploadPart, with per-part checks.
pub(crate) async fn copy_part(
    ctx: Arc<RunContext>,
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
    let ctx_ref = &ctx;
    // Its HEAD runs inside the engine's retries: the single-shot client, not a second layer
    // of SDK retries.
    let check = TargetCheck {
        target: &ctx.single_shot.target,
        mode: ctx.transfer.verify,
        write: ctx.write_mode(),
    };
    let journal_part = ctx
        .retry
        .run(id, part, &cancel, &mut attempts, |_| {
            let (item, upload, progress) = (&item, &upload, progress.clone());
            async move {
                progress.store(0, Ordering::Relaxed);
                let source = &ctx_ref.sides.source;
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
                        side: Side::Source,
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
                    ctx_ref.gauge.clone(),
                    ctx_ref.transfer.read_timeout,
                )
                .throttle(ctx_ref.throttle.clone())
                .progress(progress);
                let outcome = relay.outcome();
                let put = objects::upload_part_stream(
                    &ctx_ref.sides.target,
                    &item.target_key,
                    &upload.upload_id,
                    part,
                    match check.write {
                        WriteChecksum::Trailer | WriteChecksum::Auto => {
                            let algorithm =
                                upload.composite.unwrap_or(ChecksumAlgorithm::Crc64nvme);
                            PartBody::Chunked(chunked_as(relay, length, algorithm))
                        }
                        WriteChecksum::Md5 | WriteChecksum::None => PartBody::Plain {
                            body: SdkBody::from_body_1_x(relay),
                            length,
                        },
                    },
                )
                .await
                .map_err(|e| blame(e, &outcome, ctx_ref, &item.source_key))?;
                let digests = digests_of(&outcome, length)?;
                check.part(&item.target_key, part, &put, &digests)?;
                // The part's value of the source's composite algorithm: for the check before
                // Complete, and for a composite target upload the value its trailer carried.
                let composite = match &upload.expectation.composite {
                    Some(Composite::Crc { algorithm, .. }) => {
                        digest::trailer_value(*algorithm, &digests).map(|v| (*algorithm, v))
                    }
                    _ => None,
                };
                let sent = composite.as_ref().filter(|_| upload.composite.is_some());
                check.part_composite(&item.target_key, part, &put, sent)?;
                Ok(JournalPart {
                    part: FinishedPart {
                        part,
                        etag: put.etag.unwrap_or_default(),
                        crc64nvme: digest::encode(ChecksumAlgorithm::Crc64nvme, digests.crc64nvme),
                        size: length,
                        checksum: composite.map(|(_, value)| value),
                    },
                    source_crc: digests.source_crc.map(|(_, v)| v),
                    md5: digests.md5.map(|m| verify::hex(&m)),
                })
            }
        })
        .await?;
    // A split object's parts are found again by ListParts, not in this host's journal.
    if let Some(journal) = &ctx.journal
        && item.split.is_none()
        && let Err(e) = journal.record(&item.target_key, &journal_part)
    {
        tracing::warn!(error = %e, "could not journal a finished part; a resume would send it again");
    }
    Ok((journal_part, attempts))
}
