//! Feeding a run's engine as its plan is made or read ([`crate::engine::PlanFeed`]), so that
//! object count does not matter to `run`:
//! - a fresh run ([`fresh`]) plans streaming ([`super::super::stream_plan`]) straight into the
//!   engine: copying starts while both listings continue;
//! - a saved format 5 plan ([`saved`]) is read line by line on the blocking pool (every line
//!   checked, and the totals at the end), cut to this shard while it streams, rechecked
//!   against the target by a merge with a streamed target listing (both are in target-key
//!   order; HEADs where the listing cannot decide, in an order-keeping window; a mirror
//!   plan's deletions also against a streamed source listing, [`super::recheck_feed`]), given
//!   its multipart sources' part layouts, and fed: the first copy starts before the file is
//!   read. Its deletions go to the engine in file order, which spools them until every copy
//!   succeeded.
//!
//! A feed that fails (a bad line, totals that do not add up, a listing error) ends with an
//! error entry: the engine starts nothing more and the run ends halted with that message
//! (and, a copy not having finished, deletes nothing). Plans that need the whole plan
//! (formats 1-4, split objects, the deletions of a plan pinned to a moment) are not fed from
//! here: [`super::prepare`] reads them whole.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::super::manifest::ManifestTap;
use super::super::plan_file::{self, Opened};
use super::super::plan_store;
use super::super::shard::StreamShard;
use super::super::shard_report::ItemsDigest;
use super::super::stream_plan::{self, ChannelSink, Outcome, Tap};
use super::recheck_feed::{Counts, Merge, recheck_into};
use crate::aws::Sides;
use crate::config::Settings;
use crate::engine::{FeedTotals, PlanFeed, feed_channel, feed_channel_every_entry};
use crate::error::{Error, Result};
use crate::plan::PlanSide;
use crate::plan::lines::{Checker, Entry, PlanHeader};

/// A feed and the task that fills it.
pub(super) struct Feeding {
    pub feed: PlanFeed,
    /// Aborted when the run ends (a blocking feeder ends at its next send instead).
    pub task: JoinHandle<()>,
    /// Saved plans: what the recheck changed so far (items already at the target, deletions
    /// dropped).
    pub rechecked: Option<Arc<Counts>>,
}

