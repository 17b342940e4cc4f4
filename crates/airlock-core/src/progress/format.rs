//! Human formatting of bytes, durations and times, the one place both UIs take it from.

use std::time::Duration;

use crate::config::ByteSize;

/// `1.5 GiB`, `64 MiB`, `0 B`.
pub fn human_bytes(bytes: u64) -> String {
    ByteSize(bytes).to_string()
}

/// `45s`, `3m 20s`, `2h 05m`.
pub fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// `2026-11-20 13:00:01` (UTC) from milliseconds since the epoch.
pub fn human_time(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "-".repeat(19) };
    let t = aws_smithy_types::DateTime::from_millis(ms);
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .map(|s| {
            s.replace('T', " ")
                .trim_end_matches('Z')
                .chars()
                .take(19)
                .collect()
        })
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(human_duration(Duration::from_secs(7500)), "2h 05m");
        assert_eq!(human_time(Some(1_763_643_601_000)), "2025-11-20 13:00:01");
        assert_eq!(human_time(None), "-------------------");
    }
}
