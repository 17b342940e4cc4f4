//! A fresh sharded run (`airlock run --shard I/N` without `--plan`) in bounded memory: the
//! byte-balanced cut needs the whole plan's totals before it can say which items are this
//! shard's, so the plan is first written streaming to a temporary format 5 file on local disk
//! (as `airlock plan -o plan.jsonl.zst` writes it), and that file then runs as `run --plan
//! FILE --shard I/N` does (cut from the header's totals while it streams; not rechecked
//! against the target, whose listing it was made from a moment ago, so each side is listed
//! once). Copying starts only when planning ends. Depends on `job::stream_plan` and
//! `job::plan_store`.

use std::path::PathBuf;

use super::super::plan_store::LinesOutput;
use super::super::stream_plan::{self, Outcome};
use crate::aws::Sides;
use crate::config::Settings;
use crate::error::{Error, Result};

/// A plan written to a temporary folder, removed when this is dropped (a reader that opened
/// the file before keeps reading it).
pub(super) struct TempPlan {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// Plan the configured prefixes into a temporary format 5 file. None: a listing was out of
/// key order (the caller plans in memory, as before).
pub(super) async fn plan_to_file(sides: &Sides, settings: &Settings) -> Result<Option<TempPlan>> {
    let dir = tempfile::Builder::new()
        .prefix("airlock-shard-plan-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let path = dir.path().join("plan.jsonl.zst");
    let mut file = LinesOutput::create(&path)?;
    let outcome = stream_plan::stream_plan(sides, settings, &settings.transfer, |entry| {
        file.push(&entry)
    })
    .await?;
    match outcome {
        Outcome::Planned { header, .. } => {
            file.finish(&header, sides).await?;
            tracing::info!(path = %path.display(), items = header.items, "fresh shard: planned to a temporary file");
            Ok(Some(TempPlan { _dir: dir, path }))
        }
        Outcome::OutOfOrder(why) => {
            tracing::warn!(%why, "fresh shard: planning in memory");
            Ok(None)
        }
    }
}
