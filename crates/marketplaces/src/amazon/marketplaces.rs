//! Amazon's marketplaces and regions, from `data/amazon-marketplaces.json`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Marketplace {
    pub name: String,
    pub country_code: String,
    pub marketplace_id: String,
    /// The home region: `NA`, `EU` or `FE`.
    pub region: String,
    pub seller_central_url: String,
    /// The shop's web domain, e.g. `www.amazon.in`.
    pub domain: String,
    pub default_currency: String,
}

#[derive(Deserialize)]
struct RegionHosts {
    endpoint: String,
    sandbox_endpoint: String,
}

#[derive(Deserialize)]
struct Table {
    regions: BTreeMap<String, RegionHosts>,
    marketplaces: Vec<Marketplace>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    // The file is compiled in, and the unit test below parses it.
    serde_json::from_str(include_str!("../../data/amazon-marketplaces.json")).expect("valid marketplace table")
});

/// Every Amazon marketplace, in the table's order (by region, then country).
pub fn all() -> &'static [Marketplace] {
    &TABLE.marketplaces
}

pub fn find(marketplace_id: &str) -> Option<&'static Marketplace> {
    all().iter().find(|m| m.marketplace_id == marketplace_id)
}

/// An SP-API region. `Sandbox` means Amazon's own sandbox hosts of the marketplace's region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Region {
    #[serde(rename = "NA")]
    Na,
    #[serde(rename = "EU")]
    Eu,
    #[serde(rename = "FE")]
    Fe,
    #[serde(rename = "SANDBOX")]
    Sandbox,
}

impl Region {
    pub const ALL: [Region; 4] = [Region::Na, Region::Eu, Region::Fe, Region::Sandbox];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Na => "NA",
            Self::Eu => "EU",
            Self::Fe => "FE",
            Self::Sandbox => "SANDBOX",
        }
    }

    /// Whether a marketplace can be reached through this region.
    pub fn serves(self, marketplace: &Marketplace) -> bool {
        self == Self::Sandbox || marketplace.region == self.as_str()
    }

    /// The SP-API host for a marketplace in this region.
    pub fn api_host(self, marketplace: &Marketplace) -> Option<&'static str> {
        let hosts = TABLE.regions.get(&marketplace.region)?;
        Some(if self == Self::Sandbox {
            &hosts.sandbox_endpoint
        } else {
            &hosts.endpoint
        })
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        Self::ALL
            .into_iter()
            .find(|region| region.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_maps_regions_to_hosts() {
        assert_eq!(all().len(), 23);
        let india = find("A21TJRUUN4KGV").expect("India");
        assert_eq!(india.region, "EU", "India is served by the EU endpoint");
        assert!(Region::Eu.serves(india) && Region::Sandbox.serves(india) && !Region::Na.serves(india));
        assert_eq!(
            Region::Eu.api_host(india),
            Some("https://sellingpartnerapi-eu.amazon.com")
        );
        assert_eq!(
            Region::Sandbox.api_host(india),
            Some("https://sandbox.sellingpartnerapi-eu.amazon.com")
        );
        for marketplace in all() {
            assert!(Region::from_str(&marketplace.region).is_ok(), "{}", marketplace.name);
            assert!(Region::Sandbox.api_host(marketplace).is_some(), "{}", marketplace.name);
        }
        assert_eq!("sandbox".parse::<Region>(), Ok(Region::Sandbox));
    }
}
