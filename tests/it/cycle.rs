//! The billing cycle: readiness outcomes with approval flows on and off, the chase list,
//! generation (once), void releasing what was billed, roles, and a full cycle to "cycle clear".

use crate::common::*;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use invoice_engine::cycle::*;
use invoice_engine::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::sync::Arc;

fn fin() -> Actor {
    Actor::new("fred", Role::Finance)
}

fn consultant(id: &str) -> Actor {
    Actor::new(id, Role::Consultant)
}

fn pm(id: &str) -> Actor {
    Actor::new(id, Role::ProjectManager)
}

fn nov() -> Period {
    Period::new(date(2026, 11, 1), date(2026, 11, 30))
}

/// A book on 2026-12-01 with project P1 (monthly, invoiced on the 1st, members ana and ben,
/// approver pia) and the people.
fn org(flows: bool) -> (Book, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()));
    let settings = Settings { approval_flows: flows, ..Settings::default() };
    let mut book = Book::with_clock(settings, clock.clone());
    let mut p = Project::new("P1", "Website", Customer::new("C1", "Müller GmbH"), Currency::EUR);
    p.schedule = Some(Schedule::Monthly { invoice_day: InvoiceDay::Day(1) });
    p.members = vec!["ana".into(), "ben".into()];
    p.approvers = vec!["pia".into()];
    p.tax_rate = dec!(0.19);
    book.apply(&fin(), Command::SaveProject { project: Box::new(p) }).unwrap();
    for (id, name) in [("ana", "Ana Lima"), ("ben", "Ben Øster"), ("pia", "Pia Nowak"), ("cy", "Cy Tanaka")] {
        book.apply(&fin(), Command::SavePerson { person: Person::new(id, name) }).unwrap();
    }
    (book, clock)
}

fn record(book: &mut Book, person: &str, day: u32, hours: Decimal) -> EntryId {
    let e = TimeEntry::new(person, "P1", date(2026, 11, day), hours, dec!(100)).task("Build");
    book.apply(&consultant(person), Command::RecordTime { entries: vec![e] }).unwrap();
    EntryId(book.time_entries().len() as u64)
}

fn lock(book: &mut Book, person: &str, until: NaiveDate) {
    book.apply(&consultant(person), Command::LockTime { person: person.into(), until }).unwrap();
}

fn codes(r: &Readiness) -> Vec<&'static str> {
    match r {
        Readiness::Pending(b) | Readiness::Ready(b) => b.reasons.iter().map(|r| r.code()).collect(),
        _ => vec![],
    }
}

#[test]
fn missing_schedule_reports_only_uninvoiced_hours() {
    let (mut book, _) = org(false);
    let mut p = Project::new("P2", "No schedule", Customer::new("C2", "X"), Currency::EUR);
    p.members = vec!["ana".into()];
    book.apply(&fin(), Command::SaveProject { project: Box::new(p) }).unwrap();
    let e = TimeEntry::new("ana", "P2", date(2026, 11, 4), dec!(3.5), dec!(90));
    book.apply(&consultant("ana"), Command::RecordTime { entries: vec![e] }).unwrap();
    assert_eq!(
        book.readiness("P2", &nov(), date(2026, 12, 1)).unwrap(),
        Readiness::MissingSchedule { uninvoiced_hours: dec!(3.5) }
    );
    let view = book.cycle_view(&Period::new(date(2026, 12, 1), date(2026, 12, 31)), date(2026, 12, 1)).unwrap();
    assert_eq!(view.missing_schedule, [("P2".to_string(), dec!(3.5))]);
}

#[test]
fn not_due_before_the_invoice_date_and_not_a_period() {
    let (book, _) = org(false);
    assert_eq!(
        book.readiness("P1", &nov(), date(2026, 11, 30)).unwrap(),
        Readiness::NotDue { invoice_date: date(2026, 12, 1) }
    );
    let half = Period::new(date(2026, 11, 1), date(2026, 11, 15));
    assert_eq!(book.readiness("P1", &half, date(2026, 12, 1)).unwrap_err().code(), "not_a_period");
    assert_eq!(book.readiness("P9", &nov(), date(2026, 12, 1)).unwrap_err().code(), "unknown_project");
}

