//! The scheduler: one task that owns all run state and starts units of work from one global
//! queue, so a huge object's parts and thousands of small objects share the same limits.
//!
//! A unit (single copy, multipart prepare, part copy, complete) holds one slot while it runs.
//! Slots in use never exceed `min(window, memory_limit / STREAM_BUFFER)`, where the window is
//! the AIMD concurrency (halved on SlowDown, recovering on success, capped by the configured
//! concurrency). Parts of uploads already open go first, so few uploads are open at once and a
//! crash re-sends little. Units report back through the `JoinSet`; commands and notes arrive
//! on channels; byte progress is sampled on a tick.

mod notes;
mod outcomes;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::complete::complete;
use super::events::{Command, Event, ObjectId, RunSummary, Verification};
use super::journal::JournalPart;
pub(super) use notes::{Note, RunObserver};

use super::context::RunContext;
use super::retry::UnitError;
use super::units::{self, SingleDone, Upload};
use super::window::Window;
use crate::plan::{PlanItem, Route};

/// How long an aborting run waits for AbortMultipartUpload calls.
const ABORT_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Skipped,
    Queued,
    Preparing,
    Running,
    Completing,
    Done,
    /// Failed; `upload_busy` parts may still be finishing before the upload is aborted.
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartStatus {
    Pending,
    InFlight,
    Done,
    /// A split object's part that another shard uploads.
    Elsewhere,
}

pub(super) struct ObjectState {
    pub item: Arc<PlanItem>,
    pub status: Status,
    pub cancel: CancellationToken,
    pub attempts: u32,
    pub restarts: u32,
    pub upload: Option<Arc<Upload>>,
    pub parts: Vec<PartStatus>,
    pub finished: Vec<Option<JournalPart>>,
    /// Units of this object running now, with their byte counters.
    pub running: Vec<(u32, Arc<AtomicU64>)>,
    /// Bytes confirmed by the target.
    pub confirmed: u64,
    /// Units of this object in flight (any kind).
    pub units: usize,
    /// The upload must be aborted once no unit of this object runs.
    pub abort_pending: bool,
    /// Queue the object again once no unit runs (Some(true): at the front, for a restart).
    pub requeue: Option<bool>,
}

impl ObjectState {
    fn new(item: PlanItem, parent: &CancellationToken) -> Self {
        let status = if item.route == Route::Skip {
            Status::Skipped
        } else {
            Status::Queued
        };
        ObjectState {
            item: Arc::new(item),
            status,
            cancel: parent.child_token(),
            attempts: 0,
            restarts: 0,
            upload: None,
            parts: Vec::new(),
            finished: Vec::new(),
            running: Vec::new(),
            confirmed: 0,
            units: 0,
            abort_pending: false,
            requeue: None,
        }
    }

    fn is_open(&self) -> bool {
        matches!(
            self.status,
            Status::Queued | Status::Preparing | Status::Running | Status::Completing
        )
    }

    /// Every part this run is responsible for is at the target.
    pub(super) fn parts_done(&self) -> bool {
        self.parts
            .iter()
            .all(|p| matches!(p, PartStatus::Done | PartStatus::Elsewhere))
    }
}

/// A unit's result, as it comes back to the scheduler.
pub(super) enum UnitResult {
    Single(ObjectId, Result<SingleDone, UnitError>),
    Prepared(ObjectId, Result<Box<Upload>, UnitError>),
    Part(ObjectId, u32, Result<(JournalPart, u32), UnitError>),
    Completed(ObjectId, Result<Verification, UnitError>),
    /// The object's upload was aborted, or the target refused and it is left (named here).
    Aborted(ObjectId, Option<crate::engine::events::LeftUpload>),
}

pub(super) struct Scheduler {
    pub ctx: Arc<RunContext>,
    pub objects: Vec<ObjectState>,
    pub queue: VecDeque<ObjectId>,
    /// Multipart objects with parts still to start, oldest first.
    pub uploads: VecDeque<ObjectId>,
    /// Multipart objects whose parts are all in, waiting for a slot to complete.
    pub to_complete: VecDeque<ObjectId>,
    pub window: Window,
    /// Slots allowed by the memory budget.
    pub memory_slots: usize,
    pub in_flight: usize,
    pub paused: bool,
    /// Since when the run is paused, and the paused time before that: the summary's
    /// `paused_ms`, so averages leave out the time nothing was allowed to start.
    pub paused_since: Option<Instant>,
    pub paused_before: Duration,
    pub stopping: bool,
    /// Keep running after everything is done, waiting for retry commands (TUI).
    pub linger: bool,
    pub tasks: JoinSet<UnitResult>,
    pub summary: RunSummary,
    pub confirmed_bytes: u64,
    pub started: Instant,
    pub run_cancel: CancellationToken,
    pub abort: CancellationToken,
    pub events: UnboundedSender<Event>,
    pub finished_sent: bool,
    last_progress: (u64, u64),
    /// Mirror deletions, taken (run or skipped) when the copies first end.
    deletions: Option<super::mirror::Pending>,
}

