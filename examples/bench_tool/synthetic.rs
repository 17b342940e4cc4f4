//! `synthetic`: a synthetic source and sink target (`airlock_s3server::SyntheticS3`: keys
//! computed, nothing stored) for listing and planning at millions of keys, with the demo's keys
//! and buckets, printed in the shape `airlock demo --serve` prints (so `bench/run.py` reads both
//! alike) with a config file for airlock. Runs until Ctrl-C. The shaping variables
//! (`AIRLOCK_TEST_S3_LATENCY`, `AIRLOCK_TEST_S3_CONN_RATE`) apply to both servers.
//!
//! `list`: list every key of one side with the SDK, one page after another as a client does
//! (or folder by folder, several at a time), and report keys/s, whether the keys came in order,
//! and the server process's memory and CPU.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use futures::StreamExt as _;

use airlock::demo;
use airlock_core::config::ByteSize;
use airlock_s3server::{Dataset, Layout, Sizes, SyntheticOptions, SyntheticS3};
use clap::{Args, ValueEnum};
use serde_json::json;

#[derive(Args, Clone)]
pub(crate) struct SyntheticArgs {
    /// Number of keys in the source.
    #[arg(long)]
    keys: u64,
    /// flat: events/part-00000000.parquet ...; folders: f0000/obj-00000.bin ...; mixed: flat
    /// keys with a backfill's mix of sizes (0 B to 128 MiB, some GLACIER).
    #[arg(long, value_enum, default_value_t = LayoutArg::Flat)]
    layout: LayoutArg,
    /// Keys per folder (folders layout).
    #[arg(long, default_value_t = 1000)]
    per_folder: u64,
    /// Object sizes (flat and folders): SIZE or MIN-MAX, e.g. 4KiB or 1KiB-16KiB.
    #[arg(long, default_value = "1KiB-16KiB")]
    size: String,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The target holds every K-th source key (a quarter of them with another size); without
    /// it the target is empty.
    #[arg(long, conflicts_with = "target_same")]
    target_every: Option<u64>,
    /// The target holds every source key unchanged (a finished copy: a run skips them all).
    #[arg(long)]
    target_same: bool,
    /// Source port (the target takes the next one); default: free ports.
    #[arg(long)]
    port: Option<u16>,
    /// Where to write the config file (default: a temporary directory removed on exit).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LayoutArg {
    Flat,
    Folders,
    Mixed,
}

fn parse_sizes(text: &str) -> Result<Sizes, String> {
    let size = |t: &str| ByteSize::from_str(t.trim()).map(|s| s.0).map_err(|e| e.0);
    let (min_bytes, max_bytes) = match text.split_once('-') {
        Some((low, high)) => (size(low)?, size(high)?),
        None => (size(text)?, size(text)?),
    };
    Ok(Sizes::Uniform {
        min_bytes,
        max_bytes,
    })
}

impl SyntheticArgs {
    fn dataset(&self) -> Result<Dataset, String> {
        let sizes = parse_sizes(&self.size).map_err(|e| format!("--size '{}': {e}", self.size))?;
        let dataset = match self.layout {
            LayoutArg::Flat => Dataset {
                sizes,
                ..Dataset::flat(self.keys)
            },
            LayoutArg::Folders => Dataset {
                sizes,
                ..Dataset::folders(self.keys, self.per_folder)
            },
            LayoutArg::Mixed => Dataset::mixed(self.keys),
        };
        let dataset = Dataset {
            seed: self.seed,
            ..dataset
        };
        dataset.check()?;
        Ok(dataset)
    }
}

