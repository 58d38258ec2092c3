//! A value of a closed set as a request names it.
//!
//! A request body's kind, role or status is a field of type `Choice<T>`, `T` the enum of the
//! set (`parties::PartyKind`, `auth::Role`…), with `#[schema(value_type = T)]`: the API's
//! document lists the values from `T`, and the body is read as `T` names them (its serde
//! names). A text that names none is kept as [`Choice::Unknown`] rather than failing the
//! whole body, so that the domain's check names it in its place among the other bad fields
//! (`legal_name`, `kind`, `country`), as it did when these were plain texts.

use serde::de::IntoDeserializer;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;

/// A value of the closed set `T`, or the text that named none of its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice<T> {
    /// One of the set.
    Known(T),
    /// A text that names none of them, as sent.
    Unknown(String),
}

impl<T: Copy> Choice<T> {
    /// The value, if the text named one.
    pub fn known(&self) -> Option<T> {
        match self {
            Choice::Known(v) => Some(*v),
            Choice::Unknown(_) => None,
        }
    }

    /// The value; or `None`, with `message` for `field` added to `errors`.
    pub fn or_error(&self, field: &str, message: &str, errors: &mut Vec<FieldError>) -> Option<T> {
        let known = self.known();
        if known.is_none() {
            errors.push(FieldError::new(field, message));
        }
        known
    }

    /// The value, or the error for `field` with `message`.
    pub fn or_invalid(&self, field: &str, message: &str) -> Result<T, FieldError> {
        self.known().ok_or_else(|| FieldError::new(field, message))
    }
}

impl<T: serde::de::DeserializeOwned> Choice<T> {
    /// The choice a text names (a form's field, an imported cell), read as a body's is.
    pub fn named(text: &str) -> Self {
        let named = T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text));
        named.map(Choice::Known).unwrap_or_else(|_| Choice::Unknown(text.to_string()))
    }
}

impl<T: Serialize> Choice<T> {
    /// The text it was named by: a value's serde name, or the text as sent (a form that
    /// comes back with what was typed).
    pub fn as_text(&self) -> String {
        match self {
            Choice::Known(v) => match serde_json::to_value(v) {
                Ok(serde_json::Value::String(s)) => s,
                _ => String::new(),
            },
            Choice::Unknown(text) => text.clone(),
        }
    }
}

impl<T> From<T> for Choice<T> {
    fn from(v: T) -> Self {
        Choice::Known(v)
    }
}

impl<T> Default for Choice<T> {
    /// Nothing named, as an empty field of a form.
    fn default() -> Self {
        Choice::Unknown(String::new())
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Choice<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|text| Choice::named(&text))
    }
}

impl<T: Serialize> Serialize for Choice<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Choice::Known(v) => v.serialize(s),
            Choice::Unknown(text) => text.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Colour {
        Red,
        DeepBlue,
    }

    #[test]
    fn a_choice_reads_the_sets_names_and_keeps_any_other_text() {
        let read = |v: serde_json::Value| serde_json::from_value::<Choice<Colour>>(v);
        assert_eq!(read("deep_blue".into()).unwrap(), Choice::Known(Colour::DeepBlue));
        assert_eq!(read("DeepBlue".into()).unwrap(), Choice::Unknown("DeepBlue".into()));
        assert_eq!(read(" red".into()).unwrap(), Choice::Unknown(" red".into()), "as the document lists it, exactly");
        assert!(read(serde_json::json!(3)).is_err(), "a number is no text");
        let mut errors = Vec::new();
        assert_eq!(read("green".into()).unwrap().or_error("colour", "must be red or deep_blue", &mut errors), None);
        assert_eq!(errors[0].field, "colour");
        assert_eq!(serde_json::to_value(Choice::Known(Colour::DeepBlue)).unwrap(), "deep_blue");
        assert_eq!(serde_json::to_value(Choice::<Colour>::Unknown("x".into())).unwrap(), "x");
        assert_eq!(Choice::<Colour>::named("deep_blue"), Choice::Known(Colour::DeepBlue));
        assert_eq!(Choice::Known(Colour::DeepBlue).as_text(), "deep_blue");
        assert_eq!(Choice::<Colour>::named("mauve").as_text(), "mauve");
    }

    #[test]
    fn a_form_names_a_choice_as_the_api_does() {
        #[derive(Deserialize)]
        struct Form {
            colour: Choice<Colour>,
        }
        let f: Form = serde_urlencoded::from_str("colour=deep_blue").unwrap();
        assert_eq!(f.colour, Choice::Known(Colour::DeepBlue));
        let f: Form = serde_urlencoded::from_str("colour=").unwrap();
        assert_eq!(f.colour, Choice::Unknown(String::new()));
    }
}
