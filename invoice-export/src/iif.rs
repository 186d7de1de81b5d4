//! `iif`: QuickBooks Desktop IIF, invoices (`INVOICE`) and credit notes (`CREDIT MEMO`).
//!
//! The file starts with the three header rows `!TRNS`, `!SPL` and `!ENDTRNS`; each invoice is
//! one transaction: a `TRNS` row on the accounts-receivable account, one `SPL` row per
//! exported line, the sales-tax `SPL` rows, and `ENDTRNS`. Tab-separated, CRLF line endings,
//! Windows-1252 text (QuickBooks Desktop reads no UTF-8), no byte-order mark.
//!
//! Columns: `TRNS`: `TRNSTYPE DATE ACCNT NAME CLASS AMOUNT DOCNUM MEMO CLEAR TOPRINT
//! DUEDATE`; `SPL`: `TRNSTYPE DATE ACCNT NAME CLASS AMOUNT DOCNUM MEMO CLEAR QNTY PRICE
//! INVITEM TAXABLE SERVICEDATE EXTRA`.
//!
//! Signs (debits positive, credits negative; every transaction sums to zero):
//!
//! | row | `INVOICE` | `CREDIT MEMO` |
//! | --- | --- | --- |
//! | `TRNS` on [`Config::ar_account`](crate::Config) | + gross | − gross |
//! | item `SPL` (`AMOUNT`, `QNTY`) | − net, − quantity | + net, + quantity |
//! | sales-tax `SPL` | − tax | + tax |
//!
//! `PRICE` is the unit price as it is, so a discount line (negative price) of an invoice has
//! a positive amount. Sales tax: one `SPL` per tax rate above zero, on
//! [`Config::tax_account`](crate::Config), `NAME` the [`Config::tax_agency`](crate::Config),
//! `INVITEM` the mapped tax code of the rate (the sales-tax item), `PRICE` the rate as `6.25%`,
//! `EXTRA` `AUTOSTAX`; an invoice without tax gets one `0.00` tax line (QuickBooks needs one
//! when sales tax is on). QuickBooks does not compute tax on import: the amounts are the
//! engine's. More than one rate on an invoice is a warning (US editions apply one sales-tax
//! item per invoice).
//!
//! Dates are `MM/DD/YYYY` (IIF takes no other layout; the configured date format is not
//! used). `CLASS` is [`Config::class`](crate::Config).
//!
//! Pre-flight: the A/R and tax accounts must be set; every line needs a mapped income
//! account (or the accounts fallback), since QuickBooks silently creates unknown accounts as
//! bank accounts; every sales-tax item must be mapped (or the tax-code fallback); names
//! (customer, accounts, items, class) take at most 41 characters and only Windows-1252;
//! invoice numbers longer than 11 characters are a warning (QuickBooks shows 11); tabs,
//! line breaks and `;` inside fields are replaced (`;` makes QuickBooks reject the
//! transaction); currencies with more than 2 decimals are refused.

use rust_decimal::Decimal;

use crate::csvutil::{
    check_accounts, check_currency_decimals, check_issue_date, concat, At, Cells, Charset, Checker, DateStyle, Field,
    Group, Int, Prepared, Rules,
};

/// QuickBooks Desktop IIF.
pub(crate) struct Iif;

const RULES: Rules = Rules {
    target: "QuickBooks Desktop (IIF)",
    charset: Charset::Windows1252,
    delimiter: b'\t',
    crlf: true,
    single_line: true,
    no_semicolon: true,
    line_taxes: false,
};

/// The `!TRNS` header row.
pub(crate) const TRNS: [&str; 12] =
    ["!TRNS", "TRNSTYPE", "DATE", "ACCNT", "NAME", "CLASS", "AMOUNT", "DOCNUM", "MEMO", "CLEAR", "TOPRINT", "DUEDATE"];
/// The `!SPL` header row.
pub(crate) const SPL: [&str; 16] = [
    "!SPL",
    "TRNSTYPE",
    "DATE",
    "ACCNT",
    "NAME",
    "CLASS",
    "AMOUNT",
    "DOCNUM",
    "MEMO",
    "CLEAR",
    "QNTY",
    "PRICE",
    "INVITEM",
    "TAXABLE",
    "SERVICEDATE",
    "EXTRA",
];
/// The `!ENDTRNS` header row.
pub(crate) const ENDTRNS: [&str; 1] = ["!ENDTRNS"];

const NAME: Field = Field::Name(41);
const DOCNUM: Field = Field::SoftName(11);
const MEMO: Field = Field::Text(4095);
const DATES: DateStyle = DateStyle::Us;

