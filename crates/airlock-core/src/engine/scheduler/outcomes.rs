//! What the scheduler does when a unit returns or a command arrives: record progress, start
//! completion, fail or restart an object (aborting its upload unless it is kept for resume),
//! and the pause / retry / cancel / concurrency / stop / abort commands.

use std::sync::Arc;

use super::{ObjectId, PartStatus, Scheduler, Status, UnitResult};
use crate::config::OnSourceChange;
use crate::engine::events::{Command, Event, LeftUpload, RunSummary, push_bounded};
use crate::engine::retry::UnitError;
use crate::engine::upload::Upload;
use crate::error::{Class, Error, Removal};

impl Scheduler {
    pub(super) fn unit_done(&mut self, result: UnitResult) {
        let (id, part) = match &result {
            UnitResult::Single(id, _) => (*id, 1),
            UnitResult::Prepared(id, _) | UnitResult::Completed(id, _) => (*id, 0),
            UnitResult::Part(id, part, _) => (*id, *part),
            UnitResult::Aborted(id, left) => {
                let id = *id;
                if let Some(left) = left {
                    self.upload_left(id, left.clone());
                }
                self.objects[id].units -= 1;
                self.settle(id);
                return;
            }
        };
        self.in_flight -= 1;
        self.objects[id].units -= 1;
        if part > 0 {
            let running = &mut self.objects[id].running;
            if let Some(i) = running.iter().position(|(p, _)| *p == part) {
                running.swap_remove(i);
            }
        }
        match result {
            UnitResult::Single(id, Ok(done)) => {
                let object = &mut self.objects[id];
                object.attempts += done.attempts;
                object.confirmed = done.bytes;
                self.confirmed_bytes += done.bytes;
                self.emit(Event::PartDone {
                    id,
                    part: 1,
                    bytes: done.bytes,
                });
                self.object_done(id, done.bytes, done.verification);
            }
            UnitResult::Prepared(id, Ok(upload)) => self.upload_ready(id, *upload),
            UnitResult::Part(id, part, Ok((finished, attempts))) => {
                let object = &mut self.objects[id];
                object.attempts += attempts;
                let bytes = finished.part.size;
                object.confirmed += bytes;
                object.parts[part as usize - 1] = PartStatus::Done;
                object.finished[part as usize - 1] = Some(finished);
                self.confirmed_bytes += bytes;
                self.emit(Event::PartDone { id, part, bytes });
                let object = &self.objects[id];
                if object.status == Status::Running && object.parts_done() {
                    self.all_parts_in(id);
                }
            }
            UnitResult::Completed(id, Ok(verification)) => {
                let bytes = self.objects[id].item.size;
                self.objects[id].upload = None;
                self.object_done(id, bytes, verification);
            }
            UnitResult::Completed(id, Err(UnitError::Failed(error)))
                if crate::engine::removal::is_failed_check(&error) =>
            {
                // Completed, then found wrong: there is no upload left to abort.
                self.objects[id].upload = None;
                self.object_failed(id, error);
            }
            UnitResult::Single(id, Err(e))
            | UnitResult::Prepared(id, Err(e))
            | UnitResult::Part(id, _, Err(e))
            | UnitResult::Completed(id, Err(e)) => match e {
                UnitError::Cancelled => {}
                UnitError::Failed(error) => self.object_failed(id, error),
            },
            UnitResult::Aborted(..) => {}
        }
        self.settle(id);
    }

    fn upload_ready(&mut self, id: ObjectId, upload: Upload) {
        let object = &mut self.objects[id];
        if object.status != Status::Preparing {
            // Cancelled while preparing: the new upload is dropped.
            object.upload = Some(Arc::new(upload));
            self.spawn_abort(id);
            return;
        }
        let parts = upload.parts as usize;
        object.parts = vec![PartStatus::Pending; parts];
        if let Some((first, last)) = upload.own {
            for (i, status) in object.parts.iter_mut().enumerate() {
                if !(first..=last).contains(&(i as u32 + 1)) {
                    *status = PartStatus::Elsewhere;
                }
            }
        }
        object.finished = vec![None; parts];
        let mut resumed = Vec::new();
        for done in &upload.done {
            let index = done.part.part as usize - 1;
            if index < parts {
                object.parts[index] = PartStatus::Done;
                object.confirmed += done.part.size;
                object.finished[index] = Some(done.clone());
                resumed.push(done.part.part);
            }
        }
        object.status = Status::Running;
        let event = Event::ObjectStarted {
            id,
            key: object.item.source_key.clone(),
            size: upload.size,
            route: object.item.route,
            parts: upload.parts,
            part_size: upload.part_size,
            resumed_parts: resumed.len() as u32,
        };
        object.upload = Some(Arc::new(upload));
        self.emit(event);
        resumed.sort_unstable();
        for part in resumed {
            let bytes = self.objects[id].finished[part as usize - 1]
                .as_ref()
                .map_or(0, |p| p.part.size);
            // Already at the target: counted in `put_bytes` so it reaches the run's total
            // (Stats keeps resumed parts, which never had a PartStarted, out of the rates).
            self.confirmed_bytes += bytes;
            self.emit(Event::PartDone { id, part, bytes });
        }
        if self.objects[id].parts_done() {
            self.all_parts_in(id);
        } else {
            self.uploads.push_back(id);
        }
    }

