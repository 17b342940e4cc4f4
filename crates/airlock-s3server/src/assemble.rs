//! CompleteMultipartUpload without reading the object again.
//!
//! s3s-fs assembles an upload by reading every part file back in 64 KiB `tokio::fs` reads,
//! hashing it with MD5 a second time and writing it out again: on a 2 GiB object that took
//! 8 of the copy's 14 seconds, one core busy and the client waiting. S3 answers Complete in
//! well under a second whatever the size. We already hold what the slow path recomputes: each
//! part's MD5 is the ETag UploadPart answered (kept in our meta), so the object's ETag follows
//! from those, and the bytes are joined in the kernel (`copy_file_range`).
//!
//! The files are s3s-fs's own, in its layout (pinned by Cargo.lock): `.upload-<id>.json` holds
//! the access key that created the upload, `.upload_id-<id>.part-<n>` the parts, and the
//! object's ETag goes into `.bucket-<b64>.object-<b64>.internal.json` under `e_tag`, where
//! s3s-fs reads it for GET and HEAD. Anything we do not expect (a conditional Complete, a part
//! file whose size differs from our meta, a key that is not a plain path) declines, and the
//! caller lets s3s-fs do it the slow way.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use md5::{Digest as _, Md5};
use s3s::auth::Credentials;
use s3s::dto::CompleteMultipartUploadInput;
use s3s::{S3Result, s3_error};

use super::faithful::{Faithful, internal};
use super::file_body::object_path;
use super::fs_files::{object_sidecar, save_etag};
use super::meta::UploadMeta;

/// What Complete needs from the request, owned so the work can move to the blocking pool.
struct Job {
    root: PathBuf,
    upload_id: String,
    bucket: String,
    key: String,
    object: PathBuf,
    /// (part file, its size in our meta, its MD5 hex) in part-number order.
    parts: Vec<(PathBuf, u64, String)>,
}

impl Faithful {
    /// Assemble the upload and return the object's ETag value, or `None` to let s3s-fs do it.
    /// Call after `check_complete`: the listed parts are 1..=N and all in `upload`.
    pub(super) async fn assemble(
        &self,
        input: &CompleteMultipartUploadInput,
        credentials: Option<&Credentials>,
        upload: &UploadMeta,
    ) -> S3Result<Option<String>> {
        if input.if_match.is_some() || input.if_none_match.is_some() {
            return Ok(None);
        }
        let Some(object) = object_path(&self.root, &input.bucket, &input.key) else {
            return Ok(None);
        };
        let count = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.as_ref())
            .map_or(0, Vec::len);
        let mut parts = Vec::with_capacity(count);
        for number in 1..=count {
            let Some(part) = i32::try_from(number)
                .ok()
                .and_then(|n| upload.parts.get(&n))
            else {
                return Ok(None);
            };
            let file = self
                .root
                .join(format!(".upload_id-{}.part-{number}", upload.upload_id));
            parts.push((file, part.size_bytes, part.etag.clone()));
        }
        let job = Job {
            root: self.root.clone(),
            upload_id: upload.upload_id.clone(),
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            object,
            parts,
        };
        let access_key = credentials.map(|c| c.access_key.clone());
        let done = tokio::task::spawn_blocking(move || job.run(access_key.as_deref()))
            .await
            .map_err(|e| internal(io::Error::other(e)))?;
        match done {
            Ok(outcome) => outcome,
            Err(e) => Err(internal(e)),
        }
    }
}

impl Job {
    fn run(self, access_key: Option<&str>) -> io::Result<S3Result<Option<String>>> {
        let marker = self.root.join(format!(".upload-{}.json", self.upload_id));
        let owner: Option<String> = match fs::read(&marker) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ok(None)),
            Err(e) => return Err(e),
        };
        if owner.as_deref() != access_key {
            return Ok(Err(s3_error!(AccessDenied)));
        }
        for (file, size, etag) in &self.parts {
            let on_disk = fs::metadata(file).map(|m| m.len()).ok();
            if on_disk != Some(*size) || decode_hex(etag).is_none() {
                return Ok(Ok(None));
            }
        }
        let tmp = self
            .root
            .join(format!(".tmp.faithful-{}.internal.part", self.upload_id));
        // The upload is consumed from here on (the join frees the parts as it goes).
        join_parts(&self.parts, &tmp)?;
        fs::remove_file(&marker)?;
        let upload_attrs = self.sidecar(&format!(".upload-{}.metadata.json", self.upload_id));
        if upload_attrs.is_file() {
            fs::rename(&upload_attrs, self.sidecar(".metadata.json"))?;
        }
        if let Some(parent) = self.object.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&tmp, &self.object)?;
        let etag = multipart_etag(self.parts.iter().map(|(_, _, etag)| etag.as_str()));
        save_etag(&self.root, &self.bucket, &self.key, &etag)?;
        Ok(Ok(Some(etag)))
    }

    /// s3s-fs's per-object file `.bucket-<b64>.object-<b64><suffix>` in the root.
    fn sidecar(&self, suffix: &str) -> PathBuf {
        object_sidecar(&self.root, &self.bucket, &self.key, suffix)
    }
}

/// Join the part files into `out`: the first part file becomes it, and each later part is
/// appended (`io::copy` between files is `copy_file_range` on Linux, so the bytes never pass
/// through this process) and then removed. Like s3s-fs, which also frees each part once copied,
/// the join never needs more free space than one part: an 8 GiB object on a nearly full disk
/// still completes. A failure part-way leaves the upload unusable, as it does in s3s-fs.
fn join_parts(parts: &[(PathBuf, u64, String)], out: &Path) -> io::Result<()> {
    let Some(((first, _, _), rest)) = parts.split_first() else {
        return Err(io::Error::other("an upload without parts"));
    };
    fs::rename(first, out)?;
    let mut joined = fs::OpenOptions::new().append(true).open(out)?;
    for (file, size, _) in rest {
        let copied = io::copy(&mut File::open(file)?, &mut joined)?;
        if copied != *size {
            return Err(io::Error::other(format!(
                "{} changed while it was joined",
                file.display()
            )));
        }
        fs::remove_file(file)?;
    }
    Ok(())
}

/// S3's multipart ETag: MD5 of the parts' binary MD5s, then `-` and the part count.
fn multipart_etag<'a>(part_md5s: impl Iterator<Item = &'a str>) -> String {
    let mut hash = Md5::new();
    let mut count = 0;
    for hex in part_md5s {
        hash.update(decode_hex(hex).unwrap_or_default());
        count += 1;
    }
    let digest: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{digest}-{count}")
}

fn decode_hex(hex: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if hex.len() != 32 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_is_the_md5_of_the_part_md5s() {
        // Two parts: "a" x 5 MiB and "b"; computed the way S3 documents it.
        let first = Md5::digest(vec![b'a'; 5 * 1024 * 1024]);
        let second = Md5::digest(b"b");
        let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let mut both = first.to_vec();
        both.extend_from_slice(&second);
        let expected = format!("{}-2", hex(&Md5::digest(&both)));
        let parts = [hex(&first), hex(&second)];
        assert_eq!(multipart_etag(parts.iter().map(String::as_str)), expected);
    }

    #[test]
    fn hex_decoding_takes_only_md5_shaped_values() {
        assert_eq!(
            decode_hex("000102030405060708090a0b0c0d0e0f").unwrap()[15],
            15
        );
        for bad in [
            "",
            "00",
            "zz0102030405060708090a0b0c0d0e0f",
            "000102030405060708090a0b0c0d0e0f00",
        ] {
            assert!(decode_hex(bad).is_none(), "{bad}");
        }
    }
}
