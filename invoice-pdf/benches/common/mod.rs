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

/// The month-end dataset of the issues (`shared/bench/gen_dataset.py 100000 1`): the file named
/// by `INVOICE_DATASET`, else `/tmp/ds100k.jsonl`, else the peers' copy in
/// `$PEER_BENCH/out/invoices_100k.jsonl` (default `../peer-bench`, next to the repository).
pub fn dataset_path() -> Option<std::path::PathBuf> {
    let peer = std::env::var("PEER_BENCH").unwrap_or_else(|_| "../peer-bench".into());
    let candidates = [
        std::env::var("INVOICE_DATASET").ok().map(Into::into),
        Some("/tmp/ds100k.jsonl".into()),
        Some(std::path::Path::new(&peer).join("out/invoices_100k.jsonl")),
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peer-bench/out/invoices_100k.jsonl")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// The first `n` invoices of the dataset, or `None` when there is no dataset file. Each gets
/// `InvoiceId(i + 1)`.
pub fn dataset(n: usize) -> Option<Vec<Invoice>> {
    use std::io::BufRead;
    let path = dataset_path()?;
    let file = std::fs::File::open(&path).ok()?;
    let mut out = Vec::with_capacity(n);
    for (i, line) in std::io::BufReader::new(file).lines().take(n).enumerate() {
        let line = line.expect("dataset reads");
        let mut inv = parse_record(&line).unwrap_or_else(|e| panic!("{}: line {}: {e}", path.display(), i + 1));
        inv.id = InvoiceId(i as u64 + 1);
        out.push(inv);
    }
    Some(out)
}

/// One line of the dataset as an invoice (the fields the renderer shows).
fn parse_record(text: &str) -> Result<Invoice, String> {
    use invoice_core::Kind;
    use serde_json::Value;
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let req = |v: &Value, k: &str| s(v, k).ok_or_else(|| format!("{k} missing"));
    let dec = |v: &Value, k: &str| -> Result<Decimal, String> {
        req(v, k)?.parse::<Decimal>().map_err(|e| format!("{k}: {e}"))
    };
    let day = |v: &Value, k: &str| -> Result<Option<NaiveDate>, String> {
        s(v, k).map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| format!("{k}: {e}"))).transpose()
    };
    let c = v.get("customer").ok_or("customer missing")?;
    let customer = Customer {
        id: req(c, "id")?,
        name: req(c, "name")?,
        email: s(c, "email"),
        address_lines: c
            .get("address_lines")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default(),
        tax_id: None,
    };
    let currency: Currency = req(&v, "currency")?.parse().map_err(|e: invoice_core::Error| e.to_string())?;
    let kind = match s(&v, "kind").as_deref() {
        Some("credit_note") => Kind::CreditNote { credits: s(&v, "credits") },
        _ => Kind::Invoice,
    };
    let mut lines = Vec::new();
    for l in v.get("lines").and_then(Value::as_array).ok_or("lines missing")? {
        let mut line =
            Line::new(req(l, "description")?, dec(l, "quantity")?, dec(l, "unit_price")?).tax_rate(dec(l, "tax_rate")?);
        line.item = s(l, "item");
        line.gl_account = s(l, "account");
        lines.push(line);
    }
    let mut inv = Invoice::builder(customer, currency).number(req(&v, "number")?).kind(kind).lines(lines).build();
    inv.project = s(&v, "project").filter(|p| !p.is_empty());
    inv.issue_date = day(&v, "issue_date")?;
    inv.due_date = day(&v, "due_date")?;
    inv.memo = s(&v, "memo").unwrap_or_default();
    if let Some(p) = v.get("billing_period") {
        if let (Some(a), Some(b)) = (day(p, "start")?, day(p, "end")?) {
            inv.billing_period = Some(Period::new(a, b));
        }
    }
    Ok(inv)
}

/// The CJK font the dataset's Japanese names need (DejaVu has none): `CJK_FONT`, else Debian's
/// fonts-droid-fallback.
pub const CJK_FONT: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";

