//! Is the object at the target the same as the one at the source? Decided per
//! [`CompareMode`]; the answer carries the reason in words for the plan.

use super::ObjectInfo;
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

fn checksum_evidence(source: &ObjectInfo, target: &ObjectInfo) -> Result<String, String> {
    // 1. airlock recorded the source ETag it copied from: exact provenance.
    if let (Some(recorded), Some(etag)) = (&target.copied_from_etag, &source.etag) {
        return if recorded == etag {
            Ok("same size, copied from this source ETag".into())
        } else {
            Err("differs: copied from another source version".into())
        };
    }
    // 2. Full-object checksums of the same algorithm.
    if let (Some(s), Some(t)) = (&source.checksum, &target.checksum)
        && s.algorithm == t.algorithm
        && s.full_object
        && t.full_object
    {
        return if s.value == t.value {
            Ok(format!("same size and {:?} checksum", s.algorithm).to_lowercase())
        } else {
            Err(format!("differs: {:?} checksum", s.algorithm).to_lowercase())
        };
    }
    // 3. ETags of the same shape: equal ETags mean equal bytes; two different plain MD5 ETags
    //    mean different bytes. Multipart ETags with different part counts say nothing.
    if let (Some(s), Some(t)) = (&source.etag, &target.etag) {
        if s == t {
            return Ok("same size and ETag".into());
        }
        if !s.contains('-') && !t.contains('-') {
            return Err("differs: ETag".into());
        }
    }
    Err(format!("{UNKNOWN} at the target (copied again to be sure)"))
}
