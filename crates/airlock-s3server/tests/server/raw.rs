//! A hand-made UploadPart whose body is aws-chunked with an unsigned trailer
//! (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`), so a test can send a trailer checksum that does not
//! match the bytes. The SDK cannot: over http it signs every chunk and the trailer, so any
//! tampering fails the signature first. Signed with aws-sigv4, sent over a plain TCP stream.

use std::time::SystemTime;

use airlock_s3server::EmbeddedS3;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Send UploadPart with `data` and the trailer `x-amz-checksum-crc64nvme: trailer_value`;
/// returns the HTTP status and the response body.
pub async fn upload_part_with_trailer(
    server: &EmbeddedS3,
    path_and_query: &str,
    data: &[u8],
    trailer_value: &str,
) -> (u16, String) {
    let mut body = format!("{:x}\r\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\r\n0\r\n");
    body.extend_from_slice(format!("x-amz-checksum-crc64nvme:{trailer_value}\r\n\r\n").as_bytes());

    let host = server.addr.to_string();
    let (decoded_len, encoded_len) = (data.len().to_string(), body.len().to_string());
    let headers = [
        ("host", host.as_str()),
        ("content-encoding", "aws-chunked"),
        ("content-length", encoded_len.as_str()),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("x-amz-decoded-content-length", decoded_len.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
    ];
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
    let signable = SignableRequest::new(
        "PUT",
        url,
        headers.iter().copied(),
        SignableBody::StreamingUnsignedPayloadTrailer,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (signing_headers, _) = instructions.into_parts();

    let mut request = format!("PUT {path_and_query} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    for header in &signing_headers {
        request.push_str(&format!("{}: {}\r\n", header.name(), header.value()));
    }
    request.push_str("connection: close\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
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
