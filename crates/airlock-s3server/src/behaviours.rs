//! [`Behaviours`]: the switches that make a running server behave like AWS S3 (or like another
//! store) where s3s-fs is kinder. Every switch is off when a server starts, so a test that sets
//! none sees the server as it always was; a test flips them on the running server through the
//! handle [`EmbeddedS3::behaviours`](crate::EmbeddedS3::behaviours) returns, and the next
//! request sees the change.
//!
//! The state is shared by the HTTP gate in front of s3s (module `gate`: behaviours decided from
//! the raw request) and the faithful wrapper (object-state behaviours). Reading a switch is one
//! relaxed atomic load; the gate first loads one bit mask of all its switches, so with all of
//! them off a request costs one load. The few switches that carry a value (a region) keep it
//! behind a lock that is only taken when the switch is on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::shaping::{
    ActiveLatency, ActiveLimit, ConnectionRate, LatencyProfile, RequestLimit, Shaping,
};

/// A bucket's default encryption (PutBucketEncryption), for [`Behaviours::set_default_encryption`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultEncryption {
    /// `aws:kms`, with the key id HEAD reports (S3 reports the key's ARN).
    Kms { key_id: Option<String> },
    /// `aws:kms:dsse`, dual-layer SSE-KMS.
    DsseKms { key_id: Option<String> },
}

/// The S3 Intelligent-Tiering archive tier an `INTELLIGENT_TIERING` object is in, for
/// [`Behaviours::set_intelligent_tiering_archive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveTier {
    /// `x-amz-archive-status: ARCHIVE_ACCESS` (after 90+ days without access, when enabled).
    ArchiveAccess,
    /// `x-amz-archive-status: DEEP_ARCHIVE_ACCESS` (after 180+ days, when enabled).
    DeepArchiveAccess,
}

impl ArchiveTier {
    pub(crate) fn header_value(self) -> &'static str {
        match self {
            ArchiveTier::ArchiveAccess => "ARCHIVE_ACCESS",
            ArchiveTier::DeepArchiveAccess => "DEEP_ARCHIVE_ACCESS",
        }
    }
}

/// Bits of [`Switches::gate_mask`]: one per behaviour the HTTP gate decides.
pub(crate) mod gate_bit {
    pub(crate) const REGION: u32 = 1 << 0;
    pub(crate) const TOKENS: u32 = 1 << 1;
    pub(crate) const ACLS_DISABLED: u32 = 1 << 2;
    pub(crate) const METADATA_LIMIT: u32 = 1 << 3;
    pub(crate) const TRAILERS_REFUSED: u32 = 1 << 4;
    pub(crate) const CHUNKED_STORED_RAW: u32 = 1 << 5;
    pub(crate) const REQUESTER_PAYS: u32 = 1 << 6;
    pub(crate) const XML_CHAR_REFS: u32 = 1 << 7;
    pub(crate) const LATENCY: u32 = 1 << 8;
    pub(crate) const SLOWDOWN: u32 = 1 << 9;
}

/// The shared state behind [`Behaviours`].
#[derive(Debug, Default)]
pub(crate) struct Switches {
    /// The gate's switches, one bit each ([`gate_bit`]); 0 means the gate passes every request
    /// straight to s3s.
    gate_mask: AtomicU32,
    pub(crate) sse_etags: AtomicBool,
    /// The bucket default encryption, if any: every object written is encrypted with it.
    default_encryption: Mutex<Option<DefaultEncryption>>,
    default_encryption_on: AtomicBool,
    pub(crate) folder_markers: AtomicBool,
    pub(crate) url_encoding: AtomicBool,
    pub(crate) archived_classes: AtomicBool,
    /// 0: off; 1: ARCHIVE_ACCESS; 2: DEEP_ARCHIVE_ACCESS.
    intelligent_tiering_archive: AtomicU8,
    pub(crate) crc64nvme_unknown: AtomicBool,
    pub(crate) full_object_refused: AtomicBool,
    pub(crate) small_parts_allowed: AtomicBool,
    pub(crate) listed_etags: AtomicBool,
    /// The region every bucket is in (gate bit REGION).
    pub(crate) bucket_region: Mutex<Option<String>>,
    /// Requests each session token is good for (gate bit TOKENS).
    pub(crate) token_lifetime_requests: AtomicU32,
    /// Requests seen per session token value.
    pub(crate) token_uses: Mutex<HashMap<String, u32>>,
    /// The first-byte delays being applied (gate bit LATENCY), with their draw counters.
    latency: Mutex<Option<Arc<ActiveLatency>>>,
    /// The request-rate limit being applied (gate bit SLOWDOWN), with its token buckets.
    request_limit: Mutex<Option<Arc<ActiveLimit>>>,
    /// Bytes per second each connection may read and may write; 0: no cap. Read by every
    /// connection on every read and write (`shaping::Throttled`).
    pub(crate) connection_rate: AtomicU64,
}

