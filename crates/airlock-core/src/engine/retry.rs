//! Retrying one request of a unit: the policy (how many retries, how long between them), why a
//! unit ended without its result ([`UnitError`]), and the [`Observer`] told about every retry,
//! SlowDown and success, and about an upload that could not be aborted.
//!
//! A run's observer turns these into the scheduler's notes and [`Event::PartRetry`] events (the
//! scheduler adapts its window to them); a step outside a run (`airlock prepare`, `finalize`)
//! has nobody listening and uses [`Unobserved`], so no channel is made just to be dropped.
//!
//! A request refused with `ExpiredToken` is tried again only when its side's keys could be
//! renewed (read again from SSM, see [`Renewals`]); otherwise it fails at once.
//!
//! May depend on `backoff` and `events` of the engine, on `crate::error` and on the credential
//! renewals of `crate::aws`; nothing else of the engine.
//!
//! [`Event::PartRetry`]: super::events::Event::PartRetry

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::backoff;
use super::events::{ForeignUpload, LeftUpload, ObjectId};
use crate::aws::{Renewal, Sides};
use crate::config::Side;
use crate::error::{Class, Error};

/// Why a unit ended without its result.
#[derive(Debug)]
pub(crate) enum UnitError {
    Cancelled,
    Failed(Error),
}

impl From<Error> for UnitError {
    fn from(e: Error) -> Self {
        UnitError::Failed(e)
    }
}

impl UnitError {
    /// The error of a step outside a run, where nothing cancels it.
    pub(crate) fn settled<T>(result: Result<T, UnitError>) -> Result<T, Error> {
        result.map_err(|e| match e {
            UnitError::Failed(e) => e,
            UnitError::Cancelled => Error::internal("a step outside a run was cancelled"),
        })
    }
}

/// An attempt that failed and is tried again after `delay`.
#[derive(Debug)]
pub(crate) struct RetryNotice<'a> {
    pub id: ObjectId,
    /// The part (1 for a single object, 0 for a request that is not a part's).
    pub part: u32,
    /// The attempt that failed (1 = the first).
    pub attempt: u32,
    pub error: &'a Error,
    pub delay: Duration,
}

/// Told what retried requests do. Every method defaults to doing nothing.
pub(crate) trait Observer: Send + Sync {
    /// A request succeeded.
    fn succeeded(&self) {}
    /// A request was answered 503 SlowDown (whether or not it is retried).
    fn slowed_down(&self) {}
    /// A request failed and is retried after `notice.delay`.
    fn retrying(&self, _notice: &RetryNotice<'_>) {}
    /// An upload the unit gave up on could not be aborted (the target refused).
    fn upload_left(&self, _id: ObjectId, _left: LeftUpload) {}
    /// An upload of the object's key that airlock did not open was found (and left alone).
    fn foreign_upload(&self, _id: ObjectId, _found: ForeignUpload) {}
}

/// The observer of a step outside a run: nobody listens.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Unobserved;

impl Observer for Unobserved {}

/// How many times a request is retried, and how long to wait before each retry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    /// Delay before retry number `attempt` (1 = the first retry) of a failure of `class`.
    pub delay: fn(u32, Class) -> Duration,
}

impl RetryPolicy {
    /// `max_retries` retries, with exponential backoff and jitter (longer after SlowDown).
    pub(crate) fn backoff(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            delay: backoff::delay,
        }
    }
}

/// Each side's renewable keys, if it has them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Renewals {
    source: Option<Renewal>,
    target: Option<Renewal>,
}

impl Renewals {
    pub(crate) fn of(sides: &Sides) -> Self {
        Renewals {
            source: sides.source.renewal.clone(),
            target: sides.target.renewal.clone(),
        }
    }

    fn side(&self, side: Side) -> Option<&Renewal> {
        match side {
            Side::Source => self.source.as_ref(),
            Side::Target => self.target.as_ref(),
        }
    }

    /// The keys in use now, per side (see [`crate::aws::credentials::Renewal`]).
    fn generations(&self) -> [Option<u64>; 2] {
        [Side::Source, Side::Target].map(|side| self.side(side).map(|r| r.generation()))
    }

    /// After `error`: whether its side's keys expired and newer ones are now in place.
    async fn renewed(&self, error: &Error, generations: [Option<u64>; 2]) -> bool {
        let Some(side) = error.s3().map(|failure| failure.side) else {
            return false;
        };
        let index = match side {
            Side::Source => 0,
            Side::Target => 1,
        };
        match (self.side(side), generations[index]) {
            (Some(renewal), Some(generation)) => renewal.renew(generation).await,
            _ => false,
        }
    }
}

/// A retry policy and the observer its attempts are reported to.
#[derive(Clone)]
pub(crate) struct Retry {
    pub policy: RetryPolicy,
    pub observer: Arc<dyn Observer>,
    /// Keys to read again when a request answers `ExpiredToken`.
    pub renewals: Renewals,
}

