//! Feeding a run's engine as its plan is made or read ([`crate::engine::PlanFeed`]), so that
//! object count does not matter to `run`:
//! - a fresh run ([`fresh`]) plans streaming ([`super::super::stream_plan`]) straight into the
//!   engine: copying starts while both listings continue;
//! - a saved format 5 plan ([`saved`]) is read line by line on the blocking pool (every line
//!   checked, and the totals at the end), cut to this shard while it streams, rechecked
//!   against the target by a merge with a streamed target listing (both are in target-key
//!   order; HEADs where the listing cannot decide, in an order-keeping window), given its
//!   multipart sources' part layouts, and fed: the first copy starts before the file is read.
//!
//! A feed that fails (a bad line, totals that do not add up, a listing error) ends with an
//! error entry: the engine starts nothing more and the run ends halted with that message.
//! Plans that need the whole plan (formats 1-4, split objects, a saved plan's deletions) are
//! not fed from here: [`super::prepare`] reads them whole.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::super::manifest::ManifestTap;
use super::super::plan_file::{self, Opened};
use super::super::plan_store;
use super::super::shard::StreamShard;
use super::super::shard_report::ItemsDigest;
use super::super::stream_plan::{self, ChannelSink, Joined, Outcome, Pages, Tap};
use crate::aws::Sides;
use crate::config::Settings;
use crate::engine::{FeedSender, FeedTotals, PlanFeed, feed_channel};
use crate::error::{Error, Result};
use crate::plan::lines::{Checker, Entry, PlanHeader};
use crate::plan::{self, ObjectInfo, PlanSide, Route};

/// Items rechecked (HEADs) and given their layouts at once, in order.
const RECHECK_CONCURRENCY: usize = 32;

/// A feed and the task that fills it.
pub(super) struct Feeding {
    pub feed: PlanFeed,
    /// Aborted when the run ends (a blocking feeder ends at its next send instead).
    pub task: JoinHandle<()>,
    /// Saved plans: items the recheck found already at the target (now skips), so far.
    pub already_there: Option<Arc<AtomicUsize>>,
}

/// A fresh run: plan streaming into the engine. A listing found out of key order before
/// anything was fed is planned in memory and fed from there; found later, the run halts with
/// the listing's message (run `airlock plan -o plan.json` and `run --plan` on such a store).
pub(super) fn fresh(sides: &Sides, settings: &Settings, manifest: Option<ManifestTap>) -> Feeding {
    let (mut tx, entries) = feed_channel();
    let (sides, settings) = (sides.clone(), settings.clone());
    let feed = PlanFeed {
        source: PlanSide::of(&settings.source),
        target: PlanSide::of(&settings.target),
        totals: None,
        entries,
    };
    // The streaming plan's future is not `Send` (its windows borrow the planner), so it runs
    // on a blocking thread that drives it on this runtime.
    let runtime = tokio::runtime::Handle::current();
    let task = tokio::task::spawn_blocking(move || {
        runtime.block_on(async move {
            let mut sink = ChannelSink {
                tx: &mut tx,
                sent: 0,
                tap: Tap { manifest, items: 0 },
            };
            let outcome =
                stream_plan::stream_plan_into(&sides, &settings, &settings.transfer, &mut sink)
                    .await;
            let (sent, mut tap) = (sink.sent, sink.tap);
            let error = match outcome {
                Ok(Outcome::Planned { .. }) => {
                    let _ = tx.finish().await;
                    return;
                }
                Ok(Outcome::OutOfOrder(why)) if sent == 0 => {
                    tracing::warn!(%why, "planning in memory");
                    match super::super::inventory::plan(&sides, &settings).await {
                        Ok((plan, _)) => {
                            let entries = (plan.items.into_iter().map(Entry::Item))
                                .chain(plan.deletions.into_iter().map(Entry::Deletion));
                            for entry in entries {
                                tap.entry(&entry);
                                if tx.send(entry).await.is_err() {
                                    return;
                                }
                            }
                            let _ = tx.finish().await;
                            return;
                        }
                        Err(e) => e,
                    }
                }
                Ok(Outcome::OutOfOrder(why)) => Error::plan(format!(
                    "{why}; make the plan first ('airlock plan -o plan.json') and run it with \
                     'airlock run --plan plan.json'"
                )),
                Err(e) => e,
            };
            // A closed channel is a run that ended: nobody to tell.
            let _ = tx.fail(error).await;
        })
    });
    Feeding {
        feed,
        task,
        already_there: None,
    }
}

