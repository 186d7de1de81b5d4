//! One test per refusal the book must make. Each checks the stable error code, what the
//! message names, and that nothing changed (the journal did not grow).

use crate::common::*;
use invoice_engine::*;
use rust_decimal_macros::dec;

/// Apply `cmd` expecting a refusal with `code`; the book must be unchanged.
fn refused(book: &mut Book, actor: &Actor, cmd: Command, code: &str) -> String {
    let before = book.clone();
    let err = book.apply(actor, cmd).expect_err("the command should be refused");
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(*book, before, "a refused command changed the book");
    err.to_string()
}

#[test]
fn wrong_role_cannot_post_export_process_or_undo() {
    let mut book = book();
    let ids = issued(&mut book, 1);
    let batch = book.create_export_batch(&finance(), ids.clone(), xero(), None).unwrap();
    let msg = refused(&mut book, &finance(), Command::Post { batch }, "forbidden");
    assert_eq!(msg, "fred (role finance) may not post batches");
    book.apply(&admin(), Command::Post { batch }).unwrap();
    let results = vec![(ids[0], Outcome::Exported)];
    refused(&mut book, &finance(), Command::RecordExportResults { batch, results: results.clone() }, "forbidden");
    book.apply(&admin(), Command::RecordExportResults { batch, results }).unwrap();
    refused(&mut book, &finance(), Command::Process { invoices: ids.clone(), expected: 1 }, "forbidden");
    let p = book.process(&admin(), ids.clone(), 1).unwrap();
    refused(&mut book, &finance(), Command::UndoProcess { batch: p }, "forbidden");
    let viewer = Actor::new("vic", Role::Viewer);
    refused(&mut book, &viewer, Command::CreateInvoices { invoices: vec![] }, "forbidden");
}

#[test]
fn process_count_mismatch() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 3, &xero());
    let msg = refused(&mut book, &admin(), Command::Process { invoices: ids.clone(), expected: 2 }, "count_mismatch");
    assert!(msg.contains("expected 2") && msg.contains("has 3"), "{msg}");
    book.process(&admin(), ids, 3).unwrap();
}

#[test]
fn unpost_after_export() {
    let mut book = book();
    let ids = issued(&mut book, 2);
    let batch = book.create_export_batch(&admin(), ids.clone(), xero(), None).unwrap();
    book.apply(&admin(), Command::Post { batch }).unwrap();
    book.apply(&admin(), Command::Unpost { batch }).unwrap();
    book.apply(&admin(), Command::Post { batch }).unwrap();
    let results = vec![(ids[0], Outcome::Failed { message: "customer: no mapping for C0".into() })];
    book.apply(&admin(), Command::RecordExportResults { batch, results }).unwrap();
    let msg = refused(&mut book, &admin(), Command::Unpost { batch }, "batch_state");
    assert_eq!(msg, format!("batch {batch} is partly exported: cannot unpost it"));
}

#[test]
fn edit_after_post_is_limited_to_the_short_list() {
    let mut book = book();
    let ids = issued(&mut book, 1);
    let id = ids[0];
    // Batched: still editable.
    let batch = book.create_export_batch(&admin(), ids.clone(), xero(), None).unwrap();
    book.apply(&admin(), Command::Edit { invoice: id, changes: vec![Change::Memo("batched memo".into())] }).unwrap();
    book.apply(&admin(), Command::Post { batch }).unwrap();
    let msg = refused(
        &mut book,
        &admin(),
        Command::Edit { invoice: id, changes: vec![Change::Memo("x".into())] },
        "edit_not_allowed",
    );
    assert_eq!(msg, "invoice INV-000001: memo cannot be edited while the invoice is posted");
    let lines = vec![Line::new("more", dec!(2), dec!(1))];
    refused(
        &mut book,
        &admin(),
        Command::Edit { invoice: id, changes: vec![Change::Location(Some("Oslo".into())), Change::Lines(lines)] },
        "edit_not_allowed",
    );
    // location and invoice type may still change
    book.apply(
        &admin(),
        Command::Edit {
            invoice: id,
            changes: vec![Change::Location(Some("Oslo".into())), Change::InvoiceType(Some("T&M".into()))],
        },
    )
    .unwrap();
    assert_eq!(book.invoice(id).unwrap().location.as_deref(), Some("Oslo"));
    // exported: immutable
    book.apply(&admin(), Command::RecordExportResults { batch, results: vec![(id, Outcome::Exported)] }).unwrap();
    refused(
        &mut book,
        &admin(),
        Command::Edit { invoice: id, changes: vec![Change::Location(None)] },
        "edit_not_allowed",
    );
}

