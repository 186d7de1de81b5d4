//! The billing cycle: for every project and billing period, "can we invoice it yet, and if
//! not, who are we waiting for?" — and then the invoices.
//!
//! Projects have a [`Schedule`]. People record [`TimeEntry`]s and lock their time up to a date
//! (their "locked until" date); with approval flows on, project managers approve the locked
//! entries. Expenses, fixed-price milestones and deferred-revenue (down-payment) items are
//! billed with the time. [`Book::readiness`](crate::Book::readiness) answers for one project
//! and period, [`Book::chase_list`](crate::Book::chase_list) says who is holding it up,
//! [`Command::Generate`](crate::Command::Generate) creates the invoices of the ready projects,
//! and [`Book::cycle_view`](crate::Book::cycle_view) shows a whole cycle and whether it is clear.
//!
//! # Readiness rules
//!
//! - A project without a schedule is *missing its schedule*; only its uninvoiced hours are
//!   reported.
//! - A period is *not due* before its scheduled invoice date, and *invoiced* once generated
//!   (until that invoice is voided).
//! - Otherwise it is *pending* while anything of the period is still open, else *ready*:
//!   - a project **member** owes every day of the period: the days after their locked-until
//!     date (all days, if they never locked) are open days;
//!   - every billable, unbilled time entry of the period must be locked (submitted), and, with
//!     approval flows on, approved;
//!   - every billable, unbilled expense of the period must be submitted (approved, with
//!     approval flows on) and in the project's currency.
//!
//! Each reason is a [`Reason`] value with a stable code.
//!
//! # Generated invoices
//!
//! One invoice per ready project and period, in the project's currency: its billable time
//! grouped by person or by task (one line per group and rate: hours x rate), its unbilled
//! expenses of the period, its approved unbilled milestones and its unbilled deferred-revenue
//! items. The invoice is issued (numbered), dated on the scheduled invoice date, and marked
//! ready to send. Everything it billed is marked with it and can no longer be edited or billed
//! again; voiding the invoice releases them. A project with nothing to bill still gets its
//! (empty) invoice, which exporters skip with "Invoice has no lines - not sent".

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::invoice::{Customer, InvoiceId, Period};
use crate::money::Currency;

mod book;
pub mod schedule;

pub use book::{CycleView, DueProject, GenerateOutcome};
pub use schedule::{InvoiceDay, Schedule, Unit};

/// How generated invoices group time into lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// One line per person (and rate).
    #[default]
    ByPerson,
    /// One line per task (and rate).
    ByTask,
}

/// A project that is billed on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Id (unique).
    pub id: String,
    /// Name.
    pub name: String,
    /// Who is invoiced.
    pub customer: Customer,
    /// Currency of its invoices.
    pub currency: Currency,
    /// First day of work; periods that end before it are never due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts: Option<NaiveDate>,
    /// Billing schedule; `None` is reported as missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// How time becomes lines.
    #[serde(default)]
    pub grouping: Grouping,
    /// People who owe time every day of every period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// People who approve the project's time (with approval flows on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// Tax rate of generated lines (a fraction).
    #[serde(default, with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    /// Days from the invoice date to the due date.
    #[serde(default)]
    pub payment_terms_days: u32,
    /// Office/location of its invoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Invoice type of its invoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_type: Option<String>,
}

impl Project {
    /// A project with a customer and a currency; no schedule, members or approvers yet.
    pub fn new(id: impl Into<String>, name: impl Into<String>, customer: Customer, currency: Currency) -> Project {
        Project {
            id: id.into(),
            name: name.into(),
            customer,
            currency,
            starts: None,
            schedule: None,
            grouping: Grouping::ByPerson,
            members: Vec::new(),
            approvers: Vec::new(),
            tax_rate: Decimal::ZERO,
            payment_terms_days: 30,
            location: None,
            invoice_type: None,
        }
    }

