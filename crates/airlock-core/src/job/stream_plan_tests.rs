//! The merge-join on its own: listings as pages of objects, checked against a plain
//! map-based join.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;

use super::*;
use crate::config::FilterSettings;

fn object(key: &str, size: u64) -> ObjectInfo {
    ObjectInfo {
        key: key.into(),
        size,
        ..Default::default()
    }
}

/// A listing of `keys` cut into pages of `page` keys.
fn pages(side: &'static str, prefix: &str, keys: &[&str], page: usize) -> Pages {
    let (tx, rx) = mpsc::channel(keys.len() + 1);
    for chunk in keys.chunks(page.max(1)) {
        tx.try_send(Ok(chunk
            .iter()
            .map(|k| object(k, k.len() as u64))
            .collect()))
            .unwrap();
    }
    Pages::of(side, "bucket", prefix, rx)
}

/// What the merge gives, in words: `copy S -> T (target: yes|no)` and `delete T`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Seen {
    Copy(String, String, bool),
    Delete(String),
}

struct Case<'a> {
    source_prefix: &'a str,
    target_prefix: &'a str,
    source: Vec<&'a str>,
    target: Vec<&'a str>,
    mirror: bool,
    filter: FilterSettings,
}

impl Case<'_> {
    async fn merge(&self, page: usize) -> std::result::Result<Vec<Seen>, String> {
        let mut selection = Filter::new(&self.filter, self.source_prefix, None, 0).unwrap();
        let mut merge = Merge {
            source: pages("source", self.source_prefix, &self.source, page),
            target: pages("target", self.target_prefix, &self.target, page),
            source_prefix: self.source_prefix.into(),
            target_prefix: self.target_prefix.into(),
            state_prefix: ".airlock/".into(),
            pending: None,
            selection: &mut selection,
            mirror: self
                .mirror
                .then(|| Filter::new(&self.filter, self.source_prefix, None, 0).unwrap()),
        };
        let mut seen = Vec::new();
        loop {
            match merge.next().await {
                Ok(Some(Joined::Pair {
                    source,
                    target_key,
                    target,
                })) => {
                    if let Some(t) = &target {
                        assert_eq!(t.key, target_key, "a pair joins on the target key");
                    }
                    seen.push(Seen::Copy(source.key, target_key, target.is_some()));
                }
                Ok(Some(Joined::Orphan(t))) => seen.push(Seen::Delete(t.key.clone())),
                Ok(None) => return Ok(seen),
                Err(Stop::OutOfOrder(why)) => return Err(why),
                Err(Stop::Failed(e)) => panic!("{e}"),
            }
        }
    }
}

fn copy(s: &str, t: &str, there: bool) -> Seen {
    Seen::Copy(s.into(), t.into(), there)
}

fn delete(t: &str) -> Seen {
    Seen::Delete(t.into())
}

#[tokio::test]
async fn interleaved_listings_join_in_target_key_order_whatever_the_page_size() {
    let case = Case {
        source_prefix: "in/",
        target_prefix: "out/",
        source: vec!["in/a", "in/c", "in/e", "in/e/x"],
        target: vec!["out/.b", "out/b", "out/c", "out/d", "out/e/x", "out/f"],
        mirror: true,
        filter: FilterSettings::default(),
    };
    let expected = vec![
        delete("out/.b"),
        copy("in/a", "out/a", false),
        delete("out/b"),
        copy("in/c", "out/c", true),
        delete("out/d"),
        copy("in/e", "out/e", false),
        copy("in/e/x", "out/e/x", true),
        delete("out/f"),
    ];
    for page in [1, 2, 3, 1000] {
        assert_eq!(case.merge(page).await.unwrap(), expected, "pages of {page}");
    }
}

#[tokio::test]
async fn copy_mode_deletes_nothing_and_state_objects_are_never_deleted() {
    let mut case = Case {
        source_prefix: "",
        target_prefix: "",
        source: vec!["b"],
        target: vec![".airlock/uploads/x.json", "a", "b", "c"],
        mirror: false,
        filter: FilterSettings::default(),
    };
    assert_eq!(case.merge(2).await.unwrap(), vec![copy("b", "b", true)]);
    case.mirror = true;
    assert_eq!(
        case.merge(2).await.unwrap(),
        vec![delete("a"), copy("b", "b", true), delete("c")]
    );
}

