use axum_extra::extract::cookie::{Cookie, SameSite};

/// A Javelin cookie's name. Behind an https front end it carries the `__Host-` prefix: browsers
/// then take the cookie only from a secure origin, for the whole site, set by this host alone —
/// a plain-http page or a sibling subdomain cannot plant or overwrite it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CookieName {
    plain: &'static str,
    host_only: &'static str,
}

pub(crate) const SESSION: CookieName = CookieName {
    plain: "javelin_session",
    host_only: "__Host-javelin_session",
};
/// The form token of a visitor not signed in.
pub(crate) const ANONYMOUS_CSRF: CookieName = CookieName {
    plain: "javelin_csrf",
    host_only: "__Host-javelin_csrf",
};
pub(crate) const FLASH: CookieName = CookieName {
    plain: "javelin_flash",
    host_only: "__Host-javelin_flash",
};

impl CookieName {
    /// The name in use: `secure` when the front end is https.
    pub(crate) fn get(self, secure: bool) -> &'static str {
        if secure { self.host_only } else { self.plain }
    }
}

/// Every Javelin cookie: HttpOnly, whole site, and SameSite=Lax so that the redirect back from a
/// marketplace's consent page (a cross-site navigation) still carries the session.
pub(crate) fn build(name: CookieName, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name.get(secure), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// A cookie that tells the browser to forget `name` (Secure like the cookie, or a browser
/// ignores the removal of a `__Host-` one).
pub(crate) fn removal(name: CookieName, secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::build((name.get(secure), "")).path("/").secure(secure).build();
    cookie.make_removal();
    cookie
}
