//! `[target] checksum = "auto"`: decided once per run, before the first write, by a probe
//! ([`decide`]). It PUTs a tiny object under `[target] state_prefix` as aws-chunked with a
//! deliberately WRONG CRC64NVME trailer:
//! - refused with a checksum error (S3: 400 BadDigest, or XAmzContentChecksumMismatch): the
//!   store checks trailers, so `trailer` (nothing was written);
//! - refused as a mode it does not know (400 XAmzContentSHA256Mismatch, 501 NotImplemented,
//!   400 InvalidRequest): `md5`;
//! - accepted: the store does not check the trailer (moto echoes it, s3rver stores the
//!   framing, older Ceph ignores CRC64NVME), so `md5`, and the probe object is deleted;
//! - any other failure (access denied, network): `trailer`, and the reason says the probe
//!   could not decide.
//!
//! After a `trailer` verdict from a refused trailer, a second probe tries a FULL_OBJECT
//! multipart checksum once ([`full_object_refused`]): a 1-part upload under the state prefix,
//! created with a FULL_OBJECT CRC64NVME and completed with the right value. MinIO before 2025
//! answers InvalidPart; then the run still sends every part with its checked CRC64NVME trailer
//! but creates and completes multipart uploads without a checksum ("trailer-parts"). The probe
//! object is deleted, a refused upload aborted.
//!
//! A leaf of the engine: depends on `crate::aws`, `crate::config` and `crate::error` only.

use aws_smithy_types::body::SdkBody;

use crate::aws::objects::{
    self, ChunkedUpload, CompleteChecksum, FinishedPart, PartBody, PutBody, UploadChecksum,
    WriteParams,
};
use crate::aws::{SideClient, delete};
use crate::config::{WriteChecksum, WriteOptions};

/// The probe's payload; its real CRC64NVME is not the all-zero value the trailer claims.
const PAYLOAD: &[u8] = b"airlock write-mode probe";
/// A CRC64NVME no payload above has.
const WRONG_CRC64NVME: &str = "AAAAAAAAAAA=";

/// The probe's key under the state prefix.
pub(crate) fn probe_key(write: &WriteOptions) -> String {
    format!("{}checksum-probe", write.state_prefix)
}

/// The full-object probe's key under the state prefix.
fn full_object_key(write: &WriteOptions) -> String {
    format!("{}checksum-probe-full-object", write.state_prefix)
}

/// What the probe chose: the mode, whether multipart uploads carry a FULL_OBJECT CRC64NVME
/// (`trailer` only), and why, in words.
pub(crate) struct Decision {
    pub mode: WriteChecksum,
    pub full_object: bool,
    pub reason: String,
}

/// [`PAYLOAD`] framed aws-chunked with `crc64nvme` (base64) in its trailer.
fn framed(crc64nvme: &str) -> ChunkedUpload {
    let mut framed = format!("{:x}\r\n", PAYLOAD.len()).into_bytes();
    framed.extend_from_slice(PAYLOAD);
    framed.extend_from_slice(
        format!(
            "\r\n0\r\n{}:{crc64nvme}\r\n\r\n",
            crate::aws::TRAILER_HEADER
        )
        .as_bytes(),
    );
    ChunkedUpload {
        algorithm: crate::plan::ChecksumAlgorithm::Crc64nvme,
        encoded_length: framed.len() as u64,
        length: PAYLOAD.len() as u64,
        body: SdkBody::from(framed),
    }
}

fn params(write: &WriteOptions) -> WriteParams<'_> {
    WriteParams {
        attributes: None,
        copied_from_etag: "probe",
        options: write,
        tagging: None,
    }
}

/// Probe the target and choose `trailer` (with or without FULL_OBJECT multipart checksums) or
/// `md5`.
pub(crate) async fn decide(target: &SideClient, write: &WriteOptions) -> Decision {
    let (mode, checks_trailers, reason) = decide_trailer(target, write).await;
    if !checks_trailers {
        return Decision {
            mode,
            full_object: mode == WriteChecksum::Trailer,
            reason,
        };
    }
    match full_object_refused(target, write).await {
        None => Decision {
            mode,
            full_object: true,
            reason,
        },
        Some(why) => Decision {
            mode,
            full_object: false,
            reason: format!(
                "{reason}, but {why}: parts are sent with CRC64NVME trailers the target checks, multipart uploads complete without a whole-object checksum"
            ),
        },
    }
}

