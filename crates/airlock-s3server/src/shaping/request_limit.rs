//! [`RequestLimit`]: a request rate per request kind above which the server answers 503
//! SlowDown, as S3 does above its per-prefix rates (3,500 writes/s, 5,500 reads/s), with its
//! text form (`put=50/s,uploadpart=50/s`), and [`ActiveLimit`], the token buckets a running
//! server takes from. A bucket holds a quarter second's worth: a short burst passes, a
//! sustained rate above the limit does not.
//!
//! Depends on nothing but std; which kind a request is, is decided in `gate::latency`.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::{ParseError, RequestKind};

/// Requests per second each [`RequestKind`] may make before the server answers SlowDown; 0 is
/// no limit. The text form is comma-separated `KIND=N/s` entries (`/s` may be left out), e.g.
/// `put=50/s,uploadpart=50/s`; `all` sets every kind (later entries override it); `off` (or
/// an empty text) is no limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestLimit {
    per_second: [u32; 8],
}

impl RequestLimit {
    /// No limit for any kind.
    pub fn new() -> Self {
        Self::default()
    }

    /// This limit with `per_second` requests a second for `kind` (0: none).
    pub fn with(mut self, kind: RequestKind, per_second: u32) -> Self {
        self.per_second[kind.index()] = per_second;
        self
    }

    /// Requests a second `kind` may make (0: no limit).
    pub fn per_second(&self, kind: RequestKind) -> u32 {
        self.per_second[kind.index()]
    }

    /// Whether no kind is limited.
    pub fn is_off(&self) -> bool {
        self.per_second.iter().all(|n| *n == 0)
    }
}

impl FromStr for RequestLimit {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let wrong = |why: String| ParseError::request_limit(text, why);
        let mut limit = RequestLimit::new();
        if text.trim().eq_ignore_ascii_case("off") {
            return Ok(limit);
        }
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((name, value)) = entry.split_once('=') else {
                return Err(wrong(format!("'{entry}' is not KIND=N/s")));
            };
            let (name, value) = (name.trim(), value.trim());
            let number = value.strip_suffix("/s").unwrap_or(value).trim();
            let per_second: u32 = number
                .parse()
                .map_err(|_| wrong(format!("'{value}' is not a whole number of requests/s")))?;
            if name.eq_ignore_ascii_case("all") || name == "*" {
                limit.per_second = [per_second; 8];
            } else {
                let kind = RequestKind::parse(name)
                    .ok_or_else(|| wrong(format!("'{name}' is not a request kind")))?;
                limit = limit.with(kind, per_second);
            }
        }
        Ok(limit)
    }
}

impl fmt::Display for RequestLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = RequestKind::ALL
            .into_iter()
            .filter(|kind| self.per_second(*kind) > 0)
            .map(|kind| format!("{}={}/s", kind.name(), self.per_second(kind)))
            .collect();
        match entries.is_empty() {
            true => f.write_str("off"),
            false => f.write_str(&entries.join(",")),
        }
    }
}

/// The limit a running server applies: one token bucket per limited kind, and how many
/// requests it refused.
#[derive(Debug)]
pub(crate) struct ActiveLimit {
    buckets: [Option<Mutex<TokenBucket>>; 8],
    refused: AtomicU64,
}

impl ActiveLimit {
    pub(crate) fn new(limit: &RequestLimit) -> Self {
        let now = Instant::now();
        ActiveLimit {
            buckets: limit
                .per_second
                .map(|n| (n > 0).then(|| Mutex::new(TokenBucket::new(n, now)))),
            refused: AtomicU64::new(0),
        }
    }

    /// Whether a `kind` request arriving now is within the limit (it takes a token); a refusal
    /// is counted.
    pub(crate) fn admit(&self, kind: RequestKind) -> bool {
        let Some(bucket) = &self.buckets[kind.index()] else {
            return true;
        };
        let admitted = bucket
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(Instant::now());
        if !admitted {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        admitted
    }

    /// Requests answered SlowDown so far.
    pub(crate) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// `per_second` tokens a second, at most a quarter of a second's worth saved up.
#[derive(Debug)]
struct TokenBucket {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn new(per_second: u32, now: Instant) -> Self {
        let per_second = f64::from(per_second.max(1));
        let capacity = (per_second / 4.0).max(1.0);
        TokenBucket {
            per_second,
            capacity,
            tokens: capacity,
            refilled: now,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn text_form_round_trips_and_bad_texts_say_what_to_write() {
        let limit: RequestLimit = "put=50/s, uploadpart=80".parse().unwrap();
        assert_eq!(limit.per_second(RequestKind::Put), 50);
        assert_eq!(limit.per_second(RequestKind::UploadPart), 80);
        assert_eq!(limit.per_second(RequestKind::Get), 0);
        assert_eq!(limit.to_string(), "put=50/s,uploadpart=80/s");
        let all: RequestLimit = "all=10/s,get=0".parse().unwrap();
        assert_eq!(all.per_second(RequestKind::Head), 10);
        assert_eq!(all.per_second(RequestKind::Get), 0);
        assert!("off".parse::<RequestLimit>().unwrap().is_off());
        let bad = "put=fast".parse::<RequestLimit>().unwrap_err().to_string();
        assert!(bad.contains("'fast' is not a whole number"), "{bad}");
        assert!(bad.contains("put=50/s"), "{bad}");
        let bad = "puts=5".parse::<RequestLimit>().unwrap_err().to_string();
        assert!(bad.contains("'puts' is not a request kind"), "{bad}");
    }

    #[test]
    fn passes_the_rate_and_refuses_above_it() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(100, t0);
        // The saved-up quarter second passes at once, then nothing until tokens refill.
        assert_eq!((0..40).filter(|_| bucket.take(t0)).count(), 25);
        // One second at 200 requests/s: about 100 pass.
        let passed = (1..=200)
            .filter(|i| bucket.take(t0 + Duration::from_millis(5 * i)))
            .count();
        assert!((99..=101).contains(&passed), "{passed}");
    }

    #[test]
    fn only_limited_kinds_are_refused_and_refusals_are_counted() {
        let active = ActiveLimit::new(&RequestLimit::new().with(RequestKind::Put, 4));
        let puts = (0..10).filter(|_| active.admit(RequestKind::Put)).count();
        assert_eq!(puts, 1, "a quarter second of 4/s holds one token");
        assert!((0..100).all(|_| active.admit(RequestKind::Get)));
        assert_eq!(active.refused(), 9);
    }
}
