//! Every default value, in one place. The config validator, the example config's comments and
//! the plan all read them from here.

use std::time::Duration;

use super::{
    ByteSize, CompareMode, OnSourceChange, PartSize, TransferMode, TransferSettings, VerifyMode,
};

/// Region used when a side names none.
pub const REGION: &str = "us-east-1";

/// Where airlock keeps its own objects at the target (the write-mode probe, resume state).
pub const STATE_PREFIX: &str = ".airlock/";

/// S3 limits that shape every plan.
pub const MIN_PART_SIZE: ByteSize = ByteSize::mib(5);
pub const MAX_PART_SIZE: ByteSize = ByteSize::gib(5);
pub const MAX_PARTS: u64 = 10_000;
/// Largest object a single PutObject may write.
pub const MAX_SINGLE_PUT: ByteSize = ByteSize::gib(5);
/// Largest object S3 stores at all.
pub const MAX_OBJECT_SIZE: ByteSize = ByteSize(5 * 1024 * 1024 * 1024 * 1024);

/// Bytes one in-flight stream may hold between its GET and its PUT. Each request in flight
/// reserves this much of `memory_limit`, so concurrency and memory are limited by one mechanism
/// (and `memory_limit` is at least this).
pub const STREAM_BUFFER: ByteSize = ByteSize::mib(1);

/// `concurrency = "auto"` (the default): the most requests in flight the engine may climb to.
/// It equals the default `memory_limit` over [`STREAM_BUFFER`] (256 MiB / 1 MiB), so with
/// default settings neither limit is below the other; a smaller `memory_limit` caps it lower.
/// High enough for small objects on a store far away (30 ms to the first byte: 256 requests
/// in flight are ~8,500 requests/s), below S3's per-prefix rates only with the adaptive
/// window's SlowDown back-off.
pub const AUTO_CONCURRENCY_CEILING: usize = 256;

/// The transfer settings used when the config says nothing.
pub fn transfer() -> TransferSettings {
    TransferSettings {
        multipart_threshold: ByteSize(3 * 1024 * 1024 * 1024 / 2),
        part_size: PartSize::Auto,
        // Off: splitting needs the prepare and finalize steps, which a plain run does not have.
        split_above: None,
        // "auto": start below the ceiling and climb while throughput grows (engine::window).
        concurrency: AUTO_CONCURRENCY_CEILING,
        adaptive_concurrency: true,
        memory_limit: ByteSize::mib(256),
        max_retries: 8,
        verify: VerifyMode::Checksum,
        // Checksum comparison is the default because a backfill must never skip an object that
        // merely has the same size; when nothing comparable exists, the object is copied again.
        compare: CompareMode::Checksum,
        on_source_change: OnSourceChange::Fail,
        keep_failed_uploads: false,
        copy_metadata: true,
        copy_tags: false,
        estimate_rate: ByteSize::mib(100),
        bandwidth_limit: None,
        connect_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(30),
        // Deleting is never the default: mirror is opt-in.
        mode: TransferMode::Copy,
    }
}
