//! `qbo-json`: QuickBooks Online Accounting API v3 `Invoice` and `CreditMemo` bodies, one
//! JSON document per invoice (`POST /v3/company/{realmId}/invoice`, or `/creditmemo` for
//! credit notes), with positive amounts on both.
//!
//! Members come in the order of Intuit's XSD for the entity (`DocNumber`, `TxnDate`, ...,
//! `Line`, `TxnTaxDetail`, `CustomerRef`, ...), so the document converts one to one to the
//! entity's XML form. Amounts are JSON numbers written from their exact decimal text.
//!
//! - References are ids: [`Config::customers`] maps the customer to its QuickBooks Online id
//!   (unmapped: the customer's own id, a warning), [`Config::item_for`] gives the item id of
//!   each line (no item: an error), [`Config::tax_codes`] the `TaxCodeRef` (else `TAX` for a
//!   taxed and `NON` for an untaxed line), [`Config::class`] the `ClassRef` and
//!   [`Config::location`] the `DepartmentRef`.
//! - `Amount` is always exactly `Qty` x `UnitPrice` (QuickBooks Online rejects a line
//!   otherwise): when the engine's rounded net differs from quantity x price, the unit price is
//!   restated as net / quantity when that is exact to 5 decimals, else the line is sent as
//!   `Qty` 1 x the net; pre-flight warns either way.
//! - A discount line becomes the transaction's `DiscountLineDetail` line (a fixed amount, tax
//!   applied after the discount); QuickBooks Online takes one per transaction, so a second
//!   discount line is an error.
//! - The engine's tax total goes in `TxnTaxDetail.TotalTax`; `GlobalTaxCalculation` is
//!   `TaxExcluded`. A credit note names the credited invoice in `PrivateNote`, an adjustment
//!   the corrected one.
//! - Limits: `DocNumber` 21 characters, `CustomerMemo` 1000, `PrivateNote` and descriptions
//!   4000.

use invoice_core::{Invoice, Kind, Line, LineKind};
use rust_decimal::Decimal;

use crate::config::Config;
use crate::csvutil::{concat, decimal_text, Int};
use crate::targets_xml::{tax_code, write_failed, Charset, Checker, TextRole};
use crate::xmlutil::{fits, JsonOut};
use crate::{Format, Layout, Problem};

/// The QuickBooks Online JSON target.
pub(crate) struct QboJson;

const TARGET: &str = "QuickBooks Online";
const DOC_NUMBER_MAX: usize = 21;
const MEMO_MAX: usize = 1000;
const TEXT_MAX: usize = 4000;

/// How a line's `Qty` and `UnitPrice` are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pricing {
    /// As the invoice has them: quantity x price is the net.
    Exact,
    /// The unit price restated as net / quantity.
    Restated(Decimal),
    /// Quantity 1 at the net.
    Single,
}

fn pricing(line: &Line, net: Decimal) -> Pricing {
    if line.quantity.checked_mul(line.unit_price) == Some(net) {
        return Pricing::Exact;
    }
    restate(line, net)
}

/// The line's pricing and rounded net, computed from the line alone.
fn line_pricing(line: &Line, invoice: &Invoice) -> Option<(Pricing, Decimal)> {
    let raw = line.quantity.checked_mul(line.unit_price)?;
    if fits(raw, invoice.currency.exponent()) {
        return Some((Pricing::Exact, raw));
    }
    let net = line.net(invoice.currency, invoice.rounding).ok()?;
    Some((restate(line, net), net))
}

fn restate(line: &Line, net: Decimal) -> Pricing {
    if !line.quantity.is_zero() {
        if let Some(price) = net.checked_div(line.quantity) {
            let price = price.normalize();
            if fits(price, 5) && line.quantity.checked_mul(price) == Some(net) {
                return Pricing::Restated(price);
            }
        }
    }
    Pricing::Single
}

/// `PrivateNote`: what the document credits or corrects.
fn private_note(kind: &Kind) -> Option<String> {
    match kind {
        Kind::Invoice => None,
        Kind::CreditNote { credits } => credits.as_deref().map(|n| format!("Credit for invoice {n}")),
        Kind::Adjustment { corrects } => Some(format!("Corrects invoice {corrects}")),
    }
}

impl Format for QboJson {
    fn name(&self) -> &'static str {
        "qbo-json"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    fn layout(&self) -> Layout {
        Layout::OnePerInvoice
    }

