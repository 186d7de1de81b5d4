//! Money: currencies with their ISO 4217 minor units, exact decimal parsing, the one rounding
//! policy of the engine, and checked arithmetic that never mixes currencies.
//!
//! Every amount in the engine is a [`rust_decimal::Decimal`]; nothing here (or anywhere else in
//! the engine) touches floating point.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

macro_rules! currencies {
    ($($code:ident $exp:literal $name:literal),* $(,)?) => {
        /// An ISO 4217 currency. Each one knows its minor-unit exponent (USD 2, JPY 0, KWD 3).
        ///
        /// Codes parse exactly as ISO writes them (upper case):
        /// ```
        /// use invoice_core::Currency;
        /// let kwd: Currency = "KWD".parse().unwrap();
        /// assert_eq!(kwd.exponent(), 3);
        /// assert!("kwd".parse::<Currency>().is_err());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum Currency {
            $(
                #[doc = $name]
                $code,
            )*
        }

        impl Currency {
            /// Every currency the engine knows, in code order.
            pub const ALL: &'static [Currency] = &[$(Currency::$code),*];

            /// The three-letter ISO 4217 code.
            pub fn code(self) -> &'static str {
                match self { $(Currency::$code => stringify!($code)),* }
            }

            /// The number of decimals of the minor unit (ISO 4217 "E" column).
            #[inline]
            pub fn exponent(self) -> u32 {
                match self { $(Currency::$code => $exp),* }
            }

            /// The English name of the currency.
            pub fn name(self) -> &'static str {
                match self { $(Currency::$code => $name),* }
            }
        }

        impl FromStr for Currency {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $(stringify!($code) => Ok(Currency::$code),)*
                    _ => Err(Error::UnknownCurrency { code: s.to_string() }),
                }
            }
        }
    };
}

currencies! {
    AED 2 "UAE Dirham", ARS 2 "Argentine Peso", AUD 2 "Australian Dollar", BGN 2 "Bulgarian Lev",
    BHD 3 "Bahraini Dinar", BIF 0 "Burundi Franc", BRL 2 "Brazilian Real", CAD 2 "Canadian Dollar",
    CHF 2 "Swiss Franc", CLF 4 "Unidad de Fomento", CLP 0 "Chilean Peso", CNY 2 "Yuan Renminbi",
    COP 2 "Colombian Peso", CZK 2 "Czech Koruna", DJF 0 "Djibouti Franc", DKK 2 "Danish Krone",
    EGP 2 "Egyptian Pound", EUR 2 "Euro", GBP 2 "Pound Sterling", GNF 0 "Guinean Franc",
    HKD 2 "Hong Kong Dollar", HUF 2 "Forint", IDR 2 "Rupiah", ILS 2 "New Israeli Sheqel",
    INR 2 "Indian Rupee", IQD 3 "Iraqi Dinar", ISK 0 "Iceland Krona", JOD 3 "Jordanian Dinar",
    JPY 0 "Yen", KES 2 "Kenyan Shilling", KMF 0 "Comorian Franc", KRW 0 "Won",
    KWD 3 "Kuwaiti Dinar", LYD 3 "Libyan Dinar", MAD 2 "Moroccan Dirham", MXN 2 "Mexican Peso",
    MYR 2 "Malaysian Ringgit", NGN 2 "Naira", NOK 2 "Norwegian Krone", NZD 2 "New Zealand Dollar",
    OMR 3 "Rial Omani", PEN 2 "Sol", PHP 2 "Philippine Peso", PKR 2 "Pakistan Rupee",
    PLN 2 "Zloty", PYG 0 "Guarani", QAR 2 "Qatari Rial", RON 2 "Romanian Leu",
    RSD 2 "Serbian Dinar", RWF 0 "Rwanda Franc", SAR 2 "Saudi Riyal", SEK 2 "Swedish Krona",
    SGD 2 "Singapore Dollar", THB 2 "Baht", TND 3 "Tunisian Dinar", TRY 2 "Turkish Lira",
    TWD 2 "New Taiwan Dollar", UAH 2 "Hryvnia", UGX 0 "Uganda Shilling", USD 2 "US Dollar",
    UYU 2 "Peso Uruguayo", VND 0 "Dong", VUV 0 "Vatu", XAF 0 "CFA Franc BEAC",
    XOF 0 "CFA Franc BCEAO", XPF 0 "CFP Franc", ZAR 2 "Rand",
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How a value exactly half-way between two minor units is rounded.
///
/// This is the engine's only rounding choice; every rounding goes through [`Rounding::round`] or
/// [`Rounding::round_product`] (the same rule, applied to a product as it is made).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// 0.125 -> 0.13, -0.125 -> -0.13 (commercial rounding; the default).
    #[default]
    HalfAwayFromZero,
    /// 0.125 -> 0.12, 0.135 -> 0.14 (banker's rounding).
    HalfEven,
}

