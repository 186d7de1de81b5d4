//! The journal: JSON Lines out and back, replay, snapshots, and damaged journals.

use crate::common::*;
use invoice_engine::*;
use rust_decimal_macros::dec;

fn busy_book() -> Book {
    let mut book = book();
    let (ids, _) = exported(&mut book, 3, &xero());
    book.process(&admin(), ids.clone(), 3).unwrap();
    book.apply(&admin(), Command::Unprocess { invoice: ids[0] }).unwrap();
    let cn = book.create_credit_note(&admin(), ids[1], None).unwrap();
    book.issue(&admin(), cn).unwrap();
    book.apply(
        &admin(),
        Command::Edit { invoice: cn, changes: vec![Change::Memo("Ødegård, \"quoted\"\nnew line".into())] },
    )
    .unwrap();
    let pay = PaymentRecord { date: date(2026, 12, 1), amount: dec!(50), reference: None };
    book.apply(&admin(), Command::RecordPayment { invoice: ids[2], payment: pay }).unwrap();
    book
}

#[test]
fn journal_round_trips_through_json_lines() {
    let book = busy_book();
    let mut out = Vec::new();
    book.write_journal(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), book.journal().len());
    assert!(text.lines().next().unwrap().contains(r#""event":"book_opened""#));
    let events = Book::read_journal(text.as_bytes()).unwrap();
    assert_eq!(events, book.journal());
    assert_eq!(Book::replay(events).unwrap(), book);
}

#[test]
fn snapshot_round_trips() {
    let book = busy_book();
    let json = serde_json::to_string(&book).unwrap();
    let loaded: Book = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, book);
    assert_eq!(loaded.invoice_by_number("INV-000002").map(|i| i.id), Some(InvoiceId(2)));
}

#[test]
fn damaged_journals_are_errors_not_panics() {
    let book = busy_book();
    let j = book.journal().to_vec();
    assert_eq!(Book::replay(Vec::new()).unwrap_err().code(), "replay");
    assert_eq!(Book::replay(j[1..].to_vec()).unwrap_err().code(), "replay");
    let mut gap = j.clone();
    gap.remove(3);
    let err = Book::replay(gap).unwrap_err();
    assert_eq!(err.code(), "replay");
    assert!(err.to_string().starts_with("journal event 5 cannot be replayed"), "{err}");
    // issuing the same invoices twice cannot be replayed
    let mut twice = j.clone();
    let issue = j.iter().find(|e| matches!(e.event, Event::InvoicesIssued { .. })).unwrap();
    let dup = Envelope { seq: j.len() as u64 + 1, ..issue.clone() };
    twice.push(dup);
    assert_eq!(Book::replay(twice).unwrap_err().code(), "replay");
    let err = Book::read_journal("{\"seq\":1}\nnot json\n".as_bytes()).unwrap_err();
    assert_eq!(err.code(), "json");
    assert!(err.to_string().starts_with("journal line 1"), "{err}");
}
