//! Full-text search over orders: one document per order (its marketplace id, and each item's
//! SKU, ASIN/FSN and title), written in the transaction that stores the order. SQLite keeps it in
//! an FTS5 table, PostgreSQL as a `tsvector` with a GIN index; both see the same words, because
//! text is cut into words here, at every character that is not a letter or a digit.

use javelin_model::Order;
use sqlx::{Postgres, QueryBuilder, Sqlite};

use crate::db::{PushLimit, TxInner};
use crate::orders::{ORDER_COLUMNS, ORDERS_PER_STATEMENT, OrderRow, SQLITE_ITEMS, push_filter};
use crate::{OrderCursor, OrderFilter, Result, Storage, Timestamp, Transaction};

/// What a seller typed, as words of lowercase letters and digits. `112-4483-22` is one word
/// made of three, matched as a phrase; every word must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms {
    words: Vec<Vec<String>>,
}

impl SearchTerms {
    /// `None` when `text` holds no letter or digit.
    pub fn parse(text: &str) -> Option<Self> {
        let words: Vec<Vec<String>> = text.split_whitespace().map(tokens).filter(|t| !t.is_empty()).collect();
        (!words.is_empty()).then_some(Self { words })
    }

    /// FTS5: each word a quoted phrase (its tokens are letters and digits only, so nothing in
    /// them is FTS5 syntax); phrases side by side must all match.
    fn fts5(&self) -> String {
        self.words
            .iter()
            .map(|tokens| format!("\"{}\"", tokens.join(" ")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `to_tsquery`: each word's tokens followed one by another, every word required.
    fn tsquery(&self) -> String {
        self.words
            .iter()
            .map(|tokens| format!("({})", tokens.join(" <-> ")))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// An order's document: its words, separated by spaces.
fn document(order: &Order) -> String {
    let mut text = order.external_id.clone();
    for item in &order.items {
        for field in [&item.sku, &item.product_id, &item.title].into_iter().flatten() {
            text.push(' ');
            text.push_str(field);
        }
    }
    tokens(&text).join(" ")
}

/// The condition "`orders.id` is an order matching `terms`", for each backend's query builder.
pub(crate) trait SearchCondition {
    fn push_search(&mut self, terms: &SearchTerms);
}

impl SearchCondition for QueryBuilder<Sqlite> {
    fn push_search(&mut self, terms: &SearchTerms) {
        self.push(" AND id IN (SELECT rowid & ")
            .push(ID_BITS)
            .push(" FROM order_search WHERE order_search MATCH ")
            .push_bind(terms.fts5())
            .push(")");
    }
}

impl SearchCondition for QueryBuilder<Postgres> {
    fn push_search(&mut self, terms: &SearchTerms) {
        self.push(" AND id IN (SELECT order_id FROM order_search WHERE document @@ to_tsquery('simple', ")
            .push_bind(terms.tsquery())
            .push("))");
    }
}

/// On SQLite a document's rowid is its order's purchase second, then its id (the low 32 bits):
/// FTS5 hands out matches in rowid order, so the newest page of a search that matches half the
/// orders is read as fast as one that matches ten. Order ids stay below 2³² in any store.
const ID_BITS: i64 = 0xFFFF_FFFF;

fn search_key(purchased_at: Timestamp, id: i64) -> i64 {
    (second_key(purchased_at)) | (id & ID_BITS)
}

/// The first key of a purchase second (purchases are after 1970).
fn second_key(at: Timestamp) -> i64 {
    at.unix_micros().div_euclid(1_000_000).max(0) << 32
}

impl Storage {
    /// A page of the orders `filter` lets through, `filter.search` among them, newest first by
    /// purchase second then id (the same order as other lists wherever purchase times are whole
    /// seconds, as the marketplaces send them), after `after`.
    pub(crate) async fn search_sqlite(
        pool: &sqlx::SqlitePool,
        filter: &OrderFilter,
        terms: &SearchTerms,
        limit: u32,
        after: Option<OrderCursor>,
    ) -> Result<Vec<OrderRow>> {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {ORDER_COLUMNS}, {SQLITE_ITEMS} FROM order_search JOIN orders ON orders.id = (order_search.rowid & {ID_BITS})
             WHERE order_search MATCH "
        ));
        query.push_bind(terms.fts5());
        if let Some(cursor) = after {
            query
                .push(" AND order_search.rowid < ")
                .push_bind(search_key(cursor.purchased_at, cursor.id));
        }
        if let Some(from) = filter.from {
            query.push(" AND order_search.rowid >= ").push_bind(second_key(from));
        }
        if let Some(before) = filter.before {
            // The second `before` falls in, and all before it.
            query
                .push(" AND order_search.rowid < ")
                .push_bind(second_key(before) + (1 << 32));
        }
        let rest = OrderFilter {
            search: None,
            ..filter.clone()
        };
        push_filter!(query, &rest);
        query.push(" ORDER BY order_search.rowid DESC").push_limit(limit);
        Ok(query.build_query_as().fetch_all(pool).await?)
    }
}

impl Transaction {
    /// (Re)writes the search documents of orders just stored, given with their row ids.
    /// `replaced` holds the orders among them that were stored before, with their purchase times
    /// then.
    pub(crate) async fn index_orders(&mut self, orders: &[(i64, &Order)], replaced: &[(i64, Timestamp)]) -> Result<()> {
        let whole = orders.len() == ORDERS_PER_STATEMENT;
        match &mut self.inner {
            TxInner::Sqlite(tx) => {
                if !replaced.is_empty() {
                    let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM order_search WHERE rowid IN (");
                    let mut list = query.separated(", ");
                    for (id, purchased_at) in replaced {
                        list.push_bind(search_key(*purchased_at, *id));
                    }
                    query.push(")");
                    query.build().persistent(false).execute(&mut **tx).await?;
                }
                let mut query = QueryBuilder::<Sqlite>::new("INSERT INTO order_search (rowid, document) ");
                query.push_values(orders, |mut row, (id, order)| {
                    row.push_bind(search_key(Timestamp::from_datetime(order.purchased_at), *id))
                        .push_bind(document(order));
                });
                query.build().persistent(whole).execute(&mut **tx).await?;
            }
            TxInner::Postgres(tx) => {
                let mut query = QueryBuilder::<Postgres>::new("INSERT INTO order_search (order_id, document) ");
                query.push_values(orders, |mut row, (id, order)| {
                    row.push_bind(*id)
                        .push("to_tsvector('simple', ")
                        .push_bind_unseparated(document(order))
                        .push_unseparated(")");
                });
                query.push(" ON CONFLICT (order_id) DO UPDATE SET document = excluded.document");
                query.build().persistent(whole).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_phrases_of_letters_and_digits() {
        let terms = SearchTerms::parse("  112-4483-22  Yoga \"mat\" ").expect("terms");
        assert_eq!(terms.fts5(), r#""112 4483 22" "yoga" "mat""#);
        assert_eq!(terms.tsquery(), "(112 <-> 4483 <-> 22) & (yoga) & (mat)");
        assert_eq!(SearchTerms::parse(" -- \"* "), None);
    }
}
