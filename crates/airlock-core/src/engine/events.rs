//! The engine's two message types: [`Event`] (engine -> UI, one typed stream) and [`Command`]
//! (UI -> engine). Both are plain data; the TUI and the headless reporter consume the same
//! events. Byte progress is coalesced into periodic [`Event::Progress`] ticks, so a 10,000-part
//! object produces part events at the rate parts finish, never per network chunk.

use serde::{Deserialize, Serialize};

use crate::error::Class;
use crate::plan::Route;

/// Index of an object in the plan the engine runs.
pub type ObjectId = usize;

/// Something that happened in the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run begins: what it will move.
    RunStarted {
        objects: u64,
        bytes: u64,
        skipped: u64,
        concurrency: usize,
    },
    /// A run whose plan streams in without totals up front (a fresh `run`; RunStarted said 0):
    /// what its plan holds so far (objects to copy, their bytes, skips), sent periodically
    /// while it grows; `complete` once the plan is whole (then these are the plan's totals).
    PlanGrew {
        objects: u64,
        bytes: u64,
        skipped: u64,
        complete: bool,
    },
    /// An object's copy started (or resumed: `resumed_parts` parts were already at the target).
    ObjectStarted {
        id: ObjectId,
        key: String,
        size: u64,
        route: Route,
        parts: u32,
        part_size: u64,
        resumed_parts: u32,
    },
    /// A part (or the single request of a `single` object, part 1) started a request.
    PartStarted {
        id: ObjectId,
        part: u32,
    },
    /// A part is at the target.
    PartDone {
        id: ObjectId,
        part: u32,
        bytes: u64,
    },
    /// A part (or single object) failed an attempt and will be retried after `delay_ms`.
    PartRetry {
        id: ObjectId,
        part: u32,
        attempt: u32,
        class: Class,
        error: String,
        delay_ms: u64,
    },
    /// Coalesced byte progress since the run started (sent every tick while bytes move).
    Progress {
        /// Bytes received from the source so far (retries count again).
        get_bytes: u64,
        /// Bytes the target has confirmed so far, including parts a resumed upload already had
        /// (they are reported as PartDone without a PartStarted).
        put_bytes: u64,
        /// Bytes currently held in the engine's buffers.
        buffered_bytes: u64,
        /// Per active object: bytes streamed so far in its current attempts.
        objects: Vec<(ObjectId, u64)>,
    },
    /// The object is at the target and was checked; `checks` says exactly how.
    ObjectDone {
        id: ObjectId,
        key: String,
        bytes: u64,
        verification: Verification,
        attempts: u32,
    },
    /// This run's range of a split object's parts is at the target. The upload stays open:
    /// `airlock finalize` completes and verifies it once every shard is done.
    PartsUploaded {
        id: ObjectId,
        key: String,
        upload_id: String,
        first_part: u32,
        last_part: u32,
        /// Bytes of the range (parts found already uploaded included).
        bytes: u64,
        attempts: u32,
    },
    /// The object failed for good in this run.
    ObjectFailed {
        id: ObjectId,
        key: String,
        class: Class,
        error: String,
        /// The multipart upload kept for a later resume (`keep_failed_uploads`), if any.
        kept_upload: Option<String>,
        /// The check after the write failed and the object this run wrote was deleted from
        /// the target (a rerun copies it again).
        removed_after_failed_check: bool,
        /// The check after the write failed and deleting the wrong object failed: it is still
        /// at the target and must be deleted by hand. Why the delete failed.
        wrong_object_left: Option<String>,
    },
    /// The target refused to abort a multipart upload this run gave up on: the upload (and
    /// the storage its parts take) is still there. `airlock uploads abort` removes it.
    UploadLeft {
        id: ObjectId,
        key: String,
        upload_id: String,
        error: String,
    },
    /// An in-progress upload of the object's target key that airlock did not open (no journal
    /// entry, no state record at the target): another tool's, left alone (never adopted, never
    /// aborted), named so that someone can decide what to do with it.
    ForeignUpload {
        id: ObjectId,
        key: String,
        upload_id: String,
    },
    /// The object was cancelled by a command.
    ObjectCancelled {
        id: ObjectId,
        key: String,
    },
    /// Skipped, not failed: the object was planned from an S3 Inventory and the source
    /// answered 404 at copy time (deleted since the inventory was made). `reason` says so,
    /// with the inventory's date.
    ObjectGone {
        id: ObjectId,
        key: String,
        reason: String,
    },
    /// The effective concurrency changed (SlowDown backoff, recovery, or a command).
    ConcurrencyChanged {
        limit: usize,
        reason: String,
    },
    /// The bandwidth cap changed (a command): bytes per second, None for no cap.
    BandwidthChanged {
        limit: Option<u64>,
    },
    /// Scheduling paused or resumed.
    Paused,
    Resumed,
    /// Mirror mode: every copy succeeded and deletion was confirmed; deleting starts.
    DeletionsStarted {
        objects: u64,
        bytes: u64,
    },
    /// Mirror mode: a target object with no source counterpart was deleted.
    ObjectDeleted {
        key: String,
        bytes: u64,
    },
    /// Mirror mode: the target refused to delete this object (or the request failed).
    DeleteFailed {
        key: String,
        error: String,
    },
    /// Mirror mode: the plan's deletions were not made, and why (not confirmed, a copy failed,
    /// the run was stopped). Nothing was deleted.
    DeletionsSkipped {
        objects: u64,
        bytes: u64,
        reason: String,
    },
    /// `[target] checksum = "auto"` chose how this run writes (announced once, before the
    /// first write): the mode and why.
    ChecksumMode {
        mode: String,
        reason: String,
    },
    /// The run ended.
    RunFinished {
        summary: RunSummary,
    },
}

