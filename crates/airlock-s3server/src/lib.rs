//! Embedded S3 servers (s3s + s3s-fs) on loopback, for `airlock demo`, the tests and the
//! benchmark. Each server has its own access key, so a request signed for the other server is
//! refused (403): two servers stand in for two accounts that cannot see each other.
//!
//! By default a server is [`Flavor::Faithful`]: s3s-fs wrapped to close the gaps against real
//! S3 that matter to airlock (multipart checksums, `If-Match` on GET/HEAD, ListMultipartUploads,
//! object tags, NoSuchUpload; see the `faithful` module). [`Flavor::Plain`] serves bare s3s-fs, for tests that
//! need its stock behaviour.
//!
//! s3s-fs writes GET bodies in 4 KiB reads and writes and does not set TCP_NODELAY. We set it on
//! every accepted connection so small GETs are not held back by delayed ACKs, and the faithful
//! flavor reads GET bodies in large blocks (module `file_body`). s3s-fs also completes a
//! multipart upload by reading and hashing the whole object again; the faithful flavor joins the
//! part files in the kernel instead, as S3 answers Complete without re-reading (module
//! `assemble`). Both keep s3s-fs's files and answers; the plain flavor keeps its slow paths.
//!
//! # Behaving like AWS, per test
//! s3s-fs is kinder than AWS S3 and other stores. [`EmbeddedS3::behaviours`] returns a
//! [`Behaviours`] handle whose setters switch AWS's (or another store's) behaviour on and off on
//! the running server; every switch is off when a server starts, and the next request sees a
//! change. Each applies to every bucket of that server. *(F)*: faithful flavor only (object
//! state); the others are decided from the raw request in the HTTP gate (module `gate`) and work
//! on both flavors.
//!
//! | AWS / store behaviour | switch |
//! |---|---|
//! | SSE-KMS, DSSE-KMS, SSE-C objects have opaque (non-MD5) ETags, reported encryption *(F)* | [`set_sse_etags(true)`](Behaviours::set_sse_etags) |
//! | the bucket encrypts every object with KMS by default *(F)* | [`set_default_encryption(Some(..))`](Behaviours::set_default_encryption) |
//! | `prefix/` 0-byte folder markers are objects *(F)* | [`set_folder_markers(true)`](Behaviours::set_folder_markers) |
//! | listings honour `encoding-type=url`; ListObjectVersions (unversioned view) *(F)* | [`set_url_encoding(true)`](Behaviours::set_url_encoding) |
//! | control characters in listed keys as `&#xN;` (AWS) instead of raw (s3s) | [`set_xml_char_refs(true)`](Behaviours::set_xml_char_refs) |
//! | GLACIER / DEEP_ARCHIVE: GET 403 InvalidObjectState until RestoreObject *(F)* | [`set_archived_storage_classes(true)`](Behaviours::set_archived_storage_classes) |
//! | INTELLIGENT_TIERING objects in an archive tier *(F)* | [`set_intelligent_tiering_archive(Some(..))`](Behaviours::set_intelligent_tiering_archive) |
//! | the bucket is in another region: 301 + `x-amz-bucket-region` | [`set_bucket_region(Some("eu-west-1"))`](Behaviours::set_bucket_region) |
//! | session tokens expire after N requests: 400 ExpiredToken | [`set_token_lifetime(Some(n))`](Behaviours::set_token_lifetime) |
//! | ACLs disabled: 400 AccessControlListNotSupported | [`set_acls_disabled(true)`](Behaviours::set_acls_disabled) |
//! | 2 KB user metadata: 400 MetadataTooLarge | [`set_metadata_limit(true)`](Behaviours::set_metadata_limit) |
//! | requester pays: 403 without `x-amz-request-payer` | [`set_requester_pays(true)`](Behaviours::set_requester_pays) |
//! | legacy (Ceph < 2025): trailer uploads 400 XAmzContentSHA256Mismatch | [`set_trailers_refused(true)`](Behaviours::set_trailers_refused) |
//! | legacy: CRC64NVME unknown (ignored) *(F)* | [`set_crc64nvme_unknown(true)`](Behaviours::set_crc64nvme_unknown) |
//! | legacy (MinIO < 2025): FULL_OBJECT Complete 400 InvalidPart *(F)* | [`set_full_object_refused(true)`](Behaviours::set_full_object_refused) |
//! | kind store: parts under 5 MiB (but the last) accepted at Complete *(F)* | [`set_small_parts_allowed(true)`](Behaviours::set_small_parts_allowed) |
//! | every listed object with its ETag (s3s-fs lists none) *(F)* | [`set_listed_etags(true)`](Behaviours::set_listed_etags) |
//! | all three legacy switches | [`set_legacy(true)`](Behaviours::set_legacy) |
//! | s3rver: aws-chunked stored with its framing, Abort 405, ListMultipartUploads 501 | [`set_s3rver(true)`](Behaviours::set_s3rver) |
//!
//! | S3-shaped first-byte delay per request kind (fixed or a seeded uniform range) | [`set_latency(Some(..))`](Behaviours::set_latency) |
//! | per-connection bandwidth cap, each direction (token bucket) | [`set_connection_rate(Some(..))`](Behaviours::set_connection_rate) |
//!
//! Not switched, always on in the faithful flavor: a multipart object keeps its part layout
//! (HEAD/GET `partNumber`, `x-amz-mp-parts-count`, GetObjectAttributes `ObjectParts`, the
//! COMPOSITE `value-N` checksum; module `parts`); a finished (or unknown) upload answers 404
//! NoSuchUpload to Complete, Abort, UploadPart and ListParts, as S3 does (s3s-fs: 403); a
//! PutObject refused for its checksum (BadDigest) leaves the key as it was, as S3 does (s3s-fs
//! moves the new bytes into place before it checks).
//!
//! ```no_run
//! # async fn example(root: &std::path::Path) -> std::io::Result<()> {
//! use airlock_s3server::{DefaultEncryption, EmbeddedS3};
//! let target = EmbeddedS3::start(root, "target-key", "target-secret").await?;
//! let behaviours = target.behaviours();
//! behaviours.set_default_encryption(Some(DefaultEncryption::Kms { key_id: None }));
//! behaviours.set_legacy(true);
//! // ... run the copy against `target.endpoint` ...
//! behaviours.set_legacy(false);
//! # Ok(())
//! # }
//! ```
//!
//! # S3-shaped latency and bandwidth
//! On AWS every request waits 10-60 ms for its first byte and one connection carries well under
//! a NIC's worth; on loopback neither holds. A [`LatencyProfile`] delays each answer by its
//! request kind (GET, PUT, UploadPart, HEAD, List, Complete, Create, Other) after the server has
//! read the body and prepared the answer, before the status and headers go out; a
//! [`ConnectionRate`] caps what each TCP connection reads and writes per second. Both have a
//! text form (`get=15-60ms,put=20-80ms,list=30ms,head=10-30ms,complete=50-200ms` and `80MB/s`),
//! are switched on a running server ([`Behaviours::set_latency`],
//! [`Behaviours::set_connection_rate`], [`Behaviours::set_shaping`]), and are read from the
//! environment when a server starts, so `airlock demo --serve` (or any binary embedding these
//! servers) is shaped without code changes:
//!
//! | variable | value |
//! |---|---|
//! | `AIRLOCK_TEST_S3_LATENCY` ([`LATENCY_ENV`]) | a [`LatencyProfile`] text, e.g. `get=15-60ms,put=20-80ms,seed=7` |
//! | `AIRLOCK_TEST_S3_CONN_RATE` ([`CONN_RATE_ENV`]) | a [`ConnectionRate`] text, e.g. `80MB/s` |
//! | `AIRLOCK_TEST_S3_LISTED_ETAGS` ([`LISTED_ETAGS_ENV`]) | `1`: listings carry ETags as S3's do ([`Behaviours::set_listed_etags`]; faithful flavor) |
//! | `AIRLOCK_TEST_S3_SLOWDOWN` ([`SLOWDOWN_ENV`]) | a [`RequestLimit`] text, e.g. `put=50/s` (503 SlowDown above it) |
//!
//! Unset, empty or `off` is off; a value that does not parse makes the server's start fail with
//! an `InvalidInput` error that quotes it. The variables are read only at start; every server
//! started in the process reads them. With both off a request costs what it did before: the
//! latency switch is a bit of the gate's mask (one atomic load per request for all gate
//! switches), the cap one relaxed load per socket read or write.
//!
//! ```no_run
//! # async fn example(server: &airlock_s3server::EmbeddedS3) {
//! use airlock_s3server::{ConnectionRate, LatencyProfile};
//! let latency: LatencyProfile = "get=15-60ms,put=20-80ms,list=30ms".parse().unwrap();
//! server.behaviours().set_latency(Some(latency));
//! let rate: ConnectionRate = "80MB/s".parse().unwrap();
//! server.behaviours().set_connection_rate(Some(rate));
//! # }
//! ```
//!
//! # Synthetic servers, for millions of keys
//! s3s-fs lists O(n) per page (100,000 keys took 4 minutes), so listing and planning at scale
//! cannot be tested on it. A [`SyntheticS3`] answers for the N keys of a [`Dataset`] (flat,
//! folders, or mixed sizes) without storing them: ListObjectsV2 in full, HEAD/GET of seeded
//! bytes (module [`seeded`], shared with the benchmark) with a real CRC64NVME, and as a
//! [`Role::Sink`] a target that lists a preset subset and takes uploads without keeping them.
//! Memory does not grow with N. [`SyntheticS3`] says what it answers and what not;
//! `bench_tool synthetic` runs a source and a sink as a process.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use airlock_s3server::{Dataset, SyntheticOptions, SyntheticS3};
//! let options = SyntheticOptions::source(Dataset::flat(10_000_000), "source", "key", "secret");
//! let source = SyntheticS3::start(options).await?;
//! let options = SyntheticOptions::source(Dataset::flat(10_000_000), "target", "tkey", "tsecret");
//! let target = SyntheticS3::start(options.sink(Some(10))).await?; // every 10th key present
//! # Ok(())
//! # }
//! ```
//!
//! # Dependency rules
//! This crate knows nothing of airlock: it depends on s3s, s3s-fs, hyper's server and tokio (and
//! aws-sigv4, to re-sign the one request the gate rewrites), never on `airlock-core` or the
//! binary. It is a test fixture, not product code: a
//! dev-dependency of airlock's tests and benchmark, and an optional dependency of the `airlock`
//! binary behind its `demo` feature (on by default; the deploy image is built without it), so
//! the binary that holds production credentials need not carry an S3 server.

