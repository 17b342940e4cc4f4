//! Admitting the plan's items: from a plan in memory or a streamed [`super::super::feed`],
//! only while the scheduler holds fewer objects than its lookahead (or at once, cancelled,
//! after `CancelAll`). A stream's batches are taken one at a time and admitted entry by entry
//! (so the lookahead holds exactly). A skip (or a batch's count of skips) is counted and
//! dropped; an object to copy gets its id (its position among the items) and is queued; a
//! deletion is spooled for mirror mode's last step ([`mirror::Pending::push`]). Without totals up front, the totals grow as
//! the stream is admitted ([`Event::PlanGrew`]).

use tokio::sync::mpsc::Receiver;
use tokio::sync::mpsc::error::TryRecvError;

use super::{ObjectId, ObjectState, Scheduler, Status};
use crate::engine::events::Event;
use crate::engine::feed::{Fed, FeedBatch, LOOKAHEAD_MIN_SLOTS, LOOKAHEAD_PER_SLOT};
use crate::engine::mirror;
use crate::error::Result;
use crate::plan::lines::Entry;
use crate::plan::{PlanItem, Route};

/// Where the scheduler's items come from.
pub(in crate::engine) enum Feed {
    /// A plan in memory (`Engine::start`).
    Memory(std::vec::IntoIter<PlanItem>),
    /// A stream of batches (`Engine::start_stream`), with what is left of the batch being
    /// admitted; the receiver itself is the run loop's, so it can wait on it beside its other
    /// channels.
    Stream(std::vec::IntoIter<Fed>),
    /// Every item was admitted (or the stream failed).
    Ended,
}

impl Feed {
    pub(super) fn ended(&self) -> bool {
        matches!(self, Feed::Ended)
    }

    /// A stream whose current batch is admitted: the next comes from the channel.
    pub(super) fn needs_batch(&self) -> bool {
        matches!(self, Feed::Stream(batch) if batch.len() == 0)
    }
}

/// The next batch of the stream (None: it ended). Waits forever when there is no stream (the
/// run loop polls it only when there is).
pub(super) async fn next(
    stream: &mut Option<Receiver<Result<FeedBatch>>>,
) -> Option<Result<FeedBatch>> {
    match stream.as_mut() {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Scheduler {
    /// How many unfinished objects the scheduler may hold.
    fn lookahead(&self) -> usize {
        LOOKAHEAD_PER_SLOT * self.limit().max(LOOKAHEAD_MIN_SLOTS)
    }

    /// Whether the scheduler takes more items now.
    pub(super) fn wants_entries(&self) -> bool {
        !self.feed.ended()
            && (self.cancel_rest || (!self.stopping && self.objects.len() < self.lookahead()))
    }

    /// Admit what is ready without waiting: from memory, or what the stream has buffered.
    pub(super) fn admit_ready(&mut self, stream: &mut Option<Receiver<Result<FeedBatch>>>) {
        while self.wants_entries() {
            let fed = match &mut self.feed {
                Feed::Memory(items) => match items.next() {
                    Some(item) => Fed::Entry(Entry::Item(item)),
                    None => {
                        self.feed_ended();
                        continue;
                    }
                },
                Feed::Stream(batch) => match batch.next() {
                    Some(fed) => fed,
                    None => {
                        match stream.as_mut().map(|rx| rx.try_recv()) {
                            Some(Ok(batch)) => self.admit_batch(Some(batch)),
                            Some(Err(TryRecvError::Empty)) => return,
                            Some(Err(TryRecvError::Disconnected)) | None => self.admit_batch(None),
                        }
                        continue;
                    }
                },
                Feed::Ended => return,
            };
            self.admit_fed(fed);
        }
    }

    /// Take the stream's next batch (None: the feed ended); its entries are admitted by
    /// [`Self::admit_ready`].
    pub(super) fn admit_batch(&mut self, batch: Option<Result<FeedBatch>>) {
        match batch {
            None => self.feed_ended(),
            Some(Err(e)) => {
                self.feed = Feed::Ended;
                let message = format!("the plan could not be read to the end: {e}");
                tracing::error!(error = %message, "no new objects are started");
                if self.summary.halted.is_none() {
                    self.summary.halted = Some(message);
                }
                self.stopping = true;
            }
            Some(Ok(batch)) => self.feed = Feed::Stream(batch.into_iter()),
        }
    }

    /// The feed ended well: a stream without totals up front announces its final ones.
    fn feed_ended(&mut self) {
        let streamed = matches!(self.feed, Feed::Stream(_));
        self.feed = Feed::Ended;
        if streamed && self.totals.is_none() {
            self.plan_grew(true);
        }
    }

    /// Announce the totals of the stream admitted so far, when they changed (or `complete`).
    pub(super) fn plan_grew(&mut self, complete: bool) {
        if self.totals.is_some() || (!complete && self.grown == self.grown_sent) {
            return;
        }
        self.grown_sent = self.grown;
        self.emit(Event::PlanGrew {
            objects: self.grown.objects,
            bytes: self.grown.bytes,
            skipped: self.grown.skipped,
            complete,
        });
    }

    fn admit_fed(&mut self, fed: Fed) {
        match fed {
            Fed::Skipped { count } => {
                self.next_id += count as ObjectId;
                self.summary.skipped += count;
                self.grown.skipped += count;
            }
            Fed::Entry(Entry::Deletion(deletion)) => {
                let pending = self.deletions.get_or_insert_with(mirror::Pending::default);
                pending.push(&deletion);
            }
            Fed::Entry(Entry::Item(item)) => self.admit(item),
        }
    }

    fn admit(&mut self, item: PlanItem) {
        let id = self.next_id;
        self.next_id += 1;
        if item.route == Route::Skip {
            self.summary.skipped += 1;
            self.grown.skipped += 1;
            return;
        }
        self.admitted += 1;
        self.grown.objects += 1;
        self.grown.bytes += item.size;
        let mut object = ObjectState::new(item, &self.run_cancel);
        if self.cancel_rest {
            object.status = Status::Cancelled;
            self.summary.cancelled += 1;
            let key = object.item.source_key.clone();
            self.emit(Event::ObjectCancelled { id, key });
            if self.linger {
                self.kept.insert(id, object);
            }
            return;
        }
        self.objects.insert(id, object);
        self.queue.push_back(id);
        self.summary.peak_admitted = self.summary.peak_admitted.max(self.objects.len() as u64);
    }

    /// Objects to copy the run did not read from its feed (counted as not started): the rest
    /// of a plan in memory (its skips counted as skipped), or what a stream's totals say is
    /// left (0 when it has none).
    pub(super) fn count_unread(&mut self) -> u64 {
        match &mut self.feed {
            Feed::Memory(items) => {
                let mut unread = 0;
                for item in items.by_ref() {
                    if item.route == Route::Skip {
                        self.summary.skipped += 1;
                    } else {
                        unread += 1;
                    }
                }
                self.feed = Feed::Ended;
                unread
            }
            Feed::Stream(_) => self
                .totals
                .map_or(0, |t| t.objects.saturating_sub(self.admitted)),
            Feed::Ended => 0,
        }
    }
}
