//! Demo mode: an embedded organisation run through a whole month end (November 2026).

use std::fs;
use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use invoice_engine::cycle::*;
use invoice_engine::export::{preflight, Severity};
use invoice_engine::pdf::{DocumentId, FsSource, Renderer, Stamp};
use invoice_engine::*;
use rust_decimal::Decimal;

use crate::bulk::{chosen_formats, export_all, print_runs, write_backups, write_pdfs, write_zip};
use crate::config::MonthEndConfig;
use crate::ui::{self, step, table};
use crate::{Args, RunError};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
}

fn dec(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

/// Customers: (id, name, address lines, country code, VAT id).
const CUSTOMERS: [(&str, &str, [&str; 3], &str, &str); 6] = [
    ("C001", "Müller GmbH", ["Hauptstraße 1", "10115 Berlin", "Germany"], "DE", "DE811234567"),
    ("C002", "Søren Ødegård AS", ["Storgata 7", "0150 Oslo", "Norway"], "NO", "NO999888777MVA"),
    ("C003", "Łukasz Wróbel sp. z o.o.", ["ul. Długa 12", "00-001 Warszawa", "Poland"], "PL", "PL5260001234"),
    ("C004", "Dubois & Fils S.A.R.L.", ["12 rue de la Paix", "75002 Paris", "France"], "FR", "FR40123456789"),
    ("C005", "Baker Street Ltd", ["221B Baker Street", "London NW1 6XE", "United Kingdom"], "GB", "GB123456789"),
    ("C006", "Springfield Widgets Inc.", ["742 Evergreen Terrace", "Springfield, IL 62701", "USA"], "US", ""),
];

const PEOPLE: [(&str, &str); 20] = [
    ("anna", "Anna Müller"),
    ("soren", "Søren Larsen"),
    ("lukasz", "Łukasz Nowak"),
    ("chloe", "Chloé Dubois"),
    ("zoe", "Zoë Fischer"),
    ("jurgen", "Jürgen Schröder"),
    ("maria", "María García"),
    ("hiroshi", "Hiroshi Tanaka"),
    ("agnieszka", "Agnieszka Kowalczyk"),
    ("bjorn", "Björn Johansson"),
    ("francois", "François Lefèvre"),
    ("ines", "Ines Brown"),
    ("pawel", "Paweł Wróbel"),
    ("kari", "Kari O'Brien"),
    ("mei", "Mei Smith"),
    ("olivia", "Olivia Larsen"),
    ("noah", "Noah García"),
    ("emma", "Emma Nowak"),
    ("liam", "Liam Tanaka"),
    ("pia", "Pia Ødegård"),
];

/// The demo company's configuration: the documented example file that ships with the project.
fn demo_config() -> Result<MonthEndConfig, RunError> {
    MonthEndConfig::parse(include_str!("config.example.json"))
        .map_err(|e| RunError::Failed(format!("config.example.json: {e}")))
}

fn customer(k: usize) -> Customer {
    let (id, name, lines, _, vat) = CUSTOMERS[k];
    Customer {
        id: id.into(),
        name: name.into(),
        email: Some(format!("billing@{}.example", id.to_lowercase())),
        address_lines: lines.iter().map(|s| s.to_string()).collect(),
        tax_id: (!vat.is_empty()).then(|| vat.to_string()),
    }
}

/// (id, name, customer, currency, schedule, members, rate in cents, tax rate in 1/1000)
type ProjectSpec = (&'static str, &'static str, usize, Currency, Option<Schedule>, &'static [&'static str], i64, i64);

