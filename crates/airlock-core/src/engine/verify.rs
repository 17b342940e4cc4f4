//! End-to-end verification: what to expect from the source, how each target answer is checked,
//! and how an object's [`Verification`] is worded. An object is `verified` only when both hops
//! were checked by checksum (or MD5), and the words say exactly which.
//!
//! Checking needs only the target's client and the verify mode ([`TargetCheck`]), not a run.
//! May depend on `digest`, `events`, `relay` and `removal` of the engine, and on `crate::aws`; nothing
//! else of the engine.

use base64::Engine as _;

use super::digest::{DigestPlan, DigestValues, encode};
use super::events::Verification;
use super::relay::Expect;
use crate::aws::objects::{SourceObject, WriteResult};
use crate::aws::{SideClient, listing};
use crate::config::{Side, VerifyMode, WriteChecksum};
use crate::error::{Class, Error, S3Failure};
use crate::plan::ChecksumAlgorithm;

/// How one hop was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    pub description: String,
    /// True when a checksum or MD5 was compared (not just a size).
    pub by_digest: bool,
}

impl Check {
    pub(crate) fn digest(description: impl Into<String>) -> Self {
        Check {
            description: description.into(),
            by_digest: true,
        }
    }

    pub(crate) fn weak(description: impl Into<String>) -> Self {
        Check {
            description: description.into(),
            by_digest: false,
        }
    }
}

/// A multipart source's value that only its own part layout reproduces (checked in module
/// `source_parts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Composite {
    /// COMPOSITE checksum (CRC32, CRC32C, SHA-1 or SHA-256): `value-N` as the source reports
    /// it.
    Crc {
        algorithm: ChecksumAlgorithm,
        value: String,
    },
    /// Multipart ETag `md5hex-N`.
    Etag(String),
}

/// What the source lets us check, decided once per object.
#[derive(Debug, Clone)]
pub(crate) struct SourceExpectation {
    pub digest_plan: DigestPlan,
    /// For a whole-object read: the value the stream must end with.
    pub expect: Option<Expect>,
    /// For multipart: the full-object CRC the combined parts must equal.
    pub full_crc: Option<(ChecksumAlgorithm, u64)>,
    /// For multipart in the source's own layout: its composite checksum or multipart ETag
    /// (module `source_parts`).
    pub composite: Option<Composite>,
    pub description: Check,
}

fn decode_crc(value: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    match bytes.len() {
        4 => Some(u64::from(u32::from_be_bytes(bytes.try_into().ok()?))),
        8 => Some(u64::from_be_bytes(bytes.try_into().ok()?)),
        _ => None,
    }
}

fn decode_md5(hex: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if hex.len() != 32 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn name(algorithm: ChecksumAlgorithm) -> String {
    format!("{algorithm:?}").to_lowercase()
}

impl SourceExpectation {
    /// `whole`: the object is read in one GET (so an MD5 ETag can be checked too).
    pub(crate) fn of(source: &SourceObject, verify: VerifyMode, whole: bool) -> Self {
        let md5_for_target = verify == VerifyMode::Md5;
        let mut out = SourceExpectation {
            digest_plan: DigestPlan {
                source_crc: None,
                md5: md5_for_target,
            },
            expect: None,
            full_crc: None,
            composite: None,
            description: Check::weak("not checked (verify = \"size\")"),
        };
        if verify == VerifyMode::Size {
            return out;
        }
        let crc = source
            .checksum
            .as_ref()
            .filter(|c| c.full_object)
            .and_then(|c| {
                super::digest::crc_algorithm(c.algorithm)?;
                Some((c.algorithm, decode_crc(&c.value)?))
            });
        if let Some((algorithm, value)) = crc {
            out.digest_plan.source_crc = Some(algorithm);
            out.full_crc = Some((algorithm, value));
            out.expect = whole.then_some(Expect::Crc(algorithm, value));
            out.description = Check::digest(format!(
                "{} of all bytes read matched the source's full-object checksum",
                name(algorithm)
            ));
        } else if whole && source.etag_is_md5() {
            if let Some(md5) = decode_md5(&source.etag) {
                out.digest_plan.md5 = true;
                out.expect = Some(Expect::Md5(md5));
                out.description = Check::digest("MD5 of all bytes read matched the source ETag");
            }
        } else {
            let why = match &source.checksum {
                Some(c) if !c.full_object => "its checksum is composite (per-part layout)",
                Some(_) => "its checksum is SHA, which cannot be combined across parts",
                None if source.etag.contains('-') => "it has no checksum and a multipart ETag",
                None if source.etag_is_md5() => {
                    "its only fingerprint is a whole-object MD5 ETag, which parallel ranged reads cannot recompute"
                }
                None => {
                    "it has no checksum and its ETag is not an MD5 (SSE-KMS or another store's format)"
                }
            };
            // Only ranged part reads carry If-Match; a whole-object GET is not pinned.
            let pinned = match whole {
                true => String::new(),
                false => format!("; every part was pinned to ETag '{}'", source.etag),
            };
            out.description = Check::weak(format!("not verifiable: {why}{pinned}"));
        }
        out
    }
}

/// Word the two checks as an event's [`Verification`].
pub(crate) fn verification(source: Check, target: Check) -> Verification {
    Verification {
        verified: source.by_digest && target.by_digest,
        source: source.description,
        target: target.description,
    }
}

pub(crate) fn empty_digests() -> DigestValues {
    DigestValues {
        bytes: 0,
        crc64nvme: 0,
        source_crc: None,
        sha: None,
        md5: Some(decode_md5("d41d8cd98f00b204e9800998ecf8427e").expect("valid hex")),
    }
}

/// What checking the target's answers needs: its client (for HEAD, and the bucket errors name)
/// and the verify mode.
#[derive(Clone, Copy)]
pub(crate) struct TargetCheck<'a> {
    pub target: &'a SideClient,
    pub mode: VerifyMode,
    /// How the bytes were sent (`[target] checksum`, `auto` already decided).
    pub write: WriteChecksum,
}