#[test]
fn without_approval_flows_pending_until_everyone_locked() {
    let (mut book, _) = org(false);
    record(&mut book, "ana", 3, dec!(8));
    record(&mut book, "ben", 4, dec!(6));
    lock(&mut book, "ana", date(2026, 11, 20));
    let r = book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap();
    // ana locked until the 20th (10 open days), ben never locked (30 open days) and has an open entry
    assert_eq!(codes(&r), ["open_days", "open_days", "open_entries"]);
    let Readiness::Pending(b) = &r else { panic!("{r:?}") };
    assert_eq!(
        b.open_days,
        [
            Reason::OpenDays {
                person: "ana".into(),
                locked_until: Some(date(2026, 11, 20)),
                from: date(2026, 11, 21),
                days: 10
            },
            Reason::OpenDays { person: "ben".into(), locked_until: None, from: date(2026, 11, 1), days: 30 },
        ]
    );
    assert_eq!((b.open_hours, b.locked_hours, b.approved_hours), (dec!(6), dec!(8), dec!(0)));
    lock(&mut book, "ana", date(2026, 11, 30));
    lock(&mut book, "ben", date(2026, 12, 1));
    let r = book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap();
    let Readiness::Ready(b) = &r else { panic!("{r:?}") };
    assert_eq!((b.locked_hours, b.approval_flows), (dec!(14), false));
}

#[test]
fn with_approval_flows_locked_time_waits_for_approval() {
    let (mut book, _) = org(true);
    let a = record(&mut book, "ana", 3, dec!(8));
    let b1 = record(&mut book, "ben", 4, dec!(6));
    lock(&mut book, "ana", date(2026, 11, 30));
    lock(&mut book, "ben", date(2026, 11, 30));
    let r = book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap();
    assert_eq!(codes(&r), ["pending_approval", "pending_approval"]);
    // only the project's approver (or an administrator) approves
    let err = book.apply(&pm("someone"), Command::ApproveTime { entries: vec![a] }).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    book.apply(&pm("pia"), Command::ApproveTime { entries: vec![a] }).unwrap();
    let r = book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap();
    let Readiness::Pending(bd) = &r else { panic!("{r:?}") };
    assert_eq!(bd.reasons, [Reason::PendingApproval { person: "ben".into(), entries: vec![b1], hours: dec!(6) }]);
    assert_eq!((bd.locked_hours, bd.approved_hours), (dec!(6), dec!(8)));
    book.apply(&pm("pia"), Command::ApproveTime { entries: vec![b1] }).unwrap();
    assert_eq!(book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap().name(), "ready");
}

#[test]
fn an_open_expense_keeps_the_period_pending() {
    for flows in [false, true] {
        let (mut book, _) = org(flows);
        lock(&mut book, "ana", date(2026, 11, 30));
        lock(&mut book, "ben", date(2026, 11, 30));
        let x = Expense {
            person: "ana".into(),
            ..Expense::new("P1", date(2026, 11, 12), "Train Oslo–Bergen", dec!(89.90), Currency::EUR)
        };
        book.apply(&consultant("ana"), Command::RecordExpenses { expenses: vec![x] }).unwrap();
        let r = book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap();
        assert_eq!(codes(&r), ["expense_open"]);
        let Readiness::Pending(b) = &r else { panic!() };
        assert_eq!(b.expenses[&EntryState::Open], (1, dec!(89.90)));
        book.apply(&consultant("ana"), Command::SubmitExpenses { expenses: vec![ExpenseId(1)] }).unwrap();
        let r = book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap();
        if flows {
            assert_eq!(codes(&r), ["expense_pending_approval"]);
            book.apply(&pm("pia"), Command::ApproveExpenses { expenses: vec![ExpenseId(1)] }).unwrap();
        }
        assert_eq!(book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap().name(), "ready", "flows {flows}");
    }
}

#[test]
fn expense_in_another_currency_is_a_reason() {
    let (mut book, _) = org(false);
    lock(&mut book, "ana", date(2026, 11, 30));
    lock(&mut book, "ben", date(2026, 11, 30));
    let x = Expense::new("P1", date(2026, 11, 12), "Hotel", dec!(1200), Currency::NOK);
    book.apply(&fin(), Command::RecordExpenses { expenses: vec![x] }).unwrap();
    book.apply(&fin(), Command::SubmitExpenses { expenses: vec![ExpenseId(1)] }).unwrap();
    assert_eq!(codes(&book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap()), ["expense_currency"]);
}

