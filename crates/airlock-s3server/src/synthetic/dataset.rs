//! [`Dataset`]: N synthetic keys and everything S3 lists about them, computed from the key's
//! index, nothing stored. Keys are fixed-width numbers under a fixed prefix, so key order (UTF-8
//! binary order, as S3 lists) is index order, and any key, prefix or cursor maps to an index by
//! binary search over the indices (O(log N) key formattings).
//!
//! [`Catalog`] is a dataset as one server holds it: every key (a source), or a sink's preset
//! subset (every k-th key, a quarter of those with another size).
//!
//! Depends on the seeded generator's mixer only.

use crate::seeded::mix;

/// 2025-01-01T00:00:00Z: the source's key 0 was last modified then, key i `i` seconds later.
const EPOCH_UNIX_S: u64 = 1_735_689_600;
/// A sink's preset objects were copied an hour after the source's were written.
const SINK_LAG_S: u64 = 3_600;
/// Objects this big or bigger have multipart-shaped ETags (`hex-N`, 8 MiB parts).
const MULTIPART_ETAG_FROM_BYTES: u64 = 16 << 20;
const ETAG_PART_BYTES: u64 = 8 << 20;
const MAX_KEYS: u64 = 10_000_000_000;

/// How a dataset's keys are named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `{prefix}part-00000000.parquet`, ... (8 digits, more if N needs them).
    Flat { prefix: String },
    /// `{prefix}f0000/obj-00000.bin`, ...: folders of `keys_per_folder` keys, the last one
    /// holding the rest (4 and 5 digits, more if needed).
    Folders {
        prefix: String,
        keys_per_folder: u64,
    },
}

/// How big a dataset's objects are, each drawn from its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizes {
    /// Uniformly from `min_bytes..=max_bytes`.
    Uniform { min_bytes: u64, max_bytes: u64 },
    /// A backfill's mix: 2% empty, 58% up to 16 KiB, 30% up to 1 MiB, 9% up to 16 MiB, 1% up
    /// to 128 MiB. Every 97th object (index 42 mod 97) is in GLACIER (GET answers 403
    /// InvalidObjectState).
    Mixed,
}

/// N synthetic objects: their keys, sizes, ETags, times, storage classes and bytes all follow
/// from the index and the seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    pub keys: u64,
    pub layout: Layout,
    pub sizes: Sizes,
    /// Seeds sizes, ETags and the objects' bytes.
    pub seed: u64,
}

impl Dataset {
    /// `events/part-00000000.parquet` ... of 1-16 KiB.
    pub fn flat(keys: u64) -> Self {
        Dataset {
            keys,
            layout: Layout::Flat {
                prefix: "events/".to_string(),
            },
            sizes: Sizes::Uniform {
                min_bytes: 1024,
                max_bytes: 16 * 1024,
            },
            seed: 42,
        }
    }

    /// `f0000/obj-00000.bin` ... in folders of `keys_per_folder`, of 1-16 KiB.
    pub fn folders(keys: u64, keys_per_folder: u64) -> Self {
        Dataset {
            layout: Layout::Folders {
                prefix: String::new(),
                keys_per_folder,
            },
            ..Self::flat(keys)
        }
    }

    /// The flat layout with [`Sizes::Mixed`].
    pub fn mixed(keys: u64) -> Self {
        Dataset {
            sizes: Sizes::Mixed,
            ..Self::flat(keys)
        }
    }

    /// What is wrong with this dataset, if anything.
    pub fn check(&self) -> Result<(), String> {
        if self.keys > MAX_KEYS {
            return Err(format!(
                "{} keys is over the {MAX_KEYS} supported",
                self.keys
            ));
        }
        if let Layout::Folders {
            keys_per_folder: 0, ..
        } = self.layout
        {
            return Err("a folder must hold at least one key".to_string());
        }
        if let Sizes::Uniform {
            min_bytes,
            max_bytes,
        } = self.sizes
            && (min_bytes > max_bytes || max_bytes > 5 << 40)
        {
            return Err(format!(
                "sizes {min_bytes}..={max_bytes} bytes: the least must not be above the most, \
                 nor the most above 5 TiB"
            ));
        }
        Ok(())
    }

    /// The prefix every key starts with.
    pub fn prefix(&self) -> &str {
        match &self.layout {
            Layout::Flat { prefix } | Layout::Folders { prefix, .. } => prefix,
        }
    }

    /// The key of object `index` (below [`Dataset::keys`]).
    pub fn key(&self, index: u64) -> String {
        let mut key = String::new();
        self.write_key(index, &mut key);
        key
    }

    /// [`Dataset::key`] into `out` (cleared first). Digits are written by hand: this runs for
    /// every listed key and every step of a binary search.
    pub(crate) fn write_key(&self, index: u64, out: &mut String) {
        out.clear();
        match &self.layout {
            Layout::Flat { prefix } => {
                out.push_str(prefix);
                out.push_str("part-");
                push_padded(out, index, digits(self.keys.saturating_sub(1)).max(8));
                out.push_str(".parquet");
            }
            Layout::Folders {
                prefix,
                keys_per_folder,
            } => {
                let folders = self.keys.div_ceil(*keys_per_folder);
                let folder_width = digits(folders.saturating_sub(1)).max(4);
                let object_width = digits(keys_per_folder - 1).max(5);
                out.push_str(prefix);
                out.push('f');
                push_padded(out, index / keys_per_folder, folder_width);
                out.push_str("/obj-");
                push_padded(out, index % keys_per_folder, object_width);
                out.push_str(".bin");
            }
        }
    }

