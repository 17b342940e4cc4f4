//! The single-object path: one GET streamed into one PUT, with checks on both hops
//! ([`copy_single`]), for objects below the multipart threshold. An object whose check fails
//! after the PUT is removed from the target when it is still the one written (`removal`).
//!
//! May depend on `context`, `retry`, `verify`, `removal`, `stream`, `relay`, `digest` and
//! `events` of the engine; not on the multipart or split paths, nor on the scheduler.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_types::body::SdkBody;
use tokio_util::sync::CancellationToken;

use super::context::RunContext;
use super::events::{ObjectId, Verification};
use super::relay::RelayBody;
use super::removal::{Written, remove_if_ours};
use super::retry::UnitError;
use super::stream::{blame, chunked, digests_of, pinned_etag, source_tags};
use super::verify::{self, SourceExpectation, TargetCheck};
use crate::aws::objects::{self, PutBody, SourceObject, WriteParams};
use crate::config::WriteChecksum;
use crate::error::Error;
use crate::plan::{ChecksumAlgorithm, PlanItem, SourceHop};

/// Result of a `single` copy.
pub(crate) struct SingleDone {
    pub bytes: u64,
    pub verification: Verification,
    pub attempts: u32,
}

/// GET -> PUT for one object, streamed, with checks on both hops.
pub(crate) async fn copy_single(
    ctx: Arc<RunContext>,
    id: ObjectId,
    item: PlanItem,
    progress: Arc<AtomicU64>,
    cancel: CancellationToken,
) -> Result<SingleDone, UnitError> {
    let mut attempts = 0;
    let tagging = source_tags(&ctx, id, &item, &cancel, &mut attempts).await?;
    let ctx_ref = &ctx;
    // Its HEAD runs inside the engine's retries: the single-shot client, not a second layer
    // of SDK retries.
    let check = TargetCheck {
        target: &ctx.single_shot.target,
        mode: ctx.transfer.verify,
        write: ctx.write_mode(),
    };
    let (bytes, verification) = ctx
        .retry
        .run(id, 1, &cancel, &mut attempts, |_| {
            let (item, progress, tagging) = (&item, progress.clone(), tagging.as_deref());
            async move {
                progress.store(0, Ordering::Relaxed);
                let get = objects::get_stream(
                    &ctx_ref.sides.source,
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
                let mut expectation =
                    SourceExpectation::of(&get.object, ctx_ref.transfer.verify, true);
                // A composite source below the threshold whose layout could not be used: the
                // plan's reason.
                if let Some(SourceHop::SizeOnly { reason }) =
                    item.source_layout.as_ref().map(|l| &l.check)
                    && !expectation.description.by_digest
                    && ctx_ref.transfer.verify != crate::config::VerifyMode::Size
                {
                    expectation.description = verify::Check::weak(format!("size only: {reason}"));
                }
                // `checksum = "md5"`: the PUT's ETag is checked against the MD5 of the bytes.
                expectation.digest_plan.md5 |= check.write == WriteChecksum::Md5;
                let relay = RelayBody::new(
                    get.body,
                    get.length,
                    expectation.digest_plan,
                    ctx_ref.gauge.clone(),
                    ctx_ref.transfer.read_timeout,
                )
                .throttle(ctx_ref.throttle.clone())
                .expect(expectation.expect.clone())
                .progress(progress);
                let outcome = relay.outcome();
                let params = WriteParams {
                    attributes: ctx_ref
                        .transfer
                        .copy_metadata
                        .then_some(&get.object.attributes),
                    copied_from_etag: &get.object.etag,
                    options: &ctx_ref.write,
                    tagging,
                };
                let put = objects::put_stream(
                    &ctx_ref.sides.target,
                    &item.target_key,
                    put_body(
                        relay,
                        get.length,
                        expectation.full_crc,
                        &get.object,
                        check.write,
                    ),
                    &params,
                )
                .await
                .map_err(|e| blame(e, &outcome, ctx_ref, &item.source_key))?;
                let digests = digests_of(&outcome, get.length)?;
                let checked = check
                    .single(
                        &item.target_key,
                        &put,
                        &digests,
                        get.length,
                        expectation
                            .full_crc
                            .filter(|_| check.write == WriteChecksum::Trailer),
                    )
                    .await;
                let target = match checked {
                    Ok(target) => target,
                    Err(e) => {
                        let written = Written {
                            key: &item.target_key,
                            source_etag: &get.object.etag,
                            etag: put.etag.as_deref(),
                        };
                        return Err(remove_if_ours(check.target, written, e).await);
                    }
                };
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

/// The body of a single PUT. `trailer`: when the source promised a full-object CRC, the relay
/// goes plain and the target checks that same value (a header); otherwise it is framed as
/// aws-chunked with our CRC64NVME trailer. `md5` / `none`: always plain, with `Content-MD5`
/// (md5 only) when the source's ETag is the MD5 of its bytes, so the target refuses bad bytes.
fn put_body(
    relay: RelayBody,
    length: u64,
    source_crc: Option<(ChecksumAlgorithm, u64)>,
    source: &SourceObject,
    write: WriteChecksum,
) -> PutBody {
    let (checksum, content_md5) = match (write, source_crc) {
        (WriteChecksum::Md5, _) => (None, content_md5(source)),
        (WriteChecksum::None, _) => (None, None),
        (_, Some((algorithm, value))) => (
            Some((algorithm, super::digest::encode(algorithm, value))),
            None,
        ),
        (_, None) => return PutBody::Chunked(chunked(relay, length)),
    };
    PutBody::Plain(objects::PlainUpload {
        body: SdkBody::from_body_1_x(relay),
        length,
        checksum,
        content_md5,
    })
}

/// Base64 of the source's MD5, when its ETag is one.
fn content_md5(source: &SourceObject) -> Option<String> {
    use base64::Engine as _;
    if !source.etag_is_md5() {
        return None;
    }
    let bytes = (0..16)
        .map(|i| u8::from_str_radix(source.etag.get(i * 2..i * 2 + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}
