//! The life of invoices through the book: issue, deliver, batch, post, export with per-invoice
//! results, re-run, bypass, process, undo, corrections and references.

use crate::common::*;
use invoice_engine::*;
use rust_decimal_macros::dec;

#[test]
fn numbering_is_gapless_per_series_and_keeps_imported_numbers() {
    let mut book = book();
    let a = issued(&mut book, 2);
    let (exp, _) = exported(&mut book, 1, &xero());
    let cn = book.create_credit_note(&admin(), exp[0], None).unwrap();
    let imported = Invoice { number: Some("IMP-7".into()), ..draft("C9", Currency::EUR, &[dec!(1)]) };
    let imp = book.create_invoice(&admin(), imported).unwrap();
    let more = issued(&mut book, 1);
    book.apply(&admin(), Command::Issue { invoices: vec![cn, imp] }).unwrap();
    let label = |id| book.invoice(id).unwrap().label();
    assert_eq!(
        [label(a[0]), label(a[1]), label(exp[0]), label(more[0])],
        ["INV-000001", "INV-000002", "INV-000003", "INV-000004"]
    );
    assert_eq!(label(cn), "CN-000001");
    assert_eq!(label(imp), "IMP-7");
    assert_eq!(book.series()["invoices"].next, 5);
    assert_eq!(
        book.invoice_by_number("CN-000001").unwrap().kind,
        Kind::CreditNote { credits: Some("INV-000003".into()) }
    );
    // issue date comes from the clock when the draft has none
    assert_eq!(book.invoice(cn).unwrap().issue_date, Some(date(2026, 11, 30)));
}

#[test]
fn delivery_axis() {
    let mut book = book();
    let ids = issued(&mut book, 2);
    book.apply(&finance(), Command::MarkReadyToSend { invoices: vec![ids[0]] }).unwrap();
    book.apply(&finance(), Command::MarkSent { invoices: ids.clone() }).unwrap();
    assert!(ids.iter().all(|i| book.invoice(*i).unwrap().status.delivery == Delivery::Sent));
    let err = book.apply(&finance(), Command::MarkReadyToSend { invoices: vec![ids[1]] }).unwrap_err();
    assert_eq!(err.to_string(), "invoice INV-000002: delivery status cannot go from sent to ready_to_send");
    let d = book.create_invoice(&admin(), draft("C1", Currency::EUR, &[dec!(1)])).unwrap();
    assert_eq!(book.apply(&finance(), Command::MarkSent { invoices: vec![d] }).unwrap_err().code(), "not_allowed");
}

#[test]
fn export_results_no_lines_zero_total_failures_and_rerun() {
    let mut book = book();
    let normal = draft("C1", Currency::EUR, &[dec!(10.00)]);
    let zero = draft("C2", Currency::EUR, &[dec!(0)]);
    let empty = draft("C3", Currency::EUR, &[]);
    let flaky = draft("C4", Currency::EUR, &[dec!(5.00)]);
    let ids = book.create_invoices(&admin(), vec![normal, zero, empty, flaky]).unwrap();
    book.apply(&admin(), Command::Issue { invoices: ids.clone() }).unwrap();
    let batch = book.create_export_batch(&admin(), ids.clone(), xero(), None).unwrap();
    assert_eq!(book.invoice(ids[0]).unwrap().status.accounting, Accounting::Batched);
    assert_eq!(
        book.apply(&admin(), Command::RecordExportResults { batch, results: vec![] }).unwrap_err().code(),
        "batch_state"
    );
    book.apply(&admin(), Command::Post { batch }).unwrap();

    // the exporter is asked for everything but the invoice without lines
    let work: Vec<_> = book.export_work(batch).unwrap().iter().map(|i| i.id).collect();
    assert_eq!(work, [ids[0], ids[1], ids[3]]);
    let results = vec![
        (ids[0], Outcome::Exported),
        (ids[1], Outcome::Exported),
        (ids[3], Outcome::Failed { message: "lines[0].item: no item mapping for SKU-1".into() }),
    ];
    book.apply(&admin(), Command::RecordExportResults { batch, results }).unwrap();
    let b = book.export_batch(batch).unwrap();
    assert_eq!(b.results[&ids[1]], ExportResult::Exported { bypass: false });
    assert_eq!(b.results[&ids[2]], ExportResult::Skipped { reason: "Invoice has no lines - not sent".into() });
    assert!(matches!(&b.results[&ids[3]], ExportResult::Failed { message } if message.contains("SKU-1")));
    assert_eq!(b.state, BatchState::Posted);
    assert_eq!(book.invoice(ids[2]).unwrap().status.accounting, Accounting::Exported);
    assert_eq!(book.invoice(ids[3]).unwrap().status.accounting, Accounting::Posted);
    assert_eq!(book.invoice(ids[3]).unwrap().batch, Some(batch));
    // no ledger entry for the skipped one, one each for the exported ones
    assert_eq!(book.ledger().entries().iter().map(|e| e.invoice).collect::<Vec<_>>(), [ids[0], ids[1]]);

    // a re-run sends only the failed invoice; recording an exported one again is refused
    let rerun: Vec<_> = book.export_work(batch).unwrap().iter().map(|i| i.id).collect();
    assert_eq!(rerun, [ids[3]]);
    let again =
        book.apply(&admin(), Command::RecordExportResults { batch, results: vec![(ids[0], Outcome::Exported)] });
    assert_eq!(again.unwrap_err().code(), "not_allowed");
    book.apply(&admin(), Command::RecordExportResults { batch, results: vec![(ids[3], Outcome::Exported)] }).unwrap();
    let b = book.export_batch(batch).unwrap();
    assert_eq!(b.state, BatchState::Closed);
    assert!(ids.iter().all(|i| book.invoice(*i).unwrap().batch.is_none()));
    assert_eq!(b.summary().into_iter().collect::<Vec<_>>(), [("exported", 3), ("skipped", 1)]);
}

