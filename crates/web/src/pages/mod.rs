//! The pages of the signed-in app.

pub(crate) mod account;
pub(crate) mod audit;
pub(crate) mod catalog;
pub(crate) mod connections;
pub(crate) mod dashboard;
pub(crate) mod inventory;
pub(crate) mod sync;
pub(crate) mod users;

use javelin_core::Permission;
use javelin_storage::Role;

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
    Users,
    Audit,
    Account,
}

/// The sidebar: each section, and the permission it needs beyond signing in.
const NAV: [(Section, &str, &str, Option<Permission>); 7] = [
    (Section::Dashboard, "/", "Dashboard", None),
    (Section::Orders, "/orders", "Orders", None),
    (Section::Inventory, "/inventory", "Inventory", None),
    (Section::Connections, "/connections", "Connect Platforms", None),
    (Section::Users, "/users", "Users", Some(Permission::ManageUsers)),
    (Section::Audit, "/audit", "Audit log", Some(Permission::ReadAudit)),
    (Section::Account, "/account", "Your account", None),
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
    pub(crate) role: Role,
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
            role: identity.user.role,
            csrf_token,
            flash,
        }
    }

    pub(crate) fn nav_items(&self) -> impl Iterator<Item = NavItem> + '_ {
        NAV.iter()
            .filter(|(_, _, _, needs)| needs.is_none_or(|permission| self.may(permission)))
            .map(|&(section, href, label, _)| NavItem {
                href,
                label,
                current: section == self.section,
            })
    }

    /// Whether the user may do what `permission` guards: pages hide what they may not.
    pub(crate) fn may(&self, permission: Permission) -> bool {
        permission.granted_to(self.role)
    }

    pub(crate) fn manages_connections(&self) -> bool {
        self.may(Permission::ManageConnections)
    }

    pub(crate) fn manages_schedules(&self) -> bool {
        self.may(Permission::ManageSchedules)
    }
}

/// Unknown addresses.
pub(crate) async fn not_found() -> PageError {
    PageError::NotFound
}