fn projects() -> Vec<ProjectSpec> {
    use InvoiceDay::*;
    vec![
        (
            "PRJ-0042",
            "ERP rollout",
            0,
            Currency::EUR,
            Some(Schedule::Monthly { invoice_day: Day(1) }),
            &["anna", "jurgen", "zoe"],
            12000,
            190,
        ),
        (
            "PRJ-0007",
            "Website relaunch",
            1,
            Currency::NOK,
            Some(Schedule::Monthly { invoice_day: Last }),
            &["soren", "bjorn"],
            145000,
            250,
        ),
        (
            "PRJ-0123",
            "Ñandú app",
            2,
            Currency::PLN,
            Some(Schedule::BiWeekly { anchor: day(11, 17) }),
            &["lukasz", "agnieszka", "pawel"],
            42000,
            230,
        ),
        (
            "PRJ-0200",
            "Migration, phase 2",
            3,
            Currency::EUR,
            Some(Schedule::Monthly { invoice_day: Day(1) }),
            &["chloe", "francois"],
            11000,
            200,
        ),
        (
            "PRJ-0201",
            "Data warehouse",
            4,
            Currency::GBP,
            Some(Schedule::Monthly { invoice_day: Last }),
            &["ines", "kari"],
            9500,
            200,
        ),
        (
            "PRJ-0300",
            "Support retainer",
            5,
            Currency::USD,
            Some(Schedule::Every { n: 10, unit: Unit::Days, anchor: day(11, 1) }),
            &["noah", "liam"],
            15000,
            0,
        ),
        (
            "PRJ-0301",
            "Security audit",
            0,
            Currency::EUR,
            Some(Schedule::Dates { start: day(11, 1), ends: vec![day(11, 15), day(11, 30)] }),
            &["maria"],
            14000,
            190,
        ),
        (
            "PRJ-0400",
            "Training programme",
            3,
            Currency::EUR,
            Some(Schedule::Weekly { anchor: day(11, 24) }),
            &["emma"],
            9000,
            200,
        ),
        (
            "PRJ-0401",
            "Mobile backend",
            1,
            Currency::NOK,
            Some(Schedule::Every { n: 1, unit: Unit::Months, anchor: day(1, 1) }),
            &["olivia"],
            130000,
            250,
        ),
        (
            "PRJ-0500",
            "Analytics",
            4,
            Currency::GBP,
            Some(Schedule::Monthly { invoice_day: Day(1) }),
            &["mei"],
            8800,
            200,
        ),
        (
            "PRJ-0501",
            "Fixed-price portal",
            5,
            Currency::USD,
            Some(Schedule::Monthly { invoice_day: Day(1) }),
            &["hiroshi"],
            0,
            0,
        ),
        ("PRJ-0999", "Internal R&D (no schedule yet)", 0, Currency::EUR, None, &["pia"], 10000, 190),
    ]
}

/// A deterministic sequence (no clock, no OS randomness).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A one-page PDF receipt (Helvetica, WinAnsi text), written by hand with a correct xref.
fn receipt_pdf(title: &str, detail: &str) -> Vec<u8> {
    let esc = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .collect::<String>()
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)")
    };
    let content = format!("BT /F1 18 Tf 72 760 Td ({}) Tj 0 -28 Td /F1 12 Tf ({}) Tj ET", esc(title), esc(detail));
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{}\nendstream", content.len(), content),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, o).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{}\n%%EOF\n", objects.len() + 1, xref).as_bytes(),
    );
    out
}

fn readiness_rows(book: &Book, view: &CycleView) -> Vec<Vec<String>> {
    view.to_invoice
        .iter()
        .chain(&view.invoiced)
        .map(|d| {
            let (status, hours, reasons) = match &d.readiness {
                Readiness::Pending(b) | Readiness::Ready(b) => {
                    let mut codes: Vec<&str> = b.reasons.iter().map(|r| r.code()).collect();
                    codes.dedup();
                    (
                        d.readiness.name().to_string(),
                        format!("{}/{}/{}", b.open_hours, b.locked_hours, b.approved_hours),
                        codes.join(", "),
                    )
                }
                Readiness::Invoiced { number, .. } => ("invoiced".into(), String::new(), number.clone()),
                other => (other.name().into(), String::new(), String::new()),
            };
            let name = book.project(&d.project).map(|p| p.name.clone()).unwrap_or_default();
            vec![d.project.clone(), name, d.period.to_string(), d.invoice_date.to_string(), status, hours, reasons]
        })
        .collect()
}

fn money_rows(book: &Book, ids: &[InvoiceId]) -> Result<Vec<Vec<String>>, RunError> {
    let mut rows = Vec::new();
    for id in ids {
        let inv = book.invoice(*id)?;
        let t = inv.totals()?;
        rows.push(vec![
            inv.label(),
            inv.kind.name().into(),
            inv.customer.name.clone(),
            inv.currency.to_string(),
            t.net.to_string(),
            t.tax.to_string(),
            t.gross.to_string(),
            format!("{}/{}/{}", inv.status.delivery, inv.status.accounting, inv.status.payment),
        ]);
    }
    Ok(rows)
}

