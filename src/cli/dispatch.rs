//! Runs an [`Invocation`]: connects both sides' clients once for the commands that need them,
//! then hands each command its settings, clients and arguments. Returns the process exit code;
//! errors go back to `main`, which prints them and maps them to exit codes.
//!
//! Depends on the commands beside it, `tui` and `demo`, and `airlock_core::aws::connect`.

use std::io::Write;

use airlock_core::aws::{self, Sides};
use airlock_core::config::{Settings, Side};
use airlock_core::error::Result;
use airlock_core::job::report_merge;

use super::args::UploadsAction;
use super::invocation::{Connected, Invocation, Offline};

/// Execute `invocation`, writing what it prints for people or machines to `out`.
pub async fn dispatch(invocation: Invocation, out: &mut dyn Write) -> Result<i32> {
    match invocation {
        Invocation::Offline(command) => offline(command, out).await,
        Invocation::Connected { settings, command } => {
            // Everything that can fail before the TUI starts fails here, on the normal screen.
            let sides = aws::connect(&settings).await?;
            connected(settings, sides, command, out).await
        }
    }
}

async fn offline(command: Offline, out: &mut dyn Write) -> Result<i32> {
    match command {
        Offline::Completions(shell) => {
            super::completions(shell, out);
            Ok(0)
        }
        Offline::ConfigCheck(settings) => super::config_check(&settings, out).await,
        Offline::ReportDir { location, json } => {
            let reports = report_merge::read_dir(std::path::Path::new(&location))?;
            super::merge_reports(reports, &location, json, out)
        }
        #[cfg(not(feature = "demo"))]
        Offline::Demo(_) => Err(airlock_core::error::Error::usage(
            "this airlock was built without the demo (build with the default features to get \
             `airlock demo`)",
        )),
        #[cfg(feature = "demo")]
        Offline::Demo(demo) if demo.serve => super::demo_cmd::serve(demo, out).await,
        #[cfg(feature = "demo")]
        Offline::Demo(demo) => super::demo_cmd::run_tui(demo).await,
    }
}

async fn connected(
    settings: Settings,
    sides: Sides,
    command: Connected,
    out: &mut dyn Write,
) -> Result<i32> {
    match command {
        Connected::Tui => crate::tui::run(settings, sides).await,
        Connected::Ls(ls) => {
            let side = sides.get(Side::from(ls.side));
            match &ls.versions {
                Some(key) => super::ls_versions(side, key, ls.json, out).await?,
                None => super::ls(side, ls.prefix.as_deref(), ls.recursive, out).await?,
            }
            Ok(0)
        }
        Connected::Plan(plan) => {
            super::plan(&sides, &settings, plan.output.as_deref(), plan.summary, out).await?;
            Ok(0)
        }
        Connected::Run(run) => super::run(&settings, sides, &run, out).await,
        Connected::Prepare(prepare) => super::prepare(&settings, sides, &prepare, out).await,
        Connected::Finalize(finalize) => super::finalize(&settings, sides, &finalize, out).await,
        Connected::ReportS3 {
            source,
            location,
            json,
        } => {
            let reports = report_merge::read_s3(&sides.target, &source).await?;
            super::merge_reports(reports, &location, json, out)
        }
        Connected::Verify(verify) => {
            super::verify(&sides.target, &settings, &verify.manifest, out).await
        }
        Connected::Uploads(UploadsAction::List) => {
            super::uploads::list(&sides.target, &settings, out).await?;
            Ok(0)
        }
        Connected::Uploads(UploadsAction::Abort { older_than, all }) => {
            let older_than = older_than.as_deref();
            super::uploads::abort(&sides.target, &settings, older_than, all, out).await?;
            Ok(0)
        }
    }
}