/// What was checked for one object, hop by hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// How the bytes read were checked against the source, e.g.
    /// `crc32 of all bytes matched the source's full-object checksum`.
    pub source: String,
    /// How the bytes written were checked at the target, e.g.
    /// `crc64nvme matched the target's full-object checksum (HEAD after complete)`.
    pub target: String,
    /// True only when both hops were checked by checksum (or MD5).
    pub verified: bool,
}

/// Totals of a finished run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSummary {
    pub copied: u64,
    /// Of `copied`, how many were verified on both hops.
    pub verified: u64,
    pub skipped: u64,
    /// Split objects whose part range this run finished (`airlock finalize` completes them).
    pub split_ranges: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Objects planned from an S3 Inventory whose source was gone at copy time (skipped with
    /// a reason, not failed; see [`Event::ObjectGone`]).
    pub gone: u64,
    /// Objects not started because the run was stopped (Ctrl-C) or aborted.
    pub not_started: u64,
    pub bytes_copied: u64,
    /// Attempts that were retried, all objects together.
    pub retries: u64,
    /// Times SlowDown made the engine lower its concurrency.
    pub slowdowns: u64,
    /// Highest number of bytes held in engine buffers at once.
    pub peak_buffered_bytes: u64,
    pub elapsed_ms: u64,
    /// Of `elapsed_ms`, the time the run was paused (averages leave it out).
    pub paused_ms: u64,
    /// Keys that failed, with their reasons.
    pub failures: Vec<(String, String)>,
    /// True when the run was stopped or aborted before finishing.
    pub interrupted: bool,
    /// Set when the run stopped starting objects because every one would fail the same way:
    /// a side's session token expired and its keys could not be renewed, or the target
    /// refuses the configured ACL. The journal (and an expired object's upload) is kept, so
    /// the next run, fixed, resumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halted: Option<String>,
    /// Mirror mode: target objects deleted, and their bytes.
    pub deleted: u64,
    pub bytes_deleted: u64,
    /// Mirror mode: deletions that failed, with their reasons.
    pub delete_failed: u64,
    pub delete_failures: Vec<(String, String)>,
    /// Mirror mode: the deletions this run did not make (None: none were skipped).
    pub deletions_skipped: Option<Box<SkippedDeletions>>,
    /// Multipart uploads the target refused to abort: still at the target, taking storage
    /// until `airlock uploads abort` removes them.
    pub uploads_left: Vec<LeftUpload>,
    /// In-progress uploads of copied keys that airlock did not open, left alone.
    pub foreign_uploads: Vec<ForeignUpload>,
    /// How the target was written, and what was removed after a failed check (flattened
    /// into the summary's JSON; boxed to keep [`Event`] small).
    #[serde(flatten)]
    pub writes: Box<WriteOutcome>,
    /// Entries the summary's lists (`failures`, `delete_failures`, `uploads_left`,
    /// `foreign_uploads`, `removed`, `wrong_left`) left out: each keeps its first
    /// [`SUMMARY_LIST_LIMIT`] entries, so a run of millions of objects keeps a bounded summary
    /// (the manifest has them all).
    /// None when every list is whole (boxed to keep [`Event`] small).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<Box<LeftOut>>,
    /// The most objects the scheduler held at once (admitted from the plan and not yet
    /// finished): bounded by its lookahead, whatever the plan's size.
    pub peak_admitted: u64,
}

/// How many entries each list of a [`RunSummary`] keeps; the rest are only counted.
pub const SUMMARY_LIST_LIMIT: usize = 1000;

/// Per list of a [`RunSummary`], the entries past [`SUMMARY_LIST_LIMIT`] that were counted but
/// not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeftOut {
    pub failures: u64,
    pub delete_failures: u64,
    pub uploads_left: u64,
    pub foreign_uploads: u64,
    pub removed: u64,
    pub wrong_left: u64,
}