    /// The size of object `index` in bytes.
    pub fn size_bytes(&self, index: u64) -> u64 {
        let draw = mix(self.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let within = |low: u64, high: u64| low + mix(draw) % (high - low + 1);
        match self.sizes {
            Sizes::Uniform {
                min_bytes,
                max_bytes,
            } => within(min_bytes, max_bytes),
            Sizes::Mixed => match draw % 1000 {
                0..20 => 0,
                20..600 => within(1, 16 << 10),
                600..900 => within((16 << 10) + 1, 1 << 20),
                900..990 => within((1 << 20) + 1, 16 << 20),
                _ => within((16 << 20) + 1, 128 << 20),
            },
        }
    }

    /// The ETag (without quotes) of object `index` holding `size_bytes`: 32 hex digits from
    /// the seed, index and size (not the MD5 of the bytes), `-N` for a multipart-sized object.
    pub fn etag(&self, index: u64, size_bytes: u64) -> String {
        let high = mix(self.seed ^ index.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ size_bytes);
        let low = mix(high ^ 0xa076_1d64_78bd_642f);
        let mut etag = String::with_capacity(40);
        push_hex(&mut etag, high);
        push_hex(&mut etag, low);
        if size_bytes >= MULTIPART_ETAG_FROM_BYTES {
            etag.push('-');
            push_padded(&mut etag, size_bytes.div_ceil(ETAG_PART_BYTES), 1);
        }
        etag
    }

    /// The storage class S3 would list for object `index`.
    pub fn storage_class(&self, index: u64) -> &'static str {
        match (self.sizes, index % 97, index % 10) {
            (Sizes::Mixed, 42, _) => "GLACIER",
            (_, _, 9) => "STANDARD_IA",
            _ => "STANDARD",
        }
    }
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// `n` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut String, mut n: u64, width: usize) {
    let mut buffer = [b'0'; 20];
    let mut at = buffer.len();
    while n > 0 {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = buffer.len() - (buffer.len() - at).max(width).min(buffer.len());
    buffer[start..]
        .iter()
        .for_each(|digit| out.push(char::from(*digit)));
}

/// `n` as 16 lowercase hex digits.
fn push_hex(out: &mut String, n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(char::from(HEX[((n >> (shift * 4)) & 0xf) as usize]));
    }
}

/// Which of a dataset's objects a server holds, and as what.
#[derive(Clone, Debug)]
pub(crate) struct Catalog {
    pub dataset: Dataset,
    /// `Some(k)`: a sink holding every k-th key; `None` with `sink` set: an empty sink.
    pub present_every: Option<u64>,
    pub sink: bool,
    /// A sink whose preset objects are all the source's, unchanged (no quarter one byte
    /// longer): a finished copy, which a rerun skips whole.
    pub same: bool,
}

/// One object as a server lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listed {
    pub index: u64,
    pub size_bytes: u64,
    pub etag: String,
    pub last_modified_unix_s: u64,
    pub storage_class: &'static str,
}

impl Catalog {
    pub(crate) fn keys(&self) -> u64 {
        self.dataset.keys
    }

    /// The first index at or after `index` that this server holds, if any.
    pub(crate) fn next_present(&self, index: u64) -> Option<u64> {
        let index = match (self.sink, self.present_every) {
            (false, _) => index,
            (true, None) => return None,
            (true, Some(every)) => index.checked_next_multiple_of(every)?,
        };
        (index < self.keys()).then_some(index)
    }

    /// Object `index` (which this server holds), as listed. A sink's preset objects are the
    /// source's, an hour later; every fourth of them (the 2nd, 6th, ...) has one byte more.
    pub(crate) fn listed(&self, index: u64) -> Listed {
        let dataset = &self.dataset;
        let mut size_bytes = dataset.size_bytes(index);
        let mut last_modified_unix_s = EPOCH_UNIX_S + index;
        if self.sink {
            last_modified_unix_s += SINK_LAG_S;
            let every = self.present_every.unwrap_or(1);
            if !self.same && (index / every) % 4 == 1 {
                size_bytes += 1;
            }
        }
        Listed {
            index,
            size_bytes,
            etag: dataset.etag(index, size_bytes),
            last_modified_unix_s,
            storage_class: dataset.storage_class(index),
        }
    }

    /// The first index in `from..self.keys()` whose key makes `past` true, where `past` is
    /// false for a run of keys and then true (keys ascend with the index).
    pub(crate) fn first_index(&self, from: u64, past: impl Fn(&str) -> bool) -> u64 {
        let (mut low, mut high) = (from, self.keys());
        let mut key = String::new();
        while low < high {
            let middle = low + (high - low) / 2;
            self.dataset.write_key(middle, &mut key);
            match past(&key) {
                true => high = middle,
                false => low = middle + 1,
            }
        }
        low
    }

