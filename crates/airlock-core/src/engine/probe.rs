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
//! A leaf of the engine: depends on `crate::aws`, `crate::config` and `crate::error` only.

use aws_smithy_types::body::SdkBody;

use crate::aws::objects::{self, ChunkedUpload, PutBody, WriteParams};
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

/// Probe the target and choose `trailer` or `md5`, with the reason in words.
pub(crate) async fn decide(target: &SideClient, write: &WriteOptions) -> (WriteChecksum, String) {
    let key = probe_key(write);
    let mut framed = format!("{:x}\r\n", PAYLOAD.len()).into_bytes();
    framed.extend_from_slice(PAYLOAD);
    framed.extend_from_slice(
        format!(
            "\r\n0\r\n{}:{WRONG_CRC64NVME}\r\n\r\n",
            crate::aws::TRAILER_HEADER
        )
        .as_bytes(),
    );
    let upload = ChunkedUpload {
        encoded_length: framed.len() as u64,
        length: PAYLOAD.len() as u64,
        body: SdkBody::from(framed),
    };
    let params = WriteParams {
        attributes: None,
        copied_from_etag: "probe",
        options: write,
        tagging: None,
    };
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
            return (WriteChecksum::Md5, why);
        }
        Err(e) => e,
    };
    let code = error.s3().and_then(|f| f.code.clone()).unwrap_or_default();
    let status = error.s3().and_then(|f| f.status);
    match (code.as_str(), status) {
        ("BadDigest" | "XAmzContentChecksumMismatch" | "InvalidDigest", _) => (
            WriteChecksum::Trailer,
            format!("the target refused a wrong CRC64NVME trailer ({code}): it checks trailers"),
        ),
        ("XAmzContentSHA256Mismatch" | "NotImplemented" | "InvalidRequest", _) | (_, Some(501)) => {
            (
                WriteChecksum::Md5,
                format!(
                    "the target does not take aws-chunked uploads with a trailer ({code}): parts and objects are sent plain and checked by MD5"
                ),
            )
        }
        _ => (
            WriteChecksum::Trailer,
            format!("the write-mode probe on '{key}' could not decide ({error}): using trailer"),
        ),
    }
}
