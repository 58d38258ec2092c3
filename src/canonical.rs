//! Canonical JSON: the one way a JSON value is turned into the bytes that are hashed or
//! signed — object keys sorted at every level, no insignificant whitespace, serde_json's
//! escaping and number forms — whatever map implementation serde_json is built with. Used
//! for determinations' content hashes, dossier manifests and parts, and the free-form
//! `changes` of every audit event (whose other fields have a fixed order of their own).

use serde::Serializer;
use serde_json::Value;

/// JSON with object keys sorted at every level, whatever the map implementation.
pub fn json(v: &Value) -> String {
    let mut out = Vec::with_capacity(256);
    write(&mut out, v);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes the canonical JSON of `v` to `out`, in one buffer (a dossier's parts are hashed
/// through this: no string per key or value).
pub fn write(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k).expect("strings serialise");
                out.push(b':');
                write(out, &m[k]);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        other => serde_json::to_writer(&mut *out, other).expect("scalars serialise"),
    }
}

/// Serialises a value as its canonical JSON (for `#[serde(serialize_with)]` on fields that
/// are hashed); only serde_json's serializer is supported.
pub fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
    let raw = serde_json::value::RawValue::from_string(json(v)).map_err(serde::ser::Error::custom)?;
    serde::Serialize::serialize(&raw, s)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level_and_nothing_else_changes() {
        let v = json!({"b": [1, {"d": 1, "c": "x\"y"}], "a": 1.5, "é": null});
        assert_eq!(super::json(&v), r#"{"a":1.5,"b":[1,{"c":"x\"y","d":1}],"é":null}"#);
        // The same bytes as serde_json's own compact output over its ordered map.
        assert_eq!(super::json(&v), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn a_field_serialised_canonically_is_embedded_as_is() {
        #[derive(serde::Serialize)]
        struct Event<'a> {
            z: u8,
            #[serde(serialize_with = "super::serialize")]
            changes: &'a serde_json::Value,
        }
        let changes = json!({"y": 1, "x": {"b": 2, "a": 1}});
        let out = serde_json::to_string(&Event { z: 1, changes: &changes }).unwrap();
        assert_eq!(out, r#"{"z":1,"changes":{"x":{"a":1,"b":2},"y":1}}"#);
    }
}
