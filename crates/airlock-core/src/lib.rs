//! airlock's core: everything that copies S3 objects from a bucket in one AWS account to a
//! bucket in another when the two accounts cannot see each other (no cross-account policy, so
//! no server-side copy). Bytes stream through this host: ranged GETs with the source
//! credentials, PUT / UploadPart with the target credentials. The `airlock` binary (headless
//! CLI and terminal UI) is a consumer of this crate.
//!
//! # The data path
//! ```text
//! config.toml ─► config::Settings ─► aws: credentials per side (profile | env | static | SSM)
//!                                        │
//!          source listing ─┐             ▼
//!                          ├─► plan::Plan ─► engine ─► engine::Event ─► progress::Stats
//!          target listing ─┘    (pure)        ▲  │                  └─► TUI / headless
//!          (job::inventory)                   │  └─► engine::journal (resume, no secrets)
//!                                             └── engine::Command (pause, retry, cancel, ...)
//!
//! job::run, the pipeline both UIs call: plan (job::inventory, or a saved plan from
//! job::plan_store) ─► this shard (job::shard) ─► recheck a saved plan (job::recheck)
//! ─► engine ─► manifest + shard report (job::manifest, job::shard_report) ─► exit code
//! ```
//!
//! # Modules
//! In dependency order: each uses only modules listed before it, plus `error`, `dirs` and
//! `fsutil` (and `error` names a [`config::Side`]).
//! - [`config`]: config file discovery, raw (serde) shape, validated [`config::Settings`];
//!   defaults in [`config::defaults`], the ranges every way of setting a value enforces in
//!   [`config::limits`].
//! - [`plan`]: pure function from listings + settings to a [`plan::Plan`] (skip / single /
//!   multipart routes, part sizes, totals, filters, mirror deletions), and the plan file
//!   format. No I/O.
//! - [`aws`]: S3 and SSM primitives: clients per side, credential resolution, listings, HEAD,
//!   object operations, small documents; every SDK error is turned into [`error::Error`] here,
//!   with side, operation, bucket and key.
//! - [`engine`]: executes a plan with bounded concurrency and memory, retries, verification and
//!   a resume journal; emits [`engine::Event`]s, takes [`engine::Command`]s.
//! - [`progress`]: statistics folded from the event stream (rates, ETA, chart series) and the
//!   byte / duration / time formatting, shared by the TUI and the headless reporter.
//! - [`job`]: orchestration both UIs call: listing to plan ([`job::inventory`]), the
//!   `--from-list` reader, shard assignment, plan storage (local and `s3://`), the recheck of a
//!   saved plan, the run pipeline ([`job::run`]) and its outputs (manifest, shard report), the
//!   steps around a sharded run ([`job::split_objects`]: prepare and finalize split objects)
//!   and the merge of shard reports ([`job::report_merge`]).
//! - [`error`]: the one error type, `Error { kind, source }`, and its retry [`error::Class`].
//! - [`dirs`]: where airlock keeps its files (data directory, journal).
//! - [`fsutil`]: atomic file writes with explicit permissions.
//!
//! # Dependency rules
//! - No UI crate: ratatui, crossterm and indicatif never appear in this crate's Cargo.toml. The
//!   terminal UI and the headless reporter live in the binary: they call [`job`], consume
//!   [`engine::Event`]s and word what the pipeline tells them ([`job::run::Notice`]).
//! - No test server: s3s, s3s-fs and hyper's server live in `airlock-s3server`, which this
//!   crate does not depend on (not even as a dev-dependency). hyper is here only as the AWS
//!   SDK's HTTP client.
//! - No logging setup: this crate emits `tracing` events (targets `airlock_core::...`); the
//!   binary installs the subscriber.

pub mod aws;
pub mod config;
pub mod dirs;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod job;
pub mod plan;
pub mod progress;

pub use error::{Error, ErrorKind, Result};
