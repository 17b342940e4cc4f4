//! The command line: parsed arguments ([`Args`]) become one validated [`Invocation`]
//! (`invocation.rs`), which [`dispatch`] runs, connecting both sides once when the command
//! needs them. The headless commands (`config check`, `ls`, `plan`, `run`, `prepare`,
//! `finalize`, `report`, `verify`, `uploads`, `completions`, and `demo --serve`) convert their
//! remaining flags into the core's options and print for people (tables, progress bars) or
//! machines (`--json`). The TUI lives in `tui/`; both sit on the same core (`job` for plans and
//! runs, `aws`, `plan`, `engine`, `progress`).

mod args;
mod check;
#[cfg(feature = "demo")]
mod demo_cmd;
mod dispatch;
mod filter_args;
mod grace;
mod invocation;
mod ls;
mod merge;
mod mirror;
mod plan_cmd;
mod prepare;
mod report;
mod run;
mod shard;
mod uploads;
mod verify;

use std::io::Write;

use clap::CommandFactory;

pub use args::Args;
pub(crate) use args::{Shell, SideArg};
pub(crate) use check::config_check;
pub use dispatch::dispatch;
pub(crate) use filter_args::{with_bandwidth_limit, with_filters};
pub use invocation::{Invocation, is_headless};
pub(crate) use ls::{ls, ls_versions};
pub(crate) use merge::merge_reports;
pub(crate) use plan_cmd::plan;
pub(crate) use prepare::{finalize, prepare};
pub(crate) use run::run;

/// Environment variables airlock reads, besides those named by flags (`AIRLOCK_SHARDS`,
/// `AIRLOCK_REPORT`). The deploy examples are checked against this list and the flags.
pub const ENV_VARS: &[&str] = &[
    airlock_core::config::CONFIG_ENV,
    airlock_core::dirs::DATA_DIR_ENV,
    crate::logging::LOG_ENV,
    shard::BATCH_INDEX_ENV,
    shard::BATCH_SIZE_ENV,
    shard::K8S_INDEX_ENV,
];
pub(crate) use verify::verify;

use airlock_core::config::Side;

impl From<SideArg> for Side {
    fn from(side: SideArg) -> Side {
        match side {
            SideArg::Source => Side::Source,
            SideArg::Target => Side::Target,
        }
    }
}

/// Print completions for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    let mut command = Args::command();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut command, "airlock", out);
}
