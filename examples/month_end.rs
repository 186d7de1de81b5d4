//! The main job of invoice-engine: a month end.
//!
//! This first version runs a small month through the invoice book: it drafts and issues
//! invoices in three currencies (one credit note, one invoice without lines), marks them sent,
//! batches, posts and records export results (one failure that a re-run fixes), processes them
//! with the expected count, undoes the process batch and processes again, adds an adjustment
//! invoice, records payments, and prints the backlog, the batch results and the per-project
//! report. It writes the journal (`journal.jsonl`) and a snapshot (`book.json`) to `--out`
//! (default `./month-end-out`). Export files and PDFs join as their crates land.
//!
//! ```text
//! cargo run --release --example month_end [-- --out DIR]
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use invoice_engine::*;
use rust_decimal_macros::dec;

fn main() -> ExitCode {
    let mut out = PathBuf::from("month-end-out");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => match args.next() {
                Some(dir) => out = PathBuf::from(dir),
                None => return usage("--out needs a directory"),
            },
            "-h" | "--help" => {
                println!("usage: month_end [--out DIR]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument '{other}'")),
        }
    }
    match run(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("month_end: {e}");
            ExitCode::from(1)
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("month_end: {problem}\nusage: month_end [--out DIR]");
    ExitCode::from(2)
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
}

fn run(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let clock =
        Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).single().ok_or("bad start time")?));
    let mut book = Book::with_clock(Settings::default(), clock.clone());
    let admin = Actor::new("ana.admin", Role::Administrator);
    let finance = Actor::new("fred.finance", Role::Finance);
    let november = Period::new(day(11, 1), day(11, 30));

    println!("== Month end for {november}\n");
    let customer = |id: &str, name: &str, country: &str| Customer {
        address_lines: vec!["Hauptstraße 1".into(), country.into()],
        email: Some(format!("billing@{}.example", id.to_lowercase())),
        ..Customer::new(id, name)
    };
    let invoice = |c: Customer, cur, project: &str, lines: Vec<Line>| {
        Invoice::builder(c, cur)
            .project(project)
            .location("Oslo")
            .billing_period(november)
            .due_date(day(12, 30))
            .lines(lines)
            .build()
    };
    let drafts = vec![
        invoice(
            customer("C001", "Müller GmbH", "Germany"),
            Currency::EUR,
            "PRJ-0042 ERP rollout",
            vec![
                Line::new("Consulting, November", dec!(37.5), dec!(120.00))
                    .tax_rate(dec!(0.19))
                    .item("CONS")
                    .gl_account("8400"),
                Line::new("Travel: Oslo, Berlin", dec!(1), dec!(412.80))
                    .tax_rate(dec!(0.07))
                    .kind(LineKind::Expense)
                    .gl_account("8300"),
                Line::new("Loyalty discount", dec!(1), dec!(-150.00)).tax_rate(dec!(0.19)).kind(LineKind::Discount),
            ],
        ),
        invoice(
            customer("C002", "Søren Ødegård AS", "Norway"),
            Currency::NOK,
            "PRJ-0007 Website relaunch",
            vec![Line::new("Design review", dec!(12), dec!(1450.00)).tax_rate(dec!(0.25)).item("DES")],
        ),
        invoice(
            customer("C003", "株式会社日本テック", "日本"),
            Currency::JPY,
            "PRJ-0123 Ñandú app",
            vec![Line::new("Development (hours)", dec!(20.25), dec!(9800)).tax_rate(dec!(0.10))],
        ),
        invoice(customer("C004", "Łukasz Wróbel", "Poland"), Currency::PLN, "PRJ-0200 Migration, phase 2", vec![]),
    ];
    let ids = book.create_invoices(&finance, drafts)?;
    book.apply(&finance, Command::Issue { invoices: ids.clone() })?;
    book.apply(&finance, Command::MarkSent { invoices: ids.clone() })?;
    print_backlog(&book)?;

    // Export batch: post, one failure, re-run only the failure.
    let target = Target::new("qbxml", "Demo Consulting Ltd");
    let batch = book.create_export_batch(&finance, ids.clone(), target.clone(), None)?;
    book.apply(&admin, Command::Post { batch })?;
    let work: Vec<InvoiceId> = book.export_work(batch)?.iter().map(|i| i.id).collect();
    let mut results: Vec<(InvoiceId, Outcome)> = work.iter().map(|i| (*i, Outcome::Exported)).collect();
    if let Some(last) = results.last_mut() {
        last.1 = Outcome::Failed { message: "customer: no customer mapping for C003".into() };
    }
    book.apply(&admin, Command::RecordExportResults { batch, results })?;
    print_batch(&book, batch, "first run")?;
    let rerun: Vec<(InvoiceId, Outcome)> = book.export_work(batch)?.iter().map(|i| (i.id, Outcome::Exported)).collect();
    book.apply(&admin, Command::RecordExportResults { batch, results: rerun })?;
    print_batch(&book, batch, "re-run of the failures")?;

    // Process with the expected count, undo, process again.
    clock.advance(chrono::Duration::days(1));
    let exported: Vec<InvoiceId> = ids
        .iter()
        .copied()
        .filter(|i| book.invoice(*i).is_ok_and(|inv| inv.status.accounting == Accounting::Exported))
        .collect();
    let n = exported.len();
    let processed = book.process(&admin, exported.clone(), n)?;
    println!("processed {n} invoices in batch {processed}");
    book.apply(&admin, Command::UndoProcess { batch: processed })?;
    println!("undid batch {processed}: every invoice is back to exported");
    let again = book.process(&admin, exported, n)?;
    println!("processed again in batch {again}\n");

    // Corrections and payments.
    let adjustment = book.create_adjustment(
        &finance,
        ids[0],
        vec![Line::new("Hours missed in November", dec!(2), dec!(120.00)).tax_rate(dec!(0.19))],
    )?;
    let credit = book.create_credit_note(
        &finance,
        ids[1],
        Some(vec![Line::new("Goodwill", dec!(1), dec!(1450.00)).tax_rate(dec!(0.25))]),
    )?;
    book.apply(&finance, Command::Issue { invoices: vec![adjustment, credit] })?;
    let gross = book.invoice(ids[1])?.totals()?.gross;
    let payment = PaymentRecord { date: day(12, 1), amount: gross, reference: Some("SEPA 2026-12-01".into()) };
    book.apply(&finance, Command::RecordPayment { invoice: ids[1], payment })?;
    book.apply(&admin, Command::RecordReference { invoice: ids[0], reference: "QB-TXN-1042".into() })?;

    println!("== Project report");
    println!("{:<30} {:>4} {:>14} {:>14} {:>14}", "project", "cur", "billed", "processed", "paid");
    for r in book.project_report()? {
        println!("{:<30} {:>4} {:>14} {:>14} {:>14}", r.project, r.currency, r.billed, r.processed, r.paid);
    }

    fs::create_dir_all(out)?;
    let mut journal = Vec::new();
    book.write_journal(&mut journal)?;
    write_atomic(&out.join("journal.jsonl"), &journal)?;
    write_atomic(&out.join("book.json"), serde_json::to_string_pretty(&book)?.as_bytes())?;
    let replayed = Book::replay(Book::read_journal(journal.as_slice())?)?;
    println!("\njournal: {} events; replay gives the same book: {}", book.journal().len(), replayed == book);
    println!("wrote {}", out.join("journal.jsonl").display());
    println!("wrote {}", out.join("book.json").display());
    Ok(())
}

