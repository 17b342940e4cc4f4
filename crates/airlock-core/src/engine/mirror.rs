//! Mirror mode's last step: delete the plan's target objects that have no source counterpart,
//! once, when the copies are over, and only when
//! - deletion was confirmed (`EngineOptions::confirm_delete`),
//! - every copy succeeded: no object failed or was cancelled, none was left unstarted, and the
//!   run was not stopped or aborted.
//!
//! Otherwise nothing is deleted, and a [`Event::DeletionsSkipped`] says why. Deletions go in
//! DeleteObjects batches of at most 1,000 keys, each key's outcome reported as its own event.
//! An abort (or a dropped handle) stops before the next batch; a graceful stop (Ctrl-C) that
//! arrives while deleting is seen only after the deletions (each batch is one request).

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::events::{Event, RunSummary, SkippedDeletions};
use crate::aws::SideClient;
use crate::aws::delete::{DELETE_BATCH, delete_batch};
use crate::plan::{DeleteTotals, Deletion};

/// The deletions a run holds until its copies are over.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub deletions: Vec<Deletion>,
    pub confirmed: bool,
}

/// Why the deletions must not run, if they must not.
fn blocked(pending: &Pending, summary: &RunSummary, stopped: bool) -> Option<String> {
    let unfinished = summary.failed + summary.cancelled;
    if unfinished > 0 {
        Some(format!(
            "{unfinished} objects failed or were cancelled, and a mirror run with any failure \
             deletes nothing; fix the failures and run again"
        ))
    } else if summary.interrupted || stopped || summary.not_started > 0 {
        Some("the run was stopped before every copy finished; nothing was deleted".into())
    } else if !pending.confirmed {
        Some(
            "deletion was not confirmed (give --confirm-delete, or confirm in the TUI)".to_string(),
        )
    } else {
        None
    }
}

/// Make (or skip) the deletions, emitting events and filling the summary's delete fields.
pub(super) async fn run(
    pending: Pending,
    target: &SideClient,
    summary: &mut RunSummary,
    stopped: bool,
    cancel: &[CancellationToken; 2],
    events: &UnboundedSender<Event>,
) {
    let emit = |event: Event| {
        let _ = events.send(event);
    };
    if pending.deletions.is_empty() {
        return;
    }
    let totals = DeleteTotals::of(&pending.deletions);
    if let Some(reason) = blocked(&pending, summary, stopped) {
        tracing::warn!(objects = totals.objects, %reason, "mirror deletions skipped");
        emit(Event::DeletionsSkipped {
            objects: totals.objects,
            bytes: totals.bytes,
            reason: reason.clone(),
        });
        summary.deletions_skipped = Some(Box::new(SkippedDeletions {
            objects: totals.objects,
            bytes: totals.bytes,
            reason,
        }));
        return;
    }
    emit(Event::DeletionsStarted {
        objects: totals.objects,
        bytes: totals.bytes,
    });
    let mut left = totals;
    for batch in pending.deletions.chunks(DELETE_BATCH) {
        let keys: Vec<String> = batch.iter().map(|d| d.target_key.clone()).collect();
        let result = tokio::select! {
            result = delete_batch(target, &keys) => result,
            () = cancel[0].cancelled() => break,
            () = cancel[1].cancelled() => break,
        };
        let failed: std::collections::HashMap<String, String> = match result {
            Ok(failed) => failed.into_iter().collect(),
            Err(e) => keys.iter().map(|k| (k.clone(), e.to_string())).collect(),
        };
        for deletion in batch {
            left.objects -= 1;
            left.bytes -= deletion.size;
            match failed.get(&deletion.target_key) {
                Some(error) => {
                    tracing::error!(key = %deletion.target_key, %error, "delete failed");
                    summary.delete_failed += 1;
                    let entry = (deletion.target_key.clone(), error.clone());
                    if !super::events::push_bounded(&mut summary.delete_failures, entry) {
                        summary.left_out_mut().delete_failures += 1;
                    }
                    emit(Event::DeleteFailed {
                        key: deletion.target_key.clone(),
                        error: error.clone(),
                    });
                }
                None => {
                    summary.deleted += 1;
                    summary.bytes_deleted += deletion.size;
                    emit(Event::ObjectDeleted {
                        key: deletion.target_key.clone(),
                        bytes: deletion.size,
                    });
                }
            }
        }
    }
    if left.objects > 0 {
        summary.interrupted = true;
        let reason = "the run was aborted while deleting".to_string();
        emit(Event::DeletionsSkipped {
            objects: left.objects,
            bytes: left.bytes,
            reason: reason.clone(),
        });
        summary.deletions_skipped = Some(Box::new(SkippedDeletions {
            objects: left.objects,
            bytes: left.bytes,
            reason,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(confirmed: bool) -> Pending {
        Pending {
            deletions: vec![Deletion {
                route: Default::default(),
                target_key: "t/gone".into(),
                size: 3,
                etag: None,
                modified_ms: None,
                reason: crate::plan::DELETE_REASON.into(),
            }],
            confirmed,
        }
    }

    #[test]
    fn deletions_run_only_after_a_clean_confirmed_run() {
        let clean = RunSummary::default();
        assert_eq!(blocked(&pending(true), &clean, false), None);
        let why = blocked(&pending(false), &clean, false).unwrap();
        assert!(why.contains("not confirmed"), "{why}");
        let failed = RunSummary {
            failed: 1,
            ..Default::default()
        };
        let why = blocked(&pending(true), &failed, false).unwrap();
        assert!(why.contains("1 objects failed"), "{why}");
        let cancelled = RunSummary {
            cancelled: 2,
            ..Default::default()
        };
        assert!(blocked(&pending(true), &cancelled, false).is_some());
        let interrupted = RunSummary {
            interrupted: true,
            ..Default::default()
        };
        assert!(blocked(&pending(true), &interrupted, false).is_some());
        assert!(blocked(&pending(true), &clean, true).is_some(), "stopped");
    }
}
