//! `sage50-us` (Sage 50 US Sales Journal CSV) and `sage50-uk` (Sage 50 Accounts UK
//! audit-trail transactions CSV).
//!
//! Both are Windows programs that read the ANSI code page: the files are Windows-1252
//! (characters outside it are transliterated or refused, see [`crate::csvutil`]), without
//! line breaks or tabs inside fields (replaced with spaces), comma-separated with RFC 4180
//! quoting, `\n` line endings, amounts with 2 decimals (currencies with 3 are refused), and a
//! header row (tick "first row contains headings" when importing).
//!
//! # Sage 50 US
//!
//! Sage 50 US matches columns **by position** against the import template, not by header
//! name: set up the Sales Journal template once with exactly these fields in this order:
//! `Customer ID, Invoice/CM #, Apply to Invoice Number, Credit Memo, Date, Date Due,
//! Accounts Receivable Account, Accounts Receivable Amount, Sales Tax ID, Invoice Note,
//! Number of Distributions, Invoice/CM Distribution, Quantity, Item ID, Description,
//! G/L Account, Unit Price, Tax Type, Amount, Sales Tax Agency ID` (the order of Sage's own
//! field list, with the other fields left out).
//!
//! - One row per distribution, the invoice fields repeated on each: the exported lines
//!   (`Invoice/CM Distribution` 1, 2, ...) and, when the invoice has tax, one sales-tax row
//!   (distribution 0, `G/L Account` [`Config::tax_account`](crate::Config), `Sales Tax
//!   Agency ID` [`Config::tax_agency`](crate::Config)). `Number of Distributions` counts them all.
//! - Signs are GL signs: on an invoice the line and tax `Amount`s are negative (credits)
//!   and `Accounts Receivable Amount` is the gross, positive; a credit memo (`Credit Memo`
//!   `TRUE`, `Apply to Invoice Number` the credited invoice) has them all the other way round.
//!   `Quantity` follows the invoice (positive) or credit memo (negative); `Unit Price` is as on
//!   the line.
//! - `Customer ID` is the mapped customer, else the customer id; `Sales Tax ID` the mapped
//!   tax code of the invoice's rate; `Tax Type` 1 (taxable) for lines with a rate above zero, 2
//!   (exempt) otherwise. Dates are `MM/DD/YY` (the configured date format is not used).
//! - A sales tax code covers one rate: an invoice with two rates above zero is refused.
//! - Limits: customer id, invoice number and item id 20 characters, account ids 15, sales
//!   tax code and agency ids 8, description 160 (cut).
//!
//! # Sage 50 UK
//!
//! The classic positional layout A–O: `Type, Account Reference, Nominal A/C Ref, Department
//! Code, Date, Reference, Details, Net Amount, Tax Code, Tax Amount, Exchange Rate, Extra
//! Reference, User Name, Project Refn, Cost Code Refn`.
//!
//! - One row per exported line; Sage groups adjacent rows with the same type, account, date
//!   and reference into one invoice with several splits.
//! - `Type` `SI` (sales invoice) or `SC` (sales credit); amounts are positive for both, the
//!   type gives the direction; the tax amount is given (Sage does not recompute it).
//! - `Account Reference` is the mapped customer, else the customer id (at most 8 characters,
//!   no spaces); `Nominal A/C Ref` the mapped income account (at most 8); `Tax Code` the mapped
//!   tax code of the line's rate (`T0`..`T99`, required); `Reference` the invoice number (30);
//!   `Details` the description (cut to 60); `Extra Reference` the credited invoice of a credit
//!   note (30). Dates are `DD/MM/YYYY`.
//! - `Department Code` is the configured location, else the invoice's location when it is a
//!   number from 0 to 999 (a configured location that is not is an error; an invoice location
//!   that is not is left out with a warning).

use rust_decimal::Decimal;

use crate::csvutil::{
    check_accounts, check_currency_decimals, check_issue_date, At, Cells, Charset, Checker, DateStyle, Field, Group,
    Prepared, Rules,
};

/// Sage 50 US Sales Journal.
pub(crate) struct Sage50Us;
/// Sage 50 Accounts UK audit trail.
pub(crate) struct Sage50Uk;

const US: Rules = Rules {
    target: "Sage 50 US",
    charset: Charset::Windows1252,
    delimiter: b',',
    crlf: false,
    single_line: true,
    no_semicolon: false,
    line_taxes: false,
};

