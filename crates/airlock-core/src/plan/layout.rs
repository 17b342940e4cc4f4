//! A multipart source object's own part layout, and what the source hop is checked with.
//!
//! An object uploaded in parts carries fingerprints that only that part layout reproduces: a
//! COMPOSITE checksum (`checksum-of-part-checksums-N`, CRC32/CRC32C by the AWS CLI and SDKs) or
//! a multipart ETag (`md5-of-part-md5s-N`). Copied in the same layout, the parts read can be
//! checked against them before CompleteMultipartUpload. [`accept`] decides whether a reported
//! layout can be used; the plan item records the result ([`SourceLayout`]), and the engine
//! copies in it.
//!
//! Pure data; depends on `config::defaults` and the plan's types only.

use serde::{Deserialize, Serialize};

use super::ChecksumAlgorithm;
use crate::config::defaults::{MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE};

/// What a multipart source object's parts are, and how its source hop will be checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLayout {
    /// Size of every part but the last, when the source's layout is used (then the item's
    /// `part_size` is this); `None` when airlock cuts its own parts (see `check`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_size: Option<u64>,
    /// The source's part count (from its ETag's `-N` or as reported).
    pub parts: u32,
    /// What the bytes read from the source are compared with.
    pub check: SourceHop,
}

impl SourceLayout {
    /// Whether the item is copied in the source's own parts.
    pub fn used(&self) -> bool {
        self.part_size.is_some()
    }

    /// In words, for the plan views: which parts, and what the source hop is checked with.
    pub fn describe(&self) -> String {
        let parts = match self.part_size {
            Some(size) => format!(
                "the source's {} parts of {}",
                self.parts,
                crate::config::ByteSize(size)
            ),
            None => "airlock's parts".to_string(),
        };
        format!("{parts}; source hop: {}", self.check.describe())
    }
}

/// How the source hop of a multipart source is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceHop {
    /// The source's COMPOSITE checksum: the algorithm over the part checksums, `-N`.
    Composite { algorithm: ChecksumAlgorithm },
    /// The source's full-object CRC, combined from the parts read (any layout).
    FullObject { algorithm: ChecksumAlgorithm },
    /// The multipart ETag: MD5 of the parts' MD5s, `-N`.
    MultipartEtag,
    /// Size only (and every part pinned to the source ETag), for the reason given.
    SizeOnly { reason: String },
}

impl SourceHop {
    /// In words, for the plan and the events.
    pub fn describe(&self) -> String {
        match self {
            SourceHop::Composite { algorithm } => format!("composite {}", name(*algorithm)),
            SourceHop::FullObject { algorithm } => format!("full-object {}", name(*algorithm)),
            SourceHop::MultipartEtag => "multipart ETag (MD5 of part MD5s)".into(),
            SourceHop::SizeOnly { reason } => format!("size only: {reason}"),
        }
    }
}

fn name(algorithm: ChecksumAlgorithm) -> String {
    format!("{algorithm:?}").to_lowercase()
}

/// The part count of a multipart ETag (`...-N`), if it is one.
pub fn etag_parts(etag: &str) -> Option<u32> {
    let (_, count) = etag.rsplit_once('-')?;
    count.parse().ok().filter(|n| *n > 0)
}

/// A layout as the source reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// Every part's size, in part order (GetObjectAttributes `ObjectParts`).
    Sizes(Vec<u64>),
    /// Part 1's size and the part count (HEAD `partNumber=1`), and the last part's size when
    /// asked (HEAD `partNumber=N`): the parts between are taken to be part 1's size.
    FirstPart {
        size: u64,
        count: u32,
        last: Option<u64>,
    },
}

