//! A folder listing's pages, sorts, filters and window (drop, re-fetch, what it covers).

use super::*;

fn object(key: &str, size: u64, modified: i64) -> ObjectInfo {
    ObjectInfo {
        key: key.into(),
        size,
        modified_ms: Some(modified),
        ..Default::default()
    }
}

fn names(listing: &FolderListing) -> Vec<&str> {
    (0..listing.len())
        .map(|i| listing.name(listing.at(i).unwrap()))
        .collect()
}

#[test]
fn pages_merge_folders_first_and_sorts_and_filters_apply() {
    let mut listing = FolderListing::new("p/", SortKey::Name);
    listing.append(Listing {
        prefixes: vec!["p/m/".into()],
        objects: vec![object("p/b", 5, 2), object("p/d", 1, 4)],
        next: Some("t".into()),
    });
    assert!(!listing.complete());
    listing.append(Listing {
        prefixes: vec!["p/a/".into()],
        objects: vec![object("p/c", 9, 3), object("p/b", 5, 2)],
        next: None,
    });
    assert!(listing.complete());
    assert_eq!(names(&listing), ["a/", "m/", "b", "c", "d"]);
    listing.set_sort(SortKey::Size);
    assert_eq!(names(&listing), ["a/", "m/", "c", "b", "d"]);
    listing.set_sort(SortKey::Date);
    assert_eq!(names(&listing), ["a/", "m/", "d", "c", "b"]);
    listing.set_filter("C");
    assert_eq!(names(&listing), ["c"]);
    assert_eq!(listing.position("p/c"), Some(0));
    assert_eq!(listing.position("p/b"), None);
}

fn page(from: usize, rows: usize, last: bool) -> Listing {
    Listing {
        prefixes: vec![],
        objects: (from..from + rows)
            .map(|n| object(&format!("p/k{n:04}"), n as u64, 0))
            .collect(),
        next: (!last).then(|| format!("token-{}", from + rows)),
    }
}

#[test]
fn a_window_drops_and_refetches_pages_and_knows_what_it_covers() {
    let mut listing = FolderListing::new("p/", SortKey::Name);
    assert!(!listing.covers("p/k0000"), "nothing listed, nothing known");
    listing.append(page(0, 3, false));
    listing.append(page(3, 3, false));
    assert_eq!(listing.mark(2).unwrap().token.as_deref(), Some("token-6"));
    assert_eq!(listing.mark(2).unwrap().rows_before, 6);
    assert!(listing.more_after() && !listing.complete());
    assert!(listing.covers("p/k0004") && listing.covers("p/k0001x"));
    assert!(!listing.covers("p/k0005x"), "after the window: unknown");
    listing.drop_front();
    assert_eq!(
        (listing.first_page(), listing.total(), listing.rows_before()),
        (1, 3, 3)
    );
    assert_eq!(names(&listing), ["k0003", "k0004", "k0005"]);
    assert!(!listing.covers("p/k0002") && listing.covers("p/k0002x"));
    assert_eq!(listing.get("p/k0001"), None);
    assert_eq!(listing.position("p/k0005"), Some(2));
    listing.append(page(6, 2, true));
    assert_eq!(listing.total_rows(), Some(8));
    assert!(
        listing.covers("p/zzz"),
        "the last page is in: nothing after it"
    );
    assert!(!listing.complete(), "the first page is not");
    listing.prepend(page(0, 3, false));
    assert!(listing.complete());
    assert_eq!(listing.len(), 8);
    assert_eq!(listing.position("p/k0000"), Some(0));
    assert_eq!(listing.get("p/k0007").unwrap().key(), "p/k0007");
    listing.drop_back();
    assert_eq!(listing.total(), 6);
    assert!(listing.more_after(), "the dropped page can be listed again");
    assert_eq!(listing.rows_before_key("p/k0004"), 4);
    assert_eq!(listing.position("p/k0006"), None);
}
