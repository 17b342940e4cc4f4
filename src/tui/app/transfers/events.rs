//! Engine events folded into the Transfers state, one handler per event kind: part states for
//! the part map, the lists an object moves between, the run phase, concurrency changes, and log
//! lines for failures, deletions and the end of the run.

use std::time::Duration;

use super::{DONE_KEPT, FAILED_KEPT, ListKind, ObjectRun, Outcome, PartState, Phase, Transfers};
use crate::tui::app::Out;
use airlock_core::engine::{Event, ObjectId, RunSummary, Verification};
use airlock_core::progress::human_bytes;

impl Transfers {
    /// Fold one engine event in: the statistics first, then one handler per event kind.
    pub fn apply(&mut self, event: &Event, now: Duration, out: &mut Out) {
        if let Event::RunStarted { concurrency, .. } = event {
            self.started_at = now;
            self.phase = Phase::Running;
            self.concurrency = *concurrency;
        }
        let run_time = self.run_time(now);
        self.stats.apply(event, run_time);
        match event {
            Event::ObjectStarted { .. } => self.object_started(event),
            Event::PartStarted { id, part } => self.set_part(*id, *part, PartState::InFlight),
            Event::PartDone { id, part, .. } => self.part_done(*id, *part),
            Event::PartRetry {
                id, part, error, ..
            } => self.part_retry(*id, *part, error),
            Event::Progress { objects, .. } => self.progress(objects),
            Event::ObjectDone {
                id,
                verification,
                attempts,
                bytes,
                ..
            } => self.object_done(*id, verification, *attempts, *bytes),
            Event::PartsUploaded {
                id,
                first_part,
                last_part,
                attempts,
                ..
            } => self.parts_uploaded(*id, *first_part, *last_part, *attempts),
            Event::ObjectFailed {
                id,
                key,
                class,
                error,
                kept_upload,
                ..
            } => {
                out.warn(format!("failed: {key}: {error}"));
                self.end(
                    *id,
                    Outcome::Failed {
                        class: *class,
                        error: error.clone(),
                        kept_upload: kept_upload.clone(),
                    },
                );
            }
            Event::ObjectCancelled { id, .. } => self.end(*id, Outcome::Cancelled),
            // A source gone since the inventory it was planned from: shown with the
            // cancelled ones (the TUI has no "skipped at run time" outcome yet).
            Event::ObjectGone { id, key, reason } => {
                out.info(format!("skipped: {key}: {reason}"));
                self.end(*id, Outcome::Cancelled);
            }
            Event::ConcurrencyChanged { limit, reason } => {
                self.concurrency_changed(*limit, reason, out)
            }
            Event::BandwidthChanged { limit } => self.bandwidth_changed(*limit, out),
            Event::ChecksumMode { mode, reason } => {
                out.warn(format!("write mode '{mode}': {reason}"));
            }
            Event::Paused => self.paused = true,
            Event::Resumed => self.paused = false,
            Event::RunFinished { summary } => self.run_finished(summary, out),
            Event::DeletionsStarted { .. }
            | Event::DeleteFailed { .. }
            | Event::UploadLeft { .. }
            | Event::ForeignUpload { .. }
            | Event::DeletionsSkipped { .. } => log_only(event, out),
            // The totals of a streamed plan are folded into the statistics above.
            Event::RunStarted { .. } | Event::PlanGrew { .. } | Event::ObjectDeleted { .. } => {}
        }
        self.clamp();
    }

