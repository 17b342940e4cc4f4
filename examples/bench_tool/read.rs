//! Reads for `verify` (every byte compared with the regenerated dataset) and `get-ceiling`
//! (bytes discarded), plus the listing check and `clear`. Objects larger than the piece size are
//! read in ranges, and all pieces of all objects share one queue of `concurrency` GETs.

use std::collections::{HashMap, HashSet};

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use futures::{StreamExt, TryStreamExt};

use crate::dataset::{ObjectSpec, generate, pieces};
use crate::write::error_text;

/// What reading found.
#[derive(Debug, Default)]
pub(crate) struct ReadOutcome {
    /// Objects whose every byte matched (verify only).
    pub ok: u64,
    /// Objects with a wrong byte, a wrong length or a failed GET (verify only).
    pub mismatch: u64,
}

/// GET every object (in ranges of `piece_bytes`); compare with the dataset when `verify`.
pub(crate) async fn read_all(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    objects: &[ObjectSpec],
    piece_bytes: u64,
    concurrency: usize,
    verify: bool,
) -> Result<ReadOutcome, String> {
    let work = objects.iter().enumerate().flat_map(|(index, object)| {
        let whole = object.size_bytes <= piece_bytes;
        pieces(object.size_bytes, piece_bytes)
            .into_iter()
            .map(move |(offset, length)| (index, object, whole, offset, length))
    });
    let results: Vec<(usize, Result<bool, String>)> = futures::stream::iter(work)
        .map(|(index, object, whole, offset, length)| async move {
            let piece = read_piece(client, bucket, object, whole, offset, length, verify).await;
            (index, piece)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut good = vec![true; objects.len()];
    for (index, result) in results {
        match result {
            Ok(true) => {}
            Ok(false) => good[index] = false,
            Err(e) if verify => {
                eprintln!("verify: {e}");
                good[index] = false;
            }
            Err(e) => return Err(e),
        }
    }
    let ok = good.iter().filter(|g| **g).count() as u64;
    Ok(ReadOutcome {
        ok: if verify { ok } else { 0 },
        mismatch: if verify { objects.len() as u64 - ok } else { 0 },
    })
}

/// One GET; `Ok(false)` when the bytes or their length differ from the dataset.
async fn read_piece(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    object: &ObjectSpec,
    whole: bool,
    offset: u64,
    length: u64,
    verify: bool,
) -> Result<bool, String> {
    let key = &object.key;
    let mut request = client.get_object().bucket(bucket).key(key);
    if !whole {
        request = request.range(format!("bytes={offset}-{}", offset + length - 1));
    }
    let out = request
        .send()
        .await
        .map_err(|e| format!("GetObject '{key}' at {offset}: {}", error_text(&e)))?;
    let mut body = out.body;
    let mut position = offset;
    let mut expected = Vec::new();
    let mut same = true;
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| format!("reading '{key}' at {position}: {}", error_text(&e)))?
    {
        if verify && same {
            expected.resize(chunk.len(), 0);
            generate(object.seed, position, &mut expected);
            same = chunk[..] == expected[..];
            if !same {
                eprintln!(
                    "verify: '{key}' differs in the {} bytes at {position}",
                    chunk.len()
                );
            }
        }
        position += chunk.len() as u64;
    }
    let read = position - offset;
    if read != length {
        eprintln!("verify: '{key}' at {offset}: read {read} bytes, expected {length}");
        return Ok(false);
    }
    Ok(same)
}

/// Keys of the dataset not at the target, and keys at the target not in the dataset.
pub(crate) struct ListingCheck {
    pub missing: u64,
    pub extra: u64,
}

/// List the bucket under the dataset's prefix and compare keys and sizes.
pub(crate) async fn compare_listing(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    objects: &[ObjectSpec],
) -> Result<ListingCheck, String> {
    let listed: HashMap<String, u64> = list(client, bucket, airlock::demo::PREFIX)
        .await?
        .into_iter()
        .collect();
    let wanted: HashSet<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    let mut missing = 0;
    for object in objects {
        match listed.get(&object.key) {
            Some(size) if *size == object.size_bytes => {}
            Some(size) => {
                eprintln!(
                    "verify: '{}' is {size} bytes at the target, expected {}",
                    object.key, object.size_bytes
                );
                missing += 1;
            }
            None => missing += 1,
        }
    }
    let extra = listed
        .keys()
        .filter(|k| !wanted.contains(k.as_str()))
        .count() as u64;
    Ok(ListingCheck { missing, extra })
}

/// Every key and size under `prefix`.
async fn list(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(String, u64)>, String> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListObjectsV2 '{bucket}': {}", error_text(&e)))?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                keys.push((key.to_string(), object.size().unwrap_or(0) as u64));
            }
        }
    }
    Ok(keys)
}

/// Delete every object under `prefix`, 1,000 per request; returns how many.
pub(crate) async fn clear(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<usize, String> {
    let keys = list(client, bucket, prefix).await?;
    let batches = keys.chunks(1000).map(|batch| async move {
        let objects = batch
            .iter()
            .map(|(key, _)| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| e.to_string())?;
        let out = client
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| format!("DeleteObjects '{bucket}': {}", error_text(&e)))?;
        match out.errors().first() {
            Some(error) => Err(format!(
                "DeleteObjects '{bucket}': '{}' {}",
                error.key().unwrap_or_default(),
                error.message().unwrap_or_default()
            )),
            None => Ok(()),
        }
    });
    futures::stream::iter(batches)
        .buffer_unordered(4)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(keys.len())
}
