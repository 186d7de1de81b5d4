//! invoice-pdf: the documents a person or an accountant receives — one PDF per invoice
//! ([`Renderer`]), a ZIP of a selection's PDFs ([`write_zip`]), and compiled backups
//! ([`compile_backups`]: one PDF per billing period holding each invoice, or its signed
//! version, followed by its PDF attachments). It reads invoices from `invoice-core` and never
//! changes them.
//!
//! Text is real text in an embedded, subset Unicode font (DejaVu Sans ships with the crate), so
//! Latin, Greek and Cyrillic names render and can be extracted; register fallback fonts for other
//! scripts. A character no registered font has is an error naming it and the invoice. Output is
//! deterministic: the creation date and document id come from the caller ([`Stamp`]).
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use invoice_core::{Currency, Customer, Invoice, Line};
//! use invoice_pdf::{write_zip, DocumentId, RenderOptions, Renderer, Stamp};
//! use rust_decimal_macros::dec;
//!
//! let mut options = RenderOptions::default();
//! options.branding.name = "Nordlicht Consulting GmbH".into();
//! options.branding.address_lines = vec!["Hafenstraße 12".into(), "20457 Hamburg".into()];
//! let renderer = Renderer::new(options)?;
//!
//! let invoice = Invoice::builder(Customer::new("C7", "Ødegård AS"), Currency::NOK)
//!     .number("INV-000042")
//!     .line(Line::new("Consulting, November", dec!(12.5), dec!(1450)).tax_rate(dec!(0.25)))
//!     .build();
//! let stamp = Stamp::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(), DocumentId::from_name("run-1"));
//!
//! let pdf = renderer.render(&invoice, &stamp)?;
//! assert!(pdf.starts_with(b"%PDF-"));
//!
//! let mut zip = Vec::new();
//! let entries = write_zip(&renderer, &[&invoice], &stamp, &mut zip)?;
//! assert_eq!(entries[0].name, "INV-000042.pdf");
//! # Ok::<(), invoice_pdf::Error>(())
//! ```
//!
//! # Features
//!
//! This crate has no optional features. It uses printpdf (with `text_layout` only) to parse and
//! subset fonts and writes the PDF objects itself, flate2 to compress streams, lopdf for reading
//! and merging, and zip without compression codecs (entries are stored: PDFs are compressed
//! already).
//!
//! # Main types
//!
//! - [`Renderer`], [`RenderOptions`] ([`Branding`], [`Logo`], [`Labels`], [`PageSize`]) and
//!   [`Stamp`]: rendering.
//! - [`write_zip`], [`write_zip_pdfs`] and [`ZipEntry`]: archives.
//! - [`compile_backups`], [`BackupOptions`], [`AttachmentSource`] ([`FsSource`]) and
//!   [`BackupReport`]: backups.
//! - [`Error`]: every failure, with a stable code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod archive;
pub mod backup;
mod canvas;
pub mod error;
mod fonts;
pub mod format;
mod layout;
mod merge;
pub mod options;
pub mod render;
pub mod stamp;
mod writer;

pub use archive::{write_zip, write_zip_pdfs, ZipEntry};
pub use backup::{
    compile_backups, AttachmentSource, BackupEntry, BackupFile, BackupOptions, BackupReport, FsSource, Placement,
    Skipped,
};
pub use error::{Error, Result, Unreadable};
pub use format::NumberFormat;
pub use options::{Branding, Labels, Logo, PageSize, PixelFormat, RenderOptions};
pub use render::{Rendered, Renderer};
pub use stamp::{DocumentId, Stamp};
