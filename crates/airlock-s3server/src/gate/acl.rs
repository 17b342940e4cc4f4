//! Buckets with ACLs disabled. AWS: with S3 Object Ownership set to BucketOwnerEnforced (the
//! default for new buckets since April 2023) the bucket owner owns every object and ACLs do
//! nothing; a request that tries to set one is refused with 400
//! `AccessControlListNotSupported` ("The bucket does not allow ACLs"). The one ACL still
//! accepted is `bucket-owner-full-control` (it grants nothing new), so old clients that always
//! send it keep working.
//!
//! We refuse: any `x-amz-acl` header other than `bucket-owner-full-control`, any
//! `x-amz-grant-*` header, and every PutObjectAcl / PutBucketAcl (`PUT ...?acl`), whatever it
//! carries. (S3 accepts a PutBucketAcl that only restates the owner's full control; no client
//! of ours sends one.)

use hyper::http::{Method, StatusCode};

use super::RequestView;
use super::answer::Refusal;

pub(super) fn check(view: &RequestView<'_>) -> Option<Refusal> {
    let canned = view
        .header("x-amz-acl")
        .is_some_and(|acl| !acl.trim().eq_ignore_ascii_case("bucket-owner-full-control"));
    let grants = view
        .headers
        .keys()
        .any(|name| name.as_str().starts_with("x-amz-grant-"));
    let put_acl = *view.method == Method::PUT && view.has_query("acl");
    (canned || grants || put_acl).then(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "AccessControlListNotSupported",
            "The bucket does not allow ACLs",
        )
    })
}
