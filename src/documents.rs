//! Documents for a selection of the book: invoice PDFs, a ZIP of them, compiled backups.
//!
//! Every function takes the same explicit selection the [`Book`] takes for its batch actions:
//! at least one invoice, each known to the book and listed once. They only read the book;
//! producing documents never changes an invoice (the book is borrowed immutably).
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use invoice_engine::documents;
//! use invoice_engine::pdf::{BackupOptions, DocumentId, RenderOptions, Renderer, Stamp};
//! use invoice_engine::*;
//! use rust_decimal_macros::dec;
//!
//! let mut book = Book::new(Settings::default());
//! let admin = Actor::new("ana", Role::Administrator);
//! let november = Period::new(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
//! let draft = Invoice::builder(Customer::new("C001", "Müller GmbH"), Currency::EUR)
//!     .billing_period(november)
//!     .line(Line::new("Consulting, November", dec!(37.5), dec!(120.00)).tax_rate(dec!(0.19)))
//!     .build();
//! let id = book.create_invoice(&admin, draft)?;
//! book.issue(&admin, id)?;
//! let journal_before = book.journal().len();
//!
//! let renderer = Renderer::new(RenderOptions::default())?;
//! let stamp = Stamp::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(), DocumentId::from_name("month-end"));
//!
//! let pdfs = documents::render(&book, &[id], &renderer, &stamp)?;
//! assert_eq!(pdfs[0].0, id);
//!
//! let mut zip = Vec::new();
//! let entries = documents::write_zip(&book, &[id], &renderer, &stamp, &mut zip)?;
//! assert_eq!(entries[0].name, "INV-000001.pdf");
//!
//! let dir = std::env::temp_dir().join(format!("invoice-engine-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let no_attachments = |_: &Attachment| -> std::io::Result<Vec<u8>> { Err(std::io::ErrorKind::NotFound.into()) };
//! let report = documents::compile_backups(&book, &[id], &renderer, &no_attachments, &BackupOptions::new(&dir, stamp))?;
//! assert_eq!(report.files.len(), 1);
//! std::fs::remove_dir_all(&dir).unwrap();
//!
//! // An empty selection, an unknown invoice or a duplicate is refused, as the book refuses it.
//! assert_eq!(documents::render(&book, &[], &renderer, &stamp).unwrap_err().code(), "empty_selection");
//! assert_eq!(documents::render(&book, &[InvoiceId(99)], &renderer, &stamp).unwrap_err().code(), "unknown_invoice");
//! assert_eq!(documents::render(&book, &[id, id], &renderer, &stamp).unwrap_err().code(), "duplicate_in_selection");
//! // Nothing changed.
//! assert_eq!(book.journal().len(), journal_before);
//! # Ok::<(), invoice_engine::pdf::Error>(())
//! ```

use std::collections::HashSet;
use std::io::Write;

use invoice_core::{Book, Invoice, InvoiceId};
use invoice_pdf::{AttachmentSource, BackupOptions, BackupReport, Renderer, Result, Stamp, ZipEntry};

/// The invoices of `selection`, checked the way the book checks a selection.
fn select<'b>(book: &'b Book, selection: &[InvoiceId]) -> Result<Vec<&'b Invoice>> {
    if selection.is_empty() {
        return Err(invoice_core::Error::EmptySelection.into());
    }
    let mut seen = HashSet::with_capacity(selection.len());
    let mut out = Vec::with_capacity(selection.len());
    for id in selection {
        let inv = book.invoice(*id)?;
        if !seen.insert(*id) {
            return Err(invoice_core::Error::DuplicateInSelection { invoice: inv.label() }.into());
        }
        out.push(inv);
    }
    Ok(out)
}

/// One PDF per selected invoice, in selection order. Each PDF's id is derived from `stamp` and
/// the invoice's id, so every PDF differs from the others and the same call gives the same bytes.
pub fn render(
    book: &Book,
    selection: &[InvoiceId],
    renderer: &Renderer,
    stamp: &Stamp,
) -> Result<Vec<(InvoiceId, Vec<u8>)>> {
    select(book, selection)?
        .into_iter()
        .map(|inv| Ok((inv.id, renderer.render(inv, &stamp.derive(&format!("invoice/{}", inv.id.0)))?)))
        .collect()
}

/// A ZIP of the selection's PDFs streamed to `w` (see [`invoice_pdf::write_zip`]).
pub fn write_zip<W: Write>(
    book: &Book,
    selection: &[InvoiceId],
    renderer: &Renderer,
    stamp: &Stamp,
    w: W,
) -> Result<Vec<ZipEntry>> {
    invoice_pdf::write_zip(renderer, &select(book, selection)?, stamp, w)
}

/// One backup PDF per billing period of the selection (see [`invoice_pdf::compile_backups`]).
pub fn compile_backups(
    book: &Book,
    selection: &[InvoiceId],
    renderer: &Renderer,
    source: &dyn AttachmentSource,
    options: &BackupOptions,
) -> Result<BackupReport> {
    invoice_pdf::compile_backups(renderer, &select(book, selection)?, source, options)
}
