//! Legacy stores' checksums (behaviours `set_crc64nvme_unknown`, `set_full_object_refused`; the
//! third legacy behaviour, refusing trailers, is decided in the gate).
//!
//! CRC64NVME (the SDKs' default since 2025, and the only full-object checksum of every upload)
//! is unknown to stores older than their 2025 releases. Ceph RGW 16 (pacific) has no flexible
//! checksums at all: it stores `x-amz-meta-*` and drops every other unknown `x-amz-*` header, so
//! an `x-amz-checksum-*` header is neither verified, nor stored, nor echoed; the algorithm
//! headers are ignored the same way. Ceph and MinIO releases between (2023-2024) know CRC32,
//! CRC32C, SHA-1 and SHA-256 but not CRC64NVME, and treat it like Ceph 16 treats all of them. We
//! emulate the latter: CRC64NVME values and algorithm names (headers, trailers,
//! CreateMultipartUpload's algorithm and its type) are dropped before anything sees them; the
//! other algorithms work as before. For a PutObject whose trailer carries a checksum, the other
//! algorithms' trailer values are still verified, but not stored (s3s-fs only stores what it
//! reads from trailers itself).
//!
//! MinIO before 2025 knows no full-object multipart checksums: a CompleteMultipartUpload of an
//! upload created with `x-amz-checksum-type: FULL_OBJECT`, or that sends that type or a
//! CRC64NVME value, answers 400 `InvalidPart`. Plain uploads (MD5 part ETags, Content-MD5) work.

use s3s::dto::*;
use s3s::{S3Request, S3Result, s3_error};

use super::behaviours::Switches;
use super::checksum::Algorithm;
use super::hashing_body::{HashingBody, Outcome};
use super::meta::UploadMeta;

/// Whether CRC64NVME is unknown to the store right now.
pub(super) fn crc64nvme_unknown(switches: &Switches) -> bool {
    Switches::on(&switches.crc64nvme_unknown)
}

/// The algorithm a legacy store ignores, if any.
pub(super) fn ignored_algorithm(switches: &Switches) -> Option<Algorithm> {
    crc64nvme_unknown(switches).then_some(Algorithm::Crc64Nvme)
}

fn is_crc64nvme(alg: Option<&ChecksumAlgorithm>) -> bool {
    alg.is_some_and(|a| {
        a.as_str()
            .eq_ignore_ascii_case(ChecksumAlgorithm::CRC64NVME)
    })
}

/// PutObject: drop the CRC64NVME header and algorithm; if a trailer may carry checksums, verify
/// the others ourselves and hide the trailer from s3s-fs (it would compare the CRC64NVME one).
/// Returns where the verification's outcome will be.
pub(super) fn forget_crc64nvme_put(req: &mut S3Request<PutObjectInput>) -> Option<Outcome> {
    let input = &mut req.input;
    input.checksum_crc64nvme = None;
    if is_crc64nvme(input.checksum_algorithm.as_ref()) {
        input.checksum_algorithm = None;
    }
    req.trailing_headers.as_ref()?;
    let body = input.body.take()?;
    let trailers = req.trailing_headers.take();
    let named = req
        .headers
        .get("x-amz-trailer")
        .and_then(|v| v.to_str().ok());
    let algorithms: Vec<Algorithm> = named
        .unwrap_or_default()
        .split(',')
        .filter_map(|name| {
            let name = name.trim().strip_prefix("x-amz-checksum-")?;
            Algorithm::parse(name).filter(|a| *a != Algorithm::Crc64Nvme)
        })
        .collect();
    let outcome = Outcome::default();
    let sums = Default::default();
    let body = HashingBody::new(body, &algorithms, sums, trailers, outcome.clone());
    let body = body.ignoring(Some(Algorithm::Crc64Nvme));
    input.body = Some(StreamingBlob::new(body));
    Some(outcome)
}

/// The PutObject verification's verdict: BadDigest if a trailer value did not match.
pub(super) fn put_verdict(outcome: Option<Outcome>) -> S3Result<()> {
    let Some(outcome) = outcome else {
        return Ok(());
    };
    let verified = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
    match verified.and_then(|v| v.mismatch) {
        Some(alg) => Err(s3_error!(
            BadDigest,
            "The {} you specified did not match the calculated checksum.",
            alg.name()
        )),
        None => Ok(()),
    }
}

/// CreateMultipartUpload: a CRC64NVME upload is an upload without a checksum (and type).
pub(super) fn forget_crc64nvme_create(input: &mut CreateMultipartUploadInput) {
    if is_crc64nvme(input.checksum_algorithm.as_ref()) {
        input.checksum_algorithm = None;
        input.checksum_type = None;
    }
}

/// CompleteMultipartUpload on a store without full-object checksums: InvalidPart for any sign of
/// one. Then, on a store without CRC64NVME, its value (and a type the upload never had) are
/// dropped.
pub(super) fn screen_complete(
    switches: &Switches,
    upload: &UploadMeta,
    input: &mut CompleteMultipartUploadInput,
) -> S3Result<()> {
    let full = |t: Option<&str>| t.is_some_and(|t| t.eq_ignore_ascii_case("FULL_OBJECT"));
    let asks_full_object = full(input.checksum_type.as_ref().map(|t| t.as_str()))
        || full(upload.checksum_type.as_deref())
        || input.checksum_crc64nvme.is_some();
    if Switches::on(&switches.full_object_refused) && asks_full_object {
        return Err(s3_error!(
            InvalidPart,
            "One or more of the specified parts could not be found. The part may not have been \
             uploaded, or the specified entity tag may not match the part's entity tag."
        ));
    }
    if crc64nvme_unknown(switches) {
        input.checksum_crc64nvme = None;
        if upload.checksum_type.is_none() {
            input.checksum_type = None;
        }
    }
    Ok(())
}
