//! ListObjectsV2 over a [`Catalog`], as S3 answers it: keys in UTF-8 binary order, `prefix`,
//! any `delimiter` (CommonPrefixes computed: each is listed once, and the page jumps past all
//! its keys by binary search), `max-keys` (at most 1,000), `start-after`, `continuation-token`
//! and `encoding-type=url`. A page costs O(page + log N) key formattings, whatever the cursor.
//!
//! The continuation token is opaque to clients: base64url of a kind byte and the key (or common
//! prefix) the last page ended with; resuming is one binary search.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN_BASE64;
use s3s::dto::*;
use s3s::{S3Result, s3_error};

use super::dataset::Catalog;
use super::objects::timestamp;
use crate::listing::url_encode;

/// S3's page size, and its maximum.
const MAX_KEYS: u64 = 1000;

/// Where a page starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cursor {
    Start,
    /// After this key (start-after, or a page that ended on an object).
    AfterKey(String),
    /// After every key under this common prefix (a page that ended on one).
    PastPrefix(String),
}

impl Cursor {
    fn token(&self) -> String {
        let (kind, text) = match self {
            Cursor::Start => (b's', ""),
            Cursor::AfterKey(key) => (b'k', key.as_str()),
            Cursor::PastPrefix(prefix) => (b'p', prefix.as_str()),
        };
        let mut raw = vec![kind];
        raw.extend_from_slice(text.as_bytes());
        TOKEN_BASE64.encode(raw)
    }

    fn from_token(token: &str) -> Option<Cursor> {
        let raw = TOKEN_BASE64.decode(token).ok()?;
        let (kind, text) = raw.split_first()?;
        let text = String::from_utf8(text.to_vec()).ok()?;
        match kind {
            b's' if text.is_empty() => Some(Cursor::Start),
            b'k' => Some(Cursor::AfterKey(text)),
            b'p' => Some(Cursor::PastPrefix(text)),
            _ => None,
        }
    }
}

/// One listed entry.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    Object(u64),
    Prefix(String),
}

/// A page of entries; `next` is where the following page starts, if one does.
#[derive(Debug)]
pub(crate) struct Page {
    pub entries: Vec<Entry>,
    pub next: Option<Cursor>,
}

impl Catalog {
    /// The first index past every key that starts with `prefix` (searching from `from`).
    fn past_prefix(&self, from: u64, prefix: &str) -> u64 {
        self.first_index(from, |key| key > prefix && !key.starts_with(prefix))
    }

