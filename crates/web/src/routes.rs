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

use javelin_core::Permission;

use crate::pages::{account, audit, catalog, connections, dashboard, inventory, sync, users};
use crate::{AppState, api, assets, auth, csrf, flash, metrics, ops, pages, text_input};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Sign-in and setup, health checks, static assets, OAuth callbacks.
    Public,
    /// Any signed-in user (a browser session or an API bearer token), members included.
    SignedIn,
    /// Signed-in administrators only; the service behind the route checks the same permission.
    Admin(Permission),
}

/// One row of the route table, as tests and documentation see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub access: Access,
    pub method: Method,
    pub path: String,
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
    // The table only uses GET, POST, PUT, PATCH and DELETE, which all have a filter.
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    let mut handler = on(filter, handler);
    if let Access::Admin(permission) = access {
        handler = handler.route_layer(from_fn(move |request, next| {
            auth::require_permission(permission, request, next)
        }));
    }
    Route {
        info: RouteInfo {
            access,
            method,
            path: path.to_owned(),
        },
        handler,
    }
}

/// The pages and the browser-facing endpoints.
fn page_routes() -> Vec<Route> {
    use Access::{Admin, Public, SignedIn};
    use Method as M;
    use Permission::{ManageConnections, ManageSchedules, ManageUsers, ReadAudit, ReadMetrics};
    vec![
        route(Public, M::GET, "/healthz", ops::healthz),
        route(Public, M::GET, "/readyz", ops::readyz),
        route(Public, M::GET, "/static/{file}", assets::serve),
        route(Public, M::GET, "/setup", auth::setup_page),
        route(Public, M::POST, "/setup", auth::setup),
        route(Public, M::GET, "/login", auth::login_page),
        route(Public, M::POST, "/login", auth::login),
        route(SignedIn, M::POST, "/logout", auth::logout),
        route(SignedIn, M::GET, "/", dashboard::page),
        route(SignedIn, M::GET, "/orders", catalog::orders),
        route(SignedIn, M::GET, "/orders/{id}", catalog::order),
        route(SignedIn, M::POST, "/orders/sync", sync::sync_all_orders),
        route(SignedIn, M::GET, "/inventory", inventory::page),
        route(SignedIn, M::POST, "/inventory/thresholds", inventory::set_threshold),
        route(SignedIn, M::POST, "/inventory/sync", sync::sync_all_inventory),
        route(
            Public,
            M::GET,
            "/connections/amazon/oauth/callback",
            connections::oauth_callback,
        ),
        route(SignedIn, M::GET, "/connections", connections::page),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections/amazon/oauth/start",
            connections::start_oauth,
        ),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections/amazon",
            connections::connect_amazon,
        ),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections/flipkart",
            connections::connect_flipkart,
        ),
        route(SignedIn, M::POST, "/connections/{id}/test", connections::test),
        route(
            Admin(ManageConnections),
            M::GET,
            "/connections/{id}/disconnect",
            connections::confirm_disconnect,
        ),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections/{id}/disconnect",
            connections::disconnect,
        ),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections/{id}/credentials",
            connections::update_credentials,
        ),
        route(SignedIn, M::POST, "/connections/{id}/sync", sync::sync_now),
        route(SignedIn, M::GET, "/connections/{id}/sync", sync::page),
        route(SignedIn, M::GET, "/connections/{id}/sync-panel", sync::panel),
        route(
            Admin(ManageSchedules),
            M::POST,
            "/connections/{id}/schedule",
            sync::set_schedule,
        ),
        route(
            Admin(ManageSchedules),
            M::POST,
            "/connections/{id}/read-from",
            sync::read_from,
        ),
        route(
            Admin(ManageSchedules),
            M::POST,
            "/connections/{id}/import",
            sync::import_history,
        ),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections/{id}/marketplaces",
            sync::set_marketplaces,
        ),
        route(SignedIn, M::GET, "/account", account::page),
        route(SignedIn, M::POST, "/account/password", account::change_password),
        route(SignedIn, M::POST, "/account/tokens/{id}/revoke", account::revoke_token),
        route(
            SignedIn,
            M::POST,
            "/account/sign-out-everywhere",
            account::sign_out_everywhere,
        ),
        route(Admin(ManageUsers), M::GET, "/users", users::page),
        route(Admin(ManageUsers), M::POST, "/users", users::create),
        route(Admin(ManageUsers), M::POST, "/users/{id}", users::change),
        route(Admin(ReadAudit), M::GET, "/audit", audit::page),
        route(Admin(ReadMetrics), M::GET, "/metrics", ops::metrics),
    ]
}

/// Where the JSON API lives; its routes below are relative to it.
pub const API_PREFIX: &str = "/api/v1";

