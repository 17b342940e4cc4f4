//! `airlock run`: converts the flags into [`airlock_core::job::run`]'s options, runs its
//! pipeline, and renders it: progress as indicatif bars or JSON lines, the pipeline's notices
//! as lines on stderr, a summary at the end. Exit codes are the pipeline's: 0 all copied or
//! skipped and verified, 1 some objects failed, 2 config/credential/usage error, 130
//! interrupted by Ctrl-C, 143 stopped by SIGTERM. Either signal stops scheduling and lets
//! in-flight parts finish (the journal and open uploads are kept for a resume); a second one,
//! or SIGTERM's `--grace` running out, leaves at once (see [`super::grace`]).
//!
//! A saved plan (`--plan`) is cut to this shard's share (`--shard`, or the scheduler's
//! environment), then checked against the target once more: objects an earlier run already
//! copied are skipped, so rerunning a finished shard sends nothing. A fresh sharded run (no
//! `--plan`) plans the whole listing first, into a temporary plan file, and says so: its
//! copying starts when planning ends. `--report` writes a JSON report of the run.
//!
//! `--dry-run` prints the plan as the run would make or read it (cut, rechecked), each item
//! line as it comes ([`run::dry_run`]), then the totals, and copies nothing.

use std::io::Write;

use super::args::RunArgs;
use super::grace::{self, StopCause};
use super::plan_cmd::{print_entry, print_items, print_summary, print_table_head};
use super::report::{JsonReporter, Reporter, TermReporter};
use airlock_core::aws::Sides;
use airlock_core::config::Settings;
use airlock_core::engine::EngineOptions;
use airlock_core::error::Result;
use airlock_core::job::run::{self, DryRun, Notice, PlanSource, Run, RunOptions};
use airlock_core::job::shard_report::ReportTarget;