fn print_backlog(book: &Book) -> Result<(), Error> {
    println!("{:<12} {:<28} {:>4} {:>12} {:>12} {:>12}  status", "number", "customer", "cur", "net", "tax", "gross");
    for row in book.backlog(&BacklogQuery::default().sort_by(Column::Number, Order::Ascending))? {
        let i = row.invoice;
        let t = &row.totals;
        println!(
            "{:<12} {:<28} {:>4} {:>12} {:>12} {:>12}  {}/{}/{}",
            i.label(),
            i.customer.name,
            i.currency,
            t.net,
            t.tax,
            t.gross,
            i.status.delivery,
            i.status.accounting,
            i.status.payment
        );
    }
    println!("\n== Totals per currency");
    for g in book.backlog_groups(&BacklogQuery::default(), GroupBy::BillingPeriod)? {
        for (currency, s) in &g.totals {
            println!("{}  {currency}: {} invoices, gross {}", g.key, s.count, s.gross);
        }
    }
    println!();
    Ok(())
}

fn print_batch(book: &Book, batch: BatchId, title: &str) -> Result<(), Error> {
    let b = book.export_batch(batch)?;
    println!("== Batch {batch} to {} ({title}): {}", b.target, b.state_name());
    for id in &b.invoices {
        let label = book.invoice(*id)?.label();
        let detail = match &b.results[id] {
            ExportResult::Skipped { reason } => format!("skipped: {reason}"),
            ExportResult::Failed { message } => format!("FAILED: {message}"),
            other => other.name().to_string(),
        };
        println!("  {label:<12} {detail}");
    }
    println!();
    Ok(())
}

/// Write `bytes` to `path` through a temporary file in the same directory, then rename it, so
/// a failure never leaves a half-written file.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}
