//! The S3 clients of each side, sharing one HTTP connection pool and one endpoint cache:
//! `client` (SDK retries on, for listings and management calls), `data` (SDK retries off: the
//! engine retries data requests itself, with backoff and SlowDown control) and `single_shot`
//! (retries off, for the other requests the engine retries). Built once per run; never per
//! object.
//!
//! What the SDK would do per request that airlock does itself is switched off here, because it
//! costs CPU on every small object: the S3 endpoint rules run once per bucket
//! ([`CachingResolver`]), and `data` requests carry no stalled-stream protection (the relay
//! cuts a source body that stops, `deadline` an upload that stops).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{IdentityCache, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::region::Region;

use super::credentials::{Renewal, ResolvedCredentials, resolve_both};
use super::endpoint_cache::CachingResolver;
use super::requester_pays::RequesterPays;
use crate::config::{Settings, Side, SideSettings, TransferSettings};
use crate::error::Result;

/// One side's bucket and clients.
#[derive(Clone, Debug)]
pub struct SideClient {
    pub side: Side,
    pub bucket: String,
    pub prefix: String,
    /// SDK retries on: listings, HEADs, multipart management.
    pub client: aws_sdk_s3::Client,
    /// SDK retries off: GET/PUT/UploadPart/Complete, which the engine retries itself. No HTTP
    /// read timeout either: the SDK's runs from the first byte sent to the response headers, so
    /// it would cut any upload that takes longer than `read_timeout` to send (a 16 MiB part
    /// among 32 on a 15 MB/s link). `aws::objects` watches these requests for progress instead
    /// (`deadline`), and the relay cuts a GET body that stops: no SDK stalled-stream
    /// protection, which would time and log every chunk of every body a second time.
    pub data: aws_sdk_s3::Client,
    /// SDK retries off, the SDK's stalled-stream protection on: the other requests the engine
    /// retries itself (HEAD, tagging, multipart setup, listing parts, deletes), whose response
    /// bodies nothing else watches.
    pub single_shot: aws_sdk_s3::Client,
    /// How long a data request may make no progress (see `data`).
    pub read_timeout: Duration,
    /// Where the credentials came from (never a secret).
    pub credentials: String,
    /// Set when the keys can be read again after they expire (SSM); see
    /// `credentials::renewal`.
    pub renewal: Option<Renewal>,
}

/// Both sides, connected.
#[derive(Clone, Debug)]
pub struct Sides {
    pub source: SideClient,
    pub target: SideClient,
}

impl SideClient {
    /// The region the clients sign for (the side's `region`).
    pub fn region(&self) -> Option<&str> {
        self.client.config().region().map(|region| region.as_ref())
    }
}

impl Sides {
    pub fn get(&self, side: Side) -> &SideClient {
        match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        }
    }
}

/// Resolve both sides' credentials and build their clients.
pub async fn connect(settings: &Settings) -> Result<Sides> {
    let (source, target) = resolve_both(settings).await;
    let (source, target) = (source?, target?);
    Ok(Sides {
        source: build_side_client(&settings.source, &settings.transfer, &source),
        target: build_side_client(&settings.target, &settings.transfer, &target),
    })
}

/// The HTTP client every AWS client of airlock uses (S3 and the STS behind role profiles):
/// rustls with aws-lc, idle connections kept for a minute.
pub(crate) fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .pool_idle_timeout(Duration::from_secs(60))
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https()
}

/// Build one side's clients. Cheap enough for tests; a run calls it once per side.
pub fn build_side_client(
    side: &SideSettings,
    transfer: &TransferSettings,
    creds: &ResolvedCredentials,
) -> SideClient {
    let http = http_client();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(transfer.connect_timeout)
        // Time to the first byte of a response: a server that accepts and never answers.
        .read_timeout(transfer.read_timeout)
        .build();
    let data_timeouts = TimeoutConfig::builder()
        .connect_timeout(transfer.connect_timeout)
        .disable_read_timeout()
        .build();
    let mut builder = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(side.region.clone()))
        .credentials_provider(creds.provider.clone())
        .http_client(http)
        .endpoint_resolver(CachingResolver::default())
        .timeout_config(timeouts)
        // A body that stops flowing is cut after the grace period and retried by the engine.
        .stalled_stream_protection(
            StalledStreamProtectionConfig::enabled()
                .grace_period(transfer.read_timeout)
                .build(),
        )
        // Data writes carry our own CRC64NVME trailer (engine::chunked); the SDK adds checksums
        // only where S3 requires one. Reads are validated where we enable checksum mode.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .force_path_style(side.force_path_style);
    if let Some(url) = &side.endpoint_url {
        builder = builder.endpoint_url(url);
    }
    if side.request_payer {
        builder = builder.interceptor(RequesterPays);
    }
    if creds.renewal.is_some() {
        // Renewable keys are held by their provider, which hands out the current ones
        // cheaply: an SDK cache would keep using expired keys after a renewal.
        builder = builder.identity_cache(IdentityCache::no_cache());
    }
    let with_retries = builder
        .clone()
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .build();
    let without_retries = builder
        .retry_config(RetryConfig::disabled())
        .timeout_config(data_timeouts);
    let streams = without_retries
        .clone()
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    SideClient {
        side: side.side,
        bucket: side.bucket.clone(),
        prefix: side.prefix.clone(),
        client: aws_sdk_s3::Client::from_conf(with_retries),
        data: aws_sdk_s3::Client::from_conf(streams),
        single_shot: aws_sdk_s3::Client::from_conf(without_retries.build()),
        read_timeout: transfer.read_timeout,
        credentials: creds.description.clone(),
        renewal: creds.renewal.clone(),
    }
}