impl Rounding {
    /// Round `value` to `dp` decimals with this mode.
    ///
    /// ```
    /// use invoice_core::Rounding;
    /// use rust_decimal_macros::dec;
    /// assert_eq!(Rounding::HalfAwayFromZero.round(dec!(0.125), 2), dec!(0.13));
    /// assert_eq!(Rounding::HalfEven.round(dec!(0.125), 2), dec!(0.12));
    /// assert_eq!(Rounding::HalfAwayFromZero.round(dec!(-2.5), 0), dec!(-3));
    /// ```
    pub fn round(self, value: Decimal, dp: u32) -> Decimal {
        match self.round_exact(value, dp) {
            Some(rounded) => rounded,
            None => self.round_general(value, dp),
        }
    }

    /// [`Rounding::round`] on the mantissa with integer arithmetic: the same result as
    /// [`Rounding::round_general`], or `None` when the rounded value does not fit 96 bits at
    /// `dp` decimals (the general path then decides). Most amounts take this path.
    fn round_exact(self, value: Decimal, dp: u32) -> Option<Decimal> {
        let mantissa = value.mantissa();
        self.round_parts(mantissa < 0, mantissa.unsigned_abs(), value.scale(), dp)
    }

    /// The value `±magnitude / 10^scale` rounded to `dp` decimals (see [`Rounding::round_exact`]);
    /// `None` when the result does not fit 96 bits at `dp` decimals or a scale is out of range.
    fn round_parts(self, negative: bool, magnitude: u128, scale: u32, dp: u32) -> Option<Decimal> {
        if dp > Decimal::MAX_SCALE {
            return None;
        }
        if let (Ok(m), Some(&divisor)) =
            (u64::try_from(magnitude), scale.checked_sub(dp).and_then(|k| POW10_U64.get(k as usize)))
        {
            return Some(self.round_u64(negative, m, divisor, dp));
        }
        let rounded = if scale <= dp {
            magnitude.checked_mul(*POW10.get(usize::try_from(dp - scale).ok()?)?)?
        } else {
            let divisor = *POW10.get(usize::try_from(scale - dp).ok()?)?;
            let (quotient, remainder) = match (u64::try_from(magnitude), u64::try_from(divisor)) {
                // one 64-bit division for the usual amounts
                (Ok(m), Ok(d)) => (u128::from(m / d), u128::from(m % d)),
                _ => (magnitude / divisor, magnitude % divisor),
            };
            // remainder < divisor <= 10^28, so twice it fits
            quotient + u128::from(self.rounds_up((remainder * 2).cmp(&divisor), quotient & 1 == 1))
        };
        if rounded >> 96 != 0 {
            return None;
        }
        // zero is always positive
        let negative = negative && rounded != 0;
        Some(Decimal::from_parts(rounded as u32, (rounded >> 32) as u32, (rounded >> 64) as u32, negative, dp))
    }