    /// A new object, or a retried one starting again (its retry count carries over).
    fn object_started(&mut self, event: &Event) {
        let Event::ObjectStarted {
            id,
            key,
            size,
            route,
            parts,
            part_size,
            resumed_parts,
        } = event
        else {
            return;
        };
        let before = self.objects.get(id);
        let retries = before.map_or(0, |o| o.retries);
        let was_failed = before.is_some_and(|o| {
            matches!(o.outcome, Some(Outcome::Failed { .. } | Outcome::Cancelled))
        });
        if *resumed_parts > 0 {
            self.resumed_bytes += (u64::from(*resumed_parts) * part_size).min(*size);
        }
        self.objects.insert(
            *id,
            ObjectRun {
                key: key.clone(),
                size: *size,
                route: *route,
                part_size: *part_size,
                part_count: *parts,
                parts: vec![PartState::Pending; *parts as usize],
                resumed_parts: *resumed_parts,
                bytes: 0,
                retries,
                last_error: None,
                outcome: None,
            },
        );
        if was_failed {
            self.failed.retain(|i| i != id);
            self.failed_count = self.failed_count.saturating_sub(1);
        }
        self.active.retain(|i| i != id);
        self.active.push(*id);
        if matches!(self.phase, Phase::Finished(_)) {
            // A retry after the run ended: the engine lingers and runs again.
            self.phase = Phase::Running;
            self.stats.finished = false;
        }
    }

    fn part_done(&mut self, id: ObjectId, part: u32) {
        self.set_part(id, part, PartState::Done);
        if let Some(object) = self.objects.get_mut(&id) {
            object.last_error = None;
        }
    }

    fn part_retry(&mut self, id: ObjectId, part: u32, error: &str) {
        self.set_part(id, part, PartState::Retrying);
        if let Some(object) = self.objects.get_mut(&id) {
            object.retries += 1;
            object.last_error = Some(error.to_string());
        }
    }

    /// Bytes so far per object in flight.
    fn progress(&mut self, objects: &[(ObjectId, u64)]) {
        for (id, bytes) in objects {
            if let Some(object) = self.objects.get_mut(id) {
                object.bytes = *bytes;
            }
        }
    }

    fn object_done(
        &mut self,
        id: ObjectId,
        verification: &Verification,
        attempts: u32,
        bytes: u64,
    ) {
        if let Some(object) = self.objects.get_mut(&id) {
            object.parts = Vec::new();
            object.bytes = bytes;
            object.last_error = None;
            object.outcome = Some(Outcome::Done {
                verification: verification.clone(),
                attempts,
            });
        }
        self.finished(id);
    }

    /// The TUI plans its own runs, which never split objects; shown as done for safety.
    fn parts_uploaded(&mut self, id: ObjectId, first_part: u32, last_part: u32, attempts: u32) {
        if let Some(object) = self.objects.get_mut(&id) {
            object.outcome = Some(Outcome::Done {
                verification: Verification {
                    source: format!("parts {first_part}-{last_part} uploaded"),
                    target: "completed by 'airlock finalize'".into(),
                    verified: false,
                },
                attempts,
            });
            object.parts = Vec::new();
        }
        self.finished(id);
    }

    /// An object moves from active to done; the oldest done object beyond the kept ones is
    /// forgotten.
    fn finished(&mut self, id: ObjectId) {
        self.active.retain(|i| *i != id);
        self.done.push_back(id);
        self.done_count += 1;
        if self.done.len() > DONE_KEPT
            && let Some(oldest) = self.done.pop_front()
        {
            self.objects.remove(&oldest);
        }
    }

    fn concurrency_changed(&mut self, limit: usize, reason: &str, out: &mut Out) {
        self.concurrency = limit;
        self.concurrency_reason = Some(reason.to_string());
        if reason.contains("SlowDown") {
            out.warn(format!("concurrency {limit}: {reason}"));
        }
    }

    fn bandwidth_changed(&mut self, limit: Option<u64>, out: &mut Out) {
        self.bandwidth_limit = limit;
        out.info(match limit {
            Some(rate) => format!("bandwidth cap {}/s", human_bytes(rate)),
            None => "bandwidth cap removed".to_string(),
        });
    }

