//! Split objects: one multipart upload that several shards fill together.
//!
//! - [`open_split`] (`airlock prepare`): HEAD the source, which must still be the planned
//!   version, and CreateMultipartUpload at the target with the same metadata, tags and
//!   provenance (`airlock-source-etag`) as any copy.
//! - [`join_split`] (a unit of a run, in place of the usual prepare): pick up the recorded
//!   upload for this shard's range of parts, counting parts the target already lists as done.
//!   The scheduler uploads the rest of the range and does not complete the upload; a run never
//!   aborts it either, since other shards' parts live in it.
//! - [`finalize`] (`airlock finalize`): once every part is listed with its size and CRC64NVME
//!   (or, for a composite upload, its checksum of the source's algorithm), check the source
//!   hop, then complete with the combined full-object checksum (or the parts' composite
//!   checksums) and verify by HEAD. A split object copied in the source's layout is checked
//!   against the source's composite (recombined from the part checksums ListParts returns) or
//!   multipart ETag (MD5 of the part ETags, when the target makes MD5 ETags) before Complete: a
//!   mismatch completes nothing. An object already complete (size and recorded source ETag at
//!   the target) is reported, not touched, so a second finalize is safe.
//!
//! May depend on `context`, `retry`, `verify`, `upload`, `stream`, `complete`, `journal`,
//! `source_parts` and `events` of the engine; not on the single or multipart paths, nor on the scheduler (which
//! chooses [`join_split`] for an item with a split upload).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::complete::complete;
use super::context::{EngineOptions, RunContext};
use super::events::Verification;
use super::journal::JournalPart;
use super::retry::UnitError;
use super::source_parts;
use super::stream::source_tags;
use super::upload::Upload;
use super::verify::{Check, Composite, SourceExpectation};
use crate::aws::objects::{self, FinishedPart, SourceObject, WriteParams};
use crate::aws::{Sides, listing};
use crate::config::{Side, Sse, WriteChecksum};
use crate::error::{Class, Error, Result, S3Failure};
use crate::plan::{ChecksumAlgorithm, PlanItem, SplitUpload, part_bytes};

/// A unit's result outside a run, where nothing cancels it.
fn settled<T>(result: Result<T, UnitError>) -> Result<T> {
    UnitError::settled(result)
}

fn failure(side: Side, operation: &'static str, bucket: &str, key: &str, message: String) -> Error {
    Error::from(S3Failure {
        side,
        operation,
        bucket: bucket.to_string(),
        key: Some(key.to_string()),
        status: None,
        code: None,
        message,
        class: Class::Fatal,
    })
}

/// Open the shared upload of a `multipart` plan item (all its parts, as planned).
pub async fn open_split(
    sides: Sides,
    options: &EngineOptions,
    item: &PlanItem,
) -> Result<SplitUpload> {
    let ctx = RunContext::detached(sides, options);
    let cancel = CancellationToken::new();
    let mut attempts = 0;
    let source = settled(
        ctx.retry
            .run(0, 0, &cancel, &mut attempts, |_| {
                objects::head_source(
                    &ctx.single_shot.source,
                    &item.source_key,
                    item.source_version_id.as_deref(),
                )
            })
            .await,
    )?;
    let changed = item.source_etag.as_ref().is_some_and(|e| *e != source.etag);
    if source.size != item.size || changed {
        return Err(Error::plan(format!(
            "'{}' changed since it was planned (now {} bytes, ETag '{}'): make a new plan with 'airlock plan -o FILE' and prepare that",
            item.source_key, source.size, source.etag
        )));
    }
    let tagging = settled(source_tags(&ctx, 0, item, &cancel, &mut attempts).await)?;
    let params = WriteParams {
        attributes: ctx.transfer.copy_metadata.then_some(&source.attributes),
        copied_from_etag: &source.etag,
        options: &ctx.write,
        tagging: tagging.as_deref(),
    };
    let trailer = ctx.write_mode() == WriteChecksum::Trailer;
    let expectation = expectation_for(&ctx, item, &source);
    let composite = source_parts::target_composite(&expectation, ctx.write_mode());
    let checksum = source_parts::upload_checksum(composite, trailer);
    let upload_id = settled(
        ctx.retry
            .run(0, 0, &cancel, &mut attempts, |_| {
                objects::create_multipart(
                    &ctx.single_shot.target,
                    &item.target_key,
                    &params,
                    checksum,
                )
            })
            .await,
    )?;
    Ok(SplitUpload {
        upload_id,
        source_etag: source.etag,
        source_checksum: source.checksum,
        first_part: 1,
        last_part: item.parts,
        composite,
    })
}