impl Scheduler {
    pub fn new(
        ctx: Arc<RunContext>,
        events: UnboundedSender<Event>,
        items: Vec<PlanItem>,
        memory_slots: usize,
        linger: bool,
        run_cancel: CancellationToken,
        abort: CancellationToken,
    ) -> Self {
        let objects: Vec<ObjectState> = items
            .into_iter()
            .map(|i| ObjectState::new(i, &run_cancel))
            .collect();
        let queue = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status == Status::Queued)
            .map(|(id, _)| id)
            .collect();
        let summary = RunSummary {
            skipped: objects
                .iter()
                .filter(|o| o.status == Status::Skipped)
                .count() as u64,
            ..Default::default()
        };
        Scheduler {
            window: Window::new(ctx.transfer.concurrency),
            events,
            ctx,
            objects,
            queue,
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
            summary,
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
    pub fn with_deletions(mut self, pending: super::mirror::Pending) -> Self {
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
        super::mirror::run(
            pending,
            &target,
            &mut self.summary,
            stopped,
            &cancel,
            &events,
        )
        .await;
    }

    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn limit(&self) -> usize {
        self.window.limit().min(self.memory_slots)
    }

    /// Run until done (or stopped, aborted, dropped). Returns the final summary.
    pub async fn run(
        mut self,
        mut commands: UnboundedReceiver<Command>,
        mut notes: UnboundedReceiver<Note>,
    ) -> RunSummary {
        let to_copy: Vec<&ObjectState> = self
            .objects
            .iter()
            .filter(|o| o.status == Status::Queued)
            .collect();
        self.emit(Event::RunStarted {
            objects: to_copy.len() as u64,
            bytes: to_copy.iter().map(|o| o.item.size).sum(),
            skipped: self.summary.skipped,
            concurrency: self.limit(),
        });
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut commands_open = true;
        loop {
            self.fill();
            if self.idle() {
                // Notes sent by units that have returned are in the channel: count them.
                while let Ok(note) = notes.try_recv() {
                    self.note(note);
                }
                if !self.finished_sent {
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
                _ = tick.tick() => self.progress(),
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
        !self.queue.is_empty()
            || !self.to_complete.is_empty()
            || self.uploads.iter().any(|&id| self.next_part(id).is_some())
    }

    fn next_part(&self, id: ObjectId) -> Option<u32> {
        let o = &self.objects[id];
        if o.status != Status::Running {
            return None;
        }
        o.parts
            .iter()
            .position(|p| *p == PartStatus::Pending)
            .map(|i| i as u32 + 1)
    }

    /// Start units while slots are free.
    fn fill(&mut self) {
        while !self.paused && !self.stopping && self.in_flight < self.limit() {
            if !self.start_next() {
                break;
            }
        }
    }

    fn start_next(&mut self) -> bool {
        if let Some(id) = self.to_complete.pop_front() {
            self.spawn_complete(id);
            return true;
        }
        while let Some(&id) = self.uploads.front() {
            match self.next_part(id) {
                Some(part) => {
                    self.spawn_part(id, part);
                    return true;
                }
                None => {
                    self.uploads.pop_front();
                }
            }
        }
        let Some(id) = self.queue.pop_front() else {
            return false;
        };
        let object = &mut self.objects[id];
        if object.status != Status::Queued {
            return true; // cancelled while queued
        }
        match object.item.route {
            Route::Multipart => {
                object.status = Status::Preparing;
                let (shared, item, cancel) = (
                    self.ctx.clone(),
                    (*object.item).clone(),
                    object.cancel.clone(),
                );
                self.spawn(id, 0, None, async move {
                    UnitResult::Prepared(
                        id,
                        units::prepare(shared, id, item, cancel).await.map(Box::new),
                    )
                });
            }
            _ => {
                object.status = Status::Running;
                let item = (*object.item).clone();
                self.emit(Event::ObjectStarted {
                    id,
                    key: item.source_key.clone(),
                    size: item.size,
                    route: item.route,
                    parts: 1,
                    part_size: item.size,
                    resumed_parts: 0,
                });
                self.emit(Event::PartStarted { id, part: 1 });
                let progress = Arc::new(AtomicU64::new(0));
                let (shared, cancel) = (self.ctx.clone(), self.objects[id].cancel.clone());
                let counter = progress.clone();
                self.spawn(id, 1, Some(progress), async move {
                    UnitResult::Single(
                        id,
                        units::copy_single(shared, id, item, counter, cancel).await,
                    )
                });
            }
        }
        true
    }

    fn spawn(
        &mut self,
        id: ObjectId,
        part: u32,
        progress: Option<Arc<AtomicU64>>,
        unit: impl Future<Output = UnitResult> + Send + 'static,
    ) {
        self.in_flight += 1;
        self.objects[id].units += 1;
        if let Some(counter) = progress {
            self.objects[id].running.push((part, counter));
        }
        self.tasks.spawn(unit);
    }

    fn spawn_part(&mut self, id: ObjectId, part: u32) {
        let object = &mut self.objects[id];
        object.parts[part as usize - 1] = PartStatus::InFlight;
        let (shared, item, cancel) = (self.ctx.clone(), object.item.clone(), object.cancel.clone());
        let upload = object
            .upload
            .clone()
            .expect("running multipart objects have an upload");
        let progress = Arc::new(AtomicU64::new(0));
        let counter = progress.clone();
        self.emit(Event::PartStarted { id, part });
        self.spawn(id, part, Some(progress), async move {
            UnitResult::Part(
                id,
                part,
                units::copy_part(shared, id, item, upload, part, counter, cancel).await,
            )
        });
    }

    fn spawn_complete(&mut self, id: ObjectId) {
        let object = &mut self.objects[id];
        object.status = Status::Completing;
        let parts: Vec<JournalPart> = object.finished.iter().flatten().cloned().collect();
        let (shared, item, cancel) = (self.ctx.clone(), object.item.clone(), object.cancel.clone());
        let upload = object
            .upload
            .clone()
            .expect("completing objects have an upload");
        self.spawn(id, 0, None, async move {
            UnitResult::Completed(id, complete(shared, id, item, upload, parts, cancel).await)
        });
    }

    /// Abort an object's upload in the background (not counted as a slot). It counts as one
    /// of the object's units, so a retry or restart waits for it: a new upload started
    /// meanwhile would race the abort for the object's journal entry. A split object's
    /// upload is shared with other shards: it is let go, never aborted.
    pub(super) fn spawn_abort(&mut self, id: ObjectId) {
        let object = &mut self.objects[id];
        object.abort_pending = false;
        let Some(upload) = object.upload.take() else {
            return;
        };
        if upload.own.is_some() {
            return;
        }
        object.units += 1;
        let (shared, key) = (self.ctx.clone(), object.item.target_key.clone());
        self.tasks.spawn(async move {
            let left = abort_or_name(&shared.sides.target, &key, &upload.upload_id).await;
            if let Some(journal) = &shared.journal {
                journal.remove(&key);
            }
            UnitResult::Aborted(id, left)
        });
    }

    /// Sample byte counters and send one coalesced progress event.
    fn progress(&mut self) {
        let received = self.ctx.gauge.received();
        if (received, self.confirmed_bytes) == self.last_progress {
            return;
        }
        self.last_progress = (received, self.confirmed_bytes);
        let objects = self
            .objects
            .iter()
            .enumerate()
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
        self.summary.not_started = self.objects.iter().filter(|o| o.is_open()).count() as u64;
        if self.summary.not_started > 0 {
            self.summary.interrupted = true;
        }
    }
}

/// Abort a multipart upload; when the target refuses, name the upload that is left.
pub(super) async fn abort_or_name(
    target: &crate::aws::SideClient,
    key: &str,
    upload_id: &str,
) -> Option<crate::engine::events::LeftUpload> {
    let error = crate::aws::objects::abort_multipart(target, key, upload_id)
        .await
        .err()?;
    tracing::warn!(%key, %upload_id, %error, "could not abort the multipart upload; 'airlock uploads abort' removes it");
    Some(crate::engine::events::LeftUpload {
        key: key.to_string(),
        upload_id: upload_id.to_string(),
        error: error.to_string(),
    })
}
