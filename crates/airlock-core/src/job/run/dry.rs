//! `airlock run --dry-run` on the real run's pipeline, without the engine: the plan is made or
//! read exactly as [`super::start`] feeds it (a fresh plan straight from the listings; a saved
//! format 5 plan read, cut to this shard and rechecked as it streams, [`super::feed`]), but its
//! entries go to the caller, who prints each as it comes; the totals are counted from the
//! entries and make the header [`DryFeed::finish`] gives at the end. Memory does not grow
//! with the number of objects: the caller's lines are written as they come, and a mirror
//! plan's deletions, printed after the items as a plan in memory prints them, wait in a
//! temporary file. Plans the run cannot stream (see [`super`]) are [`super::prepare`]d whole.
//! Depends on the rest of `job::run`, `engine`'s feed and `plan`; no UI crate.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::recheck_feed::Counts;
use super::{Notice, PlanSource, Prepared, RunOptions, feed, prepare};
use crate::aws::Sides;
use crate::config::{Settings, TransferMode};
use crate::engine::{Fed, FeedBatch};
use crate::error::{Error, Result};
use crate::plan::lines::{Entry, PlanHeader};
use crate::plan::{DeleteTotals, Deletion, Summary};

/// What a dry run gives the caller to print.
pub enum DryRun {
    /// A plan the run cannot stream, in memory (print it as a whole).
    Whole(Box<Prepared>),
    /// The plan's entries as they are made or read.
    Streamed(Box<DryFeed>),
}

/// Where the header of a streamed dry run comes from.
enum Base {
    /// A saved plan's header (settings, selection, warnings).
    Saved(Box<PlanHeader>),
    /// A fresh plan's, told when the listings end.
    Planned(oneshot::Receiver<PlanHeader>),
}

/// A dry run's entries, in the run's order (items first, then the deletions); see the
/// module docs.
pub struct DryFeed {
    entries: mpsc::Receiver<Result<FeedBatch>>,
    batch: std::vec::IntoIter<Fed>,
    /// Taken by [`Self::finish`].
    base: Option<Base>,
    /// `--mode copy` left a saved plan's deletions out: its header says copy.
    copy_only: bool,
    /// Counted from the items given so far.
    summary: Summary,
    items: u64,
    deletions: DeleteTotals,
    /// The deletions seen among the items, one JSON line each, until the items end.
    spool: Option<BufWriter<File>>,
    /// The spooled deletions, given once the items ended.
    replay: Option<std::io::Lines<BufReader<File>>>,
    /// The feed ended (then only the spooled deletions are left).
    ended: bool,
    rechecked: Option<Arc<Counts>>,
    /// The feeder; aborted when the dry run is dropped.
    task: JoinHandle<()>,
}

