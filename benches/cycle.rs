//! The billing cycle at scale: readiness of 10,000 projects for one period with 1,000,000
//! time entries, and generation of their invoices. Goal (issue 3): under 1 s together on one
//! core. Numbers are recorded in benches/README.md.

use std::hint::black_box;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use invoice_engine::cycle::{InvoiceDay, Project, Schedule, TimeEntry};
use invoice_engine::*;
use rust_decimal::Decimal;

/// People per project: each bills at their own rate, so a generated invoice has one line per
/// member (by-person grouping), about 100 entries per project and period.
const TEAM: usize = 5;

/// Full size under `cargo bench`; a small smoke run when `cargo test` runs the benches.
fn scale() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1
    } else {
        100
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("a valid date")
}

/// A book on 2026-12-01 with every project's November time recorded and locked.
fn organisation(projects: usize, people: usize, entries: usize) -> Book {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).single().expect("a valid time"));
    let mut book = Book::with_clock(Settings::default(), Arc::new(clock));
    let admin = Actor::new("root", Role::Administrator);
    for k in 0..projects {
        let customer = Customer::new(format!("C{:05}", k % 3000), format!("Client {}", k % 3000));
        let mut p = Project::new(format!("P{k:05}"), format!("Project {k}"), customer, Currency::EUR);
        p.schedule = Some(Schedule::Monthly { invoice_day: InvoiceDay::Day(1) });
        p.members = (0..TEAM).map(|j| format!("u{:04}", (k * TEAM + j) % people)).collect();
        p.tax_rate = Decimal::new(19, 2);
        book.apply(&admin, Command::SaveProject { project: Box::new(p) }).expect("project");
    }
    for u in 0..people {
        book.apply(&admin, Command::SavePerson { person: cycle::Person::new(format!("u{u:04}"), format!("User {u}")) })
            .expect("person");
    }
    let entries = (0..entries)
        .map(|i| {
            let project = i % projects;
            let member = (i / projects) % TEAM;
            let person = (project * TEAM + member) % people;
            let date = day(11, 1) + Duration::days((i % 30) as i64);
            TimeEntry::new(
                format!("u{person:04}"),
                format!("P{project:05}"),
                date,
                Decimal::new(((i % 32) as i64 + 1) * 25, 2),
                Decimal::new(9000 + (i % 7) as i64 * 500, 2),
            )
            .task(["Build", "Review", "Meetings"][i % 3])
        })
        .collect();
    book.apply(&admin, Command::RecordTime { entries }).expect("time");
    for u in 0..people {
        book.apply(&admin, Command::LockTime { person: format!("u{u:04}"), until: day(11, 30) }).expect("lock");
    }
    book
}

fn bench_cycle(c: &mut Criterion) {
    let (projects, people, entries) = (10_000 / scale(), 2_000 / scale(), 1_000_000 / scale());
    let book = organisation(projects, people, entries);
    let admin = Actor::new("root", Role::Administrator);
    let window = Period::new(day(12, 1), day(12, 31));
    let as_of = day(12, 1);
    let mut group = c.benchmark_group("cycle");
    group.sample_size(10);
    group.bench_function("readiness_10000_projects_1000000_entries", |b| {
        b.iter(|| black_box(book.cycle_view(&window, as_of).expect("view")))
    });
    group.bench_function("readiness_and_generate_10000_projects_1000000_entries", |b| {
        b.iter_batched(
            || book.clone(),
            |mut book| {
                let view = book.cycle_view(&window, as_of).expect("view");
                assert!(!view.clear);
                let out = book.generate(&admin, window, vec![]).expect("generate");
                assert_eq!(out.len(), projects);
                book
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_cycle);
criterion_main!(benches);
