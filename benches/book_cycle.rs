//! The back-office cycle of the invoice book at month-end scale: create and issue N invoices
//! of 5 lines, batch, post, record export results and process them all, then undo the
//! process batch. Goal (issue 2) on one core for N = 100,000: the whole cycle under 1 s, the
//! undo under 100 ms. Numbers are recorded in benches/README.md.

use std::hint::black_box;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use invoice_engine::*;
use rust_decimal::Decimal;

fn drafts(n: usize) -> Vec<Invoice> {
    let period = Period::new(
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
    );
    let rates = [Decimal::new(19, 2), Decimal::new(7, 2), Decimal::ZERO];
    (0..n)
        .map(|i| {
            let mut b = Invoice::builder(
                Customer::new(format!("C{:05}", i % 2000), format!("Customer {}", i % 2000)),
                Currency::EUR,
            )
            .project(format!("PRJ-{:04}", i % 300))
            .location(if i % 2 == 0 { "Oslo" } else { "Berlin" })
            .billing_period(period);
            for l in 0..5u32 {
                let qty = Decimal::new(i64::from(l) * 25 + 100, 2);
                let price = Decimal::new(((i as i64) * 37 + i64::from(l) * 101) % 250_000 + 100, 2);
                b = b.line(
                    Line::new("Consulting hours", qty, price)
                        .tax_rate(rates[(i + l as usize) % 3])
                        .item(format!("SKU-{:05}", (i + l as usize) % 500))
                        .gl_account("8400"),
                );
            }
            b.build()
        })
        .collect()
}

fn new_book() -> Book {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).single().unwrap_or_default());
    Book::with_clock(Settings::default(), Arc::new(clock))
}

/// Everything but the undo; returns the process batch.
fn cycle(book: &mut Book, drafts: Vec<Invoice>) -> Result<BatchId> {
    let admin = Actor::new("ana", Role::Administrator);
    let n = drafts.len();
    let ids = book.create_invoices(&admin, drafts)?;
    book.apply(&admin, Command::Issue { invoices: ids.clone() })?;
    let batch = book.create_export_batch(&admin, ids.clone(), Target::new("csv", "Demo"), None)?;
    book.apply(&admin, Command::Post { batch })?;
    let results = ids.iter().map(|i| (*i, Outcome::Exported)).collect();
    book.apply(&admin, Command::RecordExportResults { batch, results })?;
    book.process(&admin, ids, n)
}

fn bench_cycle(c: &mut Criterion) {
    let admin = Actor::new("ana", Role::Administrator);
    let mut group = c.benchmark_group("book_cycle");
    group.sample_size(10);
    // Full sizes under `cargo bench`; small ones when `cargo test` runs the benches as a smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[1, 100, 10_000, 100_000] } else { &[1, 100] };
    for &n in sizes {
        let template = drafts(n);
        group.bench_with_input(BenchmarkId::new("create_issue_batch_post_export_process_undo", n), &n, |b, _| {
            b.iter_batched(
                || (new_book(), template.clone()),
                |(mut book, drafts)| {
                    let processed = cycle(&mut book, drafts).expect("the cycle runs");
                    book.apply(&admin, Command::UndoProcess { batch: processed }).expect("the undo runs");
                    black_box(book)
                },
                BatchSize::PerIteration,
            )
        });
    }
    let n = if full { 100_000 } else { 100 };
    let template = drafts(n);
    group.bench_function(BenchmarkId::new("undo_process_batch", n), |b| {
        b.iter_batched(
            || {
                let mut book = new_book();
                let processed = cycle(&mut book, template.clone()).expect("the cycle runs");
                (book, processed)
            },
            |(mut book, processed)| {
                book.apply(&admin, Command::UndoProcess { batch: processed }).expect("the undo runs");
                black_box(book)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_cycle);
criterion_main!(benches);