/// Execute a run; returns the process exit code.
pub(crate) async fn run(
    settings: &Settings,
    sides: Sides,
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<i32> {
    // A bad report location fails now, not after hours of copying.
    let report = args
        .report
        .as_deref()
        .map(ReportTarget::parse)
        .transpose()?;
    // A bad --shard (or shard variable) is refused before any listing or plan file is read.
    let shard = super::shard::resolve(args, |name| std::env::var(name).ok())?;
    let mut engine = EngineOptions::from_settings(settings);
    engine.confirm_delete = args.confirm_delete;
    let options = RunOptions {
        engine,
        shard,
        copy_only: args.mode.as_deref().map(str::trim) == Some("copy"),
        manifest: args.manifest.clone(),
        report,
    };
    let source = match &args.plan {
        Some(path) => PlanSource::Saved(path.clone()),
        None => PlanSource::Fresh,
    };
    let say = &mut |notice: Notice<'_>| render_notice(notice, args);
    if !args.dry_run {
        // Streamed into the engine where it can be: copying starts before the plan is whole.
        let run = run::start(settings, sides, source, options, say).await?;
        let finished = show(run, args, out, say).await?;
        return Ok(finished.exit_code);
    }
    // The plan as the run would make or read it, each line printed as it comes.
    let header = match run::dry_run(settings, sides, source, options, say).await? {
        DryRun::Whole(prepared) => {
            print_items(prepared.plan(), out);
            airlock_core::plan::lines::PlanHeader::of(prepared.plan())
        }
        DryRun::Streamed(mut feed) => {
            print_table_head(out);
            while let Some(entry) = feed.next().await {
                print_entry(&entry?, out);
            }
            feed.finish(say).await?
        }
    };
    print_summary(&header, out);
    let _ = writeln!(out, "dry run: nothing copied or deleted");
    Ok(0)
}

/// Report a started run until it ends, with Ctrl-C and SIGTERM wired to a graceful stop, then
/// write its outputs.
async fn show(
    mut run: Run,
    args: &RunArgs,
    out: &mut dyn Write,
    say: &mut dyn FnMut(Notice<'_>),
) -> Result<run::Finished> {
    let cause = StopCause::default();
    let signals = tokio::spawn(grace::watch(run.commands(), args.grace, cause.clone()));
    let mut reporter: Box<dyn Reporter> = if args.json {
        Box::new(JsonReporter::new())
    } else {
        Box::new(TermReporter::new())
    };
    while let Some(event) = run.next_event().await {
        reporter.event(&event, out);
    }
    let ended = run.join().await?;
    reporter.finish(ended.summary(), out);
    let mut finished = ended.write_outputs(say).await?;
    // The outputs are written: a signal from here on must not cut them short.
    signals.abort();
    if finished.summary.interrupted && finished.exit_code == grace::EXIT_INTERRUPTED {
        finished.exit_code = cause.exit_code();
    }
    Ok(finished)
}

/// The pipeline's notices, as lines on stderr.
fn render_notice(notice: Notice<'_>, args: &RunArgs) {
    let stderr = &mut std::io::stderr();
    match notice {
        Notice::DeletionsLeftOut { deletions } => {
            let _ = writeln!(
                stderr,
                "--mode copy: the plan's {deletions} deletions are left out of this run"
            );
        }
        Notice::PlanningFirst => {
            let _ = writeln!(
                stderr,
                "a fresh sharded run plans the whole listing first (into a temporary plan \
                 file); copying starts when planning ends. To plan once for every shard: \
                 'airlock plan -o plan.jsonl.zst', then 'airlock run --plan plan.jsonl.zst --shard I/N'"
            );
        }
        Notice::Shard(shard) => {
            let _ = writeln!(
                stderr,
                "shard {}/{} (from {})",
                shard.index, shard.count, shard.source
            );
        }
        Notice::Inventory(origin) => {
            let _ = writeln!(
                stderr,
                "source: S3 Inventory of {} ('{}')",
                origin.created, origin.manifest
            );
        }
        Notice::Rechecked(rechecked) => {
            let done = rechecked.already_there;
            if done > 0 {
                let _ = writeln!(
                    stderr,
                    "{done} objects of the plan are already at the target: skipped"
                );
            }
            let dropped = rechecked.deletions;
            if dropped.source_back > 0 {
                let _ = writeln!(
                    stderr,
                    "{} deletions of the plan dropped: the source has those objects again",
                    dropped.source_back
                );
            }
            if dropped.target_changed > 0 {
                let _ = writeln!(
                    stderr,
                    "{} deletions of the plan dropped: those target objects were overwritten since the plan was made",
                    dropped.target_changed
                );
            }
            if dropped.target_gone > 0 {
                let _ = writeln!(
                    stderr,
                    "{} deletions of the plan dropped: those target objects are gone already",
                    dropped.target_gone
                );
            }
        }
        Notice::MissingKeys(selection) => super::filter_args::print_missing(selection, stderr),
        Notice::Ended(summary) => {
            if let Some(why) = &summary.halted {
                let _ = writeln!(stderr, "airlock: stopped, no new objects started: {why}");
            }
            super::mirror::report_deletions(summary, stderr);
        }
        Notice::ManifestWritten { records, path } => {
            let _ = writeln!(
                stderr,
                "manifest: {records} objects written to '{}'",
                path.display()
            );
        }
        Notice::ReportWritten { location } => {
            let _ = writeln!(stderr, "report written to '{location}'");
        }
        Notice::ReportFailed(e) => {
            let _ = writeln!(stderr, "airlock: could not write the report: {e}");
        }
        Notice::Interrupted { journal } => {
            let how = match &args.plan {
                Some(path) => format!("airlock run --plan {}", path.display()),
                None => "airlock run".to_string(),
            };
            let journal = journal.unwrap_or_else(|| airlock_core::dirs::data_dir().join("journal"));
            let _ = writeln!(
                stderr,
                "interrupted: finished parts are journaled in '{}'; run '{how}' again to resume",
                journal.display()
            );
        }
    }
}
