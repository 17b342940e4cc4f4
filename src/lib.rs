//! airlock copies S3 objects from a bucket in one AWS account to a bucket in another when the
//! two accounts cannot see each other: no cross-account policy, so no server-side copy. Bytes
//! stream through this host: ranged GETs with the source credentials, PUT / UploadPart with the
//! target credentials.
//!
//! # Modules
//! - [`config`]: config file discovery, raw (serde) shape, validated [`config::Settings`].
//! - [`aws`]: S3 and SSM clients per side, credential resolution, listing; every SDK error is
//!   turned into [`error::Error`] here, with side, operation, bucket and key.
//! - [`plan`]: pure function from listings + settings to a [`plan::Plan`] (skip / single /
//!   multipart routes, part sizes, totals). No I/O.
//! - [`plan_store`]: where saved plans live: a local file, or `s3://BUCKET/KEY` in the target
//!   account (read and written through `aws`).
//! - `engine`: executes a plan with bounded concurrency and memory, retries, verification and a
//!   resume journal; emits events, takes commands.
//! - `cli`: headless commands (config check, ls, plan, run) rendering engine events with
//!   indicatif or JSON lines.
//! - [`tui`]: the terminal UI (ratatui); views are pure renders of app state.
//! - `demo`: `airlock demo`, two embedded S3 servers from the `airlock-s3server` crate with
//!   believable data and settings pointing at them.
//!
//! # Dependency rules
//! `engine`, `aws`, `plan` and `config` never import ratatui, crossterm or indicatif. Views
//! never do I/O. The UI never calls the AWS SDK directly: it asks `aws` for listings and the
//! engine for transfers.

pub mod aws;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod logging;
pub mod plan;
pub mod plan_store;
pub mod tui;

pub use error::{Error, ErrorKind, Result};
