//! Mirror mode's last step: delete the plan's target objects that have no source counterpart,
//! once, when the copies are over, and only when
//! - deletion was confirmed (`EngineOptions::confirm_delete`),
//! - every copy succeeded: no object failed or was cancelled, none was left unstarted, and the
//!   run was not stopped or aborted.
//!
//! Otherwise nothing is deleted, and a [`Event::DeletionsSkipped`] says why. Deletions go in
//! DeleteObjects batches of at most 1,000 keys, each key's outcome reported as its own event.
//!
//! A plan in hand's deletions are in memory with it; a streamed plan's ([`Pending::push`])
//! are spooled to an unnamed temporary file as they are admitted (one JSON line each) and
//! read back a batch at a time when the deletions run, so a run of millions of deletions
//! holds one batch. A spool that cannot be written deletes nothing.
//! An abort (or a dropped handle) stops before the next batch; a graceful stop (Ctrl-C) that
//! arrives while deleting is seen only after the deletions (each batch is one request).

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use super::events::{Event, RunSummary, SkippedDeletions};
use crate::aws::SideClient;
use crate::aws::delete::{DELETE_BATCH, delete_batch};
use crate::plan::{DeleteTotals, Deletion};

/// The deletions a run holds until its copies are over.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// A plan in hand's deletions.
    pub deletions: Vec<Deletion>,
    pub confirmed: bool,
    /// A streamed plan's deletions, spooled.
    pub spool: Option<Spool>,
}

/// Deletions spooled to a temporary file (JSON lines), with their totals.
#[derive(Debug)]
pub(super) struct Spool {
    /// None when no temporary file could be made (`failed` says why).
    file: Option<BufWriter<std::fs::File>>,
    totals: DeleteTotals,
    /// The first error writing the spool: the deletions are not made.
    failed: Option<String>,
}

impl Pending {
    /// Hold one more deletion of a streamed plan (spooled).
    pub(super) fn push(&mut self, deletion: &Deletion) {
        let spool = match &mut self.spool {
            Some(spool) => spool,
            None => {
                let (file, failed) = match tempfile::tempfile() {
                    Ok(file) => (Some(BufWriter::with_capacity(64 * 1024, file)), None),
                    Err(e) => (None, Some(format!("no temporary file: {e}"))),
                };
                self.spool.insert(Spool {
                    file,
                    totals: DeleteTotals::default(),
                    failed,
                })
            }
        };
        spool.totals.objects += 1;
        spool.totals.bytes += deletion.size;
        let (Some(file), None) = (spool.file.as_mut(), &spool.failed) else {
            return;
        };
        let written = serde_json::to_writer(&mut *file, deletion)
            .map_err(std::io::Error::other)
            .and_then(|()| file.write_all(b"\n"));
        if let Err(e) = written {
            spool.failed = Some(e.to_string());
        }
    }

    fn totals(&self) -> DeleteTotals {
        let mut totals = DeleteTotals::of(&self.deletions);
        if let Some(spool) = &self.spool {
            totals.objects += spool.totals.objects;
            totals.bytes += spool.totals.bytes;
        }
        totals
    }

    /// The deletions in batches of at most [`DELETE_BATCH`]: those in memory, then the spool
    /// read back from its start. Err: the spool could not be written or read back.
    fn batches(self) -> std::result::Result<Batches, String> {
        let spool = match self.spool {
            None => None,
            Some(Spool {
                failed: Some(why), ..
            }) => return Err(why),
            Some(Spool { file: None, .. }) => return Err("no temporary file".into()),
            Some(Spool {
                file: Some(file), ..
            }) => {
                let mut file = file.into_inner().map_err(|e| e.error().to_string())?;
                file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
                Some(BufReader::new(file).lines())
            }
        };
        Ok(Batches {
            memory: self.deletions.into_iter(),
            spool,
        })
    }
}

/// [`Pending::batches`].
struct Batches {
    memory: std::vec::IntoIter<Deletion>,
    spool: Option<std::io::Lines<BufReader<std::fs::File>>>,
}

