//! ListObjectVersions for the unversioned buckets s3s-fs has (it answers 501). AWS: a bucket
//! that never had versioning lists every object once, as version `null`, latest, with no delete
//! markers; `key-marker` resumes after that key (with `version-id-marker=null`, after its only
//! version, which is the same). Answered here only while a listing behaviour is on, so a test
//! can list versions of keys that need `encoding-type=url`.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::{Entry, Query, is_url};
use crate::faithful::Faithful;

/// S3's version id of an object written while versioning was never enabled.
const NULL_VERSION: &str = "null";

fn as_version(object: Object, query: &Query) -> ObjectVersion {
    ObjectVersion {
        key: object.key.map(|k| query.spell(&k)),
        version_id: Some(NULL_VERSION.to_string()),
        is_latest: Some(true),
        e_tag: object.e_tag,
        size: object.size,
        last_modified: object.last_modified,
        storage_class: object
            .storage_class
            .map(|c| ObjectVersionStorageClass::from(c.as_str().to_string())),
        ..Default::default()
    }
}

impl Faithful {
    pub(crate) async fn list_object_versions_decorated(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        if !self.switches.listing_decorated() {
            return s3s::S3::list_object_versions(&self.fs, req).await;
        }
        let input = &req.input;
        let mut query = Query::new(&self.switches, &input.bucket, input.prefix.as_deref());
        query.url_encoded &= is_url(input.encoding_type.as_ref());
        query.delimiter = input.delimiter.clone();
        query.max_keys = Query::page_size(input.max_keys);
        query.after = input.key_marker.clone().filter(|k| !k.is_empty());
        let page = self.list_page(&req, &query).await?;
        let is_truncated = page.is_truncated;
        let next = match page.entries.last() {
            Some(Entry::Object(object)) if is_truncated => {
                (object.key.clone(), Some(NULL_VERSION.to_string()))
            }
            Some(Entry::Prefix(prefix)) if is_truncated => (Some(prefix.clone()), None),
            _ => (None, None),
        };
        let mut versions = Vec::new();
        let mut prefixes = Vec::new();
        for entry in page.entries {
            match entry {
                Entry::Object(object) => versions.push(as_version(*object, &query)),
                Entry::Prefix(p) => prefixes.push(CommonPrefix {
                    prefix: Some(query.spell(&p)),
                }),
            }
        }
        let input = req.input;
        let output = ListObjectVersionsOutput {
            name: Some(input.bucket),
            prefix: input.prefix.map(|p| query.spell(&p)),
            delimiter: input.delimiter.map(|d| query.spell(&d)),
            key_marker: input.key_marker.map(|k| query.spell(&k)),
            version_id_marker: input.version_id_marker,
            next_key_marker: next.0.map(|k| query.spell(&k)),
            next_version_id_marker: next.1,
            encoding_type: input.encoding_type.filter(|_| query.url_encoded),
            max_keys: Some(i32::try_from(query.max_keys).unwrap_or(i32::MAX)),
            is_truncated: Some(is_truncated),
            versions: (!versions.is_empty()).then_some(versions),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}
