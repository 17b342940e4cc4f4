//! Which [`RequestKind`] a request is, for its first-byte delay, from its method, path-style
//! bucket and key, and query (S3's REST routing, as far as the kinds go).

use hyper::http::Method;

use super::RequestView;
use crate::shaping::RequestKind;

/// Query names of a plain ListObjects (v1) request: a bucket GET with only these is a listing.
const LIST_PARAMETERS: [&str; 5] = ["prefix", "delimiter", "marker", "max-keys", "encoding-type"];

/// Sub-resources of an object that make a GET or PUT an "other" request.
const OBJECT_SUBRESOURCES: [&str; 7] = [
    "tagging",
    "acl",
    "attributes",
    "retention",
    "legal-hold",
    "torrent",
    "restore",
];

pub(super) fn kind_of(view: &RequestView<'_>) -> RequestKind {
    let object_subresource = || OBJECT_SUBRESOURCES.iter().any(|n| view.has_query(n));
    let method = view.method;
    if *method == Method::HEAD {
        return RequestKind::Head;
    }
    if view.bucket.is_none() {
        return RequestKind::Other;
    }
    match (method.as_str(), view.has_key) {
        ("GET", true) if view.has_query("uploadId") => RequestKind::List,
        ("GET", true) if object_subresource() => RequestKind::Other,
        ("GET", true) => RequestKind::Get,
        ("GET", false) if is_listing(view) => RequestKind::List,
        ("PUT", true) if view.has_query("partNumber") && view.has_query("uploadId") => {
            RequestKind::UploadPart
        }
        ("PUT", true) if object_subresource() => RequestKind::Other,
        ("PUT", true) => RequestKind::Put,
        ("POST", true) if view.has_query("uploads") => RequestKind::Create,
        ("POST", true) if view.has_query("uploadId") => RequestKind::Complete,
        _ => RequestKind::Other,
    }
}

/// ListObjectsV2, ListObjectVersions, ListMultipartUploads, or ListObjects (a bucket GET with
/// listing parameters only, or none).
fn is_listing(view: &RequestView<'_>) -> bool {
    ["list-type", "versions", "uploads"]
        .iter()
        .any(|n| view.has_query(n))
        || view
            .query_names()
            .all(|name| LIST_PARAMETERS.contains(&name) || name == "x-id")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::http::Request;

    fn kind(method: &str, uri: &str) -> RequestKind {
        let request = Request::builder().method(method).uri(uri).body(()).unwrap();
        let (parts, ()) = request.into_parts();
        kind_of(&RequestView::new(&parts))
    }

    #[test]
    fn requests_are_told_apart_as_s3_routes_them() {
        use RequestKind::*;
        let cases = [
            ("GET", "/b/k", Get),
            ("GET", "/b/a/b.csv?x-id=GetObject", Get),
            ("GET", "/b/k?partNumber=2", Get),
            ("GET", "/b/k?tagging", Other),
            ("GET", "/b/k?uploadId=u", List),
            ("HEAD", "/b/k", Head),
            ("HEAD", "/b", Head),
            ("GET", "/b?list-type=2&prefix=a%2F", List),
            ("GET", "/b?prefix=a&marker=b", List),
            ("GET", "/b", List),
            ("GET", "/b?versions", List),
            ("GET", "/b?uploads", List),
            ("GET", "/b?location", Other),
            ("GET", "/", Other),
            ("PUT", "/b/k", Put),
            ("PUT", "/b/k?partNumber=1&uploadId=u", UploadPart),
            ("PUT", "/b/k?tagging", Other),
            ("PUT", "/b", Other),
            ("POST", "/b/k?uploads", Create),
            ("POST", "/b/k?uploadId=u", Complete),
            ("POST", "/b?delete", Other),
            ("DELETE", "/b/k?uploadId=u", Other),
            ("DELETE", "/b/k", Other),
        ];
        for (method, uri, want) in cases {
            assert_eq!(kind(method, uri), want, "{method} {uri}");
        }
    }
}
