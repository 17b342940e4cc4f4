//! `airlock plan [-o FILE]`: print the size-routing plan and optionally save it as JSON.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use airlock_core::aws::Sides;
use airlock_core::config::Settings;
use airlock_core::error::Result;
use airlock_core::job::inventory;
use airlock_core::plan::{Plan, Route, RouteTotals};
use airlock_core::progress::{human_bytes, human_duration};

/// Plan, print, and save when asked.
pub(crate) async fn plan(
    sides: &Sides,
    settings: &Settings,
    output: Option<&Path>,
    summary_only: bool,
    out: &mut dyn Write,
) -> Result<Plan> {
    // A plan that cannot be saved there is refused before the listing, not after it.
    if let Some(path) = output {
        airlock_core::job::plan_store::check(path)?;
    }
    let (plan, inventory) = inventory::plan(sides, settings).await?;
    if !summary_only {
        print_items(&plan, out);
    }
    print_summary(&plan, out);
    if inventory.heads > 0 {
        let _ = writeln!(
            out,
            "({} HEAD requests to compare objects that listings could not)",
            inventory.heads
        );
    }
    if let Some(path) = output {
        airlock_core::job::plan_store::write_plan(&plan, path, sides).await?;
        let _ = writeln!(out, "plan saved to '{}'", path.display());
    }
    Ok(plan)
}

/// One line per object: route, size, part size x parts, key, reason.
pub(super) fn print_items(plan: &Plan, out: &mut dyn Write) {
    let _ = writeln!(out, "{:<9} {:>10} {:>16}  KEY", "ROUTE", "SIZE", "PARTS");
    for item in &plan.items {
        let parts = match item.route {
            Route::Multipart => format!("{} x {}", item.parts, human_bytes(item.part_size)),
            Route::Single => "1".to_string(),
            Route::Skip => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<9} {:>10} {:>16}  {}  ({})",
            item.route.as_str(),
            human_bytes(item.size),
            parts,
            item.source_key,
            item.reason
        );
    }
    super::mirror::print_deletions(plan, out);
}

/// Totals per route, peak memory and ETA.
pub(super) fn print_summary(plan: &Plan, out: &mut dyn Write) {
    let s = &plan.summary;
    let _ = writeln!(
        out,
        "plan: s3://{}/{} -> s3://{}/{}",
        plan.source.bucket, plan.source.prefix, plan.target.bucket, plan.target.prefix
    );
    if let Some(moment) = &plan.version_at {
        let _ = writeln!(
            out,
            "  version_at {moment}: each source key as it was then (its version id is pinned)"
        );
    }
    let row = |out: &mut dyn Write, name: &str, t: &RouteTotals| {
        let _ = writeln!(
            out,
            "  {name:<10} {:>8} objects {:>11} {:>8} parts",
            t.objects,
            human_bytes(t.bytes),
            t.parts
        );
    };
    row(out, "skip", &s.skip);
    row(out, "single", &s.single);
    row(out, "multipart", &s.multipart);
    super::mirror::print_delete_total(plan, out);
    let _ = writeln!(
        out,
        "  to copy    {:>8} objects {:>11}; peak memory {} ({} streams); ETA {} at {}/s ({})",
        s.copy_objects(),
        human_bytes(s.copy_bytes()),
        human_bytes(s.peak_memory_bytes),
        s.streams,
        human_duration(Duration::from_secs(s.eta_seconds)),
        human_bytes(s.estimate_rate),
        if plan.settings.bandwidth_limit == Some(s.estimate_rate) {
            "capped; bandwidth_limit"
        } else {
            "assumed; transfer.estimate_rate"
        }
    );
    let held = &s.held_back;
    if held.archived > 0 {
        let _ = writeln!(
            out,
            "  archived   {:>8} objects held back (GLACIER / DEEP_ARCHIVE): restore them first",
            held.archived
        );
    }
    if held.source_prefix_markers > 0 {
        let _ = writeln!(
            out,
            "  held back  {:>8} folder marker of the source prefix (its target key would be empty)",
            held.source_prefix_markers
        );
    }
    super::filter_args::print_selection(&plan.selection, out);
    for warning in &plan.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
}
