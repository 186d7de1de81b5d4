//! `qbxml`: QuickBooks Desktop qbXML 12.0, one request file per batch.
//!
//! Every invoice is an `InvoiceAddRq`, every credit note a `CreditMemoAddRq` (positive
//! amounts; the request type carries the direction), all in one `QBXML/QBXMLMsgsRq` with
//! `onError="continueOnError"` so that one refused invoice does not stop the others. Each
//! request's `requestID` is the invoice number, to match QuickBooks' responses.
//!
//! - Customers are referred to by full name: [`Config::customers`] maps the customer id to it,
//!   else the mapping's fallback, else the customer's own name. Items come from
//!   [`Config::item_for`] (deferred-revenue lines: "Down Payment"); a line without an item is
//!   an error. [`Config::class`] and [`Config::ar_account`] become `ClassRef` and
//!   `ARAccountRef`.
//! - Each line carries `Quantity`, `Rate` and `Amount` (the engine's rounded net), or only the
//!   `Amount` when quantity or price has more decimals than QuickBooks takes (5; a warning);
//!   discount lines carry only their (negative) amount. QuickBooks computes the sales tax
//!   itself from each line's `SalesTaxCodeRef`: the mapped code of the line's tax key, else
//!   `Tax` for a taxed and `Non` for an untaxed line.
//! - Text is Latin-1 only: other characters are transliterated (`Ł` to `L`, `–` to `-`) or, when
//!   there is no Latin-1 spelling, replaced by `?`; pre-flight reports each change as a warning,
//!   and as an error in names that must match QuickBooks' lists. `RefNumber` takes at most 11
//!   characters (a longer invoice number is an error); other limits: customer 209, item,
//!   class and account 159, memo and descriptions 4095, address lines 41 (five at most),
//!   tax codes 3.
//! - Amounts have at most 2 decimals (JPY: none); an amount of a 3-decimal currency that
//!   needs its third decimal is an error.

use std::io::{self, Write};

use invoice_core::{Invoice, LineKind};
use rust_decimal::Decimal;

use crate::config::Config;
use crate::targets_xml::{check_fits, customer_name, decimals, tax_code, write_failed, Charset, Checker, TextRole};
use crate::xmlutil::{tag, Tag, XmlOut};
use crate::{Format, Layout, Problem};

/// The qbXML target.
pub(crate) struct QbXml;

const TARGET: &str = "QuickBooks Desktop (qbXML)";
const REF_NUMBER_MAX: usize = 11;
const CUSTOMER_MAX: usize = 209;
const LIST_MAX: usize = 159;
const TEXT_MAX: usize = 4095;
const ADDRESS_MAX: usize = 41;
const TAX_CODE_MAX: usize = 3;
/// AMTTYPE: up to 13 integer digits.
const AMOUNT_LIMIT: Decimal = Decimal::from_parts(1_316_134_912, 2_328, 0, false, 0); // 10^13
/// PRICETYPE / QUANTYPE: up to 10 integer digits.
const PRICE_LIMIT: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 0); // 10^10

/// True when `d` fits PRICETYPE / QUANTYPE: at most 10 integer digits and 5 decimals.
fn fits_price(d: Decimal) -> bool {
    d.abs() < PRICE_LIMIT && crate::xmlutil::fits(d, 5)
}

