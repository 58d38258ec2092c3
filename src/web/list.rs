//! What every list page's query shares: its address with what is set, its order, its pages
//! and its columns' `aria-sort`. A list declares its parameters (serde reads them, its
//! filters with `sort`, `limit`, `cursor` and `before`) and implements [`ListQuery`] by
//! naming them; the order, the links and the pager are written here once.

use super::layout::{Pager, address};

/// Implements [`ListQuery`] for a query struct from its address, its orders (the default
/// first; those read from the end) and its parameters in the order of its links, each its
/// field's name unless given (`event_type as "type"`). The struct has `cursor` and `before`,
/// and `sort` when it names orders.
#[macro_export]
macro_rules! list_query {
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $name:literal) => { $name };
    (@order $q:ident) => {{
        let _ = $q;
        None
    }};
    (@order $q:ident $($sort:literal)+) => { Some(&mut $q.sort) };
    (
        $ty:ident => $path:literal $(, fragment $fragment:literal)?;
        $(sorts [$($sort:literal),+] descending [$($desc:literal),*];)?
        params $($field:ident $(as $name:literal)?),+ $(,)?
    ) => {
        impl $crate::web::list::ListQuery for $ty {
            const PATH: &'static str = $path;
            $(const FRAGMENT: &'static str = $fragment;)?
            $(
                const SORTS: &'static [&'static str] = &[$($sort),+];
                const DESCENDING: &'static [&'static str] = &[$($desc),*];
            )?

            fn params(&self) -> Vec<(&'static str, &Option<String>)> {
                vec![$(($crate::list_query!(@name $field $($name)?), &self.$field)),+]
            }

            fn place_mut(&mut self) -> [&mut Option<String>; 2] {
                [&mut self.cursor, &mut self.before]
            }

            fn order_mut(&mut self) -> Option<&mut Option<String>> {
                let q = self;
                $crate::list_query!(@order q $($($sort)+)?)
            }
        }
    };
}

/// A list page's query string, `?…&sort=&limit=&cursor=&before=`.
pub trait ListQuery: Clone {
    /// The list's address, e.g. `/cases`.
    const PATH: &'static str;
    /// What follows the query in its links (`#all`), usually nothing.
    const FRAGMENT: &'static str = "";
    /// The orders the list knows, the one shown when none (or an unknown one) is asked
    /// first; empty for a list with one order.
    const SORTS: &'static [&'static str] = &[];
    /// The orders that read from the end (newest first, Z to A): `aria-sort="descending"`.
    const DESCENDING: &'static [&'static str] = &[];

    /// Each parameter by name, as typed, in the order of its links.
    fn params(&self) -> Vec<(&'static str, &Option<String>)>;

    /// The cursor and the `before` of this query, to change.
    fn place_mut(&mut self) -> [&mut Option<String>; 2];

    /// The order of this query, to change; `None` for a list with one order.
    fn order_mut(&mut self) -> Option<&mut Option<String>> {
        None
    }

    /// The parameter `name` as typed, trimmed, when given.
    fn param(&self, name: &str) -> Option<&str> {
        self.params().into_iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.as_deref()).map(str::trim)
    }

    /// The list's address with what is set.
    fn link(&self) -> String {
        address(Self::PATH, &self.params(), Self::FRAGMENT)
    }

    /// The order shown now.
    fn sort(&self) -> &str {
        let asked = self.param("sort").unwrap_or("");
        match Self::SORTS.iter().find(|s| **s == asked) {
            Some(s) => s,
            None => Self::SORTS.first().copied().unwrap_or(""),
        }
    }

    /// The list in order `sort`, its filters and page size kept, from its first page.
    fn sorted_by(&self, sort: &str) -> String {
        let mut q = self.clone();
        if let Some(order) = q.order_mut() {
            *order = Some(sort.to_string());
        }
        let [cursor, before] = q.place_mut();
        (*cursor, *before) = (None, None);
        q.link()
    }

    /// `aria-sort` of a column header that sorts by `orders`.
    fn aria_sort(&self, orders: &[&str]) -> &'static str {
        let now = self.sort();
        match orders.contains(&now) {
            true if Self::DESCENDING.contains(&now) => "descending",
            true => "ascending",
            false => "none",
        }
    }

    /// The first, previous and next pages' links, each keeping the filters, the order and
    /// the page size, for a page whose `next` and `prev` cursors are these.
    fn pager(&self, next: Option<String>, prev: Option<String>) -> Pager {
        let cursor = self.params().into_iter().find(|(n, _)| *n == "cursor").and_then(|(_, c)| c.clone());
        Pager::new(next, prev, Pager::after_cursor(&cursor), |cursor, before| {
            let mut q = self.clone();
            let [c, b] = q.place_mut();
            (*c, *b) = (cursor.map(str::to_string), before.map(str::to_string));
            q.link()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Q {
        q: Option<String>,
        sort: Option<String>,
        cursor: Option<String>,
        before: Option<String>,
    }

    crate::list_query! {
        Q => "/things";
        sorts ["newest", "oldest", "name"] descending ["newest"];
        params q as "q", sort, cursor, before
    }

    #[derive(Clone, Default)]
    struct One {
        kind: Option<String>,
        cursor: Option<String>,
        before: Option<String>,
    }

    crate::list_query! {
        One => "/ones", fragment "#all";
        params kind as "type", cursor, before
    }

    #[test]
    fn a_list_query_orders_links_and_pages_once_for_every_list() {
        let q = Q { q: Some("a b".into()), cursor: Some("c1".into()), ..Q::default() };
        assert_eq!(q.sort(), "newest", "the first order when none is asked");
        assert_eq!(Q { sort: Some(" bogus ".into()), ..q.clone() }.sort(), "newest");
        assert_eq!(q.link(), "/things?q=a+b&cursor=c1");
        assert_eq!(q.sorted_by("name"), "/things?q=a+b&sort=name", "a new order starts at the first page");
        assert_eq!(q.aria_sort(&["newest", "oldest"]), "descending");
        assert_eq!(q.aria_sort(&["name"]), "none");
        let by_name = Q { sort: Some("name".into()), ..Q::default() };
        assert_eq!(by_name.aria_sort(&["name"]), "ascending");
        let pager = q.pager(Some("n2".into()), Some("p0".into()));
        assert_eq!(pager.next.as_deref(), Some("/things?q=a+b&cursor=n2"));
        assert_eq!(pager.prev.as_deref(), Some("/things?q=a+b&before=p0"));
        assert_eq!(pager.first.as_deref(), Some("/things?q=a+b"));
        let one = One { kind: Some("x".into()), cursor: Some("c".into()), ..One::default() };
        assert_eq!(one.sort(), "", "a list of one order");
        assert_eq!(one.sorted_by("newest"), "/ones?type=x#all", "it has no order to change");
        assert_eq!(one.pager(Some("n".into()), None).next.as_deref(), Some("/ones?type=x&cursor=n#all"));
    }
}