    /// The periods of the schedule whose scheduled invoice date falls within `from..=to`,
    /// leaving out those that end before the project starts.
    pub fn periods_invoiced_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        let Some(schedule) = &self.schedule else { return Vec::new() };
        let mut periods = schedule.periods_invoiced_between(from, to);
        if let Some(start) = self.starts {
            periods.retain(|p| p.end >= start);
        }
        periods
    }

    /// How invoices name the project: `id name`.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            self.id.clone()
        } else {
            format!("{} {}", self.id, self.name)
        }
    }
}

/// A person who records time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Id (the actor id they sign in with).
    pub id: String,
    /// Name, as invoice lines show it.
    pub name: String,
    /// Their time is locked (submitted) up to and including this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<NaiveDate>,
}

impl Person {
    /// A person who never locked their time.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Person {
        Person { id: id.into(), name: name.into(), locked_until: None }
    }
}

/// Where a time entry or expense stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Still being written.
    #[default]
    Open,
    /// Submitted (time: locked); final when approval flows are off.
    Submitted,
    /// Approved.
    Approved,
}

/// The book's id of a time entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(pub u64);

/// The book's id of an expense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExpenseId(pub u64);

/// Hours a person worked on a project on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeEntry {
    /// Set by the book.
    #[serde(default)]
    pub id: EntryId,
    /// Who.
    pub person: String,
    /// Which project.
    pub project: String,
    /// Which day.
    pub date: NaiveDate,
    /// How long.
    #[serde(with = "rust_decimal::serde::str")]
    pub hours: Decimal,
    /// Billable rate per hour, in the project's currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// Task.
    #[serde(default)]
    pub task: String,
    /// False for internal time that is never billed.
    #[serde(default = "yes")]
    pub billable: bool,
    /// Set by the book.
    #[serde(default)]
    pub state: EntryState,
    /// The invoice that billed it (set by the book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced_by: Option<InvoiceId>,
}

fn yes() -> bool {
    true
}

impl TimeEntry {
    /// A billable, open entry.
    pub fn new(
        person: impl Into<String>,
        project: impl Into<String>,
        date: NaiveDate,
        hours: Decimal,
        rate: Decimal,
    ) -> TimeEntry {
        TimeEntry {
            id: EntryId::default(),
            person: person.into(),
            project: project.into(),
            date,
            hours,
            rate,
            task: String::new(),
            billable: true,
            state: EntryState::Open,
            invoiced_by: None,
        }
    }

    /// Set the task.
    #[must_use]
    pub fn task(mut self, task: impl Into<String>) -> TimeEntry {
        self.task = task.into();
        self
    }
}

/// An expense to re-bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expense {
    /// Set by the book.
    #[serde(default)]
    pub id: ExpenseId,
    /// Which project.
    pub project: String,
    /// Who spent it.
    #[serde(default)]
    pub person: String,
    /// Which day.
    pub date: NaiveDate,
    /// What for.
    pub description: String,
    /// How much.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// In which currency (must be the project's to be billed).
    pub currency: Currency,
    /// False for expenses that are not re-billed.
    #[serde(default = "yes")]
    pub billable: bool,
    /// Set by the book.
    #[serde(default)]
    pub state: EntryState,
    /// The invoice that billed it, once processed (set by the book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced_by: Option<InvoiceId>,
}

impl Expense {
    /// A billable, open expense.
    pub fn new(
        project: impl Into<String>,
        date: NaiveDate,
        description: impl Into<String>,
        amount: Decimal,
        currency: Currency,
    ) -> Expense {
        Expense {
            id: ExpenseId::default(),
            project: project.into(),
            person: String::new(),
            date,
            description: description.into(),
            amount,
            currency,
            billable: true,
            state: EntryState::Open,
            invoiced_by: None,
        }
    }

    /// True once billed ("processed").
    pub fn processed(&self) -> bool {
        self.invoiced_by.is_some()
    }
}

/// A fixed-price milestone; billed with the next ready period once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    /// Id (unique).
    pub id: String,
    /// Which project.
    pub project: String,
    /// What was delivered.
    pub description: String,
    /// Fixed price, in the project's currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Approved for billing.
    #[serde(default)]
    pub approved: bool,
    /// The invoice that billed it (set by the book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced_by: Option<InvoiceId>,
}