impl Switches {
    pub(crate) fn gate_mask(&self) -> u32 {
        self.gate_mask.load(Ordering::Relaxed)
    }

    fn set_gate_bit(&self, bit: u32, on: bool) {
        match on {
            true => self.gate_mask.fetch_or(bit, Ordering::Relaxed),
            false => self.gate_mask.fetch_and(!bit, Ordering::Relaxed),
        };
    }

    /// The latency profile in use, if any (only called with gate bit LATENCY on).
    pub(crate) fn latency(&self) -> Option<Arc<ActiveLatency>> {
        lock(&self.latency).clone()
    }

    /// The request limit in use, if any (only called with gate bit SLOWDOWN on).
    pub(crate) fn request_limit(&self) -> Option<Arc<ActiveLimit>> {
        lock(&self.request_limit).clone()
    }

    pub(crate) fn on(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Relaxed)
    }

    pub(crate) fn default_encryption(&self) -> Option<DefaultEncryption> {
        if !Self::on(&self.default_encryption_on) {
            return None;
        }
        lock(&self.default_encryption).clone()
    }

    pub(crate) fn intelligent_tiering_archive(&self) -> Option<ArchiveTier> {
        match self.intelligent_tiering_archive.load(Ordering::Relaxed) {
            1 => Some(ArchiveTier::ArchiveAccess),
            2 => Some(ArchiveTier::DeepArchiveAccess),
            _ => None,
        }
    }

    /// Whether the s3rver behaviour is on (the faithful wrapper then knows no checksums).
    pub(crate) fn s3rver(&self) -> bool {
        self.gate_mask() & gate_bit::CHUNKED_STORED_RAW != 0
    }

    /// Whether a listing needs the faithful wrapper's own pass (markers, encoding, ETags or
    /// storage classes to add); with all of these off, s3s-fs answers listings as before.
    pub(crate) fn listing_decorated(&self) -> bool {
        Self::on(&self.folder_markers)
            || Self::on(&self.url_encoding)
            || Self::on(&self.sse_etags)
            || Self::on(&self.default_encryption_on)
            || Self::on(&self.archived_classes)
            || Self::on(&self.listed_etags)
    }
}

/// A poisoned lock only means a test panicked while holding it; the data is still usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Switches for AWS behaviours s3s-fs lacks, on a running server. Cheap to clone; every clone
/// changes the same server. All are off when the server starts. Behaviours marked *(faithful)*
/// live in the faithful wrapper and do nothing on a [`Flavor::Plain`](crate::Flavor::Plain)
/// server; the others are decided from the raw request and work on both flavors. Each applies
/// to every bucket of the server.
#[derive(Clone, Debug)]
pub struct Behaviours {
    switches: Arc<Switches>,
}

impl Behaviours {
    pub(crate) fn new(switches: Arc<Switches>) -> Self {
        Behaviours { switches }
    }

