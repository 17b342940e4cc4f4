//! The resume journal: for each multipart upload in progress, one JSON-lines file under
//! `<data dir>/journal/<run key>/`. Line 1 is the header (source bucket/key/ETag/size, target
//! bucket/key, upload id, part size); each further line is one finished part with its
//! checksums. Files are created 0600 and hold no secrets.
//!
//! Each line is appended with a single write, so a killed process (kill -9) loses nothing it
//! had recorded; a torn last line (power loss) is ignored on read, and that part is re-sent.
//! A new run of the same copy reconciles the journal with ListParts and sends only what is
//! missing; a finished or aborted upload's file is removed.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aws::objects::FinishedPart;
use crate::error::{Error, Result};
use crate::plan::ChecksumAlgorithm;

/// What an upload is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalHeader {
    pub source_bucket: String,
    pub source_key: String,
    pub source_etag: String,
    pub size: u64,
    pub target_bucket: String,
    pub target_key: String,
    pub upload_id: String,
    pub part_size: u64,
    pub parts: u32,
}

/// One finished part, with what verification needs later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalPart {
    #[serde(flatten)]
    pub part: FinishedPart,
    /// CRC of the part in the source's checksum algorithm, when that differs from CRC64NVME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_crc: Option<u64>,
    /// Hex MD5 of the part (verify = "md5").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
}

impl JournalPart {
    /// A part as the target lists it (ListParts): no MD5 of ours; for a composite upload of a
    /// CRC, the CRC the target checked it against (the one sent in its trailer), so the
    /// source's composite can still be recomputed.
    pub(crate) fn listed(part: FinishedPart, composite: Option<ChecksumAlgorithm>) -> Self {
        use base64::Engine as _;
        let crc = composite
            .filter(|a| super::digest::crc_algorithm(*a).is_some())
            .and(part.checksum.as_deref())
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
            .map(|b| u64::from(u32::from_be_bytes(b)));
        JournalPart {
            part,
            source_crc: crc,
            md5: None,
        }
    }
}

/// A journal file read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub header: JournalHeader,
    pub parts: Vec<JournalPart>,
}

/// The journal directory of one copy (source bucket + target bucket + endpoints).
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// `run_key` names the copy: the same source and target always give the same directory.
    pub fn open(base: &Path, run_key: &str) -> Result<Self> {
        let dir = base.join("journal").join(format!("{:016x}", hash(run_key)));
        crate::fsutil::create_private_dir(&dir)?;
        Ok(Journal { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, target_key: &str) -> PathBuf {
        self.dir.join(format!("{:016x}.jsonl", hash(target_key)))
    }

    /// The entry for a target key, if a previous run left one (and it is for that key).
    pub fn load(&self, target_key: &str) -> Option<JournalEntry> {
        let text = std::fs::read_to_string(self.path(target_key)).ok()?;
        let mut lines = text.lines();
        let header: JournalHeader = serde_json::from_str(lines.next()?).ok()?;
        if header.target_key != target_key {
            return None;
        }
        // A torn last line does not parse and is skipped.
        let parts = lines.filter_map(|l| serde_json::from_str(l).ok()).collect();
        Some(JournalEntry { header, parts })
    }

    /// Start a fresh file for an upload (replacing any old one).
    pub fn start(&self, header: &JournalHeader) -> Result<()> {
        let mut line = serde_json::to_vec(header).map_err(|e| Error::internal(e.to_string()))?;
        line.push(b'\n');
        crate::fsutil::write_atomic(&self.path(&header.target_key), &line, 0o600)
    }

    /// Record a finished part (one appended line).
    pub fn record(&self, target_key: &str, part: &JournalPart) -> Result<()> {
        let path = self.path(target_key);
        let mut line = serde_json::to_vec(part).map_err(|e| Error::internal(e.to_string()))?;
        line.push(b'\n');
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.write_all(&line).map_err(|e| Error::io(&path, e))
    }

    /// Forget an upload (completed or aborted).
    pub fn remove(&self, target_key: &str) {
        let _ = std::fs::remove_file(self.path(target_key));
    }

    /// Every entry in this journal (for `uploads list` to say which are resumable).
    pub fn entries(&self) -> Vec<JournalEntry> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok())
            .filter_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?;
                let header: JournalHeader = serde_json::from_str(text.lines().next()?).ok()?;
                let parts = text
                    .lines()
                    .skip(1)
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect();
                Some(JournalEntry { header, parts })
            })
            .collect()
    }
}

/// Stable 64-bit name hash (CRC64NVME: stable across Rust versions, unlike `DefaultHasher`).
fn hash(text: &str) -> u64 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(key: &str) -> JournalHeader {
        JournalHeader {
            source_bucket: "src".into(),
            source_key: format!("in/{key}"),
            source_etag: "abc-3".into(),
            size: 30,
            target_bucket: "dst".into(),
            target_key: key.into(),
            upload_id: "upload-1".into(),
            part_size: 10,
            parts: 3,
        }
    }

    fn part(n: u32) -> JournalPart {
        JournalPart {
            part: FinishedPart {
                part: n,
                etag: format!("etag{n}"),
                crc64nvme: "AAAAAAAAAAA=".into(),
                size: 10,
                checksum: None,
            },
            source_crc: Some(7),
            md5: None,
        }
    }

    #[test]
    fn records_parts_and_survives_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), "run").unwrap();
        journal.start(&header("out/a b")).unwrap();
        journal.record("out/a b", &part(1)).unwrap();
        journal.record("out/a b", &part(2)).unwrap();
        let path = journal.path("out/a b");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"part\":3,\"et").unwrap();
        let entry = journal.load("out/a b").unwrap();
        assert_eq!(entry.header, header("out/a b"));
        assert_eq!(entry.parts, vec![part(1), part(2)]);
        assert_eq!(journal.entries().len(), 1);
        journal.remove("out/a b");
        assert!(journal.load("out/a b").is_none());
    }

    #[test]
    #[cfg(unix)]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), "run").unwrap();
        journal.start(&header("k")).unwrap();
        journal.record("k", &part(1)).unwrap();
        let mode = std::fs::metadata(journal.path("k"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(journal.dir())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }

    #[test]
    fn another_keys_file_is_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), "run").unwrap();
        journal.start(&header("k1")).unwrap();
        assert!(journal.load("k2").is_none());
    }
}