/// `Ok(part size)` when `reported` is a layout S3 can have made and airlock can copy in: every
/// part but the last of one size, that size within S3's limits (5 MiB to 5 GiB), the last part
/// no bigger and not empty, at most 10,000 parts, adding up to `object_size`. `Err(reason)`
/// otherwise.
pub fn accept(reported: &Reported, object_size: u64, etag_count: u32) -> Result<u64, String> {
    let (first, count, sizes) = match reported {
        Reported::Sizes(sizes) => match sizes.first() {
            Some(first) => (*first, sizes.len() as u64, Some(sizes)),
            None => return Err("the source listed no parts".into()),
        },
        Reported::FirstPart { size, count, .. } => (*size, u64::from(*count), None),
    };
    if count != u64::from(etag_count) {
        return Err(format!(
            "the source reports {count} parts, its ETag says {etag_count}"
        ));
    }
    if count > MAX_PARTS {
        return Err(format!("{count} parts, more than S3's {MAX_PARTS}"));
    }
    if first == 0 || first > MAX_PART_SIZE.0 {
        return Err(format!(
            "a part size of {first} bytes is outside S3's limits"
        ));
    }
    if count > 1 && first < MIN_PART_SIZE.0 {
        return Err(format!(
            "parts of {first} bytes, under S3's 5 MiB minimum for all but the last"
        ));
    }
    if let Some(sizes) = sizes {
        let (last, middle) = sizes.split_last().unwrap_or((&0, &[]));
        if let Some(odd) = middle.iter().position(|s| *s != first) {
            return Err(format!(
                "part {} has {} bytes, part 1 has {first}: parts of different sizes",
                odd + 1,
                middle[odd]
            ));
        }
        let total: u64 = sizes.iter().sum();
        if total != object_size {
            return Err(format!(
                "the parts add up to {total} bytes, the object has {object_size}"
            ));
        }
        if *last == 0 || *last > first {
            return Err(format!(
                "the last part has {last} bytes, part 1 has {first}"
            ));
        }
        return Ok(first);
    }
    let before_last = first * (count - 1);
    let last = object_size.saturating_sub(before_last);
    if last == 0 || last > first {
        return Err(format!(
            "{count} parts of {first} bytes do not make an object of {object_size} bytes"
        ));
    }
    if let Reported::FirstPart {
        last: Some(reported),
        ..
    } = reported
        && *reported != last
    {
        return Err(format!(
            "part {count} has {reported} bytes, not the {last} that parts of {first} bytes leave"
        ));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn uniform_layouts_with_a_short_last_part_are_accepted() {
        let sizes = Reported::Sizes(vec![8 * MIB, 8 * MIB, 3 * MIB]);
        assert_eq!(accept(&sizes, 19 * MIB, 3), Ok(8 * MIB));
        let head = Reported::FirstPart {
            size: 8 * MIB,
            count: 3,
            last: None,
        };
        assert_eq!(accept(&head, 24 * MIB, 3), Ok(8 * MIB));
        assert_eq!(accept(&head, 17 * MIB, 3), Ok(8 * MIB));
        let with_last = Reported::FirstPart {
            size: 8 * MIB,
            count: 3,
            last: Some(MIB),
        };
        assert_eq!(accept(&with_last, 17 * MIB, 3), Ok(8 * MIB));
        // 8 + 6 + 3 MiB: the last part gives the uneven layout away.
        let uneven = Reported::FirstPart {
            size: 8 * MIB,
            count: 3,
            last: Some(3 * MIB),
        };
        assert!(
            accept(&uneven, 17 * MIB, 3)
                .unwrap_err()
                .contains("part 3 has")
        );
    }

    #[test]
    fn layouts_s3_or_airlock_cannot_use_are_refused_with_a_reason() {
        let small = Reported::Sizes(vec![MIB, MIB, MIB]);
        assert!(accept(&small, 3 * MIB, 3).unwrap_err().contains("5 MiB"));
        let uneven = Reported::Sizes(vec![8 * MIB, 6 * MIB, MIB]);
        assert!(accept(&uneven, 15 * MIB, 3).unwrap_err().contains("part 2"));
        let short = Reported::Sizes(vec![8 * MIB, 8 * MIB]);
        assert!(accept(&short, 17 * MIB, 2).unwrap_err().contains("add up"));
        let head = Reported::FirstPart {
            size: 8 * MIB,
            count: 3,
            last: None,
        };
        assert!(accept(&head, 30 * MIB, 3).is_err());
        assert!(accept(&head, 16 * MIB, 3).is_err());
        assert!(
            accept(&head, 20 * MIB, 4)
                .unwrap_err()
                .contains("ETag says 4")
        );
        let many = Reported::FirstPart {
            size: 5 * MIB,
            count: 10_001,
            last: None,
        };
        assert!(accept(&many, 10_001 * 5 * MIB, 10_001).is_err());
    }

    #[test]
    fn layouts_are_described_with_their_parts_and_check() {
        let used = SourceLayout {
            part_size: Some(8 * MIB),
            parts: 3,
            check: SourceHop::Composite {
                algorithm: ChecksumAlgorithm::Crc32c,
            },
        };
        assert_eq!(
            used.describe(),
            "the source's 3 parts of 8 MiB; source hop: composite crc32c"
        );
        let refused = SourceLayout {
            part_size: None,
            parts: 10,
            check: SourceHop::SizeOnly {
                reason: "why".into(),
            },
        };
        assert_eq!(
            refused.describe(),
            "airlock's parts; source hop: size only: why"
        );
    }

    #[test]
    fn etag_part_counts() {
        assert_eq!(etag_parts("0123abcd-12"), Some(12));
        assert_eq!(etag_parts("0123abcd"), None);
        assert_eq!(etag_parts("0123abcd-0"), None);
    }
}
