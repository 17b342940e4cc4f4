//! Starting units: the scheduler's choice of path for each object (a single copy, a multipart
//! upload prepared here or a split upload joined), its parts and its completion, each holding
//! one slot; and aborting an upload in the background.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::{PartStatus, Scheduler, Status, UnitResult};
use crate::aws::SideClient;
use crate::engine::complete::complete;
use crate::engine::events::{Event, LeftUpload, ObjectId};
use crate::engine::journal::JournalPart;
use crate::engine::{multipart, single, split, state};
use crate::plan::Route;

impl Scheduler {
    /// Start units while slots are free.
    pub(super) fn fill(&mut self) {
        while !self.paused && !self.stopping && self.in_flight < self.limit() {
            if !self.start_next() {
                break;
            }
        }
    }

    fn start_next(&mut self) -> bool {
        if let Some(id) = self.to_complete.pop_front() {
            // Not if it was cancelled (or failed) while it waited.
            if self
                .objects
                .get(id)
                .is_some_and(|o| o.status == Status::Running)
            {
                self.spawn_complete(id);
            }
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
        let Some(object) = self.objects.get_mut(id) else {
            return true; // cancelled while queued, and dropped
        };
        if object.status != Status::Queued {
            return true; // cancelled while queued
        }
        match object.item.route {
            Route::Multipart => {
                object.status = Status::Preparing;
                let (ctx, item, cancel) = (
                    self.ctx.clone(),
                    (*object.item).clone(),
                    object.cancel.clone(),
                );
                self.spawn(id, 0, None, async move {
                    // A split object joins the upload `airlock prepare` opened; any other
                    // object resumes its journaled upload or creates one.
                    let upload = match item.split.clone() {
                        Some(upload) => split::join_split(ctx, id, item, upload, cancel).await,
                        None => multipart::prepare(ctx, id, item, cancel).await,
                    };
                    UnitResult::Prepared(id, upload.map(Box::new))
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
                let (ctx, cancel) = (self.ctx.clone(), self.objects[id].cancel.clone());
                let counter = progress.clone();
                self.spawn(id, 1, Some(progress), async move {
                    UnitResult::Single(
                        id,
                        single::copy_single(ctx, id, item, counter, cancel).await,
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
        let (ctx, item, cancel) = (self.ctx.clone(), object.item.clone(), object.cancel.clone());
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
                multipart::copy_part(ctx, id, item, upload, part, counter, cancel).await,
            )
        });
    }

    fn spawn_complete(&mut self, id: ObjectId) {
        let object = &mut self.objects[id];
        object.status = Status::Completing;
        let parts: Vec<JournalPart> = object.finished.iter().flatten().cloned().collect();
        let (ctx, item, cancel) = (self.ctx.clone(), object.item.clone(), object.cancel.clone());
        let upload = object
            .upload
            .clone()
            .expect("completing objects have an upload");
        self.spawn(id, 0, None, async move {
            UnitResult::Completed(id, complete(ctx, id, item, upload, parts, cancel).await)
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
        let (ctx, key) = (self.ctx.clone(), object.item.target_key.clone());
        self.tasks.spawn(async move {
            let left = abort_or_name(&ctx.sides.target, &key, &upload.upload_id).await;
            if let Some(journal) = &ctx.journal {
                journal.remove(&key);
            }
            state::forget(&ctx.sides.target, &ctx.write.state_prefix, &key).await;
            UnitResult::Aborted(id, left)
        });
    }
}

/// Abort a multipart upload; when the target refuses, name the upload that is left. An upload
/// the target no longer knows (404 NoSuchUpload: completed or already aborted) is not left.
pub(super) async fn abort_or_name(
    target: &SideClient,
    key: &str,
    upload_id: &str,
) -> Option<LeftUpload> {
    let error = crate::aws::objects::abort_multipart(target, key, upload_id)
        .await
        .err()?;
    if error.class() == crate::error::Class::NotFound {
        // NoSuchUpload: completed (a Complete whose answer was lost) or already aborted;
        // either way no upload is left taking storage.
        let now = match crate::aws::listing::head(target, key).await {
            Ok(Some(_)) => "completed: the object is at the target",
            Ok(None) => "already gone",
            Err(_) => "already gone (the object could not be looked up)",
        };
        tracing::info!(%key, %upload_id, "AbortMultipartUpload answered NoSuchUpload: the upload was {now}");
        return None;
    }
    tracing::warn!(%key, %upload_id, %error, "could not abort the multipart upload; 'airlock uploads abort' removes it");
    Some(LeftUpload {
        key: key.to_string(),
        upload_id: upload_id.to_string(),
        error: error.to_string(),
    })
}
