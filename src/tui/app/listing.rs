//! One folder's listing as the browser keeps it: entries in arrival order, an index by key,
//! the sort order (computed when a page arrives or the sort key changes, never per frame) and
//! the filtered view the cursor moves in. Pages merge into the sorted order in linear time, so
//! a folder of 100,000 objects stays responsive while its pages stream in.

use std::cmp::Ordering;
use std::collections::HashMap;

use airlock_core::aws::Listing;
use airlock_core::plan::ObjectInfo;

/// One row of a folder.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A common prefix; the full prefix ends with '/'.
    Folder(String),
    Object(ObjectInfo),
}

impl Entry {
    /// Full key (or prefix) in the bucket.
    pub fn key(&self) -> &str {
        match self {
            Entry::Folder(prefix) => prefix,
            Entry::Object(object) => &object.key,
        }
    }

    pub fn is_folder(&self) -> bool {
        matches!(self, Entry::Folder(_))
    }

    pub fn object(&self) -> Option<&ObjectInfo> {
        match self {
            Entry::Object(object) => Some(object),
            Entry::Folder(_) => None,
        }
    }
}

/// How the rows are ordered. Folders always come first, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    /// Largest first.
    Size,
    /// Newest first.
    Date,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Size,
            SortKey::Size => SortKey::Date,
            SortKey::Date => SortKey::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name↑",
            SortKey::Size => "size↓",
            SortKey::Date => "date↓",
        }
    }
}

/// A folder's entries with their sorted and filtered orders.
#[derive(Debug, Clone, Default)]
pub struct FolderListing {
    /// The folder's prefix; names are keys with this stripped.
    pub prefix: String,
    pub entries: Vec<Entry>,
    /// Entry index by full key (objects) or prefix (folders).
    pub index: HashMap<String, u32>,
    /// All entries in sort order.
    sorted: Vec<u32>,
    /// The entries shown: `sorted` narrowed by the filter.
    pub view: Vec<u32>,
    pub sort: SortKey,
    /// Lower-case substring of the name; empty shows everything.
    filter: String,
    /// Every page has arrived.
    pub complete: bool,
    pub pages: usize,
}

impl FolderListing {
    pub fn new(prefix: &str, sort: SortKey) -> Self {
        FolderListing {
            prefix: prefix.to_string(),
            sort,
            ..Default::default()
        }
    }

    /// The name shown for an entry (its key below this folder).
    pub fn name<'a>(&self, entry: &'a Entry) -> &'a str {
        entry
            .key()
            .strip_prefix(self.prefix.as_str())
            .unwrap_or(entry.key())
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.entries[i as usize])
    }

    /// The entry at a position of the view.
    pub fn at(&self, row: usize) -> Option<&Entry> {
        self.view.get(row).map(|&i| &self.entries[i as usize])
    }

    pub fn len(&self) -> usize {
        self.view.len()
    }

    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }

    pub fn total(&self) -> usize {
        self.entries.len()
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Add one page: new entries are sorted and merged into the order (linear in the folder).
    pub fn append(&mut self, page: Listing) {
        let start = self.entries.len() as u32;
        for prefix in page.prefixes {
            if !self.index.contains_key(&prefix) {
                self.index.insert(prefix.clone(), self.entries.len() as u32);
                self.entries.push(Entry::Folder(prefix));
            }
        }
        for object in page.objects {
            if !self.index.contains_key(&object.key) {
                self.index
                    .insert(object.key.clone(), self.entries.len() as u32);
                self.entries.push(Entry::Object(object));
            }
        }
        let mut fresh: Vec<u32> = (start..self.entries.len() as u32).collect();
        let entries = &self.entries;
        let sort = self.sort;
        fresh.sort_by(|&a, &b| compare(entries, sort, a, b));
        let old = std::mem::take(&mut self.sorted);
        self.sorted = merge(old, fresh, |a, b| compare(entries, sort, a, b));
        self.pages += 1;
        self.complete = page.next.is_none();
        self.refilter();
    }

    pub fn set_sort(&mut self, sort: SortKey) {
        self.sort = sort;
        let entries = &self.entries;
        self.sorted.sort_by(|&a, &b| compare(entries, sort, a, b));
        self.refilter();
    }

    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_lowercase();
        self.refilter();
    }

    fn refilter(&mut self) {
        if self.filter.is_empty() {
            self.view.clone_from(&self.sorted);
            return;
        }
        let prefix_len = self.prefix.len();
        let filter = &self.filter;
        self.view = self
            .sorted
            .iter()
            .copied()
            .filter(|&i| {
                let key = self.entries[i as usize].key();
                key.get(prefix_len..)
                    .unwrap_or(key)
                    .to_lowercase()
                    .contains(filter.as_str())
            })
            .collect();
    }

    /// Position in the view of the entry with this key.
    pub fn position(&self, key: &str) -> Option<usize> {
        let &i = self.index.get(key)?;
        self.view.iter().position(|&v| v == i)
    }
}

fn compare(entries: &[Entry], sort: SortKey, a: u32, b: u32) -> Ordering {
    let (ea, eb) = (&entries[a as usize], &entries[b as usize]);
    match (ea, eb) {
        (Entry::Folder(x), Entry::Folder(y)) => x.cmp(y),
        (Entry::Folder(_), Entry::Object(_)) => Ordering::Less,
        (Entry::Object(_), Entry::Folder(_)) => Ordering::Greater,
        (Entry::Object(x), Entry::Object(y)) => match sort {
            SortKey::Name => x.key.cmp(&y.key),
            SortKey::Size => y.size.cmp(&x.size).then_with(|| x.key.cmp(&y.key)),
            SortKey::Date => y
                .modified_ms
                .cmp(&x.modified_ms)
                .then_with(|| x.key.cmp(&y.key)),
        },
    }
}

/// Merge two sorted runs.
fn merge(a: Vec<u32>, b: Vec<u32>, cmp: impl Fn(u32, u32) -> Ordering) -> Vec<u32> {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if cmp(b[j], a[i]) == Ordering::Less {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
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
        assert!(!listing.complete);
        listing.append(Listing {
            prefixes: vec!["p/a/".into()],
            objects: vec![object("p/c", 9, 3), object("p/b", 5, 2)],
            next: None,
        });
        assert!(listing.complete);
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
}
