//! The low-level → high-level step (as ripgrep does it): clap's [`Args`] become one
//! [`Invocation`], built here and nowhere else. Loading and validating the config, printing its
//! warnings for headless commands, and applying the flags that override it (filters,
//! `--bandwidth-limit`, `--mode`) happen once, in the order users see their errors in; the
//! command then receives settings it never converts again. Whether a command needs both sides'
//! clients is decided here too, so [`super::dispatch`] connects once, in one place.
//!
//! Depends on `cli::args` and the flag conversions beside it, and on `airlock_core::config`;
//! no AWS call happens here.

// One invocation per process, moved once: the size of its enums' variants does not matter.
#![allow(clippy::large_enum_variant)]

use airlock_core::aws::documents::S3Location;
use airlock_core::config::{Settings, load_settings};
use airlock_core::error::Result;

use super::args::{
    Args, Command, ConfigAction, DemoArgs, FinalizeArgs, LsArgs, PlanArgs, PrepareArgs, RunArgs,
    Shell, UploadsAction, VerifyArgs,
};

/// One validated invocation of the binary: what to do, with the settings it runs on. (No
/// `Debug`: nothing should print settings whole.)
pub enum Invocation {
    /// A command that reaches no bucket through [`airlock_core::aws::connect`].
    Offline(Offline),
    /// A command that needs both sides' clients, connected once from `settings` first.
    Connected {
        /// Loaded, validated, with every overriding flag applied.
        settings: Settings,
        command: Connected,
    },
}

/// Commands that connect no clients (the config check resolves each side itself, to report
/// every side's failure rather than the first).
pub enum Offline {
    Completions(Shell),
    ConfigCheck(Settings),
    /// `airlock report DIR`: shard reports in a local directory.
    ReportDir {
        location: String,
        json: bool,
    },
    Demo(DemoArgs),
}

/// Commands that run on connected clients.
pub enum Connected {
    /// No subcommand: the terminal UI.
    Tui,
    Ls(LsArgs),
    Plan(PlanArgs),
    Run(RunArgs),
    Prepare(PrepareArgs),
    Finalize(FinalizeArgs),
    /// `airlock report s3://...`: reports in S3, read with the target side's credentials.
    ReportS3 {
        source: S3Location,
        location: String,
        json: bool,
    },
    Verify(VerifyArgs),
    Uploads(UploadsAction),
}

/// Whether a parsed command line runs headless (logs to stderr with `-v`, config warnings on
/// stderr) or owns the terminal (the TUI and the demo). Known before any config is read, so
/// logging starts first.
pub fn is_headless(args: &Args) -> bool {
    !matches!(args.command, None | Some(Command::Demo(_)))
}

impl Invocation {
    /// Convert parsed arguments: load the config when the command needs it, validate it and
    /// apply the flags that override it. Errors are the ones the commands always gave (exit 2
    /// for config and usage), in the same order.
    pub fn from_args(args: Args) -> Result<Invocation> {
        let config = args.config.as_deref();
        // Headless commands print the config's warnings; the TUI shows its own.
        let headless_settings = || load_settings(config).map(warn);
        let connected = |settings: Settings, command| Invocation::Connected { settings, command };
        Ok(match args.command {
            Some(Command::Completions { shell }) => {
                Invocation::Offline(Offline::Completions(shell))
            }
            Some(Command::Config {
                action: ConfigAction::Check,
            }) => Invocation::Offline(Offline::ConfigCheck(load_settings(config)?)),
            Some(Command::Demo(demo)) => Invocation::Offline(Offline::Demo(demo)),
            None => connected(load_settings(config)?, Connected::Tui),
            Some(Command::Ls(ls)) => connected(headless_settings()?, Connected::Ls(ls)),
            Some(Command::Plan(plan)) => {
                let settings = super::with_filters(headless_settings()?, &plan.filter, false)?;
                let settings =
                    super::with_bandwidth_limit(settings, plan.bandwidth_limit.as_deref())?;
                let settings = super::mirror::with_mode(settings, plan.mode.as_deref(), false)?;
                connected(settings, Connected::Plan(plan))
            }
            Some(Command::Run(run)) => {
                let saved_plan = run.plan.is_some();
                let settings = super::with_filters(headless_settings()?, &run.filter, saved_plan)?;
                let settings =
                    super::with_bandwidth_limit(settings, run.bandwidth_limit.as_deref())?;
                let settings = super::mirror::with_mode(settings, run.mode.as_deref(), saved_plan)?;
                connected(settings, Connected::Run(run))
            }
            Some(Command::Prepare(prepare)) => {
                connected(headless_settings()?, Connected::Prepare(prepare))
            }
            Some(Command::Finalize(finalize)) => {
                connected(headless_settings()?, Connected::Finalize(finalize))
            }
            Some(Command::Report(report)) => match S3Location::parse(&report.location)? {
                Some(source) => connected(
                    headless_settings()?,
                    Connected::ReportS3 {
                        source,
                        location: report.location,
                        json: report.json,
                    },
                ),
                None => Invocation::Offline(Offline::ReportDir {
                    location: report.location,
                    json: report.json,
                }),
            },
            Some(Command::Verify(verify)) => {
                connected(headless_settings()?, Connected::Verify(verify))
            }
            Some(Command::Uploads { action }) => {
                connected(headless_settings()?, Connected::Uploads(action))
            }
        })
    }
}

/// Print config warnings to stderr (and the log) for headless commands.
fn warn(settings: Settings) -> Settings {
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
        tracing::warn!("{warning}");
    }
    settings
}
