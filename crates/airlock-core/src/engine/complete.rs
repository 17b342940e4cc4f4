//! Finishing a multipart object: check the combined source checksum (or the source's composite
//! or multipart ETag) *before* completing (a mismatch aborts instead of leaving a bad object),
//! CompleteMultipartUpload with the full-object CRC64NVME for the target to check, or for an
//! upload COMPOSITE in the source's algorithm the parts' checksums of it (then the target's
//! composite must be the one the parts make, the source's own), or none (plain parts and
//! "trailer-parts": then the ETag is checked against the part MD5s), then HEAD the target and
//! compare. A lost
//! Complete answer is recognised by HEAD (size, checksum and recorded source ETag). A completed
//! object that fails its check is removed from the target when it is still ours (`removal`).
//!
//! Used by the scheduler (a run's last unit of a multipart object) and by the split path
//! (`airlock finalize`). May depend on `context`, `retry`, `verify`, `removal`, `upload`,
//! `digest`, `journal`, `state`, `source_parts` and `events` of the engine; not on the single, multipart or split paths.

use std::sync::Arc;

use md5::Digest as _;
use tokio_util::sync::CancellationToken;

use super::context::RunContext;
use super::digest::{combine, encode};
use super::events::{ObjectId, Verification};
use super::journal::JournalPart;
use super::removal::{Written, remove_if_ours};
use super::retry::UnitError;
use super::source_parts::{check_composite, composite_of, split_composite};
use super::state;
use super::upload::Upload;
use super::verify::{Check, hex, verification};
use crate::aws::listing;
use crate::aws::objects::{self, CompleteChecksum, FinishedPart};
use crate::config::{Side, Sse, VerifyMode, WriteChecksum};
use crate::error::{Class, Error, S3Failure};
use crate::plan::{ChecksumAlgorithm, PlanItem};

/// Complete and verify. `parts` holds every part, in part order.
pub(crate) async fn complete(
    ctx: Arc<RunContext>,
    id: ObjectId,
    item: Arc<PlanItem>,
    upload: Arc<Upload>,
    parts: Vec<JournalPart>,
    cancel: CancellationToken,
) -> Result<Verification, UnitError> {
    let full_crc64 = parts.iter().fold(0u64, |acc, p| {
        let crc = decode64(&p.part.crc64nvme);
        if p.part.part == 1 {
            crc
        } else {
            combine(ChecksumAlgorithm::Crc64nvme, acc, crc, p.part.size)
        }
    });
    let source_check = check_source(&ctx, &item, &upload, &parts, full_crc64)?;
    let full = encode(ChecksumAlgorithm::Crc64nvme, full_crc64);
    // A composite upload lists each part's checksum of its algorithm. Plain parts
    // (`checksum = "md5"` / `"none"`) and "trailer-parts": the Complete carries no checksum.
    let sent = match upload.composite {
        Some(algorithm) => CompleteChecksum::Composite(algorithm),
        None if ctx.full_object() => CompleteChecksum::FullCrc64nvme(&full),
        None => CompleteChecksum::None,
    };
    let finished: Vec<FinishedPart> = parts
        .iter()
        .map(|p| {
            let mut part = p.part.clone();
            if let Some(algorithm) = upload.composite
                && part.checksum.is_none()
            {
                part.checksum = p.source_crc.map(|v| encode(algorithm, v));
            }
            part
        })
        .collect();
    let mut attempts = 0;
    let completed = ctx
        .retry
        .run(id, 0, &cancel, &mut attempts, |_| {
            objects::complete_multipart(
                &ctx.single_shot.target,
                &item.target_key,
                &upload.upload_id,
                &finished,
                sent,
            )
        })
        .await;
    if let Err(UnitError::Cancelled) = completed {
        return Err(UnitError::Cancelled);
    }
    if let Err(UnitError::Failed(e)) = &completed {
        // The answer may have been lost after the target completed: look before failing.
        tracing::info!(key = %item.target_key, error = %e, "CompleteMultipartUpload failed; checking the target");
    }
    let completed_etag = completed.as_ref().ok().and_then(|w| w.etag.clone());
    let head = listing::head(&ctx.sides.target, &item.target_key).await?;
    let checked = match (head, completed) {
        (Some(info), _)
            if info.size == upload.size
                && info.copied_from_etag.as_deref() == Some(&upload.source.etag) =>
        {
            let composite = upload.composite.map(|a| (a, finished.as_slice()));
            check_target(&ctx, &item, &info, &full, &parts, composite)
        }
        (_, Err(e)) => return Err(e),
        (Some(info), Ok(_)) => Err(target_failure(
            &ctx,
            &item,
            format!(
                "after completing, the target holds {} bytes (expected {})",
                info.size, upload.size
            ),
        )),
        (None, Ok(_)) => Err(target_failure(
            &ctx,
            &item,
            "the object is missing after completing (deleted meanwhile, or the target bucket removed?)"
                .into(),
        )),
    };
    let target_check = match checked {
        Ok(check) => check,
        Err(e) => {
            let written = Written {
                key: &item.target_key,
                source_etag: &upload.source.etag,
                etag: completed_etag.as_deref(),
            };
            let e = remove_if_ours(&ctx.sides.target, written, e).await;
            if let Some(journal) = &ctx.journal {
                journal.remove(&item.target_key);
            }
            forget_state(&ctx, &item).await;
            return Err(e.into());
        }
    };
    if let Some(journal) = &ctx.journal {
        journal.remove(&item.target_key);
    }
    forget_state(&ctx, &item).await;
    Ok(verification(source_check, target_check))
}

