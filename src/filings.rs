//! What the second docket's filings reviewed item by item share: a specific
//! authorization's application (791.307(c)(1)–(8)) and an advisory opinion's request
//! (791.310(c)(1)–(7)). [`rule_items!`] writes, from one list of the items, the item's type
//! (its stored name, its words, its citation) and the content's type (each item's text,
//! trimmed and bounded, supplemented by added material and never erased by it). What a
//! complete filing holds differs and stays each domain's own `missing`. The rest are the
//! rules of acts on such a filing: the refusals of a stale version, an act's date, an
//! answer to an open question.

use time::{Date, OffsetDateTime};

use crate::db::keyset::{self, Keyset};
use crate::error::FieldError;
use crate::ids::PartyId;

/// What a list of filings shows: a text search, a status, one filer's, and where the page
/// starts (by receipt, newest or oldest first).
#[derive(Debug, Clone)]
pub struct ListFilter<S> {
    /// A part of the number, the filer's name or the filing's text.
    pub q: Option<String>,
    pub status: Option<S>,
    /// Only this filer's (the applicant's, the requester's).
    pub party: Option<PartyId>,
    pub page: Keyset<OffsetDateTime>,
}

/// A list of filings' parameters as typed: `q`, `status`, the filer's (named `party.0`),
/// `sort`, `limit`, `cursor`, `before`.
pub struct ListParams<'a> {
    pub q: Option<&'a str>,
    pub status: Option<&'a str>,
    pub party: (&'static str, Option<&'a str>),
    pub sort: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub cursor: Option<&'a str>,
    pub before: Option<&'a str>,
}

impl ListParams<'_> {
    /// The filter they name, or every bad parameter named (`status_named` reads the
    /// filing's statuses).
    pub fn filter<S>(
        &self,
        status_named: impl Fn(Option<&str>) -> Result<Option<S>, FieldError>,
    ) -> Result<ListFilter<S>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let status = status_named(self.status).map_err(|e| errors.push(e)).ok().flatten();
        let (field, typed) = self.party;
        let party = match typed.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(p) => {
                p.parse::<PartyId>().map_err(|_| errors.push(FieldError::new(field, "must be a party's id"))).ok()
            }
        };
        let ascending = keyset::oldest_first(self.sort, &mut errors);
        let page = Keyset::from_query(ascending, (self.limit, self.cursor, self.before), &mut errors);
        let q = keyset::search_text(self.q);
        if errors.is_empty() { Ok(ListFilter { q, status, party, page }) } else { Err(errors) }
    }
}

/// The date of an act on a filing whose last act was on `last_act_on`: as typed (today
/// when empty), not in the future, not before the last act; `None` with the problem in
/// `errors`.
pub fn act_date(typed: Option<&str>, today: Date, last_act_on: Date, errors: &mut Vec<FieldError>) -> Option<Date> {
    let on = crate::dates::past_date("effective_on", typed, today, errors)?;
    if on < last_act_on {
        errors.push(FieldError::new("effective_on", format!("cannot be before the last act, on {last_act_on}")));
        return None;
    }
    Some(on)
}

/// The checks of an answer recorded on a filing (`of`: "this request"): it names one of the
/// `open` questions, and its `note` says what was answered.
pub fn check_answer(open: &[i64], answers: Option<i64>, of: &str, note: &str, errors: &mut Vec<FieldError>) {
    match answers {
        Some(q) if open.contains(&q) => {}
        Some(_) => errors.push(FieldError::new("answers", format!("must be an open question of {of}"))),
        None => errors.push(FieldError::new("answers", "choose the question answered")),
    }
    if note.is_empty() {
        errors.push(FieldError::new("note", "write the answer, or where the office holds it"));
    }
}