mod archive;
mod assemble;
mod attributes;
mod behaviours;
mod checksum;
mod complete;
mod conditions;
mod faithful;
mod file_body;
mod folders;
mod fs_files;
mod gate;
mod hashing_body;
mod legacy;
mod listing;
mod meta;
mod multipart;
mod objects;
mod parts;
pub mod seeded;
mod serve;
mod shaping;
mod sse;
mod synthetic;
mod tagging;
mod uploads;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use s3s::S3;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio_util::sync::CancellationToken;

use behaviours::Switches;
pub use behaviours::{ArchiveTier, Behaviours, DefaultEncryption};
use gate::{Gate, ServerKey};
pub use shaping::{
    CONN_RATE_ENV, ConnectionRate, Delay, LATENCY_ENV, LatencyProfile, ParseError, RequestKind,
    RequestLimit, SLOWDOWN_ENV, Shaping,
};
pub use synthetic::{Dataset, Layout, Role, Sizes, SyntheticOptions, SyntheticS3};

/// What a server puts behind the S3 protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// s3s-fs plus what real S3 does and s3s-fs lacks; keeps its extra state in
    /// `<root>/.airlock-meta/`.
    #[default]
    Faithful,
    /// Bare s3s-fs 0.14, gaps and all.
    Plain,
}

