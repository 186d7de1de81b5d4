//! `qbo-csv`: the QuickBooks Online "Import invoices" CSV (Settings ▸ Import data ▸ Invoices).
//!
//! One row per exported line; rows with the same `InvoiceNo` form one invoice. The header
//! uses the names of Intuit's sample file, so the import wizard maps the columns by itself:
//! `InvoiceNo, Customer, InvoiceDate, DueDate, Terms, Location, Memo, Item(Product/Service),
//! ItemDescription, ItemQuantity, ItemRate, ItemAmount, ItemTaxCode, ItemTaxAmount, Currency,
//! Service Date`. RFC 4180, UTF-8, `\n` line endings.
//!
//! - `Customer` is the mapped customer, else the invoice's customer name (QuickBooks Online
//!   matches it exactly and creates no customers).
//! - Dates in the configured layout; the default is `MM/DD/YYYY` (choose the same in the
//!   wizard).
//! - `Item(Product/Service)` is [`Config::item_for`](crate::Config::item_for); `ItemAmount`
//!   the line net, `ItemTaxAmount` the line's share of its rate's tax, `ItemTaxCode` the
//!   mapped tax code of the line's rate (required: `TAX`/`NON` for US companies, the GST/VAT
//!   code elsewhere).
//! - `Location` is the configured location, else the invoice's; `Terms` stays empty.
//!
//! The import takes no credit notes, no negative amounts and no discounts: pre-flight refuses
//! credit notes and lines with a negative amount (with the basic summary a discount merges
//! into its account's line). Use `qbo-json` for those. Limits: invoice number 21 characters,
//! customer and item names 100, memo 1,000, description 4,000. Intuit also limits one file
//! to 100 invoices and 1,000 rows and blocks the import for US companies on automated sales
//! tax: split large batches.

use crate::csvutil::{
    check_issue_date, check_tax_codes, refuse_credit_notes, At, Cells, Charset, Checker, DateStyle, Field, Prepared,
    Rules,
};

/// QuickBooks Online invoice import CSV.
pub(crate) struct QboCsv;

const RULES: Rules = Rules {
    target: "QuickBooks Online (invoice import)",
    charset: Charset::Utf8,
    delimiter: b',',
    crlf: false,
    single_line: false,
    no_semicolon: false,
    line_taxes: true,
};

/// The header row.
pub(crate) const HEADER: [&str; 16] = [
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "ItemTaxAmount",
    "Currency",
    "Service Date",
];

fn own_checks(p: &Prepared<'_>, c: &mut Checker<'_>) {
    let target = RULES.target;
    refuse_credit_notes(p, c, target, "export them with qbo-json (a CreditMemo)");
    check_issue_date(p, c, target);
    if p.invoice.due_date.is_none() {
        c.error(At::Invoice("due_date"), "missing_value", format!("{target} needs a due date"));
    }
    for l in &p.lines {
        // pre-flight prepares no nets of detailed lines
        let net = match p.invoice.lines.get(l.first) {
            Some(line) if !l.summary => line.net(p.invoice.currency, p.invoice.rounding).unwrap_or(l.net),
            _ => l.net,
        };
        if net.is_sign_negative() && !net.is_zero() {
            c.error(
                At::Line(l.first, "unit_price"),
                "negative_amount",
                format!("the line amount is {net}; {target} takes no negative amounts or discounts (use qbo-json)"),
            );
        }
    }
    check_tax_codes(p, c, target, "a tax code on every line", false);
}

fn rows<C: Cells>(p: &Prepared<'_>, c: &mut C) {
    let inv = p.invoice;
    let config = p.config;
    let dates = DateStyle::chosen(config.date_format, DateStyle::Us);
    let number = p.number();
    for l in &p.lines {
        c.same_every_row(0, |c| {
            c.text(At::Invoice("number"), &number, Field::Name(21));
            c.text(At::Invoice("customer.name"), p.customer_name(), Field::Name(100));
            c.date(inv.issue_date, dates);
            c.date(inv.due_date, dates);
            c.code("");
            c.opt_text(At::Invoice("location"), p.location(), Field::Name(100));
            c.text(At::Invoice("memo"), &inv.memo, Field::Text(1000));
        });
        c.opt_text(At::Line(l.first, "item"), l.item, Field::Name(100));
        c.text(At::Line(l.first, "description"), &l.description, Field::Text(4000));
        c.number(l.quantity);
        c.number(l.unit_price);
        c.amount(l.net, p.dp);
        c.text(At::Line(l.first, "tax_rate"), p.line_tax_code(l), Field::Name(100));
        c.amount(p.line_tax(l), p.dp);
        c.code(inv.currency.code());
        c.date(l.service_date, dates);
        c.end_row();
    }
}

crate::csvutil::csv_format!(QboCsv, "qbo-csv", "csv", RULES, [HEADER], own_checks, rows);
