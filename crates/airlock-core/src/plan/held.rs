//! Source objects the plan holds back although the target does not have them: each is a
//! `skip` with its own reason and is counted apart in the summary (never in the bytes to
//! copy or the ETA).
//!
//! - Archived objects (S3 Glacier Flexible Retrieval `GLACIER`, Glacier Deep Archive
//!   `DEEP_ARCHIVE`) cannot be read until restored: a GET answers 403 InvalidObjectState.
//!   A HEAD's `x-amz-restore: ongoing-request="false"` says a restored copy is readable; such
//!   an object is planned as usual. (Intelligent-Tiering archive tiers show only on HEAD/GET:
//!   the copy finds them, see `engine::multipart`.)
//! - The folder marker of the source prefix (`prefix/`, 0 bytes, made by the console's
//!   "Create folder") maps to an empty target key when `target.prefix` is empty: no object can
//!   have it. Other folder markers are copied as markers.

use serde::{Deserialize, Serialize};

use super::{ObjectInfo, PlanItem};

/// Storage classes whose objects must be restored before a GET.
pub const ARCHIVED_CLASSES: [&str; 2] = ["GLACIER", "DEEP_ARCHIVE"];

/// Why a plan item is held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldBack {
    /// In an archived storage class and not restored.
    Archived,
    /// The folder marker of the source prefix, whose target key would be empty.
    SourcePrefixMarker,
}

/// How many items of a plan are held back, per reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBackCounts {
    pub archived: u64,
    pub source_prefix_markers: u64,
}

impl HeldBackCounts {
    pub fn is_empty(&self) -> bool {
        *self == HeldBackCounts::default()
    }

    pub(super) fn add(&mut self, item: &PlanItem) {
        match item.held_back {
            Some(HeldBack::Archived) => self.archived += 1,
            Some(HeldBack::SourcePrefixMarker) => self.source_prefix_markers += 1,
            None => {}
        }
    }
}

/// The archived storage class of `object` when it cannot be read as it is (not restored, as
/// far as a HEAD showed; a listing alone shows no restore).
pub fn archived_class(object: &ObjectInfo) -> Option<&str> {
    let class = object.storage_class.as_deref()?;
    (ARCHIVED_CLASSES.contains(&class) && object.restored != Some(true)).then_some(class)
}

/// The folder marker of the source prefix: a 0-byte key ending in `/` whose target key is
/// empty.
pub(super) fn is_source_prefix_marker(object: &ObjectInfo, target_key: &str) -> bool {
    object.size == 0 && object.key.ends_with('/') && target_key.is_empty()
}

/// The plan's reason for a held-back item.
pub(super) fn reason(held: HeldBack, object: &ObjectInfo) -> String {
    match held {
        HeldBack::Archived => format!(
            "archived ({}): restore it first",
            object.storage_class.as_deref().unwrap_or_default()
        ),
        HeldBack::SourcePrefixMarker => {
            "folder marker of the source prefix (its target key would be empty)".into()
        }
    }
}
