//! [`ConnectionRate`]: the bytes per second one TCP connection may move in each direction, and
//! its text form (`80MB/s`, `64MiB/s`, `1.5GB/s`, `40000000`).
//!
//! Depends on nothing but std.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use super::ParseError;

/// A per-connection bandwidth cap, applied separately to what a connection reads (request
/// bodies) and writes (responses). Decimal units are powers of 1000 (`MB/s`), binary ones of
/// 1024 (`MiB/s`); a bare number is bytes per second; `/s` may be left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionRate(NonZeroU64);

const UNITS: [(&str, u64); 7] = [
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("KB", 1_000),
    ("B", 1),
];

impl ConnectionRate {
    /// `None` for 0 (no cap).
    pub fn bytes_per_second(bytes_per_second: u64) -> Option<Self> {
        NonZeroU64::new(bytes_per_second).map(ConnectionRate)
    }

    pub fn get(self) -> u64 {
        self.0.get()
    }

    /// Parse the text form; `off`, `0` and an empty text mean no cap (`None`).
    pub fn parse_optional(text: &str) -> Result<Option<Self>, ParseError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let wrong = |why: String| ParseError::rate(text, why);
        let body = trimmed.strip_suffix("/s").unwrap_or(trimmed).trim();
        let at = body
            .rfind(|c: char| c.is_ascii_digit() || c == '.')
            .map_or(0, |i| i + 1);
        let (number, unit) = (body[..at].trim(), body[at..].trim());
        let multiplier = match unit {
            "" => 1,
            _ => UNITS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(unit))
                .map(|(_, m)| *m)
                .ok_or_else(|| {
                    wrong(format!(
                        "'{unit}' is not a unit (B, KB, MB, GB, KiB, MiB, GiB)"
                    ))
                })?,
        };
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| wrong(format!("'{number}' is not a number")))?;
        let bytes = value * multiplier as f64;
        if bytes > 1e15 {
            return Err(wrong("over a petabyte per second".to_string()));
        }
        Ok(Self::bytes_per_second(bytes.round() as u64))
    }
}

impl FromStr for ConnectionRate {
    type Err = ParseError;

    /// The text form; a rate of zero is an error here (use [`ConnectionRate::parse_optional`]).
    fn from_str(text: &str) -> Result<Self, ParseError> {
        Self::parse_optional(text)?
            .ok_or_else(|| ParseError::rate(text, "a cap must be above zero".to_string()))
    }
}

impl fmt::Display for ConnectionRate {
    /// In the largest unit that divides it exactly, e.g. `80MB/s` (not `78125KiB/s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.get();
        let (name, multiplier) = UNITS
            .iter()
            .filter(|(_, m)| bytes.is_multiple_of(*m))
            .max_by_key(|(_, m)| *m)
            .copied()
            .unwrap_or(("B", 1));
        write!(f, "{}{name}/s", bytes / multiplier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_binary_units_and_round_trips() {
        let rate = |text: &str| text.parse::<ConnectionRate>().unwrap().get();
        assert_eq!(rate("80MB/s"), 80_000_000);
        assert_eq!(rate("80 mb/s"), 80_000_000);
        assert_eq!(rate("64MiB"), 64 << 20);
        assert_eq!(rate("1.5GB/s"), 1_500_000_000);
        assert_eq!(rate("40000000"), 40_000_000);
        for text in ["80MB/s", "64MiB/s", "1500MB/s", "12345B/s"] {
            assert_eq!(text.parse::<ConnectionRate>().unwrap().to_string(), text);
        }
        assert_eq!(ConnectionRate::parse_optional("off").unwrap(), None);
        assert_eq!(ConnectionRate::parse_optional(" ").unwrap(), None);
        assert_eq!(ConnectionRate::parse_optional("0MB/s").unwrap(), None);
    }

    #[test]
    fn bad_text_names_the_value_and_the_form() {
        for (text, says) in [
            ("80Mbps", "'Mbps' is not a unit"),
            ("fast", "'fast' is not a unit"),
            ("MB/s", "'' is not a number"),
            ("0", "above zero"),
        ] {
            let message = text.parse::<ConnectionRate>().unwrap_err().to_string();
            assert!(message.contains(says), "{text}: {message}");
            assert!(message.contains(&format!("'{text}'")), "{message}");
            assert!(message.contains("80MB/s"), "{message}");
        }
    }
}