    fn run_finished(&mut self, summary: &RunSummary, out: &mut Out) {
        out.info(finished_message(summary));
        self.phase = Phase::Finished(Box::new(summary.clone()));
        // The engine's count is the truth (a failed object forgotten here may have been
        // started again by a retry).
        self.failed_count = summary.failed + summary.cancelled;
        // Nothing is active any more: show what needs attention, else what was done.
        if self.list == ListKind::Active {
            self.list = if self.failed_count == 0 {
                ListKind::Done
            } else {
                ListKind::Failed
            };
            self.cursor = 0;
            self.offset = 0;
        }
    }

    fn set_part(&mut self, id: ObjectId, part: u32, state: PartState) {
        if let Some(slot) = self
            .objects
            .get_mut(&id)
            .and_then(|o| o.parts.get_mut((part as usize).wrapping_sub(1)))
        {
            *slot = state;
        }
    }

    /// The object failed or was cancelled: its unfinished parts are marked failed.
    fn end(&mut self, id: ObjectId, outcome: Outcome) {
        let listed = self.objects.get(&id).is_some_and(|o| {
            matches!(o.outcome, Some(Outcome::Failed { .. } | Outcome::Cancelled))
        });
        if let Some(object) = self.objects.get_mut(&id) {
            for part in &mut object.parts {
                if matches!(part, PartState::InFlight | PartState::Retrying) {
                    *part = PartState::Failed;
                }
            }
            object.outcome = Some(outcome);
        }
        self.active.retain(|i| *i != id);
        if listed {
            return;
        }
        self.failed.push_back(id);
        self.failed_count += 1;
        if self.failed.len() > FAILED_KEPT
            && let Some(oldest) = self.failed.pop_front()
        {
            self.objects.remove(&oldest);
        }
    }
}

/// Events that change no state here, only add a log line (mirror deletions, uploads left).
fn log_only(event: &Event, out: &mut Out) {
    match event {
        Event::DeletionsStarted { objects, bytes } => out.info(format!(
            "mirror: deleting {objects} target objects ({})",
            human_bytes(*bytes)
        )),
        Event::DeleteFailed { key, error } => out.warn(format!("delete failed: {key}: {error}")),
        Event::UploadLeft {
            key, upload_id, error, ..
        } => out.warn(format!(
            "abort refused: upload '{upload_id}' of {key} left at the target ({error}); 'airlock uploads abort' removes it"
        )),
        Event::ForeignUpload { key, upload_id, .. } => out.warn(
            airlock_core::engine::ForeignUpload {
                key: key.clone(),
                upload_id: upload_id.clone(),
            }
            .warning(),
        ),
        Event::DeletionsSkipped {
            objects,
            bytes,
            reason,
        } => out.warn(format!(
            "mirror: {objects} deletions ({}) skipped: {reason}",
            human_bytes(*bytes)
        )),
        _ => {}
    }
}

/// One line for the log when the run ends.
pub fn finished_message(summary: &RunSummary) -> String {
    let mut text = format!(
        "run {}: {} copied ({} verified), {} skipped",
        if summary.interrupted {
            "stopped"
        } else {
            "finished"
        },
        summary.copied,
        summary.verified,
        summary.skipped
    );
    if summary.failed > 0 {
        text.push_str(&format!(", {} failed (R retries)", summary.failed));
    }
    if summary.cancelled > 0 {
        text.push_str(&format!(", {} cancelled", summary.cancelled));
    }
    if summary.not_started > 0 {
        text.push_str(&format!(", {} not started", summary.not_started));
    }
    if summary.deleted > 0 || summary.delete_failed > 0 {
        text.push_str(&format!(", {} deleted", summary.deleted));
    }
    if summary.delete_failed > 0 {
        text.push_str(&format!(" ({} deletions failed)", summary.delete_failed));
    }
    if let Some(skipped) = &summary.deletions_skipped {
        text.push_str(&format!(", {} deletions skipped", skipped.objects));
    }
    text
}