impl Batches {
    /// No batches: the deletions that are left are reported as skipped.
    fn failed() -> Self {
        Batches {
            memory: Vec::new().into_iter(),
            spool: None,
        }
    }

    /// The next batch (empty at the end).
    fn next_batch(&mut self) -> std::result::Result<Vec<Deletion>, String> {
        let mut batch: Vec<Deletion> = self.memory.by_ref().take(DELETE_BATCH).collect();
        if let Some(lines) = &mut self.spool {
            while batch.len() < DELETE_BATCH {
                let Some(line) = lines.next() else { break };
                let line = line.map_err(|e| e.to_string())?;
                let deletion = serde_json::from_str(&line).map_err(|e| e.to_string())?;
                batch.push(deletion);
            }
        }
        Ok(batch)
    }
}

/// Why the deletions must not run, if they must not.
fn blocked(pending: &Pending, summary: &RunSummary, stopped: bool) -> Option<String> {
    let unfinished = summary.failed + summary.cancelled;
    if let Some(why) = pending.spool.as_ref().and_then(|s| s.failed.as_ref()) {
        Some(format!(
            "the deletions could not be held in a temporary file ({why}); nothing was \
             deleted: free space in the temporary folder (TMPDIR) and run again"
        ))
    } else if unfinished > 0 {
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
    let totals = pending.totals();
    if totals.objects == 0 {
        return;
    }
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
    // Why the spool could not be read to its end, if it could not.
    let mut unreadable = None;
    let mut batches = match pending.batches() {
        Ok(batches) => batches,
        Err(why) => {
            unreadable = Some(why);
            Batches::failed()
        }
    };
    loop {
        if unreadable.is_some() {
            break;
        }
        let batch = match batches.next_batch() {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => batch,
            Err(why) => {
                unreadable = Some(why);
                break;
            }
        };
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
        for deletion in &batch {
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
        let reason = match unreadable {
            Some(why) => {
                tracing::error!(error = %why, "the spooled deletions could not be read back");
                // Deletions asked for and not made: the run does not end well.
                summary.delete_failed += left.objects;
                format!(
                    "the deletions held in a temporary file could not be read back ({why}); \
                     these were not deleted: run the mirror again"
                )
            }
            None => {
                summary.interrupted = true;
                "the run was aborted while deleting".to_string()
            }
        };
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
            spool: None,
        }
    }

    fn deletion(n: usize) -> Deletion {
        Deletion {
            route: Default::default(),
            target_key: format!("t/gone-{n:05}"),
            size: n as u64,
            etag: None,
            modified_ms: None,
            reason: crate::plan::DELETE_REASON.into(),
        }
    }

    #[test]
    fn spooled_deletions_come_back_in_order_in_batches_after_those_in_memory() {
        let mut pending = pending(true);
        let spooled = 2 * DELETE_BATCH + 7;
        for n in 0..spooled {
            pending.push(&deletion(n));
        }
        assert_eq!(
            pending.deletions.len(),
            1,
            "a stream's deletions are not held"
        );
        let totals = pending.totals();
        assert_eq!(totals.objects, spooled as u64 + 1);
        assert_eq!(totals.bytes, 3 + (0..spooled as u64).sum::<u64>());
        let mut batches = pending.batches().unwrap();
        let mut sizes = Vec::new();
        let mut keys = Vec::new();
        loop {
            let batch = batches.next_batch().unwrap();
            if batch.is_empty() {
                break;
            }
            sizes.push(batch.len());
            keys.extend(batch.into_iter().map(|d| d.target_key));
        }
        assert_eq!(sizes, [DELETE_BATCH, DELETE_BATCH, 8]);
        assert_eq!(keys[0], "t/gone");
        let expected: Vec<String> = (0..spooled).map(|n| deletion(n).target_key).collect();
        assert_eq!(keys[1..], expected[..]);
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
