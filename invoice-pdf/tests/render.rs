//! Rendering one invoice: real text, layout over pages, labels, decimals, determinism, fonts.

mod common;

use common::*;
use invoice_core::{Currency, Customer, Invoice, Kind, Line};
use invoice_pdf::{DocumentId, Logo, PageSize, PixelFormat, Renderer, Stamp};
use rust_decimal_macros::dec;

#[test]
fn text_layer_has_number_customer_and_total_including_non_ascii_names() {
    let r = renderer();
    let names =
        ["Łukasz Nowak", "Жанна Иванова", "Ωmega Σύμβουλοι ΑΕ", "Ødegård Ølhandel", "Müller & Söhne", "Élodie Brûlé"];
    for (i, name) in names.iter().enumerate() {
        let number = format!("INV-2026-{:04}", i + 1);
        let inv = invoice(i as u64 + 1, &number, name, Some(november()));
        let pdf = r.render(&inv, &stamp(&number)).unwrap();
        let path = write_pdf(&pdf, "invoice.pdf");
        qpdf_check(&path);
        let text = pdftotext(&path);
        assert!(text.contains(&number), "{number} missing:\n{text}");
        assert!(text.contains(name), "{name} missing:\n{text}");
        // 37.5 x 120.00 at 19 % + 42.50 at 7 %: 4,542.50 net, 857.98 tax.
        assert!(text.contains("5,400.48"), "total missing:\n{text}");
        assert!(text.contains("Total EUR"), "{text}");
        assert!(text.contains("Page 1 of 1"), "{text}");
        assert_eq!(pdfinfo_pages(&path), 1);
    }
}

