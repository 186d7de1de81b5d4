//! Shared setup of the invoice-pdf benches: a renderer, invoices of a given size, foreign PDFs.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use invoice_core::{Currency, Customer, Invoice, InvoiceId, Line, Period};
use invoice_pdf::{Branding, DocumentId, RenderOptions, Renderer, Stamp};
use rust_decimal::Decimal;

/// Full sizes under `cargo bench`; small ones when `cargo test` runs the benches as a smoke test.
pub fn full() -> bool {
    std::env::args().any(|a| a == "--bench")
}

pub fn stamp(name: &str) -> Stamp {
    Stamp::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).single().unwrap_or_default(), DocumentId::from_name(name))
}

pub fn renderer() -> Renderer {
    let options = RenderOptions {
        branding: Branding {
            name: "Nordlicht Consulting GmbH".into(),
            address_lines: vec!["Hafenstraße 12".into(), "20457 Hamburg".into(), "Germany".into()],
            phone: Some("+49 40 1234567".into()),
            web: Some("https://nordlicht.example".into()),
            message: Some("Please pay within 30 days to IBAN DE89 3704 0044 0532 0130 00.".into()),
            ..Branding::default()
        },
        ..RenderOptions::default()
    };
    Renderer::new(options).expect("the bundled fonts parse")
}

pub fn november() -> Period {
    let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap_or_default();
    Period::new(d(1), d(30))
}

const NAMES: [&str; 6] =
    ["Müller & Söhne KG", "Łukasz Nowak", "Ødegård AS", "Élodie Brûlé SARL", "Жанна Иванова", "Acme Inc."];

/// Invoice `i` with `lines` lines (5 make one page; about 50 fit on a page).
pub fn invoice(i: usize, lines: usize) -> Invoice {
    let rates = [Decimal::new(19, 2), Decimal::new(7, 2), Decimal::ZERO];
    let mut inv = Invoice::builder(
        Customer {
            id: format!("C{:05}", i % 2000),
            name: NAMES[i % NAMES.len()].into(),
            email: Some("ap@customer.example".into()),
            address_lines: vec!["Rue de la Paix 1".into(), "75002 Paris".into()],
            tax_id: None,
        },
        Currency::EUR,
    )
    .number(format!("INV-{:06}", i + 1))
    .issue_date(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default())
    .due_date(NaiveDate::from_ymd_opt(2026, 12, 30).unwrap_or_default())
    .project(format!("PRJ-{:04} rollout", i % 300))
    .billing_period(november())
    .memo("Thank you for your business.")
    .build();
    inv.id = InvoiceId(i as u64 + 1);
    inv.lines = (0..lines)
        .map(|l| {
            let desc = if l % 5 == 4 {
                format!("Workshop {l}: chart of accounts, tax codes and the month-end close checklist, with notes")
            } else {
                format!("Consulting hours, week {}", l % 52 + 1)
            };
            Line::new(desc, Decimal::new((l as i64 % 8 + 1) * 25, 1), Decimal::new(12_000 + (i as i64 % 50) * 100, 2))
                .tax_rate(rates[(i + l) % 3])
        })
        .collect();
    inv
}

/// A foreign `pages`-page PDF (lopdf, Helvetica), as an attachment would be.
pub fn foreign_pdf(label: &str, pages: usize) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for i in 1..=pages {
        let ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 18.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(format!("{label} page {i}"))]),
            Operation::new("ET", vec![]),
        ];
        let content = Content { operations: ops }.encode().expect("content encodes");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id });
        kids.push(Object::Reference(page_id));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => pages as i64, "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("saves");
    out
}
