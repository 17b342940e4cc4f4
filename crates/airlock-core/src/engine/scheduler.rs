//! The scheduler: one task that owns all run state and starts units of work from one global
//! queue, so a huge object's parts and thousands of small objects share the same limits.
//!
//! A unit (single copy, multipart prepare, part copy, complete) holds one slot while it runs.
//! Slots in use never exceed `min(window, memory_limit / STREAM_BUFFER)`, where the window is
//! a fixed `concurrency = N`, halved on SlowDown and recovering on success, or with
//! `concurrency = "auto"` (the default) one that climbs while throughput grows and backs off
//! on SlowDown (see [`super::window`]). Parts of uploads already open go first, so few uploads
//! are open at once and a crash re-sends little. Units report back through the `JoinSet`; commands and notes arrive
//! on channels; byte progress is sampled on a tick.
//!
//! The plan comes as a feed ([`feed`]): a plan in memory, or a stream of entries whose items
//! are admitted only while the scheduler holds fewer than its lookahead
//! ([`super::feed::LOOKAHEAD_PER_SLOT`] objects per slot of the limit), so it holds state only
//! for admitted, unfinished objects; skipped items are counted, never held; a finished object
//! is dropped (the TUI's lingering engine keeps failed and cancelled ones for a retry).
//!
//! The scheduler chooses each object's path: the single-object copy, the multipart path
//! (prepare, parts, complete) or, for an item with a split upload, joining that upload.
//!
//! The top of the engine's chain: it may depend on every other module of the engine except
//! the engine's root (`mod.rs`), which starts it.

mod feed;
mod notes;
mod outcomes;
mod start;
mod state;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{Receiver, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub(super) use feed::Feed;
pub(super) use notes::{Note, RunObserver};
use state::{ObjectState, Objects, PartStatus, Status, UnitResult};

use super::context::RunContext;
use super::events::{Command, Event, ObjectId, RunSummary};
use super::feed::{FeedBatch, FeedTotals};
use super::mirror;
use super::window::Window;
use crate::error::Result;

/// How long an aborting run waits for AbortMultipartUpload calls.
const ABORT_GRACE: Duration = Duration::from_secs(30);

pub(super) struct Scheduler {
    ctx: Arc<RunContext>,
    /// Admitted objects not finished yet (see the module docs).
    objects: Objects,
    /// Lingering engine (TUI): failed and cancelled objects, kept for a retry command.
    kept: HashMap<ObjectId, ObjectState>,
    /// Where the plan's items come from, and how far it is read.
    feed: Feed,
    /// Known totals of the plan (RunStarted), if any.
    totals: Option<FeedTotals>,
    /// Items of the feed to copy (not skips) admitted so far.
    admitted: u64,
    /// What the feed's items add up to so far, and as last announced (a stream without
    /// totals up front: [`Event::PlanGrew`]).
    grown: FeedTotals,
    grown_sent: FeedTotals,
    /// The id of the feed's next item (its position among the items).
    next_id: ObjectId,
    /// `Command::CancelAll`: items admitted from now on are cancelled at once.
    cancel_rest: bool,
    /// `[target] checksum = "auto"` not decided yet: decided before the first write.
    write_mode_pending: bool,
    queue: VecDeque<ObjectId>,
    /// Multipart objects with parts still to start, oldest first.
    uploads: VecDeque<ObjectId>,
    /// Multipart objects whose parts are all in, waiting for a slot to complete.
    to_complete: VecDeque<ObjectId>,
    window: Window,
    /// Slots allowed by the memory budget.
    memory_slots: usize,
    in_flight: usize,
    paused: bool,
    /// Since when the run is paused, and the paused time before that: the summary's
    /// `paused_ms`, so averages leave out the time nothing was allowed to start.
    paused_since: Option<Instant>,
    paused_before: Duration,
    stopping: bool,
    /// Keep running after everything is done, waiting for retry commands (TUI).
    linger: bool,
    tasks: JoinSet<UnitResult>,
    summary: RunSummary,
    confirmed_bytes: u64,
    started: Instant,
    run_cancel: CancellationToken,
    abort: CancellationToken,
    events: UnboundedSender<Event>,
    finished_sent: bool,
    last_progress: (u64, u64),
    /// Mirror deletions, taken (run or skipped) when the copies first end.
    deletions: Option<mirror::Pending>,
}

impl Scheduler {
    #[expect(clippy::too_many_arguments, reason = "one constructor, called once")]
    pub(super) fn new(
        ctx: Arc<RunContext>,
        events: UnboundedSender<Event>,
        feed: Feed,
        totals: Option<FeedTotals>,
        memory_slots: usize,
        linger: bool,
        run_cancel: CancellationToken,
        abort: CancellationToken,
    ) -> Self {
        Scheduler {
            window: if ctx.transfer.adaptive_concurrency {
                // Climbing past the memory budget's slots would gain nothing.
                Window::adaptive(ctx.transfer.concurrency.min(memory_slots.max(1)))
            } else {
                Window::new(ctx.transfer.concurrency)
            },
            events,
            ctx,
            objects: Objects::default(),
            kept: HashMap::new(),
            feed,
            totals,
            admitted: 0,
            grown: FeedTotals::default(),
            grown_sent: FeedTotals::default(),
            next_id: 0,
            cancel_rest: false,
            write_mode_pending: false,
            queue: VecDeque::new(),
            uploads: VecDeque::new(),
            to_complete: VecDeque::new(),
            memory_slots: memory_slots.max(1),
            in_flight: 0,
            paused: false,
            paused_since: None,
            paused_before: Duration::ZERO,
            stopping: false,
            linger,
            tasks: JoinSet::new(),
            summary: RunSummary::default(),
            confirmed_bytes: 0,
            started: Instant::now(),
            run_cancel,
            abort,
            finished_sent: false,
            last_progress: (u64::MAX, u64::MAX),
            deletions: None,
        }
    }

