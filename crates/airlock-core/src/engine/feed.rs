//! A plan fed to the engine as a stream: the plan's sides and (when known) totals up front,
//! then its entries (items, then or among them mirror deletions) on a bounded channel, so a
//! run of millions of objects starts copying before the plan is read or listed to the end and
//! holds only what the scheduler admitted ([`super::Engine::start_stream`]). A leaf: depends
//! on `plan` and `error` only.

use tokio::sync::mpsc;

use crate::error::Result;
use crate::plan::lines::Entry;
use crate::plan::{PlanItem, PlanSide, Route};

/// Entries a feeder may send ahead of the scheduler (the channel's capacity).
pub const FEED_CAPACITY: usize = 1024;

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

/// A plan as a stream of entries; see the module docs. Items get their [`super::ObjectId`]
/// by position among the items (deletions do not count), as in a plan in memory. An `Err`
/// entry ends the feed: the run starts nothing more and ends halted with that message (the
/// entries before it are copied). Dropping the sender ends the feed.
pub struct PlanFeed {
    pub source: PlanSide,
    pub target: PlanSide,
    /// Known up front (RunStarted announces them), or None (RunStarted says 0).
    pub totals: Option<FeedTotals>,
    pub entries: mpsc::Receiver<Result<Entry>>,
}

/// A channel for a [`PlanFeed`]'s entries, of [`FEED_CAPACITY`].
pub fn feed_channel() -> (mpsc::Sender<Result<Entry>>, mpsc::Receiver<Result<Entry>>) {
    mpsc::channel(FEED_CAPACITY)
}
