//! invoice-export turns invoices into the files (or request bodies) that accounting products
//! import: QuickBooks Desktop (IIF, qbXML), QuickBooks Online (CSV, API v3 JSON), Sage 50 US
//! and UK, Sage 300, Sage Intacct, Xero, a generic CSV, and the e-invoices UBL (Peppol BIS
//! Billing 3.0) and CII (EN 16931). It only reads invoices; the book records the results.
//!
//! Every format implements [`Format`]. [`export`] streams a batch to any `io::Write` (one file
//! per batch) and [`export_documents`] hands one document per invoice to a [`DocumentSink`];
//! both return a [`Report`] with one result per invoice: exported (with warnings), skipped with
//! a reason, or failed with a message naming the field. One bad invoice never fails the others,
//! and the same input always gives the same bytes. [`preflight`] lists every problem of every
//! invoice without writing anything.
//!
//! # Formats
//!
//! | name | what | layout |
//! | --- | --- | --- |
//! | `csv` | generic CSV, one row per line | one file |
//! | `iif` | QuickBooks Desktop IIF | one file |
//! | `qbxml` | QuickBooks Desktop qbXML 12.0 | one file |
//! | `qbo-csv` | QuickBooks Online invoice import CSV | one file |
//! | `qbo-json` | QuickBooks Online API v3 Invoice / CreditMemo | one document per invoice |
//! | `sage50-us` | Sage 50 US Sales Journal CSV | one file |
//! | `sage50-uk` | Sage 50 Accounts UK audit-trail CSV | one file |
//! | `sage300` | Sage 300 A/R invoice batch CSV | one file |
//! | `intacct` | Sage Intacct `create_invoice` XML | one file |
//! | `xero` | Xero sales invoice CSV | one file |
//! | `ubl` | UBL 2.1 Invoice / CreditNote, Peppol BIS Billing 3.0 | one document per invoice |
//! | `cii` | UN/CEFACT CII, EN 16931 (Factur-X EN16931 profile) | one document per invoice |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::borrow::Cow;
use std::fmt;
use std::io::Write;

use invoice_core::{Invoice, InvoiceId, Outcome, Totals};
use serde::{Deserialize, Serialize};

mod cii;
pub mod config;
mod csv_generic;
mod csvutil;
mod digits;
pub mod error;
mod iif;
mod intacct;
mod latin;
mod parallel;
mod qbo_csv;
mod qbo_json;
mod qbxml;
mod sage300;
mod sage50;
mod scan;
mod targets_csv;
mod targets_xml;
mod ubl;
mod xero;
mod xmlutil;

pub use config::{Address, Buyer, Config, DateFormat, Mapping, Seller, Summary, ZeroTotal, DOWN_PAYMENT_ITEM};
pub use error::{Error, Result};
pub use parallel::{
    export_documents_parallel, export_parallel, export_parallel_with_totals, export_targets, Output, TargetOutput,
};

/// How a format lays out its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One file for the whole batch.
    OneFile,
    /// One document per invoice.
    OnePerInvoice,
}

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The export goes ahead but changes something (e.g. a transliterated character).
    Warning,
    /// The invoice cannot go to this target.
    Error,
}

/// One problem of one invoice for one target.
///
/// Codes, most paths and some messages are fixed texts, held without a copy (`Cow::Borrowed`);
/// a problem read back from JSON owns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The invoice's number (or draft label).
    pub invoice: String,
    /// Stable snake_case code (`missing_mapping`, `too_long`, `unsupported_character`, ...).
    pub code: Cow<'static, str>,
    /// The field, e.g. `lines[2].item` or `customer.name`.
    pub path: Cow<'static, str>,
    /// For people.
    pub message: Cow<'static, str>,
    /// Warning or error.
    pub severity: Severity,
}

