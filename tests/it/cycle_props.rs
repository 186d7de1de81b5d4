//! Property tests of the billing cycle over random time entries, expenses and random
//! lock / approve / generate / void sequences.

use chrono::{NaiveDate, TimeZone, Utc};
use invoice_engine::cycle::*;
use invoice_engine::*;
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, HashSet};

const PEOPLE: [&str; 3] = ["ana", "ben", "cy"];
const PROJECTS: [&str; 2] = ["P1", "P2"];

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Lock { person: usize, month: u32, day: u32 },
    ApproveSome { pick: Vec<bool> },
    Generate,
    VoidOne { pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 10u32..=11, 1u32..=30).prop_map(|(person, month, day)| Op::Lock { person, month, day }),
        2 => proptest::collection::vec(any::<bool>(), 0..40).prop_map(|pick| Op::ApproveSome { pick }),
        2 => Just(Op::Generate),
        1 => (0..8usize).prop_map(|pick| Op::VoidOne { pick }),
    ]
}

/// (person, project, month, day, quarter hours, rate in cents, billable)
fn entries() -> impl Strategy<Value = Vec<(usize, usize, u32, u32, i64, i64, bool)>> {
    proptest::collection::vec(
        (0..3usize, 0..2usize, 10u32..=11, 1u32..=30, 1i64..=32, 5000i64..=15099, prop::bool::weighted(0.9)),
        0..40,
    )
}

fn admin() -> Actor {
    Actor::new("root", Role::Administrator)
}

fn setup(flows: bool, raw: &[(usize, usize, u32, u32, i64, i64, bool)], expenses: &[(usize, u32, i64)]) -> Book {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 15, 9, 0, 0).unwrap());
    let mut book = Book::with_clock(Settings { approval_flows: flows, ..Settings::default() }, clock);
    for (k, id) in PROJECTS.iter().enumerate() {
        let mut p = Project::new(
            *id,
            format!("Project {k}"),
            Customer::new(format!("C{k}"), format!("Client {k}")),
            Currency::EUR,
        );
        p.schedule = Some(Schedule::Monthly { invoice_day: InvoiceDay::Last });
        p.grouping = if k == 0 { Grouping::ByPerson } else { Grouping::ByTask };
        p.tax_rate = Decimal::new(19, 2);
        book.apply(&admin(), Command::SaveProject { project: Box::new(p) }).unwrap();
    }
    for p in PEOPLE {
        book.apply(&admin(), Command::SavePerson { person: Person::new(p, format!("Person {p}")) }).unwrap();
    }
    let list: Vec<TimeEntry> = raw
        .iter()
        .map(|&(person, project, m, day, quarters, cents, billable)| {
            let mut e = TimeEntry::new(
                PEOPLE[person],
                PROJECTS[project],
                d(m, day),
                Decimal::new(quarters * 25, 2),
                Decimal::new(cents, 2),
            )
            .task(["Build", "Test"][(quarters % 2) as usize]);
            e.billable = billable;
            e
        })
        .collect();
    if !list.is_empty() {
        book.apply(&admin(), Command::RecordTime { entries: list }).unwrap();
    }
    let xs: Vec<Expense> = expenses
        .iter()
        .map(|&(project, day, cents)| {
            Expense::new(
                PROJECTS[project],
                d(11, day),
                format!("Expense {cents}"),
                Decimal::new(cents, 2),
                Currency::EUR,
            )
        })
        .collect();
    if !xs.is_empty() {
        let n = xs.len() as u64;
        book.apply(&admin(), Command::RecordExpenses { expenses: xs }).unwrap();
        let ids: Vec<ExpenseId> = (1..=n).map(ExpenseId).collect();
        book.apply(&admin(), Command::SubmitExpenses { expenses: ids.clone() }).unwrap();
        if flows {
            book.apply(&admin(), Command::ApproveExpenses { expenses: ids }).unwrap();
        }
    }
    book
}

fn window() -> Period {
    Period::new(d(10, 1), d(12, 15))
}

fn periods() -> [Period; 2] {
    [Period::new(d(10, 1), d(10, 31)), Period::new(d(11, 1), d(11, 30))]
}

