//! One folder's listing as the browser keeps it: a bounded window of consecutive listing pages
//! (entries in key order, an index by key), the sort order (computed when a page arrives or
//! the sort key changes, never per frame) and the filtered view the cursor moves in. Pages
//! merge into the sorted order in linear time. The window holds at most [`WINDOW_PAGES`]
//! pages: the pane drops pages far from its cursor and fetches them again with the
//! continuation token remembered for each page ([`super::paging`]), so a folder of 1,000,000
//! direct children costs the same memory as one of 10,000 (plus one token per 1,000 rows).

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

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

/// Listing pages a folder window holds at most (about 1,000 rows each).
pub const WINDOW_PAGES: usize = 10;

/// Where one listing page of a folder starts. Kept for every page reached, so a dropped page
/// can be fetched again; one small record per 1,000 rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageMark {
    /// The continuation token that lists this page (None: the first page).
    pub token: Option<String>,
    /// The last key (or common prefix) of the page before: every key of this page is after it.
    pub after: Option<String>,
    /// Rows in the pages before this one.
    pub rows_before: u64,
}

/// A folder's loaded window of entries with their sorted and filtered orders.
#[derive(Debug, Clone, Default)]
pub struct FolderListing {
    /// The folder's prefix; names are keys with this stripped.
    pub prefix: String,
    /// The loaded window's entries, page after page.
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
    /// Page number of the window's first page.
    first_page: usize,
    /// Entries in each page of the window, first page first.
    page_rows: VecDeque<usize>,
    /// Where every page reached so far starts; `marks[n]` is page n. One past the window's
    /// last page when that page said a next one exists.
    marks: Vec<PageMark>,
    /// Rows in the whole folder, once its last page has been listed.
    total_rows: Option<u64>,
}