#[tokio::test]
async fn a_filtered_out_source_object_still_counts_as_a_counterpart() {
    // 'x.csv' is left out at the source: its target copy is not a deletion. 'old.csv' has no
    // counterpart but the include filter would not select it: kept too.
    let case = Case {
        source_prefix: "in/",
        target_prefix: "out/",
        source: vec!["in/a.parquet", "in/x.csv"],
        target: vec!["out/gone.parquet", "out/old.csv", "out/x.csv"],
        mirror: true,
        filter: FilterSettings {
            include: vec!["**/*.parquet".into()],
            ..Default::default()
        },
    };
    assert_eq!(
        case.merge(1).await.unwrap(),
        vec![
            copy("in/a.parquet", "out/a.parquet", false),
            delete("out/gone.parquet"),
        ]
    );
}

#[tokio::test]
async fn a_listing_out_of_key_order_stops_the_merge() {
    for (source, target, says) in [
        (
            vec!["b", "a"],
            vec![],
            "the source listing of 's3://bucket/' is not in key order ('a' came after 'b')",
        ),
        (
            vec!["a"],
            vec!["a", "c", "b"],
            "the target listing of 's3://bucket/' is not in key order ('b' came after 'c')",
        ),
        // A key listed twice is out of order too.
        (vec!["a", "a"], vec![], "('a' came after 'a')"),
    ] {
        for page in [1, 2, 10] {
            let case = Case {
                source_prefix: "",
                target_prefix: "",
                source: source.clone(),
                target: target.clone(),
                mirror: true,
                filter: FilterSettings::default(),
            };
            let why = case.merge(page).await.unwrap_err();
            assert!(why.contains(says), "{why}");
        }
    }
    // UTF-8 binary order: 'Z' (0x5a) < 'a' (0x61) < 'é' (0xc3 0xa9): in order.
    let case = Case {
        source_prefix: "",
        target_prefix: "",
        source: vec!["Z", "a", "é"],
        target: vec!["a"],
        mirror: false,
        filter: FilterSettings::default(),
    };
    assert_eq!(case.merge(1).await.unwrap().len(), 3);
}

#[tokio::test]
async fn random_listings_join_like_a_map_would() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for round in 0..200 {
        let alphabet = ["a", "b", "/", "é", "0"];
        let key = |rng: &mut rand::rngs::StdRng| {
            (0..rng.random_range(1..5))
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect::<String>()
        };
        let relative_source: BTreeSet<String> = (0..rng.random_range(0..30))
            .map(|_| key(&mut rng))
            .collect();
        let relative_target: BTreeSet<String> = (0..rng.random_range(0..30))
            .map(|_| key(&mut rng))
            .collect();
        let source: Vec<String> = relative_source.iter().map(|k| format!("src/{k}")).collect();
        let target: Vec<String> = relative_target.iter().map(|k| format!("dst/{k}")).collect();
        let case = Case {
            source_prefix: "src/",
            target_prefix: "dst/",
            source: source.iter().map(String::as_str).collect(),
            target: target.iter().map(String::as_str).collect(),
            mirror: true,
            filter: FilterSettings::default(),
        };
        let mut expected: BTreeMap<String, Seen> = BTreeMap::new();
        for k in &relative_source {
            let t = format!("dst/{k}");
            let there = relative_target.contains(k);
            expected.insert(t.clone(), copy(&format!("src/{k}"), &t, there));
        }
        for k in relative_target.difference(&relative_source) {
            expected.insert(format!("dst/{k}"), delete(&format!("dst/{k}")));
        }
        let expected: Vec<Seen> = expected.into_values().collect();
        let page = rng.random_range(1..6);
        assert_eq!(case.merge(page).await.unwrap(), expected, "round {round}");
    }
}
