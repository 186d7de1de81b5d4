//! `sage300`: a Sage 300 (Accpac) A/R invoice batch as one CSV with record types, for
//! Invoice Entry ▸ File ▸ Import into an open batch.
//!
//! The file starts with one header row per record type, each beginning with `RECTYPE`; every
//! data row begins with its record type:
//!
//! | type | view | fields |
//! | --- | --- | --- |
//! | `1` | Invoices (AR0032) | `CNTBTCH CNTITEM IDCUST IDINVC TEXTTRX IDTRX INVCDESC INVCAPPLTO DATEINVC DATEDUE CODECURN SWMANTX AMTTAX1` |
//! | `2` | Invoice_Details (AR0033) | `CNTBTCH CNTITEM CNTLINE IDACCTREV TEXTDESC AMTEXTN RATETAX1 AMTTAX1 TOTTAX` |
//! | `3` | Invoice_Payment_Schedules (AR0034) | `CNTBTCH CNTITEM CNTPAYM DATEDUE AMTDUE` |
//!
//! - Summary invoices (lines on revenue accounts, no items): an invoice is `TEXTTRX` 1 /
//!   `IDTRX` 12, a credit note `TEXTTRX` 3 / `IDTRX` 32 with `INVCAPPLTO` the credited
//!   invoice. Amounts are positive for both.
//! - `CNTBTCH` is 1 (the open batch the file is imported into), `CNTITEM` the invoice's id in
//!   the book (unique in the batch), `CNTLINE` 1, 2, ... and `CNTPAYM` 1.
//! - `IDCUST` is the mapped customer, else the customer id (at most 12 characters); `IDINVC`
//!   the invoice number (22); `INVCDESC` the project (cut to 60); `IDACCTREV` the mapped income
//!   account (45); `TEXTDESC` the description (cut to 60).
//! - Tax is given, not computed (`SWMANTX` 1): the invoice's tax in `AMTTAX1`, each detail's
//!   share in `AMTTAX1`/`TOTTAX` with its rate in percent in `RATETAX1`.
//! - Dates are `YYYYMMDD` (the configured date format is not used). Since Sage 300 5.2 the
//!   invoice's `DATEDUE` must equal the first payment-schedule `DATEDUE`: the one schedule
//!   row carries the same due date (the issue date when the invoice has none) and the gross.
//! - UTF-8, comma-separated with RFC 4180 quoting, `\n` line endings; tabs and line breaks
//!   inside fields are written as spaces.

use crate::csvutil::{
    check_accounts, check_issue_date, At, Cells, Charset, Checker, DateStyle, Field, Prepared, Rules,
};

/// Sage 300 A/R invoice batch.
pub(crate) struct Sage300;

const RULES: Rules = Rules {
    target: "Sage 300",
    charset: Charset::Utf8,
    delimiter: b',',
    crlf: false,
    single_line: true,
    no_semicolon: false,
    line_taxes: true,
};

/// Header row of record type 1 (invoices).
pub(crate) const INVOICES: [&str; 14] = [
    "RECTYPE",
    "CNTBTCH",
    "CNTITEM",
    "IDCUST",
    "IDINVC",
    "TEXTTRX",
    "IDTRX",
    "INVCDESC",
    "INVCAPPLTO",
    "DATEINVC",
    "DATEDUE",
    "CODECURN",
    "SWMANTX",
    "AMTTAX1",
];
/// Header row of record type 2 (invoice details).
pub(crate) const DETAILS: [&str; 10] =
    ["RECTYPE", "CNTBTCH", "CNTITEM", "CNTLINE", "IDACCTREV", "TEXTDESC", "AMTEXTN", "RATETAX1", "AMTTAX1", "TOTTAX"];
/// Header row of record type 3 (payment schedules).
pub(crate) const SCHEDULES: [&str; 6] = ["RECTYPE", "CNTBTCH", "CNTITEM", "CNTPAYM", "DATEDUE", "AMTDUE"];

const BATCH: &str = "1";

fn own_checks(p: &Prepared<'_>, c: &mut Checker<'_>) {
    check_issue_date(p, c, RULES.target);
    check_accounts(p, c, RULES.target, false);
}

fn rows<C: Cells>(p: &Prepared<'_>, c: &mut C) {
    let inv = p.invoice;
    let credit = p.credit();
    let dates = DateStyle::Compact;
    let due = inv.due_date.or(inv.issue_date);
    let item = inv.id.0;

    c.code("1");
    c.code(BATCH);
    c.int(item);
    c.text(At::Invoice("customer.id"), p.customer_id(), Field::Name(12));
    c.text(At::Invoice("number"), &p.number(), Field::Name(22));
    c.code(if credit { "3" } else { "1" });
    c.code(if credit { "32" } else { "12" });
    c.opt_text(At::Invoice("project"), inv.project.as_deref(), Field::Text(60));
    c.opt_text(At::Invoice("kind"), if credit { p.reference() } else { None }, Field::Name(22));
    c.date(inv.issue_date, dates);
    c.date(due, dates);
    c.code(inv.currency.code());
    c.code("1");
    c.amount(p.tax, p.dp);
    c.end_row();

    for (n, l) in p.lines.iter().enumerate() {
        c.same_every_row(0, |c| {
            c.code("2");
            c.code(BATCH);
            c.int(item);
        });
        c.int(n as u64 + 1);
        c.opt_text(At::Line(l.first, "gl_account"), l.account, Field::Name(45));
        c.text(At::Line(l.first, "description"), &l.description, Field::Text(60));
        c.amount(l.net, p.dp);
        c.code(p.groups.get(l.group).map_or("0", |g| g.percent()));
        c.amount(p.line_tax(l), p.dp);
        c.amount(p.line_tax(l), p.dp);
        c.end_row();
    }

    c.code("3");
    c.code(BATCH);
    c.int(item);
    c.code("1");
    c.date(due, dates);
    c.amount(p.gross, p.dp);
    c.end_row();
}

crate::csvutil::csv_format!(Sage300, "sage300", "csv", RULES, [INVOICES, DETAILS, SCHEDULES], own_checks, rows);