    fn check(&self, invoice: &Invoice, config: &Config) -> Vec<Problem> {
        let mut c = Checker::new(invoice, Charset::Unicode, TARGET);
        let free = TextRole::Free;
        c.number(Some(DOC_NUMBER_MAX));
        let id = &invoice.customer.id;
        if !config.customers.covers(id) {
            c.warning(
                "missing_mapping",
                "customer.id",
                format!(
                    "customer {id} is not mapped in config.customers; its own id is sent as the QuickBooks Online id"
                ),
            );
        }
        c.text(|| "customer.name".into(), &invoice.customer.name, None, free);
        c.text(|| "memo".into(), &invoice.memo, Some(MEMO_MAX), free);
        if let Some(note) = private_note(&invoice.kind) {
            c.text(|| "kind".into(), &note, Some(TEXT_MAX), free);
        }
        let mut discounts = 0;
        for (i, line) in invoice.lines.iter().enumerate() {
            c.text(|| format!("lines[{i}].description"), &line.description, Some(TEXT_MAX), free);
            if line.kind == LineKind::Discount {
                discounts += 1;
                if discounts == 2 {
                    c.error(
                        "unsupported_line",
                        format!("lines[{i}]"),
                        "QuickBooks Online takes one discount line per transaction",
                    );
                }
                continue;
            }
            match (config.item_for(line), line.item.as_deref()) {
                (None, _) => c.error(
                    "missing_mapping",
                    format!("lines[{i}].item"),
                    "the line has no item and config.items has no fallback",
                ),
                (Some(_), Some(code)) if line.kind != LineKind::DeferredRevenue && !config.items.covers(code) => c
                    .warning(
                        "missing_mapping",
                        format!("lines[{i}].item"),
                        format!("item {code} is not mapped in config.items; it is sent as the QuickBooks Online id"),
                    ),
                _ => {}
            }
            if let Some((pricing, net)) = line_pricing(line, invoice) {
                match pricing {
                    Pricing::Exact => {}
                    // the messages of every line of many invoices: built without format!
                    Pricing::Restated(price) => {
                        let quantity = decimal_text(line.quantity);
                        c.warning(
                            "price_adjusted",
                            concat(&["lines[", Int::new(i).as_str(), "].unit_price"]),
                            concat(&[
                                &quantity,
                                " x ",
                                &decimal_text(line.unit_price),
                                " is not the rounded amount ",
                                &decimal_text(net),
                                "; sent as ",
                                &quantity,
                                " x ",
                                &decimal_text(price),
                                " so that Amount = Qty x UnitPrice",
                            ]),
                        )
                    }
                    Pricing::Single => {
                        let net = decimal_text(net);
                        c.warning(
                            "price_adjusted",
                            concat(&["lines[", Int::new(i).as_str(), "].unit_price"]),
                            concat(&[
                                &decimal_text(line.quantity),
                                " x ",
                                &decimal_text(line.unit_price),
                                " is not the rounded amount ",
                                &net,
                                "; sent as 1 x ",
                                &net,
                                " so that Amount = Qty x UnitPrice",
                            ]),
                        )
                    }
                }
            }
        }
        c.problems
    }

    fn write_invoice(&self, invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> Result<(), Problem> {
        let totals = invoice.totals().map_err(|e| write_failed(invoice, std::io::Error::other(e.to_string())))?;
        let dp = invoice.currency.exponent();
        let mut j = JsonOut::new(out);
        j.open_object(None);
        j.str("DocNumber", invoice.number.as_deref().unwrap_or_default());
        if let Some(d) = invoice.issue_date {
            j.date("TxnDate", d);
        }
        if let Some(location) = config.location.as_deref() {
            j.open_object(Some("DepartmentRef"));
            j.str("value", location);
            j.close_object();
        }
        j.open_object(Some("CurrencyRef"));
        j.str("value", invoice.currency.code());
        j.close_object();
        if let Some(note) = private_note(&invoice.kind) {
            j.str("PrivateNote", &note);
        }
        j.open_array("Line");
        let mut has_discount = false;
        for (i, (line, net)) in invoice.lines.iter().zip(&totals.line_nets).enumerate() {
            j.open_object(None);
            j.number("LineNum", i as u64 + 1);
            j.str("Description", &line.description);
            if line.kind == LineKind::Discount {
                has_discount = true;
                j.amount("Amount", -*net, dp);
                j.str("DetailType", "DiscountLineDetail");
                j.open_object(Some("DiscountLineDetail"));
                j.bool("PercentBased", false);
                if let Some(account) = line.gl_account.as_deref().filter(|a| config.accounts.covers(a)) {
                    j.open_object(Some("DiscountAccountRef"));
                    j.str("value", config.accounts.resolve(account));
                    j.close_object();
                }
                j.open_object(Some("TaxCodeRef"));
                j.str("value", &tax_code(config, line, "TAX", "NON"));
                j.close_object();
                j.close_object();
            } else {
                j.amount("Amount", *net, dp);
                j.str("DetailType", "SalesItemLineDetail");
                j.open_object(Some("SalesItemLineDetail"));
                if let Some(item) = config.item_for(line) {
                    j.open_object(Some("ItemRef"));
                    j.str("value", item);
                    j.close_object();
                }
                if let Some(class) = config.class.as_deref() {
                    j.open_object(Some("ClassRef"));
                    j.str("value", class);
                    j.close_object();
                }
                match pricing(line, *net) {
                    Pricing::Exact => {
                        j.plain("UnitPrice", line.unit_price);
                        j.plain("Qty", line.quantity);
                    }
                    Pricing::Restated(price) => {
                        j.plain("UnitPrice", price);
                        j.plain("Qty", line.quantity);
                    }
                    Pricing::Single => {
                        j.amount("UnitPrice", *net, dp);
                        j.plain("Qty", Decimal::ONE);
                    }
                }
                j.open_object(Some("TaxCodeRef"));
                j.str("value", &tax_code(config, line, "TAX", "NON"));
                j.close_object();
                if let Some(d) = line.service_date {
                    j.date("ServiceDate", d);
                }
                j.close_object();
            }
            j.close_object();
        }
        j.close_array();
        j.open_object(Some("TxnTaxDetail"));
        j.amount("TotalTax", totals.tax, dp);
        j.close_object();
        j.open_object(Some("CustomerRef"));
        j.str("value", config.customers.resolve(&invoice.customer.id));
        j.str("name", &invoice.customer.name);
        j.close_object();
        if !invoice.memo.is_empty() {
            j.open_object(Some("CustomerMemo"));
            j.str("value", &invoice.memo);
            j.close_object();
        }
        if let Some(d) = invoice.due_date {
            j.date("DueDate", d);
        }
        j.str("GlobalTaxCalculation", "TaxExcluded");
        if has_discount {
            j.bool("ApplyTaxAfterDiscount", true);
        }
        if let Some(email) = invoice.customer.email.as_deref().filter(|e| !e.is_empty()) {
            j.open_object(Some("BillEmail"));
            j.str("Address", email);
            j.close_object();
        }
        j.close_object();
        j.finish();
        Ok(())
    }
}
