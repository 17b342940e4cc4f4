//! Limits on the settings a user may change in three places (the config file, the command
//! line's flags and the TUI's settings editor), defined once so the three cannot drift apart.
//! Depends on `bytesize` and `defaults` only.
//!
//! Each place words its own message (a config key, a flag, an editor field); the numbers in
//! those messages come from here through [`range_text`].

use std::fmt::Display;
use std::ops::RangeInclusive;

use super::ByteSize;
use super::defaults::{MAX_PART_SIZE, MAX_SINGLE_PUT, MIN_PART_SIZE, STREAM_BUFFER};

/// Requests in flight at once (`transfer.concurrency`, the TUI's `+`/`-` and editor).
pub const CONCURRENCY: RangeInclusive<usize> = 1..=1024;

/// The memory budget (`transfer.memory_limit`): at least one stream's buffer.
pub const MEMORY: RangeInclusive<ByteSize> = STREAM_BUFFER..=ByteSize::gib(64);

/// Where single PUT ends and multipart begins (`transfer.multipart_threshold`): a multipart
/// object needs at least one part of S3's minimum size; a single PUT may write at most 5 GiB.
pub const MULTIPART_THRESHOLD: RangeInclusive<ByteSize> = MIN_PART_SIZE..=MAX_SINGLE_PUT;

/// A fixed part size (`transfer.part_size`): S3's own bounds on a part.
pub const PART_SIZE: RangeInclusive<ByteSize> = MIN_PART_SIZE..=MAX_PART_SIZE;

/// The smallest bandwidth cap or rate estimate, in bytes per second (`transfer.bandwidth_limit`,
/// `transfer.estimate_rate`, `--bandwidth-limit`): below it a run would crawl by mistake.
pub const BANDWIDTH_FLOOR: ByteSize = ByteSize::bytes(1024);
/// [`BANDWIDTH_FLOOR`] as the messages suggest writing it.
pub const BANDWIDTH_FLOOR_TEXT: &str = "1KiB/s";

/// `"LOW to HIGH"` for a range, as the error messages print it (`1 to 1024`, `1 MiB to 64 GiB`).
pub fn range_text<T: Display>(range: &RangeInclusive<T>) -> String {
    format!("{} to {}", range.start(), range.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_text_prints_the_bounds_the_messages_promise() {
        assert_eq!(range_text(&CONCURRENCY), "1 to 1024");
        assert_eq!(range_text(&MEMORY), "1 MiB to 64 GiB");
        assert_eq!(range_text(&MULTIPART_THRESHOLD), "5 MiB to 5 GiB");
        let floor = BANDWIDTH_FLOOR_TEXT.strip_suffix("/s").unwrap();
        assert_eq!(floor.parse::<ByteSize>(), Ok(BANDWIDTH_FLOOR));
    }
}