#[test]
fn undo_when_not_the_last_batch() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 2, &xero());
    let first = book.process(&admin(), vec![ids[0]], 1).unwrap();
    let second = book.process(&admin(), vec![ids[1]], 1).unwrap();
    let msg = refused(&mut book, &admin(), Command::UndoProcess { batch: first }, "undo_refused");
    assert_eq!(msg, format!("cannot undo batch {first}: it is not the last process batch ({second} is)"));
    book.apply(&admin(), Command::UndoProcess { batch: second }).unwrap();
    book.apply(&admin(), Command::UndoProcess { batch: first }).unwrap();
    refused(&mut book, &admin(), Command::UndoProcess { batch: first }, "undo_refused");
}

#[test]
fn undo_after_a_change() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 2, &xero());
    let batch = book.process(&admin(), ids.clone(), 2).unwrap();
    // the accounting reference is recorded after the batch: the invoice changed since
    book.apply(&admin(), Command::RecordReference { invoice: ids[1], reference: "QB-991".into() }).unwrap();
    let msg = refused(&mut book, &admin(), Command::UndoProcess { batch }, "undo_refused");
    assert_eq!(
        msg,
        format!(
            "cannot undo batch {batch}: invoice INV-000002 changed since it was processed (un-process it on its own)"
        )
    );
    // a single invoice can still be un-processed on its own
    book.apply(&admin(), Command::Unprocess { invoice: ids[0] }).unwrap();
    assert_eq!(book.invoice(ids[0]).unwrap().status.accounting, Accounting::Exported);
    refused(&mut book, &admin(), Command::Unprocess { invoice: ids[0] }, "invalid_transition");
}

#[test]
fn void_after_export() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 1, &xero());
    let msg = refused(&mut book, &admin(), Command::Void { invoice: ids[0], reason: "typo".into() }, "not_allowed");
    assert_eq!(msg, "invoice INV-000001: cannot void: it was exported; correct it with a credit note or an adjustment");
}

#[test]
fn void_in_batch_or_paid_is_refused_and_void_keeps_the_number() {
    let mut book = book();
    let ids = issued(&mut book, 2);
    book.create_export_batch(&admin(), vec![ids[0]], xero(), None).unwrap();
    refused(&mut book, &admin(), Command::Void { invoice: ids[0], reason: "x".into() }, "not_allowed");
    let payment = PaymentRecord { date: date(2026, 12, 1), amount: dec!(10), reference: None };
    book.apply(&admin(), Command::RecordPayment { invoice: ids[1], payment }).unwrap();
    refused(&mut book, &admin(), Command::Void { invoice: ids[1], reason: "x".into() }, "not_allowed");

    let third = issued(&mut book, 1)[0];
    book.apply(&admin(), Command::Void { invoice: third, reason: "duplicate".into() }).unwrap();
    let voided = book.invoice(third).unwrap();
    assert_eq!((voided.number.as_deref(), voided.status.document), (Some("INV-000003"), Document::Void));
    // the next number is not the voided one
    assert_eq!(
        issued(&mut book, 1).iter().map(|i| book.invoice(*i).unwrap().label()).collect::<Vec<_>>(),
        ["INV-000004"]
    );
}

