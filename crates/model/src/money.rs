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

    /// [`Money::amount`] as text, written without a `Decimal` or an allocation: an orders page
    /// writes several hundred amounts, and through `Decimal` they took a tenth of its time.
    pub fn amount_text(&self) -> AmountText {
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(self.minor.unsigned_abs()).as_bytes();
        let decimals = exponent(self.currency) as usize;
        // Zeros in front up to one digit before the point: 5 cents is `0.05`.
        let padded = digits.len().max(decimals + 1);
        let mut text = AmountText {
            bytes: [0; AmountText::CAPACITY],
            len: 0,
        };
        if self.minor < 0 {
            text.push(b'-');
        }
        for position in 0..padded {
            if decimals > 0 && position == padded - decimals {
                text.push(b'.');
            }
            let digit = (position + digits.len())
                .checked_sub(padded)
                .map_or(b'0', |at| digits[at]);
            text.push(digit);
        }
        text
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
        write!(f, "{} {}", self.amount_text(), self.currency())
    }
}

/// An amount written out (`-12.30`), kept on the stack.
#[derive(Clone, Copy)]
pub struct AmountText {
    bytes: [u8; AmountText::CAPACITY],
    len: usize,
}

impl AmountText {
    /// A sign, the 20 digits of the largest `u64`, a point, and ISO 4217's largest exponent (4).
    const CAPACITY: usize = 1 + 20 + 1 + 4;

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits, `-` and `.` are ever pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl fmt::Display for AmountText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"amount": "12.34", "currency": "USD"}`: the amount as a decimal string, exactly.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("Money", 2)?;
        object.serialize_field("amount", self.amount_text().as_str())?;
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

    #[test]
    fn amounts_are_written_with_the_currency_s_decimals() {
        let cases = [
            (1234, "USD", "12.34"),
            (5, "USD", "0.05"),
            (50, "USD", "0.50"),
            (0, "USD", "0.00"),
            (-5, "INR", "-0.05"),
            (-123_456, "INR", "-1234.56"),
            (1200, "JPY", "1200"),
            (0, "JPY", "0"),
            (-7, "JPY", "-7"),
            (1, "KWD", "0.001"),
            (1_234_567, "KWD", "1234.567"),
            (12_345, "CLF", "1.2345"),
            (i64::MIN, "KWD", "-9223372036854775.808"),
            (i64::MAX, "CLF", "922337203685477.5807"),
        ];
        for (minor, code, text) in cases {
            let money = Money::from_minor(minor, code).expect("valid");
            assert_eq!(money.amount_text().as_str(), text, "{minor} {code}");
            assert_eq!(money.amount().to_string(), text, "the Decimal agrees: {minor} {code}");
        }
    }
}