impl LeftOut {
    pub fn is_empty(&self) -> bool {
        *self == LeftOut::default()
    }
}

/// Push `entry` onto a summary list unless it holds [`SUMMARY_LIST_LIMIT`] entries already;
/// false when it was left out (count it in [`RunSummary::left_out_mut`]).
pub(crate) fn push_bounded<T>(list: &mut Vec<T>, entry: T) -> bool {
    let room = list.len() < SUMMARY_LIST_LIMIT;
    if room {
        list.push(entry);
    }
    room
}

/// The write side of a run's totals: the write mode and objects found wrong after writing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteOutcome {
    /// Objects this run wrote, found wrong by the check after the write, and deleted from the
    /// target (their target keys); each also counts in `failed`.
    pub removed: Vec<String>,
    /// Objects this run wrote and found wrong that could not be deleted: (target key, why the
    /// delete failed). They must be deleted by hand.
    pub wrong_left: Vec<(String, String)>,
    /// How the bytes were written and checked at the target (`[target] checksum`, with
    /// `auto` resolved: `trailer`, `trailer-parts` (trailers, but no FULL_OBJECT multipart
    /// checksum), `md5` or `none`), and why when `auto` chose it.
    pub checksum_mode: Option<String>,
    pub checksum_mode_reason: Option<String>,
}

/// A multipart upload an abort could not remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftUpload {
    pub key: String,
    pub upload_id: String,
    /// Why the abort failed.
    pub error: String,
}

/// An in-progress upload airlock found at a key it copies but did not open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignUpload {
    pub key: String,
    pub upload_id: String,
}

impl ForeignUpload {
    /// The warning that names it.
    pub fn warning(&self) -> String {
        format!(
            "upload '{}' of '{}' was not opened by airlock (no state record): left alone; if nobody needs it, abort it (S3 AbortMultipartUpload) to free its storage",
            self.upload_id, self.key
        )
    }
}

/// Deletions a mirror run left undone, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedDeletions {
    pub objects: u64,
    pub bytes: u64,
    pub reason: String,
}

impl RunSummary {
    /// The entries each list left out (all 0 when every list is whole).
    pub fn left_out(&self) -> LeftOut {
        self.left_out.as_deref().cloned().unwrap_or_default()
    }

    pub(crate) fn left_out_mut(&mut self) -> &mut LeftOut {
        self.left_out.get_or_insert_with(Default::default)
    }

    /// Bytes copied per second over the time the run was not paused (0 for no time).
    pub fn average_rate(&self) -> f64 {
        let active_ms = self.elapsed_ms.saturating_sub(self.paused_ms);
        if active_ms == 0 {
            0.0
        } else {
            self.bytes_copied as f64 * 1000.0 / active_ms as f64
        }
    }

    /// 0 when everything was copied or skipped, 1 when any object failed or was cancelled (or
    /// a mirror deletion failed), 130 when interrupted, 2 when the run halted on expired keys or a refused ACL. Deletions skipped for lack of
    /// confirmation do not change the code.
    pub fn exit_code(&self) -> i32 {
        if self.halted.is_some() {
            // A credentials or config problem, like one found before the run.
            2
        } else if self.interrupted {
            130
        } else if self.failed > 0 || self.cancelled > 0 || self.delete_failed > 0 {
            1
        } else {
            0
        }
    }
}

/// What the UI asks the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start no new requests; in-flight requests finish.
    Pause,
    Resume,
    /// Queue every failed object again.
    RetryFailed,
    /// Queue one failed object again.
    Retry(ObjectId),
    /// Stop one object: its requests are dropped and its multipart upload aborted. (A `single`
    /// PUT whose body had already reached the target may still complete there.)
    Cancel(ObjectId),
    /// Cancel every object not yet done.
    CancelAll,
    /// Set the concurrency limit (1..=1024); SlowDown backoff still applies below it.
    SetConcurrency(usize),
    /// Set the bandwidth cap in bytes per second (None: no cap), effective at once.
    SetBandwidthLimit(Option<u64>),
    /// Graceful stop (Ctrl-C): start nothing new, let in-flight requests finish, keep the
    /// journal so a later run resumes.
    Stop,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_list_keeps_its_first_entries_and_counts_the_rest() {
        let (mut list, mut more) = (Vec::new(), 0);
        for i in 0..SUMMARY_LIST_LIMIT + 7 {
            if !push_bounded(&mut list, i) {
                more += 1;
            }
        }
        assert_eq!(list.len(), SUMMARY_LIST_LIMIT);
        assert_eq!(list.last(), Some(&(SUMMARY_LIST_LIMIT - 1)));
        assert_eq!(more, 7);
        // In JSON the counts appear only when something was left out.
        let json = serde_json::to_value(RunSummary::default()).unwrap();
        assert!(json.get("left_out").is_none(), "{json}");
    }
}
