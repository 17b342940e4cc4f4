//! Archived storage classes (`set_archived_storage_classes`, `set_intelligent_tiering_archive`):
//! HEAD works, GET answers 403 InvalidObjectState until RestoreObject, listings show classes.

use airlock_s3server::ArchiveTier;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ArchiveStatus, CompletedMultipartUpload, CompletedPart, ObjectStorageClass, RestoreRequest,
    StorageClass,
};

use crate::support::*;

async fn put_class(fx: &Fixture, key: &str, class: StorageClass) -> Result<(), u16> {
    let request = fx
        .client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .storage_class(class);
    let sent = request
        .body(ByteStream::from_static(b"cold bytes"))
        .send()
        .await;
    sent.map(|_| ()).map_err(|e| status(&e))
}

async fn get_status(fx: &Fixture, key: &str) -> Result<Vec<u8>, (u16, Option<String>)> {
    match fx.client.get_object().bucket(BUCKET).key(key).send().await {
        Ok(out) => Ok(out.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(e) => Err((status(&e), code(&e))),
    }
}

async fn restore(fx: &Fixture, key: &str, days: i32) -> Result<(), (u16, Option<String>)> {
    let request = fx.client.restore_object().bucket(BUCKET).key(key);
    let days = RestoreRequest::builder().days(days).build();
    let sent = request.restore_request(days).send().await;
    sent.map(|_| ()).map_err(|e| (status(&e), code(&e)))
}

fn invalid_state() -> (u16, Option<String>) {
    (403, Some("InvalidObjectState".to_string()))
}

#[tokio::test]
async fn glacier_objects_answer_invalid_object_state_until_restored() {
    let fx = Fixture::faithful().await;
    // Off: s3s-fs refuses the class.
    assert_eq!(
        put_class(&fx, "cold", StorageClass::Glacier).await,
        Err(400)
    );

    fx.server.behaviours().set_archived_storage_classes(true);
    put_class(&fx, "cold", StorageClass::Glacier).await.unwrap();
    fx.put("warm", b"warm bytes").await;
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("cold")
        .send()
        .await
        .unwrap();
    assert_eq!(head.storage_class(), Some(&StorageClass::Glacier));
    assert_eq!(head.restore(), None);
    assert_eq!(get_status(&fx, "cold").await, Err(invalid_state()));
    let warm = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("warm")
        .send()
        .await
        .unwrap();
    assert_eq!(warm.storage_class(), None, "S3 omits STANDARD");
    assert_eq!(get_status(&fx, "warm").await.unwrap(), b"warm bytes");
    let listed = fx
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let classes: Vec<_> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap(), o.storage_class().cloned()))
        .collect();
    assert_eq!(
        classes,
        [
            ("cold", Some(ObjectStorageClass::Glacier)),
            ("warm", Some(ObjectStorageClass::Standard))
        ]
    );

    assert_eq!(
        restore(&fx, "warm", 1).await,
        Err(invalid_state()),
        "nothing to restore"
    );
    restore(&fx, "cold", 2).await.unwrap();
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("cold")
        .send()
        .await
        .unwrap();
    let restore_header = head.restore().unwrap();
    assert!(
        restore_header.starts_with("ongoing-request=\"false\", expiry-date=\""),
        "{restore_header}"
    );
    assert_eq!(get_status(&fx, "cold").await.unwrap(), b"cold bytes");
}

#[tokio::test]
async fn a_deep_archive_multipart_object_is_archived_too() {
    let fx = Fixture::faithful().await;
    fx.server.behaviours().set_archived_storage_classes(true);
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("deep");
    let created = created
        .storage_class(StorageClass::DeepArchive)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap();
    let part = fx
        .client
        .upload_part()
        .bucket(BUCKET)
        .key("deep")
        .upload_id(upload_id);
    let part = part.part_number(1).body(ByteStream::from(bytes(1000, 1)));
    let etag = part.send().await.unwrap().e_tag().unwrap().to_string();
    let parts = CompletedPart::builder().part_number(1).e_tag(etag).build();
    let complete = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("deep");
    let complete = complete.upload_id(upload_id);
    let completed = CompletedMultipartUpload::builder().parts(parts).build();
    complete.multipart_upload(completed).send().await.unwrap();
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("deep")
        .send()
        .await
        .unwrap();
    assert_eq!(head.storage_class(), Some(&StorageClass::DeepArchive));
    assert_eq!(get_status(&fx, "deep").await, Err(invalid_state()));
}

#[tokio::test]
async fn intelligent_tiering_objects_in_an_archive_tier_need_a_restore() {
    let fx = Fixture::faithful().await;
    let behaviours = fx.server.behaviours();
    behaviours.set_archived_storage_classes(true);
    put_class(&fx, "tiered", StorageClass::IntelligentTiering)
        .await
        .unwrap();
    assert_eq!(
        get_status(&fx, "tiered").await.unwrap(),
        b"cold bytes",
        "frequent access"
    );

    behaviours.set_intelligent_tiering_archive(Some(ArchiveTier::DeepArchiveAccess));
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("tiered")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.storage_class(),
        Some(&StorageClass::IntelligentTiering)
    );
    assert_eq!(
        head.archive_status(),
        Some(&ArchiveStatus::DeepArchiveAccess)
    );
    assert_eq!(get_status(&fx, "tiered").await, Err(invalid_state()));
    restore(&fx, "tiered", 1).await.unwrap();
    assert_eq!(get_status(&fx, "tiered").await.unwrap(), b"cold bytes");
}