/// The source and the target the arguments describe, started.
async fn start(args: &SyntheticArgs) -> Result<(SyntheticS3, SyntheticS3), String> {
    let dataset = args.dataset()?;
    let addr = |offset: u16| {
        let port = args.port.map_or(0, |p| p.saturating_add(offset));
        SocketAddr::from(([127, 0, 0, 1], port))
    };
    let (source_keys, target_keys) = (demo::SOURCE_KEYS, demo::TARGET_KEYS);
    let source = SyntheticOptions {
        addr: addr(0),
        ..SyntheticOptions::source(
            dataset.clone(),
            demo::SOURCE_BUCKET,
            source_keys.0,
            source_keys.1,
        )
    };
    let target = SyntheticOptions {
        addr: addr(1),
        ..SyntheticOptions::source(dataset, demo::TARGET_BUCKET, target_keys.0, target_keys.1)
            .sink(args.target_every)
    };
    let target = match args.target_same {
        true => SyntheticOptions {
            role: airlock_s3server::Role::Copied,
            ..target
        },
        false => target,
    };
    let started = |e: std::io::Error| format!("the synthetic servers did not start: {e}");
    let source = SyntheticS3::start(source).await.map_err(started)?;
    let target = SyntheticS3::start(target).await.map_err(started)?;
    Ok((source, target))
}

/// Start both servers, print where they are, and serve until Ctrl-C.
pub(crate) async fn serve(args: SyntheticArgs) -> Result<(), String> {
    let (source, target) = start(&args).await?;
    let (dir, _temp) = match &args.dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("airlock-synthetic-")
                .tempdir()
                .map_err(|e| format!("no temporary directory: {e}"))?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let config = write_config(&dir, &source, &target)?;
    let mut out = std::io::stdout().lock();
    for (side, server) in [("source", &source), ("target", &target)] {
        let _ = writeln!(
            out,
            "{side}  {}  bucket '{}'  access key '{}'  secret '{}'",
            server.endpoint, server.bucket, server.access_key, server.secret_key
        );
    }
    let _ = writeln!(out, "config  {}", config.display());
    let first = source.dataset.key(0);
    let held = match args.target_every {
        Some(k) => format!("every {k}th key (a quarter of those one byte longer)"),
        None => "nothing".to_string(),
    };
    let _ = writeln!(
        out,
        "dataset {} keys from '{first}'; the target holds {held}",
        source.dataset.keys
    );
    let _ = writeln!(out, "(loopback only, fake keys; Ctrl-C stops them)");
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}

/// An airlock config for the two servers, over the dataset's prefix; default transfer settings.
fn write_config(dir: &Path, source: &SyntheticS3, target: &SyntheticS3) -> Result<PathBuf, String> {
    let prefix = match &source.dataset.layout {
        Layout::Flat { prefix } | Layout::Folders { prefix, .. } => prefix.clone(),
    };
    let side = |name: &str, server: &SyntheticS3| server.config_table(name, &prefix);
    let text = format!(
        "# airlock synthetic servers (fake keys, loopback only)\n{}{}",
        side("source", source),
        side("target", target)
    );
    std::fs::create_dir_all(dir).map_err(|e| format!("'{}': {e}", dir.display()))?;
    let path = dir.join("airlock-synthetic.toml");
    let written = std::fs::write(&path, text).and_then(|()| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
    });
    written.map_err(|e| format!("'{}': {e}", path.display()))?;
    Ok(path)
}

/// What listing one prefix found.
#[derive(Default)]
struct Tally {
    keys: u64,
    pages: u64,
    /// Whether every key came after the one before it (bytes order).
    ordered: bool,
    common_prefixes: Vec<String>,
}

/// List every key under `prefix` (grouped by `delimiter`), one page after another.
async fn list_prefix(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
) -> Result<Tally, String> {
    let mut tally = Tally {
        ordered: true,
        ..Tally::default()
    };
    let mut last: Option<String> = None;
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_string))
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| format!("ListObjectsV2 '{prefix}': {}", crate::write::error_text(&e)))?;
        tally.pages += 1;
        let common = page.common_prefixes().iter().filter_map(|c| c.prefix());
        tally.common_prefixes.extend(common.map(str::to_string));
        for object in page.contents() {
            let key = object.key().unwrap_or_default();
            tally.ordered &= last
                .as_deref()
                .is_none_or(|l| l.as_bytes() < key.as_bytes());
            last = Some(key.to_string());
            tally.keys += 1;
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => return Ok(tally),
        }
    }
}