    /// `a × b` rounded to `dp` decimals with this mode: what `a.checked_mul(b)` followed by
    /// [`Rounding::round`] gives, made in one step when the exact product fits (the usual
    /// quantities, prices, nets and rates); `None` when the product overflows.
    ///
    /// ```
    /// use invoice_core::Rounding;
    /// use rust_decimal_macros::dec;
    /// assert_eq!(Rounding::HalfAwayFromZero.round_product(dec!(3.75), dec!(1049.87), 2), Some(dec!(3937.01)));
    /// assert_eq!(Rounding::HalfEven.round_product(dec!(0.5), dec!(0.25), 2), Some(dec!(0.12)));
    /// ```
    pub fn round_product(self, a: Decimal, b: Decimal, dp: u32) -> Option<Decimal> {
        if let (Some((na, x, sa)), Some((nb, y, sb))) = (parts_u64(&a), parts_u64(&b)) {
            // rust_decimal keeps a product exactly when it fits 96 bits at a scale of at most
            // 28: rounded here in one step
            let scale = sa + sb;
            if scale <= Decimal::MAX_SCALE {
                // the usual amounts: a 64-bit product and one 64-bit division
                let divisor = scale.checked_sub(dp).and_then(|k| POW10_U64.get(k as usize));
                if let (Some(m), Some(&divisor)) = (x.checked_mul(y), divisor) {
                    return Some(self.round_u64(na != nb, m, divisor, dp));
                }
                let product = u128::from(x) * u128::from(y);
                if product >> 96 == 0 {
                    if let Some(rounded) = self.round_parts(na != nb, product, scale, dp) {
                        return Some(rounded);
                    }
                }
            }
        }
        a.checked_mul(b).map(|p| self.round(p, dp))
    }

    /// Whether a quotient goes up by one: `half` is twice the remainder against the divisor,
    /// `odd` whether the quotient is odd.
    #[inline]
    fn rounds_up(self, half: std::cmp::Ordering, odd: bool) -> bool {
        match self {
            Rounding::HalfAwayFromZero => half.is_ge(),
            Rounding::HalfEven => half.is_gt() || (half.is_eq() && odd),
        }
    }

    /// `±m / divisor` rounded to an integer with this mode, as a decimal with `dp` decimals
    /// (`divisor` a power of ten; zero is positive).
    #[inline]
    fn round_u64(self, negative: bool, m: u64, divisor: u64, dp: u32) -> Decimal {
        let (quotient, remainder) = (m / divisor, m % divisor);
        // 2 x remainder against the divisor, without overflowing for divisors above 2^63
        let up = self.rounds_up(remainder.cmp(&(divisor - remainder)), quotient & 1 == 1);
        // quotient < 2^64 / divisor, so adding one cannot overflow unless the divisor is 1,
        // and then the remainder is 0 and nothing is added
        let rounded = quotient + u64::from(up);
        Decimal::from_parts(rounded as u32, (rounded >> 32) as u32, 0, negative && rounded != 0, dp)
    }

    /// [`Rounding::round`] through rust_decimal's rounding (any value).
    fn round_general(self, value: Decimal, dp: u32) -> Decimal {
        let strategy = match self {
            Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        };
        let mut rounded = value.round_dp_with_strategy(dp, strategy);
        // Always carry exactly `dp` decimals (1.5 USD is "1.50"), and never a negative zero.
        rounded.rescale(dp);
        if rounded.is_zero() {
            rounded.set_sign_positive(true);
        }
        rounded
    }

    /// Round to the minor unit of `currency`.
    pub fn round_to(self, value: Decimal, currency: Currency) -> Decimal {
        self.round(value, currency.exponent())
    }
}

/// True when `rate` is a fraction from 0 up to (not including) 1: not negative (nor a negative
/// zero) and below 1, answered from the mantissa for the usual rates.
pub(crate) fn is_fraction(rate: Decimal) -> bool {
    match parts_u64(&rate) {
        // a 64-bit mantissa is below 10^20, so below one at any scale from 20 on
        Some((negative, m, scale)) => !negative && POW10_U64.get(scale as usize).is_none_or(|&one| m < one),
        None => !rate.is_sign_negative() && rate < Decimal::ONE,
    }
}

/// `a.cmp(&b)` (by value), answered from the mantissas when both are positive with 64-bit
/// mantissas and scales at most 19 apart (rates, amounts).
pub(crate) fn cmp_value(a: Decimal, b: Decimal) -> std::cmp::Ordering {
    if let (Some((false, x, sa)), Some((false, y, sb))) = (parts_u64(&a), parts_u64(&b)) {
        // the one with fewer decimals is scaled up: below 2^64 x 10^19 < 2^128
        if let Some(&f) = POW10_U64.get(sa.abs_diff(sb) as usize) {
            let (x, y) = (u128::from(x), u128::from(y));
            return if sa < sb { (x * u128::from(f)).cmp(&y) } else { x.cmp(&(y * u128::from(f))) };
        }
    }
    a.cmp(&b)
}

