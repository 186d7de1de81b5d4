//! ZIP of PDFs: entries and bytes read back with the zip crate, safe unique names, stored
//! entries with fixed timestamps, streaming to a writer that cannot seek.

mod common;

use std::io::{Cursor, Read, Write};

use common::*;
use invoice_core::Invoice;
use invoice_pdf::{write_zip, write_zip_pdfs};
use zip::{CompressionMethod, ZipArchive};

/// A writer that only writes (no `Seek`), like a socket or a pipe.
struct Sink(Vec<u8>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn zip_of(invoices: &[Invoice], name: &str) -> (Vec<u8>, Vec<invoice_pdf::ZipEntry>) {
    let refs: Vec<&Invoice> = invoices.iter().collect();
    let mut sink = Sink(Vec::new());
    let entries = write_zip(&renderer(), &refs, &stamp(name), &mut sink).unwrap();
    (sink.0, entries)
}

#[test]
fn entries_and_their_bytes_read_back() {
    let invoices = vec![
        invoice(3, "INV-000003", "Ødegård AS", Some(november())),
        invoice(1, "INV-000001", "Łukasz Nowak", Some(november())),
        credit_note(2, "CN-000001", "INV-000001"),
    ];
    let (bytes, entries) = zip_of(&invoices, "zip");
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["CN-000001.pdf", "INV-000001.pdf", "INV-000003.pdf"], "entries are sorted by name");

    let mut archive = ZipArchive::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(archive.len(), 3);
    for (i, entry) in entries.iter().enumerate() {
        let mut file = archive.by_index(i).unwrap();
        assert_eq!(file.name(), entry.name);
        assert_eq!(file.compression(), CompressionMethod::Stored, "PDFs are stored, not deflated");
        let t = file.last_modified().unwrap();
        assert_eq!((t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second()), (2026, 12, 1, 9, 30, 0));
        assert_eq!(file.size(), entry.size);
        let mut pdf = Vec::new();
        file.read_to_end(&mut pdf).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let path = write_pdf(&pdf, &entry.name);
        qpdf_check(&path);
        let text = pdftotext(&path);
        assert!(text.contains(&entry.invoice), "{} does not show {}", entry.name, entry.invoice);
    }
    let text = {
        let mut f = archive.by_name("INV-000001.pdf").unwrap();
        let mut pdf = Vec::new();
        f.read_to_end(&mut pdf).unwrap();
        pdftotext_bytes(&pdf)
    };
    assert!(text.contains("Łukasz Nowak") && text.contains("5,400.48"), "{text}");
}

#[test]
fn hostile_invoice_numbers_give_safe_unique_names() {
    let numbers = ["../x", "a/b", "a/b", "..", "/etc/passwd", "C:\\Windows\\system.ini", "x", "NUL", "A/B", " "];
    let invoices: Vec<Invoice> =
        numbers.iter().enumerate().map(|(i, n)| invoice(i as u64 + 1, n, "Müller", Some(november()))).collect();
    let (bytes, entries) = zip_of(&invoices, "hostile");
    let mut archive = ZipArchive::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(archive.len(), numbers.len());
    let mut seen = std::collections::HashSet::new();
    for i in 0..archive.len() {
        let file = archive.by_index(i).unwrap();
        let name = file.name().to_string();
        assert!(file.enclosed_name().is_some(), "{name} would escape the extraction directory");
        assert!(!name.contains('/') && !name.contains('\\') && !name.contains(".."), "{name}");
        assert!(!name.starts_with('.') && !name.starts_with('-'), "{name}");
        assert!(name.ends_with(".pdf"), "{name}");
        assert!(seen.insert(name.to_ascii_lowercase()), "{name} is not unique (ignoring case)");
    }
    // Every invoice is in the ZIP exactly once, under its own entry.
    let mut invoices_in_zip: Vec<&str> = entries.iter().map(|e| e.invoice.as_str()).collect();
    invoices_in_zip.sort();
    let mut expected: Vec<&str> = numbers.to_vec();
    expected.sort();
    assert_eq!(invoices_in_zip, expected);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"x.pdf") && names.contains(&"x-2.pdf"), "{names:?}");
    // Sorted by name first ("A_B" < "a_b"), then numbered; unique regardless of case.
    assert!(names.contains(&"A_B.pdf") && names.contains(&"a_b-2.pdf") && names.contains(&"a_b-3.pdf"), "{names:?}");
    assert!(names.contains(&"NUL_.pdf"), "{names:?}");
}

#[test]
fn same_selection_same_zip_bytes() {
    let invoices = vec![invoice(1, "INV-1", "A", Some(november())), invoice(2, "INV-2", "B", Some(december()))];
    let (a, _) = zip_of(&invoices, "same");
    let (b, _) = zip_of(&invoices, "same");
    assert!(a == b, "two ZIPs of the same selection differ");
    let (c, _) = zip_of(&invoices, "other-stamp");
    assert!(a != c);
}

#[test]
fn empty_selection_is_refused() {
    let err = write_zip(&renderer(), &[], &stamp("empty"), Vec::new()).unwrap_err();
    assert_eq!(err.code(), "empty_selection");
}

#[test]
fn an_invoice_that_cannot_render_stops_the_zip_with_its_name() {
    let invoices = [invoice(1, "INV-OK", "A", None), invoice(2, "INV-CJK", "株式会社", None)];
    let refs: Vec<&Invoice> = invoices.iter().collect();
    let err = write_zip(&renderer(), &refs, &stamp("cjk"), Vec::new()).unwrap_err();
    assert_eq!(err.code(), "missing_glyph");
    assert!(err.to_string().contains("INV-CJK"));
}

#[test]
fn pdfs_rendered_earlier_zip_as_they_are() {
    let r = renderer();
    let a = r.render(&invoice(1, "INV-9", "A", None), &stamp("a")).unwrap();
    let b = r.render(&invoice(2, "INV-10", "B", None), &stamp("b")).unwrap();
    let mut sink = Sink(Vec::new());
    let entries = write_zip_pdfs(&[("INV-9", &a), ("INV-10", &b), ("INV-9", &b)], &stamp("z"), &mut sink).unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["INV-10.pdf", "INV-9.pdf", "INV-9-2.pdf"]);
    let mut archive = ZipArchive::new(Cursor::new(sink.0)).unwrap();
    let mut got = Vec::new();
    archive.by_name("INV-9.pdf").unwrap().read_to_end(&mut got).unwrap();
    assert!(got == a, "the PDF comes back byte for byte");
    assert_eq!(write_zip_pdfs(&[], &stamp("z"), Vec::new()).unwrap_err().code(), "empty_selection");
}
