//! `airlock demo`: two embedded S3 servers on loopback with distinct keys, filled in a few
//! seconds with believable delivery data, and settings pointing at them. Some objects are
//! already identical at the target, some differ, a few exist only at the target, and a few are
//! large enough to route multipart with the demo's small threshold. Everything lives in a
//! temporary directory removed on exit (unless the user chose the directory).

use std::path::{Path, PathBuf};

use airlock_s3server::EmbeddedS3;
use futures::{StreamExt, TryStreamExt};

use airlock_core::aws::{ResolvedCredentials, SideClient, build_side_client};
use airlock_core::config::{
    self, ByteSize, CredentialSpec, Secret, Settings, Side, SideSettings, TransferSettings,
};
use airlock_core::error::{Error, Result};

pub const SOURCE_BUCKET: &str = "legacy-deliveries";
pub const TARGET_BUCKET: &str = "deliveries";
pub const PREFIX: &str = "clients/";
/// Clearly fake keys: the two servers stand in for two accounts.
pub const SOURCE_KEYS: (&str, &str) = ("demo-source-key", "demo-source-secret-not-real");
pub const TARGET_KEYS: (&str, &str) = ("demo-target-key", "demo-target-secret-not-real");

/// Running demo servers and the settings for them.
pub struct Demo {
    pub source: EmbeddedS3,
    pub target: EmbeddedS3,
    pub settings: Settings,
    pub dir: PathBuf,
    /// Removes the directory on drop when we created it.
    _temp: Option<tempfile::TempDir>,
}

/// How to start the demo.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Data directory (default: a temp dir removed on exit).
    pub dir: Option<PathBuf>,
    /// Fixed ports (source, target); default: free ports.
    pub ports: Option<(u16, u16)>,
    /// Start empty buckets (the benchmark fills its own).
    pub empty: bool,
}

impl Demo {
    pub async fn start(options: DemoOptions) -> Result<Demo> {
        let (dir, temp) = match &options.dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("airlock-demo-")
                    .tempdir()
                    .map_err(|e| Error::io(std::env::temp_dir(), e))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let addr = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let (source_port, target_port) = options.ports.unwrap_or((0, 0));
        let source = EmbeddedS3::start_on(
            &dir.join("source"),
            SOURCE_KEYS.0,
            SOURCE_KEYS.1,
            addr(source_port),
        )
        .await
        .map_err(|e| Error::io(dir.join("source"), e))?;
        let target = EmbeddedS3::start_on(
            &dir.join("target"),
            TARGET_KEYS.0,
            TARGET_KEYS.1,
            addr(target_port),
        )
        .await
        .map_err(|e| Error::io(dir.join("target"), e))?;
        source
            .create_bucket(SOURCE_BUCKET)
            .map_err(|e| Error::io(&source.root, e))?;
        target
            .create_bucket(TARGET_BUCKET)
            .map_err(|e| Error::io(&target.root, e))?;
        let settings = demo_settings(&source, &target);
        let demo = Demo {
            source,
            target,
            settings,
            dir,
            _temp: temp,
        };
        if !options.empty {
            demo.fill().await?;
        }
        Ok(demo)
    }

    /// Clients for both sides (built from the demo settings).
    pub fn sides(&self) -> airlock_core::aws::Sides {
        let creds = |server: &EmbeddedS3| ResolvedCredentials {
            renewal: None,
            provider: aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    &server.access_key,
                    &server.secret_key,
                    None,
                    None,
                    "airlock-demo",
                ),
            ),
            description: "demo keys".into(),
        };
        airlock_core::aws::Sides {
            source: build_side_client(
                &self.settings.source,
                &self.settings.transfer,
                &creds(&self.source),
            ),
            target: build_side_client(
                &self.settings.target,
                &self.settings.transfer,
                &creds(&self.target),
            ),
        }
    }

    /// A config file for the demo servers (for `--serve` and headless runs).
    pub fn config_toml(&self) -> String {
        let side = |name: &str, server: &EmbeddedS3, bucket: &str| {
            format!(
                "[{name}]\nbucket = \"{bucket}\"\nprefix = \"{PREFIX}\"\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\nforce_path_style = true\n\n\
                 [{name}.credentials]\nkind = \"static\"\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n\n",
                server.endpoint, server.access_key, server.secret_key
            )
        };
        let t = &self.settings.transfer;
        format!(
            "# airlock demo servers (fake keys, loopback only)\n{}{}[transfer]\nmultipart_threshold = \"{}\"\npart_size = \"{}\"\nconcurrency = {}\n",
            side("source", &self.source, SOURCE_BUCKET),
            side("target", &self.target, TARGET_BUCKET),
            t.multipart_threshold.0,
            match t.part_size {
                config::PartSize::Fixed(size) => size.0.to_string(),
                config::PartSize::Auto => "auto".into(),
            },
            t.concurrency_toml()
        )
    }

    /// Write [`Demo::config_toml`] next to the data and return its path.
    pub fn write_config(&self) -> Result<PathBuf> {
        let path = self.dir.join("airlock-demo.toml");
        airlock_core::fsutil::write_atomic(&path, self.config_toml().as_bytes(), 0o600)?;
        Ok(path)
    }

    async fn fill(&self) -> Result<()> {
        let sides = self.sides();
        let objects = sample_objects();
        futures::stream::iter(objects.iter().map(|o| put(&sides.source, &sides.target, o)))
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

fn demo_settings(source: &EmbeddedS3, target: &EmbeddedS3) -> Settings {
    let side = |side: Side, server: &EmbeddedS3, bucket: &str| SideSettings {
        side,
        bucket: bucket.into(),
        prefix: PREFIX.into(),
        region: "us-east-1".into(),
        endpoint_url: Some(server.endpoint.clone()),
        force_path_style: true,
        request_payer: false,
        credentials: CredentialSpec::Static {
            access_key_id: Secret::new(server.access_key.clone()),
            secret_access_key: Secret::new(server.secret_key.clone()),
            session_token: None,
        },
        write: Default::default(),
    };
    Settings {
        source: side(Side::Source, source, SOURCE_BUCKET),
        target: side(Side::Target, target, TARGET_BUCKET),
        transfer: TransferSettings {
            // Demo-sized so multipart routing shows on objects of tens of MiB.
            multipart_threshold: ByteSize::mib(16),
            part_size: config::PartSize::Fixed(ByteSize::mib(5)),
            // Fixed and small, so the demo's few objects show their parts moving.
            concurrency: 8,
            adaptive_concurrency: false,
            estimate_rate: ByteSize::mib(50),
            ..Default::default()
        },
        filter: Default::default(),
        path: None,
        warnings: Vec::new(),
    }
}

/// Where a sample object goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Only at the source: `new`.
    New,
    /// Same bytes on both sides: `same`.
    Same,
    /// Different bytes at the target: `differs`.
    Differs,
    /// Only at the target.
    TargetOnly,
}