    /// One page of the keys under `prefix`, from `cursor`, grouped by `delimiter`.
    pub(crate) fn page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        cursor: &Cursor,
        max_keys: u64,
    ) -> Page {
        let low = self.first_index(0, |key| key >= prefix);
        let end = self.past_prefix(low, prefix);
        let start = match cursor {
            Cursor::Start => low,
            Cursor::AfterKey(after) => self.first_index(0, |key| key > after.as_str()),
            Cursor::PastPrefix(common) => self.past_prefix(0, common),
        };
        let mut next = self.next_present(start.max(low)).filter(|i| *i < end);
        let mut entries = Vec::new();
        let mut key = String::new();
        while let Some(index) = next {
            if entries.len() as u64 >= max_keys {
                break;
            }
            self.dataset.write_key(index, &mut key);
            let rest = &key[prefix.len()..];
            let grouped = delimiter
                .filter(|d| !d.is_empty())
                .and_then(|d| rest.find(d).map(|at| prefix.len() + at + d.len()));
            let after = match grouped {
                Some(common_end) => {
                    let common = key[..common_end].to_string();
                    let past = self.past_prefix(index, &common);
                    entries.push(Entry::Prefix(common));
                    past
                }
                None => {
                    entries.push(Entry::Object(index));
                    index + 1
                }
            };
            next = self.next_present(after).filter(|i| *i < end);
        }
        let next = next.and_then(|_| match entries.last()? {
            Entry::Object(index) => Some(Cursor::AfterKey(self.dataset.key(*index))),
            Entry::Prefix(common) => Some(Cursor::PastPrefix(common.clone())),
        });
        Page { entries, next }
    }

    /// The ListObjectsV2 answer for `input` (whose bucket is this server's).
    pub(crate) fn list_objects_v2(
        &self,
        input: &ListObjectsV2Input,
    ) -> S3Result<ListObjectsV2Output> {
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        let cursor = match (&input.continuation_token, &input.start_after) {
            (Some(token), _) => Cursor::from_token(token).ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "The continuation token provided is incorrect"
                )
            })?,
            (None, Some(after)) if !after.is_empty() => Cursor::AfterKey(after.clone()),
            (None, _) => Cursor::Start,
        };
        let max_keys = match input.max_keys {
            None => MAX_KEYS,
            Some(n) if n < 0 => {
                return Err(s3_error!(InvalidArgument, "max-keys must not be negative"));
            }
            Some(n) => u64::try_from(n).unwrap_or(0).min(MAX_KEYS),
        };
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str().eq_ignore_ascii_case(EncodingType::URL));
        let spell = |text: &str| match url {
            true => url_encode(text),
            false => text.to_string(),
        };
        let page = self.page(&prefix, delimiter.as_deref(), &cursor, max_keys);
        let mut contents = Vec::new();
        let mut common_prefixes = Vec::new();
        let mut key = String::new();
        for entry in &page.entries {
            match entry {
                Entry::Object(index) => {
                    self.dataset.write_key(*index, &mut key);
                    let listed = self.listed(*index);
                    contents.push(Object {
                        key: Some(spell(&key)),
                        size: Some(i64::try_from(listed.size_bytes).unwrap_or(i64::MAX)),
                        e_tag: Some(ETag::Strong(listed.etag)),
                        last_modified: Some(timestamp(listed.last_modified_unix_s)),
                        storage_class: Some(ObjectStorageClass::from_static(listed.storage_class)),
                        ..Default::default()
                    });
                }
                Entry::Prefix(common) => common_prefixes.push(CommonPrefix {
                    prefix: Some(spell(common)),
                }),
            }
        }
        Ok(ListObjectsV2Output {
            name: Some(input.bucket.clone()),
            prefix: Some(spell(&prefix)),
            delimiter: delimiter.as_deref().map(spell),
            max_keys: Some(i32::try_from(max_keys).unwrap_or(1000)),
            key_count: Some(i32::try_from(page.entries.len()).unwrap_or(i32::MAX)),
            is_truncated: Some(page.next.is_some()),
            continuation_token: input.continuation_token.clone(),
            next_continuation_token: page.next.as_ref().map(Cursor::token),
            start_after: input.start_after.as_deref().map(spell),
            encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::dataset::Dataset;

    fn catalog(dataset: Dataset) -> Catalog {
        Catalog {
            dataset,
            present_every: None,
            sink: false,
            same: false,
        }
    }

    /// Every entry of a listing, page by page through the cursors.
    fn all(catalog: &Catalog, prefix: &str, delimiter: Option<&str>, max_keys: u64) -> Vec<Entry> {
        let mut out = Vec::new();
        let mut cursor = Cursor::Start;
        loop {
            let page = catalog.page(prefix, delimiter, &cursor, max_keys);
            assert!(page.entries.len() as u64 <= max_keys);
            out.extend(page.entries);
            match page.next {
                Some(next) => cursor = Cursor::from_token(&next.token()).unwrap(),
                None => return out,
            }
        }
    }

    #[test]
    fn the_root_of_folders_lists_one_prefix_per_folder() {
        let folders = catalog(Dataset::folders(2_500, 1_000));
        let roots = all(&folders, "", Some("/"), 2);
        let names = ["f0000/", "f0001/", "f0002/"].map(|p| Entry::Prefix(p.to_string()));
        assert_eq!(roots, names);
        let inside = all(&folders, "f0002/", Some("/"), 1000);
        assert_eq!(inside.len(), 500);
        assert_eq!(inside[0], Entry::Object(2_000));
        // A prefix that is no folder's, and one inside a name.
        assert!(all(&folders, "g", Some("/"), 10).is_empty());
        assert_eq!(all(&folders, "f0001/obj-0099", None, 1000).len(), 10);
    }

    #[test]
    fn pages_resume_after_keys_and_prefixes_without_gaps_or_repeats() {
        let flat = catalog(Dataset::flat(2_345));
        let entries = all(&flat, "", None, 1000);
        let want: Vec<Entry> = (0..2_345).map(Entry::Object).collect();
        assert_eq!(entries, want);
        let grouped = all(&flat, "", Some("/"), 1000);
        assert_eq!(grouped, [Entry::Prefix("events/".to_string())]);
        // Any delimiter: "-0000" splits the flat keys after "events/part".
        let dashes = all(&flat, "events/", Some("-0000"), 1);
        assert_eq!(dashes, [Entry::Prefix("events/part-0000".to_string())]);
        let after = Cursor::AfterKey("events/part-00002000.parquet".to_string());
        let page = flat.page("", None, &after, 1000);
        assert_eq!(page.entries.first(), Some(&Entry::Object(2_001)));
        assert_eq!(page.entries.len(), 344);
        assert!(page.next.is_none());
        assert_eq!(Cursor::from_token("not a token!"), None);
        assert_eq!(Cursor::from_token(&TOKEN_BASE64.encode("x")), None);
    }

    #[test]
    fn a_sink_lists_only_its_preset_keys() {
        let sink = Catalog {
            dataset: Dataset::folders(1_000, 100),
            present_every: Some(7),
            sink: true,
            same: false,
        };
        let entries = all(&sink, "", None, 10);
        let want: Vec<Entry> = (0..1_000).step_by(7).map(Entry::Object).collect();
        assert_eq!(entries, want);
        assert_eq!(all(&sink, "", Some("/"), 1000).len(), 10);
        let empty = Catalog {
            present_every: None,
            ..sink
        };
        assert!(all(&empty, "", None, 1000).is_empty());
    }
}
