//! Split objects: one multipart upload that several shards fill together. `airlock prepare`
//! opens the upload and records it in the plan item; `airlock run --shard I/N` uploads only its
//! contiguous range of parts into it; `airlock finalize` completes and verifies it.
//!
//! Pure data; depends on nothing outside `plan`.

use serde::{Deserialize, Serialize};

use super::{Checksum, PlanItem};

/// A multipart upload opened by `airlock prepare`, recorded in the plan item it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitUpload {
    pub upload_id: String,
    /// The source version the upload is for: every part is read with `If-Match` on it, and the
    /// target object records it (`airlock-source-etag`), which is how a finished one is known.
    pub source_etag: String,
    /// The source's full-object checksum when the upload was opened; `finalize` compares the
    /// combined parts with it when it is a CRC64NVME.
    pub source_checksum: Option<Checksum>,
    /// First part (1-based) this item covers: 1 in a saved plan, one shard's range after
    /// `--shard`.
    pub first_part: u32,
    /// Last part this item covers (inclusive).
    pub last_part: u32,
    /// The upload is COMPOSITE in this algorithm (the source's; parts go with its trailers),
    /// so `finalize` can recombine the part checksums ListParts returns; None: CRC64NVME or
    /// plain parts, as the write mode says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite: Option<super::ChecksumAlgorithm>,
}

impl SplitUpload {
    /// Number of parts this item covers.
    pub fn part_count(&self) -> u32 {
        self.last_part + 1 - self.first_part
    }
}

/// Bytes of part `part` (1-based) of `item`, by its part size (the last part is shorter).
pub fn part_bytes(item: &PlanItem, part: u32) -> u64 {
    let first = u64::from(part - 1) * item.part_size;
    item.size.min(first + item.part_size).saturating_sub(first)
}

/// Bytes of parts `first..=last` of `item`.
pub fn range_bytes(item: &PlanItem, first: u32, last: u32) -> u64 {
    if first > last {
        return 0;
    }
    let start = u64::from(first - 1) * item.part_size;
    let end = item.size.min(u64::from(last) * item.part_size);
    end.saturating_sub(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Route;

    fn item(size: u64, part_size: u64) -> PlanItem {
        PlanItem {
            route: Route::Multipart,
            part_size,
            parts: size.div_ceil(part_size) as u32,
            ..PlanItem::new_single("k".into(), "k".into(), size)
        }
    }

    #[test]
    fn part_and_range_bytes_add_up() {
        let item = item(23, 5);
        let parts: Vec<u64> = (1..=5).map(|p| part_bytes(&item, p)).collect();
        assert_eq!(parts, vec![5, 5, 5, 5, 3]);
        assert_eq!(range_bytes(&item, 1, 5), 23);
        assert_eq!(range_bytes(&item, 2, 3), 10);
        assert_eq!(range_bytes(&item, 4, 5), 8);
        assert_eq!(range_bytes(&item, 3, 2), 0);
    }
}
