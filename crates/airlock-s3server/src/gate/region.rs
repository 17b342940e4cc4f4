//! Buckets in another region. AWS: a bucket lives in one region; a request for it signed for
//! another region (SigV4's credential scope `AK/DATE/REGION/s3/aws4_request`) is answered 301
//! with the header `x-amz-bucket-region: <its region>`. HeadBucket has no body, so the SDK
//! shows a bare "301"; every other operation gets a `PermanentRedirect` error document naming
//! the endpoint to use. HeadBucket in the right region also reports `x-amz-bucket-region`, and
//! GetBucketLocation answers from any region (it is how clients find the region).
//!
//! We read the region from the `Authorization` header's credential scope, or from
//! `X-Amz-Credential` in a presigned query. An unsigned or SigV2 request is left to s3s, which
//! refuses it. GetBucketLocation is answered here (s3s-fs has no regions), without checking
//! that the bucket exists.

use hyper::http::{Method, StatusCode};
use s3s::{Body, HttpResponse};

use super::answer::Refusal;
use super::{RequestView, authorization_region, scope_region};
use crate::behaviours::{Switches, lock};

pub(super) enum RegionVerdict {
    /// No region involved (or it matches): go on.
    Pass,
    /// Go on, and report the bucket's region on the answer (HeadBucket).
    Tag(String),
    /// Answered here (GetBucketLocation).
    Answer(HttpResponse),
    Refuse(Refusal),
}

pub(super) fn check(view: &RequestView<'_>, switches: &Switches) -> RegionVerdict {
    let Some(bucket) = view.bucket else {
        return RegionVerdict::Pass;
    };
    let Some(region) = lock(&switches.bucket_region).clone() else {
        return RegionVerdict::Pass;
    };
    let head_bucket = *view.method == Method::HEAD && !view.has_key;
    if *view.method == Method::GET && !view.has_key && view.has_query("location") {
        return RegionVerdict::Answer(location(&region));
    }
    let Some(signed) = signed_region(view) else {
        return RegionVerdict::Pass;
    };
    if signed == region {
        return match head_bucket {
            true => RegionVerdict::Tag(region),
            false => RegionVerdict::Pass,
        };
    }
    let refusal = Refusal::new(
        StatusCode::MOVED_PERMANENTLY,
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified \
         endpoint. Please send all future requests to this endpoint.",
    )
    .detail("Endpoint", format!("{bucket}.s3.{region}.amazonaws.com"))
    .detail("Bucket", bucket)
    .header("x-amz-bucket-region", region);
    RegionVerdict::Refuse(refusal)
}

/// The region of a SigV4 credential scope, from the header or a presigned query.
fn signed_region(view: &RequestView<'_>) -> Option<String> {
    if let Some(auth) = view.header("authorization") {
        return authorization_region(auth);
    }
    let credential = view.query("X-Amz-Credential")?;
    let decoded = credential.replace("%2F", "/").replace("%2f", "/");
    scope_region(&decoded)
}

/// GetBucketLocation's answer: S3 writes an empty constraint for us-east-1.
fn location(region: &str) -> HttpResponse {
    let constraint = match region {
        "us-east-1" => String::new(),
        other => other.to_string(),
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{constraint}</LocationConstraint>"
    );
    let mut response = HttpResponse::new(Body::from(xml));
    let content_type = hyper::http::HeaderValue::from_static("application/xml");
    response.headers_mut().insert("content-type", content_type);
    response
}