    /// *(faithful)* Objects written with `x-amz-server-side-encryption: aws:kms` or
    /// `aws:kms:dsse`, or with SSE-C headers, are encrypted as S3 does it: their ETag (and
    /// their parts' ETags) is not the MD5 of the bytes but 32 hex digits stable per object
    /// version, listings show that ETag, and HEAD/GET report the encryption (and the KMS key id,
    /// or the SSE-C algorithm and key MD5). HEAD/GET of an SSE-C object without the customer key
    /// headers answers 400 InvalidRequest, as S3 does. Off: the headers are ignored (MD5 ETags).
    pub fn set_sse_etags(&self, on: bool) {
        self.switches.sse_etags.store(on, Ordering::Relaxed);
    }

    /// *(faithful)* The bucket encrypts every new object with this (S3's bucket default
    /// encryption): as [`set_sse_etags`](Self::set_sse_etags) for every object, whatever the
    /// request says. `None` turns it off.
    pub fn set_default_encryption(&self, encryption: Option<DefaultEncryption>) {
        let on = encryption.is_some();
        *lock(&self.switches.default_encryption) = encryption;
        self.switches
            .default_encryption_on
            .store(on, Ordering::Relaxed);
    }

    /// *(faithful)* A 0-byte object whose key ends with `/` (the console's "Create folder") is
    /// an object, as in S3: PUT, HEAD and GET work, listings show it with size 0 (rolled into
    /// a CommonPrefix when a delimiter groups it). Off: s3s-fs makes a directory of it, never
    /// lists it, and answers HEAD/GET with 500.
    pub fn set_folder_markers(&self, on: bool) {
        self.switches.folder_markers.store(on, Ordering::Relaxed);
    }

    /// *(faithful)* Listings honour `encoding-type=url` (ListObjectsV2, ListObjects and
    /// ListObjectVersions). Off: s3s-fs ignores it. While this or another listing behaviour
    /// (folder markers, SSE ETags, archived classes) is on, ListObjectVersions answers the
    /// unversioned view s3s-fs has (every object once, version `null`); with all off it is 501.
    pub fn set_url_encoding(&self, on: bool) {
        self.switches.url_encoding.store(on, Ordering::Relaxed);
    }

    /// Listings without `encoding-type=url` write control characters in keys (U+0000-U+001F)
    /// as XML character references (`&#x1;`), as AWS does. Off: they go out raw, as s3s writes
    /// them. See module `gate::char_refs` for what each does to the Rust SDK's parser.
    pub fn set_xml_char_refs(&self, on: bool) {
        self.switches.set_gate_bit(gate_bit::XML_CHAR_REFS, on);
    }

    /// *(faithful)* Objects can be written with any S3 storage class; `GLACIER` and
    /// `DEEP_ARCHIVE` ones answer GET with 403 InvalidObjectState until RestoreObject restores
    /// them (immediately, for the days asked); HEAD reports `x-amz-storage-class` and
    /// `x-amz-restore`; listings report StorageClass. Off: s3s-fs refuses any class but
    /// STANDARD and REDUCED_REDUNDANCY (400 InvalidStorageClass).
    pub fn set_archived_storage_classes(&self, on: bool) {
        self.switches.archived_classes.store(on, Ordering::Relaxed);
    }

    /// *(faithful, with [`set_archived_storage_classes`](Self::set_archived_storage_classes))*
    /// Every `INTELLIGENT_TIERING` object sits in this archive tier: HEAD reports
    /// `x-amz-archive-status`, GET answers 403 InvalidObjectState until restored. `None`: they
    /// are in a frequent-access tier and read as usual.
    pub fn set_intelligent_tiering_archive(&self, tier: Option<ArchiveTier>) {
        let value = match tier {
            None => 0,
            Some(ArchiveTier::ArchiveAccess) => 1,
            Some(ArchiveTier::DeepArchiveAccess) => 2,
        };
        let slot = &self.switches.intelligent_tiering_archive;
        slot.store(value, Ordering::Relaxed);
    }