    /// Hold mirror deletions until the copies are over.
    pub(super) fn with_deletions(mut self, pending: mirror::Pending) -> Self {
        self.deletions = Some(pending);
        self
    }

    /// After the copies: make or skip the mirror deletions (once per run).
    async fn mirror_deletions(&mut self) {
        let Some(pending) = self.deletions.take() else {
            return;
        };
        let target = self.ctx.sides.target.clone();
        let events = self.events.clone();
        // An abort or a dropped handle stops the deletions before the next batch.
        let cancel = [self.abort.clone(), self.run_cancel.clone()];
        let stopped = self.stopping;
        mirror::run(
            pending,
            &target,
            &mut self.summary,
            stopped,
            &cancel,
            &events,
        )
        .await;
    }

    pub(super) fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn limit(&self) -> usize {
        self.window.limit().min(self.memory_slots)
    }

    /// The write mode as configured, when no probe decides it (not `auto`, or nothing to
    /// write).
    fn write_mode_as_configured(&mut self) {
        self.write_mode_pending = false;
        self.summary.writes.checksum_mode = Some(self.ctx.write_mode_name().to_string());
    }

    /// `[target] checksum = "auto"`: probe the target once, before the first write, and
    /// announce the choice (a warning when it is not `trailer`, an event, the summary).
    async fn decide_write_mode(&mut self) {
        self.write_mode_pending = false;
        let decision = crate::engine::probe::decide(&self.ctx.sides.target, &self.ctx.write).await;
        let _ = self.ctx.decided.set(decision.mode);
        if !decision.full_object {
            let _ = self.ctx.full_object_refused.set(());
        }
        let (mode, reason) = (self.ctx.write_mode_name(), decision.reason);
        if mode == "trailer" {
            tracing::info!(mode, %reason, "checksum = \"auto\" chose a write mode");
        } else {
            tracing::warn!(mode, %reason, "checksum = \"auto\" chose a weaker write mode");
        }
        self.summary.writes.checksum_mode = Some(mode.to_string());
        self.summary.writes.checksum_mode_reason = Some(reason.clone());
        self.emit(Event::ChecksumMode {
            mode: mode.to_string(),
            reason,
        });
    }

