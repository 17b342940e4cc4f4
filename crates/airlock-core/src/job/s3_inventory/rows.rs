//! One data row of a CSV S3 Inventory -> the source object it lists, or nothing (another
//! version, a delete marker, a key outside the prefix). Keys are URL-encoded in CSV
//! inventories, form style: `%XX` is a byte of the key's UTF-8 and `+` is a space (a `+` in a
//! key is written `%2B`). Pure.

use crate::plan::ObjectInfo;

/// Where each column is in a row, from the manifest's `fileSchema`.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub key: usize,
    pub size: usize,
    pub modified: Option<usize>,
    pub etag: Option<usize>,
    pub storage_class: Option<usize>,
    /// Versioned inventories: rows of older versions say `false` here.
    pub is_latest: Option<usize>,
    pub is_delete_marker: Option<usize>,
    /// How many columns a row has.
    pub count: usize,
}

impl Columns {
    /// The columns of `schema` (`Bucket, Key, Size, ...`); `Err` says which one is missing.
    pub(crate) fn of(schema: &str) -> Result<Columns, String> {
        let names: Vec<&str> = schema.split(',').map(str::trim).collect();
        let find = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
        let need = |name: &str| {
            find(name).ok_or_else(|| {
                format!(
                    "it has no '{name}' column: add '{name}' to the inventory configuration's \
                     fields (airlock needs Key and Size; LastModifiedDate and ETag to compare)"
                )
            })
        };
        Ok(Columns {
            key: need("Key")?,
            size: need("Size")?,
            modified: find("LastModifiedDate"),
            etag: find("ETag"),
            storage_class: find("StorageClass"),
            is_latest: find("IsLatest"),
            is_delete_marker: find("IsDeleteMarker"),
            count: names.len(),
        })
    }

    /// The object a row lists when it is the latest version of a key under `prefix` and not a
    /// delete marker; `Ok(None)` otherwise. `Err` says what is wrong with the row.
    pub(crate) fn object(
        &self,
        row: &csv::StringRecord,
        prefix: &str,
    ) -> Result<Option<ObjectInfo>, String> {
        if row.len() != self.count {
            return Err(format!(
                "it has {} fields where the fileSchema names {}",
                row.len(),
                self.count
            ));
        }
        let field = |i: usize| row.get(i).unwrap_or_default();
        let flag = |i: Option<usize>| i.is_some_and(|i| field(i).eq_ignore_ascii_case("true"));
        if self
            .is_latest
            .is_some_and(|i| !field(i).eq_ignore_ascii_case("true"))
            || flag(self.is_delete_marker)
        {
            return Ok(None);
        }
        let key = decode_key(field(self.key))?;
        if !key.starts_with(prefix) {
            return Ok(None);
        }
        let size = field(self.size);
        let size = size
            .parse::<u64>()
            .map_err(|_| format!("the Size of '{key}' is '{size}', not a number of bytes"))?;
        let modified_ms = match self.modified.map(field).filter(|t| !t.is_empty()) {
            Some(text) => Some(
                humantime::parse_rfc3339_weak(text)
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_millis() as i64)
                    .ok_or_else(|| {
                        format!("the LastModifiedDate of '{key}' is '{text}', not an ISO 8601 time")
                    })?,
            ),
            None => None,
        };
        let text = |i: Option<usize>| {
            i.map(field)
                .filter(|t| !t.is_empty())
                .map(|t| t.trim_matches('"').to_string())
        };
        Ok(Some(ObjectInfo {
            key,
            size,
            modified_ms,
            etag: text(self.etag),
            etag_md5: None,
            checksum: None,
            copied_from_etag: None,
            storage_class: text(self.storage_class),
            restored: None,
            version_id: None,
        }))
    }
}

/// A key as CSV inventories write it (see the module docs) -> the key.
pub(crate) fn decode_key(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut key = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => key.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        format!("the key '{text}' has a '%' that is not followed by two hex digits")
                    })?;
                key.push(hex);
                i += 2;
            }
            b => key.push(b),
        }
        i += 1;
    }
    String::from_utf8(key).map_err(|_| format!("the key '{text}' does not decode to UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn keys_decode_form_style() {
        assert_eq!(decode_key("a/b%20c+d%2Be.txt").unwrap(), "a/b c d+e.txt");
        assert_eq!(decode_key("caf%C3%A9/%E2%9C%93").unwrap(), "café/✓");
        assert_eq!(decode_key("plain/key-1_2.x").unwrap(), "plain/key-1_2.x");
        assert!(decode_key("bad%2").unwrap_err().contains("'bad%2'"));
        assert!(decode_key("bad%zz").is_err());
        assert!(decode_key("%FF").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn a_row_becomes_the_object_it_lists() {
        let columns =
            Columns::of("Bucket, Key, Size, LastModifiedDate, ETag, StorageClass").unwrap();
        let object = columns
            .object(
                &row(&[
                    "src",
                    "in/a+b.bin",
                    "42",
                    "2026-12-04T10:11:12.000Z",
                    "0123abcd",
                    "STANDARD",
                ]),
                "in/",
            )
            .unwrap()
            .unwrap();
        assert_eq!(object.key, "in/a b.bin");
        assert_eq!(object.size, 42);
        assert_eq!(object.modified_ms, Some(1_796_379_072_000));
        assert_eq!(object.etag.as_deref(), Some("0123abcd"));
        assert_eq!(object.storage_class.as_deref(), Some("STANDARD"));
        let outside = row(&["src", "other/x", "1", "", "", ""]);
        assert!(columns.object(&outside, "in/").unwrap().is_none());
        let bad = columns
            .object(&row(&["src", "in/x", "big", "", "", ""]), "in/")
            .unwrap_err();
        assert!(bad.contains("'big'"), "{bad}");
        let short = columns.object(&row(&["src", "in/x"]), "").unwrap_err();
        assert!(short.contains("2 fields"), "{short}");
    }

    #[test]
    fn versioned_rows_keep_the_latest_version_that_is_not_a_delete_marker() {
        let columns =
            Columns::of("Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size").unwrap();
        let take = |latest: &str, marker: &str| {
            columns
                .object(&row(&["src", "k", "v1", latest, marker, "3"]), "")
                .unwrap()
                .is_some()
        };
        assert!(take("true", "false"));
        assert!(!take("false", "false"));
        assert!(!take("true", "true"));
        assert!(!take("false", "true"));
    }
}
