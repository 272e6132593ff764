//! Extractors shared by the pages and the API.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

use crate::error::{NotFound, PageError};

/// The `{id}` of a connection route. Anything but a number is a connection that does not
/// exist, answered as `R` answers it (a page, or JSON).
pub(crate) struct ConnectionId<R = PageError>(pub(crate) i64, pub(crate) PhantomData<R>);

/// The `{id}` as the API's OpenAPI document describes it.
impl<R> utoipa::IntoParams for ConnectionId<R> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let id = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)));
        vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("The connection's id."))
                .schema(Some(id))
                .build(),
        ]
    }
}

impl<S: Send + Sync, R: NotFound> FromRequestParts<S> for ConnectionId<R> {
    type Rejection = R;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, R> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id, PhantomData)),
            Err(_) => Err(R::not_found()),
        }
    }
}
