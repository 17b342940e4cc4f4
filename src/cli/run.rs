//! `airlock run`: plan (or load a saved plan), execute it headless, report progress with
//! indicatif bars or JSON lines, print a summary, and exit with a code schedulers understand:
//! 0 all copied or skipped and verified, 1 some objects failed, 2 config/credential/usage
//! error, 130 interrupted. Ctrl-C stops scheduling and lets in-flight parts finish (the
//! journal is kept for a resume); a second Ctrl-C leaves at once.

use std::io::Write;

use super::args::RunArgs;
use super::manifest::ManifestRecorder;
use super::plan_cmd::{print_items, print_summary};
use super::report::{JsonReporter, Reporter, TermReporter};
use crate::aws::{Sides, inventory};
use crate::config::Settings;
use crate::engine::{Command, Engine, EngineOptions, RunSummary};
use crate::error::Result;
use crate::plan::{Plan, load_plan};

/// Execute a run; returns the process exit code.
pub async fn run(
    settings: &Settings,
    sides: Sides,
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<i32> {
    let plan = match &args.plan {
        Some(path) => load_plan(path, settings)?,
        None => inventory::plan(&sides, settings).await?.0,
    };
    let plan = super::shard::apply(plan, args)?;
    if args.dry_run {
        print_items(&plan, out);
        print_summary(&plan, out);
        let _ = writeln!(out, "dry run: nothing copied");
        return Ok(0);
    }
    let missing_code = super::filter_args::missing_exit_code(&plan);
    let mut manifest = (args.manifest.as_deref())
        .map(|path| ManifestRecorder::begin(path, &plan))
        .transpose()?;
    let target = sides.target.clone();
    let summary = execute(
        plan,
        sides,
        EngineOptions::from_settings(settings),
        args.json,
        manifest.as_mut(),
        out,
    )
    .await?;
    if let Some(manifest) = manifest {
        manifest.finish(&target, &mut std::io::stderr()).await?;
    }
    if summary.interrupted {
        let how = match &args.plan {
            Some(path) => format!("airlock run --plan {}", path.display()),
            None => "airlock run".to_string(),
        };
        let _ = writeln!(
            std::io::stderr(),
            "interrupted: finished parts are journaled in '{}'; run '{how}' again to resume",
            crate::logging::data_dir().join("journal").display()
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
    mut manifest: Option<&mut ManifestRecorder>,
    out: &mut dyn Write,
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
        if let Some(manifest) = manifest.as_deref_mut() {
            manifest.event(&event);
        }
        reporter.event(&event, out);
    }
    ctrl_c.abort();
    let summary = handle.join().await?;
    reporter.finish(&summary, out);
    Ok(summary)
}
