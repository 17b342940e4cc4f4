//! The Plan tab's settings box fields: the transfer settings it edits, how each is shown and
//! how a typed value is parsed and checked (a refusal names the value and the allowed range).

use std::ops::RangeInclusive;

use airlock_core::config::defaults::AUTO_CONCURRENCY_CEILING;
use airlock_core::config::{ByteSize, PartSize, TransferSettings, limits};

/// The editable transfer settings, in the order of the settings box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Threshold,
    PartSize,
    Concurrency,
    MemoryLimit,
}

impl Field {
    pub const ALL: [Field; 4] = [
        Field::Threshold,
        Field::PartSize,
        Field::Concurrency,
        Field::MemoryLimit,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Threshold => "multipart threshold",
            Field::PartSize => "part size",
            Field::Concurrency => "concurrency",
            Field::MemoryLimit => "memory limit",
        }
    }

    /// The value as shown (and as the editor starts).
    pub fn value(self, transfer: &TransferSettings) -> String {
        match self {
            Field::Threshold => transfer.multipart_threshold.to_string(),
            Field::PartSize => match transfer.part_size {
                PartSize::Auto => "auto".into(),
                PartSize::Fixed(size) => size.to_string(),
            },
            Field::Concurrency if transfer.adaptive_concurrency => "auto".into(),
            Field::Concurrency => transfer.concurrency.to_string(),
            Field::MemoryLimit => transfer.memory_limit.to_string(),
        }
    }

    /// Parse and check `text`; on success, write it into `transfer`.
    pub fn apply(self, text: &str, transfer: &mut TransferSettings) -> Result<(), String> {
        let label = self.label();
        let text = text.trim();
        let size = |text: &str| {
            text.parse::<ByteSize>()
                .map_err(|e| format!("{label}: {e}"))
        };
        let in_range = |value: ByteSize, range: &RangeInclusive<ByteSize>| {
            if !range.contains(&value) {
                Err(format!(
                    "{label} '{text}' is out of range: use a size from {}",
                    limits::range_text(range)
                ))
            } else {
                Ok(value)
            }
        };
        match self {
            Field::Threshold => {
                transfer.multipart_threshold = in_range(size(text)?, &limits::MULTIPART_THRESHOLD)?
            }
            Field::PartSize => {
                transfer.part_size = if text.eq_ignore_ascii_case("auto") {
                    PartSize::Auto
                } else {
                    PartSize::Fixed(in_range(size(text)?, &limits::PART_SIZE)?)
                }
            }
            Field::Concurrency if text.trim().eq_ignore_ascii_case("auto") => {
                transfer.concurrency = AUTO_CONCURRENCY_CEILING;
                transfer.adaptive_concurrency = true;
            }
            Field::Concurrency => {
                transfer.concurrency = match text.parse::<usize>() {
                    Ok(n) if limits::CONCURRENCY.contains(&n) => n,
                    _ => {
                        return Err(format!(
                            "{label} '{text}' is not a number from {}, or 'auto'",
                            limits::range_text(&limits::CONCURRENCY)
                        ));
                    }
                };
                transfer.adaptive_concurrency = false;
            }
            Field::MemoryLimit => transfer.memory_limit = in_range(size(text)?, &limits::MEMORY)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_with_units_and_refuse_out_of_range_values() {
        let mut transfer = TransferSettings::default();
        Field::Threshold.apply("64MiB", &mut transfer).unwrap();
        assert_eq!(transfer.multipart_threshold, ByteSize::mib(64));
        Field::PartSize.apply("auto", &mut transfer).unwrap();
        assert_eq!(transfer.part_size, PartSize::Auto);
        Field::PartSize.apply("8 MiB", &mut transfer).unwrap();
        assert_eq!(transfer.part_size, PartSize::Fixed(ByteSize::mib(8)));
        let before = transfer.clone();
        let err = Field::PartSize.apply("1MiB", &mut transfer).unwrap_err();
        assert!(err.contains("'1MiB' is out of range"), "{err}");
        let err = Field::Concurrency.apply("lots", &mut transfer).unwrap_err();
        assert!(err.contains("'lots'"), "{err}");
        let err = Field::MemoryLimit
            .apply("12 parsecs", &mut transfer)
            .unwrap_err();
        assert!(err.contains("'12 parsecs'"), "{err}");
        assert_eq!(transfer, before, "refused edits change nothing");
    }
}
