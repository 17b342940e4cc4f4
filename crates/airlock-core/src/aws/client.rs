//! One pair of S3 clients per side, sharing one HTTP connection pool: `client` (SDK retries on,
//! for listings and management calls) and `data` (SDK retries off: the engine retries data
//! requests itself, with backoff and SlowDown control). Built once per run; never per object.

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
    /// SDK retries off: GET/PUT/UploadPart, which the engine retries itself. No HTTP read
    /// timeout either: the SDK's runs from the first byte sent to the response headers, so it
    /// would cut any upload that takes longer than `read_timeout` to send (a 16 MiB part among
    /// 32 on a 15 MB/s link). `aws::objects` watches these requests for progress instead.
    pub data: aws_sdk_s3::Client,
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
        .timeout_config(data_timeouts)
        .build();
    SideClient {
        side: side.side,
        bucket: side.bucket.clone(),
        prefix: side.prefix.clone(),
        client: aws_sdk_s3::Client::from_conf(with_retries),
        data: aws_sdk_s3::Client::from_conf(without_retries),
        read_timeout: transfer.read_timeout,
        credentials: creds.description.clone(),
        renewal: creds.renewal.clone(),
    }
}