#[test]
fn page_shows_branding_meta_and_tax_breakdown() {
    let inv = invoice(1, "INV-000001", "Müller & Söhne", Some(november()));
    let text = pdftotext_bytes(&renderer().render(&inv, &stamp("x")).unwrap());
    for expected in [
        "Nordlicht Consulting GmbH",
        "Hafenstraße 12",
        "+49 40 1234567",
        "https://nordlicht.example",
        "Please pay to IBAN",
        "Issue date",
        "2026-11-30",
        "2026-12-30",
        "Net 30 days",
        "PRJ-0042 ERP rollout",
        "2026-11-01 – 2026-11-30",
        "Rue de la Paix 1",
        "Tax 19 % on 4,500.00",
        "855.00",
        "Tax 7 % on 42.50",
        "2.98",
        "4,542.50",
        "Thank you for your business.",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
}

#[test]
fn sixty_lines_span_several_pages_with_page_n_of_m_and_repeated_header() {
    let inv = long_invoice(2, "INV-000060", 60);
    let pdf = renderer().render(&inv, &stamp("long")).unwrap();
    let path = write_pdf(&pdf, "long.pdf");
    qpdf_check(&path);
    let pages = pdfinfo_pages(&path);
    assert!(pages >= 2, "60 lines on {pages} page(s)");
    let text = pdftotext(&path);
    let per_page: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(per_page.len(), pages);
    for (i, page) in per_page.iter().enumerate() {
        assert!(page.contains(&format!("Page {} of {pages}", i + 1)), "page {} has no footer:\n{page}", i + 1);
        assert!(page.contains("Description") && page.contains("Amount (EUR)"), "page {} has no header row", i + 1);
    }
    for i in 0..60 {
        let needle = format!("Line {i}:");
        assert_eq!(text.matches(&needle).count(), 1, "{needle} should appear exactly once");
    }
    assert!(per_page.last().unwrap().contains("8,568.00"), "the total closes the last page");
    assert!(per_page[1].contains("(continued)"));
}

#[test]
fn a_description_longer_than_a_page_is_split_across_pages() {
    let mut inv = invoice(3, "INV-LONGROW", "Kunde", Some(november()));
    let desc: String = (0..150).map(|i| format!("Step {i} of the migration.\n")).collect();
    inv.lines = vec![Line::new(desc, dec!(1), dec!(10)).tax_rate(dec!(0.19))];
    let pdf = renderer().render(&inv, &stamp("row")).unwrap();
    let path = write_pdf(&pdf, "row.pdf");
    qpdf_check(&path);
    assert!(pdfinfo_pages(&path) >= 3);
    let text = pdftotext(&path);
    for i in [0, 75, 149] {
        assert!(text.contains(&format!("Step {i} of the migration.")), "step {i} missing");
    }
}

#[test]
fn credit_notes_and_adjustments_are_labelled() {
    let r = renderer();
    let cn = credit_note(5, "CN-000001", "INV-000001");
    let text = pdftotext_bytes(&r.render(&cn, &stamp("cn")).unwrap());
    assert!(text.contains("Credit note"), "{text}");
    assert!(text.contains("Credits invoice") && text.contains("INV-000001"), "{text}");
    assert!(text.contains("Total credit EUR") && text.contains("500.00"), "{text}");
    assert!(text.contains("0 % AE") && text.contains("reverse charge"), "{text}");

    let mut adj = invoice(6, "ADJ-000001", "Müller & Söhne", Some(november()));
    adj.kind = Kind::Adjustment { corrects: "INV-000003".into() };
    let text = pdftotext_bytes(&r.render(&adj, &stamp("adj")).unwrap());
    assert!(text.contains("Adjustment invoice"), "{text}");
    assert!(text.contains("Corrects invoice") && text.contains("INV-000003"), "{text}");

    let mut draft = invoice(7, "unused", "Müller & Söhne", None);
    draft.number = None;
    let text = pdftotext_bytes(&r.render(&draft, &stamp("draft")).unwrap());
    assert!(text.contains("Draft invoice") && text.contains("draft #7"), "{text}");
}

#[test]
fn amounts_have_the_currency_decimals() {
    let r = renderer();
    let jpy = Invoice::builder(Customer::new("J1", "Yamada Shoji"), Currency::JPY)
        .number("JP-1")
        .line(Line::new("Beratung", dec!(2.5), dec!(10001)).tax_rate(dec!(0.10)))
        .build();
    let text = pdftotext_bytes(&r.render(&jpy, &stamp("jpy")).unwrap());
    // 25,002.5 -> 25,003 (half away from zero); tax 2,500; total 27,503.
    assert!(text.contains("25,003") && text.contains("27,503") && text.contains("Total JPY"), "{text}");
    assert!(!text.contains("27,503.0"), "{text}");

    let kwd = Invoice::builder(Customer::new("K1", "Al-Kuwait Trading"), Currency::KWD)
        .number("KW-1")
        .line(Line::new("Service", dec!(3), dec!(1.2345)).tax_rate(dec!(0.05)))
        .build();
    let text = pdftotext_bytes(&r.render(&kwd, &stamp("kwd")).unwrap());
    // Unit price keeps its four decimals; 3.704 net, 0.185 tax, 3.889 total.
    assert!(text.contains("1.2345") && text.contains("3.704") && text.contains("3.889"), "{text}");
}

#[test]
fn same_input_same_bytes_and_ids_from_the_caller() {
    let r = renderer();
    let inv = invoice(1, "INV-000001", "Łukasz Nowak", Some(november()));
    let s = stamp("fixed");
    let a = r.render(&inv, &s).unwrap();
    // printpdf's own id counter moves with every document; ours must not depend on it.
    for i in 0..3 {
        r.render(&invoice(9, "OTHER", "Other", None), &stamp(&format!("other{i}"))).unwrap();
    }
    let b = r.render(&inv, &s).unwrap();
    assert!(a == b, "the same invoice and stamp rendered to different bytes");
    let c = renderer().render(&inv, &s).unwrap();
    assert!(a == c, "a second renderer rendered different bytes");

    let other = r.render(&inv, &Stamp::new(s.created, DocumentId::from_name("another"))).unwrap();
    assert!(a != other);

    let doc = lopdf::Document::load_mem(&a).unwrap();
    let ids = doc.trailer.get(b"ID").unwrap().as_array().unwrap();
    assert_eq!(ids.len(), 2);
    for id in ids {
        assert_eq!(id.as_str().unwrap(), s.id.to_string().as_bytes());
    }
    let info = doc.get_dictionary(doc.trailer.get(b"Info").unwrap().as_reference().unwrap()).unwrap();
    assert_eq!(info.get(b"CreationDate").unwrap().as_str().unwrap(), b"D:20261201093000+00'00'");

    let tags = |pdf: &[u8]| -> Vec<String> {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        let mut names: Vec<String> = doc
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .filter(|d| d.has_type(b"Font"))
            .filter_map(|d| d.get(b"BaseFont").ok()?.as_name().ok().map(|n| String::from_utf8_lossy(n).into_owned()))
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let t = tags(&a);
    assert!(t.iter().any(|n| n.ends_with("+DejaVuSans")), "{t:?}");
    assert!(t.iter().all(|n| n.len() > 7 && n.as_bytes()[6] == b'+'), "subset tags missing: {t:?}");
    assert_ne!(t, tags(&other), "subset tags must follow the document id");
}

#[test]
fn a_character_no_font_has_is_an_error_naming_it_and_the_invoice() {
    let r = renderer();
    let inv = invoice(1, "INV-CJK-1", "株式会社ニコン", Some(november()));
    let err = r.render(&inv, &stamp("cjk")).unwrap_err();
    assert_eq!(err.code(), "missing_glyph");
    match &err {
        invoice_pdf::Error::MissingGlyph { invoice, character } => {
            assert_eq!(invoice, "INV-CJK-1");
            assert_eq!(*character, '株');
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("INV-CJK-1") && err.to_string().contains('株'), "{err}");

    // In a line description too.
    let mut inv = invoice(2, "INV-CJK-2", "Müller", Some(november()));
    inv.lines[0].description = "Review with क".into();
    let Err(err) = r.render(&inv, &stamp("deva")) else { panic!("a Devanagari letter must be refused") };
    assert!(matches!(err, invoice_pdf::Error::MissingGlyph { character: 'क', .. }), "{err:?}");
}

#[test]
fn a_registered_fallback_font_supplies_missing_glyphs() {
    // DejaVu Sans Mono (Debian fonts-dejavu-core) has box-drawing and APL glyphs Sans lacks.
    let path = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
    let bytes = std::fs::read(path)
        .unwrap_or_else(|e| panic!("this test needs {path} (apt-get install -y fonts-dejavu-core): {e}"));
    let probe = fallback_only_char(&bytes);
    let mut r = renderer();
    let inv = invoice(1, "INV-FB-1", &format!("Fallback {probe} GmbH"), Some(november()));
    assert_eq!(r.render(&inv, &stamp("fb")).unwrap_err().code(), "missing_glyph");
    r.register_font("DejaVu Sans Mono", &bytes).unwrap();
    let pdf = r.render(&inv, &stamp("fb")).unwrap();
    let path = write_pdf(&pdf, "fallback.pdf");
    qpdf_check(&path);
    assert!(pdftotext(&path).contains(&format!("Fallback {probe} GmbH")));
    assert_eq!(r.register_font("junk", b"not a font").unwrap_err().code(), "invalid_font");
}

#[test]
fn cached_font_subsets_give_the_bytes_a_fresh_renderer_gives() {
    // A registered face has its own subset cache: one renderer renders cold, the other after
    // other documents filled its cache (with the same glyph set and with others).
    let path = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
    let bytes = std::fs::read(path)
        .unwrap_or_else(|e| panic!("this test needs {path} (apt-get install -y fonts-dejavu-core): {e}"));
    let probe = fallback_only_char(&bytes);
    let inv = invoice(1, "INV-CACHE-1", &format!("Cache {probe} AG"), Some(november()));
    let mut cold = renderer();
    cold.register_font("DejaVu Sans Mono", &bytes).unwrap();
    let mut warm = renderer();
    warm.register_font("DejaVu Sans Mono", &bytes).unwrap();
    for i in 0..3 {
        let other = invoice(2 + i, &format!("INV-W-{i}"), &format!("Warm {probe}{i} Ωmega"), Some(november()));
        warm.render(&other, &stamp(&format!("warm{i}"))).unwrap();
        warm.render(&inv, &stamp(&format!("same{i}"))).unwrap();
    }
    let a = cold.render(&inv, &stamp("cache")).unwrap();
    let b = warm.render(&inv, &stamp("cache")).unwrap();
    assert!(a == b, "a cached subset changed the document");
    let path = write_pdf(&a, "cache.pdf");
    qpdf_check(&path);
    assert!(pdftotext(&path).contains(&format!("Cache {probe} AG")));
    // One PDF per invoice and one PDF of many agree on the text too.
    let all = warm.render_all(&[&inv, &inv], &stamp("cache-all"), "t").unwrap();
    let path = write_pdf(&all.pdf, "cache-all.pdf");
    qpdf_check(&path);
    assert_eq!(pdftotext(&path).matches(&format!("Cache {probe} AG")).count(), 2);
}

/// A character the fallback has and the bundled regular face lacks.
fn fallback_only_char(fallback: &[u8]) -> char {
    let parse = |b: &[u8]| printpdf::ParsedFont::from_bytes(b, 0, &mut Vec::new()).unwrap();
    let sans = parse(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fonts/DejaVuSans.ttf")).unwrap());
    let other = parse(fallback);
    (0x2000u32..0x3000)
        .filter_map(char::from_u32)
        .find(|c| {
            let has = |f: &printpdf::ParsedFont| f.lookup_glyph_index(u32::from(*c)).is_some_and(|g| g != 0);
            !has(&sans) && has(&other)
        })
        .expect("DejaVu Sans Mono covers nothing DejaVu Sans lacks in U+2000..U+3000")
}

#[test]
fn letter_and_a4() {
    let mut o = options();
    o.page_size = PageSize::Letter;
    let inv = invoice(1, "INV-US-1", "Acme Inc.", Some(november()));
    let pdf = Renderer::new(o).unwrap().render(&inv, &stamp("us")).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let page = doc.get_dictionary(doc.get_pages()[&1]).unwrap();
    let mb: Vec<f32> =
        page.get(b"MediaBox").unwrap().as_array().unwrap().iter().map(|v| v.as_float().unwrap()).collect();
    assert_eq!(mb, vec![0.0, 0.0, 612.0, 792.0]);
    let pdf = renderer().render(&inv, &stamp("eu")).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let page = doc.get_dictionary(doc.get_pages()[&1]).unwrap();
    let w = page.get(b"MediaBox").unwrap().as_array().unwrap()[2].as_float().unwrap();
    assert!((w - 595.28).abs() < 0.01);
}

#[test]
fn logo_is_embedded_as_an_image() {
    let mut o = options();
    let (w, h) = (60u32, 20u32);
    let pixels: Vec<u8> = (0..w * h).flat_map(|i| [(i % 255) as u8, 80, 160, 255]).collect();
    o.branding.logo = Some(Logo::new(w, h, PixelFormat::Rgba8, pixels).unwrap());
    let inv = invoice(1, "INV-LOGO-1", "Müller", Some(november()));
    let pdf = Renderer::new(o).unwrap().render(&inv, &stamp("logo")).unwrap();
    let path = write_pdf(&pdf, "logo.pdf");
    qpdf_check(&path);
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let images = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(|v| v.as_name()).ok() == Some(b"Image".as_slice()))
        .count();
    assert!(images >= 1, "no image XObject");
    assert!(pdftotext(&path).contains("INV-LOGO-1"));
}

#[test]
fn many_invoices_in_one_document_share_the_fonts() {
    let r = renderer();
    let invs: Vec<Invoice> =
        (0..20).map(|i| invoice(i, &format!("INV-{i:06}"), "Ødegård AS", Some(november()))).collect();
    let refs: Vec<&Invoice> = invs.iter().collect();
    let all = r.render_all(&refs, &stamp("all"), "November").unwrap();
    assert_eq!(all.pages, (0..20).map(|i| (i, 1)).collect::<Vec<_>>());
    let path = write_pdf(&all.pdf, "all.pdf");
    qpdf_check(&path);
    assert_eq!(pdfinfo_pages(&path), 20);
    let single = r.render(&invs[0], &stamp("one")).unwrap().len();
    assert!(all.pdf.len() < 20 * single / 4, "20 invoices in one PDF take {} bytes, one alone {single}", all.pdf.len());
}

#[test]
fn a_renderer_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Renderer>();
    let r = std::sync::Arc::new(renderer());
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let r = r.clone();
            std::thread::spawn(move || r.render(&invoice(i, &format!("T-{i}"), "Ødegård", None), &stamp("t")).unwrap())
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().starts_with(b"%PDF-"));
    }
}
