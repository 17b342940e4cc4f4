//! The behaviours decided from the raw request (module `gate`): each answers as AWS does with
//! its switch on, and as before with it off.

use airlock_s3server::Flavor;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectCannedAcl, RequestPayer};

use crate::support::*;

#[tokio::test]
async fn a_bucket_in_another_region_answers_301_with_its_region() {
    let fx = Fixture::faithful().await;
    fx.put("k", b"data").await;
    let behaviours = fx.server.behaviours();

    // Off: any signing region is accepted, as s3s-fs does.
    fx.client.head_bucket().bucket(BUCKET).send().await.unwrap();

    behaviours.set_bucket_region(Some("eu-west-1"));
    let err = fx.client.head_bucket().bucket(BUCKET).send().await;
    let err = err.unwrap_err();
    assert_eq!(status(&err), 301);
    let raw = err.raw_response().unwrap();
    assert_eq!(raw.headers().get("x-amz-bucket-region"), Some("eu-west-1"));
    assert!(
        raw.body().bytes().unwrap_or_default().is_empty(),
        "HEAD has no body"
    );

    let err = fx.client.get_object().bucket(BUCKET).key("k").send().await;
    let err = err.unwrap_err();
    assert_eq!(status(&err), 301);
    assert_eq!(code(&err).as_deref(), Some("PermanentRedirect"));
    let raw = err.raw_response().unwrap();
    assert_eq!(raw.headers().get("x-amz-bucket-region"), Some("eu-west-1"));

    // Signed for the bucket's region, everything works, and HeadBucket says where it is.
    let local = client_signing(&fx.server, "eu-west-1", None);
    let head = local.head_bucket().bucket(BUCKET).send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let got = local
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"data"
    );
    // GetBucketLocation answers from any region: it is how a client finds the region.
    let location = fx.client.get_bucket_location().bucket(BUCKET).send().await;
    let constraint = location.unwrap().location_constraint().cloned();
    assert_eq!(constraint.unwrap().as_str(), "eu-west-1");

    behaviours.set_bucket_region(None);
    fx.client.head_bucket().bucket(BUCKET).send().await.unwrap();
}

#[tokio::test]
async fn a_session_token_expires_after_its_requests_and_a_new_one_works() {
    let fx = Fixture::faithful().await;
    fx.put("k", b"data").await;
    let first = client_signing(&fx.server, "us-east-1", Some("token-1"));
    let head = |client: &aws_sdk_s3::Client| {
        let request = client.head_object().bucket(BUCKET).key("k");
        async move { request.send().await }
    };
    // Off: a token is never refused.
    for _ in 0..3 {
        head(&first).await.unwrap();
    }

    fx.server.behaviours().set_token_lifetime(Some(2));
    head(&first).await.unwrap();
    head(&first).await.unwrap();
    for _ in 0..2 {
        let err = first.get_object().bucket(BUCKET).key("k").send().await;
        let err = err.unwrap_err();
        assert_eq!(status(&err), 400);
        assert_eq!(code(&err).as_deref(), Some("ExpiredToken"));
        assert_eq!(
            aws_sdk_s3::error::ProvideErrorMetadata::message(&err),
            Some("The provided token has expired.")
        );
    }
    // Fresh credentials (a new token value) work; long-term keys were never affected.
    let second = client_signing(&fx.server, "us-east-1", Some("token-2"));
    head(&second).await.unwrap();
    for _ in 0..5 {
        head(&fx.client).await.unwrap();
    }
}

