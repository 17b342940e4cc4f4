//! Requester-pays buckets. AWS: when a bucket's owner turns on Requester Pays, every request
//! on the bucket or its objects must acknowledge the charge with `x-amz-request-payer:
//! requester` (or `x-amz-request-payer=requester` in a presigned query); without it S3 answers
//! 403 `AccessDenied`, even for the bucket owner's own reads from another account.
//!
//! We emulate it for every bucket of the server; ListBuckets (no bucket) is not affected.

use hyper::http::StatusCode;

use super::RequestView;
use super::answer::Refusal;

pub(super) fn check(view: &RequestView<'_>) -> Option<Refusal> {
    view.bucket?;
    let payer = view
        .header("x-amz-request-payer")
        .or_else(|| view.query("x-amz-request-payer"));
    let acknowledged = payer.is_some_and(|p| p.eq_ignore_ascii_case("requester"));
    (!acknowledged).then(|| Refusal::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"))
}
