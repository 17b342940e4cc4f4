//! Command-line arguments (clap): the low-level args, as close to the flags as clap can parse
//! them. [`super::invocation`] converts them once into a validated `Invocation` (config loaded,
//! overriding flags applied); commands never reparse the config.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

/// Copy S3 objects between accounts that cannot see each other, streaming through this host.
#[derive(Debug, Parser)]
#[command(name = "airlock", version, about, long_about = None)]
pub struct Args {
    /// Config file (else $AIRLOCK_CONFIG, else the user config dir).
    #[arg(long, short = 'c', global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Also log to stderr (-v info, -vv debug). Headless commands only.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config: resolve both sides' credentials and reach both buckets.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// List a side like a folder (or recursively).
    Ls(LsArgs),
    /// Print the size-routing plan for the configured prefixes; -o saves it as JSON.
    Plan(PlanArgs),
    /// Copy headless: progress bars or JSON lines, exit codes for schedulers.
    Run(RunArgs),
    /// Open one multipart upload per object at or above transfer.split_above in a saved plan,
    /// so shards can fill it together (writes the upload ids into the plan).
    Prepare(PrepareArgs),
    /// Complete and verify a plan's split objects once every shard has run (safe to repeat).
    Finalize(FinalizeArgs),
    /// Merge shard reports (a directory or s3://bucket/prefix/) into one summary; exit 1 if
    /// anything failed or a shard is missing.
    Report(ReportArgs),
    /// Re-check the target against a run's manifest (HEAD + checksum); exit 1 on any mismatch.
    Verify(VerifyArgs),
    /// In-progress multipart uploads at the target (orphans from killed runs).
    Uploads {
        #[command(subcommand)]
        action: UploadsAction,
    },
    /// Two embedded S3 servers with sample data, and the TUI on them.
    Demo(DemoArgs),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Resolve credentials and HeadBucket on both sides; exit 2 if a side fails.
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SideArg {
    Source,
    Target,
}

#[derive(Debug, ClapArgs)]
pub struct LsArgs {
    /// Which side to list.
    #[arg(value_enum)]
    pub side: SideArg,
    /// Prefix to list (default: the side's configured prefix).
    pub prefix: Option<String>,
    /// List every key below the prefix instead of folders.
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// Show every version of this key instead (version id, time, size, ETag, latest and
    /// delete-marker flags): pick a source.version_at from it.
    #[arg(long, value_name = "KEY", conflicts_with_all = ["prefix", "recursive"])]
    pub versions: Option<String>,
    /// With --versions: one JSON object per version, one per line.
    #[arg(long, requires = "versions")]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct PlanArgs {
    /// Save the plan as JSON to this file, or to s3://BUCKET/KEY in the target account.
    #[arg(long, short = 'o', value_name = "FILE|s3://BUCKET/KEY")]
    pub output: Option<PathBuf>,
    /// Print only the summary, not every object.
    #[arg(long)]
    pub summary: bool,
    /// 'copy' (never deletes) or 'mirror' (also plans deleting target objects the source does
    /// not have). Replaces transfer.mode.
    #[arg(long, value_name = "copy|mirror")]
    pub mode: Option<String>,
    #[command(flatten)]
    pub filter: super::filter_args::FilterArgs,
    /// Cap bytes per second for the whole run (e.g. 200MiB/s; 'off' removes a configured
    /// cap). Replaces transfer.bandwidth_limit.
    #[arg(long, value_name = "RATE")]
    pub bandwidth_limit: Option<String>,
}

#[derive(Debug, ClapArgs)]
pub struct RunArgs {
    /// Execute this saved plan instead of planning now (a file, or s3://BUCKET/KEY in the
    /// target account).
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub plan: Option<PathBuf>,
    /// Print one JSON event per line instead of progress bars.
    #[arg(long)]
    pub json: bool,
    /// Plan and print what would be copied, copy nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run only shard I of N (0-based), e.g. 2/8. Without it: AWS_BATCH_JOB_ARRAY_INDEX and
    /// AWS_BATCH_JOB_ARRAY_SIZE, else JOB_COMPLETION_INDEX with --shards or AIRLOCK_SHARDS.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Number of shards when the index comes from JOB_COMPLETION_INDEX (Kubernetes).
    #[arg(long, value_name = "N", env = "AIRLOCK_SHARDS")]
    pub shards: Option<u32>,
    /// Write a JSON report of this run (or shard) to a file, a directory (ending in '/' or
    /// existing), or s3://bucket/prefix/ in the target account.
    #[arg(long, value_name = "PATH|s3://BUCKET/PREFIX/", env = "AIRLOCK_REPORT")]
    pub report: Option<String>,
    #[command(flatten)]
    pub filter: super::filter_args::FilterArgs,
    /// Cap bytes per second for the whole run (e.g. 200MiB/s; 'off' removes a configured
    /// cap). Replaces transfer.bandwidth_limit.
    #[arg(long, value_name = "RATE")]
    pub bandwidth_limit: Option<String>,
    /// Write the run's manifest (per object: keys, ETag, checksums, verification, outcome) to
    /// FILE: JSON lines, or CSV when FILE ends in .csv.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// 'copy' (never deletes) or 'mirror'. Replaces transfer.mode; with --plan only 'copy'
    /// is accepted (it leaves the plan's deletions out).
    #[arg(long, value_name = "copy|mirror")]
    pub mode: Option<String>,
    /// Mirror mode: delete the target objects with no source counterpart once every copy
    /// succeeded. Without it a mirror run copies, then reports the deletions it skipped.
    #[arg(long)]
    pub confirm_delete: bool,
    /// On SIGTERM (Spot interruption, pod eviction), how long in-flight requests may finish
    /// before airlock leaves (exit 143 either way; open uploads are kept for a resume). Keep it
    /// under the scheduler's grace period (30 s by default on Batch/ECS and Kubernetes).
    #[arg(long, value_name = "DURATION", default_value = "25s", value_parser = super::grace::parse)]
    pub grace: std::time::Duration,
}

#[derive(Debug, ClapArgs)]
pub struct VerifyArgs {
    /// The manifest of an earlier 'airlock run --manifest FILE'.
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
}

#[derive(Debug, ClapArgs)]
pub struct PrepareArgs {
    /// The saved plan (from 'airlock plan -o FILE'; a file or s3://BUCKET/KEY).
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub plan: PathBuf,
    /// Write the prepared plan here instead of over the input.
    #[arg(long, short = 'o', value_name = "FILE|s3://BUCKET/KEY")]
    pub output: Option<PathBuf>,
    /// Split multipart objects at or above this size (overrides transfer.split_above).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub split_above: Option<airlock_core::config::ByteSize>,
}

#[derive(Debug, ClapArgs)]
pub struct FinalizeArgs {
    /// The prepared plan the shards ran (a file or s3://BUCKET/KEY).
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub plan: PathBuf,
}

#[derive(Debug, ClapArgs)]
pub struct ReportArgs {
    /// Directory or s3://bucket/prefix/ holding the shards' reports.
    #[arg(value_name = "DIR|s3://BUCKET/PREFIX/")]
    pub location: String,
    /// Print the merged summary as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_size(text: &str) -> Result<airlock_core::config::ByteSize, String> {
    text.parse()
        .map_err(|e| format!("{e}; write a size like '64GiB'"))
}

#[derive(Debug, Subcommand)]
pub enum UploadsAction {
    /// List in-progress multipart uploads under the target prefix.
    List,
    /// Abort in-progress multipart uploads under the target prefix.
    Abort {
        /// Only uploads started longer ago than this (e.g. 24h, 7d).
        #[arg(long, value_name = "DURATION")]
        older_than: Option<String>,
        /// Abort every upload under the prefix, however recent.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, ClapArgs)]
pub struct DemoArgs {
    /// Only run the two servers and print their endpoints and keys (Ctrl-C stops them).
    #[arg(long)]
    pub serve: bool,
    /// Keep the servers' data in this directory (default: a temp dir removed on exit).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
    /// Listen on these ports, SOURCE,TARGET (default: free ports).
    #[arg(long, value_name = "SOURCE,TARGET", value_parser = parse_ports)]
    pub ports: Option<(u16, u16)>,
    /// Start with empty buckets (for benchmarks and your own data).
    #[arg(long)]
    pub empty: bool,
}

fn parse_ports(text: &str) -> Result<(u16, u16), String> {
    let (a, b) = text
        .split_once(',')
        .ok_or_else(|| format!("'{text}' is not two ports: write SOURCE,TARGET like 9001,9002"))?;
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .map_err(|_| format!("'{p}' is not a port number"))
    };
    Ok((port(a)?, port(b)?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}
