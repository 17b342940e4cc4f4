//! Server-side encryption as S3 reports it (behaviours `set_sse_etags`, `set_default_encryption`).
//!
//! AWS: the ETag of an object written by PutObject is the MD5 of its bytes only if it is
//! unencrypted or encrypted with SSE-S3 (`AES256`). With SSE-KMS (`aws:kms`), DSSE-KMS
//! (`aws:kms:dsse`) or SSE-C it is "not an MD5 digest of their object data": an opaque 32-hex
//! value, the same on every read of that version, different for every write even of the same
//! bytes. UploadPart ETags under SSE-KMS/SSE-C are opaque too, and so is the multipart ETag
//! (`<32 hex>-N`). A bucket with default encryption SSE-KMS does this to every object written
//! without an SSE header of its own. HEAD and GET report `x-amz-server-side-encryption` (and
//! `x-amz-server-side-encryption-aws-kms-key-id`), or for SSE-C the customer algorithm and the
//! MD5 of the customer key; an SSE-C object cannot be read (400) without the key's headers, and
//! not with another key (403).
//!
//! We emulate it by giving such an object a random opaque ETag and writing it where s3s-fs keeps
//! the object's ETag, so GET, HEAD, `If-Match` and copies all see the same value; our meta
//! records the encryption for HEAD/GET and the listings. No byte is encrypted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest as _, Md5};
use s3s::dto::{SSECustomerAlgorithm, SSECustomerKeyMD5, SSEKMSKeyId, ServerSideEncryption};
use s3s::{S3Result, s3_error};
use serde::{Deserialize, Serialize};

use super::behaviours::{DefaultEncryption, Switches};

/// How an object is encrypted, when it changes its ETag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Encryption {
    /// SSE-KMS or DSSE-KMS: the `x-amz-server-side-encryption` value, and the key id if known.
    Kms {
        algorithm: String,
        key_id: Option<String>,
    },
    /// SSE-C: the customer algorithm (`AES256`) and the base64 MD5 of the customer's key.
    CustomerKey { algorithm: String, key_md5: String },
}

/// The SSE headers of a write (PutObject, CopyObject, CreateMultipartUpload).
pub(crate) struct Requested<'a> {
    pub sse: Option<&'a ServerSideEncryption>,
    pub kms_key_id: Option<&'a SSEKMSKeyId>,
    pub customer_algorithm: Option<&'a SSECustomerAlgorithm>,
    pub customer_key_md5: Option<&'a SSECustomerKeyMD5>,
}

/// The encryption a write gets, if it makes the ETag opaque. A request's own SSE header wins
/// over the bucket default (an explicit `AES256` keeps the MD5 ETag).
pub(crate) fn encryption_for(switches: &Switches, req: Requested<'_>) -> Option<Encryption> {
    let default = switches.default_encryption();
    if !Switches::on(&switches.sse_etags) && default.is_none() {
        return None;
    }
    if let (Some(algorithm), Some(key_md5)) = (req.customer_algorithm, req.customer_key_md5) {
        return Some(Encryption::CustomerKey {
            algorithm: algorithm.clone(),
            key_md5: key_md5.clone(),
        });
    }
    match req.sse.map(|s| s.as_str()) {
        Some(algorithm @ ("aws:kms" | "aws:kms:dsse")) => Some(Encryption::Kms {
            algorithm: algorithm.to_string(),
            key_id: req.kms_key_id.cloned(),
        }),
        Some(_) => None,
        None => default.map(|d| match d {
            DefaultEncryption::Kms { key_id } => Encryption::Kms {
                algorithm: "aws:kms".into(),
                key_id,
            },
            DefaultEncryption::DsseKms { key_id } => Encryption::Kms {
                algorithm: "aws:kms:dsse".into(),
                key_id,
            },
        }),
    }
}