/// A fresh run: plan streaming into the engine. A listing found out of key order before
/// anything was fed is planned in memory and fed from there; found later, the run halts with
/// the listing's message (run `airlock plan -o plan.json` and `run --plan` on such a store).
///
/// `dry`: a dry run's feed (every skipped item as itself). `header` is told the plan's header
/// when it is planned (a dry run prints it; a `--from-list` run names the missing keys).
pub(super) fn fresh(
    sides: &Sides,
    settings: &Settings,
    manifest: Option<ManifestTap>,
    dry: bool,
    header: Option<oneshot::Sender<PlanHeader>>,
) -> Feeding {
    let (mut tx, entries) = if dry {
        feed_channel_every_entry()
    } else {
        feed_channel()
    };
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
                Ok(Outcome::Planned {
                    header: planned, ..
                }) => {
                    if let Some(header) = header {
                        let _ = header.send(*planned);
                    }
                    let _ = tx.finish().await;
                    return;
                }
                Ok(Outcome::OutOfOrder(why)) if sent == 0 => {
                    tracing::warn!(%why, "planning in memory");
                    match super::super::inventory::plan(&sides, &settings).await {
                        Ok((plan, _)) => {
                            if let Some(header) = header {
                                let _ = header.send(PlanHeader::of(&plan));
                            }
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
        rechecked: None,
    }
}

/// What [`saved`] made of a plan file.
pub(super) enum Saved {
    /// Fed streaming; `deletions_left_out` deletions of the plan were left out (`copy_only`).
    Fed {
        feeding: Box<Feeding>,
        deletions_left_out: u64,
        /// The plan file's header (as written: before the cut and the recheck).
        header: Box<PlanHeader>,
    },
    /// Not a plan this feeds (an older format, split objects, deletions of a plan pinned to a
    /// moment): read it whole.
    Whole,
}

/// How [`saved`] reads a plan.
pub(super) struct Reading {
    /// Cut to this shard (index, count) as it streams.
    pub shard: Option<(u32, u32)>,
    /// Leave the plan's deletions out.
    pub copy_only: bool,
    /// Compute the whole plan's id ([`super::super::shard_report::plan_id_of`]) while reading
    /// and send it here at the end of the file (also when the run stopped reading before).
    pub plan_id: Option<oneshot::Sender<String>>,
    /// A dry run's feed: every skipped item as itself.
    pub every_entry: bool,
    /// This process made the plan a moment ago from the same listings (a fresh shard's
    /// temporary plan): not rechecked against the target, which it would list a second time,
    /// and cut by its source objects alone, as the other shards' own plans are.
    pub just_made: bool,
}

/// A saved plan at `path`, fed streaming when it is format 5 without split objects (and,
/// when it deletes, not pinned to a moment; see the module docs).
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
        every_entry,
        just_made,
    } = reading;
    // An `s3://` plan is read as its GET body arrives.
    let raw = plan_store::incoming::open(path, sides).await?;
    let shown = path.to_path_buf();
    let opened = {
        let shown = shown.clone();
        tokio::task::spawn_blocking(move || plan_file::open_reader(raw, &shown))
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
    let deleting = deletes > 0 && !copy_only;
    if deleting {
        if shard.is_some() {
            return Err(super::deletions_cannot_be_sharded(deletes as usize));
        }
        // A pinned plan's deletions are rechecked against the source at its moment.
        if header.version_at.is_some() {
            return Ok(Saved::Whole);
        }
    }
    // The sides are checked now, before anything is fed.
    Checker::new(header.clone(), &shown, settings)?;
    let totals = shard.is_none().then(|| totals_of(&header));
    let (raw_tx, raw_rx) = mpsc::channel::<Result<Entry>>(crate::engine::FEED_CAPACITY);
    let reader_settings = settings.clone();
    tokio::task::spawn_blocking(move || {
        let reader = Reader {
            shard,
            by_source: just_made,
            deletions: deleting,
            plan_id,
        };
        read_lines(lines, &shown, &reader_settings, reader, &raw_tx);
    });
    let (tx, entries) = if every_entry {
        feed_channel_every_entry()
    } else {
        feed_channel()
    };
    let counts = Arc::new(Counts::default());
    let task = tokio::spawn(recheck_into(
        raw_rx,
        tx,
        sides.clone(),
        settings.clone(),
        Merge {
            target: !just_made || deleting,
            deletions: deleting,
        },
        counts.clone(),
        Tap { manifest, items: 0 },
    ));
    Ok(Saved::Fed {
        feeding: Box::new(Feeding {
            feed: PlanFeed {
                source: header.source.clone(),
                target: header.target.clone(),
                totals,
                entries,
            },
            task,
            rechecked: (!just_made).then_some(counts),
        }),
        deletions_left_out: if deleting { 0 } else { deletes },
        header: Box::new(header),
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

/// How [`read_lines`] reads.
struct Reader {
    shard: Option<(u32, u32)>,
    /// Cut by the source objects alone (see [`StreamShard`]), and the id of those: a plan
    /// just made.
    by_source: bool,
    /// Send the deletions too (they are to be made).
    deletions: bool,
    plan_id: Option<oneshot::Sender<String>>,
}

/// On the blocking pool: every line of the plan, checked, this shard's items (and the
/// deletions, when they are to be made) to `tx`, in file order; then the totals' check. When
/// the run stops reading, stops, unless the plan's id is asked for: then it reads on to the
/// end for the id alone.
fn read_lines(
    lines: plan_file::PlanLines,
    shown: &Path,
    settings: &Settings,
    reader: Reader,
    tx: &mpsc::Sender<Result<Entry>>,
) {
    let Reader {
        shard,
        by_source,
        deletions,
        plan_id,
    } = reader;
    let summary = &lines.header().summary;
    let mut cut = shard.map(|(index, count)| StreamShard::new(index, count, summary, by_source));
    let mut checker = match Checker::new(lines.header().clone(), shown, settings) {
        Ok(checker) => checker,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    let mut digest = plan_id.as_ref().map(|_| ItemsDigest::new(by_source));
    let mut lines = lines;
    for entry in lines.by_ref() {
        let checked = entry.and_then(|entry| checker.check(&entry).map(|()| entry));
        let entry = match checked {
            Ok(Entry::Item(item)) => item,
            Ok(Entry::Deletion(deletion)) if deletions => {
                if tx.blocking_send(Ok(Entry::Deletion(deletion))).is_err() {
                    return;
                }
                continue;
            }
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