/// Whether an ETag has the shape of an MD5 (32 hex digits): not SSE-KMS, not multipart.
fn md5_shaped(etag: &str) -> bool {
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

impl TargetCheck<'_> {
    fn target_error(
        &self,
        operation: &'static str,
        key: &str,
        message: String,
        class: Class,
    ) -> Error {
        Error::from(S3Failure {
            side: Side::Target,
            operation,
            bucket: self.target.bucket.clone(),
            key: Some(key.to_string()),
            status: None,
            code: Some(super::removal::CHECK_FAILED.into()),
            message,
            class,
        })
    }

    /// Check a PutObject answer against what was streamed.
    pub(crate) async fn single(
        &self,
        key: &str,
        put: &WriteResult,
        digests: &DigestValues,
        length: u64,
        sent_source_crc: Option<(ChecksumAlgorithm, u64)>,
    ) -> Result<Check, Error> {
        match self.write {
            WriteChecksum::None => {
                self.head_sized(key, length).await?;
                return Ok(Check::weak("size only (checksum = \"none\")"));
            }
            WriteChecksum::Md5 => return self.single_md5(key, put, digests, length).await,
            WriteChecksum::Trailer | WriteChecksum::Auto => {}
        }
        if let Some((algorithm, value)) = sent_source_crc {
            // A plain PUT carried the source's own full-object checksum; S3 refuses the write
            // (BadDigest) when the bytes it received do not match it, and echoes the value.
            let want = encode(algorithm, value);
            match &put.echoed {
                Some(theirs) if *theirs == want => {
                    return Ok(Check::digest(format!(
                        "{} of the bytes the target received matched the source's full-object checksum (checked by the target on PutObject)",
                        name(algorithm)
                    )));
                }
                Some(theirs) => {
                    let msg = format!(
                        "target stored {} {theirs}; the source's is {want}",
                        name(algorithm)
                    );
                    return Err(self.target_error("PutObject", key, msg, Class::Retryable));
                }
                // A target that neither confirms nor (as S3 does) refuses: check what it stored.
                None => return self.stored_checksum(key, length, algorithm, &want).await,
            }
        }
        let ours = encode(ChecksumAlgorithm::Crc64nvme, digests.crc64nvme);
        if let Some(theirs) = &put.crc64nvme {
            if *theirs != ours {
                let msg = format!(
                    "target computed crc64nvme {theirs} over what it received; we sent {ours}"
                );
                return Err(self.target_error("PutObject", key, msg, Class::Retryable));
            }
            return Ok(Check::digest(
                "crc64nvme matched the target's checksum of the bytes it stored (PutObject)",
            ));
        }
        if let (Some(md5), Some(etag)) = (&digests.md5, &put.etag)
            && self.mode == VerifyMode::Md5
        {
            if hex(md5) != *etag {
                let msg = format!(
                    "target ETag {etag} is not the MD5 {} of the bytes sent",
                    hex(md5)
                );
                return Err(self.target_error("PutObject", key, msg, Class::Retryable));
            }
            return Ok(Check::digest("MD5 matched the target's ETag"));
        }
        self.head_size(key, length).await
    }

    /// `checksum = "md5"`: the PUT's ETag must be the MD5 of the bytes sent.
    async fn single_md5(
        &self,
        key: &str,
        put: &WriteResult,
        digests: &DigestValues,
        length: u64,
    ) -> Result<Check, Error> {
        let Some(md5) = &digests.md5 else {
            return self.head_size(key, length).await;
        };
        match put.etag.as_deref() {
            Some(etag) if md5_shaped(etag) => {
                if !etag.eq_ignore_ascii_case(&hex(md5)) {
                    let msg = format!(
                        "target ETag {etag} is not the MD5 {} of the bytes sent",
                        hex(md5)
                    );
                    return Err(self.target_error("PutObject", key, msg, Class::Retryable));
                }
                Ok(Check::digest(
                    "MD5 of the bytes sent matched the target's ETag (PutObject, checksum = \"md5\")",
                ))
            }
            _ => {
                self.head_sized(key, length).await?;
                Ok(Check::weak(
                    "size only: the target's ETag is not an MD5 (SSE-KMS or another store's format; checksum = \"md5\")",
                ))
            }
        }
    }

    /// A target that reports no checksum: at least confirm the size.
    async fn head_size(&self, key: &str, length: u64) -> Result<Check, Error> {
        self.head_sized(key, length).await?;
        Ok(Check::weak("size only: the target reports no checksum"))
    }

    /// HEAD the written object; an error unless it is there with `length` bytes.
    async fn head_sized(&self, key: &str, length: u64) -> Result<crate::plan::ObjectInfo, Error> {
        match listing::head(self.target, key).await? {
            Some(info) if info.size == length => Ok(info),
            Some(info) => Err(self.target_error(
                "HeadObject",
                key,
                format!("target holds {} bytes, expected {length}", info.size),
                Class::Fatal,
            )),
            None => Err(self.target_error(
                "HeadObject",
                key,
                "object missing after write".into(),
                Class::Fatal,
            )),
        }
    }

    /// A plain PUT the target did not confirm: compare the checksum it stored, if any.
    async fn stored_checksum(
        &self,
        key: &str,
        length: u64,
        algorithm: ChecksumAlgorithm,
        want: &str,
    ) -> Result<Check, Error> {
        let info = self.head_sized(key, length).await?;
        match info.checksum.filter(|c| c.algorithm == algorithm) {
            Some(c) if c.value == want => Ok(Check::digest(format!(
                "{} matched the source's full-object checksum (HEAD after PutObject)",
                name(algorithm)
            ))),
            Some(c) => Err(self.target_error(
                "HeadObject",
                key,
                format!(
                    "target stored {} {}; the source's is {want}",
                    name(algorithm),
                    c.value
                ),
                Class::Retryable,
            )),
            None => Ok(Check::weak("size only: the target reports no checksum")),
        }
    }

    /// A composite upload's part: the target's value of the composite algorithm (when it
    /// answers one) must be the one sent in the trailer, which it checked the bytes against.
    pub(crate) fn part_composite(
        &self,
        key: &str,
        part: u32,
        put: &WriteResult,
        sent: Option<&(ChecksumAlgorithm, String)>,
    ) -> Result<(), Error> {
        if let (Some((algorithm, ours)), Some(theirs)) = (sent, &put.echoed)
            && theirs != ours
        {
            let msg = format!(
                "part {part}: target computed {} {theirs}; we sent {ours}",
                name(*algorithm)
            );
            return Err(self.target_error("UploadPart", key, msg, Class::Retryable));
        }
        Ok(())
    }

    /// Check an UploadPart answer against what was streamed.
    pub(crate) fn part(
        &self,
        key: &str,
        part: u32,
        put: &WriteResult,
        digests: &DigestValues,
    ) -> Result<(), Error> {
        let ours = encode(ChecksumAlgorithm::Crc64nvme, digests.crc64nvme);
        if let Some(theirs) = &put.crc64nvme
            && *theirs != ours
        {
            let msg = format!("part {part}: target computed crc64nvme {theirs}; we sent {ours}");
            return Err(self.target_error("UploadPart", key, msg, Class::Retryable));
        }
        if (self.mode == VerifyMode::Md5 || self.write == WriteChecksum::Md5)
            && put.crc64nvme.is_none()
            && let (Some(md5), Some(etag)) = (&digests.md5, &put.etag)
            && md5_shaped(etag)
            && hex(md5) != *etag
        {
            let msg = format!(
                "part {part}: target ETag {etag} is not the MD5 {} of the bytes sent",
                hex(md5)
            );
            return Err(self.target_error("UploadPart", key, msg, Class::Retryable));
        }
        Ok(())
    }
}
