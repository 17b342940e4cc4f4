//! A benchmark dataset: which keys exist, how big each is, and what bytes it holds. Everything
//! is derived from a spec string and a seed, so `fill` and `verify` agree without a manifest,
//! and any byte range of any object can be regenerated on its own (the project's counter-based
//! generator, `airlock_s3server::seeded`, which the synthetic server uses too).

use std::str::FromStr;

use airlock_core::config::ByteSize;
use airlock_s3server::seeded;

/// One object of a dataset.
#[derive(Debug, Clone)]
pub(crate) struct ObjectSpec {
    pub key: String,
    pub size_bytes: u64,
    /// Seed of this object's bytes (from the dataset seed and the key).
    pub seed: u64,
}

/// Objects described by `COUNTxSIZE[+COUNTxSIZE...]`, e.g. `2x2GiB+3000x16KiB`, under
/// `<prefix><name>/`.
pub(crate) fn objects(
    name: &str,
    spec: &str,
    prefix: &str,
    seed: u64,
) -> Result<Vec<ObjectSpec>, String> {
    let mut objects = Vec::new();
    for (group, term) in spec.split('+').enumerate() {
        let (count, size) = term
            .trim()
            .split_once('x')
            .ok_or_else(|| format!("'{term}' is not COUNTxSIZE, e.g. 500x1MiB"))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| format!("'{count}' is not a count"))?;
        let size = ByteSize::from_str(size.trim()).map_err(|e| e.0)?;
        for index in 0..count {
            let key = format!("{prefix}{name}/g{group}-{}/obj-{index:06}.bin", size.0);
            let seed = seeded::object_seed(seed, &key);
            objects.push(ObjectSpec {
                key,
                size_bytes: size.0,
                seed,
            });
        }
    }
    Ok(objects)
}

/// Fill `out` with the bytes of the object seeded `seed` that start at `offset`.
pub(crate) fn generate(seed: u64, offset: u64, out: &mut [u8]) {
    seeded::fill(seed, offset, out);
}

/// Split `size_bytes` into `(offset, length)` pieces of at most `piece_bytes`.
pub(crate) fn pieces(size_bytes: u64, piece_bytes: u64) -> Vec<(u64, u64)> {
    if size_bytes == 0 {
        return vec![(0, 0)];
    }
    (0..size_bytes.div_ceil(piece_bytes))
        .map(|i| {
            let offset = i * piece_bytes;
            (offset, piece_bytes.min(size_bytes - offset))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_range_matches_the_whole() {
        let mut whole = vec![0u8; 1000];
        generate(7, 0, &mut whole);
        for (offset, len) in [(0, 1), (3, 17), (8, 8), (13, 900), (999, 1)] {
            let mut part = vec![0u8; len];
            generate(7, offset as u64, &mut part);
            assert_eq!(part, whole[offset..offset + len]);
        }
    }

    #[test]
    fn spec_names_every_object() {
        let objects = objects("mixed", "2x2GiB+3x16KiB", "clients/", 1).unwrap();
        assert_eq!(objects.len(), 5);
        assert_eq!(objects[0].size_bytes, 2 << 30);
        assert_eq!(objects[4].key, "clients/mixed/g1-16384/obj-000002.bin");
        assert_ne!(objects[0].seed, objects[1].seed);
        assert!(super::objects("x", "3 by 4", "", 1).is_err());
    }
}
