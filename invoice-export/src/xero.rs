//! `xero`: the Xero sales invoice import CSV (Business ▸ Invoices ▸ Import).
//!
//! One row per exported line; rows with the same `*InvoiceNumber` form one invoice. The
//! header is Xero's template, names and order exactly (`*` marks what Xero requires):
//! `*ContactName, EmailAddress, POAddressLine1..4, POCity, PORegion, POPostalCode, POCountry,
//! *InvoiceNumber, Reference, *InvoiceDate, *DueDate, InventoryItemCode, *Description,
//! *Quantity, *UnitAmount, Discount, *AccountCode, *TaxType, TrackingName1, TrackingOption1,
//! TrackingName2, TrackingOption2, Currency, BrandingTheme`. RFC 4180, UTF-8, `\n` line
//! endings.
//!
//! - `*ContactName` is the mapped customer, else the invoice's customer name (Xero creates a
//!   contact when none matches). The postal address comes from the customer's
//!   [`Buyer`](crate::Buyer) in [`Config::buyers`](crate::Config) when there is one (street,
//!   city, postal code, country code), else from the invoice's address lines (lines 1 to 4; more
//!   are joined into line 4).
//! - `Reference` is the buyer's reference, else the project.
//! - Dates in the configured layout; the default is `DD/MM/YYYY` (use the organisation's
//!   regional format).
//! - `*UnitAmount` is tax-exclusive (choose "exclusive" when importing); `*AccountCode` the
//!   mapped income account; `*TaxType` the mapped tax code of the line's rate, which must be
//!   the tax rate's display name in Xero (e.g. `20% (VAT on Income)`): required.
//!   `InventoryItemCode` is [`Config::item_for`](crate::Config::item_for). Tracking,
//!   `Discount` and `BrandingTheme` stay empty; discounts are lines with a negative amount.
//! - Xero computes the tax itself, per line. When its result differs from the engine's
//!   (per-rate rounding) pre-flight warns with both amounts.
//! - The import takes no credit notes (refused: use Xero's credit note import) and at most 4
//!   decimals in quantities and unit amounts; currencies with 3 decimals are refused.

use invoice_core::Rounding;
use rust_decimal::Decimal;

use crate::csvutil::{
    check_accounts, check_currency_decimals, check_issue_date, check_tax_codes, concat, decimal_text,
    refuse_credit_notes, At, Cells, Charset, Checker, DateStyle, Field, Mode, Prepared, Rules,
};

/// Xero sales invoice CSV.
pub(crate) struct Xero;

const RULES: Rules = Rules {
    target: "Xero",
    charset: Charset::Utf8,
    delimiter: b',',
    crlf: false,
    single_line: false,
    no_semicolon: false,
    line_taxes: false,
};

/// The header row (Xero's template).
pub(crate) const HEADER: [&str; 27] = [
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
];

/// Decimals Xero keeps in quantities and unit amounts.
const MAX_DECIMALS: u32 = 4;

