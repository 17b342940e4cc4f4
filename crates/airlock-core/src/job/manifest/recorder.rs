//! [`ManifestRecorder`]: a run's manifest, recorded as the run goes. An object's record is held
//! from the moment the plan gives it (through a [`ManifestTap`], by the code that feeds the
//! engine) until its last event, then appended to a spool file; skips and the end of the run
//! go straight there. [`ManifestRecorder::finish`] reads the spool back a record at a time,
//! HEADs what is at the target (a bounded, order-keeping window) and writes the manifest next
//! to its destination, then renames it into place.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tempfile::NamedTempFile;

use super::deletions::DeletionSpool;
use super::{Header, MANIFEST_FORMAT, Record, deletion_record, is_csv, now, record_of};
use crate::aws::SideClient;
use crate::aws::listing::head;
use crate::engine::{Event, ObjectId};
use crate::error::{Error, Result};
use crate::plan::{Deletion, Plan, PlanItem, PlanSide};

/// HEAD requests in flight while recording the target's state.
const HEAD_CONCURRENCY: usize = 16;

/// The order key of a deletion's record: after every item.
const DELETION: u64 = u64::MAX;

/// What the recorder and its taps share.
struct Book {
    path: PathBuf,
    /// Records of objects given and not ended yet, by id.
    open: HashMap<ObjectId, Record>,
    /// Mirror deletions until their outcome is known, on disk ([`DeletionSpool`]; made at
    /// the first deletion).
    deletions: Option<DeletionSpool>,
    /// Why the deletions not made yet will not be (`DeletionsSkipped`).
    deletions_skipped: Option<String>,
    /// Retries seen per open object, for the attempts of its record.
    retries: HashMap<ObjectId, u32>,
    /// Ended records, one JSON line each.
    spool: BufWriter<NamedTempFile>,
    /// Records written to the spool.
    spooled: usize,
    /// A plan in hand: the manifest lists its records in plan order (items, then deletions),
    /// sorted at the end; a streamed plan's come in the order objects ended.
    ordered: bool,
    /// The first error writing the spool (told at `finish`).
    failed: Option<Error>,
}

impl Book {
    /// Append a record to the spool as `ORDER<TAB>JSON`: its id, or [`DELETION`].
    fn spool(&mut self, order: u64, record: &Record) {
        if self.failed.is_some() {
            return;
        }
        let written = write!(self.spool, "{order}\t")
            .and_then(|()| {
                serde_json::to_writer(&mut self.spool, record).map_err(std::io::Error::other)
            })
            .and_then(|()| self.spool.write_all(b"\n"));
        match written {
            Ok(()) => self.spooled += 1,
            Err(e) => self.failed = Some(Error::io(&self.path, e)),
        }
    }

    fn item(&mut self, id: ObjectId, item: &PlanItem) {
        let record = record_of(item);
        if record.outcome == "skipped" {
            self.spool(id as u64, &record);
        } else {
            self.open.insert(id, record);
        }
    }

