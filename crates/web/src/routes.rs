use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodFilter, MethodRouter, on};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::{AppState, api, assets, auth, connections, csrf, flash, metrics, ops, pages};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Sign-in and setup, health checks, static assets, OAuth callbacks.
    Public,
    /// Everything else: needs a browser session or an API bearer token.
    SignedIn,
}

/// One row of the route table, as tests and documentation see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub access: Access,
    pub method: Method,
    pub path: &'static str,
}

struct Route {
    info: RouteInfo,
    handler: MethodRouter<AppState>,
}

fn route<H, T>(access: Access, method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    // The table only uses GET, POST and DELETE, which all have a filter.
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    Route {
        info: RouteInfo { access, method, path },
        handler: on(filter, handler),
    }
}

fn routes() -> Vec<Route> {
    use Access::{Public, SignedIn};
    use Method as M;
    vec![
        route(Public, M::GET, "/healthz", ops::healthz),
        route(Public, M::GET, "/readyz", ops::readyz),
        route(Public, M::GET, "/static/{file}", assets::serve),
        route(Public, M::GET, "/setup", auth::setup_page),
        route(Public, M::POST, "/setup", auth::setup),
        route(Public, M::GET, "/login", auth::login_page),
        route(Public, M::POST, "/login", auth::login),
        route(Public, M::POST, "/api/v1/auth/token", api::create_token),
        route(SignedIn, M::POST, "/logout", auth::logout),
        route(SignedIn, M::GET, "/", pages::dashboard),
        route(SignedIn, M::GET, "/orders", pages::orders),
        route(SignedIn, M::GET, "/inventory", pages::inventory),
        route(
            Public,
            M::GET,
            "/connections/amazon/oauth/callback",
            connections::oauth_callback,
        ),
        route(SignedIn, M::GET, "/connections", connections::page),
        route(
            SignedIn,
            M::POST,
            "/connections/amazon/oauth/start",
            connections::start_oauth,
        ),
        route(SignedIn, M::POST, "/connections/amazon", connections::connect_amazon),
        route(
            SignedIn,
            M::POST,
            "/connections/flipkart",
            connections::connect_flipkart,
        ),
        route(SignedIn, M::POST, "/connections/{id}/test", connections::test),
        route(
            SignedIn,
            M::GET,
            "/connections/{id}/disconnect",
            connections::confirm_disconnect,
        ),
        route(
            SignedIn,
            M::POST,
            "/connections/{id}/disconnect",
            connections::disconnect,
        ),
        route(SignedIn, M::GET, "/metrics", ops::metrics),
        route(SignedIn, M::DELETE, "/api/v1/auth/token", api::revoke_token),
        route(SignedIn, M::GET, "/api/v1/platforms", api::platforms),
        route(SignedIn, M::POST, "/api/v1/connections", api::create_connection),
        route(
            SignedIn,
            M::POST,
            "/api/v1/connections/amazon/oauth/start",
            api::start_amazon_oauth,
        ),
        route(SignedIn, M::POST, "/api/v1/connections/{id}/test", api::test_connection),
        route(SignedIn, M::DELETE, "/api/v1/connections/{id}", api::delete_connection),
    ]
}

/// Every route with its access rule.
pub fn route_table() -> Vec<RouteInfo> {
    routes().into_iter().map(|route| route.info).collect()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (public, protected): (Vec<_>, Vec<_>) = routes()
        .into_iter()
        .partition(|route| route.info.access == Access::Public);
    let protected = into_router(protected).route_layer(from_fn_with_state(state.clone(), auth::require_user));
    let cross_origin = csrf::cross_origin_layer(&state.settings);

    into_router(public)
        .merge(protected)
        .fallback(pages::not_found)
        .layer(from_fn(csrf::verify_token))
        .layer(from_fn(flash::take))
        .layer(from_fn_with_state(state.clone(), auth::identify))
        .layer(cross_origin)
        .layer(from_fn_with_state(state.clone(), metrics::record))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(ops::request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                // Unless a handler set them: no sniffing, no framing, our own scripts and styles
                // only. (No form-action: it would block the redirect to Amazon's consent page.)
                .layer(header_unless_set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(header_unless_set(header::X_FRAME_OPTIONS, "DENY"))
                .layer(header_unless_set(header::REFERRER_POLICY, "same-origin"))
                .layer(header_unless_set(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
                )),
        )
        .with_state(state)
}

fn header_unless_set(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

fn into_router(routes: Vec<Route>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        router.route(route.info.path, route.handler)
    })
}
