//! Archived storage classes (behaviours `set_archived_storage_classes`,
//! `set_intelligent_tiering_archive`).
//!
//! AWS: an object in `GLACIER` (Flexible Retrieval) or `DEEP_ARCHIVE`, or an
//! `INTELLIGENT_TIERING` object that has moved to an archive tier, cannot be read: GetObject
//! answers 403 `InvalidObjectState` ("The operation is not valid for the object's storage
//! class") until a RestoreObject makes a temporary copy readable. HEAD works and reports
//! `x-amz-storage-class` (omitted for STANDARD), `x-amz-archive-status` for an
//! Intelligent-Tiering archive tier, and after a restore request `x-amz-restore:
//! ongoing-request="false", expiry-date="..."`. Listings report every object's StorageClass.
//!
//! We keep the class in our meta (s3s-fs refuses every class but STANDARD and
//! REDUCED_REDUNDANCY, so the request's class is taken off before s3s-fs sees it). RestoreObject
//! completes at once, for the days asked (default 1); it answers 200 where S3 answers 202
//! Accepted for a new restore (s3s always answers this operation 200). Copies from an archived
//! object are not refused here (S3 refuses them too until restored).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

use super::behaviours::Switches;
use super::faithful::{Faithful, internal, sub_request};
use super::meta::ObjectMeta;

/// The classes S3 accepts on a write.
const KNOWN_CLASSES: [&str; 10] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "EXPRESS_ONEZONE",
];

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn now_unix_ms() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

/// The class a write asks for, to keep in our meta (`None` for STANDARD), taking it off the
/// request; `None` and the request untouched while the behaviour is off.
pub(super) fn take_class(
    switches: &Switches,
    class: &mut Option<StorageClass>,
) -> S3Result<Option<String>> {
    if !Switches::on(&switches.archived_classes) {
        return Ok(None);
    }
    let Some(requested) = class.take() else {
        return Ok(None);
    };
    let name = requested.as_str().to_ascii_uppercase();
    if !KNOWN_CLASSES.contains(&name.as_str()) {
        return Err(s3_error!(
            InvalidStorageClass,
            "The storage class you specified is not valid"
        ));
    }
    Ok((name != "STANDARD").then_some(name))
}

impl Faithful {
    /// Whether the object cannot be read now (archived and not restored).
    fn archived(&self, meta: &ObjectMeta) -> bool {
        if !Switches::on(&self.switches.archived_classes) {
            return false;
        }
        let archive_class = match meta.storage_class.as_deref() {
            Some("GLACIER" | "DEEP_ARCHIVE") => true,
            Some("INTELLIGENT_TIERING") => self.switches.intelligent_tiering_archive().is_some(),
            _ => false,
        };
        let restored = meta
            .restored_until_unix_ms
            .is_some_and(|t| t > now_unix_ms());
        archive_class && !restored
    }

    /// GetObject's check: 403 InvalidObjectState for an archived object.
    pub(super) fn check_readable(&self, meta: Option<&ObjectMeta>) -> S3Result<()> {
        match meta.is_some_and(|m| self.archived(m)) {
            true => Err(s3_error!(
                InvalidObjectState,
                "The operation is not valid for the object's storage class"
            )),
            false => Ok(()),
        }
    }

    /// The storage class, archive status and restore state as HEAD (and GET) report them.
    pub(super) fn reported_class(&self, meta: Option<&ObjectMeta>) -> ReportedClass {
        let mut reported = ReportedClass::default();
        let Some(meta) = meta.filter(|_| Switches::on(&self.switches.archived_classes)) else {
            return reported;
        };
        reported.storage_class = meta.storage_class.clone().map(StorageClass::from);
        if meta.storage_class.as_deref() == Some("INTELLIGENT_TIERING") {
            let tier = self.switches.intelligent_tiering_archive();
            reported.archive_status =
                tier.map(|t| ArchiveStatus::from(t.header_value().to_string()));
        }
        reported.restore = meta.restored_until_unix_ms.map(|until| {
            let expiry = Timestamp::from(UNIX_EPOCH + Duration::from_millis(until));
            let mut date = Vec::new();
            let _ = expiry.format(TimestampFormat::HttpDate, &mut date);
            let date = String::from_utf8_lossy(&date);
            format!("ongoing-request=\"false\", expiry-date=\"{date}\"")
        });
        reported
    }

    pub(super) async fn restore(
        &self,
        req: S3Request<RestoreObjectInput>,
    ) -> S3Result<S3Response<RestoreObjectOutput>> {
        if !Switches::on(&self.switches.archived_classes) {
            return self.fs.restore_object(req).await;
        }
        let input = &req.input;
        let head = HeadObjectInput {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            ..Default::default()
        };
        let current = self.fs.head_object(sub_request(&req, head)).await?;
        let etag = current.output.e_tag.as_ref();
        let meta = self.current_meta(&input.bucket, &input.key, etag).await;
        let archive_class = meta.as_ref().is_some_and(|m| {
            let restored = ObjectMeta {
                restored_until_unix_ms: None,
                ..m.clone()
            };
            self.archived(&restored)
        });
        let Some(meta) = meta.filter(|_| archive_class) else {
            return Err(s3_error!(
                InvalidObjectState,
                "Restore is not allowed for the object's current storage class"
            ));
        };
        let days = input.restore_request.as_ref().and_then(|r| r.days);
        let days = u32::try_from(days.unwrap_or(1)).unwrap_or(1).max(1);
        let until = SystemTime::now() + DAY * days;
        let until = until.duration_since(UNIX_EPOCH).unwrap_or_default();
        let restored = ObjectMeta {
            restored_until_unix_ms: Some(u64::try_from(until.as_millis()).unwrap_or(u64::MAX)),
            ..meta
        };
        self.meta.set_object(restored).await.map_err(internal)?;
        Ok(S3Response::new(RestoreObjectOutput::default()))
    }
}

/// What HEAD and GET add for the class behaviours.
#[derive(Default)]
pub(super) struct ReportedClass {
    pub storage_class: Option<StorageClass>,
    pub archive_status: Option<ArchiveStatus>,
    pub restore: Option<String>,
}
