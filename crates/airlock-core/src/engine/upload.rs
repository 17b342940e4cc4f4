//! A multipart upload ready for its parts ([`Upload`]): what the multipart path (create or
//! resume) and the split path (join) hand to the scheduler, and what completing needs.
//!
//! May depend on `journal` and `verify` of the engine, and on `crate::aws`; nothing else of the
//! engine.

use super::journal::JournalPart;
use super::verify::SourceExpectation;
use crate::aws::objects::SourceObject;

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
}
