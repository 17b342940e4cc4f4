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
//! The file is written when the run ends (also after Ctrl-C); a killed process leaves none.
//! `airlock verify` reads it back ([`read`]). Depends on `engine` (events), `plan`,
//! `aws::listing` (the HEADs) and `fsutil`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::aws::SideClient;
use crate::aws::listing::head;
use crate::engine::{Event, ObjectId};
use crate::error::{Error, Result};
use crate::plan::{Plan, PlanItem, PlanSide, Route};

/// Bumped when a manifest's fields change incompatibly.
pub const MANIFEST_FORMAT: u32 = 1;

/// HEAD requests in flight while recording the target's state.
const HEAD_CONCURRENCY: usize = 16;

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

/// Collects events during a run and writes the manifest at the end.
pub struct ManifestRecorder {
    path: PathBuf,
    source: PlanSide,
    target: PlanSide,
    started_at: String,
    records: Vec<Record>,
    /// Retries seen per object, for the attempts of objects that failed.
    retries: HashMap<ObjectId, u32>,
    /// Mirror deletions: target key -> index of its record (after the copies' records).
    deletions: HashMap<String, usize>,
    /// For the header's `warnings`.
    warnings: Vec<String>,
}

impl ManifestRecorder {
    /// Prepare a manifest for `plan` at `path`. Fails now (not after a long copy) when the
    /// file cannot be written.
    pub fn begin(path: &Path, plan: &Plan) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(ManifestRecorder {
            path: path.to_path_buf(),
            source: plan.source.clone(),
            target: plan.target.clone(),
            started_at: now(),
            records: plan
                .items
                .iter()
                .map(record_of)
                .chain(plan.deletions.iter().map(deletion_record))
                .collect(),
            deletions: plan
                .deletions
                .iter()
                .enumerate()
                .map(|(i, d)| (d.target_key.clone(), plan.items.len() + i))
                .collect(),
            retries: HashMap::new(),
            warnings: Vec::new(),
        })
    }

    /// Fold one engine event into the records.
    pub fn event(&mut self, event: &Event) {
        match event {
            Event::ObjectStarted { id, .. } => {
                if let Some(r) = self.records.get_mut(*id)
                    && r.started_at.is_none()
                {
                    r.started_at = Some(now());
                }
            }
            Event::PartRetry { id, .. } => *self.retries.entry(*id).or_default() += 1,
            Event::ForeignUpload { key, upload_id, .. } => {
                let found = crate::engine::ForeignUpload {
                    key: key.clone(),
                    upload_id: upload_id.clone(),
                };
                self.warnings.push(found.warning());
            }
            Event::ObjectDone {
                id,
                bytes,
                verification,
                ..
            } => {
                // Attempts of the object as a whole (1 + its retries), as for failed objects;
                // the event's own count adds up every part's requests.
                let attempts = 1 + self.retries.get(id).copied().unwrap_or(0);
                if let Some(r) = self.records.get_mut(*id) {
                    r.outcome = "copied".into();
                    r.bytes = *bytes;
                    r.attempts = attempts;
                    r.verified = verification.verified;
                    r.source_check = Some(verification.source.clone());
                    r.target_check = Some(verification.target.clone());
                    r.finished_at = Some(now());
                    r.error = None;
                }
            }
            Event::ObjectFailed {
                id,
                error,
                removed_after_failed_check,
                wrong_object_left,
                ..
            } => {
                let attempts = 1 + self.retries.get(id).copied().unwrap_or(0);
                if let Some(r) = self.records.get_mut(*id) {
                    r.outcome = "failed".into();
                    r.removed_after_failed_check = *removed_after_failed_check;
                    r.wrong_object_left = wrong_object_left.is_some();
                    r.attempts = attempts;
                    r.error = Some(error.clone());
                    r.finished_at = Some(now());
                }
            }
            Event::ObjectCancelled { id, .. } => {
                if let Some(r) = self.records.get_mut(*id) {
                    r.outcome = "cancelled".into();
                    r.finished_at = Some(now());
                }
            }
            Event::ObjectDeleted { key, .. } => {
                if let Some(r) = self
                    .deletions
                    .get(key)
                    .and_then(|&i| self.records.get_mut(i))
                {
                    r.outcome = "deleted".into();
                    r.attempts = 1;
                    r.finished_at = Some(now());
                }
            }
            Event::DeleteFailed { key, error } => {
                if let Some(r) = self
                    .deletions
                    .get(key)
                    .and_then(|&i| self.records.get_mut(i))
                {
                    r.outcome = "delete_failed".into();
                    r.attempts = 1;
                    r.error = Some(error.clone());
                    r.finished_at = Some(now());
                }
            }
            Event::DeletionsSkipped { reason, .. } => {
                for &i in self.deletions.values() {
                    if let Some(r) = self.records.get_mut(i)
                        && r.outcome == "not_deleted"
                    {
                        r.error = Some(format!("not deleted: {reason}"));
                    }
                }
            }
            _ => {}
        }
    }

    /// Where the manifest goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// HEAD what is at the target and write the file. Returns the records written.
    pub async fn finish(mut self, target: &SideClient) -> Result<usize> {
        let at_target: Vec<usize> = (0..self.records.len())
            .filter(|&i| matches!(self.records[i].outcome.as_str(), "copied" | "skipped"))
            .collect();
        let records = &self.records;
        let heads: Vec<(usize, Result<Option<crate::plan::ObjectInfo>>)> =
            futures::stream::iter(at_target)
                .map(|i| async move { (i, head(target, &records[i].target_key).await) })
                .buffer_unordered(HEAD_CONCURRENCY)
                .collect()
                .await;
        for (i, result) in heads {
            let r = &mut self.records[i];
            match result {
                Ok(Some(info)) => {
                    r.target_size = Some(info.size);
                    r.target_etag = info.etag;
                    if let Some(checksum) = info.checksum {
                        r.target_checksum_algorithm =
                            Some(format!("{:?}", checksum.algorithm).to_lowercase());
                        r.target_checksum = Some(checksum.value);
                    }
                }
                Ok(None) => r.error = Some("not found at the target after the run".into()),
                Err(e) => r.error = Some(format!("HEAD after the run failed: {e}")),
            }
        }
        let header = Header {
            manifest: MANIFEST_FORMAT,
            source: self.source,
            target: self.target,
            started_at: self.started_at,
            finished_at: now(),
            warnings: self.warnings,
        };
        let bytes = encode(&self.path, &header, &self.records)?;
        crate::fsutil::write_atomic(&self.path, &bytes, 0o644)?;
        Ok(self.records.len())
    }
}

fn record_of(item: &PlanItem) -> Record {
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
fn deletion_record(deletion: &crate::plan::Deletion) -> Record {
    Record {
        size: deletion.size,
        target_key: deletion.target_key.clone(),
        route: "delete".into(),
        reason: deletion.reason.clone(),
        outcome: "not_deleted".into(),
        ..Default::default()
    }
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

fn encode(path: &Path, header: &Header, records: &[Record]) -> Result<Vec<u8>> {
    let fail = |e: String| Error::internal(format!("manifest '{}': {e}", path.display()));
    if is_csv(path) {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for record in records {
            writer.serialize(record).map_err(|e| fail(e.to_string()))?;
        }
        return writer.into_inner().map_err(|e| fail(e.to_string()));
    }
    let mut bytes = serde_json::to_vec(header).map_err(|e| fail(e.to_string()))?;
    bytes.push(b'\n');
    for record in records {
        serde_json::to_writer(&mut bytes, record).map_err(|e| fail(e.to_string()))?;
        bytes.push(b'\n');
    }
    Ok(bytes)
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

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}
