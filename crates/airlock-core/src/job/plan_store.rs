//! Where plan files live: a local file, or `s3://BUCKET/KEY` in the target account (read and
//! written with the target side's credentials, like shard reports), so that every shard of an
//! AWS Batch array or a Kubernetes indexed Job reads the one plan without a shared disk.
//!
//! The only module that reads or writes plan files; the format and the checks a plan read back
//! must pass are `plan`'s (pure). A name ending `.jsonl`, `.jsonl.zst` or `.jsonl.gz` is
//! written as format 5 (JSON lines, streamed, see [`super::plan_file`]); any other name as one
//! JSON document (formats 2-4). Reading takes either, whatever the name. An `s3://` plan of
//! format 5 is written to a local temporary file and uploaded from it (multipart above 8 MiB,
//! read a part at a time); `run` reads one as its GET body arrives ([`incoming`]), other
//! readers download it to a temporary file first.
//! Depends on `plan`, `aws::documents`, `plan_file` and `fsutil`.

pub(crate) mod incoming;

use std::path::Path;

use super::plan_file::{self, Compression, Opened, PlanLines, PlanWriter};
use crate::aws::Sides;
use crate::aws::documents::{self, S3Location};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::plan::lines::{Checker, Entry, PlanHeader};
use crate::plan::{Plan, parse_plan, plan_json};

/// The S3 location a plan argument names, if it is an `s3://` URL. A prefix is refused: a plan
/// is one object.
fn location(path: &Path) -> Result<Option<S3Location>> {
    let Some(location) = path.to_str().map(S3Location::parse).transpose()?.flatten() else {
        return Ok(None);
    };
    if location.is_prefix() {
        return Err(Error::usage(format!(
            "'{}' names a prefix, not a plan: give the plan's key, e.g. s3://{}/plans/backfill.json",
            path.display(),
            location.bucket
        )));
    }
    Ok(Some(location))
}

/// Read a plan file (any format) and check it was made for this config (same buckets,
/// prefixes, endpoints).
pub fn load_plan(path: &Path, settings: &Settings) -> Result<Plan> {
    load_plan_from(path, path, settings)
}

/// [`load_plan`] of the local file `file`, named `shown` in errors.
fn load_plan_from(file: &Path, shown: &Path, settings: &Settings) -> Result<Plan> {
    match plan_file::open(file, shown)? {
        Opened::Json(text) => parse_plan(&text, shown, settings),
        Opened::Lines(lines) => {
            let (mut items, mut deletions) = (Vec::new(), Vec::new());
            let header = check_lines(*lines, shown, settings, |entry| match entry {
                Entry::Item(item) => items.push(item),
                Entry::Deletion(deletion) => deletions.push(deletion),
            })?;
            Ok(header.into_plan(items, deletions))
        }
    }
}

/// Every entry of a format 5 plan, checked line by line ([`Checker`]), to `each`; the header
/// once the entries are known to add up to it.
pub(crate) fn check_lines(
    lines: PlanLines,
    shown: &Path,
    settings: &Settings,
    mut each: impl FnMut(Entry),
) -> Result<PlanHeader> {
    let mut checker = Checker::new(lines.header().clone(), shown, settings)?;
    for entry in lines {
        let entry = entry?;
        checker.check(&entry)?;
        each(entry);
    }
    checker.finish()
}

/// Write a plan's JSON ([`plan_json`]) as a plan file (atomically: temp file then rename).
fn write_plan_file(json: &[u8], path: &Path) -> Result<()> {
    crate::fsutil::write_atomic(path, json, 0o644)
}

/// Read a plan from a file or from S3, and check it was made for this config.
pub async fn read_plan(path: &Path, settings: &Settings, sides: &Sides) -> Result<Plan> {
    let local = fetch(path, sides).await?;
    let (file, shown, settings) = (
        local.path().to_path_buf(),
        path.to_path_buf(),
        settings.clone(),
    );
    tokio::task::spawn_blocking(move || load_plan_from(&file, &shown, &settings))
        .await
        .map_err(|e| Error::internal(format!("reading the plan: {e}")))?
}