/// A new opaque ETag value: 32 hex digits that are not the MD5 of the bytes.
pub(crate) fn opaque_etag() -> String {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let digest = Md5::new()
        .chain_update(b"airlock-s3server opaque etag")
        .chain_update(now.as_nanos().to_be_bytes())
        .chain_update(n.to_be_bytes())
        .chain_update(std::process::id().to_be_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The response fields S3 sets for an encrypted object (PUT, HEAD, GET, Complete...).
pub(crate) struct Reported {
    pub sse: Option<ServerSideEncryption>,
    pub kms_key_id: Option<SSEKMSKeyId>,
    pub customer_algorithm: Option<SSECustomerAlgorithm>,
    pub customer_key_md5: Option<SSECustomerKeyMD5>,
}

impl Encryption {
    pub(crate) fn reported(&self) -> Reported {
        match self {
            Encryption::Kms { algorithm, key_id } => Reported {
                sse: Some(ServerSideEncryption::from(algorithm.clone())),
                kms_key_id: key_id.clone(),
                customer_algorithm: None,
                customer_key_md5: None,
            },
            Encryption::CustomerKey { algorithm, key_md5 } => Reported {
                sse: None,
                kms_key_id: None,
                customer_algorithm: Some(algorithm.clone()),
                customer_key_md5: Some(key_md5.clone()),
            },
        }
    }

    /// S3's check on a read (GET/HEAD) of an SSE-C object: the key's headers must come, and
    /// name the key it was written with.
    pub(crate) fn check_read(
        &self,
        algorithm: Option<&SSECustomerAlgorithm>,
        key_md5: Option<&SSECustomerKeyMD5>,
    ) -> S3Result<()> {
        let Encryption::CustomerKey {
            key_md5: stored, ..
        } = self
        else {
            return Ok(());
        };
        match (algorithm, key_md5) {
            (Some(_), Some(given)) if given == stored => Ok(()),
            (Some(_), Some(_)) => Err(s3_error!(AccessDenied, "Access Denied")),
            _ => Err(s3_error!(
                InvalidRequest,
                "The object was stored using a form of Server Side Encryption. The correct \
                 parameters must be provided to retrieve the object."
            )),
        }
    }
}

/// Write the reported fields into any s3s output that has the four SSE fields.
macro_rules! report_encryption {
    ($encryption:expr => $out:expr) => {{
        if let Some(encryption) = $encryption {
            let reported = encryption.reported();
            $out.server_side_encryption = reported.sse;
            $out.ssekms_key_id = reported.kms_key_id;
            $out.sse_customer_algorithm = reported.customer_algorithm;
            $out.sse_customer_key_md5 = reported.customer_key_md5;
        }
    }};
}
pub(crate) use report_encryption;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_etags_are_32_hex_digits_and_never_repeat() {
        let (a, b) = (opaque_etag(), opaque_etag());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    fn request<'a>(sse: Option<&'a ServerSideEncryption>) -> Requested<'a> {
        Requested {
            sse,
            kms_key_id: None,
            customer_algorithm: None,
            customer_key_md5: None,
        }
    }

    #[test]
    fn the_request_header_wins_over_the_bucket_default() {
        let switches = std::sync::Arc::new(Switches::default());
        let behaviours = crate::Behaviours::new(switches.clone());
        let (kms, aes) = (
            ServerSideEncryption::from_static("aws:kms:dsse"),
            ServerSideEncryption::from_static("AES256"),
        );
        assert_eq!(encryption_for(&switches, request(Some(&kms))), None, "off");
        behaviours.set_sse_etags(true);
        let dsse = encryption_for(&switches, request(Some(&kms)));
        assert!(
            matches!(dsse, Some(Encryption::Kms { algorithm, .. }) if algorithm == "aws:kms:dsse")
        );
        assert_eq!(encryption_for(&switches, request(None)), None, "no default");
        behaviours.set_default_encryption(Some(DefaultEncryption::Kms {
            key_id: Some("arn:key".into()),
        }));
        let defaulted = encryption_for(&switches, request(None));
        assert_eq!(
            defaulted,
            Some(Encryption::Kms {
                algorithm: "aws:kms".into(),
                key_id: Some("arn:key".into())
            })
        );
        assert_eq!(
            encryption_for(&switches, request(Some(&aes))),
            None,
            "SSE-S3: MD5"
        );
    }
}