const UK: Rules = Rules {
    target: "Sage 50 UK",
    charset: Charset::Windows1252,
    delimiter: b',',
    crlf: false,
    single_line: true,
    no_semicolon: false,
    line_taxes: true,
};

/// Amounts of both have 2 decimals.
const DP: u32 = 2;

/// The Sage 50 US header row (the import template's field order).
pub(crate) const US_HEADER: [&str; 20] = [
    "Customer ID",
    "Invoice/CM #",
    "Apply to Invoice Number",
    "Credit Memo",
    "Date",
    "Date Due",
    "Accounts Receivable Account",
    "Accounts Receivable Amount",
    "Sales Tax ID",
    "Invoice Note",
    "Number of Distributions",
    "Invoice/CM Distribution",
    "Quantity",
    "Item ID",
    "Description",
    "G/L Account",
    "Unit Price",
    "Tax Type",
    "Amount",
    "Sales Tax Agency ID",
];

/// The Sage 50 UK header row (columns A–O).
pub(crate) const UK_HEADER: [&str; 15] = [
    "Type",
    "Account Reference",
    "Nominal A/C Ref",
    "Department Code",
    "Date",
    "Reference",
    "Details",
    "Net Amount",
    "Tax Code",
    "Tax Amount",
    "Exchange Rate",
    "Extra Reference",
    "User Name",
    "Project Refn",
    "Cost Code Refn",
];

// ------------------------------------------------------------------ US

fn us_checks(p: &Prepared<'_>, c: &mut Checker<'_>) {
    let target = US.target;
    check_issue_date(p, c, target);
    check_currency_decimals(p, c, target, DP);
    check_accounts(p, c, target, false);
    let taxed: Vec<&Group> = p.taxed_groups().collect();
    if taxed.len() > 1 {
        // a third of a month's invoices in Europe: built without format!
        let mut message = String::from("the invoice has tax rates ");
        for (k, g) in taxed.iter().enumerate() {
            if k > 0 {
                message.push_str(", ");
            }
            message.push_str(g.percent());
            message.push('%');
        }
        message.push_str("; a ");
        message.push_str(target);
        message.push_str(" sales tax code covers one rate");
        c.error(At::Invoice("lines"), "multiple_tax_rates", message);
    }
    if let Some(g) = taxed.first() {
        let key = g.key();
        if !p.config.tax_codes.covers(key) {
            c.error(
                At::Line(g.first, "tax_rate"),
                "missing_mapping",
                format!("tax key '{key}' is not mapped and the tax-code mapping has no fallback; {target} needs the Sales Tax ID"),
            );
        }
        if p.config.tax_account.trim().is_empty() {
            c.error(
                At::Config("tax_account"),
                "missing_setting",
                format!("{target} needs the G/L account of the sales-tax row"),
            );
        }
        if p.config.tax_agency.as_deref().is_none_or(|a| a.trim().is_empty()) {
            c.error(
                At::Config("tax_agency"),
                "missing_setting",
                format!("{target} needs the Sales Tax Agency ID of the sales-tax row"),
            );
        }
    }
}

fn us_rows<C: Cells>(p: &Prepared<'_>, c: &mut C) {
    let inv = p.invoice;
    let config = p.config;
    let credit = p.credit();
    // GL sign of the receivable; lines and tax get the opposite
    let sign = |d: Decimal| if credit { -d } else { d };
    let dates = DateStyle::UsShort;
    let number = p.number();
    let taxed: Vec<&Group> = p.taxed_groups().collect();
    let tax_code = taxed.first().map(|g| p.tax_code(g));
    let tax_first = taxed.first().map_or(0, |g| g.first);
    let count = (p.lines.len() + taxed.len()) as u64;
    let header = |c: &mut C| {
        c.text(At::Invoice("customer.id"), p.customer_id(), Field::Name(20));
        c.text(At::Invoice("number"), &number, Field::Name(20));
        c.opt_text(At::Invoice("kind"), if credit { p.reference() } else { None }, Field::Name(20));
        c.code(if credit { "TRUE" } else { "FALSE" });
        c.date(inv.issue_date, dates);
        c.date(inv.due_date, dates);
        c.text(At::Config("ar_account"), &config.ar_account, Field::Name(15));
        c.amount(sign(p.gross), DP);
        c.opt_text(At::Line(tax_first, "tax_rate"), tax_code, Field::Name(8));
        c.text(At::Invoice("memo"), &inv.memo, Field::Text(2000));
        c.int(count);
    };
    for (n, l) in p.lines.iter().enumerate() {
        c.same_every_row(0, header);
        c.int(n as u64 + 1);
        c.number(sign(l.quantity));
        c.opt_text(At::Line(l.first, "item"), l.item, Field::Name(20));
        c.text(At::Line(l.first, "description"), &l.description, Field::Text(160));
        c.opt_text(At::Line(l.first, "gl_account"), l.account, Field::Name(15));
        c.number(l.unit_price);
        c.code(if l.rate.is_zero() { "2" } else { "1" });
        c.amount(-sign(l.net), DP);
        c.code("");
        c.end_row();
    }
    for g in &taxed {
        c.same_every_row(0, header);
        c.int(0);
        c.code("");
        c.code("");
        c.code_concat(&["Sales tax ", g.percent(), "%"]);
        c.text(At::Config("tax_account"), &config.tax_account, Field::Name(15));
        c.code("");
        c.code("");
        c.amount(-sign(g.tax), DP);
        c.opt_text(At::Config("tax_agency"), config.tax_agency.as_deref(), Field::Name(8));
        c.end_row();
    }
}

