//! The integration tests, one binary: the whole stack (core, S3 server, the test harness) is
//! compiled and linked once, not once per file. Each module is one area, named as its file was
//! when every file was its own binary, so `cargo test --test it plan::` runs what
//! `--test plan` did. The shared harness is [`common`].
//!
//! All tests share one process: none may set process-wide state (environment variables, the
//! current directory). Settings for the `airlock` binary go to the child process
//! (`AirlockCmd::env`); see `common::run`.
//!
//! Tests that need moto or tmux are ignored when the tool was not found at build time (see
//! `build.rs`), and run, failing without the tool, under `CI=true`.

mod common;

mod acls;
mod adaptive;
mod bad_cli;
mod bad_config;
mod bad_plan;
mod bandwidth;
mod completions;
mod config_check;
mod config_errors;
mod config_example;
mod deploy;
mod dry_run_stream;
mod engine_control;
mod engine_copy;
mod engine_faults;
mod engine_resume;
mod engine_verify;
mod expiry;
mod filters;
mod fresh_shard;
mod fuzz_parsers;
mod integrity;
mod ls;
mod manifest;
mod metadata_limit;
mod mirror;
mod mirror_stream;
mod moto_copy;
mod moto_inventory;
mod moto_layout;
mod moto_s3;
mod odd_keys;
mod plan;
mod plan_real_s3;
mod plan_stream;
mod profiles;
mod proxy;
mod readme_keys;
mod region;
mod reliability;
mod requester_pays;
mod requests_per_object;
mod resume_target;
mod retries;
mod run_cli;
mod run_stream;
mod run_stream_report;
mod run_stream_s3;
mod s3_inventory;
mod s3_inventory_bench;
mod s3_inventory_errors;
mod s3_inventory_versions;
mod scaleout;
mod secrets;
mod server_slowdown;
mod servers;
mod slowdown_storm;
mod source_layout;
mod source_layout_small;
mod source_layout_split;
mod source_layout_target;
mod ssm;
mod tui_flow;
mod tui_plan_scale;
mod tui_scale;
mod tui_tmux;
mod versions;
mod write_modes;