/// Environment variable: `1` makes every server started in the process list ETags as S3 does
/// (the benchmark's servers, so that composite objects below the multipart threshold are seen).
pub const LISTED_ETAGS_ENV: &str = "AIRLOCK_TEST_S3_LISTED_ETAGS";

/// A running embedded S3 server. Dropping it stops the server.
#[derive(Debug)]
pub struct EmbeddedS3 {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub addr: SocketAddr,
    pub access_key: String,
    pub secret_key: String,
    /// Directory holding the buckets (one sub-directory per bucket).
    pub root: PathBuf,
    /// Cancelled on drop: stops accepting and closes the server.
    stop: CancellationToken,
    /// The behaviour switches, shared with the gate and the faithful wrapper.
    switches: Arc<Switches>,
}

impl EmbeddedS3 {
    /// Start a server on `127.0.0.1:0` (a free port) serving `root`.
    pub async fn start(root: &Path, access_key: &str, secret_key: &str) -> std::io::Result<Self> {
        Self::start_on(
            root,
            access_key,
            secret_key,
            "127.0.0.1:0".parse().expect("valid address"),
        )
        .await
    }

    /// Start a bare s3s-fs server (no faithful wrapper) on `127.0.0.1:0`.
    pub async fn start_plain(
        root: &Path,
        access_key: &str,
        secret_key: &str,
    ) -> std::io::Result<Self> {
        let addr = "127.0.0.1:0".parse().expect("valid address");
        Self::start_with(root, access_key, secret_key, addr, Flavor::Plain).await
    }

