//! Extractors shared by the pages and the API.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::{NotFound, PageError};

/// The `{id}` of a connection route. Anything but a number is a connection that does not
/// exist, answered as `R` answers it (a page, or JSON).
pub(crate) struct ConnectionId<R = PageError>(pub(crate) i64, pub(crate) PhantomData<R>);

impl<S: Send + Sync, R: NotFound> FromRequestParts<S> for ConnectionId<R> {
    type Rejection = R;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, R> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id, PhantomData)),
            Err(_) => Err(R::not_found()),
        }
    }
}