/// A deferred-revenue (down-payment) item; billed with the next ready period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferredItem {
    /// Id (unique).
    pub id: String,
    /// Which project.
    pub project: String,
    /// Text of the line.
    pub description: String,
    /// Amount, in the project's currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The invoice that billed it (set by the book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced_by: Option<InvoiceId>,
}

/// One reason a period is not ready, as data with a stable [`Reason::code`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// A member has not locked every day of the period.
    OpenDays {
        /// The person.
        person: String,
        /// Their locked-until date (`None`: never locked).
        locked_until: Option<NaiveDate>,
        /// First open day in the period.
        from: NaiveDate,
        /// Open days in the period.
        days: u32,
    },
    /// Time entries of the period are not locked yet.
    OpenEntries {
        /// The person.
        person: String,
        /// How many.
        entries: usize,
        /// Their hours.
        #[serde(with = "rust_decimal::serde::str")]
        hours: Decimal,
    },
    /// Locked time entries wait for approval (approval flows on).
    PendingApproval {
        /// The person whose time it is.
        person: String,
        /// The entries.
        entries: Vec<EntryId>,
        /// Their hours.
        #[serde(with = "rust_decimal::serde::str")]
        hours: Decimal,
    },
    /// An expense of the period is still open.
    ExpenseOpen {
        /// The expense.
        expense: ExpenseId,
    },
    /// An expense of the period waits for approval (approval flows on).
    ExpensePendingApproval {
        /// The expense.
        expense: ExpenseId,
    },
    /// An expense is in another currency than the project.
    ExpenseCurrency {
        /// The expense.
        expense: ExpenseId,
        /// Its currency.
        currency: Currency,
    },
}

impl Reason {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::OpenDays { .. } => "open_days",
            Reason::OpenEntries { .. } => "open_entries",
            Reason::PendingApproval { .. } => "pending_approval",
            Reason::ExpenseOpen { .. } => "expense_open",
            Reason::ExpensePendingApproval { .. } => "expense_pending_approval",
            Reason::ExpenseCurrency { .. } => "expense_currency",
        }
    }
}

/// Hours and amounts of one period by state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Breakdown {
    /// Whether approval flows were on.
    pub approval_flows: bool,
    /// Members' open days (see [`Reason::OpenDays`]), one per member with open days.
    pub open_days: Vec<Reason>,
    /// Hours of open (unlocked) billable entries.
    #[serde(with = "rust_decimal::serde::str")]
    pub open_hours: Decimal,
    /// Hours locked and waiting for approval (with approval flows), or locked (without).
    #[serde(with = "rust_decimal::serde::str")]
    pub locked_hours: Decimal,
    /// Hours approved.
    #[serde(with = "rust_decimal::serde::str")]
    pub approved_hours: Decimal,
    /// Billable, unbilled expenses of the period by state: (state, count, amount in the project currency).
    pub expenses: BTreeMap<EntryState, (usize, Decimal)>,
    /// Every reason the period is not ready (empty when ready).
    pub reasons: Vec<Reason>,
}

/// The answer to "can we invoice this project for this period?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Readiness {
    /// The project has no schedule.
    MissingSchedule {
        /// Its billable hours not invoiced yet (all dates).
        #[serde(with = "rust_decimal::serde::str")]
        uninvoiced_hours: Decimal,
    },
    /// The scheduled invoice date has not come yet.
    NotDue {
        /// When it comes.
        invoice_date: NaiveDate,
    },
    /// Due, but something is still open.
    Pending(Breakdown),
    /// Due and nothing is open.
    Ready(Breakdown),
    /// Already invoiced.
    Invoiced {
        /// The invoice.
        invoice: InvoiceId,
        /// Its number.
        number: String,
    },
}

impl Readiness {
    /// Stable name: `missing_schedule`, `not_due`, `pending`, `ready`, `invoiced`.
    pub fn name(&self) -> &'static str {
        match self {
            Readiness::MissingSchedule { .. } => "missing_schedule",
            Readiness::NotDue { .. } => "not_due",
            Readiness::Pending(_) => "pending",
            Readiness::Ready(_) => "ready",
            Readiness::Invoiced { .. } => "invoiced",
        }
    }
}

