//! Who is asking: browser sessions, API bearer tokens, and the sign-in, setup and sign-out pages.

use std::convert::Infallible;
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri, Query, Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, RETRY_AFTER, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::CookieJar;
use javelin_core::passwords::MIN_PASSWORD_CHARS;
use javelin_core::{AccountError, Actor, LoginError, Permission};
use javelin_storage::User;
use serde::Deserialize;

use crate::error::{ApiError, PageError};
use crate::flash::{self, Flash, FlashKind, FlashMessage};
use crate::{AppState, assets, cookies};

/// The signed-in user of a request and how they proved it.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub(crate) user: User,
    pub(crate) via: Via,
}

#[derive(Clone, Debug)]
pub(crate) enum Via {
    Session { token: String, csrf_token: String },
    Bearer { token: String },
}

impl Identity {
    /// The browser session's token, when the request came with one rather than a bearer token.
    pub(crate) fn session_token(&self) -> Option<&str> {
        match &self.via {
            Via::Session { token, .. } => Some(token),
            Via::Bearer { .. } => None,
        }
    }

    /// The session or API token the request came with; an OAuth state is bound to it.
    pub(crate) fn token(&self) -> &str {
        match &self.via {
            Via::Session { token, .. } | Via::Bearer { token } => token,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Present on every route behind `require_user`.
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("Sign in first."))
    }
}

/// Who makes a request, as the services see it: the signed-in user (or nobody yet), with the
/// client's address and user agent for the audit log.
pub(crate) struct Acting(pub(crate) Actor);

impl<S: Send + Sync> FromRequestParts<S> for Acting {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let agent = parts.headers.get(USER_AGENT).and_then(|value| value.to_str().ok());
        Ok(Self(match parts.extensions.get::<Identity>() {
            Some(identity) => Actor::user(identity.user.clone(), ip, agent),
            None => Actor::anonymous(ip, agent),
        }))
    }
}

/// Guards a route only administrators may use: anyone else signed in gets a 403 saying so (a
/// page for browsers, JSON for the API). Runs after sign-in was checked.
pub(crate) async fn require_permission(permission: Permission, request: Request, next: Next) -> Response {
    let refused = request
        .extensions()
        .get::<Identity>()
        .is_some_and(|identity| !permission.granted_to(identity.user.role));
    if !refused {
        return next.run(request).await;
    }
    let message = permission.refusal();
    // Inside the nested API router the path has lost its prefix; the original has it.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri().path(), |OriginalUri(uri)| uri.path());
    if path.starts_with(crate::routes::API_PREFIX) {
        ApiError::forbidden(message).into_response()
    } else {
        PageError::Forbidden(message.to_owned()).into_response()
    }
}

/// Resolves the session cookie or bearer token of every request into an [`Identity`].
pub(crate) async fn identify(
    State(state): State<AppState>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(header) = request.headers().get(AUTHORIZATION) {
        // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`.
        let token = header.to_str().ok().and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        });
        let Some(token) = token else {
            return ApiError::unauthorized("The Authorization header must be 'Bearer <token>'.").into_response();
        };
        let token = token.trim().to_owned();
        match state.accounts.api_token_user(&token).await {
            Ok(Some(user)) => {
                request.extensions_mut().insert(Identity {
                    user,
                    via: Via::Bearer { token },
                });
            }
            Ok(None) => {
                return ApiError::unauthorized("This API token is not valid or has been revoked.").into_response();
            }
            Err(err) => return ApiError::internal(err).into_response(),
        }
    } else if let Some(cookie) = jar.get(cookies::SESSION.get(state.settings.secure_cookies())) {
        let token = cookie.value().to_owned();
        match state.accounts.session(&token).await {
            Ok(Some(session)) => {
                let via = Via::Session {
                    token,
                    csrf_token: session.csrf_token,
                };
                request.extensions_mut().insert(Identity {
                    user: session.user,
                    via,
                });
            }
            // An expired or unknown cookie: the visitor is simply not signed in.
            Ok(None) => {}
            Err(err) => return PageError::from(err).into_response(),
        }
    }
    next.run(request).await
}

/// Guards the signed-in pages: a browser is sent to sign in (or to the first-run setup), a
/// script reading a page gets a 401.
pub(crate) async fn require_page_user(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.extensions().get::<Identity>().is_some() {
        return next.run(request).await;
    }
    if !wants_html(request.headers()) {
        return unauthorized_api().into_response();
    }
    match state.accounts.setup_needed().await {
        Ok(true) => Redirect::to("/setup").into_response(),
        Ok(false) => {
            let next_path = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", next_path)
                .finish();
            Redirect::to(&format!("/login?{query}")).into_response()
        }
        Err(err) => PageError::from(err).into_response(),
    }
}

/// Guards the signed-in API routes: a 401 in JSON.
pub(crate) async fn require_api_user(request: Request, next: Next) -> Response {
    if request.extensions().get::<Identity>().is_some() {
        next.run(request).await
    } else {
        unauthorized_api().into_response()
    }
}

