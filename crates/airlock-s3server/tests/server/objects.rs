//! Object operations through the faithful wrapper: the basics still work as with s3s-fs,
//! GET/HEAD honour conditional headers, and tags are stored per object.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier, Tag, Tagging,
    TaggingDirective,
};

use crate::support::*;

#[tokio::test]
async fn basic_operations_still_work_through_the_wrapper() {
    let fx = Fixture::faithful().await;
    for i in 0..5 {
        fx.put(&format!("dir/k{i}"), &bytes(100 + i, i as u8)).await;
    }
    assert_eq!(fx.get("dir/k3").await, bytes(103, 3));

    // Listing pages, and never shows the sidecar directory.
    let page = fx
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .max_keys(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.contents().len(), 3);
    let token = page.next_continuation_token().unwrap();
    let rest = fx
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.contents().len(), 2);
    let buckets = fx.client.list_buckets().send().await.unwrap();
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [BUCKET]);
    assert!(fx.root.path().join(".airlock-meta").is_dir());

    let ranged = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key("dir/k4")
        .range("bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.content_range(), Some("bytes 10-19/104"));
    let body = ranged.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), &bytes(104, 4)[10..20]);

    fx.client
        .copy_object()
        .bucket(BUCKET)
        .key("copy")
        .copy_source(format!("{BUCKET}/dir/k1"))
        .send()
        .await
        .unwrap();
    assert_eq!(fx.get("copy").await, bytes(101, 1));

    fx.client
        .delete_object()
        .bucket(BUCKET)
        .key("copy")
        .send()
        .await
        .unwrap();
    let ids = ["dir/k0", "dir/k1"].map(|k| ObjectIdentifier::builder().key(k).build().unwrap());
    let delete = Delete::builder()
        .set_objects(Some(ids.to_vec()))
        .build()
        .unwrap();
    fx.client
        .delete_objects()
        .bucket(BUCKET)
        .delete(delete)
        .send()
        .await
        .unwrap();
    let left = fx
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["dir/k2", "dir/k3", "dir/k4"]);

    // Another account's keys are still refused.
    let stranger = client_with_keys(&fx.server, "target-key", "target-secret");
    let err = stranger
        .get_object()
        .bucket(BUCKET)
        .key("dir/k2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 403);
}

#[tokio::test]
async fn get_and_head_honour_if_match_and_if_none_match() {
    let fx = Fixture::faithful().await;
    let data = bytes(1000, 9);
    let etag = fx.put("obj", &data).await;
    let wrong = "\"0123456789abcdef0123456789abcdef\"";

    let get = |if_match: &str| {
        fx.client
            .get_object()
            .bucket(BUCKET)
            .key("obj")
            .if_match(if_match)
    };
    let err = get(wrong).send().await.unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (412, Some("PreconditionFailed"))
    );
    let ok = get(&etag).send().await.unwrap();
    assert_eq!(
        ok.body.collect().await.unwrap().into_bytes().as_ref(),
        data.as_slice()
    );
    let ranged = get(&etag).range("bytes=100-199").send().await.unwrap();
    assert_eq!(ranged.content_length(), Some(100));
    let body = ranged.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), &data[100..200]);
    let err = get(wrong).range("bytes=100-199").send().await.unwrap_err();
    assert_eq!(status(&err), 412);

    let head = |if_match: &str| {
        fx.client
            .head_object()
            .bucket(BUCKET)
            .key("obj")
            .if_match(if_match)
    };
    assert_eq!(status(&head(wrong).send().await.unwrap_err()), 412);
    assert_eq!(
        head(&etag).send().await.unwrap().e_tag(),
        Some(etag.as_str())
    );

    // If-None-Match with the current ETag: 304 Not Modified; with another: the object.
    let recorder = StatusRecorder::default();
    let got = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key("obj")
        .if_none_match(&etag)
        .customize()
        .interceptor(recorder.clone())
        .send()
        .await;
    assert_eq!(recorder.status(), Some(304), "{got:?}");
    let err = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("obj")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 304);
    let other = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("obj")
        .if_none_match(wrong);
    assert!(other.send().await.is_ok());

    // Once the object changes, the old ETag no longer matches.
    fx.put("obj", b"changed").await;
    assert_eq!(status(&get(&etag).send().await.unwrap_err()), 412);
}

async fn tags_of(fx: &Fixture, key: &str) -> Vec<(String, String)> {
    let out = fx
        .client
        .get_object_tagging()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<_> = out
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    tags.sort();
    tags
}

fn pairs(tags: &[(&str, &str)]) -> Vec<(String, String)> {
    tags.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn tags_are_stored_per_object() {
    let fx = Fixture::faithful().await;
    fx.client
        .put_object()
        .bucket(BUCKET)
        .key("tagged")
        .tagging("team=data&region=eu%20west")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&fx, "tagged").await,
        pairs(&[("region", "eu west"), ("team", "data")])
    );
    let got = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(got.tag_count(), Some(2));

    // A copy keeps the tags unless told to replace them.
    let copy = |key: &str| {
        fx.client
            .copy_object()
            .bucket(BUCKET)
            .key(key)
            .copy_source(format!("{BUCKET}/tagged"))
    };
    copy("copied").send().await.unwrap();
    assert_eq!(tags_of(&fx, "copied").await.len(), 2);
    copy("retagged")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("new=1")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&fx, "retagged").await, pairs(&[("new", "1")]));

    let tag = Tag::builder().key("owner").value("ops").build().unwrap();
    let tagging = Tagging::builder().tag_set(tag).build().unwrap();
    let put = fx
        .client
        .put_object_tagging()
        .bucket(BUCKET)
        .key("tagged")
        .tagging(tagging);
    put.send().await.unwrap();
    assert_eq!(tags_of(&fx, "tagged").await, pairs(&[("owner", "ops")]));
    let delete = fx
        .client
        .delete_object_tagging()
        .bucket(BUCKET)
        .key("tagged");
    delete.send().await.unwrap();
    assert!(tags_of(&fx, "tagged").await.is_empty());

    // Overwrite and delete drop the tags; a missing object has none to give.
    fx.put("copied", b"new bytes").await;
    assert!(tags_of(&fx, "copied").await.is_empty());
    fx.client
        .delete_object()
        .bucket(BUCKET)
        .key("retagged")
        .send()
        .await
        .unwrap();
    let err = fx
        .client
        .get_object_tagging()
        .bucket(BUCKET)
        .key("retagged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (404, Some("NoSuchKey"))
    );

    let err = fx
        .client
        .put_object()
        .bucket(BUCKET)
        .key("bad")
        .tagging("a=1&a=2")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("InvalidTag"));
}

#[tokio::test]
async fn multipart_upload_takes_tags_from_create() {
    let fx = Fixture::faithful().await;
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("mp")
        .tagging("source=airlock")
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap();
    let part = fx
        .client
        .upload_part()
        .bucket(BUCKET)
        .key("mp")
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from(bytes(1000, 1)))
        .send()
        .await
        .unwrap();
    // No tags until the upload completes.
    let err = fx
        .client
        .get_object_tagging()
        .bucket(BUCKET)
        .key("mp")
        .send()
        .await;
    assert_eq!(status(&err.unwrap_err()), 404);
    let part = CompletedPart::builder()
        .part_number(1)
        .e_tag(part.e_tag().unwrap())
        .build();
    fx.client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("mp")
        .upload_id(upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().parts(part).build())
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&fx, "mp").await, pairs(&[("source", "airlock")]));
}
