//! `airlock prepare --plan FILE` and `airlock finalize --plan FILE`: the two steps around a
//! sharded run that split big objects across shards.
//!
//! - `prepare` opens one multipart upload per `multipart` object at or above
//!   `transfer.split_above` (or `--split-above`) and records it in the plan (upload id, source
//!   ETag and checksum, part range); objects already prepared keep their upload, so running it
//!   twice opens nothing new. The plan is saved before any error is returned, so uploads that
//!   were opened are never lost from it.
//! - `finalize` completes and verifies every split object once all shards have run. An object
//!   already complete is reported, not touched: finalize is safe to run twice.
//!
//! Exit codes: 0 done, 1 some object could not be prepared or finalized, 2 config / plan error.

use std::io::Write;

use futures::StreamExt;

use super::args::{FinalizeArgs, PrepareArgs};
use airlock_core::aws::Sides;
use airlock_core::config::Settings;
use airlock_core::engine::{EngineOptions, Finalized, finalize as finalize_one, open_split};
use airlock_core::error::Result;
use airlock_core::job::plan_store::{read_plan, write_plan};
use airlock_core::plan::Route;
use airlock_core::progress::human_bytes;

/// Uploads opened or completed at once.
const CONCURRENCY: usize = 8;

/// Open the shared uploads of a plan's big objects and save the plan; returns the exit code.
pub async fn prepare(
    settings: &Settings,
    sides: Sides,
    args: &PrepareArgs,
    out: &mut dyn Write,
) -> Result<i32> {
    let output = args.output.as_deref().unwrap_or(&args.plan);
    airlock_core::job::plan_store::check(output)?;
    let mut plan = read_plan(&args.plan, settings, &sides).await?;
    let Some(split_above) = args.split_above.or(settings.transfer.split_above) else {
        let _ = writeln!(
            out,
            "transfer.split_above is not set (and no --split-above): no object is split; shards copy whole objects"
        );
        if output != args.plan {
            write_plan(&plan, output, &sides).await?;
        }
        return Ok(0);
    };
    let todo: Vec<usize> = (0..plan.items.len())
        .filter(|&i| {
            let item = &plan.items[i];
            item.route == Route::Multipart && item.size >= split_above.0 && item.split.is_none()
        })
        .collect();
    let kept = plan.items.iter().filter(|i| i.split.is_some()).count();
    let options = EngineOptions::from_settings(settings);
    let results: Vec<_> = futures::stream::iter(todo)
        .map(|i| {
            let (sides, options, item) = (sides.clone(), &options, plan.items[i].clone());
            async move { (i, open_split(sides, options, &item).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let (mut opened, mut failed) = (0, 0);
    for (i, result) in results {
        let item = &mut plan.items[i];
        match result {
            Ok(split) => {
                let _ = writeln!(
                    out,
                    "split      {}  {} parts x {}  upload '{}'",
                    item.source_key,
                    item.parts,
                    human_bytes(item.part_size),
                    split.upload_id
                );
                item.source_etag = Some(split.source_etag.clone());
                item.split = Some(split);
                opened += 1;
            }
            Err(e) => {
                let _ = writeln!(out, "failed     {}: {e}", item.source_key);
                failed += 1;
            }
        }
    }
    write_plan(&plan, output, &sides).await?;
    let _ = writeln!(
        out,
        "{opened} uploads opened, {kept} already prepared, {failed} failed (objects at or above {split_above}); plan saved to '{}'",
        output.display()
    );
    if failed > 0 {
        let _ = writeln!(
            out,
            "run 'airlock prepare --plan {}' again: prepared objects keep their uploads",
            output.display()
        );
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Complete and verify the plan's split objects; returns the exit code.
pub async fn finalize(
    settings: &Settings,
    sides: Sides,
    args: &FinalizeArgs,
    out: &mut dyn Write,
) -> Result<i32> {
    let plan = read_plan(&args.plan, settings, &sides).await?;
    let split: Vec<_> = plan.items.iter().filter(|i| i.split.is_some()).collect();
    if split.is_empty() {
        let _ = writeln!(
            out,
            "'{}' has no split objects: nothing to finalize",
            args.plan.display()
        );
        return Ok(0);
    }
    let options = EngineOptions::from_settings(settings);
    let results: Vec<_> = futures::stream::iter(split)
        .map(|item| {
            let (sides, options) = (sides.clone(), &options);
            async move { (item, finalize_one(sides, options, item).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let (mut completed, mut already, mut unverified, mut failed) = (0, 0, 0, 0);
    for (item, result) in results {
        let key = &item.source_key;
        match result {
            Ok(Finalized::Completed(v)) | Ok(Finalized::AlreadyComplete(v)) if !v.verified => {
                unverified += 1;
                let _ = writeln!(
                    out,
                    "complete, not fully verified  {key}  ({}; {})",
                    v.source, v.target
                );
            }
            Ok(Finalized::Completed(v)) => {
                completed += 1;
                let _ = writeln!(
                    out,
                    "completed  {key}  {}  ({}; {})",
                    human_bytes(item.size),
                    v.source,
                    v.target
                );
            }
            Ok(Finalized::AlreadyComplete(v)) => {
                already += 1;
                let _ = writeln!(out, "already complete  {key}  ({}; {})", v.source, v.target);
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(out, "failed     {key}: {e}");
            }
        }
    }
    let _ = writeln!(
        out,
        "finalize: {completed} completed, {already} already complete, {unverified} complete but not fully verified, {failed} failed"
    );
    Ok(if failed > 0 { 1 } else { 0 })
}