#[test]
fn re_export_without_force() {
    let mut book = book();
    let (ids, batch) = exported(&mut book, 1, &xero());
    let msg = refused(
        &mut book,
        &admin(),
        Command::CreateExportBatch { invoices: ids.clone(), target: xero(), force: None },
        "already_exported",
    );
    assert_eq!(msg, format!("invoice INV-000001 was already exported to xero (Demo Ltd) in batch {batch}; force it with a reason to export again"));
    refused(
        &mut book,
        &admin(),
        Command::CreateExportBatch { invoices: ids.clone(), target: xero(), force: Some(" ".into()) },
        "missing_reason",
    );
    // another target is fine; the same target with a reason is fine and the reason is recorded
    book.create_export_batch(&admin(), ids.clone(), Target::new("csv", "Demo Ltd"), None).unwrap();
    let b = book.batches().len();
    book.apply(&admin(), Command::Withdraw { batch: BatchId(b as u64), invoices: ids.clone() }).unwrap();
    let again = book.create_export_batch(&admin(), ids.clone(), xero(), Some("Xero lost the import".into())).unwrap();
    book.apply(&admin(), Command::Post { batch: again }).unwrap();
    book.apply(&admin(), Command::RecordExportResults { batch: again, results: vec![(ids[0], Outcome::Exported)] })
        .unwrap();
    let entries: Vec<_> = book.ledger().exports(ids[0], &xero()).collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].forced.as_deref(), Some("Xero lost the import"));
    assert_eq!(entries[0].content_hash, entries[1].content_hash);
}

#[test]
fn empty_selection() {
    let mut book = book();
    issued(&mut book, 1);
    refused(
        &mut book,
        &admin(),
        Command::CreateExportBatch { invoices: vec![], target: xero(), force: None },
        "empty_selection",
    );
    refused(&mut book, &admin(), Command::Process { invoices: vec![], expected: 0 }, "empty_selection");
    refused(&mut book, &admin(), Command::Issue { invoices: vec![] }, "empty_selection");
    refused(&mut book, &admin(), Command::MarkSent { invoices: vec![] }, "empty_selection");
}

#[test]
fn duplicates_and_second_open_batch() {
    let mut book = book();
    let ids = issued(&mut book, 2);
    refused(
        &mut book,
        &admin(),
        Command::CreateExportBatch { invoices: vec![ids[0], ids[0]], target: xero(), force: None },
        "duplicate_in_selection",
    );
    book.create_export_batch(&admin(), vec![ids[0]], xero(), None).unwrap();
    let msg = refused(
        &mut book,
        &admin(),
        Command::CreateExportBatch { invoices: ids.clone(), target: Target::new("csv", "x"), force: None },
        "already_in_batch",
    );
    assert!(msg.starts_with("invoice INV-000001 is already in open batch"), "{msg}");
}

#[test]
fn issue_refuses_invalid_invoices_with_every_violation() {
    let mut book = book();
    let mut bad = draft("", Currency::USD, &[dec!(-5)]);
    bad.lines[0].description.clear();
    let id = book.create_invoice(&admin(), bad).unwrap();
    let before = book.clone();
    let err = book.apply(&admin(), Command::Issue { invoices: vec![id] }).unwrap_err();
    assert_eq!(book, before);
    assert_eq!(err.code(), "invalid_invoice");
    let codes: Vec<_> = err.violations().iter().map(|v| (v.code.as_str(), v.path.as_str())).collect();
    assert_eq!(
        codes,
        [
            ("missing_customer_id", "customer.id"),
            ("empty_description", "lines[0].description"),
            ("negative_unit_price", "lines[0].unit_price")
        ]
    );
}

