//! Mirror mode on the command line: `--mode copy|mirror` over `transfer.mode`, the plan's
//! `delete` lines, and what a run says about the deletions it made or skipped (the pipeline,
//! `airlock_core::job::run`, leaves deletions out for `--mode copy` and refuses to shard a plan
//! that deletes).
//!
//! Exit codes (the run's usual ones): deletions that failed make the run exit 1, like a failed
//! copy. Deletions skipped because a copy failed or the run was interrupted leave the exit code
//! those caused (1 or 130). Deletions skipped only for lack of `--confirm-delete` exit 0: every
//! copy the run was asked for succeeded, and the run says on stderr (and in the JSON summary)
//! how many deletions it left.

use std::io::Write;

use airlock_core::config::{Settings, TransferMode};
use airlock_core::engine::RunSummary;
use airlock_core::error::{Error, Result};
use airlock_core::plan::lines::PlanHeader;
use airlock_core::progress::human_bytes;

/// Settings with `--mode` applied over `transfer.mode`. A saved plan carries its deletions:
/// `--mode copy` drops them (the run pipeline's `copy_only`); `--mode mirror` cannot add any.
pub(super) fn with_mode(
    mut settings: Settings,
    mode: Option<&str>,
    saved_plan: bool,
) -> Result<Settings> {
    let Some(text) = mode else {
        return Ok(settings);
    };
    let mode = TransferMode::parse("--mode", text).map_err(|e| Error::usage(e.to_string()))?;
    if saved_plan && mode == TransferMode::Mirror {
        return Err(Error::usage(
            "a saved plan's deletions are part of the plan: give --mode mirror to \
             'airlock plan -o FILE', then run that plan with --confirm-delete",
        ));
    }
    settings.transfer.mode = mode;
    Ok(settings)
}

/// The summary row of the deletions (mirror plans only).
pub(super) fn print_delete_total(plan: &PlanHeader, out: &mut dyn Write) {
    if plan.settings.mode != TransferMode::Mirror && plan.deletions.objects == 0 {
        return;
    }
    let totals = plan.deletions;
    let _ = writeln!(
        out,
        "  {:<10} {:>8} objects {:>11}  (mirror: target objects with no source counterpart; \
         deleted only after every copy succeeded, with --confirm-delete)",
        "delete",
        totals.objects,
        human_bytes(totals.bytes),
    );
}

/// What the run did about deletions, for people (stderr).
pub(super) fn report_deletions(summary: &RunSummary, out: &mut dyn Write) {
    if summary.deleted > 0 || summary.delete_failed > 0 {
        let _ = writeln!(
            out,
            "mirror: deleted {} target objects ({}){}",
            summary.deleted,
            human_bytes(summary.bytes_deleted),
            if summary.delete_failed > 0 {
                format!("; {} deletions failed", summary.delete_failed)
            } else {
                String::new()
            }
        );
    }
    if let Some(skipped) = &summary.deletions_skipped {
        let _ = writeln!(
            out,
            "mirror: {} deletions ({}) skipped: {}",
            skipped.objects,
            human_bytes(skipped.bytes),
            skipped.reason
        );
    }
}