/// The JSON API for scripts.
fn api_routes() -> Vec<Route> {
    use Access::{Admin, Public, SignedIn};
    use Method as M;
    use Permission::{ManageConnections, ManageSchedules, ManageUsers, ReadAudit};
    vec![
        route(Public, M::POST, "/auth/token", api::create_token),
        route(SignedIn, M::DELETE, "/auth/token", api::revoke_token),
        route(SignedIn, M::GET, "/platforms", api::platforms),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections",
            api::create_connection,
        ),
        route(
            Admin(ManageConnections),
            M::POST,
            "/connections/amazon/oauth/start",
            api::start_amazon_oauth,
        ),
        route(SignedIn, M::POST, "/connections/{id}/test", api::test_connection),
        route(
            Admin(ManageConnections),
            M::PUT,
            "/connections/{id}/credentials",
            api::update_credentials,
        ),
        route(
            Admin(ManageConnections),
            M::DELETE,
            "/connections/{id}",
            api::delete_connection,
        ),
        route(SignedIn, M::POST, "/connections/{id}/sync", api::sync::start),
        route(
            Admin(ManageSchedules),
            M::POST,
            "/connections/{id}/import",
            api::sync::import,
        ),
        route(SignedIn, M::POST, "/connections/{id}/reconcile", api::sync::reconcile),
        route(SignedIn, M::GET, "/connections/{id}/sync-jobs", api::sync::jobs),
        route(SignedIn, M::GET, "/connections/{id}/schedule", api::sync::schedule),
        route(
            Admin(ManageSchedules),
            M::PUT,
            "/connections/{id}/schedule",
            api::sync::set_schedule,
        ),
        route(SignedIn, M::GET, "/sync-jobs/{job_id}", api::sync::job),
        route(SignedIn, M::GET, "/orders", api::orders::orders),
        route(SignedIn, M::GET, "/orders.csv", api::orders::orders_csv),
        route(SignedIn, M::GET, "/orders/{id}", api::orders::order),
        route(SignedIn, M::GET, "/inventory", api::inventory::inventory),
        route(SignedIn, M::GET, "/inventory.csv", api::inventory::inventory_csv),
        route(
            SignedIn,
            M::PUT,
            "/inventory/{sku}/threshold",
            api::inventory::set_threshold,
        ),
        route(SignedIn, M::GET, "/dashboard", api::dashboard::dashboard),
        route(Admin(ManageUsers), M::GET, "/users", api::users::list),
        route(Admin(ManageUsers), M::POST, "/users", api::users::create),
        route(Admin(ManageUsers), M::PATCH, "/users/{id}", api::users::change),
        route(SignedIn, M::GET, "/me/tokens", api::users::my_tokens),
        route(SignedIn, M::DELETE, "/me/tokens/{id}", api::users::revoke_my_token),
        route(SignedIn, M::POST, "/me/password", api::users::change_password),
        route(Admin(ReadAudit), M::GET, "/audit", api::audit::audit),
        route(Public, M::GET, "/openapi.json", api::openapi::openapi),
    ]
}

/// Every route with its access rule, API routes with their full path.
pub fn route_table() -> Vec<RouteInfo> {
    let api = api_routes().into_iter().map(|route| RouteInfo {
        path: format!("{API_PREFIX}{}", route.info.path),
        ..route.info
    });
    page_routes().into_iter().map(|route| route.info).chain(api).collect()
}

/// The whole application. Signed-in routes check who is asking before anything else (so an
/// anonymous request is told to sign in, whatever it carries), then the form token; public
/// routes check the form token of their anonymous cookie.
pub fn router(state: AppState) -> Router {
    let (public, protected) = split(page_routes());
    let pages = into_router(public)
        .route_layer(from_fn(text_input::in_pages))
        .route_layer(from_fn_with_state(state.clone(), csrf::verify_page_token))
        .merge(
            into_router(protected)
                .route_layer(from_fn(text_input::in_pages))
                .route_layer(from_fn_with_state(state.clone(), csrf::verify_page_token))
                .route_layer(from_fn_with_state(state.clone(), auth::require_page_user))
                // A signed-in page is this user's: never kept by a browser or a proxy.
                .route_layer(header_unless_set(header::CACHE_CONTROL, "no-store")),
        )
        .fallback(pages::not_found);
    let (public, protected) = split(api_routes());
    let api = into_router(public)
        .route_layer(from_fn(text_input::in_api))
        .merge(
            into_router(protected)
                .route_layer(from_fn(text_input::in_api))
                .route_layer(from_fn_with_state(state.clone(), csrf::verify_api_token))
                .route_layer(from_fn(auth::require_api_user)),
        )
        .fallback(api::not_found)
        // Tokens, orders, errors: no API answer is kept by a browser or a proxy.
        .layer(header_unless_set(header::CACHE_CONTROL, "no-store"));
    let cross_origin = csrf::cross_origin_layer(&state.settings);
    // Behind https, browsers are told to come back over https only, for a year.
    let hsts = state
        .settings
        .secure_cookies()
        .then(|| HeaderValue::from_static("max-age=31536000"));

    pages
        .nest(API_PREFIX, api)
        .layer(from_fn_with_state(state.clone(), flash::take))
        .layer(from_fn_with_state(state.clone(), auth::identify))
        .layer(cross_origin)
        .layer(from_fn(ops::refuse_unknown_methods))
        .layer(from_fn_with_state(state.clone(), metrics::record))
        .layer(
            ServiceBuilder::new()
                .layer(from_fn(ops::screen_request_id))
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
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::STRICT_TRANSPORT_SECURITY,
                    move |_: &axum::response::Response| hsts.clone(),
                ))
                .layer(header_unless_set(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
                )),
        )
        .with_state(state)
}

fn split(routes: Vec<Route>) -> (Vec<Route>, Vec<Route>) {
    routes
        .into_iter()
        .partition(|route| route.info.access == Access::Public)
}

fn header_unless_set(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

fn into_router(routes: Vec<Route>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        router.route(&route.info.path, route.handler)
    })
}
