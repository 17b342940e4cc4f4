//! `airlock run`'s stop on a signal: Ctrl-C (SIGINT) and SIGTERM stop scheduling and let
//! in-flight requests finish; a second signal, or SIGTERM's grace period running out, leaves at
//! once. Either way open multipart uploads and the journal are kept, so the next run resumes.
//! SIGTERM is what AWS Batch / ECS (Spot interruption) and Kubernetes (eviction, node drain)
//! send before SIGKILL, so its exit code, 143 (128 + 15, the shells' convention), tells a
//! scheduler's retry policy "interrupted, retry me" apart from 1 (objects failed) and 2
//! (config or usage error).

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use airlock_core::engine::{Command, CommandSender};

use crate::signals::Terminate;

/// Exit code of a run stopped by Ctrl-C.
pub(super) const EXIT_INTERRUPTED: i32 = 130;
/// Exit code of a run stopped by SIGTERM.
pub(super) const EXIT_TERMINATED: i32 = 143;
/// The longest `--grace` accepted: past this a scheduler has long since sent SIGKILL.
const MAX_GRACE: Duration = Duration::from_secs(3600);

/// Parse `--grace`: whole seconds with an optional unit, `25s`, `2m`, `0` (leave at once).
pub(super) fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.strip_suffix('s') {
        Some(d) => (d, 1),
        None => match trimmed.strip_suffix('m') {
            Some(d) => (d, 60),
            None => (trimmed, 1),
        },
    };
    let bad = || format!("'{text}' is not a duration: use seconds or minutes, e.g. 25s or 2m");
    let n: u64 = digits.trim().parse().map_err(|_| bad())?;
    let grace = n
        .checked_mul(unit)
        .map(Duration::from_secs)
        .ok_or_else(bad)?;
    if grace > MAX_GRACE {
        return Err(format!(
            "'{text}' is longer than the largest grace period, {}s: use a shorter one",
            MAX_GRACE.as_secs()
        ));
    }
    Ok(grace)
}

/// Which signal stopped the run (0 while none has), shared with the code that picks the exit
/// code once the run has ended.
#[derive(Debug, Clone, Default)]
pub(super) struct StopCause(Arc<AtomicI32>);

impl StopCause {
    /// The exit code for a run the engine reports as interrupted: 143 after SIGTERM, else 130.
    pub(super) fn exit_code(&self) -> i32 {
        match self.0.load(Ordering::SeqCst) {
            EXIT_TERMINATED => EXIT_TERMINATED,
            _ => EXIT_INTERRUPTED,
        }
    }

    fn set(&self, code: i32) {
        self.0.store(code, Ordering::SeqCst);
    }
}

/// Wait for Ctrl-C or SIGTERM, then ask the engine to stop; after that, leave the process on a
/// second signal or when SIGTERM's `grace` runs out. Runs until aborted.
pub(super) async fn watch(commands: CommandSender, grace: Duration, cause: StopCause) {
    let mut term = Terminate::new();
    let code = tokio::select! {
        r = tokio::signal::ctrl_c() => match r {
            Ok(()) => EXIT_INTERRUPTED,
            // No signal handler could be installed: nothing to watch.
            Err(_) => return,
        },
        () = term.recv() => EXIT_TERMINATED,
    };
    cause.set(code);
    if code == EXIT_TERMINATED {
        tracing::warn!(
            grace_s = grace.as_secs(),
            "SIGTERM: stopping after in-flight requests"
        );
        eprintln!(
            "\nSIGTERM: stopping; in-flight requests have {}s to finish (open uploads are kept: run again to resume)",
            grace.as_secs()
        );
    } else {
        tracing::warn!("Ctrl-C: stopping after in-flight requests");
        eprintln!(
            "\nstopping: waiting for in-flight requests (Ctrl-C again to leave now; the journal keeps finished parts)"
        );
    }
    commands.send(Command::Stop);
    let grace_over = async {
        if code == EXIT_TERMINATED {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => {
            if r.is_err() {
                std::future::pending::<()>().await;
            }
            eprintln!("leaving now; run again to resume");
        }
        () = term.recv() => eprintln!("second SIGTERM: leaving now; run again to resume"),
        () = grace_over => {
            tracing::warn!("grace period over: leaving with requests in flight");
            eprintln!(
                "grace period of {}s is over: leaving now; run again to resume",
                grace.as_secs()
            );
        }
    }
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_takes_seconds_and_minutes() {
        assert_eq!(parse("25s"), Ok(Duration::from_secs(25)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse(" 10 "), Ok(Duration::from_secs(10)));
    }

    #[test]
    fn a_bad_grace_names_the_value_and_what_to_write() {
        let e = parse("5x").unwrap_err();
        assert!(e.contains("'5x'") && e.contains("25s"), "{e}");
        let e = parse("-1s").unwrap_err();
        assert!(e.contains("'-1s'"), "{e}");
        let e = parse("2h").unwrap_err();
        assert!(e.contains("'2h'"), "{e}");
        let e = parse("61m").unwrap_err();
        assert!(e.contains("longer than"), "{e}");
    }

    #[test]
    fn only_sigterm_makes_143() {
        let cause = StopCause::default();
        assert_eq!(cause.exit_code(), EXIT_INTERRUPTED);
        cause.set(EXIT_TERMINATED);
        assert_eq!(cause.exit_code(), EXIT_TERMINATED);
        cause.set(EXIT_INTERRUPTED);
        assert_eq!(cause.exit_code(), EXIT_INTERRUPTED);
    }
}
