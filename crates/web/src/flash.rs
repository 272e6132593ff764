//! One-time messages shown after a redirect ("You have signed out."), carried in a short-lived
//! cookie that the next page consumes.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use crate::{AppState, cookies};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlashKind {
    Success,
    /// Done, but something is left for the seller to do.
    Warning,
    Error,
}

impl FlashKind {
    pub(crate) fn css_class(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// Errors interrupt a screen reader; successes wait their turn.
    pub(crate) fn role(self) -> &'static str {
        match self {
            Self::Success | Self::Warning => "status",
            Self::Error => "alert",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct FlashMessage {
    pub(crate) kind: FlashKind,
    pub(crate) message: String,
}

/// The flash message of this request, if any (put in the extensions by [`take`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Flash(pub(crate) Option<FlashMessage>);

/// Adds a flash message for the next page.
pub(crate) fn set(jar: CookieJar, kind: FlashKind, message: &str, secure: bool) -> CookieJar {
    let prefix = match kind {
        FlashKind::Success => 's',
        FlashKind::Warning => 'w',
        FlashKind::Error => 'e',
    };
    let value: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    let mut cookie = cookies::build(cookies::FLASH, format!("{prefix}{value}"), secure);
    cookie.set_max_age(time::Duration::minutes(5));
    jar.add(cookie)
}

/// Sends the browser to `to` with a flash message for the page there.
pub(crate) fn redirect(state: &AppState, jar: CookieJar, kind: FlashKind, message: &str, to: &str) -> Response {
    let jar = set(jar, kind, message, state.settings.secure_cookies());
    (jar, Redirect::to(to)).into_response()
}

fn parse(value: &str) -> Option<FlashMessage> {
    let kind = match value.chars().next()? {
        's' => FlashKind::Success,
        'w' => FlashKind::Warning,
        'e' => FlashKind::Error,
        _ => return None,
    };
    let message: String = url::form_urlencoded::parse(format!("m={}", &value[1..]).as_bytes())
        .next()
        .map(|(_, message)| message.into_owned())?;
    Some(FlashMessage { kind, message })
}

/// Reads the flash cookie into the request and deletes it once an HTML page has shown it.
pub(crate) async fn take(State(state): State<AppState>, jar: CookieJar, mut request: Request, next: Next) -> Response {
    let secure = state.settings.secure_cookies();
    let flash = jar
        .get(cookies::FLASH.get(secure))
        .and_then(|cookie| parse(cookie.value()));
    let had_flash = flash.is_some();
    request.extensions_mut().insert(Flash(flash));
    let mut response = next.run(request).await;
    let shown = response.status().is_success()
        && response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
    if had_flash
        && shown
        && let Ok(value) = HeaderValue::from_str(&cookies::removal(cookies::FLASH, secure).to_string())
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}
