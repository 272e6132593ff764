//! Connect Platforms: the page, its forms, Test Connection, Disconnect, and Amazon's OAuth callback.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{OriginalUri, Query, State};
use axum::http::header::{HOST, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use axum_extra::extract::CookieJar;
use javelin_core::ConnectionStatus;
use javelin_core::connections::{
    AmazonManualInput, AmazonOAuthInput, ConnectError, ConnectionView, CredentialsUpdate, FieldErrors, FlipkartInput,
    OAuthCallback, OAuthConnected, OAuthError, PlatformCard, TestResult, credential_label,
};
use javelin_marketplaces::amazon::{Marketplace, Region, marketplaces};
use serde::Serialize;

use crate::AppState;
use crate::auth::{Acting, Identity, Via};
use crate::error::{ApiError, PageError};
use crate::extract::ConnectionId;
use crate::flash::{self, Flash, FlashKind};
use crate::pages::sync::SyncPanel;
use crate::pages::{Layout, Section};

/// Which connect form was sent, what it held (secrets excepted) and what was wrong.
#[derive(Default)]
pub(crate) struct FormState {
    open: &'static str,
    values: BTreeMap<&'static str, String>,
    errors: FieldErrors,
}

impl FormState {
    fn new(open: &'static str, values: &[(&'static str, &str)], errors: FieldErrors) -> Self {
        let values = values
            .iter()
            .map(|(field, value)| (*field, (*value).to_owned()))
            .collect();
        Self { open, values, errors }
    }

    pub(crate) fn is_open(&self, form: &str) -> bool {
        self.open == form
    }

    pub(crate) fn value(&self, form: &str, field: &str) -> &str {
        if self.open == form {
            self.values.get(field).map_or("", String::as_str)
        } else {
            ""
        }
    }

    pub(crate) fn error(&self, form: &str, field: &str) -> Option<&str> {
        if self.open == form {
            self.errors.get(field)
        } else {
            None
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "connections.html")]
pub(crate) struct ConnectionsPage {
    layout: Layout,
    cards: Vec<PlatformCard>,
    marketplaces: &'static [Marketplace],
    regions: [Region; 4],
    redirect_uri: String,
    form: FormState,
    /// The sync panels of the connections that can sync.
    panels: Vec<SyncPanel>,
    /// Amazon connections: where their client secret is rotated.
    developer_central: BTreeMap<i64, String>,
}

impl ConnectionsPage {
    fn panel(&self, id: &i64) -> Option<&SyncPanel> {
        self.panels.iter().find(|panel| panel.id == *id)
    }

    fn developer_central(&self, id: &i64) -> Option<&str> {
        self.developer_central.get(id).map(String::as_str)
    }

    /// How a stored credential is named on the page.
    fn field_label(&self, field: &str) -> &'static str {
        credential_label(field)
    }

    /// The credentials "Update credentials" offers for a platform, with their names.
    fn updatable(&self, platform: &str) -> Vec<(&'static str, &'static str)> {
        let fields: &[&'static str] = match platform {
            "amazon" => &["client_id", "client_secret", "refresh_token"],
            _ => &["api_key", "api_secret", "password"],
        };
        fields.iter().map(|field| (*field, credential_label(field))).collect()
    }

    fn badge(&self, status: &ConnectionStatus) -> (&'static str, &'static str) {
        connection_badge(status)
    }
}

/// The badge of a status, in the guide's words, and its CSS class.
pub(crate) fn connection_badge(status: &ConnectionStatus) -> (&'static str, &'static str) {
    match status {
        ConnectionStatus::Connected => ("connected", "Connected"),
        ConnectionStatus::Incomplete => ("incomplete", "Incomplete Configuration"),
        ConnectionStatus::Error => ("error", "Connection Error"),
        ConnectionStatus::NotConnected => ("not_connected", "Not Connected"),
    }
}

async fn render(
    state: &AppState,
    identity: Identity,
    flash: Flash,
    form: FormState,
) -> Result<ConnectionsPage, PageError> {
    let cards = state.connections.cards().await?;
    let mut panels = Vec::new();
    let mut developer_central = BTreeMap::new();
    for connection in cards.iter().flat_map(|card| &card.connections) {
        if connection.status != ConnectionStatus::Incomplete {
            panels.push(SyncPanel::load(state, connection.id).await?);
        }
        if let Some(url) = state.connections.developer_central_url(connection) {
            developer_central.insert(connection.id, url.to_string());
        }
    }
    Ok(ConnectionsPage {
        layout: Layout::new(Section::Connections, identity, flash),
        cards,
        panels,
        developer_central,
        marketplaces: marketplaces::all(),
        regions: Region::ALL,
        redirect_uri: state.connections.redirect_uri().to_string(),
        form,
    })
}

/// `GET /connections`.
pub(crate) async fn page(
    State(state): State<AppState>,
    identity: Identity,
    Extension(flash): Extension<Flash>,
) -> Result<ConnectionsPage, PageError> {
    render(&state, identity, flash, FormState::default()).await
}

