//! Which S3 operation a path-style request is, from its method, path, query and `Range`
//! header, plus the object key (percent-decoded) and part number it names.

use std::fmt;

/// An S3 operation as the proxy tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Op {
    /// GET of an object with a `Range` header.
    GetObjectRange,
    GetObject,
    HeadObject,
    PutObject,
    UploadPart,
    CreateMultipartUpload,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListObjectsV2,
    ListParts,
    ListMultipartUploads,
    GetObjectTagging,
    /// GET `?attributes` (GetObjectAttributes).
    GetObjectAttributes,
    PutObjectTagging,
    DeleteObject,
    HeadBucket,
    /// Anything else (bucket creation, ListBuckets, DeleteObjects, ...).
    Other,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Op::GetObjectRange => "GetObject(range)",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::PutObject => "PutObject",
            Op::UploadPart => "UploadPart",
            Op::CreateMultipartUpload => "CreateMultipartUpload",
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::AbortMultipartUpload => "AbortMultipartUpload",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::ListParts => "ListParts",
            Op::ListMultipartUploads => "ListMultipartUploads",
            Op::GetObjectTagging => "GetObjectTagging",
            Op::GetObjectAttributes => "GetObjectAttributes",
            Op::PutObjectTagging => "PutObjectTagging",
            Op::DeleteObject => "DeleteObject",
            Op::HeadBucket => "HeadBucket",
            Op::Other => "Other",
        };
        f.write_str(name)
    }
}

/// What one request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub op: Op,
    /// The object key, percent-decoded ("" for bucket-level requests).
    pub key: String,
    /// `partNumber` of an UploadPart.
    pub part: Option<u32>,
}

/// Classify a path-style request: `path` is `/bucket/key...`, `query` the raw query string.
pub(crate) fn classify(method: &str, path: &str, query: &str, has_range: bool) -> Target {
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let _bucket = segments.next();
    let key = percent_decode(segments.next().unwrap_or(""));
    let params: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let has = |name: &str| params.iter().any(|(k, _)| *k == name);
    let value = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let object = !key.is_empty();
    let op = match method {
        "GET" if !object && has("uploads") => Op::ListMultipartUploads,
        "GET" if !object && value("list-type") == Some("2") => Op::ListObjectsV2,
        "GET" if object && has("uploadId") => Op::ListParts,
        "GET" if object && has("tagging") => Op::GetObjectTagging,
        "GET" if object && has("attributes") => Op::GetObjectAttributes,
        "GET" if object && has_range => Op::GetObjectRange,
        "GET" if object => Op::GetObject,
        "HEAD" if object => Op::HeadObject,
        "HEAD" => Op::HeadBucket,
        "PUT" if object && has("partNumber") && has("uploadId") => Op::UploadPart,
        "PUT" if object && has("tagging") => Op::PutObjectTagging,
        "PUT" if object => Op::PutObject,
        "POST" if object && has("uploads") => Op::CreateMultipartUpload,
        "POST" if object && has("uploadId") => Op::CompleteMultipartUpload,
        "DELETE" if object && has("uploadId") => Op::AbortMultipartUpload,
        "DELETE" if object && !has("tagging") => Op::DeleteObject,
        _ => Op::Other,
    };
    let part = match op {
        Op::UploadPart => value("partNumber").and_then(|v| v.parse().ok()),
        _ => None,
    };
    Target { op, key, part }
}

/// `%XX` escapes decoded as UTF-8 (lossy); `+` stays `+` (paths do not use form encoding).
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
