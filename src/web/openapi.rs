//! The OpenAPI document's frame (title, security scheme); its paths come from the route
//! list in `router.rs`. Served at `GET /api/v1/openapi.json`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use serde_json::{Value, json};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::web::extract::ApiJson;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "icts-review API", description = "Case management for ICTS transaction reviews (15 CFR Part 791). Errors are application/problem+json (RFC 9457)."),
    components(schemas(crate::web::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The document built by the router from its route list (`router.rs`), shared with the
/// handler that serves it.
#[derive(Clone, Default)]
pub struct ApiDocument(pub Arc<Value>);

impl serde::Serialize for ApiDocument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI document")))]
pub async fn openapi_json(State(doc): State<ApiDocument>) -> ApiJson<ApiDocument> {
    ApiJson(doc)
}

/// What the route table's document does not say by itself, added before it is served: every
/// answer's description, the problem schema of every error answer and the statuses every
/// route can give (authentication, bodies, the database being away), dates as dates, and
/// operation ids that are unique. The closed sets of values and the texts' lengths are the
/// types' own (the enums' schemas, `text::Text` and its kin): this only joins what utoipa
/// writes in two parts for a field whose schema is inline (see [`join_inline`]).
pub fn conform(doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document serialises");
    join_inline(&mut doc);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for schema in schemas.values_mut() {
            let input = schema.get("additionalProperties") == Some(&Value::Bool(false));
            let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else { continue };
            for s in props.values_mut() {
                if input && is_date(s) {
                    s["format"] = json!("date");
                }
            }
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for_each_operation(&mut doc, |_, _, op| {
        if let Some(id) = op["operationId"].as_str() {
            *seen.entry(id.to_string()).or_default() += 1;
        }
    });
    for_each_operation(&mut doc, |path, method, op| {
        if let Some(id) = op["operationId"].as_str().map(str::to_string)
            && seen.get(&id).is_some_and(|n| *n > 1)
        {
            let tag = op["tags"][0].as_str().unwrap_or("api").replace('-', "_");
            op["operationId"] = json!(format!("{tag}_{id}"));
        }
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
            for p in params {
                // A filter left blank (as a search form sends it) is a filter not given.
                if p["in"] == "query" {
                    let given = p["schema"].take();
                    p["schema"] = json!({"anyOf": [given, {"type": "string", "pattern": "^\\s*$"}]});
                }
            }
        }
        let secured = op.get("security").is_some();
        let body = op.get("requestBody").is_some();
        let query =
            op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["in"] == "query" || p["in"] == "header"));
        let mut statuses: Vec<u16> = vec![503];
        if secured {
            statuses.extend([401, 403]);
        }
        if path.contains('{') {
            // 400: a path parameter that does not parse (not a UUID, say).
            statuses.extend([400, 404]);
        }
        if body {
            statuses.extend([400, 413, 415, 422]);
        }
        if query {
            statuses.extend([400, 422]);
        }
        if method != "get" {
            // 409: the object moved on (a stale version, a stage that no longer allows it).
            statuses.extend([409, 507]);
        }
        if path.starts_with("/api/v1/auth/") && method != "get" {
            // Sign-in and re-authentication are throttled per address and account.
            statuses.push(429);
        }
        let responses = op["responses"].as_object_mut().expect("every operation has responses");
        for s in statuses {
            responses.entry(s.to_string()).or_insert_with(|| json!({}));
        }
        for (status, r) in responses.iter_mut() {
            let code = status.parse::<u16>().unwrap_or(0);
            let reason = axum::http::StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
            if r.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                r["description"] = json!(reason);
            }
            if code >= 400 {
                r["content"] =
                    json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
            }
            if code == 503 {
                r["headers"] = json!({"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}});
            }
        }
    });
    doc
}

/// The texts and lists of a JSON body that are longer than the document allows: walks the
/// body alongside the schema named `schema` (its `$ref`s, `oneOf`/`anyOf`/`allOf` branches,
/// properties and items) and names each text over its `maxLength` (counted in characters,
/// as JSON Schema counts them: before any trimming) and each list over its `maxItems`,
/// with the field's path (`parties[0].legal_name`). So a request the document calls too
/// long is refused at the boundary, whatever the domain's own checks would make of it.
pub fn over_limits(doc: &Value, schema: &str, body: &Value) -> Vec<crate::error::FieldError> {
    let mut errors = Vec::new();
    if let Some(root) = doc.get("components").and_then(|c| c["schemas"].get(schema)) {
        walk_limits(doc, root, body, &mut String::new(), &mut errors, 0);
    }
    errors
}

fn walk_limits(
    doc: &Value,
    schema: &Value,
    v: &Value,
    path: &mut String,
    errors: &mut Vec<crate::error::FieldError>,
    depth: usize,
) {
    if depth > 16 || errors.len() >= crate::error::MAX_FIELD_ERRORS {
        return;
    }
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(s) = doc.pointer(target.trim_start_matches('#')) {
            walk_limits(doc, s, v, path, errors, depth + 1);
        }
        return;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for branch in schema[key].as_array().into_iter().flatten() {
            walk_limits(doc, branch, v, path, errors, depth + 1);
        }
    }
    match v {
        Value::String(s) => {
            // An empty date is a missing date: the field is left out (or null) when there is none.
            if schema["format"] == "date" && s.trim().is_empty() {
                refuse(errors, path, "must be a date YYYY-MM-DD; leave the field out when there is none".into());
            }
            if let Some(max) = schema["maxLength"].as_u64()
                && s.chars().count() as u64 > max
            {
                refuse(errors, path, crate::text::at_most(max as usize));
            }
        }
        Value::Array(items) => {
            if let Some(max) = schema["maxItems"].as_u64()
                && items.len() as u64 > max
            {
                refuse(errors, path, format!("list at most {max}"));
                return;
            }
            if let Some(item) = schema.get("items") {
                for (i, value) in items.iter().enumerate() {
                    if errors.len() >= crate::error::MAX_FIELD_ERRORS {
                        return;
                    }
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk_limits(doc, item, value, path, errors, depth + 1);
                    path.truncate(len);
                }
            }
        }
        Value::Object(fields) => {
            let props = schema["properties"].as_object();
            let others = schema.get("additionalProperties").filter(|s| s.is_object());
            for (k, value) in fields {
                let Some(s) = props.and_then(|p| p.get(k)).or(others) else { continue };
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk_limits(doc, s, value, path, errors, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn refuse(errors: &mut Vec<crate::error::FieldError>, path: &str, message: String) {
    let name = if path.is_empty() { "body".to_string() } else { path.to_string() };
    if errors.len() < crate::error::MAX_FIELD_ERRORS && !errors.iter().any(|e| e.field == name) {
        errors.push(crate::error::FieldError::new(name, message));
    }
}

fn for_each_operation(doc: &mut Value, mut f: impl FnMut(&str, &str, &mut Value)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                f(path, method, op);
            }
        }
    }
}

/// The keys of an object that only describes: what utoipa puts beside an inline schema.
const ANNOTATIONS: [&str; 6] = ["description", "title", "default", "readOnly", "writeOnly", "deprecated"];

/// Joins the two shapes utoipa gives a field whose schema is inline (the length-limited
/// texts of `text::Text`, `Texts`, `List`) back into one schema, as it writes a plain field:
/// `allOf: [schema, {type: object, description}]` (which no value would match: a text is not
/// an object) becomes the schema with the description, and `oneOf: [schema, {type: null}]`
/// of a typed schema becomes the schema with `null` among its types.
pub fn join_inline(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(join_inline),
        Value::Object(map) => {
            map.values_mut().for_each(join_inline);
            if let Some(Value::Array(parts)) = map.get("allOf")
                && let [schema, Value::Object(notes)] = parts.as_slice()
                && schema.get("$ref").is_none()
                && notes.get("type") == Some(&json!("object"))
                && notes.keys().all(|k| k == "type" || ANNOTATIONS.contains(&k.as_str()))
            {
                let mut joined = schema.clone();
                for (k, note) in notes.iter().filter(|(k, _)| *k != "type") {
                    joined[k] = note.clone();
                }
                map.remove("allOf");
                for (k, part) in joined.as_object().into_iter().flatten() {
                    map.entry(k.clone()).or_insert_with(|| part.clone());
                }
            }
            if let Some(Value::Array(parts)) = map.get("oneOf")
                && let [schema, null] = parts.as_slice()
                && *null == json!({"type": "null"})
                && schema["type"].is_string()
                && ["$ref", "enum", "allOf", "oneOf", "anyOf"].iter().all(|k| schema.get(k).is_none())
            {
                let mut joined = schema.clone();
                joined["type"] = json!([schema["type"], "null"]);
                map.remove("oneOf");
                for (k, part) in joined.as_object().into_iter().flatten() {
                    map.entry(k.clone()).or_insert_with(|| part.clone());
                }
            }
        }
        _ => {}
    }
}

/// A string schema whose description says it is a `YYYY-MM-DD` date.
fn is_date(s: &Value) -> bool {
    let string = s["type"] == "string" || s["type"].as_array().is_some_and(|t| t.contains(&json!("string")));
    string
        && s.get("format").is_none()
        && s["description"].as_str().is_some_and(|d| d.contains("YYYY-MM-DD") && !d.contains("RFC 3339"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field errors the pure validators give for `schema` with `field` set to `value`
    /// (from the type's default): a party, a transaction, a determination's content.
    fn errors_of(schema: &str, field: &str, value: Value) -> Vec<String> {
        fn with<T: serde::Serialize + serde::de::DeserializeOwned + Default>(field: &str, value: Value) -> T {
            let mut v = serde_json::to_value(T::default()).unwrap();
            v[field] = value;
            serde_json::from_value(v).unwrap()
        }
        let errors = match schema {
            "PartyInput" => with::<crate::parties::PartyInput>(field, value).parse().err().unwrap_or_default(),
            "TransactionInput" => {
                with::<crate::cases::transactions::TransactionInput>(field, value).parse(&[]).err().unwrap_or_default()
            }
            "Content" => crate::determinations::validate(
                crate::determinations::Kind::Initial,
                "prohibited",
                &with::<crate::determinations::Content>(field, value),
                true,
                false,
            ),
            _ => unreachable!(),
        };
        // Without the text itself, which some messages quote.
        errors.into_iter().filter(|e| e.field == field).map(|e| e.message.replace(['é', 'É'], "")).collect()
    }

    #[test]
    fn the_pure_validators_take_every_text_the_document_allows() {
        fn schema_of<T: utoipa::PartialSchema>() -> Value {
            let mut v = serde_json::to_value(T::schema()).unwrap();
            join_inline(&mut v);
            v
        }
        let schemas = [
            ("PartyInput", schema_of::<crate::parties::PartyInput>()),
            ("TransactionInput", schema_of::<crate::cases::transactions::TransactionInput>()),
            ("Content", schema_of::<crate::determinations::Content>()),
        ];
        let mut tried = 0;
        for (schema, doc) in &schemas {
            for (field, s) in doc["properties"].as_object().unwrap() {
                let list = s["items"].is_object();
                let Some(n) = (if list { &s["items"] } else { s })["maxLength"].as_u64() else { continue };
                let n = n as usize;
                let key = format!("{schema}.{field}");
                // Two-byte characters: counted as characters, as the document counts them.
                let text = |k: usize| {
                    let s = "é".repeat(k);
                    if list { json!([s]) } else { json!(s) }
                };
                let short = errors_of(schema, field, text(1));
                let at_limit = errors_of(schema, field, text(n));
                assert_eq!(at_limit, short, "{key}: the document allows {n} characters, the domain does not");
                // One more is refused by the domain too (the document's boundary refuses it
                // first; the pages' forms meet only the domain). A code refused at any length
                // but its own (a country) proves nothing here.
                if short.is_empty() {
                    let over = errors_of(schema, field, text(n + 1));
                    assert!(!over.is_empty(), "{key}: the domain takes more than the document's {n}");
                }
                tried += 1;
            }
        }
        assert!(tried >= 15, "{tried}");
    }

    #[test]
    fn an_inline_schema_reads_as_a_plain_field() {
        let mut v = json!({"properties": {
            "title": {"allOf": [{"type": "string", "maxLength": 300}, {"type": "object", "description": "Title."}]},
            "note": {"oneOf": [{"type": "string", "maxLength": 40}, {"type": "null"}], "description": "Note."},
            "kind": {"oneOf": [{"$ref": "#/components/schemas/Kind"}, {"type": "null"}]},
        }});
        join_inline(&mut v);
        assert_eq!(v["properties"]["title"], json!({"type": "string", "maxLength": 300, "description": "Title."}));
        assert_eq!(
            v["properties"]["note"],
            json!({"type": ["string", "null"], "maxLength": 40, "description": "Note."})
        );
        assert!(v["properties"]["kind"]["oneOf"].is_array(), "a reference stays as it is");
    }
}
