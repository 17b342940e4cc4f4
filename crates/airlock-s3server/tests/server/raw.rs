//! Hand-made requests, signed with aws-sigv4 and sent over a plain TCP stream, for what the SDK
//! cannot send or show: an aws-chunked body with an unsigned trailer (`STREAMING-UNSIGNED-
//! PAYLOAD-TRAILER`, so a test can send a trailer checksum that does not match the bytes; over
//! http the SDK signs every chunk and the trailer, so any tampering fails the signature first),
//! and a GET whose raw answer a test reads (a listing's XML as sent).

use std::time::SystemTime;

use airlock_s3server::EmbeddedS3;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Send UploadPart (or PutObject: any PUT path) with `data` and the trailer
/// `x-amz-checksum-crc64nvme: trailer_value`; returns the HTTP status and the response.
pub(crate) async fn upload_part_with_trailer(
    server: &EmbeddedS3,
    path_and_query: &str,
    data: &[u8],
    trailer_value: &str,
) -> (u16, String) {
    let body = chunked_with_trailer(data, trailer_value);
    let (decoded_len, encoded_len) = (data.len().to_string(), body.len().to_string());
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("content-length", encoded_len.as_str()),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("x-amz-decoded-content-length", decoded_len.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
    ];
    let payload = SignableBody::StreamingUnsignedPayloadTrailer;
    send(server, "PUT", path_and_query, &headers, payload, &body).await
}

/// The aws-chunked framing of `data` in one chunk, then the CRC64NVME trailer, as the SDK
/// writes it.
pub(crate) fn chunked_with_trailer(data: &[u8], trailer_value: &str) -> Vec<u8> {
    let mut body = Vec::new();
    if !data.is_empty() {
        body.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n");
    body.extend_from_slice(format!("x-amz-checksum-crc64nvme:{trailer_value}\r\n\r\n").as_bytes());
    body
}

/// A signed GET; returns the status and the whole response (head and body) as text.
pub(crate) async fn get(server: &EmbeddedS3, path_and_query: &str) -> (u16, String) {
    let headers = [("x-amz-content-sha256", EMPTY_SHA256)];
    send(
        server,
        "GET",
        path_and_query,
        &headers,
        SignableBody::Bytes(&[]),
        &[],
    )
    .await
}

/// SHA-256 of nothing, the payload hash of a body-less request.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

async fn send(
    server: &EmbeddedS3,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    payload: SignableBody<'_>,
    body: &[u8],
) -> (u16, String) {
    let host = server.addr.to_string();
    let mut all: Vec<(&str, &str)> = vec![("host", host.as_str())];
    all.extend_from_slice(headers);
    let identity = Credentials::new(&server.access_key, &server.secret_key, None, None, "test");
    let identity = identity.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("{}{path_and_query}", server.endpoint);
    let signable = SignableRequest::new(method, url, all.iter().copied(), payload).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (signing_headers, _) = instructions.into_parts();

    let mut request = format!("{method} {path_and_query} HTTP/1.1\r\n");
    for (name, value) in &all {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    for header in &signing_headers {
        request.push_str(&format!("{}: {}\r\n", header.name(), header.value()));
    }
    request.push_str("connection: close\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}