impl Retry {
    /// Run `op` until it succeeds, fails for good, runs out of retries, or is cancelled.
    /// `attempts` counts the attempts made; `id` and `part` name the request in reports.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        id: ObjectId,
        part: u32,
        cancel: &CancellationToken,
        attempts: &mut u32,
        mut op: F,
    ) -> Result<T, UnitError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            *attempts += 1;
            let generations = self.renewals.generations();
            let result = tokio::select! {
                r = op(attempt) => r,
                () = cancel.cancelled() => return Err(UnitError::Cancelled),
            };
            let error = match result {
                Ok(value) => {
                    self.observer.succeeded();
                    return Ok(value);
                }
                Err(e) => e,
            };
            let class = error.class();
            if class == Class::ExpiredToken {
                let renewed = tokio::select! {
                    renewed = self.renewals.renewed(&error, generations) => renewed,
                    () = cancel.cancelled() => return Err(UnitError::Cancelled),
                };
                if renewed {
                    tracing::info!(id, part, attempt, "trying again with renewed keys");
                    continue;
                }
                return Err(UnitError::Failed(error));
            }
            if class == Class::SlowDown {
                self.observer.slowed_down();
            }
            if !class.is_retryable() || attempt > self.policy.max_retries {
                return Err(UnitError::Failed(error));
            }
            let delay = (self.policy.delay)(attempt, class);
            tracing::debug!(id, part, attempt, %error, ?delay, "retrying");
            self.observer.retrying(&RetryNotice {
                id,
                part,
                attempt,
                error: &error,
                delay,
            });
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cancel.cancelled() => return Err(UnitError::Cancelled),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::config::Side;
    use crate::error::S3Failure;

    /// Collects what it is told, in order.
    #[derive(Default)]
    struct Collected(Mutex<Vec<String>>);

    impl Observer for Collected {
        fn succeeded(&self) {
            self.0.lock().unwrap().push("success".into());
        }
        fn slowed_down(&self) {
            self.0.lock().unwrap().push("slowdown".into());
        }
        fn retrying(&self, n: &RetryNotice<'_>) {
            let line = format!(
                "retry {}/{} attempt {} {:?}",
                n.id, n.part, n.attempt, n.delay
            );
            self.0.lock().unwrap().push(line);
        }
    }

    fn failure(class: Class) -> Error {
        Error::from(S3Failure {
            side: Side::Source,
            operation: "GetObject",
            bucket: "b".into(),
            key: Some("k".into()),
            status: None,
            code: None,
            message: format!("{class:?}"),
            class,
        })
    }

    fn observed(max_retries: u32) -> (Retry, Arc<Collected>) {
        let collected = Arc::new(Collected::default());
        let retry = Retry {
            policy: RetryPolicy {
                max_retries,
                delay: |attempt, _| Duration::from_millis(u64::from(attempt)),
            },
            observer: collected.clone(),
            renewals: Renewals::default(),
        };
        (retry, collected)
    }

    /// Answers each attempt with the next class of `script` (None: success).
    async fn scripted(retry: &Retry, script: &[Option<Class>]) -> (Result<u32, UnitError>, u32) {
        let mut attempts = 0;
        let result = retry
            .run(7, 3, &CancellationToken::new(), &mut attempts, |attempt| {
                let answer = script[attempt as usize - 1];
                async move {
                    match answer {
                        None => Ok(attempt),
                        Some(class) => Err(failure(class)),
                    }
                }
            })
            .await;
        (result, attempts)
    }

    #[tokio::test]
    async fn reports_each_retry_slowdown_and_the_success() {
        let (retry, seen) = observed(3);
        let script = [Some(Class::Retryable), Some(Class::SlowDown), None];
        let (result, attempts) = scripted(&retry, &script).await;
        assert_eq!(result.unwrap(), 3);
        assert_eq!(attempts, 3);
        assert_eq!(
            *seen.0.lock().unwrap(),
            [
                "retry 7/3 attempt 1 1ms",
                "slowdown",
                "retry 7/3 attempt 2 2ms",
                "success"
            ]
        );
    }

    #[tokio::test]
    async fn gives_up_after_max_retries_and_at_once_on_a_fatal_error() {
        let (retry, seen) = observed(1);
        let script = [Some(Class::SlowDown), Some(Class::SlowDown)];
        let (result, attempts) = scripted(&retry, &script).await;
        assert!(matches!(result, Err(UnitError::Failed(e)) if e.class() == Class::SlowDown));
        assert_eq!(attempts, 2);
        assert_eq!(
            *seen.0.lock().unwrap(),
            ["slowdown", "retry 7/3 attempt 1 1ms", "slowdown"]
        );

        let (retry, seen) = observed(5);
        let (result, attempts) = scripted(&retry, &[Some(Class::Fatal)]).await;
        assert!(matches!(result, Err(UnitError::Failed(e)) if e.class() == Class::Fatal));
        assert_eq!(attempts, 1);
        assert!(seen.0.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_cancelled_request_ends_without_a_report() {
        let (retry, seen) = observed(5);
        let cancel = CancellationToken::new();
        cancel.cancel();
        let mut attempts = 0;
        let result: Result<(), UnitError> = retry
            .run(0, 0, &cancel, &mut attempts, |_| std::future::pending())
            .await;
        assert!(matches!(result, Err(UnitError::Cancelled)));
        assert!(seen.0.lock().unwrap().is_empty());
    }
}
