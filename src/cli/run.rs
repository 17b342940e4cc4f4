//! `airlock run`: plan (or load a saved plan), execute it headless, report progress with
//! indicatif bars or JSON lines, print a summary, and exit with a code schedulers understand:
//! 0 all copied or skipped and verified, 1 some objects failed, 2 config/credential/usage
//! error, 130 interrupted. Ctrl-C stops scheduling and lets in-flight parts finish (the
//! journal is kept for a resume); a second Ctrl-C leaves at once.
//!
//! A saved plan (`--plan`) is cut to this shard's share (`--shard`, or the scheduler's
//! environment), then checked against the target once more: objects an earlier run already
//! copied are skipped, so rerunning a finished shard sends nothing. `--report` writes a JSON
//! report of the run.

use std::io::Write;

use super::args::RunArgs;
use super::plan_cmd::{print_items, print_summary};
use super::report::{JsonReporter, Reporter, TermReporter};
use airlock_core::aws::Sides;
use airlock_core::config::Settings;
use airlock_core::engine::{Command, Engine, EngineOptions, RunSummary};
use airlock_core::error::Result;
use airlock_core::job::manifest::ManifestRecorder;
use airlock_core::job::shard_report::{self, Collector, ReportTarget};
use airlock_core::job::{inventory, recheck};
use airlock_core::plan::Plan;

/// Execute a run; returns the process exit code.
pub async fn run(
    settings: &Settings,
    sides: Sides,
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<i32> {
    // A bad report location fails now, not after hours of copying.
    let report_target = args
        .report
        .as_deref()
        .map(ReportTarget::parse)
        .transpose()?;
    // A bad --shard (or shard variable) is refused before any listing or plan file is read.
    let shard = super::shard::resolve(args, |name| std::env::var(name).ok())?;
    let mut plan = match &args.plan {
        Some(path) => airlock_core::job::plan_store::read_plan(path, settings, &sides).await?,
        None => inventory::plan(&sides, settings).await?.0,
    };
    super::mirror::drop_deletions(&mut plan, args.mode.as_deref());
    super::mirror::refuse_shard(&plan, shard.is_some())?;
    let plan_id = shard_report::plan_id(&plan);
    let mut plan = super::shard::apply(plan, shard.as_ref());
    if args.plan.is_some() {
        let rechecked = recheck::recheck_saved_plan(&sides, settings, &mut plan).await?;
        let done = rechecked.already_there;
        if done > 0 {
            eprintln!("{done} objects of the plan are already at the target: skipped");
        }
        let dropped = rechecked.deletions;
        if dropped.source_back > 0 {
            eprintln!(
                "{} deletions of the plan dropped: the source has those objects again",
                dropped.source_back
            );
        }
        if dropped.target_changed > 0 {
            eprintln!(
                "{} deletions of the plan dropped: those target objects were overwritten since the plan was made",
                dropped.target_changed
            );
        }
        if dropped.target_gone > 0 {
            eprintln!(
                "{} deletions of the plan dropped: those target objects are gone already",
                dropped.target_gone
            );
        }
    }
    if args.dry_run {
        print_items(&plan, out);
        print_summary(&plan, out);
        let _ = writeln!(out, "dry run: nothing copied or deleted");
        return Ok(0);
    }
    let mut collector = Collector::new(&plan, plan_id, shard.as_ref());
    let missing_code = super::filter_args::missing_exit_code(&plan);
    let mut manifest = (args.manifest.as_deref())
        .map(|path| ManifestRecorder::begin(path, &plan))
        .transpose()?;
    let target_side = sides.target.clone();
    let mut options = EngineOptions::from_settings(settings);
    options.confirm_delete = args.confirm_delete;
    let summary = execute_observed(plan, sides.clone(), options, args.json, out, &mut |event| {
        collector.event(event);
        if let Some(manifest) = manifest.as_mut() {
            manifest.event(event);
        }
    })
    .await?;
    super::mirror::report_deletions(&summary, &mut std::io::stderr());
    if let Some(manifest) = manifest {
        let path = manifest.path().to_path_buf();
        let records = manifest.finish(&target_side).await?;
        eprintln!(
            "manifest: {records} objects written to '{}'",
            path.display()
        );
    }
    if let Some(target) = &report_target {
        let report = collector.finish(&summary);
        match shard_report::write(&report, target, &sides).await {
            Ok(location) => eprintln!("report written to '{location}'"),
            Err(e) => {
                // The copy itself is done; a missing report makes `airlock report` fail later.
                eprintln!("airlock: could not write the report: {e}");
                tracing::error!(error = %e, "could not write the report");
                return Ok(summary.exit_code().max(1).max(missing_code));
            }
        }
    }
    if summary.interrupted {
        let how = match &args.plan {
            Some(path) => format!("airlock run --plan {}", path.display()),
            None => "airlock run".to_string(),
        };
        let _ = writeln!(
            std::io::stderr(),
            "interrupted: finished parts are journaled in '{}'; run '{how}' again to resume",
            airlock_core::dirs::data_dir().join("journal").display()
        );
    }
    Ok(summary.exit_code().max(missing_code))
}

/// Start the engine on `plan` and report until it finishes.
pub async fn execute(
    plan: Plan,
    sides: Sides,
    options: EngineOptions,
    json: bool,
    out: &mut dyn Write,
) -> Result<RunSummary> {
    execute_observed(plan, sides, options, json, out, &mut |_| {}).await
}

/// [`execute`], also showing every event to `observe` (the run's JSON report).
pub async fn execute_observed(
    plan: Plan,
    sides: Sides,
    options: EngineOptions,
    json: bool,
    out: &mut dyn Write,
    observe: &mut (dyn FnMut(&airlock_core::engine::Event) + Send),
) -> Result<RunSummary> {
    let mut handle = Engine::start(plan, sides, options)?;
    let mut events = handle.take_events().expect("fresh handle has events");
    let commands = handle.commands();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!("Ctrl-C: stopping after in-flight requests");
            eprintln!(
                "\nstopping: waiting for in-flight requests (Ctrl-C again to leave now; the journal keeps finished parts)"
            );
            commands.send(Command::Stop);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("leaving now; run again to resume");
                std::process::exit(130);
            }
        }
    });
    let mut reporter: Box<dyn Reporter> = if json {
        Box::new(JsonReporter::new())
    } else {
        Box::new(TermReporter::new())
    };
    while let Some(event) = events.recv().await {
        observe(&event);
        reporter.event(&event, out);
    }
    ctrl_c.abort();
    let summary = handle.join().await?;
    reporter.finish(&summary, out);
    Ok(summary)
}
