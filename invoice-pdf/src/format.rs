//! How numbers and dates are printed. Everything here works on `rust_decimal::Decimal`; no
//! floating point comes near an amount.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Separators used to print numbers: `1,234.50` (the default) or `1.234,50`, `1 234,50` ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    /// Between groups of three digits; `None` for no grouping.
    pub thousands: Option<char>,
    /// Before the decimals.
    pub decimal: char,
}

impl Default for NumberFormat {
    fn default() -> Self {
        NumberFormat { thousands: Some(','), decimal: '.' }
    }
}

impl NumberFormat {
    /// `value` with at least `min_dp` decimals (more when it has more significant ones).
    ///
    /// ```
    /// use invoice_pdf::NumberFormat;
    /// use rust_decimal_macros::dec;
    /// let f = NumberFormat::default();
    /// assert_eq!(f.decimal(dec!(1234567.5), 2), "1,234,567.50");
    /// assert_eq!(f.decimal(dec!(-0.125), 2), "-0.125");
    /// assert_eq!(f.decimal(dec!(37.50), 0), "37.5");
    /// let de = NumberFormat { thousands: Some('.'), decimal: ',' };
    /// assert_eq!(de.decimal(dec!(1234.5), 2), "1.234,50");
    /// ```
    pub fn decimal(&self, value: Decimal, min_dp: u32) -> String {
        let mut v = value.normalize();
        if v.scale() < min_dp {
            v.rescale(min_dp);
        }
        let text = v.abs().to_string();
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (text.as_str(), None),
        };
        let mut out = String::with_capacity(text.len() + text.len() / 3 + 2);
        if v.is_sign_negative() && !v.is_zero() {
            out.push('-');
        }
        let digits = int.len();
        for (i, d) in int.chars().enumerate() {
            if i > 0 && (digits - i) % 3 == 0 {
                if let Some(sep) = self.thousands {
                    out.push(sep);
                }
            }
            out.push(d);
        }
        if let Some(f) = frac {
            out.push(self.decimal);
            out.push_str(f);
        }
        out
    }

    /// An amount at exactly the currency's minor unit (`exponent` decimals), as the totals carry it.
    pub fn amount(&self, value: Decimal, exponent: u32) -> String {
        let mut v = value;
        if v.scale() != exponent && v.normalize().scale() <= exponent {
            v.rescale(exponent);
        }
        self.decimal(v, exponent)
    }

    /// A tax rate given as a fraction, as a percentage: `0.19` -> `19 %`, `0.075` -> `7.5 %`.
    pub fn rate(&self, rate: Decimal) -> String {
        let percent = rate.checked_mul(Decimal::ONE_HUNDRED).unwrap_or(rate);
        format!("{} %", self.decimal(percent, 0))
    }
}

/// A date with a chrono format string.
pub(crate) fn date(d: NaiveDate, format: &str) -> String {
    d.format(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_keep_the_currency_decimals() {
        let f = NumberFormat::default();
        assert_eq!(f.amount(dec!(1000), 0), "1,000");
        assert_eq!(f.amount(dec!(0.5), 3), "0.500");
        assert_eq!(f.amount(dec!(12.3), 2), "12.30");
        assert_eq!(f.amount(dec!(-1234.56), 2), "-1,234.56");
        assert_eq!(f.amount(dec!(0.00), 2), "0.00");
        assert_eq!(f.amount(dec!(123456789012.34), 2), "123,456,789,012.34");
        let none = NumberFormat { thousands: None, decimal: ',' };
        assert_eq!(none.amount(dec!(1234.5), 2), "1234,50");
    }

    #[test]
    fn rates_and_quantities() {
        let f = NumberFormat::default();
        assert_eq!(f.rate(dec!(0.19)), "19 %");
        assert_eq!(f.rate(dec!(0.075)), "7.5 %");
        assert_eq!(f.rate(dec!(0)), "0 %");
        assert_eq!(f.decimal(dec!(2.500), 0), "2.5");
        assert_eq!(f.decimal(dec!(1000), 0), "1,000");
    }
}