fn unauthorized_api() -> ApiError {
    ApiError::unauthorized("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Only local paths are followed after sign-in, never another site.
/// Browsers drop tabs and newlines from URLs and read `\\` as `/`, so `/\t/evil.example` would
/// become `//evil.example`: a local path has neither, nor starts with `//`.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    if local { next } else { "/" }
}

/// The anonymous form token, created on first sight.
fn anonymous_csrf(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(cookie) = jar.get(cookies::ANONYMOUS_CSRF.get(secure)) {
        let token = cookie.value().to_owned();
        return (jar, token);
    }
    let token = javelin_core::accounts::new_form_token();
    let jar = jar.add(cookies::build(cookies::ANONYMOUS_CSRF, token.clone(), secure));
    (jar, token)
}

/// Starts a session and sends the browser on.
async fn sign_in(state: &AppState, jar: CookieJar, user: User, to: &str) -> Result<(CookieJar, Redirect), PageError> {
    let session = state.accounts.start_session(user).await?;
    let secure = state.settings.secure_cookies();
    let mut cookie = cookies::build(cookies::SESSION, session.token, secure);
    cookie.set_expires(session.expires_at.datetime());
    let jar = jar
        .add(cookie)
        .remove(cookies::removal(cookies::ANONYMOUS_CSRF, secure));
    Ok((jar, Redirect::to(to)))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    asset_version: &'static str,
    csrf_token: String,
    next: String,
    email: String,
    error: Option<String>,
    flash: Option<FlashMessage>,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    identity: Option<Extension<Identity>>,
    Extension(Flash(flash)): Extension<Flash>,
    Query(query): Query<NextQuery>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let next = safe_next(&query.next).to_owned();
    if identity.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    if state.accounts.setup_needed().await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    let (jar, csrf_token) = anonymous_csrf(jar, state.settings.secure_cookies());
    let page = LoginPage {
        asset_version: assets::version(),
        csrf_token,
        next,
        email: String::new(),
        error: None,
        flash,
    };
    Ok((jar, page).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    Acting(actor): Acting,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(&form.next).to_owned();
    let (status, error, retry_after) = match state.accounts.verify_login(&actor, &form.email, &form.password).await {
        Ok(user) => return Ok(sign_in(&state, jar, user, &next).await?.into_response()),
        Err(err @ (LoginError::InvalidCredentials | LoginError::Deactivated)) => {
            (StatusCode::UNAUTHORIZED, err.to_string(), None)
        }
        Err(err @ LoginError::TooManyAttempts { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            err.to_string(),
            Some(retry_after.as_secs().max(1)),
        ),
        Err(err) => return Err(PageError::from(err)),
    };
    let (jar, csrf_token) = anonymous_csrf(jar, state.settings.secure_cookies());
    let page = LoginPage {
        asset_version: assets::version(),
        csrf_token,
        next,
        email: form.email,
        error: Some(error),
        flash: None,
    };
    let mut response = (status, jar, page).into_response();
    if let Some(secs) = retry_after {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok(response)
}

#[derive(Default)]
struct SetupErrors {
    form: Option<String>,
    email: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    asset_version: &'static str,
    csrf_token: String,
    email: String,
    min_password: usize,
    errors: SetupErrors,
}

pub(crate) async fn setup_page(State(state): State<AppState>, jar: CookieJar) -> Result<Response, PageError> {
    if !state.accounts.setup_needed().await? {
        return Ok(Redirect::to("/login").into_response());
    }
    let (jar, csrf_token) = anonymous_csrf(jar, state.settings.secure_cookies());
    let page = SetupPage {
        asset_version: assets::version(),
        csrf_token,
        email: String::new(),
        min_password: MIN_PASSWORD_CHARS,
        errors: SetupErrors::default(),
    };
    Ok((jar, page).into_response())
}

#[derive(Deserialize)]
pub(crate) struct SetupForm {
    email: String,
    password: String,
    password_confirm: String,
}

pub(crate) async fn setup(
    State(state): State<AppState>,
    Acting(actor): Acting,
    jar: CookieJar,
    Form(form): Form<SetupForm>,
) -> Result<Response, PageError> {
    let secure = state.settings.secure_cookies();
    let mut errors = SetupErrors::default();
    if form.password != form.password_confirm {
        errors.password_confirm = Some("The two passwords are not the same.".into());
    } else {
        match state
            .accounts
            .create_first_admin(&actor, &form.email, &form.password)
            .await
        {
            Ok(user) => {
                let jar = flash::set(
                    jar,
                    FlashKind::Success,
                    "Your administrator account is ready. Next, connect your marketplace accounts.",
                    secure,
                );
                return Ok(sign_in(&state, jar, user, "/").await?.into_response());
            }
            Err(AccountError::AlreadySetUp) => {
                let jar = flash::set(
                    jar,
                    FlashKind::Error,
                    "Javelin is set up already: sign in instead.",
                    secure,
                );
                return Ok((jar, Redirect::to("/login")).into_response());
            }
            Err(err @ AccountError::InvalidEmail) => errors.email = Some(err.to_string()),
            Err(AccountError::Password(err)) => {
                errors.password = Some(err.to_string());
            }
            Err(err) => return Err(PageError::from(err)),
        }
    }
    let (jar, csrf_token) = anonymous_csrf(jar, secure);
    let page = SetupPage {
        asset_version: assets::version(),
        csrf_token,
        email: form.email,
        min_password: MIN_PASSWORD_CHARS,
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, jar, page).into_response())
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if let Via::Session { token, .. } = &identity.via {
        state.accounts.end_session(&actor, token).await?;
    }
    let jar = jar.remove(cookies::removal(cookies::SESSION, state.settings.secure_cookies()));
    let jar = flash::set(
        jar,
        FlashKind::Success,
        "You have signed out.",
        state.settings.secure_cookies(),
    );
    Ok((jar, Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/inventory?page=2"), "/inventory?page=2");
        for outside in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/orders /evil",
            "https://evil.example",
            "",
            "orders",
        ] {
            assert_eq!(safe_next(outside), "/", "{outside:?}");
        }
    }
}
