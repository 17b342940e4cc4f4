//! `airlock plan [-o FILE]`: print the size-routing plan and optionally save it. The configured
//! prefixes are planned streaming (listing merge-join, `job::stream_plan`: memory does not grow
//! with the number of objects) for `--summary`, printing, and `-o` of a format 5 name
//! (`.jsonl`, `.jsonl.zst`, `.jsonl.gz`); in memory (`job::inventory`) for `-o` of a JSON
//! document (formats 2-4), for `source.version_at`, and when a listing is not in key order.
//! A plan from an S3 Inventory (`source.inventory`) is streaming only.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use airlock_core::aws::Sides;
use airlock_core::config::Settings;
use airlock_core::error::{Error, Result};
use airlock_core::job::inventory;
use airlock_core::job::plan_file::is_lines_name;
use airlock_core::job::plan_store::{self, LinesOutput};
use airlock_core::job::stream_plan::{self, Outcome};
use airlock_core::plan::lines::{Entry, PlanHeader};
use airlock_core::plan::{Deletion, Plan, PlanItem, Route, RouteTotals};
use airlock_core::progress::{human_bytes, human_duration};

/// Plan, print, and save when asked.
pub(crate) async fn plan(
    sides: &Sides,
    settings: &Settings,
    output: Option<&Path>,
    summary_only: bool,
    out: &mut dyn Write,
) -> Result<()> {
    // A plan that cannot be saved there is refused before the listing, not after it.
    if let Some(path) = output {
        plan_store::check(path)?;
    }
    let lines = output.filter(|path| is_lines_name(&path.to_string_lossy()));
    if let (Some(inventory), Some(path), None) = (&settings.filter.inventory, output, lines) {
        return Err(Error::usage(format!(
            "-o '{}': a plan from the S3 Inventory '{}' is written streaming, as a line plan: \
             name it 'plan.jsonl', 'plan.jsonl.zst' or 'plan.jsonl.gz'",
            path.display(),
            inventory.location()
        )));
    }
    if stream_plan::can_stream(settings) && (output.is_none() || lines.is_some()) {
        let mut file = lines.map(LinesOutput::create).transpose()?;
        if !summary_only {
            print_table_head(out);
        }
        let outcome = stream_plan::stream_plan(sides, settings, &settings.transfer, |entry| {
            if !summary_only {
                print_entry(&entry, out);
            }
            match file.as_mut() {
                Some(file) => file.push(&entry),
                None => Ok(()),
            }
        })
        .await?;
        match outcome {
            Outcome::Planned { header, heads } => {
                print_summary(&header, out);
                print_heads(heads, out);
                if let (Some(file), Some(path)) = (file, output) {
                    file.finish(&header, sides).await?;
                    let _ = writeln!(out, "plan saved to '{}'", path.display());
                }
                return Ok(());
            }
            Outcome::OutOfOrder(why) => {
                let _ = writeln!(
                    out,
                    "note: {why}; planning in memory instead (the lines above, if any, are not the plan)"
                );
            }
        }
    }
    let (plan, inventory) = inventory::plan(sides, settings).await?;
    if !summary_only {
        print_items(&plan, out);
    }
    print_summary(&PlanHeader::of(&plan), out);
    print_heads(inventory.heads, out);
    if let Some(path) = output {
        plan_store::write_plan(&plan, path, sides).await?;
        let _ = writeln!(out, "plan saved to '{}'", path.display());
    }
    Ok(())
}

fn print_heads(heads: usize, out: &mut dyn Write) {
    if heads > 0 {
        let _ = writeln!(
            out,
            "({heads} HEAD requests to compare objects that listings could not)"
        );
    }
}

/// The header line of the item table.
pub(super) fn print_table_head(out: &mut dyn Write) {
    let _ = writeln!(out, "{:<9} {:>10} {:>16}  KEY", "ROUTE", "SIZE", "PARTS");
}

/// One entry's line of the table.
pub(super) fn print_entry(entry: &Entry, out: &mut dyn Write) {
    match entry {
        Entry::Item(item) => print_item(item, out),
        Entry::Deletion(deletion) => print_deletion(deletion, out),
    }
}

/// One line per object: route, size, part size x parts, key, reason.
pub(super) fn print_items(plan: &Plan, out: &mut dyn Write) {
    print_table_head(out);
    for item in &plan.items {
        print_item(item, out);
    }
    for deletion in &plan.deletions {
        print_deletion(deletion, out);
    }
}

fn print_item(item: &PlanItem, out: &mut dyn Write) {
    {
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
}

fn print_deletion(deletion: &Deletion, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "{:<9} {:>10} {:>16}  {}  ({})",
        "delete",
        human_bytes(deletion.size),
        "-",
        deletion.target_key,
        deletion.reason
    );
}

/// Totals per route, peak memory and ETA.
pub(super) fn print_summary(plan: &PlanHeader, out: &mut dyn Write) {
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
    if let Some(inventory) = &plan.inventory {
        let _ = writeln!(out, "  source: {inventory}");
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
