//! Fixtures and the external checkers (qpdf, pdftotext, pdfinfo) shared by the tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use invoice_core::{Attachment, Currency, Customer, Invoice, InvoiceId, Kind, Line, Period, TaxCategory};
use invoice_pdf::{Branding, DocumentId, RenderOptions, Renderer, Stamp};
use rust_decimal_macros::dec;

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn november() -> Period {
    Period::new(date(2026, 11, 1), date(2026, 11, 30))
}

pub fn december() -> Period {
    Period::new(date(2026, 12, 1), date(2026, 12, 31))
}

pub fn stamp(name: &str) -> Stamp {
    Stamp::new(Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap(), DocumentId::from_name(name))
}

pub fn options() -> RenderOptions {
    RenderOptions {
        branding: Branding {
            name: "Nordlicht Consulting GmbH".into(),
            address_lines: vec!["Hafenstraße 12".into(), "20457 Hamburg".into(), "Germany".into()],
            phone: Some("+49 40 1234567".into()),
            email: Some("billing@nordlicht.example".into()),
            web: Some("https://nordlicht.example".into()),
            tax_id: Some("DE123456789".into()),
            message: Some("Please pay to IBAN DE89 3704 0044 0532 0130 00, quoting the invoice number.".into()),
            logo: None,
        },
        ..RenderOptions::default()
    }
}

pub fn renderer() -> Renderer {
    Renderer::new(options()).unwrap()
}

/// An issued-looking invoice with a number, dates, a period and two tax rates.
pub fn invoice(id: u64, number: &str, customer: &str, period: Option<Period>) -> Invoice {
    let mut b = Invoice::builder(
        Customer {
            id: format!("C{id:03}"),
            name: customer.into(),
            email: Some("ap@customer.example".into()),
            address_lines: vec!["Rue de la Paix 1".into(), "75002 Paris".into()],
            tax_id: Some("FR12345678901".into()),
        },
        Currency::EUR,
    )
    .number(number)
    .issue_date(date(2026, 11, 30))
    .due_date(date(2026, 12, 30))
    .project("PRJ-0042 ERP rollout")
    .line(Line::new("Consulting, November", dec!(37.5), dec!(120.00)).tax_rate(dec!(0.19)))
    .line(Line::new("Travel expenses", dec!(1), dec!(42.50)).tax_rate(dec!(0.07)))
    .memo("Thank you for your business.");
    if let Some(p) = period {
        b = b.billing_period(p);
    }
    let mut inv = b.build();
    inv.id = InvoiceId(id);
    inv
}

/// An invoice with `n` lines, some with long descriptions that wrap.
pub fn long_invoice(id: u64, number: &str, n: usize) -> Invoice {
    let mut inv = invoice(id, number, "Ærøskøbing Ølhandel ApS", Some(november()));
    inv.lines = (0..n)
        .map(|i| {
            let desc = if i % 7 == 3 {
                format!(
                    "Line {i}: implementation workshop with the finance team, covering the chart of accounts, \
                     tax codes, the month-end close checklist and the review of open items"
                )
            } else {
                format!("Line {i}: consulting hours")
            };
            Line::new(desc, dec!(1.5), dec!(80.00)).tax_rate(dec!(0.19))
        })
        .collect();
    inv
}

pub fn credit_note(id: u64, number: &str, credits: &str) -> Invoice {
    let mut inv = invoice(id, number, "Müller & Söhne KG", Some(november()));
    inv.kind = Kind::CreditNote { credits: Some(credits.into()) };
    inv.lines = vec![Line::new("Credit for cancelled workshop", dec!(1), dec!(500.00))
        .tax_rate(dec!(0))
        .tax_category(TaxCategory::ReverseCharge)];
    inv
}

pub fn attachment(name: &str, location: &str) -> Attachment {
    Attachment { name: name.into(), location: location.into() }
}

/// A fresh, empty scratch directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join(format!("invoice-pdf-{}-{name}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tool(name: &str) -> Command {
    let found = Command::new("which").arg(name).output().map(|o| o.status.success()).unwrap_or(false);
    assert!(found, "the tests need `{name}` on PATH (Debian: apt-get install -y qpdf poppler-utils); it is missing");
    Command::new(name)
}

/// Write `pdf` to a scratch file and return its path.
pub fn write_pdf(pdf: &[u8], name: &str) -> PathBuf {
    let dir = scratch("pdf");
    let path = dir.join(name);
    std::fs::write(&path, pdf).unwrap();
    path
}

/// `qpdf --check` must pass without warnings.
pub fn qpdf_check(path: &Path) {
    let out = tool("qpdf").arg("--check").arg(path).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "qpdf --check {} failed:\n{text}", path.display());
    assert!(!text.contains("WARNING"), "qpdf --check {} warned:\n{text}", path.display());
}

pub fn qpdf_check_bytes(pdf: &[u8], name: &str) {
    qpdf_check(&write_pdf(pdf, name));
}

/// The text layer, as `pdftotext -layout` extracts it.
pub fn pdftotext(path: &Path) -> String {
    let out = tool("pdftotext").arg("-layout").arg("-enc").arg("UTF-8").arg(path).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub fn pdftotext_bytes(pdf: &[u8]) -> String {
    pdftotext(&write_pdf(pdf, "text.pdf"))
}

/// The page count `pdfinfo` reports.
pub fn pdfinfo_pages(path: &Path) -> usize {
    let out = tool("pdfinfo").arg(path).output().unwrap();
    assert!(out.status.success(), "pdfinfo failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or_else(|| panic!("no page count in pdfinfo output:\n{text}"))
}

pub fn pdfinfo_pages_bytes(pdf: &[u8]) -> usize {
    pdfinfo_pages(&write_pdf(pdf, "info.pdf"))
}

/// A small foreign PDF made with lopdf: `pages` pages reading "{label} page {i}", with the media
/// box and resources inherited from the page tree (as many producers do). With `object_streams`
/// it is saved with object and xref streams (PDF 1.5).
pub fn foreign_pdf(label: &str, pages: usize, object_streams: bool) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for i in 1..=pages {
        let content = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 18.into()]),
                Operation::new("Td", vec![72.into(), 700.into()]),
                Operation::new("Tj", vec![Object::string_literal(format!("{label} page {i}"))]),
                Operation::new("ET", vec![]),
            ],
        };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        kids.push(Object::Reference(page_id));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => pages as i64,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let info_id = doc.add_object(dictionary! { "Title" => Object::string_literal(label) });
    doc.trailer.set("Info", info_id);
    let mut out = Vec::new();
    if object_streams {
        doc.save_with_options(
            &mut out,
            lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).build(),
        )
        .unwrap();
    } else {
        doc.save_to(&mut out).unwrap();
    }
    out
}

/// Encrypt `pdf` with qpdf (AES-256); `user` may be empty (opens without a password).
pub fn encrypted(pdf: &[u8], user: &str) -> Vec<u8> {
    let dir = scratch("enc");
    let (input, output) = (dir.join("in.pdf"), dir.join("out.pdf"));
    std::fs::write(&input, pdf).unwrap();
    let status =
        tool("qpdf").args(["--encrypt", user, "owner-secret", "256", "--"]).arg(&input).arg(&output).status().unwrap();
    assert!(status.success(), "qpdf --encrypt failed");
    std::fs::read(output).unwrap()
}

/// `pdftotext` of pages `first..=last` (1-based).
pub fn page_text(path: &Path, first: usize, last: usize) -> String {
    let out = tool("pdftotext")
        .args(["-layout", "-enc", "UTF-8", "-f", &first.to_string(), "-l", &last.to_string()])
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Files in `dir`, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}