/// A saved plan read for one shard: only this shard's items kept.
pub(crate) struct ShardCut {
    pub plan: Plan,
    /// Fingerprint of the whole plan's items (as [`super::shard_report::plan_id_of`] of the plan
    /// read whole gives), when asked for.
    pub plan_id: Option<String>,
    /// Deletions of the plan left out (`copy_only`).
    pub deletions_left_out: u64,
}

/// What [`read_shard`] found.
pub(crate) enum ShardRead {
    /// A format 5 plan without split objects, cut to the shard while streaming it.
    Cut(ShardCut),
    /// A plan read whole (formats 1-4, or split objects): the caller cuts it.
    Whole(Plan),
}

/// Read the saved plan at `path` for shard `index` of `count`: a format 5 plan without split
/// objects is cut while it streams ([`super::shard::StreamShard`]), keeping only this shard's
/// items in memory; any other plan is read whole. A plan that deletes is refused unless
/// `copy_only` (deletions cannot be sharded).
pub(crate) async fn read_shard(
    path: &Path,
    settings: &Settings,
    sides: &Sides,
    (index, count): (u32, u32),
    copy_only: bool,
    want_id: bool,
) -> Result<ShardRead> {
    let local = fetch(path, sides).await?;
    let (shown, settings) = (path.to_path_buf(), settings.clone());
    tokio::task::spawn_blocking(move || {
        let lines = match plan_file::open(local.path(), &shown)? {
            Opened::Json(text) => {
                return parse_plan(&text, &shown, &settings).map(ShardRead::Whole);
            }
            Opened::Lines(lines) if lines.header().split_objects > 0 => {
                drop(lines);
                return load_plan_from(local.path(), &shown, &settings).map(ShardRead::Whole);
            }
            Opened::Lines(lines) => *lines,
        };
        let deletes = lines.header().deletions.objects;
        if deletes > 0 && !copy_only {
            return Err(super::run::deletions_cannot_be_sharded(deletes as usize));
        }
        let mut shard =
            super::shard::StreamShard::new(index, count, &lines.header().summary, false);
        let mut id = want_id.then(|| crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme));
        let mut first = true;
        let mut items = Vec::new();
        let mut failed = None;
        let header = check_lines(lines, &shown, &settings, |entry| {
            let Entry::Item(item) = entry else { return };
            if let Some(digest) = id.as_mut() {
                digest.update(if first { b"[" } else { b"," });
                match serde_json::to_vec(&item) {
                    Ok(json) => digest.update(&json),
                    Err(e) => failed = Some(Error::internal(format!("plan item to JSON: {e}"))),
                }
                first = false;
            }
            if shard.owns(&item) {
                items.push(item);
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        let plan_id = id.map(|mut digest| {
            digest.update(if first { b"[]" } else { b"]" });
            format!("{:016x}", digest.finalize())
        });
        let mut plan = header.into_plan(items, Vec::new());
        if deletes > 0 {
            plan.settings.mode = crate::config::TransferMode::Copy;
        }
        Ok(ShardRead::Cut(ShardCut {
            plan,
            plan_id,
            deletions_left_out: deletes,
        }))
    })
    .await
    .map_err(|e| Error::internal(format!("reading the plan: {e}")))?
}

/// A plan file on this host: the file itself, or an `s3://` plan downloaded (streamed) to a
/// temporary file that goes when this is dropped.
pub(crate) enum Local {
    File(std::path::PathBuf),
    Downloaded(tempfile::TempPath),
}

impl Local {
    pub(crate) fn path(&self) -> &Path {
        match self {
            Local::File(path) => path,
            Local::Downloaded(path) => path,
        }
    }
}

/// The plan at `path` as a local file (see [`Local`]).
pub(crate) async fn fetch(path: &Path, sides: &Sides) -> Result<Local> {
    let Some(location) = location(path)? else {
        return Ok(Local::File(path.to_path_buf()));
    };
    let tmp = tempfile::Builder::new()
        .prefix(".airlock-plan-")
        .tempfile()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?
        .into_temp_path();
    documents::get_to_file(&sides.target, &location.bucket, &location.key, &tmp)
        .await
        .map_err(|e| {
            Error::plan(format!(
                "plan '{location}' cannot be read with the target's credentials ({e}); make \
                 one with 'airlock plan -o {location}' or check the bucket and key"
            ))
        })?;
    Ok(Local::Downloaded(tmp))
}

/// Save a plan to a file (on the blocking pool) or to S3: format 5 when the name says so
/// ([`plan_file::is_lines_name`]), else one JSON document.
pub async fn write_plan(plan: &Plan, path: &Path, sides: &Sides) -> Result<()> {
    if plan_file::is_lines_name(&path.to_string_lossy()) {
        let mut output = LinesOutput::create(path)?;
        // Format 5 lists target keys in order; a plan in memory may not be.
        let mut entries: Vec<Entry> = (plan.items.iter().cloned().map(Entry::Item))
            .chain(plan.deletions.iter().cloned().map(Entry::Deletion))
            .collect();
        entries.sort_by(|a, b| a.target_key().cmp(b.target_key()));
        for entry in &entries {
            output.push(entry)?;
        }
        return output.finish(&PlanHeader::of(plan), sides).await;
    }
    let json = plan_json(plan)?;
    match location(path)? {
        None => {
            let path = path.to_path_buf();
            tokio::task::spawn_blocking(move || write_plan_file(&json, &path))
                .await
                .map_err(|e| Error::internal(format!("saving the plan: {e}")))?
        }
        Some(location) => {
            documents::put(&sides.target, &location.bucket, &location.key, json).await
        }
    }
}

/// A format 5 plan being written entry by entry (`airlock plan -o plan.jsonl.zst`): to a
/// temporary file next to a local destination, or in the temporary folder for `s3://`.
pub struct LinesOutput {
    writer: PlanWriter,
    path: std::path::PathBuf,
    location: Option<S3Location>,
}

impl LinesOutput {
    pub fn create(path: &Path) -> Result<Self> {
        let location = location(path)?;
        let name = path.to_string_lossy();
        let dir = match location {
            Some(_) => std::env::temp_dir(),
            None => plan_file::folder_of(path).to_path_buf(),
        };
        Ok(LinesOutput {
            writer: PlanWriter::new(&dir, Compression::of_name(&name))?,
            path: path.to_path_buf(),
            location,
        })
    }

    pub fn push(&mut self, entry: &Entry) -> Result<()> {
        self.writer.push(entry)
    }

    /// Put the header first and the plan in place (rename, or upload then remove).
    pub async fn finish(self, header: &PlanHeader, sides: &Sides) -> Result<()> {
        match self.location {
            None => self.writer.finish_to(header, &self.path),
            Some(location) => {
                let whole = self.writer.finish(header)?;
                documents::put_file(&sides.target, &location.bucket, &location.key, whole.path())
                    .await
            }
        }
    }
}

/// Refuse a bad plan location before any listing or copying (an `s3://` prefix).
pub fn check(path: &Path) -> Result<()> {
    location(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_keys_are_locations_and_prefixes_are_refused() {
        assert_eq!(location(Path::new("plan.json")).unwrap(), None);
        assert_eq!(
            location(Path::new("s3://bucket/plans/p.json")).unwrap(),
            Some(S3Location {
                bucket: "bucket".into(),
                key: "plans/p.json".into()
            })
        );
        let err = location(Path::new("s3://bucket/plans/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'s3://bucket/plans/' names a prefix"), "{err}");
        assert!(location(Path::new("s3://bucket")).is_err());
        assert!(location(Path::new("s3:///key")).is_err());
    }
}
