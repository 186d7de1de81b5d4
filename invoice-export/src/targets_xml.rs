//! The XML and JSON targets: qbXML, QuickBooks Online JSON, Sage Intacct, UBL and CII, and
//! what they share: the pre-flight checks of texts, numbers and dates, and the model of an
//! EN 16931 e-invoice that UBL and CII both write.
//!
//! # What the e-invoices (UBL and CII) need
//!
//! Beyond the invoice itself, [`Config::seller`] (name, postal address with country code, VAT
//! id, and for UBL the Peppol endpoint) and a [`Buyer`] in [`Config::buyers`] for the
//! customer (postal address with country code, and for UBL the endpoint and a buyer
//! reference). Pre-flight names every piece that is missing. Discount lines become
//! document-level allowances (reason code 95) in the tax category of the line; every other
//! line is an invoice line. Amounts are written with the currency's decimals, at most 2
//! (EN 16931 rule BR-DEC): a 3-decimal currency such as KWD goes through only when its amounts
//! have no third decimal, otherwise pre-flight says which amount cannot be written.

use std::borrow::Cow;

use chrono::NaiveDate;
use invoice_core::{Invoice, Kind, Line, LineKind, TaxCategory, Totals};
use rust_decimal::Decimal;

use crate::config::{Buyer, Config};
use crate::xmlutil::{fits, forbidden_list, has_forbidden, latin1, longer_than};
use crate::{cii, intacct, qbo_json, qbxml, ubl, Format, Problem};

/// The XML and JSON formats of this module.
pub(crate) fn formats() -> Vec<&'static dyn Format> {
    vec![&qbxml::QbXml, &qbo_json::QboJson, &intacct::Intacct, &ubl::Ubl, &cii::Cii]
}

/// How a target takes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// Any Unicode character XML allows.
    Unicode,
    /// ISO-8859-1 only (QuickBooks Desktop): other characters are transliterated.
    Latin1,
}

/// What a text is to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextRole {
    /// Free text: a change is a warning.
    Free,
    /// A name that must match a record of the target (customer, item, account): a character
    /// without a faithful Latin-1 spelling is an error, since the name would no longer match.
    Name,
}

/// Collects the problems of one invoice for one target.
pub(crate) struct Checker<'a> {
    pub(crate) invoice: &'a Invoice,
    pub(crate) problems: Vec<Problem>,
    charset: Charset,
    target: &'static str,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(invoice: &'a Invoice, charset: Charset, target: &'static str) -> Checker<'a> {
        Checker { invoice, problems: Vec::new(), charset, target }
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        path: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) {
        self.problems.push(Problem::error(self.invoice, code, path, message));
    }

    pub(crate) fn warning(
        &mut self,
        code: &'static str,
        path: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) {
        self.problems.push(Problem::warning(self.invoice, code, path, message));
    }

    /// A text the target writes at `path`: characters XML forbids (warning: removed), characters
    /// outside Latin-1 for Latin-1 targets (warning, or an error for names that lose a
    /// character), and a length limit in characters (error). The path is built only when there
    /// is something to say.
    pub(crate) fn text(&mut self, path: impl Fn() -> String, text: &str, max: Option<usize>, role: TextRole) {
        let target = self.target;
        if has_forbidden(text) {
            self.warning(
                "control_character",
                path(),
                format!("contains characters XML does not allow ({}); they are left out", forbidden_list(text)),
            );
        }
        let written_len = match self.charset {
            Charset::Unicode => longer_than(text, max.unwrap_or(usize::MAX)),
            Charset::Latin1 => {
                let l = latin1(text);
                if l.lossy && role == TextRole::Name {
                    self.error(
                        "unsupported_character",
                        path(),
                        format!(
                            "'{text}' has characters {target} cannot take (it reads '{}'); map it to a Latin-1 name",
                            l.text
                        ),
                    );
                } else if l.changed {
                    let how =
                        if l.lossy { "characters without a Latin-1 spelling become '?'" } else { "transliterated" };
                    self.warning(
                        "transliterated",
                        path(),
                        format!("{target} takes Latin-1 only: '{text}' is written as '{}' ({how})", l.text),
                    );
                }
                longer_than(&l.text, max.unwrap_or(usize::MAX))
            }
        };
        if let (Some(n), Some(max)) = (written_len, max) {
            self.error("too_long", path(), format!("{n} characters; {target} takes at most {max}"));
        }
    }

    /// The invoice number, or an error when the invoice has none.
    pub(crate) fn number(&mut self, max: Option<usize>) -> Option<&'a str> {
        match self.invoice.number.as_deref() {
            Some(n) if !n.trim().is_empty() => {
                self.text(|| "number".into(), n, max, TextRole::Name);
                Some(n)
            }
            _ => {
                self.error("missing_number", "number", "the invoice has no number; issue it first");
                None
            }
        }
    }

    /// The issue date, or an error when it is missing.
    pub(crate) fn issue_date(&mut self) -> Option<NaiveDate> {
        if self.invoice.issue_date.is_none() {
            self.error("missing_issue_date", "issue_date", "the invoice has no issue date; issue it first");
        }
        self.invoice.issue_date
    }

    /// The totals, or an error when they overflow.
    pub(crate) fn totals(&mut self) -> Option<Totals> {
        match self.invoice.totals() {
            Ok(t) => Some(t),
            Err(e) => {
                self.error("amount_overflow", "lines", e.to_string());
                None
            }
        }
    }
}

