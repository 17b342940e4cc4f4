//! Admitting the plan's items: from a plan in memory or a streamed [`super::super::feed`],
//! only while the scheduler holds fewer objects than its lookahead (or at once, cancelled,
//! after `CancelAll`). A skip is counted and dropped; an object to copy gets its id (its
//! position among the items) and is queued; a deletion is held for mirror mode's last step.

use tokio::sync::mpsc::Receiver;
use tokio::sync::mpsc::error::TryRecvError;

use super::{ObjectState, Scheduler, Status};
use crate::engine::events::Event;
use crate::engine::feed::{LOOKAHEAD_MIN_SLOTS, LOOKAHEAD_PER_SLOT};
use crate::engine::mirror;
use crate::error::Result;
use crate::plan::lines::Entry;
use crate::plan::{PlanItem, Route};

/// Where the scheduler's items come from.
pub(in crate::engine) enum Feed {
    /// A plan in memory (`Engine::start`).
    Memory(std::vec::IntoIter<PlanItem>),
    /// A stream of entries (`Engine::start_stream`); the receiver itself is the run loop's,
    /// so it can wait on it beside its other channels.
    Stream,
    /// Every item was admitted (or the stream failed).
    Ended,
}

impl Feed {
    pub(super) fn ended(&self) -> bool {
        matches!(self, Feed::Ended)
    }
}

/// The next entry of the stream (None: it ended). Waits forever when there is no stream (the
/// run loop polls it only when there is).
pub(super) async fn next(stream: &mut Option<Receiver<Result<Entry>>>) -> Option<Result<Entry>> {
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
    pub(super) fn admit_ready(&mut self, stream: &mut Option<Receiver<Result<Entry>>>) {
        while self.wants_entries() {
            let entry = match &mut self.feed {
                Feed::Memory(items) => items.next().map(|item| Ok(Entry::Item(item))),
                Feed::Stream => match stream.as_mut().map(|rx| rx.try_recv()) {
                    Some(Ok(entry)) => Some(entry),
                    Some(Err(TryRecvError::Empty)) => return,
                    Some(Err(TryRecvError::Disconnected)) | None => None,
                },
                Feed::Ended => None,
            };
            self.admit_entry(entry);
        }
    }

    /// Take one entry of the feed (None: the feed ended).
    pub(super) fn admit_entry(&mut self, entry: Option<Result<Entry>>) {
        match entry {
            None => self.feed = Feed::Ended,
            Some(Err(e)) => {
                self.feed = Feed::Ended;
                let message = format!("the plan could not be read to the end: {e}");
                tracing::error!(error = %message, "no new objects are started");
                if self.summary.halted.is_none() {
                    self.summary.halted = Some(message);
                }
                self.stopping = true;
            }
            Some(Ok(Entry::Deletion(deletion))) => {
                let pending = self.deletions.get_or_insert_with(mirror::Pending::default);
                pending.deletions.push(deletion);
            }
            Some(Ok(Entry::Item(item))) => self.admit(item),
        }
    }

    fn admit(&mut self, item: PlanItem) {
        let id = self.next_id;
        self.next_id += 1;
        if item.route == Route::Skip {
            self.summary.skipped += 1;
            return;
        }
        self.admitted += 1;
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
            Feed::Stream => self
                .totals
                .map_or(0, |t| t.objects.saturating_sub(self.admitted)),
            Feed::Ended => 0,
        }
    }
}