    /// Every part this run owns is in: complete the upload, or, for a split object, leave it
    /// open for `airlock finalize` and report the range done.
    fn all_parts_in(&mut self, id: ObjectId) {
        let object = &mut self.objects[id];
        let Some((first, last)) = object.upload.as_ref().and_then(|u| u.own) else {
            self.to_complete.push_back(id);
            return;
        };
        let upload = object.upload.take().expect("checked above");
        object.status = Status::Done;
        let bytes = crate::plan::range_bytes(&object.item, first, last);
        self.summary.split_ranges += 1;
        self.summary.bytes_copied += bytes;
        let event = Event::PartsUploaded {
            id,
            key: object.item.source_key.clone(),
            upload_id: upload.upload_id.clone(),
            first_part: first,
            last_part: last,
            bytes,
            attempts: object.attempts,
        };
        self.emit(event);
    }

    fn object_done(
        &mut self,
        id: ObjectId,
        bytes: u64,
        verification: crate::engine::events::Verification,
    ) {
        let object = &mut self.objects[id];
        object.status = Status::Done;
        self.summary.copied += 1;
        self.summary.bytes_copied += bytes;
        if verification.verified {
            self.summary.verified += 1;
        }
        let key = object.item.source_key.clone();
        let attempts = object.attempts;
        self.emit(Event::ObjectDone {
            id,
            key,
            bytes,
            verification,
            attempts,
        });
    }

    fn object_failed(&mut self, id: ObjectId, error: Error) {
        let object = &mut self.objects[id];
        if !object.is_open() {
            return; // already failed by another part, or cancelled
        }
        if let Some(reason) = gone_since_inventory(&object.item, &error) {
            self.object_gone(id, reason);
            return;
        }
        // A split object cannot start over: its upload is pinned to one source version.
        let restart = error.class() == Class::SourceChanged
            && self.ctx.transfer.on_source_change == OnSourceChange::Restart
            && object.restarts == 0
            && object.item.split.is_none();
        // Stop the object's other units; a fresh token serves a later retry or restart.
        object.cancel.cancel();
        object.cancel = self.run_cancel.child_token();
        object.abort_pending = object.upload.is_some();
        if restart {
            tracing::info!(key = %object.item.source_key, "source changed during copy: starting over once");
            object.restarts += 1;
            object.status = Status::Cancelled;
            object.requeue = Some(true);
            return;
        }
        object.status = Status::Failed;
        // Expired keys that could not be renewed (see `retry::Renewals`): no other request of
        // that side can succeed, so stop starting objects and keep this one's upload; the next
        // run, with renewed keys, resumes from the journal.
        let expired = error.class() == Class::ExpiredToken;
        // A split object's upload holds other shards' parts: it is always kept.
        let keep =
            (self.ctx.transfer.keep_failed_uploads || object.item.split.is_some() || expired)
                && object.upload.is_some();
        let kept_upload = if keep {
            object.upload.as_ref().map(|u| u.upload_id.clone())
        } else {
            None
        };
        if keep {
            object.abort_pending = false;
            object.upload = None;
        }
        let (key, class) = (object.item.source_key.clone(), error.class());
        let message = match class {
            Class::SourceChanged => format!("source changed during copy: {error}"),
            _ => error.to_string(),
        };
        tracing::warn!(%key, error = %message, "object failed");
        // A target that refuses the configured ACL refuses it for every object: one message.
        let acl_refused = error
            .s3()
            .is_some_and(|f| f.code.as_deref() == Some("AccessControlListNotSupported"));
        if (expired || acl_refused) && self.summary.halted.is_none() {
            tracing::error!(error = %message, "every object would fail the same way: no new objects are started");
            self.summary.halted = Some(message.clone());
            self.stopping = true;
        }
        self.summary.failed += 1;
        if !push_bounded(&mut self.summary.failures, (key.clone(), message.clone())) {
            self.summary.left_out_mut().failures += 1;
        }
        let target_key = &self.objects[id].item.target_key;
        let wrong_object_left = match error.removal() {
            Some(Removal::Removed) => {
                if !push_bounded(&mut self.summary.writes.removed, target_key.clone()) {
                    self.summary.left_out_mut().removed += 1;
                }
                None
            }
            Some(Removal::Left(why)) => {
                let left = (target_key.clone(), why.clone());
                if !push_bounded(&mut self.summary.writes.wrong_left, left) {
                    self.summary.left_out_mut().wrong_left += 1;
                }
                Some(why.clone())
            }
            None => None,
        };
        self.emit(Event::ObjectFailed {
            id,
            key,
            class,
            error: message,
            kept_upload,
            removed_after_failed_check: error.removal() == Some(&Removal::Removed),
            wrong_object_left,
        });
    }