#[test]
fn chase_list_names_who_owes_time_and_who_must_approve() {
    let (mut book, _) = org(true);
    record(&mut book, "ana", 3, dec!(8));
    record(&mut book, "cy", 5, dec!(2)); // not a member, but has time on the project
    lock(&mut book, "ana", date(2026, 11, 27));
    let chase = book.chase("P1", &nov(), date(2026, 12, 1)).unwrap();
    let owed: Vec<_> = chase.time.iter().map(|t| (t.person.as_str(), t.days.len(), t.open_hours)).collect();
    assert_eq!(owed, [("ana", 3, dec!(0)), ("ben", 30, dec!(0)), ("cy", 0, dec!(2))]);
    assert_eq!(chase.time[0].days, [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]);
    assert_eq!(chase.approvals.len(), 1);
    assert_eq!(
        (chase.approvals[0].approver.as_str(), chase.approvals[0].entries.clone(), chase.approvals[0].hours),
        ("pia", vec![EntryId(1)], dec!(8))
    );
    let window = Period::new(date(2026, 12, 1), date(2026, 12, 31));
    assert_eq!(book.chase_list(&window, date(2026, 12, 1)).unwrap(), [chase]);
}

#[test]
fn generation_bills_once_and_void_releases() {
    let (mut book, clock) = org(false);
    let a = record(&mut book, "ana", 3, dec!(7.5));
    record(&mut book, "ana", 4, dec!(0.25));
    record(&mut book, "ben", 5, dec!(6));
    let mut x = Expense::new("P1", date(2026, 11, 12), "Taxi", dec!(42.10), Currency::EUR);
    x.person = "ben".into();
    book.apply(&consultant("ben"), Command::RecordExpenses { expenses: vec![x] }).unwrap();
    book.apply(&consultant("ben"), Command::SubmitExpenses { expenses: vec![ExpenseId(1)] }).unwrap();
    let m = Milestone {
        id: "M1".into(),
        project: "P1".into(),
        description: "Go-live".into(),
        amount: dec!(5000),
        approved: false,
        invoiced_by: None,
    };
    book.apply(&fin(), Command::SaveMilestone { milestone: m }).unwrap();
    book.apply(&pm("pia"), Command::ApproveMilestone { milestone: "M1".into() }).unwrap();
    let down = DeferredItem {
        id: "D1".into(),
        project: "P1".into(),
        description: "Down payment Q1".into(),
        amount: dec!(1000),
        invoiced_by: None,
    };
    book.apply(&fin(), Command::SaveDeferredItem { item: down }).unwrap();
    lock(&mut book, "ana", date(2026, 11, 30));
    lock(&mut book, "ben", date(2026, 11, 30));

    let december = Period::new(date(2026, 12, 1), date(2026, 12, 31));
    let out = book.generate(&fin(), december, vec![]).unwrap();
    let GenerateOutcome::Generated { invoice, number, .. } = &out[0] else { panic!("{out:?}") };
    assert_eq!(number, "INV-000001");
    let inv = book.invoice(*invoice).unwrap().clone();
    assert_eq!((inv.status.document, inv.status.delivery), (Document::Issued, Delivery::ReadyToSend));
    assert_eq!(inv.issue_date, Some(date(2026, 12, 1)));
    assert_eq!(inv.due_date, Some(date(2026, 12, 31)));
    assert_eq!(inv.billing_period, Some(nov()));
    assert_eq!(inv.project.as_deref(), Some("P1 Website"));
    let lines: Vec<_> = inv.lines.iter().map(|l| (l.description.as_str(), l.quantity, l.unit_price, l.kind)).collect();
    assert_eq!(
        lines,
        [
            ("Ana Lima", dec!(7.75), dec!(100), LineKind::Service),
            ("Ben Øster", dec!(6), dec!(100), LineKind::Service),
            ("Taxi", dec!(1), dec!(42.10), LineKind::Expense),
            ("Go-live", dec!(1), dec!(5000), LineKind::Milestone),
            ("Down payment Q1", dec!(1), dec!(1000), LineKind::DeferredRevenue),
        ]
    );
    assert_eq!(inv.totals().unwrap().net, dec!(7417.10));
    assert!(book.time_entries().iter().all(|e| e.invoiced_by == Some(*invoice)));
    // billed entries cannot be edited any more
    let err = book
        .apply(&admin(), Command::EditTime { entry: a, hours: dec!(1), rate: dec!(1), task: String::new() })
        .unwrap_err();
    assert_eq!(err.code(), "locked");
    // a second run creates nothing and says so
    let again = book.generate(&fin(), december, vec![]).unwrap();
    assert!(matches!(&again[0], GenerateOutcome::AlreadyInvoiced { number, .. } if number == "INV-000001"));
    assert_eq!(book.invoices().len(), 1);
    // void releases everything; generating again bills it again under a new number
    book.apply(&fin(), Command::Void { invoice: *invoice, reason: "wrong rate".into() }).unwrap();
    assert!(book.time_entries().iter().all(|e| e.invoiced_by.is_none()));
    assert!(book.milestones().all(|m| m.invoiced_by.is_none()));
    assert_eq!(book.readiness("P1", &nov(), date(2026, 12, 1)).unwrap().name(), "ready");
    clock.advance(Duration::hours(1));
    let third = book.generate(&fin(), december, vec![]).unwrap();
    assert!(matches!(&third[0], GenerateOutcome::Generated { number, .. } if number == "INV-000002"));
    assert_eq!(book.invoice(InvoiceId(2)).unwrap().totals().unwrap().net, dec!(7417.10));
    // the journal rebuilds the same book
    assert_eq!(Book::replay(book.journal().to_vec()).unwrap(), book);
}

