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
//! Opening and completing the uploads is `airlock_core::job::split_objects`; this module reads
//! and saves the plan and words each result.
//!
//! Exit codes: 0 done, 1 some object could not be prepared or finalized, 2 config / plan error.

use std::io::Write;

use super::args::{FinalizeArgs, PrepareArgs};
use airlock_core::aws::Sides;
use airlock_core::config::Settings;
use airlock_core::engine::Finalized;
use airlock_core::error::Result;
use airlock_core::job::plan_store::{read_plan, write_plan};
use airlock_core::job::split_objects;
use airlock_core::progress::human_bytes;

/// Open the shared uploads of a plan's big objects and save the plan; returns the exit code.
pub(crate) async fn prepare(
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
    let opened = split_objects::open_all(&mut plan, settings, &sides, split_above).await;
    let (kept, mut done, mut failed) = (opened.kept, 0, 0);
    for (i, result) in opened.results {
        let item = &plan.items[i];
        match result {
            Ok(()) => {
                // Recorded in the item by `open_all`.
                let upload_id = item.split.as_ref().map_or("", |s| s.upload_id.as_str());
                let _ = writeln!(
                    out,
                    "split      {}  {} parts x {}  upload '{upload_id}'",
                    item.source_key,
                    item.parts,
                    human_bytes(item.part_size),
                );
                done += 1;
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
        "{done} uploads opened, {kept} already prepared, {failed} failed (objects at or above {split_above}); plan saved to '{}'",
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
pub(crate) async fn finalize(
    settings: &Settings,
    sides: Sides,
    args: &FinalizeArgs,
    out: &mut dyn Write,
) -> Result<i32> {
    let plan = read_plan(&args.plan, settings, &sides).await?;
    if !plan.items.iter().any(|i| i.split.is_some()) {
        let _ = writeln!(
            out,
            "'{}' has no split objects: nothing to finalize",
            args.plan.display()
        );
        return Ok(0);
    }
    let results = split_objects::finalize_all(&plan, settings, &sides).await;
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
