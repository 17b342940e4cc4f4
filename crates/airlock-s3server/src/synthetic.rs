//! [`SyntheticS3`]: an S3 endpoint for N synthetic keys that stores nothing, for listing and
//! planning at millions of keys (s3s-fs lists O(n) per page: 100,000 keys took 4 minutes).
//! Every key, size, ETag, LastModified, storage class and byte follows from the key's index
//! ([`Dataset`]); memory does not grow with N, and a listing page costs O(page + log N).
//!
//! What it answers, and what not, is on [`SyntheticS3`]. Modules: `dataset` (keys and what
//! follows from an index), `listing` (ListObjectsV2), `objects` (HEAD/GET), `sink` (writes),
//! `service` (the S3 trait surface).
//!
//! Depends on s3s, the gate and accept loop, the faithful server's checksum and Complete checks,
//! and the seeded generator.

mod dataset;
mod listing;
mod objects;
mod received;
mod service;
mod sink;

use std::net::SocketAddr;
use std::sync::Arc;

use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio_util::sync::CancellationToken;

pub use dataset::{Dataset, Layout, Sizes};

use crate::behaviours::{Behaviours, Switches};
use crate::gate::{Gate, ServerKey};
use dataset::Catalog;
use service::Synthetic;

/// What a synthetic server holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Every key of the dataset; read-only.
    Source,
    /// A target: lists every `present_every`-th key of the dataset (index 0, k, 2k, ...; `None`:
    /// nothing), a quarter of them (index/k = 1, 5, 9, ...) one byte longer than the source's,
    /// and takes writes without keeping them.
    Sink { present_every: Option<u64> },
    /// A target that holds every key of the dataset unchanged (a finished copy, which a rerun
    /// skips whole); takes writes as a sink does.
    Copied,
}

/// How to start a [`SyntheticS3`].
#[derive(Clone, Debug)]
pub struct SyntheticOptions {
    pub dataset: Dataset,
    pub role: Role,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
}

impl SyntheticOptions {
    /// A source of `dataset` on a free loopback port.
    pub fn source(dataset: Dataset, bucket: &str, access_key: &str, secret_key: &str) -> Self {
        SyntheticOptions {
            dataset,
            role: Role::Source,
            bucket: bucket.to_string(),
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// The same options for a sink holding every `present_every`-th key (`None`: empty).
    pub fn sink(self, present_every: Option<u64>) -> Self {
        SyntheticOptions {
            role: Role::Sink { present_every },
            ..self
        }
    }
}

/// A running synthetic S3 server. Dropping it stops the server.
///
/// - **Source** ([`Role::Source`]): one bucket holding every key of the dataset.
///   ListObjectsV2 in full (prefix, any delimiter with CommonPrefixes, max-keys up to 1,000,
///   opaque continuation tokens that resume in O(log N), start-after, `encoding-type=url`),
///   HeadBucket, HEAD and GET (ranges, `If-Match`/`If-None-Match`, a real full-object
///   CRC64NVME with checksum mode, GLACIER objects refused), GetObjectTagging (no tags).
///   Writes answer 403.
/// - **Sink** ([`Role::Sink`]): a target bucket that lists a preset subset (none, or every k-th
///   key with a quarter of those one byte longer, so a merge-join sees skips and
///   differences) and takes PutObject and multipart uploads, computing MD5 and checksums and
///   dropping the bytes. What it received is never listed or read back (GET answers 501);
///   HEAD finds the last 4,096 objects it received (size, ETag, checksums, user metadata), so
///   a client's check after Complete works.
///
/// The ETag of a synthetic object is 32 hex digits drawn from the seed, index and size (`-N`
/// for objects of 16 MiB or more), not the MD5 of its bytes: check bytes with the CRC64NVME
/// (checksum mode) instead. Requests are signed (SigV4, s3s) and checked against the one key
/// pair given at start, so the other side's key is refused (403), as between two accounts.
/// The HTTP gate sits in front as on [`EmbeddedS3`](crate::EmbeddedS3), so
/// [`Behaviours`](crate::Behaviours)' gate switches (latency, connection rate, region, tokens,
/// ...) and the shaping environment variables apply here too; the faithful-only ones do not.
/// Not supported: ListObjects (v1), ListObjectVersions, copies, tags other than none, writes to
/// a source.
#[derive(Debug)]
pub struct SyntheticS3 {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub addr: SocketAddr,
    pub access_key: String,
    pub secret_key: String,
    pub bucket: String,
    pub dataset: Dataset,
    pub role: Role,
    stop: CancellationToken,
    switches: Arc<Switches>,
}

impl SyntheticS3 {
    /// This server as one side of an airlock config: the `[name]` table (bucket, `prefix`,
    /// endpoint, path-style) and its static credentials.
    pub fn config_table(&self, name: &str, prefix: &str) -> String {
        format!(
            "[{name}]\nbucket = \"{}\"\nprefix = \"{prefix}\"\nregion = \"us-east-1\"\n\
             endpoint_url = \"{}\"\nforce_path_style = true\n\n[{name}.credentials]\n\
             kind = \"static\"\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n\n",
            self.bucket, self.endpoint, self.access_key, self.secret_key
        )
    }

    /// Start serving; fails with `InvalidInput` on a dataset that cannot be served or a
    /// shaping environment variable that does not parse.
    pub async fn start(options: SyntheticOptions) -> std::io::Result<Self> {
        let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
        options.dataset.check().map_err(invalid)?;
        if options.role
            == (Role::Sink {
                present_every: Some(0),
            })
        {
            return Err(invalid(
                "a sink holds every k-th key: k must be 1 or more".to_string(),
            ));
        }
        let (present_every, sink, same) = match options.role {
            Role::Source => (None, false, false),
            Role::Sink { present_every } => (present_every, true, false),
            Role::Copied => (Some(1), true, true),
        };
        let synthetic = Synthetic {
            catalog: Catalog {
                dataset: options.dataset.clone(),
                present_every,
                sink,
                same,
            },
            bucket: options.bucket.clone(),
            uploads: Default::default(),
            received: Default::default(),
        };
        let s3 = {
            let mut builder = S3ServiceBuilder::new(synthetic);
            builder.set_auth(SimpleAuth::from_single(
                options.access_key.as_str(),
                options.secret_key.as_str(),
            ));
            builder.build()
        };
        let key = ServerKey {
            access_key: options.access_key.clone(),
            secret_key: options.secret_key.clone(),
        };
        let switches = Arc::new(Switches::default());
        let service = Gate::new(s3, switches.clone(), key);
        let stop = CancellationToken::new();
        let addr =
            crate::serve::serve(service, options.addr, switches.clone(), stop.clone()).await?;
        Ok(SyntheticS3 {
            endpoint: format!("http://{addr}"),
            addr,
            access_key: options.access_key,
            secret_key: options.secret_key,
            bucket: options.bucket,
            dataset: options.dataset,
            role: options.role,
            stop,
            switches,
        })
    }

    /// The gate's switches on this server (latency, connection rate, region, ...).
    pub fn behaviours(&self) -> Behaviours {
        Behaviours::new(self.switches.clone())
    }

    /// Stop the server now (also done on drop).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for SyntheticS3 {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
