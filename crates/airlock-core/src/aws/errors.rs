//! SDK errors -> [`S3Failure`] with side, operation, bucket, key and a retry [`Class`].
//! This is the only place that looks inside `SdkError`.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::config::Side;
use crate::error::{Class, Error, ErrorKind, S3Failure};

/// Where a request went, for the error message.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub side: Side,
    pub operation: &'static str,
    pub bucket: &'a str,
    pub key: Option<&'a str>,
}

/// Convert an SDK error into our failure type, classifying it for retries.
pub fn s3_failure<E>(err: &SdkError<E, HttpResponse>, ctx: Context<'_>) -> S3Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (status, code, message, class) = match err {
        SdkError::ConstructionFailure(_) => (None, None, root_cause(err), Class::Fatal),
        SdkError::TimeoutError(_) => (None, None, "timed out".to_string(), Class::Retryable),
        SdkError::DispatchFailure(failure) => {
            let class = if failure.is_user() {
                Class::Fatal
            } else {
                Class::Retryable
            };
            (
                None,
                None,
                format!("connection failed: {}", root_cause(err)),
                class,
            )
        }
        SdkError::ResponseError(_) => (
            None,
            None,
            format!("response cut short or unreadable: {}", root_cause(err)),
            Class::Retryable,
        ),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let inner = service.err();
            let code = inner.code().map(str::to_string);
            let message = inner.message().unwrap_or_default().to_string();
            if let Some(region) = redirect_region(err) {
                // Every retry would be refused the same way; the message says what to set
                // (see `s3_error` for the config-error form of it).
                let side = ctx.side;
                let message =
                    format!("the bucket is in '{region}': set {side}.region = \"{region}\"");
                let code = Some(code.unwrap_or_else(|| "PermanentRedirect".to_string()));
                return failure(ctx, Some(status), code, message, Class::Fatal);
            }
            let class = classify(status, code.as_deref());
            (
                Some(status),
                code.or_else(|| default_code(status)),
                message,
                class,
            )
        }
        _ => (None, None, root_cause(err), Class::Retryable),
    };
    failure(ctx, status, code, message, class)
}

fn failure(
    ctx: Context<'_>,
    status: Option<u16>,
    code: Option<String>,
    message: String,
    class: Class,
) -> S3Failure {
    S3Failure {
        side: ctx.side,
        operation: ctx.operation,
        bucket: ctx.bucket.to_string(),
        key: ctx.key.map(str::to_string),
        status,
        code,
        message,
        class,
    }
}

/// [`s3_failure`] as an [`Error`], for the first requests of a command (HeadBucket, the
/// listings): a bucket in another region than `configured_region` becomes
/// [`ErrorKind::WrongRegion`], a config error that names the region to set.
pub fn s3_error<E>(
    err: &SdkError<E, HttpResponse>,
    ctx: Context<'_>,
    configured_region: Option<&str>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = s3_failure(err, ctx);
    match redirect_region(err) {
        Some(bucket_region) => Error::new(ErrorKind::WrongRegion {
            side: ctx.side,
            bucket: ctx.bucket.to_string(),
            bucket_region,
            configured_region: configured_region.map(str::to_string),
        })
        .with_source(Error::from(failure)),
        None => failure.into(),
    }
}

/// The region S3 names when it refuses a request signed for another region: the
/// `x-amz-bucket-region` header of a 301 (HeadBucket's has no body), a `PermanentRedirect`,
/// or an `AuthorizationHeaderMalformed` / `IncorrectEndpoint` answer.
fn redirect_region<E>(err: &SdkError<E, HttpResponse>) -> Option<String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let SdkError::ServiceError(service) = err else {
        return None;
    };
    let status = service.raw().status().as_u16();
    let redirected = status == 301
        || matches!(
            service.err().code(),
            Some("PermanentRedirect" | "AuthorizationHeaderMalformed" | "IncorrectEndpoint")
        );
    if !redirected {
        return None;
    }
    service
        .raw()
        .headers()
        .get("x-amz-bucket-region")
        .map(str::trim)
        .filter(|region| !region.is_empty())
        .map(str::to_string)
}

/// Retry class from HTTP status and S3 error code.
pub fn classify(status: u16, code: Option<&str>) -> Class {
    match (status, code) {
        (_, Some("SlowDown" | "TooManyRequests" | "RequestLimitExceeded")) | (503 | 429, _) => {
            Class::SlowDown
        }
        (_, Some("ExpiredToken" | "TokenRefreshRequired")) => Class::ExpiredToken,
        (412, _) => Class::SourceChanged,
        (404, _) | (_, Some("NoSuchKey" | "NoSuchBucket" | "NoSuchUpload")) => Class::NotFound,
        // The store does not do this at all: asking again cannot help.
        (501, _) | (_, Some("NotImplemented")) => Class::Fatal,
        (500..=599, _) => Class::Retryable,
        // A body cut short or damaged on the way may arrive whole next time. Not
        // XAmzContentSHA256Mismatch: stores without aws-chunked trailers (Ceph < 2025) answer
        // it to every such request.
        (_, Some("RequestTimeout" | "IncompleteBody" | "BadDigest" | "InternalError")) => {
            Class::Retryable
        }
        (408, _) => Class::Retryable,
        _ => Class::Fatal,
    }
}

/// HEAD responses carry no body, so no code: name the common ones.
fn default_code(status: u16) -> Option<String> {
    match status {
        403 => Some("AccessDenied".into()),
        404 => Some("NotFound".into()),
        412 => Some("PreconditionFailed".into()),
        503 => Some("SlowDown".into()),
        _ => None,
    }
}

/// The innermost cause's message: the useful part of a long error chain.
fn root_cause(err: &dyn std::error::Error) -> String {
    let mut current: &dyn std::error::Error = err;
    let mut text = current.to_string();
    while let Some(next) = current.source() {
        let next_text = next.to_string();
        if !next_text.is_empty() {
            text = next_text;
        }
        current = next;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        assert_eq!(classify(503, Some("SlowDown")), Class::SlowDown);
        assert_eq!(classify(503, None), Class::SlowDown);
        assert_eq!(classify(500, Some("InternalError")), Class::Retryable);
        assert_eq!(classify(400, Some("RequestTimeout")), Class::Retryable);
        assert_eq!(classify(400, Some("BadDigest")), Class::Retryable);
        assert_eq!(classify(403, Some("AccessDenied")), Class::Fatal);
        assert_eq!(classify(403, Some("SignatureDoesNotMatch")), Class::Fatal);
        assert_eq!(classify(404, Some("NoSuchKey")), Class::NotFound);
        assert_eq!(
            classify(412, Some("PreconditionFailed")),
            Class::SourceChanged
        );
        assert_eq!(classify(400, Some("InvalidArgument")), Class::Fatal);
        assert_eq!(classify(400, Some("ExpiredToken")), Class::ExpiredToken);
        assert_eq!(
            classify(400, Some("XAmzContentSHA256Mismatch")),
            Class::Fatal
        );
        assert_eq!(classify(501, Some("NotImplemented")), Class::Fatal);
        assert_eq!(classify(501, None), Class::Fatal);
        for code in [
            "MetadataTooLarge",
            "InvalidPart",
            "EntityTooSmall",
            "InvalidRequest",
        ] {
            assert_eq!(classify(400, Some(code)), Class::Fatal, "{code}");
        }
        assert_eq!(classify(403, Some("InvalidObjectState")), Class::Fatal);
    }
}