impl FolderListing {
    pub fn new(prefix: &str, sort: SortKey) -> Self {
        FolderListing {
            prefix: prefix.to_string(),
            sort,
            marks: vec![PageMark::default()],
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

    /// Entries loaded (the window, before the filter).
    pub fn total(&self) -> usize {
        self.entries.len()
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Pages in the window.
    pub fn pages(&self) -> usize {
        self.page_rows.len()
    }

    /// Page number of the window's first page.
    pub fn first_page(&self) -> usize {
        self.first_page
    }

    /// Page number one past the window.
    pub fn end_page(&self) -> usize {
        self.first_page + self.page_rows.len()
    }

    /// Where page `page` starts, when it has been reached.
    pub fn mark(&self, page: usize) -> Option<&PageMark> {
        self.marks.get(page)
    }

    /// The page after the window exists (its token is known).
    pub fn more_after(&self) -> bool {
        self.marks.len() > self.end_page()
    }

    /// Rows of the folder before the window.
    pub fn rows_before(&self) -> u64 {
        self.marks.get(self.first_page).map_or(0, |m| m.rows_before)
    }

    /// Rows in the whole folder, once its last page was listed.
    pub fn total_rows(&self) -> Option<u64> {
        self.total_rows
    }

    /// Every row of the folder is in the window.
    pub fn complete(&self) -> bool {
        self.first_page == 0 && !self.page_rows.is_empty() && !self.more_after()
    }

    /// Whether the window spans `key`'s place in the folder: then a key it does not hold is
    /// not in the folder at all (listings are in key order).
    pub fn covers(&self, key: &str) -> bool {
        if self.page_rows.is_empty() {
            return false;
        }
        let low = self.marks[self.first_page].after.as_deref();
        let high = match self.marks.get(self.end_page()) {
            Some(next) => next.after.as_deref(),
            None => None,
        };
        low.is_none_or(|low| key > low)
            && (!self.more_after() || high.is_some_and(|high| key <= high))
    }

    /// Add the page after the window (the next page of the folder). New entries are sorted and
    /// merged into the order (linear in the window).
    pub fn append(&mut self, page: Listing) {
        let page_number = self.end_page();
        let start = self.entries.len() as u32;
        let next = page.next.clone();
        let added = self.push_entries(page);
        let mut fresh: Vec<u32> = (start..self.entries.len() as u32).collect();
        self.sort_and_merge(&mut fresh);
        self.page_rows.push_back(added);
        self.record_next(page_number, next);
        self.refilter();
    }

    /// Add the page before the window (fetched again after it was dropped).
    pub fn prepend(&mut self, page: Listing) {
        let before = std::mem::take(&mut self.entries);
        let added = self.push_entries(Listing { next: None, ..page });
        let shift = self.entries.len() as u32;
        self.entries.extend(before);
        self.reindex();
        let old: Vec<u32> = self.sorted.iter().map(|i| i + shift).collect();
        let mut fresh: Vec<u32> = (0..shift).collect();
        self.sorted = old;
        self.sort_and_merge(&mut fresh);
        self.first_page -= 1;
        self.page_rows.push_front(added);
        self.refilter();
    }

    /// Forget the window's first page.
    pub fn drop_front(&mut self) {
        let Some(rows) = self.page_rows.pop_front() else {
            return;
        };
        self.first_page += 1;
        self.entries.drain(..rows);
        let rows = rows as u32;
        self.sorted.retain(|&i| i >= rows);
        self.sorted.iter_mut().for_each(|i| *i -= rows);
        self.reindex();
        self.refilter();
    }

    /// Forget the window's last page.
    pub fn drop_back(&mut self) {
        let Some(rows) = self.page_rows.pop_back() else {
            return;
        };
        let keep = self.entries.len() - rows;
        self.entries.truncate(keep);
        self.sorted.retain(|&i| (i as usize) < keep);
        self.reindex();
        self.refilter();
    }

    /// Rows of the window whose key sorts before `key` (in key order).
    pub fn rows_before_key(&self, key: &str) -> usize {
        self.entries.iter().filter(|e| e.key() < key).count()
    }

    /// Push a page's new entries (in key order), returning how many.
    fn push_entries(&mut self, page: Listing) -> usize {
        let mut fresh: Vec<Entry> = page
            .prefixes
            .into_iter()
            .map(Entry::Folder)
            .chain(page.objects.into_iter().map(Entry::Object))
            .filter(|e| !self.index.contains_key(e.key()))
            .collect();
        fresh.sort_by(|a, b| a.key().cmp(b.key()));
        fresh.dedup_by(|a, b| a.key() == b.key());
        let added = fresh.len();
        for entry in fresh {
            self.index
                .insert(entry.key().to_string(), self.entries.len() as u32);
            self.entries.push(entry);
        }
        added
    }

    /// Remember where the page after `page` starts (or that `page` was the last).
    fn record_next(&mut self, page: usize, next: Option<String>) {
        let rows_before =
            self.marks[page].rows_before + self.page_rows.back().copied().unwrap_or(0) as u64;
        match next {
            Some(token) => {
                let after = self
                    .entries
                    .iter()
                    .map(Entry::key)
                    .max()
                    .map(str::to_string);
                self.marks.truncate(page + 1);
                self.marks.push(PageMark {
                    token: Some(token),
                    after,
                    rows_before,
                });
            }
            None => {
                self.marks.truncate(page + 1);
                self.total_rows = Some(rows_before);
            }
        }
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (i, entry) in self.entries.iter().enumerate() {
            self.index.insert(entry.key().to_string(), i as u32);
        }
    }

    fn sort_and_merge(&mut self, fresh: &mut [u32]) {
        let entries = &self.entries;
        let sort = self.sort;
        fresh.sort_by(|&a, &b| compare(entries, sort, a, b));
        let old = std::mem::take(&mut self.sorted);
        self.sorted = merge(old, fresh.to_vec(), |a, b| compare(entries, sort, a, b));
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
mod tests;
