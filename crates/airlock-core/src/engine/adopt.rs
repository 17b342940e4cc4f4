//! Resuming a multipart upload from the target alone (a new machine, an empty data dir): the
//! state object under `[target] state_prefix` (`state`) says which upload airlock opened for
//! the target key and for which source version; ListParts says which parts the target holds.
//! Parts with the planned size and a CRC64NVME count as done, so only the others are sent, and
//! the combined CRC64NVME for Complete and the source check use the listed checksums. Listed
//! parts carry no source-algorithm CRC and no MD5, so checks that need those say they could not
//! run (`complete`). An upload for another source version or another part layout is aborted.
//! With no state record, uploads of the key that airlock did not open (another tool's) are
//! named ([`ForeignUpload`]) and left alone: never adopted, never aborted.
//!
//! May depend on `context`, `upload`, `verify`, `journal`, `state` and `events` of the engine.

use super::context::RunContext;
use super::events::{ForeignUpload, LeftUpload, ObjectId};
use super::journal::{JournalHeader, JournalPart};
use super::state::{self, UploadState};
use super::upload::Upload;
use super::verify::SourceExpectation;
use crate::aws::objects::{self, SourceObject};
use crate::error::Class;
use crate::plan::{ChecksumAlgorithm, PlanItem};

/// The upload the target's state object records for this source version, with the parts the
/// target lists; None (start a new upload) when there is none, it is gone, or it is for
/// another version or layout (then it is aborted and its state object deleted).
pub(crate) async fn adopt(
    ctx: &RunContext,
    id: ObjectId,
    item: &PlanItem,
    source: &SourceObject,
    (expectation, composite): (&SourceExpectation, Option<ChecksumAlgorithm>),
    (part_size, parts): (u64, u32),
) -> Option<Upload> {
    let target = &ctx.sides.target;
    let prefix = &ctx.write.state_prefix;
    let Some(recorded) = state::load(target, prefix, &item.target_key).await else {
        name_foreign(ctx, id, &item.target_key).await;
        return None;
    };
    let layout = (part_size, parts, composite);
    if let Some(why) = mismatch(ctx, item, source, &recorded, layout) {
        tracing::info!(key = %item.target_key, upload_id = %recorded.upload_id, "the target's recorded upload is for {why}: aborting it and starting over");
        abort_stale(ctx, id, &item.target_key, &recorded.upload_id, "recorded").await;
        state::forget(target, prefix, &item.target_key).await;
        return None;
    }
    let listed = match objects::list_part_details(target, &item.target_key, &recorded.upload_id)
        .await
    {
        Ok(listed) => listed,
        Err(e) => {
            tracing::info!(key = %item.target_key, upload_id = %recorded.upload_id, error = %e, "the recorded upload cannot be listed (gone?): starting over");
            if e.class() == Class::NotFound {
                state::forget(target, prefix, &item.target_key).await;
            }
            return None;
        }
    };
    let done: Vec<JournalPart> = listed
        .into_iter()
        .filter(|p| {
            (1..=parts).contains(&p.part)
                && p.size == part_bytes(source.size, part_size, p.part)
                && match composite {
                    Some(_) => p.checksum.is_some(),
                    None => !p.crc64nvme.is_empty(),
                }
        })
        .map(|part| JournalPart::listed(part, composite))
        .collect();
    journal_again(ctx, item, source, &recorded, &done);
    tracing::info!(key = %item.target_key, resumed = done.len(), parts, "resuming the upload recorded at the target");
    Some(Upload {
        upload_id: recorded.upload_id,
        source: source.clone(),
        size: source.size,
        part_size,
        parts,
        expectation: expectation.clone(),
        done,
        own: None,
        composite,
    })
}