/// The page again, with the form that was sent open, its errors, and its non-secret input.
async fn invalid(state: &AppState, identity: Identity, form: FormState) -> Response {
    match render(state, identity, Flash::default(), form).await {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        Err(err) => err.into_response(),
    }
}

pub(crate) fn done(state: &AppState, jar: CookieJar, kind: FlashKind, message: &str, anchor: Option<i64>) -> Response {
    let to = anchor.map_or_else(
        || "/connections".to_owned(),
        |id| format!("/connections#connection-{id}"),
    );
    flash::redirect(state, jar, kind, message, &to)
}

/// `POST /connections/amazon/oauth/start`: off to Amazon's consent page.
pub(crate) async fn start_oauth(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    Form(input): Form<AmazonOAuthInput>,
) -> Response {
    match state
        .connections
        .start_amazon_oauth(&actor, identity.token(), &input)
        .await
    {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(ConnectError::Invalid(errors)) => {
            let values = [
                ("client_id", input.app.client_id.as_str()),
                ("marketplace_id", input.app.marketplace_id.as_str()),
                ("region", input.app.region.as_str()),
                ("application_id", input.application_id.as_str()),
                ("draft", if input.draft { "on" } else { "" }),
            ];
            invalid(&state, identity, FormState::new("amazon_oauth", &values, errors)).await
        }
        Err(err) => PageError::from(err).into_response(),
    }
}

/// `POST /connections/amazon`: "Connect Amazon" with a refresh token.
pub(crate) async fn connect_amazon(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    jar: CookieJar,
    Form(input): Form<AmazonManualInput>,
) -> Response {
    let connected = state.connections.connect_amazon_manually(&actor, &input).await;
    if let Ok((view, _)) = &connected {
        state.sync.connected(view.id, view.platform, true).await;
    }
    match connected {
        Ok((view, result)) if result.ok => done(&state, jar, FlashKind::Success, &result.message, Some(view.id)),
        Ok((view, result)) => {
            let message = format!(
                "The Amazon account was saved, but the connection test failed: {}",
                result.message
            );
            done(&state, jar, FlashKind::Error, &message, Some(view.id))
        }
        Err(ConnectError::Invalid(errors)) => {
            let values = [
                ("client_id", input.app.client_id.as_str()),
                ("marketplace_id", input.app.marketplace_id.as_str()),
                ("region", input.app.region.as_str()),
                ("selling_partner_id", input.selling_partner_id.as_str()),
            ];
            invalid(&state, identity, FormState::new("amazon_manual", &values, errors)).await
        }
        Err(err) => PageError::from(err).into_response(),
    }
}

/// `POST /connections/flipkart`: "Connect Flipkart".
pub(crate) async fn connect_flipkart(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    jar: CookieJar,
    Form(input): Form<FlipkartInput>,
) -> Response {
    let connected = state.connections.connect_flipkart(&actor, &input).await;
    if let Ok((view, _)) = &connected {
        state.sync.connected(view.id, view.platform, true).await;
    }
    match connected {
        Ok((view, Some(result))) if result.ok => done(&state, jar, FlashKind::Success, &result.message, Some(view.id)),
        Ok((view, Some(result))) => {
            let message = format!(
                "The Flipkart account was saved, but the connection test failed: {}",
                result.message
            );
            done(&state, jar, FlashKind::Error, &message, Some(view.id))
        }
        Ok((view, None)) => {
            let message = format!(
                "The Flipkart account was saved as Incomplete Configuration. {}",
                view.status_message
            );
            done(&state, jar, FlashKind::Warning, &message, Some(view.id))
        }
        Err(ConnectError::Invalid(errors)) => {
            let values = [("username", input.username.as_str())];
            invalid(&state, identity, FormState::new("flipkart", &values, errors)).await
        }
        Err(err) => PageError::from(err).into_response(),
    }
}

/// `POST /connections/{id}/credentials`: "Update credentials" on a connection's card.
pub(crate) async fn update_credentials(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // The form's fields beside its token (which the CSRF layer has checked already).
    let mut update = CredentialsUpdate::default();
    for (name, value) in fields {
        let slot = match name.as_str() {
            "client_id" => &mut update.client_id,
            "client_secret" => &mut update.client_secret,
            "refresh_token" => &mut update.refresh_token,
            "api_key" => &mut update.api_key,
            "api_secret" => &mut update.api_secret,
            "password" => &mut update.password,
            _ => continue,
        };
        *slot = value;
    }
    let (kind, message) = match state.connections.update_credentials(&actor, id, &update).await {
        Ok(result) if result.ok => (FlashKind::Success, format!("Credentials updated. {}", result.message)),
        Ok(result) => (
            FlashKind::Error,
            format!("The new credentials were not saved: {}", result.message),
        ),
        Err(ConnectError::Invalid(errors)) => {
            let reasons: Vec<&str> = errors.0.values().map(String::as_str).collect();
            (
                FlashKind::Error,
                format!("The new credentials were not saved: {}", reasons.join(" ")),
            )
        }
        Err(err) => return Err(err.into()),
    };
    Ok(done(&state, jar, kind, &message, Some(id)))
}