    /// A planned deletion: its record waits on disk for its outcome.
    fn deletion(&mut self, deletion: &Deletion) {
        if self.failed.is_some() {
            return;
        }
        if self.deletions.is_none() {
            match DeletionSpool::new() {
                Ok(spool) => self.deletions = Some(spool),
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        }
        let Some(spool) = self.deletions.as_mut() else {
            return;
        };
        if let Err(e) = spool.push(&deletion_record(deletion)) {
            self.failed = Some(Error::io(&self.path, e));
        }
    }

    /// A deletion's outcome came: its planned record (or, out of the expected order, one made
    /// from the event's key and size), updated, goes to the spool.
    fn deletion_ended(&mut self, key: &str, bytes: Option<u64>, update: impl FnOnce(&mut Record)) {
        let planned = match self.deletions.as_mut().map(|spool| spool.take(key)) {
            Some(Ok(planned)) => planned,
            Some(Err(e)) => {
                self.failed.get_or_insert(Error::io(&self.path, e));
                return;
            }
            None => None,
        };
        let mut record = planned.unwrap_or_else(|| {
            tracing::warn!(%key, "a deletion's outcome out of the planned order");
            deletion_record(&Deletion {
                route: Default::default(),
                target_key: key.to_string(),
                size: bytes.unwrap_or(0),
                etag: None,
                modified_ms: None,
                reason: crate::plan::DELETE_REASON.into(),
            })
        });
        update(&mut record);
        record.attempts = 1;
        record.finished_at = Some(now());
        self.spool(DELETION, &record);
    }

    /// The deletions no outcome came for, to the spool (in feed order).
    fn deletions_left(&mut self) {
        let Some(mut spool) = self.deletions.take() else {
            return;
        };
        loop {
            match spool.rest() {
                Ok(Some(mut record)) => {
                    if let Some(reason) = &self.deletions_skipped {
                        record.error = Some(format!("not deleted: {reason}"));
                    }
                    self.spool(DELETION, &record);
                }
                Ok(None) => return,
                Err(e) => {
                    self.failed.get_or_insert(Error::io(&self.path, e));
                    return;
                }
            }
        }
    }

    /// Deletions whose record is in memory (at most one, see [`DeletionSpool`]).
    #[cfg(test)]
    fn deletions_held(&self) -> usize {
        self.deletions.as_ref().map_or(0, DeletionSpool::held)
    }

    /// The object ended: its record, updated, goes to the spool.
    fn end(&mut self, id: ObjectId, update: impl FnOnce(&mut Record, u32)) {
        let attempts = 1 + self.retries.remove(&id).unwrap_or(0);
        if let Some(mut record) = self.open.remove(&id) {
            update(&mut record, attempts);
            record.finished_at = Some(now());
            self.spool(id as u64, &record);
        }
    }
}

/// Gives the run's recorders the plan's entries as they are fed to the engine: a
/// [`ManifestRecorder`]'s book, and the shard report's tap
/// ([`crate::job::shard_report::ReportTap`]) when a report is asked for; cheap to clone. Give
/// each item before the engine can see it, with its id (position among items).
#[derive(Clone)]
pub struct ManifestTap {
    book: Option<Arc<Mutex<Book>>>,
    report: Option<crate::job::shard_report::ReportTap>,
}

impl ManifestTap {
    /// The tap of the manifest (if any) and of the shard report (if any); None for neither.
    pub(crate) fn of(
        manifest: Option<&ManifestRecorder>,
        report: Option<crate::job::shard_report::ReportTap>,
    ) -> Option<Self> {
        let book = manifest.and_then(|m| m.tap.book.clone());
        (book.is_some() || report.is_some()).then_some(ManifestTap { book, report })
    }

    fn book(&self) -> Option<std::sync::MutexGuard<'_, Book>> {
        let book = self.book.as_ref()?;
        Some(book.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    pub fn item(&self, id: ObjectId, item: &PlanItem) {
        if let Some(report) = &self.report {
            report.item(id, item);
        }
        if let Some(mut book) = self.book() {
            book.item(id, item);
        }
    }

    pub fn deletion(&self, deletion: &Deletion) {
        if let Some(mut book) = self.book() {
            book.deletion(deletion);
        }
    }
}

/// Collects events during a run and writes the manifest at the end (see the module docs).
pub struct ManifestRecorder {
    tap: ManifestTap,
    path: PathBuf,
    source: PlanSide,
    target: PlanSide,
    started_at: String,
    /// For the header's `warnings`.
    warnings: Vec<String>,
}

impl ManifestRecorder {
    /// Prepare a manifest for `plan` at `path`. Fails now (not after a long copy) when the
    /// file cannot be written.
    pub fn begin(path: &Path, plan: &Plan) -> Result<Self> {
        let recorder = Self::begin_stream(path, &plan.source, &plan.target)?;
        recorder.book().ordered = true;
        for (id, item) in plan.items.iter().enumerate() {
            recorder.tap.item(id, item);
        }
        for deletion in &plan.deletions {
            recorder.tap.deletion(deletion);
        }
        Ok(recorder)
    }