    /// A source gone since the inventory the object was planned from: skipped with `reason`.
    /// Its other units stop and an upload it opened is aborted; nothing is left to retry.
    fn object_gone(&mut self, id: ObjectId, reason: String) {
        let object = &mut self.objects[id];
        object.cancel.cancel();
        object.cancel = self.run_cancel.child_token();
        object.abort_pending = object.upload.is_some();
        object.status = Status::Done;
        let key = object.item.source_key.clone();
        tracing::info!(%key, %reason, "skipped: the source is gone");
        self.summary.gone += 1;
        self.emit(Event::ObjectGone { id, key, reason });
    }

    /// An abort the target refused: the upload is named in the events and the summary.
    pub(super) fn upload_left(&mut self, id: ObjectId, left: LeftUpload) {
        self.emit(Event::UploadLeft {
            id,
            key: left.key.clone(),
            upload_id: left.upload_id.clone(),
            error: left.error.clone(),
        });
        if !push_bounded(&mut self.summary.uploads_left, left) {
            self.summary.left_out_mut().uploads_left += 1;
        }
    }

    /// Once none of the object's units runs: abort its upload if asked, queue it again if asked.
    pub(super) fn settle(&mut self, id: ObjectId) {
        if self.objects[id].units > 0 {
            return;
        }
        if self.objects[id].abort_pending {
            self.spawn_abort(id);
            if self.objects[id].units > 0 {
                return; // settled again when the abort is done
            }
        }
        let object = &mut self.objects[id];
        if let Some(front) = object.requeue.take() {
            object.status = Status::Queued;
            object.confirmed = 0;
            object.parts.clear();
            object.finished.clear();
            if front {
                self.queue.push_front(id);
            } else {
                self.queue.push_back(id);
            }
            self.finished_sent = false;
            return;
        }
        // Finished: nothing of it stays, but what a lingering engine may retry.
        let status = object.status;
        if matches!(status, Status::Done | Status::Failed | Status::Cancelled)
            && let Some(object) = self.objects.remove(id)
            && self.linger
            && status != Status::Done
        {
            self.kept.insert(id, object);
        }
    }

    /// A failed or cancelled object a retry may queue again: back among the held objects.
    fn retryable(&mut self, id: ObjectId) -> bool {
        if let Some(object) = self.kept.remove(&id) {
            self.objects.insert(id, object);
        }
        self.objects
            .get(id)
            .is_some_and(|o| matches!(o.status, Status::Failed | Status::Cancelled))
    }

    pub(super) fn command(&mut self, command: Command) {
        match command {
            Command::Pause if !self.paused => {
                self.paused = true;
                self.paused_since = Some(std::time::Instant::now());
                self.emit(Event::Paused);
            }
            Command::Resume if self.paused => {
                self.paused = false;
                if let Some(since) = self.paused_since.take() {
                    self.paused_before += since.elapsed();
                }
                self.emit(Event::Resumed);
            }
            Command::Pause | Command::Resume => {}
            Command::RetryFailed => {
                self.cancel_rest = false;
                let mut failed: Vec<ObjectId> = self.kept.keys().copied().collect();
                failed.extend(self.objects.ids());
                failed.sort_unstable();
                for id in failed {
                    if self.retryable(id) {
                        self.requeue(id);
                    }
                }
            }
            Command::Retry(id) => {
                if self.retryable(id) {
                    self.requeue(id);
                }
            }
            Command::Cancel(id) => {
                if self.objects.get(id).is_some_and(|o| o.is_open()) {
                    self.cancel_object(id);
                }
            }
            Command::CancelAll => {
                let mut open = self.objects.ids();
                open.sort_unstable();
                for id in open {
                    if self.objects.get(id).is_some_and(|o| o.is_open()) {
                        self.cancel_object(id);
                    }
                }
                // And every item not admitted yet, as it is read.
                self.cancel_rest = true;
            }
            Command::SetConcurrency(n) => {
                self.window.set_max(n.clamp(1, 1024));
                self.emit(Event::ConcurrencyChanged {
                    limit: self.window.limit().min(self.memory_slots),
                    reason: "set by user".into(),
                });
            }
            Command::SetBandwidthLimit(rate) => {
                // 0 means "no cap" to the throttle; a cap of 0 would stop the run.
                let rate = rate.filter(|&r| r > 0);
                self.ctx.throttle.set_rate(rate.unwrap_or(0));
                self.emit(Event::BandwidthChanged { limit: rate });
            }
            Command::Stop => {
                self.stopping = true;
            }
        }
    }

