//! A multipart upload ready for its parts ([`Upload`]): what the multipart path (create or
//! resume) and the split path (join) hand to the scheduler, and what completing needs.
//!
//! May depend on `journal` and `verify` of the engine, and on `crate::aws`; nothing else of the
//! engine.

use super::journal::JournalPart;
use super::verify::SourceExpectation;
use crate::aws::objects::SourceObject;
use crate::plan::ChecksumAlgorithm;

/// A multipart upload ready for its parts.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub upload_id: String,
    pub source: SourceObject,
    pub size: u64,
    pub part_size: u64,
    pub parts: u32,
    pub expectation: SourceExpectation,
    /// Parts already at the target (resume).
    pub done: Vec<JournalPart>,
    /// For a split object: the parts (`first..=last`) this run uploads. The other parts belong
    /// to other shards, and `airlock finalize` completes the upload, not this run.
    pub own: Option<(u32, u32)>,
    /// The upload is COMPOSITE in this algorithm (the source's): parts carry its trailers and
    /// Complete lists them, so the target reports the source's own `value-N`. None: CRC64NVME
    /// trailers (FULL_OBJECT or "trailer-parts") or plain parts, as the write mode says.
    pub composite: Option<ChecksumAlgorithm>,
}

/// The checksum mode recorded for an upload (`state`, compared when adopting one): the write
/// mode's name, and the composite algorithm when there is one.
pub(crate) fn mode_name(write_mode_name: &str, composite: Option<ChecksumAlgorithm>) -> String {
    match composite {
        Some(algorithm) => format!(
            "{write_mode_name}+composite-{}",
            format!("{algorithm:?}").to_lowercase()
        ),
        None => write_mode_name.to_string(),
    }
}