    /// The index of `key` if it is one of this server's objects.
    pub(crate) fn find(&self, key: &str) -> Option<u64> {
        let index = self.first_index(0, |k| k >= key);
        let found = index < self.keys() && self.dataset.key(index) == key;
        found
            .then_some(index)
            .filter(|i| self.next_present(*i) == Some(*i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_fixed_widths_and_ascend_with_the_index() {
        let flat = Dataset::flat(10);
        assert_eq!(flat.key(0), "events/part-00000000.parquet");
        assert_eq!(
            Dataset::flat(123_456_789).key(7),
            "events/part-000000007.parquet"
        );
        let folders = Dataset::folders(2_500, 1_000);
        assert_eq!(folders.key(0), "f0000/obj-00000.bin");
        assert_eq!(folders.key(2_499), "f0002/obj-00499.bin");
        assert_eq!(Dataset::folders(10, 1).key(9), "f0009/obj-00000.bin");
        for dataset in [flat, folders, Dataset::folders(100_000, 7)] {
            let keys: Vec<String> = (0..dataset.keys.min(20_000))
                .map(|i| dataset.key(i))
                .collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{dataset:?}");
        }
    }

    #[test]
    fn sizes_etags_and_classes_follow_from_the_index() {
        let dataset = Dataset::flat(1_000);
        let sizes: Vec<u64> = (0..1_000).map(|i| dataset.size_bytes(i)).collect();
        assert!(sizes.iter().all(|s| (1024..=16384).contains(s)));
        assert_eq!(
            sizes,
            (0..1_000)
                .map(|i| dataset.size_bytes(i))
                .collect::<Vec<_>>()
        );
        assert!(sizes.iter().any(|s| *s < 2048) && sizes.iter().any(|s| *s > 15_000));
        let etag = dataset.etag(3, 100);
        assert!(etag.len() == 32 && etag.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(etag, dataset.etag(3, 101));
        assert_ne!(etag, dataset.etag(4, 100));
        assert_eq!(dataset.etag(1, 20 << 20).rsplit_once('-').unwrap().1, "3");
        assert_eq!(dataset.etag(1, 200 << 20).rsplit_once('-').unwrap().1, "25");
        let mut padded = String::new();
        push_padded(&mut padded, 0, 3);
        push_padded(&mut padded, 12345, 3);
        push_padded(&mut padded, u64::MAX, 8);
        assert_eq!(padded, format!("00012345{}", u64::MAX));
        let mut hex = String::new();
        push_hex(&mut hex, 0xab);
        assert_eq!(hex, format!("{:016x}", 0xab));
        assert_eq!(dataset.storage_class(19), "STANDARD_IA");
        let mixed = Dataset::mixed(100_000);
        assert_eq!(mixed.storage_class(42), "GLACIER");
        let sizes: Vec<u64> = (0..100_000).map(|i| mixed.size_bytes(i)).collect();
        let share = |f: &dyn Fn(u64) -> bool| sizes.iter().filter(|s| f(**s)).count() as f64 / 1e5;
        assert!((0.015..0.025).contains(&share(&|s| s == 0)));
        assert!((0.007..0.013).contains(&share(&|s| s > 16 << 20)));
        assert!(sizes.iter().all(|s| *s <= 128 << 20));
    }

    #[test]
    fn a_sink_holds_every_kth_key_and_a_quarter_of_them_differ() {
        let source = Catalog {
            dataset: Dataset::flat(100),
            present_every: None,
            sink: false,
            same: false,
        };
        let sink = Catalog {
            sink: true,
            present_every: Some(10),
            ..source.clone()
        };
        assert_eq!(sink.next_present(0), Some(0));
        assert_eq!(sink.next_present(1), Some(10));
        assert_eq!(sink.next_present(91), None);
        let (same, differs) = (sink.listed(20), sink.listed(10));
        assert_eq!(same.size_bytes, source.listed(20).size_bytes);
        assert_eq!(same.etag, source.listed(20).etag);
        assert_eq!(differs.size_bytes, source.listed(10).size_bytes + 1);
        assert_ne!(differs.etag, source.listed(10).etag);
        assert_eq!(sink.find("events/part-00000010.parquet"), Some(10));
        assert_eq!(sink.find("events/part-00000011.parquet"), None);
        assert_eq!(source.find("events/part-00000011.parquet"), Some(11));
        assert_eq!(source.find("events/part-0000001.parquet"), None);
        let empty = Catalog {
            present_every: None,
            ..sink
        };
        assert_eq!(empty.next_present(0), None);
        let copied = Catalog {
            present_every: Some(1),
            same: true,
            ..empty
        };
        assert_eq!(copied.next_present(7), Some(7));
        assert_eq!(copied.listed(1).size_bytes, source.listed(1).size_bytes);
        assert_eq!(copied.listed(1).etag, source.listed(1).etag);
    }
}
