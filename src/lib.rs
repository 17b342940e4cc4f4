//! The `airlock` binary's library half: the headless CLI, the terminal UI and the demo, on top
//! of [`airlock_core`] (config, AWS access, plans, the transfer engine). airlock copies S3
//! objects from a bucket in one AWS account to a bucket in another when the two accounts
//! cannot see each other; `airlock_core`'s docs map the data path.
//!
//! # Modules
//! - [`cli`]: the arguments (clap, then one validated [`cli::Invocation`]), the dispatch that
//!   connects once, and the headless commands (config check, ls, plan, run, prepare/finalize,
//!   reports, verify, uploads) rendering engine events with indicatif or JSON lines.
//! - [`tui`]: the terminal UI (ratatui); views are pure renders of app state.
//! - `demo` (feature `demo`, on by default): `airlock demo`, two embedded S3 servers from the
//!   `airlock-s3server` crate with believable data and settings pointing at them. Without the
//!   feature the subcommand still parses and exits 2 saying so; the deploy image is built that
//!   way, so the binary that holds production credentials carries no S3 server.
//! - [`logging`]: the `tracing` subscriber (log file, `-v` to stderr).
//! - `signals`: SIGTERM as a stream, for `run`'s graceful stop and the terminal UI's.
//!
//! `main.rs` parses arguments, sets up logging, converts them once into a
//! [`cli::Invocation`] and hands it to [`cli::dispatch`].
//!
//! # Dependency rules
//! The UI crates (ratatui, crossterm, indicatif) are used here and never in `airlock_core`,
//! which this crate reaches only through its public API. Views never do I/O. The UI never
//! calls the AWS SDK directly: it asks `airlock_core::aws` for the browser's listings,
//! `airlock_core::job` for plans and runs (the same pipeline for the CLI and the TUI), and takes
//! progress statistics and formatting from `airlock_core::progress`.

pub mod cli;
#[cfg(feature = "demo")]
pub mod demo;
pub mod logging;
mod signals;
pub mod tui;
