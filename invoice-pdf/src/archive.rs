//! A ZIP of invoice PDFs: one stored (not deflated) entry per invoice, named after its number
//! made safe, with a fixed timestamp, streamed to any `io::Write`.

use std::collections::HashSet;
use std::io::Write;

use chrono::{Datelike, Timelike};
use invoice_core::Invoice;
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

const MAX_STEM: usize = 96;
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A file name stem from an invoice number: ASCII letters, digits, `-`, `_` and single dots
/// between them; everything else (path separators, `..`, spaces, control characters, non-ASCII)
/// becomes `_`. Never empty, never a Windows device name.
///
/// ```
/// use invoice_pdf::archive::safe_stem;
/// assert_eq!(safe_stem("INV-2026/001"), "INV-2026_001");
/// assert_eq!(safe_stem("../x"), "x");
/// assert_eq!(safe_stem("a/b"), "a_b");
/// assert_eq!(safe_stem("..\\..\\boot.ini"), "boot.ini");
/// assert_eq!(safe_stem("CON"), "CON_");
/// assert_eq!(safe_stem("///"), "invoice");
/// ```
pub fn safe_stem(number: &str) -> String {
    let mapped: String = number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    // Runs of separators: a run holding two or more dots becomes `_`, and so does any run of `_`.
    let mut out = String::with_capacity(mapped.len());
    let chars: Vec<char> = mapped.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if matches!(chars[i], '.' | '_') {
            let start = i;
            while i < chars.len() && matches!(chars[i], '.' | '_') {
                i += 1;
            }
            let run = &chars[start..i];
            let dots = run.iter().filter(|c| **c == '.').count();
            out.push(if dots == 1 && run.len() == 1 { '.' } else { '_' });
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    let trimmed = out.trim_matches(|c| matches!(c, '.' | '_' | '-'));
    let mut stem: String = trimmed.chars().take(MAX_STEM).collect();
    while stem.ends_with(['.', '_', '-']) {
        stem.pop();
    }
    if stem.is_empty() {
        stem = "invoice".into();
    }
    let base = stem.split('.').next().unwrap_or("");
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(base)) {
        stem.push('_');
    }
    stem
}

/// Unique entry names (`{stem}.pdf`, then `{stem}-2.pdf` ...), unique regardless of case.
#[derive(Debug, Default)]
pub(crate) struct Names {
    taken: HashSet<String>,
}

impl Names {
    pub(crate) fn name(&mut self, number: &str) -> String {
        let stem = safe_stem(number);
        let mut n = 1usize;
        loop {
            let name = if n == 1 { format!("{stem}.pdf") } else { format!("{stem}-{n}.pdf") };
            if self.taken.insert(name.to_ascii_lowercase()) {
                return name;
            }
            n += 1;
        }
    }
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
    names: Names,
    options: SimpleFileOptions,
    entries: Vec<ZipEntry>,
}

impl<W: Write> Archive<W> {
    fn new(stamp: &Stamp, w: W) -> Archive<W> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(zip_time(stamp))
            .unix_permissions(0o644);
        Archive { zip: ZipWriter::new_stream(w), names: Names::default(), options, entries: Vec::new() }
    }

    fn add(&mut self, invoice: &str, pdf: &[u8]) -> Result<()> {
        let name = self.names.name(invoice);
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
        items.iter().map(|t| (safe_stem(&label(t)), label(t), id(t), t)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_numbers_give_safe_unique_names() {
        let mut names = Names::default();
        let got: Vec<String> =
            ["../x", "a/b", "a/b", "A_B", "..", "", "x", "C:\\win", "a..b", ".hidden", "-rf", "Ωmega"]
                .iter()
                .map(|n| names.name(n))
                .collect();
        assert_eq!(
            got,
            [
                "x.pdf",
                "a_b.pdf",
                "a_b-2.pdf",
                "A_B-3.pdf",
                "invoice.pdf",
                "invoice-2.pdf",
                "x-2.pdf",
                "C_win.pdf",
                "a_b-4.pdf",
                "hidden.pdf",
                "rf.pdf",
                "mega.pdf"
            ]
        );
        for n in &got {
            assert!(!n.contains('/') && !n.contains('\\') && !n.contains(".."), "{n}");
        }
    }
}