    /// Every bucket is in `region`: a request signed for another region answers 301 with
    /// `x-amz-bucket-region` (HeadBucket without a body, the rest with a PermanentRedirect
    /// error); HeadBucket signed for the right one reports the region too, and
    /// GetBucketLocation answers it. `None` turns it off (any region is accepted).
    pub fn set_bucket_region(&self, region: Option<&str>) {
        let on = region.is_some();
        *lock(&self.switches.bucket_region) = region.map(str::to_string);
        self.switches.set_gate_bit(gate_bit::REGION, on);
    }

    /// Each distinct session token (`x-amz-security-token`) is good for `requests` requests;
    /// after that every request carrying it answers 400 ExpiredToken. A new token value starts
    /// its own count; requests without a token are not affected. `None` turns it off and
    /// forgets the counts.
    pub fn set_token_lifetime(&self, requests: Option<u32>) {
        lock(&self.switches.token_uses).clear();
        let limit = requests.unwrap_or(0);
        let slot = &self.switches.token_lifetime_requests;
        slot.store(limit, Ordering::Relaxed);
        self.switches
            .set_gate_bit(gate_bit::TOKENS, requests.is_some());
    }

    /// The bucket's Object Ownership is BucketOwnerEnforced (ACLs disabled): a request with an
    /// `x-amz-acl` other than `bucket-owner-full-control`, or any `x-amz-grant-*` header, and
    /// every PutObjectAcl/PutBucketAcl, answers 400 AccessControlListNotSupported.
    pub fn set_acls_disabled(&self, on: bool) {
        self.switches.set_gate_bit(gate_bit::ACLS_DISABLED, on);
    }

    /// PutObject, CopyObject and CreateMultipartUpload whose user metadata is over S3's 2 KB
    /// answer 400 MetadataTooLarge (see module `gate::metadata_limit` for how S3 counts).
    pub fn set_metadata_limit(&self, on: bool) {
        self.switches.set_gate_bit(gate_bit::METADATA_LIMIT, on);
    }

    /// Legacy store (Ceph RGW before 2025): aws-chunked bodies with a trailer
    /// (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER` or the signed
    /// `...-PAYLOAD-TRAILER`) answer 400 XAmzContentSHA256Mismatch.
    pub fn set_trailers_refused(&self, on: bool) {
        self.switches.set_gate_bit(gate_bit::TRAILERS_REFUSED, on);
    }

    /// *(faithful)* Legacy store that knows no CRC64NVME (Ceph RGW and MinIO before 2025):
    /// CRC64NVME checksum headers, trailers and `x-amz-checksum-algorithm` values are ignored:
    /// nothing is verified, stored or echoed for them. Other algorithms work as before.
    pub fn set_crc64nvme_unknown(&self, on: bool) {
        self.switches.crc64nvme_unknown.store(on, Ordering::Relaxed);
    }

    /// *(faithful)* Legacy store that knows no full-object multipart checksums (MinIO before
    /// 2025): CompleteMultipartUpload of an upload whose checksum type is FULL_OBJECT, or that
    /// sends `x-amz-checksum-type: FULL_OBJECT` or a CRC64NVME value, answers 400 InvalidPart.
    pub fn set_full_object_refused(&self, on: bool) {
        self.switches
            .full_object_refused
            .store(on, Ordering::Relaxed);
    }

    /// *(faithful)* A kinder store than S3 (s3s-fs itself, some MinIO and Ceph setups):
    /// CompleteMultipartUpload accepts parts under 5 MiB before the last, instead of 400
    /// EntityTooSmall. Lets a test seed a part layout S3 would never have made.
    pub fn set_small_parts_allowed(&self, on: bool) {
        self.switches
            .small_parts_allowed
            .store(on, Ordering::Relaxed);
    }

    /// *(faithful)* Listings carry every object's ETag, as S3's do (s3s-fs lists none): a
    /// client can then tell a multipart object (`...-N`) from the listing alone. Each listed
    /// object costs the server a HEAD of its own.
    pub fn set_listed_etags(&self, on: bool) {
        self.switches.listed_etags.store(on, Ordering::Relaxed);
    }

