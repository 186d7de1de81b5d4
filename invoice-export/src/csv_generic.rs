//! `csv`: the generic CSV, one row per exported line.
//!
//! RFC 4180 (comma, `"` quoting where needed, quotes doubled), UTF-8 without a byte-order
//! mark, `\n` line endings, and a header row naming the columns:
//!
//! | column | value |
//! | --- | --- |
//! | `invoice_number` | the invoice number |
//! | `kind` | `invoice`, `credit_note` or `adjustment` |
//! | `reference` | the invoice a credit note credits or an adjustment corrects |
//! | `issue_date`, `due_date` | dates in the configured layout (default ISO `2026-11-30`) |
//! | `customer_id` | the customer's id |
//! | `customer_name` | the mapped customer name, else the invoice's customer name |
//! | `currency` | ISO 4217 code |
//! | `project`, `location` | the project; the configured location, else the invoice's |
//! | `period_start`, `period_end` | the billing period |
//! | `line` | 1, 2, ... within the invoice |
//! | `item` | the target item ([`Config::item_for`](crate::Config::item_for): mapping, "Down Payment", fallback, the line's item) |
//! | `description` | the line text (a basic summary line says which account and rate it sums) |
//! | `quantity`, `unit_price` | as on the line (summary lines: 1 and the net) |
//! | `net` | quantity x unit price rounded to the currency |
//! | `tax_category` | UNCL5305 code (`S`, `Z`, `E`, `AE`, `K`, `G`, `O`) |
//! | `tax_rate` | fraction (`0.19` is 19 %) |
//! | `tax` | the line's share of its tax group's tax (the line taxes of a group add up to the group's tax) |
//! | `gl_account` | the mapped income account, else the line's GL account |
//! | `service_date` | the line's service date |
//! | `invoice_net`, `invoice_tax`, `invoice_gross` | the invoice's totals, repeated on every row |
//! | `memo` | the invoice's memo |
//!
//! Amounts have the currency's decimals (JPY `253`, KWD `0.500`). Credit notes carry positive
//! amounts, as in the engine: `kind` says the money goes back. No mapping is required. Text
//! cells that start with `=`, `+`, `-`, `@`, tab or CR get a leading apostrophe.

use crate::csvutil::{At, Cells, Charset, DateStyle, Field, Prepared, Rules, NO_LIMIT};

/// The generic CSV.
pub(crate) struct GenericCsv;

const RULES: Rules = Rules {
    target: "generic CSV",
    charset: Charset::Utf8,
    delimiter: b',',
    crlf: false,
    single_line: false,
    no_semicolon: false,
    line_taxes: true,
};

/// The header row.
pub(crate) const HEADER: [&str; 27] = [
    "invoice_number",
    "kind",
    "reference",
    "issue_date",
    "due_date",
    "customer_id",
    "customer_name",
    "currency",
    "project",
    "location",
    "period_start",
    "period_end",
    "line",
    "item",
    "description",
    "quantity",
    "unit_price",
    "net",
    "tax_category",
    "tax_rate",
    "tax",
    "gl_account",
    "service_date",
    "invoice_net",
    "invoice_tax",
    "invoice_gross",
    "memo",
];

const TEXT: Field = Field::Text(NO_LIMIT);
const NAME: Field = Field::Name(NO_LIMIT);

fn rows<C: Cells>(p: &Prepared<'_>, c: &mut C) {
    let inv = p.invoice;
    let dates = DateStyle::chosen(p.config.date_format, DateStyle::Iso);
    let number = p.number();
    for (n, l) in p.lines.iter().enumerate() {
        c.same_every_row(0, |c| {
            c.text(At::Invoice("number"), &number, NAME);
            c.code(inv.kind.name());
            c.opt_text(At::Invoice("kind"), p.reference(), NAME);
            c.date(inv.issue_date, dates);
            c.date(inv.due_date, dates);
            c.text(At::Invoice("customer.id"), &inv.customer.id, NAME);
            c.text(At::Invoice("customer.name"), p.customer_name(), NAME);
            c.code(inv.currency.code());
            c.opt_text(At::Invoice("project"), inv.project.as_deref(), TEXT);
            c.opt_text(At::Invoice("location"), p.location(), TEXT);
            c.date(inv.billing_period.map(|b| b.start), dates);
            c.date(inv.billing_period.map(|b| b.end), dates);
        });
        c.int(n as u64 + 1);
        c.opt_text(At::Line(l.first, "item"), l.item, NAME);
        c.text(At::Line(l.first, "description"), &l.description, TEXT);
        c.number(l.quantity);
        c.number(l.unit_price);
        c.amount(l.net, p.dp);
        c.code(l.category.code());
        c.number(l.rate);
        c.amount(p.line_tax(l), p.dp);
        c.opt_text(At::Line(l.first, "gl_account"), l.account, NAME);
        c.date(l.service_date, dates);
        c.same_every_row(1, |c| {
            c.amount(p.net, p.dp);
            c.amount(p.tax, p.dp);
            c.amount(p.gross, p.dp);
            c.text(At::Invoice("memo"), &inv.memo, TEXT);
        });
        c.end_row();
    }
}

crate::csvutil::csv_format!(GenericCsv, "csv", "csv", RULES, [HEADER], |_, _| {}, rows);
