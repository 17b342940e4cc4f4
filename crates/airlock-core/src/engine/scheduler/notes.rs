//! What units tell the scheduler besides their result: a run's [`retry::Observer`] sends
//! [`Note`]s (and a [`Event::PartRetry`] for each retry), and the scheduler adapts its window
//! and its counts to them.
//!
//! [`retry::Observer`]: crate::engine::retry::Observer

use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use super::Scheduler;
use crate::engine::events::{Event, ForeignUpload, LeftUpload, ObjectId, push_bounded};
use crate::engine::retry::{Observer, RetryNotice};

/// What units tell the scheduler besides their result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    SlowDown,
    Success,
    Retry,
    /// An upload this unit gave up on could not be aborted (the scheduler names it).
    UploadLeft(ObjectId, LeftUpload),
    /// An upload of the object's key that airlock did not open (the scheduler names it).
    ForeignUpload(ObjectId, ForeignUpload),
}

/// A run's observer: notes for the scheduler, a retry event for the UIs.
pub(crate) struct RunObserver {
    pub events: UnboundedSender<Event>,
    pub notes: UnboundedSender<Note>,
}

impl Observer for RunObserver {
    fn succeeded(&self) {
        let _ = self.notes.send(Note::Success);
    }

    fn slowed_down(&self) {
        let _ = self.notes.send(Note::SlowDown);
    }

    fn retrying(&self, notice: &RetryNotice<'_>) {
        let _ = self.notes.send(Note::Retry);
        let _ = self.events.send(Event::PartRetry {
            id: notice.id,
            part: notice.part,
            attempt: notice.attempt,
            class: notice.error.class(),
            error: notice.error.to_string(),
            delay_ms: notice.delay.as_millis() as u64,
        });
    }

    fn upload_left(&self, id: ObjectId, left: LeftUpload) {
        let _ = self.notes.send(Note::UploadLeft(id, left));
    }

    fn foreign_upload(&self, id: ObjectId, found: ForeignUpload) {
        let _ = self.notes.send(Note::ForeignUpload(id, found));
    }
}

impl Scheduler {
    pub(super) fn note(&mut self, note: Note) {
        match note {
            Note::Retry => self.summary.retries += 1,
            Note::SlowDown => {
                let in_flight = self.in_flight;
                if let Some(limit) = self.window.slow_down_with(Instant::now(), in_flight) {
                    self.summary.slowdowns += 1;
                    self.emit(Event::ConcurrencyChanged {
                        limit: limit.min(self.memory_slots),
                        reason: "503 SlowDown: backing off".into(),
                    });
                }
            }
            Note::Success => {
                if let Some(change) = self.window.success(Instant::now()) {
                    self.emit(Event::ConcurrencyChanged {
                        limit: change.limit.min(self.memory_slots),
                        reason: change.reason,
                    });
                }
            }
            Note::UploadLeft(id, left) => self.upload_left(id, left),
            Note::ForeignUpload(id, found) => {
                self.emit(Event::ForeignUpload {
                    id,
                    key: found.key.clone(),
                    upload_id: found.upload_id.clone(),
                });
                if !push_bounded(&mut self.summary.foreign_uploads, found) {
                    self.summary.left_out_mut().foreign_uploads += 1;
                }
            }
        }
    }
}