    /// All three legacy switches at once: [`set_trailers_refused`](Self::set_trailers_refused),
    /// [`set_crc64nvme_unknown`](Self::set_crc64nvme_unknown) and
    /// [`set_full_object_refused`](Self::set_full_object_refused).
    pub fn set_legacy(&self, on: bool) {
        self.set_trailers_refused(on);
        self.set_crc64nvme_unknown(on);
        self.set_full_object_refused(on);
    }

    /// Like s3rver: a body sent `aws-chunked` is stored with its chunk framing as the object's
    /// bytes (a 1,024-byte body with a CRC64NVME trailer stores 1,075 bytes), no checksum of any
    /// kind is checked, stored or echoed *(faithful)*, AbortMultipartUpload answers 405 and
    /// ListMultipartUploads 501 NotImplemented.
    pub fn set_s3rver(&self, on: bool) {
        self.switches.set_gate_bit(gate_bit::CHUNKED_STORED_RAW, on);
    }

    /// The bucket is requester-pays: every request on it without
    /// `x-amz-request-payer: requester` answers 403 AccessDenied.
    pub fn set_requester_pays(&self, on: bool) {
        self.switches.set_gate_bit(gate_bit::REQUESTER_PAYS, on);
    }

    /// Every answer waits a first-byte delay for its kind of request (GET, PUT, UploadPart,
    /// HEAD, List, Complete, Create, Other; see [`LatencyProfile`]) before its status and headers
    /// go out: after the server has read the request body and prepared the answer, so a body is
    /// still read at full speed and the delay adds to the server's own time, as S3's time to
    /// first byte does. `None` (or a profile without delays) turns it off; a new profile starts
    /// its draws afresh.
    pub fn set_latency(&self, profile: Option<LatencyProfile>) {
        let profile = profile.filter(|p| !p.is_off());
        let on = profile.is_some();
        *lock(&self.switches.latency) = profile.map(|p| Arc::new(ActiveLatency::new(p)));
        self.switches.set_gate_bit(gate_bit::LATENCY, on);
    }

    /// Each TCP connection reads (request bodies) and writes (answers) at most `rate` bytes per
    /// second, each direction on its own token bucket, as a connection to S3 carries well under
    /// a NIC's worth. Applies at once to open connections too. `None` turns it off.
    pub fn set_connection_rate(&self, rate: Option<ConnectionRate>) {
        let bytes_per_second = rate.map_or(0, ConnectionRate::get);
        let slot = &self.switches.connection_rate;
        slot.store(bytes_per_second, Ordering::Relaxed);
    }

    /// Above `limit`'s rate for a kind of request (GET, PUT, UploadPart, ...; see
    /// [`RequestLimit`]), the gate answers 503 SlowDown instead of passing the request on, as
    /// S3 does above its per-prefix request rates; the answer still waits its first-byte
    /// delay. Each limited kind has a token bucket holding a quarter second's worth. `None` (or
    /// a limit without rates) turns it off; a new limit starts with full buckets and its
    /// refusal count at 0.
    pub fn set_request_limit(&self, limit: Option<RequestLimit>) {
        let limit = limit.filter(|l| !l.is_off());
        let on = limit.is_some();
        *lock(&self.switches.request_limit) = limit.map(|l| Arc::new(ActiveLimit::new(&l)));
        self.switches.set_gate_bit(gate_bit::SLOWDOWN, on);
    }

    /// Requests answered SlowDown under the current request limit (0 without one).
    pub fn slowdowns_answered(&self) -> u64 {
        self.switches.request_limit().map_or(0, |l| l.refused())
    }

    /// [`set_latency`](Self::set_latency),
    /// [`set_connection_rate`](Self::set_connection_rate) and
    /// [`set_request_limit`](Self::set_request_limit) at once.
    pub fn set_shaping(&self, shaping: &Shaping) {
        self.set_latency(shaping.latency.clone());
        self.set_connection_rate(shaping.connection_rate);
        self.set_request_limit(shaping.request_limit.clone());
    }
}
