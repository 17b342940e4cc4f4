//! A multipart object keeps its part layout, as on S3: HEAD and GET with `partNumber=N` answer
//! that part (length, bytes, `x-amz-mp-parts-count`), GetObjectAttributes lists the parts with
//! their sizes and checksums, and a COMPOSITE CRC32 upload reports `value-N` with its type.
//! With `set_small_parts_allowed`, parts under 5 MiB are accepted (a kinder store); with
//! `set_listed_etags`, listings carry every object's ETag, as S3's do.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
    ObjectAttributes,
};
use base64::Engine as _;

use crate::support::*;

/// Upload `parts` at `key` with a COMPOSITE CRC32 (the SDK computes each part's value).
async fn upload_crc32(fx: &Fixture, key: &str, parts: &[Vec<u8>]) -> Vec<String> {
    let sender = checksumming_client(&fx.server);
    let created = sender
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap();
    let (mut done, mut crcs) = (Vec::new(), Vec::new());
    for (i, body) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let part = sender
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(upload_id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        let crc = part
            .checksum_crc32()
            .expect("echoed part CRC32")
            .to_string();
        assert_eq!(crc, crc32_b64(body));
        crcs.push(crc.clone());
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(part.e_tag().unwrap())
                .checksum_crc32(crc)
                .build(),
        );
    }
    let completed = sender
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(completed.checksum_type(), Some(&ChecksumType::Composite));
    crcs
}

fn composite_crc32(part_crcs: &[String]) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let raw: Vec<u8> = part_crcs
        .iter()
        .flat_map(|c| engine.decode(c).unwrap())
        .collect();
    format!("{}-{}", crc32_b64(&raw), part_crcs.len())
}

#[tokio::test]
async fn part_numbers_answer_their_part_and_the_part_count() {
    let fx = Fixture::faithful().await;
    let parts = [bytes(5 * MIB, 1), bytes(5 * MIB, 2), bytes(MIB + 3, 3)];
    let crcs = upload_crc32(&fx, "p.bin", &parts).await;

    for (i, part) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let head = fx
            .client
            .head_object()
            .bucket(BUCKET)
            .key("p.bin")
            .part_number(n)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_length(), Some(part.len() as i64), "part {n}");
        assert_eq!(head.parts_count(), Some(3), "part {n}");
        let get = fx
            .client
            .get_object()
            .bucket(BUCKET)
            .key("p.bin")
            .part_number(n)
            .send()
            .await
            .unwrap();
        assert_eq!(get.parts_count(), Some(3));
        let body = get.body.collect().await.unwrap().into_bytes();
        assert!(body.as_ref() == part.as_slice(), "part {n} bytes");
    }
    let beyond = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("p.bin")
        .part_number(4)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&beyond), 416);

    // The whole object: its COMPOSITE checksum, `-N` and the type, as S3 reports it.
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("p.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), Some(composite_crc32(&crcs).as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::Composite));
    assert_eq!(head.parts_count(), None);
}

#[tokio::test]
async fn get_object_attributes_lists_the_parts_page_by_page() {
    let fx = Fixture::faithful().await;
    let parts = [bytes(5 * MIB, 4), bytes(5 * MIB, 5), bytes(7, 6)];
    let crcs = upload_crc32(&fx, "a.bin", &parts).await;
    let attributes = |marker: Option<String>| {
        fx.client
            .get_object_attributes()
            .bucket(BUCKET)
            .key("a.bin")
            .object_attributes(ObjectAttributes::ObjectParts)
            .object_attributes(ObjectAttributes::Checksum)
            .object_attributes(ObjectAttributes::ObjectSize)
            .max_parts(2)
            .set_part_number_marker(marker)
            .send()
    };
    let first = attributes(None).await.unwrap();
    assert_eq!(first.object_size(), Some((10 * MIB + 7) as i64));
    let checksum = first.checksum().expect("checksum");
    assert_eq!(checksum.checksum_type(), Some(&ChecksumType::Composite));
    let page = first.object_parts().expect("parts");
    assert_eq!(page.total_parts_count(), Some(3));
    assert_eq!(page.is_truncated(), Some(true));
    let listed: Vec<(Option<i32>, Option<i64>, Option<&str>)> = page
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size(), p.checksum_crc32()))
        .collect();
    assert_eq!(
        listed,
        [
            (Some(1), Some(5 * MIB as i64), Some(crcs[0].as_str())),
            (Some(2), Some(5 * MIB as i64), Some(crcs[1].as_str())),
        ]
    );
    let next = page.next_part_number_marker().map(str::to_string);
    let second = attributes(next).await.unwrap();
    let page = second.object_parts().expect("parts");
    assert_eq!(page.is_truncated(), Some(false));
    assert_eq!(page.parts().len(), 1);
    assert_eq!(page.parts()[0].size(), Some(7));

    // A single PUT has no parts to list.
    fx.put("single.bin", b"abc").await;
    let single = fx
        .client
        .get_object_attributes()
        .bucket(BUCKET)
        .key("single.bin")
        .object_attributes(ObjectAttributes::ObjectParts)
        .send()
        .await
        .unwrap();
    assert!(single.object_parts().is_none());
}

