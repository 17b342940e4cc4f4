//! Learning multipart sources' part layouts at plan time. For every `multipart` item whose
//! source ETag is a multipart ETag (`...-N`), or not listed, and every `single` item whose
//! listed source ETag is one (a composite object below the multipart threshold: the AWS CLI
//! uploads everything from 8 MiB in 8 MiB parts): HEAD the source with checksum mode (its
//! checksum and kind, its encryption), then GetObjectAttributes `ObjectParts` for every part's
//! size, or, where that is refused or not implemented, HEAD `partNumber=1` (part 1's size and
//! `x-amz-mp-parts-count`). That is 1-2 requests per such object at plan time (3 when
//! GetObjectAttributes is refused). A consistent layout ([`layout::accept`]) becomes the item's
//! part size and part count, and a `single` item with one becomes `multipart`, so its parts
//! can be checked against the source's composite or multipart ETag; otherwise the item keeps
//! its route and airlock's own parts, and the reason is recorded. A source with a full-object
//! CRC keeps airlock's parts too (that CRC is checked whatever the parts, and by a single GET),
//! and needs no layout request. Never fails the plan: a source that answers none of this is
//! copied as before. A `single` item whose listing gives no ETag (s3s-fs lists none) is not
//! looked at: a HEAD for every small object would cost more than it tells. moto lists no
//! `ObjectParts` and compares a part HEAD's `If-Match` with the part's own MD5 (see [`part`]).
//!
//! Depends on `aws` (the source client) and `plan`.

use aws_sdk_s3::types::ObjectAttributes;
use futures::StreamExt as _;

use crate::aws::SideClient;
use crate::aws::objects::{SourceObject, head_source};
use crate::plan::layout::{Reported, accept, etag_parts};
use crate::plan::{ChecksumAlgorithm, Plan, PlanItem, Route, SourceHop, SourceLayout, Summary};

/// Source objects looked at at once.
const CONCURRENCY: usize = 16;

/// Parts GetObjectAttributes lists per page (S3's maximum).
const PAGE_PARTS: i32 = 1000;

/// Give every multipart item of `plan` with a multipart source ETag its [`SourceLayout`].
pub(crate) async fn learn(source: &SideClient, plan: &mut Plan) {
    if !plan.items.iter().any(wants_layout) {
        return;
    }
    futures::stream::iter(plan.items.iter_mut())
        .for_each_concurrent(CONCURRENCY, |item| learn_item(source, item))
        .await;
    plan.summary = Summary::of(&plan.items, &plan.settings);
}

/// [`learn`] for one item (the streaming plan's stage, before the item is counted): an item
/// with a multipart source ETag gets its [`SourceLayout`], and the source's part size where
/// that layout is used (a `single` item then becomes `multipart`); any other item is left as
/// it is, without a request.
pub(crate) async fn learn_item(source: &SideClient, item: &mut PlanItem) {
    if !wants_layout(item) {
        return;
    }
    let Some(layout) = layout_of(source, item).await else {
        return;
    };
    if let Some(part_size) = layout.part_size {
        item.route = Route::Multipart;
        item.part_size = part_size;
        item.parts = layout.parts;
    } else if item.route == Route::Single && matches!(layout.check, SourceHop::FullObject { .. }) {
        // A single GET checks the full-object CRC: nothing to say.
        return;
    }
    item.source_layout = Some(layout);
}

/// An item without a layout yet whose source ETag is multipart: a multipart item also when
/// its ETag is unknown (some stores list none), a single item only when the listing says so.
pub(crate) fn wants_layout(item: &PlanItem) -> bool {
    let etag = item.source_etag.as_deref();
    let multipart_etag = match item.route {
        Route::Multipart => etag.is_none_or(|e| etag_parts(e).is_some()),
        Route::Single => item.size > 0 && etag.is_some_and(|e| etag_parts(e).is_some()),
        Route::Skip => false,
    };
    multipart_etag && item.split.is_none() && item.source_layout.is_none()
}

/// The layout of one source object, or the reason it cannot be used; `None` when the source
/// turns out not to be a multipart object, or cannot be HEADed (the copy will say why).
async fn layout_of(source: &SideClient, item: &PlanItem) -> Option<SourceLayout> {
    let version = item.source_version_id.as_deref();
    let head = match head_source(source, &item.source_key, version).await {
        Ok(head) => head,
        Err(e) => {
            tracing::debug!(key = %item.source_key, error = %e, "HEAD for the part layout failed");
            return None;
        }
    };
    let etag = head.etag.as_str();
    let etag_count = etag_parts(etag)?;
    let refused = |reason: String| {
        Some(SourceLayout {
            part_size: None,
            parts: etag_count,
            check: SourceHop::SizeOnly { reason },
        })
    };
    if item
        .source_etag
        .as_deref()
        .is_some_and(|planned| planned != etag)
        || head.size != item.size
    {
        return refused("the source changed while planning".into());
    }
    // A full-object CRC is checked whatever the parts: airlock keeps its own (the configured
    // part size), and needs no layout.
    let check = hop_for(&head, etag_count);
    if let SourceHop::FullObject { .. } = check {
        return Some(SourceLayout {
            part_size: None,
            parts: etag_count,
            check,
        });
    }
    let reported = match attributes(source, item, etag).await {
        Some(sizes) => Reported::Sizes(sizes),
        None => match first_and_last_part(source, item, etag).await {
            Ok(Some((size, count, last))) => Reported::FirstPart { size, count, last },
            Ok(None) => {
                return refused("the source does not report its part layout".into());
            }
            Err(e) => return refused(format!("HEAD partNumber failed: {e}")),
        },
    };
    match accept(&reported, item.size, etag_count) {
        Ok(part_size) => Some(SourceLayout {
            part_size: Some(part_size),
            parts: etag_count,
            check,
        }),
        Err(why) => refused(format!("its part layout cannot be used ({why})")),
    }
}

