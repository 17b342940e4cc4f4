//! Is the object at the target the same as the one at the source? Decided per
//! [`CompareMode`]; the answer carries the reason in words for the plan.

use super::{Checksum, ChecksumAlgorithm, ObjectInfo};
use crate::config::CompareMode;

/// What the listings say about a source object and the target object at its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The target holds the same object; skip it.
    Same(String),
    /// The target object differs; copy.
    Differs(String),
    /// Nothing comparable is known yet (a HEAD may tell); copy unless a HEAD proves equality.
    Unknown(String),
}

impl Verdict {
    pub fn reason(&self) -> &str {
        match self {
            Verdict::Same(r) | Verdict::Differs(r) | Verdict::Unknown(r) => r,
        }
    }
}

/// `Ok(reason)` when the target holds the same object (skip it), `Err(reason)` when it must be
/// copied. With [`CompareMode::Checksum`], equality needs positive evidence: an unknown is
/// never treated as equal.
pub fn same_object(
    source: &ObjectInfo,
    target: &ObjectInfo,
    mode: CompareMode,
) -> Result<String, String> {
    match verdict(source, target, mode) {
        Verdict::Same(r) => Ok(r),
        Verdict::Differs(r) | Verdict::Unknown(r) => Err(r),
    }
}

/// The three-way comparison behind [`same_object`].
pub fn verdict(source: &ObjectInfo, target: &ObjectInfo, mode: CompareMode) -> Verdict {
    match compare(source, target, mode) {
        Ok(r) => Verdict::Same(r),
        Err(r) if r.starts_with(UNKNOWN) => Verdict::Unknown(r),
        Err(r) => Verdict::Differs(r),
    }
}

const UNKNOWN: &str = "differs: nothing comparable";

fn compare(source: &ObjectInfo, target: &ObjectInfo, mode: CompareMode) -> Result<String, String> {
    if source.size != target.size {
        return Err(format!(
            "differs: size {} at source, {} at target",
            source.size, target.size
        ));
    }
    match mode {
        CompareMode::Size => Ok("same size at the target".into()),
        CompareMode::SizeAndMtime => match (source.modified_ms, target.modified_ms) {
            (Some(s), Some(t)) if t >= s => Ok("same size, target not older".into()),
            (Some(_), Some(_)) => Err("differs: target is older than source".into()),
            _ => Err(format!("{UNKNOWN}: modification time unknown")),
        },
        CompareMode::Checksum => checksum_evidence(source, target),
    }
}

/// Checksum mode. The order matters: comparable checksums decide first, because they describe
/// the bytes the target holds; provenance (`airlock-source-etag`) only says what airlock meant
/// to write, and a copy that failed its verification carries it too. Then provenance, then
/// ETags where both are known to be MD5s of the bytes.
fn checksum_evidence(source: &ObjectInfo, target: &ObjectInfo) -> Result<String, String> {
    // 1. Checksums of the same algorithm and the same kind (both full-object, or both composite
    //    over the same number of parts).
    if let Some((same, algorithm)) = checksums_agree(source, target) {
        let algorithm = format!("{algorithm:?}").to_lowercase();
        return if same {
            Ok(format!("same size and {algorithm} checksum"))
        } else {
            Err(format!("differs: {algorithm} checksum"))
        };
    }
    // 2. airlock recorded the source ETag it copied from: provenance. A target with a
    //    COMPOSITE checksum (written in the source's layout) while the source's checksum is
    //    not known yet (a listing carries none) is not judged by a differing provenance: the
    //    source's checksum (a HEAD) decides, so the same bytes in the same parts are skipped
    //    whatever was recorded.
    if let (Some(recorded), Some(etag)) = (&target.copied_from_etag, &source.etag) {
        let composite = target.checksum.as_ref().is_some_and(|c| !c.full_object);
        if composite && source.checksum.is_none() && recorded != etag {
            return Err(format!(
                "{UNKNOWN}: the target's checksum, not yet the source's (recorded source ETag differs)"
            ));
        }
        return if recorded == etag {
            Ok("same size, copied from this source ETag".into())
        } else {
            Err("differs: copied from another source version".into())
        };
    }
    // 3. ETags: equal ETags mean equal bytes. Two different ETags mean different bytes only
    //    when both are known to be MD5s of the bytes (a HEAD showed no SSE-KMS, DSSE-KMS or
    //    SSE-C and no multipart upload); a listed ETag says nothing of its encryption.
    if let (Some(s), Some(t)) = (&source.etag, &target.etag) {
        if s == t {
            return Ok("same size and ETag".into());
        }
        if source.etag_md5 == Some(true) && target.etag_md5 == Some(true) {
            return Err("differs: ETag".into());
        }
    }
    Err(format!("{UNKNOWN} at the target (copied again to be sure)"))
}

/// `Some((equal, algorithm))` when both sides have checksums that can be compared: the same
/// algorithm and both full-object, or both composite over the same number of parts.
fn checksums_agree(source: &ObjectInfo, target: &ObjectInfo) -> Option<(bool, ChecksumAlgorithm)> {
    let (s, t) = (source.checksum.as_ref()?, target.checksum.as_ref()?);
    if s.algorithm != t.algorithm || s.full_object != t.full_object {
        return None;
    }
    if s.full_object {
        return Some((s.value == t.value, s.algorithm));
    }
    let (s_value, s_parts) = composite(s, source.etag.as_deref())?;
    let (t_value, t_parts) = composite(t, target.etag.as_deref())?;
    (s_parts == t_parts).then_some((s_value == t_value, s.algorithm))
}

/// A composite checksum's value without its `-N` suffix, and its part count: from the suffix
/// (S3 sends `value-N`) or else from the multipart ETag's (moto sends the bare value).
fn composite<'a>(checksum: &'a Checksum, etag: Option<&str>) -> Option<(&'a str, u32)> {
    let parts_of = |text: &str| -> Option<u32> { text.rsplit_once('-')?.1.parse().ok() };
    match checksum.value.rsplit_once('-') {
        Some((value, parts)) => Some((value, parts.parse().ok()?)),
        None => Some((checksum.value.as_str(), parts_of(etag?)?)),
    }
}