#[test]
fn roles_and_locks() {
    let (mut book, _) = org(false);
    // a consultant records and locks only their own time
    let e = TimeEntry::new("ben", "P1", date(2026, 11, 3), dec!(1), dec!(100));
    assert_eq!(
        book.apply(&consultant("ana"), Command::RecordTime { entries: vec![e.clone()] }).unwrap_err().code(),
        "forbidden"
    );
    let lock_ben = Command::LockTime { person: "ben".into(), until: date(2026, 11, 30) };
    assert_eq!(book.apply(&consultant("ana"), lock_ben).unwrap_err().code(), "forbidden");
    // consultants do not generate, approve or manage projects
    let window = Period::new(date(2026, 12, 1), date(2026, 12, 31));
    assert_eq!(book.generate(&consultant("ana"), window, vec![]).unwrap_err().code(), "forbidden");
    assert_eq!(book.apply(&consultant("ana"), Command::SetApprovalFlows { on: true }).unwrap_err().code(), "forbidden");
    // time cannot be recorded into a locked range, and locks do not move back
    lock(&mut book, "ben", date(2026, 11, 10));
    let err = book.apply(&consultant("ben"), Command::RecordTime { entries: vec![e] }).unwrap_err();
    assert_eq!(err.to_string(), "new time entry 1 of ben cannot change: ben locked their time until 2026-11-10");
    let back = Command::LockTime { person: "ben".into(), until: date(2026, 11, 1) };
    assert_eq!(book.apply(&consultant("ben"), back).unwrap_err().code(), "locked");
    // hours must be sensible
    let zero = TimeEntry::new("ana", "P1", date(2026, 11, 3), dec!(0), dec!(100));
    assert_eq!(
        book.apply(&consultant("ana"), Command::RecordTime { entries: vec![zero] }).unwrap_err().code(),
        "locked"
    );
    // an invalid schedule is refused
    let mut p = Project::new("P3", "x", Customer::new("C", "C"), Currency::EUR);
    p.schedule = Some(Schedule::Every { n: 0, unit: Unit::Days, anchor: date(2026, 1, 1) });
    assert_eq!(
        book.apply(&fin(), Command::SaveProject { project: Box::new(p) }).unwrap_err().code(),
        "invalid_schedule"
    );
}