/// Make or read the plan of `source` as [`super::start`] would, for printing (see the module
/// docs). The manifest and the report of `options` are not written by a dry run.
pub async fn dry_run(
    settings: &Settings,
    sides: Sides,
    source: PlanSource,
    options: RunOptions,
    notice: &mut dyn FnMut(Notice<'_>),
) -> Result<DryRun> {
    if let (Some(inventory), PlanSource::Fresh) = (&settings.filter.inventory, &source) {
        let origin = super::super::s3_inventory::check(&sides, settings, inventory).await?;
        notice(Notice::Inventory(&origin));
    }
    let whole = async |source, options, notice: &mut dyn FnMut(Notice<'_>)| {
        let prepared = prepare(settings, sides.clone(), source, options, notice).await?;
        Ok(DryRun::Whole(Box::new(prepared)))
    };
    let (source, temp_plan) =
        super::fresh_shard_plan(settings, &sides, source, &options, notice).await?;
    let (feeding, base) = match &source {
        PlanSource::Fresh
            if super::stream_plan::can_stream(settings) && options.shard.is_none() =>
        {
            let (tx, rx) = oneshot::channel();
            let settings = super::copy_mode(settings, options.copy_only);
            let feeding = feed::fresh(&sides, &settings, None, true, Some(tx));
            (feeding, Base::Planned(rx))
        }
        PlanSource::Saved(path) => {
            let reading = feed::Reading {
                shard: options.shard.as_ref().map(|s| (s.index, s.count)),
                copy_only: options.copy_only,
                plan_id: None,
                every_entry: true,
                just_made: temp_plan.is_some(),
            };
            match feed::saved(path, settings, &sides, reading, None).await? {
                feed::Saved::Fed {
                    feeding,
                    deletions_left_out,
                    header,
                } => {
                    if deletions_left_out > 0 {
                        notice(Notice::DeletionsLeftOut {
                            deletions: deletions_left_out as usize,
                        });
                    }
                    (*feeding, Base::Saved(header))
                }
                feed::Saved::Whole => return whole(source, options, notice).await,
            }
        }
        PlanSource::Fresh => return whole(source, options, notice).await,
    };
    if let Some(shard) = &options.shard {
        tracing::info!(index = shard.index, count = shard.count, source = %shard.source, "dry run of one shard (streamed)");
        notice(Notice::Shard(shard));
    }
    Ok(DryRun::Streamed(Box::new(DryFeed {
        entries: feeding.feed.entries,
        batch: Vec::new().into_iter(),
        base: Some(base),
        copy_only: options.copy_only,
        summary: Summary::default(),
        items: 0,
        deletions: DeleteTotals::default(),
        spool: None,
        replay: None,
        ended: false,
        rechecked: feeding.rechecked,
        task: feeding.task,
    })))
}

impl DryFeed {
    /// The next entry: the items as they come, then the deletions; None at the end, an error
    /// where the plan failed (a listing error, a bad line of a saved plan).
    pub async fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            match self.batch.next() {
                Some(Fed::Entry(Entry::Item(item))) => {
                    self.summary.add(&item);
                    self.items += 1;
                    return Some(Ok(Entry::Item(item)));
                }
                Some(Fed::Entry(Entry::Deletion(deletion))) => {
                    self.deletions.objects += 1;
                    self.deletions.bytes += deletion.size;
                    if let Err(e) = self.hold(&deletion) {
                        return Some(Err(e));
                    }
                    continue;
                }
                Some(Fed::Skipped { .. }) => {
                    return Some(Err(Error::internal(
                        "a dry run's plan feed counted skipped items instead of giving them",
                    )));
                }
                None => {}
            }
            if self.ended {
                let line = self.replay.as_mut()?.next()?;
                return Some(
                    line.map_err(|e| Error::io(spool_name(), e))
                        .and_then(|line| {
                            serde_json::from_str::<Deletion>(&line).map_err(|e| {
                                Error::internal("reading back a spooled deletion").with_source(e)
                            })
                        })
                        .map(Entry::Deletion),
                );
            }
            match self.entries.recv().await {
                Some(Ok(batch)) => self.batch = batch.into_iter(),
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    self.ended = true;
                    if let Some(spool) = self.spool.take() {
                        match replay(spool) {
                            Ok(lines) => self.replay = Some(lines),
                            Err(e) => return Some(Err(e)),
                        }
                    }
                }
            }
        }
    }

    /// Keep a deletion for after the items.
    fn hold(&mut self, deletion: &Deletion) -> Result<()> {
        let spool = match &mut self.spool {
            Some(spool) => spool,
            None => {
                let file = tempfile::tempfile().map_err(|e| Error::io(spool_name(), e))?;
                self.spool.insert(BufWriter::new(file))
            }
        };
        let line = serde_json::to_string(deletion)
            .map_err(|e| Error::internal("spooling a deletion").with_source(e))?;
        writeln!(spool, "{line}").map_err(|e| Error::io(spool_name(), e))
    }

    /// The plan's header with the totals of the entries given (call after [`Self::next`]
    /// gave None): this shard's, after the recheck. Tells what a saved plan's recheck changed.
    pub async fn finish(mut self, notice: &mut dyn FnMut(Notice<'_>)) -> Result<PlanHeader> {
        if let Some(counts) = &self.rechecked {
            notice(Notice::Rechecked(counts.rechecked()));
        }
        let mut header = match self.base.take() {
            None => return Err(Error::internal("a dry run finished twice")),
            Some(Base::Saved(header)) => *header,
            Some(Base::Planned(rx)) => rx
                .await
                .map_err(|_| Error::internal("the plan ended without its totals"))?,
        };
        if self.copy_only && header.deletions.objects > 0 {
            header.settings.mode = TransferMode::Copy;
        }
        header.summary = std::mem::take(&mut self.summary).finish(&header.settings);
        header.items = self.items;
        header.deletions = self.deletions;
        header.split_objects = 0;
        // As a plan in memory's header: its inventory was told as a notice.
        header.inventory = None;
        Ok(header)
    }
}

impl Drop for DryFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The spooled deletions from their start.
fn replay(spool: BufWriter<File>) -> Result<std::io::Lines<BufReader<File>>> {
    let mut file = spool
        .into_inner()
        .map_err(|e| Error::io(spool_name(), e.into_error()))?;
    file.rewind().map_err(|e| Error::io(spool_name(), e))?;
    Ok(BufReader::new(file).lines())
}

/// How a spool error names the file (an unnamed temporary file).
fn spool_name() -> &'static std::path::Path {
    std::path::Path::new("a temporary file of the dry run's deletions")
}