    /// Prepare a manifest at `path` for a plan whose entries come through [`Self::tap`].
    pub fn begin_stream(path: &Path, source: &PlanSide, target: &PlanSide) -> Result<Self> {
        let dir = super::super::plan_file::folder_of(path);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let spool = tempfile::Builder::new()
            .prefix(".airlock-manifest-")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        let book = Book {
            path: path.to_path_buf(),
            open: HashMap::new(),
            deletions: None,
            deletions_skipped: None,
            retries: HashMap::new(),
            spool: BufWriter::with_capacity(256 * 1024, spool),
            spooled: 0,
            ordered: false,
            failed: None,
        };
        Ok(ManifestRecorder {
            tap: ManifestTap {
                book: Some(Arc::new(Mutex::new(book))),
                report: None,
            },
            path: path.to_path_buf(),
            source: source.clone(),
            target: target.clone(),
            started_at: now(),
            warnings: Vec::new(),
        })
    }

    /// A tap for the code that feeds the plan's entries to the engine.
    pub fn tap(&self) -> ManifestTap {
        self.tap.clone()
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.tap.book().expect("a recorder's tap holds its book")
    }

    /// Fold one engine event into the records.
    pub fn event(&mut self, event: &Event) {
        if let Event::ForeignUpload { key, upload_id, .. } = event {
            let found = crate::engine::ForeignUpload {
                key: key.clone(),
                upload_id: upload_id.clone(),
            };
            self.warnings.push(found.warning());
            return;
        }
        let mut book = self.book();
        match event {
            Event::ObjectStarted { id, .. } => {
                if let Some(r) = book.open.get_mut(id)
                    && r.started_at.is_none()
                {
                    r.started_at = Some(now());
                }
            }
            Event::PartRetry { id, .. } => *book.retries.entry(*id).or_default() += 1,
            Event::ObjectDone {
                id,
                bytes,
                verification,
                ..
            } => book.end(*id, |r, attempts| {
                // Attempts of the object as a whole (1 + its retries), as for failed objects;
                // the event's own count adds up every part's requests.
                r.outcome = "copied".into();
                r.bytes = *bytes;
                r.attempts = attempts;
                r.verified = verification.verified;
                r.source_check = Some(verification.source.clone());
                r.target_check = Some(verification.target.clone());
                r.error = None;
            }),
            Event::ObjectFailed {
                id,
                error,
                removed_after_failed_check,
                wrong_object_left,
                ..
            } => book.end(*id, |r, attempts| {
                r.outcome = "failed".into();
                r.removed_after_failed_check = *removed_after_failed_check;
                r.wrong_object_left = wrong_object_left.is_some();
                r.attempts = attempts;
                r.error = Some(error.clone());
            }),
            Event::ObjectCancelled { id, .. } => book.end(*id, |r, _| {
                r.outcome = "cancelled".into();
            }),
            Event::ObjectGone { id, reason, .. } => book.end(*id, |r, _| {
                r.outcome = "skipped".into();
                r.reason = reason.clone();
            }),
            Event::ObjectDeleted { key, bytes } => {
                book.deletion_ended(key, Some(*bytes), |r| r.outcome = "deleted".into());
            }
            Event::DeleteFailed { key, error } => book.deletion_ended(key, None, |r| {
                r.outcome = "delete_failed".into();
                r.error = Some(error.clone());
            }),
            Event::DeletionsSkipped { reason, .. } => {
                book.deletions_skipped = Some(reason.clone());
            }
            _ => {}
        }
    }

