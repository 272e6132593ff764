use axum_extra::extract::cookie::{Cookie, SameSite};

/// Every Javelin cookie: HttpOnly, whole site, and SameSite=Lax so that the redirect back from a
/// marketplace's consent page (a cross-site navigation) still carries the session.
pub(crate) fn build(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// A cookie that tells the browser to forget `name`.
pub(crate) fn removal(name: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::build((name, "")).path("/").build();
    cookie.make_removal();
    cookie
}