    fn requeue(&mut self, id: ObjectId) {
        let object = &mut self.objects[id];
        let key = object.item.source_key.clone();
        match object.status {
            Status::Failed => {
                self.summary.failed -= 1;
                if let Some(i) = self.summary.failures.iter().position(|(k, _)| *k == key) {
                    self.summary.failures.remove(i);
                } else {
                    // Counted past the list's limit, not kept.
                    let more = &mut self.summary.left_out_mut().failures;
                    *more = more.saturating_sub(1);
                }
                // Written again by the retry: no longer a wrong object left behind.
                let target_key = &object.item.target_key;
                self.summary
                    .writes
                    .wrong_left
                    .retain(|(k, _)| k != target_key);
            }
            Status::Cancelled => self.summary.cancelled -= 1,
            _ => return,
        }
        object.restarts = 0;
        object.requeue = Some(false);
        self.settle(id);
    }

    fn cancel_object(&mut self, id: ObjectId) {
        let object = &mut self.objects[id];
        object.cancel.cancel();
        object.cancel = self.run_cancel.child_token();
        object.abort_pending = object.upload.is_some();
        object.status = Status::Cancelled;
        self.summary.cancelled += 1;
        let key = object.item.source_key.clone();
        self.emit(Event::ObjectCancelled { id, key });
        self.settle(id);
    }

    /// `EngineHandle::abort`: cancel everything, abort every open upload, forget their journal
    /// entries, and finish.
    pub(super) async fn abort_all(mut self) -> RunSummary {
        self.run_cancel.cancel();
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        let target = self.ctx.sides.target.clone();
        let mut aborts = tokio::task::JoinSet::new();
        for (id, object) in self.objects.iter_mut() {
            // A split object's upload is shared with other shards: never aborted here.
            if let Some(upload) = object.upload.take().filter(|u| u.own.is_none()) {
                let (target, key, journal, prefix) = (
                    target.clone(),
                    object.item.target_key.clone(),
                    self.ctx.journal.clone(),
                    self.ctx.write.state_prefix.clone(),
                );
                aborts.spawn(async move {
                    let left = super::start::abort_or_name(&target, &key, &upload.upload_id).await;
                    if let Some(journal) = journal {
                        journal.remove(&key);
                    }
                    crate::engine::state::forget(&target, &prefix, &key).await;
                    left.map(|left| (id, left))
                });
            }
        }
        let mut lefts = Vec::new();
        let _ = tokio::time::timeout(super::ABORT_GRACE, async {
            while let Some(joined) = aborts.join_next().await {
                if let Ok(Some(left)) = joined {
                    lefts.push(left);
                }
            }
        })
        .await;
        for (id, left) in lefts {
            self.upload_left(id, left);
        }
        self.summary.interrupted = true;
        self.finish_summary();
        self.emit(Event::RunFinished {
            summary: self.summary.clone(),
        });
        self.summary
    }
}

/// Why an object is skipped rather than failed: it was planned from an S3 Inventory
/// (`inventory_of_ms`) and the source answered 404 (deleted since). A plan from a listing
/// keeps failing on a 404, as does a 404 from the target.
fn gone_since_inventory(item: &crate::plan::PlanItem, error: &Error) -> Option<String> {
    let made_ms = item.inventory_of_ms?;
    let source_404 = error.class() == Class::NotFound
        && error
            .s3()
            .is_some_and(|f| f.side == crate::config::Side::Source);
    source_404.then(|| {
        format!(
            "gone since the inventory of {} (the source answered 404)",
            crate::config::filter::format_rfc3339(made_ms)
        )
    })
}