/// What the source hop of a split object is checked with: as any multipart copy, in the
/// source's own layout when the plan learnt one and the item uses it.
fn expectation_for(ctx: &RunContext, item: &PlanItem, source: &SourceObject) -> SourceExpectation {
    let verify = ctx.transfer.verify;
    let mut expectation = SourceExpectation::of(source, verify, false);
    if let Some(layout) = &item.source_layout {
        let in_layout = layout.part_size == Some(item.part_size) && source.size == item.size;
        source_parts::expect_layout(&mut expectation, source, layout, in_layout, verify);
    }
    expectation
}

/// The recorded upload, ready for this shard's range; parts of the range the target already
/// lists (with the right size and a CRC64NVME) count as done, so a rerun sends only the rest.
pub(crate) async fn join_split(
    ctx: Arc<RunContext>,
    id: usize,
    item: PlanItem,
    split: SplitUpload,
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
    if source.etag != split.source_etag || source.size != item.size {
        return Err(UnitError::Failed(Error::from(S3Failure {
            side: Side::Source,
            operation: "HeadObject",
            bucket: ctx.sides.source.bucket.clone(),
            key: Some(item.source_key.clone()),
            status: None,
            code: None,
            message: format!(
                "the split upload is for ETag '{}' but the source is now '{}' ({} bytes): make a new plan, prepare it and run every shard again",
                split.source_etag, source.etag, source.size
            ),
            class: Class::SourceChanged,
        })));
    }
    let target = &ctx.sides.target;
    let listed = ctx.retry.run(id, 0, &cancel, &mut attempts, |_| {
        objects::list_part_details(target, &item.target_key, &split.upload_id)
    })
    .await
    .map_err(|e| match e {
        UnitError::Failed(e) if e.class() == Class::NotFound => UnitError::Failed(failure(
            Side::Target,
            "ListParts",
            &target.bucket,
            &item.target_key,
            format!(
                "split upload '{}' no longer exists (aborted or expired): make a new plan and run 'airlock prepare' again",
                split.upload_id
            ),
        )),
        other => other,
    })?;
    let done = listed
        .into_iter()
        .filter(|p| {
            (split.first_part..=split.last_part).contains(&p.part)
                && p.size == part_bytes(&item, p.part)
                && listed_in_full(p, split.composite)
        })
        .map(|part| JournalPart::listed(part, split.composite))
        .collect();
    let mut expectation = expectation_for(&ctx, &item, &source);
    expectation.digest_plan.md5 |= ctx.write_mode() == WriteChecksum::Md5;
    Ok(Upload {
        upload_id: split.upload_id.clone(),
        size: item.size,
        source,
        part_size: item.part_size,
        parts: item.parts,
        expectation,
        done,
        own: Some((split.first_part, split.last_part)),
        composite: split.composite,
    })
}

/// A listed part the target holds with the checksum the upload's parts are sent with.
fn listed_in_full(part: &FinishedPart, composite: Option<ChecksumAlgorithm>) -> bool {
    match composite {
        Some(_) => part.checksum.is_some(),
        None => !part.crc64nvme.is_empty(),
    }
}

/// What `finalize` did with one split object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finalized {
    /// Completed now, and verified as described.
    Completed(Verification),
    /// Already complete at the target (an earlier finalize); nothing was sent.
    AlreadyComplete(Verification),
}

