//! `intacct`: Sage Intacct XML API functions, one file per batch.
//!
//! The file is the `<content>` of an Intacct API request: one `<function controlid="...">`
//! per invoice (the control id is the invoice number, so Intacct's per-function results can be
//! matched back). The caller wraps it in the `<request>` envelope with its own `<control>`
//! and `<authentication>` blocks; no credentials are ever written here.
//!
//! - Invoices are `create_invoice`, credit notes `create_aradjustment` (adjustment number =
//!   the credit note's number, `invoiceno` = the credited invoice when known) with negative
//!   line amounts, which is how Intacct records a credit adjustment.
//! - AR invoices are GL-amount lines: `glaccountno` from [`Config::accounts`] (a line without a
//!   GL account and no fallback is an error), `amount` the rounded net, `memo` the line text,
//!   `locationid` [`Config::location`] or the invoice's location, `itemid` from
//!   [`Config::item_for`], `classid` [`Config::class`]. Tax is one more line per tax group on
//!   [`Config::tax_account`] (required when there is tax).
//! - [`Summary::Basic`](crate::Summary::Basic) writes one line per GL account and tax rate
//!   instead of one per invoice line.
//! - Dates are split into `year`/`month`/`day`; `datedue` is required (no term name is
//!   configured), so an invoice without a due date is an error.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate};
use invoice_core::Invoice;
use rust_decimal::Decimal;

use crate::config::{Config, Summary};
use crate::targets_xml::{write_failed, Charset, Checker, TextRole};
use crate::xmlutil::{percent, push_plain, tag, Tag, XmlOut};
use crate::{Format, Layout, Problem};

/// The Sage Intacct target.
pub(crate) struct Intacct;

const TARGET: &str = "Sage Intacct";

/// The GL account of a line: mapped, else the fallback, else the line's own account.
fn gl_account<'a>(config: &'a Config, account: Option<&'a str>) -> Option<&'a str> {
    match account {
        Some(a) => Some(config.accounts.resolve(a)),
        None => config.accounts.fallback.as_deref(),
    }
}

impl Format for Intacct {
    fn name(&self) -> &'static str {
        "intacct"
    }

    fn extension(&self) -> &'static str {
        "xml"
    }

    fn layout(&self) -> Layout {
        Layout::OneFile
    }

    fn check(&self, invoice: &Invoice, config: &Config) -> Vec<Problem> {
        let mut c = Checker::new(invoice, Charset::Unicode, TARGET);
        let free = TextRole::Free;
        c.number(None);
        c.issue_date();
        if invoice.due_date.is_none() {
            c.error("missing_due_date", "due_date", "Sage Intacct needs the due date (no term name is configured)");
        }
        c.text(|| "customer.id".into(), config.customers.resolve(&invoice.customer.id), None, free);
        c.text(|| "memo".into(), &invoice.memo, None, free);
        for (i, line) in invoice.lines.iter().enumerate() {
            if gl_account(config, line.gl_account.as_deref()).is_none_or(str::is_empty) {
                c.error(
                    "missing_mapping",
                    format!("lines[{i}].gl_account"),
                    "the line has no GL account and config.accounts has no fallback",
                );
            }
            c.text(|| format!("lines[{i}].description"), &line.description, None, free);
        }
        if let Some(t) = c.totals() {
            if !t.tax.is_zero() && config.tax_account.is_empty() {
                c.error(
                    "missing_mapping",
                    "config.tax_account",
                    "the invoice has tax, so the tax GL account is needed",
                );
            }
        }
        c.problems
    }

    fn begin(&self, _config: &Config, out: &mut dyn Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(64);
        let mut x = XmlOut::new(&mut buf, 0, false);
        x.declaration()?;
        x.open(tag!("content"))?;
        out.write_all(&buf)
    }

    fn write_invoice(&self, invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> Result<(), Problem> {
        write(invoice, config, out).map_err(|e| write_failed(invoice, e))
    }

    fn end(&self, _config: &Config, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n</content>\n")
    }
}