/// The problem a writer reports when the output buffer refuses bytes (it never does for the
/// in-memory buffers the drivers use).
pub(crate) fn write_failed(invoice: &Invoice, e: std::io::Error) -> Problem {
    Problem::error(invoice, "write_failed", "", e.to_string())
}

/// The customer's name in a target that refers to customers by name (QuickBooks Desktop):
/// the mapped name, else the mapping's fallback, else the customer's own name.
pub(crate) fn customer_name<'a>(config: &'a Config, invoice: &'a Invoice) -> &'a str {
    let c = &invoice.customer;
    config.customers.map.get(&c.id).map(String::as_str).or(config.customers.fallback.as_deref()).unwrap_or(&c.name)
}

/// The tax code of a line: the mapped code of its tax key (see [`Config::tax_key`]), else the
/// fallback, else the QuickBooks US defaults `TAX` / `NON` (upper case for QuickBooks Online;
/// qbXML takes its own `Tax` / `Non`). The key is built without allocating.
pub(crate) fn tax_code<'a>(config: &'a Config, line: &Line, taxed: &'a str, untaxed: &'a str) -> Cow<'a, str> {
    if !config.tax_codes.map.is_empty() {
        // "<code>:<rate>" in a stack buffer: the rate's digits end the buffer, the code and
        // ':' go right before them.
        let mut buf = [0u8; 64];
        let start = crate::xmlutil::plain_into(&mut buf, line.tax_rate);
        let code = line.effective_tax_category().code().as_bytes();
        if let Some(begin) = start.checked_sub(code.len() + 1) {
            buf[begin..begin + code.len()].copy_from_slice(code);
            buf[start - 1] = b':';
            if let Some(mapped) = std::str::from_utf8(&buf[begin..]).ok().and_then(|k| config.tax_codes.map.get(k)) {
                return Cow::Borrowed(mapped.as_str());
            }
        }
    }
    if let Some(code) = config.tax_codes.fallback.as_deref() {
        return Cow::Borrowed(code);
    }
    Cow::Borrowed(if line.tax_rate.is_zero() { untaxed } else { taxed })
}

/// The decimals a target writes for `invoice`'s currency: the currency's own, at most `max`.
pub(crate) fn decimals(invoice: &Invoice, max: u32) -> u32 {
    invoice.currency.exponent().min(max)
}