    /// Start a faithful server on a given address.
    pub async fn start_on(
        root: &Path,
        access_key: &str,
        secret_key: &str,
        addr: SocketAddr,
    ) -> std::io::Result<Self> {
        Self::start_with(root, access_key, secret_key, addr, Flavor::Faithful).await
    }

    /// Start a server of the given flavor on a given address.
    pub async fn start_with(
        root: &Path,
        access_key: &str,
        secret_key: &str,
        addr: SocketAddr,
        flavor: Flavor,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let switches = Arc::new(Switches::default());
        let listed_etags = std::env::var(LISTED_ETAGS_ENV).is_ok_and(|v| v == "1");
        switches
            .listed_etags
            .store(listed_etags, std::sync::atomic::Ordering::Relaxed);
        match flavor {
            Flavor::Faithful => {
                let s3 = faithful::Faithful::new(root, switches.clone())?;
                Self::serve(s3, root, access_key, secret_key, addr, switches).await
            }
            Flavor::Plain => {
                let s3 = s3s_fs::FileSystem::new(root)
                    .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
                Self::serve(s3, root, access_key, secret_key, addr, switches).await
            }
        }
    }

    async fn serve(
        s3: impl S3,
        root: &Path,
        access_key: &str,
        secret_key: &str,
        addr: SocketAddr,
        switches: Arc<Switches>,
    ) -> std::io::Result<Self> {
        let s3 = {
            let mut builder = S3ServiceBuilder::new(s3);
            builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
            builder.build()
        };
        let key = ServerKey {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
        };
        let service = Gate::new(s3, switches.clone(), key);
        let stop = CancellationToken::new();
        let addr = serve::serve(service, addr, switches.clone(), stop.clone()).await?;
        Ok(EmbeddedS3 {
            endpoint: format!("http://{addr}"),
            addr,
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            root: root.to_path_buf(),
            stop,
            switches,
        })
    }

    /// The switches for AWS behaviours this server lacks by default (see [`Behaviours`] and the
    /// crate documentation); all off until a test turns them on.
    pub fn behaviours(&self) -> Behaviours {
        Behaviours::new(self.switches.clone())
    }

    /// Create a bucket directly on disk (s3s-fs buckets are directories).
    pub fn create_bucket(&self, bucket: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(self.root.join(bucket))
    }

    /// Stop the server now (also done on drop).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
