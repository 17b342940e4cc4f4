//! Legacy stores without trailing checksums. AWS SDKs since 2025 send uploads as `aws-chunked`
//! bodies whose checksum follows the data as a trailer (`x-amz-content-sha256:
//! STREAMING-UNSIGNED-PAYLOAD-TRAILER` over https, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`
//! when chunks are signed). Ceph RGW before its 2025 releases knows neither trailer mode: it
//! takes the value for a payload hash it cannot match and answers 400
//! `XAmzContentSHA256Mismatch` (measured against Ceph 16.2, see TEST-SERVERS.md). Signed
//! chunks without a trailer (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), `UNSIGNED-PAYLOAD` and a
//! hex SHA-256 still work there, and here.

use hyper::http::StatusCode;

use super::RequestView;
use super::answer::Refusal;

pub(super) fn check(view: &RequestView<'_>) -> Option<Refusal> {
    let mode = view.header("x-amz-content-sha256")?;
    let trailer = matches!(
        mode,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    );
    trailer.then(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    })
}