/// Complete one split object once every part is in, and verify it.
pub async fn finalize(sides: Sides, options: &EngineOptions, item: &PlanItem) -> Result<Finalized> {
    let split = item
        .split
        .as_ref()
        .ok_or_else(|| Error::internal("finalize of an object that is not split"))?;
    let ctx = Arc::new(RunContext::detached(sides, options));
    let target = &ctx.sides.target;
    if let Some(info) = listing::head(target, &item.target_key).await?
        && info.size == item.size
        && info.copied_from_etag.as_deref() == Some(split.source_etag.as_str())
    {
        return already_complete(&ctx, item, split, &info).map(Finalized::AlreadyComplete);
    }
    let fail = |message: String| {
        failure(
            Side::Target,
            "ListParts",
            &target.bucket,
            &item.target_key,
            message,
        )
    };
    let listed = objects::list_part_details(target, &item.target_key, &split.upload_id)
        .await
        .map_err(|e| match e.class() {
            Class::NotFound => fail(format!(
                "split upload '{}' no longer exists and the object is not at the target: make a new plan, prepare it and run the shards again",
                split.upload_id
            )),
            _ => e,
        })?;
    let mut parts = Vec::with_capacity(item.parts as usize);
    let mut missing = Vec::new();
    for number in 1..=item.parts {
        match listed.iter().find(|p| p.part == number) {
            Some(p) if p.size == part_bytes(item, number) && listed_in_full(p, split.composite) => {
                parts.push(JournalPart::listed(p.clone(), split.composite));
            }
            _ => missing.push(number),
        }
    }
    if !missing.is_empty() {
        return Err(fail(format!(
            "{} of {} parts of upload '{}' are not in yet ({}): run the shards that own them ('airlock run --plan FILE --shard I/N') and finalize again",
            missing.len(),
            item.parts,
            split.upload_id,
            number_list(&missing)
        )));
    }
    // The source as it was when the upload was opened: every part was read pinned to it.
    let source = SourceObject {
        size: item.size,
        etag: split.source_etag.clone(),
        checksum: split.source_checksum.clone(),
        ..Default::default()
    };
    let mut expectation = expectation_for(&ctx, item, &source);
    if let Some(Composite::Etag(etag)) = &expectation.composite {
        // The target's part ETags are the MD5s of the bytes it holds, when it makes MD5 ETags.
        let check = etag_check(&ctx, item, etag, &parts)
            .map_err(|e| mismatch_advice(e, &split.upload_id))?;
        expectation.composite = None;
        expectation.description = check;
    }
    let upload = Upload {
        upload_id: split.upload_id.clone(),
        expectation,
        source,
        size: item.size,
        part_size: item.part_size,
        parts: item.parts,
        done: Vec::new(),
        own: None,
        composite: split.composite,
    };
    let item = Arc::new(item.clone());
    let cancel = CancellationToken::new();
    settled(complete(ctx, 0, item, Arc::new(upload), parts, cancel).await)
        .map(Finalized::Completed)
        .map_err(|e| mismatch_advice(e, &split.upload_id))
}

/// A source check that failed before Complete: say what to do with the upload left open.
fn mismatch_advice(error: Error, upload_id: &str) -> Error {
    match error.s3() {
        Some(failure) if failure.code.as_deref() == Some("ChecksumMismatch") => {
            Error::from(S3Failure {
                message: format!(
                    "{}; upload '{upload_id}' is left open with the bad part: abort it ('airlock uploads abort'), then make a new plan, prepare it and run the shards again",
                    failure.message
                ),
                ..failure.clone()
            })
        }
        _ => error,
    }
}

