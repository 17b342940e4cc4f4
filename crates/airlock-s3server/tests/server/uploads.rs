//! ListMultipartUploads, persistence across a restart, and the plain (stock s3s-fs) flavor.

use airlock_s3server::Flavor;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};

use crate::support::*;

async fn create(fx: &Fixture, key: &str) -> String {
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .send()
        .await
        .unwrap();
    created.upload_id().unwrap().to_string()
}

/// Upload `data` as part 1 and return its ETag.
async fn upload_one_part(fx: &Fixture, key: &str, upload_id: &str, data: &[u8]) -> String {
    let out = checksumming_client(&fx.server)
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from(data.to_vec()))
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .send()
        .await
        .unwrap();
    out.e_tag().unwrap().to_string()
}

async fn complete_one_part(fx: &Fixture, key: &str, upload_id: &str, etag: &str) {
    let part = CompletedPart::builder().part_number(1).e_tag(etag).build();
    fx.client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().parts(part).build())
        .send()
        .await
        .unwrap();
}

async fn listed(fx: &Fixture, prefix: Option<&str>) -> Vec<(String, String)> {
    let out = fx
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .set_prefix(prefix.map(str::to_string))
        .send()
        .await
        .unwrap();
    for upload in out.uploads() {
        assert!(upload.initiated().is_some());
    }
    let uploads = out.uploads().iter();
    uploads
        .map(|u| {
            (
                u.key().unwrap().to_string(),
                u.upload_id().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn list_multipart_uploads_shows_uploads_in_progress() {
    let fx = Fixture::faithful().await;
    let one = create(&fx, "a/one").await;
    let two = create(&fx, "a/two").await;
    let three = create(&fx, "b/three").await;
    let own = |pairs: &[(&str, &String)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, id)| (k.to_string(), id.to_string()))
            .collect()
    };
    let all = own(&[("a/one", &one), ("a/two", &two), ("b/three", &three)]);
    assert_eq!(listed(&fx, None).await, all);
    assert_eq!(listed(&fx, Some("a/")).await, all[..2]);

    // Delimiter groups keys; max-uploads pages with markers.
    let grouped = fx
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = grouped
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/", "b/"]);
    let page = fx
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .max_uploads(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    let next = fx
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .key_marker(page.next_key_marker().unwrap())
        .upload_id_marker(page.next_upload_id_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.uploads().len(), 1);
    assert_eq!(next.uploads()[0].upload_id(), Some(three.as_str()));

    let etag = upload_one_part(&fx, "a/one", &one, b"part").await;
    complete_one_part(&fx, "a/one", &one, &etag).await;
    let abort = fx
        .client
        .abort_multipart_upload()
        .bucket(BUCKET)
        .key("b/three");
    abort.upload_id(&three).send().await.unwrap();
    assert_eq!(listed(&fx, None).await, own(&[("a/two", &two)]));

    let err = fx
        .client
        .list_multipart_uploads()
        .bucket("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("NoSuchBucket"));
}

#[tokio::test]
async fn restarted_server_keeps_checksums_tags_and_uploads() {
    let fx = Fixture::faithful().await;
    let data = bytes(3000, 7);
    let upload_id = create(&fx, "done").await;
    let etag = upload_one_part(&fx, "done", &upload_id, &data).await;
    complete_one_part(&fx, "done", &upload_id, &etag).await;
    fx.client
        .put_object()
        .bucket(BUCKET)
        .key("tagged")
        .tagging("k=v")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let pending = create(&fx, "pending").await;
    let pending_data = bytes(2000, 8);
    let pending_etag = upload_one_part(&fx, "pending", &pending, &pending_data).await;

    let fx = fx.restart(Flavor::Faithful).await;
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("done")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&data).as_str())
    );
    let tags = fx
        .client
        .get_object_tagging()
        .bucket(BUCKET)
        .key("tagged")
        .send()
        .await;
    assert_eq!(tags.unwrap().tag_set()[0].key(), "k");
    assert_eq!(
        listed(&fx, None).await,
        [("pending".to_string(), pending.clone())]
    );

    // The part recorded before the restart counts toward the full-object checksum.
    complete_one_part(&fx, "pending", &pending, &pending_etag).await;
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("pending")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&pending_data).as_str())
    );
}

#[tokio::test]
async fn plain_server_keeps_stock_s3s_fs_behaviour() {
    let fx = Fixture::plain().await;
    let etag = fx.put("obj", b"plain").await;
    assert_eq!(fx.get("obj").await, b"plain");
    let err = fx
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 501);
    let err = fx
        .client
        .get_object_tagging()
        .bucket(BUCKET)
        .key("obj")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 501);
    // s3s-fs ignores If-Match on GET.
    let wrong = "\"0123456789abcdef0123456789abcdef\"";
    let get = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key("obj")
        .if_match(wrong);
    assert!(get.send().await.is_ok());
    assert!(etag.len() > 2);
    assert!(!fx.root.path().join(".airlock-meta").exists());
}

#[tokio::test]
async fn a_finished_upload_answers_no_such_upload_as_s3_does() {
    let fx = Fixture::faithful().await;
    let upload_id = create(&fx, "done").await;
    let etag = upload_one_part(&fx, "done", &upload_id, &bytes(1000, 1)).await;
    complete_one_part(&fx, "done", &upload_id, &etag).await;

    let part = CompletedPart::builder().part_number(1).e_tag(&etag).build();
    let again = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("done")
        .upload_id(&upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().parts(part).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&again), code(&again).as_deref()),
        (404, Some("NoSuchUpload"))
    );
    let abort = fx
        .client
        .abort_multipart_upload()
        .bucket(BUCKET)
        .key("done");
    let err = abort.upload_id(&upload_id).send().await.unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (404, Some("NoSuchUpload"))
    );
    let parts = fx
        .client
        .list_parts()
        .bucket(BUCKET)
        .key("done")
        .upload_id(&upload_id);
    let err = parts.send().await.unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (404, Some("NoSuchUpload"))
    );
    // The object is there, whole.
    assert_eq!(fx.get("done").await, bytes(1000, 1));

    let never = "00000000-0000-4000-8000-000000000000";
    let abort = fx.client.abort_multipart_upload().bucket(BUCKET).key("x");
    let err = abort.upload_id(never).send().await.unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (404, Some("NoSuchUpload"))
    );
    let part = fx
        .client
        .upload_part()
        .bucket(BUCKET)
        .key("x")
        .upload_id(never);
    let err = part
        .part_number(1)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(code(&err.unwrap_err()).as_deref(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn the_plain_flavor_still_answers_403_for_a_finished_upload() {
    let fx = Fixture::plain().await;
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("done");
    let upload_id = created
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let etag = upload_one_part(&fx, "done", &upload_id, &bytes(1000, 1)).await;
    complete_one_part(&fx, "done", &upload_id, &etag).await;
    let abort = fx
        .client
        .abort_multipart_upload()
        .bucket(BUCKET)
        .key("done");
    let err = abort.upload_id(&upload_id).send().await.unwrap_err();
    assert_eq!(status(&err), 403);
}