#[tokio::test]
async fn small_parts_are_refused_unless_the_kind_store_switch_is_on() {
    let fx = Fixture::faithful().await;
    let parts = [bytes(MIB, 7), bytes(MIB, 8)];
    let refused = tokio::spawn({
        let client = checksumming_client(&fx.server);
        let parts = parts.clone();
        async move {
            let created = client
                .create_multipart_upload()
                .bucket(BUCKET)
                .key("small.bin")
                .send()
                .await
                .unwrap();
            let id = created.upload_id().unwrap().to_string();
            let mut done = Vec::new();
            for (i, body) in parts.iter().enumerate() {
                let n = i as i32 + 1;
                let part = client
                    .upload_part()
                    .bucket(BUCKET)
                    .key("small.bin")
                    .upload_id(&id)
                    .part_number(n)
                    .body(ByteStream::from(body.clone()))
                    .send()
                    .await
                    .unwrap();
                done.push(
                    CompletedPart::builder()
                        .part_number(n)
                        .e_tag(part.e_tag().unwrap())
                        .build(),
                );
            }
            client
                .complete_multipart_upload()
                .bucket(BUCKET)
                .key("small.bin")
                .upload_id(&id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(done))
                        .build(),
                )
                .send()
                .await
        }
    });
    let err = refused.await.unwrap().unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("EntityTooSmall"));

    fx.server.behaviours().set_small_parts_allowed(true);
    upload_crc32(&fx, "small.bin", &parts).await;
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("small.bin")
        .part_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (head.content_length(), head.parts_count()),
        (Some(MIB as i64), Some(2))
    );
}

#[tokio::test]
async fn listings_carry_etags_as_s3s_do_when_switched_on() {
    let fx = Fixture::faithful().await;
    upload_crc32(&fx, "parts.bin", &[bytes(5 * MIB, 1), bytes(MIB, 2)]).await;
    let put = fx.client.put_object().bucket(BUCKET).key("one.bin");
    put.body(ByteStream::from(b"hello".to_vec()))
        .send()
        .await
        .unwrap();
    let listed = |fx: &Fixture| {
        let list = fx.client.list_objects_v2().bucket(BUCKET).send();
        async move {
            let out = list.await.unwrap();
            let contents = out.contents().iter();
            let pairs =
                contents.map(|o| (o.key().unwrap().to_string(), o.e_tag().map(str::to_string)));
            pairs.collect::<Vec<_>>()
        }
    };
    // s3s-fs lists no ETag.
    assert!(listed(&fx).await.iter().all(|(_, etag)| etag.is_none()));

    fx.server.behaviours().set_listed_etags(true);
    let mut heads = Vec::new();
    for key in ["one.bin", "parts.bin"] {
        let head = fx
            .client
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        heads.push((key.to_string(), head.e_tag().map(str::to_string)));
    }
    assert_eq!(listed(&fx).await, heads);
    assert!(
        heads[1].1.as_deref().unwrap().ends_with("-2\""),
        "{heads:?}"
    );
}