#[test]
fn bypass_marks_everything_exported_without_a_file() {
    let mut book = book();
    let ids = issued(&mut book, 3);
    let batch = book.create_export_batch(&admin(), ids.clone(), xero(), None).unwrap();
    book.apply(&admin(), Command::Post { batch }).unwrap();
    book.apply(&admin(), Command::MarkExported { batch }).unwrap();
    let b = book.export_batch(batch).unwrap();
    assert_eq!(b.state, BatchState::Closed);
    assert!(b.results.values().all(|r| *r == ExportResult::Exported { bypass: true }));
    assert!(book.ledger().entries().iter().all(|e| e.bypass));
}

#[test]
fn withdraw_and_discard_return_invoices_to_pending() {
    let mut book = book();
    let ids = issued(&mut book, 3);
    let batch = book.create_export_batch(&admin(), ids.clone(), xero(), None).unwrap();
    book.apply(&admin(), Command::Withdraw { batch, invoices: vec![ids[0]] }).unwrap();
    assert_eq!(book.invoice(ids[0]).unwrap().status.accounting, Accounting::Pending);
    book.apply(&finance(), Command::DiscardBatch { batch }).unwrap();
    assert!(ids.iter().all(|i| book.invoice(*i).unwrap().status.accounting == Accounting::Pending));
    assert_eq!(book.export_batch(batch).unwrap().state, BatchState::Closed);
    // the invoices can be batched again
    let again = book.create_export_batch(&admin(), ids.clone(), xero(), None).unwrap();
    book.apply(&admin(), Command::Post { batch: again }).unwrap();
    assert_eq!(book.apply(&finance(), Command::DiscardBatch { batch: again }).unwrap_err().code(), "batch_state");
}

#[test]
fn undo_restores_every_invoice_exactly() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 4, &xero());
    let before: Vec<Invoice> = ids.iter().map(|i| book.invoice(*i).unwrap().clone()).collect();
    let batch = book.process(&admin(), ids.clone(), 4).unwrap();
    assert!(ids.iter().all(|i| book.invoice(*i).unwrap().status.accounting == Accounting::Processed));
    assert_eq!(book.last_process_batch().map(|b| b.id), Some(batch));
    book.apply(&admin(), Command::UndoProcess { batch }).unwrap();
    let after: Vec<Invoice> = ids.iter().map(|i| book.invoice(*i).unwrap().clone()).collect();
    assert_eq!(before, after);
    assert_eq!(book.last_process_batch(), None);
    // and they can be processed again
    book.process(&admin(), ids, 4).unwrap();
}

#[test]
fn corrections_reference_the_exported_invoice() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 1, &xero());
    let adj = book
        .create_adjustment(&admin(), ids[0], vec![Line::new("Missed hours", dec!(2), dec!(50.00)).tax_rate(dec!(0.19))])
        .unwrap();
    book.issue(&admin(), adj).unwrap();
    let a = book.invoice(adj).unwrap();
    assert_eq!(a.label(), "ADJ-000001");
    assert_eq!(a.kind, Kind::Adjustment { corrects: "INV-000001".into() });
    assert_eq!(a.customer.id, "C0");
    assert_eq!(a.billing_period, book.invoice(ids[0]).unwrap().billing_period);

    // an invoice that is not exported is edited, not adjusted
    let open = issued(&mut book, 1)[0];
    assert_eq!(book.create_adjustment(&admin(), open, vec![]).unwrap_err().code(), "not_allowed");
    // drafts cannot be credited
    let d = book.create_invoice(&admin(), draft("C1", Currency::EUR, &[dec!(1)])).unwrap();
    assert_eq!(book.create_credit_note(&admin(), d, None).unwrap_err().code(), "not_allowed");
}

#[test]
fn accounting_reference_is_recorded() {
    let mut book = book();
    let (ids, _) = exported(&mut book, 1, &xero());
    book.process(&admin(), ids.clone(), 1).unwrap();
    book.apply(&finance(), Command::RecordReference { invoice: ids[0], reference: "QB-1042".into() }).unwrap();
    assert_eq!(book.invoice(ids[0]).unwrap().accounting_reference.as_deref(), Some("QB-1042"));
}

#[test]
fn journal_events_carry_actor_and_injected_time() {
    let clock = clock();
    let mut book = book_with(clock.clone());
    clock.advance(chrono::Duration::minutes(5));
    let ids = issued(&mut book, 1);
    let last = book.journal().last().unwrap();
    assert_eq!(last.actor, admin());
    assert_eq!(last.at.to_rfc3339(), "2026-11-30T09:05:00+00:00");
    assert!(matches!(&last.event, Event::InvoicesIssued { issued } if issued[0].invoice == ids[0]));
    assert_eq!(book.journal().first().unwrap().seq, 1);
}