/// Delete the target's record of the upload (`state`); a split object has none.
async fn forget_state(ctx: &RunContext, item: &PlanItem) {
    if item.split.is_none() {
        state::forget(&ctx.sides.target, &ctx.write.state_prefix, &item.target_key).await;
    }
}

fn decode64(value: &str) -> u64 {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn target_failure(ctx: &RunContext, item: &PlanItem, message: String) -> Error {
    Error::from(S3Failure {
        side: Side::Target,
        operation: "CompleteMultipartUpload",
        bucket: ctx.sides.target.bucket.clone(),
        key: Some(item.target_key.clone()),
        status: None,
        code: Some(super::removal::CHECK_FAILED.into()),
        message,
        class: Class::Fatal,
    })
}

/// Compare the combined CRC of every byte read with the source's full-object checksum.
fn check_source(
    ctx: &RunContext,
    item: &PlanItem,
    upload: &Upload,
    parts: &[JournalPart],
    full_crc64: u64,
) -> Result<Check, Error> {
    if let Some(composite) = &upload.expectation.composite {
        let (bucket, key) = (&ctx.sides.source.bucket, &item.source_key);
        return match check_composite(composite, parts, bucket, key)? {
            Some(()) => Ok(upload.expectation.description.clone()),
            None => Ok(Check {
                description:
                    "not verifiable: some resumed parts have no source checksum or MD5 recorded"
                        .into(),
                by_digest: false,
            }),
        };
    }
    let Some((algorithm, want)) = upload.expectation.full_crc else {
        return Ok(upload.expectation.description.clone());
    };
    let got = if algorithm == ChecksumAlgorithm::Crc64nvme {
        Some(full_crc64)
    } else {
        parts.iter().try_fold(0u64, |acc, p| {
            let crc = p.source_crc?;
            Some(if p.part.part == 1 {
                crc
            } else {
                combine(algorithm, acc, crc, p.part.size)
            })
        })
    };
    match got {
        Some(got) if got == want => Ok(upload.expectation.description.clone()),
        Some(got) => Err(Error::from(S3Failure {
            side: Side::Source,
            operation: "GetObject",
            bucket: ctx.sides.source.bucket.clone(),
            key: Some(item.source_key.clone()),
            status: None,
            code: Some("ChecksumMismatch".into()),
            message: format!(
                "bytes read do not match the source's {} checksum (read {}, source says {}); not completed",
                format!("{algorithm:?}").to_lowercase(),
                encode(algorithm, got),
                encode(algorithm, want)
            ),
            class: Class::Fatal,
        })),
        // A resumed part journaled before the source algorithm was known: say so.
        None => Ok(Check {
            description: "not verifiable: some resumed parts have no source checksum recorded"
                .into(),
            by_digest: false,
        }),
    }
}

/// Compare the target's report (HEAD) with what was sent.
fn check_target(
    ctx: &RunContext,
    item: &PlanItem,
    info: &crate::plan::ObjectInfo,
    full: &str,
    parts: &[JournalPart],
    composite: Option<(ChecksumAlgorithm, &[FinishedPart])>,
) -> Result<Check, Error> {
    let write = ctx.write_mode();
    if let Some((algorithm, finished)) = composite
        && let Some(checksum) = info
            .checksum
            .as_ref()
            .filter(|c| c.algorithm == algorithm && !c.full_object)
        && let Some(sent) = composite_of(algorithm, finished.iter().map(|p| p.checksum.as_deref()))
    {
        let (theirs, count) = split_composite(&checksum.value, finished.len());
        if split_composite(&sent, finished.len()) != (theirs, count) {
            return Err(target_failure(
                ctx,
                item,
                format!(
                    "target reports composite {} {}-{count} but the parts sent make {sent}",
                    format!("{algorithm:?}").to_lowercase(),
                    theirs
                ),
            ));
        }
        return Ok(Check::digest(format!(
            "composite {} of the parts sent matched the target's (HEAD after complete; each part checked by the target)",
            format!("{algorithm:?}").to_lowercase()
        )));
    }
    if write == WriteChecksum::None {
        return Ok(Check {
            description: "size only (checksum = \"none\")".into(),
            by_digest: false,
        });
    }
    if let Some(checksum) = &info.checksum
        && checksum.algorithm == ChecksumAlgorithm::Crc64nvme
    {
        if checksum.value != full {
            return Err(target_failure(
                ctx,
                item,
                format!(
                    "target reports crc64nvme {} but the bytes sent have {full}",
                    checksum.value
                ),
            ));
        }
        return Ok(Check {
            description: "crc64nvme of the whole object matched the target's full-object checksum (HEAD after complete)".into(),
            by_digest: true,
        });
    }
    // "trailer-parts": each UploadPart's CRC64NVME trailer was checked by the target, the whole
    // object is checked by the ETag below or not at all; the words say which.
    let parts_checked = match ctx.trailer_parts() {
        true => {
            "parts checked by the target (CRC64NVME trailers), no whole-object checksum from the target; "
        }
        false => "",
    };
    if (write == WriteChecksum::Md5 || ctx.trailer_parts())
        && matches!(ctx.write.sse, Some(Sse::Kms { .. }))
    {
        return Ok(Check {
            description: format!(
                "{parts_checked}size only: the target encrypts with SSE-KMS, so its ETag is not an MD5 of the parts (checksum = \"{}\")",
                ctx.write_mode_name()
            ),
            by_digest: false,
        });
    }
    if (ctx.transfer.verify == VerifyMode::Md5
        || write == WriteChecksum::Md5
        || ctx.trailer_parts())
        && let Some(etag) = &info.etag
    {
        let mut md5 = md5::Md5::new();
        for p in parts {
            match p.md5.as_deref().and_then(|h| {
                (0..16)
                    .map(|i| u8::from_str_radix(h.get(i * 2..i * 2 + 2)?, 16).ok())
                    .collect::<Option<Vec<u8>>>()
            }) {
                Some(bytes) => md5.update(bytes),
                None => {
                    return Ok(Check {
                        description: format!(
                            "{parts_checked}size only: a resumed part has no MD5 recorded"
                        ),
                        by_digest: false,
                    });
                }
            }
        }
        let expected = format!("{}-{}", hex(&md5.finalize()), parts.len());
        if *etag != expected {
            return Err(target_failure(
                ctx,
                item,
                format!("target ETag {etag}, expected {expected} from the parts' MD5s"),
            ));
        }
        return Ok(Check {
            description: format!("{parts_checked}ETag matched the MD5s of the parts sent"),
            by_digest: true,
        });
    }
    Ok(Check {
        description: format!("{parts_checked}size only: the target reports no checksum"),
        by_digest: false,
    })
}
