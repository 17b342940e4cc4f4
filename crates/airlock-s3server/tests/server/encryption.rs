//! SSE-KMS, DSSE-KMS and SSE-C as S3 reports them (`set_sse_etags`, `set_default_encryption`):
//! opaque ETags, stable per object version, and the encryption on HEAD and GET.

use airlock_s3server::DefaultEncryption;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use base64::Engine as _;

use crate::support::*;

const KEY_ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/test";

fn unquoted(etag: &str) -> &str {
    etag.trim_matches('"')
}

fn is_opaque(etag: &str, data: &[u8]) -> bool {
    let value = unquoted(etag);
    value.len() == 32 && value.chars().all(|c| c.is_ascii_hexdigit()) && value != md5_hex(data)
}

async fn put_sse(fx: &Fixture, key: &str, data: &[u8], sse: ServerSideEncryption) -> String {
    let request = fx.client.put_object().bucket(BUCKET).key(key);
    let request = request.server_side_encryption(sse).ssekms_key_id(KEY_ARN);
    let out = request
        .body(ByteStream::from(data.to_vec()))
        .send()
        .await
        .unwrap();
    out.e_tag().unwrap().to_string()
}

#[tokio::test]
async fn kms_objects_get_opaque_etags_and_report_their_encryption() {
    let fx = Fixture::faithful().await;
    let data = bytes(3000, 1);
    // Off: the header is ignored, the ETag is the MD5, nothing is reported.
    let etag = put_sse(&fx, "kms", &data, ServerSideEncryption::AwsKms).await;
    assert_eq!(unquoted(&etag), md5_hex(&data));
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("kms")
        .send()
        .await
        .unwrap();
    assert_eq!(head.server_side_encryption(), None);

    fx.server.behaviours().set_sse_etags(true);
    let etag = put_sse(&fx, "kms", &data, ServerSideEncryption::AwsKms).await;
    assert!(is_opaque(&etag, &data), "{etag}");
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("kms")
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), Some(etag.as_str()), "stable for this version");
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(head.ssekms_key_id(), Some(KEY_ARN));
    let get = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key("kms")
        .if_match(&etag);
    let got = get.send().await.unwrap();
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(
        got.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        data.as_slice()
    );
    // Listings show the same ETag (s3s-fs lists none).
    let listed = fx
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("kms")
        .send()
        .await;
    let listed = listed.unwrap();
    assert_eq!(listed.contents()[0].e_tag(), Some(etag.as_str()));
    // The same bytes written again: another version, another ETag.
    let again = put_sse(&fx, "kms", &data, ServerSideEncryption::AwsKms).await;
    assert!(is_opaque(&again, &data) && again != etag);

    let dsse = put_sse(&fx, "dsse", &data, ServerSideEncryption::AwsKmsDsse).await;
    assert!(is_opaque(&dsse, &data), "{dsse}");
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("dsse")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKmsDsse)
    );
    // SSE-S3 keeps MD5 ETags, as in S3.
    let aes = put_sse(&fx, "aes", &data, ServerSideEncryption::Aes256).await;
    assert_eq!(unquoted(&aes), md5_hex(&data));
}

#[tokio::test]
async fn a_bucket_default_kms_key_encrypts_every_new_object() {
    let fx = Fixture::faithful().await;
    let data = bytes(100, 2);
    fx.server
        .behaviours()
        .set_default_encryption(Some(DefaultEncryption::Kms {
            key_id: Some(KEY_ARN.into()),
        }));
    let etag = fx.put("plain", &data).await;
    assert!(is_opaque(&etag, &data), "{etag}");
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("plain")
        .send()
        .await;
    let head = head.unwrap();
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(head.ssekms_key_id(), Some(KEY_ARN));
    let aes = put_sse(&fx, "aes", &data, ServerSideEncryption::Aes256).await;
    assert_eq!(unquoted(&aes), md5_hex(&data), "an explicit SSE-S3 wins");

    fx.server.behaviours().set_default_encryption(None);
    assert_eq!(unquoted(&fx.put("later", &data).await), md5_hex(&data));
}

#[tokio::test]
async fn sse_c_objects_have_opaque_etags_and_need_their_key_to_be_read() {
    let fx = Fixture::faithful().await;
    fx.server.behaviours().set_sse_etags(true);
    let data = bytes(500, 3);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let (key, other) = ([7u8; 32], [8u8; 32]);
    let put = fx.client.put_object().bucket(BUCKET).key("ssec");
    let put = put
        .sse_customer_algorithm("AES256")
        .sse_customer_key(b64(&key))
        .sse_customer_key_md5(md5_b64(&key));
    let out = put
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    let etag = out.e_tag().unwrap().to_string();
    assert!(is_opaque(&etag, &data), "{etag}");
    assert_eq!(out.sse_customer_key_md5(), Some(md5_b64(&key).as_str()));

    let head = || fx.client.head_object().bucket(BUCKET).key("ssec");
    let err = head().send().await.unwrap_err();
    assert_eq!(status(&err), 400, "no key: the object cannot be read");
    let with = |k: &[u8]| {
        head()
            .sse_customer_algorithm("AES256")
            .sse_customer_key(b64(k))
            .sse_customer_key_md5(md5_b64(k))
    };
    let err = with(&other).send().await.unwrap_err();
    assert_eq!(status(&err), 403, "another key");
    let head = with(&key).send().await.unwrap();
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(head.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(head.sse_customer_key_md5(), Some(md5_b64(&key).as_str()));
}

#[tokio::test]
async fn kms_multipart_uploads_have_opaque_part_and_object_etags() {
    let fx = Fixture::faithful().await;
    fx.server.behaviours().set_sse_etags(true);
    let data = bytes(MIB, 4);
    let created = fx.client.create_multipart_upload().bucket(BUCKET).key("mp");
    let created = created.server_side_encryption(ServerSideEncryption::AwsKms);
    let created = created.send().await.unwrap();
    assert_eq!(
        created.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    let upload_id = created.upload_id().unwrap();
    let part = fx
        .client
        .upload_part()
        .bucket(BUCKET)
        .key("mp")
        .upload_id(upload_id);
    let part = part.part_number(1).body(ByteStream::from(data.clone()));
    let part_etag = part.send().await.unwrap().e_tag().unwrap().to_string();
    assert!(is_opaque(&part_etag, &data), "{part_etag}");
    let parts = CompletedPart::builder()
        .part_number(1)
        .e_tag(&part_etag)
        .build();
    let completed = CompletedMultipartUpload::builder().parts(parts).build();
    let complete = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("mp");
    let done = complete.upload_id(upload_id).multipart_upload(completed);
    let done = done.send().await.unwrap();
    let etag = done.e_tag().unwrap().to_string();
    let (value, count) = unquoted(&etag).split_once('-').unwrap();
    assert_eq!(count, "1");
    assert!(is_opaque(value, &data));
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("mp")
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(fx.get("mp").await, data);
}