/// The sign, mantissa and scale of `d` when its mantissa fits 64 bits.
#[inline]
fn parts_u64(d: &Decimal) -> Option<(bool, u64, u32)> {
    // the layout of `serialize`: flags, then the mantissa's low, middle and high words
    let b = d.serialize();
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    if word(12) != 0 {
        return None;
    }
    let flags = word(0);
    Some((flags & 0x8000_0000 != 0, u64::from(word(8)) << 32 | u64::from(word(4)), (flags >> 16) & 0xff))
}

/// 10^0 ..= 10^19, the powers of ten that fit 64 bits.
const POW10_U64: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 10^0 ..= 10^38.
const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// How tax is computed from line nets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRounding {
    /// Tax per tax group: round(sum of the group's line nets x rate). EN 16931 style; the default.
    #[default]
    PerGroup,
    /// Tax per line: round(line net x rate), summed per group.
    PerLine,
}

/// The rounding settings an invoice is computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct RoundingPolicy {
    /// Half-way rule.
    #[serde(default)]
    pub mode: Rounding,
    /// Where tax is rounded.
    #[serde(default)]
    pub tax: TaxRounding,
}

/// An amount in one currency, always held at exactly the currency's minor unit.
///
/// Arithmetic is checked: overflow and mixing currencies are errors, never a panic.
///
/// ```
/// use invoice_core::{Currency, Money};
/// let a = Money::parse("10.10", Currency::EUR).unwrap();
/// let b = Money::parse("0.05", Currency::EUR).unwrap();
/// assert_eq!(a.checked_add(b).unwrap().to_string(), "10.15 EUR");
/// assert!(a.checked_add(Money::zero(Currency::USD)).is_err());
/// assert!(Money::parse("1.005", Currency::EUR).is_err()); // more decimals than the cent
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount, at the currency's exponent.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Money {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.exponent());
        Money { amount, currency }
    }

    /// An amount that must already fit the minor unit of `currency` (no rounding happens).
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money> {
        if amount.normalize().scale() > currency.exponent() {
            return Err(Error::TooManyDecimals { value: amount.to_string(), currency, exponent: currency.exponent() });
        }
        let mut amount = amount;
        amount.rescale(currency.exponent());
        Ok(Money { amount, currency })
    }

    /// Parse a decimal string exactly; it may not have more decimals than the currency.
    pub fn parse(s: &str, currency: Currency) -> Result<Money> {
        Money::new(parse_decimal(s)?, currency)
    }

    /// `self + other`, refusing other currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let amount = self.amount.checked_add(other.amount).ok_or(Error::Overflow { context: "money addition" })?;
        Ok(Money { amount, currency: self.currency })
    }

    /// `self - other`, refusing other currencies and overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let amount = self.amount.checked_sub(other.amount).ok_or(Error::Overflow { context: "money subtraction" })?;
        Ok(Money { amount, currency: self.currency })
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    fn same_currency(self, other: Money) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// `d`, with a zero given a positive sign. `-0` does not survive a trip through JSON (it
/// comes back as `0`), so the book stores every zero it takes in as `0`.
pub fn positive_zero(mut d: Decimal) -> Decimal {
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d
}

/// Parse an external decimal string exactly: an optional `-`, digits, an optional `.` and
/// digits. No exponent, no spaces, no thousands separators, and no silent rounding of
/// inputs with more than 28 significant digits (that is an error).
///
/// ```
/// use invoice_core::money::parse_decimal;
/// assert_eq!(parse_decimal("0.125").unwrap().to_string(), "0.125");
/// assert!(parse_decimal("1e3").is_err());
/// assert!(parse_decimal("1,50").is_err());
/// assert!(parse_decimal("0.1000000000000000000000000000001").is_err());
/// ```
pub fn parse_decimal(s: &str) -> Result<Decimal> {
    if let Some(d) = parse_short_decimal(s) {
        return Ok(d);
    }
    let invalid = |reason: &'static str| Error::InvalidDecimal { input: s.to_string(), reason };
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("expected digits with an optional leading '-' and one '.'"));
    }
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("expected digits after '.'"));
        }
    }
    Decimal::from_str_exact(s).map_err(|_| invalid("too many digits to hold exactly"))
}