    /// Run until done (or stopped, aborted, dropped). Returns the final summary.
    pub(super) async fn run(
        mut self,
        mut commands: UnboundedReceiver<Command>,
        mut notes: UnboundedReceiver<Note>,
        mut stream: Option<Receiver<Result<FeedBatch>>>,
    ) -> RunSummary {
        let totals = self.totals.unwrap_or_default();
        self.emit(Event::RunStarted {
            objects: totals.objects,
            bytes: totals.bytes,
            skipped: totals.skipped,
            concurrency: self.limit(),
        });
        if self.ctx.write.checksum == crate::config::WriteChecksum::Auto {
            self.write_mode_pending = true;
        } else {
            self.write_mode_as_configured();
        }
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut commands_open = true;
        loop {
            self.admit_ready(&mut stream);
            if self.write_mode_pending && !self.queue.is_empty() && !self.stopping {
                self.decide_write_mode().await;
            }
            self.fill();
            if self.idle() {
                // Notes sent by units that have returned are in the channel: count them.
                while let Ok(note) = notes.try_recv() {
                    self.note(note);
                }
                if !self.finished_sent {
                    if self.write_mode_pending {
                        self.write_mode_as_configured();
                    }
                    self.finish_summary();
                    self.mirror_deletions().await;
                    self.finished_sent = true;
                    self.emit(Event::RunFinished {
                        summary: self.summary.clone(),
                    });
                }
                if !self.linger || !commands_open || self.stopping {
                    break;
                }
            }
            let wants_batch = stream.is_some() && self.wants_entries() && self.feed.needs_batch();
            tokio::select! {
                command = commands.recv(), if commands_open => match command {
                    Some(command) => self.command(command),
                    None => commands_open = false,
                },
                Some(note) = notes.recv() => self.note(note),
                Some(joined) = self.tasks.join_next() => match joined {
                    Ok(result) => self.unit_done(result),
                    Err(e) => tracing::error!(error = %e, "a unit panicked or was aborted"),
                },
                batch = feed::next(&mut stream), if wants_batch => self.admit_batch(batch),
                _ = tick.tick() => {
                    self.plan_grew(false);
                    self.progress();
                }
                () = self.abort.cancelled() => return self.abort_all().await,
                () = self.run_cancel.cancelled() => {
                    // The handle was dropped: stop now, keep uploads and journal for a resume.
                    self.tasks.abort_all();
                    self.summary.interrupted = true;
                    self.finish_summary();
                    return self.summary;
                }
            }
        }
        self.summary
    }

    /// Nothing running and nothing that could start.
    fn idle(&self) -> bool {
        self.tasks.is_empty() && (self.stopping || !self.has_work())
    }

    fn has_work(&self) -> bool {
        !self.feed.ended()
            || !self.queue.is_empty()
            || !self.to_complete.is_empty()
            || self.uploads.iter().any(|&id| self.next_part(id).is_some())
    }

    fn next_part(&self, id: ObjectId) -> Option<u32> {
        let o = self.objects.get(id)?;
        if o.status != Status::Running {
            return None;
        }
        o.parts
            .iter()
            .position(|p| *p == PartStatus::Pending)
            .map(|i| i as u32 + 1)
    }

    fn progress(&mut self) {
        let received = self.ctx.gauge.received();
        if (received, self.confirmed_bytes) == self.last_progress {
            return;
        }
        self.last_progress = (received, self.confirmed_bytes);
        let mut objects: Vec<(ObjectId, u64)> = self
            .objects
            .iter()
            .filter(|(_, o)| !o.running.is_empty())
            .map(|(id, o)| {
                (
                    id,
                    o.confirmed
                        + o.running
                            .iter()
                            .map(|(_, c)| c.load(Ordering::Relaxed))
                            .sum::<u64>(),
                )
            })
            .collect();
        objects.sort_unstable_by_key(|(id, _)| *id);
        self.emit(Event::Progress {
            get_bytes: received,
            put_bytes: self.confirmed_bytes,
            buffered_bytes: self.ctx.gauge.current(),
            objects,
        });
    }

    fn finish_summary(&mut self) {
        self.progress();
        self.summary.peak_buffered_bytes = self.ctx.gauge.peak();
        self.summary.elapsed_ms = self.started.elapsed().as_millis() as u64;
        let paused = self.paused_before + self.paused_since.map_or(Duration::ZERO, |t| t.elapsed());
        self.summary.paused_ms = (paused.as_millis() as u64).min(self.summary.elapsed_ms);
        let open = self.objects.iter().filter(|(_, o)| o.is_open()).count() as u64;
        self.summary.not_started = open + self.count_unread();
        if self.summary.not_started > 0 || !self.feed.ended() {
            self.summary.interrupted = true;
        }
    }
}
