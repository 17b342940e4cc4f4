//! The transfer engine: executes a [`Plan`] with bounded concurrency and a bounded memory
//! budget that does not depend on object size, retries with backoff, backs off on SlowDown,
//! verifies both hops, and journals multipart uploads so a killed run resumes.
//!
//! `Engine::start` runs a plan in hand; `Engine::start_stream` runs a [`PlanFeed`] (the plan's
//! sides and totals, then its entries on a bounded channel), so copying starts before a big
//! plan is read or listed to the end, and the scheduler holds only the objects it admitted.
//! Both return an [`EngineHandle`] with a command sender, one event stream,
//! `join()` and `abort()`:
//! - `join()` waits for the run to end and returns its [`RunSummary`].
//! - `abort()` cancels every request now, aborts every open multipart upload
//!   (AbortMultipartUpload), removes their journal entries, and returns the summary.
//! - Dropping the handle cancels the run too, but leaves open multipart uploads and their
//!   journal entries in place, so a later run of the same copy resumes them.
//! - [`Command::Stop`] is the graceful stop (Ctrl-C): nothing new starts, in-flight requests
//!   finish, the journal is kept.
//!
//! Imports no UI crate: the TUI and the headless reporter consume [`Event`]s.
//!
//! # A one-way chain
//! Each module imports only modules below it; a test (`layering`) reads the sources and fails
//! on an import cycle.
//! - At the bottom: `retry` (policy, `UnitError`, and the observer that hears of retries,
//!   SlowDowns and successes), then `context` (what a run's units share: clients, settings,
//!   throttle, buffer gauge, journal, and the run's retry), over the leaves `events`,
//!   `journal`, `digest`, `relay`, `removal`, `probe`, `chunked`, `throttle`, `window`, `backoff`, `feed` and `mirror`.
//! - `verify` (needs a target client and a verify mode, not a run), `upload` (a multipart
//!   upload ready for its parts), `stream` (what the paths share), then `complete`.
//! - The paths, none importing another: `single` (one GET into one PUT), `multipart`
//!   (prepare or resume, copy each part) and `split` (open, join and finalize an upload that
//!   several shards fill).
//! - `scheduler`: one task that owns the run's state and chooses each object's path.
//! - This root: [`Engine::start`] and the [`EngineHandle`].

mod adopt;
mod backoff;
mod chunked;
mod complete;
mod context;
pub mod digest;
mod events;
mod feed;
pub mod journal;
mod mirror;
mod multipart;
mod probe;
mod relay;
mod removal;
mod retry;
mod scheduler;
mod single;
mod source_parts;
mod split;
mod state;
mod stream;
mod throttle;
mod upload;
mod verify;
mod window;

#[cfg(test)]
mod layering;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

pub use context::EngineOptions;
pub use events::{
    Command, Event, ForeignUpload, LeftOut, LeftUpload, ObjectId, RunSummary, SUMMARY_LIST_LIMIT,
    SkippedDeletions, Verification, WriteOutcome,
};
pub use feed::{
    FEED_BATCH, FEED_CAPACITY, Fed, FeedBatch, FeedClosed, FeedSender, FeedTotals,
    LOOKAHEAD_MIN_SLOTS, LOOKAHEAD_PER_SLOT, PlanFeed, feed_channel, feed_channel_every_entry,
};
pub use journal::Journal;
pub use relay::BufferGauge;
pub use split::{Finalized, finalize, open_split};
pub use state::recorded_upload_id;

use context::RunContext;
use scheduler::{Feed, RunObserver, Scheduler};

use crate::aws::Sides;
use crate::error::{Error, Result};
use crate::plan::{Plan, PlanSide, STREAM_BUFFER};

/// Names one copy (source and target buckets and endpoints) for its journal directory.
pub fn journal_key(source: &PlanSide, target: &PlanSide) -> String {
    let endpoint = |s: &PlanSide| {
        s.endpoint_url
            .clone()
            .unwrap_or_else(|| format!("aws:{}", s.region))
    };
    format!(
        "{}|{}|{}|{}",
        endpoint(source),
        source.bucket,
        endpoint(target),
        target.bucket
    )
}

/// Sends commands to a running engine; cheap to clone.
#[derive(Debug, Clone)]
pub struct CommandSender(mpsc::UnboundedSender<Command>);

impl CommandSender {
    /// Send a command; ignored once the run is over.
    pub fn send(&self, command: Command) {
        let _ = self.0.send(command);
    }
}

