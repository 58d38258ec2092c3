//! How long the texts people write may be: one set of limits, used by the domain's checks
//! (pages and API alike) and given in the API's document, whose JSON extractor refuses a
//! body over them before any handler runs (`web::openapi::over_limits`).
//!
//! A field declares its limit once, on itself, by naming the constant in its schema:
//! `#[schema(value_type = Text<{ text::NAME }>, inline)]` (a list of texts: [`Texts`]; a
//! list of other values: [`List`]); the domain's check reads the same constant. utoipa's own
//! `max_length` takes only a number written out, hence these types.
//!
//! The domain counts characters after trimming; the document counts them as JSON Schema
//! does, as sent. A text within the document's limit is therefore within the domain's.

use std::marker::PhantomData;

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

use crate::error::FieldError;

/// A code from a list: a category, an agency, an adversary, a measure's kind.
pub const CODE: usize = 40;
/// A person's name.
pub const PERSON: usize = 200;
/// A title or a name: a case, a party, a recipient, a measure's owner, a signer's title.
pub const NAME: usize = 300;
/// A few lines: a late act's reason, an authority, a source, a prohibition.
pub const LINE: usize = 2_000;
/// A short passage: a criterion's rationale, a determination's summary or penalties.
pub const PASSAGE: usize = 5_000;
/// A text: a summary, a finding, a comment, a note, a justification.
pub const TEXT: usize = 20_000;
/// A long text: a determination's background or risk analysis.
pub const LONG: usize = 50_000;
/// A list of codes: adversaries, data categories.
pub const CODES: usize = 50;
/// A password (new or typed to sign in).
pub const PASSWORD: usize = 256;
/// An e-mail address (RFC 5321's path limit).
pub const EMAIL: usize = 254;

/// "must be at most 20,000 characters".
pub fn at_most(max: usize) -> String {
    format!("must be at most {} characters", grouped(max))
}

/// `max` with thousands separated by commas (20,000).
pub fn grouped(max: usize) -> String {
    let digits = max.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether `value`, trimmed, is longer than `max` characters.
pub fn too_long(value: &str, max: usize) -> bool {
    value.trim().chars().count() > max
}

/// The error for `field` when `value` (trimmed) is longer than `max` characters.
pub fn check(field: &str, value: &str, max: usize) -> Option<FieldError> {
    too_long(value, max).then(|| FieldError::new(field, at_most(max)))
}

/// The document's schema of a text of at most `MAX` characters. Only a schema: the field
/// itself stays a `String`.
pub struct Text<const MAX: usize>;

impl<const MAX: usize> utoipa::PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).max_length(Some(MAX)).into()
    }
}

impl<const MAX: usize> utoipa::ToSchema for Text<MAX> {}

/// The document's schema of a list of at least `AT_LEAST` and at most `ITEMS` texts of at
/// most `MAX` characters each.
pub struct Texts<const MAX: usize, const ITEMS: usize, const AT_LEAST: usize = 0>;

impl<const MAX: usize, const ITEMS: usize, const AT_LEAST: usize> utoipa::PartialSchema
    for Texts<MAX, ITEMS, AT_LEAST>
{
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String).max_length(Some(MAX)))
            .max_items(Some(ITEMS))
            .min_items((AT_LEAST > 0).then_some(AT_LEAST))
            .into()
    }
}

impl<const MAX: usize, const ITEMS: usize, const AT_LEAST: usize> utoipa::ToSchema for Texts<MAX, ITEMS, AT_LEAST> {}

/// The document's schema of a list of at most `ITEMS` values of `T` (a reference to `T`'s
/// own schema).
pub struct List<T, const ITEMS: usize>(PhantomData<T>);

// utoipa composes a field's generic schema through this trait (hidden from its documentation,
// but what its derive calls); `T` is listed among the document's schemas by the derive.
impl<T: utoipa::ToSchema, const ITEMS: usize> utoipa::__dev::ComposeSchema for List<T, ITEMS> {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ArrayBuilder::new().items(RefOr::Ref(Ref::from_schema_name(T::name()))).max_items(Some(ITEMS)).into()
    }
}

impl<T: utoipa::ToSchema, const ITEMS: usize> utoipa::ToSchema for List<T, ITEMS> {}

/// An amount of US dollars with thousands separators, and cents only when there are some:
/// `$1,250,000`, `$1,250.50`, `$0.05`.
pub fn money(dollars: f64) -> String {
    let cents = (dollars.abs() * 100.0).round() as u128;
    let digits = (cents / 100).to_string();
    let mut whole = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            whole.push(',');
        }
        whole.push(d);
    }
    let sign = if dollars < 0.0 && cents > 0 { "-" } else { "" };
    match cents % 100 {
        0 => format!("{sign}${whole}"),
        c => format!("{sign}${whole}.{c:02}"),
    }
}

/// An amount in cents as [`money`] writes it.
pub fn cents(cents: i64) -> String {
    money(cents as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_people_write_numbers() {
        assert_eq!(at_most(TEXT), "must be at most 20,000 characters");
        assert_eq!(at_most(NAME), "must be at most 300 characters");
        assert_eq!(grouped(1_000_000), "1,000,000");
    }

    #[test]
    fn characters_are_counted_after_trimming() {
        assert!(!too_long("  abc  ", 3));
        assert!(too_long("abcd", 3));
        assert!(!too_long("ééé", 3), "characters, not bytes");
        assert_eq!(check("title", "abcd", 3).unwrap().field, "title");
    }
}