/// What [`saved`] made of a plan file.
pub(super) enum Saved {
    /// Fed streaming; `deletions_left_out` deletions of the plan were left out (`copy_only`).
    Fed {
        feeding: Box<Feeding>,
        deletions_left_out: u64,
    },
    /// Not a plan this feeds (an older format, split objects, deletions to make): read it
    /// whole.
    Whole,
}

/// How [`saved`] reads a plan.
pub(super) struct Reading {
    /// Cut to this shard (index, count) as it streams.
    pub shard: Option<(u32, u32)>,
    /// Leave the plan's deletions out.
    pub copy_only: bool,
    /// Compute the whole plan's id ([`super::super::shard_report::plan_id`]) while reading
    /// and send it here at the end of the file (also when the run stopped reading before).
    pub plan_id: Option<oneshot::Sender<String>>,
}

/// A saved plan at `path`, fed streaming when it is format 5 without split objects and
/// without deletions to make (see the module docs).
pub(super) async fn saved(
    path: &Path,
    settings: &Settings,
    sides: &Sides,
    reading: Reading,
    manifest: Option<ManifestTap>,
) -> Result<Saved> {
    let Reading {
        shard,
        copy_only,
        plan_id,
    } = reading;
    let local = plan_store::fetch(path, sides).await?;
    let shown = path.to_path_buf();
    let (local, opened) = {
        let shown = shown.clone();
        tokio::task::spawn_blocking(move || {
            let opened = plan_file::open(local.path(), &shown);
            (local, opened)
        })
        .await
        .map_err(|e| Error::internal(format!("reading the plan: {e}")))?
    };
    let lines = match opened? {
        Opened::Json(_) => return Ok(Saved::Whole),
        Opened::Lines(lines) if lines.header().split_objects > 0 => return Ok(Saved::Whole),
        Opened::Lines(lines) => *lines,
    };
    let header = lines.header().clone();
    let deletes = header.deletions.objects;
    if deletes > 0 && !copy_only {
        if shard.is_some() {
            return Err(super::deletions_cannot_be_sharded(deletes as usize));
        }
        return Ok(Saved::Whole);
    }
    // The sides are checked now, before anything is fed.
    Checker::new(header.clone(), &shown, settings)?;
    let totals = shard.is_none().then(|| totals_of(&header));
    let (raw_tx, raw_rx) = mpsc::channel::<Result<Entry>>(crate::engine::FEED_CAPACITY);
    let reader_settings = settings.clone();
    tokio::task::spawn_blocking(move || {
        let _local = local; // a downloaded plan stays on disk while it is read
        read_lines(lines, &shown, &reader_settings, shard, plan_id, &raw_tx);
    });
    let (tx, entries) = feed_channel();
    let already_there = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(recheck_into(
        raw_rx,
        tx,
        sides.clone(),
        settings.clone(),
        already_there.clone(),
        Tap { manifest, items: 0 },
    ));
    Ok(Saved::Fed {
        feeding: Box::new(Feeding {
            feed: PlanFeed {
                source: header.source,
                target: header.target,
                totals,
                entries,
            },
            task,
            already_there: Some(already_there),
        }),
        deletions_left_out: deletes,
    })
}

/// The totals a format 5 header announces (before the recheck turns some into skips).
fn totals_of(header: &PlanHeader) -> FeedTotals {
    FeedTotals {
        objects: header.summary.copy_objects(),
        bytes: header.summary.copy_bytes(),
        skipped: header.summary.skip.objects,
    }
}