crate::csvutil::csv_format!(Sage50Us, "sage50-us", "csv", US, [US_HEADER], us_checks, us_rows);

// ------------------------------------------------------------------ UK

fn is_department(s: &str) -> bool {
    !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The department code: the configured location, else the invoice's when it is 0..=999.
fn department<'a>(p: &'a Prepared<'_>) -> Option<&'a str> {
    match (p.config.location.as_deref(), p.invoice.location.as_deref()) {
        (Some(l), _) => Some(l),
        (None, Some(l)) if is_department(l) => Some(l),
        _ => None,
    }
}

fn uk_checks(p: &Prepared<'_>, c: &mut Checker<'_>) {
    let target = UK.target;
    check_issue_date(p, c, target);
    check_currency_decimals(p, c, target, DP);
    check_accounts(p, c, target, false);
    crate::csvutil::check_tax_codes(p, c, target, "a tax code (T0..T99) on every line", false);
    let account = p.customer_id();
    if account.chars().any(char::is_whitespace) {
        c.error(
            At::Invoice("customer.id"),
            "invalid_value",
            format!("account reference '{account}' has spaces; {target} takes none (map the customer)"),
        );
    }
    match (p.config.location.as_deref(), p.invoice.location.as_deref()) {
        (Some(l), _) if !is_department(l) => c.error(
            At::Config("location"),
            "invalid_value",
            format!("'{l}' is not a {target} department code (a number from 0 to 999)"),
        ),
        (None, Some(l)) if !is_department(l) => c.warning(
            At::Invoice("location"),
            "ignored",
            format!("'{l}' is not a {target} department code (a number from 0 to 999); the department is left empty"),
        ),
        _ => {}
    }
}

fn uk_rows<C: Cells>(p: &Prepared<'_>, c: &mut C) {
    let inv = p.invoice;
    let credit = p.credit();
    let number = p.number();
    let dept = department(p);
    for l in &p.lines {
        c.same_every_row(0, |c| {
            c.code(if credit { "SC" } else { "SI" });
            c.text(At::Invoice("customer.id"), p.customer_id(), Field::Name(8));
        });
        c.opt_text(At::Line(l.first, "gl_account"), l.account, Field::Name(8));
        c.same_every_row(1, |c| {
            c.opt_text(At::Config("location"), dept, Field::Name(3));
            c.date(inv.issue_date, DateStyle::Uk);
            c.text(At::Invoice("number"), &number, Field::Name(30));
        });
        c.text(At::Line(l.first, "description"), &l.description, Field::Text(60));
        c.amount(l.net, DP);
        c.text(At::Line(l.first, "tax_rate"), p.line_tax_code(l), Field::Name(3));
        c.amount(p.line_tax(l), DP);
        c.same_every_row(2, |c| {
            c.code("");
            c.opt_text(At::Invoice("kind"), if credit { p.reference() } else { None }, Field::Name(30));
            c.code("");
            c.code("");
            c.code("");
        });
        c.end_row();
    }
}

crate::csvutil::csv_format!(Sage50Uk, "sage50-uk", "csv", UK, [UK_HEADER], uk_checks, uk_rows);
