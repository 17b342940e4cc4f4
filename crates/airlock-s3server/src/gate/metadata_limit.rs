//! S3's 2 KB limit on user-defined metadata. AWS (User Guide, "Working with object metadata"):
//! "Within the PUT request header, the user-defined metadata is limited to 2 KB in size. The
//! size of user-defined metadata is measured by taking the sum of the number of bytes in the
//! UTF-8 encoding of each key and value." The key is the name after `x-amz-meta-` (the prefix is
//! not metadata, and is not counted), so `x-amz-meta-ab: cd` counts 4 bytes. A request over the
//! limit answers 400 `MetadataTooLarge` ("Your metadata headers exceed the maximum allowed
//! metadata size.") and nothing is written.
//!
//! It applies where metadata is set: PutObject, CreateMultipartUpload, and CopyObject with
//! `x-amz-metadata-directive: REPLACE` (a plain copy keeps the source's metadata and ignores the
//! request's). Header values are counted as the bytes sent.

use hyper::http::{Method, StatusCode};

use super::RequestView;
use super::answer::Refusal;

/// S3's limit, in bytes of keys and values.
const LIMIT_BYTES: usize = 2048;
const PREFIX: &str = "x-amz-meta-";

pub(super) fn check(view: &RequestView<'_>) -> Option<Refusal> {
    if !sets_metadata(view) {
        return None;
    }
    let size_bytes: usize = view
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let key = name.as_str().strip_prefix(PREFIX)?;
            Some(key.len() + value.as_bytes().len())
        })
        .sum();
    (size_bytes > LIMIT_BYTES).then(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
        )
        .detail("Size", size_bytes.to_string())
        .detail("MaxSizeAllowed", LIMIT_BYTES.to_string())
    })
}

fn sets_metadata(view: &RequestView<'_>) -> bool {
    if view.bucket.is_none() || !view.has_key {
        return false;
    }
    if *view.method == Method::POST {
        return view.has_query("uploads");
    }
    if *view.method != Method::PUT
        || ["uploadId", "tagging", "acl"]
            .iter()
            .any(|q| view.has_query(q))
    {
        return false;
    }
    let copy = view.header("x-amz-copy-source").is_some();
    let replace = view
        .header("x-amz-metadata-directive")
        .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
    !copy || replace
}