/// On the blocking pool: every line of the plan, checked, this shard's items to `tx` (no
/// deletions: they are fed only when none are to be made); then the totals' check. When the
/// run stops reading, stops, unless the plan's id is asked for: then it reads on to the end
/// for the id alone.
fn read_lines(
    lines: plan_file::PlanLines,
    shown: &Path,
    settings: &Settings,
    shard: Option<(u32, u32)>,
    plan_id: Option<oneshot::Sender<String>>,
    tx: &mpsc::Sender<Result<Entry>>,
) {
    let mut cut =
        shard.map(|(index, count)| StreamShard::new(index, count, &lines.header().summary));
    let mut checker = match Checker::new(lines.header().clone(), shown, settings) {
        Ok(checker) => checker,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    let mut digest = plan_id.as_ref().map(|_| ItemsDigest::new());
    let mut lines = lines;
    for entry in lines.by_ref() {
        let checked = entry.and_then(|entry| checker.check(&entry).map(|()| entry));
        let entry = match checked {
            Ok(Entry::Item(item)) => item,
            Ok(Entry::Deletion(_)) => continue,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        if let Some(digest) = digest.as_mut() {
            digest.push(&entry);
        }
        if cut.as_mut().is_some_and(|cut| !cut.owns(&entry)) {
            continue;
        }
        if tx.blocking_send(Ok(Entry::Item(entry))).is_err() {
            // The run ended: only the id is still wanted, from the lines as they are.
            let Some(mut digest) = digest else { return };
            for entry in lines {
                match entry {
                    Ok(Entry::Item(item)) => digest.push(&item),
                    Ok(Entry::Deletion(_)) => {}
                    Err(_) => return,
                }
            }
            if let Some(id) = plan_id {
                let _ = id.send(digest.finish());
            }
            return;
        }
    }
    if let Err(e) = checker.finish() {
        let _ = tx.blocking_send(Err(e));
        return;
    }
    if let (Some(id), Some(digest)) = (plan_id, digest) {
        let _ = id.send(digest.finish());
    }
}

/// The recheck of a saved plan, streaming: each item to copy meets what the target lists at
/// its key (a merge: both in key order); one the target already holds, decided as `plan`
/// decides (the compare mode, HEADs where the listing cannot tell), becomes a skip, so a
/// rerun of a finished plan or shard sends nothing. Multipart items then learn their source's
/// part layout. In order, into the engine's feed.
async fn recheck_into(
    raw: mpsc::Receiver<Result<Entry>>,
    mut tx: FeedSender,
    sides: Sides,
    settings: Settings,
    already_there: Arc<AtomicUsize>,
    mut tap: Tap,
) {
    let target = Pages::spawn(&sides.target, &settings.target.prefix);
    let compare = settings.transfer.compare;
    let joined = futures::stream::unfold(
        (raw, target, false),
        |(mut raw, mut target, done)| async move {
            if done {
                return None;
            }
            let joined = match raw.recv().await? {
                Ok(Entry::Item(item)) => join(item, &mut target).await,
                Ok(Entry::Deletion(_)) => return Some((None, (raw, target, false))),
                Err(e) => Err(e),
            };
            let failed = joined.is_err();
            Some((Some(joined), (raw, target, failed)))
        },
    )
    .filter_map(futures::future::ready);
    let sides = Arc::new(sides);
    let decided = joined
        .map(move |joined| {
            let (sides, already) = (sides.clone(), already_there.clone());
            async move {
                let mut item = match joined {
                    Ok((item, None)) => item,
                    Ok((mut item, Some(pair))) => {
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
                            already.fetch_add(1, Ordering::Relaxed);
                        }
                        item
                    }
                    Err(e) => return Err(e),
                };
                super::super::layouts::learn_item(&sides.source, &mut item).await;
                Ok(Entry::Item(item))
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
            Some(Ok(entry)) => entry,
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

/// An item with what the target lists at its key, when the item is to be copied and the
/// target has something there.
type Met = (plan::PlanItem, Option<Joined>);

async fn join(item: plan::PlanItem, target: &mut Pages) -> Result<Met> {
    if item.route == Route::Skip {
        return Ok((item, None));
    }
    // Target objects before this key have no item here (earlier items, other shards').
    loop {
        let behind = target
            .peek()
            .await
            .map_err(|stop| stop.into_error())?
            .is_some_and(|t| t.key.as_str() < item.target_key.as_str());
        if !behind {
            break;
        }
        target.next().await.map_err(|stop| stop.into_error())?;
    }
    let matched = target
        .peek()
        .await
        .map_err(|stop| stop.into_error())?
        .is_some_and(|t| t.key == item.target_key);
    if !matched {
        return Ok((item, None));
    }
    let listed = target.next().await.map_err(|stop| stop.into_error())?;
    let source = ObjectInfo {
        key: item.source_key.clone(),
        size: item.size,
        modified_ms: item.source_modified_ms,
        etag: item.source_etag.clone(),
        version_id: item.source_version_id.clone(),
        ..Default::default()
    };
    let pair = Joined::Pair {
        source,
        target_key: item.target_key.clone(),
        target: listed,
    };
    Ok((item, Some(pair)))
}
