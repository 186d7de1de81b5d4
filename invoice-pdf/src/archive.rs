//! A ZIP of invoice PDFs: one stored (not deflated) entry per invoice, named after its number
//! made safe, with a fixed timestamp, streamed to any `io::Write`.

use std::io::Write;

use chrono::{Datelike, Timelike};
use invoice_core::{safe_file_stem, Invoice, UniqueNames};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::{Error, Result};
use crate::render::Renderer;
use crate::stamp::Stamp;

/// One entry of a written ZIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The invoice (its number, or `draft #id`).
    pub invoice: String,
    /// The entry's name in the archive.
    pub name: String,
    /// The PDF's size in bytes.
    pub size: u64,
}

/// The ZIP timestamp of `stamp` (DOS time has 2-second steps and starts in 1980).
fn zip_time(stamp: &Stamp) -> DateTime {
    let c = stamp.created;
    let year = u16::try_from(c.year()).unwrap_or(1980);
    DateTime::from_date_and_time(
        year,
        c.month() as u8,
        c.day() as u8,
        c.hour() as u8,
        c.minute() as u8,
        c.second() as u8,
    )
    .unwrap_or_default()
}

/// A ZIP being streamed: stored entries, fixed time, unique safe names.
struct Archive<W: Write> {
    zip: ZipWriter<zip::write::StreamWriter<W>>,
    names: UniqueNames,
    options: SimpleFileOptions,
    entries: Vec<ZipEntry>,
}

impl<W: Write> Archive<W> {
    fn new(stamp: &Stamp, w: W) -> Archive<W> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(zip_time(stamp))
            .unix_permissions(0o644);
        Archive { zip: ZipWriter::new_stream(w), names: UniqueNames::default(), options, entries: Vec::new() }
    }

    fn add(&mut self, invoice: &str, pdf: &[u8]) -> Result<()> {
        let name = self.names.claim(invoice, "pdf");
        self.zip.start_file(name.as_str(), self.options)?;
        self.zip.write_all(pdf)?;
        self.entries.push(ZipEntry { invoice: invoice.to_string(), name, size: pdf.len() as u64 });
        Ok(())
    }

    fn finish(self) -> Result<Vec<ZipEntry>> {
        let mut inner = self.zip.finish()?;
        inner.flush()?;
        Ok(self.entries)
    }
}

/// Sort by entry name (then number and id), so entries come out in name order.
fn sorted<T>(items: &[T], label: impl Fn(&T) -> String, id: impl Fn(&T) -> u64) -> Vec<&T> {
    let mut keyed: Vec<(String, String, u64, &T)> =
        items.iter().map(|t| (safe_file_stem(&label(t)), label(t), id(t), t)).collect();
    keyed.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    keyed.into_iter().map(|k| k.3).collect()
}

/// Render `invoices` and write them as a ZIP to `w`, one stored entry per invoice, in the order
/// of their entry names. Each PDF gets an id [derived](Stamp::derive) from `stamp`. Only one
/// PDF is held in memory at a time.
pub fn write_zip<W: Write>(renderer: &Renderer, invoices: &[&Invoice], stamp: &Stamp, w: W) -> Result<Vec<ZipEntry>> {
    if invoices.is_empty() {
        return Err(Error::EmptySelection);
    }
    let mut archive = Archive::new(stamp, w);
    for inv in sorted(invoices, |i| i.label(), |i| i.id.0) {
        let label = inv.label();
        let pdf = renderer.render(inv, &stamp.derive(&format!("zip/{}/{label}", inv.id.0)))?;
        archive.add(&label, &pdf)?;
    }
    archive.finish()
}

/// Write PDFs that already exist (rendered earlier, or signed copies) as a ZIP to `w`: `pdfs`
/// pairs an invoice number with its PDF; names and order follow the same rules as [`write_zip`].
pub fn write_zip_pdfs<W: Write>(pdfs: &[(&str, &[u8])], stamp: &Stamp, w: W) -> Result<Vec<ZipEntry>> {
    if pdfs.is_empty() {
        return Err(Error::EmptySelection);
    }
    let mut archive = Archive::new(stamp, w);
    for (number, pdf) in sorted(pdfs, |p| p.0.to_string(), |_| 0) {
        archive.add(number, pdf)?;
    }
    archive.finish()
}