/// List every key under `prefix` and print a JSON line with keys/s, order, and the memory of
/// `server_pid` if given. With `concurrency` 1, one listing one page after another (grouped by
/// `delimiter` if given); above 1, the prefix's folders (common prefixes at `/`) are listed
/// whole, `concurrency` of them at a time, as a client that lists per folder does.
pub(crate) async fn list(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    concurrency: usize,
    server_pid: Option<u32>,
) -> Result<bool, String> {
    let started = Instant::now();
    let mut total = match concurrency {
        0 | 1 => list_prefix(client, bucket, prefix, delimiter).await?,
        _ => list_prefix(client, bucket, prefix, Some("/")).await?,
    };
    let folders = total.common_prefixes.len() as u64;
    if concurrency > 1 {
        let mut folders = futures::stream::iter(std::mem::take(&mut total.common_prefixes))
            .map(|folder| async move { list_prefix(client, bucket, &folder, None).await })
            .buffered(concurrency);
        while let Some(tally) = folders.next().await {
            let tally = tally?;
            total.keys += tally.keys;
            total.pages += tally.pages;
            total.ordered &= tally.ordered;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut report = json!({
        "op": "list", "keys": total.keys, "prefixes": folders, "pages": total.pages,
        "ordered": total.ordered, "concurrency": concurrency.max(1), "seconds": seconds,
        "keys_s": total.keys as f64 / seconds,
    });
    if let Some(pid) = server_pid {
        report["server_rss_kib"] = status_kib(pid, "VmRSS:").into();
        report["server_peak_rss_kib"] = status_kib(pid, "VmHWM:").into();
        report["server_cpu_s"] = cpu_seconds(pid).into();
    }
    println!("{report}");
    Ok(total.ordered)
}

/// user+sys seconds process `pid` has used so far (Linux), or `None`.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // /proc counts in USER_HZ clock ticks: 100 a second on Linux.
    Some(ticks / 100.0)
}

/// A `/proc/PID/status` line in KiB (Linux), or `None`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SyntheticArgs,
    }

    fn args(line: &str) -> SyntheticArgs {
        let argv = std::iter::once("synthetic").chain(line.split_whitespace());
        Cli::try_parse_from(argv).unwrap().args
    }

    #[tokio::test]
    async fn the_config_file_is_one_airlock_reads_for_both_servers() {
        let (source, target) = start(&args("--keys 100 --target-every 10")).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), &source, &target).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let settings = airlock_core::config::parse_settings(&text, "synthetic").unwrap();
        assert_eq!(settings.source.bucket, demo::SOURCE_BUCKET);
        assert_eq!(settings.target.bucket, demo::TARGET_BUCKET);
        assert_eq!(settings.source.prefix, "events/");
        assert!(text.contains(&source.endpoint) && text.contains(&target.endpoint));
    }

    #[test]
    fn layouts_and_sizes_come_from_the_arguments() {
        let folders = args("--keys 10 --layout folders --per-folder 3 --size 4KiB").dataset();
        let folders = folders.unwrap();
        assert_eq!(folders.key(9), "f0003/obj-00000.bin");
        assert_eq!(folders.size_bytes(5), 4096);
        assert_eq!(
            args("--keys 1 --layout mixed").dataset().unwrap().sizes,
            Sizes::Mixed
        );
        let bad = args("--keys 1 --size 2KiB-1KiB").dataset().unwrap_err();
        assert!(bad.contains("2048..=1024"), "{bad}");
        let bad = args("--keys 1 --size big").dataset().unwrap_err();
        assert!(bad.starts_with("--size 'big'"), "{bad}");
    }
}