fn date(x: &mut XmlOut<'_>, name: Tag, d: NaiveDate) -> io::Result<()> {
    x.open(name)?;
    x.number(tag!("year"), u64::try_from(d.year()).unwrap_or_default())?;
    x.two_digits(tag!("month"), d.month())?;
    x.two_digits(tag!("day"), d.day())?;
    x.close(name)
}

/// One GL line to write.
struct GlLine<'a> {
    account: &'a str,
    amount: Decimal,
    memo: Cow<'a, str>,
    item: Option<&'a str>,
}

fn write(invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> io::Result<()> {
    let totals = invoice.totals().map_err(|e| io::Error::other(e.to_string()))?;
    let credit = invoice.kind.is_credit();
    let dp = invoice.currency.exponent();
    let signed = |d: Decimal| if credit { -d } else { d };
    let number = invoice.number.as_deref().unwrap_or_default();

    let mut lines: Vec<GlLine<'_>> = Vec::with_capacity(invoice.lines.len() + totals.tax_groups.len());
    match config.summary {
        Summary::Detailed => {
            for (line, net) in invoice.lines.iter().zip(&totals.line_nets) {
                lines.push(GlLine {
                    account: gl_account(config, line.gl_account.as_deref()).unwrap_or_default(),
                    amount: signed(*net),
                    memo: Cow::Borrowed(&line.description),
                    item: config.item_for(line),
                });
            }
        }
        Summary::Basic => {
            let mut groups: BTreeMap<(&str, String), Decimal> = BTreeMap::new();
            for (line, net) in invoice.lines.iter().zip(&totals.line_nets) {
                let account = gl_account(config, line.gl_account.as_deref()).unwrap_or_default();
                let sum = groups.entry((account, Config::tax_key(line))).or_insert(Decimal::ZERO);
                *sum = sum.checked_add(*net).ok_or_else(|| io::Error::other("amount overflow"))?;
            }
            for ((account, key), sum) in groups {
                lines.push(GlLine {
                    account,
                    amount: signed(sum),
                    memo: Cow::Owned(format!("{account} {key}")),
                    item: None,
                });
            }
        }
    }
    for g in &totals.tax_groups {
        if g.tax.is_zero() {
            continue;
        }
        let mut memo = format!("Tax {} ", g.category.code());
        push_plain(&mut memo, percent(g.rate));
        memo.push('%');
        lines.push(GlLine { account: &config.tax_account, amount: signed(g.tax), memo: Cow::Owned(memo), item: None });
    }

    let location = config.location.as_deref().or(invoice.location.as_deref());
    let mut x = XmlOut::new(out, 1, false);
    x.open_with(tag!("function"), &[("controlid", number)])?;
    let (function, items) = if credit {
        (tag!("create_aradjustment"), tag!("aradjustmentitems"))
    } else {
        (tag!("create_invoice"), tag!("invoiceitems"))
    };
    x.open(function)?;
    x.text(tag!("customerid"), config.customers.resolve(&invoice.customer.id))?;
    if let Some(d) = invoice.issue_date {
        date(&mut x, tag!("datecreated"), d)?;
    }
    if credit {
        x.text(tag!("adjustmentno"), number)?;
        x.opt_text(tag!("invoiceno"), crate::targets_xml::preceding(&invoice.kind))?;
    } else {
        if let Some(d) = invoice.due_date {
            date(&mut x, tag!("datedue"), d)?;
        }
        x.text(tag!("invoiceno"), number)?;
    }
    x.opt_text(tag!("description"), Some(invoice.memo.as_str()))?;
    x.text(tag!("currency"), invoice.currency.code())?;
    x.open(items)?;
    for l in &lines {
        x.open(tag!("lineitem"))?;
        x.text(tag!("glaccountno"), l.account)?;
        x.amount(tag!("amount"), l.amount, dp)?;
        x.opt_text(tag!("memo"), Some(l.memo.as_ref()))?;
        x.opt_text(tag!("locationid"), location)?;
        x.opt_text(tag!("itemid"), l.item)?;
        x.opt_text(tag!("classid"), config.class.as_deref())?;
        x.close(tag!("lineitem"))?;
    }
    x.close(items)?;
    x.close(function)?;
    x.close(tag!("function"))
}
