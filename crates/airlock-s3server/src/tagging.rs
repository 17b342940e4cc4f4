//! Object tags for the faithful server (s3s-fs has none): GetObjectTagging, PutObjectTagging,
//! DeleteObjectTagging, and the `x-amz-tagging` header of PutObject / CreateMultipartUpload /
//! CopyObject (URL-encoded `k1=v1&k2=v2`). Tags live in the object's meta, so they go when the
//! object is overwritten or deleted. S3's limits apply: at most 10 tags, unique keys of 1-128
//! characters, values of at most 256.

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

use super::faithful::{Faithful, sub_request};
use super::meta::{ObjectMeta, TagPair};

/// Parse `x-amz-tagging`; an absent or empty header means no tags.
pub(crate) fn parse_tagging_header(header: Option<&str>) -> S3Result<Vec<TagPair>> {
    let Some(header) = header else {
        return Ok(Vec::new());
    };
    let mut tags = Vec::new();
    for pair in header.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        tags.push((percent_decode(key)?, percent_decode(value)?));
    }
    validate_tags(&tags)?;
    Ok(tags)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn percent_decode(text: &str) -> S3Result<String> {
    let invalid = || {
        s3_error!(
            InvalidArgument,
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."
        )
    };
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(invalid)?;
                let hex = std::str::from_utf8(hex).map_err(|_| invalid())?;
                decoded.push(u8::from_str_radix(hex, 16).map_err(|_| invalid())?);
                i += 2;
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8(decoded).map_err(|_| invalid())
}

fn validate_tags(tags: &[TagPair]) -> S3Result<()> {
    if tags.len() > 10 {
        return Err(s3_error!(
            InvalidTag,
            "Object tags cannot be greater than 10"
        ));
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(s3_error!(
                InvalidTag,
                "The TagKey you have provided is invalid"
            ));
        }
        if value.chars().count() > 256 {
            return Err(s3_error!(
                InvalidTag,
                "The TagValue you have provided is invalid"
            ));
        }
        if tags[..i].iter().any(|(k, _)| k == key) {
            return Err(s3_error!(
                InvalidTag,
                "Cannot provide multiple Tags with the same key"
            ));
        }
    }
    Ok(())
}

impl Faithful {
    /// HEAD through s3s-fs: NoSuchKey / NoSuchBucket as S3 answers them, and the current ETag.
    async fn current_etag<T>(
        &self,
        req: &S3Request<T>,
        bucket: &str,
        key: &str,
    ) -> S3Result<Option<ETag>> {
        let input = HeadObjectInput {
            bucket: bucket.to_string(),
            key: key.to_string(),
            ..Default::default()
        };
        let head = self.fs.head_object(sub_request(req, input)).await?;
        Ok(head.output.e_tag)
    }

    pub(super) async fn get_tags(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let (bucket, key) = (&req.input.bucket, &req.input.key);
        let etag = self.current_etag(&req, bucket, key).await?;
        let meta = self.current_meta(bucket, key, etag.as_ref()).await;
        let tag_set = meta
            .map(|m| m.tags)
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| Tag {
                key: Some(key),
                value: Some(value),
            })
            .collect();
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set,
            version_id: None,
        }))
    }

    pub(super) async fn put_tags(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let tags: Vec<TagPair> = req
            .input
            .tagging
            .tag_set
            .iter()
            .map(|t| {
                let key = t.key.clone().unwrap_or_default();
                (key, t.value.clone().unwrap_or_default())
            })
            .collect();
        validate_tags(&tags)?;
        self.set_tags(&req, tags).await?;
        Ok(S3Response::new(PutObjectTaggingOutput { version_id: None }))
    }

    pub(super) async fn delete_tags(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.set_tags(&req, Vec::new()).await?;
        Ok(S3Response::new(DeleteObjectTaggingOutput {
            version_id: None,
        }))
    }

    /// Replace the tags of an existing object, keeping the rest of its meta.
    async fn set_tags<T: ObjectRef>(&self, req: &S3Request<T>, tags: Vec<TagPair>) -> S3Result<()> {
        let (bucket, key) = req.input.object();
        let etag = self.current_etag(req, bucket, key).await?;
        let meta = self.current_meta(bucket, key, etag.as_ref()).await;
        let meta = meta.unwrap_or_else(|| ObjectMeta::new(bucket, key));
        self.replace_meta(ObjectMeta { tags, ..meta }, etag.as_ref())
            .await
    }
}

/// Inputs that name one object.
trait ObjectRef {
    fn object(&self) -> (&str, &str);
}

impl ObjectRef for PutObjectTaggingInput {
    fn object(&self) -> (&str, &str) {
        (&self.bucket, &self.key)
    }
}

impl ObjectRef for DeleteObjectTaggingInput {
    fn object(&self) -> (&str, &str) {
        (&self.bucket, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagging_header_is_url_decoded() {
        let tags = parse_tagging_header(Some("team=data%20eng&cost+center=42&empty=")).unwrap();
        assert_eq!(
            tags,
            vec![
                ("team".to_string(), "data eng".to_string()),
                ("cost center".to_string(), "42".to_string()),
                ("empty".to_string(), String::new()),
            ]
        );
        assert!(parse_tagging_header(None).unwrap().is_empty());
    }

    #[test]
    fn tags_beyond_s3_limits_are_refused() {
        assert!(parse_tagging_header(Some("a=1&a=2")).is_err());
        assert!(parse_tagging_header(Some("a=%zz")).is_err());
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        assert!(parse_tagging_header(Some(&eleven.join("&"))).is_err());
        let long_key = "k".repeat(129);
        assert!(parse_tagging_header(Some(&format!("{long_key}=v"))).is_err());
    }
}
