//! Money: a decimal amount with its ISO 4217 currency. Never a float, never rounded, and never
//! added to an amount in another currency.

use std::fmt;

use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    /// In the currency's minor unit (cents for USD, yen for JPY): what the database keeps.
    minor: i64,
    currency: Currency,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("{0:?} is not a decimal amount")]
    NotAnAmount(String),
    #[error("{amount} {currency} has more decimals than the currency has")]
    TooPrecise { amount: String, currency: &'static str },
    #[error("{amount} {currency} is too large")]
    TooLarge { amount: String, currency: &'static str },
}

fn currency(code: &str) -> Result<Currency, MoneyError> {
    Currency::from_code(code.trim()).ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
}

/// Digits after the decimal point of a currency's minor unit (2 for USD, 0 for JPY, 3 for KWD).
fn exponent(currency: Currency) -> u32 {
    currency.exponent().map_or(0, u32::from)
}

impl Money {
    /// An amount as marketplaces send it: a decimal string (`"11.01"`) and a currency code.
    pub fn parse(amount: &str, code: &str) -> Result<Self, MoneyError> {
        let currency = currency(code)?;
        let value: Decimal = amount
            .trim()
            .parse()
            .map_err(|_| MoneyError::NotAnAmount(amount.to_owned()))?;
        Self::from_decimal(value, currency)
    }

    fn from_decimal(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let exp = exponent(currency);
        let normalized = value.normalize();
        if normalized.scale() > exp {
            return Err(MoneyError::TooPrecise {
                amount: value.to_string(),
                currency: currency.code(),
            });
        }
        let too_large = || MoneyError::TooLarge {
            amount: value.to_string(),
            currency: currency.code(),
        };
        let scaled = normalized
            .checked_mul(Decimal::from(10_i64.pow(exp)))
            .ok_or_else(too_large)?;
        let minor = i64::try_from(scaled).map_err(|_| too_large())?;
        Ok(Self { minor, currency })
    }

    /// An amount in minor units, as stored.
    pub fn from_minor(minor: i64, code: &str) -> Result<Self, MoneyError> {
        Ok(Self {
            minor,
            currency: currency(code)?,
        })
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> &'static str {
        self.currency.code()
    }

    /// The amount with as many decimals as the currency has (`12.30`, `1200`).
    pub fn amount(&self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.minor), exponent(self.currency))
    }

    /// This amount `times` over (a line total from a unit price), if it fits.
    pub fn times(&self, times: u32) -> Option<Self> {
        Some(Self {
            minor: self.minor.checked_mul(i64::from(times))?,
            currency: self.currency,
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency())
    }
}

/// `{"amount": "12.34", "currency": "USD"}`: the amount as a decimal string, exactly.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("Money", 2)?;
        object.serialize_field("amount", &self.amount().to_string())?;
        object.serialize_field("currency", self.currency())?;
        object.end()
    }
}

/// What [`Serialize`] writes, for the API's OpenAPI document (written by hand, as the
/// serialisation is).
impl utoipa::PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str, pattern: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
                .pattern(Some(pattern))
        };
        ObjectBuilder::new()
            .description(Some("An amount of money, never a float."))
            .property(
                "amount",
                text(
                    "A decimal string with as many decimals as the currency has (`12.30`, `1200`); negative for refunds.",
                    r"^-?[0-9]+(\.[0-9]+)?$",
                ),
            )
            .required("amount")
            .property("currency", text("ISO 4217 code.", "^[A-Z]{3}$"))
            .required("currency")
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_minor_units_exactly() {
        let usd = Money::parse("11.01", "USD").expect("valid");
        assert_eq!(
            (usd.minor(), usd.currency(), usd.amount().to_string()),
            (1101, "USD", "11.01".into())
        );
        assert_eq!(
            Money::parse("12.3", "USD").expect("valid").amount().to_string(),
            "12.30"
        );
        assert_eq!(Money::parse("12.300", "USD").expect("trailing zeros").minor(), 1230);
        assert_eq!(Money::parse("1200", "JPY").expect("valid").minor(), 1200);
        assert_eq!(Money::parse("1.234", "KWD").expect("valid").minor(), 1234);
        assert!(matches!(
            Money::parse("12.345", "USD"),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(Money::parse("1.5", "JPY"), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(Money::parse("ten", "USD"), Err(MoneyError::NotAnAmount(_))));
        assert!(matches!(Money::parse("1", "XYZ"), Err(MoneyError::UnknownCurrency(_))));
        assert!(Money::parse("1e30", "USD").is_err());
        assert_eq!(
            Money::parse("-5.00", "INR").expect("refunds are negative").minor(),
            -500
        );
    }

    #[test]
    fn minor_units_round_trip_and_serialise_as_decimal_strings() {
        let money = Money::from_minor(1234, "USD").expect("valid");
        assert_eq!(
            serde_json::to_value(money).expect("JSON"),
            serde_json::json!({"amount": "12.34", "currency": "USD"})
        );
        assert_eq!(Money::from_minor(7, "JPY").expect("valid").to_string(), "7 JPY");
        assert_eq!(money.times(3).map(|m| m.minor()), Some(3702));
    }
}