struct Sample {
    key: String,
    size: usize,
    seed: u64,
    content_type: &'static str,
    placement: Placement,
}

fn sample_objects() -> Vec<Sample> {
    let clients = ["acme", "globex", "initech", "umbrella"];
    let mut out = Vec::new();
    let mut seed = 1u64;
    for (c, client) in clients.iter().enumerate() {
        for day in 1..=18u32 {
            let date = format!("2026-11-{day:02}");
            let placement = match (day + c as u32) % 6 {
                0 | 1 => Placement::Same,
                2 => Placement::Differs,
                _ => Placement::New,
            };
            for (name, size, content_type) in [
                (
                    "orders.csv",
                    20_000 + (seed as usize * 7919) % 180_000,
                    "text/csv",
                ),
                (
                    "events.jsonl.gz",
                    100_000 + (seed as usize * 104_729) % 900_000,
                    "application/gzip",
                ),
                (
                    "manifest.json",
                    300 + (seed as usize * 31) % 900,
                    "application/json",
                ),
            ] {
                seed += 1;
                out.push(Sample {
                    key: format!("{PREFIX}{client}/daily/{date}/{name}"),
                    size,
                    seed,
                    content_type,
                    placement,
                });
            }
        }
        seed += 1;
        out.push(Sample {
            key: format!("{PREFIX}{client}/daily/2026-10-31/orders.csv"),
            size: 50_000,
            seed,
            content_type: "text/csv",
            placement: Placement::TargetOnly,
        });
    }
    for (key, mib) in [
        ("acme/backfill/2026-10/orders.parquet", 32),
        ("globex/archive/2026-q3.tar", 24),
        ("initech/exports/full-dump.csv.gz", 20),
    ] {
        seed += 1;
        out.push(Sample {
            key: format!("{PREFIX}{key}"),
            size: mib * 1024 * 1024 + 12_345,
            seed,
            content_type: "application/octet-stream",
            placement: Placement::New,
        });
    }
    out.push(Sample {
        key: format!("{PREFIX}README for clients.txt"),
        size: 2_000,
        seed: 999,
        content_type: "text/plain",
        placement: Placement::Same,
    });
    out
}

/// Deterministic pseudo-random bytes (xorshift), fast enough for tens of MiB.
pub fn sample_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

async fn put(source: &SideClient, target: &SideClient, sample: &Sample) -> Result<()> {
    let bytes = sample_bytes(sample.seed, sample.size);
    let put_to = |side: &SideClient, bytes: Vec<u8>| {
        // A full-object checksum, as S3 stores for new objects, so copies verify the source hop.
        let crc = airlock_core::engine::digest::encode(
            airlock_core::plan::ChecksumAlgorithm::Crc64nvme,
            crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, &bytes),
        );
        let request = side
            .client
            .put_object()
            .bucket(&side.bucket)
            .key(&sample.key)
            .content_type(sample.content_type)
            .checksum_crc64_nvme(crc)
            .body(bytes.into());
        let (side_name, bucket) = (side.side, side.bucket.clone());
        async move {
            request.send().await.map(|_| ()).map_err(|e| {
                Error::from(airlock_core::aws::errors::s3_failure(
                    &e,
                    airlock_core::aws::errors::Context {
                        side: side_name,
                        operation: "PutObject",
                        bucket: &bucket,
                        key: Some(&sample.key),
                    },
                ))
            })
        }
    };
    match sample.placement {
        Placement::New => put_to(source, bytes).await,
        Placement::Same => {
            put_to(source, bytes.clone()).await?;
            put_to(target, bytes).await
        }
        Placement::Differs => {
            let mut changed = bytes.clone();
            if let Some(first) = changed.first_mut() {
                *first ^= 0xff; // same size, different bytes: only a checksum tells
            }
            put_to(source, bytes).await?;
            put_to(target, changed).await
        }
        Placement::TargetOnly => put_to(target, bytes).await,
    }
}

/// Directory for `--dir` on tmpfs when available (the benchmark).
pub fn tmpfs_dir(name: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.join(name)
    } else {
        std::env::temp_dir().join(name)
    }
}