/// The bench renderer with a CJK fallback registered, for the dataset's Japanese names; `None`
/// (with the install hint printed) when the font is missing: the engine refuses a glyph it has
/// not, where the peers print blanks or boxes.
pub fn dataset_renderer() -> Option<Renderer> {
    let path = std::env::var("CJK_FONT").unwrap_or_else(|_| CJK_FONT.into());
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("the dataset has Japanese names: {path}: {e} (apt-get install -y fonts-droid-fallback)");
            return None;
        }
    };
    let mut r = renderer();
    r.register_font("Droid Sans Fallback", &bytes).expect("the CJK font parses");
    Some(r)
}

/// The invoices the render and ZIP benches use: the first `n` of the dataset when there is one
/// (and the CJK font), else `n` synthetic one-page invoices; with the renderer that draws them.
pub fn bench_invoices(n: usize) -> (Vec<Invoice>, Renderer, &'static str) {
    if let Some(invoices) = dataset(n) {
        if let Some(r) = dataset_renderer() {
            return (invoices, r, "dataset");
        }
    }
    eprintln!("no dataset file (see common::dataset_path) or no CJK font: synthetic invoices instead");
    ((0..n).map(|i| invoice(i, 5)).collect(), renderer(), "synthetic")
}

/// The peers' merge workload (shared/bench workload C) for the engine: the first 1,000 invoices
/// of the dataset, every third followed by its two-page attachment, in one billing period (the
/// peers merge into one PDF). Attachments are the peers' own files
/// (`$PEER_BENCH/out/attachments/NUMBER-att.pdf`) when present, else synthetic two-page PDFs
/// written to `scratch`. Returns the invoices, the renderer, the attachments' root directory and
/// their total size; `None` without the dataset or the CJK font.
pub fn merge_workload(scratch: &std::path::Path) -> Option<(Vec<Invoice>, Renderer, std::path::PathBuf, usize)> {
    let mut invoices = dataset(1000)?;
    let renderer = dataset_renderer()?;
    let peer = std::env::var("PEER_BENCH").unwrap_or_else(|_| "../peer-bench".into());
    let mut root = std::path::Path::new(&peer).join("out/attachments");
    if !root.is_dir() {
        root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peer-bench/out/attachments");
    }
    let synthetic = !root.is_dir();
    if synthetic {
        eprintln!("no peer attachments: synthetic two-page PDFs instead");
        root = scratch.join("attachments");
        std::fs::create_dir_all(&root).expect("attachments dir");
    }
    let period = invoices[0].billing_period;
    let mut size = 0;
    for (i, inv) in invoices.iter_mut().enumerate() {
        inv.billing_period = period;
        if (i + 1) % 3 == 0 {
            let name = format!("{}-att.pdf", inv.number.clone().unwrap_or_default());
            let path = root.join(&name);
            if synthetic {
                std::fs::write(&path, foreign_pdf(&name, 2)).expect("attachment written");
            }
            size += std::fs::metadata(&path).map(|m| m.len() as usize).expect("attachment exists");
            inv.attachments.push(invoice_core::Attachment { name: "Timesheet".into(), location: name });
        }
    }
    Some((invoices, renderer, root, size))
}

/// User and system CPU seconds of this process so far (Linux `/proc/self/stat`, clock ticks of
/// 1/100 s), to compare with the peers' user time; `None` elsewhere.
pub fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok().map(|t| t / 100.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    Some((ticks(11)?, ticks(12)?))
}

/// Run `f` once; print its wall time and the process's user and system CPU time it took.
pub fn report_cpu(label: &str, f: impl FnOnce()) {
    let start = std::time::Instant::now();
    let before = cpu_seconds();
    f();
    let wall = start.elapsed().as_secs_f64();
    match (before, cpu_seconds()) {
        (Some((u0, s0)), Some((u1, s1))) => {
            eprintln!("{label}: wall {wall:.3} s, user {:.2} s, sys {:.2} s", u1 - u0, s1 - s0)
        }
        _ => eprintln!("{label}: wall {wall:.3} s"),
    }
}
