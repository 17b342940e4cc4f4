//! Expiring session tokens. AWS: temporary credentials (STS AssumeRole, SSO, an instance or
//! task role, a token read from SSM) carry a session token and stop working when they expire;
//! from then on every request signed with them answers 400 `ExpiredToken` ("The provided token
//! has expired."), however often it is retried, until the client fetches new credentials.
//!
//! We emulate the expiry by count instead of by clock, so a test can place it exactly: each
//! distinct `x-amz-security-token` value (header, or `X-Amz-Security-Token` in a presigned
//! query) is good for N requests, then expired for good. A new value starts its own count, as
//! fresh credentials do. Requests without a token (long-term keys) never expire.

use hyper::http::StatusCode;

use super::RequestView;
use super::answer::Refusal;
use crate::behaviours::{Switches, lock};
use std::sync::atomic::Ordering;

pub(super) fn check(view: &RequestView<'_>, switches: &Switches) -> Option<Refusal> {
    let token = view
        .header("x-amz-security-token")
        .or_else(|| view.query("X-Amz-Security-Token"))?;
    let lifetime = switches.token_lifetime_requests.load(Ordering::Relaxed);
    let mut uses = lock(&switches.token_uses);
    let used = uses.entry(token.to_string()).or_insert(0);
    *used = used.saturating_add(1);
    (*used > lifetime).then(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "ExpiredToken",
            "The provided token has expired.",
        )
    })
}
