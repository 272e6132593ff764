//! Users, for administrators: who can sign in, with which role; add, change, deactivate.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use axum_extra::extract::CookieJar;
use javelin_core::AccountError;
use javelin_core::accounts::role_named;
use javelin_storage::{Role, User, UserChange};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Acting, Identity};
use crate::error::PageError;
use crate::flash::{self, Flash, FlashKind};
use crate::pages::{Layout, Section};

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub(crate) struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    min_password: usize,
}

impl UsersPage {
    fn role_name(&self, role: &Role) -> &'static str {
        javelin_core::accounts::role_name(*role)
    }

    fn is_you(&self, user: &User) -> bool {
        user.email == self.layout.user_email
    }
}

/// `GET /users`.
pub(crate) async fn page(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    Extension(flash): Extension<Flash>,
) -> Result<UsersPage, PageError> {
    Ok(UsersPage {
        layout: Layout::new(Section::Users, identity, flash),
        users: state.accounts.list_users(&actor).await?,
        min_password: javelin_core::passwords::MIN_PASSWORD_CHARS,
    })
}

#[derive(Deserialize)]
pub(crate) struct NewUserForm {
    email: String,
    role: String,
    password: String,
}

/// `POST /users`: add a user with a first password, which they can change on Your account.
pub(crate) async fn create(
    State(state): State<AppState>,
    Acting(actor): Acting,
    jar: CookieJar,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    let Some(role) = role_named(&form.role) else {
        return Ok(flash::redirect(
            &state,
            jar,
            FlashKind::Error,
            "Choose a role: admin or member.",
            "/users",
        ));
    };
    let (kind, message) = match state
        .accounts
        .create_user(&actor, &form.email, &form.password, role)
        .await
    {
        Ok(user) => (
            FlashKind::Success,
            format!(
                "{} can now sign in. Give them their password in person or by another channel than email.",
                user.email
            ),
        ),
        Err(err @ (AccountError::InvalidEmail | AccountError::EmailTaken | AccountError::Password(_))) => {
            (FlashKind::Error, err.to_string())
        }
        Err(err) => return Err(err.into()),
    };
    Ok(flash::redirect(&state, jar, kind, &message, "/users"))
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    role: Option<String>,
    active: Option<String>,
}

/// `POST /users/{id}`: change a role, or deactivate or reactivate.
pub(crate) async fn change(
    State(state): State<AppState>,
    Acting(actor): Acting,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    let id = id.parse().map_err(|_| PageError::NotFound)?;
    let role = match form.role.as_deref() {
        None => None,
        Some(name) => {
            Some(role_named(name).ok_or_else(|| PageError::Unprocessable("Choose a role: admin or member.".into()))?)
        }
    };
    let active = match form.active.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(PageError::Unprocessable("active must be true or false.".into())),
    };
    let (kind, message) = match state
        .accounts
        .change_user(&actor, id, UserChange { role, active })
        .await
    {
        Ok(user) if active == Some(false) => (
            FlashKind::Success,
            format!(
                "{} is deactivated: their sessions and API tokens have ended.",
                user.email
            ),
        ),
        Ok(user) => (FlashKind::Success, format!("{} saved.", user.email)),
        Err(err @ AccountError::LastAdmin) => (FlashKind::Error, err.to_string()),
        Err(err) => return Err(err.into()),
    };
    Ok(flash::redirect(&state, jar, kind, &message, "/users"))
}
