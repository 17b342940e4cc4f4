//! Control characters in listed keys, written as AWS writes them. An S3 key may hold any
//! Unicode character, but XML 1.0 text cannot hold most of U+0000-U+001F. AWS writes them
//! into ListObjects/ListObjectsV2/ListObjectVersions answers as numeric character references
//! (`&#x1;`), which XML 1.0 also forbids, so strict parsers fail on the whole page: Java's
//! ("Character reference "&#x3" is an invalid XML character"), libxml2's ("xmlParseCharRef:
//! invalid xmlChar value 1"), expat's. The way out S3 documents is `encoding-type=url`.
//!
//! s3s writes such characters raw. What the Rust SDK does with each (aws-sdk-s3 1.157,
//! aws-smithy-xml 0.64, the versions in Cargo.lock):
//! - raw (this switch off, s3s's own output): the tokenizer (xmlparser) refuses the character,
//!   and ListObjectsV2 fails with a deserialization error ("XML parse error");
//! - `&#x1;` (this switch on, AWS's output): the SDK's text decoding (`unescape`) accepts any
//!   reference `char::from_u32` accepts, so the page parses and the key comes back with its
//!   U+0001. The strict reference check aws-smithy-xml has (`validate_references`) runs only
//!   in its newer codec's well-formedness mode, which the S3 client does not use.
//!
//! So against AWS itself the Rust SDK reads such keys today; a listing that must not depend on
//! that (or on a future SDK that checks references) asks for `encoding-type=url`.
//!
//! We rewrite the body of a successful bucket GET whose answer is XML: every byte below 0x20
//! except tab and line feed becomes `&#xN;` (carriage return too: a parser would turn a raw one
//! into a line feed). Such bytes only occur in text (keys, prefixes, markers), never in the
//! markup s3s writes. The body is read whole; listing pages are small (1,000 keys at most).

use hyper::http::{Method, StatusCode};
use s3s::{Body, HttpResponse};

use super::answer::Refusal;

/// Listing pages are at most a few hundred KiB (1,000 keys of at most 1 KiB each, and their
/// details); this only bounds what a broken answer could make us hold.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub(super) async fn rewrite(resp: HttpResponse) -> HttpResponse {
    let is_xml = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("xml"));
    if !resp.status().is_success() || !is_xml {
        return resp;
    }
    let (mut parts, mut body) = resp.into_parts();
    let Ok(bytes) = body.store_all_limited(MAX_BODY_BYTES).await else {
        let failed = Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "the listing could not be read back to write its character references",
        );
        return failed.into_response(&Method::GET);
    };
    if !bytes.iter().any(|b| needs_reference(*b)) {
        return HttpResponse::from_parts(parts, body);
    }
    let rewritten = with_references(&bytes);
    parts.headers.remove("content-length");
    HttpResponse::from_parts(parts, Body::from(rewritten))
}

fn needs_reference(byte: u8) -> bool {
    byte < 0x20 && byte != b'\t' && byte != b'\n'
}

fn with_references(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for &byte in bytes {
        match needs_reference(byte) {
            true => out.extend_from_slice(format!("&#x{byte:x};").as_bytes()),
            false => out.push(byte),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_become_references_and_the_rest_stays() {
        let xml = "<Key>a\u{1}b\u{1b}c\rd\te\nf\u{e9}</Key>".as_bytes();
        let out = String::from_utf8(with_references(xml)).unwrap();
        assert_eq!(out, "<Key>a&#x1;b&#x1b;c&#xd;d\te\nf\u{e9}</Key>");
    }
}
