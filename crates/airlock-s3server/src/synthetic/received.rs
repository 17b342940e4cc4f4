//! The sink's memory of the objects it received last: size, ETag, full-object checksums, user
//! metadata and time of the last [`REMEMBERED_OBJECTS`] PutObject or CompleteMultipartUpload,
//! so that a HEAD right after an upload finds the object, as a client's check after Complete
//! (airlock's: size, `x-amz-meta-airlock-source-etag`, CRC64NVME) needs. Bounded, whatever the
//! number of objects a run writes; older ones are forgotten. Never listed, never read back:
//! no bytes are kept.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use s3s::dto::*;

use crate::behaviours::lock;
use crate::checksum::{Sums, dto_sums};
use crate::conditions::{Conditions, Verdict, not_modified, precondition_failed};

/// How many received objects a sink answers HEAD for.
pub(crate) const REMEMBERED_OBJECTS: usize = 4096;

/// What HEAD answers for a received object.
#[derive(Clone, Debug)]
pub(crate) struct ReceivedObject {
    pub size_bytes: u64,
    pub etag: String,
    /// Full-object checksums (reported with checksum mode).
    pub sums: Sums,
    pub metadata: Option<Metadata>,
    pub last_modified: Timestamp,
}

impl ReceivedObject {
    pub(crate) fn new(
        size_bytes: u64,
        etag: String,
        sums: Sums,
        metadata: Option<Metadata>,
    ) -> Self {
        ReceivedObject {
            size_bytes,
            etag,
            sums,
            metadata,
            last_modified: Timestamp::from(SystemTime::now()),
        }
    }

    pub(crate) fn head(&self, input: &HeadObjectInput) -> s3s::S3Result<HeadObjectOutput> {
        let etag = ETag::Strong(self.etag.clone());
        let modified = &self.last_modified;
        match Conditions::of_head(input).evaluate(Some(&etag), Some(modified)) {
            Verdict::Failed => return Err(precondition_failed()),
            Verdict::NotModified => return Err(not_modified(Some(&etag), Some(modified))),
            Verdict::Proceed => {}
        }
        let enabled = input
            .checksum_mode
            .as_ref()
            .is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED));
        let sums = match enabled {
            true => self.sums.clone(),
            false => Sums::default(),
        };
        let mut output = HeadObjectOutput {
            content_length: Some(i64::try_from(self.size_bytes).unwrap_or(i64::MAX)),
            e_tag: Some(etag),
            last_modified: Some(modified.clone()),
            metadata: self.metadata.clone(),
            checksum_type: sums
                .present()
                .next()
                .map(|_| ChecksumType::from_static(ChecksumType::FULL_OBJECT)),
            ..Default::default()
        };
        dto_sums!(write sums => output);
        Ok(output)
    }
}

/// The last [`REMEMBERED_OBJECTS`] received objects, by key.
#[derive(Debug, Default)]
pub(crate) struct Received {
    inner: Mutex<Remembered>,
}

#[derive(Debug, Default)]
struct Remembered {
    objects: HashMap<String, ReceivedObject>,
    /// Keys in the order they were first received, oldest first.
    order: VecDeque<String>,
}

impl Received {
    pub(crate) fn remember(&self, key: &str, object: ReceivedObject) {
        let mut inner = lock(&self.inner);
        if inner.objects.insert(key.to_string(), object).is_none() {
            inner.order.push_back(key.to_string());
        }
        while inner.order.len() > REMEMBERED_OBJECTS {
            if let Some(oldest) = inner.order.pop_front() {
                inner.objects.remove(&oldest);
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<ReceivedObject> {
        lock(&self.inner).objects.get(key).cloned()
    }

    pub(crate) fn forget(&self, key: &str) {
        let mut inner = lock(&self.inner);
        if inner.objects.remove(key).is_some() {
            inner.order.retain(|k| k != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(size_bytes: u64) -> ReceivedObject {
        ReceivedObject::new(size_bytes, "e".into(), Sums::default(), None)
    }

    #[test]
    fn the_oldest_are_forgotten_past_the_bound() {
        let received = Received::default();
        for n in 0..REMEMBERED_OBJECTS + 10 {
            received.remember(&format!("k{n}"), object(n as u64));
        }
        assert!(received.get("k9").is_none());
        assert_eq!(received.get("k10").unwrap().size_bytes, 10);
        received.remember("k10", object(7));
        assert_eq!(received.get("k10").unwrap().size_bytes, 7);
        received.forget("k10");
        assert!(received.get("k10").is_none());
        let inner = lock(&received.inner);
        assert_eq!(inner.objects.len(), REMEMBERED_OBJECTS - 1);
        assert_eq!(inner.order.len(), REMEMBERED_OBJECTS - 1);
    }
}