/// The source's multipart ETag against the MD5 of the target's part ETags, before Complete:
/// an error (nothing completed) on a mismatch; size only when the target's ETags are not
/// MD5s (SSE-KMS, another store's format).
fn etag_check(
    ctx: &RunContext,
    item: &PlanItem,
    etag: &str,
    parts: &[JournalPart],
) -> Result<Check> {
    let kms = matches!(ctx.write.sse, Some(Sse::Kms { .. }));
    let md5_shaped = |e: &str| e.len() == 32 && e.bytes().all(|b| b.is_ascii_hexdigit());
    if kms || !parts.iter().all(|p| md5_shaped(&p.part.etag)) {
        return Ok(Check::weak(format!(
            "size only: the target's part ETags are not MD5s, so the source's multipart ETag cannot be checked; every part was pinned to ETag '{etag}'"
        )));
    }
    let with_md5: Vec<JournalPart> = parts
        .iter()
        .map(|p| JournalPart {
            md5: Some(p.part.etag.to_ascii_lowercase()),
            ..p.clone()
        })
        .collect();
    let composite = Composite::Etag(etag.to_string());
    let (bucket, key) = (&ctx.sides.source.bucket, &item.source_key);
    source_parts::check_composite(&composite, &with_md5, bucket, key)?;
    Ok(Check::digest(format!(
        "MD5s of the {} parts the target holds (their ETags) matched the source's multipart ETag",
        parts.len()
    )))
}

/// An object an earlier finalize completed: compare what can be compared.
fn already_complete(
    ctx: &RunContext,
    item: &PlanItem,
    split: &SplitUpload,
    info: &crate::plan::ObjectInfo,
) -> Result<Verification> {
    let target = "already complete: size and recorded source ETag match (HEAD)".to_string();
    // Written COMPOSITE in the source's algorithm: the two composites compare.
    let composite = |c: &crate::plan::Checksum| {
        (Some(c.algorithm) == split.composite && !c.full_object).then(|| c.value.clone())
    };
    let source_composite = split.source_checksum.as_ref().and_then(composite);
    if let (Some(s), Some(t), Some(algorithm)) = (
        source_composite,
        info.checksum.as_ref().and_then(composite),
        split.composite,
    ) {
        let parts = item.parts as usize;
        let algorithm = format!("{algorithm:?}").to_lowercase();
        if source_parts::split_composite(&s, parts) != source_parts::split_composite(&t, parts) {
            return Err(failure(
                Side::Target,
                "HeadObject",
                &ctx.sides.target.bucket,
                &item.target_key,
                format!(
                    "the target reports composite {algorithm} {t} but the source had {s}: delete the target object and copy it again"
                ),
            ));
        }
        return Ok(Verification {
            source: format!("composite {algorithm} of the source matches the target's"),
            target,
            verified: true,
        });
    }
    let crc64 = |c: &crate::plan::Checksum| {
        (c.algorithm == ChecksumAlgorithm::Crc64nvme && c.full_object).then(|| c.value.clone())
    };
    let source_crc = split.source_checksum.as_ref().and_then(crc64);
    let target_crc = info.checksum.as_ref().and_then(crc64);
    match (source_crc, target_crc) {
        (Some(s), Some(t)) if s == t => Ok(Verification {
            source: "crc64nvme of the source matches the target's full-object checksum".into(),
            target,
            verified: true,
        }),
        (Some(s), Some(t)) => Err(failure(
            Side::Target,
            "HeadObject",
            &ctx.sides.target.bucket,
            &item.target_key,
            format!(
                "the target reports crc64nvme {t} but the source had {s}: delete the target object and copy it again"
            ),
        )),
        _ => Ok(Verification {
            source: "not verifiable: no crc64nvme on both sides to compare".into(),
            target,
            verified: false,
        }),
    }
}

/// `1-3, 7` for [1, 2, 3, 7].
fn number_list(numbers: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        while i + 1 < numbers.len() && numbers[i + 1] == numbers[i] + 1 {
            i += 1;
        }
        out.push(if numbers[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", numbers[i])
        });
        i += 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn number_lists_collapse_runs() {
        assert_eq!(super::number_list(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(super::number_list(&[4]), "4");
    }
}