/// A running engine. See the module docs for `join`, `abort` and drop.
pub struct EngineHandle {
    commands: CommandSender,
    events: Option<mpsc::UnboundedReceiver<Event>>,
    task: Option<JoinHandle<RunSummary>>,
    abort: CancellationToken,
    gauge: Arc<BufferGauge>,
    /// The bandwidth cap, adjustable while the run goes.
    throttle: Arc<throttle::Throttle>,
    /// Cancels the run when the handle is dropped.
    _drop_guard: DropGuard,
}

/// Entry point.
pub struct Engine;

impl Engine {
    /// Start executing `plan` on a tokio runtime. Skipped items are counted, not touched.
    pub fn start(plan: Plan, sides: Sides, options: EngineOptions) -> Result<EngineHandle> {
        let totals = FeedTotals::of(&plan.items);
        let feed = Feed::Memory(plan.items.into_iter());
        let started = Started {
            source: &plan.source,
            target: &plan.target,
            feed,
            stream: None,
            totals: Some(totals),
            deletions: plan.deletions,
        };
        start(started, sides, options)
    }

    /// Start executing a streamed plan (see [`PlanFeed`]): its items are admitted as the
    /// scheduler has room, so the run holds state only for objects in progress.
    pub fn start_stream(
        feed: PlanFeed,
        sides: Sides,
        options: EngineOptions,
    ) -> Result<EngineHandle> {
        let started = Started {
            source: &feed.source,
            target: &feed.target,
            feed: Feed::Stream(Vec::new().into_iter()),
            stream: Some(feed.entries),
            totals: feed.totals,
            deletions: Vec::new(),
        };
        start(started, sides, options)
    }
}

/// What both entry points start the scheduler with.
struct Started<'a> {
    source: &'a PlanSide,
    target: &'a PlanSide,
    feed: Feed,
    stream: Option<mpsc::Receiver<Result<FeedBatch>>>,
    totals: Option<FeedTotals>,
    deletions: Vec<crate::plan::Deletion>,
}

fn start(started: Started<'_>, sides: Sides, options: EngineOptions) -> Result<EngineHandle> {
    let journal = match &options.journal_dir {
        Some(dir) => Some(Journal::open(
            dir,
            &journal_key(started.source, started.target),
        )?),
        None => None,
    };
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (note_tx, note_rx) = mpsc::unbounded_channel();
    // Each unit in flight may hold one stream buffer: the budget caps the slots.
    let memory_slots = (options.transfer.memory_limit.0 / STREAM_BUFFER.0).max(1) as usize;
    // Units report retries, SlowDowns and successes to the scheduler through the observer.
    let observer = Arc::new(RunObserver {
        events: event_tx.clone(),
        notes: note_tx,
    });
    let ctx = Arc::new(RunContext::new(
        sides,
        options.transfer,
        options.write,
        journal,
        observer,
    ));
    let (gauge, throttle) = (ctx.gauge.clone(), ctx.throttle.clone());
    let run_cancel = CancellationToken::new();
    let abort = CancellationToken::new();
    let scheduler = Scheduler::new(
        ctx,
        event_tx,
        started.feed,
        started.totals,
        memory_slots,
        options.linger,
        run_cancel.clone(),
        abort.clone(),
    );
    let scheduler = scheduler.with_deletions(mirror::Pending {
        deletions: started.deletions,
        confirmed: options.confirm_delete,
        spool: None,
    });
    let task = tokio::spawn(scheduler.run(command_rx, note_rx, started.stream));
    Ok(EngineHandle {
        commands: CommandSender(command_tx),
        events: Some(event_rx),
        task: Some(task),
        abort,
        gauge,
        throttle,
        _drop_guard: run_cancel.drop_guard(),
    })
}

impl EngineHandle {
    pub fn commands(&self) -> CommandSender {
        self.commands.clone()
    }

    pub fn send(&self, command: Command) {
        self.commands.send(command);
    }

    /// The event stream (once; later calls return None).
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.events.take()
    }

    /// Change the run's bandwidth cap now, in bytes per second (None: no cap).
    pub fn set_bandwidth_limit(&self, rate: Option<u64>) {
        self.throttle.set_rate(rate.unwrap_or(0));
    }

    /// Bytes held in engine buffers now, and the most ever held at once.
    pub fn buffered_bytes(&self) -> (u64, u64) {
        (self.gauge.current(), self.gauge.peak())
    }

    /// Wait for the run to end. Dropping this future drops the handle (see module docs).
    pub async fn join(mut self) -> Result<RunSummary> {
        let task = self
            .task
            .take()
            .ok_or_else(|| Error::internal("engine joined twice"))?;
        task.await
            .map_err(|e| Error::internal(format!("the engine task ended abnormally: {e}")))
    }

    /// Cancel everything, abort open multipart uploads, and return the summary.
    pub async fn abort(self) -> Result<RunSummary> {
        self.abort.cancel();
        self.join().await
    }
}
