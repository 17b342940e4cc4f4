//! The project's seeded byte generator, shared by the benchmark's `bench_tool` (fill and verify
//! agree without a manifest) and the synthetic server (its objects' bytes). Counter-based: the
//! 8-byte word at index `i` of an object depends only on the object's seed and `i`, so any byte
//! range of any object can be regenerated on its own, at a few GB/s.
//!
//! Depends on nothing.

/// The seed of an object's bytes, from the dataset's seed and the object's key.
pub fn object_seed(dataset_seed: u64, key: &str) -> u64 {
    mix(dataset_seed ^ fnv1a(key.as_bytes()))
}

/// Fill `out` with the bytes of the object seeded `seed` that start at `offset`.
pub fn fill(seed: u64, offset: u64, out: &mut [u8]) {
    let mut word_index = offset / 8;
    let skip = (offset % 8) as usize;
    let mut rest = out;
    if skip != 0 {
        let word = word_at(seed, word_index).to_le_bytes();
        let take = (8 - skip).min(rest.len());
        rest[..take].copy_from_slice(&word[skip..skip + take]);
        rest = &mut rest[take..];
        word_index += 1;
    }
    let mut chunks = rest.chunks_exact_mut(8);
    for chunk in &mut chunks {
        chunk.copy_from_slice(&word_at(seed, word_index).to_le_bytes());
        word_index += 1;
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let word = word_at(seed, word_index).to_le_bytes();
        let len = tail.len();
        tail.copy_from_slice(&word[..len]);
    }
}

/// wyrand's output for state `seed + (index + 1) * P0`: one multiply per 8 bytes.
fn word_at(seed: u64, index: u64) -> u64 {
    const P0: u64 = 0xa076_1d64_78bd_642f;
    const P1: u64 = 0xe703_7ed1_a0b4_28db;
    let state = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(P0));
    let product = u128::from(state) * u128::from(state ^ P1);
    (product >> 64) as u64 ^ product as u64
}

/// splitmix64's finaliser: spreads a hash over all bits.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_range_matches_the_whole() {
        let mut whole = vec![0u8; 1000];
        fill(7, 0, &mut whole);
        for (offset, len) in [(0, 1), (3, 17), (8, 8), (13, 900), (999, 1)] {
            let mut part = vec![0u8; len];
            fill(7, offset as u64, &mut part);
            assert_eq!(part, whole[offset..offset + len]);
        }
    }

    /// Values from the generator as `bench_tool` had it before it moved here: the benchmark's
    /// datasets (and results) stay the same bytes.
    #[test]
    fn the_bytes_are_the_benchmarks_as_before() {
        let mut out = vec![0u8; 37];
        fill(42, 5, &mut out);
        let before: [u8; 37] = [
            124, 74, 174, 210, 217, 56, 61, 211, 9, 204, 233, 58, 67, 147, 43, 81, 86, 87, 203,
            113, 26, 14, 50, 161, 178, 41, 235, 192, 150, 211, 14, 72, 214, 59, 90, 77, 184,
        ];
        assert_eq!(out, before);
        let key = "clients/mixed/g1-16384/obj-000002.bin";
        assert_eq!(object_seed(7, key), 12_346_566_832_425_040_614);
    }
}
