//! No control characters in what clients send: no name, e-mail, password, credential or search
//! needs one, and PostgreSQL refuses a NUL in text (a 500 there, stored on SQLite). Checked once
//! for every route, on the query string and on form and JSON bodies, before the handler reads
//! them; the answer is a 422 naming the field, the same on both databases.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use javelin_core::connections::FieldErrors;
use serde_json::Value;

use crate::error::{ApiError, PageError};

/// The most a form or JSON body may hold, as axum's extractors allow by default.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

const MESSAGE: &str = "must not contain control characters.";

/// [`refuse_control_characters`] answering JSON.
pub(crate) async fn in_api(request: Request, next: Next) -> Response {
    refuse_control_characters(true, request, next).await
}

/// [`refuse_control_characters`] answering an error page.
pub(crate) async fn in_pages(request: Request, next: Next) -> Response {
    refuse_control_characters(false, request, next).await
}

/// Refuses a request whose query string or form/JSON body holds a control character. Other
/// bodies pass untouched.
async fn refuse_control_characters(api: bool, request: Request, next: Next) -> Response {
    if let Some(field) = request
        .uri()
        .query()
        .and_then(|query| form_field_with_control(query.as_bytes()))
    {
        return refusal(api, field);
    }
    let Some(kind) = body_kind(&request) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        let message = "The request body is too large or was cut short.";
        return if api {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
        } else {
            (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
        };
    };
    let field = match kind {
        BodyKind::Form => form_field_with_control(&bytes),
        // Malformed JSON is the handler's to refuse, with its own message.
        BodyKind::Json => serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|value| json_field_with_control(&value, "")),
    };
    match field {
        Some(field) => refusal(api, field),
        None => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    }
}

enum BodyKind {
    Form,
    Json,
}

fn body_kind(request: &Request) -> Option<BodyKind> {
    let content_type = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Some(BodyKind::Form),
        "application/json" => Some(BodyKind::Json),
        other if other.starts_with("application/") && other.ends_with("+json") => Some(BodyKind::Json),
        _ => None,
    }
}

fn refusal(api: bool, field: String) -> Response {
    if api {
        let mut fields = FieldErrors::default();
        fields.add(field, MESSAGE);
        ApiError::invalid(fields).into_response()
    } else {
        PageError::Unprocessable(format!(
            "The field “{field}” holds a control character, which no field accepts."
        ))
        .into_response()
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// The first name of a `name=value&…` list whose name or value decodes to a control character.
fn form_field_with_control(encoded: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(encoded)
        .find(|(name, value)| has_control(name) || has_control(value))
        .map(|(name, _)| printable(&name))
}

/// The dotted path (`connection.client_id`, `items.2`) of the first string or key in `value`
/// holding a control character.
fn json_field_with_control(value: &Value, path: &str) -> Option<String> {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    match value {
        Value::String(text) => has_control(text).then(|| {
            if path.is_empty() {
                "body".to_owned()
            } else {
                path.to_owned()
            }
        }),
        Value::Array(values) => values
            .iter()
            .enumerate()
            .find_map(|(index, value)| json_field_with_control(value, &join(&index.to_string()))),
        Value::Object(fields) => fields.iter().find_map(|(name, value)| {
            if has_control(name) {
                Some(join(&printable(name)))
            } else {
                json_field_with_control(value, &join(name))
            }
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// A client's field name fit to show back: control characters as `\u{…}` escapes, at most 64
/// characters.
fn printable(name: &str) -> String {
    name.chars().take(64).flat_map(char::escape_debug).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_field_with_a_control_character() {
        assert_eq!(form_field_with_control(b"email=a%40x.com&password=x"), None);
        assert_eq!(
            form_field_with_control(b"email=a%00%40x.com&password=x").as_deref(),
            Some("email")
        );
        assert_eq!(
            form_field_with_control(b"q=yoga&na%07me=x").as_deref(),
            Some("na\\u{7}me")
        );
        let body = serde_json::json!({"label": "ok", "credentials": {"username": "a\u{0}b"}, "list": ["x", "\u{1b}"]});
        assert_eq!(
            json_field_with_control(&body, "").as_deref(),
            Some("credentials.username")
        );
        let body = serde_json::json!({"list": ["x", "y\u{7f}"]});
        assert_eq!(json_field_with_control(&body, "").as_deref(), Some("list.1"));
        assert_eq!(
            json_field_with_control(&serde_json::json!("\n"), "").as_deref(),
            Some("body")
        );
        assert_eq!(
            json_field_with_control(&serde_json::json!({"emoji": "🧘 ünï — \"q\""}), ""),
            None
        );
    }
}