fn run(book: &mut Book, op: &Op) {
    let _ = match op {
        Op::Lock { person, month, day } => {
            let until = d(*month, (*day).min(if *month == 11 { 30 } else { 31 }));
            book.apply(&admin(), Command::LockTime { person: PEOPLE[*person].into(), until }).map(|_| ())
        }
        Op::ApproveSome { pick } => {
            let waiting: Vec<EntryId> = book
                .time_entries()
                .iter()
                .filter(|e| e.state == EntryState::Submitted && e.invoiced_by.is_none())
                .zip(pick.iter().chain(std::iter::repeat(&true)))
                .filter(|(_, p)| **p)
                .map(|(e, _)| e.id)
                .collect();
            if waiting.is_empty() {
                Ok(())
            } else {
                book.apply(&admin(), Command::ApproveTime { entries: waiting }).map(|_| ())
            }
        }
        Op::Generate => book.generate(&admin(), window(), vec![]).map(|_| ()),
        Op::VoidOne { pick } => {
            let live: Vec<InvoiceId> =
                book.invoices().iter().filter(|i| i.status.document == Document::Issued).map(|i| i.id).collect();
            match live.get(pick % live.len().max(1)) {
                Some(id) => book.apply(&admin(), Command::Void { invoice: *id, reason: "test".into() }).map(|_| ()),
                None => Ok(()),
            }
        }
    };
}

fn check(book: &Book, flows: bool) {
    // 1. every billed entry points at a live invoice that lists it, and no entry is in two live invoices
    let mut seen = HashSet::new();
    for inv in book.invoices().iter().filter(|i| i.status.document == Document::Issued) {
        let billed = book.billed_by(inv.id).expect("a generated invoice remembers what it billed");
        for e in &billed.entries {
            assert!(seen.insert(*e), "entry {e:?} billed twice");
            assert_eq!(book.time_entry(*e).unwrap().invoiced_by, Some(inv.id));
        }
        // 2. the invoice total equals the entries and expenses it billed
        let mut groups: BTreeMap<(String, Decimal), Decimal> = BTreeMap::new();
        let project = book.project(&billed.project).unwrap();
        for id in &billed.entries {
            let e = book.time_entry(*id).unwrap();
            assert!(e.billable);
            let key = match project.grouping {
                Grouping::ByPerson => format!("Person {}", e.person),
                Grouping::ByTask => e.task.clone(),
            };
            *groups.entry((key, e.rate.normalize())).or_default() += e.hours * e.rate;
        }
        let mut expected: Decimal =
            groups.values().map(|v| v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)).sum();
        for x in &billed.expenses {
            expected += book.expenses()[(x.0 - 1) as usize].amount;
        }
        let totals = inv.totals().unwrap();
        assert_eq!(totals.net, expected, "invoice {}", inv.label());
        let tax = (expected * Decimal::new(19, 2)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(totals.gross, expected + tax);
    }
    for e in book.time_entries() {
        if let Some(inv) = e.invoiced_by {
            assert!(seen.contains(&e.id), "entry {:?} points at {inv} which does not list it", e.id);
        }
    }
    // 3. ready exactly when nothing of the period is open (or unapproved, with flows)
    for p in PROJECTS {
        for period in periods() {
            let r = book.readiness(p, &period, d(12, 15)).unwrap();
            let open = book.time_entries().iter().any(|e| {
                e.project == p
                    && e.billable
                    && e.invoiced_by.is_none()
                    && period.contains(e.date)
                    && match e.state {
                        EntryState::Open => true,
                        EntryState::Submitted => flows,
                        EntryState::Approved => false,
                    }
            });
            match r {
                Readiness::Invoiced { .. } => {}
                Readiness::Ready(_) => assert!(!open, "{p} {period} ready with open entries"),
                Readiness::Pending(ref b) => {
                    assert!(open, "{p} {period} pending without open entries: {:?}", b.reasons)
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn every_billable_entry_is_billed_exactly_once(
        flows in any::<bool>(),
        raw in entries(),
        expenses in proptest::collection::vec((0..2usize, 1u32..=30, 1i64..=50000), 0..4),
        ops in proptest::collection::vec(op(), 0..25),
    ) {
        let mut book = setup(flows, &raw, &expenses);
        for op in &ops {
            run(&mut book, op);
            check(&book, flows);
        }
        // close the cycle: everyone locks, everything is approved, generate
        for p in PEOPLE {
            book.apply(&admin(), Command::LockTime { person: p.into(), until: d(12, 15) }).unwrap();
        }
        run(&mut book, &Op::ApproveSome { pick: vec![] });
        book.generate(&admin(), window(), vec![]).unwrap();
        check(&book, flows);
        for e in book.time_entries() {
            let live = e.invoiced_by.map(|i| book.invoice(i).unwrap().status.document == Document::Issued);
            prop_assert_eq!(live, if e.billable { Some(true) } else { None }, "entry {:?}", e.id);
        }
        prop_assert!(book.cycle_view(&window(), d(12, 15)).unwrap().clear);
        prop_assert_eq!(Book::replay(book.journal().to_vec()).unwrap(), book);
    }
}
