//! The recheck of a saved plan as it streams ([`recheck_into`]), between the plan's reader
//! and the engine's feed: items to copy the target already holds become skips, and a mirror
//! plan's deletions that are no longer safe are dropped, as [`crate::job::recheck`] decides
//! for a plan in memory, but by merging the plan (in target-key order) with streamed listings
//! of the target (and, for deletions, of the source) instead of holding either.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;

use super::super::recheck::{DeletionRecheck, Rechecked, overwritten};
use super::super::stream_plan::{self, Joined, Pages, Tap};
use crate::aws::Sides;
use crate::config::Settings;
use crate::engine::FeedSender;
use crate::error::Result;
use crate::plan::lines::Entry;
use crate::plan::{self, Deletion, ObjectInfo, Route};

/// Items rechecked (HEADs) and given their layouts at once, in order.
const RECHECK_CONCURRENCY: usize = 32;

/// The listings [`recheck_into`] merges the plan with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Merge {
    /// The target's: items it already holds become skips, and deletions are checked against
    /// it. Off for a plan this process has just made from the same listing (a fresh shard's
    /// temporary plan, which never deletes).
    pub target: bool,
    /// The source's, for the plan's deletions (they are to be made).
    pub deletions: bool,
}

/// What the streamed recheck changed so far (told when the run ends).
#[derive(Debug, Default)]
pub(in crate::job) struct Counts {
    already_there: AtomicUsize,
    source_back: AtomicUsize,
    target_changed: AtomicUsize,
    target_gone: AtomicUsize,
}

impl Counts {
    pub(in crate::job) fn rechecked(&self) -> Rechecked {
        Rechecked {
            already_there: self.already_there.load(Ordering::Relaxed),
            deletions: DeletionRecheck {
                source_back: self.source_back.load(Ordering::Relaxed),
                target_changed: self.target_changed.load(Ordering::Relaxed),
                target_gone: self.target_gone.load(Ordering::Relaxed),
            },
        }
    }
}

/// The recheck of a saved plan, streaming: each item to copy meets what the target lists at
/// its key (a merge: both in key order); one the target already holds, decided as `plan`
/// decides (the compare mode, HEADs where the listing cannot tell), becomes a skip, so a
/// rerun of a finished plan or shard sends nothing. Multipart items then learn their source's
/// part layout. A deletion (`merge.deletions`: the plan's are to be made) is dropped when the
/// source has its object again, or the target's object is gone or not the one the plan saw.
/// In order, into the engine's feed.
pub(super) async fn recheck_into(
    raw: mpsc::Receiver<Result<Entry>>,
    mut tx: FeedSender,
    sides: Sides,
    settings: Settings,
    merge: Merge,
    counts: Arc<Counts>,
    mut tap: Tap,
) {
    let lists = Lists {
        raw,
        target: (merge.target).then(|| Pages::spawn(&sides.target, &settings.target.prefix)),
        source: (merge.deletions).then(|| Pages::spawn(&sides.source, &settings.source.prefix)),
        prefixes: (
            settings.source.prefix.clone(),
            settings.target.prefix.clone(),
        ),
        counts: counts.clone(),
        failed: false,
    };
    let compare = settings.transfer.compare;
    let joined = futures::stream::unfold(lists, |mut lists| async move {
        if lists.failed {
            return None;
        }
        let step = match lists.raw.recv().await? {
            Ok(Entry::Item(item)) => match lists.target.as_mut() {
                Some(target) => join(item, target).await.map(Step::Item),
                None => Ok(Step::Item((item, None))),
            },
            Ok(Entry::Deletion(deletion)) => lists.deletion(deletion).await.map(Step::Deletion),
            Err(e) => Err(e),
        };
        lists.failed = step.is_err();
        Some((step, lists))
    });
    let sides = Arc::new(sides);
    let decided = joined
        .map(move |step| {
            let (sides, counts) = (sides.clone(), counts.clone());
            async move {
                let mut item = match step? {
                    Step::Deletion(kept) => return Ok(kept.map(Entry::Deletion)),
                    Step::Item((item, None)) => item,
                    Step::Item((mut item, Some(pair))) => {
                        let (pair, _) = stream_plan::enrich(&sides, compare, pair)
                            .await
                            .map_err(|stop| stop.into_error())?;
                        if let Joined::Pair {
                            source,
                            target: Some(listed),
                            ..
                        } = &pair
                            && let Ok(why) = plan::same_object(source, listed, compare)
                        {
                            item.route = Route::Skip;
                            item.reason = format!("already at the target ({why})");
                            item.part_size = 0;
                            item.parts = 0;
                            item.split = None;
                            counts.already_there.fetch_add(1, Ordering::Relaxed);
                        }
                        item
                    }
                };
                super::super::layouts::learn_item(&sides.source, &mut item).await;
                Ok(Some(Entry::Item(item)))
            }
        })
        .buffered(RECHECK_CONCURRENCY);
    let mut decided = std::pin::pin!(decided);
    loop {
        // What is batched goes now when the next entry is not ready (HEADs, a page).
        let next = match decided.next().now_or_never() {
            Some(next) => next,
            None => {
                if tx.flush().await.is_err() {
                    return;
                }
                decided.next().await
            }
        };
        let entry = match next {
            Some(Ok(Some(entry))) => entry,
            Some(Ok(None)) => continue,
            Some(Err(e)) => {
                let _ = tx.fail(e).await;
                return;
            }
            None => {
                let _ = tx.finish().await;
                return;
            }
        };
        tap.entry(&entry);
        if tx.send(entry).await.is_err() {
            return;
        }
    }
}