impl Problem {
    /// An error of `invoice` at `path`.
    ///
    /// ```
    /// use invoice_core::{Currency, Customer, Invoice};
    /// use invoice_export::{Problem, Severity};
    /// let invoice = Invoice::builder(Customer::new("C1", "ACME"), Currency::USD).number("INV-1").build();
    /// let p = Problem::error(&invoice, "missing_mapping", format!("lines[{}].item", 2), "the item is not mapped");
    /// assert_eq!((p.invoice.as_str(), p.code.as_ref(), p.path.as_ref()), ("INV-1", "missing_mapping", "lines[2].item"));
    /// assert_eq!(p.severity, Severity::Error);
    /// ```
    pub fn error(
        invoice: &Invoice,
        code: &'static str,
        path: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Problem {
        Problem {
            invoice: invoice.label(),
            code: Cow::Borrowed(code),
            path: path.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning of `invoice` at `path`.
    pub fn warning(
        invoice: &Invoice,
        code: &'static str,
        path: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Problem {
        Problem { severity: Severity::Warning, ..Problem::error(invoice, code, path, message) }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {} ({})", self.invoice, self.path, self.message, self.code)
    }
}

/// An export target. Implementations live in this crate; [`format()`] finds one by name.
pub trait Format: Send + Sync {
    /// Stable name used by the API and the command line (`csv`, `iif`, `qbxml`, ...).
    fn name(&self) -> &'static str;
    /// File extension without the dot.
    fn extension(&self) -> &'static str;
    /// One file per batch, or one document per invoice.
    fn layout(&self) -> Layout;
    /// Every problem that keeps `invoice` from this target, or that the export would change
    /// (warnings). Must not stop at the first one. The driver calls it before
    /// [`Format::write_invoice`] and does not write invoices that have errors.
    fn check(&self, invoice: &Invoice, config: &Config) -> Vec<Problem>;
    /// What comes before the first invoice of a one-file export (header row, envelope).
    fn begin(&self, _config: &Config, _out: &mut dyn Write) -> std::io::Result<()> {
        Ok(())
    }
    /// Append one invoice's records (or its whole document) to `out`. An error names the field.
    fn write_invoice(&self, invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> std::result::Result<(), Problem>;
    /// [`Format::check`], then, when it found no error, [`Format::write_invoice`] into `out`:
    /// what the drivers do with every invoice. Formats whose check and writer prepare the
    /// invoice the same way override it to prepare once; the result must be exactly that of
    /// the two calls (the same problems in the same order, the same bytes).
    fn check_and_write(&self, invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> CheckedWrite {
        let problems = self.check(invoice, config);
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return CheckedWrite::Refused(problems);
        }
        match self.write_invoice(invoice, config, out) {
            Ok(()) => CheckedWrite::Written(problems),
            Err(p) => CheckedWrite::Failed(p),
        }
    }
    /// [`Format::check_and_write`] for an invoice whose totals the caller already has (a
    /// book keeps them: `Book::totals`); `totals` must be `invoice.totals()`. The CSV-like
    /// targets use them instead of making them again; the result is the same either way.
    fn check_and_write_totals(
        &self,
        invoice: &Invoice,
        totals: &Totals,
        config: &Config,
        out: &mut Vec<u8>,
    ) -> CheckedWrite {
        let _ = totals;
        self.check_and_write(invoice, config, out)
    }
    /// What comes after the last invoice of a one-file export (closing envelope).
    fn end(&self, _config: &Config, _out: &mut dyn Write) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`Format::check_and_write`] did with one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedWrite {
    /// [`Format::check`] found errors: nothing was written. Every problem `check` returned.
    Refused(Vec<Problem>),
    /// Written; the warnings `check` returned.
    Written(Vec<Problem>),
    /// `check` found no error, but [`Format::write_invoice`] failed with this problem.
    Failed(Problem),
}

/// Receives the documents of a one-document-per-invoice export.
pub trait DocumentSink {
    /// Store one document. `invoice` is the invoice's number (make it safe for file names).
    fn document(&mut self, invoice: &Invoice, bytes: &[u8]) -> std::io::Result<()>;
}

/// What happened to one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceResult {
    /// The invoice.
    pub invoice: InvoiceId,
    /// Its number.
    pub number: String,
    /// Exported, skipped or failed.
    pub outcome: Outcome,
    /// Warnings of an exported invoice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Problem>,
}

/// The result of an export: one entry per invoice, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The format's name.
    pub format: String,
    /// Per invoice.
    pub results: Vec<InvoiceResult>,
}

impl Report {
    /// The outcomes in the form [`invoice_core::Command::RecordExportResults`] takes.
    pub fn outcomes(&self) -> Vec<(InvoiceId, Outcome)> {
        self.results.iter().map(|r| (r.invoice, r.outcome.clone())).collect()
    }

    /// How many invoices were exported, skipped and failed.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for r in &self.results {
            match r.outcome {
                Outcome::Exported => c.0 += 1,
                Outcome::Skipped { .. } => c.1 += 1,
                Outcome::Failed { .. } => c.2 += 1,
            }
        }
        c
    }
}

/// The reason zero-total invoices are skipped under [`ZeroTotal::Skip`].
pub const ZERO_TOTAL_MESSAGE: &str = "Invoice total is zero - not sent";

/// Every format, in the order of the table above.
pub fn formats() -> Vec<&'static dyn Format> {
    let mut all = targets_csv::formats();
    all.extend(targets_xml::formats());
    let order = [
        "csv",
        "iif",
        "qbxml",
        "qbo-csv",
        "qbo-json",
        "sage50-us",
        "sage50-uk",
        "sage300",
        "intacct",
        "xero",
        "ubl",
        "cii",
    ];
    all.sort_by_key(|f| order.iter().position(|n| *n == f.name()).unwrap_or(order.len()));
    all
}

