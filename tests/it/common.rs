//! Shared builders for the integration tests.

use chrono::{NaiveDate, TimeZone, Utc};
use invoice_engine::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::sync::Arc;

pub fn admin() -> Actor {
    Actor::new("ana", Role::Administrator)
}

pub fn finance() -> Actor {
    Actor::new("fred", Role::Finance)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()))
}

pub fn book() -> Book {
    Book::with_clock(Settings::default(), clock())
}

pub fn book_with(clock: Arc<ManualClock>) -> Book {
    Book::with_clock(Settings::default(), clock)
}

pub fn draft(customer: &str, currency: Currency, prices: &[Decimal]) -> Invoice {
    let mut b = Invoice::builder(Customer::new(customer, format!("Customer {customer}")), currency)
        .billing_period(Period::new(date(2026, 11, 1), date(2026, 11, 30)))
        .project("PRJ-1");
    for (i, p) in prices.iter().enumerate() {
        b = b.line(Line::new(format!("line {i}"), dec!(1), *p).tax_rate(dec!(0.19)));
    }
    b.build()
}

/// Create and issue `n` one-line EUR invoices; returns their ids.
pub fn issued(book: &mut Book, n: usize) -> Vec<InvoiceId> {
    let drafts = (0..n).map(|i| draft(&format!("C{i}"), Currency::EUR, &[dec!(100.00)])).collect();
    let ids = book.create_invoices(&admin(), drafts).unwrap();
    book.apply(&admin(), Command::Issue { invoices: ids.clone() }).unwrap();
    ids
}

/// Issue, batch, post and export `n` invoices to `target`; returns (ids, batch).
pub fn exported(book: &mut Book, n: usize, target: &Target) -> (Vec<InvoiceId>, BatchId) {
    let ids = issued(book, n);
    let batch = book.create_export_batch(&admin(), ids.clone(), target.clone(), None).unwrap();
    book.apply(&admin(), Command::Post { batch }).unwrap();
    let results = ids.iter().map(|i| (*i, Outcome::Exported)).collect();
    book.apply(&admin(), Command::RecordExportResults { batch, results }).unwrap();
    (ids, batch)
}

pub fn xero() -> Target {
    Target::new("xero", "Demo Ltd")
}
