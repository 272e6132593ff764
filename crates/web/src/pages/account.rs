//! "Your account": change your password, see and revoke your API tokens, sign out everywhere.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use axum_extra::extract::CookieJar;
use javelin_core::AccountError;
use javelin_storage::ApiTokenInfo;
use serde::Deserialize;

use crate::auth::{Acting, Identity};
use crate::error::PageError;
use crate::flash::{self, Flash, FlashKind};
use crate::pages::{Layout, Section};
use crate::{AppState, cookies};

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub(crate) struct AccountPage {
    layout: Layout,
    tokens: Vec<ApiTokenInfo>,
    sessions: i64,
    min_password: usize,
}

impl AccountPage {
    fn role_name(&self) -> &'static str {
        javelin_core::accounts::role_name(self.layout.role)
    }
}

/// `GET /account`.
pub(crate) async fn page(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    Extension(flash): Extension<Flash>,
) -> Result<AccountPage, PageError> {
    Ok(AccountPage {
        layout: Layout::new(Section::Account, identity, flash),
        tokens: state.accounts.api_tokens(&actor).await?,
        sessions: state.accounts.session_count(&actor).await?,
        min_password: javelin_core::passwords::MIN_PASSWORD_CHARS,
    })
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

/// `POST /account/password`: ends the user's other sessions; this one stays.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let (kind, message) = if form.new_password != form.new_password_confirm {
        (FlashKind::Error, "The two new passwords are not the same.".to_owned())
    } else {
        let session = identity.session_token();
        match state
            .accounts
            .change_password(&actor, &form.current_password, &form.new_password, session)
            .await
        {
            Ok(()) => (
                FlashKind::Success,
                "Password changed. Every other session of yours has been signed out.".to_owned(),
            ),
            Err(err @ (AccountError::WrongCurrentPassword | AccountError::Password(_))) => {
                (FlashKind::Error, err.to_string())
            }
            Err(err) => return Err(err.into()),
        }
    };
    Ok(flash::redirect(&state, jar, kind, &message, "/account"))
}

/// `POST /account/tokens/{id}/revoke`.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Acting(actor): Acting,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let id = id.parse().map_err(|_| PageError::NotFound)?;
    state.accounts.revoke_api_token_id(&actor, id).await?;
    Ok(flash::redirect(
        &state,
        jar,
        FlashKind::Success,
        "The API token was revoked: scripts using it are refused from now on.",
        "/account",
    ))
}

/// `POST /account/sign-out-everywhere`: every session of the user ends, this one too.
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    Acting(actor): Acting,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let ended = state.accounts.sign_out_everywhere(&actor).await?;
    let secure = state.settings.secure_cookies();
    let jar = jar.remove(cookies::removal(cookies::SESSION, secure));
    let message = format!(
        "You have been signed out of {ended} session{}, this one included.",
        if ended == 1 { "" } else { "s" }
    );
    let jar = flash::set(jar, FlashKind::Success, &message, secure);
    Ok((jar, axum::response::Redirect::to("/login")).into_response())
}
