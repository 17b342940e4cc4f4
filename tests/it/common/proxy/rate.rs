//! A token bucket for [`super::Fault::SlowDownAbove`]: a store's request-rate limit, as S3
//! applies one per prefix (3,500 writes/s, 5,500 reads/s) and answers 503 SlowDown above it.

use std::time::Instant;

/// `per_second` tokens a second, at most a quarter of a second's worth saved up (a short burst
/// passes, a sustained rate above the limit does not).
#[derive(Debug)]
pub(crate) struct TokenBucket {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    pub(crate) fn new(per_second: u32) -> Self {
        let per_second = f64::from(per_second.max(1));
        let capacity = (per_second / 4.0).max(1.0);
        TokenBucket {
            per_second,
            capacity,
            tokens: capacity,
            refilled: Instant::now(),
        }
    }

    /// Whether a request arriving at `now` is within the rate (it takes a token).
    pub(crate) fn take(&mut self, now: Instant) -> bool {
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
    fn passes_the_rate_and_refuses_above_it() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(100);
        // The saved-up quarter second passes at once, then nothing until tokens refill.
        assert_eq!((0..40).filter(|_| bucket.take(t0)).count(), 25);
        // One second at 200 requests/s: about 100 pass.
        let passed = (1..=200)
            .filter(|i| bucket.take(t0 + Duration::from_millis(5 * i)))
            .count();
        assert!((99..=101).contains(&passed), "{passed}");
    }
}