/// Check that an amount can be written with `dp` decimals.
pub(crate) fn check_fits(c: &mut Checker<'_>, path: impl Fn() -> String, d: Decimal, dp: u32, what: &str) {
    if !fits(d, dp) {
        let currency = c.invoice.currency;
        let target = c.target;
        c.error(
            "unsupported_precision",
            path(),
            format!("{what} {d} {currency} has {} decimals; {target} takes at most {dp}", d.normalize().scale()),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The EN 16931 e-invoice model shared by UBL and CII.
// ---------------------------------------------------------------------------------------------

/// The document type codes (UNTDID 1001) the e-invoices use.
pub(crate) fn type_code(kind: &Kind) -> &'static str {
    match kind {
        Kind::Invoice => "380",
        Kind::CreditNote { .. } => "381",
        Kind::Adjustment { .. } => "384",
    }
}

/// The invoice an e-invoice refers to (BG-3): the credited or corrected one.
pub(crate) fn preceding(kind: &Kind) -> Option<&str> {
    match kind {
        Kind::Invoice => None,
        Kind::CreditNote { credits } => credits.as_deref().filter(|s| !s.trim().is_empty()),
        Kind::Adjustment { corrects } => Some(corrects.as_str()).filter(|s| !s.trim().is_empty()),
    }
}

/// The VAT exemption reason (VATEX code, text) a category needs (BR-E-10, BR-AE-10, BR-IC-10,
/// BR-G-10, BR-O-10); standard and zero-rated categories must not have one.
pub(crate) fn exemption(category: TaxCategory) -> Option<(Option<&'static str>, &'static str)> {
    match category {
        TaxCategory::Standard | TaxCategory::ZeroRated => None,
        TaxCategory::Exempt => Some((None, "Exempt from VAT")),
        TaxCategory::ReverseCharge => Some((Some("VATEX-EU-AE"), "Reverse charge")),
        TaxCategory::IntraCommunity => Some((Some("VATEX-EU-IC"), "Intra-Community supply")),
        TaxCategory::Export => Some((Some("VATEX-EU-G"), "Export outside the EU")),
        TaxCategory::OutsideScope => Some((Some("VATEX-EU-O"), "Not subject to VAT")),
    }
}

/// The payment terms text (BT-20) derived from the dates: `Net 30 days`, or `Due on receipt`.
pub(crate) fn push_payment_terms(buf: &mut String, issue: NaiveDate, due: NaiveDate) {
    use std::fmt::Write as _;
    let _ = match (due - issue).num_days() {
        0 => buf.write_str("Due on receipt"),
        1 => buf.write_str("Net 1 day"),
        n if n > 0 => write!(buf, "Net {n} days"),
        _ => write!(buf, "Due {due}"),
    };
}

/// The item name (BT-153) and description (BT-154) of a line: the first line of its text,
/// and the whole text when it has more than one line.
pub(crate) fn item_name(description: &str) -> (&str, Option<&str>) {
    match description.split_once(['\n', '\r']) {
        Some((first, _)) if !first.trim().is_empty() => (first.trim_end(), Some(description)),
        _ => (description, None),
    }
}

/// How far quantity x price may be from the line amount (Peppol rule PEPPOL-EN16931-R120
/// allows 0.02).
const PRICE_SLACK: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

/// The net price (BT-146) to state when quantity x unit price is further than 0.02 from the
/// rounded line amount (only a currency without decimals gets there, e.g. 2.5 x 101 JPY is
/// 252.5, billed 253): the line amount divided by the quantity, so that the document's own
/// arithmetic holds. `None` when the unit price can stay.
pub(crate) fn line_price(line: &Line, net: Decimal) -> Option<Decimal> {
    let gross = line.quantity.checked_mul(line.unit_price)?;
    if gross.checked_sub(net)?.abs() <= PRICE_SLACK || line.quantity.is_zero() {
        return None;
    }
    let price = net.checked_div(line.quantity)?;
    let short = price.round_dp(8).normalize();
    let close =
        line.quantity.checked_mul(short).and_then(|g| g.checked_sub(net)).is_some_and(|d| d.abs() <= PRICE_SLACK);
    Some(if close { short } else { price.normalize() })
}

/// A line of an e-invoice that is not a discount.
pub(crate) struct Item {
    /// Index into the invoice's lines.
    pub(crate) index: usize,
    /// Rounded line amount.
    pub(crate) net: Decimal,
    /// Net price to state (the unit price, or see [`line_price`]).
    pub(crate) price: Decimal,
}

/// An e-invoice ready to write: the invoice, its totals, and how its lines split into
/// invoice lines and document-level allowances.
pub(crate) struct EInvoice<'a> {
    pub(crate) invoice: &'a Invoice,
    pub(crate) number: &'a str,
    pub(crate) issue: NaiveDate,
    pub(crate) totals: Totals,
    /// Decimals of every amount.
    pub(crate) dp: u32,
    /// 380, 381 or 384.
    pub(crate) type_code: &'static str,
    /// The credited or corrected invoice.
    pub(crate) preceding: Option<&'a str>,
    pub(crate) buyer: &'a Buyer,
    /// The lines that are not discounts.
    pub(crate) items: Vec<Item>,
    /// (line index, allowance amount, positive) of the discount lines.
    pub(crate) allowances: Vec<(usize, Decimal)>,
    /// Sum of the item nets (BT-106).
    pub(crate) line_total: Decimal,
    /// Sum of the allowances (BT-107).
    pub(crate) allowance_total: Decimal,
    /// Every line is outside the scope of VAT: no VAT ids may be written (BR-O-02).
    pub(crate) outside_scope: bool,
    /// Some line is an intra-community supply: the deliver-to country is written (BR-IC-12).
    pub(crate) intra_community: bool,
}

impl<'a> EInvoice<'a> {
    /// The model of `invoice`, or the first problem that keeps it from an e-invoice (the full
    /// list comes from [`check_einvoice`]).
    pub(crate) fn new(invoice: &'a Invoice, config: &'a Config) -> Result<EInvoice<'a>, Problem> {
        let fail =
            |code: &'static str, path: &'static str, msg: Cow<'static, str>| Problem::error(invoice, code, path, msg);
        let number =
            invoice.number.as_deref().ok_or_else(|| fail("missing_number", "number", Cow::Borrowed("no number")))?;
        let issue = invoice
            .issue_date
            .ok_or_else(|| fail("missing_issue_date", "issue_date", Cow::Borrowed("no issue date")))?;
        let totals = invoice.totals().map_err(|e| fail("amount_overflow", "lines", Cow::Owned(e.to_string())))?;
        let buyer = config
            .buyers
            .get(&invoice.customer.id)
            .ok_or_else(|| fail("missing_buyer", "customer.id", Cow::Borrowed("no buyer data for the customer")))?;
        let mut items = Vec::with_capacity(invoice.lines.len());
        let mut allowances = Vec::new();
        let (mut line_total, mut allowance_total) = (Decimal::ZERO, Decimal::ZERO);
        let overflow = || fail("amount_overflow", "lines", Cow::Borrowed("the line amounts are too large"));
        for (i, (line, net)) in invoice.lines.iter().zip(&totals.line_nets).enumerate() {
            if line.kind == LineKind::Discount {
                let amount = -*net;
                allowance_total = allowance_total.checked_add(amount).ok_or_else(overflow)?;
                allowances.push((i, amount));
            } else {
                line_total = line_total.checked_add(*net).ok_or_else(overflow)?;
                items.push(Item { index: i, net: *net, price: line_price(line, *net).unwrap_or(line.unit_price) });
            }
        }
        let exp = invoice.currency.exponent();
        line_total.rescale(exp);
        allowance_total.rescale(exp);
        let outside_scope = invoice.lines.iter().all(|l| l.effective_tax_category() == TaxCategory::OutsideScope);
        let intra_community = invoice.lines.iter().any(|l| l.effective_tax_category() == TaxCategory::IntraCommunity);
        Ok(EInvoice {
            invoice,
            number,
            issue,
            totals,
            dp: decimals(invoice, 2),
            type_code: type_code(&invoice.kind),
            preceding: preceding(&invoice.kind),
            buyer,
            items,
            allowances,
            line_total,
            allowance_total,
            outside_scope,
            intra_community,
        })
    }

    /// The currency code.
    pub(crate) fn currency(&self) -> &'static str {
        self.invoice.currency.code()
    }

    /// The seller's VAT id as written (none when every line is outside the scope of VAT).
    pub(crate) fn seller_vat<'c>(&self, config: &'c Config) -> Option<&'c str> {
        config.seller.vat_id.as_deref().filter(|v| !v.is_empty() && !self.outside_scope)
    }

    /// The buyer's VAT id as written.
    pub(crate) fn buyer_vat(&self) -> Option<&'a str> {
        self.buyer.vat_id.as_deref().filter(|v| !v.is_empty() && !self.outside_scope)
    }
}