/// The format with this name.
pub fn format(name: &str) -> Result<&'static dyn Format> {
    formats().into_iter().find(|f| f.name() == name).ok_or_else(|| Error::UnknownFormat {
        name: name.to_string(),
        known: formats().iter().map(|f| f.name()).collect::<Vec<_>>().join(", "),
    })
}

/// Why an invoice is not sent at all, before the format looks at it.
fn skip_reason(invoice: &Invoice, config: &Config) -> Option<String> {
    if let Some(reason) = invoice.export_skip_reason() {
        return Some(reason.to_string());
    }
    if config.zero_total == ZeroTotal::Skip && invoice.totals().is_ok_and(|t| t.gross.is_zero()) {
        return Some(ZERO_TOTAL_MESSAGE.to_string());
    }
    None
}

/// Check and render one invoice exactly as [`export`] does, for drivers of one's own (one
/// that parses and renders in the same pass, say): `buf` is cleared and, when the outcome is
/// [`Outcome::Exported`], holds the invoice's bytes. A one-file export is
/// [`Format::begin`], the bytes of every exported invoice in order, then [`Format::end`]; a
/// [`Layout::OnePerInvoice`] format gives one whole document per invoice.
///
/// ```
/// use invoice_core::{Currency, Customer, Invoice, Line, Outcome};
/// use invoice_export::{format, render_invoice, Config};
/// use rust_decimal_macros::dec;
///
/// let invoice = Invoice::builder(Customer::new("C1", "Acme"), Currency::EUR)
///     .number("INV-1")
///     .line(Line::new("Work", dec!(2), dec!(50.00)))
///     .build();
/// let csv = format("csv").unwrap();
/// let (config, mut out, mut buf) = (Config::default(), Vec::new(), Vec::new());
/// csv.begin(&config, &mut out).unwrap();
/// let result = render_invoice(csv, &invoice, &config, &mut buf);
/// assert_eq!(result.outcome, Outcome::Exported);
/// out.extend_from_slice(&buf);
/// csv.end(&config, &mut out).unwrap();
/// assert!(String::from_utf8(out).unwrap().contains("INV-1"));
/// ```
pub fn render_invoice(format: &dyn Format, invoice: &Invoice, config: &Config, buf: &mut Vec<u8>) -> InvoiceResult {
    buf.clear();
    render_invoice_append(format, invoice, None, config, buf)
}

/// [`render_invoice`] for an invoice whose totals the caller already has (`totals` must be
/// `invoice.totals()`, as `Invoice::validate_and_total` gives them): the same result, without
/// the CSV-like targets making the totals again.
pub fn render_invoice_with_totals(
    format: &dyn Format,
    invoice: &Invoice,
    totals: &Totals,
    config: &Config,
    buf: &mut Vec<u8>,
) -> InvoiceResult {
    buf.clear();
    render_invoice_append(format, invoice, Some(totals), config, buf)
}

/// Append `path: message (code)` (without the formatting machinery).
fn push_problem(message: &mut String, p: &Problem) {
    message.reserve(p.path.len() + p.message.len() + p.code.len() + 5);
    message.push_str(&p.path);
    message.push_str(": ");
    message.push_str(&p.message);
    message.push_str(" (");
    message.push_str(&p.code);
    message.push(')');
}

