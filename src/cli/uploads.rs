//! `airlock uploads list` / `airlock uploads abort [--older-than D] [--all]`: the target's
//! in-progress multipart uploads under the target prefix (orphans from killed runs), marked
//! when our journal, or the target's state object (a run on another machine), can still resume
//! them, and marked "not airlock's" when neither records them (another tool's upload, which a
//! run leaves alone; a split upload from `airlock prepare` is recorded only in its plan file).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use airlock_core::aws::SideClient;
use airlock_core::aws::objects::{UploadInfo, abort_multipart, list_uploads};
use airlock_core::config::Settings;
use airlock_core::engine::{Journal, journal_key, recorded_upload_id};
use airlock_core::error::{Error, Result};
use airlock_core::plan::PlanSide;
use airlock_core::progress::{human_duration, human_time};

fn journal(settings: &Settings) -> Option<Journal> {
    let key = journal_key(
        &PlanSide::of(&settings.source),
        &PlanSide::of(&settings.target),
    );
    Journal::open(&airlock_core::dirs::data_dir(), &key).ok()
}

fn age(upload: &UploadInfo) -> Option<Duration> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as i64;
    upload
        .initiated_ms
        .map(|t| Duration::from_millis(now.saturating_sub(t).max(0) as u64))
}

/// Print every in-progress upload under the target prefix.
pub(super) async fn list(
    target: &SideClient,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let uploads = list_uploads(target, &target.prefix).await?;
    let journaled: Vec<String> = journal(settings)
        .map(|j| {
            j.entries()
                .into_iter()
                .map(|e| e.header.upload_id)
                .collect()
        })
        .unwrap_or_default();
    for upload in &uploads {
        let state_prefix = &settings.target.write.state_prefix;
        let resumable = if journaled.contains(&upload.upload_id) {
            "  (resumable: journaled)"
        } else if recorded_upload_id(target, state_prefix, &upload.key)
            .await
            .as_deref()
            == Some(upload.upload_id.as_str())
        {
            "  (resumable: recorded at the target)"
        } else {
            "  (not airlock's: no journal or state record; a run leaves it alone)"
        };
        let age = age(upload)
            .map(human_duration)
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(
            out,
            "{}  {:>8} old  {}  upload {}{resumable}",
            human_time(upload.initiated_ms),
            age,
            upload.key,
            upload.upload_id
        );
    }
    let _ = writeln!(
        out,
        "{} in-progress uploads under s3://{}/{}",
        uploads.len(),
        target.bucket,
        target.prefix
    );
    Ok(())
}

/// Abort uploads older than `older_than` (or all with `all`). Returns how many were aborted.
pub(super) async fn abort(
    target: &SideClient,
    settings: &Settings,
    older_than: Option<&str>,
    all: bool,
    out: &mut dyn Write,
) -> Result<usize> {
    let min_age = match (older_than, all) {
        (Some(_), true) => return Err(Error::usage("give either --older-than or --all, not both")),
        (None, false) => {
            return Err(Error::usage(
                "say which uploads to abort: --older-than 24h (uploads started before then) or --all",
            ));
        }
        (None, true) => Duration::ZERO,
        (Some(text), false) => humantime::parse_duration(text).map_err(|e| {
            Error::usage(format!(
                "--older-than '{text}' is not a duration ({e}): write it like '24h' or '7d'"
            ))
        })?,
    };
    let uploads = list_uploads(target, &target.prefix).await?;
    let journal = journal(settings);
    let mut aborted = 0;
    for upload in uploads
        .iter()
        .filter(|u| age(u).is_none_or(|a| a >= min_age))
    {
        match abort_multipart(target, &upload.key, &upload.upload_id).await {
            Ok(()) => {
                aborted += 1;
                if let Some(j) = &journal
                    && j.load(&upload.key)
                        .is_some_and(|e| e.header.upload_id == upload.upload_id)
                {
                    j.remove(&upload.key);
                }
                let _ = writeln!(out, "aborted {}  upload {}", upload.key, upload.upload_id);
            }
            Err(e) => {
                let _ = writeln!(out, "could not abort {}: {e}", upload.key);
            }
        }
    }
    let _ = writeln!(
        out,
        "{aborted} uploads aborted under s3://{}/{}",
        target.bucket, target.prefix
    );
    Ok(aborted)
}
