//! Retry delays: exponential backoff with full jitter, longer when the server asked us to slow
//! down.

use std::time::Duration;

use rand::Rng;

use crate::error::Class;

const BASE: Duration = Duration::from_millis(100);
const SLOWDOWN_BASE: Duration = Duration::from_millis(500);
const CAP: Duration = Duration::from_secs(20);

/// Delay before retry number `attempt` (1 = first retry).
pub(super) fn delay(attempt: u32, class: Class) -> Duration {
    let base = if class == Class::SlowDown {
        SLOWDOWN_BASE
    } else {
        BASE
    };
    let ceiling = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(CAP);
    // Full jitter between half and all of the ceiling: spreads retries, never zero.
    let factor = rand::rng().random_range(0.5..=1.0);
    ceiling.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        for attempt in 1..30 {
            let d = delay(attempt, Class::Retryable);
            let ceiling = BASE.saturating_mul(1 << (attempt - 1).min(16)).min(CAP);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
        }
        assert!(delay(1, Class::SlowDown) >= Duration::from_millis(250));
        assert!(delay(40, Class::SlowDown) <= CAP);
    }
}