/// The sales-tax lines: one per group with a rate above zero, else the first group (0.00).
fn tax_lines<'p, 'a>(p: &'p Prepared<'a>) -> impl Iterator<Item = &'p Group<'a>> + Clone {
    let taxed = p.taxed_groups().next().is_some();
    p.groups.iter().enumerate().filter(move |(k, g)| if taxed { !g.rate.is_zero() } else { *k == 0 }).map(|(_, g)| g)
}

fn own_checks(p: &Prepared<'_>, c: &mut Checker<'_>) {
    let target = RULES.target;
    if p.config.ar_account.trim().is_empty() {
        c.error(At::Config("ar_account"), "missing_setting", format!("{target} needs the accounts-receivable account"));
    }
    if p.config.tax_account.trim().is_empty() {
        c.error(
            At::Config("tax_account"),
            "missing_setting",
            format!("{target} needs the sales-tax account for the tax line"),
        );
    }
    check_issue_date(p, c, target);
    check_currency_decimals(p, c, target, 2);
    check_accounts(p, c, target, true);
    let taxes = tax_lines(p);
    for t in taxes.clone() {
        if !p.tax_code_covered(t) {
            c.error(
                At::Line(t.first, "tax_rate"),
                "missing_mapping",
                format!(
                    "tax key '{}' is not mapped and the tax-code mapping has no fallback; {target} needs the sales-tax item",
                    t.key()
                ),
            );
        }
    }
    let count = taxes.count();
    if count > 1 {
        c.warning(
            At::Invoice("lines"),
            "multiple_tax_rates",
            concat(&[
                "the invoice has ",
                Int::new(count).as_str(),
                " tax rates, written as one sales-tax line each; QuickBooks Desktop US applies one sales-tax item per invoice",
            ]),
        );
    }
}

fn rows<C: Cells>(p: &Prepared<'_>, c: &mut C) {
    let inv = p.invoice;
    let config = p.config;
    let credit = p.credit();
    let trnstype = if credit { "CREDIT MEMO" } else { "INVOICE" };
    // the sign of the TRNS amount; the splits get the opposite
    let sign = |d: Decimal| if credit { -d } else { d };
    let number = p.number();
    let class = config.class.as_deref();

    c.code("TRNS");
    c.code(trnstype);
    c.date(inv.issue_date, DATES);
    c.text(At::Config("ar_account"), &config.ar_account, NAME);
    c.text(At::Invoice("customer.name"), p.customer_name(), NAME);
    c.opt_text(At::Config("class"), class, NAME);
    c.amount(sign(p.gross), p.dp);
    c.text(At::Invoice("number"), &number, DOCNUM);
    c.text(At::Invoice("memo"), &inv.memo, MEMO);
    c.code("N");
    c.code("N");
    c.date(inv.due_date, DATES);
    c.end_row();

    for l in &p.lines {
        c.same_every_row(0, |c| {
            c.code("SPL");
            c.code(trnstype);
            c.date(inv.issue_date, DATES);
        });
        c.opt_text(At::Line(l.first, "gl_account"), l.account, NAME);
        c.same_every_row(1, |c| {
            c.code("");
            c.opt_text(At::Config("class"), class, NAME);
        });
        c.amount(-sign(l.net), p.dp);
        c.same_every_row(2, |c| c.text(At::Invoice("number"), &number, DOCNUM));
        c.text(At::Line(l.first, "description"), &l.description, MEMO);
        c.code("N");
        c.number(-sign(l.quantity));
        c.number(l.unit_price);
        c.opt_text(At::Line(l.first, "item"), l.item, NAME);
        c.code(if l.rate.is_zero() { "N" } else { "Y" });
        c.date(l.service_date, DATES);
        c.code("");
        c.end_row();
    }

    for t in tax_lines(p) {
        // the first three cells and the number are those of the item rows (same columns)
        c.same_every_row(0, |c| {
            c.code("SPL");
            c.code(trnstype);
            c.date(inv.issue_date, DATES);
        });
        c.same_every_row(3, |c| {
            c.text(At::Config("tax_account"), &config.tax_account, NAME);
            c.opt_text(At::Config("tax_agency"), config.tax_agency.as_deref(), NAME);
            c.opt_text(At::Config("class"), class, NAME);
        });
        c.amount(-sign(t.tax), p.dp);
        c.same_every_row(2, |c| c.text(At::Invoice("number"), &number, DOCNUM));
        c.code("Sales tax");
        c.code("N");
        c.code("");
        c.code_concat(&[t.percent(), "%"]);
        c.text(At::Line(t.first, "tax_rate"), p.tax_code(t), NAME);
        c.code("N");
        c.code("");
        c.code("AUTOSTAX");
        c.end_row();
    }

    c.code("ENDTRNS");
    c.end_row();
}

crate::csvutil::csv_format!(Iif, "iif", "iif", RULES, [TRNS, SPL, ENDTRNS], own_checks, rows);
