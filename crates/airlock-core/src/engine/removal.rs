//! Removing what airlock just wrote and then found wrong ([`remove_if_ours`]): when the check
//! after a PutObject or a CompleteMultipartUpload fails (the target stored other bytes, another
//! size, another checksum), the object at the target must not stay there looking like a good
//! copy (it carries our provenance metadata, so the next plan would call it `same`). If HEAD
//! shows it is the object this attempt wrote, it is deleted; the error then says what became of
//! it ([`Removal`]), for the failure event, the summary and the manifest.
//!
//! A leaf of the engine: depends on `crate::aws` and `crate::error` only.

use crate::aws::{SideClient, delete, listing};
use crate::config::Side;
use crate::error::{Error, Removal};

/// The code of every failed check of what the target holds (no HTTP status: no request
/// failed).
pub(crate) const CHECK_FAILED: &str = "ChecksumMismatch";

/// The object one attempt wrote, as the write answered.
pub(crate) struct Written<'a> {
    pub key: &'a str,
    /// The source ETag airlock records as `airlock-source-etag` on the object.
    pub source_etag: &'a str,
    /// The ETag the PutObject / CompleteMultipartUpload answered, when it did.
    pub etag: Option<&'a str>,
}

/// Whether `error` is a failed check of a written object (not a failed request).
pub(crate) fn is_failed_check(error: &Error) -> bool {
    error.s3().is_some_and(|f| {
        f.side == Side::Target && f.status.is_none() && f.code.as_deref() == Some(CHECK_FAILED)
    })
}

/// `error` is a failed check of `written`: delete the object if it is still the one this
/// attempt wrote, and mark the error with what became of it. An object that is gone, or that
/// another writer replaced, is left alone and the error returned unchanged.
pub(crate) async fn remove_if_ours(
    target: &SideClient,
    written: Written<'_>,
    error: Error,
) -> Error {
    if !is_failed_check(&error) {
        return error;
    }
    let info = match listing::head(target, written.key).await {
        Ok(Some(info)) => info,
        Ok(None) => return error,
        Err(e) => {
            return error.with_removal(Removal::Left(format!(
                "HEAD to check it was ours failed: {e}"
            )));
        }
    };
    let ours = info.copied_from_etag.as_deref() == Some(written.source_etag)
        && written
            .etag
            .is_none_or(|etag| info.etag.as_deref() == Some(etag));
    if !ours {
        tracing::warn!(key = %written.key, "the target object failed its check but another writer replaced it: left alone");
        return error;
    }
    match delete::delete_object(target, written.key).await {
        Ok(()) => {
            tracing::warn!(key = %written.key, "removed the object airlock wrote and found wrong");
            error.with_removal(Removal::Removed)
        }
        Err(e) => error.with_removal(Removal::Left(e.to_string())),
    }
}
