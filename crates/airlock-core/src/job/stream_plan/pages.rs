//! One side's listing for the streaming plan's merge: ListObjectsV2 pages from a task that
//! lists [`PAGES_AHEAD`] pages ahead (or an S3 Inventory's rows in the same shape), taken one
//! object at a time and checked for strictly increasing key order.

use tokio::sync::mpsc;

use super::Stop;
use crate::aws::SideClient;
use crate::aws::listing::list_page;
use crate::error::Result;
use crate::plan::ObjectInfo;

/// Listing pages fetched ahead of the merge, per side.
const PAGES_AHEAD: usize = 2;

/// One side's listing, a page at a time from a task that lists ahead, checked for key order.
pub(crate) struct Pages {
    side: &'static str,
    bucket: String,
    prefix: String,
    pages: mpsc::Receiver<Result<Vec<ObjectInfo>>>,
    /// The page being taken, front first (the page's own allocation: nothing copied).
    pub(super) page: std::vec::IntoIter<ObjectInfo>,
    last: Option<String>,
}

impl Pages {
    /// The pages of `rx`, as a listing of `side` (`source`/`target`) of `bucket`/`prefix`.
    pub(crate) fn of(
        side: &'static str,
        bucket: &str,
        prefix: &str,
        pages: mpsc::Receiver<Result<Vec<ObjectInfo>>>,
    ) -> Pages {
        Pages {
            side,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            pages,
            page: Default::default(),
            last: None,
        }
    }

    pub(crate) fn spawn(client: &SideClient, prefix: &str) -> Pages {
        let (tx, rx) = mpsc::channel(PAGES_AHEAD);
        let (lister, listed_prefix) = (client.clone(), prefix.to_string());
        tokio::spawn(async move {
            let mut token = None;
            loop {
                match list_page(&lister, &listed_prefix, true, token).await {
                    Ok(page) => {
                        token = page.next;
                        if tx.send(Ok(page.objects)).await.is_err() || token.is_none() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        let side = match client.side {
            crate::config::Side::Source => "source",
            crate::config::Side::Target => "target",
        };
        Pages::of(side, &client.bucket, prefix, rx)
    }

    /// The next object without taking it.
    pub(crate) async fn peek(&mut self) -> std::result::Result<Option<&ObjectInfo>, Stop> {
        while self.page.len() == 0 {
            match self.pages.recv().await {
                Some(page) => self.take_page(page?)?,
                None => return Ok(None),
            }
        }
        Ok(self.page.as_slice().first())
    }

    pub(crate) async fn next(&mut self) -> std::result::Result<Option<ObjectInfo>, Stop> {
        self.peek().await?;
        Ok(self.page.next())
    }

    /// Check a page's order (within it and after the last page) and queue it.
    fn take_page(&mut self, page: Vec<ObjectInfo>) -> std::result::Result<(), Stop> {
        let mut last = self.last.as_deref();
        for object in &page {
            if let Some(before) = last
                && object.key.as_str() <= before
            {
                return Err(Stop::OutOfOrder(format!(
                    "the {} listing of 's3://{}/{}' is not in key order ('{}' came after '{}'): \
                     this store does not list keys in UTF-8 binary order",
                    self.side, self.bucket, self.prefix, object.key, before
                )));
            }
            last = Some(&object.key);
        }
        if let Some(end) = page.last() {
            self.last = Some(end.key.clone());
        }
        self.page = page.into_iter();
        Ok(())
    }
}