/// The common case of [`parse_decimal`] without its general parser: digits with at most one
/// `.` between digits, no sign, at most 18 digits (so the mantissa fits an `i64`). Gives the
/// same mantissa and scale as [`Decimal::from_str_exact`]; `None` for anything else.
fn parse_short_decimal(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut digits = 0;
    let mut point = None;
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            mantissa = mantissa * 10 + i64::from(c - b'0');
            digits += 1;
        } else if c == b'.' && point.is_none() && i > 0 && i + 1 < b.len() {
            point = Some(i);
        } else {
            return None;
        }
    }
    if digits > 18 {
        return None;
    }
    let scale = point.map_or(0, |p| b.len() - p - 1);
    Some(Decimal::new(mantissa, u32::try_from(scale).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    proptest::proptest! {
        #[test]
        fn short_decimals_parse_as_the_general_parser_does(
            int in "[0-9]{1,12}",
            frac in proptest::option::of("[0-9]{1,12}"),
            neg in proptest::bool::ANY,
        ) {
            let text = format!("{}{int}{}", if neg { "-" } else { "" }, frac.map(|f| format!(".{f}")).unwrap_or_default());
            let ours = parse_decimal(&text).unwrap();
            let general = Decimal::from_str_exact(&text).unwrap();
            proptest::prop_assert_eq!(
                (ours.mantissa(), ours.scale(), ours.is_sign_negative()),
                (general.mantissa(), general.scale(), general.is_sign_negative())
            );
        }
    }

    #[test]
    fn short_decimal_edges() {
        for bad in ["", ".", "1.", ".5", "1..2", "1.2.3", "+1", "1e5", " 1", "１"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?}");
        }
        let d = parse_decimal("999999999999999999").unwrap();
        assert_eq!(d.to_string(), "999999999999999999");
        let d = parse_decimal("0.999999999999999999").unwrap();
        assert_eq!((d.mantissa(), d.scale()), (999_999_999_999_999_999, 18));
        let d = parse_decimal("00120.50").unwrap();
        assert_eq!((d.mantissa(), d.scale()), (12050, 2));
    }

    #[test]
    fn exponents_of_the_required_currencies() {
        let table = [
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("CHF", 2),
            ("CAD", 2),
            ("AUD", 2),
            ("NZD", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("SEK", 2),
            ("NOK", 2),
            ("DKK", 2),
            ("PLN", 2),
            ("CZK", 2),
            ("HUF", 2),
            ("MXN", 2),
            ("BRL", 2),
            ("INR", 2),
            ("CNY", 2),
            ("ZAR", 2),
            ("SGD", 2),
            ("HKD", 2),
            ("KWD", 3),
            ("BHD", 3),
            ("JOD", 3),
            ("OMR", 3),
            ("TND", 3),
        ];
        for (code, exp) in table {
            let c: Currency = code.parse().unwrap();
            assert_eq!(c.exponent(), exp, "{code}");
            assert_eq!(c.code(), code);
        }
        assert_eq!(Currency::ALL.len(), Currency::ALL.iter().collect::<std::collections::BTreeSet<_>>().len());
    }

    #[test]
    fn unknown_currency_is_named() {
        let err = "XYZ".parse::<Currency>().unwrap_err();
        assert_eq!(err.code(), "unknown_currency");
        assert!(err.to_string().contains("XYZ"));
    }

    #[test]
    fn rounding_never_gives_negative_zero_and_keeps_scale() {
        assert_eq!(Rounding::HalfAwayFromZero.round(dec!(-0.001), 2).to_string(), "0.00");
        assert_eq!(Rounding::HalfEven.round(dec!(-0.005), 2).to_string(), "0.00");
        assert_eq!(Rounding::HalfAwayFromZero.round(dec!(1.5), 2).to_string(), "1.50");
        assert_eq!(Rounding::HalfAwayFromZero.round_to(dec!(2.5), Currency::JPY).to_string(), "3");
        assert_eq!(Rounding::HalfEven.round_to(dec!(2.5), Currency::JPY).to_string(), "2");
        assert_eq!(Rounding::HalfAwayFromZero.round_to(dec!(1.0005), Currency::KWD).to_string(), "1.001");
    }

    fn same(a: Decimal, b: Decimal) -> bool {
        a.serialize() == b.serialize()
    }

    #[test]
    fn exact_rounding_is_the_general_rounding_at_the_edges() {
        let values = [
            dec!(0),
            dec!(-0.000),
            dec!(0.005),
            dec!(-0.005),
            dec!(0.015),
            dec!(0.025),
            dec!(-0.125),
            dec!(2.5),
            dec!(-3.5),
            dec!(1.0005),
            dec!(123456789.987654321),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(i64::MAX, 0),
            Decimal::new(i64::MIN, 28),
            Decimal::from_i128_with_scale(79_228_162_514_264_337_593_543_950_335, 28),
            Decimal::from_i128_with_scale(-79_228_162_514_264_337_593_543_950_335, 5),
        ];
        for v in values {
            for mode in [Rounding::HalfAwayFromZero, Rounding::HalfEven] {
                for dp in 0..=29 {
                    let general = mode.round_general(v, dp);
                    let fast = mode.round(v, dp);
                    assert!(same(fast, general), "{v} {mode:?} {dp}: {fast} vs {general}");
                }
            }
        }
    }

    /// `round_product` is `checked_mul` followed by `round` (both `None` on overflow).
    fn round_product_matches(
        a: Decimal,
        b: Decimal,
        even: bool,
        dp: u32,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let mode = if even { Rounding::HalfEven } else { Rounding::HalfAwayFromZero };
        let expected = a.checked_mul(b).map(|p| mode.round(p, dp));
        let got = mode.round_product(a, b, dp);
        proptest::prop_assert!(
            match (got, expected) {
                (Some(g), Some(e)) => same(g, e),
                (None, None) => true,
                _ => false,
            },
            "{} x {} {:?} {}: {:?} vs {:?}",
            a,
            b,
            mode,
            dp,
            got,
            expected
        );
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        #[test]
        fn exact_rounding_is_the_general_rounding(
            lo: u32, mid: u32, hi in proptest::prop_oneof![proptest::strategy::Just(0u32), proptest::prelude::any::<u32>()],
            negative: bool, scale in 0u32..=28, dp in 0u32..=6, even: bool, small: bool,
        ) {
            let v = if small {
                Decimal::from_parts(lo, 0, 0, negative, scale)
            } else {
                Decimal::from_parts(lo, mid, hi, negative, scale)
            };
            let mode = if even { Rounding::HalfEven } else { Rounding::HalfAwayFromZero };
            let general = mode.round_general(v, dp);
            let fast = mode.round(v, dp);
            proptest::prop_assert!(same(fast, general), "{} {:?} {}: {} vs {}", v, mode, dp, fast, general);
        }

        #[test]
        fn exact_rounding_of_products_is_the_general_rounding(
            q in -1_000_000_000i64..1_000_000_000, qs in 0u32..=6,
            p in -100_000_000_000i64..100_000_000_000, ps in 0u32..=8, dp in 0u32..=3, even: bool,
        ) {
            let raw = Decimal::new(q, qs).checked_mul(Decimal::new(p, ps));
            if let Some(raw) = raw {
                let mode = if even { Rounding::HalfEven } else { Rounding::HalfAwayFromZero };
                proptest::prop_assert!(same(mode.round(raw, dp), mode.round_general(raw, dp)));
            }
        }

        #[test]
        fn round_product_is_the_product_rounded(
            a_lo: u32, a_mid: u32, a_hi in proptest::prop_oneof![proptest::strategy::Just(0u32), proptest::prelude::any::<u32>()],
            b_lo: u32, b_mid in proptest::prop_oneof![proptest::strategy::Just(0u32), proptest::prelude::any::<u32>()],
            a_neg: bool, b_neg: bool, a_scale in 0u32..=28, b_scale in 0u32..=28, dp in 0u32..=6, even: bool,
        ) {
            let a = Decimal::from_parts(a_lo, a_mid, a_hi, a_neg, a_scale);
            let b = Decimal::from_parts(b_lo, b_mid, 0, b_neg, b_scale);
            round_product_matches(a, b, even, dp)?;
        }

        #[test]
        fn cmp_value_is_the_comparison(
            a_lo: u32, a_mid: u32, a_hi in proptest::prop_oneof![proptest::strategy::Just(0u32), proptest::prelude::any::<u32>()],
            b_lo: u32, b_mid in proptest::prop_oneof![proptest::strategy::Just(0u32), proptest::prelude::any::<u32>()],
            a_neg: bool, b_neg: bool, a_scale in 0u32..=28, b_scale in 0u32..=28, same_scale: bool,
        ) {
            let a = Decimal::from_parts(a_lo, a_mid, a_hi, a_neg, a_scale);
            let b = Decimal::from_parts(b_lo, b_mid, 0, b_neg, if same_scale { a_scale } else { b_scale });
            proptest::prop_assert_eq!(cmp_value(a, b), a.cmp(&b), "{} {}", a, b);
            proptest::prop_assert_eq!(cmp_value(a, a), std::cmp::Ordering::Equal);
        }

        #[test]
        fn round_product_of_amounts_is_the_product_rounded(
            q in -1_000_000_000i64..1_000_000_000, qs in 0u32..=6,
            p in -100_000_000_000i64..100_000_000_000, ps in 0u32..=8, dp in 0u32..=3, even: bool,
        ) {
            let (a, b) = (Decimal::new(q, qs), Decimal::new(p, ps));
            round_product_matches(a, b, even, dp)?;
        }
    }

    #[test]
    fn is_fraction_is_zero_up_to_one() {
        let cases = [
            (dec!(0), true),
            (dec!(0.0), true),
            (dec!(0.19), true),
            (dec!(0.999999999999999999999999999), true),
            (dec!(1), false),
            (dec!(1.00), false),
            (dec!(-0.01), false),
            (dec!(7), false),
            (Decimal::from_parts(u32::MAX, u32::MAX, 0, false, 19), false),
            (Decimal::from_parts(u32::MAX, u32::MAX, 0, false, 20), true),
            (Decimal::from_parts(0, 0, 1, false, 28), true),
            (Decimal::MAX, false),
        ];
        for (rate, expected) in cases {
            assert_eq!(is_fraction(rate), expected, "{rate}");
            assert_eq!(is_fraction(rate), !(rate.is_sign_negative() || rate >= Decimal::ONE), "{rate}");
        }
    }

    #[test]
    fn parse_is_exact() {
        assert!(parse_decimal("").is_err());
        assert!(parse_decimal("-").is_err());
        assert!(parse_decimal(".5").is_err());
        assert!(parse_decimal("5.").is_err());
        assert!(parse_decimal("+5").is_err());
        assert!(parse_decimal(" 5").is_err());
        assert!(parse_decimal("NaN").is_err());
        assert_eq!(parse_decimal("-12.340").unwrap(), dec!(-12.340));
        assert_eq!(parse_decimal("79228162514264337593543950335").unwrap(), Decimal::MAX);
        assert!(parse_decimal("79228162514264337593543950336").is_err());
    }

    #[test]
    fn money_arithmetic_is_checked() {
        let max = Money { amount: Decimal::MAX, currency: Currency::JPY };
        let one = Money::parse("1", Currency::JPY).unwrap();
        assert_eq!(max.checked_add(one).unwrap_err().code(), "overflow");
        let err = one.checked_sub(Money::zero(Currency::EUR)).unwrap_err();
        assert_eq!(err.code(), "currency_mismatch");
        assert_eq!(Money::parse("3", Currency::KWD).unwrap().amount.to_string(), "3.000");
        assert_eq!(Money::parse("0.5", Currency::JPY).unwrap_err().code(), "too_many_decimals");
    }
}
