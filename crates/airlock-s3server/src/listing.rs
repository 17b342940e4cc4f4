//! Listings with the switched behaviours that change what a listing holds: folder markers,
//! `encoding-type=url`, the opaque ETags of encrypted objects and storage classes. With all of
//! those off, s3s-fs answers every listing as before and nothing here runs.
//!
//! AWS: ListObjectsV2 (and ListObjects, ListObjectVersions) lists at most 1,000 entries a page
//! in key order, objects and CommonPrefixes together; every object with its ETag, size and
//! StorageClass; a folder marker (`photos/`, 0 bytes) is an object like any other, rolled into
//! the CommonPrefix `photos/` when a delimiter groups it. With `encoding-type=url` S3
//! URL-encodes the keys in the answer, so keys that are not valid XML 1.0 text can be listed:
//! in ListObjectsV2 Key, Prefix, Delimiter, StartAfter and CommonPrefixes' Prefix, in ListObjects
//! also Marker and NextMarker, in ListObjectVersions KeyMarker and NextKeyMarker (not
//! VersionIdMarker). The encoding is the form encoding (a space is `+`, `/` is kept, everything
//! but letters, digits and `-_.~` is `%XX`); boto3 decodes it with `unquote_plus`.
//!
//! We ask s3s-fs for every matching entry after the cursor (it walks the whole bucket for every
//! page anyway), add the folder markers our meta holds, then page, decorate and encode
//! ourselves. The continuation token is the last key of the page, as s3s-fs makes it.

mod versions;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, UNIX_EPOCH};

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

use super::behaviours::Switches;
use super::faithful::{Faithful, sub_request};
use super::meta::ObjectMeta;

/// S3's page size, and its maximum.
const MAX_KEYS: usize = 1000;

/// One listed entry: an object, or a common prefix standing for several.
pub(super) enum Entry {
    Object(Box<Object>),
    Prefix(String),
}

impl Entry {
    fn key(&self) -> &str {
        match self {
            Entry::Object(object) => object.key.as_deref().unwrap_or_default(),
            Entry::Prefix(prefix) => prefix,
        }
    }
}

/// What a listing asks for, whatever the operation.
pub(super) struct Query {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// List only entries after this key (start-after, marker, continuation token).
    pub after: Option<String>,
    pub max_keys: usize,
    /// `encoding-type=url` was asked, and the behaviour honours it.
    pub url_encoded: bool,
}

impl Query {
    pub(super) fn new(switches: &Switches, bucket: &str, prefix: Option<&str>) -> Self {
        Query {
            bucket: bucket.to_string(),
            prefix: prefix.unwrap_or_default().to_string(),
            delimiter: None,
            after: None,
            max_keys: MAX_KEYS,
            url_encoded: Switches::on(&switches.url_encoding),
        }
    }

    fn page_size(max_keys: Option<i32>) -> usize {
        max_keys.map_or(MAX_KEYS, |m| usize::try_from(m).unwrap_or(0).min(MAX_KEYS))
    }

    /// The text of a key, prefix or marker as the answer spells it.
    pub(super) fn spell(&self, text: &str) -> String {
        match self.url_encoded {
            true => url_encode(text),
            false => text.to_string(),
        }
    }
}

/// A page of entries, and whether more follow.
pub(super) struct Page {
    pub entries: Vec<Entry>,
    pub is_truncated: bool,
}

impl Page {
    /// The last key or prefix of the page: the cursor for the next one.
    pub(super) fn last_key(&self) -> Option<String> {
        self.entries.last().map(|e| e.key().to_string())
    }

    /// Objects and common prefixes, spelled as the query asks.
    fn split(self, query: &Query) -> (Vec<Object>, Vec<CommonPrefix>) {
        let mut objects = Vec::new();
        let mut prefixes = Vec::new();
        for entry in self.entries {
            match entry {
                Entry::Object(mut object) => {
                    object.key = object.key.map(|k| query.spell(&k));
                    objects.push(*object);
                }
                Entry::Prefix(p) => prefixes.push(CommonPrefix {
                    prefix: Some(query.spell(&p)),
                }),
            }
        }
        (objects, prefixes)
    }
}