    /// Where the manifest goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Spool what is still open (not started, not deleted), HEAD what is at the target and
    /// write the file. Returns the records written.
    pub async fn finish(self, target: &SideClient) -> Result<usize> {
        let spool = {
            let mut book = self.book();
            let mut open: Vec<(ObjectId, Record)> = book.open.drain().collect();
            open.sort_unstable_by_key(|(id, _)| *id);
            for (id, record) in open {
                book.spool(id as u64, &record);
            }
            book.deletions_left();
            if let Some(e) = book.failed.take() {
                return Err(e);
            }
            let path = book.path.clone();
            let empty =
                BufWriter::new(tempfile::NamedTempFile::new().map_err(|e| Error::io(&path, e))?);
            let spool = std::mem::replace(&mut book.spool, empty);
            let spool = spool
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?;
            match book.ordered {
                true => in_plan_order(spool, &path)?,
                false => spool,
            }
        };
        let header = Header {
            manifest: MANIFEST_FORMAT,
            source: self.source,
            target: self.target,
            started_at: self.started_at,
            finished_at: now(),
            warnings: self.warnings,
        };
        write_manifest(&self.path, &header, spool, target).await
    }
}

/// Read the spool's records back in order, HEAD those at the target, and write the manifest
/// (a temporary file in its folder, renamed into place).
async fn write_manifest(
    path: &Path,
    header: &Header,
    mut spool: NamedTempFile,
    target: &SideClient,
) -> Result<usize> {
    let io = |e: std::io::Error| Error::io(path, e);
    let fail = |e: String| Error::internal(format!("manifest '{}': {e}", path.display()));
    spool.seek(SeekFrom::Start(0)).map_err(io)?;
    let reader = BufReader::with_capacity(256 * 1024, spool.reopen().map_err(io)?);
    let records = futures::stream::iter(reader.lines())
        .map(|line| async move {
            let line = line.map_err(|e| Error::io(path, e))?;
            let json = line
                .split_once('\t')
                .map_or(line.as_str(), |(_, json)| json);
            let mut record: Record = serde_json::from_str(json)
                .map_err(|e| Error::internal(format!("manifest spool: {e}")))?;
            if matches!(record.outcome.as_str(), "copied" | "skipped") {
                let found = head(target, &record.target_key).await;
                at_target(&mut record, found);
            }
            Ok::<_, Error>(record)
        })
        .buffered(HEAD_CONCURRENCY);
    let mut records = std::pin::pin!(records);
    let dir = super::super::plan_file::folder_of(path);
    let out = tempfile::Builder::new()
        .prefix(".airlock-manifest-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let mut count = 0;
    let out = if is_csv(path) {
        let mut writer = csv::Writer::from_writer(BufWriter::new(out));
        while let Some(record) = records.next().await {
            writer.serialize(record?).map_err(|e| fail(e.to_string()))?;
            count += 1;
        }
        writer
            .into_inner()
            .map_err(|e| fail(e.to_string()))?
            .into_inner()
            .map_err(|e| io(e.into_error()))?
    } else {
        let mut writer = BufWriter::new(out);
        serde_json::to_writer(&mut writer, header).map_err(|e| fail(e.to_string()))?;
        writer.write_all(b"\n").map_err(io)?;
        while let Some(record) = records.next().await {
            serde_json::to_writer(&mut writer, &record?).map_err(|e| fail(e.to_string()))?;
            writer.write_all(b"\n").map_err(io)?;
            count += 1;
        }
        writer.into_inner().map_err(|e| io(e.into_error()))?
    };
    out.as_file().sync_all().map_err(io)?;
    crate::fsutil::set_mode(out.path(), 0o644)?;
    out.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(count)
}

/// What a HEAD after the run found at the record's target key.
fn at_target(r: &mut Record, found: Result<Option<crate::plan::ObjectInfo>>) {
    match found {
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

/// The spool's lines sorted by their order key (stable: deletions keep theirs), for a plan in
/// hand, whose records are in memory anyway.
fn in_plan_order(mut spool: NamedTempFile, path: &Path) -> Result<NamedTempFile> {
    let io = |e: std::io::Error| Error::io(path, e);
    spool.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut lines: Vec<(u64, String)> = BufReader::new(spool.reopen().map_err(io)?)
        .lines()
        .map(|line| {
            let line = line.map_err(io)?;
            let order = line
                .split_once('\t')
                .and_then(|(order, _)| order.parse().ok())
                .unwrap_or(DELETION);
            Ok((order, line))
        })
        .collect::<Result<_>>()?;
    lines.sort_by_key(|(order, _)| *order);
    let mut sorted = BufWriter::new(tempfile::NamedTempFile::new().map_err(io)?);
    for (_, line) in lines {
        sorted.write_all(line.as_bytes()).map_err(io)?;
        sorted.write_all(b"\n").map_err(io)?;
    }
    sorted.into_inner().map_err(|e| io(e.into_error()))
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
