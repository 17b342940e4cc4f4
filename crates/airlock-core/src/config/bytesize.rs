//! `ByteSize`: a byte count that parses `1.5GiB`, `64MiB`, `5MB`, `5000000` and prints in
//! binary units. Used for every size in the config, plan and engine so no bare `u64` can be
//! mistaken for MiB. Depends on nothing.

use std::fmt;
use std::str::FromStr;

/// A number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

pub(crate) const KIB: u64 = 1024;
pub(crate) const MIB: u64 = 1024 * KIB;
pub(crate) const GIB: u64 = 1024 * MIB;
pub(crate) const TIB: u64 = 1024 * GIB;

impl ByteSize {
    pub const fn bytes(n: u64) -> Self {
        ByteSize(n)
    }
    pub const fn mib(n: u64) -> Self {
        ByteSize(n * MIB)
    }
    pub const fn gib(n: u64) -> Self {
        ByteSize(n * GIB)
    }
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

/// Why a size string was refused; the caller adds which key it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseByteSizeError(pub String);

impl fmt::Display for ParseByteSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseByteSizeError {}

impl FromStr for ByteSize {
    type Err = ParseByteSizeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        let unit = unit.trim();
        let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1000,
            "m" | "mb" => 1000 * 1000,
            "g" | "gb" => 1000 * 1000 * 1000,
            "t" | "tb" => 1000u64.pow(4),
            "ki" | "kib" => KIB,
            "mi" | "mib" => MIB,
            "gi" | "gib" => GIB,
            "ti" | "tib" => TIB,
            _ => {
                return Err(ParseByteSizeError(format!(
                    "'{input}' has an unknown unit '{unit}': use B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB)"
                )));
            }
        };
        if number.is_empty() {
            return Err(ParseByteSizeError(format!(
                "'{input}' is not a size: write a number with an optional unit, like '64MiB' or '5000000'"
            )));
        }
        let bytes = if number.contains('.') {
            let value: f64 = number.parse().map_err(|_| {
                ParseByteSizeError(format!(
                    "'{input}' is not a size: '{number}' is not a number"
                ))
            })?;
            let bytes = value * multiplier as f64;
            if !bytes.is_finite() || bytes > u64::MAX as f64 {
                return Err(ParseByteSizeError(format!(
                    "'{input}' is too large: write a realistic size such as '64MiB'"
                )));
            }
            bytes.round() as u64
        } else {
            let value: u64 = number.parse().map_err(|_| {
                // Only digits here: the number is too long for 64 bits.
                ParseByteSizeError(format!(
                    "'{input}' is too large: write a realistic size such as '64MiB'"
                ))
            })?;
            value.checked_mul(multiplier).ok_or_else(|| {
                ParseByteSizeError(format!(
                    "'{input}' is too large: write a realistic size such as '64MiB'"
                ))
            })?
        };
        Ok(ByteSize(bytes))
    }
}

impl fmt::Display for ByteSize {
    /// Binary units with up to one decimal: `0 B`, `512 B`, `1.5 KiB`, `64 MiB`, `1.5 GiB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n < KIB {
            return write!(f, "{n} B");
        }
        let (unit, div) = if n >= TIB {
            ("TiB", TIB)
        } else if n >= GIB {
            ("GiB", GIB)
        } else if n >= MIB {
            ("MiB", MIB)
        } else {
            ("KiB", KIB)
        };
        let value = n as f64 / div as f64;
        if n.is_multiple_of(div) {
            write!(f, "{} {unit}", n / div)
        } else if value >= 100.0 {
            write!(f, "{value:.0} {unit}")
        } else {
            write!(f, "{value:.1} {unit}")
        }
    }
}

impl serde::Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    /// Accepts an integer number of bytes or a string with a unit.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"64MiB\", \"1.5GiB\" or a number of bytes")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v).map(ByteSize).map_err(|_| {
                    E::custom(format!(
                        "'{v}' is negative: a size must be zero or more bytes"
                    ))
                })
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ByteSize, E> {
                Err(E::custom(format!(
                    "'{v}' is not a size: write whole bytes or a quoted size like \"1.5GiB\""
                )))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_and_plain_sizes() {
        assert_eq!("1.5GiB".parse::<ByteSize>().unwrap().0, 3 * GIB / 2);
        assert_eq!("64MiB".parse::<ByteSize>().unwrap().0, 64 * MIB);
        assert_eq!("5000000".parse::<ByteSize>().unwrap().0, 5_000_000);
        assert_eq!("5MB".parse::<ByteSize>().unwrap().0, 5_000_000);
        assert_eq!("8 KiB".parse::<ByteSize>().unwrap().0, 8 * KIB);
        assert_eq!("0".parse::<ByteSize>().unwrap().0, 0);
    }

    #[test]
    fn refuses_garbage_with_the_value_in_the_message() {
        let err = "12 parsecs".parse::<ByteSize>().unwrap_err();
        assert!(err.0.contains("'12 parsecs'"), "{err}");
        assert!(err.0.contains("unknown unit 'parsecs'"), "{err}");
        assert!("MiB".parse::<ByteSize>().is_err());
        assert!("1.2.3MiB".parse::<ByteSize>().is_err());
        assert!("99999999999TiB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn displays_human_units() {
        assert_eq!(ByteSize(0).to_string(), "0 B");
        assert_eq!(ByteSize(1023).to_string(), "1023 B");
        assert_eq!(ByteSize(64 * MIB).to_string(), "64 MiB");
        assert_eq!(ByteSize(3 * GIB / 2).to_string(), "1.5 GiB");
        assert_eq!(ByteSize(5 * TIB).to_string(), "5 TiB");
    }
}
