//! The concurrency window: additive increase, multiplicative decrease. A 503 SlowDown halves
//! the number of requests allowed in flight (at most once per cool-down, so one burst of
//! SlowDowns from many parallel requests counts once); every window's worth of successes adds
//! one back, up to the configured concurrency.

use std::time::{Duration, Instant};

/// After a decrease, further SlowDowns within this time do not decrease again.
const COOL_DOWN: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Window {
    max: usize,
    current: f64,
    last_decrease: Option<Instant>,
}

impl Window {
    pub fn new(max: usize) -> Self {
        Window {
            max: max.max(1),
            current: max.max(1) as f64,
            last_decrease: None,
        }
    }

    /// Requests allowed in flight now.
    pub fn limit(&self) -> usize {
        (self.current as usize).clamp(1, self.max)
    }

    /// A request got SlowDown. Returns the new limit when it changed.
    pub fn slow_down(&mut self, now: Instant) -> Option<usize> {
        if self
            .last_decrease
            .is_some_and(|t| now.duration_since(t) < COOL_DOWN)
        {
            return None;
        }
        let before = self.limit();
        self.current = (self.current / 2.0).max(1.0);
        self.last_decrease = Some(now);
        (self.limit() != before).then(|| self.limit())
    }

    /// A request succeeded. Returns the new limit when it changed.
    pub fn success(&mut self) -> Option<usize> {
        if self.current >= self.max as f64 {
            return None;
        }
        let before = self.limit();
        self.current = (self.current + 1.0 / self.current).min(self.max as f64);
        (self.limit() != before).then(|| self.limit())
    }

    /// The user changed the concurrency.
    pub fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
        self.current = self.max as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_slowdown_once_per_cool_down_and_recovers() {
        let t0 = Instant::now();
        let mut w = Window::new(16);
        assert_eq!(w.slow_down(t0), Some(8));
        assert_eq!(
            w.slow_down(t0 + Duration::from_millis(100)),
            None,
            "same burst"
        );
        assert_eq!(w.slow_down(t0 + Duration::from_secs(2)), Some(4));
        let mut raised = 0;
        for _ in 0..1000 {
            if w.success().is_some() {
                raised += 1;
            }
        }
        assert_eq!(w.limit(), 16);
        assert_eq!(raised, 12);
    }

    #[test]
    fn never_below_one() {
        let t0 = Instant::now();
        let mut w = Window::new(2);
        w.slow_down(t0);
        w.slow_down(t0 + Duration::from_secs(5));
        assert_eq!(w.limit(), 1);
        w.set_max(3);
        assert_eq!(w.limit(), 3);
    }
}