/// `POST /connections/{id}/test`.
pub(crate) async fn test(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let result = state.connections.test(&actor, id).await?;
    let kind = if result.ok {
        FlashKind::Success
    } else {
        FlashKind::Error
    };
    Ok(done(&state, jar, kind, &result.message, Some(id)))
}

#[derive(Template, WebTemplate)]
#[template(path = "disconnect.html")]
pub(crate) struct DisconnectPage {
    layout: Layout,
    id: i64,
    label: String,
    platform_name: &'static str,
}

/// `GET /connections/{id}/disconnect`: the confirmation, for browsers without JavaScript.
pub(crate) async fn confirm_disconnect(
    State(state): State<AppState>,
    identity: Identity,
    Extension(flash): Extension<Flash>,
    ConnectionId(id, _): ConnectionId,
) -> Result<DisconnectPage, PageError> {
    let view = state.connections.get(id).await?.ok_or(PageError::NotFound)?;
    Ok(DisconnectPage {
        layout: Layout::new(Section::Connections, identity, flash),
        id,
        label: view.display_name(),
        platform_name: view.platform.name(),
    })
}

/// `POST /connections/{id}/disconnect`.
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId,
    jar: CookieJar,
) -> Result<Response, PageError> {
    state.connections.disconnect(&actor, id).await?;
    Ok(done(
        &state,
        jar,
        FlashKind::Success,
        "Disconnected. All stored credentials of the account were removed; orders already synced stay.",
        None,
    ))
}

#[derive(Serialize)]
struct CallbackBody {
    connection: ConnectionView,
    test: TestResult,
    /// The same seller and region was connected already: that connection was updated.
    reconnected: bool,
}

/// `GET /connections/amazon/oauth/callback`: where Amazon sends the seller back. Public in the
/// route table (the state is what proves the request), but bound to the session or API token
/// that started the flow. A browser is sent on to Connect Platforms with the outcome; a script
/// calling with its bearer token gets JSON.
pub(crate) async fn oauth_callback(
    State(state): State<AppState>,
    identity: Option<Extension<Identity>>,
    Acting(actor): Acting,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    jar: CookieJar,
    Query(callback): Query<OAuthCallback>,
) -> Response {
    let identity = identity.map(|Extension(identity)| identity);
    let host = headers.get(HOST).and_then(|value| value.to_str().ok());
    let received_at = host.map(|host| format!("{host}{}", uri.path()));
    let result = state
        .connections
        .complete_amazon_oauth(
            &actor,
            identity.as_ref().map(Identity::token),
            received_at.as_deref(),
            &callback,
        )
        .await;
    match &result {
        Ok(done) => {
            state
                .sync
                .connected(done.connection.id, done.connection.platform, !done.reconnected)
                .await;
        }
        Err(err) => tracing::info!(error = %err, "Amazon OAuth callback refused"),
    }
    let mut response = if matches!(
        identity,
        Some(Identity {
            via: Via::Bearer { .. },
            ..
        })
    ) {
        match result {
            Ok(OAuthConnected {
                connection,
                test,
                reconnected,
            }) => {
                let status = if reconnected {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                let body = CallbackBody {
                    connection,
                    test,
                    reconnected,
                };
                (status, Json(body)).into_response()
            }
            Err(OAuthError::Internal(detail)) => ApiError::internal(detail).into_response(),
            Err(err) => ApiError::new(StatusCode::BAD_REQUEST, err.to_string()).into_response(),
        }
    } else {
        let (kind, message) = match result {
            Ok(done) => {
                let reconnected = if done.reconnected {
                    format!(
                        "{} was connected already (the same seller and region): its connection now uses the new \
                         authorisation instead of a second one being added, and keeps its orders, sync history and \
                         schedules. ",
                        done.connection.display_name()
                    )
                } else {
                    String::new()
                };
                if done.test.ok {
                    (FlashKind::Success, format!("{reconnected}{}", done.test.message))
                } else {
                    (
                        FlashKind::Error,
                        format!(
                            "{reconnected}The Amazon account was authorised and saved, but the connection test failed: {}",
                            done.test.message
                        ),
                    )
                }
            }
            Err(OAuthError::Internal(detail)) => return PageError::Internal(detail).into_response(),
            Err(err) => (FlashKind::Error, err.to_string()),
        };
        let jar = flash::set(jar, kind, &message, state.settings.secure_cookies());
        let to = format!(
            "{}/connections",
            state.settings.frontend_url.as_str().trim_end_matches('/')
        );
        (jar, Redirect::to(&to)).into_response()
    };
    // The callback URL carries a one-time code: keep it out of Referer headers.
    response
        .headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
