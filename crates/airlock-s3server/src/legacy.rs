//! Legacy stores' checksums (behaviours `set_crc64nvme_unknown`, `set_full_object_refused`, and
//! the faithful side of `set_s3rver`; refusing trailers is decided in the gate).
//!
//! CRC64NVME (the SDKs' default since 2025, and the only full-object checksum of every upload)
//! is unknown to stores older than their 2025 releases. Ceph RGW 16 (pacific) has no flexible
//! checksums at all: it stores `x-amz-meta-*` and drops every other unknown `x-amz-*` header, so
//! an `x-amz-checksum-*` header is neither verified, nor stored, nor echoed; the algorithm
//! headers are ignored the same way. Ceph and MinIO releases between (2023-2024) know CRC32,
//! CRC32C, SHA-1 and SHA-256 but not CRC64NVME, and treat it like Ceph 16 treats all of them.
//! `set_crc64nvme_unknown` emulates the latter; s3rver knows no checksum at all, like Ceph 16.
//! The unknown algorithms' values and names (headers, trailers, CreateMultipartUpload's
//! algorithm and type, the checksums CompleteMultipartUpload lists) are dropped before anything
//! sees them; the known ones work as before. For a PutObject whose trailer carries a checksum,
//! the known algorithms' trailer values are still verified, but not stored (s3s-fs only stores
//! what it reads from trailers itself).
//!
//! MinIO before 2025 knows no full-object multipart checksums: a CompleteMultipartUpload of an
//! upload created with `x-amz-checksum-type: FULL_OBJECT`, or that sends that type or a
//! CRC64NVME value, answers 400 `InvalidPart`. Plain uploads (MD5 part ETags, Content-MD5) work.

use s3s::dto::*;
use s3s::{S3Request, S3Result, s3_error};

use super::behaviours::Switches;
use super::checksum::{Algorithm, Sums, dto_sums};
use super::hashing_body::{HashingBody, Outcome};
use super::meta::UploadMeta;

/// The algorithms the store does not know right now: all (s3rver), CRC64NVME (a store older than
/// 2025), or none.
pub(super) fn unknown_algorithms(switches: &Switches) -> &'static [Algorithm] {
    if switches.s3rver() {
        &Algorithm::ALL
    } else if Switches::on(&switches.crc64nvme_unknown) {
        &[Algorithm::Crc64Nvme]
    } else {
        &[]
    }
}

fn is_unknown(alg: Option<&ChecksumAlgorithm>, unknown: &[Algorithm]) -> bool {
    let alg = alg.and_then(|a| Algorithm::parse(a.as_str()));
    alg.is_some_and(|a| unknown.contains(&a))
}

/// Values of the unknown algorithms taken out of `sums`.
fn forget(sums: &mut Sums, unknown: &[Algorithm]) {
    for alg in unknown {
        sums.remove(*alg);
    }
}

/// PutObject: drop the unknown algorithms' headers and name; if a trailer may carry checksums,
/// verify the known ones ourselves and hide the trailer from s3s-fs (it would compare the
/// unknown ones). Returns where the verification's outcome will be.
pub(super) fn forget_put(
    req: &mut S3Request<PutObjectInput>,
    unknown: &'static [Algorithm],
) -> Option<Outcome> {
    let input = &mut req.input;
    let mut sums = dto_sums!(read input);
    forget(&mut sums, unknown);
    dto_sums!(write sums => input);
    if is_unknown(input.checksum_algorithm.as_ref(), unknown) {
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
            Algorithm::parse(name).filter(|a| !unknown.contains(a))
        })
        .collect();
    let outcome = Outcome::default();
    let sums = Default::default();
    let body = HashingBody::new(body, &algorithms, sums, trailers, outcome.clone());
    input.body = Some(StreamingBlob::new(body.ignoring(unknown)));
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

/// CreateMultipartUpload: an upload with an unknown algorithm is an upload without a checksum
/// (and type).
pub(super) fn forget_create(input: &mut CreateMultipartUploadInput, unknown: &[Algorithm]) {
    if is_unknown(input.checksum_algorithm.as_ref(), unknown) {
        input.checksum_algorithm = None;
        input.checksum_type = None;
    }
}

/// UploadPart: the sent values and algorithms the store does not know are not checked.
pub(super) fn forget_part(sent: &mut Sums, algorithms: &mut Vec<Algorithm>, unknown: &[Algorithm]) {
    forget(sent, unknown);
    algorithms.retain(|alg| !unknown.contains(alg));
}

/// CompleteMultipartUpload on a store without full-object checksums: InvalidPart for any sign of
/// one. Then the unknown algorithms' values (the object's and the listed parts'), and a type the
/// upload never had, are dropped.
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
    let unknown = unknown_algorithms(switches);
    if unknown.is_empty() {
        return Ok(());
    }
    let mut sums = dto_sums!(read input);
    forget(&mut sums, unknown);
    dto_sums!(write sums => input);
    if upload.checksum_type.is_none() {
        input.checksum_type = None;
    }
    let parts = input
        .multipart_upload
        .as_mut()
        .and_then(|m| m.parts.as_mut());
    for part in parts.into_iter().flatten() {
        let mut sums = dto_sums!(read part);
        forget(&mut sums, unknown);
        dto_sums!(write sums => part);
    }
    Ok(())
}