/// One entry of the plan met with the listings: an item, or a deletion still to make (None:
/// dropped).
#[expect(
    clippy::large_enum_variant,
    reason = "one step at a time moves through an order-keeping window; a box would allocate per item"
)]
enum Step {
    Item(Met),
    Deletion(Option<Deletion>),
}

/// The plan's entries and the listings they are merged with.
struct Lists {
    raw: mpsc::Receiver<Result<Entry>>,
    /// Not listed for a plan just made from the same listing.
    target: Option<Pages>,
    /// Listed only when the plan's deletions are to be made.
    source: Option<Pages>,
    /// The source's and the target's prefixes.
    prefixes: (String, String),
    counts: Arc<Counts>,
    failed: bool,
}

impl Lists {
    /// A deletion, kept only while the source has no object at its key and the target still
    /// holds the one the plan saw (see [`crate::job::recheck`]).
    async fn deletion(&mut self, deletion: Deletion) -> Result<Option<Deletion>> {
        let count = |n: &AtomicUsize| {
            n.fetch_add(1, Ordering::Relaxed);
        };
        if let Some(source) = self.source.as_mut() {
            let (source_prefix, target_prefix) = &self.prefixes;
            let relative = (deletion.target_key.strip_prefix(target_prefix.as_str()))
                .unwrap_or(&deletion.target_key);
            let key = format!("{source_prefix}{relative}");
            if listed_at(source, &key).await?.is_some() {
                count(&self.counts.source_back);
                return Ok(None);
            }
        }
        // Deletions always come with the target's listing (see `Merge`).
        let Some(target) = self.target.as_mut() else {
            return Ok(Some(deletion));
        };
        match listed_at(target, &deletion.target_key).await? {
            None => {
                count(&self.counts.target_gone);
                Ok(None)
            }
            Some(now) if overwritten(&deletion, &now) => {
                count(&self.counts.target_changed);
                Ok(None)
            }
            Some(_) => Ok(Some(deletion)),
        }
    }
}

/// The object a listing holds at `key`, taken; the objects before it are passed over (both
/// the listing and the plan are in key order).
async fn listed_at(pages: &mut Pages, key: &str) -> Result<Option<ObjectInfo>> {
    loop {
        let behind = (pages.peek().await)
            .map_err(|stop| stop.into_error())?
            .is_some_and(|o| o.key.as_str() < key);
        if !behind {
            break;
        }
        pages.next().await.map_err(|stop| stop.into_error())?;
    }
    let matched = (pages.peek().await)
        .map_err(|stop| stop.into_error())?
        .is_some_and(|o| o.key == key);
    if !matched {
        return Ok(None);
    }
    pages.next().await.map_err(|stop| stop.into_error())
}

/// An item with what the target lists at its key, when the item is to be copied and the
/// target has something there.
type Met = (plan::PlanItem, Option<Joined>);

async fn join(item: plan::PlanItem, target: &mut Pages) -> Result<Met> {
    if item.route == Route::Skip {
        return Ok((item, None));
    }
    // Target objects before this key have no item here (earlier items, other shards').
    let Some(listed) = listed_at(target, &item.target_key).await? else {
        return Ok((item, None));
    };
    let listed = Some(listed);
    let source = item.source_info();
    let pair = Joined::Pair {
        source,
        target_key: item.target_key.clone(),
        target: listed,
    };
    Ok((item, Some(pair)))
}
