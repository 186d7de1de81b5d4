//! Compiled backups: one PDF per billing period, signed versions, attachment order, bookmarks,
//! the summary page, the missing-period and unreadable-attachment errors, the skip policy, and
//! that a failed compile leaves no file.

mod common;

use std::collections::HashMap;
use std::io;
use std::path::Path;

use common::*;
use invoice_core::{Attachment, Invoice};
use invoice_pdf::{compile_backups, BackupOptions, BackupReport, FsSource, Unreadable};

/// Attachments held in memory, by location.
struct Store(HashMap<String, Vec<u8>>);

impl invoice_pdf::AttachmentSource for Store {
    fn read(&self, a: &Attachment) -> io::Result<Vec<u8>> {
        self.0.get(&a.location).cloned().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, a.location.clone()))
    }
}

fn store(items: &[(&str, Vec<u8>)]) -> Store {
    Store(items.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn compile(
    invoices: &[Invoice],
    source: &Store,
    dir: &Path,
    f: impl FnOnce(&mut BackupOptions),
) -> invoice_pdf::Result<BackupReport> {
    let refs: Vec<&Invoice> = invoices.iter().collect();
    let mut options = BackupOptions::new(dir, stamp("backup"));
    f(&mut options);
    compile_backups(&renderer(), &refs, source, &options)
}

/// Titles of the outline, depth-first, with the 1-based page each opens and its depth.
fn outline(path: &Path) -> Vec<(usize, String, usize)> {
    let doc = lopdf::Document::load(path).unwrap();
    let toc = doc.get_toc().unwrap();
    assert!(toc.errors.is_empty(), "{:?}", toc.errors);
    toc.toc.iter().map(|t| (t.level, t.title.clone(), t.page)).collect()
}

#[test]
fn two_billing_periods_give_two_files_with_every_page() {
    let dir = scratch("two-periods");
    let mut nov1 = invoice(1, "INV-000001", "Łukasz Nowak", Some(november()));
    nov1.attachments = vec![attachment("Timesheet November", "ts-1"), attachment("Receipts", "rc-1")];
    let nov2 = long_invoice(2, "INV-000002", 60);
    let mut dec1 = invoice(3, "INV-000003", "Жанна Иванова", Some(december()));
    dec1.attachments = vec![attachment("Timesheet December", "ts-3")];
    let source = store(&[
        ("ts-1", foreign_pdf("TIMESHEET-NOV", 2, false)),
        ("rc-1", foreign_pdf("RECEIPTS-NOV", 3, true)),
        ("ts-3", foreign_pdf("TIMESHEET-DEC", 1, true)),
    ]);
    let report = compile(&[dec1, nov2, nov1], &source, &dir, |_| {}).unwrap();
    assert!(report.skipped.is_empty());
    assert_eq!(files(&dir), ["backup_2026-11-01_2026-11-30.pdf", "backup_2026-12-01_2026-12-31.pdf"]);
    assert_eq!(report.files.len(), 2);

    for file in &report.files {
        qpdf_check(&file.path);
        let invoice_pages: usize = file.entries.iter().map(|e| e.invoice.pages).sum();
        let attachment_pages: usize = file.entries.iter().flat_map(|e| &e.attachments).map(|a| a.pages).sum();
        assert_eq!(pdfinfo_pages(&file.path), file.summary_pages + invoice_pages + attachment_pages);
        assert_eq!(file.pages, pdfinfo_pages(&file.path));
        assert_eq!(file.size, std::fs::metadata(&file.path).unwrap().len());
        // Each invoice's pages, then its attachments' pages, each where the report says.
        for e in &file.entries {
            let text = page_text(&file.path, e.invoice.first_page, e.invoice.first_page + e.invoice.pages - 1);
            assert!(text.contains(&e.invoice.name), "{} not on its pages", e.invoice.name);
            let mut next = e.invoice.first_page + e.invoice.pages;
            for a in &e.attachments {
                assert_eq!(a.first_page, next);
                next += a.pages;
            }
        }
    }
    let nov = &report.files[0];
    // Ordered by issue date, then number.
    let order: Vec<&str> = nov.entries.iter().map(|e| e.invoice.name.as_str()).collect();
    assert_eq!(order, ["INV-000001", "INV-000002"]);
    assert!(nov.entries[1].invoice.pages >= 2, "the 60-line invoice spans pages");
    let e = &nov.entries[0];
    assert_eq!(
        e.attachments.iter().map(|a| (a.name.as_str(), a.pages)).collect::<Vec<_>>(),
        [("Timesheet November", 2), ("Receipts", 3)]
    );
    assert!(
        page_text(&nov.path, e.attachments[0].first_page, e.attachments[0].first_page).contains("TIMESHEET-NOV page 1")
    );
    assert!(page_text(&nov.path, e.attachments[1].first_page + 2, e.attachments[1].first_page + 2)
        .contains("RECEIPTS-NOV page 3"));
    let dec = &report.files[1];
    assert_eq!(dec.entries.len(), 1);
    assert!(pdftotext(&dec.path).contains("Жанна Иванова"));
}

#[test]
fn attachments_follow_in_their_order_with_bookmarks_beneath_the_invoice() {
    let dir = scratch("order");
    let mut inv = invoice(1, "INV-000010", "Ødegård AS", Some(november()));
    inv.attachments =
        vec![attachment("Zeta report", "z"), attachment("Alpha receipts", "a"), attachment("Mid notes", "m")];
    let mut other = invoice(2, "INV-000011", "Müller & Söhne", Some(november()));
    other.attachments = vec![attachment("Contract", "c")];
    let source = store(&[
        ("z", foreign_pdf("ZETA", 2, false)),
        ("a", foreign_pdf("ALPHA", 1, true)),
        ("m", foreign_pdf("MID", 1, false)),
        ("c", foreign_pdf("CONTRACT", 1, false)),
    ]);
    let report = compile(&[other, inv], &source, &dir, |o| o.summary_page = false).unwrap();
    let file = &report.files[0];
    qpdf_check(&file.path);
    assert_eq!(file.summary_pages, 0);
    // Invoice 10 (1 page), ZETA 1-2, ALPHA, MID, then invoice 11 and CONTRACT.
    let markers =
        ["INV-000010", "ZETA page 1", "ZETA page 2", "ALPHA page 1", "MID page 1", "INV-000011", "CONTRACT page 1"];
    assert_eq!(pdfinfo_pages(&file.path), markers.len());
    for (i, m) in markers.iter().enumerate() {
        assert!(page_text(&file.path, i + 1, i + 1).contains(m), "page {} should show {m}", i + 1);
    }
    let toc = outline(&file.path);
    assert_eq!(
        toc,
        vec![
            (1, "INV-000010 – Ødegård AS".to_string(), 1),
            (2, "Zeta report".to_string(), 2),
            (2, "Alpha receipts".to_string(), 4),
            (2, "Mid notes".to_string(), 5),
            (1, "INV-000011 – Müller & Söhne".to_string(), 6),
            (2, "Contract".to_string(), 7),
        ]
    );
}

#[test]
fn the_signed_pdf_replaces_the_rendered_invoice() {
    let dir = scratch("signed");
    let mut inv = invoice(1, "INV-000020", "Signed Customer Ltd", Some(november()));
    inv.signed_document = Some(attachment("INV-000020 signed.pdf", "signed-20"));
    inv.attachments = vec![attachment("Timesheet", "ts")];
    let plain = invoice(2, "INV-000021", "Plain Customer Ltd", Some(november()));
    let source =
        store(&[("signed-20", foreign_pdf("SIGNED COPY INV-000020", 2, false)), ("ts", foreign_pdf("TS", 1, false))]);
    let report = compile(&[inv, plain], &source, &dir, |o| o.summary_page = false).unwrap();
    let file = &report.files[0];
    qpdf_check(&file.path);
    let e = &file.entries[0];
    assert!(e.signed);
    assert_eq!((e.invoice.first_page, e.invoice.pages), (1, 2));
    let text = pdftotext(&file.path);
    assert!(text.contains("SIGNED COPY INV-000020 page 1") && text.contains("SIGNED COPY INV-000020 page 2"));
    assert!(!text.contains("Signed Customer Ltd"), "the rendered version must not be in the backup");
    assert!(text.contains("Plain Customer Ltd"), "the other invoice is rendered");
    assert_eq!(pdfinfo_pages(&file.path), 2 + 1 + 1);
    assert!(!file.entries[1].signed);
}

#[test]
fn summary_page_lists_invoices_pages_and_control_totals() {
    let dir = scratch("summary");
    let mut a = invoice(1, "INV-000030", "Łukasz Nowak", Some(november()));
    a.attachments = vec![attachment("Receipts", "r")];
    let b = invoice(2, "INV-000031", "Жанна Иванова", Some(november()));
    let cn = credit_note(3, "CN-000030", "INV-000030");
    let source = store(&[("r", foreign_pdf("RECEIPTS", 2, false))]);
    let report = compile(&[a, b, cn], &source, &dir, |_| {}).unwrap();
    let file = &report.files[0];
    qpdf_check(&file.path);
    assert_eq!(file.summary_pages, 1);
    let first = page_text(&file.path, 1, 1);
    assert!(first.contains("Backup 2026-11-01 – 2026-11-30"), "{first}");
    for e in &file.entries {
        let row = first
            .lines()
            .find(|l| l.contains(&e.invoice.name))
            .unwrap_or_else(|| panic!("{} not listed:\n{first}", e.invoice.name));
        assert!(row.split_whitespace().any(|w| w == e.invoice.first_page.to_string()), "{row}");
    }
    // 5,400.48 + 5,400.48 - 500.00 (the credit note counts negative).
    assert!(first.contains("Control total, 3 documents") && first.contains("10,300.96 EUR"), "{first}");
    assert!(first.contains("-500.00 EUR"), "{first}");
    let toc = outline(&file.path);
    assert_eq!(toc[0], (1, "Backup 2026-11-01 – 2026-11-30".to_string(), 1));
    assert_eq!(pdfinfo_pages(&file.path), 1 + 1 + 1 + 2 + 1);
}

#[test]
fn missing_billing_period_names_every_such_invoice_and_writes_nothing() {
    let dir = scratch("missing-period");
    let invoices = vec![
        invoice(1, "INV-000040", "A", Some(november())),
        invoice(2, "INV-000041", "B", None),
        invoice(3, "INV-000042", "C", None),
    ];
    let err = compile(&invoices, &store(&[]), &dir, |_| {}).unwrap_err();
    assert_eq!(err.code(), "missing_billing_period");
    match &err {
        invoice_pdf::Error::MissingBillingPeriod { invoices } => assert_eq!(invoices, &["INV-000041", "INV-000042"]),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("INV-000041") && err.to_string().contains("INV-000042"));
    assert!(files(&dir).is_empty());
}

#[test]
fn a_corrupt_attachment_fails_naming_invoice_and_attachment_and_leaves_no_file() {
    let dir = scratch("corrupt");
    // November is fine; December has the corrupt attachment: nothing at all may be written.
    let good = invoice(1, "INV-000050", "A", Some(november()));
    let mut bad = invoice(2, "INV-000051", "B", Some(december()));
    bad.attachments = vec![attachment("fine.pdf", "fine"), attachment("broken.pdf", "broken")];
    let mut truncated = foreign_pdf("X", 1, false);
    truncated.truncate(120);
    let source = store(&[("fine", foreign_pdf("FINE", 1, false)), ("broken", truncated)]);
    let err = compile(&[good, bad], &source, &dir, |_| {}).unwrap_err();
    assert_eq!(err.code(), "unreadable_attachment");
    match &err {
        invoice_pdf::Error::UnreadableAttachment { invoice, attachment, reason } => {
            assert_eq!((invoice.as_str(), attachment.as_str()), ("INV-000051", "broken.pdf"));
            assert!(matches!(reason, Unreadable::Corrupt { .. } | Unreadable::NoPages), "{reason:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("INV-000051") && err.to_string().contains("broken.pdf"));
    assert!(files(&dir).is_empty(), "a failed compile left {:?}", files(&dir));
}

#[test]
fn encrypted_and_non_pdf_attachments_are_unreadable() {
    let cases = [
        ("encrypted.pdf", encrypted(&foreign_pdf("SECRET", 1, false), "user-secret"), Unreadable::Encrypted),
        ("open-encrypted.pdf", encrypted(&foreign_pdf("SECRET", 1, false), ""), Unreadable::Encrypted),
        ("photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), Unreadable::NotPdf),
        ("empty.pdf", Vec::new(), Unreadable::NotPdf),
    ];
    for (name, bytes, expected) in cases {
        let dir = scratch("unreadable");
        let mut inv = invoice(1, "INV-000060", "A", Some(november()));
        inv.attachments = vec![attachment(name, "x")];
        let err = compile(&[inv], &store(&[("x", bytes)]), &dir, |_| {}).unwrap_err();
        match &err {
            invoice_pdf::Error::UnreadableAttachment { attachment, reason, .. } => {
                assert_eq!(attachment, name);
                assert_eq!(reason, &expected, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(files(&dir).is_empty());
    }
    // An attachment the source cannot supply.
    let dir = scratch("unreadable");
    let mut inv = invoice(1, "INV-000061", "A", Some(november()));
    inv.attachments = vec![attachment("gone.pdf", "nowhere")];
    let err = compile(&[inv], &store(&[]), &dir, |_| {}).unwrap_err();
    assert!(matches!(err, invoice_pdf::Error::UnreadableAttachment { reason: Unreadable::Io { .. }, .. }), "{err:?}");
}

#[test]
fn skip_policy_leaves_unreadable_attachments_out_and_reports_them() {
    let dir = scratch("skip");
    let mut inv = invoice(1, "INV-000070", "A", Some(november()));
    inv.attachments =
        vec![attachment("good.pdf", "good"), attachment("bad.pdf", "bad"), attachment("secret.pdf", "enc")];
    let mut signed = invoice(2, "INV-000071", "Rendered Instead Ltd", Some(november()));
    signed.signed_document = Some(attachment("signed.pdf", "bad-signed"));
    let source = store(&[
        ("good", foreign_pdf("GOOD", 2, false)),
        ("bad", b"not a pdf at all".to_vec()),
        ("enc", encrypted(&foreign_pdf("SECRET", 1, false), "pw")),
        ("bad-signed", b"%PDF-1.7\n%%EOF".to_vec()),
    ]);
    let report = compile(&[inv, signed], &source, &dir, |o| {
        o.skip_unreadable = true;
        o.summary_page = false;
    })
    .unwrap();
    let skipped: Vec<(&str, &str, bool, &str)> =
        report.skipped.iter().map(|s| (s.invoice.as_str(), s.attachment.as_str(), s.signed, s.reason.code())).collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert_eq!(skipped[0], ("INV-000070", "bad.pdf", false, "not_pdf"));
    assert_eq!(skipped[1], ("INV-000070", "secret.pdf", false, "encrypted"));
    assert_eq!((skipped[2].0, skipped[2].1, skipped[2].2), ("INV-000071", "signed.pdf", true));
    let file = &report.files[0];
    qpdf_check(&file.path);
    assert_eq!(file.entries[0].attachments.len(), 1);
    assert!(!file.entries[1].signed, "the rendered invoice stands in for the unreadable signed PDF");
    assert_eq!(pdfinfo_pages(&file.path), 1 + 2 + 1);
    assert!(pdftotext(&file.path).contains("Rendered Instead Ltd"));
}

#[test]
fn backups_are_deterministic_and_carry_no_orphans() {
    let mut inv = invoice(1, "INV-000080", "A", Some(november()));
    inv.attachments = vec![attachment("streams.pdf", "s"), attachment("classic.pdf", "c")];
    let source = store(&[("s", foreign_pdf("S", 2, true)), ("c", foreign_pdf("C", 1, false))]);
    let (d1, d2) = (scratch("det1"), scratch("det2"));
    let r1 = compile(std::slice::from_ref(&inv), &source, &d1, |_| {}).unwrap();
    let r2 = compile(std::slice::from_ref(&inv), &source, &d2, |_| {}).unwrap();
    let (a, b) = (std::fs::read(&r1.files[0].path).unwrap(), std::fs::read(&r2.files[0].path).unwrap());
    assert!(a == b, "the same backup compiled twice differs");

    let mut doc = lopdf::Document::load_mem(&a).unwrap();
    for (id, o) in &doc.objects {
        let t = o.type_name().unwrap_or(b"");
        assert!(t != b"XRef" && t != b"ObjStm", "{id:?} is a left-over {}", String::from_utf8_lossy(t));
        // The attachments' own /Info dictionaries (titled "S" and "C") are not carried over.
        if let Ok(title) = o.as_dict().and_then(|d| d.get(b"Title")).and_then(|t| t.as_str()) {
            assert!(title != b"S" && title != b"C", "{id:?} is an input's /Info");
        }
    }
    assert_eq!(doc.prune_objects(), Vec::<(u32, u16)>::new(), "merged output holds unreachable objects");
    let ids = doc.trailer.get(b"ID").unwrap().as_array().unwrap();
    assert_eq!(ids[0].as_str().unwrap().len(), 16);
    assert_eq!(doc.catalog().unwrap().get(b"PageMode").unwrap().as_name().unwrap(), b"UseOutlines");
}

#[test]
fn many_rendered_invoices_share_font_copies_and_subset_tags_never_collide() {
    let dir = scratch("size");
    // 230 invoices: three chunks of rendered invoices (100 each) and a summary of several pages.
    let n = 230;
    let invoices: Vec<Invoice> =
        (0..n).map(|i| invoice(i as u64, &format!("INV-{i:06}"), "Ødegård AS", Some(november()))).collect();
    let report = compile(&invoices, &store(&[]), &dir, |_| {}).unwrap();
    let file = &report.files[0];
    qpdf_check(&file.path);
    assert_eq!(pdfinfo_pages(&file.path), n + file.summary_pages);
    assert!(file.summary_pages >= 2);
    // The row of the last invoice names the page it really starts on.
    let last = file.entries.last().unwrap();
    let summary = page_text(&file.path, 1, file.summary_pages);
    let row = summary.lines().find(|l| l.contains(&last.invoice.name)).unwrap();
    assert!(row.split_whitespace().any(|w| w == last.invoice.first_page.to_string()), "{row}");
    assert!(page_text(&file.path, last.invoice.first_page, last.invoice.first_page).contains(&last.invoice.name));

    let per_invoice = file.size / n as u64;
    assert!(per_invoice < 5_000, "{per_invoice} bytes per invoice (peers pay ~44 KB for a font copy each)");

    // Every embedded subset has its own tag.
    let doc = lopdf::Document::load(&file.path).unwrap();
    let names: Vec<Vec<u8>> = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Type0".as_slice()))
        .map(|d| d.get(b"BaseFont").unwrap().as_name().unwrap().to_vec())
        .collect();
    let unique: std::collections::HashSet<&Vec<u8>> = names.iter().collect();
    assert!(names.len() >= 6, "expected a regular and a bold subset per chunk: {}", names.len());
    assert_eq!(unique.len(), names.len(), "colliding subset tags");
}

#[test]
fn fs_source_reads_below_its_root_only() {
    let root = scratch("fs");
    std::fs::create_dir_all(root.join("inv-1")).unwrap();
    std::fs::write(root.join("inv-1/ts.pdf"), foreign_pdf("FS", 1, false)).unwrap();
    let src = FsSource::new(&root);
    use invoice_pdf::AttachmentSource;
    assert!(src.read(&attachment("ts", "inv-1/ts.pdf")).unwrap().starts_with(b"%PDF"));
    for hostile in ["../secret.pdf", "/etc/passwd", "inv-1/../../x.pdf"] {
        let err = src.read(&attachment("x", hostile)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{hostile}");
    }

    let out = scratch("fs-out");
    let mut inv = invoice(1, "INV-000090", "A", Some(november()));
    inv.attachments = vec![attachment("Timesheet", "inv-1/ts.pdf")];
    let refs = [&inv];
    let report = compile_backups(&renderer(), &refs, &src, &BackupOptions::new(&out, stamp("fs"))).unwrap();
    qpdf_check(&report.files[0].path);

    // A closure is a source too.
    let closure = |a: &Attachment| std::fs::read(root.join(&a.location));
    let out = scratch("fs-closure");
    let report = compile_backups(&renderer(), &refs, &closure, &BackupOptions::new(&out, stamp("fs"))).unwrap();
    assert_eq!(report.files[0].entries[0].attachments.len(), 1);
}

#[test]
fn empty_selection_is_refused() {
    let err = compile(&[], &store(&[]), &scratch("empty"), |_| {}).unwrap_err();
    assert_eq!(err.code(), "empty_selection");
}