/// What Xero computes for the invoice: (net, tax), each line rounded half away from zero.
pub(crate) fn xero_amounts(p: &Prepared<'_>) -> Option<(Decimal, Decimal)> {
    let (mut net, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    // prepared for writing with Xero's rounding, a detailed line's net is already its amount
    // (quantity x unit price, rounded to the currency half away from zero)
    let nets_are_amounts = p.mode == Mode::Write && p.invoice.rounding.mode == Rounding::HalfAwayFromZero;
    for l in &p.lines {
        let amount = if nets_are_amounts && !l.summary {
            l.net
        } else {
            Rounding::HalfAwayFromZero.round_product(l.quantity, l.unit_price, p.dp)?
        };
        net = net.checked_add(amount)?;
        tax = tax.checked_add(Rounding::HalfAwayFromZero.round_product(amount, l.rate, p.dp)?)?;
    }
    Some((net, tax))
}

fn own_checks(p: &Prepared<'_>, c: &mut Checker<'_>) {
    let target = RULES.target;
    refuse_credit_notes(p, c, target, "use Xero's credit note import");
    check_issue_date(p, c, target);
    if p.invoice.due_date.is_none() {
        c.error(At::Invoice("due_date"), "missing_value", format!("{target} needs a due date"));
    }
    check_currency_decimals(p, c, target, 2);
    check_accounts(p, c, target, false);
    check_tax_codes(p, c, target, "the tax rate's display name (TaxType) on every line", false);
    for l in p.lines.iter().filter(|l| !l.summary) {
        for (field, value) in [("quantity", l.quantity), ("unit_price", l.unit_price)] {
            // at most 4 decimals as spelled: no need to normalise
            if value.scale() > MAX_DECIMALS && value.normalize().scale() > MAX_DECIMALS {
                c.error(
                    At::Line(l.first, field),
                    "too_many_decimals",
                    format!("{value} has more than {MAX_DECIMALS} decimals; {target} keeps {MAX_DECIMALS}"),
                );
            }
        }
    }
    // prepared for writing, the invoice's totals are known
    let totals = match p.mode {
        Mode::Write => Ok((p.net, p.tax)),
        Mode::Check => p.invoice.totals().map(|t| (t.net, t.tax)),
    };
    if let (Some((net, tax)), Ok((total_net, total_tax))) = (xero_amounts(p), totals) {
        if net != total_net {
            c.warning(
                At::Invoice("lines"),
                "amount_differs",
                concat(&[
                    target,
                    " rounds line amounts half away from zero: net ",
                    &decimal_text(net),
                    " instead of ",
                    &decimal_text(total_net),
                ]),
            );
        }
        if tax != total_tax {
            c.warning(
                At::Invoice("lines"),
                "tax_rounding_differs",
                concat(&[
                    target,
                    " computes tax per line: ",
                    &decimal_text(tax),
                    " instead of ",
                    &decimal_text(total_tax),
                    " (the engine rounds tax per rate), so the invoice total in ",
                    target,
                    " differs by ",
                    &decimal_text(tax - total_tax),
                    "; issue invoices for ",
                    target,
                    " with per-line tax rounding to have both agree",
                ]),
            );
        }
    }
}

fn rows<C: Cells>(p: &Prepared<'_>, c: &mut C) {
    let inv = p.invoice;
    let config = p.config;
    let dates = DateStyle::chosen(config.date_format, DateStyle::Uk);
    let number = p.number();
    let buyer = config.buyers.get(&inv.customer.id);
    let reference = buyer.and_then(|b| b.reference.as_deref()).or(inv.project.as_deref());
    let address_lines = &inv.customer.address_lines;
    let joined;
    let fourth: Option<&str> = if address_lines.len() > 4 {
        joined = address_lines[3..].join(", ");
        Some(&joined)
    } else {
        address_lines.get(3).map(String::as_str)
    };
    let text = Field::Text(500);
    for l in &p.lines {
        c.same_every_row(0, |c| {
            c.text(At::Invoice("customer.name"), p.customer_name(), Field::Name(255));
            c.opt_text(At::Invoice("customer.email"), inv.customer.email.as_deref(), Field::Name(255));
            match buyer {
                Some(b) => {
                    let a = &b.address;
                    c.text(At::Config("buyers.address.street"), &a.street, text);
                    c.opt_text(At::Config("buyers.address.additional"), a.additional.as_deref(), text);
                    c.code("");
                    c.code("");
                    c.text(At::Config("buyers.address.city"), &a.city, Field::Text(255));
                    c.code("");
                    c.text(At::Config("buyers.address.postal_code"), &a.postal_code, Field::Text(50));
                    c.text(At::Config("buyers.address.country_code"), &a.country_code, Field::Text(50));
                }
                None => {
                    for k in 0..3 {
                        let line = address_lines.get(k).map(String::as_str);
                        c.opt_text(At::Invoice("customer.address_lines"), line, text);
                    }
                    c.opt_text(At::Invoice("customer.address_lines"), fourth, text);
                    for _ in 0..4 {
                        c.code("");
                    }
                }
            }
            c.text(At::Invoice("number"), &number, Field::Name(255));
            c.opt_text(At::Invoice("project"), reference, Field::Text(255));
            c.date(inv.issue_date, dates);
            c.date(inv.due_date, dates);
        });
        c.opt_text(At::Line(l.first, "item"), l.item, Field::Name(30));
        c.text(At::Line(l.first, "description"), &l.description, Field::Text(4000));
        c.number(l.quantity);
        c.number(l.unit_price);
        c.code("");
        c.opt_text(At::Line(l.first, "gl_account"), l.account, Field::Name(10));
        c.text(At::Line(l.first, "tax_rate"), p.line_tax_code(l), Field::Name(255));
        c.same_every_row(1, |c| {
            for _ in 0..4 {
                c.code("");
            }
            c.code(inv.currency.code());
            c.code("");
        });
        c.end_row();
    }
}

crate::csvutil::csv_format!(Xero, "xero", "csv", RULES, [HEADER], own_checks, rows);
