//! Lists read a page at a time by keyset: each page continues after (or, going back, before)
//! the row its cursor names, by the list's sort key and the row's id, so a deep page costs
//! what the first one does. The domains' lists share the reading of a query's `limit`,
//! `cursor` and `before`, the cursor's form and the page's neighbours from here.

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Page, Total};
use crate::error::FieldError;

/// A sort key a cursor carries, written into it and read back.
pub trait CursorKey: Sized + Copy {
    /// The key as the cursor writes it.
    fn write(&self) -> String;
    /// The key a cursor wrote, if it is one.
    fn read(s: &str) -> Option<Self>;
}

/// A moment, as nanoseconds since the epoch (exact, and free of `~`).
impl CursorKey for OffsetDateTime {
    fn write(&self) -> String {
        self.unix_timestamp_nanos().to_string()
    }

    fn read(s: &str) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(s.parse().ok()?).ok()
    }
}

/// A day, as `YYYY-MM-DD`.
impl CursorKey for Date {
    fn write(&self) -> String {
        self.to_string()
    }

    fn read(s: &str) -> Option<Self> {
        crate::dates::parse_date(s)
    }
}

/// Where a page of a list starts, which way the list runs and how long a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset<K> {
    /// The row (sort key and id) the page continues after in the list's order; or before
    /// it, going back.
    pub after: Option<(K, Uuid)>,
    /// Whether the page is the one before `after` (read against the list's order).
    pub backwards: bool,
    /// Whether the list runs up its key (oldest or soonest first) rather than down.
    pub ascending: bool,
    /// Rows per page.
    pub limit: i64,
}

impl<K: CursorKey> Keyset<K> {
    /// The first page of a list running `ascending` (or down its key), 50 rows.
    pub fn first(ascending: bool) -> Keyset<K> {
        Keyset { after: None, backwards: false, ascending, limit: 50 }
    }

    /// The page a list's query asks for with its `limit`, `cursor` and `before` (as typed),
    /// naming each bad one in `errors`.
    pub fn from_query(
        ascending: bool,
        (limit, cursor, before): (Option<&str>, Option<&str>, Option<&str>),
        errors: &mut Vec<FieldError>,
    ) -> Keyset<K> {
        fn set(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        let limit = super::page_size(set(limit), errors);
        let valid = |c: &str| super::parse_cursor(c).filter(|(k, _)| K::read(k).is_some());
        let (after, backwards) = super::keyset_args(set(cursor), set(before), valid, errors);
        let after = after.and_then(|(k, id)| Some((K::read(&k)?, id)));
        Keyset { after, backwards, ascending, limit }
    }

    /// Whether the rows are read up their key: the list's way, or against it going back.
    pub fn reads_ascending(&self) -> bool {
        self.ascending != self.backwards
    }

    /// The cursor's sort key, if the page starts at one.
    pub fn key(&self) -> Option<K> {
        self.after.map(|(k, _)| k)
    }

    /// The cursor's row, if the page starts at one.
    pub fn id(&self) -> Option<Uuid> {
        self.after.map(|(_, id)| id)
    }

    /// How many rows to read: one more than the page, which says whether more follow.
    pub fn read_limit(&self) -> i64 {
        self.limit + 1
    }

    /// The page from the rows read, each row's key and id given by `key`.
    pub fn page<T>(&self, rows: Vec<T>, key: impl Fn(&T) -> (K, Uuid)) -> Page<T> {
        Page::from_read(rows, self.limit, self.after.is_some(), self.backwards, |r| cursor(key(r)))
    }
}

/// Whether a list by arrival runs oldest first: `sort=oldest` does, `newest` (the default)
/// runs newest first; anything else is named.
pub fn oldest_first(sort: Option<&str>, errors: &mut Vec<FieldError>) -> bool {
    match sort.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(_) => {
            errors.push(FieldError::new("sort", "must be newest or oldest"));
            false
        }
    }
}

/// A query's text to look for: trimmed, at most 200 characters, none when blank.
pub fn search_text(q: Option<&str>) -> Option<String> {
    q.map(str::trim).filter(|s| !s.is_empty()).map(|q| q.chars().take(200).collect())
}

/// The cursor that names a row by its sort key and id: `key~id`.
pub fn cursor<K: CursorKey>((key, id): (K, Uuid)) -> String {
    format!("{}~{id}", key.write())
}

impl<T> Page<T> {
    /// The list's total when this page holds all of it (the first page, with nothing after
    /// it); otherwise the list must be counted.
    pub fn whole(&self, from_cursor: bool) -> Option<Total> {
        (!from_cursor && self.next.is_none() && self.prev.is_none()).then_some(Total::Exact(self.rows.len() as i64))
    }

    /// The list's total: this page's rows when it holds all of it, else what `count` (run
    /// only then) finds.
    pub async fn total<E>(
        &self,
        from_cursor: bool,
        count: impl std::future::Future<Output = Result<Total, E>>,
    ) -> Result<Total, E> {
        match self.whole(from_cursor) {
            Some(t) => Ok(t),
            None => count.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_they_wrote() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_767_225_600_123_456_789).unwrap();
        let id = Uuid::from_u128(7);
        let mut errors = Vec::new();
        let k = Keyset::<OffsetDateTime>::from_query(false, (None, Some(&cursor((at, id))), None), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(k.after, Some((at, id)));
        assert!(!k.backwards && !k.reads_ascending());
        let day = time::macros::date!(2027 - 02 - 15);
        let k = Keyset::<Date>::from_query(true, (Some("20"), None, Some(&cursor((day, id)))), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((k.after, k.backwards, k.limit), (Some((day, id)), true, 20));
        // Going back up an ascending list reads down it.
        assert!(!k.reads_ascending());
    }

    #[test]
    fn a_bad_page_is_named() {
        let mut errors = Vec::new();
        let id = Uuid::from_u128(7);
        // A date where a moment is expected, a page size out of range, both cursors at once.
        Keyset::<OffsetDateTime>::from_query(false, (Some("0"), Some(&format!("2027-01-01~{id}")), None), &mut errors);
        Keyset::<Date>::from_query(false, (None, Some("x~y"), Some("x~y")), &mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor", "before"]);
    }

    #[test]
    fn a_single_first_page_is_its_own_total() {
        let k = Keyset::<Date>::first(true);
        let rows = vec![1, 2, 3];
        let p = k.page(rows, |_| (time::macros::date!(2027 - 01 - 01), Uuid::nil()));
        assert_eq!(p.whole(false), Some(Total::Exact(3)));
        assert_eq!(p.whole(true), None);
        let short = Keyset::<Date> { limit: 2, ..k };
        assert_eq!(
            short.page(vec![1, 2, 3], |_| (time::macros::date!(2027 - 01 - 01), Uuid::nil())).whole(false),
            None
        );
    }
}
