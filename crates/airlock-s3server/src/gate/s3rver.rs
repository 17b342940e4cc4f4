//! A store that does not understand `aws-chunked`, like s3rver (npm), the last of a family of
//! mock servers that predate flexible checksums. AWS decodes an `aws-chunked` body (chunk
//! sizes, chunk signatures, trailer) and stores only the payload; s3rver accepts the request
//! and stores the body as it came, framing and trailer included, so a 1,024-byte payload with a
//! CRC64NVME trailer becomes a 1,075-byte object and an empty one 44 bytes, and nothing in it is
//! checked. It also has no AbortMultipartUpload (405 Method Not Allowed) and no
//! ListMultipartUploads (501 NotImplemented).
//!
//! s3s decodes a body whenever `x-amz-content-sha256` names a streaming mode, and that header is
//! signed, so we cannot just drop it: we rewrite the request as the plain upload s3rver takes it
//! for (`UNSIGNED-PAYLOAD`, the framing as the body, `Content-Length` unchanged, no
//! `x-amz-decoded-content-length` or `x-amz-trailer`) and sign it again with the server's own
//! key. The client's signature was not checked; s3rver checks none either.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use hyper::http::request::Parts;
use hyper::http::{HeaderValue, Method, StatusCode};

use super::answer::Refusal;
use super::{RequestView, ServerKey, authorization_region};

/// The operations s3rver lacks.
pub(super) fn check(view: &RequestView<'_>) -> Option<Refusal> {
    if *view.method == Method::DELETE && view.has_key && view.has_query("uploadId") {
        return Some(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        ));
    }
    if *view.method == Method::GET && !view.has_key && view.has_query("uploads") {
        return Some(Refusal::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented.",
        ));
    }
    None
}

/// Whether the body is `aws-chunked` (by its encoding, or by a streaming payload mode).
pub(super) fn is_chunked(view: &RequestView<'_>) -> bool {
    let encoded = view.header("content-encoding").is_some_and(|e| {
        e.split(',')
            .any(|e| e.trim().eq_ignore_ascii_case("aws-chunked"))
    });
    let streaming = view
        .header("x-amz-content-sha256")
        .is_some_and(|mode| mode.starts_with("STREAMING-"));
    encoded || streaming
}

/// Make the request a plain `UNSIGNED-PAYLOAD` upload of its framed body, signed with `key`.
pub(super) fn unframe(parts: &mut Parts, key: &ServerKey) -> Result<(), Refusal> {
    let auth = parts
        .headers
        .get("authorization")
        .and_then(|a| a.to_str().ok());
    let region = auth.and_then(authorization_region);
    let region = region.unwrap_or_else(|| "us-east-1".to_string());
    let headers = &mut parts.headers;
    for name in [
        "authorization",
        "x-amz-date",
        "x-amz-decoded-content-length",
        "x-amz-trailer",
    ] {
        headers.remove(name);
    }
    let unsigned = HeaderValue::from_static("UNSIGNED-PAYLOAD");
    headers.insert("x-amz-content-sha256", unsigned);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("http://{host}{path_and_query}");
    let signed: Vec<(String, String)> = {
        let to_sign = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        let identity = Credentials::new(&key.access_key, &key.secret_key, None, None, "gate");
        let identity = identity.into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(resign_failed)?
            .into();
        let method = parts.method.as_str();
        let signable = SignableRequest::new(method, url, to_sign, SignableBody::UnsignedPayload)
            .map_err(resign_failed)?;
        let (instructions, _) = sign(signable, &params).map_err(resign_failed)?.into_parts();
        let (signing_headers, _) = instructions.into_parts();
        let pairs = signing_headers.iter();
        pairs
            .map(|h| (h.name().to_string(), h.value().to_string()))
            .collect()
    };
    for (name, value) in signed {
        let name = hyper::http::HeaderName::from_bytes(name.as_bytes()).map_err(resign_failed)?;
        let value = HeaderValue::from_str(&value).map_err(resign_failed)?;
        parts.headers.insert(name, value);
    }
    Ok(())
}

fn resign_failed(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        format!("the test server could not re-sign the request it stores raw: {e}"),
    )
}