/// Someone who owes time for a pending project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwesTime {
    /// The person.
    pub person: String,
    /// Their locked-until date (`None`: never locked).
    pub locked_until: Option<NaiveDate>,
    /// The days of the period they still owe (open days), in order.
    pub days: Vec<NaiveDate>,
    /// Hours they recorded but did not lock.
    #[serde(with = "rust_decimal::serde::str")]
    pub open_hours: Decimal,
}

/// An approver who still has entries to approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwesApproval {
    /// The approver (a project approver; empty when the project has none).
    pub approver: String,
    /// The entries waiting.
    pub entries: Vec<EntryId>,
    /// Their hours.
    #[serde(with = "rust_decimal::serde::str")]
    pub hours: Decimal,
    /// Expenses waiting.
    pub expenses: Vec<ExpenseId>,
}

/// Who holds up one pending project and period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chase {
    /// The project.
    pub project: String,
    /// The period.
    pub period: Period,
    /// People who still owe time.
    pub time: Vec<OwesTime>,
    /// Approvers who still have to approve.
    pub approvals: Vec<OwesApproval>,
    /// Expenses still open (their owners must submit them).
    pub open_expenses: Vec<ExpenseId>,
}

/// What one generated invoice billed (kept so that voiding releases exactly that).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Billed {
    /// The project.
    pub project: String,
    /// The period.
    pub period: Option<Period>,
    /// Time entries.
    pub entries: Vec<EntryId>,
    /// Expenses.
    pub expenses: Vec<ExpenseId>,
    /// Milestones.
    pub milestones: Vec<String>,
    /// Deferred-revenue items.
    pub deferred: Vec<String>,
}

/// The billing-cycle part of the book's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CycleState {
    pub(crate) approval_flows: bool,
    pub(crate) projects: BTreeMap<String, Project>,
    pub(crate) people: BTreeMap<String, Person>,
    /// `EntryId(n)` at index `n - 1`.
    pub(crate) entries: Vec<TimeEntry>,
    /// `ExpenseId(n)` at index `n - 1`.
    pub(crate) expenses: Vec<Expense>,
    pub(crate) milestones: BTreeMap<String, Milestone>,
    pub(crate) deferred: BTreeMap<String, DeferredItem>,
    /// (project, period start) -> the invoice generated for it.
    pub(crate) generated: BTreeMap<String, BTreeMap<NaiveDate, InvoiceId>>,
    /// What each generated invoice billed.
    pub(crate) billed: BTreeMap<InvoiceId, Billed>,
    /// Derived: project -> indexes of its entries, and of its expenses.
    #[serde(skip)]
    pub(crate) entries_by_project: BTreeMap<String, Vec<usize>>,
    #[serde(skip)]
    pub(crate) expenses_by_project: BTreeMap<String, Vec<usize>>,
    /// Derived: person -> indexes of their entries.
    #[serde(skip)]
    pub(crate) entries_by_person: BTreeMap<String, Vec<usize>>,
}

impl CycleState {
    /// Rebuild the derived indexes (after loading a snapshot).
    pub(crate) fn reindex(&mut self) {
        self.entries_by_project.clear();
        self.entries_by_person.clear();
        for (i, e) in self.entries.iter().enumerate() {
            self.entries_by_project.entry(e.project.clone()).or_default().push(i);
            self.entries_by_person.entry(e.person.clone()).or_default().push(i);
        }
        self.expenses_by_project.clear();
        for (i, e) in self.expenses.iter().enumerate() {
            self.expenses_by_project.entry(e.project.clone()).or_default().push(i);
        }
    }

    pub(crate) fn project_entries<'a>(&'a self, project: &str) -> impl Iterator<Item = &'a TimeEntry> + 'a {
        self.entries_by_project.get(project).into_iter().flatten().filter_map(|&i| self.entries.get(i))
    }

    pub(crate) fn project_expenses<'a>(&'a self, project: &str) -> impl Iterator<Item = &'a Expense> + 'a {
        self.expenses_by_project.get(project).into_iter().flatten().filter_map(|&i| self.expenses.get(i))
    }
}
