//! Shared by the s3server tests: a started server in a temporary root, an SDK client for it,
//! and helpers to read statuses and error codes out of SDK errors.

use airlock_s3server::{EmbeddedS3, Flavor};
use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use base64::Engine as _;

pub(crate) const BUCKET: &str = "bucket";
pub(crate) const MIB: usize = 1024 * 1024;

/// A running server over a temporary root, and a client signed with its keys.
pub(crate) struct Fixture {
    /// Kept so the root outlives the server; dropped last.
    pub root: tempfile::TempDir,
    pub server: EmbeddedS3,
    pub client: Client,
}

impl Fixture {
    pub(crate) async fn faithful() -> Fixture {
        Self::start(Flavor::Faithful).await
    }

    pub(crate) async fn plain() -> Fixture {
        Self::start(Flavor::Plain).await
    }

    async fn start(flavor: Flavor) -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let server = start_server(root.path(), flavor).await;
        server.create_bucket(BUCKET).unwrap();
        let client = client_for(&server);
        Fixture {
            root,
            server,
            client,
        }
    }

    /// Stop this server and start a new one of the same flavor on the same root.
    pub(crate) async fn restart(self, flavor: Flavor) -> Fixture {
        let Fixture { root, server, .. } = self;
        server.stop();
        drop(server);
        let server = start_server(root.path(), flavor).await;
        let client = client_for(&server);
        Fixture {
            root,
            server,
            client,
        }
    }

    pub(crate) async fn put(&self, key: &str, body: &[u8]) -> String {
        let out = self
            .client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .unwrap();
        out.e_tag().unwrap().to_string()
    }

    pub(crate) async fn get(&self, key: &str) -> Vec<u8> {
        let out = self
            .client
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().into_bytes().to_vec()
    }
}

async fn start_server(root: &std::path::Path, flavor: Flavor) -> EmbeddedS3 {
    let addr = "127.0.0.1:0".parse().unwrap();
    EmbeddedS3::start_with(root, "source-key", "source-secret", addr, flavor)
        .await
        .unwrap()
}

/// A client that sends checksums only where a request carries a value.
pub(crate) fn client_for(server: &EmbeddedS3) -> Client {
    client_with_keys(server, &server.access_key, &server.secret_key)
}

pub(crate) fn client_with_keys(server: &EmbeddedS3, access_key: &str, secret_key: &str) -> Client {
    build_client(
        server,
        access_key,
        secret_key,
        RequestChecksumCalculation::WhenRequired,
    )
}

/// A client that computes and sends the checksum a request names with `checksum_algorithm`.
/// With `WhenRequired`, the SDK sends only `x-amz-sdk-checksum-algorithm` for UploadPart and
/// PutObject, and no value at all.
pub(crate) fn checksumming_client(server: &EmbeddedS3) -> Client {
    let calculation = RequestChecksumCalculation::WhenSupported;
    build_client(server, &server.access_key, &server.secret_key, calculation)
}

/// A client signing for `region`, with a session token if given.
pub(crate) fn client_signing(
    server: &EmbeddedS3,
    region: &str,
    session_token: Option<&str>,
) -> Client {
    let token = session_token.map(str::to_string);
    let credentials = Credentials::new(&server.access_key, &server.secret_key, token, None, "t");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .endpoint_url(&server.endpoint)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    Client::from_conf(config)
}

fn build_client(
    server: &EmbeddedS3,
    access_key: &str,
    secret_key: &str,
    calculation: RequestChecksumCalculation,
) -> Client {
    let credentials = Credentials::new(access_key, secret_key, None, None, "test");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(&server.endpoint)
        .force_path_style(true)
        .request_checksum_calculation(calculation)
        .build();
    Client::from_conf(config)
}

/// HTTP status of a failed call.
pub(crate) fn status<E: std::fmt::Debug>(err: &SdkError<E, HttpResponse>) -> u16 {
    match err.raw_response() {
        Some(resp) => resp.status().as_u16(),
        None => panic!("no HTTP response: {err:?}"),
    }
}

/// S3 error code of a failed call (absent for HEAD, which has no body).
pub(crate) fn code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<String> {
    err.code().map(str::to_string)
}

/// Deterministic test bytes.
pub(crate) fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64 * 31 + u64::from(seed) * 7) % 251) as u8)
        .collect()
}

/// S3's spelling of a CRC: base64 of its big-endian bytes.
pub(crate) fn crc64nvme_b64(data: &[u8]) -> String {
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, data);
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// Content-MD5's spelling: base64 of the digest.
pub(crate) fn md5_b64(data: &[u8]) -> String {
    use md5::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

/// An MD5 ETag's spelling: lowercase hex of the digest.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    let digest = md5::Md5::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn crc32_b64(data: &[u8]) -> String {
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32;
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// Records the HTTP status of the response (the SDK answers a GET's 304 as a success with an
/// empty body, so the status is the only way to see it).
#[derive(Clone, Debug, Default)]
pub(crate) struct StatusRecorder(std::sync::Arc<std::sync::Mutex<Option<u16>>>);

impl StatusRecorder {
    pub(crate) fn status(&self) -> Option<u16> {
        *self.0.lock().unwrap()
    }
}

impl aws_sdk_s3::config::Intercept for StatusRecorder {
    fn name(&self) -> &'static str {
        "StatusRecorder"
    }

    fn read_after_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        *self.0.lock().unwrap() = Some(context.response().status().as_u16());
        Ok(())
    }
}

/// Records the checksum headers a request went out with (`x-amz-checksum-*`, `x-amz-trailer`).
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestSpy(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

impl RequestSpy {
    /// The value of a recorded header of the last request.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let headers = self.0.lock().unwrap();
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

impl aws_sdk_s3::config::Intercept for RequestSpy {
    fn name(&self) -> &'static str {
        "RequestSpy"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let seen = context
            .request()
            .headers()
            .iter()
            .filter(|(n, _)| n.starts_with("x-amz-checksum-") || *n == "x-amz-trailer")
            .map(|(n, v)| (n.to_string(), v.to_string()));
        *self.0.lock().unwrap() = seen.collect();
        Ok(())
    }
}