/// A 1-part multipart upload with a FULL_OBJECT CRC64NVME: None when the target completed it
/// (the object is deleted), else why not (the upload is aborted).
async fn full_object_refused(target: &SideClient, write: &WriteOptions) -> Option<String> {
    use base64::Engine as _;
    let key = full_object_key(write);
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, PAYLOAD);
    let value = base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes());
    let refused = |step: &str, e: &crate::Error| {
        let code = e.s3().and_then(|f| f.code.clone());
        format!(
            "it refused a FULL_OBJECT CRC64NVME multipart checksum on '{key}' ({step}: {})",
            code.unwrap_or_else(|| e.to_string())
        )
    };
    let upload_id = match objects::create_multipart(
        target,
        &key,
        &params(write),
        UploadChecksum::FullCrc64nvme,
    )
    .await
    {
        Ok(id) => id,
        Err(e) => return Some(refused("CreateMultipartUpload", &e)),
    };
    let sent = objects::upload_part_stream(
        target,
        &key,
        &upload_id,
        1,
        PartBody::Chunked(framed(&value)),
    )
    .await;
    let completed = match sent {
        Ok(put) => {
            let part = FinishedPart {
                part: 1,
                etag: put.etag.unwrap_or_default(),
                crc64nvme: value.clone(),
                size: PAYLOAD.len() as u64,
                checksum: None,
            };
            let full = CompleteChecksum::FullCrc64nvme(&value);
            objects::complete_multipart(target, &key, &upload_id, &[part], full)
                .await
                .map_err(|e| refused("CompleteMultipartUpload", &e))
        }
        Err(e) => Err(refused("UploadPart", &e)),
    };
    match completed {
        Ok(_) => {
            if let Err(e) = delete::delete_object(target, &key).await {
                tracing::warn!(%key, error = %e, "could not delete the write-mode probe object");
            }
            None
        }
        Err(why) => {
            if let Err(e) = objects::abort_multipart(target, &key, &upload_id).await {
                tracing::warn!(%key, error = %e, "could not abort the write-mode probe upload");
            }
            Some(why)
        }
    }
}

/// The trailer probe: `trailer` or `md5`, whether the target was seen checking a trailer, and
/// the reason in words.
async fn decide_trailer(
    target: &SideClient,
    write: &WriteOptions,
) -> (WriteChecksum, bool, String) {
    let key = probe_key(write);
    let upload = framed(WRONG_CRC64NVME);
    let params = params(write);
    let error = match objects::put_stream(target, &key, PutBody::Chunked(upload), &params).await {
        Ok(_) => {
            let mut why = format!(
                "the target accepted a wrong CRC64NVME trailer on '{key}' (it does not check trailers): parts and objects are checked by MD5"
            );
            if let Err(e) = delete::delete_object(target, &key).await {
                tracing::warn!(%key, error = %e, "could not delete the write-mode probe object");
                why.push_str(&format!(
                    "; the probe object '{key}' could not be deleted ({e}): delete it by hand"
                ));
            }
            return (WriteChecksum::Md5, false, why);
        }
        Err(e) => e,
    };
    let code = error.s3().and_then(|f| f.code.clone()).unwrap_or_default();
    let status = error.s3().and_then(|f| f.status);
    match (code.as_str(), status) {
        ("BadDigest" | "XAmzContentChecksumMismatch" | "InvalidDigest", _) => (
            WriteChecksum::Trailer,
            true,
            format!("the target refused a wrong CRC64NVME trailer ({code}): it checks trailers"),
        ),
        ("XAmzContentSHA256Mismatch" | "NotImplemented" | "InvalidRequest", _) | (_, Some(501)) => {
            (
                WriteChecksum::Md5,
                false,
                format!(
                    "the target does not take aws-chunked uploads with a trailer ({code}): parts and objects are sent plain and checked by MD5"
                ),
            )
        }
        _ => (
            WriteChecksum::Trailer,
            false,
            format!("the write-mode probe on '{key}' could not decide ({error}): using trailer"),
        ),
    }
}