/// 5 projects, 8 people, 2 monthly periods (Oct and Nov 2026), approval flows on, run to
/// "cycle clear" for each period.
#[test]
fn full_cycle_for_a_small_organisation() {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap()));
    let mut book = Book::with_clock(Settings { approval_flows: true, ..Settings::default() }, clock.clone());
    let people = ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"];
    for id in people {
        book.apply(&fin(), Command::SavePerson { person: Person::new(id, format!("Person {id}")) }).unwrap();
    }
    let schedules = [
        Schedule::Monthly { invoice_day: InvoiceDay::Last },
        Schedule::Monthly { invoice_day: InvoiceDay::Day(1) },
        Schedule::Monthly { invoice_day: InvoiceDay::Day(5) },
        Schedule::Every { n: 1, unit: Unit::Months, anchor: date(2026, 1, 1) },
        Schedule::Monthly { invoice_day: InvoiceDay::Day(3) },
    ];
    for (k, schedule) in schedules.into_iter().enumerate() {
        let mut p = Project::new(
            format!("PRJ-{k}"),
            format!("Project {k}"),
            Customer::new(format!("C{k}"), format!("Client {k}")),
            Currency::EUR,
        );
        p.schedule = Some(schedule);
        p.starts = Some(date(2026, 10, 1));
        p.grouping = if k % 2 == 0 { Grouping::ByPerson } else { Grouping::ByTask };
        p.members = vec![people[k].to_string(), people[k + 3].to_string()];
        p.approvers = vec!["pm".into()];
        p.tax_rate = dec!(0.19);
        book.apply(&fin(), Command::SaveProject { project: Box::new(p) }).unwrap();
    }
    let months = [(Period::new(date(2026, 10, 1), date(2026, 10, 31)), date(2026, 11, 1)), (nov(), date(2026, 12, 1))];
    for (period, window_start) in months {
        // every member logs time on workdays of the period; p8 logs on two projects
        let mut entries = Vec::new();
        for k in 0..5usize {
            for person in [people[k], people[k + 3], "p8"] {
                let mut d = period.start;
                while d <= period.end {
                    if d.format("%u").to_string().parse::<u32>().unwrap() <= 5 && (person != "p8" || k < 2) {
                        entries.push(
                            TimeEntry::new(
                                person,
                                format!("PRJ-{k}"),
                                d,
                                dec!(7.5),
                                dec!(110) + Decimal::from(k as u64),
                            )
                            .task(["Build", "Test"][k % 2]),
                        );
                    }
                    d = d.succ_opt().unwrap();
                }
            }
        }
        book.apply(&admin(), Command::RecordTime { entries }).unwrap();
        let window = Period::new(window_start, window_start + Duration::days(29));
        let as_of = window_start + Duration::days(10);
        clock.set(Utc.from_utc_datetime(&as_of.and_hms_opt(9, 0, 0).unwrap()));
        let view = book.cycle_view(&window, as_of).unwrap();
        assert!(!view.clear);
        assert_eq!(
            view.to_invoice.len(),
            4,
            "{:?}",
            view.to_invoice.iter().map(|d| (&d.project, d.period)).collect::<Vec<_>>()
        );
        // everyone locks, the PM approves everything waiting
        for person in people {
            book.apply(
                &Actor::new(person, Role::Consultant),
                Command::LockTime { person: person.into(), until: period.end },
            )
            .unwrap();
        }
        let waiting: Vec<EntryId> =
            book.time_entries().iter().filter(|e| e.state == EntryState::Submitted).map(|e| e.id).collect();
        book.apply(&admin(), Command::ApproveTime { entries: waiting }).unwrap();
        let out = book.generate(&fin(), window, vec![]).unwrap();
        assert_eq!(out.iter().filter(|o| matches!(o, GenerateOutcome::Generated { .. })).count(), 4);
        let view = book.cycle_view(&window, as_of).unwrap();
        assert!(view.clear, "{:?}", view.to_invoice);
        assert_eq!(view.ready_to_send.len(), 4);
        book.apply(&fin(), Command::MarkSent { invoices: view.ready_to_send.clone() }).unwrap();
        let view = book.cycle_view(&window, as_of).unwrap();
        assert_eq!((view.sent.len(), view.ready_to_send.len(), view.clear), (4, 0, true));
    }
    // PRJ-0 invoices on the period's last day (31 Oct, 30 Nov): outside the windows above
    let all = Period::new(date(2026, 10, 1), date(2026, 12, 10));
    let out = book.generate(&fin(), all, vec![]).unwrap();
    let generated: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            GenerateOutcome::Generated { project, period, .. } => Some((project.as_str(), period.start)),
            _ => None,
        })
        .collect();
    assert_eq!(generated, [("PRJ-0", date(2026, 10, 1)), ("PRJ-0", date(2026, 11, 1))]);
    assert_eq!(out.iter().filter(|o| matches!(o, GenerateOutcome::AlreadyInvoiced { .. })).count(), 8);
    assert!(book.cycle_view(&all, date(2026, 12, 11)).unwrap().clear);
    // every billable entry billed exactly once, and the totals add up
    assert!(book.time_entries().iter().all(|e| e.invoiced_by.is_some()));
    let billed_net: Decimal = book.invoices().iter().map(|i| i.totals().unwrap().net).sum();
    let hours_value: Decimal = book.time_entries().iter().map(|e| e.hours * e.rate).sum();
    assert_eq!(billed_net, hours_value);
    assert_eq!(Book::replay(book.journal().to_vec()).unwrap(), book);
}
