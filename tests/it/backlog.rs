//! The back-office backlog (filter, sort, group with subtotals) and the project report.

use crate::common::*;
use invoice_engine::*;
use rust_decimal_macros::dec;

/// Six issued invoices in two currencies, two customers, two offices; one processed, one paid.
fn sample() -> (Book, Vec<InvoiceId>) {
    let mut book = book();
    let mk = |c: &str, cur, price, loc: &str, project: &str| {
        let mut i = draft(c, cur, &[price]);
        i.location = Some(loc.into());
        i.project = Some(project.into());
        i
    };
    let drafts = vec![
        mk("C1", Currency::EUR, dec!(100.00), "Oslo", "P1"),
        mk("C1", Currency::EUR, dec!(300.00), "Berlin", "P1"),
        mk("C2", Currency::JPY, dec!(5000), "Oslo", "P2"),
        mk("C2", Currency::EUR, dec!(50.00), "Oslo", "P2"),
        mk("C1", Currency::JPY, dec!(100), "Berlin", "P1"),
        mk("C2", Currency::EUR, dec!(10.00), "Berlin", "P2"),
    ];
    let ids = book.create_invoices(&admin(), drafts).unwrap();
    book.apply(&admin(), Command::Issue { invoices: ids.clone() }).unwrap();
    let batch = book.create_export_batch(&admin(), vec![ids[5]], xero(), None).unwrap();
    book.apply(&admin(), Command::Post { batch }).unwrap();
    book.apply(&admin(), Command::MarkExported { batch }).unwrap();
    book.process(&admin(), vec![ids[5]], 1).unwrap();
    let pay = PaymentRecord { date: date(2026, 12, 2), amount: dec!(119.00), reference: Some("bank".into()) };
    book.apply(&admin(), Command::RecordPayment { invoice: ids[0], payment: pay }).unwrap();
    // a draft is never in the backlog
    book.create_invoice(&admin(), draft("C3", Currency::EUR, &[dec!(1)])).unwrap();
    (book, ids)
}

fn numbers(rows: &[Row<'_>]) -> Vec<String> {
    rows.iter().map(|r| r.invoice.label()).collect()
}

#[test]
fn backlog_is_issued_and_unprocessed() {
    let (book, _) = sample();
    let rows = book.backlog(&BacklogQuery::default()).unwrap();
    assert_eq!(numbers(&rows), ["INV-000001", "INV-000002", "INV-000003", "INV-000004", "INV-000005"]);
}

#[test]
fn filters_on_every_column() {
    let (book, _) = sample();
    let q = |q: BacklogQuery| numbers(&book.backlog(&q).unwrap());
    assert_eq!(q(BacklogQuery::default().customer("C2")), ["INV-000003", "INV-000004"]);
    assert_eq!(q(BacklogQuery::default().location("Berlin")), ["INV-000002", "INV-000005"]);
    assert_eq!(q(BacklogQuery::default().project("P2").location("Oslo")), ["INV-000003", "INV-000004"]);
    assert_eq!(q(BacklogQuery::default().payment([Payment::Paid])), ["INV-000001"]);
    assert_eq!(q(BacklogQuery::default().accounting([Accounting::Exported])), Vec::<String>::new());
    assert_eq!(
        q(BacklogQuery::default().amount_range(Some(dec!(100)), Some(dec!(400)))),
        ["INV-000001", "INV-000002", "INV-000005"]
    );
    assert_eq!(q(BacklogQuery::default().kinds(["credit_note"])), Vec::<String>::new());
    assert_eq!(q(BacklogQuery::default().billing_period(Period::new(date(2026, 11, 1), date(2026, 11, 30)))).len(), 5);
    assert_eq!(q(BacklogQuery::default().issued_between(Some(date(2026, 12, 1)), None)), Vec::<String>::new());
    assert_eq!(q(BacklogQuery::default().invoice_type("retainer")), Vec::<String>::new());
}

#[test]
fn sorts_by_any_column_either_way() {
    let (book, _) = sample();
    let q = |q: BacklogQuery| numbers(&book.backlog(&q).unwrap());
    assert_eq!(
        q(BacklogQuery::default().sort_by(Column::Gross, Order::Descending)),
        ["INV-000003", "INV-000002", "INV-000001", "INV-000005", "INV-000004"]
    );
    assert_eq!(
        q(BacklogQuery::default().sort_by(Column::Currency, Order::Ascending).sort_by(Column::Gross, Order::Ascending)),
        ["INV-000004", "INV-000001", "INV-000002", "INV-000005", "INV-000003"]
    );
    assert_eq!(
        q(BacklogQuery::default().sort_by(Column::Number, Order::Descending)),
        ["INV-000005", "INV-000004", "INV-000003", "INV-000002", "INV-000001"]
    );
}

#[test]
fn groups_with_count_and_totals_per_currency() {
    let (book, ids) = sample();
    let groups = book.backlog_groups(&BacklogQuery::default(), GroupBy::Customer).unwrap();
    assert_eq!(
        groups.iter().map(|g| (g.key.as_str(), g.count)).collect::<Vec<_>>(),
        [("C1 Customer C1", 3), ("C2 Customer C2", 2)]
    );
    let c1 = &groups[0];
    assert_eq!(c1.totals[&Currency::EUR].gross, dec!(476.00));
    assert_eq!(c1.totals[&Currency::EUR].net, dec!(400.00));
    assert_eq!(c1.totals[&Currency::JPY].gross, dec!(119));
    assert_eq!(c1.invoices, [ids[0], ids[1], ids[4]]);
    let by_status = book.backlog_groups(&BacklogQuery::default(), GroupBy::Status(Axis::Payment)).unwrap();
    assert_eq!(by_status.iter().map(|g| (g.key.as_str(), g.count)).collect::<Vec<_>>(), [("paid", 1), ("unpaid", 4)]);
    let by_office = book.backlog_groups(&BacklogQuery::default(), GroupBy::Location).unwrap();
    assert_eq!(by_office.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(), ["Berlin", "Oslo"]);
    // line detail of any invoice
    let rows = book.backlog(&BacklogQuery::default().customer("C2")).unwrap();
    let lines: Vec<_> = rows[0].lines().map(|(l, net)| (l.description.clone(), net)).collect();
    assert_eq!(lines, [("line 0".to_string(), dec!(5000))]);
}

#[test]
fn project_report_billed_processed_paid() {
    let (mut book, ids) = sample();
    // a credit note for part of INV-000002 counts negative
    let cn = book
        .create_credit_note(
            &admin(),
            ids[1],
            Some(vec![Line::new("goodwill", dec!(1), dec!(100.00)).tax_rate(dec!(0.19))]),
        )
        .unwrap();
    book.issue(&admin(), cn).unwrap();
    let report = book.project_report().unwrap();
    let row = |p: &str, c| report.iter().find(|r| r.project == p && r.currency == c).unwrap().clone();
    let p1 = row("P1", Currency::EUR);
    assert_eq!((p1.invoices, p1.billed, p1.processed, p1.paid), (3, dec!(357.00), dec!(0), dec!(119.00)));
    assert_eq!(p1.processed.to_string(), "0.00");
    let p2 = row("P2", Currency::EUR);
    assert_eq!((p2.billed, p2.processed), (dec!(71.40), dec!(11.90)));
    assert_eq!(row("P2", Currency::JPY).billed, dec!(5950));
}