#[test]
fn overpayment_and_duplicate_numbers() {
    let mut book = book();
    let ids = issued(&mut book, 1); // 100.00 + 19% = 119.00
    let pay = |amount| Command::RecordPayment {
        invoice: ids[0],
        payment: PaymentRecord { date: date(2026, 12, 1), amount, reference: None },
    };
    refused(&mut book, &admin(), pay(dec!(119.01)), "overpayment");
    refused(&mut book, &admin(), pay(dec!(0.001)), "too_many_decimals");
    refused(&mut book, &admin(), pay(dec!(0)), "not_allowed");
    book.apply(&admin(), pay(dec!(100))).unwrap();
    assert_eq!(book.invoice(ids[0]).unwrap().status.payment, Payment::PartiallyPaid);
    book.apply(&admin(), pay(dec!(19))).unwrap();
    assert_eq!(book.invoice(ids[0]).unwrap().status.payment, Payment::Paid);
    refused(&mut book, &admin(), pay(dec!(0.01)), "overpayment");

    let imported = draft("C9", Currency::EUR, &[dec!(1)]);
    let with_number = Invoice { number: Some("INV-000001".into()), ..imported };
    refused(&mut book, &admin(), Command::CreateInvoices { invoices: vec![with_number] }, "duplicate_number");
}

#[test]
fn credit_notes_cannot_credit_more_than_the_invoice() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 1, &xero());
    let first = book
        .create_credit_note(&admin(), ids[0], Some(vec![Line::new("part", dec!(1), dec!(60.00)).tax_rate(dec!(0.19))]))
        .unwrap();
    book.issue(&admin(), first).unwrap();
    let second = book.create_credit_note(&admin(), ids[0], None).unwrap();
    let msg = refused(&mut book, &admin(), Command::Issue { invoices: vec![second] }, "not_allowed");
    assert!(msg.contains("would total 190.40, more than its 119.00"), "{msg}");
}

#[test]
fn issued_invoices_keep_their_issue_date_and_paid_ones_their_amounts() {
    let mut book = book();
    let ids = issued(&mut book, 1);
    let msg = refused(
        &mut book,
        &admin(),
        Command::Edit { invoice: ids[0], changes: vec![Change::IssueDate(None)] },
        "edit_not_allowed",
    );
    assert_eq!(msg, "invoice INV-000001: issue_date cannot be edited while the invoice is issued");
    let payment = PaymentRecord { date: date(2026, 12, 1), amount: dec!(10), reference: None };
    book.apply(&admin(), Command::RecordPayment { invoice: ids[0], payment }).unwrap();
    let lines = vec![Line::new("cheaper", dec!(1), dec!(1))];
    let msg = refused(
        &mut book,
        &admin(),
        Command::Edit { invoice: ids[0], changes: vec![Change::Lines(lines)] },
        "edit_not_allowed",
    );
    assert_eq!(msg, "invoice INV-000001: lines cannot be edited while the invoice is partly or fully paid");
    // an edit that breaks an issued invoice is refused with its violations
    let bad = vec![Change::DueDate(Some(date(2020, 1, 1))), Change::IssueDate(Some(date(2026, 11, 30)))];
    let before = book.clone();
    let err = book.apply(&admin(), Command::Edit { invoice: ids[0], changes: bad }).unwrap_err();
    assert_eq!((err.code(), err.violations()[0].path.as_str()), ("invalid_invoice", "due_date"));
    assert_eq!(book, before);
}

#[test]
fn a_large_issue_names_the_first_invalid_invoice() {
    // Large selections are validated on every core first; the refusal must be the one the
    // invoices give in order.
    let mut book = book();
    let mut drafts: Vec<Invoice> = (0..6000).map(|i| draft(&format!("C{i}"), Currency::EUR, &[dec!(100.00)])).collect();
    drafts[4500].customer.id = String::new();
    drafts[5200].lines[0].description = String::new();
    let ids = book.create_invoices(&admin(), drafts).unwrap();
    let msg = refused(&mut book, &admin(), Command::Issue { invoices: ids.clone() }, "invalid_invoice");
    assert!(msg.contains("customer") && !msg.contains("description"), "{msg}");
    let mut reversed = ids.clone();
    reversed.reverse();
    let msg = refused(&mut book, &admin(), Command::Issue { invoices: reversed }, "invalid_invoice");
    assert!(msg.contains("description") && !msg.contains("customer"), "{msg}");
    let good: Vec<InvoiceId> = ids.iter().copied().filter(|i| ![ids[4500], ids[5200]].contains(i)).collect();
    book.apply(&admin(), Command::Issue { invoices: good }).unwrap();
}
