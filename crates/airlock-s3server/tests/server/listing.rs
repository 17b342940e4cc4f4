//! Listings with the switched behaviours: folder markers (`set_folder_markers`), keys that are
//! not valid XML 1.0 (`set_url_encoding`, `set_xml_char_refs`), and ListObjectVersions.

use aws_sdk_s3::types::EncodingType;

use crate::raw;
use crate::support::*;

const EMPTY_MD5: &str = "\"d41d8cd98f00b204e9800998ecf8427e\"";

/// Every key and common prefix of the bucket, through pages of `page` entries.
async fn list_all(
    fx: &Fixture,
    prefix: Option<&str>,
    delimiter: Option<&str>,
    page: i32,
) -> (Vec<String>, Vec<String>) {
    let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
    let mut token = None;
    loop {
        let request = fx.client.list_objects_v2().bucket(BUCKET).max_keys(page);
        let request = request.set_prefix(prefix.map(str::to_string));
        let request = request.set_delimiter(delimiter.map(str::to_string));
        let out = request.set_continuation_token(token).send().await.unwrap();
        keys.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        prefixes.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        token = out.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return (keys, prefixes);
        }
    }
}

#[tokio::test]
async fn folder_markers_are_objects_as_in_s3() {
    let fx = Fixture::faithful().await;
    // Off: s3s-fs makes a directory of the key; it is never listed and cannot be read.
    let put = fx.client.put_object().bucket(BUCKET).key("before/");
    let put = put.body(aws_sdk_s3::primitives::ByteStream::from_static(b""));
    assert_eq!(
        put.send().await.unwrap().e_tag(),
        None,
        "s3s-fs gives it no ETag"
    );
    assert!(list_all(&fx, None, None, 1000).await.0.is_empty());
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("before/")
        .send()
        .await;
    assert!(status(&head.unwrap_err()) >= 400);

    fx.server.behaviours().set_folder_markers(true);
    assert_eq!(fx.put("docs/", b"").await, EMPTY_MD5);
    fx.put("docs/a.txt", b"a").await;
    fx.put("empty/", b"").await;
    fx.put("top", b"t").await;

    let (keys, _) = list_all(&fx, None, None, 2).await;
    assert_eq!(keys, ["docs/", "docs/a.txt", "empty/", "top"], "paged by 2");
    let listed = fx
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("docs/")
        .send()
        .await;
    let listed = listed.unwrap();
    let marker = &listed.contents()[0];
    assert_eq!(
        (marker.key(), marker.size(), marker.e_tag()),
        (Some("docs/"), Some(0), Some(EMPTY_MD5))
    );
    // A delimiter rolls markers into common prefixes, like the keys under them.
    let (keys, prefixes) = list_all(&fx, None, Some("/"), 1).await;
    assert_eq!(
        (keys, prefixes),
        (
            vec!["top".to_string()],
            vec!["docs/".to_string(), "empty/".to_string()]
        )
    );
    let (keys, prefixes) = list_all(&fx, Some("docs/"), Some("/"), 1000).await;
    assert_eq!(keys, ["docs/", "docs/a.txt"]);
    assert!(prefixes.is_empty());

    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("docs/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (head.content_length(), head.e_tag()),
        (Some(0), Some(EMPTY_MD5))
    );
    assert!(fx.get("docs/").await.is_empty());
    let missing = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("nothing/")
        .send()
        .await;
    assert_eq!(status(&missing.unwrap_err()), 404);

    fx.client
        .delete_object()
        .bucket(BUCKET)
        .key("docs/")
        .send()
        .await
        .unwrap();
    let (keys, _) = list_all(&fx, None, None, 1000).await;
    assert_eq!(keys, ["docs/a.txt", "empty/", "top"]);
    let gone = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key("docs/")
        .send()
        .await;
    assert_eq!(status(&gone.unwrap_err()), 404);
}

const CONTROL_KEY: &str = "ctl\u{1}key";

#[tokio::test]
async fn keys_that_are_not_xml_need_url_encoding() {
    let fx = Fixture::faithful().await;
    fx.put(CONTROL_KEY, b"c").await;
    fx.put("a b+c", b"s").await;
    let list = |url: bool| {
        let request = fx.client.list_objects_v2().bucket(BUCKET);
        let request = request.set_encoding_type(url.then_some(EncodingType::Url));
        async move { request.send().await }
    };
    // Off: s3s-fs writes the control character raw and ignores encoding-type: the SDK cannot
    // parse the page (the server answered 200).
    for url in [false, true] {
        let err = list(url).await.unwrap_err();
        assert_eq!(status(&err), 200, "{err:?}");
    }

    fx.server.behaviours().set_url_encoding(true);
    let out = list(true).await.unwrap();
    assert_eq!(out.encoding_type(), Some(&EncodingType::Url));
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a+b%2Bc", "ctl%01key"]);
    let (status_raw, answer) = raw::get(
        &fx.server,
        &format!("/{BUCKET}?list-type=2&encoding-type=url"),
    )
    .await;
    assert_eq!(status_raw, 200);
    assert!(
        answer.contains("<EncodingType>url</EncodingType>"),
        "{answer}"
    );
    // Without it, the key is still raw.
    assert_eq!(status(&list(false).await.unwrap_err()), 200);

    // AWS writes it as a character reference instead; this SDK's parser decodes that.
    fx.server.behaviours().set_xml_char_refs(true);
    let (_, answer) = raw::get(&fx.server, &format!("/{BUCKET}?list-type=2")).await;
    assert!(answer.contains("<Key>ctl&#x1;key</Key>"), "{answer}");
    let out = list(false).await.unwrap();
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a b+c", CONTROL_KEY]);
}

#[tokio::test]
async fn list_object_versions_and_list_objects_encode_their_markers() {
    let fx = Fixture::faithful().await;
    for key in ["a b", CONTROL_KEY, "z"] {
        fx.put(key, b"x").await;
    }
    // Off: s3s-fs has no ListObjectVersions.
    let versions = fx.client.list_object_versions().bucket(BUCKET).send().await;
    assert_eq!(status(&versions.unwrap_err()), 501);

    fx.server.behaviours().set_url_encoding(true);
    let versions = fx
        .client
        .list_object_versions()
        .bucket(BUCKET)
        .encoding_type(EncodingType::Url);
    let out = versions.key_marker("a b").max_keys(1).send().await.unwrap();
    assert_eq!(out.key_marker(), Some("a+b"));
    let listed: Vec<_> = out
        .versions()
        .iter()
        .map(|v| (v.key().unwrap(), v.version_id().unwrap(), v.is_latest()))
        .collect();
    assert_eq!(listed, [("ctl%01key", "null", Some(true))]);
    assert_eq!(out.is_truncated(), Some(true));
    assert_eq!(
        (out.next_key_marker(), out.next_version_id_marker()),
        (Some("ctl%01key"), Some("null"))
    );

    let v1 = fx
        .client
        .list_objects()
        .bucket(BUCKET)
        .encoding_type(EncodingType::Url);
    let out = v1
        .marker("a b")
        .delimiter("/")
        .max_keys(1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.marker(), Some("a+b"));
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["ctl%01key"]);
    assert_eq!(out.next_marker(), Some("ctl%01key"));
}
