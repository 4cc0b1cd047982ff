//! Page requests of the listings: the size to fetch, where to resume, and a token that
//! cannot be replayed on another query. Use cases take a [`Page`] and return [`Listed`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::domain::page;

/// One page of a listing and the token of the next one (empty on the last).
#[derive(Clone, Debug)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub next_page_token: String,
}

/// A page as a client asked for it, for the listings whose token is bound to something the
/// use case resolves first (the public ones: the location behind a code).
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<'a> {
    pub size: i32,
    pub token: &'a str,
}

impl PageRequest<'_> {
    pub fn parse<C: Serialize + DeserializeOwned>(
        self,
        filters: &impl std::fmt::Debug,
    ) -> Result<Page<C>, Error> {
        Page::parse(self.size, self.token, filters)
    }
}

/// A page request: the size to fetch and where to resume.
pub struct Page<C> {
    pub size: u64,
    pub after: Option<C>,
    fingerprint: String,
}

impl<C: Serialize + DeserializeOwned> Page<C> {
    /// Parses `page_size` and `page_token`; `filters` describes everything else in the
    /// request, so that a token cannot be replayed on another query.
    pub fn parse(
        page_size: i32,
        page_token: &str,
        filters: &impl std::fmt::Debug,
    ) -> Result<Self, Error> {
        let size = page::page_size(page_size).map_err(|d| Error::invalid("page_size", d))?;
        let fingerprint = page::fingerprint(&format!("{filters:?}"));
        let after = page::decode_token(page_token, &fingerprint)
            .map_err(|d| Error::invalid("page_token", d))?;
        Ok(Self {
            size,
            after,
            fingerprint,
        })
    }

    /// One more row than the page is fetched to know whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// The page of `rows` (fetched with [`Page::fetch_limit`]) and the token of the next.
    pub fn listed<T>(&self, mut rows: Vec<T>, cursor: impl Fn(&T) -> C) -> Listed<T> {
        let next_page_token = self.finish(&mut rows, cursor);
        Listed {
            rows,
            next_page_token,
        }
    }

    /// The token that resumes after `cursor`, for a listing that cuts its pages itself.
    pub fn token_after(&self, cursor: &C) -> String {
        page::encode_token(cursor, &self.fingerprint)
    }

    /// Trims the extra row and returns the token of the next page (empty on the last).
    pub fn finish<T>(&self, rows: &mut Vec<T>, cursor: impl Fn(&T) -> C) -> String {
        if rows.len() as u64 > self.size {
            rows.truncate(self.size as usize);
            rows.last()
                .map(|last| page::encode_token(&cursor(last), &self.fingerprint))
                .unwrap_or_default()
        } else {
            String::new()
        }
    }
}
