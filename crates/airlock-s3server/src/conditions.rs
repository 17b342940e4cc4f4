//! Conditional GET and HEAD, as S3 evaluates them: `If-Match` and `If-Unmodified-Since` fail
//! with 412 Precondition Failed, `If-None-Match` and `If-Modified-Since` answer 304 Not Modified,
//! in RFC 9110's order. s3s-fs ignores them on GET and HEAD. Used for objects s3s-fs holds and
//! for folder markers, which only our meta holds.

use s3s::dto::*;
use s3s::s3_error;

/// The conditional headers of a GET or HEAD.
pub(super) struct Conditions {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
}

pub(super) enum Verdict {
    Proceed,
    /// 304: `If-None-Match` matched, or not modified since `If-Modified-Since`.
    NotModified,
    /// 412: `If-Match` did not match, or modified since `If-Unmodified-Since`.
    Failed,
}

impl Conditions {
    pub(super) fn of_get(input: &GetObjectInput) -> Self {
        Conditions {
            if_match: input.if_match.clone(),
            if_none_match: input.if_none_match.clone(),
            if_modified_since: input.if_modified_since.clone(),
            if_unmodified_since: input.if_unmodified_since.clone(),
        }
    }

    pub(super) fn of_head(input: &HeadObjectInput) -> Self {
        Conditions {
            if_match: input.if_match.clone(),
            if_none_match: input.if_none_match.clone(),
            if_modified_since: input.if_modified_since.clone(),
            if_unmodified_since: input.if_unmodified_since.clone(),
        }
    }

    /// RFC 9110 §13.2.2 order, which S3 follows: `If-Match` overrides `If-Unmodified-Since`,
    /// `If-None-Match` overrides `If-Modified-Since`.
    pub(super) fn evaluate(
        &self,
        etag: Option<&ETag>,
        last_modified: Option<&Timestamp>,
    ) -> Verdict {
        let modified = last_modified.and_then(whole_seconds);
        let after = |since: &Option<Timestamp>| match (&modified, since.as_ref()) {
            (Some(modified), Some(since)) => whole_seconds(since).map(|s| *modified > s),
            _ => None,
        };
        if let Some(condition) = &self.if_match {
            let matches = match condition {
                ETagCondition::Any => true,
                ETagCondition::ETag(want) => etag.is_some_and(|e| e.strong_cmp(want)),
            };
            if !matches {
                return Verdict::Failed;
            }
        } else if after(&self.if_unmodified_since) == Some(true) {
            return Verdict::Failed;
        }
        if let Some(condition) = &self.if_none_match {
            let matches = match condition {
                ETagCondition::Any => true,
                ETagCondition::ETag(want) => etag.is_some_and(|e| e.weak_cmp(want)),
            };
            if matches {
                return Verdict::NotModified;
            }
        } else if after(&self.if_modified_since) == Some(false) {
            return Verdict::NotModified;
        }
        Verdict::Proceed
    }
}

/// HTTP dates have whole seconds; file times do not. Compare at the header's precision.
fn whole_seconds(ts: &Timestamp) -> Option<Timestamp> {
    let mut text = Vec::new();
    ts.format(TimestampFormat::HttpDate, &mut text).ok()?;
    Timestamp::parse(TimestampFormat::HttpDate, std::str::from_utf8(&text).ok()?).ok()
}

pub(super) fn precondition_failed() -> s3s::S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold"
    )
}

/// 304 Not Modified with the validators S3 sends. An error, because s3s serializes a successful
/// GET/HEAD with status 200 whatever `S3Response::status` says; hyper drops the error's body.
pub(super) fn not_modified(etag: Option<&ETag>, last_modified: Option<&Timestamp>) -> s3s::S3Error {
    let mut err = s3_error!(NotModified);
    let mut headers = hyper::HeaderMap::new();
    if let Some(value) = etag.and_then(|e| e.to_http_header().ok()) {
        headers.insert(hyper::header::ETAG, value);
    }
    let mut date = Vec::new();
    if let Some(ts) = last_modified
        && ts.format(TimestampFormat::HttpDate, &mut date).is_ok()
        && let Ok(value) = hyper::header::HeaderValue::from_bytes(&date)
    {
        headers.insert(hyper::header::LAST_MODIFIED, value);
    }
    err.set_headers(headers);
    err
}