#[tokio::test]
async fn acl_headers_are_refused_when_the_bucket_has_acls_disabled() {
    let fx = Fixture::faithful().await;
    let put = |acl: ObjectCannedAcl| {
        let request = fx.client.put_object().bucket(BUCKET).key("k").acl(acl);
        async move { request.body(ByteStream::from_static(b"x")).send().await }
    };
    let put_acl = || {
        let request = fx.client.put_object_acl().bucket(BUCKET).key("k");
        async move { request.acl(ObjectCannedAcl::Private).send().await }
    };
    // Off: s3s-fs ignores ACL headers and has no PutObjectAcl.
    put(ObjectCannedAcl::PublicRead).await.unwrap();
    assert_eq!(status(&put_acl().await.unwrap_err()), 501);

    fx.server.behaviours().set_acls_disabled(true);
    let refused = put(ObjectCannedAcl::PublicRead).await.unwrap_err();
    assert_eq!(status(&refused), 400);
    assert_eq!(
        code(&refused).as_deref(),
        Some("AccessControlListNotSupported")
    );
    let grant = fx.client.put_object().bucket(BUCKET).key("g");
    let grant = grant
        .grant_read("id=someone")
        .body(ByteStream::from_static(b"x"));
    let err = grant.send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessControlListNotSupported"));
    let err = put_acl().await.unwrap_err();
    assert_eq!(status(&err), 400);
    assert_eq!(code(&err).as_deref(), Some("AccessControlListNotSupported"));
    // The one ACL S3 still takes, and requests without any.
    put(ObjectCannedAcl::BucketOwnerFullControl).await.unwrap();
    fx.put("plain", b"y").await;
}

/// User metadata of exactly `size_bytes` (key plus value, as S3 counts it).
fn metadata_of(size_bytes: usize) -> std::collections::HashMap<String, String> {
    let value = "v".repeat(size_bytes - "key".len());
    [("key".to_string(), value)].into()
}

#[tokio::test]
async fn user_metadata_over_2_kb_is_refused_with_metadata_too_large() {
    let fx = Fixture::faithful().await;
    let put = |size_bytes: usize| {
        let request = fx.client.put_object().bucket(BUCKET).key("k");
        let request = request.set_metadata(Some(metadata_of(size_bytes)));
        async move { request.body(ByteStream::from_static(b"x")).send().await }
    };
    // Off: s3s-fs takes any size.
    put(4000).await.unwrap();

    fx.server.behaviours().set_metadata_limit(true);
    put(2048).await.unwrap();
    let err = put(2049).await.unwrap_err();
    assert_eq!(status(&err), 400);
    assert_eq!(code(&err).as_deref(), Some("MetadataTooLarge"));
    let create = fx.client.create_multipart_upload().bucket(BUCKET).key("m");
    let err = create.set_metadata(Some(metadata_of(3000))).send().await;
    assert_eq!(code(&err.unwrap_err()).as_deref(), Some("MetadataTooLarge"));
    // A plain copy keeps the source's metadata: the request's is not counted.
    fx.client
        .copy_object()
        .bucket(BUCKET)
        .key("copy")
        .copy_source(format!("{BUCKET}/k"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn requester_pays_refuses_requests_that_do_not_accept_the_charge() {
    let fx = Fixture::faithful().await;
    fx.put("k", b"data").await;
    let get = |payer: Option<RequestPayer>| {
        let request = fx.client.get_object().bucket(BUCKET).key("k");
        async move { request.set_request_payer(payer).send().await }
    };
    get(None).await.unwrap();

    fx.server.behaviours().set_requester_pays(true);
    let err = get(None).await.unwrap_err();
    assert_eq!(status(&err), 403);
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"));
    let listed = fx.client.list_objects_v2().bucket(BUCKET).send().await;
    assert_eq!(status(&listed.unwrap_err()), 403);
    get(Some(RequestPayer::Requester)).await.unwrap();
    let listed = fx.client.list_objects_v2().bucket(BUCKET);
    let listed = listed.request_payer(RequestPayer::Requester).send().await;
    assert_eq!(listed.unwrap().contents().len(), 1);
    // ListBuckets names no bucket.
    fx.client.list_buckets().send().await.unwrap();
}

#[tokio::test]
async fn gate_switches_work_on_the_plain_flavor_too() {
    let fx = Fixture::plain().await;
    fx.put("k", b"data").await;
    fx.server.behaviours().set_requester_pays(true);
    let err = fx.client.get_object().bucket(BUCKET).key("k").send().await;
    assert_eq!(status(&err.unwrap_err()), 403);
    let fx = fx.restart(Flavor::Plain).await;
    fx.get("k").await;
}