fn totals_per_currency(book: &Book, ids: &[InvoiceId]) -> Result<String, RunError> {
    let mut sums: std::collections::BTreeMap<Currency, Decimal> = std::collections::BTreeMap::new();
    for id in ids {
        let inv = book.invoice(*id)?;
        let g = inv.totals()?.gross;
        *sums.entry(inv.currency).or_default() += if inv.kind.is_credit() { -g } else { g };
    }
    Ok(sums.iter().map(|(c, v)| format!("{c} {v}")).collect::<Vec<_>>().join(" | "))
}

pub fn run(args: &Args) -> Result<u8, RunError> {
    let out = &args.out;
    fs::create_dir_all(out)?;
    let config = match &args.config {
        Some(p) => MonthEndConfig::load(p)?,
        None => demo_config()?,
    };
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .ok_or("start time")
            .map_err(|e| RunError::Failed(e.into()))?,
    ));
    let mut book = Book::with_clock(Settings { approval_flows: true, ..Settings::default() }, clock.clone());
    let admin = Actor::new("ana.admin", Role::Administrator);
    let fin = Actor::new("fred.finance", Role::Finance);
    let pm = Actor::new("pia", Role::ProjectManager);
    let as_of = day(12, 1);
    let window = Period::new(day(11, 30), day(12, 1));
    let november = Period::new(day(11, 1), day(11, 30));
    let mut rng = Lcg(2026);

    // ---------------------------------------------------------------- the organisation
    for (id, name) in PEOPLE {
        book.apply(&fin, Command::SavePerson { person: Person::new(id, name) })?;
    }
    for (k, (id, name, cust, currency, schedule, members, rate, tax)) in projects().into_iter().enumerate() {
        let mut p = Project::new(id, name, customer(cust), currency);
        p.schedule = schedule;
        p.starts = Some(day(10, 1));
        p.members = members.iter().map(|m| m.to_string()).collect();
        p.approvers = vec!["pia".into()];
        p.tax_rate = dec(tax, 3);
        p.payment_terms_days = [14, 30, 30, 45][k % 4];
        p.grouping = if k % 3 == 2 { Grouping::ByTask } else { Grouping::ByPerson };
        p.location = Some(["Berlin", "Oslo", "Warszawa"][k % 3].into());
        book.apply(&fin, Command::SaveProject { project: Box::new(p) })?;
        if rate == 0 {
            continue;
        }
        // November time: every member on workdays, 4 to 8 hours in quarters.
        let mut entries = Vec::new();
        for m in members {
            let mut d = november.start;
            while d <= november.end {
                if d.weekday().number_from_monday() <= 5 && rng.next(10) < 8 {
                    let hours = dec(400 + 25 * rng.next(17) as i64, 2);
                    let task = ["Analysis", "Development", "Workshops"][rng.next(3) as usize];
                    entries.push(TimeEntry::new(*m, id, d, hours, dec(rate, 2)).task(task));
                }
                d += Duration::days(1);
            }
        }
        book.apply(&admin, Command::RecordTime { entries })?;
    }
    // Fixed price, a down payment, expenses.
    let milestone = Milestone {
        id: "M-0501-1".into(),
        project: "PRJ-0501".into(),
        description: "Portal go-live (milestone 1 of 3)".into(),
        amount: dec(2_500_000, 2),
        approved: false,
        invoiced_by: None,
    };
    book.apply(&fin, Command::SaveMilestone { milestone })?;
    book.apply(&pm, Command::ApproveMilestone { milestone: "M-0501-1".into() })?;
    let down = DeferredItem {
        id: "D-0042-Q1".into(),
        project: "PRJ-0042".into(),
        description: "Down payment, Q1 2027 licences".into(),
        amount: dec(500_000, 2),
        invoiced_by: None,
    };
    book.apply(&fin, Command::SaveDeferredItem { item: down })?;
    let expenses = vec![
        Expense {
            person: "anna".into(),
            ..Expense::new("PRJ-0042", day(11, 12), "Train Berlin–Hamburg", dec(8990, 2), Currency::EUR)
        },
        Expense {
            person: "soren".into(),
            ..Expense::new("PRJ-0007", day(11, 18), "Hotel Bergen, 2 nights", dec(289000, 2), Currency::NOK)
        },
        Expense {
            person: "chloe".into(),
            ..Expense::new("PRJ-0200", day(11, 20), "Taxi, client visit", dec(4210, 2), Currency::EUR)
        },
    ];
    book.apply(&admin, Command::RecordExpenses { expenses })?;
    book.apply(&admin, Command::SubmitExpenses { expenses: vec![ExpenseId(1), ExpenseId(2)] })?;
    book.apply(&pm, Command::ApproveExpenses { expenses: vec![ExpenseId(1)] })?;
    // Most people locked November; some did not, or only partly.
    let never_locked = ["zoe", "pawel"];
    for (id, _) in PEOPLE {
        if never_locked.contains(&id) {
            continue;
        }
        let until = if id == "bjorn" { day(11, 20) } else { day(11, 30) };
        book.apply(&Actor::new(id, Role::Consultant), Command::LockTime { person: id.into(), until })?;
    }
    // The project manager approved most projects' time already.
    let waiting: Vec<EntryId> = book
        .time_entries()
        .iter()
        .filter(|e| e.state == EntryState::Submitted && !["PRJ-0123", "PRJ-0400"].contains(&e.project.as_str()))
        .map(|e| e.id)
        .collect();
    book.apply(&pm, Command::ApproveTime { entries: waiting })?;

    println!("invoice-engine month end demo: 12 projects, 20 people, approval flows on, as of {as_of}");

    // ---------------------------------------------------------------- readiness
    step("1. Readiness of the projects due this month end (hours open/locked/approved)");
    let view = book.cycle_view(&window, as_of)?;
    table(
        &["project", "name", "period", "invoice date", "status", "hours", "reasons"],
        &readiness_rows(&book, &view),
        &[],
    );
    for (p, hours) in &view.missing_schedule {
        println!("  missing schedule: {p} ({hours} uninvoiced hours)");
    }
    println!("  cycle clear: {}", view.clear);

    step("2. Chase list");
    for chase in book.chase_list(&window, as_of)? {
        for t in &chase.time {
            let locked = t.locked_until.map_or("never locked".to_string(), |d| format!("locked until {d}"));
            println!("  {}: {} owes {} day(s), {locked}", chase.project, t.person, t.days.len());
        }
        for a in &chase.approvals {
            println!(
                "  {}: {} to approve {} entries ({} h), {} expense(s)",
                chase.project,
                a.approver,
                a.entries.len(),
                a.hours,
                a.expenses.len()
            );
        }
        for x in &chase.open_expenses {
            println!("  {}: expense #{} still open", chase.project, x.0);
        }
    }

    // The chase works: everyone locks, the PM approves, the open expense is submitted.
    for id in never_locked.iter().chain(&["bjorn"]) {
        book.apply(
            &Actor::new(*id, Role::Consultant),
            Command::LockTime { person: id.to_string(), until: day(11, 30) },
        )?;
    }
    book.apply(&Actor::new("chloe", Role::Consultant), Command::SubmitExpenses { expenses: vec![ExpenseId(3)] })?;
    book.apply(&pm, Command::ApproveExpenses { expenses: vec![ExpenseId(2), ExpenseId(3)] })?;
    let waiting: Vec<EntryId> =
        book.time_entries().iter().filter(|e| e.state == EntryState::Submitted).map(|e| e.id).collect();
    book.apply(&pm, Command::ApproveTime { entries: waiting })?;

    // ---------------------------------------------------------------- generation
    step("3. Generate (after the chase: everyone locked, everything approved)");
    let outcomes = book.generate(&fin, window, vec![])?;
    let generated: Vec<InvoiceId> = outcomes
        .iter()
        .filter_map(|o| if let GenerateOutcome::Generated { invoice, .. } = o { Some(*invoice) } else { None })
        .collect();
    table(
        &["number", "kind", "customer", "cur", "net", "tax", "gross", "delivery/accounting/payment"],
        &money_rows(&book, &generated)?,
        &[4, 5, 6],
    );
    println!("  totals: {}", totals_per_currency(&book, &generated)?);
    let again = book.generate(&fin, window, vec![])?;
    let already = again.iter().filter(|o| matches!(o, GenerateOutcome::AlreadyInvoiced { .. })).count();
    println!("  generating again: nothing new ({already} periods invoiced already)");
    let view = book.cycle_view(&window, as_of)?;
    println!("  cycle clear: {}", view.clear);

    // Receipts for the expenses go with the invoices that billed them.
    let attachments_dir = out.join("attachments");
    fs::create_dir_all(&attachments_dir)?;
    for id in &generated {
        let Some(billed) = book.billed_by(*id).cloned() else { continue };
        let mut files = Vec::new();
        for x in &billed.expenses {
            let e = &book.expenses()[(x.0 - 1) as usize];
            let name = format!("receipt-{}.pdf", x.0);
            ui::write_atomic(
                &attachments_dir.join(&name),
                &receipt_pdf(
                    &format!("Receipt #{}", x.0),
                    &format!("{} - {} {} - {}", e.date, e.amount, e.currency, e.description),
                ),
            )?;
            files.push(Attachment { name: name.clone(), location: format!("attachments/{name}") });
        }
        if !files.is_empty() {
            book.apply(&fin, Command::Edit { invoice: *id, changes: vec![Change::Attachments(files)] })?;
        }
    }

    step("4. Send");
    book.apply(&fin, Command::MarkSent { invoices: view.ready_to_send.clone() })?;
    println!("  marked {} invoices sent", view.ready_to_send.len());

    // ---------------------------------------------------------------- freeform
    step("5. A freeform invoice and a freeform credit note");
    let training = Invoice::builder(customer(3), Currency::EUR)
        .billing_period(november)
        .issue_date(as_of)
        .due_date(as_of + Duration::days(14))
        .location("Warszawa")
        .invoice_type("training")
        .line(
            Line::new("Training day \"Rust for finance\", Paris", dec(2, 0), dec(180000, 2))
                .tax_rate(dec(200, 3))
                .item("Training"),
        )
        .line(Line::new("Course material", dec(12, 0), dec(3500, 2)).tax_rate(dec(55, 3)))
        .line(
            Line::new("Early-booking discount", dec(1, 0), dec(-20000, 2))
                .tax_rate(dec(200, 3))
                .kind(LineKind::Discount),
        )
        .memo("Merci beaucoup — à bientôt!")
        .build();
    let goodwill = Invoice::builder(customer(4), Currency::GBP)
        .kind(Kind::CreditNote { credits: None })
        .billing_period(november)
        .issue_date(as_of)
        .due_date(as_of + Duration::days(14))
        .line(
            Line::new("Goodwill credit for the outage on 14 November", dec(1, 0), dec(25000, 2)).tax_rate(dec(200, 3)),
        )
        .build();
    let freeform = book.create_invoices(&fin, vec![training, goodwill])?;
    book.apply(&fin, Command::Issue { invoices: freeform.clone() })?;
    book.apply(&fin, Command::MarkSent { invoices: freeform.clone() })?;
    table(
        &["number", "kind", "customer", "cur", "net", "tax", "gross", "delivery/accounting/payment"],
        &money_rows(&book, &freeform)?,
        &[4, 5, 6],
    );

    // ---------------------------------------------------------------- export
    let all: Vec<InvoiceId> = generated.iter().chain(&freeform).copied().collect();
    let formats = chosen_formats(&[])?;
    step("6. Pre-flight of every target");
    let invoices: Vec<&Invoice> = all.iter().filter_map(|i| book.invoice(*i).ok()).collect();
    for f in &formats {
        let target_config = config.for_target(f.name()).map_err(RunError::Failed)?;
        let problems = preflight(*f, &target_config, invoices.iter().copied());
        let errors = problems.iter().filter(|p| p.severity == Severity::Error).count();
        println!("  {:<10} {} error(s), {} warning(s)", f.name(), errors, problems.len() - errors);
        for p in problems.iter().take(3) {
            println!("             {p}");
        }
    }

    step("7. Batch, post and export to every target");
    let runs = export_all(&mut book, &admin, &all, &formats, &config, out, args.quiet, &mut ui::Timings::new(false))?;
    print_runs(&runs);

    // ---------------------------------------------------------------- process
    step("8. Process with the count, undo, process again");
    clock.advance(Duration::days(2));
    let exported: Vec<InvoiceId> = all
        .iter()
        .copied()
        .filter(|i| book.invoice(*i).is_ok_and(|inv| inv.status.accounting == Accounting::Exported))
        .collect();
    let n = exported.len();
    match book.process(&admin, exported.clone(), n + 1) {
        Err(e) => println!("  process {} with the count {}: refused ({})", n, n + 1, e),
        Ok(_) => return Err(RunError::Failed("a wrong count was accepted".into())),
    }
    let first = book.process(&admin, exported.clone(), n)?;
    println!("  processed {n} invoices in batch {first}");
    book.apply(&admin, Command::UndoProcess { batch: first })?;
    println!("  undid batch {first}: every invoice is exported again, exactly as before");
    let second = book.process(&admin, exported, n)?;
    println!("  processed again in batch {second}");
    book.apply(&admin, Command::RecordReference { invoice: generated[0], reference: "QB-TXN-10442".into() })?;

    step("9. An adjustment invoice for an exported invoice");
    let corrected = generated[0];
    let adj = book.create_adjustment(
        &fin,
        corrected,
        vec![Line::new("Hours missed in November (2 h)", dec(2, 0), dec(12000, 2))
            .tax_rate(dec(190, 3))
            .item("Consulting")],
    )?;
    book.apply(&fin, Command::Edit { invoice: adj, changes: vec![Change::IssueDate(Some(day(12, 3)))] })?;
    book.issue(&fin, adj)?;
    table(
        &["number", "kind", "customer", "cur", "net", "tax", "gross", "delivery/accounting/payment"],
        &money_rows(&book, &[adj])?,
        &[4, 5, 6],
    );

    // ---------------------------------------------------------------- documents
    step("10. Invoice PDFs, the ZIP and the compiled backups per billing period");
    let documents: Vec<InvoiceId> = all.iter().copied().chain([adj]).collect();
    let renderer = Renderer::new(config.render_options()?)?;
    let stamp = Stamp::new(
        Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).single().unwrap_or_default(),
        DocumentId::from_name("month-end-demo-2026-11"),
    );
    let pdfs = write_pdfs(&book, &documents, &renderer, &stamp, out, args.quiet)?;
    let zipped = write_zip(&book, &documents, &renderer, &stamp, out)?;
    let backups = write_backups(&book, &documents, &renderer, &FsSource::new(out), &stamp, out)?;
    println!("  {pdfs} invoice PDFs, a ZIP of {zipped}, {} backup PDF(s):", backups.files.len());
    for f in &backups.files {
        let attachments: usize = f.entries.iter().map(|e| e.attachments.len()).sum();
        println!(
            "    {} {:>3} invoices {:>3} attachments {:>4} pages",
            f.period,
            f.entries.len(),
            attachments,
            f.pages
        );
    }

    // ---------------------------------------------------------------- journal
    step("11. Journal and reports");
    let mut journal = Vec::new();
    book.write_journal(&mut journal)?;
    ui::write_atomic(&out.join("journal.jsonl"), &journal)?;
    let replayed = Book::replay(Book::read_journal(journal.as_slice())?)?;
    println!("  {} events; replaying the journal rebuilds the same book: {}", book.journal().len(), replayed == book);
    let rows: Vec<Vec<String>> = book
        .project_report()?
        .into_iter()
        .map(|r| {
            vec![
                r.project,
                r.currency.to_string(),
                r.invoices.to_string(),
                r.billed.to_string(),
                r.processed.to_string(),
                r.paid.to_string(),
            ]
        })
        .collect();
    table(&["project", "cur", "invoices", "billed", "processed", "paid"], &rows, &[2, 3, 4, 5]);

    step(&format!("Files written under {}", out.display()));
    let mut files = Vec::new();
    list(out, out, &mut files)?;
    files.sort();
    let (mut shown, total) = (0, files.len());
    for f in &files {
        if f.starts_with("pdf/")
            || f.starts_with("exports/ubl/")
            || f.starts_with("exports/cii/")
            || f.starts_with("exports/qbo-json/")
            || f.starts_with("attachments/")
        {
            continue;
        }
        println!("  {f}");
        shown += 1;
    }
    for dir in ["attachments", "exports/cii", "exports/qbo-json", "exports/ubl", "pdf"] {
        let n = files.iter().filter(|f| f.starts_with(&format!("{dir}/"))).count();
        if n > 0 {
            println!("  {dir}/ ({n} files)");
            shown += n;
        }
    }
    debug_assert_eq!(shown, total);
    Ok(0)
}

fn list(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            list(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