impl Faithful {
    /// One page of `query`, decorated. `req` lends its identity to the s3s-fs call.
    pub(super) async fn list_page<T>(&self, req: &S3Request<T>, query: &Query) -> S3Result<Page> {
        let input = ListObjectsV2Input {
            bucket: query.bucket.clone(),
            prefix: Some(query.prefix.clone()).filter(|p| !p.is_empty()),
            delimiter: query.delimiter.clone(),
            start_after: query.after.clone(),
            max_keys: Some(i32::MAX),
            ..Default::default()
        };
        let listed = self
            .fs
            .list_objects_v2(sub_request(req, input))
            .await?
            .output;
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        for object in listed.contents.into_iter().flatten() {
            let key = object.key.clone().unwrap_or_default();
            entries.insert(key, Entry::Object(Box::new(object)));
        }
        for prefix in listed.common_prefixes.into_iter().flatten() {
            let prefix = prefix.prefix.unwrap_or_default();
            entries.insert(prefix.clone(), Entry::Prefix(prefix));
        }
        if Switches::on(&self.switches.folder_markers) {
            self.add_folder_markers(query, &mut entries).await;
        }
        let mut entries: Vec<Entry> = entries.into_values().collect();
        let is_truncated = entries.len() > query.max_keys;
        entries.truncate(query.max_keys);
        self.decorate(&query.bucket, &mut entries).await;
        if Switches::on(&self.switches.listed_etags) {
            self.list_etags(req, &query.bucket, &mut entries).await;
        }
        Ok(Page {
            entries,
            is_truncated,
        })
    }

    /// Folder markers are only in our meta: list them as objects, or as the common prefix a
    /// delimiter rolls them into.
    async fn add_folder_markers(&self, query: &Query, entries: &mut BTreeMap<String, Entry>) {
        let markers = self.meta.folder_markers(&query.bucket, &query.prefix).await;
        let after = query.after.as_deref().unwrap_or_default();
        for marker in markers {
            let delimiter = query.delimiter.as_deref().filter(|d| !d.is_empty());
            let rest = &marker.key[query.prefix.len()..];
            let grouped = delimiter.and_then(|d| {
                let at = rest.find(d)?;
                Some(marker.key[..query.prefix.len() + at + d.len()].to_string())
            });
            match grouped {
                Some(prefix) if prefix.as_str() > after => {
                    entries.insert(prefix.clone(), Entry::Prefix(prefix));
                }
                Some(_) => {}
                None if marker.key.as_str() > after => {
                    let object = marker_object(&marker);
                    entries.insert(marker.key.clone(), Entry::Object(Box::new(object)));
                }
                None => {}
            }
        }
    }

    /// Every object's ETag, as a HEAD answers it (the behaviour `set_listed_etags`).
    async fn list_etags<T>(&self, req: &S3Request<T>, bucket: &str, entries: &mut [Entry]) {
        for entry in entries {
            let Entry::Object(object) = entry else {
                continue;
            };
            let Some(key) = object.key.clone() else {
                continue;
            };
            let input = HeadObjectInput {
                bucket: bucket.to_string(),
                key,
                ..Default::default()
            };
            if let Ok(head) = self.head_object_checked(sub_request(req, input)).await {
                object.e_tag = head.output.e_tag.or(object.e_tag.take());
            }
        }
    }

    /// ETags of encrypted objects, and storage classes, from our meta.
    async fn decorate(&self, bucket: &str, entries: &mut [Entry]) {
        let keys = entries.iter().filter_map(|e| match e {
            Entry::Object(object) => object.key.as_deref(),
            Entry::Prefix(_) => None,
        });
        let metas: HashMap<String, ObjectMeta> = self.meta.objects_in(bucket, keys).await;
        let classes = Switches::on(&self.switches.archived_classes);
        for entry in entries {
            let Entry::Object(object) = entry else {
                continue;
            };
            let meta = object.key.as_ref().and_then(|k| metas.get(k));
            if let Some(meta) = meta.filter(|m| m.encryption.is_some() || m.folder_marker.is_some())
            {
                object.e_tag = Some(ETag::Strong(meta.etag.clone()));
            }
            if classes {
                let class = meta.and_then(|m| m.storage_class.clone());
                let class = class.unwrap_or_else(|| StorageClass::STANDARD.to_string());
                object.storage_class = Some(ObjectStorageClass::from(class));
            }
        }
    }

