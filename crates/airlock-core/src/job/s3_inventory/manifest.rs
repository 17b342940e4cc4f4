//! An S3 Inventory's `manifest.json`: parsed, and checked before any data file is read (the
//! format is CSV, the inventory is of the configured source bucket, the columns airlock needs
//! are there). Pure: text in, [`Manifest`] or an error naming the value out.

use serde::Deserialize;

use super::rows::Columns;
use crate::error::{Error, Result};

/// What airlock needs of a manifest.
#[derive(Debug)]
pub(crate) struct Manifest {
    /// When AWS made the inventory, in milliseconds since the epoch.
    pub created_ms: i64,
    /// Where each column is in a data file's rows.
    pub columns: Columns,
    /// The data files, in the manifest's order.
    pub files: Vec<DataFile>,
}

/// One gzip CSV data file of the inventory.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DataFile {
    pub key: String,
    /// Its size in bytes (of the gzip file).
    pub size: u64,
    /// The hex MD5 of the gzip file's bytes.
    #[serde(rename = "MD5checksum")]
    pub md5_hex: String,
}

/// The manifest as AWS writes it (fields airlock does not use are ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    source_bucket: String,
    creation_timestamp: String,
    file_format: String,
    #[serde(default)]
    file_schema: Option<String>,
    files: Vec<DataFile>,
}

/// Parse and check the manifest at `location` (for messages) against `source_bucket`.
pub(crate) fn parse(text: &[u8], location: &str, source_bucket: &str) -> Result<Manifest> {
    let raw: RawManifest = serde_json::from_slice(text).map_err(|e| {
        Error::config(format!(
            "the inventory manifest '{location}' is not an S3 Inventory manifest.json ({e}): \
             point source.inventory at the manifest.json of an inventory report"
        ))
    })?;
    if !raw.file_format.eq_ignore_ascii_case("csv") {
        return Err(Error::config(format!(
            "the inventory '{location}' is in '{}' format: airlock reads CSV inventories only; \
             set the inventory configuration's output format to CSV and use the next report",
            raw.file_format
        )));
    }
    if raw.source_bucket != source_bucket {
        return Err(Error::config(format!(
            "the inventory '{location}' lists bucket '{}', not the source bucket '{source_bucket}': \
             point source.inventory at an inventory of '{source_bucket}'",
            raw.source_bucket
        )));
    }
    let created_ms = raw.creation_timestamp.trim().parse::<i64>().map_err(|_| {
        Error::config(format!(
            "the inventory manifest '{location}' has creationTimestamp '{}', not milliseconds \
             since the epoch: is it an S3 Inventory manifest.json?",
            raw.creation_timestamp
        ))
    })?;
    let schema = raw.file_schema.unwrap_or_default();
    let columns = Columns::of(&schema).map_err(|why| {
        Error::config(format!(
            "the inventory '{location}' has fileSchema '{schema}': {why}"
        ))
    })?;
    Ok(Manifest {
        created_ms,
        columns,
        files: raw.files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(format: &str, bucket: &str, schema: &str) -> String {
        format!(
            r#"{{"sourceBucket":"{bucket}","destinationBucket":"arn:aws:s3:::inv",
            "version":"2016-11-30","creationTimestamp":"1796428800000","fileFormat":"{format}",
            "fileSchema":"{schema}","files":[{{"key":"inv/data/a.csv.gz","size":12,
            "MD5checksum":"0123456789abcdef0123456789abcdef"}}]}}"#
        )
    }

    const SCHEMA: &str = "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass";

    #[test]
    fn a_csv_manifest_of_the_source_bucket_parses() {
        let m = parse(
            manifest("CSV", "src", SCHEMA).as_bytes(),
            "s3://inv/m.json",
            "src",
        )
        .unwrap();
        assert_eq!(m.created_ms, 1_796_428_800_000);
        assert_eq!(
            crate::config::filter::format_rfc3339(m.created_ms),
            "2026-12-05T00:00:00Z"
        );
        assert_eq!(m.files.len(), 1);
        assert_eq!(m.files[0].md5_hex, "0123456789abcdef0123456789abcdef");
        assert_eq!((m.columns.key, m.columns.size), (1, 2));
    }

    #[test]
    fn other_formats_buckets_and_schemas_are_named() {
        let err = |text: String| {
            parse(text.as_bytes(), "s3://inv/m.json", "src")
                .unwrap_err()
                .to_string()
        };
        let e = err(manifest("Parquet", "src", SCHEMA));
        assert!(e.contains("'Parquet' format") && e.contains("CSV"), "{e}");
        let e = err(manifest("ORC", "src", SCHEMA));
        assert!(e.contains("'ORC' format"), "{e}");
        let e = err(manifest("CSV", "other", SCHEMA));
        assert!(e.contains("'other'") && e.contains("'src'"), "{e}");
        let e = err(manifest("CSV", "src", "Bucket, Key"));
        assert!(e.contains("'Size'"), "{e}");
        let e = err("{\"files\": 3}".to_string());
        assert!(e.contains("not an S3 Inventory manifest.json"), "{e}");
    }
}
