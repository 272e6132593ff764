//! `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 document, generated from the code: each
//! handler's `#[utoipa::path]`, the types it takes and sends, and each route's access rule in
//! the route table.

use std::sync::OnceLock;

use axum::Json;
use axum::http::Method;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref};
use utoipa::{OpenApi as _, ToSchema};

use crate::error::ApiErrorBody;
use crate::routes::{API_PREFIX, Access, route_table};

/// The handlers, with their paths relative to [`API_PREFIX`] as in the route table.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Javelin OMS API",
        description = "Orders, stock and sync of the marketplace accounts connected to Javelin. \
                       Amounts are decimal strings with their currency, times RFC 3339 in UTC."
    ),
    paths(
        super::create_token,
        super::revoke_token,
        super::platforms,
        super::create_connection,
        super::start_amazon_oauth,
        super::test_connection,
        super::update_credentials,
        super::delete_connection,
        super::sync::start,
        super::sync::import,
        super::sync::reconcile,
        super::sync::jobs,
        super::sync::schedule,
        super::sync::set_schedule,
        super::sync::job,
        super::orders::orders,
        super::orders::orders_csv,
        super::orders::order,
        super::inventory::inventory,
        super::inventory::inventory_csv,
        super::inventory::set_threshold,
        super::dashboard::dashboard,
        super::users::list,
        super::users::create,
        super::users::change,
        super::users::my_tokens,
        super::users::revoke_my_token,
        super::users::change_password,
        super::audit::audit,
        openapi,
    ),
    // Named here too: the answers added in `answers_in_front` refer to it.
    components(schemas(ApiErrorBody))
)]
struct Handlers;

/// The name of the bearer-token scheme in the document.
const BEARER: &str = "bearer";

/// `GET /api/v1/openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "openapi", responses(
    (status = 200, description = "This document.", body = Object),
))]
pub(crate) async fn openapi() -> Json<&'static OpenApi> {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    Json(DOCUMENT.get_or_init(document))
}

fn document() -> OpenApi {
    let mut doc = Handlers::openapi();
    doc.paths.paths = std::mem::take(&mut doc.paths.paths)
        .into_iter()
        .map(|(path, item)| (format!("{API_PREFIX}{path}"), item))
        .collect();
    let scheme = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some(
            "A token from `POST /api/v1/auth/token`. A signed-in browser session works too, with \
             its CSRF token in the `x-csrf-token` header on POST, PUT and DELETE.",
        ))
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    for route in route_table() {
        if let Some(operation) = operation(&mut doc, &route.path, &route.method) {
            answers_in_front(operation, route.access, &route.method);
        }
    }
    doc
}

fn operation<'a>(doc: &'a mut OpenApi, path: &str, method: &Method) -> Option<&'a mut Operation> {
    let item = doc.paths.paths.get_mut(path)?;
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        _ => None,
    }
}

/// What an operation answers before or beside its handler: its access rule (from the route
/// table), a JSON body that does not parse, and a failure of Javelin's own.
fn answers_in_front(operation: &mut Operation, access: Access, method: &Method) {
    let mut answers = vec![("500", "A failure of Javelin's own; it is logged.")];
    if access != Access::Public {
        operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
        answers.push(("401", "No valid API token and no browser session."));
        match (access, method.is_safe()) {
            (Access::Admin(_), true) => answers.push(("403", "The caller is not an administrator.")),
            (Access::Admin(_), false) => answers.push((
                "403",
                "The caller is not an administrator, or a browser-session call came without its CSRF token.",
            )),
            (_, false) => answers.push(("403", "A browser-session call without its CSRF token.")),
            (_, true) => {}
        }
    }
    let takes_json = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    if takes_json {
        answers.extend([
            ("400", "The body is not JSON."),
            ("413", "The body is too large."),
            ("415", "The body is not sent as `application/json`."),
            (
                "422",
                "The body does not have the fields this route takes, of their types.",
            ),
        ]);
    }
    for (status, description) in answers {
        let error = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name(ApiErrorBody::name()))),
            )
            .build();
        // The handler's own description of a status wins.
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert(error.into());
    }
}
