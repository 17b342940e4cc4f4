//! A plan fed to the engine as a stream: the plan's sides and (when known) totals up front,
//! then its entries (items, then or among them mirror deletions) on a bounded channel, so a
//! run of millions of objects starts copying before the plan is read or listed to the end and
//! holds only what the scheduler admitted ([`super::Engine::start_stream`]). Entries travel in
//! batches ([`FeedSender`]), a run of skips as its count. A leaf: depends on `plan` and
//! `error` only.

use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::plan::lines::Entry;
use crate::plan::{PlanItem, PlanSide, Route};

/// Entries a feeder may send ahead of the scheduler (the channel holds this many entries' worth
/// of batches).
pub const FEED_CAPACITY: usize = 1024;

/// Entries per message at most: a feeder sends its entries in batches (its first batches
/// smaller, 1, 2, 4, ... so the first object starts at once), and a run of skipped items as
/// their count, so the scheduler wakes once per batch, not once per entry.
pub const FEED_BATCH: usize = 256;

/// The scheduler admits at most this many objects per slot of its concurrency limit...
pub const LOOKAHEAD_PER_SLOT: usize = 4;
/// ...counting the limit as at least this many slots.
pub const LOOKAHEAD_MIN_SLOTS: usize = 16;

/// What a plan will move, when it is known before its items are read (a plan in memory, the
/// header of a format 5 plan file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedTotals {
    /// Objects to copy (not skips).
    pub objects: u64,
    pub bytes: u64,
    pub skipped: u64,
}

impl FeedTotals {
    /// The totals of these items.
    pub fn of(items: &[PlanItem]) -> Self {
        let mut totals = FeedTotals::default();
        for item in items {
            if item.route == Route::Skip {
                totals.skipped += 1;
            } else {
                totals.objects += 1;
                totals.bytes += item.size;
            }
        }
        totals
    }
}

/// One piece of a feed's batch: an entry, or `count` skipped items in a row (each takes its
/// id, as a skip item would).
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "entries move through batches by value; a box would allocate once per entry"
)]
pub enum Fed {
    Entry(Entry),
    Skipped { count: u64 },
}

/// What a feed's channel carries: entries in order, or the error that ends the feed.
pub type FeedBatch = Vec<Fed>;

/// A plan as a stream of entries; see the module docs. Items get their [`super::ObjectId`]
/// by position among the items (deletions do not count; skips do), as in a plan in memory.
/// An `Err` ends the feed: the run starts nothing more and ends halted with that message (the
/// entries before it are copied). Dropping the sender ends the feed.
pub struct PlanFeed {
    pub source: PlanSide,
    pub target: PlanSide,
    /// Known up front (RunStarted announces them), or None (RunStarted says 0; the run
    /// announces the totals as they grow, [`super::Event::PlanGrew`]).
    pub totals: Option<FeedTotals>,
    pub entries: mpsc::Receiver<Result<FeedBatch>>,
}

/// The run stopped reading its feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedClosed;

impl From<FeedClosed> for Error {
    fn from(_: FeedClosed) -> Self {
        Error::internal("the run stopped reading its plan")
    }
}

/// The sending side of a feed: batches entries (see [`FEED_BATCH`]). Call [`Self::flush`]
/// when the feeder is about to wait for its own input, and [`Self::finish`] (or
/// [`Self::fail`]) at its end; a sender dropped with entries unsent still sends them.
pub struct FeedSender {
    tx: mpsc::Sender<Result<FeedBatch>>,
    batch: FeedBatch,
    /// Entries in `batch` (a skip count holds many).
    entries: usize,
    /// Entries the current batch may hold (grows to [`FEED_BATCH`]).
    limit: usize,
    /// Send a run of skipped items as their count (the engine's feed); false for a reader that
    /// shows every item (`run --dry-run`).
    count_skips: bool,
}

impl FeedSender {
    /// Queue one entry; sends the batch when it is full.
    pub async fn send(&mut self, entry: Entry) -> std::result::Result<(), FeedClosed> {
        self.push(entry);
        if self.entries >= self.limit {
            self.flush().await?;
        }
        Ok(())
    }

    /// [`Self::send`] from a blocking thread.
    pub fn blocking_send(&mut self, entry: Entry) -> std::result::Result<(), FeedClosed> {
        self.push(entry);
        if self.entries >= self.limit {
            let batch = self.take();
            self.tx.blocking_send(Ok(batch)).map_err(|_| FeedClosed)?;
        }
        Ok(())
    }

    fn push(&mut self, entry: Entry) {
        self.entries += 1;
        if let Entry::Item(item) = &entry
            && item.route == Route::Skip
            && self.count_skips
        {
            if let Some(Fed::Skipped { count }) = self.batch.last_mut() {
                *count += 1;
            } else {
                self.batch.push(Fed::Skipped { count: 1 });
            }
            return;
        }
        self.batch.push(Fed::Entry(entry));
    }

    fn take(&mut self) -> FeedBatch {
        self.entries = 0;
        self.limit = (self.limit * 2).min(FEED_BATCH);
        std::mem::take(&mut self.batch)
    }

    /// Send what is queued now.
    pub async fn flush(&mut self) -> std::result::Result<(), FeedClosed> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = self.take();
        self.tx.send(Ok(batch)).await.map_err(|_| FeedClosed)
    }

    /// Send what is queued: the feed ends well.
    pub async fn finish(mut self) -> std::result::Result<(), FeedClosed> {
        self.flush().await
    }

    /// Send what is queued, then `error`: the feed ends with it.
    pub async fn fail(mut self, error: Error) -> std::result::Result<(), FeedClosed> {
        self.flush().await?;
        self.tx.send(Err(error)).await.map_err(|_| FeedClosed)
    }
}

impl Drop for FeedSender {
    fn drop(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        if let Err(mpsc::error::TrySendError::Full(message)) = self.tx.try_send(Ok(batch))
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let tx = self.tx.clone();
            runtime.spawn(async move {
                let _ = tx.send(message).await;
            });
        }
    }
}

/// A channel for a [`PlanFeed`]'s entries: [`FEED_CAPACITY`] entries' worth of batches.
pub fn feed_channel() -> (FeedSender, mpsc::Receiver<Result<FeedBatch>>) {
    channel(true)
}

/// [`feed_channel`] for a reader that shows every entry: skipped items travel as themselves,
/// never as a count.
pub fn feed_channel_every_entry() -> (FeedSender, mpsc::Receiver<Result<FeedBatch>>) {
    channel(false)
}

fn channel(count_skips: bool) -> (FeedSender, mpsc::Receiver<Result<FeedBatch>>) {
    let (tx, rx) = mpsc::channel((FEED_CAPACITY / FEED_BATCH).max(1));
    let sender = FeedSender {
        tx,
        batch: Vec::new(),
        entries: 0,
        limit: 1,
        count_skips,
    };
    (sender, rx)
}