/// [`render_invoice`] appending to `out` instead of replacing it, for drivers that gather
/// many invoices in one buffer: the invoice's bytes go after what `out` holds when the
/// outcome is [`Outcome::Exported`], and `out` is left as it was otherwise. `totals`, when
/// given, must be `invoice.totals()` (see [`render_invoice_with_totals`]).
///
/// ```
/// use invoice_core::{Currency, Customer, Invoice, Line, Outcome};
/// use invoice_export::{format, render_invoice_append, Config};
/// use rust_decimal_macros::dec;
///
/// let invoice = |n: &str| {
///     Invoice::builder(Customer::new("C1", "Acme"), Currency::EUR).number(n).line(Line::new("Work", dec!(2), dec!(50.00))).build()
/// };
/// let (csv, config, mut out) = (format("csv").unwrap(), Config::default(), Vec::new());
/// let empty = Invoice::builder(Customer::new("C1", "Acme"), Currency::EUR).number("INV-2").build();
/// for inv in [invoice("INV-1"), empty, invoice("INV-3")] {
///     let result = render_invoice_append(csv, &inv, None, &config, &mut out);
///     assert_eq!(result.outcome == Outcome::Exported, inv.number.as_deref() != Some("INV-2"));
/// }
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.starts_with("INV-1,") && text.contains("\nINV-3,") && !text.contains("INV-2"));
/// ```
pub fn render_invoice_append(
    format: &dyn Format,
    invoice: &Invoice,
    totals: Option<&Totals>,
    config: &Config,
    out: &mut Vec<u8>,
) -> InvoiceResult {
    let mut result = InvoiceResult {
        invoice: invoice.id,
        number: invoice.label(),
        outcome: Outcome::Exported,
        warnings: Vec::new(),
    };
    if let Some(reason) = skip_reason(invoice, config) {
        result.outcome = Outcome::Skipped { reason };
        return result;
    }
    let start = out.len();
    let checked = match totals {
        Some(totals) => format.check_and_write_totals(invoice, totals, config, out),
        None => format.check_and_write(invoice, config, out),
    };
    match checked {
        CheckedWrite::Written(warnings) => result.warnings = warnings,
        CheckedWrite::Refused(problems) => {
            out.truncate(start);
            let mut message = String::new();
            for p in problems.iter().filter(|p| p.severity == Severity::Error) {
                if !message.is_empty() {
                    message.push_str("; ");
                }
                push_problem(&mut message, p);
            }
            result.outcome = Outcome::Failed { message };
        }
        CheckedWrite::Failed(p) => {
            out.truncate(start);
            let mut message = String::new();
            push_problem(&mut message, &p);
            result.outcome = Outcome::Failed { message };
        }
    }
    result
}

/// Export `invoices` as one file to `out`. Memory does not grow with the batch: each invoice
/// is rendered into a reused buffer, then appended.
///
/// Formats with [`Layout::OnePerInvoice`] write their documents back to back; use
/// [`export_documents`] for them.
pub fn export<'a, W: Write>(
    format: &dyn Format,
    config: &Config,
    invoices: impl IntoIterator<Item = &'a Invoice>,
    mut out: W,
) -> Result<Report> {
    let invoices = invoices.into_iter();
    let mut report =
        Report { format: format.name().to_string(), results: Vec::with_capacity(invoices.size_hint().0.min(1 << 20)) };
    let mut buf = Vec::new();
    format.begin(config, &mut out)?;
    for invoice in invoices {
        let result = render_invoice(format, invoice, config, &mut buf);
        if result.outcome == Outcome::Exported {
            out.write_all(&buf)?;
        }
        report.results.push(result);
    }
    format.end(config, &mut out)?;
    out.flush()?;
    Ok(report)
}

/// Export `invoices` as one document each, handed to `sink`.
pub fn export_documents<'a>(
    format: &dyn Format,
    config: &Config,
    invoices: impl IntoIterator<Item = &'a Invoice>,
    sink: &mut dyn DocumentSink,
) -> Result<Report> {
    let invoices = invoices.into_iter();
    let mut report =
        Report { format: format.name().to_string(), results: Vec::with_capacity(invoices.size_hint().0.min(1 << 20)) };
    let mut buf = Vec::new();
    for invoice in invoices {
        let result = render_invoice(format, invoice, config, &mut buf);
        if result.outcome == Outcome::Exported {
            sink.document(invoice, &buf)?;
        }
        report.results.push(result);
    }
    Ok(report)
}

/// Every problem of every invoice for `format`, without writing anything (a dry run).
pub fn preflight<'a>(
    format: &dyn Format,
    config: &Config,
    invoices: impl IntoIterator<Item = &'a Invoice>,
) -> Vec<Problem> {
    invoices.into_iter().filter(|i| skip_reason(i, config).is_none()).flat_map(|i| format.check(i, config)).collect()
}