/// The item type `$item` (schema `$item_schema`) and the content type `$contents` (schema
/// `$contents_schema`) of a filing, from its items in the rule's order: each a variant, its
/// field (also its stored name) and what it asks for, in words.
#[macro_export]
macro_rules! rule_items {
    (
        $(#[doc = $item_doc:literal])*
        item $item:ident as $item_schema:ident;
        $(#[doc = $contents_doc:literal])*
        contents $contents:ident as $contents_schema:ident;
        $( $(#[doc = $doc:literal])* $variant:ident => $field:ident: $label:literal; )+
    ) => {
        $(#[doc = $item_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[schema(as = $item_schema)]
        #[serde(rename_all = "snake_case")]
        pub enum $item {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl $item {
            /// Every item, in the rule's order.
            pub const ALL: [$item; [$(stringify!($variant)),+].len()] = [$($item::$variant),+];

            /// The name stored and sent (the field's name).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $item::$variant => stringify!($field), )+
                }
            }

            /// The item a stored name names.
            pub fn parse(s: &str) -> Option<$item> {
                $item::ALL.into_iter().find(|i| i.as_str() == s)
            }

            /// Its paragraph of the rule: `(c)(3)`.
            pub fn cite(self) -> String {
                let n = $item::ALL.iter().position(|i| *i == self).expect("listed") + 1;
                format!("(c)({n})")
            }

            /// What the item asks for, in words.
            pub fn label(self) -> &'static str {
                match self {
                    $( $item::$variant => $label, )+
                }
            }

            /// `(c)(3) the makes, models and trims …`: how a list of what is missing names it.
            pub fn named(self) -> String {
                let l = self.label();
                let mut first = l.chars();
                let lower =
                    first.next().map(|c| c.to_lowercase().collect::<String>()).unwrap_or_default() + first.as_str();
                format!("{} {lower}", self.cite())
            }
        }

        /// Each item is sent and stored under its field's name: serde's name for the
        /// variant (`rename_all`) is the field's.
        #[cfg(test)]
        #[test]
        fn items_are_named_as_their_fields() {
            for i in $item::ALL {
                assert_eq!(serde_json::to_value(i).unwrap(), i.as_str());
            }
        }

        $(#[doc = $contents_doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[schema(as = $contents_schema)]
        pub struct $contents {
            $(
                $(#[doc = $doc])*
                #[schema(value_type = $crate::text::Text<{ $crate::text::TEXT }>, inline)]
                #[serde(default)]
                pub $field: String,
            )+
        }

        impl $contents {
            /// The text of `item`.
            pub fn get(&self, item: $item) -> &str {
                match item {
                    $( $item::$variant => &self.$field, )+
                }
            }

            fn get_mut(&mut self, item: $item) -> &mut String {
                match item {
                    $( $item::$variant => &mut self.$field, )+
                }
            }

            /// Each item trimmed, every one too long named.
            pub fn checked(&self) -> Result<$contents, Vec<$crate::error::FieldError>> {
                let mut out = $contents::default();
                let mut errors = Vec::new();
                for i in $item::ALL {
                    let t = self.get(i).trim();
                    if $crate::text::too_long(t, $crate::text::TEXT) {
                        errors.push($crate::error::FieldError::new(i.as_str(), $crate::text::at_most($crate::text::TEXT)));
                    }
                    *out.get_mut(i) = t.to_string();
                }
                if errors.is_empty() { Ok(out) } else { Err(errors) }
            }

            /// These contents with `added`'s non-empty items added to them (material added
            /// supplements an item, it never erases one), and the items it touched.
            pub fn supplemented(&self, added: &$contents) -> ($contents, Vec<$item>) {
                let mut out = self.clone();
                let mut touched = Vec::new();
                for i in $item::ALL {
                    let more = added.get(i).trim();
                    if more.is_empty() {
                        continue;
                    }
                    let slot = out.get_mut(i);
                    *slot = if slot.is_empty() { more.to_string() } else { format!("{slot}\n\n{more}") };
                    touched.push(i);
                }
                (out, touched)
            }

            /// [`Self::supplemented`] as material added with `note`: refused when it adds
            /// nothing and says nothing, or when an item would grow past its limit.
            pub fn supplement(
                &self,
                added: &$contents,
                note: &str,
            ) -> Result<($contents, Vec<$item>), $crate::error::DomainError> {
                let (contents, touched) = self.supplemented(added);
                if touched.is_empty() && note.is_empty() {
                    return Err($crate::error::DomainError::invalid(
                        "note",
                        "add text to at least one item, or say what the material is",
                    ));
                }
                for i in &touched {
                    if $crate::text::too_long(contents.get(*i), $crate::text::TEXT) {
                        return Err($crate::error::DomainError::invalid(
                            i.as_str(),
                            "the item would be longer than 20,000 characters",
                        ));
                    }
                }
                Ok((contents, touched))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::rule_items! {
        /// An item.
        item Item as TestItem;
        /// A content.
        contents Contents as TestContents;
        /// (c)(1) The first.
        First => first: "The parties to it";
        /// (c)(2) The second.
        SecondOne => second_one: "What it covers";
    }

    #[test]
    fn items_are_cited_named_and_parsed_in_the_rules_order() {
        assert_eq!(Item::ALL, [Item::First, Item::SecondOne]);
        assert_eq!(Item::SecondOne.as_str(), "second_one");
        assert_eq!(Item::parse("second_one"), Some(Item::SecondOne));
        assert_eq!(Item::parse("third"), None);
        assert_eq!(Item::SecondOne.cite(), "(c)(2)");
        assert_eq!(Item::First.named(), "(c)(1) the parties to it");
        assert_eq!(serde_json::to_value(Item::SecondOne).unwrap(), "second_one");
    }

    #[test]
    fn contents_are_trimmed_bounded_and_only_supplemented() {
        let c = Contents { first: "  A and B ".into(), second_one: String::new() };
        assert_eq!(c.checked().unwrap().first, "A and B");
        let long = Contents { second_one: "x".repeat(crate::text::TEXT + 1), ..Contents::default() };
        let errors = long.checked().unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "second_one");
        let added = Contents { first: " C ".into(), second_one: "  ".into() };
        let (out, touched) = c.checked().unwrap().supplemented(&added);
        assert_eq!(out.first, "A and B\n\nC");
        assert_eq!(out.second_one, "");
        assert_eq!(touched, [Item::First]);
        let (filled, _) = Contents::default().supplemented(&added);
        assert_eq!(filled.first, "C", "an empty item takes the added text as it is");
        assert!(c.supplement(&Contents::default(), "").is_err(), "material that adds nothing says what it is");
        assert!(c.supplement(&Contents::default(), "a letter").is_ok());
        let huge = Contents { first: "x".repeat(crate::text::TEXT), ..Contents::default() };
        let Err(crate::error::DomainError::Invalid(e)) = c.supplement(&huge, "") else {
            panic!("an item past its limit")
        };
        assert_eq!(e[0].field, "first");
    }

    #[test]
    fn a_filing_list_names_every_bad_parameter() {
        let status = |s: Option<&str>| match s {
            None | Some("open") => Ok(s.map(|_| 1)),
            Some(_) => Err(FieldError::new("status", "must be open")),
        };
        let params = |party, sort| ListParams {
            q: Some("  Quanta "),
            status: Some("shut"),
            party: ("applicant", party),
            sort,
            limit: Some("0"),
            cursor: None,
            before: None,
        };
        let errors = params(Some("not-an-id"), Some("sideways")).filter(status).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "applicant", "sort", "limit"]);
        let ok = ListParams { status: Some("open"), limit: None, ..params(Some(" "), Some("oldest")) };
        let f = ok.filter(status).unwrap();
        assert_eq!((f.q.as_deref(), f.status, f.party), (Some("Quanta"), Some(1), None));
        assert!(f.page.reads_ascending());
    }

    #[test]
    fn an_act_is_dated_in_order_and_an_answer_names_an_open_question() {
        let (today, last) = (time::macros::date!(2026 - 03 - 10), time::macros::date!(2026 - 03 - 05));
        let mut errors = Vec::new();
        assert_eq!(act_date(None, today, last, &mut errors), Some(today));
        assert_eq!(act_date(Some("2026-03-04"), today, last, &mut errors), None);
        assert_eq!(errors[0].field, "effective_on");
        let mut errors = Vec::new();
        check_answer(&[2, 5], Some(5), "this request", "yes", &mut errors);
        assert!(errors.is_empty());
        check_answer(&[2, 5], Some(3), "this request", "", &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["answers", "note"]);
        assert_eq!(errors[0].message, "must be an open question of this request");
    }
}