/// What the source hop is checked with when the copy uses the source's parts.
fn hop_for(head: &SourceObject, etag_count: u32) -> SourceHop {
    match &head.checksum {
        Some(c) if c.full_object && crate::engine::digest::crc_algorithm(c.algorithm).is_some() => {
            SourceHop::FullObject {
                algorithm: c.algorithm,
            }
        }
        Some(c) if !c.full_object && c.algorithm != ChecksumAlgorithm::Crc64nvme => {
            SourceHop::Composite {
                algorithm: c.algorithm,
            }
        }
        _ if !head.kms_encrypted && etag_count > 0 => SourceHop::MultipartEtag,
        Some(c) => SourceHop::SizeOnly {
            reason: format!(
                "its {} checksum cannot be recomputed here and its ETag is not an MD5 (SSE-KMS)",
                format!("{:?}", c.algorithm).to_lowercase()
            ),
        },
        None => SourceHop::SizeOnly {
            reason: "no checksum, and its ETag is not an MD5 (SSE-KMS or SSE-C)".into(),
        },
    }
}

/// Every part's size from GetObjectAttributes, or `None` when the source does not answer it
/// (not implemented, not allowed, or no parts listed).
async fn attributes(source: &SideClient, item: &PlanItem, etag: &str) -> Option<Vec<u64>> {
    let mut sizes = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = source
            .client
            .get_object_attributes()
            .bucket(&source.bucket)
            .key(&item.source_key)
            .set_version_id(item.source_version_id.clone())
            .object_attributes(ObjectAttributes::ObjectParts)
            .object_attributes(ObjectAttributes::Etag)
            .max_parts(PAGE_PARTS)
            .set_part_number_marker(marker.take())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                tracing::debug!(key = %item.source_key, error = %e, "GetObjectAttributes refused; trying HEAD partNumber=1");
                return None;
            }
        };
        if out.e_tag().map(crate::aws::listing::unquote).as_deref() != Some(etag) {
            return None;
        }
        let parts = out.object_parts()?;
        sizes.extend(
            parts
                .parts()
                .iter()
                .map(|p| p.size().unwrap_or(0).max(0) as u64),
        );
        match (parts.is_truncated(), parts.next_part_number_marker()) {
            (Some(true), Some(next)) if !next.is_empty() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    (!sizes.is_empty()).then_some(sizes)
}

/// Part 1's size, the part count and the last part's size from HEAD `partNumber=1` and
/// `partNumber=N`; `Ok(None)` when the source answers without a part count (it ignores
/// `partNumber`). The parts between are not seen: an uneven layout there fails the copy's
/// check (never a wrong "verified"); GetObjectAttributes, where allowed, sees every part.
async fn first_and_last_part(
    source: &SideClient,
    item: &PlanItem,
    etag: &str,
) -> Result<Option<(u64, u32, Option<u64>)>, String> {
    let Some((size, count)) = part(source, item, etag, 1).await? else {
        return Ok(None);
    };
    let last = match count {
        0 | 1 => None,
        n => part(source, item, etag, n).await?.map(|(size, _)| size),
    };
    Ok(Some((size, count, last)))
}

/// HEAD `partNumber=number`: that part's size and the part count, if reported.
///
/// S3 compares `If-Match` with the object's ETag. moto compares it with the part's own MD5
/// and answers 412 carrying that part ETag: then the HEAD is repeated without `If-Match` and
/// taken only if it answers the same part ETag (an object replaced meanwhile fails its
/// ranged GETs, which stay pinned to `etag`).
async fn part(
    source: &SideClient,
    item: &PlanItem,
    etag: &str,
    number: u32,
) -> Result<Option<(u64, u32)>, String> {
    let number = i32::try_from(number).unwrap_or(i32::MAX);
    let head = |if_match: Option<&str>| {
        source
            .client
            .head_object()
            .bucket(&source.bucket)
            .key(&item.source_key)
            .set_version_id(item.source_version_id.clone())
            .set_if_match(if_match.map(str::to_string))
            .part_number(number)
            .send()
    };
    let out = match head(Some(etag)).await {
        Ok(out) => out,
        Err(e) => {
            let part_etag = e
                .raw_response()
                .filter(|r| r.status().as_u16() == 412)
                .and_then(|r| r.headers().get("etag"))
                .map(crate::aws::listing::unquote)
                .filter(|p| p != etag && etag_parts(p).is_none());
            let Some(part_etag) = part_etag else {
                return Err(short_error(&e));
            };
            let out = head(None).await.map_err(|e| short_error(&e))?;
            if out.e_tag().map(crate::aws::listing::unquote) != Some(part_etag) {
                return Err(format!("part {number} changed while planning"));
            }
            out
        }
    };
    let count = out.parts_count().and_then(|n| u32::try_from(n).ok());
    let size = out.content_length().and_then(|n| u64::try_from(n).ok());
    Ok(count.zip(size).map(|(count, size)| (size, count)))
}

/// An SDK error in one line: the HTTP status and the error code, not the raw response.
fn short_error<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_s3::error::ProvideErrorMetadata as _;
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code();
    match (status, code) {
        (Some(status), Some(code)) => format!("{code} (HTTP {status})"),
        (None, Some(code)) => code.to_string(),
        (Some(status), None) => format!("HTTP {status}"),
        (None, None) => aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}
