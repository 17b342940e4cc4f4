//! The two steps around a sharded run that splits big objects across shards, as orchestration:
//! open one shared multipart upload per object at or above `split_above` and record it in the
//! plan ([`open_all`]), and complete and verify every split object once all shards have run
//! ([`finalize_all`]). A few uploads are opened or completed at once. Prints nothing and saves
//! no plan: `airlock prepare` / `airlock finalize` word each result and save the plan.
//!
//! Depends on `engine` (opening, completing and verifying one split object), `plan` and
//! `config`.

use futures::StreamExt;

use crate::aws::Sides;
use crate::config::{ByteSize, Settings};
use crate::engine::{EngineOptions, Finalized, finalize, open_split};
use crate::error::Result;
use crate::plan::{Plan, PlanItem, Route};

/// Uploads opened or completed at once.
const CONCURRENCY: usize = 8;

/// What [`open_all`] did.
pub struct Opened {
    /// Objects that already had an upload (an earlier prepare): kept, nothing opened.
    pub kept: usize,
    /// Per object tried, in the order the results came: its index in `plan.items`, and
    /// whether its upload was opened (then recorded in the item) or why not.
    pub results: Vec<(usize, Result<()>)>,
}

/// Open the shared upload of every `multipart` item at or above `split_above` that has none,
/// and record each opened upload (and the source ETag it is bound to) in its plan item.
pub async fn open_all(
    plan: &mut Plan,
    settings: &Settings,
    sides: &Sides,
    split_above: ByteSize,
) -> Opened {
    let todo: Vec<usize> = (0..plan.items.len())
        .filter(|&i| {
            let item = &plan.items[i];
            item.route == Route::Multipart && item.size >= split_above.0 && item.split.is_none()
        })
        .collect();
    let kept = plan.items.iter().filter(|i| i.split.is_some()).count();
    let options = EngineOptions::from_settings(settings);
    let opened: Vec<_> = futures::stream::iter(todo)
        .map(|i| {
            let (sides, options, item) = (sides.clone(), &options, plan.items[i].clone());
            async move { (i, open_split(sides, options, &item).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let results = opened
        .into_iter()
        .map(|(i, result)| {
            let recorded = result.map(|split| {
                let item = &mut plan.items[i];
                item.source_etag = Some(split.source_etag.clone());
                item.split = Some(split);
            });
            (i, recorded)
        })
        .collect();
    Opened { kept, results }
}

/// Complete and verify every split object of `plan`, in the order the results come.
pub async fn finalize_all<'plan>(
    plan: &'plan Plan,
    settings: &Settings,
    sides: &Sides,
) -> Vec<(&'plan PlanItem, Result<Finalized>)> {
    let split: Vec<&PlanItem> = plan.items.iter().filter(|i| i.split.is_some()).collect();
    let options = EngineOptions::from_settings(settings);
    futures::stream::iter(split)
        .map(|item| {
            let (sides, options) = (sides.clone(), &options);
            async move { (item, finalize(sides, options, item).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}