impl Format for QbXml {
    fn name(&self) -> &'static str {
        "qbxml"
    }

    fn extension(&self) -> &'static str {
        "xml"
    }

    fn layout(&self) -> Layout {
        Layout::OneFile
    }

    fn check(&self, invoice: &Invoice, config: &Config) -> Vec<Problem> {
        let mut c = Checker::new(invoice, Charset::Latin1, TARGET);
        let name = TextRole::Name;
        let free = TextRole::Free;
        c.number(Some(REF_NUMBER_MAX));
        let customer = customer_name(config, invoice);
        if customer.trim().is_empty() {
            c.error("missing_mapping", "customer", "no QuickBooks customer name for the customer");
        }
        c.text(|| "customer".into(), customer, Some(CUSTOMER_MAX), name);
        if let Some(class) = config.class.as_deref() {
            c.text(|| "config.class".into(), class, Some(LIST_MAX), name);
        }
        c.text(|| "config.ar_account".into(), &config.ar_account, Some(LIST_MAX), name);
        let address = &invoice.customer.address_lines;
        if address.len() > 5 {
            c.error("too_long", "customer.address_lines", format!("{} address lines; {TARGET} takes 5", address.len()));
        }
        for (i, l) in address.iter().enumerate().take(5) {
            c.text(|| format!("customer.address_lines[{i}]"), l, Some(ADDRESS_MAX), free);
        }
        c.text(|| "memo".into(), &invoice.memo, Some(TEXT_MAX), free);
        let dp = decimals(invoice, 2);
        let exponent = invoice.currency.exponent();
        for (i, line) in invoice.lines.iter().enumerate() {
            match config.item_for(line) {
                Some(item) => c.text(|| format!("lines[{i}].item"), item, Some(LIST_MAX), name),
                None => c.error(
                    "missing_mapping",
                    format!("lines[{i}].item"),
                    "the line has no item and config.items has no fallback",
                ),
            }
            c.text(|| format!("lines[{i}].description"), &line.description, Some(TEXT_MAX), free);
            let code = tax_code(config, line, "Tax", "Non");
            c.text(|| format!("lines[{i}].tax_code"), &code, Some(TAX_CODE_MAX), name);
            if line.kind != LineKind::Discount && !(fits_price(line.quantity) && fits_price(line.unit_price)) {
                c.warning(
                    "amount_only",
                    format!("lines[{i}]"),
                    format!(
                        "quantity {} or rate {} has more than 5 decimals or 10 digits; only the amount is sent",
                        line.quantity, line.unit_price
                    ),
                );
            }
            match line.quantity.checked_mul(line.unit_price) {
                Some(raw) if raw.abs() < AMOUNT_LIMIT => {
                    if exponent > dp {
                        if let Ok(net) = line.net(invoice.currency, invoice.rounding) {
                            check_fits(&mut c, || format!("lines[{i}].amount"), net, dp, "the line amount");
                        }
                    }
                }
                _ => c.error(
                    "amount_too_large",
                    format!("lines[{i}].amount"),
                    format!("{} x {} has more than 13 digits", line.quantity, line.unit_price),
                ),
            }
        }
        c.problems
    }

    fn begin(&self, _config: &Config, out: &mut dyn Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(128);
        let mut x = XmlOut::new(&mut buf, 0, true);
        x.declaration()?;
        x.instruction("qbxml version=\"12.0\"")?;
        x.open(tag!("QBXML"))?;
        x.open_with(tag!("QBXMLMsgsRq"), &[("onError", "continueOnError")])?;
        out.write_all(&buf)
    }

    fn write_invoice(&self, invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> Result<(), Problem> {
        write(invoice, config, out).map_err(|e| write_failed(invoice, e))
    }

    fn end(&self, _config: &Config, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n  </QBXMLMsgsRq>\n</QBXML>\n")
    }
}

fn full_name(x: &mut XmlOut<'_>, element: Tag, name: &str) -> io::Result<()> {
    x.open(element)?;
    x.text(tag!("FullName"), name)?;
    x.close(element)
}

fn write(invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> io::Result<()> {
    let credit = invoice.kind.is_credit();
    let (rq, add, line_add) = if credit {
        (tag!("CreditMemoAddRq"), tag!("CreditMemoAdd"), tag!("CreditMemoLineAdd"))
    } else {
        (tag!("InvoiceAddRq"), tag!("InvoiceAdd"), tag!("InvoiceLineAdd"))
    };
    let dp = decimals(invoice, 2);
    let number = invoice.number.as_deref().unwrap_or_default();
    let mut x = XmlOut::new(out, 2, true);
    x.open_with(rq, &[("requestID", number)])?;
    x.open(add)?;
    full_name(&mut x, tag!("CustomerRef"), customer_name(config, invoice))?;
    if let Some(class) = config.class.as_deref().filter(|s| !s.is_empty()) {
        full_name(&mut x, tag!("ClassRef"), class)?;
    }
    if !config.ar_account.is_empty() {
        full_name(&mut x, tag!("ARAccountRef"), &config.ar_account)?;
    }
    if let Some(d) = invoice.issue_date {
        x.iso_date(tag!("TxnDate"), d)?;
    }
    x.text(tag!("RefNumber"), number)?;
    let address = &invoice.customer.address_lines;
    if !address.is_empty() {
        x.open(tag!("BillAddress"))?;
        for (t, l) in
            [tag!("Addr1"), tag!("Addr2"), tag!("Addr3"), tag!("Addr4"), tag!("Addr5")].into_iter().zip(address)
        {
            x.text(t, l)?;
        }
        x.close(tag!("BillAddress"))?;
    }
    if let Some(d) = invoice.due_date {
        x.iso_date(tag!("DueDate"), d)?;
    }
    x.opt_text(tag!("Memo"), Some(invoice.memo.as_str()))?;
    for line in &invoice.lines {
        // QuickBooks computes the tax itself: only the rounded line amounts are sent.
        let net = line.net(invoice.currency, invoice.rounding).map_err(|e| io::Error::other(e.to_string()))?;
        x.open(line_add)?;
        if let Some(item) = config.item_for(line) {
            full_name(&mut x, tag!("ItemRef"), item)?;
        }
        x.opt_text(tag!("Desc"), Some(line.description.as_str()))?;
        if line.kind != LineKind::Discount && fits_price(line.quantity) && fits_price(line.unit_price) {
            x.plain(tag!("Quantity"), line.quantity)?;
            x.plain(tag!("Rate"), line.unit_price)?;
        }
        x.amount(tag!("Amount"), net, dp)?;
        if let Some(d) = line.service_date {
            x.iso_date(tag!("ServiceDate"), d)?;
        }
        full_name(&mut x, tag!("SalesTaxCodeRef"), &tax_code(config, line, "Tax", "Non"))?;
        x.close(line_add)?;
    }
    x.close(add)?;
    x.close(rq)
}