/// Name every in-progress upload of `key` (exactly) at the target: with no journal entry and
/// no state record, none of them is airlock's. One ListMultipartUploads (prefix = the key); a
/// target that refuses or cannot list only logs, the copy goes on.
async fn name_foreign(ctx: &RunContext, id: ObjectId, key: &str) {
    let uploads = match objects::list_uploads(&ctx.sides.target, key).await {
        Ok(uploads) => uploads,
        Err(e) => {
            tracing::debug!(%key, error = %e, "could not list the key's in-progress uploads");
            return;
        }
    };
    for upload in uploads.into_iter().filter(|u| u.key == key) {
        let found = ForeignUpload {
            key: upload.key,
            upload_id: upload.upload_id,
        };
        tracing::info!("{}", found.warning());
        ctx.retry.observer.foreign_upload(id, found);
    }
}

/// Abort an upload airlock will not resume (`whose`: "journaled" or "recorded"). One that is
/// gone already (NoSuchUpload) is not left; one the target refuses to abort is reported as left.
pub(crate) async fn abort_stale(
    ctx: &RunContext,
    id: ObjectId,
    key: &str,
    upload_id: &str,
    whose: &str,
) {
    let target = &ctx.sides.target;
    if let Err(e) = objects::abort_multipart(target, key, upload_id).await
        && e.class() != Class::NotFound
    {
        tracing::warn!(%key, %upload_id, error = %e, "could not abort the {whose} upload; 'airlock uploads abort' removes it");
        let left = LeftUpload {
            key: key.to_string(),
            upload_id: upload_id.to_string(),
            error: e.to_string(),
        };
        ctx.retry.observer.upload_left(id, left);
    }
}

/// Why the recorded upload does not fit this copy, in words; None when it does.
fn mismatch(
    ctx: &RunContext,
    item: &PlanItem,
    source: &SourceObject,
    recorded: &UploadState,
    (part_size, parts, composite): (u64, u32, Option<ChecksumAlgorithm>),
) -> Option<String> {
    if recorded.source_key != item.source_key
        || recorded.source_etag != source.etag
        || recorded.source_version_id != item.source_version_id
        || recorded.size != source.size
    {
        return Some(format!(
            "another source version (ETag '{}', now '{}')",
            recorded.source_etag, source.etag
        ));
    }
    if recorded.part_size != part_size || recorded.parts != parts {
        return Some(format!(
            "another part size ({} bytes, now {part_size})",
            recorded.part_size
        ));
    }
    let mode = super::upload::mode_name(ctx.write_mode_name(), composite);
    (recorded.checksum != mode).then(|| {
        format!(
            "another checksum mode ('{}', now '{mode}')",
            recorded.checksum
        )
    })
}

/// Bytes of part `part` of an object of `size` bytes in parts of `part_size`.
fn part_bytes(size: u64, part_size: u64, part: u32) -> u64 {
    let first = u64::from(part.saturating_sub(1)) * part_size;
    size.saturating_sub(first).min(part_size)
}

/// Write the adopted upload into this machine's journal, so the parts sent from now on are
/// journaled and a later run here takes the fast path.
fn journal_again(
    ctx: &RunContext,
    item: &PlanItem,
    source: &SourceObject,
    recorded: &UploadState,
    done: &[JournalPart],
) {
    let Some(journal) = &ctx.journal else {
        return;
    };
    let header = JournalHeader {
        source_bucket: ctx.sides.source.bucket.clone(),
        source_key: item.source_key.clone(),
        source_etag: source.etag.clone(),
        size: source.size,
        target_bucket: ctx.sides.target.bucket.clone(),
        target_key: item.target_key.clone(),
        upload_id: recorded.upload_id.clone(),
        part_size: recorded.part_size,
        parts: recorded.parts,
    };
    let written = journal.start(&header).and_then(|()| {
        done.iter()
            .try_for_each(|p| journal.record(&item.target_key, p))
    });
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not journal the adopted upload");
    }
}

#[cfg(test)]
mod tests {
    use super::part_bytes;

    #[test]
    fn the_last_part_is_the_rest() {
        assert_eq!(part_bytes(12, 5, 1), 5);
        assert_eq!(part_bytes(12, 5, 3), 2);
        assert_eq!(part_bytes(10, 5, 2), 5);
    }
}
