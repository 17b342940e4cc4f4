//! `airlock run --manifest FILE`: the audit trail of a run, one record per object of the plan
//! (copied, skipped, failed, cancelled or not started), built from the engine's event stream,
//! and in mirror mode one record per planned deletion (deleted, delete_failed, not_deleted).
//!
//! After the run, every object that is at the target (copied or skipped) is HEADed once with
//! checksum mode, and its size, ETag and full-object checksum are recorded: that is what
//! `airlock verify --manifest FILE` checks the target against later.
//!
//! Formats: JSON lines (the default; the first line is a header naming both sides, then one
//! object per line) or CSV when FILE ends in `.csv` (a header row, one row per object). A
//! manifest holds keys, sizes, ETags, checksums, times and error messages; never credentials.
//! Records go to a temporary spool file as objects finish (an object in progress is held
//! only until it ends), and the HEAD pass reads the spool back streaming, so a manifest of
//! millions of objects takes memory that does not grow with them. A streamed run's records
//! come in the order objects ended (skips as they are read from the plan); a plan in hand's
//! in plan order (items, then deletions). The file is written when the run
//! ends (also after Ctrl-C); a killed process leaves none.
//! `airlock verify` reads it back ([`read`]). Depends on `engine` (events), `plan`,
//! `aws::listing` (the HEADs) and `fsutil`.

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::plan::{PlanItem, PlanSide, Route};

/// Bumped when a manifest's fields change incompatibly.
pub const MANIFEST_FORMAT: u32 = 1;

/// The first line of a JSON-lines manifest: what was copied where.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub manifest: u32,
    pub source: PlanSide,
    pub target: PlanSide,
    pub started_at: String,
    pub finished_at: String,
    /// What the run found and left alone, in words (uploads of copied keys that airlock did
    /// not open). JSON lines only: a CSV manifest has no header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One object of the run. Flat, so the same record is a CSV row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub source_key: String,
    /// The source version copied (the plan's `version_at` pinned it); empty when the latest
    /// was copied.
    pub version_id: Option<String>,
    pub source_etag: Option<String>,
    pub size: u64,
    pub target_key: String,
    /// `skip`, `single`, `multipart`, or `delete` (mirror mode; no source key).
    pub route: String,
    /// Why the plan chose the route (`new`, `same size and ETag`, ...).
    pub reason: String,
    /// `copied`, `skipped`, `failed`, `cancelled` or `not_started`; for `delete` records
    /// `deleted`, `delete_failed` or `not_deleted`.
    pub outcome: String,
    /// Bytes written to the target in this run.
    pub bytes: u64,
    /// Attempts of the object's requests (1 when nothing was retried).
    pub attempts: u32,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// True only when both hops were checked by checksum (or MD5).
    pub verified: bool,
    /// How the bytes read were checked against the source (the checksums compared).
    pub source_check: Option<String>,
    /// How the bytes written were checked at the target.
    pub target_check: Option<String>,
    /// The target object as HEAD saw it after the run: what `airlock verify` compares.
    pub target_size: Option<u64>,
    pub target_etag: Option<String>,
    pub target_checksum_algorithm: Option<String>,
    pub target_checksum: Option<String>,
    pub error: Option<String>,
    /// The object failed the check after its write and the object this run wrote was deleted
    /// from the target (a rerun copies it again).
    #[serde(default)]
    pub removed_after_failed_check: bool,
    /// The object failed the check after its write and could not be deleted: a wrong object
    /// is at `target_key` and must be deleted by hand.
    #[serde(default)]
    pub wrong_object_left: bool,
}

mod deletions;
mod recorder;

pub use recorder::{ManifestRecorder, ManifestTap};

pub(crate) fn record_of(item: &PlanItem) -> Record {
    let skipped = item.route == Route::Skip;
    Record {
        source_key: item.source_key.clone(),
        version_id: item.source_version_id.clone(),
        source_etag: item.source_etag.clone(),
        size: item.size,
        target_key: item.target_key.clone(),
        route: item.route.as_str().into(),
        reason: item.reason.clone(),
        outcome: if skipped { "skipped" } else { "not_started" }.into(),
        ..Default::default()
    }
}

/// A mirror deletion's record: no source key (the source has none), route `delete`, outcome
/// `not_deleted` until the run deletes it (`deleted`) or fails to (`delete_failed`).
pub(crate) fn deletion_record(deletion: &crate::plan::Deletion) -> Record {
    Record {
        size: deletion.size,
        target_key: deletion.target_key.clone(),
        route: "delete".into(),
        reason: deletion.reason.clone(),
        outcome: "not_deleted".into(),
        ..Default::default()
    }
}

pub(crate) fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Read a manifest written by [`ManifestRecorder`]: its header (JSON lines only) and records.
pub fn read(path: &Path) -> Result<(Option<Header>, Vec<Record>)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!(
            "manifest '{}': {e}; give the file an earlier 'airlock run --manifest FILE' wrote",
            path.display()
        ))
    })?;
    let bad = |why: String| {
        Error::usage(format!(
            "'{}' is not an airlock manifest ({why}); write one with 'airlock run --manifest FILE'",
            path.display()
        ))
    };
    if is_csv(path) {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let records = reader
            .deserialize()
            .collect::<std::result::Result<Vec<Record>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        return Ok((None, records));
    }
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Header = match lines.next() {
        Some((_, line)) => serde_json::from_str(line).map_err(|e| bad(format!("line 1: {e}")))?,
        None => return Err(bad("it is empty".into())),
    };
    if header.manifest != MANIFEST_FORMAT {
        return Err(bad(format!(
            "format {} where this airlock reads {MANIFEST_FORMAT}",
            header.manifest
        )));
    }
    let records = lines
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", n + 1)))
        })
        .collect::<Result<Vec<Record>>>()?;
    Ok((Some(header), records))
}

pub(crate) fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}