    pub(super) async fn list_objects_v2_decorated(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        if !self.switches.listing_decorated() {
            // s3s-fs echoes encoding-type without encoding: answer as a store that ignores it.
            let mut answer = self.fs.list_objects_v2(req).await?;
            answer.output.encoding_type = None;
            return Ok(answer);
        }
        let input = &req.input;
        let mut query = Query::new(&self.switches, &input.bucket, input.prefix.as_deref());
        query.url_encoded &= is_url(input.encoding_type.as_ref());
        query.delimiter = input.delimiter.clone();
        query.max_keys = Query::page_size(input.max_keys);
        query.after = [&input.continuation_token, &input.start_after]
            .into_iter()
            .flatten()
            .max()
            .cloned();
        let page = self.list_page(&req, &query).await?;
        let next = page.last_key().filter(|_| page.is_truncated);
        let (is_truncated, count) = (page.is_truncated, page.entries.len());
        let (contents, prefixes) = page.split(&query);
        let input = req.input;
        let output = ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: input.prefix.map(|p| query.spell(&p)),
            delimiter: input.delimiter.map(|d| query.spell(&d)),
            start_after: input.start_after.map(|s| query.spell(&s)),
            // Only an answer that is encoded says so.
            encoding_type: input.encoding_type.filter(|_| query.url_encoded),
            continuation_token: input.continuation_token,
            next_continuation_token: next,
            max_keys: Some(i32::try_from(query.max_keys).unwrap_or(i32::MAX)),
            key_count: Some(i32::try_from(count).unwrap_or(i32::MAX)),
            is_truncated: Some(is_truncated),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    pub(super) async fn list_objects_decorated(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        if !self.switches.listing_decorated() {
            let mut answer = self.fs.list_objects(req).await?;
            answer.output.encoding_type = None;
            return Ok(answer);
        }
        let input = &req.input;
        let mut query = Query::new(&self.switches, &input.bucket, input.prefix.as_deref());
        query.url_encoded &= is_url(input.encoding_type.as_ref());
        query.delimiter = input.delimiter.clone();
        query.max_keys = Query::page_size(input.max_keys);
        query.after = input.marker.clone();
        let page = self.list_page(&req, &query).await?;
        // S3 sends NextMarker only with a delimiter (else the last key is the marker).
        let next = page.last_key().filter(|_| page.is_truncated);
        let next = next.filter(|_| query.delimiter.is_some());
        let is_truncated = page.is_truncated;
        let (contents, prefixes) = page.split(&query);
        let input = req.input;
        let output = ListObjectsOutput {
            name: Some(input.bucket),
            prefix: input.prefix.map(|p| query.spell(&p)),
            delimiter: input.delimiter.map(|d| query.spell(&d)),
            marker: input.marker.map(|m| query.spell(&m)),
            next_marker: next.map(|n| query.spell(&n)),
            // Only an answer that is encoded says so.
            encoding_type: input.encoding_type.filter(|_| query.url_encoded),
            max_keys: Some(i32::try_from(query.max_keys).unwrap_or(i32::MAX)),
            is_truncated: Some(is_truncated),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}

fn is_url(encoding: Option<&EncodingType>) -> bool {
    encoding.is_some_and(|e| e.as_str().eq_ignore_ascii_case(EncodingType::URL))
}

/// A folder marker as a listed object.
pub(super) fn marker_object(marker: &ObjectMeta) -> Object {
    let modified = marker
        .folder_marker
        .as_ref()
        .map(|m| m.last_modified_unix_ms);
    let modified = UNIX_EPOCH + Duration::from_millis(modified.unwrap_or_default());
    Object {
        key: Some(marker.key.clone()),
        size: Some(0),
        e_tag: Some(ETag::Strong(marker.etag.clone())),
        last_modified: Some(Timestamp::from(modified)),
        ..Default::default()
    }
}

/// S3's `encoding-type=url` spelling: form encoding, `/` kept.
pub(super) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_is_form_encoding_that_keeps_slashes() {
        assert_eq!(url_encode("a/b c+d"), "a/b+c%2Bd");
        assert_eq!(url_encode("ctl\u{1}\u{1b}"), "ctl%01%1B");
        assert_eq!(url_encode("test_file(3).png"), "test_file%283%29.png");
        assert_eq!(url_encode("é"), "%C3%A9");
    }
}
