//! The sandbox seller's catalogue, generated from the seed so that every run with the same
//! seed sells the same things.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

/// A random generator for one purpose (orders, stock, faults, …) of one seed.
pub(crate) fn rng(seed: u64, purpose: &str) -> StdRng {
    let digest = Sha256::digest(format!("javelin-sandbox:{seed}:{purpose}"));
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest);
    StdRng::from_seed(bytes)
}

/// Something the seller sells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Product {
    pub(crate) sku: String,
    pub(crate) asin: String,
    pub(crate) fsn: String,
    pub(crate) title: String,
    /// A price in hundredths of the currency's main unit, before the marketplace's scale.
    pub(crate) price_cents: i64,
    /// Whether Amazon holds stock of it (FBA), and whether the seller ships it (FBM).
    pub(crate) fba: bool,
    pub(crate) fbm: bool,
}

/// Words of product titles, shared with `javelin bench seed`.
pub const ADJECTIVES: [&str; 12] = [
    "Classic",
    "Organic",
    "Compact",
    "Deluxe",
    "Travel",
    "Bamboo",
    "Stainless",
    "Handmade",
    "Wireless",
    "Linen",
    "Ceramic",
    "Recycled",
];
pub const NOUNS: [&str; 12] = [
    "Coffee Mug",
    "Yoga Mat",
    "Water Bottle",
    "Desk Lamp",
    "Tote Bag",
    "Notebook",
    "Phone Stand",
    "Tea Towel",
    "Cutting Board",
    "Backpack",
    "Candle",
    "Headphones",
];

/// The catalogue: `count` products.
pub(crate) fn catalogue(seed: u64, count: usize) -> Vec<Product> {
    let mut rng = rng(seed, "catalogue");
    (0..count)
        .map(|n| {
            let title = format!(
                "{} {}",
                ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
                NOUNS[rng.random_range(0..NOUNS.len())]
            );
            let fba = rng.random_bool(0.6);
            Product {
                sku: format!("JVL-{:04}", n + 1),
                asin: format!("B0{:08}", rng.random_range(0..100_000_000u32)),
                fsn: format!("FSN{:013}", rng.random_range(0..10_000_000_000_000u64)),
                title,
                price_cents: rng.random_range(499..=9999),
                fba,
                fbm: !fba || rng.random_bool(0.3),
            }
        })
        .collect()
}