/// Is `s` a two-letter upper-case country code?
fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Every problem that keeps `invoice` from a valid EN 16931 e-invoice. With `peppol`, also
/// what Peppol BIS Billing 3.0 adds: electronic addresses, a buyer reference, and the rules
/// for a German seller invoicing a German buyer.
pub(crate) fn check_einvoice(invoice: &Invoice, config: &Config, target: &'static str, peppol: bool) -> Vec<Problem> {
    let mut c = Checker::new(invoice, Charset::Unicode, target);
    c.number(None);
    c.issue_date();
    let seller = &config.seller;
    let free = TextRole::Free;

    // Seller (BG-4).
    if seller.name.trim().is_empty() {
        c.error("missing_seller_data", "config.seller.name", "the seller's legal name is missing (BT-27)");
    }
    c.text(|| "config.seller.name".into(), &seller.name, None, free);
    let seller_country = seller.address.country_code.as_str();
    if !is_country_code(seller_country) {
        c.error(
            "missing_seller_data",
            "config.seller.address.country_code",
            format!("'{seller_country}' is not a two-letter ISO 3166 country code (BT-40)"),
        );
    }
    if peppol {
        match (seller.endpoint_id.as_deref(), seller.endpoint_scheme.as_deref()) {
            (Some(id), Some(scheme)) if !id.trim().is_empty() && !scheme.trim().is_empty() => {}
            (Some(id), _) if !id.trim().is_empty() => c.error(
                "missing_seller_data",
                "config.seller.endpoint_scheme",
                "the seller's electronic address has no scheme (Peppol EAS code, BT-34-1)",
            ),
            _ => c.error(
                "missing_seller_data",
                "config.seller.endpoint_id",
                "Peppol needs the seller's electronic address (BT-34)",
            ),
        }
    } else if seller.endpoint_id.as_deref().is_some_and(|s| !s.is_empty())
        && seller.endpoint_scheme.as_deref().is_none_or(str::is_empty)
    {
        c.error(
            "missing_seller_data",
            "config.seller.endpoint_scheme",
            "the seller's electronic address has no scheme (BR-62)",
        );
    }

    // Buyer (BG-7).
    let customer = &invoice.customer;
    if customer.name.trim().is_empty() {
        c.error("missing_buyer_data", "customer.name", "the buyer's name is missing (BT-44)");
    }
    c.text(|| "customer.name".into(), &customer.name, None, free);
    let buyer = config.buyers.get(&customer.id);
    let bpath = |field: &str| format!("config.buyers[{}].{field}", customer.id);
    match buyer {
        None => c.error(
            "missing_buyer_data",
            format!("config.buyers[{}]", customer.id),
            format!(
                "no e-invoice data for customer {} (country code{})",
                customer.id,
                if peppol { ", electronic address and buyer reference" } else { "" }
            ),
        ),
        Some(b) => {
            if !is_country_code(&b.address.country_code) {
                c.error(
                    "missing_buyer_data",
                    bpath("address.country_code"),
                    format!("'{}' is not a two-letter ISO 3166 country code (BT-55)", b.address.country_code),
                );
            }
            let endpoint = b.endpoint_id.as_deref().filter(|s| !s.trim().is_empty());
            let scheme = b.endpoint_scheme.as_deref().filter(|s| !s.trim().is_empty());
            if peppol && endpoint.is_none() {
                c.error(
                    "missing_buyer_data",
                    bpath("endpoint_id"),
                    "Peppol needs the buyer's electronic address (BT-49)",
                );
            }
            if endpoint.is_some() && scheme.is_none() {
                c.error(
                    "missing_buyer_data",
                    bpath("endpoint_scheme"),
                    "the buyer's electronic address has no scheme (BR-63)",
                );
            }
            if peppol && b.reference.as_deref().is_none_or(|r| r.trim().is_empty()) {
                c.error(
                    "missing_buyer_data",
                    bpath("reference"),
                    "Peppol needs a buyer reference (BT-10, rule PEPPOL-EN16931-R003)",
                );
            }
            if let Some(vat) = b.vat_id.as_deref().filter(|v| !v.is_empty()) {
                if !vat.get(..2).is_some_and(is_country_code) {
                    c.error(
                        "invalid_vat_id",
                        bpath("vat_id"),
                        format!("VAT id '{vat}' must start with its country code (BR-CO-9)"),
                    );
                }
            }
            c.text(|| bpath("address.street"), &b.address.street, None, free);
            c.text(|| bpath("address.city"), &b.address.city, None, free);
            c.text(|| bpath("reference"), b.reference.as_deref().unwrap_or(""), None, free);
        }
    }

    // VAT: what each category needs (BR-S-02 ... BR-O-02, BR-AE-02, BR-IC-02/11/12).
    let seller_vat = seller.vat_id.as_deref().filter(|v| !v.is_empty());
    if let Some(vat) = seller_vat {
        if !vat.get(..2).is_some_and(is_country_code) {
            c.error(
                "invalid_vat_id",
                "config.seller.vat_id",
                format!("VAT id '{vat}' must start with its country code (BR-CO-9)"),
            );
        }
    }
    let buyer_vat = buyer.and_then(|b| b.vat_id.as_deref()).filter(|v| !v.is_empty());
    // The VAT categories present, as a bit set (no allocation per invoice).
    let bit = |c: TaxCategory| 1u8 << (c as u8);
    let categories = invoice.lines.iter().fold(0u8, |set, l| set | bit(l.effective_tax_category()));
    let has = |c: TaxCategory| categories & bit(c) != 0;
    let outside = has(TaxCategory::OutsideScope);
    if outside && categories != bit(TaxCategory::OutsideScope) {
        if let Some(i) = invoice.lines.iter().position(|l| l.effective_tax_category() == TaxCategory::OutsideScope) {
            c.error(
                "mixed_tax_categories",
                format!("lines[{i}].tax_category"),
                "a line outside the scope of VAT (O) cannot share an e-invoice with other VAT categories (BR-O-11)",
            );
        }
    }
    if outside {
        if seller.registration_id.as_deref().is_none_or(str::is_empty) {
            c.error(
                "missing_seller_data",
                "config.seller.registration_id",
                "an invoice outside the scope of VAT carries no VAT id, so the seller's legal registration id is needed (BR-CO-26)",
            );
        }
    } else if seller_vat.is_none() && categories != 0 {
        let first = invoice.lines.iter().map(Line::effective_tax_category).min().map(TaxCategory::code).unwrap_or("S");
        c.error(
            "missing_seller_data",
            "config.seller.vat_id",
            format!("VAT category {first} needs the seller's VAT id (BT-31)"),
        );
    }
    if has(TaxCategory::ReverseCharge) && buyer_vat.is_none() {
        c.error(
            "missing_buyer_data",
            bpath("vat_id"),
            "a reverse-charge line (AE) needs the buyer's VAT id (BR-AE-02)",
        );
    }
    if has(TaxCategory::IntraCommunity) {
        if buyer_vat.is_none() {
            c.error(
                "missing_buyer_data",
                bpath("vat_id"),
                "an intra-community supply (K) needs the buyer's VAT id (BR-IC-02)",
            );
        }
        if invoice.billing_period.is_none() {
            c.error(
                "missing_billing_period",
                "billing_period",
                "an intra-community supply (K) needs the billing period or a delivery date (BR-IC-11)",
            );
        }
    }

    // Lines and amounts. The totals are only needed when an amount may not fit 2 decimals,
    // a price may need restating (currencies without 2 decimals), or for the due-date rule.
    let dp = decimals(invoice, 2);
    let totals = if invoice.currency.exponent() != 2 || invoice.due_date.is_none() { c.totals() } else { None };
    let mut items = 0usize;
    for (i, line) in invoice.lines.iter().enumerate() {
        if line.kind != LineKind::Discount {
            items += 1;
            if line.unit_price.is_sign_negative() && !line.unit_price.is_zero() {
                c.error(
                    "negative_price",
                    format!("lines[{i}].unit_price"),
                    "e-invoices take no negative prices (BR-27); use a discount line",
                );
            }
        }
        let (name, _) = item_name(&line.description);
        if name.trim().is_empty() {
            c.error(
                "empty_description",
                format!("lines[{i}].description"),
                "the line has no text for the item name (BT-153)",
            );
        }
        c.text(|| format!("lines[{i}].description"), &line.description, None, free);
        if let Some(item) = &line.item {
            c.text(|| format!("lines[{i}].item"), item, None, free);
        }
    }
    if items == 0 {
        c.error("no_invoice_lines", "lines", "an e-invoice needs at least one line that is not a discount (BG-25)");
    }
    if let Some(t) = &totals {
        for (i, (line, net)) in invoice.lines.iter().zip(&t.line_nets).enumerate() {
            check_fits(&mut c, || format!("lines[{i}].amount"), *net, dp, "the line amount");
            if line.kind != LineKind::Discount {
                if let Some(price) = line_price(line, *net) {
                    c.warning(
                        "price_adjusted",
                        format!("lines[{i}].unit_price"),
                        format!(
                            "{} x {} is more than 0.02 away from the rounded amount {net} (Peppol rule R120); \
                             the net price is stated as {price}",
                            line.quantity, line.unit_price
                        ),
                    );
                }
            }
        }
        for g in &t.tax_groups {
            let path = || format!("tax[{}:{}].amount", g.category.code(), g.rate.normalize());
            check_fits(&mut c, path, g.tax, dp, "the tax amount");
        }
        if !t.gross.is_sign_negative() && !t.gross.is_zero() && invoice.due_date.is_none() {
            c.error("missing_due_date", "due_date", "an amount is due, so the due date is needed (BR-CO-25)");
        }
    }
    c.text(|| "memo".into(), &invoice.memo, None, free);
    if let Some(p) = preceding(&invoice.kind) {
        c.text(|| "kind".into(), p, None, free);
    }

    // Peppol's rules for a German seller and a German buyer (DE-R-001 .. DE-R-016).
    if peppol && seller_country == "DE" && buyer.is_some_and(|b| b.address.country_code == "DE") {
        let de = |rule: &str, what: &str| format!("between German parties Peppol needs {what} ({rule})");
        if seller.iban.as_deref().is_none_or(str::is_empty) {
            c.error(
                "missing_seller_data",
                "config.seller.iban",
                de("DE-R-001", "payment instructions: the seller's IBAN"),
            );
        }
        let contact = &config.seller_contact;
        if contact.name.as_deref().is_none_or(str::is_empty) {
            c.error("missing_seller_data", "config.seller_contact.name", de("DE-R-005", "a seller contact point"));
        }
        if contact.telephone.as_deref().is_none_or(str::is_empty) {
            c.error("missing_seller_data", "config.seller_contact.telephone", de("DE-R-006", "the seller's telephone"));
        }
        if seller.email.as_deref().is_none_or(str::is_empty) {
            c.error("missing_seller_data", "config.seller.email", de("DE-R-007", "the seller's e-mail address"));
        }
        if seller.address.city.is_empty() {
            c.error("missing_seller_data", "config.seller.address.city", de("DE-R-003", "the seller's city"));
        }
        if seller.address.postal_code.is_empty() {
            c.error(
                "missing_seller_data",
                "config.seller.address.postal_code",
                de("DE-R-004", "the seller's post code"),
            );
        }
        if let Some(b) = buyer {
            if b.address.city.is_empty() {
                c.error("missing_buyer_data", bpath("address.city"), de("DE-R-008", "the buyer's city"));
            }
            if b.address.postal_code.is_empty() {
                c.error("missing_buyer_data", bpath("address.postal_code"), de("DE-R-009", "the buyer's post code"));
            }
        }
    }
    c.problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Address, Seller};
    use crate::{export, export_documents, DocumentSink, Layout, Severity};
    use chrono::NaiveDate;
    use invoice_core::{Currency, Customer, Outcome, Period};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    fn invoice(lines: Vec<Line>) -> Invoice {
        let mut customer = Customer::new("C1", "Buyer AG");
        customer.address_lines = vec!["Nebenweg 2".into(), "20095 Hamburg".into()];
        Invoice::builder(customer, Currency::EUR)
            .number("INV-1")
            .issue_date(day(1))
            .due_date(day(30))
            .billing_period(Period::new(day(1), day(30)))
            .lines(lines)
            .build()
    }

    fn address(country: &str) -> Address {
        Address {
            street: "Hauptstrasse 1".into(),
            additional: None,
            city: "Wien".into(),
            postal_code: "1010".into(),
            country_code: country.into(),
        }
    }

    fn config() -> Config {
        let mut config = Config {
            seller: Seller {
                name: "Seller GmbH".into(),
                vat_id: Some("DE123456789".into()),
                address: address("DE"),
                endpoint_id: Some("DE123456789".into()),
                endpoint_scheme: Some("9930".into()),
                iban: Some("DE89370400440532013000".into()),
                ..Seller::default()
            },
            tax_account: "2200".into(),
            ..Config::default()
        };
        config.items.fallback = Some("Services".into());
        config.accounts.fallback = Some("4000".into());
        config.buyers.insert(
            "C1".into(),
            Buyer {
                address: address("AT"),
                vat_id: Some("ATU12345678".into()),
                endpoint_id: Some("4000000000012".into()),
                endpoint_scheme: Some("0088".into()),
                reference: Some("PO-1".into()),
            },
        );
        config
    }

    fn codes(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(|p| format!("{}@{}", p.code, p.path)).collect()
    }

    fn format(name: &str) -> &'static dyn Format {
        formats().into_iter().find(|f| f.name() == name).unwrap_or_else(|| panic!("{name}"))
    }

    fn payment_terms(issue: NaiveDate, due: NaiveDate) -> String {
        let mut s = String::new();
        push_payment_terms(&mut s, issue, due);
        s
    }

    #[test]
    fn tax_codes_are_found_by_key() {
        let mut config = Config::default();
        config.tax_codes.map.insert("S:0.19".into(), "V19".into());
        config.tax_codes.map.insert("AE:0".into(), "RC".into());
        let line = |rate, cat: Option<TaxCategory>| {
            let l = Line::new("x", dec!(1), dec!(1)).tax_rate(rate);
            match cat {
                Some(c) => l.tax_category(c),
                None => l,
            }
        };
        assert_eq!(tax_code(&config, &line(dec!(0.190), None), "T", "N"), "V19");
        assert_eq!(tax_code(&config, &line(dec!(0), Some(TaxCategory::ReverseCharge)), "T", "N"), "RC");
        assert_eq!(tax_code(&config, &line(dec!(0.07), None), "T", "N"), "T");
        assert_eq!(tax_code(&config, &line(dec!(0), None), "T", "N"), "N");
        assert_eq!(Config::tax_key(&line(dec!(0.190), None)), "S:0.19");
    }

    #[test]
    fn payment_terms_text() {
        assert_eq!(payment_terms(day(1), day(1)), "Due on receipt");
        assert_eq!(payment_terms(day(1), day(2)), "Net 1 day");
        assert_eq!(payment_terms(day(1), day(15)), "Net 14 days");
    }

    #[test]
    fn item_names_take_the_first_line() {
        assert_eq!(item_name("One line"), ("One line", None));
        assert_eq!(item_name("Head\nbody"), ("Head", Some("Head\nbody")));
        assert_eq!(item_name("\nbody"), ("\nbody", None));
    }

    #[test]
    fn peppol_preflight_lists_every_missing_piece_at_once() {
        let mut inv = invoice(vec![
            Line::new("Licence", dec!(1), dec!(100)).tax_category(TaxCategory::ReverseCharge),
            Line::new("Pump", dec!(1), dec!(50)).tax_category(TaxCategory::IntraCommunity),
        ]);
        inv.billing_period = None;
        inv.due_date = None;
        let problems = format("ubl").check(&inv, &Config::default());
        assert!(problems.iter().all(|p| p.invoice == "INV-1" && p.severity == Severity::Error));
        assert_eq!(
            codes(&problems),
            [
                "missing_seller_data@config.seller.name",
                "missing_seller_data@config.seller.address.country_code",
                "missing_seller_data@config.seller.endpoint_id",
                "missing_buyer_data@config.buyers[C1]",
                "missing_seller_data@config.seller.vat_id",
                "missing_buyer_data@config.buyers[C1].vat_id",
                "missing_buyer_data@config.buyers[C1].vat_id",
                "missing_billing_period@billing_period",
                "missing_due_date@due_date",
            ]
        );
        // CII does not need the Peppol pieces (electronic addresses).
        let cii = codes(&format("cii").check(&inv, &Config::default()));
        assert!(!cii.iter().any(|c| c.contains("endpoint")), "{cii:?}");
        // With the configuration complete, nothing is left.
        inv.billing_period = Some(Period::new(day(1), day(30)));
        inv.due_date = Some(day(30));
        assert_eq!(codes(&format("ubl").check(&inv, &config())), Vec::<String>::new());
    }

    #[test]
    fn german_parties_need_peppols_german_data() {
        let inv = invoice(vec![Line::new("Beratung", dec!(1), dec!(100)).tax_rate(dec!(0.19))]);
        let mut config = config();
        if let Some(b) = config.buyers.get_mut("C1") {
            b.address = address("DE");
            b.address.postal_code.clear();
        }
        let found = codes(&format("ubl").check(&inv, &config));
        assert_eq!(
            found,
            [
                "missing_seller_data@config.seller_contact.name",
                "missing_seller_data@config.seller_contact.telephone",
                "missing_seller_data@config.seller.email",
                "missing_buyer_data@config.buyers[C1].address.postal_code",
            ]
        );
    }

    #[test]
    fn outside_scope_cannot_mix_and_needs_a_registration_id() {
        let inv = invoice(vec![
            Line::new("Damages", dec!(1), dec!(100)).tax_category(TaxCategory::OutsideScope),
            Line::new("Beratung", dec!(1), dec!(100)).tax_rate(dec!(0.19)),
        ]);
        let found = codes(&format("cii").check(&inv, &config()));
        assert_eq!(
            found,
            ["mixed_tax_categories@lines[0].tax_category", "missing_seller_data@config.seller.registration_id"]
        );
    }

    #[test]
    fn three_decimal_amounts_are_refused_where_they_cannot_be_written() {
        let mut inv = invoice(vec![Line::new("Support", dec!(1), dec!(1.234)), Line::new("Fee", dec!(1), dec!(2.5))]);
        inv.currency = Currency::KWD;
        for name in ["ubl", "cii", "qbxml"] {
            let found = codes(&format(name).check(&inv, &config()));
            assert!(found.contains(&"unsupported_precision@lines[0].amount".to_string()), "{name}: {found:?}");
            assert!(!found.iter().any(|c| c.contains("lines[1]")), "{name}: {found:?}");
        }
        assert!(codes(&format("intacct").check(&inv, &config())).is_empty());
    }

    #[test]
    fn qbxml_limits_and_latin1() {
        let mut inv = invoice(vec![Line::new("Übersetzung DE→EN – 日本", dec!(1), dec!(10))]);
        inv.number = Some("INV-2026-000123".into());
        inv.customer.name = "Łódź Trading".into();
        let problems = format("qbxml").check(&inv, &config());
        assert_eq!(
            codes(&problems),
            ["too_long@number", "transliterated@customer", "transliterated@lines[0].description"]
        );
        assert!(problems[0].message.contains("15 characters") && problems[0].message.contains("at most 11"));
        assert!(problems[2].message.contains("'Übersetzung DE->EN - ??'"), "{}", problems[2].message);
        inv.customer.name = "日本".into();
        let problems = format("qbxml").check(&inv, &config());
        assert!(codes(&problems).contains(&"unsupported_character@customer".to_string()));
    }

    #[test]
    fn credit_notes_take_each_targets_form() {
        let mut inv = invoice(vec![Line::new("Beratung", dec!(2), dec!(50)).tax_rate(dec!(0.19))]);
        inv.kind = Kind::CreditNote { credits: Some("INV-0".into()) };
        inv.number = Some("CN-1".into());
        let config = config();
        let text = |name: &str| {
            let mut out = Vec::new();
            format(name).write_invoice(&inv, &config, &mut out).unwrap_or_else(|p| panic!("{name}: {p}"));
            String::from_utf8(out).unwrap_or_default()
        };
        let ubl = text("ubl");
        assert!(ubl.contains("<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\""));
        assert!(ubl.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
        assert!(ubl.contains("<cac:InvoiceDocumentReference>\n      <cbc:ID>INV-0</cbc:ID>"));
        assert!(ubl.contains("<cbc:CreditedQuantity unitCode=\"C62\">2</cbc:CreditedQuantity>"));
        assert!(ubl.contains("<cbc:PayableAmount currencyID=\"EUR\">119.00</cbc:PayableAmount>"));
        let cii = text("cii");
        assert!(cii.contains("<ram:TypeCode>381</ram:TypeCode>"));
        assert!(cii.contains("<ram:IssuerAssignedID>INV-0</ram:IssuerAssignedID>"));
        assert!(cii.contains("<ram:DuePayableAmount>119.00</ram:DuePayableAmount>"));
        assert!(text("qbxml").contains("<CreditMemoAddRq requestID=\"CN-1\">"));
        assert!(text("qbo-json").contains("\"PrivateNote\": \"Credit for invoice INV-0\""));
        let intacct = text("intacct");
        assert!(intacct.contains("<create_aradjustment>") && intacct.contains("<amount>-100.00</amount>"));
    }

    struct Docs(Vec<Vec<u8>>);

    impl DocumentSink for Docs {
        fn document(&mut self, _invoice: &Invoice, bytes: &[u8]) -> std::io::Result<()> {
            self.0.push(bytes.to_vec());
            Ok(())
        }
    }

    /// Every element's text, unescaped, in document order.
    fn texts(xml: &[u8]) -> Result<Vec<String>, String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        let mut depth = 0i32;
        let mut buf = Vec::new();
        loop {
            let event = reader.read_event_into(&mut buf).map_err(|e| e.to_string())?;
            match event {
                Event::Text(t) => {
                    let raw = t.decode().map_err(|e| e.to_string())?;
                    let text = quick_xml::escape::unescape(&raw).map_err(|e| e.to_string())?;
                    current.get_or_insert_with(String::new).push_str(&text);
                }
                Event::GeneralRef(r) => {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    let c = match name.as_ref() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        other => return Err(format!("unknown entity &{other};")),
                    };
                    current.get_or_insert_with(String::new).push_str(c);
                }
                other => {
                    out.extend(current.take());
                    match other {
                        Event::Start(_) => depth += 1,
                        Event::End(_) => depth -= 1,
                        Event::Eof => break,
                        _ => {}
                    }
                }
            }
            buf.clear();
        }
        if depth != 0 {
            return Err("unbalanced".into());
        }
        Ok(out)
    }

    fn nasty() -> impl Strategy<Value = String> {
        let special = prop_oneof![
            Just('<'),
            Just('>'),
            Just('&'),
            Just('"'),
            Just('\''),
            Just('\u{0}'),
            Just('\u{1b}'),
            Just('\t'),
            Just('\n'),
            Just('\r'),
            Just('\u{FFFE}'),
            Just('\u{FFFF}'),
            Just('ł'),
            Just('日'),
            Just('€'),
            any::<char>(),
        ];
        proptest::collection::vec(special, 1..24).prop_map(|v| v.into_iter().collect::<String>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the text, every XML target writes well-formed XML with only characters XML
        /// allows (qbXML: only Latin-1), and the JSON target valid JSON.
        #[test]
        fn output_is_well_formed_whatever_the_text(name in nasty(), memo in nasty(), desc in nasty(), item in nasty()) {
            let mut inv = invoice(vec![Line::new(format!("x{desc}"), dec!(1), dec!(10)).tax_rate(dec!(0.19)).item(item)]);
            inv.customer.name = format!("y{name}");
            inv.memo = memo;
            let config = config();
            for f in formats() {
                let mut bytes = Vec::new();
                let report = match f.layout() {
                    Layout::OneFile => export(f, &config, [&inv], &mut bytes),
                    Layout::OnePerInvoice => {
                        let mut docs = Docs(Vec::new());
                        let r = export_documents(f, &config, [&inv], &mut docs);
                        bytes = docs.0.concat();
                        r
                    }
                };
                let report = report.map_err(|e| TestCaseError::fail(e.to_string()))?;
                if report.results[0].outcome != Outcome::Exported {
                    // Only a name QuickBooks Desktop cannot hold may stop it.
                    prop_assert_eq!(f.name(), "qbxml", "{:?}", report.results[0].outcome);
                    continue;
                }
                let text = String::from_utf8(bytes.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(text.chars().all(crate::xmlutil::is_xml_char), "{}: {}", f.name(), text);
                if f.name() == "qbo-json" {
                    prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok(), "{}", text);
                    continue;
                }
                let found = texts(&bytes).map_err(|e| TestCaseError::fail(format!("{}: {e}\n{text}", f.name())))?;
                if f.name() == "qbxml" {
                    prop_assert!(text.chars().all(|c| u32::from(c) <= 0xFF), "{}", text);
                } else {
                    let clean = crate::xmlutil::xml_clean(&inv.memo).into_owned();
                    if !clean.is_empty() {
                        prop_assert!(found.contains(&clean), "{}: memo {:?} not found in {:?}", f.name(), clean, found);
                    }
                }
            }
        }
    }
}
