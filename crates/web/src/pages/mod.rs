//! The pages of the signed-in app.

pub(crate) mod catalog;
pub(crate) mod connections;
pub(crate) mod dashboard;
pub(crate) mod inventory;
pub(crate) mod sync;

use crate::assets;
use crate::auth::{Identity, Via};
use crate::error::PageError;
use crate::flash::{Flash, FlashMessage};

/// The sidebar sections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Dashboard,
    Orders,
    Inventory,
    Connections,
}

const NAV: [(Section, &str, &str); 4] = [
    (Section::Dashboard, "/", "Dashboard"),
    (Section::Orders, "/orders", "Orders"),
    (Section::Inventory, "/inventory", "Inventory"),
    (Section::Connections, "/connections", "Connect Platforms"),
];

pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// What the app shell around every page needs.
pub(crate) struct Layout {
    pub(crate) section: Section,
    pub(crate) asset_version: &'static str,
    pub(crate) user_email: String,
    /// For the sign-out form.
    pub(crate) csrf_token: String,
    pub(crate) flash: Option<FlashMessage>,
}

impl Layout {
    pub(crate) fn new(section: Section, identity: Identity, Flash(flash): Flash) -> Self {
        let csrf_token = match identity.via {
            Via::Session { csrf_token, .. } => csrf_token,
            // A script reading pages with a bearer token posts nothing from them.
            Via::Bearer { .. } => String::new(),
        };
        Self {
            section,
            asset_version: assets::version(),
            user_email: identity.user.email,
            csrf_token,
            flash,
        }
    }

    pub(crate) fn nav_items(&self) -> impl Iterator<Item = NavItem> + '_ {
        NAV.iter().map(|&(section, href, label)| NavItem {
            href,
            label,
            current: section == self.section,
        })
    }
}

/// Unknown addresses.
pub(crate) async fn not_found() -> PageError {
    PageError::NotFound
}
